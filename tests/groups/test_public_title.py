"""A group's public title: the only name that leaves the system, checked against
the words that must not (core.wording) on the form, the API and the service,
and the one that feeds and reminders show."""

from datetime import date

import icalendar
import pytest

from core.clock import FixedClock
from extensions import db
from groups import services
from groups.models import PeerGroup
from tests.conftest import HELSINKI, NOW, bearer, login, make_group, make_user
from tests.groups.test_api import NEW_GROUP, error_of
from tests.groups.test_views import group_count, group_fields, html_of, post_form

FORBIDDEN_TITLES = ("Lastensuojelun vanhempainryhmä", "Sijoitettujen lasten vanhempien ryhmä",
                    "Sijaisperheiden ilta", "Huostaanotettujen lasten vanhemmat",
                    "Huostassa olevien lasten vanhemmat", "child protection parents")


@pytest.mark.parametrize("name", FORBIDDEN_TITLES)
def test_a_new_group_named_with_a_forbidden_word_gets_no_public_title(coordinator, name):
    group = make_group(coordinator, name=name)
    assert group.name == name
    assert group.public_title == ""


def test_a_new_group_with_an_ordinary_name_is_titled_by_it(coordinator):
    assert make_group(coordinator, name="Vauvaryhmä").public_title == "Vauvaryhmä"


@pytest.mark.parametrize("title", FORBIDDEN_TITLES)
def test_the_api_refuses_a_forbidden_public_title_naming_the_word(client, coordinator, title):
    response = client.post("/api/v1/groups", headers=bearer(coordinator),
                           json={**NEW_GROUP, "public_title": title})
    assert response.status_code == 422
    message = error_of(response)["fields"]["public_title"]
    word = title.split()[0].lower()
    assert word in message.lower() or title.split()[1].lower() in message.lower()
    assert group_count() == 0


def test_the_api_takes_and_answers_a_public_title(client, coordinator):
    response = client.post("/api/v1/groups", headers=bearer(coordinator),
                           json={**NEW_GROUP, "name": "Lastensuojelun vanhempainryhmä",
                                 "public_title": "Perheiden ryhmä"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["name"], body["public_title"]) == ("Lastensuojelun vanhempainryhmä",
                                                    "Perheiden ryhmä")
    refused = client.patch(f"/api/v1/groups/{body['id']}", headers=bearer(coordinator),
                           json={"public_title": "Sijaisperheet"})
    assert refused.status_code == 422
    assert "sijaisperheet" in error_of(refused)["fields"]["public_title"]
    broken = client.patch(f"/api/v1/groups/{body['id']}", headers=bearer(coordinator),
                          json={"public_title": "Perheet\r\nBcc: x@example.test"})
    assert broken.status_code == 422
    assert "public_title" in error_of(broken)["fields"]
    db.session.expire_all()
    assert db.session.get(PeerGroup, body["id"]).public_title == "Perheiden ryhmä"
    changed = client.patch(f"/api/v1/groups/{body['id']}", headers=bearer(coordinator),
                           json={"public_title": ""})
    assert changed.status_code == 200
    assert changed.get_json()["public_title"] == ""


def test_the_form_refuses_a_forbidden_public_title_on_the_field(client, coordinator):
    login(client, coordinator)
    response = post_form(client, "/groups/new", group_fields(
        public_title="Lastensuojelun perheet"))
    assert response.status_code == 422
    html = html_of(response)
    assert 'id="public_title-error"' in html
    assert "lastensuojelun" in html
    assert group_count() == 0


def test_the_form_saves_a_public_title_beside_the_name(client, coordinator):
    login(client, coordinator)
    response = post_form(client, "/groups/new", group_fields(
        name="Sijoitettujen lasten vanhemmat", public_title="Torstairyhmä"))
    assert response.status_code == 302
    group = db.session.scalar(db.select(PeerGroup))
    assert (group.name, group.public_title) == ("Sijoitettujen lasten vanhemmat",
                                                "Torstairyhmä")
    edit = html_of(client.get(f"/groups/{group.id}/edit"))
    assert 'value="Torstairyhmä"' in edit


def feed_of(client, user, owner_type, owner_id) -> bytes:
    response = client.post("/api/v1/feeds", headers=bearer(user), json={
        "owner_type": owner_type, "owner_id": owner_id})
    assert response.status_code == 201, response.get_json()
    return client.get("/" + response.get_json()["url"].split("/", 3)[3]).data


def test_feeds_show_the_public_title_and_never_the_name(client, coordinator):
    worker = make_user("family_worker")
    titled = make_group(coordinator, name="Lastensuojelun vanhempainryhmä",
                        facilitators=[worker], count=2)
    services.update_group(coordinator, titled, {"public_title": "Perheiden ilta"},
                          zone=HELSINKI, clock=FixedClock(NOW))
    untitled = make_group(coordinator, name="Sijoitettujen lasten vanhemmat",
                          facilitators=[worker], count=2, first_date=date(2026, 12, 3))
    db.session.commit()
    for body in (feed_of(client, worker, "worker", worker.id),
                 feed_of(client, coordinator, "group", titled.id),
                 feed_of(client, coordinator, "group", untitled.id)):
        text = body.decode()
        assert "Lastensuojel" not in text and "Sijoitet" not in text
        summaries = {str(event["SUMMARY"]) for event in
                     icalendar.Calendar.from_ical(body).walk("VEVENT")}
        assert summaries <= {"Perheiden ilta", "Ryhmätapaaminen", "Group meeting"}, summaries
    group_feed = icalendar.Calendar.from_ical(feed_of(client, coordinator, "group",
                                                      untitled.id))
    assert str(group_feed["X-WR-CALNAME"]) in ("Vertaisryhmä", "Peer group")


def test_a_title_stored_before_the_check_is_checked_again_on_the_way_out(client,
                                                                         coordinator):
    worker = make_user("family_worker")
    group = make_group(coordinator, name="Ryhmä", facilitators=[worker], count=1)
    group.public_title = "Sijaisperheiden ryhmä"  # as a row written around the check
    db.session.commit()
    body = feed_of(client, worker, "worker", worker.id).decode()
    assert "Sijais" not in body
    assert "Ryhmätapaaminen" in body or "Group meeting" in body
