"""Pages of families: list, registration, details, members and the plan.

The family's own page, its export and closing gather what other packages hold,
so they live in casework (same URLs, under /families).

Each view loads (404), checks access (403), acts through families.services
and responds. A refused change is rolled back, so nothing half-done reaches
the database; the read of the family is still written to the audit log.
"""

from datetime import timedelta

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from accounts.services import staff
from core.clock import get_clock
from core.errors import Forbidden, NotFound
from core.forms import attempt, form_page
from core.http import page_arg
from core.localtime import local_today
from core.places import all_municipalities
from core.roles import FAMILY_WORKER, SOCIAL_WORKER, login_required
from core.unit_of_work import discard, keep_regardless
from core.vocabulary import choices
from extensions import db
from families import services
from families.forms import (
    ConfirmForm,
    FamilyForm,
    FamilySearchForm,
    MemberForm,
    PlanForm,
)
from families.models import Family, Member

bp = Blueprint("families", __name__, url_prefix="/families")

# A new plan's first review, unless the people agreeing it choose otherwise.
DEFAULT_REVIEW_AFTER = timedelta(days=90)

@bp.app_template_global()
def may_register_families() -> bool:
    """Whether the signed-in user may register families (for links in the layout)."""
    return current_user.is_authenticated and services.can_create_families(current_user)


# --- helpers ---------------------------------------------------------------

def _today():
    return local_today(get_clock().now())


def load_family(family_id, action="family.read") -> Family:
    """A family the user may see, its read written to the audit log; else 404.

    Every package's pages load a family this way.
    """
    return services.get_family(current_user, family_id, clock=get_clock(), action=action)


def _reload_after_refusal(family_id) -> Family:
    """Discard what a refused service call changed, and load the family again.

    The rollback also drops this request's audit event of the read, so the
    family is read again through the service, which writes it anew.
    """
    discard()
    return load_family(family_id)


def _member_of(family: Family, member_id) -> Member:
    member = db.session.get(Member, member_id)
    if member is None or member.family_id != family.id:
        raise NotFound(_("No such member."))
    return member


def _fill_family_choices(form: FamilyForm) -> None:
    """Choices that come from the database: municipalities and active staff."""
    form.municipality.choices = choices(
        _municipality_names(), _("Choose a municipality"))
    form.responsible_social_worker_id.choices = choices(
        [(user.id, user.name) for user in staff(SOCIAL_WORKER)], _("No social worker"))
    form.family_worker_ids.choices = choices(
        [(user.id, user.name) for user in staff(FAMILY_WORKER)])


def _municipality_names():
    return [(municipality.name, municipality.name) for municipality in all_municipalities()]


def _family_data(family: Family) -> dict:
    """A family's details as the form's initial data."""
    return {
        "surname": family.surname,
        "municipality": family.municipality.name,
        "address": services.shown_address(current_user, family),
        "address_non_disclosure": family.address_non_disclosure,
        "track": family.track,
        "referral_source": family.referral_source,
        "referral_date": family.referral_date,
        "responsible_social_worker_id": family.responsible_social_worker_id,
        "family_worker_ids": [worker.id for worker in family.family_workers],
        "languages": list(family.languages),
        "status": family.status,
    }


def _registration_data() -> dict:
    """Sensible starting values for a new family."""
    data = {"referral_date": _today(), "languages": ["fi"]}
    if current_user.municipalities:
        data["municipality"] = current_user.municipalities[0].name
    if current_user.role == SOCIAL_WORKER:
        # Social workers refer to child-protection family work, and are responsible.
        data.update(track="child_protection", referral_source="social_worker",
                    responsible_social_worker_id=current_user.id)
    return data


# --- families --------------------------------------------------------------

@bp.get("/")
@login_required
def list_families():
    """The user's visible families, searched, filtered and paged."""
    form = FamilySearchForm(formdata=request.args)
    form.municipality.choices = choices(_municipality_names(),
                                               _("All municipalities"))
    filters, status = {}, 200
    if form.validate():
        filters = {"text": form.q.data or "", "track": form.track.data or None,
                   "status": form.status.data or None,
                   "municipality": form.municipality.data or None}
    else:
        status = 422
    page, page_error = page_arg()
    if page_error:
        form.form_errors.append(page_error)
        status = 422
    pagination = db.paginate(services.search_families(current_user, **filters),
                             page=page,
                             per_page=current_app.config["FAMILIES_PER_PAGE"],
                             error_out=False)
    # The filters stay in the links to other pages of the list.
    filter_args = {key: value for key, value in request.args.items()
                   if key != "page" and value}
    services.record_listing(current_user, pagination.items, clock=get_clock())
    keep_regardless()  # the page shows them: their reads stay audited on a refusal
    return render_template("families/list.html", form=form,
                           pagination=pagination, filter_args=filter_args), status


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_family():
    """Register a referred family."""
    if not services.can_create_families(current_user):
        raise Forbidden(_("Your role does not allow registering families."))
    form = FamilyForm(data=_registration_data() if request.method == "GET" else None)
    del form.status  # a new family starts as referred
    _fill_family_choices(form)
    duplicates = []

    def register():
        try:
            return services.create_family(current_user, clock=get_clock(), **form.service_fields())
        except services.ProbableDuplicate as warning:
            duplicates.append(warning)
            raise

    if form.validate_on_submit():
        family = attempt(form, register)
        if family is not None:
            flash(_("The family %(reference)s was registered.",
                    reference=family.reference), "success")
            return redirect(url_for("casework.detail", family_id=family.id))
        discard()
    return form_page("families/family_form.html", form, family=None,
                      duplicate=duplicates[0] if duplicates else None)


@bp.route("/<int:family_id>/edit", methods=["GET", "POST"])
@login_required
def edit_family(family_id):
    """Change a family's details; a track change is recorded by the service."""
    family = load_family(family_id)
    if not services.can_edit_family(current_user, family):
        raise Forbidden(_("You may not edit this family."))
    form = FamilyForm(data=_family_data(family) if request.method == "GET" else None)
    del form.confirm_duplicate  # asked on registration only
    if not services.may_see_address(current_user, family):
        del form.address  # under non-disclosure: neither shown nor changed here
    _fill_family_choices(form)
    if family.status != "closed":
        # Closing cancels bookings: it has a page of its own that asks first.
        form.status.choices = [choice for choice in form.status.choices
                               if choice.value != "closed"]
    if form.validate_on_submit():
        if attempt(form, services.update_family, current_user, family,
                   form.service_fields(), clock=get_clock()):
            flash(_("The family's details were saved."), "success")
            return redirect(url_for("casework.detail", family_id=family.id))
        family = _reload_after_refusal(family_id)
    keep_regardless()  # the page shows the record: its read stays audited on a refusal
    return form_page("families/family_form.html", form, family=family)


# --- members ---------------------------------------------------------------

def _check_may_work_with(family: Family) -> None:
    if not services.can_edit_members_and_plan(current_user, family):
        raise Forbidden(_("You may not change this family's members or plan."))


def _member_to_change(family_id, member_id) -> tuple[Family, Member]:
    """A member of a family the user may see (else 404) and may change (else 403)."""
    family = load_family(family_id)
    member = _member_of(family, member_id)
    _check_may_work_with(family)
    return family, member


@bp.route("/<int:family_id>/members/new", methods=["GET", "POST"])
@login_required
def new_member(family_id):
    """Add a guardian or a child."""
    family = load_family(family_id)
    _check_may_work_with(family)
    initial = {"role": request.args.get("role", "guardian"), "reminder_channel": "none",
               "locale": "fi"}
    form = MemberForm(data=initial if request.method == "GET" else None)
    if form.validate_on_submit():
        if attempt(form, services.add_member, current_user, family, form.service_fields(),
                   clock=get_clock()):
            flash(_("The member was added."), "success")
            return redirect(url_for("casework.detail", family_id=family.id))
        family = _reload_after_refusal(family_id)
    keep_regardless()  # the page shows the record: its read stays audited on a refusal
    return form_page("families/member_form.html", form, family=family, member=None)


@bp.route("/<int:family_id>/members/<int:member_id>/edit", methods=["GET", "POST"])
@login_required
def edit_member(family_id, member_id):
    """Change a member's details."""
    family, member = _member_to_change(family_id, member_id)
    form = MemberForm(obj=member if request.method == "GET" else None)
    if form.validate_on_submit():
        if attempt(form, services.update_member, current_user, member,
                   form.service_fields(), clock=get_clock()):
            flash(_("The member's details were saved."), "success")
            return redirect(url_for("casework.detail", family_id=family.id))
        family = _reload_after_refusal(family_id)
        member = _member_of(family, member_id)
    keep_regardless()  # the page shows the record: its read stays audited on a refusal
    return form_page("families/member_form.html", form, family=family, member=member)


@bp.route("/<int:family_id>/members/<int:member_id>/delete", methods=["GET", "POST"])
@login_required
def delete_member(family_id, member_id):
    """Ask for confirmation (GET), then remove the member (POST)."""
    family, member = _member_to_change(family_id, member_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        services.remove_member(current_user, member, clock=get_clock())
        flash(_("The member was removed."), "success")
        return redirect(url_for("casework.detail", family_id=family.id))
    keep_regardless()  # the page shows the record: its read stays audited on a refusal
    return form_page("families/member_delete.html", form, family=family, member=member)


# --- the plan --------------------------------------------------------------

@bp.route("/<int:family_id>/plan", methods=["GET", "POST"])
@login_required
def plan(family_id):
    """Record or revise the family's plan."""
    family = load_family(family_id, action="plan.read")
    _check_may_work_with(family)
    if request.method == "GET" and family.plan is not None:
        form = PlanForm(obj=family.plan)
    elif request.method == "GET":
        form = PlanForm(data={"start_date": _today(),
                              "review_date": _today() + DEFAULT_REVIEW_AFTER})
    else:
        form = PlanForm()
    if form.validate_on_submit():
        if attempt(form, services.set_plan, current_user, family, clock=get_clock(),
                   **form.service_fields()):
            flash(_("The plan was saved."), "success")
            return redirect(url_for("casework.detail", family_id=family.id))
        family = _reload_after_refusal(family_id)
    keep_regardless()  # the page shows the record: its read stays audited on a refusal
    return form_page("families/plan_form.html", form, family=family)
