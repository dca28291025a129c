"""The unit: its staff, group venues and closed days."""

from datetime import date, datetime, timedelta

from accounts import services as account_services
from accounts.models import User
from core.models import BlackoutDate, Venue
from core.places import municipality_named
from core.roles import ADMIN, COORDINATOR, FAMILY_WORKER, SOCIAL_WORKER
from demo.history import HISTORY_DAYS, clock_on
from extensions import db

DOMAIN = "perhetyo.example"  # RFC 2606 reserved: no real mailbox is ever addressed
PASSWORD = "demo-perhetyo"

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


def create_staff(today: date, now: datetime) -> dict[str, list[User]]:
    """The demo accounts by role, created as if before the first referral."""
    clock = clock_on(today - timedelta(days=HISTORY_DAYS + 30), now)
    staff = {ADMIN: [], COORDINATOR: [], FAMILY_WORKER: [], SOCIAL_WORKER: []}
    for role, name, local, municipalities in STAFF:
        staff[role].append(account_services.create_user(
            email=f"{local}@{DOMAIN}", name=name, role=role, password=PASSWORD,
            municipalities=municipalities, clock=clock))
    return staff


def create_venues() -> int:
    """The group venues that are missing (an admin may have added some already)."""
    existing = set(db.session.scalars(db.select(Venue.name)))
    for name, municipality, address, accessible in VENUES:
        if name not in existing:
            db.session.add(Venue(name=name, municipality=municipality_named(municipality),
                                 address=address, accessible=accessible))
    return len(VENUES)


def create_blackouts(today: date) -> int:
    """A few closed days ahead: training and development days fall on weekdays."""
    existing = set(db.session.scalars(db.select(BlackoutDate.day)))
    for days, reason in BLACKOUTS:
        day = today + timedelta(days=days)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        if day not in existing:
            db.session.add(BlackoutDate(day=day, reason=reason))
    return len(BLACKOUTS)


def serving(users: list[User], municipality: str) -> list[User]:
    """The users of a role who work in a municipality."""
    return [user for user in users
            if municipality in {place.name for place in user.municipalities}]
