"""No page, chart, export or API answer of the reports carries a count of fewer
than five families, or figures from which one can be worked out."""

import csv
import io
import random
import re
from datetime import date, timedelta

import openpyxl
import pytest

from reports.services import REPORT_NAMES
from tests.conftest import bearer, login, make_group, make_user
from tests.reports.attack import pinned_figures
from tests.reports.conftest import (
    JANUARY,
    add_attendance,
    add_enrollment,
    add_reminder,
    add_visit,
    local,
    referred_family,
)

QUERIES = ("from=2026-01&to=2026-06", "from=2026-03&to=2026-03",
           "from=2026-01&to=2026-06&municipality=Hirvensalmi",
           "from=2026-01&to=2026-06&track=child_protection")
MARKERS = ("<5", "x")


@pytest.fixture
def region(coordinator, social_worker):
    """A small region with many small figures, made the same way every run."""
    chance = random.Random(20261129)
    workers = [make_user("family_worker", name=f"Työntekijä {n}") for n in range(4)]
    families = []
    for number in range(60):
        child_protection = chance.random() < 0.2
        families.append(referred_family(
            coordinator, date(2026, 1, 1) + timedelta(days=chance.randrange(181)),
            track="child_protection" if child_protection else "preventive",
            source="social_worker" if child_protection else chance.choice(
                ["health_care", "child_health_clinic", "early_childhood_education", "self"]),
            social_worker=social_worker if child_protection else None,
            municipality="Hirvensalmi" if number % 7 == 0 else "Mikkeli",
            status=chance.choice(["referred", "planning", "active", "active", "closed"]),
            workers=[chance.choice(workers)]))
    for family in families:
        referred = family.referral_date
        for visit_number in range(chance.randrange(6)):
            day = referred + timedelta(days=3 + 9 * visit_number + chance.randrange(5))
            add_visit(family, [chance.choice(workers)], local(day, "10:00"),
                      kind="planning_meeting" if visit_number == 0 else "home_visit",
                      status=chance.choice(["done", "done", "done", "cancelled", "no_show"]))
    groups = [make_group(coordinator, name=f"Ryhmä {n}", capacity=8, status="draft",
                         first_date=date(2026, 3, 3), count=6, clock=JANUARY)
              for n in range(3)]
    for index, family in enumerate(families[:30]):
        group = groups[index % 3]
        if index < 22:
            enrollment = add_enrollment(group, family, enrolled_at=local(
                family.referral_date + timedelta(days=20 + index), "12:00"))
            for session in group.sessions[:3]:
                add_attendance(session, family, present=chance.random() < 0.8)
            del enrollment
        else:
            add_enrollment(group, family, status="waitlisted", position=index)
    for family in families[:40]:
        for _ in range(chance.randrange(3)):
            add_reminder(family, chance.choice(["sms", "email"]),
                         chance.choice(["sent", "sent", "failed"]),
                         local(date(2026, 1, 1) + timedelta(days=chance.randrange(181)),
                               "12:00"))
    return families


def count_columns(table):
    return [column["key"] for column in table["columns"] if column["kind"] == "count"]


def rows_of(table):
    return {row["key"]: row["values"] for row in table["rows"]}


def assert_counts_are_safe(value):
    assert value in MARKERS or (isinstance(value, int) and value >= 5), value


def lines_of(name, body):
    """Each published sum of a report: (lines, total), as a reader sees them."""
    tables = {table["name"]: table for table in body["tables"]}
    if name in ("families", "referrals"):
        for table in tables.values():
            rows = rows_of(table)
            yield [[values["families"] for key, values in rows.items() if key != "total"]], \
                rows["total"]["families"]
    elif name == "waiting_times":
        rows = rows_of(tables["waiting_times"])
        for milestone in ("planning_meeting", "first_home_visit", "group_place"):
            if f"{milestone}:all" in rows:
                yield [[rows[f"{milestone}:{track}"]["families"]
                        for track in ("child_protection", "preventive")]], \
                    rows[f"{milestone}:all"]["families"]
    elif name == "home_visits":
        by_month, by_worker = rows_of(tables["by_month"]), rows_of(tables["by_worker"])
        for month, totals in by_month.items():
            for status, total in totals.items():
                yield [[values[status] for key, values in by_worker.items()
                        if key.endswith(f":{month}")]], total
    else:
        table = next(iter(tables.values()))
        rows = rows_of(table)
        for column in count_columns(table):
            yield [[values[column] for key, values in rows.items() if key != "total"]], \
                rows["total"][column]


@pytest.mark.parametrize("query", QUERIES)
def test_the_api_publishes_no_small_count_and_nothing_to_work_one_out(
        client, coordinator, region, query):
    headers = bearer(coordinator)
    for name in REPORT_NAMES:
        body = client.get(f"/api/v1/reports/{name}?{query}", headers=headers).get_json()
        for table in body["tables"]:
            for row in table["rows"]:
                for column in count_columns(table):
                    assert_counts_are_safe(row["values"][column])
                if "places" in row["values"] and row["values"]["places"] in MARKERS:
                    assert row["values"]["fill_rate"] in MARKERS
                if row["values"].get("families") == "<5" and "median_days" in row["values"]:
                    assert row["values"]["median_days"] == row["values"]["p90_days"] == "x"
        if name == "families":
            # Five lines over one total, the month line among them.
            months = client.get(f"/api/v1/reports/referrals?{query}",
                                headers=headers).get_json()
            sums = list(lines_of(name, body)) + list(lines_of("referrals", months))
            assert len({str(total) for _lines, total in sums}) == 1
            lines = [line for line_set, _total in sums for line in line_set]
            assert pinned_figures(lines, sums[0][1]) == [], (name, lines)
            continue
        for lines, total in lines_of(name, body):
            assert pinned_figures(lines, total) == [], (name, lines, total)


COUNT_CELL = re.compile(r'<td class="number[^"]*" data-kind="count"[^>]*>([^<]*)</td>')


def test_the_page_and_its_charts_publish_no_small_count(client, coordinator, region):
    login(client, coordinator)
    for query in QUERIES:
        page = client.get(f"/reports/?{query}").get_data(as_text=True)

        cells = COUNT_CELL.findall(page)
        assert len(cells) > 50
        for cell in cells:
            assert cell in ("&lt;5", "x") or int(cell) >= 5, cell
        # What the count charts draw: the values pygal writes beside each bar and point.
        for chart_id, drawing in re.findall(r'<svg[^>]* id="(chart-[^"]+)"(.*?)</svg>', page,
                                            flags=re.S):
            if chart_id == "chart-groups-groups":
                continue  # fill rates, in per cent
            for value in re.findall(r'<desc class="value">([^<]*)</desc>', drawing):
                assert float(value) >= 5, (chart_id, value)


def test_no_export_publishes_a_small_count(client, coordinator, region):
    login(client, coordinator)
    headers = bearer(coordinator)
    query = QUERIES[0]
    for name in REPORT_NAMES:
        body = client.get(f"/api/v1/reports/{name}?{query}", headers=headers).get_json()
        for table in body["tables"]:
            positions = [index + 1 for index, column in enumerate(table["columns"][1:])
                         if column["kind"] == "count"]
            url = f"/reports/{name}/{table['name']}"
            text = client.get(f"{url}.csv?{query}").get_data().decode("utf-8-sig")
            lines = list(csv.reader(io.StringIO(text)))[1:]
            assert len(lines) == len(table["rows"])
            workbook = openpyxl.load_workbook(io.BytesIO(
                client.get(f"{url}.xlsx?{query}").get_data()))
            sheet_rows = [row for row in workbook.active.iter_rows(values_only=True)]
            header_at = next(index for index, row in enumerate(sheet_rows)
                             if row and row[0] == table["columns"][0]["label"])
            cells = sheet_rows[header_at + 1: header_at + 1 + len(table["rows"])]
            for line, cell_row in zip(lines, cells, strict=True):
                for position in positions:
                    assert line[position] in MARKERS or int(line[position]) >= 5
                    assert_counts_are_safe(cell_row[position])
