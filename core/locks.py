"""Calendar locks: one writer at a time on a worker's (and a family's) calendar.

A booking reads what the calendar already holds, decides that the new time
does not clash, and writes it. Two such transactions at once would both read
"free" and both write, so every path that puts time on a calendar takes these
locks before it reads anything, and holds them until its transaction ends.

On PostgreSQL they are transaction-scoped advisory locks, one per calendar,
keyed by a namespace and the id: bookings for other workers never wait. They
are taken in one order (the family first, then the workers by id), so two
transactions that want the same calendars queue instead of deadlocking; a
transaction therefore takes them in one call, for all its calendars.

SQLite has one writer for the whole database; the driver begins a transaction
only at the first write, so the reads before it would run unserialised. A
write that changes nothing takes the database's write lock at once instead.
"""

from collections.abc import Iterable

import sqlalchemy as sa

from core.models import Municipality
from extensions import db

# The first key of pg_advisory_xact_lock(key1, key2); the second is the id.
# Chosen not to collide with other locks of the application or its neighbours.
FAMILY_CALENDAR = 0x50540001
WORKER_CALENDAR = 0x50540002


def lock_calendars(worker_ids: Iterable[int], family_id: int | None = None) -> None:
    """Wait for, and hold until the transaction ends, the calendars of some
    workers (and of a family)."""
    keys = [(WORKER_CALENDAR, user_id) for user_id in sorted(set(worker_ids))]
    if family_id is not None:
        keys.insert(0, (FAMILY_CALENDAR, family_id))
    if not keys:
        return
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        for namespace, key in keys:
            db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(
                sa.cast(namespace, sa.Integer), sa.cast(key, sa.Integer))))
    elif dialect == "sqlite":
        table = Municipality.__table__
        db.session.execute(sa.update(table).where(sa.false()).values(name=table.c.name))
