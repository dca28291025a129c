"""What a message is made of on its way out: values cleaned of line breaks and
control characters (a bad row already stored still goes out cleanly), a message
that cannot be made fails once with a clear error, and SMS segments counted in
GSM-7 and UCS-2, kept to one where the facts fit and capped by a setting."""

import secrets
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import NAME_MAX as USER_NAME_MAX
from accounts.models import User
from calendars.events import PUBLIC_LABELS
from calendars.models import PLACE_MAX
from config import Config
from core.clock import FixedClock
from core.models import NAME_MAX as VENUE_NAME_MAX
from extensions import db
from groups import enrollment as group_enrollment
from groups.models import NAME_MAX as GROUP_TITLE_MAX
from reminders import messages
from reminders.channels import HttpSmsChannel, Outgoing, SmtpChannel
from reminders.dispatcher import opt_out_link
from reminders.models import Reminder
from reminders.sms import encoding, segments
from tests.conftest import NOW, make_family, make_group, make_user
from tests.reminders.helpers import HELSINKI, at, book, dispatch, rows
from tests.reminders.sinks import SmsGateway, SmtpSink

PURPOSES = ("reminder", "change", "cancellation")
KINDS = tuple(PUBLIC_LABELS)
LOCALES = ("fi", "en")
# The link as the dispatcher writes it: the default base URL and a real secret's length.
LINK = opt_out_link(Config.PUBLIC_BASE_URL, secrets.token_urlsafe(16))
VENUE_ADDRESS_MAX = 200
PHONE_MAX = 30


# --- segments ----------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected", "count"), [
    ("", "GSM-7", 1),
    ("a" * 160, "GSM-7", 1),
    ("a" * 161, "GSM-7", 2),
    ("a" * 306, "GSM-7", 2),
    ("a" * 307, "GSM-7", 3),
    ("Äiti ja Örkki, Åland: äöå ÄÖÅ" + "x" * 130, "GSM-7", 1),  # basic set, 160
    ("€" * 80, "GSM-7", 1),              # an extension character is two septets
    ("€" * 81, "GSM-7", 2),
    ("a" * 159 + "€", "GSM-7", 2),        # 161 septets: two parts
    ("a" * 152 + "€" + "a" * 152, "GSM-7", 3),  # the pair is not split: it starts part 2
    ("Šárka" + "a" * 65, "UCS-2", 1),     # š is not in GSM-7: 70 units
    ("Šárka" + "a" * 66, "UCS-2", 2),
    ("ž" * 134, "UCS-2", 2),
    ("ž" * 135, "UCS-2", 3),
    ("😀" * 35, "UCS-2", 1),               # a surrogate pair is two units
    ("😀" * 36, "UCS-2", 2),
    ("a" * 66 + "😀" + "a" * 66, "UCS-2", 3),  # 134 units, the pair moved whole: 3 parts
])
def test_segments_are_counted_in_gsm7_or_ucs2(text, expected, count):
    assert encoding(text) == expected
    assert segments(text) == count


# --- the facts as stored, rendered -------------------------------------------

def payload(**overrides) -> dict:
    facts = {"what": "home_visit", "group_title": None,
             "start": "2026-12-03T08:00:00+00:00", "end": "2026-12-03T09:00:00+00:00",
             "place": "Porrassalmenkatu 17 B 4, Mikkeli", "contact_name": "Maija Ohjaaja",
             "contact_phone": "040 555 1234",
             "previous_start": "2026-12-02T13:30:00+00:00"}
    return {**facts, **overrides}


def every_sms(facts: dict, max_segments=messages.SMS_MAX_SEGMENTS):
    for purpose in PURPOSES:
        for locale in LOCALES:
            yield purpose, locale, messages.render(
                purpose=purpose, channel="sms", payload=facts, locale=locale, link=LINK,
                max_segments=max_segments).body


@pytest.mark.parametrize("kind", KINDS)
def test_a_typical_reminder_is_one_segment_and_keeps_what_when_and_the_link(app, kind):
    facts = payload(what=kind, group_title="Vauvaryhmä" if kind == "group_session" else None)
    for purpose, locale, body in every_sms(facts):
        assert segments(body) == 1, (purpose, locale, len(body), body)
        assert body.endswith(LINK)
        assert "3.12." in body or "3 Dec" in body


def longest_facts(kind: str, char: str) -> dict:
    """Every value at the longest its field holds."""
    return payload(what=kind, group_title=char * GROUP_TITLE_MAX,
                   place=", ".join((char * VENUE_NAME_MAX, char * VENUE_ADDRESS_MAX))
                   if kind == "group_session" else char * PLACE_MAX,
                   contact_name=char * USER_NAME_MAX, contact_phone="4" * PHONE_MAX)


@pytest.mark.parametrize("char", ["a", "ä", "€", "š", "😀"])
@pytest.mark.parametrize("kind", KINDS)
def test_the_longest_values_allowed_stay_within_the_cap(app, kind, char):
    for max_segments in (1, 2, 3):
        for purpose, locale, body in every_sms(longest_facts(kind, char), max_segments):
            assert segments(body) <= max_segments, (purpose, locale, segments(body))
            assert body.endswith(LINK)


def test_optional_parts_go_first_in_a_fixed_order(app):
    long_contact = payload(contact_name="Maija-Liisa Ohjaajanen-Pitkäsukunimi",
                           place="Vanha kunnantalo, Mikkelin seudun perhekeskus, Mikkeli")
    body = messages.render(purpose="change", channel="sms", payload=long_contact,
                           locale="en", link=LINK).body
    assert segments(body) == 1
    # The phone and the contact went before the earlier time and the place.
    assert "040 555 1234" not in body
    assert "Vanha kunnantalo" in body


names = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
                min_size=1, max_size=GROUP_TITLE_MAX)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=names, contact=names, place=st.text(max_size=PLACE_MAX),
       kind=st.sampled_from(KINDS), cap=st.integers(1, 4))
def test_any_names_make_a_capped_one_line_sms_with_the_link(app, title, contact, place,
                                                             kind, cap):
    facts = payload(what=kind, group_title=title, contact_name=contact, place=place)
    for _purpose, _locale, body in every_sms(facts, cap):
        assert segments(body) <= cap
        assert body.endswith(LINK)
        assert "\n" not in body and "\r" not in body
        assert all(ord(char) >= 0x20 for char in body)


@given(st.text(max_size=200))
def test_one_line_leaves_no_line_break_or_control_character(text):
    cleaned = messages.one_line(text)
    assert not any(char in cleaned for char in "\r\n\x00\x1b\u2028\u2029\x85")
    assert cleaned == cleaned.strip()


# --- a bad row already stored --------------------------------------------------

INJECTED = "Maija\r\nBcc: everyone@example.test\r\n\r\nOhjaaja"


@pytest.fixture
def family(coordinator):
    worker = make_user("family_worker", municipalities=("Mikkeli",), name="Maija Ohjaaja")
    worker.phone = "040 555 1234"
    db.session.commit()
    return make_family(coordinator, workers=[worker], plan=True, members=[
        {"role": "guardian", "first_name": "Anna", "phone": "+358 40 123 4567",
         "reminder_channel": "sms", "locale": "fi"},
        {"role": "guardian", "first_name": "Mikko", "email": "mikko@example.test",
         "reminder_channel": "email", "locale": "en"},
        {"role": "child", "first_name": "Eeli", "birth_date": date(2024, 5, 10)}])


def test_a_name_with_line_breaks_already_stored_is_sent_cleanly(coordinator, family):
    worker = family.family_workers[0]
    # Written around every form and the API, as an older version or a database
    # tool could have done.
    db.session.execute(sa.update(User).where(User.id == worker.id).values(name=INJECTED))
    db.session.commit()
    visit = book(coordinator, family, at(12, 3, 10))
    with SmtpSink() as smtp, SmsGateway() as gateway:
        channels = {"email": SmtpChannel(host="127.0.0.1", port=smtp.port,
                                         sender="perhetyo@example.test"),
                    "sms": HttpSmsChannel(url=gateway.url, api_key="test-key")}
        result, _ = dispatch(at(12, 2, 10, 1), channels)
        assert result.sent == 2, rows(event_id=visit.id)
        [mail] = smtp.messages
        assert mail["Bcc"] is None
        assert "\n" not in mail["Subject"]
        assert "Maija Bcc: everyone@example.test Ohjaaja" in mail.get_content()
        [sms] = gateway.received
        assert "\n" not in sms["message"] and "\r" not in sms["message"]
    assert {row.status for row in rows(event_id=visit.id)} == {"sent"}


def test_a_group_title_with_line_breaks_already_stored_makes_a_clean_subject(
        coordinator, family):
    worker = family.family_workers[0]
    group = make_group(coordinator, facilitators=[worker], count=1,
                       first_date=date(2026, 12, 8))
    group_enrollment.enroll(coordinator, group, family, [m.id for m in family.members],
                            zone=HELSINKI, clock=FixedClock(NOW))
    db.session.commit()
    session = group.sessions[0]
    # The title as an outbox row holds it, written around every check.
    for row in rows(event_id=session.id):
        row.payload = {**row.payload,
                       "group_title": "Perheryhmä\r\nBcc: everyone@example.test"}
    db.session.commit()
    session = group.sessions[0]
    with SmtpSink() as smtp, SmsGateway() as gateway:
        channels = {"email": SmtpChannel(host="127.0.0.1", port=smtp.port,
                                         sender="perhetyo@example.test"),
                    "sms": HttpSmsChannel(url=gateway.url, api_key="test-key")}
        result, _ = dispatch(session.start - timedelta(hours=23), channels)
        assert result.sent == 2, rows(event_id=session.id)
        [mail] = smtp.messages
        assert mail["Bcc"] is None
        assert mail["Subject"].startswith("Reminder: Perheryhmä Bcc: everyone@example.test")
        [sms] = gateway.received
        assert "\n" not in sms["message"]


def test_smtp_headers_are_folded_to_one_line_each(app):
    channel = SmtpChannel(host="127.0.0.1", port=25, sender="perhetyo@example.test")
    email = channel.email(Outgoing(key="r:1", to="mikko@example.test\r\nBcc: x@example.test",
                                   subject="Muistutus\r\nBcc: x@example.test", body="Hei"),
                          "<r.1@perhetyo.reminders>")
    assert email["Bcc"] is None
    assert "\n" not in email["Subject"] and "\n" not in email["To"]


def test_a_message_that_cannot_be_made_fails_once_with_a_clear_error(coordinator, family):
    visit = book(coordinator, family, at(12, 3, 10))
    broken = dict(rows(event_id=visit.id, channel="sms")[0].payload)
    del broken["start"]
    db.session.execute(sa.update(Reminder).where(Reminder.event_id == visit.id)
                       .values(payload=broken))
    db.session.commit()
    result, sent = dispatch(at(12, 2, 10, 1))
    assert (result.failed, result.retrying, result.sent) == (2, 0, 0)
    for row in rows(event_id=visit.id):
        assert (row.status, row.attempts) == ("failed", 1)
        assert row.last_error.startswith("message could not be made: KeyError")
    assert sent["sms"].sent == [] and sent["email"].sent == []
    again, _ = dispatch(at(12, 2, 12))
    assert again.failed == 0 and again.sent == 0


def test_the_cap_comes_from_the_setting(app):
    assert app.config["SMS_MAX_SEGMENTS"] == 2
