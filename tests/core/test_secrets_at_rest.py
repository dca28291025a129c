"""No secret that opens something is kept in clear: a dump of the database holds
the SHA-256 of each feed URL, API token and opt-out link, never the secret.

The secrets are looked up by their hash, so the time a lookup takes depends on
the hash of what was sent, which an attacker cannot steer towards a stored
one: nothing about a stored secret can be learnt from timing.
"""

import re
from urllib.parse import unquote, urlsplit

import pytest

from accounts.services import issue_api_token
from calendars.feeds import tokens as feed_tokens
from core.clock import FixedClock
from core.tokens import hash_secret
from extensions import db
from tests.conftest import NOW, make_family, make_user
from tests.dumps import database_dump
from tests.reminders.helpers import at, book, dispatch


@pytest.fixture
def secrets(app, coordinator):
    """One live secret of each kind, as their holders received them."""
    worker = make_user("family_worker")
    family = make_family(coordinator, workers=[worker], plan=True)
    api_token = issue_api_token(worker, clock=FixedClock(NOW))
    _, feed_secret = feed_tokens.create_feed(
        worker, owner_type="worker", owner_id=worker.id, detailed_allowed=False,
        clock=FixedClock(NOW))
    db.session.commit()
    book(coordinator, family, at(12, 2, 10))
    _, channels = dispatch(at(12, 1, 10, 1))
    [message] = channels["sms"].sent
    link = re.search(r"https?://\S+/r/\S+", message.body).group(0)
    opt_out_secret = unquote(urlsplit(link).path.rsplit("/", 1)[1])
    return {"API token": api_token, "feed URL": feed_secret, "opt-out link": opt_out_secret}


def test_a_database_dump_holds_only_hashes_of_secrets(app, secrets):
    dump = database_dump(app)
    for kind, secret in secrets.items():
        assert len(secret) >= 22, kind  # at least 128 bits, URL-safe
        assert secret not in dump, f"the {kind} is in the dump in clear"
        assert hash_secret(secret) in dump, f"the {kind}'s hash is not in the dump"


def test_the_secrets_work(client, secrets):
    """The secrets of the dump test are real ones: each opens what it should."""
    assert client.get("/api/v1/me", headers={
        "Authorization": f"Bearer {secrets['API token']}"}).status_code == 200
    assert client.get(f"/calendars/feeds/{secrets['feed URL']}.ics").status_code == 200
    assert client.get(f"/r/{secrets['opt-out link']}").status_code == 200
