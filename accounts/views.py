"""Signing in and out, the user's own account page and the language switch."""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from accounts import services
from accounts.forms import ActionForm, LanguageForm, LoginForm
from accounts.models import ApiToken
from core.clock import get_clock
from core.roles import login_required
from extensions import db

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to another host."""
    if target and target.startswith("/") and not target.startswith("//") \
            and "\\" not in target:
        return target
    return url_for("reports.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("reports.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            form.form_errors.append(_("Wrong e-mail address or password."))
        else:
            login_user(user)
            session.pop("locale", None)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form), 200 if not form.errors else 422


@bp.post("/logout")
@login_required
def logout():
    form = ActionForm()
    if form.validate_on_submit():
        logout_user()
        flash(_("You have signed out."), "info")
    return redirect(url_for("accounts.login"))


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


@bp.get("/account")
@login_required
def account():
    tokens = db.session.scalars(db.select(ApiToken).where(
        ApiToken.user_id == current_user.id, ApiToken.revoked_at.is_(None)).order_by(
        ApiToken.created_at.desc()))
    return render_template("accounts/account.html", tokens=list(tokens),
                           action_form=ActionForm(), new_token=session.pop("new_token", None))


@bp.post("/account/tokens")
@login_required
def create_token():
    if ActionForm().validate_on_submit():
        secret = services.issue_api_token(current_user, clock=get_clock())
        db.session.commit()
        # Shown once on the next page, then gone: only its hash is kept.
        session["new_token"] = secret
        flash(_("A new API token was created. Copy it now: it is shown only once."),
              "success")
    return redirect(url_for("accounts.account"))


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id):
    if ActionForm().validate_on_submit():
        services.revoke_api_token(current_user, token_id, clock=get_clock())
        db.session.commit()
        flash(_("The token was revoked."), "success")
    return redirect(url_for("accounts.account"))
