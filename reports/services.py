"""Figures for the dashboard and the coordinators' reports.

The reports count in the database (GROUP BY) and publish aggregates only,
through ``reports.suppression``: no figure of fewer than five families is
shown or can be worked out. Months are the unit's local calendar months: a
visit at 23:30 on 31 March in Helsinki is a March visit.
"""

import re
import statistics
from dataclasses import dataclass
from datetime import date, time, timedelta

import sqlalchemy as sa
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from accounts.models import User
from calendars.models import HomeVisit, visit_workers
from core import audit
from core.errors import ValidationFailed
from core.input_checks import read_whole_number
from core.localtime import local_datetime, local_today, plausible_day, to_local
from core.models import Municipality
from core.roles import ADMIN, FAMILY_WORKER
from core.vocabulary import (
    FAMILY_STATUSES,
    MESSAGE_CHANNELS,
    REFERRAL_SOURCES,
    REFERRAL_SOURCES_BY_TRACK,
    REMINDER_STATUSES,
    TRACKS,
)
from core.vocabulary import REMINDER_CHANNELS as MEMBER_REMINDER_CHANNELS
from extensions import db
from families.models import STATUSES, Family, Member, Plan
from families.services import record_listing, visible_families_query
from groups.models import Attendance, Enrollment, GroupSession, PeerGroup
from reminders.models import Reminder
from reports.suppression import Figure, protect, statistic
from reports.tables import DAYS, NUMBER, PERCENT, TEXT, Chart, Column, Report, Row, Table

REVIEW_HORIZON_DAYS = 30


@dataclass
class Dashboard:
    counts_by_status: dict[str, int]
    counts_by_track: dict[str, int]
    waiting_for_plan: list[Family]
    reviews_due: list[Family]


def dashboard(user, *, clock) -> Dashboard:
    """The user's families in figures, those waiting for a plan, reviews coming up;
    the families listed are written to the audit log."""
    visible = visible_families_query(user).subquery()
    by_status = dict(db.session.execute(
        sa.select(visible.c.status, sa.func.count()).group_by(visible.c.status)).all())
    by_track = dict(db.session.execute(
        sa.select(visible.c.track, sa.func.count()).group_by(visible.c.track)).all())
    waiting = db.session.scalars(
        visible_families_query(user).where(Family.status.in_(("referred", "planning")))
        .order_by(Family.referral_date).limit(10))
    today = local_today(clock.now())
    due = db.session.scalars(
        visible_families_query(user).join(Family.plan)
        .where(Family.status == "active",
               Plan.review_date <= today + timedelta(days=REVIEW_HORIZON_DAYS))
        .order_by(Plan.review_date).limit(10))
    dashboard = Dashboard(by_status, by_track, list(waiting), list(due))
    # Listed by reference and surname: an audited read.
    record_listing(user, [*dashboard.waiting_for_plan, *dashboard.reviews_due], clock=clock)
    return dashboard


# --- who reads reports, and the filters -------------------------------------

REPORT_ROLES = ("coordinator", "admin")
DEFAULT_MONTHS = 12
MAX_MONTHS = 60
FILTER_TEXT_MAX = 120
MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")

STATUS_LABELS = FAMILY_STATUSES
# The outcomes of a visit that reports count; a scheduled visit has none yet.
VISIT_OUTCOMES = {
    "done": _l("Done"),
    "cancelled": _l("Cancelled"),
    "no_show": _l("No-show"),
}
MILESTONES = {
    "planning_meeting": _l("Planning meeting"),
    "first_home_visit": _l("First home visit"),
    "group_place": _l("Place in a group"),
}


def reportable_municipalities(user) -> list[Municipality]:
    """The municipalities a user may report on: an admin all, a coordinator theirs."""
    if user.role == ADMIN:
        return list(db.session.scalars(sa.select(Municipality).order_by(Municipality.name)))
    return list(user.municipalities)


def reportable_workers() -> list[User]:
    """Family workers, active or not: past visits stay in the figures."""
    return list(db.session.scalars(
        sa.select(User).where(User.role == FAMILY_WORKER).order_by(User.name)))


@dataclass(frozen=True)
class ReportFilters:
    """A period of whole local months and optional municipality, track and worker."""

    start: date
    end: date
    municipality: Municipality | None = None
    track: str | None = None
    worker: User | None = None

    @property
    def months(self) -> list[date]:
        """The first day of every month of the period."""
        months, month = [], self.start
        while month <= self.end:
            months.append(month)
            month = _next_month(month)
        return months

    def as_args(self) -> dict:
        """The filters as query arguments, for links and export URLs."""
        args = {"from": self.start.strftime("%Y-%m"), "to": self.end.strftime("%Y-%m")}
        if self.municipality:
            args["municipality"] = self.municipality.name
        if self.track:
            args["track"] = self.track
        if self.worker:
            args["worker"] = str(self.worker.id)
        return args

    def as_json(self) -> dict:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(),
                "municipality": self.municipality.name if self.municipality else None,
                "track": self.track, "worker_id": self.worker.id if self.worker else None}

    def file_stem(self, *names) -> str:
        """A file name that says what the export holds: report, table and filters."""
        parts = [*names, self.start.strftime("%Y-%m"), self.end.strftime("%Y-%m")]
        if self.municipality:
            parts.append(self.municipality.name)
        if self.track:
            parts.append(self.track)
        if self.worker:
            parts.append(f"worker-{self.worker.id}")
        return "_".join(re.sub(r"[^\w-]+", "-", part).strip("-") for part in parts)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _month_of(raw: str, name: str, errors: dict) -> date | None:
    """A "2026-03" or "2026-03-15" argument as the first day of its month."""
    match = MONTH_PATTERN.match(raw.strip()) if len(raw) <= 10 else None
    try:
        if match is None:
            raise ValueError
        year, month, day = int(match[1]), int(match[2]), int(match[3] or 1)
        date(year, month, day)  # a real date, or ValueError
        if not plausible_day(date(year, month, 1)):
            raise ValueError
        return date(year, month, 1)
    except ValueError:
        errors[name] = _("Expected a month such as 2026-03 or a date such as 2026-03-15.")
        return None


def read_filters(args, user, *, today: date) -> ReportFilters:
    """Filters from query arguments (from, to, municipality, track, worker).

    Periods are whole months: ``from`` stands for the first day of its month
    and ``to`` for the last day of its, so two answers never differ by a few
    days' families. Without them the period is the last twelve months.
    """
    errors = {}
    this_month = today.replace(day=1)
    start = end_month = None
    raw_from, raw_to = args.get("from") or "", args.get("to") or ""
    end_month = _month_of(raw_to, "to", errors) if raw_to else this_month
    if raw_from:
        start = _month_of(raw_from, "from", errors)
    elif end_month:
        start = end_month
        for _step in range(DEFAULT_MONTHS - 1):
            start = (start - timedelta(days=1)).replace(day=1)
    if start and end_month:
        span = (end_month.year - start.year) * 12 + end_month.month - start.month + 1
        if span < 1:
            errors["to"] = _("The end of the period is before its start.")
        elif span > MAX_MONTHS:
            errors["to"] = _("A period is at most %(months)d months.", months=MAX_MONTHS)

    municipality = None
    name = (args.get("municipality") or "").strip()
    if len(name) > FILTER_TEXT_MAX:
        errors["municipality"] = _("At most %(n)d characters.", n=FILTER_TEXT_MAX)
    elif name:
        municipality = next((m for m in reportable_municipalities(user) if m.name == name),
                            None)
        if municipality is None:
            errors["municipality"] = _("Not one of the municipalities you may report on.")

    track = args.get("track") or None
    if track is not None and track not in TRACKS:
        errors["track"] = _("Unknown track.")

    worker = None
    raw_worker = (args.get("worker") or "").strip()
    if raw_worker:
        worker_id = read_whole_number(raw_worker)
        if worker_id is not None:
            worker = db.session.get(User, worker_id)
        if worker is None or worker.role != FAMILY_WORKER:
            errors["worker"] = _("Unknown family worker.")
            worker = None

    if errors:
        raise ValidationFailed(_("Check the report's filters."), fields=errors)
    end = _next_month(end_month) - timedelta(days=1)
    return ReportFilters(start, end, municipality, track, worker)


def record_read(user, names, filters: ReportFilters, *, clock,
                action="report.read", detail=None) -> None:
    """Write who read or exported which reports, with which filters."""
    audit.record(user, action, "report", None, at=clock.now(),
                 detail={"reports": list(names), "filters": filters.as_json(),
                         **(detail or {})})


# --- counting by local month --------------------------------------------------

def _month_index(column, bounds):
    """The index of the month a value falls in, given each next month's start.

    A CASE over the months' boundaries works alike on SQLite and PostgreSQL,
    and for instants the boundaries are local midnights in UTC, so the months
    are the unit's own whatever the season.
    """
    if len(bounds) == 1:  # a CASE needs at least one WHEN
        return sa.literal(0)
    return sa.case(*[(column < bound, index) for index, bound in enumerate(bounds[:-1])],
                   else_=len(bounds) - 1)


def _month_label(month: date) -> str:
    return format_date(month, "LLLL yyyy")


def _month_key(month: date) -> str:
    return month.strftime("%Y-%m")


def _local_bounds(months, zone) -> list:
    return [local_datetime(_next_month(month), time(0), zone) for month in months]


# --- the families referred in the period --------------------------------------

def _municipality_scope(user, filters):
    if filters.municipality:
        return [filters.municipality]
    return reportable_municipalities(user)


def _families_query(user, filters: ReportFilters, *, referred_in_period=True,
                    assigned=True) -> sa.Select:
    """The families a report counts, by the user's reach and the filters.

    Coordinators and admins see the families of the municipalities they may
    report on (``families.services.visible_families_query``), and a chosen
    municipality is one of those: one condition on the municipality, not
    two, or PostgreSQL takes the two for independent and expects one family.
    """
    query = sa.select(Family).where(Family.municipality_id.in_(
        [municipality.id for municipality in _municipality_scope(user, filters)]))
    if referred_in_period:
        query = query.where(Family.referral_date.between(filters.start, filters.end))
    if filters.track:
        query = query.where(Family.track == filters.track)
    if assigned and filters.worker:
        query = query.where(Family.family_workers.any(User.id == filters.worker.id))
    return query


def _one_way(name, title, label, codes, counts, total, *, chart=None) -> tuple[Table, list]:
    """A table of counts by one code with a total row; returns it and its line."""
    figures = [Figure(counts.get(code, 0)) for code in codes]
    table = Table(name, title, Column("category", label, TEXT),
                  [Column("families", _l("Families"))], chart=chart)
    for (code, text), figure in zip(codes.items(), figures, strict=True):
        table.rows.append(Row(code, text, {"families": figure}))
    table.rows.append(Row("total", _l("Total"), {"families": total}, is_total=True))
    return table, figures


def referral_reports(user, filters: ReportFilters) -> tuple[Report, Report]:
    """Families referred in the period by track, status, municipality and source,
    and by month: five lines over one total, suppressed together."""
    months = filters.months
    month = _month_index(Family.referral_date, [_next_month(m) for m in months])
    # Grouped outside the subquery: PostgreSQL would not see the CASE of the
    # select list, with its own parameters, as the one of the GROUP BY.
    families = _families_query(user, filters).with_only_columns(
        Family.track, Family.status, Family.municipality_id, Family.referral_source,
        month.label("month")).subquery()
    keys = (families.c.track, families.c.status, families.c.municipality_id,
            families.c.referral_source, families.c.month)
    grouped = db.session.execute(
        sa.select(*keys, sa.func.count()).group_by(*keys)).all()
    sums = {key: {} for key in ("track", "status", "municipality", "source", "month")}
    for track, status, municipality_id, source, index, count in grouped:
        for key, code in (("track", track), ("status", status),
                          ("municipality", municipality_id), ("source", source),
                          ("month", index)):
            sums[key][code] = sums[key].get(code, 0) + count
    total = Figure(sum(count for *_keys, count in grouped))

    tracks = {filters.track: TRACKS[filters.track]} if filters.track else TRACKS
    sources = ({code: REFERRAL_SOURCES[code] for code in REFERRAL_SOURCES_BY_TRACK[filters.track]}
               if filters.track else REFERRAL_SOURCES)
    municipalities = _municipality_scope(user, filters)
    by_track, track_line = _one_way(
        "by_track", _l("Families by track"), _l("Track"), tracks, sums["track"], total)
    by_status, status_line = _one_way(
        "by_status", _l("Families by status today"), _l("Status"),
        {code: STATUS_LABELS[code] for code in STATUSES}, sums["status"], total)
    by_municipality, municipality_line = _one_way(
        "by_municipality", _l("Families by municipality"), _l("Municipality"),
        {str(m.id): m.name for m in municipalities},
        {str(key): value for key, value in sums["municipality"].items()}, total)
    by_source, source_line = _one_way(
        "by_referral_source", _l("Families by referral source"), _l("Referral source"),
        sources, sums["source"], total)
    by_month, month_line = _one_way(
        "by_month", _l("New referrals per month"), _l("Month"),
        {str(index): _month_label(m) for index, m in enumerate(months)},
        {str(key): value for key, value in sums["month"].items()}, total,
        chart=Chart("line", ("families",),
                    _l("Families referred each month of the period.")))
    for row, month_start in zip(by_month.body_rows, months, strict=True):
        row.key = _month_key(month_start)
    protect([track_line, status_line, municipality_line, source_line, month_line], total)

    families = Report(
        "families", _l("Families"),
        _l("Families referred in the period, by their track, their status today, "
           "their municipality and who referred them."),
        [by_track, by_status, by_municipality, by_source])
    referrals = Report(
        "referrals", _l("New referrals"),
        _l("Families referred in each month of the period."), [by_month])
    return families, referrals


# --- waiting times ---------------------------------------------------------------

def percentile(values, share: float) -> float:
    """The percentile by linear interpolation between the nearest ranks.

    The same as Excel's PERCENTILE.INC and NumPy's default: position
    ``share * (n - 1)`` in the sorted values.
    """
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def _first_events(user, filters, zone) -> dict[str, list[tuple[str, int]]]:
    """For each milestone, (track, days waited) of every family that reached it."""
    population = _families_query(user, filters).with_only_columns(Family.id).subquery()
    first_visit = {}
    for milestone, kind in (("planning_meeting", "planning_meeting"),
                            ("first_home_visit", "home_visit")):
        first_visit[milestone] = (
            sa.select(HomeVisit.family_id, sa.func.min(HomeVisit.start))
            .where(HomeVisit.family_id.in_(sa.select(population.c.id)),
                   HomeVisit.kind == kind, HomeVisit.status == "done")
            .group_by(HomeVisit.family_id))
    first_visit["group_place"] = (
        sa.select(Enrollment.family_id, sa.func.min(Enrollment.enrolled_at))
        .where(Enrollment.family_id.in_(sa.select(population.c.id)),
               Enrollment.enrolled_at.is_not(None))
        .group_by(Enrollment.family_id))
    families = dict((family_id, (track, referred)) for family_id, track, referred in
                    db.session.execute(sa.select(Family.id, Family.track, Family.referral_date)
                                       .where(Family.id.in_(sa.select(population.c.id)))))
    waits = {}
    for milestone, query in first_visit.items():
        waits[milestone] = []
        for family_id, first in db.session.execute(query):
            track, referred = families[family_id]
            waits[milestone].append((track, (to_local(first, zone).date() - referred).days))
    return waits


def waiting_report(user, filters: ReportFilters, *, zone) -> Report:
    """Days from referral to the first planning meeting held, the first home
    visit held and the first seat in a group: median and 90th percentile."""
    waits = _first_events(user, filters, zone)
    tracks = [filters.track] if filters.track else list(TRACKS)
    table = Table("waiting_times", _l("Waiting times in days"),
                  Column("milestone", _l("From referral to"), TEXT),
                  [Column("families", _l("Families")),
                   Column("median_days", _l("Median"), DAYS),
                   Column("p90_days", _l("90th percentile"), DAYS)],
                  note=_l("Families referred in the period who have reached each step; "
                          "days from the referral date to the local date of the step."))
    for milestone, milestone_label in MILESTONES.items():
        groups = [(track, f"{milestone_label}: {TRACKS[track]}",
                   [days for code, days in waits[milestone] if code == track])
                  for track in tracks]
        if len(tracks) > 1:
            groups.append(("all", f"{milestone_label}: {_('all tracks')}",
                           [days for _code, days in waits[milestone]]))
        counts = [Figure(len(days)) for _key, _label, days in groups]
        if len(counts) > 1:
            protect([counts[:-1]], counts[-1])
        else:
            protect([counts])
        for (key, label, days), count in zip(groups, counts, strict=True):
            enough = len(days) >= 5
            table.rows.append(Row(f"{milestone}:{key}", label, {
                "families": count,
                "median_days": statistic(
                    round(statistics.median(days), 1) if enough else None, len(days)),
                "p90_days": statistic(
                    round(percentile(days, 0.9), 1) if enough else None, len(days)),
            }))
    return Report("waiting_times", _l("Waiting times"),
                  _l("How long families referred in the period waited for their first "
                     "planning meeting, first home visit and place in a group."), [table])


# --- home visits --------------------------------------------------------------------

def visits_report(user, filters: ReportFilters, *, zone) -> Report:
    """Visits with an outcome per worker and local month; per month for all workers.

    The visits of one month and outcome by worker are a line over the month's
    total for all workers (a visit with two workers counts for each of them).
    """
    months = filters.months
    families = _families_query(user, filters, referred_in_period=False, assigned=False)
    start = local_datetime(filters.start, time(0), zone)
    end = local_datetime(filters.end + timedelta(days=1), time(0), zone)
    month = _month_index(HomeVisit.start, _local_bounds(months, zone))
    visits = (sa.select(HomeVisit.id, HomeVisit.family_id, HomeVisit.status,
                        month.label("month"))
              .where(HomeVisit.family_id.in_(families.with_only_columns(Family.id)),
                     HomeVisit.start >= start, HomeVisit.start < end,
                     HomeVisit.status.in_(VISIT_OUTCOMES)))
    # Each (visit, worker) pair once: a visit's rows per worker are counted as
    # they are, while the month's own total counts each visit once.
    worked = visits.add_columns(visit_workers.c.user_id).join(
        visit_workers, visit_workers.c.visit_id == HomeVisit.id)
    if filters.worker:
        worked = worked.where(visit_workers.c.user_id == filters.worker.id)
        visits = visits.where(HomeVisit.workers.any(User.id == filters.worker.id))
    worked, visits = worked.subquery(), visits.subquery()
    per_worker = db.session.execute(
        sa.select(worked.c.user_id, worked.c.month, worked.c.status, sa.func.count(),
                  sa.func.count(sa.distinct(worked.c.family_id)))
        .group_by(worked.c.user_id, worked.c.month, worked.c.status)).all()
    per_month = db.session.execute(
        sa.select(visits.c.month, visits.c.status, sa.func.count(),
                  sa.func.count(sa.distinct(visits.c.family_id)))
        .group_by(visits.c.month, visits.c.status)).all()

    totals = {(index, status): Figure(visits, families)
              for index, status, visits, families in per_month}
    cells = {(worker_id, index, status): Figure(visits, families)
             for worker_id, index, status, visits, families in per_worker}
    worker_ids = sorted({worker_id for worker_id, _index, _status in cells})
    workers = {user.id: user for user in db.session.scalars(
        sa.select(User).where(User.id.in_(worker_ids)))} if worker_ids else {}
    worker_ids.sort(key=lambda worker_id: (workers[worker_id].name, worker_id))
    for index in range(len(months)):
        for status in VISIT_OUTCOMES:
            total = totals.setdefault((index, status), Figure(0))
            line = [cells.setdefault((worker_id, index, status), Figure(0))
                    for worker_id in worker_ids]
            protect([line], total)

    columns = [Column(status, label) for status, label in VISIT_OUTCOMES.items()]
    by_month = Table("by_month", _l("Home visits per month"),
                     Column("month", _l("Month"), TEXT), columns,
                     chart=Chart("bar", tuple(VISIT_OUTCOMES),
                                 _l("Home visits done, cancelled and missed each month.")),
                     note=_l("A visit made by two workers counts once here and once "
                             "for each worker below."))
    by_worker = Table("by_worker", _l("Home visits per worker and month"),
                      Column("worker_month", _l("Worker and month"), TEXT), columns)
    for index, month_start in enumerate(months):
        by_month.rows.append(Row(_month_key(month_start), _month_label(month_start),
                                 {status: totals[(index, status)] for status in VISIT_OUTCOMES}))
    for worker_id in worker_ids:
        for index, month_start in enumerate(months):
            by_worker.rows.append(Row(
                f"{worker_id}:{_month_key(month_start)}",
                f"{workers[worker_id].name}, {_month_label(month_start)}",
                {status: cells[(worker_id, index, status)] for status in VISIT_OUTCOMES}))
    return Report("home_visits", _l("Home visits"),
                  _l("Home visits in the period by their outcome: done, cancelled, or "
                     "the family was not met (no-show)."), [by_month, by_worker])


# --- peer groups ------------------------------------------------------------------

def groups_report(user, filters: ReportFilters, *, zone) -> Report:
    """Groups that met in the period: seats taken against capacity, the waiting
    list today and the share of recorded attendances that were present."""
    start = local_datetime(filters.start, time(0), zone)
    end = local_datetime(filters.end + timedelta(days=1), time(0), zone)
    in_period = sa.and_(GroupSession.start >= start, GroupSession.start < end)
    query = (sa.select(PeerGroup).where(PeerGroup.sessions.any(
        sa.and_(in_period, GroupSession.status == "scheduled")))
        .where(PeerGroup.municipalities.any(Municipality.id.in_(
            [m.id for m in _municipality_scope(user, filters)])))
        .order_by(PeerGroup.name, PeerGroup.id))
    if filters.worker:
        query = query.where(PeerGroup.facilitators.any(User.id == filters.worker.id))
    groups = [group for group in db.session.scalars(query)
              if not filters.track or filters.track in (group.tracks or ())]
    ids = [group.id for group in groups]

    def families_of(statuses):
        query = (sa.select(Enrollment.group_id, sa.func.count(sa.distinct(Enrollment.family_id)))
                 .where(Enrollment.group_id.in_(ids), Enrollment.status.in_(statuses))
                 .group_by(Enrollment.group_id))
        everyone = (sa.select(sa.func.count(sa.distinct(Enrollment.family_id)))
                    .where(Enrollment.group_id.in_(ids), Enrollment.status.in_(statuses)))
        if filters.track:
            track_filter = Enrollment.family.has(Family.track == filters.track)
            query, everyone = query.where(track_filter), everyone.where(track_filter)
        return dict(db.session.execute(query).all()), db.session.scalar(everyone)

    seats, seat_families = families_of(("enrolled", "completed"))
    waiting, waiting_families = families_of(("waitlisted",))
    attendance_query = (
        sa.select(GroupSession.group_id,
                  sa.func.sum(sa.case((Attendance.present, 1), else_=0)),
                  sa.func.count(), sa.func.count(sa.distinct(Member.family_id)))
        .join(Attendance, Attendance.session_id == GroupSession.id)
        .join(Member, Member.id == Attendance.member_id)
        .where(GroupSession.group_id.in_(ids), in_period)
        .group_by(GroupSession.group_id))
    if filters.track:
        attendance_query = attendance_query.join(Family, Family.id == Member.family_id).where(
            Family.track == filters.track)
    attendance = {group_id: (present, recorded, families) for group_id, present, recorded,
                  families in db.session.execute(attendance_query)}

    seat_figures = [Figure(seats.get(group_id, 0)) for group_id in ids]
    waiting_figures = [Figure(waiting.get(group_id, 0)) for group_id in ids]
    seat_total = Figure(sum(seats.values()), seat_families or 0)
    waiting_total = Figure(sum(waiting.values()), waiting_families or 0)
    protect([seat_figures], seat_total)
    protect([waiting_figures], waiting_total)

    table = Table("groups", _l("Groups: places, waiting lists and attendance"),
                  Column("group", _l("Group"), TEXT),
                  [Column("capacity", _l("Capacity"), NUMBER),
                   Column("places", _l("Places taken")),
                   Column("fill_rate", _l("Fill rate %"), PERCENT),
                   Column("waiting_list", _l("On the waiting list")),
                   Column("attendance_rate", _l("Attendance %"), PERCENT)],
                  chart=Chart("horizontal_bar", ("fill_rate",),
                              _l("Share of each group's places that are taken.")),
                  note=_l("Places taken by families enrolled or who completed the group; "
                          "the waiting list as it is today; attendance over the sessions "
                          "of the period."))
    present_all = recorded_all = attending_all = 0
    for group, taken, queued in zip(groups, seat_figures, waiting_figures, strict=True):
        present, recorded, attending = attendance.get(group.id, (0, 0, 0))
        present_all, recorded_all = present_all + present, recorded_all + recorded
        attending_all += attending
        table.rows.append(Row(str(group.id), group.name, {
            "capacity": Figure(group.capacity, None),
            "places": taken,
            "fill_rate": statistic(round(100 * taken.value / group.capacity, 1),
                                   taken.families, taken),
            "waiting_list": queued,
            "attendance_rate": statistic(
                round(100 * present / recorded, 1) if recorded else None, attending),
        }))
    capacity = sum(group.capacity for group in groups)
    table.rows.append(Row("total", _l("Total"), {
        "capacity": Figure(capacity, None),
        "places": seat_total,
        "fill_rate": statistic(round(100 * seat_total.value / capacity, 1) if capacity
                               else None, seat_total.families, seat_total),
        "waiting_list": waiting_total,
        "attendance_rate": statistic(round(100 * present_all / recorded_all, 1)
                                     if recorded_all else None, attending_all),
    }, is_total=True))
    return Report("groups", _l("Peer groups"),
                  _l("Peer groups with sessions in the period."), [table])


# --- reminders ---------------------------------------------------------------------

# The channels messages go out on, labelled as a member's reminder channel is.
REMINDER_CHANNELS = {code: MEMBER_REMINDER_CHANNELS[code] for code in MESSAGE_CHANNELS}
DELIVERY_OUTCOMES = {code: REMINDER_STATUSES[code] for code in ("sent", "failed")}


def reminders_report(user, filters: ReportFilters, *, zone) -> Report:
    """Reminders due in the period that were sent or failed, per channel.

    The families are those of the other reports, without the period (the
    reminder's own time counts); with a worker, the families assigned to them.
    """
    families = _families_query(user, filters, referred_in_period=False)
    start = local_datetime(filters.start, time(0), zone)
    end = local_datetime(filters.end + timedelta(days=1), time(0), zone)
    due = sa.and_(Reminder.family_id.in_(families.with_only_columns(Family.id)),
                  Reminder.send_at >= start, Reminder.send_at < end,
                  Reminder.status.in_(DELIVERY_OUTCOMES))
    counted = (sa.func.count(), sa.func.count(sa.distinct(Reminder.family_id)))
    per_channel = {(channel, status): Figure(count, families) for channel, status, count,
                   families in db.session.execute(
                       sa.select(Reminder.channel, Reminder.status, *counted).where(due)
                       .group_by(Reminder.channel, Reminder.status))}
    totals = {status: Figure(count, families) for status, count, families in
              db.session.execute(sa.select(Reminder.status, *counted).where(due)
                                 .group_by(Reminder.status))}
    table = Table("delivery", _l("Reminders sent and failed per channel"),
                  Column("channel", _l("Channel"), TEXT),
                  [Column(status, label) for status, label in DELIVERY_OUTCOMES.items()],
                  chart=Chart("bar", tuple(DELIVERY_OUTCOMES),
                              _l("Reminders sent and failed by text message and e-mail.")),
                  note=_l("Reminders due in the period, counted once per message."))
    for status in DELIVERY_OUTCOMES:
        protect([[per_channel.setdefault((channel, status), Figure(0))
                  for channel in REMINDER_CHANNELS]],
                totals.setdefault(status, Figure(0)))
    for channel, label in REMINDER_CHANNELS.items():
        table.rows.append(Row(channel, label, {status: per_channel[(channel, status)]
                                               for status in DELIVERY_OUTCOMES}))
    table.rows.append(Row("total", _l("Total"), dict(totals), is_total=True))
    return Report("reminders", _l("Reminders"),
                  _l("How the reminders of visits and group sessions were delivered."),
                  [table])


# --- all of them ---------------------------------------------------------------------

REPORT_NAMES = ("families", "referrals", "waiting_times", "home_visits", "groups",
                "reminders")


def build_reports(user, filters: ReportFilters, *, zone, names=REPORT_NAMES) -> list[Report]:
    """The named reports for a user and filters, in the order of ``names``."""
    built = {}
    if "families" in names or "referrals" in names:
        built["families"], built["referrals"] = referral_reports(user, filters)
    if "waiting_times" in names:
        built["waiting_times"] = waiting_report(user, filters, zone=zone)
    if "home_visits" in names:
        built["home_visits"] = visits_report(user, filters, zone=zone)
    if "groups" in names:
        built["groups"] = groups_report(user, filters, zone=zone)
    if "reminders" in names:
        built["reminders"] = reminders_report(user, filters, zone=zone)
    return [built[name] for name in names]
