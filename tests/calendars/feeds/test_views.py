"""The subscription pages: a feed's link once, rotate, revoke, last fetch, access."""

from datetime import datetime
from html import unescape
from zoneinfo import ZoneInfo

from calendars import services
from calendars.conflicts import TravelPolicy
from calendars.feeds import tokens
from calendars.models import FeedToken
from core.clock import FixedClock
from extensions import db
from tests.conftest import NOW, csrf_token_from, login, make_family, make_group, make_user

HELSINKI = ZoneInfo("Europe/Helsinki")
SETTINGS = services.CalendarSettings(TravelPolicy(1.2, 15), "1-5 08:00-16:00", 15)


def page_of(worker):
    return f"/calendars/feeds/subscribe?owner_type=worker&owner_id={worker.id}"


def create(client, path, **data):
    page = client.get(path)
    assert page.status_code == 200
    token = csrf_token_from(page.get_data(as_text=True))
    response = client.post(path, data={"privacy": "minimal", "locale": "en",
                                       "csrf_token": token, **data})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    return response


def shown_url(html: str) -> str:
    """The https link of the new feed on the page, as a path."""
    marker = 'id="feed-url" type="text" readonly value="'
    start = html.index(marker) + len(marker)
    url = unescape(html[start:html.index('"', start)])
    return "/" + url.split("/", 3)[3]


def test_creating_shows_the_links_and_a_qr_code_once(client, worker):
    login(client, worker)
    page = create(client, page_of(worker))
    html = page.get_data(as_text=True)
    assert "Copy the link now: it is shown only once." in html
    path = shown_url(html)
    assert path.startswith("/calendars/feeds/") and path.endswith(".ics")
    secret = path.rsplit("/", 1)[1][:-len(".ics")]
    assert f"webcal://127.0.0.1:5000{path}" in html
    assert '<svg viewBox=' in html and 'class="qr-code"' in html
    assert 'src="/static/copy.js"' in html and ">Copy<" in html
    assert "<script>" not in html
    for words in ("Subscribe from web", "From URL", "New Calendar Subscription"):
        assert words in html

    again = client.get(page_of(worker)).get_data(as_text=True)
    assert secret not in again and "<svg" not in again
    assert "Never" in again  # the feed is listed, not yet fetched

    response = client.get(path)
    assert response.status_code == 200
    assert response.content_type == "text/calendar; charset=utf-8"


def test_rotating_shows_a_new_link_and_the_old_one_stops(client, worker):
    login(client, worker)
    old = shown_url(create(client, page_of(worker)).get_data(as_text=True))
    feed = db.session.scalar(db.select(FeedToken))
    page = client.get(page_of(worker)).get_data(as_text=True)
    response = client.post(f"/calendars/feeds/{feed.id}/rotate",
                           data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    new = shown_url(html)
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_revoking_asks_first_then_the_link_stops(client, worker):
    login(client, worker)
    path = shown_url(create(client, page_of(worker)).get_data(as_text=True))
    feed = db.session.scalar(db.select(FeedToken))
    listing = client.get(page_of(worker)).get_data(as_text=True)
    assert f'href="/calendars/feeds/{feed.id}/revoke"' in listing

    confirm = client.get(f"/calendars/feeds/{feed.id}/revoke")
    assert confirm.status_code == 200
    html = confirm.get_data(as_text=True)
    assert "Revoke the subscription link created" in html
    assert client.get(path).status_code == 200  # asking changed nothing

    response = client.post(f"/calendars/feeds/{feed.id}/revoke",
                           data={"csrf_token": csrf_token_from(html)})
    assert response.status_code == 302
    assert client.get(path).status_code == 404
    after = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "No subscription links yet." in after
    assert client.get(f"/calendars/feeds/{feed.id}/revoke").status_code == 404


def test_the_last_fetch_is_shown(client, worker, coordinator):
    family = make_family(coordinator, workers=[worker], plan=True)
    services.book_visit(coordinator, family, kind="home_visit",
                        start=datetime(2026, 12, 2, 10, tzinfo=HELSINKI),
                        end=datetime(2026, 12, 2, 11, tzinfo=HELSINKI),
                        worker_ids=[worker.id], zone=HELSINKI, settings=SETTINGS,
                        clock=FixedClock(NOW))
    db.session.commit()
    login(client, worker)
    path = shown_url(create(client, page_of(worker)).get_data(as_text=True))
    assert "Never" in client.get(page_of(worker)).get_data(as_text=True)
    assert b"BEGIN:VEVENT" in client.get(path).data
    html = client.get(page_of(worker)).get_data(as_text=True)
    cell = html[html.index('class="last-fetched">'):]
    cell = cell[:cell.index("</td>")]
    assert "Never" not in cell and "2026" in cell
    assert db.session.scalar(db.select(FeedToken.last_used_at)) is not None


def test_a_worker_cannot_manage_another_workers_feeds(client, worker):
    other = make_user("family_worker")
    feed, _secret = tokens.create_feed(other, owner_type="worker", owner_id=other.id,
                                       detailed_allowed=False, clock=FixedClock(NOW))
    db.session.commit()
    login(client, worker)
    assert client.get(page_of(other)).status_code == 404
    assert client.get(f"/calendars/feeds/{feed.id}/revoke").status_code == 404
    token = csrf_token_from(client.get(page_of(worker)).get_data(as_text=True))
    assert client.post(f"/calendars/feeds/{feed.id}/rotate",
                       data={"csrf_token": token}).status_code == 404
    assert client.post(f"/calendars/feeds/{feed.id}/revoke",
                       data={"csrf_token": token}).status_code == 404
    assert client.post(page_of(other), data={"csrf_token": token, "privacy": "minimal",
                                             "locale": "en"}).status_code == 404
    assert db.session.get(FeedToken, feed.id).revoked_at is None
    for address in ("/calendars/feeds/subscribe?owner_type=boat&owner_id=1",
                    "/calendars/feeds/subscribe?owner_type=worker&owner_id=x"):
        assert client.get(address).status_code == 404


def test_detailed_is_offered_only_when_allowed(app, client, worker):
    login(client, worker)
    html = client.get(page_of(worker)).get_data(as_text=True)
    assert 'value="detailed"' not in html
    response = client.post(page_of(worker), data={
        "csrf_token": csrf_token_from(html), "privacy": "detailed", "locale": "en"})
    assert response.status_code == 422
    assert db.session.scalar(db.select(FeedToken)) is None
    app.config["FEED_DETAILED_ALLOWED"] = True
    try:
        html = client.get(page_of(worker)).get_data(as_text=True)
        assert 'value="detailed"' in html
        create(client, page_of(worker), privacy="detailed")
        assert db.session.scalar(db.select(FeedToken.privacy)) == "detailed"
    finally:
        app.config["FEED_DETAILED_ALLOWED"] = False


def test_forms_without_csrf_are_refused(client, worker):
    login(client, worker)
    feed, _secret = tokens.create_feed(worker, owner_type="worker", owner_id=worker.id,
                                       detailed_allowed=False, clock=FixedClock(NOW))
    db.session.commit()
    assert client.post(page_of(worker), data={"privacy": "minimal",
                                              "locale": "en"}).status_code == 400
    assert client.post(f"/calendars/feeds/{feed.id}/rotate").status_code == 400
    assert client.post(f"/calendars/feeds/{feed.id}/revoke").status_code == 400
    assert db.session.scalars(db.select(FeedToken)).all() == [feed]
    assert feed.revoked_at is None


def test_pages_link_to_the_subscription_page(client, worker, coordinator):
    family = make_family(coordinator, workers=[worker])
    group = make_group(coordinator, facilitators=[worker])
    login(client, worker)
    week = client.get("/calendars/week").get_data(as_text=True)
    assert f"/calendars/feeds/subscribe?owner_type=worker&amp;owner_id={worker.id}" in week
    other = make_user("family_worker")
    assert "Subscribe to this calendar" not in client.get(
        f"/calendars/week?worker={other.id}").get_data(as_text=True)
    family_page = client.get(f"/families/{family.id}").get_data(as_text=True)
    assert f"owner_type=family&amp;owner_id={family.id}" in family_page
    group_page = client.get(f"/groups/{group.id}").get_data(as_text=True)
    assert f"owner_type=group&amp;owner_id={group.id}" in group_page
    for owner_type, owner_id in (("family", family.id), ("group", group.id)):
        page = create(client, f"/calendars/feeds/subscribe?owner_type={owner_type}"
                              f"&owner_id={owner_id}")
        assert client.get(shown_url(page.get_data(as_text=True))).status_code == 200


def test_a_new_link_is_not_shown_on_another_owners_page(client, worker, coordinator):
    family = make_family(coordinator, workers=[worker])
    login(client, worker)
    path = page_of(worker)
    token = csrf_token_from(client.get(path).get_data(as_text=True))
    client.post(path, data={"csrf_token": token, "privacy": "minimal", "locale": "fi"})
    html = client.get(f"/calendars/feeds/subscribe?owner_type=family&owner_id={family.id}"
                      ).get_data(as_text=True)
    assert "<svg" not in html and 'id="feed-url"' not in html
    assert db.session.scalar(db.select(FeedToken.locale)) == "fi"
    # Shown in the answer to the form only: the secret does not linger.
    assert 'id="feed-url"' not in client.get(path).get_data(as_text=True)
