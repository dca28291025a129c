"""A group's session series: its rule, the dates it skips, and its single sessions."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from accounts.models import User
from core.errors import NotFound, ValidationFailed
from core.holidays import days_off
from core.localtime import EARLIEST_DAY, LATEST_DAY, local_datetime, to_local
from core.locks import lock_calendars
from core.models import BlackoutDate
from core.places import venue_named
from core.recurrence import (
    MAX_OCCURRENCES,
    MAX_SPAN,
    Occurrence,
    Schedule,
    SeriesRule,
    materialise,
)
from extensions import db
from groups.models import SESSION_STATUSES, GroupSession, PeerGroup, SessionSeries
from groups.permissions import can_manage, require
from groups.signals import sessions_changed

# Dates outside these are typing errors (and would overflow date arithmetic).
EARLIEST, LATEST = EARLIEST_DAY, LATEST_DAY
MAX_DURATION_MINUTES = 12 * 60


def get_session(session_id: int) -> GroupSession:
    """A session by id, or not found."""
    session = db.session.get(GroupSession, session_id)
    if session is None:
        raise NotFound(_("No such session."))
    return session


@dataclass
class SeriesPlan:
    """A series rule and the single dates added to it or removed from it."""

    rule: SeriesRule
    added: tuple[date, ...] = ()
    removed: tuple[date, ...] = ()


def series_rule(*, weekday, start_time, duration_minutes, first_date, count=None,
                until=None, interval_weeks=1) -> SeriesRule:
    """A series rule from its fields, or field errors people can act on."""
    errors = {}
    if not isinstance(weekday, int) or not 1 <= weekday <= 7:
        errors["weekday"] = _("Choose a weekday.")
    if not EARLIEST <= first_date <= LATEST:
        errors["first_date"] = _("Choose a date between %(low)s and %(high)s.",
                                 low=EARLIEST.isoformat(), high=LATEST.isoformat())
    if not isinstance(duration_minutes, int) or not 1 <= duration_minutes <= MAX_DURATION_MINUTES:
        errors["duration_minutes"] = _("The duration is 1 to %(n)d minutes.",
                                       n=MAX_DURATION_MINUTES)
    if interval_weeks not in (1, 2):
        errors["interval_weeks"] = _("A series meets every week or every other week.")
    if (count is None) == (until is None):
        errors["count"] = _("Give either the number of sessions or the last date.")
    elif count is not None and not 1 <= count <= MAX_OCCURRENCES:
        errors["count"] = _("A series has 1 to %(n)d sessions.", n=MAX_OCCURRENCES)
    elif until is not None and until < first_date:
        errors["until"] = _("The last date cannot be before the first date.")
    elif until is not None and until > first_date + MAX_SPAN:
        errors["until"] = _("A series lasts at most two years.")
    if errors:
        raise ValidationFailed(_("Check the session series."), fields=errors)
    return SeriesRule(weekday=weekday, start_time=start_time,
                      duration_minutes=duration_minutes, first_date=first_date,
                      count=count, until=until, interval_weeks=interval_weeks)


def days_off_between(start: date, end: date, language="fi") -> dict[date, str]:
    """Finnish holidays and the admin's blackout dates, with their reasons."""
    blackouts = dict(db.session.execute(
        sa.select(BlackoutDate.day, BlackoutDate.reason).where(
            BlackoutDate.day.between(start, end))).all())
    return days_off(start, end, blackouts, language)


def preview(plan: SeriesPlan, zone, language="fi") -> Schedule:
    """The dates a series will have and the ones it skips, before anything is saved.

    Dates removed by hand are reported as skipped with their own reason; dates
    added by hand join the occurrences in order.
    """
    limit = plan.rule.first_date + MAX_SPAN
    if any(not plan.rule.first_date - timedelta(days=366) <= day <= limit
           for day in plan.added):
        message = _("Added dates are within two years of the series.")
        raise ValidationFailed(message, fields={"added_dates": message})
    horizon = plan.rule.until or plan.rule.first_date + timedelta(weeks=2 * MAX_OCCURRENCES + 60)
    last_added = max(plan.added, default=plan.rule.first_date)
    calendar = days_off_between(plan.rule.first_date, max(horizon, last_added), language)
    removed = set(plan.removed)
    removed_reason = _("removed by hand")

    def day_off(day):
        if day in removed:
            return removed_reason
        return calendar.get(day)

    schedule = materialise(plan.rule, zone, day_off)
    taken = {occurrence.day for occurrence in schedule.occurrences}
    for day in sorted(set(plan.added) - taken - removed):
        start = local_datetime(day, plan.rule.start_time, zone)
        schedule.occurrences.append(Occurrence(
            day, start, start + timedelta(minutes=plan.rule.duration_minutes)))
    schedule.occurrences.sort(key=lambda occurrence: occurrence.start)
    return schedule


def apply_series(group: PeerGroup, plan: SeriesPlan, *, zone, now: datetime) -> Schedule:
    """Make the group's sessions follow its series; return the schedule used.

    Sessions in the past and sessions changed by hand are kept as they are.
    A future session whose date is still in the series keeps its identity (and
    calendar UID) and has its times updated; one whose date left the series is
    deleted while the group is a draft, and cancelled once families may have
    seen it.
    """
    schedule = preview(plan, zone)
    series = group.series[0] if group.series else SessionSeries()
    rule = plan.rule
    series.weekday, series.start_time = rule.weekday, rule.start_time
    series.duration_minutes, series.first_date = rule.duration_minutes, rule.first_date
    series.count, series.until, series.interval_weeks = rule.count, rule.until, \
        rule.interval_weeks
    series.added_dates = [day.isoformat() for day in sorted(set(plan.added))]
    series.removed_dates = [day.isoformat() for day in sorted(set(plan.removed))]
    if series not in group.series:
        group.series.append(series)
    wanted = {occurrence.day: occurrence for occurrence in schedule.occurrences}
    for session in list(group.sessions):
        day = session.series_date or to_local(session.start, zone).date()
        if session.start < now or session.changed_by_hand or session.status == "cancelled":
            wanted.pop(day, None)
            continue
        occurrence = wanted.pop(day, None)
        if occurrence is None:
            if group.status == "draft":
                group.sessions.remove(session)
            else:
                cancel_session(session, now)
        elif (session.start, session.end) != (occurrence.start, occurrence.end):
            session.start, session.end = occurrence.start, occurrence.end
            session.sequence += 1
            session.updated_at = now
    for occurrence in wanted.values():
        if occurrence.start >= now:
            group.sessions.append(GroupSession(
                series=series, start=occurrence.start, end=occurrence.end,
                series_date=occurrence.day,
                changed_by_hand=occurrence.day in plan.added, created_at=now,
                updated_at=now))
    return schedule


def cancel_session(session: GroupSession, now: datetime) -> None:
    """Cancel a session; its ``sequence`` goes up so that calendars drop it."""
    session.status = "cancelled"
    session.sequence += 1
    session.updated_at = now


def change_session(actor: User, session: GroupSession, *, start=None, end=None,
                   venue=None, status=None, clock) -> GroupSession:
    """Move a single session, change its venue, cancel or restore it.

    Its ``sequence`` goes up so that calendars replace their copy, and the
    series leaves it alone from now on.
    """
    require(can_manage(actor, session.group), _("You may not change this group."))
    new_start = start or session.start
    new_end = end or (new_start + (session.end - session.start) if start else session.end)
    if new_end <= new_start:
        raise ValidationFailed(_("Check the session's times."),
                               fields={"end": _("The end must be after the start.")})
    if status is not None and status not in SESSION_STATUSES:
        raise ValidationFailed(_("Unknown status."), fields={"status": _("Unknown status.")})
    if (new_start, new_end) != (session.start, session.end) or status == "scheduled":
        # Time on the facilitators' calendars: a booking for them waits, then sees it.
        lock_calendars(user.id for user in session.group.facilitators)
    changed = False
    if (new_start, new_end) != (session.start, session.end):
        session.start, session.end = new_start, new_end
        changed = True
    if venue is not None:
        # An empty name puts the session back at the group's own venue.
        venue_row = venue_named(venue) if venue else None
        if venue_row is not session.venue_override:
            session.venue_override = venue_row
            changed = True
    if status is not None and status != session.status:
        session.status = status
        changed = True
    if changed:
        session.sequence += 1
        session.changed_by_hand = True
        session.updated_at = clock.now()
        db.session.flush()
        sessions_changed.send("groups", session_ids=[session.id], now=clock.now())
    return session


def upcoming_sessions(group: PeerGroup, now: datetime) -> list[GroupSession]:
    """The group's sessions still to come and not cancelled, in the stored order."""
    return [session for session in group.sessions
            if session.status == "scheduled" and session.start >= now]
