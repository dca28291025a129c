"""Pages of reminders: the outbox, the policy, and the opt-out link's page.

The outbox is for admins (every family) and coordinators (the families of
their municipalities). The opt-out page needs no login: its link's secret is
the authority, and stopping takes a POST, so a link previewer fetching the
page changes nothing.
"""

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from calendars.events import GROUP_SESSION, HOME_VISIT
from core.clock import get_clock
from core.forms import attempt
from core.http import local_target, page_arg
from core.input_checks import read_whole_number
from core.roles import ADMIN, COORDINATOR, roles_required
from core.unit_of_work import discard
from extensions import db
from families.services import record_listing
from reminders import services
from reminders.forms import (
    ActionForm,
    OutboxFilterForm,
)

bp = Blueprint("reminders", __name__, url_prefix="/reminders")
# The opt-out link is short for SMS: /r/<secret>.
opt_out_bp = Blueprint("opt_out", __name__, url_prefix="/r")

PER_PAGE = 50

# --- the outbox ------------------------------------------------------------

@bp.get("/")
@roles_required(ADMIN, COORDINATOR)
def outbox():
    """The outbox with filters: status, kind, channel, family reference."""
    form = OutboxFilterForm(formdata=request.args)
    filters, status = {}, 200
    if form.validate():
        filters = {"status": form.status.data or None, "purpose": form.purpose.data or None,
                   "channel": form.channel.data or None, "reference": form.q.data or None}
    else:
        status = 422
    event_type = request.args.get("event_type") or None
    if event_type not in (None, HOME_VISIT, GROUP_SESSION):
        event_type, status = None, 422
        form.form_errors.append(_("Unknown kind of event."))
    event_id = read_whole_number(request.args.get("event_id")) \
        if event_type else None
    page, page_error = page_arg()
    if page_error:
        form.form_errors.append(page_error)
    if (event_type and event_id is None) or page_error:
        status = 422
    query = services.outbox_query(current_user, event_type=event_type, event_id=event_id,
                                  **filters)
    pagination = db.paginate(query, page=page, per_page=PER_PAGE, error_out=False)
    filter_args = {key: value for key, value in request.args.items()
                   if key != "page" and value}
    # The page names each reminder's family and recipient: an audited read.
    record_listing(current_user, [reminder.family for reminder in pagination.items],
                   clock=get_clock())
    return render_template("reminders/outbox.html", form=form, pagination=pagination,
                           filter_args=filter_args, action_form=ActionForm(),
                           now=get_clock().now()), status


def _act(reminder_id, action, done_message):
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    reminder = services.get_reminder(current_user, reminder_id)
    if attempt(form, action, current_user, reminder, now=get_clock().now()) is None:
        discard()
        for message in form.form_errors:
            flash(message, "error")
    else:
        flash(done_message, "success")
    return redirect(_back())


def _back() -> str:
    """Where the page that posted wants to return: a path of this site only."""
    return local_target(request.form.get("next"), url_for(".outbox"))


@bp.post("/<int:reminder_id>/retry")
@roles_required(ADMIN, COORDINATOR)
def retry(reminder_id):
    """Send a failed message again."""
    return _act(reminder_id, services.retry, _("The message will be sent again shortly."))


@bp.post("/<int:reminder_id>/cancel")
@roles_required(ADMIN, COORDINATOR)
def cancel(reminder_id):
    """Stop a pending message."""
    return _act(reminder_id, services.cancel, _("The message was cancelled."))


# --- opting out (no login) -------------------------------------------------

@opt_out_bp.route("/<secret>", methods=["GET", "POST"])
def stop(secret):
    """Stop reminders to the guardian this link was sent to."""
    token = services.token_for(secret)
    if token is None:
        return render_template("reminders/opt_out.html", token=None, form=None), 404
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("reminders/opt_out.html", token=token, form=form,
                                   refused=True), 400
        services.opt_out(token, now=get_clock().now())
        return render_template("reminders/opt_out.html", token=token, form=None, done=True)
    return render_template("reminders/opt_out.html", token=token, form=form,
                           stopped=services.is_opted_out(token))
