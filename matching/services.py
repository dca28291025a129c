"""Ranked matches for a family or a group, and bulk proposals reviewed by people."""

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from time import perf_counter

import numpy as np
import sqlalchemy as sa
from flask_babel import gettext as _

from accounts.models import User
from core import audit
from core.clock import FixedClock
from core.errors import DomainError, Forbidden, NotFound
from core.models import Municipality
from core.roles import ADMIN, COORDINATOR
from extensions import db
from families.models import Family
from families.services import can_see as can_see_family
from families.services import visible_families_query
from groups import enrollment as group_enrollment
from groups import permissions as group_permissions
from groups.models import PeerGroup
from matching import data, solver
from matching.models import MatchingPolicy, Proposal, ProposalItem
from matching.scoring import (
    Criterion,
    Families,
    GroupFacts,
    Groups,
    Match,
    Weights,
    age_in_months,
    score_pairs,
)

# How far ahead home visits are read for clashes with group sessions.
HORIZON = timedelta(days=400)


def can_propose(user: User) -> bool:
    return user.role in (ADMIN, COORDINATOR)


def weights() -> Weights:
    """The admin's policy, or the defaults before one is saved."""
    policy = db.session.scalar(sa.select(MatchingPolicy).limit(1))
    if policy is None:
        return Weights()
    return Weights(goals=policy.goals, distance=policy.distance, age=policy.age,
                   timing=policy.timing, waiting=policy.waiting,
                   max_clash_share=policy.max_clash_share,
                   waiting_full_days=policy.waiting_full_days,
                   distance_zero_km=policy.distance_zero_km)


def _ranked(matches: list[Match]) -> list[Match]:
    """Eligible pairs by score, best first; then the excluded, each with its rule."""
    return sorted(matches, key=lambda m: (not m.eligible, -m.score_tenths, m.group_id,
                                          m.family_id))


def group_matches(actor: User, family: Family, *, now: datetime, zone) -> list[Match]:
    """Every group taking families, against one family: the best first."""
    if not can_see_family(actor, family):
        raise NotFound(_("No such family."))
    groups_ = data.load_groups(now=now, zone=zone)
    facts = data.load_family_table([family.id], now=now, zone=zone, until=now + HORIZON)
    policy, centroids = weights(), data.places()
    return _ranked(score_pairs(facts, Groups.from_facts(groups_),
                               np.zeros(len(groups_), dtype=np.int64),
                               np.arange(len(groups_)), policy, centroids).matches())


def family_matches(actor: User, group: PeerGroup, *, now: datetime, zone) -> list[Match]:
    """Families waiting for a seat, against one group: the best first.

    Only families the actor may see are listed.
    """
    if not group_permissions.can_manage(actor, group):
        raise Forbidden(_("Matching is for the group's organisers."))
    group_facts = data.load_groups(now=now, zone=zone, group_ids=[group.id])[0]
    visible = set(db.session.scalars(
        visible_families_query(actor).with_only_columns(Family.id)))
    ids = [family_id for family_id in data.waiting_family_ids(
        list(group_facts.municipality_ids)) if family_id in visible]
    families = data.load_family_table(ids, now=now, zone=zone, until=now + HORIZON)
    policy, centroids = weights(), data.places()
    return _ranked(score_pairs(families, Groups.from_facts([group_facts]),
                               np.arange(len(families)), np.zeros(len(families), dtype=np.int64),
                               policy, centroids).matches())


# --- bulk proposals --------------------------------------------------------

@dataclass
class ProposalRun:
    """A computed proposal before it is stored, with the seconds of each stage.

    Only what storing needs is kept: the assignment with each placed family's
    score and criteria and its members, and why each other family got no seat.
    ``candidates`` are the eligible pairs as arrays (family ids, group ids,
    scores in tenths), the solver's input.
    """

    groups: list[GroupFacts]
    family_ids: list[int]
    assignment: dict[int, int]
    placed: dict[int, tuple[int, tuple[Criterion, ...]]]
    left_out: dict[int, dict]
    members: dict[int, list]
    candidates: tuple[np.ndarray, np.ndarray, np.ndarray]
    pairs: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def _candidate_pairs(families: Families, groups_: list[GroupFacts]):
    """(family index, group index) of every family against every group serving its
    municipality, by family and then by group id."""
    serving: dict[int, list[int]] = {}
    for index, group in sorted(enumerate(groups_), key=lambda item: item[1].id):
        for municipality_id in group.municipality_ids:
            serving.setdefault(municipality_id, []).append(index)
    codes = {municipality_id: code for code, municipality_id in enumerate(serving)}
    flat = np.array([index for indexes in serving.values() for index in indexes],
                    dtype=np.int64)
    count = np.array([len(indexes) for indexes in serving.values()] + [0], dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    family_code = np.array([codes.get(m, len(serving)) for m in families.municipality_ids],
                           dtype=np.int64)
    per_family = count[family_code]
    family = np.repeat(np.arange(len(families), dtype=np.int64), per_family)
    first = np.repeat(np.cumsum(per_family) - per_family, per_family)
    position = np.repeat(start[family_code], per_family) + np.arange(len(family)) - first
    return family, flat[position] if len(family) else np.zeros(0, dtype=np.int64)


@contextmanager
def _without_gc_pauses():
    """Pause the cyclic garbage collector during bulk work.

    A proposal creates tens of thousands of small objects (rows, tuples,
    dicts) that all stay alive until it is stored; meanwhile the collector
    would scan the whole heap again and again (a third of the proposal's
    time when measured). Nothing here creates reference cycles; the collector
    runs again afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def compute(*, municipality_ids=None, now: datetime, zone) -> ProposalRun:
    """Score every waiting family against every group with free seats, and solve."""
    with _without_gc_pauses():
        return _compute(municipality_ids, now=now, zone=zone)


def _compute(municipality_ids, *, now: datetime, zone) -> ProposalRun:
    started = perf_counter()
    groups_ = [group for group in data.load_groups(now=now, zone=zone)
               if group.open and group.free_seats > 0]
    families = data.load_family_table(data.waiting_families_query(municipality_ids),
                                      now=now, zone=zone, until=now + HORIZON, members=True)
    policy, centroids = weights(), data.places()
    loaded = perf_counter()
    # Only groups serving the family's municipality can be eligible.
    family, group = _candidate_pairs(families, groups_)
    scores = score_pairs(families, Groups.from_facts(groups_), family, group, policy,
                         centroids)
    eligible = np.flatnonzero(scores.eligible)
    family_ids = np.array(families.ids, dtype=np.int64)
    group_ids = np.array([g.id for g in groups_], dtype=np.int64)
    candidates = (family_ids[family[eligible]], group_ids[group[eligible]],
                  scores.score_tenths[eligible])
    scored = perf_counter()
    chosen = solver.solve_pairs(*candidates, {g.id: g.free_seats for g in groups_})
    solved = perf_counter()
    assignment = dict(zip(candidates[0][chosen].tolist(), candidates[1][chosen].tolist(),
                          strict=True))
    placed = {int(candidates[0][k]): (int(candidates[2][k]), scores.criteria(eligible[k]))
              for k in chosen.tolist()}
    # Why the others got no seat: full groups, or the rule excluding the
    # first pair (by group id), or no pair at all.
    pair_count = np.bincount(family, minlength=len(families))
    first_pair = np.cumsum(pair_count) - pair_count
    any_eligible = np.bincount(family[eligible], minlength=len(families)) > 0
    left_out = {}
    for index, family_id in enumerate(families.ids):
        if family_id in assignment:
            continue
        if any_eligible[index]:
            left_out[family_id] = {"rule": "groups_full"}
        elif not pair_count[index]:
            left_out[family_id] = {"rule": "no_group_serves_municipality"}
        else:
            k = int(first_pair[index])
            left_out[family_id] = {"rule": scores.rule_code(k),
                                   "params": scores.rule_params(k)}
    members = {family_id: families.members.get(family_id, []) for family_id in assignment}
    return ProposalRun(groups_, families.ids, assignment, placed, left_out, members,
                       candidates, len(scores), {
                           "load": loaded - started, "score": scored - loaded,
                           "solve": solved - scored, "explain": perf_counter() - solved})


def attending_members(members, group: GroupFacts) -> list[int]:
    """Who would attend by default: the guardians and the children in the age range.

    ``members`` are (id, role, birth date) of one family.
    """
    return [member_id for member_id, role, born in members
            if role == "guardian" or group.first_day and group.min_age_months
            <= age_in_months(born, group.first_day) <= group.max_age_months]


def propose(actor: User, *, municipalities=(), now: datetime, zone) -> Proposal:
    """Compute and store a proposal for the actor's municipalities (or those named)."""
    if not can_propose(actor):
        raise Forbidden(_("Bulk matching is for coordinators."))
    own = [m.name for m in actor.municipalities]
    names = list(municipalities) or (own if actor.role == COORDINATOR else [])
    if actor.role == COORDINATOR and not set(names) <= set(own):
        raise Forbidden(_("A coordinator matches families of their own municipalities."),
                        fields={"municipalities": _("Not one of your municipalities.")})
    ids = None
    if names:
        ids = list(db.session.scalars(sa.select(Municipality.id).where(
            Municipality.name.in_(names))))
    run = compute(municipality_ids=ids, now=now, zone=zone)
    return store(actor, run, names, now=now)


def store(actor: User, run: ProposalRun, names, *, now: datetime) -> Proposal:
    """Keep a computed proposal: one item per family, placed or left out.

    Items are written in one bulk statement: a season's proposal has
    thousands of them.
    """
    with _without_gc_pauses():
        return _store(actor, run, names, now=now)


def _store(actor: User, run: ProposalRun, names, *, now: datetime) -> Proposal:
    proposal = Proposal(created_at=now, created_by_id=actor.id, municipalities=names,
                        group_ids=[g.id for g in run.groups],
                        fingerprint=data.fingerprint([g.id for g in run.groups],
                                                     run.family_ids))
    db.session.add(proposal)
    db.session.flush()
    groups_by_id = {group.id: group for group in run.groups}
    rows, total = [], 0
    for family_id in run.family_ids:
        group_id = run.assignment.get(family_id)
        if group_id is None:
            rows.append({"proposal_id": proposal.id, "family_id": family_id,
                         "group_id": None, "score_tenths": 0, "status": "left_out",
                         "explanation": run.left_out[family_id], "member_ids": [],
                         "message": ""})
            continue
        score_tenths, criteria = run.placed[family_id]
        total += score_tenths
        rows.append({"proposal_id": proposal.id, "family_id": family_id,
                     "group_id": group_id, "score_tenths": score_tenths,
                     "status": "proposed", "message": "",
                     "explanation": {"criteria": [c.as_dict() for c in criteria]},
                     "member_ids": attending_members(run.members.get(family_id, ()),
                                                     groups_by_id[group_id])})
    if rows:
        db.session.execute(sa.insert(ProposalItem.__table__), rows)
    proposal.total_score_tenths = total
    db.session.flush()
    db.session.expire(proposal, ["items"])
    audit.record(actor, "matching.propose", "proposal", proposal.id, at=now,
                 detail={"families": len(run.family_ids), "placed": len(run.assignment)})
    return proposal


def may_see(actor: User, proposal: Proposal) -> bool:
    """Admins see every proposal; a coordinator those for their own municipalities."""
    if actor.role == ADMIN:
        return True
    own = {place.name for place in actor.municipalities}
    return actor.role == COORDINATOR and (
        proposal.created_by_id == actor.id
        or bool(proposal.municipalities) and set(proposal.municipalities) <= own)


def get_proposal(actor: User, proposal_id: int) -> Proposal:
    """A proposal the actor may see, or not found (403 for those who never may)."""
    if not can_propose(actor):
        raise Forbidden(_("Bulk matching is for coordinators."))
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or not may_see(actor, proposal):
        raise NotFound(_("No such proposal."))
    return proposal


@dataclass
class ProposalSummary:
    """A proposal as lists show it."""

    proposal: Proposal
    placed: int
    left_out: int


def list_proposals(actor: User, limit: int = 50) -> list[ProposalSummary]:
    """The newest proposals the actor may see, with their counts."""
    if not can_propose(actor):
        raise Forbidden(_("Bulk matching is for coordinators."))
    newest = db.session.scalars(sa.select(Proposal).order_by(
        Proposal.created_at.desc(), Proposal.id.desc()))
    proposals = []
    for proposal in newest:
        if may_see(actor, proposal):
            proposals.append(proposal)
            if len(proposals) == limit:
                break
    counts = {row[0]: (row[1], row[2]) for row in db.session.execute(
        sa.select(ProposalItem.proposal_id, sa.func.count(ProposalItem.group_id),
                  sa.func.count(sa.case((ProposalItem.status == "left_out", 1))))
        .where(ProposalItem.proposal_id.in_([p.id for p in proposals]))
        .group_by(ProposalItem.proposal_id))}
    return [ProposalSummary(p, *counts.get(p.id, (0, 0))) for p in proposals]


def recompute(actor: User, proposal: Proposal, *, now: datetime, zone) -> Proposal:
    """Replace an open proposal by a new one for the same municipalities."""
    if proposal.status == "open":
        proposal.status = "stale"
    return propose(actor, municipalities=proposal.municipalities, now=now, zone=zone)


def is_current(proposal: Proposal) -> bool:
    """Whether nothing the proposal was computed from has changed since."""
    return proposal.fingerprint == data.fingerprint(proposal.group_ids,
                                                    [item.family_id for item in proposal.items])


@dataclass
class Acceptance:
    """What accepting did: the proposal, or the new one made because it was stale."""

    proposal: Proposal
    stale: bool = False
    replacement: Proposal | None = None


def accept(actor: User, proposal: Proposal, item_ids=None, *, now: datetime,
           zone) -> Acceptance:
    """Enroll the proposed families (all, or the items chosen) through the groups service.

    A stale proposal is not applied: a new one is computed and returned instead.
    """
    if not can_propose(actor):
        raise Forbidden(_("Bulk matching is for coordinators."))
    if proposal.status != "open":
        raise DomainError(_("The proposal has already been decided."),
                          code="proposal_decided")
    if not is_current(proposal):
        proposal.status = "stale"
        replacement = propose(actor, municipalities=proposal.municipalities, now=now,
                              zone=zone)
        return Acceptance(proposal, stale=True, replacement=replacement)
    chosen = set(item_ids) if item_ids is not None else None
    clock = FixedClock(now)
    for item in proposal.items:
        if item.status != "proposed":
            continue
        if chosen is not None and item.id not in chosen:
            item.status = "rejected"
            continue
        group = db.session.get(PeerGroup, item.group_id)
        family = db.session.get(Family, item.family_id)
        try:
            with db.session.begin_nested():
                enrollment = group_enrollment.enroll(actor, group, family, item.member_ids,
                                                     zone=zone, clock=clock)
            item.status, item.enrollment_id = "accepted", enrollment.id
        except DomainError as error:
            item.status, item.message = "failed", str(error.message)[:300]
    accepted = [item for item in proposal.items if item.status == "accepted"]
    proposed = [item for item in proposal.items if item.group_id is not None]
    proposal.status = "accepted" if len(accepted) == len(proposed) else "partly_accepted"
    proposal.decided_at = now
    audit.record(actor, "matching.accept", "proposal", proposal.id, at=now,
                 detail={"accepted": len(accepted)})
    return Acceptance(proposal)


def reject(actor: User, proposal: Proposal, *, now: datetime) -> None:
    if not can_propose(actor):
        raise Forbidden(_("Bulk matching is for coordinators."))
    if proposal.status != "open":
        raise DomainError(_("The proposal has already been decided."),
                          code="proposal_decided")
    proposal.status, proposal.decided_at = "rejected", now
    for item in proposal.items:
        if item.status == "proposed":
            item.status = "rejected"

