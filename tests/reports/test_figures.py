"""Every figure of every report against a data set counted by hand.

Periods are months in Helsinki time; "<5" is a figure of fewer than five
families, "x" one hidden so that such a figure cannot be worked out.
"""

from datetime import UTC, date, datetime

import pytest

from core.models import Municipality
from extensions import db
from tests.conftest import bearer, make_group, make_user
from tests.reports.conftest import (
    JANUARY,
    add_attendance,
    add_enrollment,
    add_reminder,
    add_visit,
    local,
    referred_family,
    table,
)

PERIOD = "from=2026-01&to=2026-06"


def report(client, user, name, query=PERIOD):
    response = client.get(f"/api/v1/reports/{name}?{query}", headers=bearer(user))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- families referred in the period ----------------------------------------

@pytest.fixture
def referrals(coordinator, social_worker):
    """23 families referred January-June 2026 in the coordinator's municipalities,
    and three the reports must leave out."""
    made = []

    def refer(count, referred, **fields):
        for _ in range(count):
            made.append(referred_family(coordinator, referred, **fields))

    cp = {"track": "child_protection", "source": "social_worker",
          "social_worker": social_worker}
    # January 6, February 3, March 7, April 0, May 2, June 5.
    refer(2, date(2026, 1, 1), **cp, municipality="Hirvensalmi", status="active")
    refer(4, date(2026, 1, 20), source="child_health_clinic", status="referred")
    refer(1, date(2026, 2, 3), **cp, municipality="Hirvensalmi", status="planning")
    refer(1, date(2026, 2, 10), **cp, status="planning")
    refer(1, date(2026, 2, 28), source="child_health_clinic", status="planning")
    refer(5, date(2026, 3, 1), source="health_care", status="referred")
    refer(2, date(2026, 3, 31), source="early_childhood_education", status="active")
    refer(2, date(2026, 5, 5), source="early_childhood_education", status="active")
    refer(5, date(2026, 6, 30), source="child_health_clinic", status="active")
    # Two closed families: change two active ones of June.
    for family in made[-2:]:
        family.status = "closed"
    db.session.commit()
    # Left out: before, after, and in a municipality not the coordinator's.
    referred_family(coordinator, date(2025, 12, 31))
    referred_family(coordinator, date(2026, 7, 1))
    admin_made = make_user("admin", municipalities=())
    referred_family(admin_made, date(2026, 4, 15), municipality="Kangasniemi")
    return made


def test_families_by_track_status_municipality_and_source(client, coordinator, referrals):
    body = report(client, coordinator, "families")

    assert body["filters"] == {"from": "2026-01-01", "to": "2026-06-30", "municipality": None,
                               "track": None, "worker_id": None}
    # Tracks: child protection 4, preventive 19. A lone "<5" beside a total
    # would be 23 - 19: the preventive figure is hidden too.
    assert table(body, "by_track") == {
        "child_protection": {"families": "<5"}, "preventive": {"families": "x"},
        "total": {"families": 23}}
    # Statuses: referred 9, planning 3, active 9, closed 2. Two hidden figures
    # adding up to 5, neither pinned (0+5 ... 4+1): no more need be hidden.
    assert table(body, "by_status") == {
        "referred": {"families": 9}, "planning": {"families": "<5"},
        "active": {"families": 9}, "closed": {"families": "<5"},
        "total": {"families": 23}}
    mikkeli, hirvensalmi = (db.session.scalar(db.select(Municipality.id).where(
        Municipality.name == name)) for name in ("Mikkeli", "Hirvensalmi"))
    assert table(body, "by_municipality") == {
        str(hirvensalmi): {"families": "<5"}, str(mikkeli): {"families": "x"},
        "total": {"families": 23}}
    # Sources: social worker 4, health care 5, clinic 10, early education 4,
    # other authority 0, self 0: four hidden adding up to 8, none pinned.
    assert table(body, "by_referral_source") == {
        "social_worker": {"families": "<5"}, "health_care": {"families": 5},
        "child_health_clinic": {"families": 10},
        "early_childhood_education": {"families": "<5"},
        "other_authority": {"families": "<5"}, "self": {"families": "<5"},
        "total": {"families": 23}}


def test_new_referrals_per_month(client, coordinator, referrals):
    body = report(client, coordinator, "referrals")

    # 6, 3, 7, 0, 2, 5: three hidden adding up to 5.
    assert table(body, "by_month") == {
        "2026-01": {"families": 6}, "2026-02": {"families": "<5"},
        "2026-03": {"families": 7}, "2026-04": {"families": "<5"},
        "2026-05": {"families": "<5"}, "2026-06": {"families": 5},
        "total": {"families": 23}}


def test_an_admin_counts_every_municipality(client, admin, referrals):
    body = report(client, admin, "referrals")

    assert table(body, "by_month")["2026-04"] == {"families": "<5"}
    assert table(body, "by_month")["total"] == {"families": 24}


def test_filters_narrow_the_families(client, coordinator, referrals):
    body = report(client, coordinator, "families",
                  "from=2026-03&to=2026-06&municipality=Mikkeli&track=preventive")

    # March 7, May 2, June 5 in Mikkeli, all preventive: 14.
    assert table(body, "by_track") == {"preventive": {"families": 14},
                                       "total": {"families": 14}}
    assert list(table(body, "by_referral_source")) == [
        "health_care", "child_health_clinic", "early_childhood_education",
        "other_authority", "self", "total"]
    # Health care 5, clinic 5, early education 4, other 0, self 0.
    assert table(body, "by_referral_source")["health_care"] == {"families": 5}
    assert table(body, "by_referral_source")["early_childhood_education"] == {
        "families": "<5"}


def test_the_period_is_whole_months(client, coordinator, referrals):
    body = report(client, coordinator, "referrals", "from=2026-02-15&to=2026-03-02")

    assert body["filters"]["from"] == "2026-02-01"
    assert body["filters"]["to"] == "2026-03-31"
    # February 3 and March 7: one "<5" beside a total hides March too.
    assert table(body, "by_month") == {"2026-02": {"families": "<5"},
                                       "2026-03": {"families": "x"},
                                       "total": {"families": 10}}


# --- waiting times ------------------------------------------------------------

@pytest.fixture
def waits(coordinator, social_worker, family_worker):
    """Families referred in 2026 and the days until their first steps."""
    referred = date(2026, 3, 1)
    cp = {"track": "child_protection", "source": "social_worker",
          "social_worker": social_worker}
    # Planning meetings held after 3, 7, 10, 14, 20 and 30 days (preventive)
    # and 5 and 9 days (child protection).
    for days in (3, 10, 14, 20):
        family = referred_family(coordinator, referred)
        add_visit(family, [family_worker], local(date(2026, 3, 1 + days), "10:00"),
                  kind="planning_meeting")
    # 23:30 on 31 March in Helsinki is 30 days after 1 March.
    family = referred_family(coordinator, referred)
    add_visit(family, [family_worker], local(date(2026, 3, 31), "23:30"),
              kind="planning_meeting")
    # 00:30 on 1 April in Helsinki (21:30 UTC on 31 March) is 7 days after
    # 25 March; a cancelled meeting before it does not count.
    family = referred_family(coordinator, date(2026, 3, 25))
    add_visit(family, [family_worker], local(date(2026, 3, 27), "10:00"),
              kind="planning_meeting", status="cancelled")
    add_visit(family, [family_worker], local(date(2026, 4, 1), "00:30"),
              kind="planning_meeting")
    assert local(date(2026, 4, 1), "00:30") == datetime(2026, 3, 31, 21, 30, tzinfo=UTC)
    for days in (5, 9):
        family = referred_family(coordinator, referred, **cp)
        add_visit(family, [family_worker], local(date(2026, 3, 1 + days), "09:00"),
                  kind="planning_meeting")
        # Only the first one counts.
        add_visit(family, [family_worker], local(date(2026, 4, 20), "09:00"),
                  kind="planning_meeting")
    # First home visits after 10, 20, 30, 40 and 50 days, all preventive; a
    # no-show before them does not count.
    group = make_group(coordinator, status="draft", first_date=date(2026, 3, 3),
                       clock=JANUARY)
    for index, days in enumerate((10, 20, 30, 40, 50)):
        family = referred_family(coordinator, date(2026, 1, 10))
        day = date(2026, 1, 10).toordinal() + days
        if index == 0:
            add_visit(family, [family_worker], local(date(2026, 1, 11), "12:00"),
                      status="no_show")
        add_visit(family, [family_worker], local(date.fromordinal(day), "12:00"))
    # Seats in a group after 14, 21, 28, 35 and 60 days (preventive) and 7
    # days (child protection), counted from when the seat was given.
    for days, fields in ((14, {}), (21, {}), (28, {}), (35, {}), (60, {}), (7, cp)):
        family = referred_family(coordinator, date(2026, 2, 1), **fields)
        add_enrollment(group, family, enrolled_at=local(
            date.fromordinal(date(2026, 2, 1).toordinal() + days), "18:00"))
    # Waitlisted and never given a seat: not counted.
    family = referred_family(coordinator, date(2026, 2, 1))
    add_enrollment(group, family, status="waitlisted", position=1)


def test_waiting_times_median_and_90th_percentile(client, coordinator, waits):
    body = report(client, coordinator, "waiting_times")
    rows = table(body, "waiting_times")

    # Planning meeting. Preventive [3, 7, 10, 14, 20, 30]: median (10 + 14) / 2
    # = 12; 90th percentile at 0.9 * 5 = 4.5: 20 + 0.5 * (30 - 20) = 25.
    # Child protection: 2 families, hidden, and its median with it. All eight
    # [3, 5, 7, 9, 10, 14, 20, 30]: median 9.5; at 0.9 * 7 = 6.3: 20 + 0.3 * 10 = 23.
    assert rows["planning_meeting:preventive"] == {
        "families": "x", "median_days": 12, "p90_days": 25}
    assert rows["planning_meeting:child_protection"] == {
        "families": "<5", "median_days": "x", "p90_days": "x"}
    assert rows["planning_meeting:all"] == {
        "families": 8, "median_days": 9.5, "p90_days": 23}
    # First home visit. Preventive [10, 20, 30, 40, 50]: median 30; at 0.9 * 4 =
    # 3.6: 40 + 0.6 * 10 = 46. No child-protection family: "<5" then, and
    # 5 = 0 + 5 would pin it, so the total is hidden too.
    assert rows["first_home_visit:preventive"] == {
        "families": "x", "median_days": 30, "p90_days": 46}
    assert rows["first_home_visit:child_protection"] == {
        "families": "<5", "median_days": "x", "p90_days": "x"}
    assert rows["first_home_visit:all"] == {
        "families": "x", "median_days": 30, "p90_days": 46}
    # Group seat. Preventive [14, 21, 28, 35, 60]: median 28; 35 + 0.6 * 25 = 50.
    # All six [7, 14, 21, 28, 35, 60]: median 24.5; at 4.5: 35 + 0.5 * 25 = 47.5.
    assert rows["group_place:preventive"] == {
        "families": "x", "median_days": 28, "p90_days": 50}
    assert rows["group_place:child_protection"] == {
        "families": "<5", "median_days": "x", "p90_days": "x"}
    assert rows["group_place:all"] == {
        "families": 6, "median_days": 24.5, "p90_days": 47.5}


# --- home visits ----------------------------------------------------------------

@pytest.fixture
def visits(coordinator):
    """Three workers' visits in 2026, some on the edges of months in Helsinki."""
    anna = make_user("family_worker", name="Anna Aalto")
    bertta = make_user("family_worker", name="Bertta Berg")
    cecilia = make_user("family_worker", name="Cecilia Corte")
    families = [referred_family(coordinator, date(2025, 6, 1)) for _ in range(8)]
    # March, done: Anna 6 (one at 23:30 on the 31st), Bertta 7, Cecilia 1.
    for family in families[:5]:
        add_visit(family, [anna], local(date(2026, 3, 10), "10:00"))
    add_visit(families[5], [anna], local(date(2026, 3, 31), "23:30"))
    for family in families[:7]:
        add_visit(family, [bertta], local(date(2026, 3, 12), "10:00"))
    add_visit(families[7], [cecilia], local(date(2026, 3, 2), "10:00"))
    # April, done: Anna 1, at 00:30 on the 1st (March in UTC).
    add_visit(families[0], [anna], local(date(2026, 4, 1), "00:30"))
    # March, cancelled: Anna 5.
    for family in families[:5]:
        add_visit(family, [anna], local(date(2026, 3, 20), "10:00"), status="cancelled")
    # May, no-show: Bertta 6 (one of them with Anna too).
    for family in families[:5]:
        add_visit(family, [bertta], local(date(2026, 5, 4), "10:00"), status="no_show")
    add_visit(families[5], [anna, bertta], local(date(2026, 5, 6), "10:00"),
              status="no_show")
    # In January at 00:30 on the 1st (December in UTC): done, Cecilia.
    add_visit(families[7], [cecilia], local(date(2026, 1, 1), "00:30"))
    # Left out: still scheduled, and 00:30 on 1 July (the period ends with June).
    add_visit(families[0], [anna], local(date(2026, 6, 1), "10:00"), status="scheduled")
    add_visit(families[0], [anna], local(date(2026, 7, 1), "00:30"))
    return anna, bertta, cecilia


def test_home_visits_per_month_and_worker_by_outcome(client, coordinator, visits):
    anna, bertta, cecilia = visits
    body = report(client, coordinator, "home_visits")
    by_month = table(body, "by_month")
    by_worker = table(body, "by_worker")

    # March done: 6 + 7 + 1 = 14 visits. Cecilia's 1 is "<5", and with the
    # total known Anna's 6 (the smallest that protects it) is hidden too.
    assert by_month["2026-03"] == {"done": 14, "cancelled": "x", "no_show": "<5"}
    assert by_worker[f"{anna.id}:2026-03"] == {"done": "x", "cancelled": "x",
                                               "no_show": "<5"}
    assert by_worker[f"{bertta.id}:2026-03"] == {"done": 7, "cancelled": "<5",
                                                 "no_show": "<5"}
    assert by_worker[f"{cecilia.id}:2026-03"] == {"done": "<5", "cancelled": "<5",
                                                  "no_show": "<5"}
    # April: one visit (00:30 on the 1st, local time).
    assert by_month["2026-04"] == {"done": "<5", "cancelled": "<5", "no_show": "<5"}
    # May no-shows: 6 visits, to 6 families; Bertta had all 6, Anna 1 of them.
    assert by_month["2026-05"] == {"done": "<5", "cancelled": "<5", "no_show": 6}
    assert by_worker[f"{bertta.id}:2026-05"]["no_show"] == "x"
    assert by_worker[f"{anna.id}:2026-05"]["no_show"] == "<5"
    assert by_month["2026-01"] == {"done": "<5", "cancelled": "<5", "no_show": "<5"}
    assert by_month["2026-06"] == {"done": "<5", "cancelled": "<5", "no_show": "<5"}
    # Every worker with a visit in the period, for every month.
    assert len(by_worker) == 3 * 6


def test_the_worker_filter_counts_that_worker_s_visits(client, coordinator, visits):
    anna, bertta, _cecilia = visits
    body = report(client, coordinator, "home_visits", f"{PERIOD}&worker={bertta.id}")

    assert table(body, "by_month")["2026-03"] == {"done": 7, "cancelled": "<5",
                                                  "no_show": "<5"}
    assert table(body, "by_month")["2026-05"]["no_show"] == 6
    assert set(table(body, "by_worker")) == {f"{bertta.id}:2026-0{m}" for m in range(1, 7)}


# --- groups -------------------------------------------------------------------------

@pytest.fixture
def groups(coordinator):
    """Three groups that met in March and April 2026."""
    made = [make_group(coordinator, name=name, capacity=capacity, status="draft",
                       first_date=date(2026, 3, 3), count=4, clock=JANUARY)
            for name, capacity in (("A-ryhmä", 10), ("B-ryhmä", 8), ("C-ryhmä", 6))]
    families = [referred_family(coordinator, date(2025, 6, 1)) for _ in range(18)]
    # A: 6 enrolled, 1 completed, 2 waiting. B: 3 enrolled. C: 6 enrolled.
    for family in families[:6]:
        add_enrollment(made[0], family, enrolled_at=local(date(2026, 2, 20), "12:00"))
    add_enrollment(made[0], families[6], status="completed",
                   enrolled_at=local(date(2026, 2, 20), "12:00"))
    add_enrollment(made[0], families[7], status="waitlisted", position=1)
    add_enrollment(made[0], families[8], status="waitlisted", position=2)
    for family in families[9:12]:
        add_enrollment(made[1], family, enrolled_at=local(date(2026, 2, 20), "12:00"))
    for family in families[12:18]:
        add_enrollment(made[2], family, enrolled_at=local(date(2026, 2, 20), "12:00"))
    # A's attendance: six families at two sessions, present 10 times of 12.
    for session in made[0].sessions[:2]:
        for index, family in enumerate(families[:6]):
            add_attendance(session, family, present=index != 0)
    return made


def test_group_fill_rates_waiting_lists_and_attendance(client, coordinator, groups):
    a, b, c = groups
    rows = table(report(client, coordinator, "groups"), "groups")

    # Seats 7, 3 and 6 of 10, 8 and 6: B's 3 is "<5", and C's 6 (the smallest
    # that protects it) is hidden with its fill rate.
    assert rows[str(a.id)] == {"capacity": 10, "places": 7, "fill_rate": 70,
                               "waiting_list": "<5", "attendance_rate": 83.3}
    assert rows[str(b.id)] == {"capacity": 8, "places": "<5", "fill_rate": "x",
                               "waiting_list": "<5", "attendance_rate": "x"}
    assert rows[str(c.id)] == {"capacity": 6, "places": "x", "fill_rate": "x",
                               "waiting_list": "<5", "attendance_rate": "x"}
    # 16 seats of 24: 66.7 %. Two waiting families in all: "<5".
    assert rows["total"] == {"capacity": 24, "places": 16, "fill_rate": 66.7,
                             "waiting_list": "<5", "attendance_rate": 83.3}


def test_groups_outside_the_period_are_left_out(client, coordinator, groups):
    rows = table(report(client, coordinator, "groups", "from=2026-06&to=2026-06"),
                 "groups")

    assert list(rows) == ["total"]
    assert rows["total"]["capacity"] == 0


# --- reminders ----------------------------------------------------------------------

def test_reminder_delivery_per_channel(client, coordinator):
    families = [referred_family(coordinator, date(2025, 6, 1)) for _ in range(6)]
    # SMS: 12 sent to six families, 2 failed; e-mail: 3 sent, none failed.
    for family in families:
        for day in (3, 17):
            add_reminder(family, "sms", "sent", local(date(2026, 2, day), "12:00"))
    for family in families[:2]:
        add_reminder(family, "sms", "failed", local(date(2026, 4, 2), "12:00"))
    for family in families[:3]:
        add_reminder(family, "email", "sent", local(date(2026, 6, 30), "23:30"))
    # Left out: due after the period (00:30 on 1 July), pending, cancelled.
    add_reminder(families[0], "email", "sent", local(date(2026, 7, 1), "00:30"))
    add_reminder(families[0], "email", "pending", local(date(2026, 3, 1), "12:00"))
    add_reminder(families[1], "sms", "cancelled", local(date(2026, 3, 1), "12:00"))

    rows = table(report(client, coordinator, "reminders"), "delivery")

    # Sent: e-mail's 3 is "<5", so SMS's 12 is hidden beside the total of 15.
    # Failed: 2 in all, from two families: everything "<5".
    assert rows == {"sms": {"sent": "x", "failed": "<5"},
                    "email": {"sent": "<5", "failed": "<5"},
                    "total": {"sent": 15, "failed": "<5"}}
