"""The web edge shared by every package: errors as pages or JSON, locale, filters."""

from flask import (
    current_app,
    has_request_context,
    jsonify,
    render_template,
    request,
    session,
)
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from core.errors import DomainError, ValidationFailed
from core.schema import unstorable_text_message
from extensions import db

API_PREFIX = "/api/"

HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large",
    415: "unsupported_media_type", 422: "validation_failed", 429: "too_many_requests",
    500: "server_error",
}


def wants_json() -> bool:
    """API paths answer JSON; pages answer HTML."""
    return request.path.startswith(API_PREFIX)


def json_error(status: int, code: str, message, fields=None, details=None):
    """The API's one error shape: {"error": {"code", "message", "fields"}}.

    ``details``, where a refusal has them (a booking's clashes), come along.
    """
    error = {"code": code, "message": str(message),
             "fields": {key: str(value) for key, value in (fields or {}).items()}}
    if details:
        error["details"] = details
    response = jsonify(error=error)
    response.status_code = status
    return response


def handle_domain_error(error: DomainError):
    if wants_json():
        return json_error(error.status, error.code, error.message, error.fields,
                          error.details)
    return render_template("error.html", status=error.status, message=error.message,
                           fields=error.fields, details=error.details), error.status


def handle_http_exception(error: HTTPException):
    status = error.code or 500
    if wants_json():
        return json_error(status, HTTP_CODES.get(status, "error"), _http_message(status))
    return render_template("error.html", status=status,
                           message=_http_message(status)), status


def handle_unexpected(error: Exception):
    current_app.logger.exception("Unhandled error")
    if wants_json():
        return json_error(500, "server_error", _("Something went wrong on our side."))
    return render_template("error.html", status=500,
                           message=_("Something went wrong on our side.")), 500


def refuse_unstorable_text():
    """Refuse a query or form value with a NUL character before anything reads it.

    PostgreSQL cannot store or even compare such text: a search or a form field
    holding one would otherwise fail in the database, as a 500.
    """
    for values in (request.args, request.form):
        for name, value in values.items(multi=True):
            if "\x00" in value or "\x00" in name:
                raise ValidationFailed(_("Check the fields."), fields={
                    name.replace("\x00", ""): unstorable_text_message()})


def _http_message(status: int) -> str:
    messages = {
        400: _("The request could not be read."),
        401: _("Sign in first."),
        403: _("You do not have access to this."),
        404: _("The page or record was not found."),
        405: _("This action is not available here."),
        413: _("The request is too large."),
        415: _("Send the request body as JSON."),
        429: _("Too many requests. Try again in a moment."),
    }
    return messages.get(status, _("Something went wrong on our side."))


def select_locale() -> str:
    """The user's own language, else the one chosen in this browser, else Finnish."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI commands and background jobs
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


# Dates and times in each language's usual form: "ti 3.12.2026 klo 17.00".
DATETIME_PATTERNS = {"fi": "EEE d.M.yyyy 'klo' H.mm", "en": "EEE d MMM yyyy, HH:mm"}
DATE_PATTERNS = {"fi": "d.M.yyyy", "en": "d MMM yyyy"}
WEEKDAY_DATE_PATTERNS = {"fi": "EEE d.M.yyyy", "en": "EEE d MMM yyyy"}
TIME_PATTERNS = {"fi": "H.mm", "en": "HH:mm"}


def _pattern(patterns) -> str:
    return patterns.get(str(get_locale()), patterns["en"])


def datetime_filter(instant):
    """An instant in the unit's zone (Flask-Babel's timezone), as the locale writes it."""
    if instant is None:
        return ""
    return format_datetime(instant, _pattern(DATETIME_PATTERNS))


def date_filter(day, weekday=False):
    if day is None:
        return ""
    return format_date(day, _pattern(WEEKDAY_DATE_PATTERNS if weekday else DATE_PATTERNS))


def time_filter(instant):
    if instant is None:
        return ""
    return format_datetime(instant, _pattern(TIME_PATTERNS))


def render_and_commit(template: str, status: int = 200, **context):
    """Render a page, then commit what the request wrote (its audit events).

    Committing first would expire every object the page shows, and rendering
    would then load each one again, a query apiece.
    """
    page = render_template(template, **context)
    db.session.commit()
    return page, status


def current_locale() -> str:
    """The language of this response, for templates ("fi" or "en")."""
    return str(get_locale())


def init_app(app):
    """Register the error handlers and template filters on the app."""
    app.before_request(refuse_unstorable_text)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
    app.add_template_filter(datetime_filter, "datetime")
    app.add_template_filter(date_filter, "date")
    app.add_template_filter(time_filter, "time")
    app.add_template_global(current_locale)
