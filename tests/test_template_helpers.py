"""Templates get their data from their view, not from helpers that query.

A page that shows several packages' data gets it from one service of the layer
above them; a template global that queries would let a lower package's page read
a higher one's data behind the import order. The test enumerates every global,
filter, test and context processor the application registers on Jinja and
fails on one of ours that is not in the allow-list below, each entry with the
reason it may be there; each allowed helper is then called and must not touch
the database.
"""

from datetime import date, datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from extensions import db
from tests.test_import_order import LAYER_OF

INSTANT = datetime(2026, 12, 1, 17, 0, tzinfo=ZoneInfo("Europe/Helsinki"))

# (kind, name): why it may be there, and a call that exercises it.
ALLOWED = {
    ("global", "current_locale"): (
        "the language of the response, from the request", lambda f: f()),
    ("global", "may_register_families"): (
        "a role check on the signed-in user for a link in the layout; no query",
        lambda f: f()),
    ("global", "series_instants"): (
        "a series' first start and end, computed from its own fields",
        lambda f: f(SimpleNamespace(first_date=date(2026, 12, 1), start_time=time(17),
                                    duration_minutes=90))),
    ("global", "feed_privacy_label"): (
        "the label of a feed's privacy level as served, from the code and a setting",
        lambda f: f("detailed")),
    ("filter", "datetime"): ("formats an instant in the unit's zone", lambda f: f(INSTANT)),
    ("filter", "date"): ("formats a date", lambda f: f(INSTANT.date(), weekday=True)),
    ("filter", "time"): ("formats a time of day", lambda f: f(INSTANT)),
    ("filter", "label"): ("the translated label of a code, from the vocabulary registry",
                          lambda f: f("preventive", "track")),
    ("filter", "attendance_rate"): ("formats a share as a percentage", lambda f: f(0.5)),
    ("filter", "points"): ("formats a score", lambda f: f(1.25)),
    ("filter", "figure"): ("formats a report's figure", lambda f: f(1234)),
}


def _ours(function) -> bool:
    """Whether a callable is defined in the application (not Flask, Jinja or an extension)."""
    module = getattr(function, "__module__", None) or ""
    return module.split(".")[0] in LAYER_OF


def registered_helpers(app):
    """Every Jinja helper of the application's own modules, as {(kind, name): callable}."""
    env = app.jinja_env
    helpers = {}
    for kind, table in (("global", env.globals), ("filter", env.filters),
                        ("test", env.tests)):
        for name, function in table.items():
            if callable(function) and _ours(function):
                helpers[(kind, name)] = function
    for blueprint, processors in app.template_context_processors.items():
        for processor in processors:
            if _ours(processor):
                helpers[("context processor", f"{blueprint}:{processor.__name__}")] = processor
    return helpers


def test_every_template_helper_of_the_application_is_allowed_with_a_reason(app):
    found = registered_helpers(app)
    unknown = sorted(f"{kind} {name} ({found[(kind, name)].__module__})"
                     for kind, name in set(found) - set(ALLOWED))
    assert not unknown, (
        "Template helpers that are not known to only format; a page's data comes "
        "from its view through a service instead: " + ", ".join(unknown))


def test_the_allow_list_names_only_helpers_that_exist(app):
    assert set(ALLOWED) <= set(registered_helpers(app))


@pytest.mark.parametrize("key", sorted(ALLOWED), ids=lambda key: f"{key[0]}-{key[1]}")
def test_an_allowed_helper_runs_no_query(app, key):
    function = registered_helpers(app)[key]
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        ALLOWED[key][1](function)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert statements == []
