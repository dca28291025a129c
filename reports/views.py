"""The dashboard, the reports page and the reports' exports."""

import io

from flask import Blueprint, render_template, request, send_file
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user

from core.clock import get_clock
from core.errors import NotFound, ValidationFailed
from core.localtime import local_today, unit_zone
from core.roles import ADMIN, COORDINATOR, login_required, roles_required
from core.vocabulary import TRACKS, choices
from reports import charts, exports, services
from reports.forms import ReportFilterForm
from reports.suppression import MARKERS

bp = Blueprint("reports", __name__)


@bp.get("/")
@login_required
def dashboard():
    return render_template("reports/dashboard.html",
                           dashboard=services.dashboard(current_user, clock=get_clock()))


@bp.app_template_filter("figure")
def figure(value):
    """A figure as the locale writes numbers; markers and blanks as they are."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return format_decimal(value)


def legend() -> str:
    """What the markers of hidden figures mean, in words."""
    return _("%(small)s: fewer than five families. %(secondary)s: hidden so that no "
             "figure of fewer than five families can be read or worked out from it.",
             small=MARKERS["small"], secondary=MARKERS["secondary"])


def _filter_form() -> ReportFilterForm:
    form = ReportFilterForm(formdata=request.args)
    form.municipality.choices = choices(
        [(m.name, m.name) for m in services.reportable_municipalities(current_user)],
        _("All your municipalities"))
    form.worker.choices = choices(
        [(str(user.id), user.name) for user in services.reportable_workers()],
        _("All workers"))
    return form


def _read_filters(form=None) -> services.ReportFilters:
    try:
        return services.read_filters(request.args, current_user,
                                     today=local_today(get_clock().now()))
    except ValidationFailed as error:
        if form is not None:
            for argument, message in error.fields.items():
                getattr(form, form.FIELDS_BY_ARGUMENT[argument]).errors = [str(message)]
        raise


def describe_filters(filters: services.ReportFilters) -> str:
    """The filters in words, for the page and the top of an Excel export."""
    parts = [_("Period %(start)s – %(end)s", start=filters.start.isoformat(),
               end=filters.end.isoformat())]
    if filters.municipality:
        parts.append(filters.municipality.name)
    if filters.track:
        parts.append(str(TRACKS[filters.track]))
    if filters.worker:
        parts.append(filters.worker.name)
    return ", ".join(parts)


@bp.get("/reports/")
@roles_required(COORDINATOR, ADMIN)
def reports():
    """Every report for the chosen filters: tables, charts and export links."""
    form = _filter_form()
    try:
        filters = _read_filters(form)
    except ValidationFailed as error:
        return render_template("reports/reports.html", form=form, reports=None,
                               message=error.message), 422
    form.period_from.data = filters.start.strftime("%Y-%m")
    form.period_to.data = filters.end.strftime("%Y-%m")
    built = services.build_reports(current_user, filters, zone=unit_zone())
    services.record_read(current_user, [report.name for report in built], filters,
                         clock=get_clock())
    drawn = {(report.name, table.name): charts.render(
        table, f"chart-{report.name}-{table.name}".replace("_", "-"))
        for report in built for table in report.tables}
    return render_template("reports/reports.html", form=form, reports=built,
                           charts=drawn, filters=filters, legend=legend(),
                           filters_text=describe_filters(filters))


@bp.get("/reports/<report>/<table>.<any(csv, xlsx):file_format>")
@roles_required(COORDINATOR, ADMIN)
def export(report, table, file_format):
    """One table as a CSV or Excel download, named after the report and filters."""
    if report not in services.REPORT_NAMES:
        raise NotFound(_("No such report."))
    filters = _read_filters()
    built = services.build_reports(current_user, filters, zone=unit_zone(),
                                   names=(report,))[0]
    chosen = built.table(table)
    if chosen is None:
        raise NotFound(_("No such table."))
    if file_format == "csv":
        body = exports.to_csv(chosen)
    else:
        body = exports.to_xlsx(chosen, filters_text=describe_filters(filters),
                               legend=legend())
    services.record_read(current_user, [report], filters, clock=get_clock(), action="report.export",
                         detail={"table": table, "format": file_format})
    response = send_file(io.BytesIO(body),
                         mimetype=exports.FORMATS[file_format], as_attachment=True,
                         download_name=f"{filters.file_stem(report, table)}.{file_format}")
    response.headers["Cache-Control"] = "no-store"
    return response
