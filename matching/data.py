"""Loading the facts of families and groups for scoring, in a few bulk queries."""

import hashlib
from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa

from calendars.models import HomeVisit
from core.localtime import local_today, to_local
from core.models import Municipality, Venue
from core.vocabulary import ENROLLING_STATUSES
from extensions import db
from families.models import AvailabilityWindow, Family, Member, Plan
from families.services import booking_refusal, plan_state
from groups import eligibility
from groups.models import (
    Enrollment,
    GroupSession,
    PeerGroup,
    group_municipalities,
)
from matching.scoring import Families, FamilyFacts, GroupFacts

TAKEN = ("enrolled", "waitlisted", "completed")


def places() -> dict[int, tuple[float, float]]:
    """Every municipality's centroid, by id."""
    return {row.id: (row.latitude, row.longitude)
            for row in db.session.scalars(sa.select(Municipality))}


def load_groups(*, now: datetime, zone, group_ids=None) -> list[GroupFacts]:
    """Groups taking families (open or running), with their sessions ahead."""
    query = sa.select(PeerGroup.id, PeerGroup.name, PeerGroup.status, PeerGroup.tracks,
                      PeerGroup.language, Venue.municipality_id, PeerGroup.themes,
                      PeerGroup.min_age_months, PeerGroup.max_age_months,
                      PeerGroup.capacity, PeerGroup.enrollment_opens,
                      PeerGroup.enrollment_closes).outerjoin(Venue,
                                                             Venue.id == PeerGroup.venue_id)
    if group_ids is not None:
        query = query.where(PeerGroup.id.in_(group_ids))
    else:
        query = query.where(PeerGroup.status.in_(ENROLLING_STATUSES))
    rows = db.session.execute(query.order_by(PeerGroup.id)).all()
    ids = [row[0] for row in rows]
    served = defaultdict(set)
    for group_id, municipality_id in db.session.execute(
            sa.select(group_municipalities.c.group_id,
                      group_municipalities.c.municipality_id)
            .where(group_municipalities.c.group_id.in_(ids))):
        served[group_id].add(municipality_id)
    enrolled = dict(db.session.execute(
        sa.select(Enrollment.group_id, sa.func.count(Enrollment.id))
        .where(Enrollment.group_id.in_(ids), Enrollment.status == "enrolled")
        .group_by(Enrollment.group_id)).all())
    sessions = defaultdict(list)
    for group_id, start, end in db.session.execute(
            sa.select(GroupSession.group_id, GroupSession.start, GroupSession.end)
            .where(GroupSession.group_id.in_(ids), GroupSession.status == "scheduled",
                   GroupSession.start >= now).order_by(GroupSession.start)):
        local_start, local_end = to_local(start, zone), to_local(end, zone)
        sessions[group_id].append((local_start.date(), start, end, local_start.time(),
                                   local_end.time()))
    facts = []
    today = local_today(now, zone)
    for (group_id, name, status, tracks, language, meets_in, themes, low, high,
         capacity, opens, closes) in rows:
        ahead = tuple(sessions[group_id])
        weekdays = [day.isoweekday() for day, *_ in ahead]
        # Open: taking families today (its status and enrollment window, as
        # enrollment will judge them) with a session ahead.
        takes = eligibility.takes_families(eligibility.GroupTerms(
            status=status, tracks=frozenset(tracks), language=language,
            municipality_ids=frozenset(served[group_id]), min_age_months=low,
            max_age_months=high, first_day=ahead[0][0] if ahead else None,
            enrollment_opens=opens, enrollment_closes=closes), today) is None
        facts.append(GroupFacts(
            id=group_id, name=name, open=takes and bool(ahead),
            tracks=frozenset(tracks), language=language,
            municipality_ids=frozenset(served[group_id]), meets_in=meets_in,
            themes=frozenset(themes), min_age_months=low, max_age_months=high,
            free_seats=max(capacity - enrolled.get(group_id, 0), 0),
            first_day=ahead[0][0] if ahead else None,
            weekday=max(set(weekdays), key=weekdays.count) if weekdays else None,
            sessions=ahead))
    return facts


def waiting_families_query(municipality_ids=None) -> sa.Select:
    """The ids of active families with a plan and no seat in a group that is
    taking families, as a query (to filter other queries by, without a list of ids)."""
    placed = (sa.select(Enrollment.family_id).join(PeerGroup)
              .where(Enrollment.status == "enrolled",
                     PeerGroup.status.in_(ENROLLING_STATUSES)))
    query = (sa.select(Family.id).join(Plan, Plan.family_id == Family.id)
             .where(Family.status == "active", Family.id.not_in(placed)))
    if municipality_ids is not None:
        query = query.where(Family.municipality_id.in_(municipality_ids))
    return query


def waiting_family_ids(municipality_ids=None) -> list[int]:
    """Active families with a plan and no seat in a group that is taking families."""
    return list(db.session.scalars(
        waiting_families_query(municipality_ids).order_by(Family.id)))


def load_family_table(family_ids, *, now: datetime, zone, until: datetime,
                      members: bool = False) -> Families:
    """The facts of families column by column: plan goals, children, preferences,
    visits ahead, groups taken; with ``members`` also every member's (id, role,
    birth date) by family.

    ``family_ids`` is a list of ids or a query of them (see
    ``waiting_families_query``); each fact is read in one query.
    """
    if not isinstance(family_ids, sa.Select):
        family_ids = list(family_ids)
    db.session.flush()  # as the session's own queries would (autoflush)
    connection = db.session.connection()
    rows = connection.execute(
        sa.select(Family.id, Family.reference, Family.track, Family.municipality_id,
                  Family.languages, Family.referral_date, Plan.goals, Family.status,
                  Plan.id, Plan.social_worker_participated)
        .outerjoin(Plan, Plan.family_id == Family.id)
        .where(Family.id.in_(family_ids)).order_by(Family.id)).all()
    (ids, references, tracks, municipalities, languages, waiting_since, goals, statuses,
     plan_ids, participated) = (list(column) for column in zip(*rows, strict=True)) \
        if rows else ([],) * 10
    # "A plan" for scoring is the booking rule's answer for a group seat.
    may_join = [booking_refusal(status=status, track=track, kind="group_place",
                                plan=plan_state(track, plan_id is not None,
                                                bool(took_part))) is None
                for status, track, plan_id, took_part
                in zip(statuses, tracks, plan_ids, participated, strict=True)]
    index = {family_id: position for position, family_id in enumerate(ids)}
    births = [[] for _ in ids]
    by_family = {} if members else None
    query = (sa.select(Member.family_id, Member.id, Member.role, Member.birth_date)
             .where(Member.family_id.in_(family_ids)).order_by(Member.id))
    if not members:
        query = query.where(Member.role == "child")
    for family_id, member_id, role, born in connection.execute(query):
        if role == "child":
            births[index[family_id]].append(born)
        if members:
            by_family.setdefault(family_id, []).append((member_id, role, born))
    availability = [(index[family_id], weekday, opens, closes)
                    for family_id, weekday, opens, closes in connection.execute(
                        sa.select(AvailabilityWindow.family_id, AvailabilityWindow.weekday,
                                  AvailabilityWindow.start_time, AvailabilityWindow.end_time)
                        .where(AvailabilityWindow.family_id.in_(family_ids))
                        .order_by(AvailabilityWindow.id))]
    visits = [(index[family_id], to_local(start, zone).date(), start, end)
              for family_id, start, end in connection.execute(
                  sa.select(HomeVisit.family_id, HomeVisit.start, HomeVisit.end)
                  .where(HomeVisit.family_id.in_(family_ids),
                         HomeVisit.status == "scheduled", HomeVisit.end > now,
                         HomeVisit.start < until).order_by(HomeVisit.id))]
    taken = [(index[family_id], group_id) for family_id, group_id in connection.execute(
        sa.select(Enrollment.family_id, Enrollment.group_id)
        .where(Enrollment.family_id.in_(family_ids), Enrollment.status.in_(TAKEN)))]
    return Families(
        ids=ids, tracks=tracks, municipality_ids=municipalities,
        languages=[frozenset(spoken or ()) for spoken in languages],
        has_plan=may_join,
        goals=[tuple(plan or ()) for plan in goals], birth_dates=births,
        waiting_since=waiting_since, availability=availability, visits=visits, taken=taken,
        references=references, members=by_family)


def load_families(family_ids, *, now: datetime, zone, until: datetime) -> list[FamilyFacts]:
    """The facts of families, one ``FamilyFacts`` each."""
    return load_family_table(family_ids, now=now, zone=zone, until=until).facts()


def fingerprint(group_ids, family_ids) -> str:
    """A digest of what a proposal depends on; it changes when any of it does."""
    digest = hashlib.sha256()
    for row in db.session.execute(
            sa.select(PeerGroup.id, PeerGroup.roster_version, PeerGroup.capacity,
                      PeerGroup.status, PeerGroup.updated_at)
            .where(PeerGroup.id.in_(list(group_ids))).order_by(PeerGroup.id)):
        digest.update(repr(tuple(row)).encode())
    sessions = db.session.execute(
        sa.select(sa.func.count(GroupSession.id), sa.func.max(GroupSession.updated_at))
        .where(GroupSession.group_id.in_(list(group_ids)))).one()
    digest.update(repr(tuple(sessions)).encode())
    family_ids = list(family_ids)
    for row in db.session.execute(
            sa.select(Family.id, Family.status, Family.updated_at)
            .where(Family.id.in_(family_ids)).order_by(Family.id)):
        digest.update(repr(tuple(row)).encode())
    visits = db.session.execute(
        sa.select(sa.func.count(HomeVisit.id), sa.func.max(HomeVisit.updated_at))
        .where(HomeVisit.family_id.in_(family_ids))).one()
    digest.update(repr(tuple(visits)).encode())
    return digest.hexdigest()
