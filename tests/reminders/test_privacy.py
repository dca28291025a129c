"""Rule 8: nothing in a reminder reveals the track, the plan, notes, children or more
identity than the guardian needs. Every message text and every rendered message is read."""

import os
from datetime import date, timedelta

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale

from calendars.events import public_group_title
from core.clock import FixedClock
from core.vocabulary import SUPPORT_AREAS, TRACKS
from extensions import db
from families import services as family_services
from groups import enrollment as group_enrollment
from reminders import messages
from tests.conftest import NOW, make_family, make_group, make_user
from tests.reminders.helpers import HELSINKI, at, book, change, dispatch

SECRETS = {
    "plan": "Huolena isän päihteiden käyttö ja lapsen turvallisuus",
    "agreed": "Sosiaalityöntekijä Sanna Salo ja vanhemmat",
    "notes": "Naapuri teki ilmoituksen",
    "surname": "Salaisuus",
    "children": ("Eeli", "Ronja"),
}


def message_texts():
    """Every message text of the reminders, as written in the source."""
    texts = [*messages.SMS.values(), *messages.SUBJECTS.values(), *messages.EMAIL.values(),
             *messages.WHAT.values(), messages.EMAIL_FOOTER, messages.PLACE_AS_AGREED,
             messages.YOUR_FAMILY_WORKER]
    return [text._args[0] if hasattr(text, "_args") else str(text) for text in texts]


def test_every_message_text_and_its_translation_is_free_of_forbidden_wording(app):
    catalogue_path = os.path.join(app.root_path, "translations", "fi", "LC_MESSAGES",
                                  "messages.po")
    with open(catalogue_path, "rb") as source:
        catalogue = read_po(source)
    texts = message_texts()
    assert len(texts) >= 12
    for text in texts:
        assert not messages.says_too_much(text), text
        translated = catalogue.get(text)
        if translated is not None and translated.string:
            assert not messages.says_too_much(translated.string), translated.string
    for locale in ("fi", "en"):
        with force_locale(locale):
            for text in [*messages.SMS.values(), *messages.EMAIL.values(),
                         *messages.WHAT.values()]:
                assert not messages.says_too_much(str(text))


def test_a_group_titled_with_child_protection_wording_is_called_a_group_meeting():
    assert public_group_title("Lastensuojelun vanhempainryhmä") is None
    assert public_group_title("Child protection parents") is None
    assert public_group_title("Sijoitettujen lasten vanhempien ryhmä") is None
    assert public_group_title("Vauvaperheiden ryhmä") == "Vauvaperheiden ryhmä"


@pytest.fixture
def confidential_family(app, coordinator):
    social_worker = make_user("social_worker", name="Sanna Salo")
    worker = make_user("family_worker", name="Maija Ohjaaja")
    family = make_family(
        coordinator, track="child_protection", social_worker=social_worker,
        surname=SECRETS["surname"], workers=[worker], members=[
            {"role": "guardian", "first_name": "Anna", "phone": "+358 40 123 4567",
             "reminder_channel": "sms", "locale": "fi"},
            {"role": "guardian", "first_name": "Mikko", "email": "mikko@example.test",
             "reminder_channel": "email", "locale": "en"},
            {"role": "child", "first_name": SECRETS["children"][0],
             "birth_date": date(2024, 5, 10)},
            {"role": "child", "first_name": SECRETS["children"][1],
             "birth_date": date(2021, 3, 1)}])
    family_services.set_plan(
        coordinator, family, goals=list(SUPPORT_AREAS)[:4], content=SECRETS["plan"],
        agreed_with=SECRETS["agreed"], start_date=date(2026, 11, 20),
        review_date=date(2027, 2, 20), social_worker_participated=True,
        clock=FixedClock(NOW))
    db.session.commit()
    return family


def forbidden_for(family) -> list[str]:
    values = [SECRETS["plan"], SECRETS["agreed"], SECRETS["notes"], family.surname,
              family.reference, "Sanna", "Salo", *SECRETS["children"]]
    values += [str(label) for label in SUPPORT_AREAS.values()]
    values += [str(label) for label in TRACKS.values()] + list(TRACKS)
    return values


def test_every_rendered_message_of_a_child_protection_family_tells_only_what_when_where(
        app, coordinator, confidential_family):
    family = confidential_family
    worker = family.family_workers[0]
    sent = []

    def run(now):
        _result, channels = dispatch(now)
        sent.extend(message for channel in channels.values() for message in channel.sent)

    planning = book(coordinator, family, at(12, 2, 12), kind="planning_meeting")
    visit = book(coordinator, family, at(12, 3, 10))
    review = book(coordinator, family, at(12, 4, 13), kind="review_meeting")
    for booked in (planning, visit, review):
        change(coordinator, booked, notes=SECRETS["notes"])
    group = make_group(coordinator, facilitators=[worker], count=2,
                       name="Lastensuojelun vanhempainryhmä", first_date=date(2026, 12, 8))
    group_enrollment.enroll(coordinator, group, family, [m.id for m in family.members],
                            zone=HELSINKI, clock=FixedClock(NOW))
    db.session.commit()
    run(at(12, 1, 13))                      # reminders of the planning meeting
    run(at(12, 2, 10, 30))                  # ... of the home visit
    change(coordinator, visit, clock=FixedClock(at(12, 2, 11)), start=at(12, 3, 14),
           end=at(12, 3, 15))
    run(at(12, 2, 11, 1))                   # change notices
    run(at(12, 3, 13, 30))                  # reminders of the review meeting
    change(coordinator, review, clock=FixedClock(at(12, 3, 14)), status="cancelled")
    run(at(12, 3, 14, 1))                   # cancellation notices
    session = group.sessions[0]
    run(session.start - timedelta(hours=23))  # the group session
    purposes = {message.key.split(":")[0] for message in sent}
    assert purposes == {"r", "n", "c"}
    assert {message.to for message in sent} == {"+358 40 123 4567", "mikko@example.test"}
    assert any("group meeting" in message.body for message in sent)
    forbidden = [value.lower() for value in forbidden_for(family)]
    for message in sent:
        text = f"{message.subject}\n{message.body}"
        assert not messages.says_too_much(text), text
        for value in forbidden:
            assert value not in text.lower(), (value, text)
    sms = [message for message in sent if message.to.startswith("+")]
    assert all(len(message.body) <= 320 for message in sms), [m.body for m in sms]
