"""Pages of reminders (filled in by the reminders work)."""

from flask import Blueprint

bp = Blueprint("reminders", __name__, url_prefix="/reminders")
