"""One view over home visits and group sessions: the events of a worker, a
family or a group in a range of time.

Calendars, feeds, matching and reminders all read events through here, so
that what a worker sees on the page is what their calendar client shows.
Events carry what any consumer might need; each consumer decides what of it
to show (a feed shows far less than a page).
"""

from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from calendars.models import HomeVisit, visit_workers
from core.models import Municipality, Venue
from core.wording import may_leave
from extensions import db
from families.models import Family
from families.services import address_readers
from groups.models import Enrollment, GroupSession, PeerGroup, group_facilitators

HOME_VISIT = "home_visit"
GROUP_SESSION = "group_session"

# What an event is called wherever it leaves the system (feeds at every level,
# reminders): planning and review meetings are just meetings, since their names
# would speak of the plan. One table, so a feed and a reminder agree.
PUBLIC_LABELS = {
    "home_visit": _l("home visit"),
    "planning_meeting": _l("meeting"),
    "review_meeting": _l("meeting"),
    GROUP_SESSION: _l("group meeting"),
}


def public_label(kind: str | None) -> str:
    """The neutral name of a kind of visit (or of a group session), in the locale."""
    return str(PUBLIC_LABELS.get(kind, PUBLIC_LABELS["home_visit"]))


def public_group_title(title: str | None) -> str | None:
    """A group's public title as it may leave the system, or None (then the
    event is a group meeting): a title stored before the check is checked again,
    on one line without control characters."""
    printable = "".join(character for character in title or ""
                        if character.isprintable() or character.isspace())
    title = " ".join(printable.split())
    return title if title and may_leave(title) else None


@dataclass(frozen=True)
class Event:
    """A home visit or a group session, as calendars see it."""

    kind: str                    # HOME_VISIT or GROUP_SESSION
    id: int                      # the visit's or the session's id
    start: datetime
    end: datetime
    status: str
    sequence: int
    created: datetime
    last_modified: datetime
    municipality_id: int | None
    municipality: str | None
    visit_kind: str | None = None       # planning_meeting, home_visit, review_meeting
    family_id: int | None = None
    family_reference: str | None = None
    family_surname: str | None = None
    place: str | None = None            # a visit's address, a session's venue
    # The visit's family has its address under non-disclosure: the place is
    # shown only to the family's permitted readers (families.services.may_see_address)
    # and never leaves the system.
    place_confidential: bool = False
    group_id: int | None = None
    group_name: str | None = None
    group_title: str | None = None      # the public title: the only one that leaves
    worker_ids: tuple[int, ...] = ()

    @property
    def uid(self) -> str:
        """Stable for the life of the visit or session, whatever changes in it."""
        prefix = "visit" if self.kind == HOME_VISIT else "session"
        return f"{prefix}-{self.id}@perhetyo"

    @property
    def active(self) -> bool:
        """Scheduled or already held: it takes the time of the people in it."""
        return self.status not in ("cancelled",)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


def for_reader(events, reader) -> list[Event]:
    """The events as ``reader`` (a user) may see them: the place of a visit to a
    family whose address is under non-disclosure is removed unless the reader
    may see the address (``families.services.may_see_address``)."""
    events = list(events)
    readers = address_readers({event.family_id for event in events
                               if event.place_confidential})
    return [replace(event, place=None) if event.place_confidential
            and reader.id not in (readers.get(event.family_id) or (reader.id,))
            else event for event in events]


def _kept(status, updated_at, include_cancelled):
    """Which cancelled events to keep: none, all, or those cancelled since an instant."""
    if include_cancelled is True:
        return sa.true()
    if include_cancelled is False:
        return status != "cancelled"
    return sa.or_(status != "cancelled", updated_at >= include_cancelled)


def _ids(column, condition) -> sa.ScalarSelect:
    """The ids in ``column`` of the rows matching ``condition``, as one string
    ("3,7"), in the row of the event they belong to."""
    return (sa.select(sa.func.aggregate_strings(sa.cast(column, sa.String), ","))
            .where(condition).scalar_subquery())


def _parsed_ids(joined: str | None) -> tuple[int, ...]:
    return tuple(sorted(int(part) for part in joined.split(","))) if joined else ()


def _visit_query(condition, start, end, include_cancelled) -> sa.Select:
    # The workers of each visit come in its row: a query of their own, with the
    # visits' ids as its parameters, cost more than the visits themselves.
    workers = _ids(visit_workers.c.user_id, visit_workers.c.visit_id == HomeVisit.id)
    return (
        sa.select(HomeVisit.id, HomeVisit.start, HomeVisit.end, HomeVisit.status,
                  HomeVisit.sequence, HomeVisit.created_at, HomeVisit.updated_at,
                  HomeVisit.municipality_id, Municipality.name, HomeVisit.kind,
                  HomeVisit.family_id, Family.reference, Family.surname, HomeVisit.place,
                  workers, Family.address_non_disclosure)
        .join(Family, Family.id == HomeVisit.family_id)
        .join(Municipality, Municipality.id == HomeVisit.municipality_id)
        .where(condition, HomeVisit.start < end, HomeVisit.end > start,
               _kept(HomeVisit.status, HomeVisit.updated_at, include_cancelled))
        .order_by(HomeVisit.start))


def _visit_events(condition, start, end, include_cancelled) -> list[Event]:
    rows = db.session.execute(_visit_query(condition, start, end, include_cancelled))
    return [Event(kind=HOME_VISIT, id=row[0], start=row[1], end=row[2], status=row[3],
                  sequence=row[4], created=row[5], last_modified=row[6],
                  municipality_id=row[7], municipality=row[8], visit_kind=row[9],
                  family_id=row[10], family_reference=row[11], family_surname=row[12],
                  place=row[13], worker_ids=_parsed_ids(row[14]),
                  place_confidential=bool(row[15]))
            for row in rows]


# Made once: a new alias per query would defeat SQLAlchemy's statement cache.
_session_venue = sa.orm.aliased(Venue, name="session_venue")
_group_venue = sa.orm.aliased(Venue, name="group_venue")


def _session_query(condition, start, end, include_cancelled) -> sa.Select:
    venue, group_venue = _session_venue, _group_venue
    place_name = sa.func.coalesce(venue.name, group_venue.name)
    municipality_id = sa.func.coalesce(venue.municipality_id, group_venue.municipality_id)
    return (
        sa.select(GroupSession.id, GroupSession.start, GroupSession.end,
                  GroupSession.status, GroupSession.sequence, GroupSession.created_at,
                  GroupSession.updated_at, municipality_id, Municipality.name,
                  place_name, PeerGroup.id, PeerGroup.name, PeerGroup.public_title)
        .join(PeerGroup, PeerGroup.id == GroupSession.group_id)
        .outerjoin(venue, venue.id == GroupSession.venue_id)
        .outerjoin(group_venue, group_venue.id == PeerGroup.venue_id)
        .outerjoin(Municipality, Municipality.id == municipality_id)
        .where(condition, GroupSession.start < end, GroupSession.end > start,
               PeerGroup.status != "draft",
               _kept(GroupSession.status, GroupSession.updated_at, include_cancelled))
        .order_by(GroupSession.start))


def _session_events(condition, start, end, include_cancelled) -> list[Event]:
    rows = db.session.execute(_session_query(condition, start, end,
                                             include_cancelled)).all()
    facilitators: dict[int, list[int]] = {}
    if rows:
        for group_id, user_id in db.session.execute(
                sa.select(group_facilitators.c.group_id, group_facilitators.c.user_id)
                .where(group_facilitators.c.group_id.in_({row[10] for row in rows}))):
            facilitators.setdefault(group_id, []).append(user_id)
    return [Event(kind=GROUP_SESSION, id=row[0], start=row[1], end=row[2], status=row[3],
                  sequence=row[4], created=row[5], last_modified=row[6],
                  municipality_id=row[7], municipality=row[8], place=row[9],
                  group_id=row[10], group_name=row[11], group_title=row[12],
                  worker_ids=tuple(sorted(facilitators.get(row[10], ()))))
            for row in rows]


def _sorted(*lists) -> list[Event]:
    return sorted((event for events in lists for event in events),
                  key=lambda event: (event.start, event.kind, event.id))


def _conditions(owner_type: str, owner_id: int):
    """Which visits and sessions belong to a worker, a family or a group."""
    if owner_type == "worker":
        return (HomeVisit.id.in_(sa.select(visit_workers.c.visit_id).where(
                    visit_workers.c.user_id == owner_id)),
                GroupSession.group_id.in_(sa.select(group_facilitators.c.group_id).where(
                    group_facilitators.c.user_id == owner_id)))
    if owner_type == "family":
        return (HomeVisit.family_id == owner_id,
                GroupSession.group_id.in_(sa.select(Enrollment.group_id).where(
                    Enrollment.family_id == owner_id, Enrollment.status == "enrolled")))
    return None, GroupSession.group_id == owner_id


def events_of(owner_type: str, owner_id: int, start: datetime, end: datetime, *,
              include_cancelled=False) -> list[Event]:
    """The events of a worker, a family or a group in a range.

    ``include_cancelled`` is False, True, or an instant: cancelled events last
    changed since then are kept (a feed keeps them a while, then lets them go).
    """
    visits_of, sessions_of = _conditions(owner_type, owner_id)
    visits = [] if visits_of is None else _visit_events(visits_of, start, end,
                                                        include_cancelled)
    return _sorted(visits, _session_events(sessions_of, start, end, include_cancelled))


def worker_events(user_id: int, start: datetime, end: datetime, *,
                  include_cancelled=False) -> list[Event]:
    """A worker's home visits and the sessions of the groups they facilitate."""
    return events_of("worker", user_id, start, end, include_cancelled=include_cancelled)


def family_events(family_id: int, start: datetime, end: datetime, *,
                  include_cancelled=False) -> list[Event]:
    """A family's home visits and the sessions of the groups it has a seat in."""
    return events_of("family", family_id, start, end, include_cancelled=include_cancelled)


def group_events(group_id: int, start: datetime, end: datetime, *,
                 include_cancelled=False) -> list[Event]:
    """A group's sessions."""
    return events_of("group", group_id, start, end, include_cancelled=include_cancelled)
