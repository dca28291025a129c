"""The group fit rule on every path, over every family state and attending set.

``groups.enrollment.check_family_fits`` is the one rule of who may hold a seat:
the booking rule allows the family a group seat, its track is the group's,
every attending child is within the group's ages on the first session ahead,
and the family has a child in that range. Enrolling on the pages and the API,
promotion from the waiting list, changing who attends and accepting matching's
proposals all answer as it does; matching's scoring agrees with it too.
"""

import random
from datetime import date, timedelta
from itertools import combinations, product

import pytest
import sqlalchemy as sa
from markupsafe import escape

from core.errors import DomainError
from extensions import db
from families import services as family_services
from families.models import STATUSES, Plan
from families.services import booking_refusal, plan_state
from groups import enrollment as group_enrollment
from groups.models import Enrollment
from matching import services as matching
from tests.conftest import (
    HELSINKI,
    NOW,
    bearer,
    csrf_token_from,
    login,
    make_family,
    make_group,
)

TRACKS = ("preventive", "child_protection")
PLANS = (None, False, True)
# The first session ahead is Tuesday 1 December 2026; the group is for 0-36 months.
FIRST_DAY = date(2026, 12, 1)
TODDLER = {"role": "child", "first_name": "Eeli", "birth_date": date(2024, 5, 10)}  # 30 months
OLDER = {"role": "child", "first_name": "Aino", "birth_date": date(2015, 6, 1)}  # 11 years
GUARDIAN = {"role": "guardian", "first_name": "Anna"}
# Who the family is: a toddler and an 11-year-old, or the 11-year-old alone.
HOUSEHOLDS = {"toddler_and_older": (GUARDIAN, TODDLER, OLDER), "older_only": (GUARDIAN, OLDER)}


def attending_sets(household):
    names = [member["first_name"] for member in HOUSEHOLDS[household]]
    return [chosen for size in range(1, len(names) + 1)
            for chosen in combinations(names, size)]


CASES = [(status, track, plan, household, chosen)
         for status, track, plan in product(STATUSES, TRACKS, PLANS)
         for household in HOUSEHOLDS for chosen in attending_sets(household)]


@pytest.fixture
def group(coordinator):
    return make_group(coordinator, capacity=50, min_age_months=0, max_age_months=36)


@pytest.fixture
def families(app, coordinator, social_worker):
    """One family per (status, track, plan, household), put in that state directly."""
    made = {}
    for status, track, plan in product(STATUSES, TRACKS, PLANS):
        for household, members in HOUSEHOLDS.items():
            family = make_family(coordinator, track=track, social_worker=social_worker,
                                 members=[dict(member) for member in members])
            if plan is not None:
                family.plan = Plan(goals=["parenthood"], content="", agreed_with="Anna",
                                   start_date=date(2026, 11, 20),
                                   review_date=date(2027, 2, 20),
                                   social_worker_participated=plan, created_at=NOW,
                                   updated_at=NOW)
            family.status = status
            made[status, track, plan, household] = family
    db.session.commit()
    return made


def members_named(family, chosen):
    return [member for member in family.members if member.first_name in chosen]


def rule_says(group, family, chosen):
    """The one rule's refusal code for these attending members, or None."""
    try:
        group_enrollment.check_family_fits(group, family, members_named(family, chosen), FIRST_DAY)
    except DomainError as error:
        return error.code
    return None


def clear(group):
    db.session.rollback()
    db.session.expire_all()
    for enrollment in list(group.enrollments):
        db.session.delete(enrollment)
    db.session.commit()
    db.session.expire_all()


# --- the rule, read from the seed's README ------------------------------------

def test_the_rule_is_the_seeds(group, families):
    """In the README's words: a family with a plan in force (on the
    child-protection track, with the social worker's participation), not closed,
    whose attending children are of the group's ages, for a child of those ages."""
    for status, track, plan, household, chosen in CASES:
        family = families[status, track, plan, household]
        may_book = booking_refusal(
            status=status, track=track, kind="group_place",
            plan=plan_state(track, plan is not None, bool(plan))) is None
        assert may_book == (status != "closed" and (
            plan is True or (plan is False and track == "preventive")))
        ages_fit = "Aino" not in chosen and household == "toddler_and_older"
        assert (rule_says(group, family, chosen) is None) == (may_book and ages_fit), \
            (status, track, plan, household, chosen)


def test_the_reproduced_case_is_refused(group, families):
    """A family with a 2-year-old in a 0-36-month group with only its 11-year-old."""
    family = families["active", "preventive", True, "toddler_and_older"]
    assert rule_says(group, family, ("Aino",)) == "child_outside_age_range"
    assert rule_says(group, family, ("Anna", "Eeli")) is None
    assert rule_says(group, family, ("Anna",)) is None  # a parent for a toddler's sake


# --- the paths -------------------------------------------------------------------

def api_enroll(client, group, family, members):
    response = client.post(f"/api/v1/groups/{group.id}/enrollments", headers=client.headers,
                           json={"family_id": family.id,
                                 "member_ids": [member.id for member in members]})
    return response


def page_enroll_from_group(client, group, family, members):
    return client.post(f"/groups/{group.id}/place?family_id={family.id}", data={
        "member_ids": [str(member.id) for member in members], "csrf_token": client.csrf})


def page_enroll_from_family(client, group, family, members):
    return client.post(f"/groups/families/{family.id}/place", data={
        "group_id": str(group.id), "member_ids": [str(member.id) for member in members],
        "csrf_token": client.csrf})


@pytest.mark.parametrize("path", (api_enroll, page_enroll_from_group, page_enroll_from_family),
                         ids=lambda path: path.__name__)
def test_enrolling_answers_as_the_rule(client, coordinator, group, families, path):
    if path is api_enroll:
        client.headers = bearer(coordinator)
    else:
        login(client, coordinator)
        client.csrf = csrf_token_from(client.get(f"/groups/{group.id}").get_data(
            as_text=True))
    disagreements = []
    for status, track, plan, household, chosen in CASES:
        family = families[status, track, plan, household]
        members = members_named(family, chosen)
        code = rule_says(group, family, chosen)
        response = path(client, group, family, members)
        if path is api_enroll:
            answer = response.get_json().get("error", {}).get("code") \
                if response.status_code >= 400 else None
            ok = answer == code and response.status_code in ((201,) if code is None
                                                             else (409, 422))
        else:
            ok = response.status_code == (302 if code is None else 422)
            answer = response.status_code
            if code is not None:
                # The page shows the same refusal the rule gives.
                try:
                    group_enrollment.check_family_fits(group, family, members, FIRST_DAY)
                except DomainError as error:
                    ok = ok and str(escape(error.message)) in response.get_data(as_text=True)
        if not ok:
            disagreements.append((status, track, plan, household, chosen, answer, code))
        clear(group)
    assert disagreements == []


def test_promotion_from_the_waiting_list_answers_as_the_rule(client, coordinator, group,
                                                             families):
    """A full group; the family waits first in line; the one seat is freed."""
    headers = bearer(coordinator)
    holder = make_family(coordinator, plan=True, members=[dict(GUARDIAN), dict(TODDLER)])
    group.capacity = 1
    db.session.commit()
    disagreements = []
    for status, track, plan, household, chosen in CASES:
        family = families[status, track, plan, household]
        held = Enrollment(group_id=group.id, family_id=holder.id,
                          members=list(holder.members), status="enrolled",
                          requested_at=NOW, enrolled_at=NOW)
        waiting = Enrollment(group_id=group.id, family_id=family.id,
                             members=members_named(family, chosen), status="waitlisted",
                             position=1, requested_at=NOW)
        db.session.add_all([held, waiting])
        db.session.commit()
        response = client.delete(f"/api/v1/enrollments/{held.id}", headers=headers)
        assert response.status_code == 200
        promoted = [entry["family_id"] for entry in response.get_json()["promoted"]]
        db.session.expire_all()
        fits = rule_says(group, family, chosen) is None
        if (promoted == [family.id]) != fits or (
                db.session.get(Enrollment, waiting.id).status
                != ("enrolled" if fits else "waitlisted")):
            disagreements.append((status, track, plan, household, chosen))
        clear(group)
    assert disagreements == []


def test_one_who_no_longer_fits_keeps_waiting_and_the_next_moves_up(client, coordinator,
                                                                    group, families):
    group.capacity = 1
    holder = make_family(coordinator, plan=True, members=[dict(GUARDIAN), dict(TODDLER)])
    outgrown = families["active", "preventive", True, "older_only"]
    next_in_line = families["active", "preventive", True, "toddler_and_older"]
    third = families["active", "child_protection", True, "toddler_and_older"]
    held = Enrollment(group_id=group.id, family_id=holder.id, members=list(holder.members),
                      status="enrolled", requested_at=NOW, enrolled_at=NOW)
    db.session.add(held)
    for position, family in enumerate((outgrown, next_in_line, third), start=1):
        db.session.add(Enrollment(group_id=group.id, family_id=family.id,
                                  members=members_named(family, ("Anna", "Eeli", "Aino")
                                                        if family is outgrown
                                                        else ("Anna", "Eeli")),
                                  status="waitlisted", position=position, requested_at=NOW))
    db.session.commit()
    response = client.delete(f"/api/v1/enrollments/{held.id}", headers=bearer(coordinator))
    assert [entry["family_id"] for entry in response.get_json()["promoted"]] == \
        [next_in_line.id]
    db.session.expire_all()
    waiting = {entry.family_id: entry.position for entry in group_enrollment.waiting_list(group)}
    assert waiting == {outgrown.id: 1, third.id: 2}


def test_changing_who_attends_answers_as_the_rule(app, coordinator, group, families, clock):
    disagreements = []
    for status, track, plan, household, chosen in CASES:
        family = families[status, track, plan, household]
        enrollment = Enrollment(group_id=group.id, family_id=family.id, members=[],
                                status="enrolled", requested_at=NOW, enrolled_at=NOW)
        db.session.add(enrollment)
        db.session.commit()
        code = rule_says(group, family, chosen)
        try:
            group_enrollment.change_members(coordinator, enrollment,
                                            [member.id for member in members_named(family, chosen)],
                                            clock=clock, zone=HELSINKI)
            answer = None
        except DomainError as error:
            answer = error.code
        if answer != code:
            disagreements.append((status, track, plan, household, chosen, answer, code))
        db.session.rollback()
        clear(group)
    assert disagreements == []


# --- matching ---------------------------------------------------------------------

def test_scoring_agrees_with_the_rule_over_generated_families(app, coordinator,
                                                              social_worker, clock):
    """Random families against groups of random ages and tracks: matching finds a
    family eligible exactly when the rule lets it in with the members matching
    would send (its guardians and its children of the group's ages)."""
    rng = random.Random(16)
    made_groups = [make_group(coordinator, capacity=5, name=f"Ryhmä {low}-{high}",
                              min_age_months=low, max_age_months=high,
                              tracks=tracks)
                   for low, high, tracks in ((0, 12, ("preventive",)),
                                             (6, 36, ("preventive", "child_protection")),
                                             (24, 84, ("child_protection",)),
                                             (60, 216, ("preventive", "child_protection")))]
    checked = 0
    for _ in range(40):
        track = rng.choice(TRACKS)
        plan = rng.choice(PLANS)
        children = [{"role": "child", "first_name": f"Lapsi{index}",
                     "birth_date": FIRST_DAY - timedelta(days=rng.randint(20, 17 * 365))}
                    for index in range(rng.randint(1, 3))]
        family = make_family(coordinator, track=track, social_worker=social_worker,
                             members=[dict(GUARDIAN), *children])
        if plan is not None:
            family.plan = Plan(goals=["parenthood"], content="", agreed_with="Anna",
                               start_date=date(2026, 11, 20), review_date=date(2027, 2, 20),
                               social_worker_participated=plan, created_at=NOW,
                               updated_at=NOW)
        family.status = rng.choice(STATUSES)
        db.session.commit()
        matches = {match.group_id: match
                   for match in matching.group_matches(coordinator, family, now=NOW,
                                                       zone=HELSINKI)}
        for group in made_groups:
            try:
                group_enrollment.check_eligible(group, family, now=NOW, zone=HELSINKI)
                fits = True
            except DomainError:
                fits = False
            assert matches[group.id].eligible == fits, (
                family.status, track, plan, [c["birth_date"] for c in children],
                group.min_age_months, group.max_age_months, group.tracks)
            checked += 1
    assert checked == 160


def test_an_accepted_proposal_is_enrolled_only_while_the_family_fits(client, coordinator,
                                                                     social_worker, clock):
    """A proposal made while the family fitted, accepted after it was moved to child
    protection without the social worker's participation in its plan: refused."""
    group = make_group(coordinator, capacity=5, min_age_months=0, max_age_months=36)
    family = make_family(coordinator, plan=True, social_worker=social_worker,
                         members=[dict(GUARDIAN), dict(TODDLER), dict(OLDER)])
    family.status = "active"
    db.session.commit()
    proposal = matching.propose(coordinator, municipalities=("Mikkeli",), now=NOW,
                                zone=HELSINKI)
    db.session.commit()
    item = next(item for item in proposal.items if item.family_id == family.id)
    assert item.group_id == group.id
    names = {member.id: member.first_name for member in family.members}
    assert sorted(names[member_id] for member_id in item.member_ids) == ["Anna", "Eeli"]
    family_services.update_family(coordinator, family, {
        "track": "child_protection", "referral_source": "social_worker",
        "responsible_social_worker_id": social_worker.id}, clock=clock)
    db.session.commit()
    assert family.status == "planning"
    acceptance = matching.accept(coordinator, proposal, now=NOW, zone=HELSINKI)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Enrollment.id))) == 0
    if acceptance.stale:  # the family changed: the new proposal leaves it out
        assert all(entry.group_id is None for entry in acceptance.replacement.items
                   if entry.family_id == family.id)
    else:
        assert item.status == "failed"
