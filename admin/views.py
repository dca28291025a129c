"""The admin's pages: users, municipalities, venues and blackout dates.

Every page is for admins only (checked once, before any lookup, so others
learn nothing about what exists). Each view loads (404), acts through a
service and responds; every change is written to the audit log.
"""

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from accounts import services
from accounts.forms import ActionForm
from accounts.models import User
from admin.forms import (
    AuditFilterForm,
    BlackoutDateForm,
    MunicipalityForm,
    PasswordForm,
    RetentionForm,
    UserCreateForm,
    UserEditForm,
    UserFilterForm,
    VenueForm,
)
from casework import privacy
from core import audit, places
from core.clock import get_clock
from core.forms import attempt, form_page
from core.http import date_filter, page_arg
from core.localtime import local_today, unit_zone
from core.models import BlackoutDate, Municipality, Venue
from core.roles import ADMIN, roles_required
from core.unit_of_work import discard
from core.vocabulary import choices
from extensions import db
from families.models import Family

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@roles_required(ADMIN)
def admins_only():
    """Anonymous callers go to the login page; other roles get 403."""


# --- helpers ---------------------------------------------------------------

def _audit(action: str, target_type: str, target_id: int | None, **detail) -> None:
    """Write a change to the audit log: codes and field names, never the values."""
    audit.record(current_user, action, target_type, target_id, at=get_clock().now(), detail=detail)


def _form_page(template, form, status=None, **context):
    """A form page of the admin's, which says how long a password must be."""
    return form_page(template, form, status,
                     min_password_length=services.MIN_PASSWORD_LENGTH, **context)


def _municipality_choices():
    return [(place.name, place.name) for place in places.all_municipalities()]


@bp.get("/")
def index():
    """What an admin keeps, one link each."""
    return render_template("admin/index.html")


# --- users -----------------------------------------------------------------

@bp.get("/users")
def users():
    """Every account, filtered by role and whether it is active."""
    form = UserFilterForm(formdata=request.args)
    filters, status = {}, 200
    if form.validate():
        active = {"yes": True, "no": False}.get(form.active.data)
        filters = {"role": form.role.data or None, "active": active}
    else:
        status = 422
    return render_template("admin/users.html", form=form, now=get_clock().now(),
                           users=services.list_users(**filters)), status


def _load_user(user_id) -> User:
    return db.get_or_404(User, user_id)


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    """Create a staff account; the person signs in with the password given here."""
    form = UserCreateForm(data={"locale": "fi"} if request.method == "GET" else None)
    form.municipalities.choices = _municipality_choices()
    if form.validate_on_submit():
        user = attempt(form, services.create_user, clock=get_clock(),
                       **form.service_fields())
        if user is not None:
            _audit("user.create", "user", user.id, role=user.role)
            flash(_("The user %(name)s was created.", name=user.name), "success")
            return redirect(url_for(".users"))
        discard()
    return _form_page("admin/user_form.html", form, user=None)


def _edit_page(user: User, form: UserEditForm, password_form: PasswordForm, status):
    return render_template("admin/user_form.html", form=form, password_form=password_form,
                           user=user, now=get_clock().now(),
                           min_password_length=services.MIN_PASSWORD_LENGTH), status


def _user_edit_form(user: User, formdata=None) -> UserEditForm:
    data = None
    if formdata is None:
        data = {"name": user.name, "role": user.role, "locale": user.locale,
                "active": user.active,
                "municipalities": [place.name for place in user.municipalities]}
    form = UserEditForm(formdata=formdata, data=data)
    form.municipalities.choices = _municipality_choices()
    return form


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
def edit_user(user_id):
    """Change a user's name, role, municipalities, language and access."""
    user = _load_user(user_id)
    form = _user_edit_form(user, request.form if request.method == "POST" else None)
    if form.validate_on_submit():
        changed = attempt(form, services.update_user, current_user, user,
                          clock=get_clock(), **form.service_fields())
        if changed is not None:
            if changed:
                _audit("user.update", "user", user.id, fields=changed)
            flash(_("The details of %(name)s were saved.", name=user.name), "success")
            return redirect(url_for(".users"))
        discard()
        user = _load_user(user_id)
    status = 422 if form.is_submitted() else 200
    return _edit_page(user, form, PasswordForm(formdata=None), status)


@bp.post("/users/<int:user_id>/password")
def set_password(user_id):
    """Give a user a new password; the old one stops working."""
    user = _load_user(user_id)
    password_form = PasswordForm()
    if password_form.validate_on_submit():
        attempt(password_form, services.set_password, user, password_form.password.data)
        if not password_form.form_errors:
            _audit("user.update", "user", user.id, fields=["password"])
            flash(_("A new password was set for %(name)s.", name=user.name), "success")
            return redirect(url_for(".edit_user", user_id=user.id))
        discard()
        user = _load_user(user_id)
    return _edit_page(user, _user_edit_form(user), password_form, 422)


def _act_on_user(user_id, change, audit_action: str, message):
    """One button of a user's edit page: ``change(user)``, audited, and ``message(user)``
    said on the page it goes back to."""
    user = _load_user(user_id)
    if ActionForm().validate_on_submit():
        change(user)
        _audit(audit_action, "user", user.id)
        flash(message(user), "success")
    return redirect(url_for(".edit_user", user_id=user.id))


@bp.post("/users/<int:user_id>/unlock")
def unlock_user(user_id):
    """Let an account whose sign-in was paused sign in again at once."""
    return _act_on_user(user_id, services.unlock, "user.unlock",
                        lambda user: _("%(name)s can sign in again.", name=user.name))


@bp.post("/users/<int:user_id>/two-factor/reset")
def reset_two_factor(user_id):
    """Forget a user's second factor (a lost phone); they set it up again."""
    return _act_on_user(user_id, services.reset_two_factor, "user.two_factor_reset",
                        lambda user: _("The two-factor sign-in of %(name)s was reset.",
                                       name=user.name))


@bp.route("/users/<int:user_id>/deactivate", methods=["GET", "POST"])
def deactivate_user(user_id):
    """Ask for confirmation (GET), then close the account (POST)."""
    user = _load_user(user_id)
    form = ActionForm()
    if form.validate_on_submit():
        attempt(form, services.deactivate, current_user, user, clock=get_clock())
        if not form.form_errors:
            _audit("user.update", "user", user.id, fields=["active"])
            flash(_("The account of %(name)s was deactivated.", name=user.name), "success")
            return redirect(url_for(".users"))
        discard()
        user = _load_user(user_id)
    return _form_page("admin/user_deactivate.html", form, user=user)


# --- municipalities --------------------------------------------------------

@bp.get("/municipalities")
def municipalities():
    """Every municipality with its centroid."""
    return render_template("admin/municipalities.html",
                           municipalities=places.all_municipalities())


@bp.route("/municipalities/new", methods=["GET", "POST"])
def new_municipality():
    """Add a municipality with its centroid."""
    return _save_place("municipality", None, _municipality_form,
                       places.create_municipality, places.update_municipality)


@bp.route("/municipalities/<int:municipality_id>/edit", methods=["GET", "POST"])
def edit_municipality(municipality_id):
    """Rename a municipality or move its centroid."""
    return _save_place("municipality", db.get_or_404(Municipality, municipality_id),
                       _municipality_form, places.create_municipality,
                       places.update_municipality)


def _municipality_form(municipality: Municipality | None) -> MunicipalityForm:
    return MunicipalityForm(obj=municipality if request.method == "GET" else None)


# Each kind of place the admin keeps: its model and the endpoint of its list.
PLACE_KINDS = {"municipality": (Municipality, ".municipalities"),
               "venue": (Venue, ".venues")}


def _save_place(kind: str, row, make_form, create, update):
    """Add (``row`` None) or change a municipality or a venue from its form page;
    a refused form comes back with its errors."""
    model, list_endpoint = PLACE_KINDS[kind]
    row_id = row.id if row is not None else None
    form = make_form(row)
    if form.validate_on_submit():
        if row is None:
            saved = attempt(form, create, **form.service_fields())
        else:
            saved = attempt(form, update, row, **form.service_fields())
        if saved is not None:
            _audit(f"{kind}.{'create' if row is None else 'update'}", kind, saved.id)
            flash(_("%(name)s was added.", name=saved.name) if row is None
                  else _("%(name)s was saved.", name=saved.name), "success")
            return redirect(url_for(list_endpoint))
        discard()
        if row_id is not None:
            row = db.get_or_404(model, row_id)
    return _form_page(f"admin/{kind}_form.html", form, **{kind: row})


def _delete_page(form, *, heading, uses, cancel_url, status=None):
    return _form_page("admin/delete.html", form, status=status, heading=heading, uses=uses,
                      cancel_url=cancel_url)


@bp.route("/municipalities/<int:municipality_id>/delete", methods=["GET", "POST"])
def delete_municipality(municipality_id):
    """Ask for confirmation (GET), then remove an unused municipality (POST)."""
    return _remove_unused("municipality", municipality_id)


def _remove_unused(kind: str, row_id):
    """The confirmed removal of a municipality or a venue that nothing refers to."""
    model, list_endpoint = PLACE_KINDS[kind]
    row = db.get_or_404(model, row_id)
    form = ActionForm()
    if form.validate_on_submit():
        attempt(form, places.delete_unused, row)
        if not form.form_errors:
            _audit(f"{kind}.delete", kind, row_id)
            flash(_("%(name)s was removed.", name=row.name), "success")
            return redirect(url_for(list_endpoint))
        discard()
        row = db.get_or_404(model, row_id)
    return _delete_page(form, heading=_("Remove %(name)s?", name=row.name),
                        uses=places.records_using(row), cancel_url=url_for(list_endpoint),
                        status=409 if form.form_errors else None)


# --- venues ----------------------------------------------------------------

@bp.get("/venues")
def venues():
    """Every venue, by name."""
    return render_template("admin/venues.html", venues=places.all_venues())


def _venue_form(venue: Venue | None = None) -> VenueForm:
    data = None
    if request.method == "GET":
        data = {"accessible": True} if venue is None else {
            "name": venue.name, "municipality": venue.municipality.name,
            "address": venue.address, "accessible": venue.accessible}
    form = VenueForm(data=data)
    form.municipality.choices = choices(_municipality_choices(),
                                        _("Choose a municipality"))
    return form


@bp.route("/venues/new", methods=["GET", "POST"])
def new_venue():
    """Add a venue where groups meet."""
    return _save_place("venue", None, _venue_form, places.create_venue, places.update_venue)


@bp.route("/venues/<int:venue_id>/edit", methods=["GET", "POST"])
def edit_venue(venue_id):
    """Change a venue's name, municipality, address or accessibility."""
    return _save_place("venue", db.get_or_404(Venue, venue_id), _venue_form,
                       places.create_venue, places.update_venue)


@bp.route("/venues/<int:venue_id>/delete", methods=["GET", "POST"])
def delete_venue(venue_id):
    """Ask for confirmation (GET), then remove an unused venue (POST)."""
    return _remove_unused("venue", venue_id)


# --- blackout dates --------------------------------------------------------

def _blackouts_page(form, status=200):
    upcoming, past = places.blackout_dates(today=local_today(get_clock().now()))
    return render_template("admin/blackouts.html", form=form, upcoming=upcoming,
                           past=past), status


@bp.get("/blackouts")
def blackouts():
    """Upcoming and past blackout dates, and the form to add one."""
    return _blackouts_page(BlackoutDateForm(formdata=None))


@bp.post("/blackouts")
def add_blackout():
    form = BlackoutDateForm()
    if form.validate_on_submit():
        blackout = attempt(form, places.add_blackout_date, day=form.day.data,
                           reason=form.reason.data)
        if blackout is not None:
            _audit("blackout_date.create", "blackout_date", blackout.id)
            flash(_("%(day)s is now a blackout date.", day=date_filter(blackout.day)),
                  "success")
            return redirect(url_for(".blackouts"))
        discard()
    return _blackouts_page(form, 422)


@bp.route("/blackouts/<int:blackout_id>/delete", methods=["GET", "POST"])
def delete_blackout(blackout_id):
    """Ask for confirmation (GET), then open the date again (POST)."""
    blackout = db.get_or_404(BlackoutDate, blackout_id)
    form = ActionForm()
    if form.validate_on_submit():
        places.remove_blackout_date(blackout)
        _audit("blackout_date.delete", "blackout_date", blackout_id)
        flash(_("%(day)s is no longer a blackout date.", day=date_filter(blackout.day)),
              "success")
        return redirect(url_for(".blackouts"))
    return _delete_page(
        form, heading=_("Remove the blackout date %(day)s?", day=date_filter(blackout.day)),
        uses=[], cancel_url=url_for(".blackouts"))


# --- the audit log ---------------------------------------------------------

AUDIT_PER_PAGE = 50
MAX_AUDIT_PAGE = 100_000


@bp.get("/audit")
def audit_log():
    """Search the audit log: who, what, which record, when; newest first.

    The page only reads the log; nothing in the app changes or removes an event.
    """
    form = AuditFilterForm(formdata=request.args)
    filters, status = audit.AuditFilters(), 200
    if form.validate():
        family_id = None
        reference = (form.reference.data or "").strip()
        if reference:
            family_id = db.session.scalar(sa.select(Family.id).where(
                sa.func.lower(Family.reference) == reference.lower()))
            if family_id is None:
                form.reference.errors = [_("No family has this reference.")]
                status = 422
        if status == 200:
            start, end = audit.day_bounds(form.start.data, form.end.data, unit_zone())
            filters = audit.AuditFilters(
                actor_email=(form.actor.data or "").strip() or None,
                action=(form.action.data or "").strip() or None,
                target_type=(form.target_type.data or "").strip() or None,
                target_id=form.target_id.data, family_id=family_id, start=start, end=end)
    else:
        status = 422
    page, page_error = page_arg(MAX_AUDIT_PAGE)
    if page_error:
        form.form_errors.append(page_error)
        status = 422
    # A search that cannot be read shows nothing rather than everything.
    pagination = db.paginate(audit.search_query(filters), page=page,
                             per_page=AUDIT_PER_PAGE, error_out=False) if status == 200 else None
    filter_args = {key: value for key, value in request.args.items()
                   if key != "page" and value}
    return render_template("admin/audit.html", form=form, pagination=pagination,
                           filter_args=filter_args, actions=audit.known_actions(),
                           target_types=audit.known_target_types()), status


# --- data retention --------------------------------------------------------

@bp.route("/retention", methods=["GET", "POST"])
def retention():
    """How long closed families keep their identity before it is removed."""
    period = privacy.retention_period()
    form = RetentionForm(data={"years": period.years, "months": period.months}
                         if request.method == "GET" else None)
    if form.validate_on_submit():
        saved = attempt(form, privacy.set_retention_period, current_user,
                        years=form.years.data, months=form.months.data, clock=get_clock())
        if saved is not None:
            flash(_("The retention period was saved."), "success")
            return redirect(url_for(".retention"))
        discard()
    due = db.session.scalar(sa.select(sa.func.count()).select_from(
        privacy.due_for_anonymisation(get_clock().now(), period).subquery()))
    return _form_page("admin/retention.html", form, period=period, due=due)
