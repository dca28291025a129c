"""The peer groups, their series, enrollment and attendance, replayed through the services."""

import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from accounts.models import User
from core.clock import FixedClock
from core.localtime import local_datetime, local_today, to_local, unit_zone
from core.models import Municipality
from core.roles import COORDINATOR, FAMILY_WORKER
from core.vocabulary import CHILD_PROTECTION, PREVENTIVE
from demo.families import LANGUAGE_GROUPS
from demo.history import by_id, clock_on
from extensions import db
from families.models import Family
from groups import attendance as group_attendance
from groups import eligibility
from groups import enrollment as group_enrollment
from groups import series as group_series
from groups import services as group_services
from groups.models import Attendance, Enrollment, GroupSession, PeerGroup


@dataclass(frozen=True)
class GroupDraft:
    """One peer group as planned: what create_group takes, and its story so far.

    ``starts`` is the first date in days from today (negative: already begun);
    ``opened`` how many days before the first date it was created and opened.
    ``families`` is how many families ask for a seat, ``withdrawals`` how many
    of those with a seat drop out; ``attendees`` says who of a family comes.
    """

    name: str
    description: str
    municipalities: tuple[str, ...]
    tracks: tuple[str, ...]
    themes: tuple[str, ...]
    ages: tuple[int, int]  # months, inclusive
    venue: str
    facilitators: tuple[str, ...]
    capacity: int
    weekday: int  # ISO, 1 = Monday
    start: time
    minutes: int
    count: int
    status: str  # what it is today: draft, open, running or finished
    starts: int
    opened: int = 21
    interval_weeks: int = 1
    language: str = "fi"
    spoken: str | None = None  # only families speaking this language
    families: int = 0
    withdrawals: int = 0
    attendees: str = "family"  # family, guardians or father
    christmas: bool = False  # weekly over the coming Christmas: weekday and start follow it
    rearranged: bool = False  # one session moved and one cancelled by hand
    # The name outside the service; None: the name itself, where it may leave.
    public_title: str | None = None


GROUPS = (
    GroupDraft(
        name="Vauvaperheiden ryhmä",
        description=(
            "Vertaisryhmä alle vuoden ikäisten vauvojen vanhemmille. Jutellaan vauva-arjesta,"
            " unesta, syömisestä ja omasta jaksamisesta, lauletaan ja leikitään yhdessä."
            " Neuvolan terveydenhoitaja vierailee ryhmässä kahdesti. Vauvat tulevat mukaan;"
            " vaunuille on tilaa eteisessä."),
        municipalities=("Mikkeli",), tracks=(PREVENTIVE,),
        themes=("parenthood", "care_and_upbringing", "interaction_and_networks"),
        ages=(0, 12), venue="Perhekeskus Mikkeli, ryhmähuone",
        facilitators=("Minna Laitinen",), capacity=6, weekday=3, start=time(9, 30),
        minutes=90, count=10, status="running", starts=-29, opened=28, families=6),
    GroupDraft(
        name="Taaperoarki",
        description=(
            "Ryhmä 1–3-vuotiaiden lasten perheille. Aiheina päivärytmi, uni ja ruokailu,"
            " uhmaikä ja rajat sekä vanhempien oma jaksaminen. Lapset leikkivät samassa"
            " tilassa ohjaajan kanssa, ja jokainen kerta päättyy yhteiseen iltapalaan."),
        municipalities=("Mikkeli",), tracks=(PREVENTIVE,),
        themes=("everyday_routines", "care_and_upbringing", "parenthood"),
        ages=(12, 47), venue="Rantakylän asukastupa, kerhohuone",
        facilitators=("Tuomas Nieminen", "Anu Savolainen"), capacity=6, weekday=2,
        start=time(17, 0), minutes=90, count=10, status="open", starts=8, opened=24,
        families=6, rearranged=True),
    GroupDraft(
        name="Isä–lapsi-ryhmä",
        description=(
            "Isien ja lasten yhteinen ryhmä joka toinen torstai-ilta: liikuntaa, askartelua,"
            " retkiä lähimetsään ja yhteinen välipala. Isät vaihtavat kokemuksia"
            " isyydestä ohjaajan kanssa sillä aikaa, kun lapset leikkivät."),
        municipalities=("Mikkeli",), tracks=(PREVENTIVE, CHILD_PROTECTION),
        themes=("doing_together", "time_together", "parent_child_relationship"),
        ages=(24, 84), venue="Perhekeskus Mikkeli, ryhmähuone",
        facilitators=("Tuomas Nieminen", "Jari Tikkanen"), capacity=5, weekday=4,
        start=time(17, 30), minutes=90, count=8, status="open", starts=17, opened=35,
        interval_weeks=2, families=7, withdrawals=1, attendees="father"),
    GroupDraft(
        name="Kouluikäisten perheiden ryhmä",
        description=(
            "Perheille, joissa on 7–12-vuotiaita lapsia. Vanhemmat keskustelevat koulunkäynnistä,"
            " kaverisuhteista, ruutuajasta ja harrastuksista, lapset toimivat omassa ryhmässään."
            " Lopuksi yhteinen tehtävä tai peli koko perheelle."),
        municipalities=("Mäntyharju", "Pertunmaa"), tracks=(PREVENTIVE, CHILD_PROTECTION),
        themes=("interaction_and_networks", "preventing_exclusion", "family_functioning"),
        ages=(84, 155), venue="Mäntyharjun perhekeskus", facilitators=("Elina Mäkelä",),
        capacity=7, weekday=1, start=time(17, 0), minutes=90, count=8, status="finished",
        starts=-95, opened=30, families=5),
    GroupDraft(
        name="Vanhempien vertaistukiryhmä",
        description=(
            "Keskusteluryhmä vanhemmille lasten iästä riippumatta: arjen kuormitus,"
            " parisuhde ja vanhemmuus, omat voimavarat. Ryhmä on luottamuksellinen;"
            " lapsille järjestetään hoito samassa talossa."),
        municipalities=("Kangasniemi", "Hirvensalmi"), tracks=(PREVENTIVE, CHILD_PROTECTION),
        themes=("parenthood", "family_resources", "family_functioning"),
        ages=(0, 192), venue="Kangasniemen kirjasto, ryhmätila",
        facilitators=("Pirjo Kärkkäinen",), capacity=5, weekday=2, start=time(18, 0),
        minutes=90, count=8, status="running", starts=-36, opened=30, interval_weeks=2,
        families=8, withdrawals=1, attendees="guardians"),
    GroupDraft(
        # Staff call it by what it is; families, phones and calendars see the title.
        name="Lastensuojelun vanhempainryhmä",
        public_title="Arjen voimaa",
        description=(
            "Lastensuojelun perhetyön ryhmä vanhemmille ja lapsille. Harjoitellaan"
            " myönteisiä kasvatuskeinoja, arjen ongelmatilanteiden ratkaisemista ja"
            " yhteisiä leikkihetkiä. Ryhmään ohjataan oman sosiaalityöntekijän kanssa"
            " sovitusti; joulun pyhinä ryhmä pitää tauon."),
        municipalities=("Mikkeli",), tracks=(CHILD_PROTECTION,),
        themes=("parent_child_relationship", "positive_upbringing", "everyday_problems",
                "family_resources"),
        ages=(0, 144), venue="Perhekeskus Mikkeli, ryhmähuone",
        facilitators=("Minna Laitinen", "Anu Savolainen"), capacity=5, weekday=4,
        start=time(13, 0), minutes=90, count=10, status="open", starts=10, opened=28,
        families=7, christmas=True),
    GroupDraft(
        name="Українські родини – ukrainalaisten perheiden ryhmä",
        description=(
            "Ukrainankielinen ryhmä perheille: tietoa suomalaisesta arjesta, palveluista,"
            " varhaiskasvatuksesta ja koulusta, ja aikaa tutustua toisiin perheisiin."
            " Tulkki on mukana jokaisella kerralla. Зустрічі українською мовою з"
            " перекладачем."),
        municipalities=("Mikkeli",), tracks=(PREVENTIVE, CHILD_PROTECTION),
        themes=("interaction_and_networks", "service_mapping", "preventing_exclusion"),
        ages=(0, 192), venue="Mikkelin pääkirjasto, ryhmätila",
        facilitators=("Jari Tikkanen",), capacity=8, weekday=5, start=time(10, 0),
        minutes=90, count=8, status="open", starts=11, opened=30, interval_weeks=2,
        language="uk", spoken="uk", families=4),
    GroupDraft(
        name="Perhekerho Puumala",
        description=(
            "Kevään perhekerho alle kouluikäisten lasten perheille: yhteistä leikkiä,"
            " laulua ja askartelua sekä kahvittelua ja juttelua vanhempien kesken."),
        municipalities=("Puumala",), tracks=(PREVENTIVE,),
        themes=("doing_together", "interaction_and_networks"), ages=(0, 84),
        venue="Puumalan koulukeskus, kerhotila", facilitators=("Jari Tikkanen",),
        capacity=8, weekday=1, start=time(17, 30), minutes=90, count=8, status="draft",
        starts=63, opened=4, interval_weeks=2),
)
FATHERS = frozenset(name for group in LANGUAGE_GROUPS.values() for name in group[3])
ABSENCE = 0.12  # a family misses a session now and then
MAX_GROUPS_PER_FAMILY = 2


def create_groups(staff: dict, rng: random.Random, today: date, now: datetime) -> None:
    """The peer groups, each replayed through the services from its creation on."""
    zone = unit_zone()
    usage = Counter()
    for draft in GROUPS:
        _replay_group(draft, staff, rng, today, now, zone, usage)
    db.session.flush()


def _first_date(draft: GroupDraft, today: date) -> tuple[date, int]:
    """The group's first date and weekday; a Christmas series spans the holidays.

    When Christmas is near, a weekly series meeting on the weekday of a coming
    working-day holiday (Christmas Eve to Epiphany) that the series reaches,
    starting up to six weeks before it, is sure to skip it. Otherwise the group
    keeps its own weekday.
    """
    earliest = today + timedelta(days=draft.starts)
    if draft.christmas:
        for year in (today.year - 1, today.year):
            for holiday in (date(year, 12, 24), date(year, 12, 25), date(year, 12, 26),
                            date(year + 1, 1, 1), date(year + 1, 1, 6)):
                if (holiday.weekday() < 5 and earliest + timedelta(weeks=1) <= holiday
                        <= earliest + timedelta(weeks=draft.count - 2)):
                    first = max(earliest, holiday - timedelta(weeks=6))
                    first += timedelta(days=(holiday.isoweekday() - first.isoweekday()) % 7)
                    return first, holiday.isoweekday()
    first = earliest + timedelta(days=(draft.weekday - earliest.isoweekday()) % 7)
    return first, draft.weekday


def _replay_group(draft: GroupDraft, staff: dict, rng: random.Random, today: date,
                  now: datetime, zone, usage: Counter) -> PeerGroup:
    """Create, open, fill and run one group, each step on the clock of its day."""
    places = set(draft.municipalities)
    organiser = next(user for user in staff[COORDINATOR]
                     if places <= {place.name for place in user.municipalities})
    workers = {user.name: user for user in staff[FAMILY_WORKER]}
    facilitators = [workers[name] for name in draft.facilitators]
    first, weekday = _first_date(draft, today)
    created = (today if draft.status == "draft" else first) - timedelta(days=draft.opened)
    if draft.status != "draft":  # opened at least a week ago, to have families
        created = min(created, today - timedelta(days=7))
    closed = group_series.days_off_between(created - timedelta(days=14), today)
    while created.weekday() >= 5 or created in closed:  # planned on working days
        created -= timedelta(days=1)
    plan = group_series.SeriesPlan(group_series.series_rule(
        weekday=weekday, start_time=draft.start, duration_minutes=draft.minutes,
        first_date=first, count=draft.count, interval_weeks=draft.interval_weeks))
    group = group_services.create_group(
        organiser, name=draft.name, public_title=draft.public_title,
        description=draft.description, capacity=draft.capacity,
        municipalities=draft.municipalities, tracks=draft.tracks, themes=draft.themes,
        min_age_months=draft.ages[0], max_age_months=draft.ages[1],
        language=draft.language, venue=draft.venue,
        facilitator_ids=[user.id for user in facilitators],
        # A draft is still being planned: enrollment opens once it is ready.
        enrollment_opens=created if draft.status != "draft" else today + timedelta(days=14),
        enrollment_closes=first + timedelta(weeks=2 * draft.interval_weeks - 1),
        series=plan, zone=zone, clock=clock_on(created, now, hour=10))
    if draft.status == "draft":
        return group
    group_services.update_group(organiser, group, {"status": "open"}, zone=zone,
                                clock=clock_on(created, now, hour=11))
    sessions = list(group.sessions)
    first_day = to_local(sessions[0].start, zone).date()
    # Families ask for seats on working days between opening and the first session.
    last_ask = min(first_day - timedelta(days=2), today - timedelta(days=1))
    candidates = _eligible(draft, group, first_day, last_ask, usage)
    chosen = rng.sample(candidates, min(draft.families, len(candidates)))
    working_days = [day for day in (created + timedelta(days=days)
                                    for days in range(1, (last_ask - created).days + 1))
                    if day.weekday() < 5 and day not in closed] or [last_ask]
    asks = []
    for family in chosen:
        day = rng.choice([day for day in working_days if day >= family.plan.start_date]
                         or [last_ask])
        asks.append((clock_on(day, now, hour=rng.randint(9, 15)).now(), family))
    enrollments = []
    for asked, family in sorted(asks, key=lambda ask: (ask[0], ask[1].reference)):
        actor = organiser
        if family.family_workers and rng.random() < 0.5:
            actor = rng.choice(by_id(family.family_workers))
        members = _attending(draft, family, first_day, rng)
        enrollments.append(group_enrollment.enroll(
            actor, group, family, [member.id for member in members], zone=zone,
            clock=FixedClock(asked)))
        usage[family.id] += 1
    # Who drops out, and when: before the start for an open group, after a few
    # sessions for one that is running.
    placed = [enrollment for enrollment in enrollments if enrollment.status == "enrolled"]
    leaving = rng.sample(placed, min(draft.withdrawals, len(placed)))
    if draft.status == "open":
        last_day = local_today(max((asked for asked, _family in asks), default=now))
        for enrollment in leaving:
            group_enrollment.withdraw(organiser, enrollment,
                                    clock=clock_on(last_day, now, hour=16))
        if draft.rearranged:
            _rearrange(group, organiser, today, now, zone)
        return group
    group_services.update_group(organiser, group, {"status": "running"}, zone=zone,
                                clock=FixedClock(min(sessions[0].start, now)))
    past = [session for session in sessions if session.end < now]
    leave_after = min(2, len(past))
    for index, session in enumerate(past):
        _record_attendance(session, facilitators, rng, now)
        if index + 1 == leave_after:
            for enrollment in leaving:
                group_enrollment.withdraw(organiser, enrollment, clock=FixedClock(
                    min(session.end + timedelta(days=1), now)))
    if draft.status == "finished" and len(past) == len(sessions):
        ended = to_local(sessions[-1].end, zone).date() + timedelta(days=1)
        group_services.update_group(organiser, group, {"status": "finished"}, zone=zone,
                                    clock=clock_on(ended, now))
    return group


def _eligible(draft: GroupDraft, group: PeerGroup, first_day: date, last_ask: date,
              usage: Counter) -> list[Family]:
    """Families the group is for, with a plan before enrollment closes for the demo.

    The group's rule (``groups.eligibility``: the track, the plan, the ages)
    decides, as enrollment will; the municipality and the language are the
    demo's own choice, as a coordinator's would be.
    """
    families = db.session.scalars(
        db.select(Family).join(Family.municipality)
        .where(Family.status == "active", Municipality.name.in_(draft.municipalities))
        .order_by(Family.reference))
    terms = group_enrollment.group_terms(group, first_day)
    result = []
    for family in families:
        if family.plan is None or family.plan.start_date > last_ask:
            continue
        if usage[family.id] >= MAX_GROUPS_PER_FAMILY:
            continue
        if draft.spoken and draft.spoken not in family.languages:
            continue
        if draft.attendees == "father" and not _fathers(family):
            continue
        if eligibility.refusal(group_enrollment.family_terms(family), terms, last_ask) is None:
            result.append(family)
    return result


def _fathers(family: Family) -> list:
    return [member for member in by_id(family.guardians) if member.first_name in FATHERS]


def _attending(draft: GroupDraft, family: Family, first_day: date,
               rng: random.Random) -> list:
    """Who of a family comes: a guardian (or both) and the children of the group's age."""
    guardians = by_id(family.guardians)
    if draft.attendees == "father":
        adults = _fathers(family)[:1]
    elif len(guardians) > 1 and rng.random() < (0.4 if draft.attendees == "guardians"
                                                 else 0.25):
        adults = guardians
    else:
        adults = [rng.choice(guardians)]
    if draft.attendees == "guardians":
        return adults
    low, high = draft.ages
    children = [child for child in by_id(family.children)
                if child.birth_date
                and eligibility.age_in_range(child.birth_date, first_day, low, high)]
    return adults + children


def _record_attendance(session: GroupSession, facilitators: list[User],
                       rng: random.Random, now: datetime) -> None:
    """A facilitator marks who came, just after the session: most do."""
    present = {}
    for enrollment in by_id(session.group.enrollments):
        if enrollment.status not in ("enrolled", "completed"):
            continue
        family_came = rng.random() >= ABSENCE
        for member in by_id(enrollment.members):
            # Now and then one parent stays home with a sick sibling.
            present[member.id] = family_came and rng.random() >= 0.04
    group_attendance.record_attendance(
        rng.choice(facilitators), session, present,
        clock=FixedClock(min(session.end + timedelta(minutes=20), now)))


def _rearrange(group: PeerGroup, organiser: User, today: date, now: datetime, zone) -> None:
    """The coordinator moves one coming session to the next working day and cancels
    another: calendars see a higher sequence for both."""
    ahead = group_series.upcoming_sessions(group, now)
    clock = clock_on(today, now, hour=8)
    moved, cancelled = ahead[4], ahead[7]
    local = to_local(moved.start, zone)
    closed = group_series.days_off_between(local.date(), local.date() + timedelta(days=14))
    day = local.date() + timedelta(days=1)
    while day.weekday() >= 5 or day in closed:
        day += timedelta(days=1)
    group_series.change_session(
        organiser, moved, start=local_datetime(day, local.time(), zone), clock=clock)
    group_series.change_session(organiser, cancelled, status="cancelled", clock=clock)


def group_summary() -> str:
    """The groups by status, with their seats, waiting lists and attendance."""
    groups = Counter(db.session.scalars(db.select(PeerGroup.status)))
    seats = Counter(db.session.scalars(db.select(Enrollment.status)))
    marks = db.session.scalar(db.select(db.func.count()).select_from(Attendance))
    states = ", ".join(f"{groups[status]} {status}" for status in
                       ("draft", "open", "running", "finished") if groups[status])
    return (f"{groups.total()} peer groups ({states}; {seats['enrolled']} places taken, "
            f"{seats['waitlisted']} waiting, {seats['completed']} completed, "
            f"{seats['withdrawn']} withdrawn, {marks} attendance marks)")
