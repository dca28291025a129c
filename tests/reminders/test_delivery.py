"""Delivery through real servers on loopback: SMTP (aiosmtpd) and an HTTP SMS gateway."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.tokens import hash_secret
from extensions import db
from reminders.channels import HttpSmsChannel, SmtpChannel, channels_from_config
from reminders.models import OptOutToken
from tests.conftest import make_family, make_user
from tests.reminders.helpers import at, book, dispatch, rows
from tests.reminders.sinks import SmsGateway, SmtpSink

GUARDIANS = [
    {"role": "guardian", "first_name": "Anna", "phone": "+358 40 123 4567",
     "reminder_channel": "sms", "locale": "fi"},
    {"role": "guardian", "first_name": "Mikko", "email": "mikko@example.test",
     "reminder_channel": "email", "locale": "en"},
    {"role": "child", "first_name": "Eeli", "birth_date": at(1, 1, 0).date().replace(year=2024)},
]


@pytest.fixture
def worker(app):
    user = make_user("family_worker", municipalities=("Mikkeli",), name="Maija Ohjaaja")
    user.phone = "040 555 1234"
    db.session.commit()
    return user


@pytest.fixture
def family(coordinator, worker):
    return make_family(coordinator, workers=[worker], plan=True, members=GUARDIANS)


@pytest.fixture
def smtp():
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def gateway():
    with SmsGateway() as server:
        yield server


def channels(smtp, gateway):
    return {"email": SmtpChannel(host="127.0.0.1", port=smtp.port,
                                 sender="perhetyo@example.test"),
            "sms": HttpSmsChannel(url=gateway.url, api_key="test-key")}


def test_email_and_sms_arrive_at_real_servers_with_their_ids_stored(
        coordinator, family, smtp, gateway):
    visit = book(coordinator, family, at(12, 3, 10))
    result, _ = dispatch(at(12, 2, 10, 1), channels(smtp, gateway))
    assert result.sent == 2
    [mail] = smtp.messages
    assert mail["To"] == "mikko@example.test"
    assert mail["Subject"].startswith("Reminder: home visit")
    assert "Maija Ohjaaja, 040 555 1234" in mail.get_content()
    [sms] = gateway.received
    assert sms["to"] == "+358 40 123 4567"
    assert sms["reference"].startswith(f"r:home_visit:{visit.id}:")
    by_channel = {row.channel: row for row in rows(event_id=visit.id)}
    assert by_channel["sms"].provider_message_id == "sms-1"
    assert by_channel["email"].provider_message_id == mail["Message-ID"]
    assert {row.status for row in by_channel.values()} == {"sent"}


def test_each_message_carries_an_opt_out_link_whose_secret_is_stored_only_as_a_hash(
        coordinator, family, smtp, gateway, client):
    book(coordinator, family, at(12, 3, 10))
    dispatch(at(12, 2, 10, 1), channels(smtp, gateway))
    link = gateway.received[0]["message"].rsplit(" ", 1)[1]
    secret = link.rsplit("/r/", 1)[1]
    assert len(link) < 70
    stored = db.session.scalars(sa.select(OptOutToken.token_hash)).all()
    assert hash_secret(secret) in stored and secret not in stored
    page = client.get(f"/r/{secret}")
    assert page.status_code == 200 and "Stop reminders" in page.get_data(as_text=True)


def test_a_gateway_that_fails_then_recovers_is_retried_with_growing_delays(
        coordinator, family, smtp):
    with SmsGateway(failures=2) as gateway:
        visit = book(coordinator, family, at(12, 3, 10))
        start = at(12, 2, 10, 1)
        result, _ = dispatch(start, channels(smtp, gateway))
        assert (result.sent, result.retrying) == (1, 1)
        [sms] = rows(event_id=visit.id, channel="sms")
        assert sms.status == "pending" and sms.attempts == 1
        assert "503" in sms.last_error
        assert sms.send_at == start + timedelta(seconds=60)
        result, _ = dispatch(start + timedelta(seconds=61), channels(smtp, gateway))
        assert result.retrying == 1
        [sms] = rows(event_id=visit.id, channel="sms")
        assert sms.send_at == start + timedelta(seconds=61 + 120)  # doubled
        # Not yet due: nothing is tried early.
        result, _ = dispatch(start + timedelta(seconds=62), channels(smtp, gateway))
        assert result.handled == 0
        result, _ = dispatch(start + timedelta(seconds=200), channels(smtp, gateway))
        assert result.sent == 1
        [sms] = rows(event_id=visit.id, channel="sms")
        assert (sms.status, sms.attempts, sms.last_error) == ("sent", 3, "")
        assert len(gateway.received) == 1 and gateway.requests == 3


def test_a_gateway_that_keeps_failing_marks_the_message_failed_after_the_last_attempt(
        coordinator, family, smtp):
    with SmsGateway(failures=100) as gateway:
        visit = book(coordinator, family, at(12, 3, 10))
        now = at(12, 2, 10, 1)
        for _attempt in range(5):
            dispatch(now, channels(smtp, gateway))
            now += timedelta(hours=2)
        [sms] = rows(event_id=visit.id, channel="sms")
        assert (sms.status, sms.attempts) == ("failed", 3)  # max_attempts in the helper
        assert gateway.requests == 3 and gateway.received == []


def test_a_gateway_refusing_the_message_fails_it_at_once(coordinator, family, smtp):
    with SmsGateway(status=400) as gateway:
        visit = book(coordinator, family, at(12, 3, 10))
        dispatch(at(12, 2, 10, 1), channels(smtp, gateway))
        [sms] = rows(event_id=visit.id, channel="sms")
        assert (sms.status, sms.attempts) == ("failed", 1)
        assert "400" in sms.last_error


def test_a_wrong_api_key_is_a_failure_not_a_crash(coordinator, family, smtp):
    with SmsGateway(api_key="other") as gateway:
        visit = book(coordinator, family, at(12, 3, 10))
        result, _ = dispatch(at(12, 2, 10, 1), channels(smtp, gateway))
        assert result.failed == 1 and result.sent == 1
        assert "401" in rows(event_id=visit.id, channel="sms")[0].last_error


def test_an_smtp_server_that_is_down_is_retried(coordinator, family, gateway):
    visit = book(coordinator, family, at(12, 3, 10))
    with SmtpSink() as sink:
        port = sink.port
    down = {"email": SmtpChannel(host="127.0.0.1", port=port, sender="x@example.test",
                                 timeout=2),
            "sms": HttpSmsChannel(url=gateway.url, api_key="test-key")}
    result, _ = dispatch(at(12, 2, 10, 1), down)
    assert result.retrying == 1
    assert rows(event_id=visit.id, channel="email")[0].last_error.startswith("SMTP")


def test_a_refused_mail_address_fails_at_once(coordinator, worker, smtp, gateway):
    family = make_family(coordinator, workers=[worker], plan=True, members=[
        {"role": "guardian", "first_name": "Outi", "email": "nobody@refused.test",
         "reminder_channel": "email"}])
    visit = book(coordinator, family, at(12, 3, 10))
    result, _ = dispatch(at(12, 2, 10, 1), channels(smtp, gateway))
    assert result.failed == 1
    assert "refused" in rows(event_id=visit.id)[0].last_error


def test_an_sms_due_in_quiet_hours_waits_and_an_email_does_not(
        coordinator, family, smtp, gateway):
    visit = book(coordinator, family, at(12, 3, 10))
    # The dispatcher was down and comes back at 23:00: e-mail now, SMS at 08:00.
    result, _ = dispatch(at(12, 2, 23), channels(smtp, gateway))
    assert (result.sent, result.deferred) == (1, 1)
    [sms] = rows(event_id=visit.id, channel="sms")
    assert (sms.status, sms.send_at, sms.attempts) == ("pending", at(12, 3, 8), 0)
    result, _ = dispatch(at(12, 3, 8), channels(smtp, gateway))
    assert result.sent == 1 and len(gateway.received) == 1


def test_a_reminder_due_after_its_event_began_is_not_sent(coordinator, family, smtp, gateway):
    visit = book(coordinator, family, at(12, 3, 10))
    result, _ = dispatch(at(12, 3, 10, 30), channels(smtp, gateway))
    assert result.cancelled == 2 and smtp.messages == [] and gateway.received == []
    assert {row.cancel_reason for row in rows(event_id=visit.id)} == {"too_late"}


def test_channels_come_from_the_settings_and_a_wrong_one_is_refused(app):
    config = dict(app.config, REMINDER_CHANNEL_EMAIL="smtp", REMINDER_CHANNEL_SMS="http",
                  SMS_GATEWAY_URL="http://127.0.0.1:9/sms")
    made = channels_from_config(config)
    assert isinstance(made["email"], SmtpChannel) and isinstance(made["sms"], HttpSmsChannel)
    with pytest.raises(ValueError, match="does not carry"):
        channels_from_config(dict(config, REMINDER_CHANNEL_EMAIL="http"))
    with pytest.raises(ValueError, match="unknown reminder channel"):
        channels_from_config(dict(config, REMINDER_CHANNEL_SMS="pigeon"))


def test_a_new_channel_is_one_class(app):
    from reminders.channels import Channel

    class Carrier(Channel):
        kind = "test-carrier"
        carries = frozenset({"sms"})

        @classmethod
        def from_config(cls, config):
            return cls()

        def send(self, message):
            return "ok"

    try:
        made = channels_from_config(dict(app.config, REMINDER_CHANNEL_SMS="test-carrier"))
        assert isinstance(made["sms"], Carrier)
    finally:
        Channel.registry.pop("test-carrier")


def test_starttls_and_login_are_used_when_set(app):
    channel = SmtpChannel.from_config(dict(app.config, SMTP_STARTTLS=True,
                                           SMTP_USERNAME="user", SMTP_PASSWORD="pw",
                                           SMTP_PORT="2525"))
    assert (channel.starttls, channel.username, channel.port) == (True, "user", 2525)


def test_the_dispatcher_skips_a_guardian_who_opted_out_after_planning(
        coordinator, family, smtp, gateway):
    book(coordinator, family, at(12, 3, 10))
    anna = next(member for member in family.members if member.first_name == "Anna")
    anna.reminder_channel = "none"
    db.session.commit()
    result, _ = dispatch(at(12, 2, 10, 1), channels(smtp, gateway))
    assert (result.sent, result.cancelled) == (1, 1)
    assert gateway.received == []


def test_a_stale_claim_is_returned_and_sent_once(coordinator, family, smtp, gateway):
    visit = book(coordinator, family, at(12, 3, 10))
    from reminders import dispatcher

    claimed = dispatcher.claim(at(12, 2, 10, 1), "dead-worker", 10)
    assert len(claimed) == 2
    # Within the claim timeout, another dispatcher leaves them alone.
    result, _ = dispatch(at(12, 2, 10, 5), channels(smtp, gateway))
    assert result.handled == 0
    result, _ = dispatch(at(12, 2, 10, 30), channels(smtp, gateway),
                         claim_timeout_seconds=900)
    assert (result.reclaimed, result.sent) == (2, 2)
    assert {row.attempts for row in rows(event_id=visit.id)} == {2}
