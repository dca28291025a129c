"""Pages of matching: ranked groups for a family, ranked families for a group,
and bulk proposals reviewed, accepted in part or whole, or rejected.

Each view loads (404), checks access (403), acts through matching.services
and responds. The explanations are those of the JSON API, in the reader's
language.
"""

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from accounts.forms import ActionForm
from core.clock import get_clock
from core.errors import Forbidden
from core.forms import attempt, form_page
from core.localtime import unit_zone
from core.places import all_municipalities
from core.roles import COORDINATOR, login_required
from core.unit_of_work import discard, keep_regardless
from extensions import db
from families.models import Family
from families.services import record_listing, visible_families_query
from families.views import load_family
from groups import permissions as group_permissions
from groups import services as group_services
from groups.models import PeerGroup
from matching import services
from matching.explain import MatchSchema, ProposalItemSchema
from matching.forms import (
    AcceptForm,
    ProposalForm,
    RejectForm,
)
from matching.models import Proposal

bp = Blueprint("matching", __name__, url_prefix="/matching")

# How many proposals the list shows, newest first.
PROPOSALS_SHOWN = 50


@bp.app_template_filter("points")
def points(value):
    """Points or a score with at most one decimal, as the locale writes it."""
    return "–" if value is None else format_decimal(value, format="0.#")


# --- helpers ---------------------------------------------------------------

def _require_proposer() -> None:
    if not services.can_propose(current_user):
        raise Forbidden(_("Bulk matching is for coordinators."))


def _by_id(model, ids) -> dict:
    ids = list(set(ids))
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(sa.select(model).where(
        model.id.in_(ids)))}


@dataclass
class RankedRow:
    """One pair of a ranked list: the other side, its explained match, and where
    to place the family when the user may."""

    match: dict
    group: PeerGroup
    family: Family
    place_url: str | None = None


# --- ranked lists ----------------------------------------------------------

def _ranked_row(match, group: PeerGroup, family: Family, place_endpoint: str) -> RankedRow:
    """A match as a row, with the link that places the family when it may be placed."""
    place_url = None
    if match.eligible and group_permissions.can_enroll(current_user, group, family):
        place_url = url_for(place_endpoint, family_id=family.id, group_id=group.id)
    return RankedRow(MatchSchema().dump(match), group, family, place_url)


def _ranked_page(template, rows: list[RankedRow], **context):
    """A ranked list: the eligible rows best first, then the excluded."""
    return render_template(template, eligible=[row for row in rows if row.match["eligible"]],
                           excluded=[row for row in rows if not row.match["eligible"]],
                           **context)


@bp.get("/families/<int:family_id>")
@login_required
def family_groups(family_id):
    """The groups that fit a family best, each explained; the excluded after."""
    family = load_family(family_id)
    matches = services.group_matches(current_user, family, now=get_clock().now(),
                                     zone=unit_zone())
    peer_groups = _by_id(PeerGroup, [match.group_id for match in matches])
    rows = [_ranked_row(match, peer_groups[match.group_id], family, "groups.place_in_group")
            for match in matches]
    return _ranked_page("matching/family_groups.html", rows, family=family)


@bp.get("/groups/<int:group_id>")
@login_required
def group_families(group_id):
    """The waiting families that fit a group best, each explained; the excluded after."""
    group = group_services.get_group(group_id)
    matches = services.family_matches(current_user, group, now=get_clock().now(),
                                      zone=unit_zone())
    families = _by_id(Family, [match.family_id for match in matches])
    rows = [_ranked_row(match, group, families[match.family_id], "groups.place_family")
            for match in matches]
    record_listing(current_user, [row.family for row in rows], clock=get_clock())
    return _ranked_page("matching/group_families.html", rows, group=group)


# --- proposals -------------------------------------------------------------

def _proposal_form(formdata=None) -> ProposalForm:
    """The new proposal's form, a coordinator's own municipalities checked."""
    data = None
    if formdata is None and current_user.role == COORDINATOR:
        data = {"municipalities": [place.name for place in current_user.municipalities]}
    form = ProposalForm(formdata=formdata, data=data)
    form.municipalities.choices = [(place.name, place.name)
                                   for place in all_municipalities()]
    return form


def _index_page(form, status=200):
    return render_template("matching/index.html", form=form,
                           rows=services.list_proposals(current_user, PROPOSALS_SHOWN),
                           all_by_default=current_user.role != COORDINATOR), status


@bp.get("/")
@login_required
def index():
    """The proposals made so far, newest first, and the form to make a new one."""
    _require_proposer()
    return _index_page(_proposal_form())


@bp.post("/proposals")
@login_required
def create_proposal():
    """Compute a proposal for the municipalities chosen and open it for review."""
    _require_proposer()
    form = _proposal_form(request.form)
    if form.validate():
        proposal = attempt(form, services.propose, current_user,
                           municipalities=form.municipalities.data or (),
                           now=get_clock().now(), zone=unit_zone())
        if proposal is not None:
            flash(_("A proposal was computed. Review it before accepting."), "success")
            return redirect(url_for(".proposal", proposal_id=proposal.id))
        discard()
    return _index_page(form, 422)


@dataclass
class ProposedGroup:
    """The families a proposal places in one group."""

    group: PeerGroup
    items: list[dict] = field(default_factory=list)


def _proposal_page(proposal: Proposal, form: AcceptForm, status=200):
    """A proposal grouped by group, the left-out families after; the families
    shown are written to the audit log."""
    items = list(proposal.items)
    peer_groups = _by_id(PeerGroup, [item.group_id for item in items if item.group_id])
    families = _by_id(Family, [item.family_id for item in items])
    visible = set(db.session.scalars(visible_families_query(current_user).where(
        Family.id.in_(list(families))).with_only_columns(Family.id))) if families else set()
    blocks: dict[int, ProposedGroup] = {}
    left_out = []
    for item in items:
        if item.group_id is None:
            left_out.append(ProposalItemSchema().dump(item))
            continue
        block = blocks.setdefault(item.group_id, ProposedGroup(peer_groups[item.group_id]))
        block.items.append(ProposalItemSchema().dump(item))
    record_listing(current_user, list(families.values()), clock=get_clock())
    if families:
        keep_regardless()  # the page shows them: their reads stay audited on a refusal
    chosen = set(form.item_ids.data) if form.is_submitted() and form.item_ids.data \
        else {item.id for item in items if item.status == "proposed"}
    is_open = proposal.status == "open"
    return render_template(
        "matching/proposal.html", proposal=proposal, form=form,
        blocks=sorted(blocks.values(), key=lambda block: block.group.name),
        left_out=left_out, placed_count=len(items) - len(left_out), families=families,
        visible_family_ids=visible, chosen=chosen,
        is_open=is_open, current=services.is_current(proposal) if is_open else True,
        proposed=any(item.status == "proposed" for item in items)), status


def _load_proposal(proposal_id) -> Proposal:
    """A proposal for those who make them: others are refused (403) before a lookup."""
    _require_proposer()
    return services.get_proposal(current_user, proposal_id)


def _accept_form(proposal: Proposal, formdata=None) -> AcceptForm:
    form = AcceptForm(formdata=formdata)
    form.item_ids.choices = [(item.id, str(item.id)) for item in proposal.items
                             if item.status == "proposed"]
    return form


@bp.get("/proposals/<int:proposal_id>")
@login_required
def proposal(proposal_id):
    """A proposal to review: the families proposed for each group, explained."""
    proposal = _load_proposal(proposal_id)
    return _proposal_page(proposal, _accept_form(proposal, formdata=None))


@bp.post("/proposals/<int:proposal_id>/accept")
@login_required
def accept_proposal(proposal_id):
    """Place the families chosen (or all); a proposal whose data changed is not
    applied but computed again."""
    proposal = _load_proposal(proposal_id)
    form = _accept_form(proposal, request.form)
    if form.validate():
        item_ids = None if form.accept_all.data else list(form.item_ids.data or ())
        if item_ids == []:
            form.form_errors.append(_("Choose the families to place, or reject the"
                                      " proposal."))
        else:
            result = attempt(form, services.accept, current_user, proposal, item_ids,
                             now=get_clock().now(), zone=unit_zone())
            if result is not None:
                return _after_acceptance(result)
            discard()
            proposal = services.get_proposal(current_user, proposal_id)
    return _proposal_page(proposal, form, 422)


@bp.post("/proposals/<int:proposal_id>/recompute")
@login_required
def recompute_proposal(proposal_id):
    """Replace a proposal whose data changed by a new one, and open it."""
    form = ActionForm()
    proposal = _load_proposal(proposal_id)
    if not form.validate_on_submit():
        return redirect(url_for(".proposal", proposal_id=proposal.id))
    fresh = services.recompute(current_user, proposal, now=get_clock().now(),
                               zone=unit_zone())
    flash(_("A proposal was computed. Review it before accepting."), "success")
    return redirect(url_for(".proposal", proposal_id=fresh.id))


def _after_acceptance(result: services.Acceptance):
    if result.stale:
        flash(_("The families or groups changed since the proposal was made, so nothing"
                " was placed. A new proposal was computed: review it before accepting."),
              "error")
        return redirect(url_for(".proposal", proposal_id=result.replacement.id))
    items = result.proposal.items
    placed = sum(item.status == "accepted" for item in items)
    failed = sum(item.status == "failed" for item in items)
    flash(ngettext("%(num)d family was placed.", "%(num)d families were placed.", placed),
          "success")
    if failed:
        flash(ngettext("%(num)d family could not be placed: the reason is shown beside it.",
                       "%(num)d families could not be placed: the reason is shown beside"
                       " each.", failed), "error")
    return redirect(url_for(".proposal", proposal_id=result.proposal.id))


@bp.route("/proposals/<int:proposal_id>/reject", methods=["GET", "POST"])
@login_required
def reject_proposal(proposal_id):
    """Ask for confirmation (GET), then reject the whole proposal (POST)."""
    proposal = _load_proposal(proposal_id)
    form = RejectForm()
    if form.validate_on_submit():
        attempt(form, services.reject, current_user, proposal, now=get_clock().now())
        if not form.form_errors:
            flash(_("The proposal was rejected. Nobody was placed."), "success")
            return redirect(url_for(".proposal", proposal_id=proposal.id))
        discard()
        proposal = services.get_proposal(current_user, proposal_id)
    return form_page("matching/reject.html", form, proposal=proposal)
