"""Families over JSON: /api/v1/families, their members and their plan."""

from flask import current_app, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import fields

from core.api import API_ROOT, Blueprint, checks, created, loads, refuse_fields
from core.clock import get_clock
from core.errors import Forbidden, NotFound, ValidationFailed
from core.fields import Choice, Query, WholeNumber
from core.roles import login_required
from core.vocabulary import TRACKS
from extensions import db
from families import services
from families.models import STATUSES, Member
from families.representation import (
    FamilyChangesSchema,
    FamilyInputSchema,
    FamilySchema,
    MemberChangesSchema,
    MemberSchema,
    PlanSchema,
)

bp = Blueprint("families_api", __name__, url_prefix=API_ROOT)

MAX_PER_PAGE = 200
MAX_PAGE = 100_000


class FamilyListQuery(Query):
    q = fields.String(metadata={"description": "Reference or surname contains (any case,"
                                               " any Unicode spelling)"})
    track = Choice(TRACKS)
    status = Choice(STATUSES)
    municipality = fields.String()
    page = WholeNumber(high=MAX_PAGE, load_default=1)
    per_page = WholeNumber(high=MAX_PER_PAGE, load_default=50)


def visible_family(family_id):
    """The family as the caller may see it: 404 for one missing or not theirs.

    The loader of every route that names a family, here and in the packages above.
    """
    return services.get_family(current_user, family_id, clock=get_clock())


def _member(family_id, member_id) -> Member:
    family = visible_family(family_id)
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
@bp.response(200, FamilySchema(many=True, detail=False))
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
    services.record_listing(current_user, pagination.items, clock=get_clock())
    headers = {"X-Total-Count": str(pagination.total)}
    if pagination.has_next:
        next_url = url_for(".list_families", _external=False,
                           **{**request.args.to_dict(), "page": page + 1})
        headers["Link"] = f'<{next_url}>; rel="next"'
    return pagination.items, 200, headers


@bp.post("/families")
@bp.doc(summary="Register a referred family")
@login_required
@checks(_may_create_families)
@bp.arguments(FamilyInputSchema)
@bp.response(201, FamilySchema, description="Created")
@bp.errors(401, 403, 409)
def create_family(fields):
    """Register a family; a probable duplicate needs ``"confirm": true``."""
    refuse_fields(fields, status=_("A new family starts as referred."))
    family = services.create_family(current_user, clock=get_clock(), **fields)
    return created(family, ".get_family", family_id=family.id)


@bp.get("/families/<int:family_id>")
@bp.doc(summary="A family with its members and plan")
@login_required
@loads(visible_family)
@bp.response(200, FamilySchema)
@bp.errors(401, 404)
def get_family(family):
    """One family as the caller may see it."""
    return family


@bp.patch("/families/<int:family_id>")
@bp.doc(summary="Change a family; a track change is recorded")
@login_required
@loads(visible_family)
@bp.arguments(FamilyChangesSchema)
@bp.response(200, FamilySchema)
@bp.errors(401, 403, 404)
def update_family(family, changes):
    """Change a family's fields; closing goes through /close."""
    refuse_fields(changes, members=_("Members are changed through /families/{id}/members."))
    refuse_fields(changes, confirm=_("Only a registration is confirmed."))
    if changes.get("status") == "closed" and family.status != "closed":
        message = _("Close a family through /families/{id}/close, which cancels its"
                    " bookings.")
        raise ValidationFailed(message, code="use_close", fields={"status": message})
    services.update_family(current_user, family, changes, clock=get_clock())
    return family


@bp.put("/families/<int:family_id>/plan")
@bp.doc(summary="Record or revise the family's plan")
@login_required
@loads(visible_family)
@bp.arguments(PlanSchema)
@bp.response(200, PlanSchema)
@bp.errors(401, 404)
def put_plan(family, fields):
    """Record or revise the family's plan."""
    services.set_plan(current_user, family, clock=get_clock(), **fields)
    return family.plan


@bp.post("/families/<int:family_id>/members")
@bp.doc(summary="Add a guardian or a child")
@login_required
@loads(visible_family)
@bp.arguments(MemberSchema)
@bp.response(201, MemberSchema, description="Created")
@bp.errors(401, 404)
def add_member(family, fields):
    """Add a guardian or a child to the family."""
    member = services.add_member(current_user, family, fields, clock=get_clock())
    return member


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
    return member


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
