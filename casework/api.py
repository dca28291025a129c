"""A family's whole case over JSON: closing its work and the right-of-access export.

The URLs are under /api/v1/families, beside the family's own API.
"""

import json

from flask import current_app
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import fields

from calendars.services import CalendarSettings
from casework import privacy
from core.api import API_ROOT, Blueprint, loads
from core.clock import get_clock
from core.errors import Conflict
from core.fields import Body, Boolean
from core.localtime import unit_zone
from core.roles import login_required
from families.api import visible_family
from families.representation import FamilySchema, MemberSchema, PlanSchema

bp = Blueprint("casework_api", __name__, url_prefix=API_ROOT)


class FamilyClosingSchema(Body):
    confirm = Boolean(description="True to close; otherwise a 409 says what would end")


class ClosingEffects(Body):
    visits = fields.Integer()
    group_places = fields.Integer()
    reminders = fields.Integer()


class FamilyClosedSchema(Body):
    """A closed family and what its closing ended."""

    family = fields.Nested(FamilySchema, required=True)
    ended = fields.Nested(ClosingEffects, required=True)


class FamilyExportSchema(Body):
    """Everything held on a family (right of access)."""

    exported_at = fields.String(required=True)
    family = fields.Dict(required=True)
    members = fields.List(fields.Nested(MemberSchema), required=True)
    plan = fields.Nested(PlanSchema, allow_none=True, required=True)
    track_changes = fields.List(fields.Dict(), required=True)
    availability = fields.List(fields.Dict(), required=True)
    visits = fields.List(fields.Dict(), required=True)
    group_places = fields.List(fields.Dict(), required=True)
    reminders = fields.List(fields.Dict(), required=True)
    feeds = fields.List(fields.Dict(), required=True)


def _closable_family(family_id):
    family = visible_family(family_id)
    privacy.check_may_close(current_user, family)
    return family


@bp.post("/families/<int:family_id>/close")
@bp.doc(summary="End the family's work: its future visits are cancelled, group seats"
                " end, pending messages stop")
@login_required
@loads(_closable_family)
@bp.arguments(FamilyClosingSchema)
@bp.response(200, FamilyClosedSchema)
@bp.errors(401, 403, 404, 409)
def close_family(family, fields):
    """End the family's work; without ``"confirm": true`` only say what it would end."""
    if not fields.get("confirm"):
        effects = privacy.closing_effects(family, get_clock().now())
        raise Conflict(_("Please confirm: closing cancels %(visits)d visits, ends"
                         " %(places)d group places and stops %(reminders)d messages.",
                         visits=effects.visits, places=effects.group_seats,
                         reminders=effects.reminders),
                       code="confirmation_required", details=[effects.as_dict()])
    effects = privacy.close_family(
        current_user, family, zone=unit_zone(), clock=get_clock(),
        calendar_settings=CalendarSettings.from_config(current_app.config))
    return {"family": family, "ended": effects}


@bp.get("/families/<int:family_id>/export")
@bp.doc(summary="Everything held on the family (right of access), as a JSON attachment")
@login_required
@loads(visible_family)
@bp.response(200, FamilyExportSchema)
@bp.errors(401, 403, 404)
def export_family(family):
    """Everything held on the family, as a JSON file (right of access)."""
    document = privacy.export_family(current_user, family, clock=get_clock())
    name = privacy.export_filename(family, get_clock().now())
    # A file as it was written: indented, and with the family's letters as they are.
    response = current_app.response_class(
        json.dumps(FamilyExportSchema().dump(document), ensure_ascii=False, indent=2),
        mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
