"""Who may do what, route by route: every rule of the app's URL map, pages and
API, asked by an anonymous visitor and by each role, about objects of their
own and about objects that belong to someone else.

The expected answers are the table EXPECTED below, one entry per endpoint. A
route added without an entry fails `test_every_route_has_an_expected_answer`,
so nobody can add a page or an API operation without deciding who may use it.

Answers are compared as classes:

- "ok": let through: anything but 401, 403, 404, 405, 5xx or a redirect to the
  sign-in page (a form sent empty may well answer 422, an API call 400);
- "login": a page's redirect to the sign-in page; on the API, 401;
- "403", "404": refused (404 where even the existence of the object is no
  one else's business).

An entry gives one class for everyone, a dict by role (missing roles: the
value of "*"), and a role's value may be a pair: (own objects, someone else's).
"""

from dataclasses import dataclass, field
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from werkzeug.routing import Rule

from accounts.models import ApiToken
from accounts.services import issue_api_token
from calendars import services as calendar_services
from calendars import working_time
from calendars.feeds import tokens as feed_tokens
from core import places
from core.clock import FixedClock
from extensions import db
from groups import enrollment as group_enrollment
from groups.models import GroupSession
from matching import services as matching_services
from reminders.models import Reminder
from reports import services as report_services
from tests.calendars.test_feeds import SETTINGS
from tests.conftest import (
    HELSINKI,
    NOW,
    bearer,
    csrf_token_from,
    login,
    make_family,
    make_group,
    make_user,
)

ROLES = ("anonymous", "admin", "coordinator", "family_worker", "social_worker")
MUTATING = ("POST", "PUT", "PATCH", "DELETE")
# Methods the URL map adds by itself.
IMPLICIT = {"HEAD", "OPTIONS"}

ANON = {"anonymous": "login"}
# Kinds of route, by who may use them.
SIGNED_IN = {**ANON, "*": "ok"}                       # every member of staff
ADMIN_ONLY = {**ANON, "*": "403", "admin": "ok"}
COORDINATORS = {**ANON, "*": "403", "admin": "ok", "coordinator": "ok"}
# A family's record: those who work with it (their own), nobody else.
FAMILY_STAFF = {**ANON, "admin": "ok", "*": ("ok", "404")}
# Coordinators' objects (proposals, the outbox): theirs, and no one else's.
COORDINATORS_OWN = {**ANON, "*": "403", "admin": "ok", "coordinator": ("ok", "404")}
# Changing a group: coordinators of the municipalities it serves.
GROUP_MANAGERS = {**ANON, "*": "403", "admin": "ok", "coordinator": ("ok", "403")}
# Changing a visit or a seat: coordinators and the family's workers; the
# social worker sees the family but changes neither.
BOOKERS = {**ANON, "admin": "ok", "coordinator": ("ok", "404"),
           "family_worker": ("ok", "404"), "social_worker": ("403", "404")}
# Closing and exporting a family: coordinators and admins.
FAMILY_KEEPERS = {**ANON, "admin": "ok", "coordinator": ("ok", "404"),
                  "family_worker": ("403", "404"), "social_worker": ("403", "404")}
# A worker's own calendar feed: the worker (and an admin), nobody else.
FEED_OWNERS = {**ANON, "*": "404", "admin": "ok", "family_worker": ("ok", "404")}
# A family worker's hours and absences: the worker, their coordinators, admins.
WORKING_TIME = {**ANON, "admin": "ok", "coordinator": ("ok", "404"),
                "family_worker": ("ok", "404"), "social_worker": "404"}


# --- the world: the users' own objects and someone else's --------------------

@dataclass
class Side:
    """The objects of one side: ids by the name of a rule's argument."""

    ids: dict = field(default_factory=dict)
    feed_secret: str = ""


@dataclass
class World:
    users: dict
    own: Side
    foreign: Side
    report: str
    table: str


def _side(coordinator, worker, social_worker, municipality, clock) -> Side:
    """A family with a plan, its visit and reminders, a group with sessions where
    it has a seat, a worker's feed and a matching proposal, all in one
    municipality and in the hands of these staff."""
    family = make_family(coordinator, track="child_protection", municipality=municipality,
                         workers=[worker], social_worker=social_worker, plan=True)
    group = make_group(coordinator, municipalities=(municipality,), facilitators=[worker],
                       name=f"Ryhmä {municipality}")
    enrollment = group_enrollment.enroll(coordinator, group, family,
                                         [member.id for member in family.members],
                                         zone=HELSINKI, clock=clock)
    visit = calendar_services.book_visit(
        coordinator, family, kind="home_visit", start=datetime(2026, 12, 2, 10,
                                                               tzinfo=HELSINKI),
        end=datetime(2026, 12, 2, 11, tzinfo=HELSINKI), worker_ids=[worker.id],
        confirm=True, zone=HELSINKI, settings=SETTINGS, clock=clock)
    feed, secret = feed_tokens.create_feed(
        worker, owner_type="worker", owner_id=worker.id, detailed_allowed=False,
        clock=clock)
    absence, _booked = working_time.add_absence(
        worker, worker, kind="training", start=datetime(2026, 12, 21, 8, tzinfo=HELSINKI),
        end=datetime(2026, 12, 21, 12, tzinfo=HELSINKI))
    db.session.flush()
    proposal = matching_services.propose(coordinator, now=NOW, zone=HELSINKI)
    db.session.commit()
    session = db.session.scalar(sa.select(GroupSession).where(
        GroupSession.group_id == group.id).order_by(GroupSession.start))
    reminder = db.session.scalar(sa.select(Reminder).order_by(Reminder.id.desc()))
    return Side(ids={
        "family_id": family.id, "member_id": family.members[0].id, "visit_id": visit.id,
        "group_id": group.id, "session_id": session.id, "enrollment_id": enrollment.id,
        "feed_id": feed.id, "proposal_id": proposal.id,
        "reminder_id": reminder.id if reminder else 0, "worker_id": worker.id,
        "absence_id": absence.id,
        "user_id": worker.id}, feed_secret=secret)


@pytest.fixture
def world(app) -> World:
    clock = FixedClock(NOW)
    users = {"admin": make_user("admin", municipalities=()),
             "coordinator": make_user("coordinator"),
             "family_worker": make_user("family_worker"),
             "social_worker": make_user("social_worker")}
    own = _side(users["coordinator"], users["family_worker"], users["social_worker"],
                "Mikkeli", clock)
    others = (make_user("coordinator", municipalities=("Puumala",)),
              make_user("family_worker", municipalities=("Puumala",)),
              make_user("social_worker", municipalities=("Puumala",)))
    foreign = _side(*others, "Puumala", clock)
    venue = places.create_venue(name="Perhekeskus", municipality="Mikkeli")
    blackout = places.add_blackout_date(day=date(2026, 12, 28), reason="Välipäivä")
    db.session.commit()
    reference = {"venue_id": venue.id, "blackout_id": blackout.id,
                 "municipality_id": venue.municipality_id}
    own.ids.update(reference)
    foreign.ids.update(reference)
    report = report_services.REPORT_NAMES[0]
    filters = report_services.read_filters({}, users["admin"], today=NOW.date())
    table = report_services.build_reports(users["admin"], filters, zone=HELSINKI,
                                          names=(report,))[0].tables[0].name
    return World(users, own, foreign, report, table)


# --- asking ------------------------------------------------------------------

def _worker_query(world, side, role):
    return {"worker": side.ids["worker_id"]}


# Routes whose object is named in the query string.
QUERIES = {"feeds.subscribe": lambda world, side, role: {
    "owner_type": "worker",
    "owner_id": world.users[role].id if side is world.own and role in world.users
    else side.ids["worker_id"]},
    **{endpoint: _worker_query for endpoint in (
        "working_time.page", "working_time.save_hours", "working_time.default_hours",
        "working_time.add_absence")}}


def _has_object(rule: Rule) -> bool:
    return bool(rule.arguments) or rule.endpoint in QUERIES


def _path(rule: Rule, world: World, side: Side, role: str) -> str:
    values = {}
    if rule.endpoint in QUERIES:
        values.update(QUERIES[rule.endpoint](world, side, role))
    for argument in rule.arguments:
        if argument == "token":
            values[argument] = side.feed_secret
        elif argument == "secret":
            values[argument] = "no-such-opt-out-link"
        elif argument == "token_id":
            values[argument] = _api_token_id(world, role, side)
        elif argument in ("report", "name"):
            values[argument] = world.report
        elif argument == "table":
            values[argument] = world.table
        elif argument == "file_format":
            values[argument] = "csv"
        else:
            values[argument] = side.ids[argument]
    return rule.build(values, append_unknown=True)[1]


def _api_token_id(world: World, role: str, side: Side) -> int:
    """A token of the user asking (own) or of another user (someone else's)."""
    holder = world.users.get(role, world.users["admin"]) if side is world.own \
        else world.users["social_worker" if role != "social_worker" else "admin"]
    issue_api_token(holder, clock=FixedClock(NOW))
    db.session.commit()
    return db.session.scalar(sa.select(sa.func.max(ApiToken.id)).where(
        ApiToken.user_id == holder.id))


class Caller:
    """An anonymous visitor or a signed-in role: a session for pages, a bearer
    token for the API."""

    def __init__(self, app, role: str, world: World):
        self.role = role
        self.client = app.test_client()
        self.headers = {}
        if role != "anonymous":
            user = world.users[role]
            login(self.client, user)
            self.headers = bearer(user)

    def ask(self, method: str, path: str):
        api = path.startswith("/api/")
        headers = dict(self.headers) if api else {}
        kwargs = {}
        if method in MUTATING:
            if api:
                kwargs["json"] = {}
            else:
                page = self.client.get("/account" if self.role != "anonymous" else "/login")
                kwargs["data"] = {"csrf_token": csrf_token_from(page.get_data(as_text=True))}
        response = self.client.open(path, method=method, headers=headers, **kwargs)
        response.close()
        return response


def answer_class(response, api: bool) -> str:
    status = response.status_code
    if status == 302 and "/login" in response.headers.get("Location", ""):
        return "login"
    if status == 401 and api:
        return "login"
    if status in (403, 404):
        return str(status)
    if status in (401, 405) or status >= 500:
        return str(status)
    return "ok"


def expected_class(endpoint: str, role: str, own: bool) -> str:
    entry = EXPECTED[endpoint]
    if isinstance(entry, dict):
        entry = entry.get(role, entry.get("*"))
    if isinstance(entry, tuple):
        entry = entry[0 if own else 1]
    return entry


def _rules(app, *, mutating: bool) -> list[tuple[Rule, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) - IMPLICIT):
            if (method in MUTATING) == mutating:
                found.append((rule, method))
    return sorted(found, key=lambda pair: (pair[0].rule, pair[1]))


def _check(app, world, rule, method, roles=ROLES, *, keep=lambda want, own: True) -> list[str]:
    """Ask as each role about its own objects and someone else's; the answers
    that differ from the table. ``keep`` chooses the cases asked by their
    expected answer and side."""
    wrong = []
    for role in roles:
        caller = Caller(app, role, world)
        for own, side in ((True, world.own), (False, world.foreign)):
            want = expected_class(rule.endpoint, role, own)
            if (not own and not _has_object(rule)) or not keep(want, own):
                continue
            path = _path(rule, world, side, role)
            got = answer_class(caller.ask(method, path), path.startswith("/api/"))
            if got != want:
                wrong.append(f"{method} {path} ({rule.endpoint}) as {role}, "
                             f"{'own' if own else 'someone else’s'}: {got}, expected {want}")
    return wrong


# --- the tests ---------------------------------------------------------------

def test_every_route_has_an_expected_answer(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - {"static"}
    assert sorted(endpoints - set(EXPECTED)) == [], "routes without an expected answer"
    assert sorted(set(EXPECTED) - endpoints) == [], "expected answers of no route"


def test_reading_pages_and_the_api(app, world):
    wrong = []
    for rule, method in _rules(app, mutating=False):
        wrong += _check(app, world, rule, method)
    assert wrong == []


def _mutating_endpoints():
    from app import create_app
    from config import TestConfig, settings
    probe = create_app(settings(TestConfig, SQLALCHEMY_DATABASE_URI="sqlite://"))
    return [(rule.endpoint, method) for rule, method in _rules(probe, mutating=True)]


@pytest.mark.parametrize(("endpoint", "method"), _mutating_endpoints())
def test_changing_things(app, world, endpoint, method):
    """Each changing route in a world of its own: the refused first (they change
    nothing), then one role that is let through."""
    [rule] = [rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint]
    refused = [role for role in ROLES
               if expected_class(endpoint, role, True) != "ok"
               or (_has_object(rule) and expected_class(endpoint, role, False) != "ok")]
    wrong = _check(app, world, rule, method, refused, keep=lambda want, own: want != "ok")
    allowed = [role for role in ROLES if expected_class(endpoint, role, True) == "ok"]
    if allowed:
        wrong += _check(app, world, rule, method, allowed[:1], keep=lambda want, own: own)
    assert wrong == []


EXPECTED: dict = {
    # Signing in and out, the account, the language.
    "accounts.login": "ok",                       # signed in: to the dashboard
    "accounts.logout": "login",                   # signed out: to the sign-in page
    "accounts.logout_everywhere": "login",
    "accounts.language": "ok",                    # anyone may switch
    "accounts.account": SIGNED_IN,
    # The second sign-in step and the two-factor set-up: the pending half of a
    # sign-in is no session, so an anonymous caller goes to the sign-in page.
    "accounts.second_factor": SIGNED_IN,          # signed in: to the dashboard
    "accounts.two_factor_setup": SIGNED_IN,
    "accounts.new_recovery_codes": SIGNED_IN,
    "accounts.create_token": SIGNED_IN,
    "accounts.revoke_token": {**ANON, "*": ("ok", "404")},
    "accounts_api.me": SIGNED_IN,
    # Staff lists for choosing whom to assign: not for family workers.
    "accounts_api.users": {**SIGNED_IN, "family_worker": "403"},
    "core_api.openapi_document": "ok",
    # Administration.
    "admin.index": ADMIN_ONLY, "admin.users": ADMIN_ONLY, "admin.new_user": ADMIN_ONLY,
    "admin.edit_user": ADMIN_ONLY, "admin.set_password": ADMIN_ONLY,
    "admin.unlock_user": ADMIN_ONLY, "admin.deactivate_user": ADMIN_ONLY,
    "admin.reset_two_factor": ADMIN_ONLY,
    "admin.municipalities": ADMIN_ONLY, "admin.new_municipality": ADMIN_ONLY,
    "admin.edit_municipality": ADMIN_ONLY, "admin.delete_municipality": ADMIN_ONLY,
    "admin.venues": ADMIN_ONLY, "admin.new_venue": ADMIN_ONLY, "admin.edit_venue": ADMIN_ONLY,
    "admin.delete_venue": ADMIN_ONLY, "admin.blackouts": ADMIN_ONLY,
    "admin.add_blackout": ADMIN_ONLY, "admin.delete_blackout": ADMIN_ONLY,
    "admin.audit_log": ADMIN_ONLY, "admin.retention": ADMIN_ONLY,
    "policies.matching_policy": ADMIN_ONLY, "policies.reminder_policy": ADMIN_ONLY,
    "reminders_api.put_policy": ADMIN_ONLY,
    # Families.
    "families.list_families": SIGNED_IN,
    "families_api.list_families": SIGNED_IN,
    "families.new_family": {**COORDINATORS, "social_worker": "ok"},
    "families_api.create_family": {**COORDINATORS, "social_worker": "ok"},
    "casework.detail": FAMILY_STAFF,
    "families_api.get_family": FAMILY_STAFF,
    "families.edit_family": {**FAMILY_STAFF, "family_worker": ("403", "404")},
    "families_api.update_family": {**FAMILY_STAFF, "family_worker": ("403", "404")},
    "families.new_member": FAMILY_STAFF, "families.edit_member": FAMILY_STAFF,
    "families.delete_member": FAMILY_STAFF,
    "families_api.add_member": FAMILY_STAFF, "families_api.update_member": FAMILY_STAFF,
    "families_api.delete_member": FAMILY_STAFF,
    "families.plan": FAMILY_STAFF, "families_api.put_plan": FAMILY_STAFF,
    "casework.close_family": FAMILY_KEEPERS, "casework_api.close_family": FAMILY_KEEPERS,
    "casework.export_family": FAMILY_KEEPERS, "casework_api.export_family": FAMILY_KEEPERS,
    # Calendars and visits.
    "reports.dashboard": SIGNED_IN,
    "calendars.week": SIGNED_IN, "calendars.month": SIGNED_IN,
    "calendars.day": COORDINATORS,                # every worker of a municipality
    "calendars.new_visit": {**SIGNED_IN, "social_worker": "403"},
    "calendars_api.create_visit": {**SIGNED_IN, "social_worker": "403"},
    "calendars_api.list_visits": SIGNED_IN,
    "visits.visit": FAMILY_STAFF, "calendars_api.get_visit": FAMILY_STAFF,
    "visits.move_visit": BOOKERS, "visits.cancel_visit": BOOKERS,
    "visits.mark_done": BOOKERS, "visits.mark_no_show": BOOKERS,
    "visits.save_notes": BOOKERS, "calendars.delete_visit": BOOKERS,
    "calendars_api.update_visit": BOOKERS, "calendars_api.delete_visit": BOOKERS,
    "calendars_api.worker_event_list": {**FAMILY_STAFF, "social_worker": "404"},
    "calendars_api.worker_free_slots": {**FAMILY_STAFF, "social_worker": "404"},
    # Working hours and absences.
    **{endpoint: WORKING_TIME for endpoint in (
        "working_time.page", "working_time.save_hours", "working_time.default_hours",
        "working_time.add_absence", "working_time.delete_absence",
        "calendars_api.get_working_hours", "calendars_api.put_working_hours",
        "calendars_api.delete_working_hours", "calendars_api.list_absences",
        "calendars_api.create_absence", "calendars_api.delete_absence")},
    # Calendar feeds: the secret URL is the key, for anyone who has it.
    "feeds.feed": "ok",
    "feeds.subscribe": {**ANON, "*": ("ok", "404"), "admin": "ok"},
    "feeds.revoke": FEED_OWNERS, "feeds.rotate": FEED_OWNERS,
    "calendars_api.create_feed": SIGNED_IN, "calendars_api.list_feeds": SIGNED_IN,
    "calendars_api.delete_feed": FEED_OWNERS, "calendars_api.rotate_feed": FEED_OWNERS,
    # Groups: every member of staff sees groups and sessions; rosters, seats
    # and attendance belong to their organisers and facilitators.
    "groups.list_groups": SIGNED_IN, "groups_api.list_groups": SIGNED_IN,
    "groups.detail": SIGNED_IN, "groups_api.get_group": SIGNED_IN,
    "groups_api.list_sessions": SIGNED_IN,
    "sessions.session_page": SIGNED_IN,             # names only for those who record
    "groups_api.preview_series": SIGNED_IN,       # a preview changes nothing
    "groups.place_family": SIGNED_IN,             # without a family: back to the group
    "groups.new_group": COORDINATORS, "groups_api.create_group": COORDINATORS,
    "groups.edit_group": GROUP_MANAGERS, "groups_api.update_group": GROUP_MANAGERS,
    "groups.change_status": GROUP_MANAGERS, "groups_api.update_session": GROUP_MANAGERS,
    "groups_api.list_enrollments": {**GROUP_MANAGERS, "family_worker": ("ok", "403")},
    "groups_api.put_attendance": {**GROUP_MANAGERS, "family_worker": ("ok", "403")},
    # A seat for a family: whoever may book for the family (the group is public).
    "groups.place_in_group": BOOKERS, "groups.withdraw": BOOKERS,
    "groups_api.delete_enrollment": BOOKERS,
    "groups_api.create_enrollment": SIGNED_IN,    # the family is checked in the body
    # Matching.
    "matching.index": COORDINATORS, "matching.create_proposal": COORDINATORS,
    "matching_api.create_proposal": COORDINATORS,
    "matching.family_groups": FAMILY_STAFF, "matching_api.group_matches": FAMILY_STAFF,
    "matching.group_families": GROUP_MANAGERS, "matching_api.family_matches": GROUP_MANAGERS,
    "matching.proposal": COORDINATORS_OWN, "matching_api.get_proposal": COORDINATORS_OWN,
    "matching.accept_proposal": COORDINATORS_OWN,
    "matching_api.accept_proposal": COORDINATORS_OWN,
    "matching.reject_proposal": COORDINATORS_OWN,
    "matching_api.reject_proposal": COORDINATORS_OWN,
    "matching.recompute_proposal": COORDINATORS_OWN,
    # Reminders: the outbox is for coordinators of the families' municipalities.
    "reminders.outbox": COORDINATORS, "reminders_api.list_reminders": COORDINATORS,
    "reminders_api.get_policy": COORDINATORS,
    "reminders.cancel": COORDINATORS_OWN, "reminders.retry": COORDINATORS_OWN,
    "reminders_api.cancel": COORDINATORS_OWN, "reminders_api.retry": COORDINATORS_OWN,
    "opt_out.stop": "404",                        # an unknown link, for anyone
    # Reports: coordinators and admins.
    "reports.reports": COORDINATORS, "reports.export": COORDINATORS,
    "reports_api.list_reports": COORDINATORS, "reports_api.get_report": COORDINATORS,
}
