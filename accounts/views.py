"""Signing in and out, the user's own account page and the language switch."""

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_user, logout_user

from accounts import services
from accounts.forms import ActionForm, LanguageForm, LoginForm
from accounts.models import EMAIL_MAX, ApiToken
from core.clock import get_clock
from core.roles import login_required
from extensions import db, limiter

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to another host."""
    if target and target.startswith("/") and not target.startswith("//") \
            and "\\" not in target:
        return target
    return url_for("reports.dashboard")


def _failed(response) -> bool:
    """Only failed sign-ins count against the limits; a success redirects."""
    return response.status_code != 302


def _account_key() -> str:
    return "account:" + services.normalise_email(request.form.get("email", ""))[:EMAIL_MAX]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"],
               deduct_when=_failed, scope="login-address")
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"],
               deduct_when=_failed, key_func=_account_key, scope="login-account")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("reports.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        config = current_app.config
        user = services.authenticate(
            form.email.data, form.password.data, now=get_clock().now(),
            lockout=services.Lockout(config["LOGIN_LOCKOUT_FAILURES"],
                                     config["LOGIN_LOCKOUT_MINUTES"]))
        db.session.commit()  # the count of failures, or its reset
        if user is None:
            form.form_errors.append(_(
                "Wrong e-mail address or password. After several failed attempts in a "
                "row, signing in to the account is paused for %(minutes)d minutes.",
                minutes=config["LOGIN_LOCKOUT_MINUTES"]))
        else:
            session.clear()  # nothing of the anonymous session carries over
            session.permanent = True
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form), 200 if not form.errors else 422


@bp.errorhandler(RateLimitExceeded)
def too_many_sign_ins(_error):
    """The login page again, saying why, with 429; the API keeps its JSON error."""
    form = LoginForm()
    form.form_errors.append(_("Too many failed sign-ins. Wait a few minutes and try "
                              "again, or ask an administrator."))
    return render_template("accounts/login.html", form=form), 429


@bp.post("/logout")
@login_required
def logout():
    form = ActionForm()
    if form.validate_on_submit():
        logout_user()
        session.clear()
        flash(_("You have signed out."), "info")
    return redirect(url_for("accounts.login"))


@bp.post("/logout/everywhere")
@login_required
def logout_everywhere():
    """End every session of the account, on every device, this one included."""
    form = ActionForm()
    if form.validate_on_submit():
        services.end_sessions(current_user)
        db.session.commit()
        logout_user()
        session.clear()
        flash(_("You have signed out on every device."), "info")
        return redirect(url_for("accounts.login"))
    return redirect(url_for("accounts.account"))


@bp.post("/language")
def language():
    """Switch the language: for the account when signed in, else for this browser."""
    form = LanguageForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            current_user.locale = form.locale.data
            db.session.commit()
        else:
            session["locale"] = form.locale.data
    return redirect(_safe_next(request.form.get("next")))


def _account_page(new_token: str | None = None):
    tokens = db.session.scalars(db.select(ApiToken).where(
        ApiToken.user_id == current_user.id, ApiToken.revoked_at.is_(None)).order_by(
        ApiToken.created_at.desc()))
    response = make_response(render_template("accounts/account.html", tokens=list(tokens),
                                             action_form=ActionForm(), new_token=new_token,
                                             page_address=url_for("accounts.account")))
    if new_token:
        response.headers["Cache-Control"] = "no-store"  # nor kept by any cache
    return response


@bp.get("/account")
@login_required
def account():
    return _account_page()


@bp.post("/account/tokens")
@login_required
def create_token():
    """Make a token and show it in this very answer, once: only its hash is kept,
    and the secret never travels in the (signed, not encrypted) session cookie."""
    if ActionForm().validate_on_submit():
        secret = services.issue_api_token(current_user, clock=get_clock())
        db.session.commit()
        flash(_("A new API token was created. Copy it now: it is shown only once."),
              "success")
        return _account_page(new_token=secret)
    return redirect(url_for("accounts.account"))


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id):
    if ActionForm().validate_on_submit():
        services.revoke_api_token(current_user, token_id, clock=get_clock())
        db.session.commit()
        flash(_("The token was revoked."), "success")
    return redirect(url_for("accounts.account"))
