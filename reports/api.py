"""Reports over JSON: GET /api/v1/reports/<name>, the same figures as the page."""

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from core.api import error_responses, json_response
from core.clock import get_clock
from core.errors import NotFound
from core.localtime import local_today, unit_zone
from core.roles import ADMIN, COORDINATOR, roles_required
from core.vocabulary import TRACKS
from reports import services
from reports.suppression import MARKERS
from reports.views import legend

bp = Blueprint("reports_api", __name__, url_prefix="/api/v1")


def report_json(report, filters) -> dict:
    return {
        "report": report.name,
        "title": str(report.title),
        "description": str(report.description),
        "filters": filters.as_json(),
        "markers": {marker: kind for kind, marker in MARKERS.items()},
        "legend": legend(),
        "tables": [table.as_json() for table in report.tables],
    }


@bp.get("/reports")
@roles_required(COORDINATOR, ADMIN)
def list_reports():
    """The names of the reports."""
    return jsonify(list(services.REPORT_NAMES))


@bp.get("/reports/<name>")
@roles_required(COORDINATOR, ADMIN)
def get_report(name):
    """One report's tables for the filters, with hidden figures as "<5" and "x"."""
    if name not in services.REPORT_NAMES:
        raise NotFound(_("No such report."))
    filters = services.read_filters(request.args, current_user,
                                    today=local_today(get_clock().now()))
    report = services.build_reports(current_user, filters, zone=unit_zone(),
                                    names=(name,))[0]
    body = report_json(report, filters)
    services.record_read(current_user, [name], filters, clock=get_clock())
    return jsonify(body)


FIGURE = {"oneOf": [{"type": "number"}, {"type": "null"},
                    {"type": "string", "enum": list(MARKERS.values())}],
          "description": 'A figure, or "<5" (fewer than five families) or "x" (hidden '
                         "so that no such figure can be worked out)"}

REPORT_SCHEMA = {
    "type": "object",
    "required": ["report", "filters", "tables"],
    "properties": {
        "report": {"type": "string", "enum": list(services.REPORT_NAMES)},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "filters": {"type": "object", "properties": {
            "from": {"type": "string", "format": "date"},
            "to": {"type": "string", "format": "date"},
            "municipality": {"type": ["string", "null"]},
            "track": {"type": ["string", "null"], "enum": [*TRACKS, None]},
            "worker_id": {"type": ["integer", "null"]}}},
        "markers": {"type": "object", "additionalProperties": {"type": "string"}},
        "legend": {"type": "string"},
        "tables": {"type": "array", "items": {"$ref": "#/components/schemas/ReportTable"}},
    },
}
TABLE_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "title": {"type": "string"},
        "columns": {"type": "array", "items": {"type": "object", "properties": {
            "key": {"type": "string"}, "label": {"type": "string"},
            "kind": {"type": "string",
                     "enum": ["text", "count", "days", "percent", "number"]}}}},
        "rows": {"type": "array", "items": {"type": "object", "properties": {
            "key": {"type": "string"}, "label": {"type": "string"},
            "total": {"type": "boolean"},
            "values": {"type": "object", "additionalProperties": FIGURE}}}},
    },
}

_FILTERS = [
    {"name": "from", "in": "query", "schema": {"type": "string"},
     "description": "First month, 2026-01 (a date stands for its month)"},
    {"name": "to", "in": "query", "schema": {"type": "string"},
     "description": "Last month, 2026-12; the default period is the last 12 months"},
    {"name": "municipality", "in": "query", "schema": {"type": "string", "maxLength": 120},
     "description": "A municipality's name, one of the caller's"},
    {"name": "track", "in": "query", "schema": {"type": "string", "enum": list(TRACKS)}},
    {"name": "worker", "in": "query", "schema": {"type": "integer"},
     "description": "A family worker's id"},
]

OPENAPI = {
    "schemas": {"Report": REPORT_SCHEMA, "ReportTable": TABLE_SCHEMA},
    "paths": {
        "/reports": {
            "get": {"summary": "The names of the reports (coordinators and admins)",
                    "responses": {"200": {"description": "Report names", "content": {
                        "application/json": {"schema": {
                            "type": "array", "items": {"type": "string"}}}}},
                        **error_responses(401, 403)}},
        },
        "/reports/{name}": {
            "parameters": [{"name": "name", "in": "path", "required": True,
                            "schema": {"type": "string",
                                       "enum": list(services.REPORT_NAMES)}}],
            "get": {"summary": "A report's figures for the caller's municipalities; no "
                               "figure of fewer than five families",
                    "parameters": _FILTERS,
                    "responses": {"200": json_response("Report"),
                                  **error_responses(401, 403, 404, 422)}},
        },
    },
}
