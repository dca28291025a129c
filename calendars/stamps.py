"""Feed stamps: which feeds a flush changes, raised in the same transaction.

A calendar service asks for a feed every hour or so and almost always gets a
304. To answer that without reading every event of the feed, each feed owner
has a counter (`FeedStamp`) that is raised whenever something its feed shows
is written. The raising is done here, in a `before_flush` hook of the
session, rather than by each service: then no service, present or future,
can forget it, and a rename of a group or a family reaches every feed that
shows it.

What a flush touches, and whose feeds that reaches:

- a home visit: its family and its workers, before and after the change;
- a group session: its group, the group's facilitators and enrolled families;
- a peer group: the same, with facilitators added or removed;
- an enrollment: its family;
- a family (its reference, surname, address): the family and the workers who
  visit it;
- a user: their own feed (its name carries theirs);
- a venue or a municipality: every feed, through the shared row.

Only owners that have a feed have a row, so the updates for the others touch
nothing. Bulk UPDATE or DELETE statements bypass the session's flush: one that
changes what a feed shows must call `touch` itself (none does today).
"""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

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
# a worker's last sign-in) leaves the feeds as they are.
FAMILY_SHOWN = ("reference", "surname", "address", "municipality_id")
GROUP_SHOWN = ("name", "venue_id", "status", "facilitators")
USER_SHOWN = ("name",)
PLACE_SHOWN = ("name",)


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


def _values(obj, attribute: str) -> set:
    """An attribute's value now and before this flush (collections flattened)."""
    history = sa.inspect(obj).attrs[attribute].load_history()
    found = set()
    for value in (*history.added, *history.unchanged, *history.deleted):
        if value is None:
            continue
        found.add(value.id if hasattr(value, "id") else value)
    return found


def _changed(obj, *attributes) -> bool:
    """Whether a pending, deleted or changed object differs in what feeds show."""
    state = sa.inspect(obj)
    if state.pending or state.deleted or not state.persistent:
        return True
    return any(state.attrs[name].history.has_changes() for name in attributes)


def _ids(objects) -> set[int]:
    return {obj.id for obj in objects if obj.id is not None}


def _parents(obj, key: str, relation: str) -> set[int]:
    """The ids a foreign key points to now and before, or, on a new row whose key
    is not yet set, that of the object its relationship was given."""
    parent = getattr(obj, relation)
    return _values(obj, key) | _ids([parent] if parent is not None else [])


class _Reach:
    """The owners whose feeds one flush changes."""

    def __init__(self, session: Session):
        self.session = session
        self.owners: set[tuple[str, int]] = set()
        self.groups: set[int] = set()

    def add(self, owner_type: str, ids) -> None:
        self.owners.update((owner_type, owner_id) for owner_id in ids if owner_id)

    def visit(self, visit: HomeVisit) -> None:
        self.add("family", _parents(visit, "family_id", "family"))
        self.add("worker", _values(visit, "workers"))

    def group(self, group: PeerGroup) -> None:
        if group.id is not None and _changed(group, *GROUP_SHOWN):
            self.groups.add(group.id)
        self.add("worker", _values(group, "facilitators"))

    def family(self, family: Family) -> None:
        if family.id is None or not _changed(family, *FAMILY_SHOWN):
            return
        self.add("family", [family.id])
        self.add("worker", self.session.scalars(
            sa.select(visit_workers.c.user_id).distinct()
            .join(HomeVisit, HomeVisit.id == visit_workers.c.visit_id)
            .where(HomeVisit.family_id == family.id)))

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
    reach = _Reach(session)
    everywhere = False
    with session.no_autoflush:
        for obj in (*session.new, *session.dirty, *session.deleted):
            if isinstance(obj, HomeVisit):
                reach.visit(obj)
            elif isinstance(obj, GroupSession):
                reach.groups.update(_parents(obj, "group_id", "group"))
            elif isinstance(obj, PeerGroup):
                reach.group(obj)
            elif isinstance(obj, Enrollment):
                reach.add("family", _parents(obj, "family_id", "family"))
            elif isinstance(obj, Family):
                reach.family(obj)
            elif isinstance(obj, User) and _changed(obj, *USER_SHOWN):
                reach.add("worker", _ids([obj]))
            elif isinstance(obj, Venue | Municipality) and _changed(obj, *PLACE_SHOWN):
                everywhere = True
        reach.of_groups()
        if everywhere:
            reach.owners.add(EVERY_FEED)
        if reach.owners:
            touch(session, reach.owners)


def register() -> None:
    """Listen to every session of the app's `db` (once per process)."""
    if not sa.event.contains(db.session, "before_flush", _before_flush):
        sa.event.listen(db.session, "before_flush", _before_flush)
