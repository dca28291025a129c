"""Signing in (password, then a second factor where there is one) and out, the
user's own account page with its two-factor set-up, and the language switch."""

from datetime import timedelta

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

from accounts import services, two_factor
from accounts.forms import ActionForm, CodeForm, LanguageForm, LoginForm
from accounts.models import EMAIL_MAX, ApiToken, User
from core.clock import get_clock
from core.forms import attempt
from core.http import local_target
from core.roles import login_required
from core.unit_of_work import discard, keep_regardless
from extensions import db, limiter

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to another host."""
    return local_target(target, url_for("reports.dashboard"))


def _failed(response) -> bool:
    """Only failed sign-ins count against the limits; a success redirects."""
    return response.status_code != 302


# Between the password and the second factor, the session holds only this: the
# account (with its session generation) and where to go after. Flask-Login
# sees no user until the second step is done.
PENDING_KEY = "sign_in_pending"
PENDING_MINUTES = 10


def _account_key() -> str:
    """The account a sign-in step is about: the e-mail typed, or the pending one."""
    if request.endpoint == "accounts.login":
        email = request.form.get("email", "")
    else:
        user = _pending_user()
        email = user.email if user is not None else ""
    return "account:" + services.normalise_email(email)[:EMAIL_MAX]


def _sign_in_limits(view):
    """The sign-in limits, shared by the password step and the second factor:
    a wrong code counts like a wrong password, per address and per account."""
    view = limiter.shared_limit(
        lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], scope="login-account",
        methods=["POST"], deduct_when=_failed, key_func=_account_key)(view)
    return limiter.shared_limit(
        lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], scope="login-address",
        methods=["POST"], deduct_when=_failed)(view)


def required_roles():
    """The setting TWO_FACTOR_REQUIRED_ROLES, as services.two_factor_required takes it."""
    return current_app.config["TWO_FACTOR_REQUIRED_ROLES"]


def _secret_keys() -> tuple[str, ...]:
    """SECRET_KEY, then its fallbacks: the keys that seal and open TOTP secrets."""
    config = current_app.config
    return (config["SECRET_KEY"], *(config.get("SECRET_KEY_FALLBACKS") or ()))


def _lockout() -> services.Lockout:
    config = current_app.config
    return services.Lockout(config["LOGIN_LOCKOUT_FAILURES"], config["LOGIN_LOCKOUT_MINUTES"])


def _start_pending(user: User, target: str) -> None:
    until = get_clock().now() + timedelta(minutes=PENDING_MINUTES)
    session[PENDING_KEY] = {"user": user.get_id(), "next": target,
                            "until": until.timestamp()}


def _pending_user() -> User | None:
    """The account that has passed the password step in this session, if still valid."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    until = pending.get("until")
    if not isinstance(until, int | float) or get_clock().now().timestamp() > until:
        return None
    user_id, _sep, generation = str(pending.get("user", "")).partition(":")
    if not user_id.isdigit() or len(user_id) > 10:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or str(user.session_generation) != generation:
        return None
    return user


def _finish_sign_in(user: User) -> str:
    """Sign the user in for real; return where they were going."""
    target = _safe_next((session.get(PENDING_KEY) or {}).get("next"))
    session.clear()  # the pending state and anything else of before
    session.permanent = True
    login_user(user)
    return target


def _wrong_sign_in(form) -> None:
    form.form_errors.append(_(
        "Wrong e-mail address or password. After several failed attempts in a "
        "row, signing in to the account is paused for %(minutes)d minutes.",
        minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"]))


@bp.route("/login", methods=["GET", "POST"])
@_sign_in_limits
def login():
    if current_user.is_authenticated:
        return redirect(url_for("reports.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data,
                                     now=get_clock().now(), lockout=_lockout())
        keep_regardless()  # the count of failures (and a lock), or its reset
        if user is None:
            _wrong_sign_in(form)
        else:
            target = _safe_next(request.args.get("next"))
            session.clear()  # nothing of the anonymous session carries over
            if user.two_factor_enrolled:
                _start_pending(user, target)
                return redirect(url_for(".second_factor"))
            if services.two_factor_required(user, required_roles()):
                _start_pending(user, target)
                return redirect(url_for(".two_factor_setup"))
            session.permanent = True
            login_user(user)
            return redirect(target)
    return render_template("accounts/login.html", form=form), 200 if not form.errors else 422


@bp.route("/login/two-factor", methods=["GET", "POST"])
@_sign_in_limits
def second_factor():
    """The second step of signing in: a code from the app, or a recovery code."""
    if current_user.is_authenticated:
        return redirect(url_for("reports.dashboard"))
    user = _pending_user()
    if user is None:
        flash(_("Sign in again: the sign-in was not finished in time."), "info")
        return redirect(url_for(".login"))
    if not user.two_factor_enrolled:
        return redirect(url_for(".two_factor_setup"))
    form = CodeForm()
    if form.validate_on_submit():
        used = services.verify_second_factor(
            user, form.code.data, secret_key=_secret_keys(),
            now=get_clock().now(), lockout=_lockout())
        keep_regardless()  # the code taken, or the failure counted
        if used is not None:
            left = services.recovery_codes_left(user) if used == "recovery" else None
            target = _finish_sign_in(user)
            if left is not None:
                flash(_("You signed in with a recovery code. %(n)d unused codes are "
                        "left: make new ones on your account page.", n=left), "warning")
            return redirect(target)
        form.code.errors = [*form.code.errors, _("The code is not right, or it was "
                                                 "already used.")]
    return render_template("accounts/second_factor.html", form=form), \
        422 if form.errors else 200


@bp.errorhandler(RateLimitExceeded)
def too_many_sign_ins(_error):
    """The login page again, saying why, with 429; the API keeps its JSON error."""
    form = CodeForm() if request.endpoint == "accounts.second_factor" else LoginForm()
    form.form_errors.append(_("Too many failed sign-ins. Wait a few minutes and try "
                              "again, or ask an administrator."))
    template = "accounts/second_factor.html" if isinstance(form, CodeForm) \
        else "accounts/login.html"
    return render_template(template, form=form), 429


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
        else:
            session["locale"] = form.locale.data
    return redirect(_safe_next(request.form.get("next")))


def _account_page(new_token: str | None = None):
    tokens = db.session.scalars(db.select(ApiToken).where(
        ApiToken.user_id == current_user.id, ApiToken.revoked_at.is_(None)).order_by(
        ApiToken.created_at.desc()))
    response = make_response(render_template(
        "accounts/account.html", tokens=list(tokens), action_form=ActionForm(),
        new_token=new_token, page_address=url_for("accounts.account"),
        recovery_codes_left=services.recovery_codes_left(current_user),
        two_factor_required=services.two_factor_required(current_user, required_roles())))
    if new_token:
        response.headers["Cache-Control"] = "no-store"  # nor kept by any cache
    return response


@bp.get("/account")
@login_required
def account():
    return _account_page()


def _enrolling_user() -> User | None:
    """Who sets up two-factor sign-in here: the signed-in user, or the one between
    the password step and a second factor their role requires."""
    if current_user.is_authenticated:
        return current_user
    return _pending_user()


@bp.route("/account/two-factor", methods=["GET", "POST"])
def two_factor_setup():
    """Set up two-factor sign-in: scan the QR code, confirm with a code, keep the
    recovery codes. Also the page a person whose role requires it reaches right
    after the password step; they are signed in only once it is done."""
    user = _enrolling_user()
    if user is None:
        return redirect(url_for(".login"))
    if user.two_factor_enrolled:
        if current_user.is_authenticated:
            flash(_("Two-factor sign-in is already set up."), "info")
            return redirect(url_for(".account"))
        return redirect(url_for(".second_factor"))
    secret_key = _secret_keys()
    form = CodeForm()
    if form.validate_on_submit():
        codes = attempt(form, services.confirm_two_factor, user, form.code.data,
                        secret_key=secret_key, now=get_clock().now())
        if codes is not None:
            target = _finish_sign_in(user) if not current_user.is_authenticated \
                else url_for(".account")
            return _recovery_codes_page(codes, target)
        discard()
        user = _enrolling_user()
    secret = services.start_two_factor_enrolment(user, secret_key=secret_key)
    # The secret shown must be the one the next code is checked against, after a
    # wrong code too.
    keep_regardless()
    uri = two_factor.provisioning_uri(secret, user.email)
    return render_template(
        "accounts/two_factor_setup.html", form=form, secret=secret,
        qr=two_factor.qr_svg(uri, _("QR code for the authenticator app")),
        pending=not current_user.is_authenticated), 422 if form.errors else 200


@bp.post("/account/two-factor/recovery-codes")
@login_required
def new_recovery_codes():
    """New recovery codes in place of the old ones, shown once."""
    if not current_user.two_factor_enrolled or not ActionForm().validate_on_submit():
        return redirect(url_for(".account"))
    codes = services.replace_recovery_codes(current_user)
    return _recovery_codes_page(codes, url_for(".account"))


def _recovery_codes_page(codes: list[str], target: str):
    """The recovery codes, shown once in this answer and kept by no cache."""
    response = make_response(render_template("accounts/recovery_codes.html", codes=codes,
                                             target=target))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/account/tokens")
@login_required
def create_token():
    """Make a token and show it in this very answer, once: only its hash is kept,
    and the secret never travels in the (signed, not encrypted) session cookie."""
    if ActionForm().validate_on_submit():
        secret = services.issue_api_token(current_user, clock=get_clock())
        flash(_("A new API token was created. Copy it now: it is shown only once."),
              "success")
        return _account_page(new_token=secret)
    return redirect(url_for("accounts.account"))


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id):
    if ActionForm().validate_on_submit():
        services.revoke_api_token(current_user, token_id, clock=get_clock())
        flash(_("The token was revoked."), "success")
    return redirect(url_for("accounts.account"))
