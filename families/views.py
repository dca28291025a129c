"""Pages of families: list, detail, registration, members and the plan."""

from flask import Blueprint, render_template
from flask_login import current_user

from core.roles import login_required
from extensions import db
from families import services

bp = Blueprint("families", __name__, url_prefix="/families")


@bp.get("/")
@login_required
def list_families():
    families = db.session.scalars(services.search_families(current_user))
    return render_template("families/list.html", families=list(families))
