"""Factories for report tests: families referred on a given day, visits at a
given local time, seats in groups and attendance, written straight to the
tables the reports read."""

from datetime import UTC, date, datetime, time, timedelta

from calendars.models import HomeVisit
from core.clock import FixedClock
from core.localtime import local_datetime
from extensions import db
from groups.models import Attendance, Enrollment
from tests.conftest import HELSINKI, NOW, make_family

# Groups are made before their sessions, which are in the first half of 2026.
JANUARY = FixedClock(datetime(2026, 1, 2, 9, 0, tzinfo=UTC))


def referred_family(actor, referred: date, *, track="preventive", municipality="Mikkeli",
                    source=None, status="referred", social_worker=None, workers=()):
    """A family referred on a day, with a status, through the family service."""
    family = make_family(actor, track=track, municipality=municipality,
                         referral_source=source, social_worker=social_worker,
                         workers=workers)
    family.referral_date = referred
    family.status = status
    db.session.commit()
    return family


def local(day: date, at: str) -> datetime:
    """An instant from a local day and a wall-clock time ("23:30")."""
    return local_datetime(day, time.fromisoformat(at), HELSINKI)


def add_visit(family, workers, start: datetime, *, kind="home_visit", status="done"):
    """A visit of a family at an instant, lasting an hour."""
    visit = HomeVisit(family_id=family.id, kind=kind, start=start,
                      end=start + timedelta(hours=1), municipality_id=family.municipality_id,
                      status=status, workers=list(workers), created_at=NOW, updated_at=NOW)
    db.session.add(visit)
    db.session.commit()
    return visit


def add_enrollment(group, family, *, status="enrolled", enrolled_at=None, position=None):
    """A seat (or a waiting position) of a family in a group."""
    enrollment = Enrollment(group_id=group.id, family_id=family.id, status=status,
                            position=position, requested_at=NOW,
                            enrolled_at=enrolled_at if status != "waitlisted" else None)
    db.session.add(enrollment)
    db.session.commit()
    return enrollment


def add_attendance(session, family, present: bool):
    """Whether the family's first member attended a session."""
    db.session.add(Attendance(session_id=session.id, member_id=family.members[0].id,
                              present=present, recorded_at=NOW))
    db.session.commit()


def table(body: dict, name: str) -> dict:
    """A table of an API answer by name, as {row key: {column: value}}."""
    found = next(item for item in body["tables"] if item["name"] == name)
    return {row["key"]: row["values"] for row in found["rows"]}


def add_reminder(family, channel: str, status: str, send_at: datetime, number=[0]):  # noqa: B006
    """An outbox row of a family's first member, as the dispatcher left it."""
    from reminders.models import Reminder

    number[0] += 1
    db.session.add(Reminder(
        idempotency_key=f"report-test-{number[0]}", purpose="reminder",
        event_type="home_visit", event_id=number[0], event_start=send_at + timedelta(days=1),
        family_id=family.id, member_id=family.members[0].id, channel=channel,
        send_at=send_at, status=status, created_at=NOW, updated_at=NOW,
        sent_at=send_at if status == "sent" else None))
    db.session.commit()
