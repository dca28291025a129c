"""Schemathesis against /api/v1/openapi.json: no server error, no answer the document
does not describe.

Every operation of the document is one test, run in-process (WSGI) as a signed-in
coordinator (an admin for what only admins do) over a small region of real data:
families with members and plans, a group with sessions and an enrollment, visits
with their reminders, a feed and a matching proposal. Generated ids, municipality
names and worker lists are mixed with those of the data, so that the requests reach
past "not found" into the services. Each test starts from fresh data, so a DELETE
takes nothing from the next operation. The examples are bounded and derandomized:
CI runs the same requests every time.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import bearer
from tests.fuzzing import collection_app, make_region

# More for a deeper search on a developer's machine: FUZZ_EXAMPLES=200.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 15))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]

# The document does not depend on the database: it is read from an app of its own
# at collection, so that each operation becomes a test of its own.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", collection_app())
# Boundary values of every field and parameter stay (the coverage phase); methods a
# path does not have are Flask's 405, the same for every path, and not sent.
schema.config.phases.coverage.unexpected_methods = set()

# Ids and names of the data of the running test, by the name a parameter or a field
# has in the API; generated values are mixed with these.
REAL: dict[str, list] = {}

ALIASES = {
    "family": "family_id", "worker": "worker_id", "with_worker": "worker_id",
    "facilitator_ids": "worker_id", "family_worker_ids": "worker_id",
    "worker_ids": "worker_id", "responsible_social_worker_id": "social_worker_id",
    "member_ids": "member_id", "item_ids": "item_id", "owner_id": "owner_id",
    "municipalities": "municipality", "event_id": "visit_id",
}


def _real(name):
    return REAL.get(ALIASES.get(name, name))


def _mixed(values: dict):
    """A strategy that keeps each generated value or puts a real one in its place."""
    if not isinstance(values, dict):
        return st.just(values)
    parts = {}
    for name, value in values.items():
        real = _real(name)
        if not real:
            parts[name] = st.just(value)
        elif isinstance(value, list):
            parts[name] = st.sampled_from([value, real[:1], real[:2]])
        else:
            parts[name] = st.sampled_from([value, *real])
    return st.fixed_dictionaries(parts)


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    return _mixed(path_parameters)


@schema.hook
def flatmap_query(context, query):
    return _mixed(query)


def _declared_fields(operation) -> set[str] | None:
    """The fields of an operation's request body, as the document names them."""
    document = schema.raw_schema
    body = document["paths"][operation.path][operation.method.lower()].get("requestBody")
    if body is None:
        return None
    reference = body["content"]["application/json"]["schema"]["$ref"]
    return set(document["components"]["schemas"][reference.rsplit("/", 1)[1]]["properties"])


@schema.hook
def flatmap_body(context, body):
    # Undeclared fields are refused at once ("Unknown field"): most bodies keep only
    # declared ones, so that they reach the services.
    declared = _declared_fields(context.operation)
    if isinstance(body, dict) and declared is not None:
        known = {name: value for name, value in body.items() if name in declared}
        return st.one_of(_mixed(known), _mixed(known), st.just(body))
    return _mixed(body)


@pytest.fixture
def callers(app):
    region = make_region()
    REAL.update(region.ids)
    yield {"coordinator": bearer(region.coordinator), "admin": bearer(region.admin)}
    REAL.clear()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_its_document_says(case, app, client, callers):
    admin_only = case.operation.method.upper() == "PUT" and case.path == "/reminders/policy"
    # Schemathesis asks for gzip by default, but its WSGI transport reads the body
    # as sent, undecoded: the API's answers are checked unencoded.
    headers = {**callers["admin" if admin_only else "coordinator"],
               "Accept-Encoding": "identity"}
    case.call_and_validate(session=client, app=app, headers=headers, checks=CHECKS)
