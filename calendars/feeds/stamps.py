"""Feed stamps and event revisions: what a flush changes in the feeds, raised in the
same transaction.

A calendar service asks for a feed every hour or so and almost always gets a
304. To answer that without reading every event of the feed, each feed owner
has a counter (`FeedStamp`) that is raised whenever something its feed shows
is written. The raising is done here, in a `before_flush` hook of the
session, rather than by each service (``create_app`` says why a session hook
for this), and a rename of a group or a family reaches every feed that shows
it.

What a flush touches, and whose feeds that reaches:

- a home visit: its family and its workers, before and after the change;
- a group session: its group, the group's facilitators and enrolled families;
- a peer group: the same, with facilitators added or removed;
- an enrollment: its family;
- a family (its reference, surname, address and the address's non-disclosure):
  the family and the workers who visit it;
- a user: their own feed (its name carries theirs);
- a venue or a municipality: every feed, through the shared row.

A calendar client keeps the copy of an event with the highest SEQUENCE and
the latest DTSTAMP, so an event whose text changes must say so in its own
row, whatever changed it. The same hook raises the `sequence` and
`updated_at` of every visit and session whose text a flush changes: a visit
or a session changed in what it shows (by any service), the sessions of a
group renamed or moved, those at a venue renamed or moved to another
municipality, the visits and sessions in a municipality renamed, and the
visits of a family whose reference, surname or address non-disclosure changed. Rows no feed can show
again (ended before any feed's window, or cancelled longer ago than feeds
keep them) are left alone.

A reference counts as changed whether a service sets its foreign key or its
relationship (`group.venue = ...` as much as `group.venue_id = ...`): the
attributes are named by column, and each many-to-one relationship over a
named column is watched with it.

Only owners that have a feed have a row, so the updates for the others touch
nothing. Bulk UPDATE or DELETE statements bypass the session's flush: one that
changes what a feed shows must call `touch` itself (none does today).
"""

from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import MANYTOONE

from accounts.models import User
from calendars.models import FeedStamp, HomeVisit, visit_workers
from core.clock import get_clock
from core.models import Municipality, Venue
from extensions import db
from families.models import Family
from groups.models import Enrollment, GroupSession, PeerGroup, group_facilitators

# The row of changes that may show in every feed.
EVERY_FEED = ("all", 0)
# What of these records some feed shows: a change elsewhere (a family's notes,
# a worker's last sign-in) leaves the feeds as they are. Foreign keys stand for
# their relationships too.
FAMILY_SHOWN = ("reference", "surname", "address", "address_non_disclosure",
                "municipality_id")
GROUP_SHOWN = ("name", "public_title", "venue_id", "status", "facilitators")
USER_SHOWN = ("name",)
VENUE_SHOWN = ("name", "municipality_id")
MUNICIPALITY_SHOWN = ("name",)
# What of a visit or a session its event's text shows (a visit's status only as
# cancelled or not: a visit held reads as one booked).
VISIT_TEXT = ("kind", "start", "end", "place", "municipality_id", "family_id")
SESSION_TEXT = ("start", "end", "venue_id", "status", "group_id")
# What of a group or a family its events' text shows.
GROUP_IN_EVENTS = ("name", "public_title")
# The address's non-disclosure takes the place out of its visits' locations: a
# client replaces its copy only of an event whose SEQUENCE has risen.
FAMILY_IN_EVENTS = ("reference", "surname", "address_non_disclosure")
REVISED = ("sequence", "updated_at")


def ensure(owner_type: str, owner_id: int) -> None:
    """Give an owner, and the shared row, a counter if they have none."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for key in (EVERY_FEED, (owner_type, owner_id)):
        db.session.execute(insert(FeedStamp).values(
            owner_type=key[0], owner_id=key[1], version=0).on_conflict_do_nothing())


def touch(session: Session, owners) -> None:
    """Raise the counters of these owners (those that have one), in sorted order
    so that two transactions never wait on each other's rows in a cycle."""
    now = get_clock().now()
    for owner_type, owner_id in sorted(owners):
        session.execute(
            sa.update(FeedStamp)
            .where(FeedStamp.owner_type == owner_type, FeedStamp.owner_id == owner_id)
            .values(version=FeedStamp.version + 1, changed_at=now)
            .execution_options(synchronize_session=False))


@cache
def _watched(mapper, names: tuple[str, ...]) -> tuple[tuple[str, ...], tuple]:
    """The attributes named, and the many-to-one relationships over a named column."""
    relations = tuple(
        relation for relation in mapper.relationships
        if relation.direction is MANYTOONE and any(
            mapper.get_property_by_column(column).key in names
            for column in relation.local_columns))
    return names, relations


def _points_elsewhere(state, relation) -> bool:
    """Whether a many-to-one relationship was set to another row than its key holds.

    A reference set while unloaded shows as changed even when set to the same
    row; the row's key against the foreign key's tells."""
    history = state.attrs[relation.key].history
    if not history.has_changes():
        return False
    target = history.added[0] if history.added else None
    new = None
    if target is not None:
        identity = sa.inspect(target).identity
        if identity is None:  # a new row
            return True
        new = identity[0]
    [column] = relation.local_columns
    key = state.mapper.get_property_by_column(column).key
    before = state.attrs[key].load_history()
    old = [*before.deleted, *before.unchanged]
    return new != (old[0] if old else None)


def _changed(obj, *attributes) -> bool:
    """Whether a pending, deleted or changed object differs in these attributes (a
    foreign key set by its column or by its relationship)."""
    state = sa.inspect(obj)
    if state.pending or state.deleted or not state.persistent:
        return True
    names, relations = _watched(state.mapper, attributes)
    return any(state.attrs[name].history.has_changes() for name in names) or any(
        _points_elsewhere(state, relation) for relation in relations)


def _values(obj, attribute: str) -> set:
    """An attribute's value now and before this flush (collections flattened)."""
    history = sa.inspect(obj).attrs[attribute].load_history()
    found = set()
    for value in (*history.added, *history.unchanged, *history.deleted):
        if value is None:
            continue
        found.add(value.id if hasattr(value, "id") else value)
    return found


def _ids(objects) -> set[int]:
    return {obj.id for obj in objects if obj.id is not None}


def _parents(obj, key: str, relation: str) -> set[int]:
    """The ids a foreign key points to now and before, or, on a new row whose key
    is not yet set, that of the object its relationship was given."""
    parent = getattr(obj, relation)
    return _values(obj, key) | _ids([parent] if parent is not None else [])


def _cancelled_changed(obj) -> bool:
    """Whether a visit was cancelled or restored (held or missed reads as booked)."""
    history = sa.inspect(obj).attrs.status.history
    before = [*history.deleted, *history.unchanged]
    now = [*history.added, *history.unchanged]
    return bool(history.has_changes()) and (
        "cancelled" in before) != ("cancelled" in now)


def _revise_one(obj, now: datetime) -> None:
    """A visit or a session changed in what its event shows gets a new revision,
    unless its service gave it one."""
    state = sa.inspect(obj)
    if not state.persistent or state.deleted:
        return
    text = VISIT_TEXT if isinstance(obj, HomeVisit) else SESSION_TEXT
    if not (_changed(obj, *text) or isinstance(obj, HomeVisit) and _cancelled_changed(obj)):
        return
    if not state.attrs.sequence.history.has_changes():
        obj.sequence = obj.sequence + 1
    if not state.attrs.updated_at.history.has_changes():
        obj.updated_at = now


class _Revisions:
    """The visits and sessions whose text changes with a group, a family or a place."""

    def __init__(self):
        self.groups: set[int] = set()            # all their sessions
        self.group_venues: set[int] = set()      # their sessions at the group's venue
        self.venues: set[int] = set()
        self.municipalities: set[int] = set()
        self.families: set[int] = set()

    def conditions(self):
        """(model, condition) for each kind of row to revise."""
        venue_of_group = sa.select(PeerGroup.venue_id).where(
            PeerGroup.id == GroupSession.group_id).scalar_subquery()
        at_group_venue = GroupSession.venue_id.is_(None)
        if self.groups:
            yield GroupSession, GroupSession.group_id.in_(self.groups)
        if self.group_venues:
            yield GroupSession, sa.and_(GroupSession.group_id.in_(self.group_venues),
                                        at_group_venue)
        if self.venues:
            yield GroupSession, sa.or_(GroupSession.venue_id.in_(self.venues), sa.and_(
                at_group_venue, venue_of_group.in_(self.venues)))
        if self.municipalities:
            venues = sa.select(Venue.id).where(Venue.municipality_id.in_(self.municipalities))
            yield HomeVisit, HomeVisit.municipality_id.in_(self.municipalities)
            yield GroupSession, sa.or_(GroupSession.venue_id.in_(venues), sa.and_(
                at_group_venue, venue_of_group.in_(venues)))
        if self.families:
            yield HomeVisit, HomeVisit.family_id.in_(self.families)

    def apply(self, session: Session, now: datetime) -> None:
        config = current_app.config
        # No feed shows an event that ended before its window, nor one cancelled
        # longer ago than it keeps them: those keep their revision.
        ended = now - timedelta(days=config["FEED_WINDOW_PAST_DAYS"] + 1)
        departed = now - timedelta(days=config["FEED_CANCELLED_RETENTION_DAYS"])
        revised = set()
        for model, condition in self.conditions():
            session.execute(
                sa.update(model)
                .where(condition, model.end > ended,
                       sa.or_(model.status != "cancelled", model.updated_at >= departed))
                .values(sequence=model.sequence + 1, updated_at=now)
                .execution_options(synchronize_session=False))
            revised.add(model)
        if not revised:
            return
        # What the session holds of those rows is stale now, unless this flush
        # writes it anyway.
        for obj in list(session.identity_map.values()):
            if isinstance(obj, tuple(revised)):
                state = sa.inspect(obj)
                if not any(state.attrs[key].history.has_changes() for key in REVISED):
                    session.expire(obj, list(REVISED))


class _OwnersToStamp:
    """The owners whose feeds one flush changes."""

    def __init__(self, session: Session):
        self.session = session
        self.owners: set[tuple[str, int]] = set()
        self.groups: set[int] = set()
        self.revisions = _Revisions()

    def add(self, owner_type: str, ids) -> None:
        self.owners.update((owner_type, owner_id) for owner_id in ids if owner_id)

    def visit(self, visit: HomeVisit) -> None:
        self.add("family", _parents(visit, "family_id", "family"))
        self.add("worker", _values(visit, "workers"))

    def group(self, group: PeerGroup) -> None:
        if not _changed(group, *GROUP_SHOWN):
            return
        self.add("worker", _values(group, "facilitators"))  # those taken off too
        if group.id is None:
            return
        self.groups.add(group.id)
        if sa.inspect(group).persistent:
            if _changed(group, *GROUP_IN_EVENTS):
                self.revisions.groups.add(group.id)
            if _changed(group, "venue_id"):
                self.revisions.group_venues.add(group.id)

    def family(self, family: Family) -> None:
        if family.id is None or not _changed(family, *FAMILY_SHOWN):
            return
        self.add("family", [family.id])
        self.add("worker", self.session.scalars(
            sa.select(visit_workers.c.user_id).distinct()
            .join(HomeVisit, HomeVisit.id == visit_workers.c.visit_id)
            .where(HomeVisit.family_id == family.id)))
        if sa.inspect(family).persistent and _changed(family, *FAMILY_IN_EVENTS):
            self.revisions.families.add(family.id)

    def place(self, place: Venue | Municipality) -> bool:
        """Whether a venue or a municipality changed in what feeds show."""
        shown = VENUE_SHOWN if isinstance(place, Venue) else MUNICIPALITY_SHOWN
        if not _changed(place, *shown):
            return False
        if sa.inspect(place).persistent:
            found = (self.revisions.venues if isinstance(place, Venue)
                     else self.revisions.municipalities)
            found.add(place.id)
        return True

    def of_groups(self) -> None:
        """Each group touched reaches its facilitators and enrolled families."""
        if not self.groups:
            return
        self.add("group", self.groups)
        self.add("worker", self.session.scalars(
            sa.select(group_facilitators.c.user_id)
            .where(group_facilitators.c.group_id.in_(self.groups))))
        self.add("family", self.session.scalars(
            sa.select(Enrollment.family_id)
            .where(Enrollment.group_id.in_(self.groups), Enrollment.status == "enrolled")))


def _before_flush(session: Session, _context, _instances) -> None:
    to_stamp = _OwnersToStamp(session)
    everywhere = False
    now = get_clock().now()
    with session.no_autoflush:
        for obj in (*session.new, *session.dirty, *session.deleted):
            if isinstance(obj, HomeVisit):
                _revise_one(obj, now)
                to_stamp.visit(obj)
            elif isinstance(obj, GroupSession):
                _revise_one(obj, now)
                to_stamp.groups.update(_parents(obj, "group_id", "group"))
            elif isinstance(obj, PeerGroup):
                to_stamp.group(obj)
            elif isinstance(obj, Enrollment):
                to_stamp.add("family", _parents(obj, "family_id", "family"))
            elif isinstance(obj, Family):
                to_stamp.family(obj)
            elif isinstance(obj, User) and _changed(obj, *USER_SHOWN):
                to_stamp.add("worker", _ids([obj]))
            elif isinstance(obj, Venue | Municipality) and to_stamp.place(obj):
                everywhere = True
        to_stamp.revisions.apply(session, now)
        to_stamp.of_groups()
        if everywhere:
            to_stamp.owners.add(EVERY_FEED)
        if to_stamp.owners:
            touch(session, to_stamp.owners)


def connect() -> None:
    """Listen to every session of the app's `db` (once per process: connecting
    again adds nothing). Connected by name in ``create_app``."""
    if not sa.event.contains(db.session, "before_flush", _before_flush):
        sa.event.listen(db.session, "before_flush", _before_flush)
