"""Calendar feeds' pages: the feed itself (`/calendars/feeds/<token>.ics`) and the
pages where staff subscribe (`/calendars/feeds/subscribe`).

Serving needs no sign-in: the secret in the URL is the key. A feed that this
process keeps in its cache, and which still holds, is sent by
`calendars.feeds.serving.FeedServer` before the request reaches Flask; the
view here makes the others (`calendars.feeds.content`) and caches them.

The subscription page lists an owner's live feeds (created, last fetched),
creates, rotates and revokes them. Only the hash of a secret is kept, so a new
URL is shown once, in the answer to the form that made it (as new API tokens
are; never in the session cookie), with a copy button and a QR code of its
webcal link.
"""

import segno
from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import SelectField, SubmitField

from accounts.models import User
from calendars.api import feed_urls
from calendars.feeds import serving, tokens
from calendars.feeds.content import make_cached_feed
from calendars.feeds.window import served_privacy
from calendars.models import FEED_OWNER_TYPES, FeedToken
from core.clock import get_clock
from core.errors import NotFound
from core.forms import attempt
from core.input_checks import read_whole_number
from core.roles import login_required
from core.unit_of_work import discard
from core.vocabulary import FEED_PRIVACY_LEVELS, LOCALE_NAMES, choices
from extensions import db
from families.models import Family
from groups.models import PeerGroup

bp = Blueprint("feeds", __name__, url_prefix=serving.PREFIX)


@bp.route(f"/<token>{serving.SUFFIX}", methods=["GET", "HEAD"])
def feed(token):
    subscription = request.environ.get(serving.FEED_READ)
    if subscription is None:  # FeedServer could not read it: the same reading here
        subscription, wait = serving.lookup(db.engine, current_app.config, token,
                                            request.remote_addr)
        if wait is not None:
            status, headers, body = serving.too_many(wait)
            response = Response(body if request.method == "GET" else b"", status)
            response.headers.update(headers)
            return response
    if subscription is None:
        return Response(status=404)
    now = get_clock().now()
    cached = serving.feed_cache.get(subscription.token_hash)
    if cached is None or not cached.holds(subscription.stamps, now):
        cached = make_cached_feed(subscription, now, previous=cached)
        serving.feed_cache.put(subscription.token_hash, cached)
    fresh = serving.not_modified(request.environ, cached)
    serving.note_use(db.engine, subscription, now)
    status, headers, body = serving.reply(cached, request.environ, fresh=fresh)
    response = Response(body, status)
    response.headers.update(headers)  # a HEAD's Content-Length is the body's it omits
    return response


# --- subscription pages ----------------------------------------------------

PRIVACY_LABELS = FEED_PRIVACY_LEVELS

LOCALE_LABELS = LOCALE_NAMES


@bp.app_template_global()
def feed_privacy_label(privacy: str) -> str:
    """What a feed's events say, as it is served."""
    privacy = served_privacy(privacy)
    return PRIVACY_LABELS.get(privacy, privacy)


class FeedForm(FlaskForm):
    """A new feed: how much its events say and in which language."""

    privacy = SelectField(_l("What the events say"), choices=choices(PRIVACY_LABELS))
    locale = SelectField(_l("Language of the events"), choices=choices(LOCALE_LABELS))
    submit = SubmitField(_l("Create a subscription link"))


class FeedActionForm(FlaskForm):
    """Only the CSRF token, for the rotate and revoke buttons."""

    submit = SubmitField()


def _owner_args() -> tuple[str, int]:
    """The owner of the page's feeds from the query string; nonsense is not found."""
    owner_type = request.args.get("owner_type", "")
    raw = request.args.get("owner_id", "")
    owner_id = read_whole_number(raw)
    if owner_type not in FEED_OWNER_TYPES or owner_id is None:
        raise NotFound(_("Nothing to subscribe to here."))
    return owner_type, owner_id


def _checked_owner(owner_type: str, owner_id: int) -> None:
    if not tokens.may_manage_feed(current_user, owner_type, owner_id):
        raise NotFound(_("Nothing to subscribe to here."))


def _owner_title_and_back(owner_type: str, owner_id: int) -> tuple[str, str]:
    """What the page is about and where its breadcrumb leads."""
    if owner_type == "worker":
        if owner_id == current_user.id:
            return _("My calendar"), url_for("calendars.week")
        worker = db.session.get(User, owner_id)
        return (_("Calendar of %(name)s", name=worker.name if worker else ""),
                url_for("calendars.week", worker=owner_id))
    if owner_type == "group":
        group = db.session.get(PeerGroup, owner_id)
        return (_("Group: %(name)s", name=group.name),
                url_for("groups.detail", group_id=owner_id))
    family = db.session.get(Family, owner_id)
    return (_("Family %(reference)s", reference=f"{family.surname} {family.reference}"),
            url_for("casework.detail", family_id=owner_id))


def _feed_form(*, blank: bool = False) -> FeedForm:
    """The form for a new feed: the one sent, or a ``blank`` one (under a new link)."""
    form = FeedForm(formdata=None) if blank else FeedForm()
    if not current_app.config["FEED_DETAILED_ALLOWED"]:
        form.privacy.choices = choices({"minimal": PRIVACY_LABELS["minimal"]})
    if blank or not form.is_submitted():
        form.locale.data = current_user.locale if current_user.locale in LOCALE_LABELS \
            else "fi"
    return form


def _qr_svg(text: str) -> Markup:
    """A QR code of ``text`` as inline SVG (segno escapes what it writes)."""
    svg = segno.make(text, error="m").svg_inline(scale=4, omitsize=True, svgclass="qr-code",
                                                  title=_("QR code of the subscription link"))
    return Markup(svg)


def _new_link(secret: str) -> dict:
    """A new feed's links and QR code, for the answer that made it."""
    url, webcal = feed_urls(secret)
    return {"url": url, "webcal": webcal, "qr": _qr_svg(webcal)}


def _subscribe_url(owner_type: str, owner_id: int) -> str:
    return url_for("feeds.subscribe", owner_type=owner_type, owner_id=owner_id)


def _subscribe_page(owner_type: str, owner_id: int, form: FeedForm, *, status: int = 200,
                    secret: str | None = None):
    """An owner's subscriptions; with ``secret``, the link just made, shown in this
    answer only: only its hash is kept, and it never travels in the session
    cookie (signed, not encrypted) nor stays in any cache."""
    title, back = _owner_title_and_back(owner_type, owner_id)
    response = make_response(render_template(
        "calendars/subscribe.html", owner_type=owner_type, owner_id=owner_id, title=title,
        back=back, feeds=tokens.feeds_of(current_user, owner_type, owner_id), form=form,
        action_form=FeedActionForm(), new=_new_link(secret) if secret else None,
        privacy_labels=PRIVACY_LABELS, locale_labels=LOCALE_LABELS,
        page_address=_subscribe_url(owner_type, owner_id)), status)
    if secret:
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/subscribe", methods=["GET", "POST"])
@login_required
def subscribe():
    """An owner's subscriptions and a form to make one; a new one's link once, in
    the answer to the form."""
    owner_type, owner_id = _owner_args()
    _checked_owner(owner_type, owner_id)
    form = _feed_form()
    if not form.is_submitted():
        return _subscribe_page(owner_type, owner_id, form)
    if form.validate():
        made = attempt(form, tokens.create_feed, current_user, owner_type=owner_type,
                       owner_id=owner_id, privacy=form.privacy.data,
                       locale=form.locale.data,
                       detailed_allowed=current_app.config["FEED_DETAILED_ALLOWED"],
                       clock=get_clock())
        if made is not None:
            _feed, secret = made
            flash(_("A subscription link was created. Copy it now: it is shown only "
                    "once."), "success")
            return _subscribe_page(owner_type, owner_id, _feed_form(blank=True),
                                   secret=secret)
        discard()
    return _subscribe_page(owner_type, owner_id, form, status=422)


def _managed_feed(feed_id: int) -> FeedToken:
    """A live feed the user may manage; else 404."""
    feed = tokens.get_feed(current_user, feed_id)
    if feed.revoked_at is not None:
        raise NotFound(_("No such feed."))
    return feed


@bp.post("/<int:feed_id>/rotate")
@login_required
def rotate(feed_id):
    """A new link for the same calendar, shown in this answer; the old one stops at
    once."""
    feed = _managed_feed(feed_id)
    if FeedActionForm().validate_on_submit():
        new, secret = tokens.rotate_feed(
            current_user, feed, detailed_allowed=current_app.config["FEED_DETAILED_ALLOWED"],
            clock=get_clock())
        flash(_("A new subscription link was made and the old one stopped working. Copy "
                "the new one now: it is shown only once."), "success")
        return _subscribe_page(new.owner_type, new.owner_id, _feed_form(blank=True),
                               secret=secret)
    return redirect(_subscribe_url(feed.owner_type, feed.owner_id))


@bp.route("/<int:feed_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke(feed_id):
    """Ask for confirmation (GET), then stop the link (POST)."""
    feed = _managed_feed(feed_id)
    form = FeedActionForm()
    if form.validate_on_submit():
        tokens.revoke_feed(current_user, feed, clock=get_clock())
        flash(_("The subscription link was revoked. Calendars that use it no longer "
                "update."), "success")
        return redirect(_subscribe_url(feed.owner_type, feed.owner_id))
    title, _back = _owner_title_and_back(feed.owner_type, feed.owner_id)
    return render_template("calendars/feeds/revoke.html", feed=feed, form=form, title=title,
                           back=_subscribe_url(feed.owner_type, feed.owner_id),
                           privacy_labels=PRIVACY_LABELS, locale_labels=LOCALE_LABELS), \
        200 if not form.is_submitted() else 400
