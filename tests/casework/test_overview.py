"""The family's page: one overview from the layer above the packages, no template
globals of the packages that query."""

from datetime import date

import pytest
from jinja2 import nodes

from calendars import services as calendar_services
from casework.overview import family_overview
from core.clock import FixedClock
from extensions import db
from groups import enrollment as group_enrollment
from groups import permissions as group_permissions
from reminders.models import Reminder
from tests.conftest import HELSINKI, NOW, login, make_family, make_group, make_user
from tests.reminders.helpers import at, book
from tests.reports.conftest import add_visit, local

# The packages below the cross-cutting layer: a template global of theirs on the
# family's page would be a query of theirs run by the template.
DOMAIN_PACKAGES = ("accounts", "families", "groups", "calendars", "matching", "reminders",
                   "reports")
FAMILY_PAGE = ("casework/family.html", "reminders/_family.html")


@pytest.fixture
def worker(app):
    return make_user("family_worker")


@pytest.fixture
def family(coordinator, worker):
    """A family with a past and an upcoming visit, a seat in a group and a reminder."""
    family = make_family(coordinator, workers=[worker], plan=True)
    add_visit(family, [worker], local(date(2026, 10, 6), "10:00"))
    book(coordinator, family, at(12, 2, 10))
    group = make_group(coordinator)
    group_enrollment.enroll(coordinator, group, family, [m.id for m in family.members],
                            zone=HELSINKI, clock=FixedClock(NOW))
    db.session.commit()
    return family


def test_the_overview_gathers_visits_seats_and_reminders(coordinator, family):
    overview = family_overview(coordinator, family, now=NOW)
    assert [visit.start for visit in overview.visits.upcoming] == [at(12, 2, 10)]
    assert [visit.start for visit in overview.visits.recent] == [
        local(date(2026, 10, 6), "10:00")]
    [seat] = overview.group_seats
    assert (seat.enrollment.family_id, seat.enrollment.status) == (family.id, "enrolled")
    assert overview.reminders.upcoming
    assert all(isinstance(reminder, Reminder) and reminder.family_id == family.id
               and reminder.status == "pending" for reminder in overview.reminders.upcoming)
    assert overview.reminders.may_see_outbox


@pytest.mark.parametrize("role", ["admin", "coordinator", "family_worker", "social_worker",
                                  "other_family_worker", "other_coordinator"])
def test_each_permission_is_the_packages_own_rule(app, coordinator, worker, family, role):
    """Booking, placing and withdrawing follow calendars' and groups' rules for every
    role, the family's own worker and staff of another municipality included."""
    user = {"admin": lambda: make_user("admin", municipalities=()),
            "coordinator": lambda: coordinator,
            "family_worker": lambda: worker,
            "social_worker": lambda: make_user("social_worker"),
            "other_family_worker": lambda: make_user("family_worker"),
            "other_coordinator": lambda: make_user("coordinator",
                                                   municipalities=("Puumala",))}[role]()
    overview = family_overview(user, family, now=NOW)
    [seat] = overview.group_seats
    group = seat.enrollment.group
    assert overview.may_book_visit == calendar_services.can_book_for(user, family)
    assert overview.may_place == group_permissions.can_enroll(user, None, family)
    assert seat.may_withdraw == group_permissions.can_enroll(user, group, family)
    # Whoever may place the family in this group may place it in some group.
    assert overview.may_place or not seat.may_withdraw


@pytest.mark.parametrize(("role", "may_place"), [
    ("coordinator", True), ("family_worker", True), ("social_worker", False)])
def test_the_page_offers_placing_as_the_overview_says(client, coordinator, worker, family,
                                                      role, may_place):
    user = {"coordinator": coordinator, "family_worker": worker,
            "social_worker": make_user("social_worker")}[role]
    login(client, user)
    page = client.get(f"/families/{family.id}").get_data(as_text=True)
    assert (f"/groups/families/{family.id}/place" in page) is may_place
    assert ("Withdraw" in page) is may_place


def test_the_family_page_calls_no_template_global_of_a_package(app):
    """No name the family's page (or its partials) loads is a template global
    defined by a domain package: what they hold comes through the overview."""
    env = app.jinja_env
    for name in FAMILY_PAGE:
        tree = env.parse(env.loader.get_source(env, name)[0])
        loaded = {node.name for node in tree.find_all(nodes.Name) if node.ctx == "load"}
        assert "overview" in loaded
        for variable in loaded & set(env.globals):
            module = getattr(env.globals[variable], "__module__", "") or ""
            assert module.split(".")[0] not in DOMAIN_PACKAGES, (
                f"{name} calls {variable} of {module}")
