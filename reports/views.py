"""The dashboard: the first page after signing in."""

from flask import Blueprint, render_template
from flask_login import current_user

from core.clock import get_clock
from core.roles import login_required
from reports import services

bp = Blueprint("reports", __name__)


@bp.get("/")
@login_required
def dashboard():
    return render_template("reports/dashboard.html",
                           dashboard=services.dashboard(current_user, clock=get_clock()))
