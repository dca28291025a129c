"""Reports over JSON: GET /api/v1/reports/<name>, the same figures as the page."""

from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import fields

from core.api import API_ROOT, Blueprint, loads
from core.clock import get_clock
from core.errors import NotFound
from core.fields import Body, Choice, Query, With
from core.localtime import local_today, unit_zone
from core.roles import ADMIN, COORDINATOR, roles_required
from core.vocabulary import TRACKS
from reports import services
from reports.suppression import MARKERS
from reports.views import legend

bp = Blueprint("reports_api", __name__, url_prefix=API_ROOT)

COLUMN_KINDS = ("text", "count", "days", "percent", "number")

# Read by services.read_filters, the page's reader too, which says what is wrong
# with each; declared here for the document.
ReportFilterQuery = Query.from_dict({
    "from": fields.String(metadata={
        "description": "First month, 2026-01 (a date stands for its month)"}),
    "to": fields.String(metadata={
        "description": "Last month, 2026-12; the default period is the last 12 months"}),
    "municipality": fields.String(metadata={
        "maxLength": services.FILTER_TEXT_MAX,
        "description": "A municipality's name, one of the caller's"}),
    "track": fields.String(metadata={"enum": list(TRACKS)}),
    "worker": fields.String(metadata={"type": "integer",
                                      "description": "A family worker's id"}),
}, name="ReportFilterQuery")


class Figure(fields.Raw):
    """A figure as the report shows it: a number, nothing, or a marker."""

    def __init__(self, **kwargs):
        super().__init__(metadata={
            "oneOf": [{"type": "number"}, {"type": "null"},
                      {"type": "string", "enum": list(MARKERS.values())}],
            "description": 'A figure, or "<5" (fewer than five families) or "x" (hidden'
                           " so that no such figure can be worked out)"}, **kwargs)


class ReportColumn(Body):
    key = fields.String()
    label = fields.String()
    kind = Choice(COLUMN_KINDS)


class ReportRow(Body):
    key = fields.String()
    label = fields.String()
    total = fields.Boolean()
    values = fields.Dict(keys=fields.String(), values=Figure())


class ReportTableSchema(Body):
    """One table of a report, with its columns and rows."""

    name = fields.String()
    title = fields.String()
    columns = fields.List(fields.Nested(ReportColumn))
    rows = fields.List(fields.Nested(ReportRow))


class ReportFilters(Body):
    """The filters a report was made for."""

    # Read from ``ReportFilters.as_json``, which names them as the query does.
    start = fields.String(attribute="from", data_key="from", metadata={"format": "date"})
    end = fields.String(attribute="to", data_key="to", metadata={"format": "date"})
    municipality = fields.String(allow_none=True)
    track = Choice(TRACKS, allow_none=True)
    worker_id = fields.Integer(allow_none=True)


class ReportSchema(Body):
    """A report's tables for the filters: dumps ``With(report, filters=filters)``."""

    report = Choice(services.REPORT_NAMES, required=True, attribute="name")
    title = fields.String()
    description = fields.String()
    filters = fields.Nested(ReportFilters, required=True)
    markers = fields.Dict(keys=fields.String(), values=fields.String())
    legend = fields.String()
    tables = fields.List(fields.Nested(ReportTableSchema), required=True)

    def read_filters(self, report):
        return report.filters.as_json()

    def read_markers(self, report):
        return {marker: kind for kind, marker in MARKERS.items()}

    def read_legend(self, report):
        return legend()

    def read_tables(self, report):
        return [table.as_json() for table in report.tables]


def _report_name(name):
    if name not in services.REPORT_NAMES:
        raise NotFound(_("No such report."))
    return name


@bp.get("/reports")
@bp.doc(summary="The names of the reports (coordinators and admins)",
        responses={"200": {"description": "Report names", "content": {
            "application/json": {"schema": {"type": "array", "items": {
                "type": "string", "enum": list(services.REPORT_NAMES)}}}}}})
@roles_required(COORDINATOR, ADMIN)
@bp.response(200, description="Report names")
@bp.errors(401, 403)
def list_reports():
    """The names of the reports."""
    return list(services.REPORT_NAMES)


@bp.get("/reports/<name>", parameters=[{
    "name": "name", "in": "path", "required": True,
    "schema": {"type": "string", "enum": list(services.REPORT_NAMES)}}])
@bp.doc(summary="A report's figures for the caller's municipalities; no figure of"
                " fewer than five families")
@roles_required(COORDINATOR, ADMIN)
@loads(_report_name)
@bp.arguments(ReportFilterQuery, location="query")
@bp.response(200, ReportSchema)
@bp.errors(401, 403, 404)
def get_report(name, arguments):
    """One report's tables for the filters, with hidden figures as "<5" and "x"."""
    filters = services.read_filters(arguments, current_user,
                                    today=local_today(get_clock().now()))
    report = services.build_reports(current_user, filters, zone=unit_zone(),
                                    names=(name,))[0]
    services.record_read(current_user, [name], filters, clock=get_clock())
    return With(report, filters=filters)
