"""What every JSON endpoint shares: reading bodies and queries, the OpenAPI document."""

from datetime import date

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _

from core.errors import BadRequest, ValidationFailed
from core.localtime import plausible_day
from core.schema import MAX_ID, read_whole_number, years_message

bp = Blueprint("core_api", __name__, url_prefix="/api/v1")

OPENAPI = {"paths": {}, "schemas": {}}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message", "fields"],
        "properties": {
            "code": {"type": "string"},
            "message": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }},
}


def json_body():
    """The request's JSON object, or a 400 that says why it could not be read.

    The app's JSON provider (core/http.py) refuses a document nested too deeply
    or holding a lone surrogate; MAX_CONTENT_LENGTH a body too large (413).
    """
    if not request.is_json:
        raise BadRequest(_("Send the request body as JSON (Content-Type:"
                           " application/json)."), code="invalid_json")
    payload = request.get_json(silent=True)
    if payload is None:
        raise BadRequest(_("The request body is not valid JSON."), code="invalid_json")
    if not isinstance(payload, dict):
        raise BadRequest(_("The request body must be a JSON object."), code="invalid_json")
    return payload


def _bad_query(name, message):
    return ValidationFailed(_("Check the query parameters."), fields={name: message})


def query_choice(name: str, codes) -> str | None:
    """A query parameter that is one of some codes, or None when absent."""
    value = request.args.get(name) or None
    if value is not None and value not in codes:
        raise _bad_query(name, _("Unknown code."))
    return value


def query_int(name: str, default: int | None = None, *, low: int = 1,
              high: int = MAX_ID, required: bool = False) -> int | None:
    """A whole-number query parameter within bounds."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        if required:
            raise _bad_query(name, _("This field is required."))
        return default
    number = read_whole_number(raw, low, high)
    if number is None:
        raise _bad_query(name, _("Expected a whole number from %(low)d to %(high)d.",
                                 low=low, high=high))
    return number


def query_date(name: str, default: date | None = None) -> date:
    """A date query parameter (2026-12-01) in the years the app takes."""
    raw = request.args.get(name)
    if raw is None and default is not None:
        return default
    try:
        day = date.fromisoformat(raw or "")
    except ValueError:
        raise _bad_query(name, _("Expected a date such as 2026-12-01.")) from None
    if not plausible_day(day):
        raise _bad_query(name, years_message())
    return day


def error_responses(*statuses) -> dict:
    """OpenAPI response entries for error statuses, all in the one error shape."""
    return {str(status): {"description": "Error",
                          "content": {"application/json": {
                              "schema": {"$ref": "#/components/schemas/Error"}}}}
            for status in statuses}


def json_response(schema_ref: str, description="OK", *, array=False) -> dict:
    """An OpenAPI response entry for a JSON object or a list of them."""
    schema = {"$ref": f"#/components/schemas/{schema_ref}"}
    if array:
        schema = {"type": "array", "items": schema}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def json_request(schema_ref: str) -> dict:
    """An OpenAPI request body entry for a JSON object."""
    return {"required": True, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


def register_openapi(app, *parts) -> None:
    """Assemble the document from each package's ``{"paths", "schemas"}`` part."""
    document = {
        "openapi": "3.1.0",
        "info": {"title": "Perhetyö scheduling API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "schemas": {"Error": ERROR_SCHEMA},
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": {},
    }
    for part in (OPENAPI, *parts):
        document["paths"].update(part["paths"])
        document["components"]["schemas"].update(part["schemas"])
    # Every body is read the same way (json_body and the app's JSON provider): one
    # that cannot be read is a 400, one larger than MAX_CONTENT_LENGTH a 413.
    for operations in document["paths"].values():
        for operation in operations.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                for status, entry in error_responses(400, 413).items():
                    operation.setdefault("responses", {}).setdefault(status, entry)
    app.extensions["openapi"] = document


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(current_app.extensions["openapi"])


OPENAPI["paths"]["/openapi.json"] = {"get": {
    "summary": "This document", "security": [],
    "responses": {"200": {"description": "The OpenAPI document"}}}}
