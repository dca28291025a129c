"""Matching over JSON: ranked matches and bulk proposals."""

from flask import Blueprint, jsonify
from flask_babel import gettext as _
from flask_login import current_user

from core.api import error_responses, json_body, json_request, json_response
from core.clock import get_clock
from core.http import json_error
from core.localtime import iso_local, unit_zone
from core.roles import login_required
from core.schema import Integer, ListOf, Schema, String
from core.unit_of_work import keep_regardless
from families.services import get_family
from groups.services import get_group
from matching import services
from matching.explain import item_json, match_json
from matching.models import Proposal

bp = Blueprint("matching_api", __name__, url_prefix="/api/v1")

PROPOSAL_REQUEST = Schema("ProposalRequest", {
    "municipalities": ListOf(String(120), max_items=20,
                             description="Names; a coordinator's own by default"),
})
ACCEPT_REQUEST = Schema("AcceptRequest", {
    "item_ids": ListOf(Integer(), max_items=100000,
                       description="The items to accept; all when not given"),
})


def proposal_json(proposal: Proposal) -> dict:
    return {"id": proposal.id, "status": proposal.status,
            "created_at": iso_local(proposal.created_at),
            "municipalities": list(proposal.municipalities or ()),
            "total_score": proposal.total_score_tenths / 10,
            "current": services.is_current(proposal) if proposal.status == "open" else None,
            "items": [item_json(item) for item in proposal.items]}


@bp.get("/families/<int:family_id>/group-matches")
@login_required
def group_matches(family_id):
    family = get_family(current_user, family_id, clock=get_clock())
    matches = services.group_matches(current_user, family, now=get_clock().now(),
                                     zone=unit_zone())
    return jsonify([match_json(match) for match in matches])


@bp.get("/groups/<int:group_id>/family-matches")
@login_required
def family_matches(group_id):
    group = get_group(group_id)
    matches = services.family_matches(current_user, group, now=get_clock().now(),
                                      zone=unit_zone())
    return jsonify([match_json(match) for match in matches])


@bp.post("/matching/proposals")
@login_required
def create_proposal():
    fields = PROPOSAL_REQUEST.parse(json_body())
    proposal = services.propose(current_user, municipalities=fields.get("municipalities", ()),
                                now=get_clock().now(), zone=unit_zone())
    return jsonify(proposal_json(proposal)), 201


@bp.get("/matching/proposals/<int:proposal_id>")
@login_required
def get_proposal(proposal_id):
    return jsonify(proposal_json(services.get_proposal(current_user, proposal_id)))


@bp.post("/matching/proposals/<int:proposal_id>/accept")
@login_required
def accept_proposal(proposal_id):
    fields = ACCEPT_REQUEST.parse(json_body())
    proposal = services.get_proposal(current_user, proposal_id)
    result = services.accept(current_user, proposal, fields.get("item_ids"),
                             now=get_clock().now(), zone=unit_zone())
    if result.stale:
        keep_regardless()  # the new proposal the refusal names
        response = json_error(409, "proposal_stale", _(
            "The families or groups changed since the proposal was made. A new proposal"
            " was computed: review it before accepting."),
            details=[{"new_proposal_id": result.replacement.id}])
        return response
    return jsonify(proposal_json(proposal))


@bp.post("/matching/proposals/<int:proposal_id>/reject")
@login_required
def reject_proposal(proposal_id):
    proposal = services.get_proposal(current_user, proposal_id)
    services.reject(current_user, proposal, now=get_clock().now())
    return jsonify(proposal_json(proposal))


CRITERION_SCHEMA = {"type": "object", "properties": {
    "criterion": {"type": "string",
                  "enum": ["goals", "distance", "age", "timing", "waiting"]},
    "points": {"type": "number"}, "max": {"type": "number"},
    "params": {"type": "object"}, "text": {"type": "string"}}}
MATCH_SCHEMA = {"type": "object", "properties": {
    "family_id": {"type": "integer"}, "group_id": {"type": "integer"},
    "eligible": {"type": "boolean"}, "score": {"type": ["number", "null"]},
    "criteria": {"type": "array", "items": {"$ref": "#/components/schemas/Criterion"}},
    "rule": {"type": "string"}, "text": {"type": "string"}}}
PROPOSAL_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "status": {"type": "string"},
    "created_at": {"type": "string", "format": "date-time"},
    "municipalities": {"type": "array", "items": {"type": "string"}},
    "total_score": {"type": "number"}, "current": {"type": ["boolean", "null"]},
    "items": {"type": "array", "items": {"type": "object"}}}}
_ID = [{"name": "proposal_id", "in": "path", "required": True, "schema": {"type": "integer"}}]

OPENAPI = {
    "schemas": {"Criterion": CRITERION_SCHEMA, "Match": MATCH_SCHEMA,
                "Proposal": PROPOSAL_SCHEMA,
                "ProposalRequest": PROPOSAL_REQUEST.json_schema(),
                "AcceptRequest": ACCEPT_REQUEST.json_schema()},
    "paths": {
        "/families/{family_id}/group-matches": {
            "parameters": [{"name": "family_id", "in": "path", "required": True,
                            "schema": {"type": "integer"}}],
            "get": {"summary": "Groups for a family, best first, each explained",
                    "responses": {"200": json_response("Match", array=True),
                                  **error_responses(401, 404)}}},
        "/groups/{group_id}/family-matches": {
            "parameters": [{"name": "group_id", "in": "path", "required": True,
                            "schema": {"type": "integer"}}],
            "get": {"summary": "Waiting families for a group, best first, each explained",
                    "responses": {"200": json_response("Match", array=True),
                                  **error_responses(401, 403, 404)}}},
        "/matching/proposals": {
            "post": {"summary": "Compute and store a bulk proposal",
                     "requestBody": json_request("ProposalRequest"),
                     "responses": {"201": json_response("Proposal", "Created"),
                                   **error_responses(400, 401, 403, 422)}}},
        "/matching/proposals/{proposal_id}": {
            "parameters": _ID,
            "get": {"summary": "A proposal",
                    "responses": {"200": json_response("Proposal"),
                                  **error_responses(401, 404)}}},
        "/matching/proposals/{proposal_id}/accept": {
            "parameters": _ID,
            "post": {"summary": "Accept all or some items; a stale proposal is recomputed",
                     "requestBody": json_request("AcceptRequest"),
                     "responses": {"200": json_response("Proposal"),
                                   **error_responses(400, 401, 403, 404, 409, 422)}}},
        "/matching/proposals/{proposal_id}/reject": {
            "parameters": _ID,
            "post": {"summary": "Reject a proposal",
                     "responses": {"200": json_response("Proposal"),
                                   **error_responses(401, 403, 404, 422)}}},
    },
}
