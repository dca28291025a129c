"""An invariant over everything the demo lets out of the system.

The demo is built as ``flask seed-demo`` builds it; then every output a
family, a phone or a calendar service reads is made from the data, not
sampled: the feed of every owner there is (every worker, group and family, at
both privacy levels, in both languages), every message of every outbox row
(on both channels, as a reminder, a change notice and a cancellation notice,
in both languages) and the opt-out page of every guardian. Each output goes
through every check in ``CHECKS``: a check takes the output's text and the
demo's data and returns what it found that must not be there. A new rule of
what may not leave is one more function in ``CHECKS``.
"""

import html
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

import demo
from accounts.models import User
from calendars.feeds.content import made_feed
from calendars.feeds.tokens import FeedRead
from calendars.models import FeedToken
from core.clock import get_clock
from core.localtime import unit_zone
from core.tokens import hash_secret
from core.wording import forbidden_words
from extensions import db
from families.models import Family, Member
from groups.models import PeerGroup
from reminders import messages
from reminders import services as reminder_services
from reminders.dispatcher import opt_out_link
from reminders.models import OptOutToken, Reminder
from tests.test_demo import _tables_of_the_module, app, seeded  # noqa: F401 (fixtures)

LOCALES = ("fi", "en")
PRIVACY_LEVELS = ("minimal", "detailed")
PURPOSES = ("reminder", "change", "cancellation")
CHANNELS = ("sms", "email")


@dataclass(frozen=True)
class Output:
    """One thing that leaves the system: what it is, for whom, and its text."""

    kind: str
    where: str
    text: str
    family_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Disclosed:
    """An outbox row as the dispatcher reads it: its facts and its family's flag."""

    event_type: str
    payload: dict
    family: Family

    @property
    def address_non_disclosure(self) -> bool:
        return bool(self.family and self.family.address_non_disclosure)


@dataclass(frozen=True)
class Demo:
    """The demo's data a check may compare an output with."""

    families: dict[int, Family]


def forbidden_wording(output: Output, data: Demo) -> list[str]:
    """Words that must not leave the system (core.wording)."""
    return list(forbidden_words(output.text))


def non_disclosed_address(output: Output, data: Demo) -> list[str]:
    """An address under non-disclosure (turvakielto), or its street and number."""
    found = []
    for family in data.families.values():
        if not family.address_non_disclosure or not family.address:
            continue
        street_and_number = " ".join(family.address.split()[:2])
        if street_and_number in output.text:
            found.append(f"the non-disclosed address of family {family.id}")
    return found


CHECKS = (forbidden_wording, non_disclosed_address)


# --- the outputs ---------------------------------------------------------------

def ical_text(body: bytes) -> str:
    """A feed's text as a reader sees it: lines unfolded, TEXT unescaped."""
    text = body.decode("utf-8").replace("\r\n ", "").replace("\r\n\t", "")
    return (text.replace("\\n", "\n").replace("\\N", "\n").replace("\\,", ",")
            .replace("\\;", ";").replace("\\\\", "\\"))


def feed_owners() -> list[tuple[str, int]]:
    """Every owner a feed can have: workers (every staff member), groups, families."""
    return ([("worker", user_id) for user_id in db.session.scalars(sa.select(User.id))]
            + [("group", group_id) for group_id in db.session.scalars(sa.select(PeerGroup.id))]
            + [("family", family_id)
               for family_id in db.session.scalars(sa.select(Family.id))])


def feeds(now) -> list[Output]:
    outputs = []
    for owner_type, owner_id in feed_owners():
        for privacy in PRIVACY_LEVELS:
            for locale in LOCALES:
                read = FeedRead(
                    id=0, owner_type=owner_type, owner_id=owner_id, privacy=privacy,
                    locale=locale, token_hash="", created_at=now, last_used_at=None,
                    stamps=None)
                body = made_feed(read, now).body
                outputs.append(Output("feed", f"{owner_type} {owner_id} {privacy} {locale}",
                                      ical_text(body),
                                      (owner_id,) if owner_type == "family" else ()))
    return outputs


def reminder_messages(base_url: str) -> list[Output]:
    outputs = []
    rows = db.session.scalars(sa.select(Reminder).order_by(Reminder.id)).all()
    for row in rows:
        link = opt_out_link(base_url, secrets.token_urlsafe(16))
        payload = {**row.payload,
                   "previous_start": row.payload.get("previous_start")
                   or (row.event_start - timedelta(days=1)).isoformat()}
        for purpose in PURPOSES:
            for channel in CHANNELS:
                for locale in LOCALES:
                    # The facts as the dispatcher lets them out (reminders.services).
                    message = messages.render(
                        purpose=purpose, channel=channel, locale=locale, link=link,
                        payload=reminder_services.disclosed_payload(
                            Disclosed(row.event_type, payload, row.family)))
                    outputs.append(Output(
                        "message", f"row {row.id} {purpose} {channel} {locale}",
                        f"{message.subject}\n{message.body}", (row.family_id,)))
    return outputs


def opt_out_pages(client, now) -> list[Output]:
    outputs = []
    guardians = db.session.scalars(sa.select(Member).where(Member.role == "guardian")
                                   .order_by(Member.id)).all()
    for member in guardians:
        secret = secrets.token_urlsafe(16)
        db.session.add(OptOutToken(member_id=member.id, token_hash=hash_secret(secret),
                                   created_at=now))
        db.session.commit()
        for locale in LOCALES:
            with client.session_transaction() as session:
                session["locale"] = locale
            response = client.get(f"/r/{secret}")
            assert response.status_code == 200
            page = html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))
            outputs.append(Output("opt-out page", f"member {member.id} {locale}", page,
                                  (member.family_id,)))
    return outputs


# --- the invariant -------------------------------------------------------------

@pytest.fixture
def outputs(app, seeded, client):  # noqa: F811 (fixtures of tests.test_demo)
    app.config["FEED_DETAILED_ALLOWED"] = True
    now = get_clock().now()
    if not db.session.scalar(sa.select(sa.func.count()).select_from(Reminder)):
        reminder_services.plan_horizon(now=now, zone=unit_zone())
        db.session.commit()
    made = {"feed": feeds(now),
            "message": reminder_messages(app.config["PUBLIC_BASE_URL"]),
            "opt-out page": opt_out_pages(client, now)}
    yield made
    db.session.execute(sa.delete(OptOutToken))
    db.session.commit()


def test_the_outputs_are_enumerated_from_the_data(outputs):
    owners = feed_owners()
    assert len(outputs["feed"]) == len(owners) * len(PRIVACY_LEVELS) * len(LOCALES)
    assert {owner_type for owner_type, _id in owners} == {"worker", "group", "family"}
    subscribed = set(db.session.execute(sa.select(FeedToken.owner_type, FeedToken.owner_id)))
    assert subscribed <= set(owners)
    reminders = db.session.scalar(sa.select(sa.func.count()).select_from(Reminder))
    assert reminders > 0
    assert len(outputs["message"]) == reminders * len(PURPOSES) * len(CHANNELS) * len(LOCALES)
    kinds = {row.payload["what"] for row in db.session.scalars(sa.select(Reminder))}
    assert {"home_visit", "group_session"} <= kinds
    guardians = db.session.scalar(sa.select(sa.func.count()).select_from(Member)
                                  .where(Member.role == "guardian"))
    assert len(outputs["opt-out page"]) == guardians * len(LOCALES)


def test_the_demo_has_groups_whose_names_must_not_leave(seeded):  # noqa: F811
    # Without them the invariant below would prove little about group names.
    names = db.session.scalars(sa.select(PeerGroup.name)).all()
    assert any(forbidden_words(name) for name in names), names
    assert demo  # the demo module builds what is checked


def test_the_demo_has_an_address_under_non_disclosure_that_reaches_outputs(seeded):  # noqa: F811
    # Without one, the address check below would prove nothing.
    families = db.session.scalars(sa.select(Family).where(
        Family.address_non_disclosure.is_(True))).all()
    assert families
    assert any(row.family_id in {family.id for family in families}
               for row in db.session.scalars(sa.select(Reminder)))


def test_nothing_that_leaves_the_system_fails_a_check(outputs):
    data = Demo(families={family.id: family
                          for family in db.session.scalars(sa.select(Family))})
    found = [(output.kind, output.where, check.__name__, problem)
             for kind in outputs.values() for output in kind
             for check in CHECKS for problem in check(output, data)]
    assert found == []
