"""Pages of peer groups (filled in by the peer-groups work)."""

from flask import Blueprint

bp = Blueprint("groups", __name__, url_prefix="/groups")
