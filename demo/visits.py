"""Working hours, absences and home visits, booked and replayed through the calendars."""

import random
from collections import Counter
from datetime import date, datetime, time, timedelta

from flask import current_app

from calendars import services as calendar_services
from calendars.models import Absence, HomeVisit, VisitSeries, WorkingHours
from core.clock import FixedClock
from core.errors import Conflict
from core.localtime import local_datetime, to_local, unit_zone
from core.recurrence import first_on_weekday
from core.roles import COORDINATOR, FAMILY_WORKER
from core.vocabulary import CHILD_PROTECTION
from demo.history import by_id, clock_on, days_from, working_day
from demo.staff import serving
from extensions import db
from families.models import Family
from groups import series as group_series
from groups.models import GroupSession, PeerGroup

VISIT_WEEKS = 9  # visits reach about two months back and two months ahead
WEEKDAYS = (1, 2, 3, 4, 5)
DAY = (time(8, 0), time(16, 0))
# Most work Monday to Friday 8-16; one part-timer Monday to Thursday, and one
# keeps a late Wednesday for families who can only meet after work.
WORKING_HOURS = {
    "Minna Laitinen": {day: DAY for day in WEEKDAYS},
    "Tuomas Nieminen": {day: DAY for day in WEEKDAYS},
    "Anu Savolainen": {day: DAY for day in WEEKDAYS},
    "Pirjo Kärkkäinen": {**{day: DAY for day in WEEKDAYS}, 3: (time(12, 0), time(20, 0))},
    "Elina Mäkelä": {day: DAY for day in (1, 2, 3, 4)},
    "Jari Tikkanen": {day: DAY for day in WEEKDAYS},
}
# (worker, kind, first day from today (moved to a working day), working days, note)
ABSENCES = (
    ("Jari Tikkanen", "training", 3, 1, "Lastensuojelun täydennyskoulutus"),
    ("Tuomas Nieminen", "training", 8, 2, "Perhetyön menetelmäkoulutus, Jyväskylä"),
    ("Minna Laitinen", "leave", 22, 5, "Vuosiloma"),
    ("Elina Mäkelä", "leave", 36, 3, "Lomapäiviä"),
)
CANCEL_REASONS = ("Perhe sairastui", "Lapsi kuumeessa", "Lapsi kuumeessa",
                  "Vanhemmalla yllättävä työvuoro", "Perhe peruutti: lääkäriaika")
NO_SHOW_REASONS = ("Perhe ei ollut kotona", "Ovea ei avattu; soitettu perään, ei vastausta")
NOTES = (
    "Keskusteltiin iltarutiineista ja sovittiin kokeiltavaksi kuvallista iltajärjestystä.",
    "Äiti kertoi jaksamisen olleen parempaa; unirytmi on tasaantunut.",
    "Leikittiin yhdessä lasten kanssa, vanhempi osallistui hyvin.",
    "Käytiin läpi viikon ruokalista ja kauppalista yhdessä.",
    "Isä toivoi tietoa alueen harrastusmahdollisuuksista; selvitetään ensi kerralla.",
    "Sovittiin yhteisestä retkestä lähipuistoon seuraavalla käynnillä.",
    "Vanhemmat kertoivat riitatilanteiden vähentyneen; harjoiteltiin rauhoittumiskeinoja.",
    "Käytiin läpi Kelan hakemukset ja täytettiin ne yhdessä.",
    "Lapsen päiväkotiaamut ovat sujuneet paremmin uuden aamurutiinin myötä.",
    "Kartoitettiin läheisverkostoa: mummo voi auttaa tiistaisin.",
    "Keskusteltiin ruutuajasta ja sovittiin perheen yhteisistä pelisäännöistä.",
    "Perheen arki on ollut kuormittavaa; sovittiin yhteydenotosta sosiaalityöntekijään.",
)


def create_visits(staff: dict, rng: random.Random, today: date, now: datetime) -> None:
    """Working hours, absences and two months of visits on each side of today.

    Every visit is booked through the calendar services on a clock set to the
    day it was booked, then moved, cancelled, missed or marked done on the
    clock of the day that happened.
    """
    zone = unit_zone()
    settings = calendar_services.CalendarSettings.from_config(current_app.config)
    workers = {user.name: user for user in staff[FAMILY_WORKER]}
    hours = {}
    for name, week in WORKING_HOURS.items():
        hours[workers[name].id] = week
        for weekday, (opens, closes) in week.items():
            db.session.add(WorkingHours(user_id=workers[name].id, weekday=weekday,
                                        start_time=opens, end_time=closes))
    closed = group_series.days_off_between(today - timedelta(weeks=VISIT_WEEKS + 2),
                                             today + timedelta(weeks=VISIT_WEEKS + 2))
    for name, kind, days, length, note in ABSENCES:
        first = working_day(today + timedelta(days=days), closed)
        last = first
        for _ in range(length - 1):
            last = working_day(last + timedelta(days=1), closed)
        opens = time(0) if kind == "leave" else time(8)
        closes_on = last + timedelta(days=1) if kind == "leave" else last
        db.session.add(Absence(
            user_id=workers[name].id, kind=kind, start=local_datetime(first, opens, zone),
            end=local_datetime(closes_on, time(0) if kind == "leave" else time(16), zone),
            note=note))
    db.session.flush()
    load = _week_load(today, zone)
    context = dict(zone=zone, settings=settings)
    families = list(db.session.scalars(db.select(Family).order_by(Family.id)))
    for family in families:
        if family.status == "active" and family.family_workers:
            _book_regular(family, hours, load, rng, today, now, **context)
    for family in families:
        if family.status == "active" and family.family_workers:
            _book_review(family, hours, rng, today, now, **context)
    newcomers = [family for family in families
                 if family.status in ("referred", "planning") and family.family_workers]
    # The newest referral still waits for its planning meeting to be agreed.
    newest = max((f for f in newcomers if f.status == "referred"),
                 key=lambda f: (f.referral_date, f.id), default=None)
    for family in newcomers:
        if family is not newest:
            _book_planning(family, staff, hours, rng, today, now, **context)
    _book_evening_visit(families, hours, today, now, **context)
    _replay_visits(rng, today, now, **context)
    db.session.flush()


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _week_load(today: date, zone) -> Counter:
    """How many group sessions each facilitator holds on each weekday around today:
    where a worker's week is fullest, to book regular visits elsewhere first."""
    load = Counter()
    sessions = db.session.scalars(
        db.select(GroupSession).join(GroupSession.group)
        .where(PeerGroup.status != "draft", GroupSession.status == "scheduled")
        .order_by(GroupSession.start, GroupSession.id))
    for session in sessions:
        start = to_local(session.start, zone)
        if abs((start.date() - today).days) > VISIT_WEEKS * 7 + 14:
            continue
        for worker in session.group.facilitators:
            load[(worker.id, start.isoweekday())] += 1
    return load


def _starts(window: tuple[time, time], minutes: int) -> list[time]:
    """Start times a working day offers: half an hour in, then every two hours."""
    moment, closes = _minutes(window[0]) + 30, _minutes(window[1])
    starts = []
    while moment + minutes <= closes:
        starts.append(time(moment // 60, moment % 60))
        moment += 120
    return starts


def _book_regular(family: Family, hours: dict, load: Counter, rng: random.Random,
                  today: date, now: datetime, *, zone, settings) -> None:
    """The family's regular home visits: its worker's series, weekly or fortnightly.

    The worker books the series a few days after the plan was agreed (or before
    the demo's two months begin), at a time the calendars' own clash check
    accepts (``calendars.services.book_series``): the first of the worker's
    weekly times, least busy weekday first, that clashes with nothing, or on
    at most three dates, which the family or the worker then removes by hand.
    """
    plan = family.plan
    workers = by_id(family.family_workers)
    worker = workers[0] if len(workers) == 1 else rng.choice(workers)
    interval = 2 if "kaksi kertaa kuukaudessa" in plan.content else 1
    minutes = rng.choice((75, 90) if family.track == CHILD_PROTECTION else (60, 60, 75, 90))
    earliest = max(today - timedelta(weeks=VISIT_WEEKS) + timedelta(days=rng.randint(0, 6)),
                   plan.start_date + timedelta(days=rng.randint(3, 10)))
    last = today + timedelta(weeks=VISIT_WEEKS)
    # Drawn once, so that the times refused do not change what is drawn next.
    lead, hour = rng.randint(4, 10), rng.randint(9, 15)
    options = []
    for weekday in sorted(hours[worker.id]):
        first = first_on_weekday(earliest, weekday)
        for start in _starts(hours[worker.id][weekday], minutes):
            options.append((weekday, start, first))
    rng.shuffle(options)
    # The least busy days first, so that a worker's week fills evenly.
    options.sort(key=lambda option: load[(worker.id, option[0])])
    for weekday, start, first in options:
        clock = clock_on(max(plan.start_date, first - timedelta(days=lead)), now, hour=hour)
        rule = group_series.series_rule(
            weekday=weekday, start_time=start, duration_minutes=minutes, first_date=first,
            until=last, interval_weeks=interval)
        removed = []
        for _attempt in range(2):
            try:
                calendar_services.book_series(
                    worker, family, kind="home_visit", rule=rule, worker_ids=[worker.id],
                    removed=removed, zone=zone, settings=settings, clock=clock)
            except Conflict as refusal:
                days = sorted({entry["date"] for entry in refusal.details if entry["hard"]})
                if refusal.code != "visit_conflict" or removed or len(days) > 3:
                    break
                removed = [date.fromisoformat(day) for day in days]
                continue
            load[(worker.id, weekday)] += 1
            return


def _try_times(book, days: list[date], windows: list[dict], minutes: int) -> bool:
    """Book at the first time on the first day that every worker can make."""
    for day in days:
        weekday = day.isoweekday()
        if any(weekday not in window for window in windows):
            continue
        opens = max(window[weekday][0] for window in windows)
        closes = min(window[weekday][1] for window in windows)
        for start in _starts((opens, closes), minutes):
            try:
                book(day, start)
            except Conflict:
                continue
            return True
    return False


def _book_review(family: Family, hours: dict, rng: random.Random, today: date,
                 now: datetime, *, zone, settings) -> None:
    """A review meeting with every worker of the family, near the plan's review date.

    An overdue review is booked for the coming days.
    """
    review = family.plan.review_date
    if not today - timedelta(weeks=VISIT_WEEKS) <= review <= today + timedelta(
            weeks=VISIT_WEEKS):
        return
    workers = by_id(family.family_workers)
    first = max(review, today + timedelta(days=2))
    closed = group_series.days_off_between(first, first + timedelta(days=21))
    booked_on = max(family.plan.start_date, first - timedelta(days=rng.randint(14, 28)))
    clock = clock_on(booked_on, now, hour=rng.randint(9, 15))

    def book(day, start):
        calendar_services.book_visit(
            rng.choice(workers), family, kind="review_meeting",
            start=local_datetime(day, start, zone),
            end=local_datetime(day, start, zone) + timedelta(minutes=90),
            worker_ids=[worker.id for worker in workers], zone=zone, settings=settings,
            clock=clock)

    _try_times(book, days_from(first, 5, closed), [hours[w.id] for w in workers], 90)


def _book_planning(family: Family, staff: dict, hours: dict, rng: random.Random,
                   today: date, now: datetime, *, zone, settings) -> None:
    """The coordinator books the planning meeting in the coming weeks."""
    coordinator = serving(staff[COORDINATOR], family.municipality.name)[0]
    workers = by_id(family.family_workers)
    first = today + timedelta(days=rng.randint(3, 18))
    closed = group_series.days_off_between(first, first + timedelta(days=21))
    clock = clock_on(today, now, hour=8)

    def book(day, start):
        calendar_services.book_visit(
            coordinator, family, kind="planning_meeting",
            start=local_datetime(day, start, zone),
            end=local_datetime(day, start, zone) + timedelta(minutes=90),
            worker_ids=[worker.id for worker in workers], zone=zone, settings=settings,
            clock=clock)

    _try_times(book, days_from(first, 5, closed), [hours[w.id] for w in workers], 90)


def _book_evening_visit(families: list[Family], hours: dict, today: date, now: datetime,
                        *, zone, settings) -> None:
    """One family meets only after the parents' work: a single evening visit, booked
    knowingly outside the worker's hours (a confirmed soft clash)."""
    family = next((f for f in families if f.status == "active" and f.family_workers
                   and f.municipality.name == "Mikkeli" and len(f.guardians) == 2), None)
    if family is None:
        return
    worker = by_id(family.family_workers)[0]
    closed = group_series.days_off_between(today, today + timedelta(days=28))
    for day in days_from(today + timedelta(days=7), 10, closed):
        start = local_datetime(day, time(17, 30), zone)
        try:
            calendar_services.book_visit(
                worker, family, kind="home_visit", start=start,
                end=start + timedelta(minutes=60), worker_ids=[worker.id],
                notes="Isä pääsee kotiin vasta viideltä; sovittu kertaluonteinen iltakäynti.",
                confirm=True, zone=zone, settings=settings,
                clock=clock_on(today, now, hour=8))
        except Conflict:
            continue
        return


def _replay_visits(rng: random.Random, today: date, now: datetime, *, zone,
                   settings) -> None:
    """What became of the visits: a few moved, the past ones held, missed or cancelled,
    and a few coming ones already cancelled."""
    common = dict(zone=zone, settings=settings)
    visits = list(db.session.scalars(db.select(HomeVisit).order_by(HomeVisit.start,
                                                                   HomeVisit.id)))
    soon = now + timedelta(weeks=3)
    past = [v for v in visits if v.end < now - timedelta(hours=2) and v.series_id]
    ahead = [v for v in visits if now < v.start < soon and v.series_id]
    closed = group_series.days_off_between(today - timedelta(weeks=VISIT_WEEKS + 1),
                                             today + timedelta(weeks=VISIT_WEEKS + 1))
    for visit in rng.sample(past, min(5, len(past))) + rng.sample(ahead, min(2, len(ahead))):
        _move(visit, closed, now, **common)
    for visit in sorted(visits, key=lambda v: (v.start, v.id)):
        if visit.end > now - timedelta(hours=2):
            continue
        actor = by_id(visit.workers)[0]
        draw = rng.random()
        if draw < 0.06:
            told = max(visit.created_at, visit.start - timedelta(hours=rng.randint(2, 20)))
            changes = {"status": "cancelled", "status_reason": rng.choice(CANCEL_REASONS)}
            clock = FixedClock(told)
        elif draw < 0.09:
            changes = {"status": "no_show", "status_reason": rng.choice(NO_SHOW_REASONS)}
            clock = FixedClock(min(visit.end + timedelta(minutes=30), now))
        else:
            changes = {"status": "done"}
            if rng.random() < 0.4:
                changes["notes"] = rng.choice(NOTES)
            clock = FixedClock(min(visit.end + timedelta(minutes=rng.randint(10, 120)), now))
        calendar_services.update_visit(actor, visit, changes, clock=clock, **common)
    # Families call ahead, too.
    for visit in rng.sample(ahead, min(3, len(ahead))):
        if visit.status == "scheduled":
            calendar_services.update_visit(
                by_id(visit.workers)[0], visit,
                {"status": "cancelled", "status_reason": rng.choice(CANCEL_REASONS)},
                clock=clock_on(today, now, hour=8), **common)


def _move(visit: HomeVisit, closed: dict, now: datetime, *, zone, settings) -> None:
    """Move a visit, on the family's wish, to another time the same week."""
    local = to_local(visit.start, zone)
    asked = max(visit.created_at + timedelta(hours=1),
                min(visit.start - timedelta(days=2), now))
    days = [local.date() + timedelta(days=offset) for offset in (1, -1, 2, -2, 0)]
    for day in (day for day in days if day.weekday() < 5 and day not in closed):
        for shift in (0, 120, -120):
            moment = datetime.combine(day, local.time()) + timedelta(minutes=shift)
            start = local_datetime(moment.date(), moment.time(), zone)
            if start == visit.start or (start < now) != (visit.start < now):
                continue
            try:
                calendar_services.update_visit(
                    by_id(visit.workers)[0], visit, {"start": start}, zone=zone,
                    settings=settings, clock=FixedClock(asked))
            except Conflict:
                continue
            return


def visit_summary(now: datetime) -> str:
    """The visits by status, and how many of them are coming."""
    statuses = Counter(db.session.scalars(db.select(HomeVisit.status)))
    kinds = Counter(db.session.scalars(db.select(HomeVisit.kind)))
    coming = db.session.scalar(db.select(db.func.count(HomeVisit.id)).where(
        HomeVisit.start > now, HomeVisit.status == "scheduled"))
    series = db.session.scalar(db.select(db.func.count(VisitSeries.id)))
    absences = db.session.scalar(db.select(db.func.count(Absence.id)))
    return (f"{statuses.total()} visits ({series} regular series, "
            f"{kinds['planning_meeting']} planning and {kinds['review_meeting']} review "
            f"meetings; {statuses['done']} done, {statuses['no_show']} no-show, "
            f"{statuses['cancelled']} cancelled, {coming} coming), {absences} absences")
