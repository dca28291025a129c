"""What every JSON endpoint shares: the API (flask-smorest) that parses bodies and
queries, serialises answers and documents both; the guard of changes; the document."""

from functools import wraps
from http import HTTPStatus
from urllib.parse import urlsplit

import flask_smorest
from flask import current_app, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from marshmallow import Schema
from marshmallow import fields as ma_fields
from webargs.flaskparser import FlaskParser
from wtforms import ValidationError

from core.errors import BadRequest, Forbidden, ValidationFailed
from core.fields import field_messages
from core.http import API_PREFIX

API_ROOT = "/api/v1"


class ErrorDetail(Schema):
    """The inside of every error answer."""

    code = ma_fields.String(required=True)
    message = ma_fields.String(required=True)
    # "fields" names the schema's own fields in marshmallow: declared by its key.
    field_messages = ma_fields.Dict(keys=ma_fields.String(), values=ma_fields.String(),
                                    required=True, data_key="fields")
    details = ma_fields.List(ma_fields.Dict())


class ErrorSchema(Schema):
    """The API's one error shape: {"error": {"code", "message", "fields"}}."""

    error = ma_fields.Nested(ErrorDetail, required=True)


class Parser(FlaskParser):
    """Webargs reading bodies and queries as the API always has: a body that is
    not a JSON object is a 400 ``invalid_json`` (``json_body``), and a value
    that does not fit its field a 422 ``validation_failed`` naming the field."""

    def load_json(self, req, schema):
        """The body, read as every API body is read (``json_body``)."""
        return json_body()

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        """Raise the domain error that ``core.http`` answers in the one shape."""
        (location, messages), = error.messages.items()
        if not isinstance(messages, dict) or set(messages) == {"_schema"}:
            # The body as a whole is not an object (json_body refuses it first).
            raise BadRequest(_("The request body must be a JSON object."),
                             code="invalid_json")
        message = _("Check the query parameters.") if location in ("query", "querystring") \
            else _("Check the fields.")
        raise ValidationFailed(message, fields=field_messages(messages))


class Blueprint(flask_smorest.Blueprint):
    """A blueprint of the API: its arguments are read by our ``Parser``."""

    ARGUMENTS_PARSER = Parser()

    def errors(self, *statuses):
        """Document error answers of an operation, all in the one error shape."""
        def decorator(view):
            for status in statuses:
                view = self.alt_response(status, response=HTTPStatus(status).name)(view)
            return view
        return decorator


class Api(flask_smorest.Api):
    """flask-smorest without its own error answers: the app's one error function
    (``core.http.error_answer``) answers every error, pages and API alike."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        """Leave the app's handler of HTTP errors in place (core/http.py)."""


def loads(loader):
    """Put ``loader``'s object in place of a view's path ids, before the body is read.

    ``loader(**path_ids)`` loads the object and checks the caller's access (404
    for one that is missing or foreign, 403 for one they may not change): so a
    foreign object is refused whatever the body holds. Sits between the route
    and ``@bp.arguments``.
    """
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            return view(*args, loader(**kwargs))
        return wrapped
    return decorator


def checks(check):
    """Run ``check()`` (the caller's right to do this at all, 403) before the body
    is read: a refusal does not depend on what the body holds."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            check()
            return view(*args, **kwargs)
        return wrapped
    return decorator


def check_fields(problems: dict) -> None:
    """Refuse a body (422 ``validation_failed``, "Check the fields.") with a message
    for each field in ``problems``; nothing when there are none."""
    if problems:
        raise ValidationFailed(_("Check the fields."), fields=problems)


def refuse_fields(body: dict, **refusals) -> None:
    """Refuse a body that gives a field this route does not take, with why for each
    one it gives: ``refuse_fields(fields, status=_("A new group starts as a draft."))``."""
    check_fields({name: message for name, message in refusals.items() if name in body})


def created(answer, endpoint: str, **values):
    """A 201 answer with the address of what it made (Location)."""
    return answer, 201, {"Location": url_for(endpoint, **values)}


bp = Blueprint("core_api", __name__, url_prefix=API_ROOT)

def _not_json() -> BadRequest:
    return BadRequest(_("Send the request body as JSON (Content-Type: application/json)."),
                      code="invalid_json")


def json_body():
    """The request's JSON object, or a 400 that says why it could not be read.

    The app's JSON provider (core/http.py) refuses a document nested too deeply
    or holding a lone surrogate; MAX_CONTENT_LENGTH a body too large (413).
    """
    if not request.is_json:
        raise _not_json()
    payload = request.get_json(silent=True)
    if payload is None:
        raise BadRequest(_("The request body is not valid JSON."), code="invalid_json")
    if not isinstance(payload, dict):
        raise BadRequest(_("The request body must be a JSON object."), code="invalid_json")
    return payload


# The methods that change something; GET, HEAD and OPTIONS must not.
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER = "X-CSRFToken"


def is_bearer_request() -> bool:
    """Whether the request names its caller in an ``Authorization: Bearer`` header.

    A page of another site cannot make a browser send that header (it would
    need CORS, which this app never grants), so such a request is no forgery.
    """
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(secret.strip())


def _has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get(
        "Transfer-Encoding", "").lower()


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _same_origin(origin: str) -> bool:
    """Whether an ``Origin`` header names this app: the host the request came to,
    or the public address of the app."""
    if not origin or origin == "null":
        return False
    sent = _origin(origin)
    return sent in (_origin(request.host_url),
                    _origin(current_app.config.get("PUBLIC_BASE_URL") or ""))


def guard_unsafe_api_requests():
    """Every POST, PUT, PATCH and DELETE under /api/, in one place, before its view.

    A body must be JSON (400 otherwise, as `json_body` answers): a form or
    text/plain body is what
    another site's page can send without asking. A caller signed in by the
    session cookie must also send the page's CSRF token in ``X-CSRFToken``,
    and an ``Origin`` other than this app's is refused outright (403): the
    cookie travels with requests that other sites' pages make. Bearer
    requests carry their own proof and are left as they are.
    """
    if request.method not in UNSAFE_METHODS or not request.path.startswith(API_PREFIX):
        return None
    if _has_body() and not request.is_json:
        raise _not_json()
    if is_bearer_request() or not current_user.is_authenticated:
        return None  # a bearer token, or no caller at all: the route answers 401
    origin = request.headers.get("Origin")
    if origin is not None and not _same_origin(origin):
        raise Forbidden(_("Requests from another site are refused."), code="cross_origin")
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        try:
            validate_csrf(request.headers.get(CSRF_HEADER))
        except ValidationError:
            raise Forbidden(_("Send the page's CSRF token in the %(header)s header, or a"
                              " bearer token.", header=CSRF_HEADER),
                            code="csrf_failed") from None
    return None


def error_responses(*statuses) -> dict:
    """OpenAPI response entries for error statuses, all in the one error shape."""
    return {str(status): {"description": "Error",
                          "content": {"application/json": {
                              "schema": {"$ref": "#/components/schemas/Error"}}}}
            for status in statuses}


def make_api(app) -> Api:
    """The app's API: the blueprints registered through it are documented."""
    app.config.setdefault("API_TITLE", "Perhetyö scheduling API")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    return Api(app)


def register_openapi(app, api: Api) -> None:
    """Assemble the document from what ``api`` declares, under the API's root, with
    the security schemes and the answers every operation of a kind may give."""
    declared = api.spec.to_dict()
    components = declared.get("components", {})
    document = {
        "openapi": "3.1.0",
        "info": {"title": "Perhetyö scheduling API", "version": "1"},
        "servers": [{"url": API_ROOT}],
        "components": {
            **{key: value for key, value in components.items() if key != "schemas"},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "A personal API token. Failed attempts are"
                                          " limited per address (429 with"
                                          " Retry-After)."},
                "session": {"type": "apiKey", "in": "cookie", "name": "session",
                            "description": "The pages' session. POST, PUT, PATCH and"
                                           " DELETE also need the page's CSRF token in"
                                           " the X-CSRFToken header and no Origin of"
                                           " another site (403 otherwise)."},
            },
            "schemas": dict(components.get("schemas", {})),
        },
        "security": [{"bearer": []}, {"session": []}],
        "tags": declared.get("tags", []),
        "paths": {path.removeprefix(API_ROOT): operations
                  for path, operations in declared.get("paths", {}).items()},
    }
    # Every body is read the same way (json_body and the app's JSON provider): one
    # that cannot be read is a 400, one larger than MAX_CONTENT_LENGTH a 413.
    # Every change may be refused as a forgery (403, guard_unsafe_api_requests)
    # and any body that is not JSON is refused (400); every signed operation may
    # meet the limit of failed bearer tokens (429).
    for operations in document["paths"].values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or method == "parameters":
                continue
            statuses = []
            if "requestBody" in operation:
                statuses += [400, 413]
            if method.upper() in UNSAFE_METHODS:
                statuses += [400, 403]
            if operation.get("security", document["security"]):
                statuses += [429]
            for status, entry in error_responses(*statuses).items():
                operation.setdefault("responses", {}).setdefault(status, entry)
    app.extensions["openapi"] = document


@bp.get("/openapi.json")
@bp.doc(summary="This document", security=[],
        responses={"200": {"description": "The OpenAPI document"}})
def openapi_document():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(current_app.extensions["openapi"])
