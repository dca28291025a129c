"""Families over JSON: /api/v1/families, their members and their plan."""


from flask import Blueprint, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.api import (
    error_responses,
    json_body,
    json_request,
    json_response,
    query_choice,
    query_int,
)
from core.clock import get_clock
from core.errors import Forbidden, NotFound, ValidationFailed
from core.localtime import EARLIEST_BIRTH_YEAR
from core.roles import login_required
from core.schema import Boolean, Choice, Date, Integer, ListOf, Nested, Schema, String
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

bp = Blueprint("families_api", __name__, url_prefix="/api/v1")

MAX_PER_PAGE = 200

MEMBER = Schema("Member", {
    "id": Integer(read_only=True),
    "role": Choice(MEMBER_ROLES, required=True),
    "first_name": String(FIRST_NAME_MAX, min_length=1, required=True),
    "birth_date": Date(nullable=True, earliest_year=EARLIEST_BIRTH_YEAR,
                       description="Required for children"),
    "phone": String(PHONE_MAX),
    "email": String(EMAIL_MAX),
    "reminder_channel": Choice(REMINDER_CHANNELS),
    "locale": Choice(("fi", "en"), description="Language of reminders"),
})

PLAN = Schema("Plan", {
    "goals": ListOf(Choice(SUPPORT_AREAS), required=True, max_items=len(SUPPORT_AREAS)),
    "content": String(CONTENT_MAX, multiline=True),
    "agreed_with": String(AGREED_WITH_MAX),
    "start_date": Date(required=True),
    "review_date": Date(required=True),
    "social_worker_participated": Boolean(
        description="Required true for child-protection families"),
})

FAMILY = Schema("Family", {
    "id": Integer(read_only=True),
    "reference": String(REFERENCE_MAX, read_only=True),
    "surname": String(SURNAME_MAX, min_length=1, required=True),
    "municipality": String(120, min_length=1, required=True,
                           description="The municipality's name"),
    "address": String(ADDRESS_MAX, description="Null in answers to those who may not"
                                                " see an address under non-disclosure"),
    "address_non_disclosure": Boolean(
        description="The address is under non-disclosure (turvakielto): only the"
                    " family's assigned workers and responsible social worker see it"),
    "track": Choice(TRACKS, required=True),
    "referral_source": Choice(REFERRAL_SOURCES, required=True),
    "referral_date": Date(required=True),
    "responsible_social_worker_id": Integer(nullable=True),
    "family_worker_ids": ListOf(Integer(), max_items=10),
    "status": Choice(STATUSES, description="Set on update; new families are referred"),
    "languages": ListOf(Choice(LANGUAGES), max_items=len(LANGUAGES)),
    "members": Nested(MEMBER, description="Given on create; then through /members"),
    "plan": Integer(read_only=True, description="The plan object, or null"),
    "confirm": Boolean(
                       description="On create: true registers a probable duplicate;"
                                   " otherwise a 409 probable_duplicate names it"),
})

@bp.get("/families")
@login_required
def list_families():
    """The caller's visible families, filtered and paged (X-Total-Count, Link)."""
    query = services.search_families(
        current_user,
        text=request.args.get("q", "")[:100],
        track=query_choice("track", TRACKS),
        status=query_choice("status", STATUSES),
        municipality=request.args.get("municipality") or None,
    )
    page = query_int("page", 1, high=100_000)
    per_page = query_int("per_page", 50, high=MAX_PER_PAGE)
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=False)
    # The body is made before the commit, which would expire what it reads.
    response = jsonify([family_json(family, current_user, detail=False)
                        for family in pagination.items])
    services.record_listing(current_user, pagination.items, clock=get_clock())
    response.headers["X-Total-Count"] = str(pagination.total)
    if pagination.has_next:
        next_url = url_for(".list_families", _external=False,
                           **{**request.args.to_dict(), "page": page + 1})
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return response


@bp.post("/families")
@login_required
def create_family():
    if not services.can_create_families(current_user):
        raise Forbidden(_("Your role does not allow registering families."))
    fields = FAMILY.parse(json_body())
    if "status" in fields:
        raise ValidationFailed(_("Check the fields."),
                               fields={"status": _("A new family starts as referred.")})
    family = services.create_family(current_user, clock=get_clock(),
                                    **fields)
    response = jsonify(family_json(family, current_user))
    response.status_code = 201
    response.headers["Location"] = url_for(".get_family", family_id=family.id)
    return response


@bp.get("/families/<int:family_id>")
@login_required
def get_family(family_id):
    family = services.get_family(current_user, family_id, clock=get_clock())
    return jsonify(family_json(family, current_user))


@bp.patch("/families/<int:family_id>")
@login_required
def update_family(family_id):
    changes = FAMILY.parse(json_body(), partial=True)
    if "members" in changes:
        raise ValidationFailed(_("Check the fields."), fields={
            "members": _("Members are changed through /families/{id}/members.")})
    if "confirm" in changes:
        raise ValidationFailed(_("Check the fields."), fields={
            "confirm": _("Only a registration is confirmed.")})
    family = services.get_family(current_user, family_id, clock=get_clock())
    if changes.get("status") == "closed" and family.status != "closed":
        message = _("Close a family through /families/{id}/close, which cancels its"
                    " bookings.")
        raise ValidationFailed(message, code="use_close", fields={"status": message})
    services.update_family(current_user, family, changes, clock=get_clock())
    return jsonify(family_json(family, current_user))


@bp.put("/families/<int:family_id>/plan")
@login_required
def put_plan(family_id):
    family = services.get_family(current_user, family_id, clock=get_clock())
    fields = PLAN.parse(json_body())
    services.set_plan(current_user, family, clock=get_clock(), **fields)
    return jsonify(plan_json(family))


@bp.post("/families/<int:family_id>/members")
@login_required
def add_member(family_id):
    family = services.get_family(current_user, family_id, clock=get_clock())
    fields = MEMBER.parse(json_body())
    member = services.add_member(current_user, family, fields, clock=get_clock())
    return jsonify(member_json(member)), 201


def _member(family_id, member_id) -> Member:
    family = services.get_family(current_user, family_id, clock=get_clock())
    member = db.session.get(Member, member_id)
    if member is None or member.family_id != family.id:
        raise NotFound(_("No such member."))
    return member


@bp.patch("/families/<int:family_id>/members/<int:member_id>")
@login_required
def update_member(family_id, member_id):
    fields = MEMBER.parse(json_body(), partial=True)
    member = _member(family_id, member_id)
    services.update_member(current_user, member, fields, clock=get_clock())
    return jsonify(member_json(member))


@bp.delete("/families/<int:family_id>/members/<int:member_id>")
@login_required
def delete_member(family_id, member_id):
    member = _member(family_id, member_id)
    services.remove_member(current_user, member, clock=get_clock())
    return "", 204


def _family_schema_for_output():
    schema = FAMILY.json_schema()
    schema["properties"]["address"] = {**schema["properties"]["address"],
                                       "type": ["string", "null"]}
    schema["properties"]["plan"] = {"oneOf": [{"$ref": "#/components/schemas/Plan"},
                                              {"type": "null"}], "readOnly": True}
    return schema


_FAMILY_ID = [{"name": "family_id", "in": "path", "required": True,
               "schema": {"type": "integer"}}]
_MEMBER_ID = _FAMILY_ID + [{"name": "member_id", "in": "path", "required": True,
                            "schema": {"type": "integer"}}]

OPENAPI = {
    "schemas": {
        "Family": _family_schema_for_output(),
        "Member": MEMBER.json_schema(),
        "Plan": PLAN.json_schema(),
    },
    "paths": {
        "/families": {
            "get": {
                "summary": "The caller's visible families",
                "parameters": [
                    {"name": "q", "in": "query", "schema": {"type": "string"},
                     "description": "Reference or surname contains (any case, any"
                                    " Unicode spelling)"},
                    {"name": "track", "in": "query",
                     "schema": {"type": "string", "enum": list(TRACKS)}},
                    {"name": "status", "in": "query",
                     "schema": {"type": "string", "enum": list(STATUSES)}},
                    {"name": "municipality", "in": "query", "schema": {"type": "string"}},
                    {"name": "page", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 100000}},
                    {"name": "per_page", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}},
                ],
                "responses": {"200": json_response("Family", array=True),
                              **error_responses(401, 422)},
            },
            "post": {
                "summary": "Register a referred family",
                "requestBody": json_request("Family"),
                "responses": {"201": json_response("Family", "Created"),
                              **error_responses(400, 401, 403, 409, 422)},
            },
        },
        "/families/{family_id}": {
            "parameters": _FAMILY_ID,
            "get": {"summary": "A family with its members and plan",
                    "responses": {"200": json_response("Family"),
                                  **error_responses(401, 404)}},
            "patch": {"summary": "Change a family; a track change is recorded",
                      "requestBody": json_request("Family"),
                      "responses": {"200": json_response("Family"),
                                    **error_responses(400, 401, 403, 404, 422)}},
        },
        "/families/{family_id}/plan": {
            "parameters": _FAMILY_ID,
            "put": {"summary": "Record or revise the family's plan",
                    "requestBody": json_request("Plan"),
                    "responses": {"200": json_response("Plan"),
                                  **error_responses(400, 401, 404, 422)}},
        },
        "/families/{family_id}/members": {
            "parameters": _FAMILY_ID,
            "post": {"summary": "Add a guardian or a child",
                     "requestBody": json_request("Member"),
                     "responses": {"201": json_response("Member", "Created"),
                                   **error_responses(400, 401, 404, 422)}},
        },
        "/families/{family_id}/members/{member_id}": {
            "parameters": _MEMBER_ID,
            "patch": {"summary": "Change a member",
                      "requestBody": json_request("Member"),
                      "responses": {"200": json_response("Member"),
                                    **error_responses(400, 401, 404, 422)}},
            "delete": {"summary": "Remove a member",
                       "responses": {"204": {"description": "Removed"},
                                     **error_responses(401, 404)}},
        },
    },
}
