"""The audit log: every read and change of a family record is written down."""

from core.models import AuditEvent
from extensions import db


def record(actor, action: str, target_type: str, target_id: int | None, *,
           at, origin: str | None = None, detail: dict | None = None) -> AuditEvent:
    """Add an audit event to the session (the request's commit writes it).

    ``detail`` carries codes and field names only, never the personal data
    itself: the log must not become a second copy of the records.
    """
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
