"""The pages as people use them: journeys from the login page in headless Chromium.

Each journey signs in as a member of the demo region's staff and goes about one
job, checking what the pages say on the way. Every page reached is checked
with axe-core at both widths (``Visit`` in conftest.py).
"""

import re
from datetime import date, timedelta

import pyotp
import pytest
from playwright.sync_api import expect

from calendars.models import HomeVisit
from core.localtime import to_local, unit_zone
from extensions import db
from groups.models import GroupSession, PeerGroup
from tests.conftest import NOW

COORDINATOR = "koordinaattori@perhetyo.example"  # Sanna Korhonen, Mikkeli
WORKER = "perhetyontekija.mikkeli1@perhetyo.example"  # Minna Laitinen, Mikkeli
TODAY = date(2026, 11, 30)

pytestmark = pytest.mark.usefixtures("site")


def flash(page):
    """The message shown after an action."""
    return page.locator(".flash")


def test_coordinator_registers_a_family_finds_its_groups_and_enrolls_it(visit):
    page = visit.login(COORDINATOR)
    nav = page.get_by_role("navigation", name="Main")
    page = visit.follow(nav.get_by_role("link", name="Register a family"))
    # Saved without a surname: the error is announced, listed and tied to its field.
    page = visit.submit(page.get_by_role("button", name="Save"))
    expect(page.get_by_role("alert")).to_contain_text("The form could not be saved.")
    surname = page.get_by_label("Surname")
    expect(surname).to_have_attribute("aria-invalid", "true")
    error_id = surname.get_attribute("aria-describedby").split()[-1]
    expect(page.locator(f"#{error_id}")).to_contain_text("This field is required.")
    page.get_by_role("alert").get_by_role("link", name="Surname").click()
    expect(surname).to_be_focused()
    page.get_by_label("Surname").fill("Selkälä")
    page.get_by_label("Track").select_option(label="Preventive family work")
    page.get_by_label("Referral source").select_option(label="Child health clinic")
    page.get_by_label("Minna Laitinen").check()
    page = visit.submit(page.get_by_role("button", name="Save"))
    expect(flash(page)).to_contain_text("was registered")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Selkälä")

    page = visit.follow(page.get_by_role("link", name="Add a guardian"))
    page.get_by_label("First name").fill("Laura")
    page.get_by_label("Phone").fill("+358 40 765 4321")
    page.get_by_label("Reminders", exact=True).select_option(label="Text message (SMS)")
    page = visit.submit(page.get_by_role("button", name="Save"))
    expect(flash(page)).to_contain_text("The member was added.")
    for name, born in (("Aino", "2024-03-15"), ("Eino", "2025-06-01")):
        page = visit.follow(page.get_by_role("link", name="Add a child"))
        page.get_by_label("First name").fill(name)
        page.get_by_label("Birth date").fill(born)
        page = visit.submit(page.get_by_role("button", name="Save"))
    children = page.locator("section", has=page.get_by_role("heading", name="Members"))
    expect(children).to_contain_text("Aino")
    expect(children).to_contain_text("Eino")

    page = visit.follow(page.get_by_role("link", name="Record the plan"))
    page.get_by_label("Supporting parenthood").check()
    page.get_by_label("Guidance in the care and upbringing of children").check()
    page.get_by_label("Content of the work").fill("Päivärytmi ja vertaistuki.")
    page.get_by_label("Agreed with").fill("Laura ja perhetyöntekijä")
    page = visit.submit(page.get_by_role("button", name="Save"))
    expect(flash(page)).to_contain_text("The plan was saved.")

    page = visit.follow(page.get_by_role("link", name="Best groups for this family"))
    first = page.locator("article.match").first
    expect(first.locator(".score")).to_contain_text("/ 100")
    expect(first.get_by_role("table")).to_contain_text("Explanation")
    group_name = first.get_by_role("heading", level=3).inner_text()
    page = visit.follow(first.get_by_role("link", name=re.compile("Place in this group")))
    expect(page.get_by_label("Aino")).to_be_checked()
    page = visit.submit(page.get_by_role("button", name="Place the family"))
    expect(flash(page)).to_contain_text(group_name)
    groups = page.locator("section", has=page.get_by_role("heading", name="Groups", exact=True))
    page = visit.follow(groups.get_by_role("link", name=group_name, exact=True))
    expect(page.get_by_role("heading", level=1)).to_have_text(group_name)
    roster = page.get_by_role("table", name="Families with a place")
    expect(roster).to_contain_text("Selkälä")
    visit.finish()


def test_coordinator_creates_a_group_and_accepts_part_of_a_proposal(visit):
    page = visit.login(COORDINATOR)
    page = visit.follow(page.get_by_role("link", name="Groups", exact=True))
    page = visit.follow(page.get_by_role("link", name="New group"))
    page.get_by_label("Name", exact=True).fill("Joulun alla -perhekerho")
    page.get_by_label("Supporting parenthood").check()
    page.get_by_label("Youngest child, in months").fill("0")
    page.get_by_label("Oldest child, in months").fill("192")
    page.get_by_label("Preventive family work").check()
    page.get_by_label("Child-protection family work").check()
    page.get_by_label("Capacity, in families").fill("4")
    page.get_by_label("Weekday").select_option(label="Thursday")
    page.get_by_label("Start time").fill("17:00")
    page.get_by_label("Duration in minutes").fill("90")
    page.get_by_label("First date").fill("2026-12-10")
    page.get_by_label("Number of sessions").fill("6")
    page = visit.submit(page.get_by_role("button", name="Preview dates"))
    skipped = page.locator(".skipped-dates")
    expect(skipped).to_contain_text("24 Dec 2026")
    expect(skipped).to_contain_text("Christmas Eve")
    page = visit.submit(page.get_by_role("button", name="Save"))
    expect(flash(page)).to_be_visible()
    page = visit.submit(page.get_by_role("button", name="Open enrollment"))
    expect(page.locator(".badges")).to_contain_text("Open")

    page = visit.follow(page.get_by_role("link", name="Matching"))
    page.get_by_label("Mikkeli").check()
    # While a proposal is computed, a status says so (app.js fills it in on sending).
    expect(page.locator("form[data-busy] [role=status]")).to_have_count(1)
    page = visit.submit(page.get_by_role("button", name="Make a proposal"))
    expect(flash(page)).to_contain_text("A proposal was computed.")
    boxes = page.locator("td.choose input[type=checkbox]")
    assert boxes.count() >= 2
    boxes.first.uncheck()
    row = page.locator("tr", has=page.locator(f"#{boxes.first.get_attribute('id')}"))
    left_waiting = row.get_by_role("rowheader").inner_text()
    page = visit.submit(page.get_by_role("button", name="Accept selected"))
    expect(flash(page)).to_be_visible()
    expect(page.locator(".badges")).to_contain_text("Partly accepted")
    rows = page.get_by_role("row")
    expect(rows.filter(has_text=left_waiting)).to_contain_text("Not accepted")
    expect(rows.filter(has_text="Placed").first).to_be_visible()
    visit.finish()


def _busy_time_of(site, worker_email):
    """A visit of the worker's on a weekday after today: its local day and start."""
    def find():
        from accounts.models import User
        worker = db.session.scalar(db.select(User).where(User.email == worker_email))
        visits = [v for v in db.session.scalars(db.select(HomeVisit).where(
                      HomeVisit.workers.contains(worker), HomeVisit.status == "scheduled"))
                  if to_local(v.start, unit_zone()).date() > TODAY + timedelta(days=1)]
        first = min(visits, key=lambda v: v.start)
        start = to_local(first.start, unit_zone())
        return start.date(), start.strftime("%H:%M"), first.family_id
    return site.query(find)


def test_family_worker_books_moves_and_subscribes(visit, site):
    day, start, _family_id = _busy_time_of(site, WORKER)
    page = visit.login(WORKER)
    page = visit.follow(page.get_by_role("link", name="My calendar"))
    page = visit.follow(page.get_by_role("link", name="Book a visit"))
    family = page.get_by_label("Family", exact=True)
    family.select_option(index=1)
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("Start time").fill(start)
    page = visit.submit(page.get_by_role("button", name="Book the visit"))
    expect(page.locator(".clashes[role=alert]")).to_contain_text("The time clashes")
    suggestion = page.locator(".slot-list a").first
    chosen = suggestion.inner_text()
    page = visit.follow(suggestion)
    page = visit.submit(page.get_by_role("button", name="Book the visit"))
    expect(flash(page)).to_contain_text("was booked")

    # The week of the visit, from the link of the worker's name on the visit's page;
    # then a week on and back again from the keyboard, the focus showing.
    starts = chosen.split(" ")[-1].split("–")[0]
    page = visit.follow(page.locator("#main").get_by_role("link", name="Minna Laitinen"))
    week = page.locator(".calendar-range").inner_text()
    expect(page.locator("ol.week")).to_contain_text(starts)
    visit.tab_to("Next week")
    page = visit.press("Enter")
    expect(page.locator(".calendar-range")).not_to_have_text(week)
    visit.tab_to("Previous week")
    page = visit.press("Enter")
    expect(page.locator(".calendar-range")).to_have_text(week)
    page = visit.follow(page.locator("ol.week a[href*='/visits/']").filter(has_text=starts).first)

    move = page.locator("section", has=page.get_by_role("heading", name="Move the visit"))
    move.get_by_label("Start time").fill("07:30")
    move.get_by_label("End time").fill("08:30")
    page = visit.submit(move.get_by_role("button", name="Move the visit"))
    # Before working hours: a warning to confirm, announced and tied to the form.
    expect(page.locator(".clashes.warnings[role=alert]")).to_contain_text("Warning")
    page.get_by_label("Move despite the warnings").check()
    page = visit.submit(page.get_by_role("button", name="Move the visit"))
    expect(flash(page)).to_be_visible()

    page = visit.follow(page.get_by_role("link", name="My calendar"))
    page = visit.follow(page.get_by_role("link", name="Subscribe to this calendar"))
    page = visit.submit(page.get_by_role("button", name="Create a subscription link"))
    link = page.locator("#feed-url").input_value()
    page.get_by_role("button", name="Copy").first.click()
    assert page.evaluate("() => navigator.clipboard.readText()") == link

    # A new link stops the old one: asked first, and nothing happens when declined.
    new_link = page.get_by_role("button", name=re.compile("^New link"))
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    new_link.click()
    assert questions and "The old link stops working" in questions[0]
    expect(page.locator("#feed-url")).to_have_value(link)
    page.once("dialog", lambda dialog: dialog.accept())
    page = visit.submit(new_link)
    expect(flash(page)).to_be_visible()
    assert page.locator("#feed-url").input_value() != link
    visit.finish()


def test_facilitator_records_attendance(visit, site):
    def first_session_to_record():
        sessions = db.session.scalars(
            db.select(GroupSession).join(PeerGroup).where(
                PeerGroup.status == "running", GroupSession.status == "scheduled")
            .order_by(GroupSession.start)).all()
        session = next(session for session in sessions
                       if to_local(session.start, unit_zone()).date() <= TODAY
                       and session.group.facilitators)
        return session.id, session.group.facilitators[0].email, session.group.name
    session_id, email, group_name = site.query(first_session_to_record)
    page = visit.login(email)
    page = visit.follow(page.get_by_role("link", name="Groups", exact=True))
    page = visit.follow(page.get_by_role("link", name=group_name, exact=True))
    page = visit.follow(page.locator(f"a[href='/groups/sessions/{session_id}']"))
    attendance = page.locator("section", has=page.get_by_role("heading", name="Attendance"))
    present = attendance.get_by_role("checkbox")
    assert present.count() >= 2
    for index in range(present.count()):
        present.nth(index).set_checked(index % 2 == 0)
    page = visit.submit(page.get_by_role("button", name="Save the attendance"))
    expect(flash(page)).to_contain_text("The attendance was saved.")
    expect(page.get_by_role("checkbox").first).to_be_checked()
    visit.finish()


def test_user_switches_the_language(visit):
    page = visit.login(COORDINATOR)
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Families")
    page = visit.submit(page.get_by_role("button", name="Suomeksi"))
    expect(page.locator("html")).to_have_attribute("lang", "fi")
    expect(page.get_by_role("navigation", name="Päävalikko")).to_contain_text("Perheet")
    page = visit.follow(page.get_by_role("link", name="Ryhmät", exact=True))
    page = visit.follow(page.locator("table a[href^='/groups/']").first)
    expect(page.locator("table").first).to_contain_text(re.compile(r"\d{1,2}\.\d{1,2}\.20\d\d"))
    page = visit.submit(page.get_by_role("button", name="In English"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Families")
    visit.finish()


def test_guardian_stops_reminders_from_the_link_in_a_message(visit, site):
    """A guardian needs no account: the journey starts from the link in a reminder."""
    def claim_a_message():
        from reminders import dispatcher
        from reminders.models import Reminder
        first = db.session.scalar(db.select(Reminder).where(
            Reminder.status == "pending", Reminder.channel == "sms")
            .order_by(Reminder.send_at, Reminder.id).limit(1))
        # As the dispatcher does just before sending: claim the row, make its link.
        secrets = dispatcher.claim(first.send_at, "browser-test", 1)
        return dispatcher.opt_out_link(site.url, secrets[first.id])
    link = site.query(claim_a_message)
    page = visit.go(link.removeprefix(site.url))
    expect(page.get_by_role("heading", level=1)).to_have_text("Stop reminders?")
    page = visit.submit(page.get_by_role("button", name="Stop reminders"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Reminders stopped")
    page = visit.go(link.removeprefix(site.url))
    expect(page.get_by_role("heading", level=1)).to_have_text("Reminders stopped")
    visit.finish()


def test_coordinator_reads_last_quarter_report_and_downloads_its_csv(visit):
    page = visit.login(COORDINATOR)
    page = visit.follow(page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Reports"))
    filters = page.get_by_role("form", name="Report filters")
    filters.get_by_label("From (month)").fill("2026-07")
    filters.get_by_label("To (month)").fill("2026-09")
    page = visit.submit(filters.get_by_role("button", name="Show"))
    expect(page.locator(".report-scope")).to_contain_text("2026-07-01 – 2026-09-30")
    table = page.locator(".report-table.with-chart").first
    chart = table.locator("figure svg")
    expect(chart).to_be_visible()
    expect(chart).to_have_attribute("role", "img")
    title = table.get_by_role("heading", level=3).inner_text()
    with page.expect_download() as download:
        table.get_by_role("link", name=re.compile("^CSV")).click()
    body = download.value.path().read_text(encoding="utf-8-sig")
    header = body.splitlines()[0]
    first_column = table.locator("thead th").first.inner_text()
    assert header.startswith(first_column), (title, header)
    assert download.value.suggested_filename.endswith(".csv")
    visit.finish()


def test_family_worker_records_an_absence_over_a_booked_visit(visit, site):
    worker = "perhetyontekija.mikkeli3@perhetyo.example"  # Anu Savolainen
    day, start, _family_id = _busy_time_of(site, worker)
    page = visit.login(worker)
    page = visit.follow(page.get_by_role("link", name="My calendar"))
    page = visit.follow(page.get_by_role("link", name="Working hours and absences"))
    expect(page.get_by_label("Monday: Starts")).to_have_value("08:00")

    form = page.locator("section", has=page.get_by_role("heading", name="Record an absence"))
    form.get_by_label("Kind of absence").select_option("training")
    form.get_by_label("First day").fill(day.isoformat())
    form.get_by_label("Last day").fill(day.isoformat())
    page = visit.submit(form.get_by_role("button", name="Record the absence"))
    # The visit that day is named, and nothing is recorded until confirmed.
    expect(page.locator(".form-errors[role=alert]")).to_contain_text("Please confirm")
    expect(page.locator(".clashes.warnings[role=alert]")).to_contain_text(start)
    expect(page.get_by_text("No absences ahead.")).to_be_visible()
    page.get_by_label(re.compile("^Record it anyway")).check()
    page = visit.submit(page.get_by_role("button", name="Record the absence"))
    expect(flash(page)).to_contain_text("still booked")
    absence = page.locator("ul.absences > li").filter(has_text="Training")
    expect(absence.locator(".clashes")).to_contain_text(start)

    # Removing it is asked first; then the page has no absence that day.
    page.once("dialog", lambda dialog: dialog.accept())
    page = visit.submit(absence.get_by_role("button", name=re.compile("^Remove")))
    expect(flash(page)).to_contain_text("The absence was removed.")
    expect(page.locator("ul.absences > li").filter(has_text="Training")).to_have_count(0)
    visit.finish()


def test_admin_enrols_two_factor_then_signs_in_with_a_code_and_a_recovery_code(visit):
    """The demo admin's first sign-in sets up two-factor sign-in (admins require
    it); the codes come from pyotp and the key the set-up page shows."""
    admin = "paakayttaja@perhetyo.example"  # Riitta Hämäläinen
    page = visit.login(admin)
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor sign-in")
    expect(page.locator("figure.qr svg")).to_be_visible()
    secret = page.get_by_label("Key for typing in").input_value()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).at(NOW))
    page = visit.submit(page.get_by_role("button", name="Continue"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    codes = page.locator("ul.recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page = visit.follow(page.get_by_role("link", name="Continue"))
    page = visit.submit(page.get_by_role("button", name="Sign out"))

    # The next sign-in asks for a code; the one already used is refused.
    page = visit.login(admin)
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor sign-in")
    page.get_by_label("Code").fill(pyotp.TOTP(secret).at(NOW))
    page = visit.submit(page.get_by_role("button", name="Continue"))
    expect(page.locator(".field.has-error")).to_contain_text("already used")
    page.get_by_label("Code").fill(pyotp.TOTP(secret).at(NOW + timedelta(seconds=30)))
    page = visit.submit(page.get_by_role("button", name="Continue"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page = visit.submit(page.get_by_role("button", name="Sign out"))

    # No phone: a recovery code signs in, once.
    page = visit.login(admin)
    page.get_by_label("Code").fill(codes[0])
    page = visit.submit(page.get_by_role("button", name="Continue"))
    expect(flash(page)).to_contain_text("9 unused codes are left")
    page = visit.follow(page.get_by_role("link", name="Riitta Hämäläinen"))
    expect(page.get_by_text("Unused recovery codes: 9.")).to_be_visible()
    visit.finish()
