"""The web edge shared by every package: errors as pages or JSON, reading JSON,
locale, filters."""

import json
import unicodedata
from html import escape
from urllib.parse import unquote, urlsplit

from flask import (
    Response,
    current_app,
    has_request_context,
    jsonify,
    render_template,
    request,
    session,
)
from flask.json.provider import DefaultJSONProvider
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from core import vocabulary
from core.errors import BadRequest, DomainError, ValidationFailed
from core.input_checks import (
    SURROGATE,
    read_whole_number,
    surrogate_message,
    unstorable_text_message,
)
from core.unit_of_work import discard

API_PREFIX = "/api/"
# No body the API declares is nested more than a few levels (a group's series'
# dates); far deeper is an attack on the parser, refused before anything walks it.
MAX_JSON_DEPTH = 32
# The last page number a paged list takes; beyond it, offsets overflow the database.
MAX_PAGE = 100_000
SERVER_ERROR_MESSAGE = _l("Something went wrong on our side.")
# Sent when even the error page cannot be made (the database gone, a template
# failing): no template, no translation, no query.
FALLBACK_PAGE = """<!doctype html>
<html lang="fi"><head><meta charset="utf-8"><title>{status}</title></head>
<body><h1>{status}</h1><p lang="fi">{fi}</p><p lang="en">{en}</p></body></html>
"""
FALLBACK_SERVER_ERROR = ("Palvelussa tapahtui virhe. Yritä hetken kuluttua uudelleen.",
                         "Something went wrong on our side. Try again in a moment.")
FALLBACK_REFUSAL = ("Pyyntöä ei voitu käsitellä.", "The request could not be handled.")

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
    return error_answer(error.status, error.code, error.message, error.fields,
                        error.details)


def handle_http_exception(error: HTTPException):
    status = error.code or 500
    return error_answer(status, HTTP_CODES.get(status, "error"), _http_message(status))


def handle_unexpected(error: Exception):
    current_app.logger.exception("Unhandled error")
    return error_answer(500, "server_error", SERVER_ERROR_MESSAGE)


def error_answer(status: int, code: str, message, fields=None, details=None):
    """Answer an error: JSON on API paths, the error page elsewhere. Never raises.

    What the request wrote is rolled back first (an error answer never commits),
    so that after a failed flush the answer's own queries (the user, the locale)
    can run. When the answer still cannot be made, a plain one goes out instead:
    an exception that escaped here would reach the WSGI server, whose bare page
    is not an answer at all.
    """
    discard()
    if wants_json():
        try:
            return json_error(status, code, message, fields, details)
        except Exception:
            current_app.logger.exception("The JSON error could not be made")
            return _fallback_json(status, code)
    try:
        return render_template("error.html", status=status, message=message,
                               fields=fields or {}, details=details or []), status
    except Exception:
        current_app.logger.exception("The error page could not be made")
        return _fallback_page(status)


def _fallback_messages(status: int) -> tuple[str, str]:
    return FALLBACK_SERVER_ERROR if status >= 500 else FALLBACK_REFUSAL


def _fallback_json(status: int, code: str) -> Response:
    _finnish, english = _fallback_messages(status)
    body = json.dumps({"error": {"code": code, "message": english, "fields": {}}})
    return Response(body, status=status, mimetype="application/json")


def _fallback_page(status: int) -> Response:
    finnish, english = _fallback_messages(status)
    return Response(FALLBACK_PAGE.format(status=status, fi=escape(finnish),
                                         en=escape(english)),
                    status=status, mimetype="text/html")


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading with the limits of the API: the one place that
    decides what a JSON document may hold (request bodies, and whatever else
    ``app.json`` reads).

    A document nested too deeply is refused before Python's recursion limit is
    met (a RecursionError is not a ValueError: Flask would answer 500), and a
    lone surrogate (``"\\ud800"``) anywhere, in a key or a value, is refused
    naming its field: no database can store one, and PostgreSQL fails on it.
    """

    def loads(self, s, **kwargs):
        try:
            document = super().loads(s, **kwargs)
        except RecursionError:
            raise _too_deep() from None
        _check_document(document)
        return document


def _too_deep():
    return BadRequest(_("The JSON is nested more than %(n)d levels deep.", n=MAX_JSON_DEPTH),
                      code="invalid_json")


def _check_document(document) -> None:
    """Walk a parsed document without recursion: its depth and its text."""
    pending = [(document, 1, None)]
    while pending:
        value, depth, field = pending.pop()
        if isinstance(value, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise _too_deep()
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                name = field
                if name is None:  # the top level's keys name the fields
                    name = SURROGATE.sub("\ufffd", key) if isinstance(key, str) else ""
                if isinstance(key, str) and SURROGATE.search(key):
                    _refuse_surrogate(name)
                pending.append((item, depth + 1, name))
        elif isinstance(value, str) and SURROGATE.search(value):
            _refuse_surrogate(field or "")


def _refuse_surrogate(field: str):
    raise ValidationFailed(_("Check the fields."), fields={field: surrogate_message()})


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


def page_arg(maximum: int = MAX_PAGE) -> tuple[int, str | None]:
    """The ``page`` of a paged list's address: (the page, None), or (1, why the
    page given cannot be shown) for anything but a whole number from 1 to
    ``maximum``."""
    raw = request.args.get("page", "")
    if raw == "":
        return 1, None
    page = read_whole_number(raw, 1, maximum)
    if page is None:
        return 1, _("The page is a whole number from 1 to %(n)d.", n=maximum)
    return page, None


def _http_message(status: int):
    """The message of an HTTP error, translated when the answer is made."""
    messages = {
        400: _l("The request could not be read."),
        401: _l("Sign in first."),
        403: _l("You do not have access to this."),
        404: _l("The page or record was not found."),
        405: _l("This action is not available here."),
        413: _l("The request is too large."),
        415: _l("Send the request body as JSON."),
        429: _l("Too many requests. Try again in a moment."),
    }
    return messages.get(status, SERVER_ERROR_MESSAGE)


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


def current_locale() -> str:
    """The language of this response, for templates ("fi" or "en")."""
    return str(get_locale())


def init_app(app):
    """Register the JSON reader, the error handlers and template filters on the app."""
    app.json = JSONProvider(app)
    app.before_request(refuse_unstorable_text)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
    app.add_template_filter(datetime_filter, "datetime")
    app.add_template_filter(date_filter, "date")
    app.add_template_filter(time_filter, "time")
    # One filter for the label of every code: family.track|label("track").
    app.add_template_filter(vocabulary.label, "label")
    app.add_template_global(current_locale)


# A browser removes tabs and newlines anywhere in a URL and trims controls at
# its ends; it reads a backslash as "/" in http and https URLs.
_BACKSLASH = "\\"


def local_target(value: str | None, default: str) -> str:
    """A user-given address to return to, when it is a path of this site; else ``default``.

    The value is judged as a browser will read it, not as it is written: a
    browser removes tabs and newlines from a URL and reads a backslash as a
    slash, so "/", a tab and "/evil.example", or "/" and a backslash before
    "evil.example", lead to another host ("//evil.example"). Any such
    character, also percent-encoded or in a compatibility form (NFKC), refuses
    the value, and so does anything that is not a path starting with a single
    "/". This is the one check of every
    redirect to an address a request carries (``next`` and the like).
    """
    if not value or len(value) > 2000:
        return default
    forms = {value}
    decoded = value
    for _pass in range(3):  # %252F is %2F once decoded, and "/" after a second pass
        decoded = unquote(decoded)
        forms.add(decoded)
    forms |= {unicodedata.normalize("NFKC", form) for form in forms}
    for form in forms:
        if not form.startswith("/") or form.startswith("//"):
            return default
        if _BACKSLASH in form or any(unicodedata.category(character) == "Cc"
                                     for character in form):
            return default
        parts = urlsplit(form)
        if parts.scheme or parts.netloc:
            return default
    return value
