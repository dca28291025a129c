"""Matching: the hard rules, the explained score, ranked lists and proposals."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale

from calendars.models import HomeVisit
from core.errors import Forbidden
from extensions import db
from families.models import AvailabilityWindow
from groups import enrollment as group_enrollment
from groups.models import Enrollment
from matching import services
from matching.explain import MatchSchema, criterion_text, rule_text
from matching.models import Proposal
from tests.conftest import NOW, make_family, make_group, make_user

HELSINKI = ZoneInfo("Europe/Helsinki")

TODDLERS = [{"role": "guardian", "first_name": "Anna"},
            {"role": "child", "first_name": "Eeli", "birth_date": date(2025, 1, 10)}]


def family_with(coordinator, **overrides):
    arguments = {"members": TODDLERS, "plan": True}
    arguments.update(overrides)
    return make_family(coordinator, **arguments)


def by_group(matches):
    return {match.group_id: match for match in matches}


def test_an_eligible_pair_is_scored_and_explained(app, coordinator):
    group = make_group(coordinator, min_age_months=12, max_age_months=36)
    family = family_with(coordinator)  # plan goals: parenthood, everyday_routines
    match = by_group(services.group_matches(coordinator, family, now=NOW,
                                            zone=HELSINKI))[group.id]
    assert match.eligible
    parts = {criterion.code: criterion for criterion in match.criteria}
    assert parts["goals"].params == {"covered": 1, "total": 2}
    assert parts["goals"].points == pytest.approx(17.5)
    assert parts["distance"].points == parts["distance"].maximum == 15
    assert parts["age"].params == {"age": 22, "low": 12, "high": 36}
    assert parts["waiting"].params == {"days": 29}  # referred 2 Nov, first session 1 Dec
    assert 0 < match.score <= 100
    assert match.score_tenths == round(sum(c.points for c in match.criteria) * 10)
    with force_locale("en"):
        assert criterion_text(parts["goals"].as_dict()) == "1 of 2 plan goals covered"
        assert criterion_text(parts["age"].as_dict()) == \
            "child 22 months, range 12–36 months"


@pytest.mark.parametrize(("setup", "rule"), [
    ({"plan": False}, "plan_required"),
    ({"municipality": "Puumala"}, "municipality_not_served"),
    ({"members": [{"role": "child", "first_name": "Ville",
                   "birth_date": date(2015, 1, 1)}]}, "no_child_in_age_range"),
])
def test_each_hard_rule_excludes_with_its_reason(app, coordinator, setup, rule):
    make_group(coordinator, max_age_months=36)
    registrar = make_user("coordinator", municipalities=("Mikkeli", "Puumala"))
    family = family_with(registrar, **setup)
    [match] = services.group_matches(registrar, family, now=NOW, zone=HELSINKI)
    assert not match.eligible and match.rule == rule
    assert MatchSchema().dump(match)["text"]


def test_track_language_and_taken_rules(app, coordinator, social_worker, clock):
    group = make_group(coordinator, tracks=("preventive",))
    protected = family_with(coordinator, track="child_protection",
                            social_worker=social_worker)
    assert services.group_matches(coordinator, protected, now=NOW, zone=HELSINKI)[0].rule \
        == "track_not_allowed"
    swedish = family_with(coordinator)
    swedish.languages = ["sv"]
    db.session.commit()
    assert services.group_matches(coordinator, swedish, now=NOW, zone=HELSINKI)[0].rule \
        == "no_shared_language"
    placed = family_with(coordinator)
    group_enrollment.enroll(coordinator, group, placed, [m.id for m in placed.members],
                            zone=HELSINKI, clock=clock)
    db.session.commit()
    assert services.group_matches(coordinator, placed, now=NOW, zone=HELSINKI)[0].rule \
        == "already_in_group"


def test_too_many_clashes_with_home_visits_excludes(app, coordinator):
    worker = make_user("family_worker")
    make_group(coordinator, count=4)  # Tuesdays 1-22 Dec at 17:00
    family = family_with(coordinator, workers=[worker])
    for day in (1, 8):
        start = datetime(2026, 12, day, 17, 30, tzinfo=HELSINKI)
        db.session.add(HomeVisit(family=family, kind="home_visit", start=start,
                                 end=start + timedelta(hours=1),
                                 municipality=family.municipality, workers=[worker],
                                 created_at=NOW, updated_at=NOW))
    db.session.commit()
    [match] = services.group_matches(coordinator, family, now=NOW, zone=HELSINKI)
    assert match.rule == "too_many_clashes"
    assert match.rule_params == {"clashes": 2, "sessions": 4, "limit": 20}


def test_preferred_hours_raise_the_timing_points(app, coordinator):
    group = make_group(coordinator)
    plain = family_with(coordinator)
    evening = family_with(coordinator)
    evening.availability.append(AvailabilityWindow(weekday=2, start_time=time(16),
                                                   end_time=time(20)))
    db.session.commit()
    points = {}
    for family in (plain, evening):
        match = by_group(services.group_matches(coordinator, family, now=NOW,
                                                zone=HELSINKI))[group.id]
        points[family.id] = {c.code: c for c in match.criteria}["timing"]
    assert points[evening.id].points > points[plain.id].points
    assert points[evening.id].params["inside"] == 8


def test_ranked_lists_put_the_best_first(app, coordinator):
    near = make_group(coordinator, name="Lähellä", max_age_months=36)
    make_group(coordinator, name="Isommille", min_age_months=48, max_age_months=96)
    family = family_with(coordinator)
    matches = services.group_matches(coordinator, family, now=NOW, zone=HELSINKI)
    assert matches[0].group_id == near.id and matches[0].eligible
    assert not matches[-1].eligible

    others = [family_with(coordinator) for _ in range(2)]
    waiting = services.family_matches(coordinator, near, now=NOW, zone=HELSINKI)
    assert {m.family_id for m in waiting} == {family.id, *(f.id for f in others)}
    assert [m.score_tenths for m in waiting] == sorted(
        (m.score_tenths for m in waiting), reverse=True)


def test_family_matches_are_for_organisers(app, coordinator, family_worker):
    group = make_group(coordinator)
    with pytest.raises(Forbidden):
        services.family_matches(family_worker, group, now=NOW, zone=HELSINKI)


# --- proposals -------------------------------------------------------------

def test_a_proposal_respects_eligibility_and_capacity(app, coordinator):
    small = make_group(coordinator, name="Pieni", capacity=2, max_age_months=36)
    other = make_group(coordinator, name="Toinen", capacity=1, max_age_months=36)
    families = [family_with(coordinator) for _ in range(5)]
    older = family_with(coordinator, members=[
        {"role": "child", "first_name": "Ville", "birth_date": date(2015, 1, 1)}])

    proposal = services.propose(coordinator, now=NOW, zone=HELSINKI)
    db.session.commit()
    placed = [item for item in proposal.items if item.group_id]
    assert len(placed) == 3
    assert sum(item.group_id == small.id for item in placed) <= 2
    assert sum(item.group_id == other.id for item in placed) <= 1
    left = {item.family_id: item.explanation["rule"] for item in proposal.items
            if not item.group_id}
    assert left[older.id] == "no_child_in_age_range"
    assert sorted(rule for family_id, rule in left.items() if family_id != older.id) == \
        ["groups_full", "groups_full"]
    assert proposal.total_score_tenths == sum(item.score_tenths for item in placed)
    assert {f.id for f in families} >= {item.family_id for item in placed}


def test_accepting_enrolls_through_the_groups_service(app, coordinator):
    group = make_group(coordinator, capacity=3, max_age_months=36)
    families = [family_with(coordinator) for _ in range(2)]
    proposal = services.propose(coordinator, now=NOW, zone=HELSINKI)
    db.session.commit()
    result = services.accept(coordinator, proposal, now=NOW, zone=HELSINKI)
    db.session.commit()
    assert not result.stale and proposal.status == "accepted"
    enrolled = db.session.scalars(db.select(Enrollment).where(
        Enrollment.group_id == group.id)).all()
    assert {e.family_id for e in enrolled} == {f.id for f in families}
    assert all(e.status == "enrolled" for e in enrolled)
    # The guardian and the toddler attend.
    assert all(len(e.members) == 2 for e in enrolled)


def test_accepting_some_rejects_the_rest(app, coordinator):
    make_group(coordinator, capacity=3, max_age_months=36)
    for _ in range(3):
        family_with(coordinator)
    proposal = services.propose(coordinator, now=NOW, zone=HELSINKI)
    db.session.commit()
    first = [item for item in proposal.items if item.group_id][0]
    services.accept(coordinator, proposal, [first.id], now=NOW, zone=HELSINKI)
    assert proposal.status == "partly_accepted"
    assert sorted(item.status for item in proposal.items) == [
        "accepted", "rejected", "rejected"]


def test_a_stale_proposal_is_recomputed_not_applied(app, coordinator, clock):
    group = make_group(coordinator, capacity=2, max_age_months=36)
    families = [family_with(coordinator) for _ in range(2)]
    proposal = services.propose(coordinator, now=NOW, zone=HELSINKI)
    db.session.commit()
    # Someone places a family by hand meanwhile.
    group_enrollment.enroll(coordinator, group, families[0], [m.id for m in families[0].members],
                            zone=HELSINKI, clock=clock)
    db.session.commit()

    result = services.accept(coordinator, proposal, now=NOW, zone=HELSINKI)
    db.session.commit()
    assert result.stale and proposal.status == "stale"
    assert db.session.scalar(db.select(db.func.count(Enrollment.id))) == 1
    fresh = result.replacement
    assert [item.family_id for item in fresh.items if item.group_id] == [families[1].id]


def test_only_coordinators_propose(app, family_worker):
    with pytest.raises(Forbidden):
        services.propose(family_worker, now=NOW, zone=HELSINKI)


def test_explanations_in_both_languages(app, coordinator):
    with force_locale("fi"):
        finnish = criterion_text({"criterion": "goals", "points": 1, "max": 2,
                                  "params": {"covered": 2, "total": 3}})
        rule_fi = rule_text("plan_required")
    with force_locale("en"):
        english = criterion_text({"criterion": "goals", "points": 1, "max": 2,
                                  "params": {"covered": 2, "total": 3}})
    assert english == "2 of 3 plan goals covered"
    assert finnish != english and "2" in finnish and "3" in finnish
    assert rule_fi != "The family has no plan yet."


def test_proposals_are_stored(app, coordinator):
    make_group(coordinator, max_age_months=36)
    family_with(coordinator)
    proposal = services.propose(coordinator, now=NOW, zone=HELSINKI)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Proposal, proposal.id)
    assert stored.status == "open" and stored.items and services.is_current(stored)


def test_coordinators_see_only_proposals_for_their_municipalities(app, coordinator):
    from core.errors import NotFound

    make_group(coordinator, max_age_months=36)
    proposal = services.propose(coordinator, now=NOW, zone=HELSINKI)
    db.session.commit()
    elsewhere = make_user("coordinator", municipalities=("Puumala",))
    with pytest.raises(NotFound):
        services.get_proposal(elsewhere, proposal.id)
    assert services.list_proposals(elsewhere) == []
    assert [s.proposal.id for s in services.list_proposals(coordinator)] == [proposal.id]
    with pytest.raises(Forbidden):
        services.propose(elsewhere, municipalities=["Mikkeli"], now=NOW, zone=HELSINKI)


def test_recomputing_marks_the_old_proposal_stale(app, coordinator):
    make_group(coordinator, max_age_months=36)
    family_with(coordinator)
    old = services.propose(coordinator, now=NOW, zone=HELSINKI)
    fresh = services.recompute(coordinator, old, now=NOW, zone=HELSINKI)
    assert old.status == "stale" and fresh.status == "open" and fresh.id != old.id
