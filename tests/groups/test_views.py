"""The peer-group pages: list, detail, the group form and its preview, sessions,
attendance, seats and the waiting list, refusals shown on the page."""

from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from core.clock import FixedClock
from core.models import Venue
from extensions import db
from groups import enrollment as group_enrollment
from groups import series as group_series
from groups.models import Attendance, Enrollment, GroupSession, PeerGroup
from tests.conftest import HELSINKI, NOW, csrf_token_from, login, make_family, make_group


def html_of(response) -> str:
    return response.get_data(as_text=True)


def post_form(client, url, data, page_url=None):
    """Post a page's form as a browser would: with the CSRF token of the session."""
    token = csrf_token_from(html_of(client.get(page_url or url)))
    return client.post(url, data={**data, "csrf_token": token})


def group_fields(**overrides):
    """The group form filled in: Thursdays from 10 December 2026, four times."""
    fields = {
        "name": "Vauvaryhmä",
        "description": "Vertaistukea vauvaperheille",
        "themes": ["parenthood", "time_together"],
        "min_age_months": "0",
        "max_age_months": "24",
        "tracks": ["preventive"],
        "language": "fi",
        "municipalities": ["Mikkeli"],
        "venue": "",
        "capacity": "6",
        "enrollment_opens": "",
        "enrollment_closes": "",
        "weekday": "4",
        "start_time": "17:00",
        "duration_minutes": "90",
        "first_date": "2026-12-10",
        "count": "4",
        "until": "",
        "interval_weeks": "1",
        "added_dates": "",
        "removed_dates": "",
    }
    fields.update(overrides)
    return fields


def group_count() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count(PeerGroup.id)))


def members_of(family):
    return [str(member.id) for member in family.members]


def family_with_plan(coordinator, **kwargs):
    return make_family(coordinator, plan=True, **kwargs)


def local_days(group):
    return [session.start.astimezone(HELSINKI).date() for session in group.sessions
            if session.status == "scheduled"]


# --- the list --------------------------------------------------------------

def test_list_shows_groups_with_seats_and_next_session(client, coordinator):
    group = make_group(coordinator, capacity=3, name="Taaperoryhmä")
    login(client, coordinator)
    response = client.get("/groups/")
    assert response.status_code == 200
    html = html_of(response)
    assert f'href="/groups/{group.id}"' in html
    assert "Taaperoryhmä" in html
    assert "0 / 3" in html
    assert "Tuesday 17:00–18:30" in html
    assert "Tue 1 Dec 2026, 17:00" in html  # the next session
    assert "Open for enrollment" in html
    assert "New group" in html


def test_list_filters_by_municipality_status_theme_and_name(client, coordinator):
    make_group(coordinator, name="Mikkelin ryhmä")
    make_group(coordinator, name="Hirvensalmen ryhmä", municipalities=("Hirvensalmi",),
               status="draft")
    login(client, coordinator)
    html = html_of(client.get("/groups/?municipality=Hirvensalmi"))
    assert "Hirvensalmen ryhmä" in html and "Mikkelin ryhmä" not in html
    html = html_of(client.get("/groups/?status=open"))
    assert "Mikkelin ryhmä" in html and "Hirvensalmen ryhmä" not in html
    html = html_of(client.get("/groups/?theme=preventing_exclusion"))
    assert "No groups match." in html
    html = html_of(client.get("/groups/?theme=parenthood&q=mikkel"))
    assert "Mikkelin ryhmä" in html and "Hirvensalmen ryhmä" not in html


def test_list_filters_groups_with_free_seats(client, coordinator):
    full = make_group(coordinator, name="Täysi ryhmä", capacity=1)
    make_group(coordinator, name="Väljä ryhmä", capacity=4)
    family = family_with_plan(coordinator)
    group_enrollment.enroll(coordinator, full, family, [m.id for m in family.members],
                            zone=HELSINKI, clock=FixedClock(NOW))
    db.session.commit()
    login(client, coordinator)
    html = html_of(client.get("/groups/?free=y"))
    assert "Väljä ryhmä" in html and "Täysi ryhmä" not in html


def test_unknown_filter_value_is_refused_on_the_list(client, coordinator):
    login(client, coordinator)
    response = client.get("/groups/?status=nonsense")
    assert response.status_code == 422
    assert 'id="status-error"' in html_of(response)


def test_family_worker_sees_groups_but_cannot_create_them(client, coordinator,
                                                          family_worker):
    make_group(coordinator)
    login(client, family_worker)
    html = html_of(client.get("/groups/"))
    assert "Taaperoryhmä" in html
    assert "New group" not in html
    assert client.get("/groups/new").status_code == 403


# --- the group's page ------------------------------------------------------

def test_detail_shows_sessions_roster_and_waiting_list_to_a_coordinator(client,
                                                                       coordinator):
    group = make_group(coordinator, capacity=1, count=3)
    first = family_with_plan(coordinator, surname="Korhonen")
    second = family_with_plan(coordinator, surname="Nieminen")
    for family in (first, second):
        group_enrollment.enroll(coordinator, group, family, [m.id for m in family.members],
                                zone=HELSINKI, clock=FixedClock(NOW))
    db.session.commit()
    login(client, coordinator)
    response = client.get(f"/groups/{group.id}")
    assert response.status_code == 200
    html = html_of(response)
    assert "Tue 1 Dec 2026" in html and "Tue 15 Dec 2026" in html
    assert "Families with a place" in html and "Korhonen" in html
    assert "Waiting list" in html and "Nieminen" in html
    assert "0–72 months" in html and "(0–6 years)" in html
    assert "Edit the group" in html


def test_detail_hides_the_roster_from_a_family_worker_who_does_not_facilitate(
        client, coordinator, family_worker):
    group = make_group(coordinator)
    family = family_with_plan(coordinator, surname="Korhonen")
    group_enrollment.enroll(coordinator, group, family, [m.id for m in family.members],
                            zone=HELSINKI, clock=FixedClock(NOW))
    db.session.commit()
    login(client, family_worker)
    response = client.get(f"/groups/{group.id}")
    assert response.status_code == 200
    html = html_of(response)
    assert "Taaperoryhmä" in html and "Tue 1 Dec 2026" in html
    assert "Korhonen" not in html
    assert "Families with a place" not in html
    assert "Edit the group" not in html


def test_detail_of_a_missing_group_is_not_found(client, coordinator):
    login(client, coordinator)
    assert client.get("/groups/999").status_code == 404


# --- creating a group: preview and save ------------------------------------

def test_preview_shows_the_dates_and_skips_christmas_eve_without_saving(client,
                                                                      coordinator):
    login(client, coordinator)
    response = post_form(client, "/groups/new", group_fields(preview="Preview dates"))
    assert response.status_code == 200
    html = html_of(response)
    assert "The series will have 4 sessions." in html
    for shown in ("Thu 10 Dec 2026", "Thu 17 Dec 2026", "Thu 31 Dec 2026", "Thu 7 Jan 2027"):
        assert shown in html
    assert "Christmas Eve" in html  # in the language of the page
    assert 'name="remove_dates" value="2026-12-17"' in html
    assert group_count() == 0


def test_preview_removes_the_ticked_dates(client, coordinator):
    login(client, coordinator)
    response = post_form(client, "/groups/new", group_fields(
        preview="Preview dates", remove_dates=["2026-12-17"]))
    assert response.status_code == 200
    html = html_of(response)
    assert "removed by hand" in html
    assert 'value="2026-12-17"' not in html  # no longer offered for removal
    assert "2026-12-17</textarea>" in html  # kept among the removed dates
    assert "Thu 14 Jan 2027" in html  # four sessions still
    assert group_count() == 0


def test_creating_a_group_over_christmas_saves_its_four_sessions(client, coordinator):
    login(client, coordinator)
    response = post_form(client, "/groups/new", group_fields())
    assert response.status_code == 302
    group = db.session.scalar(sa.select(PeerGroup).where(PeerGroup.name == "Vauvaryhmä"))
    assert response.headers["Location"] == f"/groups/{group.id}"
    assert group.status == "draft"
    assert local_days(group) == [date(2026, 12, 10), date(2026, 12, 17),
                                 date(2026, 12, 31), date(2027, 1, 7)]
    assert group.themes == ["parenthood", "time_together"]
    page = html_of(client.get(response.headers["Location"]))
    assert "was created as a draft" in page
    assert "Open enrollment" in page  # the manager may open it


def test_added_and_removed_dates_in_finnish_or_iso_form(client, coordinator):
    login(client, coordinator)
    response = post_form(client, "/groups/new", group_fields(
        added_dates="5.1.2027", removed_dates="2026-12-17, 31.12.2026"))
    assert response.status_code == 302
    group = db.session.scalar(sa.select(PeerGroup))
    assert local_days(group) == [date(2026, 12, 10), date(2027, 1, 5), date(2027, 1, 7),
                                 date(2027, 1, 14), date(2027, 1, 21)]


@pytest.mark.parametrize(("overrides", "field"), [
    ({"first_date": "2026-13-45"}, "first_date"),
    ({"first_date": "9999-12-01"}, "first_date"),
    ({"added_dates": "24.13.2026"}, "added_dates"),
    ({"added_dates": "1.1.9999"}, "added_dates"),
    ({"removed_dates": "yesterday"}, "removed_dates"),
    ({"count": "", "until": "2026-12-01"}, "until"),
    ({"themes": ["parenthood", "nonsense"]}, "themes"),
    ({"capacity": "0"}, "capacity"),
    ({"min_age_months": "36", "max_age_months": "12"}, "max_age_months"),
    ({"start_time": "25:00"}, "start_time"),
    ({"count": "", "until": ""}, "count"),
    ({"tracks": []}, "tracks"),
    ({"municipalities": ["Puumala"]}, "municipalities"),
])
def test_bad_group_input_is_a_field_error_and_creates_nothing(client, coordinator,
                                                             overrides, field):
    login(client, coordinator)
    response = post_form(client, "/groups/new", group_fields(**overrides))
    assert response.status_code == 422
    html = html_of(response)
    assert f'id="{field}-error"' in html
    assert 'role="alert"' in html
    assert group_count() == 0


def test_bad_series_is_refused_on_preview_too(client, coordinator):
    login(client, coordinator)
    response = post_form(client, "/groups/new", group_fields(
        preview="Preview dates", count="", until="2026-12-01"))
    assert response.status_code == 422
    assert "The last date cannot be before the first date." in html_of(response)


def test_group_form_without_csrf_token_is_refused(client, coordinator):
    login(client, coordinator)
    response = client.post("/groups/new", data=group_fields())
    assert response.status_code == 400
    assert group_count() == 0


# --- editing ---------------------------------------------------------------

def test_lowering_capacity_below_the_enrolled_is_refused_on_the_form(client,
                                                                     coordinator):
    group = make_group(coordinator, capacity=3)
    for _ in range(2):
        family = family_with_plan(coordinator)
        group_enrollment.enroll(coordinator, group, family, [m.id for m in family.members],
                                zone=HELSINKI, clock=FixedClock(NOW))
    db.session.commit()
    login(client, coordinator)
    url = f"/groups/{group.id}/edit"
    page = html_of(client.get(url))
    assert 'value="Taaperoryhmä"' in page
    data = {"name": "Taaperoryhmä", "min_age_months": "0", "max_age_months": "72",
            "tracks": ["preventive", "child_protection"], "language": "fi",
            "municipalities": ["Mikkeli"], "capacity": "1", "themes": ["parenthood"],
            "status": "open", "weekday": "2", "start_time": "17:00",
            "duration_minutes": "90", "first_date": "2026-12-01", "count": "8",
            "interval_weeks": "1", "csrf_token": csrf_token_from(page)}
    response = client.post(url, data=data)
    assert response.status_code == 422
    html = html_of(response)
    assert 'id="capacity-error"' in html
    assert "2 families already have a place: the capacity cannot be lower." in html
    db.session.expire_all()
    assert db.session.get(PeerGroup, group.id).capacity == 3


def test_editing_the_name_leaves_the_sessions_alone(client, coordinator):
    group = make_group(coordinator, count=3)
    session = group.sessions[1]
    group_series.change_session(coordinator, session, status="cancelled", clock=FixedClock(NOW))
    db.session.commit()
    login(client, coordinator)
    url = f"/groups/{group.id}/edit"
    page = html_of(client.get(url))
    response = client.post(url, data={
        "name": "Uusi nimi", "min_age_months": "0", "max_age_months": "72",
        "tracks": ["preventive", "child_protection"], "language": "fi",
        "municipalities": ["Mikkeli"], "capacity": "5", "themes": ["parenthood"],
        "status": "open", "weekday": "2", "start_time": "17:00", "duration_minutes": "90",
        "first_date": "2026-12-01", "count": "3", "interval_weeks": "1",
        "csrf_token": csrf_token_from(page)})
    assert response.status_code == 302
    db.session.expire_all()
    group = db.session.get(PeerGroup, group.id)
    assert group.name == "Uusi nimi"
    assert [s.status for s in group.sessions] == ["scheduled", "cancelled", "scheduled"]


def test_opening_a_draft_from_its_page(client, coordinator):
    group = make_group(coordinator, status="draft")
    login(client, coordinator)
    url = f"/groups/{group.id}"
    response = post_form(client, f"/groups/{group.id}/status", {"status": "open"},
                         page_url=url)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(PeerGroup, group.id).status == "open"


def test_a_transition_not_allowed_is_refused(client, coordinator):
    group = make_group(coordinator, status="draft")
    login(client, coordinator)
    response = post_form(client, f"/groups/{group.id}/status", {"status": "finished"},
                         page_url=f"/groups/{group.id}")
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(PeerGroup, group.id).status == "draft"


# --- seats -----------------------------------------------------------------

def test_placing_a_family_from_its_page_then_waitlisting_the_next(client, coordinator):
    group = make_group(coordinator, capacity=1)
    first = family_with_plan(coordinator)
    second = family_with_plan(coordinator)
    login(client, coordinator)
    url = f"/groups/families/{first.id}/place"
    page = html_of(client.get(f"/families/{first.id}"))
    assert f'href="{url}"' in page
    response = post_form(client, url, {"group_id": str(group.id),
                                       "member_ids": members_of(first)})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/families/{first.id}"
    page = html_of(client.get(response.headers["Location"]))
    assert f"The family {first.reference} has a place in Taaperoryhmä." in page
    assert "Has a place" in page

    url = f"/groups/families/{second.id}/place"
    response = post_form(client, url, {"group_id": str(group.id),
                                       "member_ids": members_of(second)})
    assert response.status_code == 302
    page = html_of(client.get(response.headers["Location"]))
    assert "The family is number 1 on the waiting list" in page
    assert "Number 1 on the waiting list" in page


def test_placing_a_family_from_the_group_page_in_two_steps(client, coordinator):
    group = make_group(coordinator, capacity=1)
    family_with_plan(coordinator)
    first = family_with_plan(coordinator, surname="Korhonen")
    second = family_with_plan(coordinator, surname="Nieminen")
    for family in (first, second):
        family.status = "active"
    db.session.commit()
    login(client, coordinator)
    page = html_of(client.get(f"/groups/{group.id}"))
    assert f'<option value="{first.id}">Korhonen {first.reference}</option>' in page
    url = f"/groups/{group.id}/place?family_id={first.id}"
    step = html_of(client.get(url))
    assert "Anna" in step and "Eeli" in step
    response = post_form(client, url, {"member_ids": members_of(first)})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/groups/{group.id}"
    url = f"/groups/{group.id}/place?family_id={second.id}"
    response = post_form(client, url, {"member_ids": members_of(second)[:1]})
    assert response.status_code == 302
    page = html_of(client.get(f"/groups/{group.id}"))
    assert "The family is number 1 on the waiting list" in page
    db.session.expire_all()
    statuses = {e.family_id: (e.status, e.position)
                for e in db.session.scalars(sa.select(Enrollment))}
    assert statuses == {first.id: ("enrolled", None), second.id: ("waitlisted", 1)}


def test_ineligible_family_gets_the_services_message(client, coordinator):
    group = make_group(coordinator, tracks=("preventive",))
    family = make_family(coordinator, plan=False)  # no plan yet
    login(client, coordinator)
    url = f"/groups/{group.id}/place?family_id={family.id}"
    response = post_form(client, url, {"member_ids": members_of(family)})
    assert response.status_code == 422
    html = html_of(response)
    assert "Family work starts with a plan" in html
    assert 'role="alert"' in html
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Enrollment.id))) == 0


def test_placing_without_members_is_a_field_error(client, coordinator):
    group = make_group(coordinator)
    family = family_with_plan(coordinator)
    login(client, coordinator)
    url = f"/groups/families/{family.id}/place"
    response = post_form(client, url, {"group_id": str(group.id)})
    assert response.status_code == 422
    assert 'id="member_ids-error"' in html_of(response)


def test_family_page_offers_only_groups_for_its_track(client, coordinator):
    make_group(coordinator, name="Lastensuojelun ryhmä", tracks=("child_protection",))
    make_group(coordinator, name="Ennaltaehkäisevä ryhmä", tracks=("preventive",))
    family = family_with_plan(coordinator)
    login(client, coordinator)
    html = html_of(client.get(f"/groups/families/{family.id}/place"))
    assert "Ennaltaehkäisevä ryhmä" in html
    assert "Lastensuojelun ryhmä" not in html


def test_withdrawing_asks_first_and_promotes_the_first_waiting(client, coordinator):
    group = make_group(coordinator, capacity=1)
    families = [family_with_plan(coordinator) for _ in range(3)]
    enrollments = [group_enrollment.enroll(coordinator, group, family,
                                           [m.id for m in family.members], zone=HELSINKI,
                                           clock=FixedClock(NOW)) for family in families]
    db.session.commit()
    login(client, coordinator)
    url = f"/groups/enrollments/{enrollments[0].id}/withdraw"
    page = client.get(url)
    assert page.status_code == 200
    assert "gives up its place" in html_of(page)
    db.session.expire_all()
    assert db.session.get(Enrollment, enrollments[0].id).status == "enrolled"
    response = post_form(client, url, {})
    assert response.status_code == 302
    page = html_of(client.get(response.headers["Location"]))
    assert f"The family {families[1].reference} moved up from the waiting list" in page
    db.session.expire_all()
    assert [(db.session.get(Enrollment, e.id).status, db.session.get(Enrollment, e.id).position)
            for e in enrollments] == [("withdrawn", None), ("enrolled", None),
                                      ("waitlisted", 1)]


# --- sessions and attendance -----------------------------------------------

def test_moving_a_session_raises_its_sequence(client, coordinator):
    group = make_group(coordinator, count=3)
    session = group.sessions[1]
    login(client, coordinator)
    url = f"/groups/sessions/{session.id}"
    response = post_form(client, url, {"day": "2026-12-09", "start": "18:00",
                                       "end": "19:30", "venue": "", "move": "Save"})
    assert response.status_code == 302
    db.session.expire_all()
    session = db.session.get(GroupSession, session.id)
    assert session.sequence == 1
    assert session.start == datetime(2026, 12, 9, 18, 0, tzinfo=HELSINKI)
    page = html_of(client.get(f"/groups/{group.id}"))
    assert "Moved from 8 Dec 2026" in page


def test_moving_a_session_to_end_before_it_starts_is_a_field_error(client, coordinator):
    group = make_group(coordinator, count=2)
    session = group.sessions[0]
    login(client, coordinator)
    response = post_form(client, f"/groups/sessions/{session.id}", {
        "day": "2026-12-01", "start": "18:00", "end": "17:00", "move": "Save"})
    assert response.status_code == 422
    assert 'id="end-error"' in html_of(response)
    db.session.expire_all()
    assert db.session.get(GroupSession, session.id).sequence == 0


def test_cancelling_a_session_marks_it_on_the_group_page(client, coordinator):
    group = make_group(coordinator, count=2)
    session = group.sessions[0]
    venue = Venue(name="Perhekeskus", municipality_id=group.municipalities[0].id)
    db.session.add(venue)
    db.session.commit()
    login(client, coordinator)
    response = post_form(client, f"/groups/sessions/{session.id}", {"cancel": "Cancel"})
    assert response.status_code == 302
    db.session.expire_all()
    session = db.session.get(GroupSession, session.id)
    assert (session.status, session.sequence) == ("cancelled", 1)
    assert 'class="cancelled"' in html_of(client.get(f"/groups/{group.id}"))


def test_family_worker_who_does_not_facilitate_may_not_move_sessions(client, coordinator,
                                                                     family_worker):
    group = make_group(coordinator, count=2)
    session = group.sessions[0]
    login(client, family_worker)
    page = client.get(f"/groups/sessions/{session.id}")
    assert page.status_code == 200
    assert "Move the session" not in html_of(page)
    response = client.post(f"/groups/sessions/{session.id}", data={
        "cancel": "Cancel", "csrf_token": csrf_token_from(html_of(page))})
    assert response.status_code == 403


def test_facilitator_records_attendance_and_the_group_page_shows_the_rate(
        client, app, coordinator, family_worker):
    group = make_group(coordinator, count=3, facilitators=[family_worker])
    family = family_with_plan(coordinator, surname="Korhonen")
    group_enrollment.enroll(coordinator, group, family, [m.id for m in family.members],
                            zone=HELSINKI, clock=FixedClock(NOW))
    db.session.commit()
    session = group.sessions[0]
    app.extensions["clock"].instant = session.start + timedelta(minutes=30)
    login(client, family_worker)
    url = f"/groups/sessions/{session.id}"
    page = html_of(client.get(url))
    assert "Anna (Korhonen)" in page and "Eeli (Korhonen)" in page
    guardian = family.guardians[0]
    response = post_form(client, url, {"present": [str(guardian.id)], "record": "Save"})
    assert response.status_code == 302
    db.session.expire_all()
    rows = {row.member_id: row.present for row in db.session.scalars(sa.select(Attendance))}
    assert rows == {guardian.id: True, family.children[0].id: False}
    page = html_of(client.get(url))
    assert f'<input checked id="present-0" name="present" type="checkbox" value="{guardian.id}">' \
        in page
    page = html_of(client.get(f"/groups/{group.id}"))
    assert "Attendance of the group: 50%" in page
    assert "1 of 2" in page


def test_attendance_before_the_session_is_refused_with_the_message(client, coordinator,
                                                                   family_worker):
    group = make_group(coordinator, count=2, facilitators=[family_worker])
    session = group.sessions[0]
    login(client, family_worker)
    url = f"/groups/sessions/{session.id}"
    page = html_of(client.get(url))
    assert "Save the attendance" not in page
    response = client.post(url, data={"record": "Save", "csrf_token": csrf_token_from(page)})
    assert response.status_code == 409
    assert "Attendance is recorded once the session has started." in html_of(response)


def test_session_times_shown_in_local_time(client, coordinator):
    group = make_group(coordinator, count=1, first_date=date(2027, 3, 30))  # after DST
    login(client, coordinator)
    html = html_of(client.get(f"/groups/sessions/{group.sessions[0].id}"))
    assert 'value="17:00"' in html
    assert group.series[0].start_time == time(17, 0)


def edit_fields(page, **overrides):
    """The edit form of make_group's group as the page fills it in."""
    fields = {"name": "Taaperoryhmä", "min_age_months": "0", "max_age_months": "72",
              "tracks": ["preventive", "child_protection"], "language": "fi",
              "municipalities": ["Mikkeli"], "capacity": "5", "themes": ["parenthood"],
              "status": "draft", "weekday": "2", "start_time": "17:00",
              "duration_minutes": "90", "first_date": "2026-12-01", "count": "4",
              "interval_weeks": "1", "csrf_token": csrf_token_from(page)}
    fields.update(overrides)
    return fields


def test_edit_form_shows_the_dates_removed_from_the_series(client, coordinator):
    login(client, coordinator)
    post_form(client, "/groups/new", group_fields(removed_dates="17.12.2026"))
    group = db.session.scalar(sa.select(PeerGroup))
    html = html_of(client.get(f"/groups/{group.id}/edit"))
    assert "2026-12-17</textarea>" in html
    assert '<option selected value="draft">' in html
    assert '<option value="open">' in html and '<option value="running">' not in html


def test_changing_the_series_on_the_edit_form_changes_the_sessions(client, coordinator):
    group = make_group(coordinator, count=4, status="draft")
    login(client, coordinator)
    url = f"/groups/{group.id}/edit"
    response = client.post(url, data=edit_fields(html_of(client.get(url)), count="6"))
    assert response.status_code == 302
    db.session.expire_all()
    group = db.session.get(PeerGroup, group.id)
    assert len(local_days(group)) == 6


def test_preview_on_the_edit_form_saves_nothing(client, coordinator):
    group = make_group(coordinator, count=4, status="draft")
    login(client, coordinator)
    url = f"/groups/{group.id}/edit"
    response = client.post(url, data=edit_fields(html_of(client.get(url)), count="2",
                                                 preview="Preview dates"))
    assert response.status_code == 200
    assert "The series will have 2 sessions." in html_of(response)
    db.session.expire_all()
    assert len(local_days(db.session.get(PeerGroup, group.id))) == 4


def test_cancelling_a_group_asks_first(client, coordinator):
    group = make_group(coordinator)
    login(client, coordinator)
    url = f"/groups/{group.id}/status?status=cancelled"
    page = client.get(url)
    assert page.status_code == 200
    assert "This cannot be undone." in html_of(page)
    db.session.expire_all()
    assert db.session.get(PeerGroup, group.id).status == "open"
    response = post_form(client, f"/groups/{group.id}/status", {"status": "cancelled"},
                         page_url=url)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(PeerGroup, group.id).status == "cancelled"


def test_family_worker_places_their_own_family_from_its_page(client, coordinator,
                                                             family_worker):
    group = make_group(coordinator)
    family = family_with_plan(coordinator, workers=[family_worker])
    login(client, family_worker)
    page = html_of(client.get(f"/families/{family.id}"))
    assert "Place in a group" in page
    response = post_form(client, f"/groups/families/{family.id}/place",
                         {"group_id": str(group.id), "member_ids": members_of(family)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(sa.select(Enrollment.status)) == "enrolled"


def test_social_worker_is_not_offered_to_place_families(client, coordinator,
                                                        social_worker):
    family = family_with_plan(coordinator, track="child_protection",
                              social_worker=social_worker)
    login(client, social_worker)
    page = html_of(client.get(f"/families/{family.id}"))
    assert "Groups" in page and "Place in a group" not in page
    assert client.get(f"/groups/families/{family.id}/place").status_code == 403


def test_placing_a_family_id_beyond_the_database_is_not_found(client, coordinator):
    group = make_group(coordinator)
    login(client, coordinator)
    answer = client.get(f"/groups/{group.id}/place?family_id=99999999999")
    assert answer.status_code == 404
