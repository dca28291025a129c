"""Family references: registrations at once never get the same one, and an upgraded
database goes on from the references it holds.

Over HTTP, the app runs under gunicorn (four processes) on the suite's
database (SQLite by default, PostgreSQL when TEST_DATABASE_URL is set), and
the registrations are released together, each on its own connection.
"""

import re

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from casework import privacy
from config import TestConfig, settings
from extensions import db
from families.models import Family, ReferenceCounter
from tests.conftest import NOW, bearer, make_family
from tests.servers import at_once, gunicorn_app

REGISTRATIONS = 50
REFERENCE = re.compile(r"^PT-(\d{4})-(\d{4})$")


def registration(number: int) -> dict:
    return {"surname": f"Korhonen{number}", "municipality": "Mikkeli", "track": "preventive",
            "referral_source": "early_childhood_education", "referral_date": "2026-11-20",
            "members": [{"role": "guardian", "first_name": "Laura",
                         "email": f"laura{number}@example.test",
                         "reminder_channel": "email"}]}


def test_fifty_registrations_at_once_get_fifty_references_in_turn(_app, database_url,
                                                                   coordinator):
    headers = bearer(coordinator)
    with gunicorn_app(database_url) as port:
        answers = at_once(port, [("POST", "/api/v1/families", registration(number), headers)
                                 for number in range(REGISTRATIONS)])

    assert [answer.status for answer in answers] == [201] * REGISTRATIONS, [
        answer for answer in answers if answer.status != 201]
    references = [answer.body["reference"] for answer in answers]
    matches = [REFERENCE.match(reference) for reference in references]
    assert all(matches), references
    assert len({match.group(1) for match in matches}) == 1  # the server's year
    assert sorted(int(match.group(2)) for match in matches) == list(
        range(1, REGISTRATIONS + 1))
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Family.id))) == REGISTRATIONS


def test_a_reference_is_not_given_again_after_its_family_is_anonymised(app, coordinator):
    first = make_family(coordinator)
    privacy.anonymise_family(first, now=NOW)
    db.session.commit()

    second = make_family(coordinator)

    assert first.reference.startswith(privacy.ANONYMOUS_PREFIX)
    assert second.reference == "PT-2026-0002"


def test_references_go_on_from_the_counter_of_their_year(app, coordinator):
    db.session.add_all([ReferenceCounter(year=2025, last_number=80),
                        ReferenceCounter(year=2026, last_number=41)])
    db.session.commit()

    assert make_family(coordinator).reference == "PT-2026-0042"
    assert db.session.get(ReferenceCounter, 2025).last_number == 80


@pytest.fixture
def migrated_sqlite(tmp_path):
    """A SQLite database at the revision before the counters, with families."""
    app = create_app(settings(TestConfig, SQLALCHEMY_DATABASE_URI=(
        f"sqlite:///{tmp_path / 'upgraded.sqlite3'}")))
    with app.app_context():
        upgrade(revision="5c95c2364506")
        with db.engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO municipalities (id, name, latitude, longitude)"
                " VALUES (1, 'Mikkeli', 61.69, 27.27)"))
            for number, reference in enumerate(["PT-2025-0007", "PT-2026-0003",
                                                "PT-2026-0012", "PT-2026-0009",
                                                "ANON-4", "PT-B-00001"], start=1):
                connection.execute(sa.text(
                    "INSERT INTO families (id, reference, surname, municipality_id, address,"
                    " track, referral_source, referral_date, status, languages, created_at,"
                    " updated_at) VALUES (:id, :reference, 'Virtanen', 1, '', 'preventive',"
                    " 'child_health_clinic', '2026-01-02', 'referred', '[\"fi\"]',"
                    " '2026-01-02 10:00:00', '2026-01-02 10:00:00')"),
                    {"id": number, "reference": reference})
        yield app
        db.engine.dispose()


def test_the_migration_starts_each_years_counter_from_its_references(migrated_sqlite):
    with migrated_sqlite.app_context():
        upgrade()
        counters = dict(db.session.execute(sa.select(
            ReferenceCounter.year, ReferenceCounter.last_number)).all())
        db.session.remove()

    assert counters == {2025: 7, 2026: 12}
