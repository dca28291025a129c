"""What every JSON endpoint shares: reading bodies and the OpenAPI document."""

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _

from core.errors import BadRequest

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
    """The request's JSON object, or a 400 that says why it could not be read."""
    if not request.is_json:
        raise BadRequest(_("Send the request body as JSON (Content-Type:"
                           " application/json)."), code="invalid_json")
    payload = request.get_json(silent=True)
    if payload is None:
        raise BadRequest(_("The request body is not valid JSON."), code="invalid_json")
    if not isinstance(payload, dict):
        raise BadRequest(_("The request body must be a JSON object."), code="invalid_json")
    return payload


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
    app.extensions["openapi"] = document


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(current_app.extensions["openapi"])


OPENAPI["paths"]["/openapi.json"] = {"get": {
    "summary": "This document", "security": [],
    "responses": {"200": {"description": "The OpenAPI document"}}}}
