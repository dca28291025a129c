"""The audit log: every read and change of a family record is written down.

The log is written, never edited: no page or endpoint changes it, and the
session refuses to flush an update or a delete of an event, or to run an
UPDATE or DELETE statement on the table through the ORM (once `connect`ed by
``create_app``).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy.orm import Session

from core.localtime import local_datetime
from core.models import AuditEvent
from extensions import db


class AuditLogImmutable(RuntimeError):
    """An attempt to change or remove an audit event."""


def record(actor, action: str, target_type: str, target_id: int | None, *,
           at, origin: str | None = None, detail: dict | None = None) -> AuditEvent:
    """Add an audit event to the session (the request's commit writes it).

    ``detail`` carries codes and field names only, never the personal data
    itself: the log must not become a second copy of the records.
    ``origin`` is the client's address; in a request it defaults to the
    request's own (``remote_addr``, which ProxyFix sets from the trusted
    proxies), so no service has to pass it for the trail to say where from.
    Commands and background jobs have none.
    """
    if origin is None and has_request_context():
        origin = request.remote_addr
    event = AuditEvent(
        at=at,
        actor_id=getattr(actor, "id", None),
        actor_email=getattr(actor, "email", None),
        action=action,
        target_type=target_type,
        target_id=target_id,
        remote_addr=origin,
        detail=detail or {},
    )
    db.session.add(event)
    return event


# --- the log cannot be edited ------------------------------------------------

def _refuse_changes_to_events(session, _flush_context, _instances):
    """An audit event is only ever inserted."""
    for instance in session.deleted:
        if isinstance(instance, AuditEvent):
            raise AuditLogImmutable("audit events cannot be deleted")
    for instance in session.dirty:
        if isinstance(instance, AuditEvent) and session.is_modified(instance):
            raise AuditLogImmutable("audit events cannot be changed")


def _refuse_bulk_changes_to_events(state):
    """Nor through ``session.execute(update(AuditEvent))`` or ``delete(...)``."""
    if (state.is_update or state.is_delete) and any(
            mapper.class_ is AuditEvent for mapper in state.all_mappers):
        raise AuditLogImmutable("audit events cannot be changed or deleted")


# Every ORM session, not only the app's: a script's or a test's own session is
# held to the same rule.
LISTENERS = (("before_flush", _refuse_changes_to_events),
             ("do_orm_execute", _refuse_bulk_changes_to_events))


def connect() -> None:
    """Make every ORM session refuse to change or delete audit events (once per
    process: connecting again adds nothing)."""
    for name, listener in LISTENERS:
        if not sa.event.contains(Session, name, listener):
            sa.event.listen(Session, name, listener)


# --- searching the log -------------------------------------------------------

@dataclass(frozen=True)
class AuditFilters:
    """What the admin's search asks for; each field None when not asked."""

    actor_email: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: int | None = None
    family_id: int | None = None
    start: datetime | None = None   # inclusive, an instant
    end: datetime | None = None     # exclusive, an instant


def search_query(filters: AuditFilters) -> sa.Select:
    """Events matching the filters, newest first.

    A family's events are those that name it as their target; events of its
    visits, members and group seats name the family too.
    """
    query = sa.select(AuditEvent)
    if filters.actor_email:
        query = query.where(sa.func.lower(AuditEvent.actor_email)
                            == filters.actor_email.strip().lower())
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.target_type:
        query = query.where(AuditEvent.target_type == filters.target_type)
    if filters.target_id is not None:
        query = query.where(AuditEvent.target_id == filters.target_id)
    if filters.family_id is not None:
        query = query.where(AuditEvent.target_type == "family",
                            AuditEvent.target_id == filters.family_id)
    if filters.start is not None:
        query = query.where(AuditEvent.at >= filters.start)
    if filters.end is not None:
        query = query.where(AuditEvent.at < filters.end)
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def known_actions() -> list[str]:
    """The actions the log holds, for the search's choices."""
    return list(db.session.scalars(
        sa.select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def known_target_types() -> list[str]:
    """The kinds of target the log holds, for the search's choices."""
    return list(db.session.scalars(
        sa.select(AuditEvent.target_type).distinct().order_by(AuditEvent.target_type)))


def day_bounds(first: date | None, last: date | None, zone) -> tuple:
    """Local dates as the instants that bound them: [first 00:00, last+1 00:00)."""
    start = local_datetime(first, datetime.min.time(), zone) if first else None
    end = None
    if last:
        end = local_datetime(last + timedelta(days=1), datetime.min.time(), zone)
    return start, end
