"""Matching over JSON: ranked matches and bulk proposals."""

from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import fields

from core.api import API_ROOT, Blueprint, loads
from core.clock import get_clock
from core.fields import Body, Instant, Integer, List, Text
from core.http import json_error
from core.localtime import unit_zone
from core.roles import login_required
from core.unit_of_work import keep_regardless
from families.api import visible_family
from groups.services import get_group
from matching import services
from matching.explain import MatchSchema, ProposalItemSchema
from matching.models import Proposal

bp = Blueprint("matching_api", __name__, url_prefix=API_ROOT)

class ProposalRequestSchema(Body):
    municipalities = List(Text(120), max_items=20,
                          description="Names; a coordinator's own by default")


class AcceptRequestSchema(Body):
    item_ids = List(Integer(), max_items=100000,
                    description="The items to accept; all when not given")


class ProposalSchema(Body):
    """A bulk proposal of seats for waiting families."""

    id = fields.Integer()
    status = fields.String()
    created_at = Instant()
    municipalities = fields.List(fields.String())
    total_score = fields.Float()
    current = fields.Boolean(allow_none=True)
    items = fields.List(fields.Nested(ProposalItemSchema))

    def read_municipalities(self, proposal: Proposal):
        return list(proposal.municipalities or ())

    def read_total_score(self, proposal: Proposal):
        return proposal.total_score_tenths / 10

    def read_current(self, proposal: Proposal):
        return services.is_current(proposal) if proposal.status == "open" else None


def _proposal(proposal_id):
    return services.get_proposal(current_user, proposal_id)


@bp.get("/families/<int:family_id>/group-matches")
@bp.doc(summary="Groups for a family, best first, each explained")
@login_required
@loads(visible_family)
@bp.response(200, MatchSchema(many=True))
@bp.errors(401, 404)
def group_matches(family):
    """Groups for a family, best first."""
    return services.group_matches(current_user, family, now=get_clock().now(),
                                  zone=unit_zone())


@bp.get("/groups/<int:group_id>/family-matches")
@bp.doc(summary="Waiting families for a group, best first, each explained")
@login_required
@loads(get_group)
@bp.response(200, MatchSchema(many=True))
@bp.errors(401, 403, 404)
def family_matches(group):
    """Waiting families for a group, best first."""
    return services.family_matches(current_user, group, now=get_clock().now(),
                                   zone=unit_zone())


@bp.post("/matching/proposals")
@bp.doc(summary="Compute and store a bulk proposal")
@login_required
@bp.arguments(ProposalRequestSchema)
@bp.response(201, ProposalSchema, description="Created")
@bp.errors(401, 403)
def create_proposal(fields):
    """Compute and store a bulk proposal for the municipalities."""
    proposal = services.propose(current_user, municipalities=fields.get("municipalities", ()),
                                now=get_clock().now(), zone=unit_zone())
    return proposal


@bp.get("/matching/proposals/<int:proposal_id>")
@bp.doc(summary="A proposal")
@login_required
@loads(_proposal)
@bp.response(200, ProposalSchema)
@bp.errors(401, 404)
def get_proposal(proposal):
    """One proposal with its items."""
    return proposal


@bp.post("/matching/proposals/<int:proposal_id>/accept")
@bp.doc(summary="Accept all or some items; a stale proposal is recomputed")
@login_required
@loads(_proposal)
@bp.arguments(AcceptRequestSchema)
@bp.response(200, ProposalSchema)
@bp.errors(401, 403, 404, 409)
def accept_proposal(proposal, fields):
    """Accept all or some items; a stale proposal is replaced by a new one (409)."""
    result = services.accept(current_user, proposal, fields.get("item_ids"),
                             now=get_clock().now(), zone=unit_zone())
    if result.stale:
        keep_regardless()  # the new proposal the refusal names
        return json_error(409, "proposal_stale", _(
            "The families or groups changed since the proposal was made. A new proposal"
            " was computed: review it before accepting."),
            details=[{"new_proposal_id": result.replacement.id}])
    return proposal


@bp.post("/matching/proposals/<int:proposal_id>/reject")
@bp.doc(summary="Reject a proposal")
@login_required
@loads(_proposal)
@bp.response(200, ProposalSchema)
@bp.errors(401, 403, 404, 422)
def reject_proposal(proposal):
    """Reject a proposal."""
    services.reject(current_user, proposal, now=get_clock().now())
    return proposal
