"""`flask --app app seed-demo`: deterministic, realistic demo data for the region.

Staff, families (with members and plans), venues, blackout dates, peer
groups, working hours, absences and home visits for the six municipalities of
the Mikkeli region. Everything about families goes through
``families.services``, everything about groups through ``groups.services`` and
every visit through ``calendars.services``, so that the rules of the work hold
for the demo as they do for real data, and the audit log gets the same entries.

The data is drawn from a ``random.Random`` with a fixed seed and placed in
time relative to the clock's local "today", so the demo always looks current
and the same ``--now`` always gives the same data.
"""

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from accounts import services as account_services
from accounts.models import User
from calendars import services as calendar_services
from calendars.models import Absence, HomeVisit, VisitSeries, WorkingHours
from core.clock import FixedClock, get_clock, set_clock
from core.errors import Conflict
from core.localtime import local_datetime, local_today, to_local, unit_zone
from core.models import BlackoutDate, Municipality, Venue
from core.places import ensure_reference_data, municipality_named
from core.recurrence import first_on_weekday
from core.roles import ADMIN, COORDINATOR, FAMILY_WORKER, SOCIAL_WORKER
from core.vocabulary import CHILD_PROTECTION, PREVENTIVE
from core.vocabulary import SOCIAL_WORKER as SOCIAL_WORKER_SOURCE
from extensions import db
from families import services as family_services
from families.models import Family, Plan, TrackChange
from groups import eligibility
from groups import services as group_services
from groups.models import Attendance, Enrollment, GroupSession, PeerGroup

SEED = 5011  # any fixed number; changing it changes every family
DOMAIN = "perhetyo.example"  # RFC 2606 reserved: no real mailbox is ever addressed
PASSWORD = "demo-perhetyo"
FAMILY_COUNT = 64
HISTORY_DAYS = 540  # referrals spread over the last ~18 months
MAX_CHILD_AGE_DAYS = 16 * 365 + 300  # children are 0-16 years old

# --- staff -----------------------------------------------------------------
# (role, name, e-mail local part, municipalities)
STAFF = (
    (ADMIN, "Riitta Hämäläinen", "paakayttaja", ()),
    (COORDINATOR, "Sanna Korhonen", "koordinaattori", ("Mikkeli",)),
    (COORDINATOR, "Jukka Heikkinen", "koordinaattori.pohjoinen",
     ("Hirvensalmi", "Kangasniemi")),
    (COORDINATOR, "Marjo Pesonen", "koordinaattori.etela", ("Mäntyharju", "Pertunmaa", "Puumala")),
    (FAMILY_WORKER, "Minna Laitinen", "perhetyontekija.mikkeli1", ("Mikkeli",)),
    (FAMILY_WORKER, "Tuomas Nieminen", "perhetyontekija.mikkeli2", ("Mikkeli",)),
    (FAMILY_WORKER, "Anu Savolainen", "perhetyontekija.mikkeli3", ("Mikkeli", "Hirvensalmi")),
    (FAMILY_WORKER, "Pirjo Kärkkäinen", "perhetyontekija.kangasniemi",
     ("Kangasniemi", "Hirvensalmi")),
    (FAMILY_WORKER, "Elina Mäkelä", "perhetyontekija.mantyharju", ("Mäntyharju", "Pertunmaa")),
    (FAMILY_WORKER, "Jari Tikkanen", "perhetyontekija.puumala", ("Puumala", "Mikkeli")),
    (SOCIAL_WORKER, "Katja Laine", "sosiaalityontekija.mikkeli1", ("Mikkeli",)),
    (SOCIAL_WORKER, "Henna Lehtonen", "sosiaalityontekija.mikkeli2",
     ("Mikkeli", "Hirvensalmi", "Puumala")),
    (SOCIAL_WORKER, "Outi Rantanen", "sosiaalityontekija.seutu",
     ("Kangasniemi", "Mäntyharju", "Pertunmaa")),
)
DEMO_EMAILS = tuple(f"{local}@{DOMAIN}" for _role, _name, local, _places in STAFF)

# --- places ----------------------------------------------------------------
# Families per municipality, weighted to the regional centre.
FAMILIES_PER_MUNICIPALITY = (("Mikkeli", 28), ("Kangasniemi", 9), ("Mäntyharju", 9),
                             ("Hirvensalmi", 6), ("Puumala", 6), ("Pertunmaa", 6))
STREETS = {
    "Mikkeli": ("Porrassalmenkatu", "Hallituskatu", "Maaherrankatu", "Savilahdenkatu",
                "Jääkärinkatu", "Otavankatu", "Vuorikatu", "Ristimäenkatu", "Rantakatu",
                "Kalevankatu", "Lähemäentie", "Peitsarinkatu"),
    "Hirvensalmi": ("Hirvensalmentie", "Kirkkotie", "Otavantie", "Koulutie"),
    "Kangasniemi": ("Kauppatie", "Otavantie", "Kirkkotie", "Koulutie", "Rantatie"),
    "Mäntyharju": ("Keskustie", "Asematie", "Ratakatu", "Urheilutie", "Pappilantie"),
    "Pertunmaa": ("Kuortintie", "Kirkkotie", "Koulutie", "Mäntyharjuntie"),
    "Puumala": ("Kirkkoranta", "Koulutie", "Puumalantie", "Satamatie"),
}
# (name, municipality, address, accessible)
VENUES = (
    ("Perhekeskus Mikkeli, ryhmähuone", "Mikkeli", "Porrassalmenkatu 21", True),
    ("Mikkelin pääkirjasto, ryhmätila", "Mikkeli", "Raatihuoneenkatu 6", True),
    ("Rantakylän asukastupa, kerhohuone", "Mikkeli", "Rantakyläntie 4", True),
    ("Hirvensalmen kunnantalo, kokoushuone", "Hirvensalmi", "Hirvensalmentie 12", True),
    ("Kangasniemen kirjasto, ryhmätila", "Kangasniemi", "Otavantie 2", True),
    ("Mäntyharjun perhekeskus", "Mäntyharju", "Keskustie 8", True),
    ("Pertunmaan seurakuntatalo, alakerta", "Pertunmaa", "Kirkkotie 3", False),
    ("Puumalan koulukeskus, kerhotila", "Puumala", "Koulutie 5", True),
)
# (days from today, reason): moved to the next weekday.
BLACKOUTS = ((16, "Perhetyön yksikön koulutuspäivä"),
             (45, "Perhetyön kehittämispäivä"),
             (80, "Henkilöstön virkistyspäivä"))

# --- families --------------------------------------------------------------
SURNAMES = (
    # None of the staff's surnames, so that a search never mixes staff and families.
    "Virtanen", "Kukkonen", "Heiskanen", "Mäkinen", "Nykänen", "Silvennoinen", "Koskinen",
    "Järvinen", "Pakarinen", "Tiihonen", "Sihvonen", "Hyvönen", "Kirjavainen", "Miettinen",
    "Väisänen", "Karppinen", "Ruotsalainen", "Hokkanen", "Pulkkinen", "Kinnunen", "Manninen",
    "Kauppinen", "Rautiainen", "Kokkonen", "Salminen", "Huttunen", "Turunen", "Leinonen",
    "Partanen", "Toivanen", "Kettunen", "Oksanen", "Lyytikäinen", "Pylkkänen", "Hakkarainen",
    "Lappalainen", "Häkkinen", "Mikkonen", "Tolvanen", "Räsänen", "Vesterinen", "Moilanen",
    "Hirvonen", "Jääskeläinen", "Kemppainen", "Laukkanen", "Ollikainen", "Pitkänen",
    "Puustinen", "Rissanen", "Suhonen", "Tuominen", "Voutilainen", "Ylönen", "Ahonen",
    "Backman", "Eskelinen", "Hannonen", "Ikonen", "Kosonen",
)
# language: (family count, surnames, mothers, fathers, children, spoken languages, locale)
LANGUAGE_GROUPS = {
    "fi": (49, SURNAMES,
           ("Anna", "Laura", "Johanna", "Sanna", "Maria", "Heidi", "Jenni", "Katja",
            "Emilia", "Riikka", "Niina", "Hanna", "Tiina", "Satu", "Elisa", "Veera"),
           ("Mikko", "Juha", "Janne", "Antti", "Ville", "Teemu", "Tuomas", "Jussi",
            "Matti", "Petri", "Sami", "Markus", "Joni", "Aleksi", "Lauri", "Timo"),
           ("Aino", "Eino", "Helmi", "Väinö", "Olivia", "Leo", "Sofia", "Eeli", "Ella",
            "Oliver", "Lilja", "Onni", "Venla", "Elias", "Aada", "Niilo", "Emma", "Toivo",
            "Iida", "Veeti", "Pihla", "Lenni", "Siiri", "Vilho", "Kerttu", "Otto"),
           ("fi",), "fi"),
    "sv": (3, ("Lindqvist", "Holmström", "Sundberg"), ("Linnea", "Ebba", "Sara"),
           ("Erik", "Johan", "Anders"), ("Alva", "Elsa", "Nils", "Axel"), ("sv", "fi"), "fi"),
    "ru": (3, ("Smirnov", "Petrov", "Kuznetsov"), ("Olga", "Natalia", "Irina"),
           ("Sergei", "Dmitri", "Aleksei"), ("Anastasia", "Maksim", "Polina", "Artjom"),
           ("ru", "fi"), "en"),
    "uk": (4, ("Kovalenko", "Shevchenko", "Bondarenko", "Melnyk"), ("Olena", "Iryna", "Oksana"),
           ("Andrii", "Oleksandr", "Taras"), ("Sofiia", "Maksym", "Daryna", "Dmytro"),
           ("uk", "en"), "en"),
    "ar": (3, ("Al-Hassan", "Haddad", "Mahmoud"), ("Fatima", "Layla", "Amal"),
           ("Ahmed", "Omar", "Yousef"), ("Mariam", "Adam", "Noor", "Ali"), ("ar",), "en"),
    "en": (2, ("Smith", "Taylor"), ("Emily", "Sarah"), ("James", "Daniel"),
           ("Grace", "Jack", "Mia", "Harry"), ("en",), "en"),
}
CHILD_PROTECTION_FAMILIES = 17  # plus the track changes: about a third in all
TRACK_CHANGES = 4
PREVENTIVE_SOURCES = (("child_health_clinic", 30), ("early_childhood_education", 22),
                      ("self", 18), ("health_care", 15), ("other_authority", 10))
# Goals come from the areas the source text lists for the family's track.
GOALS = {
    CHILD_PROTECTION: (
        ("parent_child_relationship",
         "Vahvistetaan vanhemman ja lapsen välistä vuorovaikutusta yhteisten leikkihetkien"
         " avulla."),
        ("positive_upbringing",
         "Etsitään yhdessä myönteisiä kasvatuskeinoja ja johdonmukaisia rajoja."),
        ("family_resources", "Kartoitetaan perheen omat voimavarat ja läheisverkosto."),
        ("everyday_problems",
         "Harjoitellaan arjen ongelmatilanteiden ratkaisemista, kuten raha-asioiden ja"
         " asiointien hoitamista."),
        ("time_together", "Sovitaan perheen yhteisestä ajasta vähintään kerran viikossa."),
        ("doing_together", "Tehdään yhdessä arjen askareita ja retkiä lähiympäristöön."),
        ("service_mapping",
         "Kartoitetaan perheelle sopivat palvelut ja ohjataan niiden piiriin."),
        ("age_appropriate_development",
         "Tuetaan lapsen ikätason mukaista kehitystä yhdessä varhaiskasvatuksen tai koulun"
         " kanssa."),
    ),
    PREVENTIVE: (
        ("parenthood", "Tuetaan vanhemmuutta ja vanhempien jaksamista."),
        ("care_and_upbringing",
         "Ohjataan lasten hoidossa ja kasvatuksessa, erityisesti uni- ja ruokailurytmeissä."),
        ("everyday_routines", "Rakennetaan perheelle toimiva päivärytmi ja arkirutiinit."),
        ("family_functioning",
         "Vahvistetaan perheen toimintakykyä ja keinoja selviytyä kuormittavista tilanteista."),
        ("interaction_and_networks",
         "Tuetaan vuorovaikutustaitoja ja tutustutaan alueen vertaisryhmiin."),
        ("preventing_exclusion",
         "Ehkäistään syrjäytymistä ohjaamalla perhettä harrastuksiin ja yhteisön toimintaan."),
    ),
}
PHONE_PREFIXES = ("40", "40", "44", "45", "50")
ASCII = str.maketrans("äöåÄÖÅ", "aoaAOA")


@dataclass
class FamilyDraft:
    """One family as drawn, before it is registered through the services."""

    surname: str
    municipality: str
    language: str
    track: str
    referral_source: str
    referral_date: date
    address: str
    guardians: list = field(default_factory=list)  # (first name, "Äiti"/"Isä", contact)
    children: list = field(default_factory=list)  # (first name, birth date)
    status: str = "active"
    changes_track: bool = False
    address_non_disclosure: bool = False


# --- the command -----------------------------------------------------------

@click.command("seed-demo")
@click.option("--if-empty", is_flag=True,
              help="Do nothing (but list the demo logins) when the database has users.")
@click.option("--now", "now_text", default=None, metavar="ISO",
              help="Pretend it is this instant, e.g. 2026-11-30T10:00:00+02:00 "
                   "(without an offset: Helsinki time). The same --now gives the same data.")
@with_appcontext
def seed_demo(if_empty, now_text):
    """Fill an empty database with the demo region's staff and families."""
    if now_text:
        set_clock(current_app, FixedClock(_parse_now(now_text)))
    ensure_reference_data()
    db.session.flush()
    if _has_data():
        if if_empty:
            click.echo("The database already has data; demo data not added.")
            db.session.commit()  # keep any municipalities ensure_reference_data added
            _echo_logins()
            return
        raise click.ClickException(
            "The database already has users or families; seed-demo only fills an empty "
            "database. Use --if-empty to skip quietly, or start from a new database.")
    clock = get_clock()
    summary = seed(clock.now(), random.Random(SEED))
    db.session.commit()
    click.echo(summary)
    _echo_logins()


def _parse_now(text: str) -> datetime:
    """An ISO 8601 instant; without an offset it is the unit's local time."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 date-time: {text!r}",
                                 param_hint="--now") from None
    if value.tzinfo is None:
        return local_datetime(value.date(), value.time())
    return value


def _has_data() -> bool:
    """Whether anything a demo would collide with exists: users or families."""
    return (db.session.scalar(db.select(User.id).limit(1)) is not None
            or db.session.scalar(db.select(Family.id).limit(1)) is not None)


def _echo_logins() -> None:
    """The demo accounts that exist, as a table: role, name, e-mail, password."""
    users = {user.email: user for user in db.session.scalars(
        db.select(User).where(User.email.in_(DEMO_EMAILS)))}
    rows = [(user.role, user.name, user.email, PASSWORD)
            for user in (users.get(email) for email in DEMO_EMAILS) if user is not None]
    if not rows:
        return
    header = ("role", "name", "e-mail", "password")
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(4)]
    click.echo("\nDemo logins:")
    for row in (header, tuple("-" * width for width in widths), *rows):
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo(("  " + "  ".join(cells)).rstrip())
    if any(row[0] == ADMIN for row in rows):
        click.echo("  The admin sets up two-factor sign-in (a code of an authenticator app)"
                   " at the first sign-in.")


# --- seeding ---------------------------------------------------------------

def seed(now: datetime, rng: random.Random) -> str:
    """Create the whole demo as of ``now``; return a short summary. Does not commit."""
    today = local_today(now)
    staff = _create_staff(today, now)
    venues = _create_venues()
    blackouts = _create_blackouts(today)
    drafts = _draw_families(rng, today)
    for draft in drafts:
        _register_family(draft, staff, rng, today, now)
    db.session.flush()
    _create_groups(staff, rng, today, now)
    _create_visits(staff, rng, today, now)
    families = list(db.session.scalars(db.select(Family)))
    tracks = Counter(family.track for family in families)
    statuses = Counter(family.status for family in families)
    plans = db.session.scalar(db.select(db.func.count(Plan.id)))
    changes = db.session.scalar(db.select(db.func.count(TrackChange.id)))
    due = sum(1 for family in families if family.status == "active"
              and family.plan.review_date <= today + timedelta(days=30))
    return (
        f"Demo data as of {today.isoformat()}: {sum(len(v) for v in staff.values())} staff, "
        f"{len(families)} families ({tracks[CHILD_PROTECTION]} child protection, "
        f"{tracks[PREVENTIVE]} preventive; {statuses['referred']} referred, "
        f"{statuses['planning']} planning, {statuses['active']} active, "
        f"{statuses['closed']} closed), {plans} plans ({due} reviews due within 30 days), "
        f"{changes} track changes, {venues} venues, {blackouts} blackout dates, "
        f"{_group_summary()}, {_visit_summary(now)}.")


def _group_summary() -> str:
    """The groups by status, with their places, waiting lists and attendance."""
    groups = Counter(db.session.scalars(db.select(PeerGroup.status)))
    places = Counter(db.session.scalars(db.select(Enrollment.status)))
    marks = db.session.scalar(db.select(db.func.count()).select_from(Attendance))
    states = ", ".join(f"{groups[status]} {status}" for status in
                       ("draft", "open", "running", "finished") if groups[status])
    return (f"{groups.total()} peer groups ({states}; {places['enrolled']} places taken, "
            f"{places['waitlisted']} waiting, {places['completed']} completed, "
            f"{places['withdrawn']} withdrawn, {marks} attendance marks)")


def _clock_on(day: date, now: datetime, hour: int = 9) -> FixedClock:
    """A clock on a past working morning, never later than the real "now"."""
    return FixedClock(min(local_datetime(day, time(hour, 0)), now))


def _create_staff(today: date, now: datetime) -> dict[str, list[User]]:
    """The demo accounts by role, created as if before the first referral."""
    clock = _clock_on(today - timedelta(days=HISTORY_DAYS + 30), now)
    staff = {ADMIN: [], COORDINATOR: [], FAMILY_WORKER: [], SOCIAL_WORKER: []}
    for role, name, local, municipalities in STAFF:
        staff[role].append(account_services.create_user(
            email=f"{local}@{DOMAIN}", name=name, role=role, password=PASSWORD,
            municipalities=municipalities, clock=clock))
    return staff


def _create_venues() -> int:
    """The group venues that are missing (an admin may have added some already)."""
    existing = set(db.session.scalars(db.select(Venue.name)))
    for name, municipality, address, accessible in VENUES:
        if name not in existing:
            db.session.add(Venue(name=name, municipality=municipality_named(municipality),
                                 address=address, accessible=accessible))
    return len(VENUES)


def _create_blackouts(today: date) -> int:
    """A few closed days ahead: training and development days fall on weekdays."""
    existing = set(db.session.scalars(db.select(BlackoutDate.day)))
    for days, reason in BLACKOUTS:
        day = today + timedelta(days=days)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        if day not in existing:
            db.session.add(BlackoutDate(day=day, reason=reason))
    return len(BLACKOUTS)


def _draw_families(rng: random.Random, today: date) -> list[FamilyDraft]:
    """Draw every family, oldest referral first, with statuses fitting their age.

    Fixed quotas (shuffled) rather than independent draws keep the counts per
    municipality, language and track exactly as planned for any seed.
    """
    places = [name for name, count in FAMILIES_PER_MUNICIPALITY for _ in range(count)]
    languages = [code for code, group in LANGUAGE_GROUPS.items() for _ in range(group[0])]
    tracks = ([CHILD_PROTECTION] * CHILD_PROTECTION_FAMILIES
              + [PREVENTIVE] * (FAMILY_COUNT - CHILD_PROTECTION_FAMILIES))
    for quota in (places, languages, tracks):
        rng.shuffle(quota)
    surnames = {code: rng.sample(group[1], len(group[1]))
                for code, group in LANGUAGE_GROUPS.items()}
    drafts = []
    for municipality, language, track in zip(places, languages, tracks, strict=True):
        # Skewed towards recent referrals: a unit's caseload is mostly recent.
        referral_date = today - timedelta(days=1 + int(HISTORY_DAYS * rng.random() ** 1.6))
        source = (SOCIAL_WORKER_SOURCE if track == CHILD_PROTECTION else rng.choices(
            [s for s, _w in PREVENTIVE_SOURCES], [w for _s, w in PREVENTIVE_SOURCES])[0])
        draft = FamilyDraft(
            surname=surnames[language].pop(), municipality=municipality, language=language,
            track=track, referral_source=source, referral_date=referral_date,
            address=_address(rng, municipality))
        _draw_members(rng, draft, today)
        drafts.append(draft)
    drafts.sort(key=lambda draft: draft.referral_date)
    # The newest are still waiting for a plan; a few of the oldest have ended.
    for draft in drafts[-6:]:
        draft.status = "referred"
    for draft in drafts[-13:-6]:
        draft.status = "planning"
    for draft in rng.sample(drafts[:24], 6):
        draft.status = "closed"
    # Preventive work that turned out to need child protection (rule 1).
    candidates = [draft for draft in drafts[:40]
                  if draft.status == "active" and draft.track == PREVENTIVE]
    for draft in rng.sample(candidates, TRACK_CHANGES):
        draft.changes_track = True
    # One family's address is under non-disclosure (turvakielto): the first active
    # child-protection family whose guardian gets reminders, chosen without
    # drawing so the rest stays as it was.
    next(draft for draft in drafts if draft.status == "active"
         and draft.track == CHILD_PROTECTION
         and any(contact.get("reminder_channel", "none") != "none"
                 for _name, _word, contact in draft.guardians)
         ).address_non_disclosure = True
    return drafts


def _address(rng: random.Random, municipality: str) -> str:
    """A street of the town with a made-up number; flats mostly in Mikkeli."""
    street = rng.choice(STREETS[municipality])
    number = rng.randint(1, 60)
    if municipality == "Mikkeli" and rng.random() < 0.6:
        return f"{street} {number} {rng.choice('ABCD')} {rng.randint(1, 24)}"
    return f"{street} {number}"


def _draw_members(rng: random.Random, draft: FamilyDraft, today: date) -> None:
    """One or two guardians with contacts, and one to four children aged 0-16."""
    _count, _surnames, mothers, fathers, children, _spoken, _locale = (
        LANGUAGE_GROUPS[draft.language])
    if rng.random() < 0.65:
        parents = [(rng.choice(mothers), "Äiti"), (rng.choice(fathers), "Isä")]
    else:
        parents = [(rng.choice(mothers), "Äiti") if rng.random() < 0.8
                   else (rng.choice(fathers), "Isä")]
    for position, (first_name, word) in enumerate(parents):
        draw = rng.random()
        phone = (f"+358 {rng.choice(PHONE_PREFIXES)} {rng.randint(100, 999)} "
                 f"{rng.randint(1000, 9999)}")
        email = f"{first_name}.{draft.surname}@example.com".lower().translate(ASCII)
        # The first guardian is usually the contact for reminders.
        if draw < (0.55 if position == 0 else 0.3):
            contact = {"phone": phone, "reminder_channel": "sms"}
        elif draw < (0.8 if position == 0 else 0.45):
            contact = {"email": email, "reminder_channel": "email"}
        elif draw < 0.9:
            contact = {"phone": phone, "reminder_channel": "none"}
        else:
            contact = {}
        draft.guardians.append((first_name, word, contact))
    count = rng.choices((1, 2, 3, 4), (40, 35, 18, 7))[0]
    # A child health clinic refers families with babies; day care with small children.
    youngest = {"child_health_clinic": (20, 540),
                "early_childhood_education": (365, 6 * 365)}.get(
        draft.referral_source, (60, 14 * 365))
    # Siblings are one to four years apart; none older than 16.
    ages = [rng.randint(*youngest)]
    while len(ages) < count and ages[-1] + 450 <= MAX_CHILD_AGE_DAYS:
        ages.append(min(ages[-1] + rng.randint(450, 1500), MAX_CHILD_AGE_DAYS))
    names = rng.sample(children, len(ages))
    draft.children = [(name, today - timedelta(days=age))
                      for name, age in zip(names, ages, strict=True)]


def _register_family(draft: FamilyDraft, staff: dict, rng: random.Random, today: date,
                     now: datetime) -> Family:
    """Register one family through the services, replaying its history in time order.

    Each step runs on a clock set to the day it happened, so references carry
    the referral year and plans, track changes and the audit log have
    believable dates.
    """
    admin = staff[ADMIN][0]
    spoken = LANGUAGE_GROUPS[draft.language][5]
    locale = LANGUAGE_GROUPS[draft.language][6]
    social_workers = _serving(staff[SOCIAL_WORKER], draft.municipality)
    workers = _serving(staff[FAMILY_WORKER], draft.municipality)
    social_worker = rng.choice(social_workers)
    assigned = rng.sample(workers, 2 if len(workers) > 1 and rng.random() < 0.2 else 1)
    if draft.status == "referred" and rng.random() < 0.5:
        assigned = []  # not yet assigned by the coordinator
    members = [{"role": "guardian", "first_name": name, "locale": locale, **contact}
               for name, _word, contact in draft.guardians]
    # A child born after the referral is added later, as a worker would.
    born_later = [(name, born) for name, born in draft.children if born > draft.referral_date]
    members += [{"role": "child", "first_name": name, "birth_date": born}
                for name, born in draft.children if born <= draft.referral_date]
    # A child-protection family is referred by its social worker; a preventive
    # one is registered by the coordinator of its municipality.
    registrar = (social_worker if draft.track == CHILD_PROTECTION
                 else _serving(staff[COORDINATOR], draft.municipality)[0])
    family = family_services.create_family(
        registrar, surname=draft.surname, municipality=draft.municipality, track=draft.track,
        referral_source=draft.referral_source, referral_date=draft.referral_date,
        address=draft.address, address_non_disclosure=draft.address_non_disclosure,
        responsible_social_worker_id=(social_worker.id if draft.track == CHILD_PROTECTION
                                      else None),
        family_worker_ids=[worker.id for worker in assigned], languages=spoken,
        members=members, clock=_clock_on(draft.referral_date, now))
    for name, born in born_later:
        family_services.add_member(
            admin, family, {"role": "child", "first_name": name, "birth_date": born},
            clock=_clock_on(min(born + timedelta(days=14), today - timedelta(days=1)), now))
    if draft.status == "referred":
        return family
    if draft.status == "planning":
        meeting = min(draft.referral_date + timedelta(days=rng.randint(3, 10)),
                      today - timedelta(days=1))
        family_services.update_family(admin, family, {"status": "planning"},
                                      clock=_clock_on(meeting, now))
        return family
    start = min(draft.referral_date + timedelta(days=rng.randint(10, 35)),
                today - timedelta(days=2))
    if draft.status == "closed":
        review = max(start, min(start + timedelta(days=rng.randint(90, 180)),
                                today - timedelta(days=5)))
    else:
        # Spread over the coming months, so some reviews are due soon, a few overdue.
        review = max(today + timedelta(days=rng.randint(-10, 150)),
                     start + timedelta(days=30))
    _set_plan(family, admin, draft, social_worker, assigned, rng, start, review, now)
    if draft.changes_track:
        changed_on = start + (today - start) * rng.randint(3, 7) // 10
        family_services.update_family(admin, family, {
            "track": CHILD_PROTECTION, "referral_source": SOCIAL_WORKER_SOURCE,
            "responsible_social_worker_id": social_worker.id},
            clock=_clock_on(changed_on, now))
        # The plan is revised with the social worker once the track has changed.
        revised = min(changed_on + timedelta(days=7), today - timedelta(days=1))
        review = max(review, revised + timedelta(days=30))
        _set_plan(family, admin, draft, social_worker, assigned, rng, revised, review, now)
    if draft.status == "closed":
        closed_on = min(review + timedelta(days=rng.randint(0, 14)), today - timedelta(days=1))
        family_services.update_family(admin, family, {"status": "closed"},
                                      clock=_clock_on(closed_on, now, hour=14))
    return family


def _serving(users: list[User], municipality: str) -> list[User]:
    """The users of a role who work in a municipality."""
    return [user for user in users
            if municipality in {place.name for place in user.municipalities}]


def _set_plan(family: Family, actor: User, draft: FamilyDraft, social_worker: User,
              assigned: list[User], rng: random.Random, start: date, review: date,
              now: datetime) -> None:
    """Record the family's plan with goals fitting its current track."""
    areas = GOALS[family.track]
    chosen = sorted(rng.sample(range(len(areas)), rng.randint(2, 4)))
    goals = [areas[index][0] for index in chosen]
    visits = rng.choice(("kerran viikossa", "kaksi kertaa kuukaudessa",
                         "kolme kertaa kuukaudessa"))
    lines = [areas[index][1] for index in chosen] + [f"Kotikäynnit {visits}."]
    if family.track == PREVENTIVE and rng.random() < 0.4:
        lines.append("Perhe osallistuu vertaisryhmään.")
    parents = " ja ".join(word.lower() for _name, word, _contact in draft.guardians)
    agreed = [parents[0].upper() + parents[1:]]
    if draft.language not in ("fi", "sv"):
        agreed[0] += " (tulkin välityksellä)"
    if family.track == CHILD_PROTECTION:
        agreed.append(f"sosiaalityöntekijä {social_worker.name.split()[-1]}")
    agreed += [f"perhetyöntekijä {worker.name.split()[-1]}" for worker in assigned]
    family_services.set_plan(
        actor, family, goals=goals, content="\n".join(lines), agreed_with=", ".join(agreed),
        start_date=start, review_date=review,
        social_worker_participated=family.track == CHILD_PROTECTION,
        clock=_clock_on(start, now, hour=13))


# --- peer groups -----------------------------------------------------------

@dataclass(frozen=True)
class GroupDraft:
    """One peer group as planned: what create_group takes, and its story so far.

    ``starts`` is the first date in days from today (negative: already begun);
    ``opened`` how many days before the first date it was created and opened.
    ``families`` is how many families ask for a place, ``withdrawals`` how many
    of those with a place drop out; ``attendees`` says who of a family comes.
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


def _create_groups(staff: dict, rng: random.Random, today: date, now: datetime) -> None:
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
    closed = group_services.days_off_between(created - timedelta(days=14), today)
    while created.weekday() >= 5 or created in closed:  # planned on working days
        created -= timedelta(days=1)
    plan = group_services.SeriesPlan(group_services.series_rule(
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
        series=plan, zone=zone, clock=_clock_on(created, now, hour=10))
    if draft.status == "draft":
        return group
    group_services.update_group(organiser, group, {"status": "open"}, zone=zone,
                                clock=_clock_on(created, now, hour=11))
    sessions = list(group.sessions)
    first_day = to_local(sessions[0].start, zone).date()
    # Families ask for places on working days between opening and the first session.
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
        asks.append((_clock_on(day, now, hour=rng.randint(9, 15)).now(), family))
    enrollments = []
    for asked, family in sorted(asks, key=lambda ask: (ask[0], ask[1].reference)):
        actor = organiser
        if family.family_workers and rng.random() < 0.5:
            actor = rng.choice(_by_id(family.family_workers))
        members = _attending(draft, family, first_day, rng)
        enrollments.append(group_services.enroll(
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
            group_services.withdraw(organiser, enrollment,
                                    clock=_clock_on(last_day, now, hour=16))
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
                group_services.withdraw(organiser, enrollment, clock=FixedClock(
                    min(session.end + timedelta(days=1), now)))
    if draft.status == "finished" and len(past) == len(sessions):
        ended = to_local(sessions[-1].end, zone).date() + timedelta(days=1)
        group_services.update_group(organiser, group, {"status": "finished"}, zone=zone,
                                    clock=_clock_on(ended, now))
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
    terms = group_services.group_terms(group, first_day)
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
        if eligibility.refusal(group_services.family_terms(family), terms, last_ask) is None:
            result.append(family)
    return result


def _by_id(rows: list) -> list:
    """Rows in the order they were created.

    A relationship loaded from the database comes in its own order, one still
    in memory since its creation in the order it was built; which of the two
    the demo sees depends on garbage collection, so order explicitly.
    """
    return sorted(rows, key=lambda row: row.id)


def _fathers(family: Family) -> list:
    return [member for member in _by_id(family.guardians) if member.first_name in FATHERS]


def _attending(draft: GroupDraft, family: Family, first_day: date,
               rng: random.Random) -> list:
    """Who of a family comes: a guardian (or both) and the children of the group's age."""
    guardians = _by_id(family.guardians)
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
    children = [child for child in _by_id(family.children)
                if child.birth_date
                and eligibility.age_in_range(child.birth_date, first_day, low, high)]
    return adults + children


def _record_attendance(session: GroupSession, facilitators: list[User],
                       rng: random.Random, now: datetime) -> None:
    """A facilitator marks who came, just after the session: most do."""
    present = {}
    for enrollment in _by_id(session.group.enrollments):
        if enrollment.status not in ("enrolled", "completed"):
            continue
        family_came = rng.random() >= ABSENCE
        for member in _by_id(enrollment.members):
            # Now and then one parent stays home with a sick sibling.
            present[member.id] = family_came and rng.random() >= 0.04
    group_services.record_attendance(
        rng.choice(facilitators), session, present,
        clock=FixedClock(min(session.end + timedelta(minutes=20), now)))


def _rearrange(group: PeerGroup, organiser: User, today: date, now: datetime, zone) -> None:
    """The coordinator moves one coming session to the next working day and cancels
    another: calendars see a higher sequence for both."""
    ahead = group_services.upcoming_sessions(group, now)
    clock = _clock_on(today, now, hour=8)
    moved, cancelled = ahead[4], ahead[7]
    local = to_local(moved.start, zone)
    closed = group_services.days_off_between(local.date(), local.date() + timedelta(days=14))
    day = local.date() + timedelta(days=1)
    while day.weekday() >= 5 or day in closed:
        day += timedelta(days=1)
    group_services.change_session(
        organiser, moved, start=local_datetime(day, local.time(), zone), clock=clock)
    group_services.change_session(organiser, cancelled, status="cancelled", clock=clock)


# --- working hours, absences and home visits -------------------------------

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
BREAK = 15  # minutes between two visits of a worker in the same municipality


@dataclass(frozen=True)
class Booked:
    """A stretch a worker's week already holds: visits of a series or a session."""

    start: int  # minutes from midnight, local
    end: int
    interval: int  # weeks
    parity: int  # which week of a fortnight
    first: date
    last: date
    municipality_id: int | None


def _create_visits(staff: dict, rng: random.Random, today: date, now: datetime) -> None:
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
    closed = group_services.days_off_between(today - timedelta(weeks=VISIT_WEEKS + 2),
                                             today + timedelta(weeks=VISIT_WEEKS + 2))
    for name, kind, days, length, note in ABSENCES:
        first = _working_day(today + timedelta(days=days), closed)
        last = first
        for _ in range(length - 1):
            last = _working_day(last + timedelta(days=1), closed)
        opens = time(0) if kind == "leave" else time(8)
        closes_on = last + timedelta(days=1) if kind == "leave" else last
        db.session.add(Absence(
            user_id=workers[name].id, kind=kind, start=local_datetime(first, opens, zone),
            end=local_datetime(closes_on, time(0) if kind == "leave" else time(16), zone),
            note=note))
    db.session.flush()
    booked = _group_bookings(today, zone)
    context = dict(zone=zone, settings=settings)
    families = list(db.session.scalars(db.select(Family).order_by(Family.id)))
    for family in families:
        if family.status == "active" and family.family_workers:
            _book_regular(family, hours, booked, closed, rng, today, now, **context)
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


def _working_day(day: date, closed: dict) -> date:
    while day.weekday() >= 5 or day in closed:
        day += timedelta(days=1)
    return day


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _parity(day: date) -> int:
    return day.toordinal() // 7 % 2


def _group_bookings(today: date, zone) -> dict:
    """What the groups already hold of their facilitators' weeks, date by date."""
    booked = {}
    sessions = db.session.scalars(
        db.select(GroupSession).join(GroupSession.group)
        .where(PeerGroup.status != "draft", GroupSession.status == "scheduled")
        .order_by(GroupSession.start, GroupSession.id))
    for session in sessions:
        start, end = to_local(session.start, zone), to_local(session.end, zone)
        if abs((start.date() - today).days) > VISIT_WEEKS * 7 + 14:
            continue
        venue = session.venue or session.group.venue
        for worker in session.group.facilitators:
            booked.setdefault((worker.id, start.isoweekday()), []).append(Booked(
                _minutes(start.time()), _minutes(end.time()), 1, 0, start.date(),
                start.date(), venue.municipality_id if venue else None))
    return booked


def _fits(entries: list, candidate: Booked) -> bool:
    """Whether a weekly slot is free: one municipality a day, a break between visits."""
    for entry in entries:
        if entry.first > candidate.last or entry.last < candidate.first:
            continue
        if entry.municipality_id not in (None, candidate.municipality_id):
            return False
        if 2 == entry.interval == candidate.interval and entry.parity != candidate.parity:
            continue
        if candidate.start < entry.end + BREAK and entry.start < candidate.end + BREAK:
            return False
    return True


def _starts(window: tuple[time, time], minutes: int) -> list[time]:
    """Start times a working day offers: half an hour in, then every two hours."""
    moment, closes = _minutes(window[0]) + 30, _minutes(window[1])
    starts = []
    while moment + minutes <= closes:
        starts.append(time(moment // 60, moment % 60))
        moment += 120
    return starts


def _book_regular(family: Family, hours: dict, booked: dict, closed: dict,
                  rng: random.Random, today: date, now: datetime, *, zone, settings) -> None:
    """The family's regular home visits: its worker's series, weekly or fortnightly.

    The worker books the series a few days after the plan was agreed (or before
    the demo's two months begin), at a time free in their week; dates the
    family or the worker cannot make are removed by hand.
    """
    plan = family.plan
    workers = _by_id(family.family_workers)
    worker = workers[0] if len(workers) == 1 else rng.choice(workers)
    interval = 2 if "kaksi kertaa kuukaudessa" in plan.content else 1
    minutes = rng.choice((75, 90) if family.track == CHILD_PROTECTION else (60, 60, 75, 90))
    earliest = max(today - timedelta(weeks=VISIT_WEEKS) + timedelta(days=rng.randint(0, 6)),
                   plan.start_date + timedelta(days=rng.randint(3, 10)))
    last = today + timedelta(weeks=VISIT_WEEKS)
    options = []
    for weekday in sorted(hours[worker.id]):
        first = first_on_weekday(earliest, weekday)
        for start in _starts(hours[worker.id][weekday], minutes):
            options.append((weekday, start, first))
    rng.shuffle(options)
    # The least busy days first, so that a worker's week fills evenly.
    options.sort(key=lambda option: len(booked.get((worker.id, option[0]), ())))
    for weekday, start, first in options:
        slot = Booked(_minutes(start), _minutes(start) + minutes, interval, _parity(first),
                      first, last, family.municipality_id)
        entries = booked.setdefault((worker.id, weekday), [])
        if not _fits(entries, slot):
            continue
        booked_on = max(plan.start_date, first - timedelta(days=rng.randint(4, 10)))
        clock = _clock_on(booked_on, now, hour=rng.randint(9, 15))
        rule = group_services.series_rule(
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
            entries.append(slot)
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


def _days_from(day: date, count: int, closed: dict) -> list[date]:
    days = []
    while len(days) < count:
        day = _working_day(day, closed)
        days.append(day)
        day += timedelta(days=1)
    return days


def _book_review(family: Family, hours: dict, rng: random.Random, today: date,
                 now: datetime, *, zone, settings) -> None:
    """A review meeting with every worker of the family, near the plan's review date.

    An overdue review is booked for the coming days.
    """
    review = family.plan.review_date
    if not today - timedelta(weeks=VISIT_WEEKS) <= review <= today + timedelta(
            weeks=VISIT_WEEKS):
        return
    workers = _by_id(family.family_workers)
    first = max(review, today + timedelta(days=2))
    closed = group_services.days_off_between(first, first + timedelta(days=21))
    booked_on = max(family.plan.start_date, first - timedelta(days=rng.randint(14, 28)))
    clock = _clock_on(booked_on, now, hour=rng.randint(9, 15))

    def book(day, start):
        calendar_services.book_visit(
            rng.choice(workers), family, kind="review_meeting",
            start=local_datetime(day, start, zone),
            end=local_datetime(day, start, zone) + timedelta(minutes=90),
            worker_ids=[worker.id for worker in workers], zone=zone, settings=settings,
            clock=clock)

    _try_times(book, _days_from(first, 5, closed), [hours[w.id] for w in workers], 90)


def _book_planning(family: Family, staff: dict, hours: dict, rng: random.Random,
                   today: date, now: datetime, *, zone, settings) -> None:
    """The coordinator books the planning meeting in the coming weeks."""
    coordinator = _serving(staff[COORDINATOR], family.municipality.name)[0]
    workers = _by_id(family.family_workers)
    first = today + timedelta(days=rng.randint(3, 18))
    closed = group_services.days_off_between(first, first + timedelta(days=21))
    clock = _clock_on(today, now, hour=8)

    def book(day, start):
        calendar_services.book_visit(
            coordinator, family, kind="planning_meeting",
            start=local_datetime(day, start, zone),
            end=local_datetime(day, start, zone) + timedelta(minutes=90),
            worker_ids=[worker.id for worker in workers], zone=zone, settings=settings,
            clock=clock)

    _try_times(book, _days_from(first, 5, closed), [hours[w.id] for w in workers], 90)


def _book_evening_visit(families: list[Family], hours: dict, today: date, now: datetime,
                        *, zone, settings) -> None:
    """One family meets only after the parents' work: a single evening visit, booked
    knowingly outside the worker's hours (a confirmed soft clash)."""
    family = next((f for f in families if f.status == "active" and f.family_workers
                   and f.municipality.name == "Mikkeli" and len(f.guardians) == 2), None)
    if family is None:
        return
    worker = _by_id(family.family_workers)[0]
    closed = group_services.days_off_between(today, today + timedelta(days=28))
    for day in _days_from(today + timedelta(days=7), 10, closed):
        start = local_datetime(day, time(17, 30), zone)
        try:
            calendar_services.book_visit(
                worker, family, kind="home_visit", start=start,
                end=start + timedelta(minutes=60), worker_ids=[worker.id],
                notes="Isä pääsee kotiin vasta viideltä; sovittu kertaluonteinen iltakäynti.",
                confirm=True, zone=zone, settings=settings,
                clock=_clock_on(today, now, hour=8))
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
    closed = group_services.days_off_between(today - timedelta(weeks=VISIT_WEEKS + 1),
                                             today + timedelta(weeks=VISIT_WEEKS + 1))
    for visit in rng.sample(past, min(5, len(past))) + rng.sample(ahead, min(2, len(ahead))):
        _move(visit, closed, now, **common)
    for visit in sorted(visits, key=lambda v: (v.start, v.id)):
        if visit.end > now - timedelta(hours=2):
            continue
        actor = _by_id(visit.workers)[0]
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
                _by_id(visit.workers)[0], visit,
                {"status": "cancelled", "status_reason": rng.choice(CANCEL_REASONS)},
                clock=_clock_on(today, now, hour=8), **common)


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
                    _by_id(visit.workers)[0], visit, {"start": start}, zone=zone,
                    settings=settings, clock=FixedClock(asked))
            except Conflict:
                continue
            return


def _visit_summary(now: datetime) -> str:
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
