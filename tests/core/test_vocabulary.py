"""Every code set has one source: core.vocabulary, with labels in both languages.

The tests enumerate: every vocabulary and code, every check constraint that
keeps a column to a set of codes, every select of every form, every code set
the API document declares, every label the templates ask for.
"""

import re
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po
from flask_migrate import upgrade
from flask_wtf import FlaskForm
from wtforms import Form, RadioField, SelectField, SelectMultipleField

from core import vocabulary
from extensions import db
from tests.core.test_migrations import migrated_app

ROOT = Path(__file__).resolve().parents[2]

# Each column kept to a set of codes, and the vocabulary whose codes they are.
VOCABULARY_COLUMNS = {
    ("users", "role"): "role",
    ("families", "track"): "track",
    ("families", "status"): "family_status",
    ("members", "role"): "member_role",
    ("members", "reminder_channel"): "reminder_channel",
    ("peer_groups", "status"): "group_status",
    ("session_series", "interval_weeks"): "interval",
    ("group_sessions", "status"): "session_status",
    ("enrollments", "status"): "enrollment_status",
    ("visit_series", "interval_weeks"): "interval",
    ("home_visits", "kind"): "visit_kind",
    ("home_visits", "status"): "visit_status",
    ("absences", "kind"): "absence_kind",
    ("feed_tokens", "owner_type"): "feed_owner_type",
    ("feed_tokens", "privacy"): "feed_privacy",
    ("feed_stamps", "owner_type"): "feed_stamp_owner_type",
    ("matching_proposals", "status"): "proposal_status",
    ("matching_proposal_items", "status"): "item_status",
    ("reminders", "purpose"): "message_purpose",
    ("reminders", "status"): "reminder_status",
    ("reminders", "channel"): "message_channel",
    ("reminders", "event_type"): "event_type",
    ("reminder_policies", "event_kind"): "policy_kind",
}
# A check constraint that keeps one column to a list of values.
IN_LIST = re.compile(r"^\s*(\w+) IN \((.*)\)\s*$")

# Selects whose options are no stored code: a filter on a yes/no state.
NOT_CODES = {("UserFilterForm", "active")}

# Code sets in the API document that are not stored codes: the kinds of a
# calendar's entries (busy time included), the names of the reports and of
# their columns' kinds, the marks of suppressed figures, a boolean query.
NOT_VOCABULARIES = {
    ("home_visit", "group_session", "busy"),
    ("families", "referrals", "waiting_times", "home_visits", "groups", "reminders"),
    ("text", "count", "days", "percent", "number"),
    ("<5", "x"),
    ("true", "false", "1", "0"),
    ("true", "false"),  # the events' `cancelled` query flag
}


def shown_vocabularies():
    return [entry for entry in vocabulary.REGISTRY.values() if entry.shown]


def catalogue(locale: str):
    path = ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po"
    with open(path, "rb") as source:
        return read_po(source)


def msgid(label) -> str:
    """The message id of a lazily translated label."""
    return label._args[0]


def vocabulary_constraints():
    """Every check constraint of the models that keeps a column to a list."""
    for table in db.metadata.sorted_tables:
        for constraint in table.constraints:
            if isinstance(constraint, sa.CheckConstraint):
                match = IN_LIST.match(str(constraint.sqltext))
                if match:
                    yield table.name, match.group(1), constraint


def test_every_vocabulary_is_registered_once_by_its_name():
    assert len(vocabulary.REGISTRY) >= 25
    for name, entry in vocabulary.REGISTRY.items():
        assert entry.name == name
        assert vocabulary.vocabulary(name) is entry
        assert len(set(entry.codes)) == len(entry.codes) > 0
    with pytest.raises(ValueError):
        vocabulary.Vocabulary("track", {"x": "y"})


@pytest.mark.parametrize("locale", ["fi", "en"])
def test_every_code_has_a_label_in_both_languages(locale):
    messages = catalogue(locale)
    missing = []
    for entry in shown_vocabularies():
        if not entry.translated:
            assert all(isinstance(label, str) and label for label in entry.values())
            continue
        for code, label in entry.items():
            message = messages.get(msgid(label)) if label is not None else None
            if message is None or message.fuzzy or (locale == "fi" and not message.string):
                missing.append((entry.name, code))
    assert missing == []


def test_labels_are_translated_in_the_language_of_the_request(app):
    from flask_babel import force_locale

    with force_locale("fi"):
        assert vocabulary.label("active", "family_status") == "Aktiivinen"
    with force_locale("en"):
        assert vocabulary.label("active", "family_status") == "Active"
    assert vocabulary.label("not_a_code", "family_status") == "not_a_code"


def test_the_status_actions_name_every_group_status():
    assert vocabulary.GROUP_STATUS_ACTIONS.codes == vocabulary.GROUP_STATUSES.codes


def test_the_codes_the_packages_import_are_the_registry_s():
    from calendars import models as calendars
    from core.roles import ROLES
    from families import models as families
    from groups import eligibility as group_eligibility
    from groups import models as groups
    from matching import models as matching
    from matching.scoring import CRITERIA
    from reminders import models as reminders

    assert ROLES is vocabulary.ROLES
    assert vocabulary.FAMILY_STATUSES.codes == families.STATUSES
    assert vocabulary.MEMBER_ROLES.codes == families.MEMBER_ROLES
    assert vocabulary.REMINDER_CHANNELS.codes == families.REMINDER_CHANNELS
    assert vocabulary.GROUP_STATUSES.codes == groups.GROUP_STATUSES
    assert vocabulary.SESSION_STATUSES.codes == groups.SESSION_STATUSES
    assert vocabulary.ENROLLMENT_STATUSES.codes == groups.ENROLLMENT_STATUSES
    for status in vocabulary.GROUP_STATUSES.codes:
        group = group_eligibility.GroupTerms(
            status=status, tracks=frozenset(), language="fi", municipality_ids=frozenset(),
            min_age_months=0, max_age_months=12, first_day=None)
        takes = group_eligibility.takes_families(group, date(2026, 1, 1)) is None
        assert takes == (status in vocabulary.ENROLLING_STATUSES), status
    assert vocabulary.VISIT_KINDS.codes == calendars.VISIT_KINDS
    assert vocabulary.VISIT_STATUSES.codes == calendars.VISIT_STATUSES
    assert vocabulary.ABSENCE_KINDS.codes == calendars.ABSENCE_KINDS
    assert vocabulary.FEED_OWNER_TYPES.codes == calendars.FEED_OWNER_TYPES
    assert vocabulary.FEED_PRIVACY_LEVELS.codes == calendars.FEED_PRIVACY_LEVELS
    assert vocabulary.PROPOSAL_STATUSES.codes == matching.PROPOSAL_STATUSES
    assert vocabulary.PROPOSAL_ITEM_STATUSES.codes == matching.ITEM_STATUSES
    assert vocabulary.CRITERIA.codes == CRITERIA
    assert vocabulary.REMINDER_STATUSES.codes == reminders.STATUSES
    assert vocabulary.MESSAGE_PURPOSES.codes == reminders.PURPOSES
    assert vocabulary.MESSAGE_CHANNELS.codes == reminders.CHANNELS
    assert vocabulary.EVENT_TYPES.codes == reminders.EVENT_TYPES
    assert vocabulary.CANCEL_REASONS.codes == reminders.CANCEL_REASONS
    assert vocabulary.POLICY_KINDS.codes == reminders.POLICY_KINDS


def test_every_code_constraint_is_built_from_the_registry(app):
    found = {}
    for table, column, constraint in vocabulary_constraints():
        assert (table, column) in VOCABULARY_COLUMNS, (
            f"{table}.{column} is kept to codes not listed here: {constraint.sqltext}")
        expected = vocabulary.vocabulary(VOCABULARY_COLUMNS[table, column]).check(column)
        assert str(constraint.sqltext) == expected
        found[table, column] = constraint
    assert set(found) == set(VOCABULARY_COLUMNS)


def test_the_migrations_hold_the_constraints_the_registry_builds(tmp_path):
    """The same SQL as the migrations wrote: no migration is needed for the registry."""
    migrated = migrated_app(f"sqlite:///{tmp_path / 'vocabulary.sqlite3'}")
    with migrated.app_context():
        upgrade()
        with db.engine.connect() as connection:
            schema = dict(connection.execute(sa.text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all())
        for table, column, constraint in vocabulary_constraints():
            assert f"CHECK ({constraint.sqltext})" in schema[table], (table, column)
        db.engine.dispose()


def _subclasses(cls):
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


def _static_selects():
    """(form, field name, options) of every select whose options the form declares."""
    for form in sorted(set(_subclasses(Form)) | set(_subclasses(FlaskForm)),
                       key=lambda form: (form.__module__, form.__qualname__)):
        if form.__module__.split(".")[0] not in {
                "accounts", "families", "groups", "calendars", "matching", "reminders",
                "reports", "core"}:
            continue
        for name in dir(form):
            unbound = getattr(form, name)
            field_class = getattr(unbound, "field_class", None)
            if not (isinstance(field_class, type) and issubclass(
                    field_class, SelectField | SelectMultipleField | RadioField)):
                continue
            options = unbound.kwargs.get("choices")
            if options is not None:
                yield form, name, options


def test_every_form_s_choices_come_from_the_registry(app):
    by_codes = {}
    for entry in shown_vocabularies():
        by_codes.setdefault(entry.codes, []).append(entry)
    checked = 0
    for form, name, options in _static_selects():
        if (form.__name__, name) in NOT_CODES:
            continue
        pairs = [(option.value, option.label) for option in options if option.value != ""]
        codes = tuple(code for code, _label in pairs)
        candidates = by_codes.get(codes)
        assert candidates, f"{form.__name__}.{name}: {codes} is no vocabulary"
        assert any(all(label is entry[code] for code, label in pairs)
                   for entry in candidates), f"{form.__name__}.{name}: labels of its own"
        checked += 1
    assert checked >= 20


def test_every_api_code_set_is_a_vocabulary(client):
    document = client.get("/api/v1/openapi.json").get_json()
    registered = {entry.codes for entry in vocabulary.REGISTRY.values()}

    def enums(node):
        if isinstance(node, dict):
            if "enum" in node:
                yield tuple(value for value in node["enum"] if value is not None)
            for value in node.values():
                yield from enums(value)
        elif isinstance(node, list):
            for value in node:
                yield from enums(value)

    found = set(enums(document))
    assert len(found) >= 20
    assert {codes for codes in found if codes not in NOT_VOCABULARIES} <= registered


def test_every_label_a_template_asks_for_is_registered():
    asked = set()
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        asked |= set(re.findall(r"""\|\s*label\(\s*["'](\w+)["']\s*\)""", text))
        assert not re.search(r"\|\s*\w+_label\b", text), template
    assert asked
    assert asked <= set(vocabulary.REGISTRY)


def test_the_label_filter_is_the_app_s_one(app):
    assert app.jinja_env.filters["label"] is vocabulary.label
    assert not [name for name in app.jinja_env.filters if name.endswith("_label")]
