"""The batch scorer's hard rules agree with the one eligibility rule, pair by pair.

``matching.scoring.score_pairs`` applies the rules of ``groups.eligibility``
column by column with numpy; this draws many families and groups at random
(statuses, enrollment windows, tracks, municipalities, languages, plans, age
ranges and children's birth dates, first sessions) and asks both, for every
pair, why it is excluded.
"""

from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.localtime import age_in_months
from core.vocabulary import GROUP_STATUSES, TRACKS
from groups import eligibility
from matching.scoring import (
    RULES,
    Families,
    FamilyFacts,
    GroupFacts,
    Groups,
    Weights,
    score_pairs,
)

TODAY = date(2026, 12, 1)
LANGUAGE_CODES = ("fi", "sv", "en")
MUNICIPALITY_IDS = (1, 2, 3)
# What the families' booking rule may answer for a group seat.
BOOKING_REFUSALS = (None, None, None, "family_closed", "plan_required",
                    "social_worker_participation_required")
# The one rule's reasons as the scorer names them: it folds the group's
# status, its enrollment window and its calendar into one, and every booking
# refusal into "plan_required".
SCORER_NAMES = {
    eligibility.GROUP_NOT_OPEN: "group_not_open",
    eligibility.ENROLLMENT_CLOSED: "group_not_open",
    eligibility.NO_UPCOMING_SESSIONS: "group_not_open",
    **{code: "plan_required" for code in BOOKING_REFUSALS if code},
}


def days_around(today: date, before: int, after: int):
    return st.integers(-before, after).map(lambda days: today + timedelta(days=days))


families = st.builds(
    eligibility.FamilyTerms,
    track=st.sampled_from(tuple(TRACKS)),
    municipality_id=st.sampled_from(MUNICIPALITY_IDS),
    languages=st.frozensets(st.sampled_from(LANGUAGE_CODES), max_size=3),
    child_birth_dates=st.lists(days_around(TODAY, 18 * 366, 200), max_size=4).map(tuple),
    booking_refusal=st.sampled_from(BOOKING_REFUSALS),
)


@st.composite
def groups(draw):
    low = draw(st.integers(0, 120))
    return eligibility.GroupTerms(
        status=draw(st.sampled_from(tuple(GROUP_STATUSES))),
        tracks=draw(st.frozensets(st.sampled_from(tuple(TRACKS)), min_size=1)),
        language=draw(st.sampled_from(LANGUAGE_CODES)),
        municipality_ids=draw(st.frozensets(st.sampled_from(MUNICIPALITY_IDS), min_size=1)),
        min_age_months=low,
        max_age_months=draw(st.integers(low, 216)),
        first_day=draw(st.none() | days_around(TODAY, 0, 120)),
        enrollment_opens=draw(st.none() | days_around(TODAY, 60, 30)),
        enrollment_closes=draw(st.none() | days_around(TODAY, 30, 90)),
    )


def family_facts(index: int, terms: eligibility.FamilyTerms) -> FamilyFacts:
    return FamilyFacts(
        id=index, reference=f"PT-{index}", track=terms.track,
        municipality_id=terms.municipality_id, languages=terms.languages,
        has_plan=terms.booking_refusal is None, goals=(),
        birth_dates=terms.child_birth_dates, waiting_since=TODAY - timedelta(days=30))


def group_facts(index: int, terms: eligibility.GroupTerms) -> GroupFacts:
    sessions = ()
    if terms.first_day is not None:
        start = datetime.combine(terms.first_day, time(15), tzinfo=UTC)
        sessions = ((terms.first_day, start, start + timedelta(minutes=90),
                     time(17), time(18, 30)),)
    # Built as matching.data builds it: taking families today, with a session ahead.
    taking = eligibility.takes_families(terms, TODAY) is None
    return GroupFacts(
        id=index, name=f"Group {index}", open=taking and terms.first_day is not None,
        tracks=terms.tracks, language=terms.language,
        municipality_ids=terms.municipality_ids, meets_in=None, themes=frozenset(),
        min_age_months=terms.min_age_months, max_age_months=terms.max_age_months,
        free_seats=5, first_day=terms.first_day,
        weekday=terms.first_day.isoweekday() if terms.first_day else None,
        sessions=sessions)


def expected_rule(family: eligibility.FamilyTerms, group: eligibility.GroupTerms):
    """The scorer's name of the first reason, in the scorer's order of rules."""
    reasons = {SCORER_NAMES.get(reason, reason)
               for reason in eligibility.refusals(family, group, TODAY, proposal=True)}
    return min(reasons, key=RULES.index) if reasons else None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(families, min_size=1, max_size=12), st.lists(groups(), min_size=1, max_size=6))
def test_the_scorer_excludes_exactly_the_pairs_the_rule_refuses(family_terms, group_terms):
    pairs = [(f, g) for f in range(len(family_terms)) for g in range(len(group_terms))]
    scores = score_pairs(
        Families.from_facts([family_facts(i, t) for i, t in enumerate(family_terms)]),
        Groups.from_facts([group_facts(i, t) for i, t in enumerate(group_terms)]),
        np.array([f for f, _ in pairs], dtype=np.int64),
        np.array([g for _, g in pairs], dtype=np.int64), Weights(), places={})
    for k, (f, g) in enumerate(pairs):
        assert scores.rule_code(k) == expected_rule(family_terms[f], group_terms[g]), (
            family_terms[f], group_terms[g])


@settings(max_examples=300, deadline=None)
@given(st.dates(date(1990, 1, 1), date(2040, 12, 31)),
       st.dates(date(1990, 1, 1), date(2040, 12, 31)))
def test_the_scorer_counts_age_in_months_as_the_one_function(born, on):
    """A one-child family against a group whose range is exactly the child's age."""
    age = age_in_months(born, on)
    family = eligibility.FamilyTerms(track="preventive", municipality_id=1,
                                     languages=frozenset({"fi"}), child_birth_dates=(born,))
    for low, high, fits in ((age, age, True), (age + 1, age + 2, False),
                            (age - 2, age - 1, False)):
        if low < 0:
            continue
        group = eligibility.GroupTerms(
            status="open", tracks=frozenset({"preventive"}), language="fi",
            municipality_ids=frozenset({1}), min_age_months=low, max_age_months=high,
            first_day=on)
        scores = score_pairs(Families.from_facts([family_facts(0, family)]),
                             Groups.from_facts([group_facts(0, group)]),
                             np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64),
                             Weights(), places={})
        assert (scores.rule_code(0) is None) == fits
        assert eligibility.refusal(family, group, on, proposal=True) == (
            None if fits else eligibility.NO_CHILD_IN_AGE_RANGE)
