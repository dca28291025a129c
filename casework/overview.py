"""What a family's page shows, gathered from every package that holds part of it."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from accounts.models import User
from calendars import services as calendar_services
from calendars.models import HomeVisit
from casework import privacy
from extensions import db
from families import services as family_services
from families.models import Family
from groups import permissions as group_permissions
from groups.models import ACTIVE_ENROLLMENT, Enrollment
from reminders import services as reminder_services
from reminders.models import Reminder

# How many visits each list on the page shows, and how far it looks either way.
VISITS_SHOWN = 5
VISITS_RANGE = timedelta(days=366)


@dataclass(frozen=True)
class FamilyVisits:
    """A family's next visits and its latest past ones."""

    upcoming: list[HomeVisit]
    recent: list[HomeVisit]


@dataclass(frozen=True)
class GroupSeat:
    """A family's seat or waiting-list position in a group, and whether the user
    may withdraw it."""

    enrollment: Enrollment
    may_withdraw: bool


@dataclass(frozen=True)
class FamilyReminders:
    """A family's messages to come and the guardians who stopped them by a link."""

    upcoming: list[Reminder]
    opted_out: dict[int, datetime]
    may_see_outbox: bool


@dataclass(frozen=True)
class FamilyOverview:
    """Everything on a family's page beyond the family's own rows, as the user may
    see and change it."""

    family: Family
    address: str | None
    may_edit: bool
    may_work: bool
    may_export: bool
    may_close: bool
    may_book_visit: bool
    visits: FamilyVisits
    may_place: bool
    group_seats: list[GroupSeat]
    reminders: FamilyReminders


def family_overview(user: User, family: Family, *, now: datetime) -> FamilyOverview:
    """What ``user`` sees on the page of ``family`` (which they may see) at ``now``.

    Each package answers its own part through its own rules: the visits the
    user may see (calendars), the seats and whether the family may be placed
    (groups' ``can_enroll``), the messages to come (reminders).
    """
    return FamilyOverview(
        family=family,
        address=family_services.shown_address(user, family),
        may_edit=family_services.can_edit_family(user, family),
        may_work=family_services.can_edit_members_and_plan(user, family),
        may_export=privacy.can_export(user, family),
        may_close=privacy.can_close(user, family),
        may_book_visit=calendar_services.can_book_for(user, family),
        visits=_visits(user, family, now),
        # Without a group: whether the user may place the family in any group.
        may_place=group_permissions.can_enroll(user, None, family),
        group_seats=[GroupSeat(enrollment,
                               group_permissions.can_enroll(user, enrollment.group, family))
                     for enrollment in _group_seats(family)],
        reminders=FamilyReminders(
            upcoming=reminder_services.upcoming_of_family(family.id),
            opted_out=reminder_services.opt_outs_of_family(family.id),
            may_see_outbox=reminder_services.may_see_outbox(user)),
    )


def _visits(user: User, family: Family, now: datetime) -> FamilyVisits:
    upcoming = calendar_services.visits_query(
        user, start=now, end=now + VISITS_RANGE, family_id=family.id).limit(VISITS_SHOWN)
    recent = (calendar_services.visits_query(user, start=now - VISITS_RANGE, end=now,
                                             family_id=family.id)
              .where(HomeVisit.end <= now).order_by(None)
              .order_by(HomeVisit.start.desc()).limit(VISITS_SHOWN))
    return FamilyVisits(list(db.session.scalars(upcoming)), list(db.session.scalars(recent)))


def _group_seats(family: Family) -> list[Enrollment]:
    """The family's seats and waiting-list positions, oldest request first."""
    return list(db.session.scalars(
        sa.select(Enrollment).where(Enrollment.family_id == family.id,
                                    Enrollment.status.in_(ACTIVE_ENROLLMENT))
        .order_by(Enrollment.requested_at, Enrollment.id)
        .options(selectinload(Enrollment.group), selectinload(Enrollment.members))))
