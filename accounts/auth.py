"""How a request is tied to a user: the session cookie or a bearer token."""

from flask import current_app, redirect, request, url_for
from flask_babel import lazy_gettext as _l

from accounts.models import User
from accounts.services import find_api_token, two_factor_required, user_for_token
from core.clock import get_clock
from core.http import json_error, wants_json
from core.throttle import BEARER_FAILURES
from extensions import db

# Where a request over the limit of wrong bearer tokens keeps how long to wait.
BEARER_WAIT = "perhetyo.bearer_wait"


def load_user(session_id: str):
    """The signed-in user of a session, if still active and the session not ended
    by a "sign out everywhere" or a new password since.

    A session of someone whose role requires two-factor sign-in and who has not
    set it up (made before the setting, or since an admin's reset) is no
    session: they sign in again and set it up first.
    """
    user_id, _, generation = session_id.partition(":")
    if not user_id.isdigit() or not generation.isdigit() or len(user_id) > 10:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or str(user.session_generation) != generation:
        return None
    if not user.two_factor_enrolled and two_factor_required(
            user, current_app.config["TWO_FACTOR_REQUIRED_ROLES"]):
        return None
    return user


def load_user_from_request(req):
    """A user from an ``Authorization: Bearer <token>`` header, for the API.

    A secret that no token ever had is a guess, counted against the caller's
    address (core.throttle); an address over the limit waits, whatever it
    sends: it stays anonymous, and ``unauthorized`` answers 429 with
    Retry-After. A revoked token or one of a closed account is refused (401)
    without counting: it is an old script, not a guess.
    """
    header = req.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    config, address = current_app.config, req.remote_addr
    wait = BEARER_FAILURES.wait(config, address)
    if wait is not None:
        req.environ[BEARER_WAIT] = wait
        return None
    token = find_api_token(secret.strip())
    if token is None:
        BEARER_FAILURES.fail(config, address)
        return None
    return user_for_token(token, clock=get_clock())


def unauthorized():
    """Anonymous callers: JSON 401 on the API, the login page elsewhere; 429 for
    an address that sent too many wrong bearer tokens."""
    wait = request.environ.get(BEARER_WAIT)
    if wait is not None:
        response = json_error(429, "too_many_requests", _l(
            "Too many wrong tokens from this address. Try again in a moment."))
        response.headers["Retry-After"] = str(wait)
        return response
    if wants_json():
        return json_error(401, "unauthorized", _l("Sign in or send a bearer token."))
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def init_app(login_manager):
    """Wire the login manager's callbacks."""
    login_manager.user_loader(load_user)
    login_manager.request_loader(load_user_from_request)
    login_manager.unauthorized_handler(unauthorized)
    login_manager.session_protection = "strong"
