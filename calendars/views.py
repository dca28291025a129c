"""Pages of home visits and calendars (filled in by the home-visit work)."""

from flask import Blueprint

bp = Blueprint("calendars", __name__, url_prefix="/calendars")
