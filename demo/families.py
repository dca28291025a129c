"""The families: drawn from fixed quotas, registered and planned through the services."""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from accounts.models import User
from core.roles import ADMIN, COORDINATOR, FAMILY_WORKER, SOCIAL_WORKER
from core.vocabulary import CHILD_PROTECTION, PREVENTIVE
from core.vocabulary import SOCIAL_WORKER as SOCIAL_WORKER_SOURCE
from demo.history import HISTORY_DAYS, clock_on
from demo.staff import serving
from families import services as family_services
from families.models import Family

FAMILY_COUNT = 64
MAX_CHILD_AGE_DAYS = 16 * 365 + 300  # children are 0-16 years old
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


def draw_families(rng: random.Random, today: date) -> list[FamilyDraft]:
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


def register_family(draft: FamilyDraft, staff: dict, rng: random.Random, today: date,
                     now: datetime) -> Family:
    """Register one family through the services, replaying its history in time order.

    Each step runs on a clock set to the day it happened, so references carry
    the referral year and plans, track changes and the audit log have
    believable dates.
    """
    admin = staff[ADMIN][0]
    spoken = LANGUAGE_GROUPS[draft.language][5]
    locale = LANGUAGE_GROUPS[draft.language][6]
    social_workers = serving(staff[SOCIAL_WORKER], draft.municipality)
    workers = serving(staff[FAMILY_WORKER], draft.municipality)
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
                 else serving(staff[COORDINATOR], draft.municipality)[0])
    family = family_services.create_family(
        registrar, surname=draft.surname, municipality=draft.municipality, track=draft.track,
        referral_source=draft.referral_source, referral_date=draft.referral_date,
        address=draft.address, address_non_disclosure=draft.address_non_disclosure,
        responsible_social_worker_id=(social_worker.id if draft.track == CHILD_PROTECTION
                                      else None),
        family_worker_ids=[worker.id for worker in assigned], languages=spoken,
        members=members, clock=clock_on(draft.referral_date, now))
    for name, born in born_later:
        family_services.add_member(
            admin, family, {"role": "child", "first_name": name, "birth_date": born},
            clock=clock_on(min(born + timedelta(days=14), today - timedelta(days=1)), now))
    if draft.status == "referred":
        return family
    if draft.status == "planning":
        meeting = min(draft.referral_date + timedelta(days=rng.randint(3, 10)),
                      today - timedelta(days=1))
        family_services.update_family(admin, family, {"status": "planning"},
                                      clock=clock_on(meeting, now))
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
            clock=clock_on(changed_on, now))
        # The plan is revised with the social worker once the track has changed.
        revised = min(changed_on + timedelta(days=7), today - timedelta(days=1))
        review = max(review, revised + timedelta(days=30))
        _set_plan(family, admin, draft, social_worker, assigned, rng, revised, review, now)
    if draft.status == "closed":
        closed_on = min(review + timedelta(days=rng.randint(0, 14)), today - timedelta(days=1))
        family_services.update_family(admin, family, {"status": "closed"},
                                      clock=clock_on(closed_on, now, hour=14))
    return family


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
        clock=clock_on(start, now, hour=13))
