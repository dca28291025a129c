"""The caller and the staff list: GET /api/v1/me and GET /api/v1/users."""

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from accounts import services
from accounts.models import User
from core.api import error_responses, json_response
from core.errors import ValidationFailed
from core.roles import ADMIN, COORDINATOR, ROLES, SOCIAL_WORKER, login_required, roles_required

bp = Blueprint("accounts_api", __name__, url_prefix="/api/v1")


def user_json(user: User) -> dict:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "municipalities": [m.name for m in user.municipalities],
    }


@bp.get("/me")
@login_required
def me():
    return jsonify(user_json(current_user))


@bp.get("/users")
@roles_required(ADMIN, COORDINATOR, SOCIAL_WORKER)
def users():
    """Active staff, for those who assign workers to families and groups."""
    role = request.args.get("role")
    if role is not None and role not in ROLES:
        raise ValidationFailed(_("Unknown role."), fields={"role": _("Unknown role.")})
    return jsonify([user_json(user) for user in services.staff(role)])


USER_SCHEMA = {
    "type": "object",
    "required": ["id", "email", "name", "role", "municipalities"],
    "properties": {
        "id": {"type": "integer"},
        "email": {"type": "string"},
        "name": {"type": "string"},
        "role": {"type": "string", "enum": list(ROLES)},
        "municipalities": {"type": "array", "items": {"type": "string"}},
    },
}

OPENAPI = {
    "schemas": {"User": USER_SCHEMA},
    "paths": {
        "/me": {"get": {
            "summary": "The caller",
            "responses": {"200": json_response("User"), **error_responses(401)},
        }},
        "/users": {"get": {
            "summary": "Active staff, for assigning them",
            "parameters": [{"name": "role", "in": "query", "required": False,
                            "schema": {"type": "string", "enum": list(ROLES)}}],
            "responses": {"200": json_response("User", array=True),
                          **error_responses(401, 403, 422)},
        }},
    },
}
