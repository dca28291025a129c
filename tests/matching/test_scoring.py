"""The batch scorer gives exactly the matches of the straightforward per-pair rules.

``reference_evaluate`` below is the scoring as it was first written, one pair
at a time in plain Python; it lives only here, as the specification the
vectorised scorer in matching/scoring.py is checked against.
"""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calendars.conflicts import distance_km
from matching.scoring import (
    Criterion,
    Families,
    FamilyFacts,
    GroupFacts,
    Groups,
    Match,
    Weights,
    age_in_months,
    evaluate,
    score_pairs,
)

# --- the reference: the per-pair rules in plain Python ---------------------------


def _excluded(family, group, rule, **params) -> Match:
    return Match(family.id, group.id, False, rule=rule, rule_params=params)


def clashing_sessions(family: FamilyFacts, group: GroupFacts) -> int:
    count = 0
    for day, start, end, _opens, _closes in group.sessions:
        visits = family.visits_by_day.get(day)
        if visits and any(v_start < end and start < v_end for v_start, v_end in visits):
            count += 1
    return count


def reference_evaluate(family: FamilyFacts, group: GroupFacts, weights: Weights,
                       places: dict[int, tuple[float, float]]) -> Match:
    if not family.has_plan:
        return _excluded(family, group, "plan_required")
    if family.track not in group.tracks:
        return _excluded(family, group, "track_not_allowed", track=family.track)
    if family.municipality_id not in group.municipality_ids:
        return _excluded(family, group, "municipality_not_served")
    if group.language not in family.languages:
        return _excluded(family, group, "no_shared_language", language=group.language)
    if group.id in family.groups_taken:
        return _excluded(family, group, "already_in_group")
    if not group.open or group.first_day is None:
        return _excluded(family, group, "group_not_open")
    ages = [age_in_months(born, group.first_day) for born in family.birth_dates]
    in_range = [age for age in ages if group.min_age_months <= age <= group.max_age_months]
    if not in_range:
        return _excluded(family, group, "no_child_in_age_range",
                         low=group.min_age_months, high=group.max_age_months,
                         day=group.first_day.isoformat())
    clashes = clashing_sessions(family, group)
    sessions = len(group.sessions)
    if sessions and clashes / sessions > weights.max_clash_share:
        return _excluded(family, group, "too_many_clashes", clashes=clashes,
                         sessions=sessions, limit=round(weights.max_clash_share * 100))

    criteria = (
        _goals(family, group, weights),
        _distance(family, group, weights, places),
        _age(in_range, group, weights),
        _timing(family, group, weights, clashes, sessions),
        _waiting(family, group, weights),
    )
    total = round(sum(criterion.points for criterion in criteria) * 10)
    return Match(family.id, group.id, True, score_tenths=total, criteria=criteria)


def _goals(family, group, weights) -> Criterion:
    covered = len(set(family.goals) & group.themes)
    total = len(family.goals)
    maximum = weights.share("goals")
    return Criterion("goals", maximum * covered / total if total else 0, maximum,
                     {"covered": covered, "total": total})


def _distance(family, group, weights, places) -> Criterion:
    maximum = weights.share("distance")
    meets_in = group.meets_in if group.meets_in is not None else family.municipality_id
    if meets_in == family.municipality_id:
        return Criterion("distance", maximum, maximum, {"km": 0, "same": True})
    km = distance_km(places[family.municipality_id], places[meets_in])
    fraction = max(0.0, 1 - km / weights.distance_zero_km)
    return Criterion("distance", maximum * fraction, maximum,
                     {"km": round(km), "same": False})


def _age(ages, group, weights) -> Criterion:
    maximum = weights.share("age")
    middle = (group.min_age_months + group.max_age_months) / 2
    half = max((group.max_age_months - group.min_age_months) / 2, 1)
    best = min(ages, key=lambda age: (abs(age - middle), age))
    fraction = max(0.0, 1 - abs(best - middle) / half)
    return Criterion("age", maximum * fraction, maximum,
                     {"age": best, "low": group.min_age_months, "high": group.max_age_months})


def _timing(family, group, weights, clashes, sessions) -> Criterion:
    maximum = weights.share("timing")
    if not sessions:
        return Criterion("timing", 0, maximum, {"clashes": 0, "sessions": 0,
                                                "inside": None, "weekday": None})
    free_share = 1 - clashes / sessions
    inside = None
    preferred_share = 0.5
    if family.availability:
        inside = sum(1 for day, _start, _end, opens, closes in group.sessions
                     if any(weekday == day.isoweekday() and begin <= opens
                            and closes <= finish
                            for weekday, begin, finish in family.availability))
        preferred_share = inside / sessions
    fraction = 0.5 * free_share + 0.5 * preferred_share
    return Criterion("timing", maximum * fraction, maximum,
                     {"clashes": clashes, "sessions": sessions, "inside": inside,
                      "weekday": group.weekday})


def _waiting(family, group, weights) -> Criterion:
    maximum = weights.share("waiting")
    today = group.first_day or family.waiting_since
    days = max((today - family.waiting_since).days, 0)
    fraction = min(1.0, days / weights.waiting_full_days) if weights.waiting_full_days else 1
    return Criterion("waiting", maximum * fraction, maximum, {"days": days})


# --- random facts ----------------------------------------------------------------

PLACES = {1: (61.69, 27.27), 2: (61.50, 27.40), 3: (61.80, 26.80), 4: (62.10, 28.00)}
AREAS = ("parenthood", "everyday_routines", "parent_child_relationship", "interaction",
         "positive_upbringing", "family_resources", "networks")
TRACKS = ("preventive", "child_protection")
LANGUAGES = ("fi", "sv", "en")
DAY_ONE = date(2026, 12, 1)
BASE = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)

municipality = st.sampled_from(sorted(PLACES))
clock_times = st.integers(0, 23 * 4).map(lambda quarter: time(quarter // 4, 15 * (quarter % 4)))


@st.composite
def sessions(draw):
    """Weekly-ish sessions ahead: (local day, start, end, local start, local end)."""
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        offset = draw(st.integers(0, 40))
        hour = draw(st.integers(8, 19))
        minutes = draw(st.sampled_from((60, 90, 120)))
        start = BASE + timedelta(days=offset, hours=hour - 8)
        opens = time(hour, 0)
        closes = (datetime.combine(DAY_ONE, opens) + timedelta(minutes=minutes)).time()
        rows.append((DAY_ONE + timedelta(days=offset), start,
                     start + timedelta(minutes=minutes), opens, closes))
    return tuple(sorted(rows, key=lambda row: row[1]))


@st.composite
def groups(draw, group_id):
    ahead = draw(sessions())
    low = draw(st.integers(0, 96))
    first_day = ahead[0][0] if ahead else None
    if draw(st.sampled_from((False,) * 9 + (True,))):  # facts need not agree
        first_day = draw(st.none() | st.dates(date(2026, 11, 1), date(2027, 3, 1)))
    return GroupFacts(
        id=group_id, name=f"Ryhmä {group_id}", open=draw(st.sampled_from((True,) * 9 + (False,))),
        tracks=frozenset(draw(st.just(TRACKS) | st.sets(st.sampled_from(TRACKS), min_size=1))),
        language=draw(st.sampled_from(("fi", "fi", "fi", *LANGUAGES))),
        municipality_ids=frozenset(draw(st.sets(municipality, min_size=1)
                                        | st.just({1, 2}))),
        meets_in=draw(st.none() | municipality),
        themes=frozenset(draw(st.sets(st.sampled_from(AREAS), max_size=4))),
        min_age_months=low, max_age_months=low + draw(st.integers(-2, 72)),
        free_seats=draw(st.integers(0, 15)), first_day=first_day,
        weekday=ahead[0][0].isoweekday() if ahead else None, sessions=ahead)


@st.composite
def families(draw, family_id, group_list, session_rows):
    group_ids = [group.id for group in group_list]
    visits = {}
    for _ in range(draw(st.integers(0, 4)) if draw(st.booleans()) else 0):
        if session_rows and draw(st.integers(0, 3)) > 0:
            # Near one of the sessions: on its day, overlapping it or not.
            day, session_start, *_ = draw(st.sampled_from(session_rows))
            start = session_start + timedelta(minutes=draw(st.integers(-4, 4)) * 30)
        else:
            day = draw(st.dates(date(2026, 11, 30), date(2027, 1, 20)))
            start = datetime.combine(day, time(draw(st.integers(6, 20)), draw(
                st.sampled_from((0, 30)))), tzinfo=UTC)
        span = (start, start + timedelta(minutes=draw(st.sampled_from((30, 60, 120)))))
        visits.setdefault(day, []).append(span)
    availability = tuple(
        (draw(st.integers(1, 7)), *sorted((draw(clock_times), draw(clock_times))))
        for _ in range(draw(st.integers(0, 3)) if draw(st.booleans()) else 0))
    family = FamilyFacts(
        id=family_id, reference=f"PT-{family_id}", track=draw(st.sampled_from(TRACKS)),
        municipality_id=draw(st.sampled_from((1, 1, 2)) | municipality),
        languages=frozenset(draw(st.sampled_from(({"fi"}, {"fi"}, {"fi", "sv"}))
                                 | st.sets(st.sampled_from(LANGUAGES), max_size=2))),
        has_plan=draw(st.sampled_from((True,) * 9 + (False,))),
        goals=tuple(draw(st.lists(st.sampled_from(AREAS), max_size=4))),
        birth_dates=tuple(draw(st.lists(st.dates(date(2016, 1, 1), date(2027, 1, 31)),
                                        max_size=4))),
        waiting_since=draw(st.dates(date(2025, 6, 1), date(2027, 1, 31))),
        availability=availability,
        visits_by_day={day: tuple(spans) for day, spans in visits.items()},
        groups_taken=frozenset(draw(st.sampled_from((set(), set(), set()))
                                    | st.sets(st.sampled_from(group_ids), max_size=2))))
    if draw(st.sampled_from((True, True, False))):
        # Most families are made to fit one of the groups, rules 1-6 at least.
        target = draw(st.sampled_from(group_list))
        child = []
        if target.first_day:
            age = draw(st.integers(target.min_age_months - 2, target.max_age_months + 2))
            child = [target.first_day - timedelta(days=round(age * 30.44)
                                                   + draw(st.integers(-20, 20)))]
        family = replace(
            family, has_plan=True, track=draw(st.sampled_from(sorted(target.tracks))),
            municipality_id=draw(st.sampled_from(sorted(target.municipality_ids))),
            languages=family.languages | {target.language},
            groups_taken=family.groups_taken - {target.id},
            birth_dates=(*family.birth_dates[:2], *child))
    return family


weights = st.builds(
    Weights, goals=st.sampled_from((35, 0, 10.5)), distance=st.sampled_from((15, 0, 30)),
    age=st.sampled_from((20, 5)), timing=st.sampled_from((15, 0, 25)),
    waiting=st.sampled_from((15, 40)), max_clash_share=st.sampled_from((0.2, 0, 0.5, 1)),
    waiting_full_days=st.sampled_from((180, 0, 30)),
    distance_zero_km=st.sampled_from((80, 20.5, 200)))


@st.composite
def instances(draw):
    group_ids = list(range(101, 101 + draw(st.integers(1, 5))))
    group_list = [draw(groups(group_id)) for group_id in group_ids]
    session_rows = [row for group in group_list for row in group.sessions]
    family_list = [draw(families(family_id, group_list, session_rows))
                   for family_id in range(1, 1 + draw(st.integers(1, 6)))]
    return family_list, group_list, draw(weights)


def assert_same(match: Match, expected: Match):
    assert (match.family_id, match.group_id) == (expected.family_id, expected.group_id)
    assert match.eligible == expected.eligible
    assert match.rule == expected.rule
    assert match.rule_params == expected.rule_params
    assert match.score_tenths == expected.score_tenths
    assert len(match.criteria) == len(expected.criteria)
    for criterion, reference in zip(match.criteria, expected.criteria, strict=True):
        assert criterion.code == reference.code
        assert criterion.params == reference.params
        assert type(criterion.params.get("km", 0)) is type(reference.params.get("km", 0))
        assert criterion.points == pytest.approx(reference.points, abs=1e-9)
        assert criterion.maximum == pytest.approx(reference.maximum, abs=1e-9)
        assert criterion.as_dict() == reference.as_dict()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_the_batch_scorer_matches_the_reference(instance):
    family_list, group_list, policy = instance
    pairs = [(f, g) for f in range(len(family_list)) for g in range(len(group_list))]
    scores = score_pairs(Families.from_facts(family_list), Groups.from_facts(group_list),
                         np.array([f for f, _ in pairs]), np.array([g for _, g in pairs]),
                         policy, PLACES)
    for k, (f, g) in enumerate(pairs):
        expected = reference_evaluate(family_list[f], group_list[g], policy, PLACES)
        assert_same(scores.match(k), expected)
        # A single pair goes the same way.
        assert_same(evaluate(family_list[f], group_list[g], policy, PLACES), expected)


def test_families_round_trip_through_columns():
    family = FamilyFacts(
        id=7, reference="PT-7", track="preventive", municipality_id=1,
        languages=frozenset({"fi"}), has_plan=True, goals=("parenthood",),
        birth_dates=(date(2024, 5, 10),), waiting_since=date(2026, 11, 2),
        availability=((2, time(16), time(20)),),
        visits_by_day={DAY_ONE: ((BASE, BASE + timedelta(hours=1)),)},
        groups_taken=frozenset({3}))
    assert Families.from_facts([family]).facts() == [family]
