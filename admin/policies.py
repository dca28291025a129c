"""The policy pages an admin sets: the matching weights and the reminder policy.

The reminder policy is the lead times, quiet hours and horizon.

They keep the URLs of the parts they govern (/matching/policy,
/reminders/policy); the rules and the forms' fields stay in those packages.
"""

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import audit
from core.clock import get_clock
from core.forms import attempt, form_page
from core.roles import ADMIN, roles_required
from core.unit_of_work import discard
from extensions import db
from matching import forms as matching_forms
from matching import services as matching_services
from matching.models import MatchingPolicy
from matching.scoring import CRITERIA
from reminders import forms as reminder_forms
from reminders import services as reminder_services
from reminders.models import POLICY_KINDS

bp = Blueprint("policies", __name__)


# --- matching --------------------------------------------------------------

def _save_policy(values: dict) -> MatchingPolicy:
    """Write the one policy row, making it when absent."""
    policy = db.session.scalar(sa.select(MatchingPolicy).order_by(MatchingPolicy.id).limit(1))
    if policy is None:
        policy = MatchingPolicy()
        db.session.add(policy)
    for name, value in values.items():
        setattr(policy, name, value)
    policy.updated_at = get_clock().now()
    db.session.flush()
    return policy


@bp.route("/matching/policy", methods=["GET", "POST"])
@roles_required(ADMIN)
def matching_policy():
    """The weights of the matching score and the limits of eligibility (admins)."""
    form = matching_forms.PolicyForm(
        data=matching_forms.policy_data(matching_services.weights())
        if request.method == "GET" else None)
    if form.validate_on_submit():
        saved = _save_policy(form.policy_fields())
        audit.record(current_user, "matching_policy.update", "matching_policy", saved.id,
                     at=get_clock().now())
        flash(_("The matching weights were saved. New matches and proposals use them."),
              "success")
        return redirect(url_for(".matching_policy"))
    current = matching_services.weights()
    shares = [(criterion, current.share(criterion)) for criterion in CRITERIA]
    return form_page("admin/matching_policy.html", form, shares=shares)


# --- reminders -------------------------------------------------------------

@bp.route("/reminders/policy", methods=["GET", "POST"])
@roles_required(ADMIN)
def reminder_policy():
    """Lead times per kind of event, quiet hours and the horizon (admins)."""
    current = reminder_services.current_policy()
    form = reminder_forms.PolicyForm(
        data=reminder_forms.policy_data(current) if request.method == "GET" else None)
    if form.validate_on_submit():
        saved = attempt(form, reminder_services.set_policy, current_user,
                        lead_hours=form.lead_hours(), quiet_start=form.quiet_start.data,
                        quiet_end=form.quiet_end.data, horizon_days=form.horizon_days.data,
                        clock=get_clock())
        if saved is not None:
            flash(_("The reminder policy was saved. Reminders planned from now on follow"
                    " it."), "success")
            return redirect(url_for(".reminder_policy"))
        discard()
    return form_page("admin/reminder_policy.html", form, kinds=POLICY_KINDS,
                     current=current)
