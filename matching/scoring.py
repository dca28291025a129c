"""Whether a family fits a group, and how well: hard rules, then a 0-100 score.

Pure functions over plain facts, so that a bulk run can score hundreds of
thousands of pairs without touching the database, and every score comes with
the explanation of its parts.

There is one implementation, the batch scorer ``score_pairs``: it takes the
facts of many families and many groups column by column (``Families``,
``Groups``) and the candidate pairs as two index arrays, and computes the rule
that excludes each pair, or the points of each criterion and the total, with
numpy. ``evaluate`` scores one pair through it, for ranked lists and tests.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from calendars.conflicts import distance_km
from core import vocabulary
from core.localtime import age_in_months  # noqa: F401 (imported from here)

CRITERIA = vocabulary.CRITERIA.codes

# The hard rules, in the order they are applied; a pair's rule code is its
# position here plus one (0: eligible).
RULES = ("plan_required", "track_not_allowed", "municipality_not_served",
         "no_shared_language", "already_in_group", "group_not_open",
         "no_child_in_age_range", "too_many_clashes")
(PLAN_REQUIRED, TRACK_NOT_ALLOWED, MUNICIPALITY_NOT_SERVED, NO_SHARED_LANGUAGE,
 ALREADY_IN_GROUP, GROUP_NOT_OPEN, NO_CHILD_IN_AGE_RANGE, TOO_MANY_CLASHES) = range(1, 9)


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
    free_seats: int
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
    # Groups the family has a seat in, waits for, or finished.
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


# --- facts column by column ----------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _instant(value: datetime) -> int:
    """An aware instant as whole microseconds since 1970 (exact, comparable)."""
    return (value - _EPOCH) // _MICROSECOND


def _clock(value: time) -> int:
    """A wall-clock time as microseconds since midnight."""
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 \
        + value.microsecond


@dataclass
class Families:
    """The facts of many families, one list or array per fact (index: family).

    The sparse facts are rows with the family's index: availability windows
    ``(index, weekday, start time, end time)``, booked home visits ahead
    ``(index, local date, start, end)`` and groups taken ``(index, group id)``.
    ``members`` (optional) are ``{family id: [(member id, role, birth date)]}``.
    """

    ids: list
    tracks: list
    municipality_ids: list
    languages: list
    has_plan: list
    goals: list
    birth_dates: list
    waiting_since: list
    availability: list = field(default_factory=list)
    visits: list = field(default_factory=list)
    taken: list = field(default_factory=list)
    references: list | None = None
    members: dict | None = None

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_facts(cls, facts: Sequence[FamilyFacts]) -> "Families":
        availability, visits, taken = [], [], []
        for index, family in enumerate(facts):
            availability.extend((index, *window) for window in family.availability)
            visits.extend((index, day, start, end)
                          for day, spans in family.visits_by_day.items()
                          for start, end in spans)
            taken.extend((index, group_id) for group_id in family.groups_taken)
        return cls(
            ids=[f.id for f in facts], tracks=[f.track for f in facts],
            municipality_ids=[f.municipality_id for f in facts],
            languages=[f.languages for f in facts], has_plan=[f.has_plan for f in facts],
            goals=[tuple(f.goals) for f in facts], birth_dates=[f.birth_dates for f in facts],
            waiting_since=[f.waiting_since for f in facts], availability=availability,
            visits=visits, taken=taken, references=[f.reference for f in facts])

    def facts(self) -> list[FamilyFacts]:
        """The same families as one ``FamilyFacts`` each."""
        availability = [[] for _ in self.ids]
        for index, *window in self.availability:
            availability[index].append(tuple(window))
        visits = [{} for _ in self.ids]
        for index, day, start, end in self.visits:
            visits[index].setdefault(day, []).append((start, end))
        taken = [set() for _ in self.ids]
        for index, group_id in self.taken:
            taken[index].add(group_id)
        references = self.references or [""] * len(self.ids)
        return [FamilyFacts(
            id=self.ids[i], reference=references[i], track=self.tracks[i],
            municipality_id=self.municipality_ids[i], languages=frozenset(self.languages[i]),
            has_plan=self.has_plan[i], goals=tuple(self.goals[i]),
            birth_dates=tuple(self.birth_dates[i]), waiting_since=self.waiting_since[i],
            availability=tuple(availability[i]),
            visits_by_day={day: tuple(spans) for day, spans in visits[i].items()},
            groups_taken=frozenset(taken[i])) for i in range(len(self.ids))]


@dataclass
class Groups:
    """The facts of many groups, one list per fact (index: group)."""

    facts: list  # of GroupFacts; groups are few, their sessions many

    @classmethod
    def from_facts(cls, facts: Sequence[GroupFacts]) -> "Groups":
        return cls(list(facts))

    def __len__(self) -> int:
        return len(self.facts)


def _vocabulary(values) -> dict:
    return {value: index for index, value in enumerate(dict.fromkeys(values))}


def _listed_by_group(group_lists, family_values) -> tuple[np.ndarray, np.ndarray]:
    """Whether each group lists a value that each family has one of (a track, a
    municipality): a (group, value code) table of bools, and each family's code."""
    codes = _vocabulary(family_values)
    family_code = np.array([codes[value] for value in family_values], dtype=np.int64)
    listed = np.zeros((len(group_lists), max(len(codes), 1)), dtype=bool)
    for index, values in enumerate(group_lists):
        for value in values:
            if value in codes:
                listed[index, codes[value]] = True
    return listed, family_code


def _popcount(words: np.ndarray) -> np.ndarray:
    """Set bits per row of a (rows, words) uint64 array."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(words).sum(axis=1, dtype=np.int64)
    table = np.array([bin(value).count("1") for value in range(256)], dtype=np.int64)
    return table[words.view(np.uint8)].reshape(len(words), -1).sum(axis=1)


def _bitmasks(sets, vocabulary: dict) -> np.ndarray:
    """A (rows, words) uint64 array: the bits of each set's members in the vocabulary."""
    words = max(1, (len(vocabulary) + 63) // 64)
    masks = np.zeros((len(sets), words), dtype=np.uint64)
    for row, members in enumerate(sets):
        for member in members:
            bit = vocabulary.get(member)
            if bit is not None:
                masks[row, bit // 64] |= np.uint64(1 << (bit % 64))
    return masks


def _date_parts(days) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (np.array([d.year for d in days], dtype=np.int64),
            np.array([d.month for d in days], dtype=np.int64),
            np.array([d.day for d in days], dtype=np.int64))


def _offsets(counts: np.ndarray) -> np.ndarray:
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    return starts


def _expand(rows: np.ndarray, counts: np.ndarray, starts: np.ndarray):
    """For each row r, the positions starts[r] .. starts[r] + counts[r] - 1.

    Returns (row of each position, position)."""
    per_row = counts[rows]
    owner = np.repeat(np.arange(len(rows)), per_row)
    first = np.repeat(_offsets(per_row), per_row)
    return owner, np.repeat(starts[rows], per_row) + np.arange(len(owner)) - first


@dataclass
class Scores:
    """The batch scorer's result: one entry per candidate pair (family, group)."""

    families: Families
    groups: Groups
    weights: Weights
    family: np.ndarray        # index into families
    group: np.ndarray         # index into groups
    rule: np.ndarray          # 0 eligible, else RULES[rule - 1]
    score_tenths: np.ndarray  # 0 for excluded pairs
    points: np.ndarray        # (5, pairs), in the order of CRITERIA
    covered: np.ndarray
    goals_total: np.ndarray
    km: np.ndarray
    same: np.ndarray
    age: np.ndarray
    clashes: np.ndarray
    sessions: np.ndarray
    inside: np.ndarray        # -1: the family said nothing
    days: np.ndarray

    def __len__(self) -> int:
        return len(self.family)

    @property
    def eligible(self) -> np.ndarray:
        return self.rule == 0

    def take(self, pairs: np.ndarray) -> "Scores":
        """Only the pairs at these positions (to keep less in memory)."""
        return Scores(self.families, self.groups, self.weights, **{
            name: getattr(self, name)[..., pairs]
            for name in ("family", "group", "rule", "score_tenths", "points", "covered",
                         "goals_total", "km", "same", "age", "clashes", "sessions",
                         "inside", "days")})

    def rule_code(self, k: int) -> str | None:
        rule = int(self.rule[k])
        return RULES[rule - 1] if rule else None

    def rule_params(self, k: int) -> dict:
        rule = int(self.rule[k])
        if rule == TRACK_NOT_ALLOWED:
            return {"track": self.families.tracks[self.family[k]]}
        group = self.groups.facts[self.group[k]]
        if rule == NO_SHARED_LANGUAGE:
            return {"language": group.language}
        if rule == NO_CHILD_IN_AGE_RANGE:
            return {"low": group.min_age_months, "high": group.max_age_months,
                    "day": group.first_day.isoformat()}
        if rule == TOO_MANY_CLASHES:
            return {"clashes": int(self.clashes[k]), "sessions": int(self.sessions[k]),
                    "limit": round(self.weights.max_clash_share * 100)}
        return {}

    def criteria(self, k: int) -> tuple[Criterion, ...]:
        group = self.groups.facts[self.group[k]]
        weights = self.weights
        points = [float(value) for value in self.points[:, k]]
        sessions = int(self.sessions[k])
        inside = int(self.inside[k])
        timing = ({"clashes": int(self.clashes[k]), "sessions": sessions,
                   "inside": None if inside < 0 else inside, "weekday": group.weekday}
                  if sessions else
                  {"clashes": 0, "sessions": 0, "inside": None, "weekday": None})
        params = (
            {"covered": int(self.covered[k]), "total": int(self.goals_total[k])},
            {"km": 0, "same": True} if self.same[k]
            else {"km": round(float(self.km[k])), "same": False},
            {"age": int(self.age[k]), "low": group.min_age_months,
             "high": group.max_age_months},
            timing,
            {"days": int(self.days[k])},
        )
        return tuple(Criterion(code, points[index], weights.share(code), params[index])
                     for index, code in enumerate(CRITERIA))

    def match(self, k: int) -> Match:
        family_id = self.families.ids[self.family[k]]
        group_id = self.groups.facts[self.group[k]].id
        if self.rule[k]:
            return Match(family_id, group_id, False, rule=self.rule_code(k),
                         rule_params=self.rule_params(k))
        return Match(family_id, group_id, True, score_tenths=int(self.score_tenths[k]),
                     criteria=self.criteria(k))

    def matches(self) -> list[Match]:
        return [self.match(k) for k in range(len(self))]


def score_pairs(families: Families, groups: Groups, family: np.ndarray, group: np.ndarray,
                weights: Weights, places: dict[int, tuple[float, float]]) -> Scores:
    """The hard rules in order, then the score with its parts, for every pair
    (families[family[k]], groups[group[k]])."""
    family = np.asarray(family, dtype=np.int64)
    group = np.asarray(group, dtype=np.int64)
    pairs, n_groups = len(family), len(groups)
    gfacts = groups.facts
    rule = np.zeros(pairs, dtype=np.int8)

    def exclude(code: int, failing: np.ndarray) -> None:
        rule[(rule == 0) & failing] = code

    # 1. A plan. 2. The track.
    exclude(PLAN_REQUIRED, ~np.array(families.has_plan, dtype=bool)[family])
    allowed, family_track = _listed_by_group([facts.tracks for facts in gfacts],
                                             families.tracks)
    exclude(TRACK_NOT_ALLOWED, ~allowed[group, family_track[family]])
    # 3. The municipality served.
    served, family_municipality = _listed_by_group(
        [facts.municipality_ids for facts in gfacts], families.municipality_ids)
    exclude(MUNICIPALITY_NOT_SERVED, ~served[group, family_municipality[family]])
    # 4. A shared language.
    language_codes = _vocabulary(facts.language for facts in gfacts)
    speaks = np.zeros((len(families), max(len(language_codes), 1)), dtype=bool)
    for language, code in language_codes.items():
        speaks[:, code] = [language in spoken for spoken in families.languages]
    group_language = np.array([language_codes[facts.language] for facts in gfacts],
                              dtype=np.int64)
    exclude(NO_SHARED_LANGUAGE, ~speaks[family, group_language[group]])
    # 5. Not already in (or waiting for, or finished) the group.
    group_index = {facts.id: index for index, facts in enumerate(gfacts)}
    taken = np.array([index * n_groups + group_index[group_id]
                      for index, group_id in families.taken if group_id in group_index],
                     dtype=np.int64)
    if len(taken):
        exclude(ALREADY_IN_GROUP, np.isin(family * n_groups + group, taken))
    # 6. Open, with a first session ahead.
    group_open = np.array([facts.open and facts.first_day is not None for facts in gfacts],
                          dtype=bool)
    exclude(GROUP_NOT_OPEN, ~group_open[group])

    # 7. A child in the age range at the first session: ages in months of up to
    # `width` children per family (padded).
    first_days = [facts.first_day or date(1970, 1, 1) for facts in gfacts]
    first_year, first_month, first_day = _date_parts(first_days)
    low = np.array([facts.min_age_months for facts in gfacts], dtype=np.int64)
    high = np.array([facts.max_age_months for facts in gfacts], dtype=np.int64)
    width = max((len(births) for births in families.birth_dates), default=0)
    born = np.zeros((3, len(families), max(width, 1)), dtype=np.int64)
    has_child = np.zeros((len(families), max(width, 1)), dtype=bool)
    children = [(index, slot, birth.year, birth.month, birth.day)
                for index, births in enumerate(families.birth_dates)
                for slot, birth in enumerate(births)]
    if children:
        index, slot, *parts = np.array(children, dtype=np.int64).T
        born[:, index, slot] = parts
        has_child[index, slot] = True
    by, bm, bd = born[0][family], born[1][family], born[2][family]
    g_year, g_month, g_day = (first_year[group, None], first_month[group, None],
                              first_day[group, None])
    ages = (g_year - by) * 12 + g_month - bm - (g_day < bd)
    del by, bm, bd
    pair_low, pair_high = low[group], high[group]
    in_range = has_child[family] & (pair_low[:, None] <= ages) & (ages <= pair_high[:, None])
    exclude(NO_CHILD_IN_AGE_RANGE, ~in_range.any(axis=1))
    # The child nearest the middle of the range (the younger on a tie).
    far = np.iinfo(np.int64).max
    off_middle = np.where(in_range, np.abs(2 * ages - (pair_low + pair_high)[:, None]), far)
    nearest = in_range & (off_middle == off_middle.min(axis=1)[:, None])
    best_age = np.where(nearest, ages, far).min(axis=1)
    best_age[rule != 0] = 0
    del ages, in_range, off_middle, nearest

    # 8. Sessions clashing with booked home visits: only families with visits.
    session_rows = [(index, day, start, end, opens, closes)
                    for index, facts in enumerate(gfacts)
                    for day, start, end, opens, closes in facts.sessions]
    session_count = np.array([len(facts.sessions) for facts in gfacts], dtype=np.int64)
    session_start = _offsets(session_count)
    sessions = session_count[group]
    clashes = np.zeros(pairs, dtype=np.int64)
    if families.visits and session_rows:
        visit_family = np.array([row[0] for row in families.visits], dtype=np.int64)
        visit_key = (visit_family << 32) | np.array(
            [row[1].toordinal() for row in families.visits], dtype=np.int64)
        order = np.argsort(visit_key, kind="stable")
        visit_key = visit_key[order]
        visit_start = np.array([_instant(row[2]) for row in families.visits],
                               dtype=np.int64)[order]
        visit_end = np.array([_instant(row[3]) for row in families.visits],
                             dtype=np.int64)[order]
        session_day = np.array([row[1].toordinal() for row in session_rows], dtype=np.int64)
        session_begin = np.array([_instant(row[2]) for row in session_rows], dtype=np.int64)
        session_finish = np.array([_instant(row[3]) for row in session_rows], dtype=np.int64)
        visited = np.zeros(len(families), dtype=bool)
        visited[visit_family] = True
        subset = np.flatnonzero((rule == 0) & visited[family])
        owner, session = _expand(group[subset], session_count, session_start)
        key = (family[subset][owner] << 32) | session_day[session]
        first = np.searchsorted(visit_key, key, side="left")
        last = np.searchsorted(visit_key, key, side="right")
        clash = np.zeros(len(key), dtype=bool)
        for step in range(int((last - first).max(initial=0))):
            at = first + step
            present = at < last
            at = np.minimum(at, len(visit_key) - 1)
            clash |= present & (visit_start[at] < session_finish[session]) & (
                session_begin[session] < visit_end[at])
        clashes[subset] = np.bincount(owner, weights=clash, minlength=len(subset)).astype(
            np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        clash_share = np.where(sessions > 0, clashes / np.maximum(sessions, 1), 0.0)
    exclude(TOO_MANY_CLASHES, (sessions > 0) & (clash_share > weights.max_clash_share))

    eligible = rule == 0
    shares = {code: weights.share(code) for code in CRITERIA}
    points = np.zeros((len(CRITERIA), pairs), dtype=np.float64)

    # Goals: the family's plan goals among the group's themes.
    theme_codes = _vocabulary(theme for facts in gfacts for theme in sorted(facts.themes))
    covered = _popcount(_bitmasks(families.goals, theme_codes)[family]
                        & _bitmasks([facts.themes for facts in gfacts], theme_codes)[group])
    goals_total = np.array([len(goals) for goals in families.goals], dtype=np.int64)[family]
    with np.errstate(divide="ignore", invalid="ignore"):
        points[0] = np.where(goals_total > 0,
                             shares["goals"] * covered / np.maximum(goals_total, 1), 0.0)

    # Distance: from the family's municipality to where the group meets.
    home = np.array(families.municipality_ids, dtype=np.int64)[family]
    # -1: no venue, the group meets in the family's own municipality.
    venue = np.array([-1 if facts.meets_in is None else facts.meets_in for facts in gfacts],
                     dtype=np.int64)[group]
    same = (venue == -1) | (venue == home)
    km = np.zeros(pairs, dtype=np.float64)
    away = np.flatnonzero(eligible & ~same)
    if len(away):
        routes, route = np.unique(np.stack([home[away], venue[away]]), axis=1,
                                  return_inverse=True)
        lengths = np.array([distance_km(places[int(a)], places[int(b)])
                            for a, b in routes.T], dtype=np.float64)
        km[away] = lengths[route.reshape(-1)]
        if weights.distance_zero_km == 0:
            raise ZeroDivisionError("distance_zero_km is 0")
    points[1] = np.where(same, shares["distance"],
                         shares["distance"] * np.maximum(
                             0.0, 1 - km / (weights.distance_zero_km or 1)))

    # Age: the nearest child to the middle of the range.
    middle = (pair_low + pair_high) / 2
    half = np.maximum((pair_high - pair_low) / 2, 1)
    points[2] = shares["age"] * np.maximum(0.0, 1 - np.abs(best_age - middle) / half)

    # Timing: sessions free of home visits, and inside the preferred hours
    # (only families who said when they prefer to meet).
    inside = np.full(pairs, -1, dtype=np.int64)
    if families.availability and session_rows:
        window_family = np.array([row[0] for row in families.availability], dtype=np.int64)
        order = np.argsort(window_family, kind="stable")
        window_weekday = np.array([row[1] for row in families.availability],
                                  dtype=np.int64)[order]
        window_begin = np.array([_clock(row[2]) for row in families.availability],
                                dtype=np.int64)[order]
        window_finish = np.array([_clock(row[3]) for row in families.availability],
                                 dtype=np.int64)[order]
        window_count = np.bincount(window_family, minlength=len(families))
        window_start = _offsets(window_count)
        session_weekday = np.array([row[1].isoweekday() for row in session_rows],
                                   dtype=np.int64)
        session_opens = np.array([_clock(row[4]) for row in session_rows], dtype=np.int64)
        session_closes = np.array([_clock(row[5]) for row in session_rows], dtype=np.int64)
        subset = np.flatnonzero(eligible & (window_count[family] > 0))
        owner, session = _expand(group[subset], session_count, session_start)
        owner_family = family[subset][owner]
        fits = np.zeros(len(owner), dtype=bool)
        for step in range(int(window_count.max(initial=0))):
            present = step < window_count[owner_family]
            at = np.minimum(window_start[owner_family] + step, len(window_weekday) - 1)
            fits |= present & (window_weekday[at] == session_weekday[session]) & (
                window_begin[at] <= session_opens[session]) & (
                session_closes[session] <= window_finish[at])
        inside[subset] = np.bincount(owner, weights=fits, minlength=len(subset)).astype(
            np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        free_share = 1 - clashes / np.maximum(sessions, 1)
        preferred_share = np.where(inside >= 0, inside / np.maximum(sessions, 1), 0.5)
    points[3] = np.where(sessions > 0,
                         shares["timing"] * (0.5 * free_share + 0.5 * preferred_share), 0.0)

    # Waiting: days since the referral at the first session, saturating.
    waited = np.array([day.toordinal() for day in families.waiting_since],
                      dtype=np.int64)[family]
    today = np.array([facts.first_day.toordinal() if facts.first_day else -1
                      for facts in gfacts], dtype=np.int64)[group]
    days = np.where(today >= 0, np.maximum(today - waited, 0), 0)
    full = weights.waiting_full_days
    points[4] = shares["waiting"] * (np.minimum(1.0, days / full) if full else 1)

    points[:, ~eligible] = 0.0
    # Summed in the order of the criteria, as round(sum(points) * 10) would.
    total = points[0] + points[1] + points[2] + points[3] + points[4]
    score_tenths = np.where(eligible, np.rint(total * 10), 0).astype(np.int64)
    return Scores(families, groups, weights, family, group, rule, score_tenths, points,
                  covered, goals_total, km, same, best_age, clashes, sessions, inside, days)


def evaluate(family: FamilyFacts, group: GroupFacts, weights: Weights,
             places: dict[int, tuple[float, float]]) -> Match:
    """One pair through the batch scorer: the rule that excludes it, or its score."""
    scores = score_pairs(Families.from_facts([family]), Groups.from_facts([group]),
                         np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64),
                         weights, places)
    return scores.match(0)
