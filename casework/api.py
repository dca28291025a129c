"""A family's whole case over JSON: closing its work and the right-of-access export.

The URLs are under /api/v1/families, beside the family's own API.
"""

import json

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from calendars.services import CalendarSettings
from casework import privacy
from core.api import error_responses, json_body, json_request, json_response
from core.clock import get_clock
from core.errors import Conflict
from core.localtime import unit_zone
from core.roles import login_required
from core.schema import Boolean, Schema
from extensions import db
from families import services
from families.representation import family_json

bp = Blueprint("casework_api", __name__, url_prefix="/api/v1")


def _origin():
    return request.remote_addr


CLOSING = Schema("FamilyClosing", {
    "confirm": Boolean(description="True to close; otherwise a 409 says what would end"),
})


@bp.post("/families/<int:family_id>/close")
@login_required
def close_family(family_id):
    """End the family's work; without ``"confirm": true`` only say what it would end."""
    fields = CLOSING.parse(json_body())
    family = services.get_family(current_user, family_id, clock=get_clock(),
                                 origin=_origin())
    privacy.check_may_close(current_user, family)
    if not fields.get("confirm"):
        effects = privacy.closing_effects(family, get_clock().now())
        db.session.commit()  # the audit event of the read
        raise Conflict(_("Please confirm: closing cancels %(visits)d visits, ends"
                         " %(places)d group places and stops %(reminders)d messages.",
                         visits=effects.visits, places=effects.group_places,
                         reminders=effects.reminders),
                       code="confirmation_required", details=[effects.as_dict()])
    effects = privacy.close_family(
        current_user, family, zone=unit_zone(), clock=get_clock(), origin=_origin(),
        calendar_settings=CalendarSettings.from_config(current_app.config))
    db.session.commit()
    return jsonify({"family": family_json(family, current_user), "ended": effects.as_dict()})


@bp.get("/families/<int:family_id>/export")
@login_required
def export_family(family_id):
    """Everything held on the family, as a JSON file (right of access)."""
    family = services.get_family(current_user, family_id, clock=get_clock(),
                                 origin=_origin())
    document = privacy.export_family(current_user, family, clock=get_clock(),
                                     origin=_origin())
    name = privacy.export_filename(family, get_clock().now())
    db.session.commit()
    response = current_app.response_class(
        json.dumps(document, ensure_ascii=False, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


_FAMILY_ID = [{"name": "family_id", "in": "path", "required": True,
               "schema": {"type": "integer"}}]

OPENAPI = {
    "schemas": {
        "FamilyClosing": CLOSING.json_schema(),
        "FamilyClosed": {"type": "object", "required": ["family", "ended"], "properties": {
            "family": {"$ref": "#/components/schemas/Family"},
            "ended": {"type": "object", "properties": {
                "visits": {"type": "integer"}, "group_places": {"type": "integer"},
                "reminders": {"type": "integer"}}}}},
        "FamilyExport": {"type": "object", "required": [
            "exported_at", "family", "members", "plan", "track_changes", "availability",
            "visits", "group_places", "reminders", "feeds"], "properties": {
            "exported_at": {"type": "string"},
            "family": {"type": "object"},
            "members": {"type": "array", "items": {"$ref": "#/components/schemas/Member"}},
            "plan": {"oneOf": [{"$ref": "#/components/schemas/Plan"}, {"type": "null"}]},
            **{name: {"type": "array", "items": {"type": "object"}} for name in (
                "track_changes", "availability", "visits", "group_places", "reminders",
                "feeds")},
        }},
    },
    "paths": {
        "/families/{family_id}/close": {
            "parameters": _FAMILY_ID,
            "post": {"summary": "End the family's work: its future visits are cancelled,"
                                " group places end, pending messages stop",
                     "requestBody": json_request("FamilyClosing"),
                     "responses": {"200": json_response("FamilyClosed"),
                                   **error_responses(400, 401, 403, 404, 409, 422)}},
        },
        "/families/{family_id}/export": {
            "parameters": _FAMILY_ID,
            "get": {"summary": "Everything held on the family (right of access), as a"
                               " JSON attachment",
                    "responses": {"200": json_response("FamilyExport"),
                                  **error_responses(401, 403, 404)}},
        },
    },
}
