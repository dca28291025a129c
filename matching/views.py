"""Pages of matching (filled in by the matching work)."""

from flask import Blueprint

bp = Blueprint("matching", __name__, url_prefix="/matching")
