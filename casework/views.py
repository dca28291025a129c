"""The pages of a family's whole case: its page, its export and closing its work.

They live above the domain packages because each shows or changes what several
of them hold; their URLs are under /families beside the family's own pages.
"""

import json

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from calendars.services import CalendarSettings
from casework import privacy
from casework.overview import family_overview
from core.clock import get_clock
from core.localtime import local_today, unit_zone
from core.roles import login_required
from core.unit_of_work import keep_regardless
from families.forms import ConfirmForm
from families.views import load_family

bp = Blueprint("casework", __name__, url_prefix="/families")


@bp.get("/<int:family_id>")
@login_required
def detail(family_id):
    """A family with its members, plan, visits, groups, reminders and track history."""
    family = load_family(family_id)
    now = get_clock().now()
    return render_template(
        "casework/family.html", family=family, today=local_today(now),
        overview=family_overview(current_user, family, now=now))


# --- data protection -------------------------------------------------------

@bp.get("/<int:family_id>/export")
@login_required
def export_family(family_id):
    """Everything held on the family as a JSON file, for a right-of-access request."""
    family = load_family(family_id)
    document = privacy.export_family(current_user, family, clock=get_clock())
    name = privacy.export_filename(family, get_clock().now())
    return Response(json.dumps(document, ensure_ascii=False, indent=2),
                    mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/<int:family_id>/close", methods=["GET", "POST"])
@login_required
def close_family(family_id):
    """Say what closing ends (GET), then close the family (POST)."""
    family = load_family(family_id)
    privacy.check_may_close(current_user, family)
    form = ConfirmForm()
    if form.validate_on_submit():
        effects = privacy.close_family(
            current_user, family, zone=unit_zone(), clock=get_clock(),
            calendar_settings=CalendarSettings.from_config(current_app.config))
        flash(_("The family's work was closed: %(visits)d visits cancelled, %(places)d"
                " group places ended, %(reminders)d messages stopped.",
                visits=effects.visits, places=effects.group_seats,
                reminders=effects.reminders), "success")
        return redirect(url_for(".detail", family_id=family.id))
    effects = privacy.closing_effects(family, get_clock().now())
    page = render_template("casework/close.html", form=form, family=family,
                           effects=effects, retention=privacy.retention_period())
    keep_regardless()  # the page shows the record: its read stays audited on a refusal
    return page, 422 if form.is_submitted() else 200
