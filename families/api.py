"""Families over JSON: /api/v1/families, their members and their plan."""

from flask import current_app, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import fields

from core.api import API_ROOT, Blueprint, checks, loads
from core.clock import get_clock
from core.errors import Forbidden, NotFound, ValidationFailed
from core.fields import (
    Body,
    Boolean,
    Choice,
    Date,
    Instant,
    Integer,
    List,
    Nested,
    Query,
    Text,
    WholeNumber,
)
from core.localtime import EARLIEST_BIRTH_YEAR
from core.roles import login_required
from core.vocabulary import LANGUAGES, REFERRAL_SOURCES, SUPPORT_AREAS, TRACKS
from extensions import db
from families import services
from families.models import (
    ADDRESS_MAX,
    AGREED_WITH_MAX,
    CONTENT_MAX,
    EMAIL_MAX,
    FIRST_NAME_MAX,
    MEMBER_ROLES,
    PHONE_MAX,
    REFERENCE_MAX,
    REMINDER_CHANNELS,
    STATUSES,
    SURNAME_MAX,
    Member,
)
from families.representation import family_json, member_json, plan_json

bp = Blueprint("families_api", __name__, url_prefix=API_ROOT)

MAX_PER_PAGE = 200
MAX_PAGE = 100_000


class MemberSchema(Body):
    """A guardian or a child of a family."""

    id = Integer(dump_only=True)
    role = Choice(MEMBER_ROLES, required=True)
    first_name = Text(FIRST_NAME_MAX, min_length=1, required=True)
    birth_date = Date(allow_none=True, earliest_year=EARLIEST_BIRTH_YEAR,
                      description="Required for children")
    phone = Text(PHONE_MAX)
    email = Text(EMAIL_MAX)
    reminder_channel = Choice(REMINDER_CHANNELS)
    locale = Choice(("fi", "en"), description="Language of reminders")


class MemberChangesSchema(MemberSchema):
    """A change of a member: any of its fields."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


class PlanSchema(Body):
    """The family's plan: goals (support areas) and dates."""

    goals = List(Choice(SUPPORT_AREAS), required=True, max_items=len(SUPPORT_AREAS))
    content = Text(CONTENT_MAX, multiline=True)
    agreed_with = Text(AGREED_WITH_MAX)
    start_date = Date(required=True)
    review_date = Date(required=True)
    social_worker_participated = Boolean(
        description="Required true for child-protection families")
    updated_at = Instant(dump_only=True)


class FamilySchema(Body):
    """A family as answered; its address is null for those who may not see it."""

    id = Integer(dump_only=True)
    reference = Text(REFERENCE_MAX, dump_only=True)
    surname = Text(SURNAME_MAX, min_length=1, required=True)
    municipality = Text(120, min_length=1, required=True,
                        description="The municipality's name")
    address = Text(ADDRESS_MAX, allow_none=True,
                   description="Null in answers to those who may not see an address"
                               " under non-disclosure")
    address_non_disclosure = Boolean(
        description="The address is under non-disclosure (turvakielto): only the"
                    " family's assigned workers and responsible social worker see it")
    track = Choice(TRACKS, required=True)
    referral_source = Choice(REFERRAL_SOURCES, required=True)
    referral_date = Date(required=True)
    responsible_social_worker_id = Integer(allow_none=True)
    family_worker_ids = List(Integer(), max_items=10)
    status = Choice(STATUSES, description="Set on update; new families are referred")
    languages = List(Choice(LANGUAGES), max_items=len(LANGUAGES))
    members = Nested(MemberSchema, many=True,
                     description="Given on create; then through /members")
    plan = Nested(PlanSchema, allow_none=True, dump_only=True,
                  description="The plan, or null")
    confirm = Boolean(load_only=True,
                      description="On create: true registers a probable duplicate;"
                                  " otherwise a 409 probable_duplicate names it")


class FamilyInputSchema(FamilySchema):
    """A family as registered: an address is text, never null."""

    address = Text(ADDRESS_MAX)


class FamilyChangesSchema(FamilyInputSchema):
    """A change of a family: any of its fields."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


class FamilyListQuery(Query):
    q = fields.String(metadata={"description": "Reference or surname contains (any case,"
                                               " any Unicode spelling)"})
    track = Choice(TRACKS)
    status = Choice(STATUSES)
    municipality = fields.String()
    page = WholeNumber(high=MAX_PAGE, load_default=1)
    per_page = WholeNumber(high=MAX_PER_PAGE, load_default=50)


def _family(family_id):
    return services.get_family(current_user, family_id, clock=get_clock())


def _member(family_id, member_id) -> Member:
    family = _family(family_id)
    member = db.session.get(Member, member_id)
    if member is None or member.family_id != family.id:
        raise NotFound(_("No such member."))
    return member


def _may_create_families():
    if not services.can_create_families(current_user):
        raise Forbidden(_("Your role does not allow registering families."))


@bp.get("/families")
@bp.doc(summary="The caller's visible families")
@login_required
@bp.arguments(FamilyListQuery, location="query")
@bp.response(200, FamilySchema(many=True))
@bp.errors(401)
def list_families(arguments):
    """The caller's visible families, filtered and paged (X-Total-Count, Link)."""
    query = services.search_families(
        current_user,
        text=arguments.get("q", "")[:100],
        track=arguments.get("track"),
        status=arguments.get("status"),
        municipality=arguments.get("municipality"),
    )
    page, per_page = arguments["page"], arguments["per_page"]
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=False)
    # The body is made before the commit, which would expire what it reads.
    body = [family_json(family, current_user, detail=False)
            for family in pagination.items]
    services.record_listing(current_user, pagination.items, clock=get_clock())
    headers = {"X-Total-Count": str(pagination.total)}
    if pagination.has_next:
        next_url = url_for(".list_families", _external=False,
                           **{**request.args.to_dict(), "page": page + 1})
        headers["Link"] = f'<{next_url}>; rel="next"'
    return body, 200, headers


@bp.post("/families")
@bp.doc(summary="Register a referred family")
@login_required
@checks(_may_create_families)
@bp.arguments(FamilyInputSchema)
@bp.response(201, FamilySchema, description="Created")
@bp.errors(401, 403, 409)
def create_family(fields):
    """Register a family; a probable duplicate needs ``"confirm": true``."""
    if "status" in fields:
        raise ValidationFailed(_("Check the fields."),
                               fields={"status": _("A new family starts as referred.")})
    family = services.create_family(current_user, clock=get_clock(),
                                    **fields)
    return (family_json(family, current_user), 201,
            {"Location": url_for(".get_family", family_id=family.id)})


@bp.get("/families/<int:family_id>")
@bp.doc(summary="A family with its members and plan")
@login_required
@loads(_family)
@bp.response(200, FamilySchema)
@bp.errors(401, 404)
def get_family(family):
    """One family as the caller may see it."""
    return family_json(family, current_user)


@bp.patch("/families/<int:family_id>")
@bp.doc(summary="Change a family; a track change is recorded")
@login_required
@loads(_family)
@bp.arguments(FamilyChangesSchema)
@bp.response(200, FamilySchema)
@bp.errors(401, 403, 404)
def update_family(family, changes):
    """Change a family's fields; closing goes through /close."""
    if "members" in changes:
        raise ValidationFailed(_("Check the fields."), fields={
            "members": _("Members are changed through /families/{id}/members.")})
    if "confirm" in changes:
        raise ValidationFailed(_("Check the fields."), fields={
            "confirm": _("Only a registration is confirmed.")})
    if changes.get("status") == "closed" and family.status != "closed":
        message = _("Close a family through /families/{id}/close, which cancels its"
                    " bookings.")
        raise ValidationFailed(message, code="use_close", fields={"status": message})
    services.update_family(current_user, family, changes, clock=get_clock())
    return family_json(family, current_user)


@bp.put("/families/<int:family_id>/plan")
@bp.doc(summary="Record or revise the family's plan")
@login_required
@loads(_family)
@bp.arguments(PlanSchema)
@bp.response(200, PlanSchema)
@bp.errors(401, 404)
def put_plan(family, fields):
    """Record or revise the family's plan."""
    services.set_plan(current_user, family, clock=get_clock(), **fields)
    return plan_json(family)


@bp.post("/families/<int:family_id>/members")
@bp.doc(summary="Add a guardian or a child")
@login_required
@loads(_family)
@bp.arguments(MemberSchema)
@bp.response(201, MemberSchema, description="Created")
@bp.errors(401, 404)
def add_member(family, fields):
    """Add a guardian or a child to the family."""
    member = services.add_member(current_user, family, fields, clock=get_clock())
    return member_json(member)


@bp.patch("/families/<int:family_id>/members/<int:member_id>")
@bp.doc(summary="Change a member")
@login_required
@loads(_member)
@bp.arguments(MemberChangesSchema)
@bp.response(200, MemberSchema)
@bp.errors(401, 404)
def update_member(member, fields):
    """Change a member's fields."""
    services.update_member(current_user, member, fields, clock=get_clock())
    return member_json(member)


@bp.delete("/families/<int:family_id>/members/<int:member_id>")
@bp.doc(summary="Remove a member")
@login_required
@loads(_member)
@bp.response(204, description="Removed")
@bp.errors(401, 404)
def delete_member(member):
    """Remove a member from the family."""
    services.remove_member(current_user, member, clock=get_clock())
    return current_app.response_class(status=204)
