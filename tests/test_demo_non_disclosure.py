"""The demo's address under non-disclosure (turvakielto) stays unseen.

On the whole demo (`seed-demo`): no feed of any owner at any level, no
reminder message the dispatcher sends, no report page, answer or export holds
a non-disclosed address or its street, and no page or API answer a
coordinator or an admin outside the family's assigned workers reads does;
the family's own workers and responsible social worker do see it, and so does
the right-of-access export. The pages are every GET rule of the URL map whose
arguments the family fills (its id, its visits, its workers, its groups).

The demo is seeded once for the module by tests/test_demo.py's fixtures.
"""

import csv
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from accounts.models import User
from calendars.feeds import tokens as feed_tokens
from calendars.models import HomeVisit
from core.clock import FixedClock
from core.roles import ADMIN, COORDINATOR, FAMILY_WORKER
from demo import PASSWORD as DEMO_PASSWORD
from extensions import db
from families.models import Family
from groups.models import Enrollment, PeerGroup
from reminders import dispatcher
from reminders import services as reminder_services
from reminders.models import Reminder
from reports.services import REPORT_NAMES
from tests.conftest import HELSINKI, bearer, login
from tests.reminders.helpers import Recorder
from tests.test_demo import INSTANT, _tables_of_the_module, app, seeded  # noqa: F401 (fixtures)


@pytest.fixture
def demo(seeded):  # noqa: F811 (a fixture of tests.test_demo)
    """The seeded demo's families under non-disclosure, and what of them is secret."""
    protected = list(db.session.scalars(
        sa.select(Family).where(Family.address_non_disclosure)))
    # The whole address, and its street and number: other families of the
    # demo may live on the same street, but not in the same house.
    return {"protected": [family.id for family in protected],
            "secrets": sorted({text for family in protected
                               for text in (family.address, house_of(family.address))})}


def house_of(address: str) -> str:
    """"Hallituskatu 43" of "Hallituskatu 43 D 24"."""
    match = re.match(r"^\D*\d+", address)
    return match.group(0) if match else address


def protected_families(demo) -> list[Family]:
    return [db.session.get(Family, family_id) for family_id in demo["protected"]]


def leaked(text: str, demo) -> list[str]:
    flat = text.replace("\r\n ", "").replace("\\,", ",")
    return [secret for secret in demo["secrets"] if secret in flat]


def admin_of() -> User:
    return db.session.scalar(sa.select(User).where(User.role == ADMIN).order_by(User.id))


def test_the_demo_has_a_family_under_non_disclosure_visited_at_home(demo):
    families = protected_families(demo)
    assert families and all(family.address for family in families)
    places = set(db.session.scalars(sa.select(HomeVisit.place).where(
        HomeVisit.family_id.in_(demo["protected"]))))
    assert {family.address for family in families} & places


@pytest.mark.parametrize("owner_type", ["worker", "group", "family"])
@pytest.mark.parametrize("privacy", ["minimal", "detailed"])
def test_no_feed_holds_the_address(app, client, monkeypatch, demo, owner_type, privacy):  # noqa: F811
    monkeypatch.setitem(app.config, "FEED_DETAILED_ALLOWED", True)
    owners = {
        "worker": sa.select(User.id).where(User.role == FAMILY_WORKER),
        "group": sa.select(PeerGroup.id),
        "family": sa.select(Family.id),
    }[owner_type]
    found, events = {}, 0
    for owner_id in db.session.scalars(owners.order_by("id")):
        _feed, secret = feed_tokens.create_feed(
            admin_of(), owner_type=owner_type, owner_id=owner_id, privacy=privacy,
            locale="fi", detailed_allowed=True, clock=FixedClock(INSTANT))
        db.session.commit()
        response = client.get(f"/calendars/feeds/{secret}.ics")
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        events += body.count("BEGIN:VEVENT")
        if leaked(body, demo):
            found[owner_id] = leaked(body, demo)
    assert found == {}
    assert events > 0


def test_no_reminder_message_holds_the_address(app, demo):  # noqa: F811
    """Every message planned over the horizon, sent by the dispatcher at its time."""
    reminder_services.plan_horizon(now=INSTANT, zone=HELSINKI)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Reminder.id)).where(
        Reminder.family_id.in_(demo["protected"]))) > 0
    channels = {"email": Recorder(), "sms": Recorder()}
    for _pass in range(5000):
        due = db.session.scalar(sa.select(sa.func.min(Reminder.send_at)).where(
            Reminder.status == "pending"))
        if due is None:
            break
        dispatcher.dispatch_pass(clock=FixedClock(max(due, INSTANT)), channels=channels,
                                 settings=dispatcher.DispatchSettings(), zone=HELSINKI,
                                 worker="test")
    sent = channels["email"].sent + channels["sms"].sent
    assert sent
    protected_rows = set(db.session.scalars(sa.select(Reminder.idempotency_key).where(
        Reminder.family_id.in_(demo["protected"]), Reminder.status == "sent")))
    assert protected_rows, "the protected family's guardian got no message"
    assert [message.key for message in sent
            if leaked(f"{message.subject} {message.body}", demo)] == []


def test_no_report_holds_the_address(client, demo):
    admin = admin_of()
    headers = bearer(admin)
    login(client, admin, password=DEMO_PASSWORD)
    query = {"from": "2025-12", "to": "2026-11"}
    bodies = [client.get("/reports/", query_string=query).get_data(as_text=True)]
    for name in REPORT_NAMES:
        answer = client.get(f"/api/v1/reports/{name}", headers=headers, query_string=query)
        assert answer.status_code == 200, (answer.get_data(as_text=True), answer.headers)
        bodies.append(answer.get_data(as_text=True))
        for table in answer.get_json()["tables"]:
            exported = client.get(f"/reports/{name}/{table['name']}.csv",
                                  query_string=query)
            assert exported.status_code == 200
            bodies.append(" ".join(" ".join(row) for row in csv.reader(
                io.StringIO(exported.get_data(as_text=True)))))
    assert [leaked(body, demo) for body in bodies if leaked(body, demo)] == []


# --- pages and API answers -----------------------------------------------------

def family_arguments(family: Family) -> dict[str, list[int]]:
    """The values each URL argument takes for the family's own records."""
    return {
        "family_id": [family.id],
        "visit_id": list(db.session.scalars(sa.select(HomeVisit.id).where(
            HomeVisit.family_id == family.id))),
        "worker_id": [worker.id for worker in family.family_workers],
        "group_id": list(db.session.scalars(sa.select(Enrollment.group_id).where(
            Enrollment.family_id == family.id))),
    }


def family_urls(app, family: Family) -> list[str]:  # noqa: F811
    """Every GET route the family's records fill, and the lists without arguments."""
    arguments = family_arguments(family)
    visits = list(db.session.scalars(sa.select(HomeVisit).where(
        HomeVisit.family_id == family.id)))
    visit_days = sorted({visit.start.astimezone(HELSINKI).date() for visit in visits})
    days = visit_days[:2] + visit_days[-2:]  # past and coming weeks
    range_query = (f"?from={visit_days[0].isoformat()}"
                   f"&to={(visit_days[0] + timedelta(days=60)).isoformat()}")
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in ("static", "casework.export_family",
                                                          "casework_api.export_family"):
            continue
        if not set(rule.arguments) <= set(arguments):
            continue
        combinations = [{}]
        for name in rule.arguments:
            combinations = [{**combination, name: value} for combination in combinations
                            for value in arguments[name]]
        for combination in combinations:
            with app.test_request_context():
                url = app.url_for(rule.endpoint, **combination)
            urls.append(url)
            if "worker_id" in rule.arguments or rule.endpoint.startswith("calendars"):
                urls.append(url + range_query)
                urls += [f"{url}?date={day.isoformat()}" for day in days]
                urls += [f"{url}?worker={worker}&date={day.isoformat()}"
                         for worker in arguments["worker_id"] for day in days]
    return urls


def readers_outside(family: Family) -> list[User]:
    """Who sees the family but not its address: admins and its coordinators."""
    permitted = {worker.id for worker in family.family_workers} | {
        family.responsible_social_worker_id}
    users = db.session.scalars(sa.select(User).where(User.role.in_((ADMIN, COORDINATOR)),
                                                     User.active))
    return [user for user in users if user.id not in permitted
            and (user.role == ADMIN or family.municipality in user.municipalities)]


def read_all(app, user, urls) -> dict[str, str]:  # noqa: F811
    client = app.test_client()
    login(client, user, password=DEMO_PASSWORD)
    headers = bearer(user)
    bodies = {}
    for url in urls:
        response = client.get(url, headers=headers if url.startswith("/api/") else {})
        assert response.status_code < 500, url
        if response.status_code == 200:
            bodies[url] = response.get_data(as_text=True)
    return bodies


def test_no_page_or_answer_shows_the_address_to_readers_outside(app, demo):  # noqa: F811
    checked = 0
    for family in protected_families(demo):
        urls = family_urls(app, family)
        readers = readers_outside(family)
        assert {user.role for user in readers} == {ADMIN, COORDINATOR}
        for user in readers:
            bodies = read_all(app, user, urls)
            assert f"/families/{family.id}" in bodies  # they do see the family
            assert {url: leaked(body, demo) for url, body in bodies.items()
                    if leaked(body, demo)} == {}
            checked += len(bodies)
    assert checked > 20


def test_the_familys_own_workers_see_it(app, demo):  # noqa: F811
    for family in protected_families(demo):
        for user in [*family.family_workers, family.responsible_social_worker]:
            bodies = read_all(app, user, [f"/families/{family.id}",
                                                  f"/api/v1/families/{family.id}"])
            assert all(family.address in body for body in bodies.values())
            assert len(bodies) == 2


def test_the_right_of_access_export_holds_it(app, client, demo):  # noqa: F811
    for family in protected_families(demo):
        response = client.get(f"/api/v1/families/{family.id}/export",
                              headers=bearer(admin_of()))
        assert response.get_json()["family"]["address"] == family.address
