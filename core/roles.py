"""Roles and the decorators that guard pages and API endpoints by role."""

from functools import wraps

from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.errors import Forbidden
from core.vocabulary import ROLES
from extensions import login_manager

ADMIN = "admin"
COORDINATOR = "coordinator"
FAMILY_WORKER = "family_worker"
SOCIAL_WORKER = "social_worker"



def roles_required(*roles):
    """Let only signed-in users with one of ``roles`` through; others get 403.

    Anonymous callers are sent to the login page (pages) or answered 401
    (API) by the login manager, before any role is looked at.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                raise Forbidden(_l("Your role does not allow this."))
            return view(*args, **kwargs)

        return wrapped

    return decorator


def login_required(view):
    """Any signed-in, active user."""
    return roles_required(*ROLES)(view)
