"""The caller and the staff list: GET /api/v1/me and GET /api/v1/users."""

from flask_login import current_user
from marshmallow import fields

from accounts import services
from core.api import API_ROOT, Blueprint
from core.fields import Body, Choice, Query, names
from core.roles import ADMIN, COORDINATOR, ROLES, SOCIAL_WORKER, login_required, roles_required

bp = Blueprint("accounts_api", __name__, url_prefix=API_ROOT)


class UserSchema(Body):
    """A member of staff as the API shows them."""

    id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    role = Choice(ROLES, required=True)
    municipalities = fields.List(fields.String(), required=True, metadata={
        "description": "The names of the user's municipalities"})

    def read_municipalities(self, user):
        return names(user.municipalities)


class StaffQuery(Query):
    role = Choice(ROLES)


@bp.get("/me")
@bp.doc(summary="The caller")
@login_required
@bp.response(200, UserSchema)
@bp.errors(401)
def me():
    """The signed-in caller."""
    return current_user._get_current_object()


@bp.get("/users")
@bp.doc(summary="Active staff, for assigning them")
@roles_required(ADMIN, COORDINATOR, SOCIAL_WORKER)
@bp.arguments(StaffQuery, location="query", as_kwargs=True)
@bp.response(200, UserSchema(many=True))
@bp.errors(401, 403)
def users(role=None):
    """Active staff, for those who assign workers to families and groups."""
    return services.staff(role)
