"""Whether a family may take a seat in a group: the one rule, over plain facts.

Enrollment (``groups.enrollment.check_eligible``) refuses with the first of
these reasons; matching's batch scorer (``matching.scoring.score_pairs``)
applies the same rules column by column with numpy for hundreds of thousands
of pairs, and is tested against this function for parity; the demo data
chooses its families with it. The facts are plain values, so that each of
them can build them from what it has loaded.
"""

from dataclasses import dataclass
from datetime import date

from core.localtime import age_in_months
from core.vocabulary import ENROLLING_STATUSES

# The reasons, in the order they are looked at.
GROUP_NOT_OPEN = "group_not_open"
ENROLLMENT_CLOSED = "enrollment_closed"
TRACK_NOT_ALLOWED = "track_not_allowed"
MUNICIPALITY_NOT_SERVED = "municipality_not_served"
NO_SHARED_LANGUAGE = "no_shared_language"
NO_UPCOMING_SESSIONS = "no_upcoming_sessions"
NO_CHILD_IN_AGE_RANGE = "no_child_in_age_range"


@dataclass(frozen=True)
class GroupTerms:
    """What a group asks of a family, on a given day.

    ``first_day`` is the local date of the group's first session ahead (None
    without one): the day on which children's ages are taken.
    """

    status: str
    tracks: frozenset
    language: str
    municipality_ids: frozenset
    min_age_months: int
    max_age_months: int
    first_day: date | None
    enrollment_opens: date | None = None
    enrollment_closes: date | None = None


@dataclass(frozen=True)
class FamilyTerms:
    """What a family brings: its track, home, languages and children.

    ``booking_refusal`` is the code of the families' booking rule for a group
    seat (``families.services.booking_refusal``: a closed family, a plan not
    yet in force), None when the family may have one.
    """

    track: str
    municipality_id: int | None
    languages: frozenset
    child_birth_dates: tuple
    booking_refusal: str | None = None


def takes_families(group: GroupTerms, today: date) -> str | None:
    """Why a group takes no family on ``today`` (its status or its enrollment
    window), or None when it does."""
    if group.status not in ENROLLING_STATUSES:
        return GROUP_NOT_OPEN
    if group.enrollment_opens and today < group.enrollment_opens:
        return ENROLLMENT_CLOSED
    if group.enrollment_closes and today > group.enrollment_closes:
        return ENROLLMENT_CLOSED
    return None


def age_in_range(born: date, day: date, low: int, high: int) -> bool:
    """Whether a child born on ``born`` is ``low`` to ``high`` months old on ``day``."""
    return low <= age_in_months(born, day) <= high


def refusals(family: FamilyTerms, group: GroupTerms, today: date, *,
             proposal: bool = False) -> tuple[str, ...]:
    """Every reason the family may not take a seat in the group on ``today``,
    in the order they are looked at; empty when it may.

    A seat needs a group taking families (``takes_families``), a family the
    booking rule lets have a group seat, a track the group is for, a session
    ahead and a child in the group's age range on the day of that session.
    A ``proposal`` (matching's) also asks that the group serve the family's
    municipality and speak one of its languages: a coordinator enrolling by
    hand may choose otherwise.
    """
    found = []
    closed = takes_families(group, today)
    if closed:
        found.append(closed)
    if family.booking_refusal:
        found.append(family.booking_refusal)
    if family.track not in group.tracks:
        found.append(TRACK_NOT_ALLOWED)
    if proposal and family.municipality_id not in group.municipality_ids:
        found.append(MUNICIPALITY_NOT_SERVED)
    if proposal and group.language not in family.languages:
        found.append(NO_SHARED_LANGUAGE)
    if group.first_day is None:
        found.append(NO_UPCOMING_SESSIONS)
    elif not any(age_in_range(born, group.first_day, group.min_age_months,
                              group.max_age_months)
                 for born in family.child_birth_dates if born is not None):
        found.append(NO_CHILD_IN_AGE_RANGE)
    return tuple(found)


def refusal(family: FamilyTerms, group: GroupTerms, today: date, *,
            proposal: bool = False) -> str | None:
    """The first reason the family may not take a seat in the group, or None."""
    found = refusals(family, group, today, proposal=proposal)
    return found[0] if found else None
