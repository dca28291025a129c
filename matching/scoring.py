"""Whether a family fits a group, and how well: hard rules, then a 0-100 score.

Pure functions over plain facts (``FamilyFacts``, ``GroupFacts``), so that a
bulk run can score hundreds of thousands of pairs without touching the
database, and every score comes with the explanation of its parts.
"""

from dataclasses import dataclass, field
from datetime import date

from calendars.conflicts import distance_km

CRITERIA = ("goals", "distance", "age", "timing", "waiting")


@dataclass(frozen=True)
class Weights:
    """What the score is made of; an admin sets them (matching.models.MatchingPolicy)."""

    goals: float = 35
    distance: float = 15
    age: float = 20
    timing: float = 15
    waiting: float = 15
    # A group whose sessions clash with more than this share of the family's
    # booked home visits is not offered at all.
    max_clash_share: float = 0.2
    # Waiting counts fully from this many days on (fairness, saturating).
    waiting_full_days: int = 180
    # Distance counts nothing from this many kilometres on.
    distance_zero_km: float = 80

    def share(self, criterion: str) -> float:
        """A criterion's maximum points out of 100."""
        total = sum(getattr(self, name) for name in CRITERIA)
        return 100 * getattr(self, criterion) / total if total else 0


@dataclass(frozen=True)
class GroupFacts:
    id: int
    name: str
    open: bool
    tracks: frozenset
    language: str
    municipality_ids: frozenset
    meets_in: int | None              # the venue's municipality
    themes: frozenset
    min_age_months: int
    max_age_months: int
    free_places: int
    first_day: date | None            # of the first session ahead
    weekday: int | None               # ISO weekday of most sessions
    # Sessions ahead: (local date, start, end, local start time, local end time),
    # start and end as aware instants.
    sessions: tuple = ()


@dataclass(frozen=True)
class FamilyFacts:
    id: int
    reference: str
    track: str
    municipality_id: int
    languages: frozenset
    has_plan: bool
    goals: tuple
    birth_dates: tuple                # of the children
    waiting_since: date
    # (weekday, start time, end time) when the family prefers to meet.
    availability: tuple = ()
    # Booked home visits ahead by local date: {date: ((start, end), ...)}.
    visits_by_day: dict = field(default_factory=dict)
    # Groups the family has a place in, waits for, or finished.
    groups_taken: frozenset = frozenset()


@dataclass(frozen=True)
class Criterion:
    """One part of a score: its points, its maximum, and what it is based on."""

    code: str
    points: float
    maximum: float
    params: dict

    def as_dict(self) -> dict:
        return {"criterion": self.code, "points": round(self.points, 1),
                "max": round(self.maximum, 1), "params": self.params}


@dataclass(frozen=True)
class Match:
    """A family against a group: eligible with a score, or the rule that excludes it."""

    family_id: int
    group_id: int
    eligible: bool
    score_tenths: int = 0
    criteria: tuple = ()
    rule: str | None = None
    rule_params: dict = field(default_factory=dict)

    @property
    def score(self) -> float:
        return self.score_tenths / 10


def age_in_months(born: date, on: date) -> int:
    months = (on.year - born.year) * 12 + on.month - born.month
    return months - 1 if on.day < born.day else months


def _excluded(family, group, rule, **params) -> Match:
    return Match(family.id, group.id, False, rule=rule, rule_params=params)


def clashing_sessions(family: FamilyFacts, group: GroupFacts) -> int:
    """How many of the group's sessions ahead overlap a booked home visit."""
    count = 0
    for day, start, end, _opens, _closes in group.sessions:
        visits = family.visits_by_day.get(day)
        if visits and any(v_start < end and start < v_end for v_start, v_end in visits):
            count += 1
    return count


def evaluate(family: FamilyFacts, group: GroupFacts, weights: Weights,
             places: dict[int, tuple[float, float]]) -> Match:
    """The hard rules in order, then the score with its explanation."""
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
    """Sessions free of home visits, and inside the family's preferred hours."""
    maximum = weights.share("timing")
    if not sessions:
        return Criterion("timing", 0, maximum, {"clashes": 0, "sessions": 0,
                                                "inside": None, "weekday": None})
    free_share = 1 - clashes / sessions
    inside = None
    preferred_share = 0.5  # nothing said: neither for nor against
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
