"""The rules of peer groups: series, sessions, places, the waiting list, attendance.

Places are counted under a lock on the group's row (``_lock_roster``), taken
by raising its ``roster_version``: a row lock on PostgreSQL and the write lock
on SQLite. Every change of the roster or the waiting list takes it first, so
any number of web processes can enroll and withdraw at once without going over
capacity or leaving a gap on the waiting list.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from accounts.models import User
from core import audit
from core.errors import Conflict, Forbidden, NotFound, RuleViolation, ValidationFailed
from core.holidays import days_off
from core.localtime import EARLIEST_DAY, LATEST_DAY, local_datetime, local_today, to_local
from core.locks import lock_calendars
from core.models import BlackoutDate
from core.places import municipalities_named, venue_named
from core.recurrence import (
    MAX_OCCURRENCES,
    MAX_SPAN,
    Occurrence,
    Schedule,
    SeriesRule,
    materialise,
)
from core.roles import ADMIN, COORDINATOR, FAMILY_WORKER
from core.vocabulary import (
    ENROLLING_STATUSES,  # noqa: F401 (importable from here)
    LANGUAGES,
    SUPPORT_AREAS,
    TRACKS,
)
from core.wording import forbidden_words, may_leave
from extensions import db
from families.models import Family, Member
from families.services import (
    booking_refusal,
    ensure_bookable,
    family_plan_state,
)
from families.services import can_see as can_see_family
from groups import eligibility
from groups.models import (
    ACTIVE_ENROLLMENT,
    DESCRIPTION_MAX,
    NAME_MAX,
    SESSION_STATUSES,
    Attendance,
    Enrollment,
    GroupSession,
    PeerGroup,
    SessionSeries,
)
from groups.signals import group_changed, sessions_changed

MAX_AGE_MONTHS = 18 * 12
# Dates outside these are typing errors (and would overflow date arithmetic).
EARLIEST, LATEST = EARLIEST_DAY, LATEST_DAY
MAX_CAPACITY = 100
MAX_DURATION_MINUTES = 12 * 60

# Which status may follow which; anything else is refused.
TRANSITIONS = {
    "draft": {"open", "cancelled"},
    "open": {"draft", "running", "cancelled"},
    "running": {"finished", "cancelled"},
    "finished": set(),
    "cancelled": set(),
}


# --- who may do what -------------------------------------------------------

def can_manage(user: User, group: PeerGroup | None = None) -> bool:
    """Admins manage every group; coordinators those serving their municipalities."""
    if user.role == ADMIN:
        return True
    if user.role != COORDINATOR:
        return False
    if group is None:
        return True
    return bool(set(group.municipalities) & set(user.municipalities))


def can_see_roster(user: User, group: PeerGroup) -> bool:
    """The roster names families: managers and the group's facilitators only."""
    return can_manage(user, group) or user in group.facilitators


def can_record_attendance(user: User, group: PeerGroup) -> bool:
    """Facilitators record attendance; managers may correct it."""
    return can_see_roster(user, group)


def can_enroll(user: User, group: PeerGroup | None, family: Family) -> bool:
    """Managers place families they see; a family worker their own families.

    Without a group: whether the user may place the family in some group (a
    coordinator manages those serving their municipalities).
    """
    if not can_see_family(user, family):
        return False
    if can_manage(user, group):
        return True
    return user.role == FAMILY_WORKER and user in family.family_workers


def _require(allowed: bool, message) -> None:
    if not allowed:
        raise Forbidden(message)


def get_group(group_id: int) -> PeerGroup:
    """A group by id, or not found. Groups themselves are known to all staff."""
    group = db.session.get(PeerGroup, group_id)
    if group is None:
        raise NotFound(_("No such group."))
    return group


def get_session(session_id: int) -> GroupSession:
    session = db.session.get(GroupSession, session_id)
    if session is None:
        raise NotFound(_("No such session."))
    return session


def get_enrollment(enrollment_id: int) -> Enrollment:
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None:
        raise NotFound(_("No such enrollment."))
    return enrollment


# --- counting places -------------------------------------------------------

def enrolled_count(group: PeerGroup) -> int:
    return db.session.scalar(sa.select(sa.func.count(Enrollment.id)).where(
        Enrollment.group_id == group.id, Enrollment.status == "enrolled"))


def waiting_count(group: PeerGroup) -> int:
    return db.session.scalar(sa.select(sa.func.count(Enrollment.id)).where(
        Enrollment.group_id == group.id, Enrollment.status == "waitlisted"))


def free_places(group: PeerGroup) -> int:
    return max(group.capacity - enrolled_count(group), 0)


def roster(group: PeerGroup) -> list[Enrollment]:
    """Families with a place, in the order they got it."""
    return list(db.session.scalars(sa.select(Enrollment).where(
        Enrollment.group_id == group.id, Enrollment.status == "enrolled")
        .order_by(Enrollment.enrolled_at, Enrollment.id)
        .options(selectinload(Enrollment.family), selectinload(Enrollment.members))))


def waiting_list(group: PeerGroup) -> list[Enrollment]:
    """Waiting families by position."""
    return list(db.session.scalars(sa.select(Enrollment).where(
        Enrollment.group_id == group.id, Enrollment.status == "waitlisted")
        .order_by(Enrollment.position)
        .options(selectinload(Enrollment.family), selectinload(Enrollment.members))))


def _lock_roster(group: PeerGroup) -> None:
    """Serialise changes of one group's places (see the module docstring).

    The group's own attributes are read again afterwards: another transaction
    may have changed its capacity while this one waited.
    """
    db.session.flush()
    db.session.execute(sa.update(PeerGroup).where(PeerGroup.id == group.id).values(
        roster_version=PeerGroup.roster_version + 1).execution_options(
        synchronize_session=False))
    db.session.refresh(group)


def _shift_waiting_list(group: PeerGroup, after: int, by: int) -> None:
    """Move everyone waiting behind ``after`` forward by ``by`` places.

    Done in two statements through negative numbers, because a unique index
    keeps positions distinct and is checked row by row while one UPDATE runs.
    """
    waiting = sa.and_(Enrollment.group_id == group.id, Enrollment.status == "waitlisted")
    db.session.execute(sa.update(Enrollment).where(waiting, Enrollment.position > after)
                       .values(position=-(Enrollment.position - by))
                       .execution_options(synchronize_session=False))
    db.session.execute(sa.update(Enrollment).where(waiting, Enrollment.position < 0)
                       .values(position=-Enrollment.position)
                       .execution_options(synchronize_session=False))


def _promote(group: PeerGroup, now: datetime, zone=None) -> list[Enrollment]:
    """Give free places to the first on the waiting list who still fit the group
    (``check_family_fits``); return who moved up. One who no longer fits keeps
    waiting, and the one behind is promoted."""
    free = group.capacity - enrolled_count(group)
    if free <= 0:
        return []
    waiting = list(db.session.scalars(
        sa.select(Enrollment).where(Enrollment.group_id == group.id,
                                    Enrollment.status == "waitlisted")
        .order_by(Enrollment.position).execution_options(populate_existing=True)))
    day = first_day_ahead(group, now, zone)
    promoted, passed_over = [], False
    for enrollment in waiting:
        if len(promoted) == free:
            break
        try:
            check_family_fits(group, enrollment.family, enrollment.members, day)
        except (RuleViolation, ValidationFailed):
            passed_over = True
            continue
        promoted.append(enrollment)
    for enrollment in promoted:
        enrollment.status = "enrolled"
        enrollment.position = None
        enrollment.enrolled_at = now
    db.session.flush()
    if promoted and passed_over:
        _renumber_waiting_list(group)
    elif promoted:
        _shift_waiting_list(group, 0, len(promoted))
    return promoted


def _renumber_waiting_list(group: PeerGroup) -> None:
    """Number those still waiting 1..n in their order, through negative numbers
    as ``_shift_waiting_list`` does."""
    waiting = list(db.session.scalars(
        sa.select(Enrollment).where(Enrollment.group_id == group.id,
                                    Enrollment.status == "waitlisted")
        .order_by(Enrollment.position)))
    for rank, enrollment in enumerate(waiting, start=1):
        enrollment.position = -rank
    db.session.flush()
    for enrollment in waiting:
        enrollment.position = -enrollment.position
    db.session.flush()


# --- series and sessions ---------------------------------------------------

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
                _cancel(session, now)
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


def _cancel(session: GroupSession, now: datetime) -> None:
    session.status = "cancelled"
    session.sequence += 1
    session.updated_at = now


def change_session(actor: User, session: GroupSession, *, start=None, end=None,
                   venue=None, status=None, clock) -> GroupSession:
    """Move a single session, change its venue, cancel or restore it.

    Its ``sequence`` goes up so that calendars replace their copy, and the
    series leaves it alone from now on.
    """
    _require(can_manage(actor, session.group), _("You may not change this group."))
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
    return [session for session in group.sessions
            if session.status == "scheduled" and session.start >= now]


# --- groups ----------------------------------------------------------------

def _check_group_fields(fields: dict) -> dict:
    """Field checks shared by creating and changing a group."""
    errors = {}
    if "name" in fields and not (fields["name"] or "").strip():
        errors["name"] = _("This field is required.")
    if len(fields.get("name") or "") > NAME_MAX:
        errors["name"] = _("At most %(n)d characters.", n=NAME_MAX)
    if fields.get("public_title"):
        problem = public_title_problem(fields["public_title"])
        if problem:
            errors["public_title"] = problem
    if len(fields.get("description") or "") > DESCRIPTION_MAX:
        errors["description"] = _("At most %(n)d characters.", n=DESCRIPTION_MAX)
    if any(theme not in SUPPORT_AREAS for theme in fields.get("themes", ())):
        errors["themes"] = _("Unknown support area.")
    if "tracks" in fields and (not fields["tracks"]
                               or any(track not in TRACKS for track in fields["tracks"])):
        errors["tracks"] = _("Choose the tracks the group is for.")
    if "language" in fields and fields["language"] not in LANGUAGES:
        errors["language"] = _("Unknown language code.")
    for name in ("min_age_months", "max_age_months"):
        if name in fields and not 0 <= fields[name] <= MAX_AGE_MONTHS:
            errors[name] = _("Ages are 0 to %(n)d months.", n=MAX_AGE_MONTHS)
    if "capacity" in fields and not 1 <= fields["capacity"] <= MAX_CAPACITY:
        errors["capacity"] = _("The capacity is 1 to %(n)d families.", n=MAX_CAPACITY)
    if "municipalities" in fields and not fields["municipalities"]:
        errors["municipalities"] = _("Choose the municipalities the group serves.")
    if errors:
        raise ValidationFailed(_("Check the highlighted fields."), fields=errors)
    return fields


def public_title_problem(title: str) -> str | None:
    """Why a group's public title may not be used, or None: it leaves the system,
    so it holds none of the words that must not (``core.wording``)."""
    if len(title) > NAME_MAX:
        return _("At most %(n)d characters.", n=NAME_MAX)
    words = forbidden_words(title)
    if words:
        return _("The public title is shown in calendars and reminders; it may not"
                 " say \"%(word)s\".", word=words[0])
    return None


def default_public_title(name: str) -> str:
    """A new group's public title when none is given: its name if the name may
    leave the system, else none (feeds and reminders say "group meeting")."""
    name = (name or "").strip()
    return name if may_leave(name) else ""


def _facilitators(user_ids) -> list[User]:
    users = []
    for user_id in dict.fromkeys(user_ids):
        user = db.session.get(User, user_id)
        if user is None or not user.active or user.role != FAMILY_WORKER:
            message = _("Facilitators are active family workers.")
            raise ValidationFailed(message, fields={"facilitator_ids": message})
        users.append(user)
    return users


def _check_window(opens, closes) -> None:
    if opens and closes and closes < opens:
        message = _("Enrollment cannot close before it opens.")
        raise ValidationFailed(message, fields={"enrollment_closes": message})


def _check_ages(minimum, maximum) -> None:
    if maximum < minimum:
        message = _("The oldest age cannot be below the youngest.")
        raise ValidationFailed(message, fields={"max_age_months": message})


def create_group(actor: User, *, name, capacity, municipalities, tracks, themes=(),
                 public_title=None,
                 description="", min_age_months=0, max_age_months=MAX_AGE_MONTHS,
                 language="fi", venue=None, facilitator_ids=(), enrollment_opens=None,
                 enrollment_closes=None, series: SeriesPlan | None = None, zone,
                 clock) -> PeerGroup:
    """Create a group as a draft, with its sessions when a series is given."""
    _require(can_manage(actor), _("Your role does not allow organising groups."))
    _check_group_fields({"name": name, "public_title": public_title,
                         "description": description, "themes": themes,
                         "tracks": tracks, "language": language,
                         "min_age_months": min_age_months,
                         "max_age_months": max_age_months, "capacity": capacity,
                         "municipalities": municipalities})
    _check_ages(min_age_months, max_age_months)
    _check_window(enrollment_opens, enrollment_closes)
    places = municipalities_named(municipalities)
    if actor.role == COORDINATOR and not set(places) <= set(actor.municipalities):
        raise Forbidden(_("A coordinator organises groups for their own municipalities."),
                        fields={"municipalities": _("Not one of your municipalities.")})
    now = clock.now()
    facilitators = _facilitators(facilitator_ids)
    lock_calendars(user.id for user in facilitators)
    group = PeerGroup(
        name=name.strip(), description=(description or "").strip(),
        public_title=(public_title.strip() if public_title is not None
                      else default_public_title(name)),
        themes=list(dict.fromkeys(themes)), min_age_months=min_age_months,
        max_age_months=max_age_months, tracks=list(dict.fromkeys(tracks)),
        language=language, venue=venue_named(venue) if venue else None,
        capacity=capacity, municipalities=places,
        facilitators=facilitators, enrollment_opens=enrollment_opens,
        enrollment_closes=enrollment_closes, status="draft", created_at=now,
        updated_at=now)
    db.session.add(group)
    if series is not None:
        apply_series(group, series, zone=zone, now=now)
    db.session.flush()
    audit.record(actor, "group.create", "group", group.id, at=now)
    return group


def update_group(actor: User, group: PeerGroup, changes: dict, *, zone, clock) -> PeerGroup:
    """Change a group's details, capacity, series or status."""
    _require(can_manage(actor, group), _("You may not change this group."))
    if group.status in ("finished", "cancelled") and set(changes) - {"description"}:
        raise Conflict(_("A finished or cancelled group can no longer be changed."),
                       code="group_closed")
    _check_group_fields(changes)
    now = clock.now()
    minimum = changes.get("min_age_months", group.min_age_months)
    maximum = changes.get("max_age_months", group.max_age_months)
    _check_ages(minimum, maximum)
    _check_window(changes.get("enrollment_opens", group.enrollment_opens),
                  changes.get("enrollment_closes", group.enrollment_closes))
    facilitators = (_facilitators(changes["facilitator_ids"]) if "facilitator_ids" in changes
                    else group.facilitators)
    if {"facilitator_ids", "series", "status"} & set(changes):
        # Sessions put on (or moved on) the facilitators' calendars, the old ones'
        # and the new ones': a booking for them waits for this change, then sees it.
        lock_calendars({user.id for user in [*group.facilitators, *facilitators]})
    for name in ("description", "min_age_months", "max_age_months", "language",
                 "enrollment_opens", "enrollment_closes"):
        if name in changes:
            setattr(group, name, changes[name])
    if "name" in changes:
        group.name = changes["name"].strip()
    if "public_title" in changes:
        group.public_title = (changes["public_title"] or "").strip()
    if "themes" in changes:
        group.themes = list(dict.fromkeys(changes["themes"]))
    if "tracks" in changes:
        group.tracks = list(dict.fromkeys(changes["tracks"]))
    if "venue" in changes:
        group.venue = venue_named(changes["venue"]) if changes["venue"] else None
    if "municipalities" in changes:
        places = municipalities_named(changes["municipalities"])
        if actor.role == COORDINATOR and not set(places) <= set(actor.municipalities):
            raise Forbidden(_("A coordinator organises groups for their own municipalities."))
        group.municipalities = places
    if "facilitator_ids" in changes:
        group.facilitators = facilitators
    if "series" in changes:
        apply_series(group, changes["series"], zone=zone, now=now)
    if "capacity" in changes:
        set_capacity(group, changes["capacity"], now=now, zone=zone)
    if "status" in changes and changes["status"] != group.status:
        set_status(group, changes["status"], now=now)
    group.updated_at = now
    db.session.flush()
    audit.record(actor, "group.update", "group", group.id, at=now,
                 detail={"fields": sorted(changes)})
    group_changed.send("groups", group_id=group.id, now=now)
    return group


def set_capacity(group: PeerGroup, capacity: int, *, now: datetime,
                 zone=None) -> list[Enrollment]:
    """Change the number of places; free places go to the waiting list at once."""
    _lock_roster(group)
    taken = enrolled_count(group)
    if capacity < taken:
        message = _("%(n)d families already have a place: the capacity cannot be lower.",
                    n=taken)
        raise RuleViolation(message, code="capacity_below_enrolled",
                            fields={"capacity": message})
    group.capacity = capacity
    return _promote(group, now, zone)


def set_status(group: PeerGroup, status: str, *, now: datetime) -> None:
    """Move a group along draft -> open -> running -> finished, or cancel it."""
    if status not in TRANSITIONS:
        raise ValidationFailed(_("Unknown status."), fields={"status": _("Unknown status.")})
    if status not in TRANSITIONS[group.status]:
        raise Conflict(_("A group cannot go from %(old)s to %(new)s.",
                         old=group.status, new=status), code="invalid_transition",
                       fields={"status": _("Not allowed from the current status.")})
    if status == "open" and not upcoming_sessions(group, now):
        message = _("A group opens for enrollment only with sessions ahead.")
        raise RuleViolation(message, code="no_upcoming_sessions", fields={"status": message})
    if status in ("finished", "cancelled"):
        _lock_roster(group)
        for enrollment in group.enrollments:
            if enrollment.status in ACTIVE_ENROLLMENT:
                finished = status == "finished" and enrollment.status == "enrolled"
                enrollment.status = "completed" if finished else "withdrawn"
                enrollment.position = None
                enrollment.ended_at = now
    if status == "cancelled":
        for session in upcoming_sessions(group, now):
            _cancel(session, now)
    group.status = status


def search_groups(*, municipality=None, status=None, theme=None, with_free_places=False,
                  text="") -> sa.Select:
    """Groups filtered for the list page and the API, soonest first."""
    query = sa.select(PeerGroup)
    if municipality:
        query = query.where(PeerGroup.municipalities.any(name=municipality))
    if status:
        query = query.where(PeerGroup.status == status)
    if text:
        query = query.where(sa.func.lower(PeerGroup.name).like(f"%{text.lower()}%"))
    if with_free_places:
        taken = (sa.select(sa.func.count(Enrollment.id))
                 .where(Enrollment.group_id == PeerGroup.id, Enrollment.status == "enrolled")
                 .scalar_subquery())
        query = query.where(PeerGroup.capacity > taken)
    query = query.order_by(PeerGroup.status != "open", PeerGroup.name)
    if theme:
        # Themes are a JSON list; filtered here to stay the same on both databases.
        ids = [group.id for group in db.session.scalars(query) if theme in group.themes]
        query = query.where(PeerGroup.id.in_(ids))
    return query.options(selectinload(PeerGroup.municipalities),
                         selectinload(PeerGroup.venue))


# --- enrollment ------------------------------------------------------------

def first_day_ahead(group: PeerGroup, now: datetime, zone=None) -> date:
    """The local day of the group's first session ahead (today without one):
    the day on which attending children's ages are taken."""
    upcoming = upcoming_sessions(group, now)
    return to_local(upcoming[0].start if upcoming else now, zone).date()


def family_terms(family: Family) -> eligibility.FamilyTerms:
    """A family's facts as the eligibility rule reads them."""
    refused = booking_refusal(status=family.status, track=family.track,
                              plan=family_plan_state(family), kind="group_place")
    return eligibility.FamilyTerms(
        track=family.track, municipality_id=family.municipality_id,
        languages=frozenset(family.languages or ()),
        child_birth_dates=tuple(child.birth_date for child in family.children),
        booking_refusal=refused.code if refused is not None else None)


def group_terms(group: PeerGroup, first_day: date | None) -> eligibility.GroupTerms:
    """A group's facts as the eligibility rule reads them, its first session
    ahead on ``first_day`` (None without one)."""
    return eligibility.GroupTerms(
        status=group.status, tracks=frozenset(group.tracks), language=group.language,
        municipality_ids=frozenset(place.id for place in group.municipalities),
        min_age_months=group.min_age_months, max_age_months=group.max_age_months,
        first_day=first_day, enrollment_opens=group.enrollment_opens,
        enrollment_closes=group.enrollment_closes)


def _refuse(reason: str, group: PeerGroup, family: Family, today: date) -> None:
    """Raise the domain error of a reason the eligibility rule gave."""
    if reason == eligibility.GROUP_NOT_OPEN:
        raise Conflict(_("The group is not taking families now."), code="group_not_open")
    if reason == eligibility.ENROLLMENT_CLOSED:
        if group.enrollment_opens and today < group.enrollment_opens:
            raise Conflict(_("Enrollment to this group opens on %(day)s.",
                             day=group.enrollment_opens.isoformat()),
                           code="enrollment_closed")
        raise Conflict(_("Enrollment to this group has closed."), code="enrollment_closed")
    if reason == eligibility.TRACK_NOT_ALLOWED:
        raise RuleViolation(_("The group is not for families on this track."),
                            code="track_not_allowed")
    if reason == eligibility.NO_UPCOMING_SESSIONS:
        raise Conflict(_("The group has no sessions ahead."), code="no_upcoming_sessions")
    # The families' booking rule refused a group place: its own error says why.
    ensure_bookable(family, "group_place")


def check_family_fits(group: PeerGroup, family: Family, members, day: date) -> None:
    """The one rule of who may hold a place in a group, on every path that
    enrolls, promotes from the waiting list or changes who attends.

    The family may have a group place booked (``ensure_bookable``), its track
    is one of the group's (``groups.eligibility``), the members who attend are
    its own, every attending child is within the group's age range on ``day``,
    and the family has a child in that range (guardians may attend without
    their children, as in a parents' group, but for the sake of a child of the
    group's ages).
    """
    terms = family_terms(family)
    # What still holds for a family that has its place: its own refusals, not
    # the group's status, enrollment window or calendar.
    for reason in eligibility.refusals(terms, group_terms(group, day), day):
        if reason in (terms.booking_refusal, eligibility.TRACK_NOT_ALLOWED):
            _refuse(reason, group, family, day)
    _check_attending(group, family, members, day)


def _in_range(group: PeerGroup, child: Member, day: date) -> bool:
    return child.birth_date is not None and eligibility.age_in_range(
        child.birth_date, day, group.min_age_months, group.max_age_months)


def _check_attending(group: PeerGroup, family: Family, members, day: date) -> None:
    message = _("Choose the members of this family who will attend.")
    if not members or any(member.family_id != family.id for member in members):
        raise ValidationFailed(message, fields={"member_ids": message})
    if not any(_in_range(group, child, day) for child in family.children):
        raise RuleViolation(
            _("No child of the family is %(low)d-%(high)d months old on %(day)s, the"
              " first session ahead.", low=group.min_age_months,
              high=group.max_age_months, day=day.isoformat()),
            code="no_child_in_age_range")
    outside = [member.first_name for member in members
               if member.role == "child" and not _in_range(group, member, day)]
    if outside:
        message = _("Only children %(low)d-%(high)d months old on %(day)s, the first"
                    " session ahead, attend this group. Outside that range: %(names)s.",
                    low=group.min_age_months, high=group.max_age_months,
                    day=day.isoformat(), names=", ".join(outside))
        raise RuleViolation(message, code="child_outside_age_range",
                            fields={"member_ids": message})


def check_eligible(group: PeerGroup, family: Family, *, now: datetime, zone,
                   members=None) -> None:
    """Whether a family may take a place in a group; a clear refusal if not.

    The group must be taking families, with a session ahead; the family must
    fit it (``check_family_fits``) with the ``members`` who attend, by default
    its guardians and its children in the age range.
    """
    today = local_today(now, zone)
    upcoming = upcoming_sessions(group, now)
    day = to_local(upcoming[0].start, zone).date() if upcoming else None
    reason = eligibility.refusal(family_terms(family), group_terms(group, day), today)
    if reason not in (None, eligibility.NO_CHILD_IN_AGE_RANGE):
        _refuse(reason, group, family, today)
    # Who attends is checked with the ages: a member of another family is a
    # mistake in the request, before any rule of the group.
    if members is None:
        members = default_attending(group, family, day)
    _check_attending(group, family, members, day)


def default_attending(group: PeerGroup, family: Family, day: date) -> list[Member]:
    """Who attends unless chosen otherwise: the guardians and the children in
    the group's age range on ``day``."""
    return [member for member in family.members
            if member.role == "guardian" or _in_range(group, member, day)]


def _attending_members(family: Family, member_ids) -> list[Member]:
    chosen = [member for member in family.members if member.id in set(member_ids)]
    if not member_ids or len(chosen) != len(set(member_ids)):
        message = _("Choose the members of this family who will attend.")
        raise ValidationFailed(message, fields={"member_ids": message})
    return chosen


def enroll(actor: User, group: PeerGroup, family: Family, member_ids, *, zone,
           clock) -> Enrollment:
    """Give a family a place, or a position on the waiting list when full."""
    _require(can_enroll(actor, group, family),
             _("You may not place this family in this group."))
    now = clock.now()
    members = _attending_members(family, member_ids)
    check_eligible(group, family, now=now, zone=zone, members=members)
    _lock_roster(group)
    already = db.session.scalar(sa.select(Enrollment.id).where(
        Enrollment.group_id == group.id, Enrollment.family_id == family.id,
        Enrollment.status.in_(ACTIVE_ENROLLMENT)))
    if already is not None:
        raise Conflict(_("The family already has a place or is waiting in this group."),
                       code="already_in_group")
    enrollment = Enrollment(family=family, members=members, requested_at=now)
    if enrolled_count(group) < group.capacity:
        enrollment.status, enrollment.enrolled_at = "enrolled", now
    else:
        last = db.session.scalar(sa.select(sa.func.max(Enrollment.position)).where(
            Enrollment.group_id == group.id, Enrollment.status == "waitlisted"))
        enrollment.status, enrollment.position = "waitlisted", (last or 0) + 1
    group.enrollments.append(enrollment)
    db.session.flush()
    audit.record(actor, "enrollment.create", "family", family.id, at=now,
                 detail={"group_id": group.id, "status": enrollment.status})
    group_changed.send("groups", group_id=group.id, now=now)
    return enrollment


def withdraw(actor: User, enrollment: Enrollment, *, clock,
             zone=None) -> list[Enrollment]:
    """End a place or leave the waiting list; the freed place goes to the next."""
    group = enrollment.group
    _require(can_enroll(actor, group, enrollment.family),
             _("You may not change this family's place."))
    now = clock.now()
    _lock_roster(group)
    db.session.refresh(enrollment)
    if enrollment.status not in ACTIVE_ENROLLMENT:
        raise Conflict(_("The family no longer has a place or a position in this group."),
                       code="not_active")
    was_waiting_at = enrollment.position
    enrollment.status, enrollment.position, enrollment.ended_at = "withdrawn", None, now
    db.session.flush()
    if was_waiting_at is not None:
        _shift_waiting_list(group, was_waiting_at, 1)
        promoted = []
    else:
        promoted = _promote(group, now, zone)
    audit.record(actor, "enrollment.withdraw", "family", enrollment.family_id, at=now,
                 detail={"group_id": group.id})
    group_changed.send("groups", group_id=group.id, now=now)
    return promoted


def complete(actor: User, enrollment: Enrollment, *, clock) -> None:
    """Mark a family's place as completed (it went through the group)."""
    _require(can_manage(actor, enrollment.group) or
             can_record_attendance(actor, enrollment.group),
             _("You may not change this family's place."))
    if enrollment.status != "enrolled":
        raise Conflict(_("Only a family with a place can complete the group."),
                       code="not_enrolled")
    enrollment.status, enrollment.ended_at = "completed", clock.now()
    db.session.flush()
    group_changed.send("groups", group_id=enrollment.group_id, now=clock.now())


def change_members(actor: User, enrollment: Enrollment, member_ids, *, clock,
                   zone=None) -> None:
    """Change which members of the family attend; they must fit the group as
    on enrolling (``check_family_fits``)."""
    _require(can_enroll(actor, enrollment.group, enrollment.family),
             _("You may not change this family's place."))
    members = _attending_members(enrollment.family, member_ids)
    check_family_fits(enrollment.group, enrollment.family, members,
                      first_day_ahead(enrollment.group, clock.now(), zone))
    enrollment.members = members


# --- attendance ------------------------------------------------------------

def expected_members(session: GroupSession) -> list[Member]:
    """The members who should be at a session: those of families with a place."""
    return [member for enrollment in session.group.enrollments
            if enrollment.status in ("enrolled", "completed")
            for member in enrollment.members]


def record_attendance(actor: User, session: GroupSession, present: dict[int, bool], *,
                      clock) -> list[Attendance]:
    """Record who was at a session: ``present`` maps member ids to true or false."""
    _require(can_record_attendance(actor, session.group),
             _("Only the group's facilitators record attendance."))
    now = clock.now()
    if session.status == "cancelled":
        raise Conflict(_("The session was cancelled."), code="session_cancelled")
    if session.start > now:
        raise Conflict(_("Attendance is recorded once the session has started."),
                       code="session_not_started")
    expected = {member.id for member in expected_members(session)}
    unknown = set(present) - expected
    if unknown:
        message = _("Attendance is recorded for the attending members of families with"
                    " a place.")
        raise ValidationFailed(message, fields={"attendance": message})
    existing = {row.member_id: row for row in db.session.scalars(
        sa.select(Attendance).where(Attendance.session_id == session.id))}
    rows = []
    for member_id, was_present in present.items():
        row = existing.get(member_id) or Attendance(session_id=session.id,
                                                    member_id=member_id)
        row.present, row.recorded_by_id, row.recorded_at = bool(was_present), actor.id, now
        db.session.add(row)
        rows.append(row)
    db.session.flush()
    return rows


@dataclass
class AttendanceRates:
    """Shares of recorded member-sessions that were present (None: nothing recorded)."""

    group: float | None
    by_family: dict[int, float | None]
    by_session: dict[int, tuple[int, int]]


def attendance_rates(group: PeerGroup) -> AttendanceRates:
    """Attendance of a group as a whole, per family and per session."""
    rows = db.session.execute(
        sa.select(Attendance.session_id, Member.family_id, Attendance.present)
        .join(GroupSession, GroupSession.id == Attendance.session_id)
        .join(Member, Member.id == Attendance.member_id)
        .where(GroupSession.group_id == group.id)).all()
    totals: dict[int, list[int]] = {}
    sessions: dict[int, list[int]] = {}
    for session_id, family_id, present in rows:
        totals.setdefault(family_id, [0, 0])
        sessions.setdefault(session_id, [0, 0])
        for bucket in (totals[family_id], sessions[session_id]):
            bucket[0] += int(present)
            bucket[1] += 1
    present_count = sum(bucket[0] for bucket in totals.values())
    recorded = sum(bucket[1] for bucket in totals.values())
    return AttendanceRates(
        group=present_count / recorded if recorded else None,
        by_family={family_id: present / count for family_id, (present, count)
                   in totals.items()},
        by_session={session_id: (present, count) for session_id, (present, count)
                    in sessions.items()},
    )

