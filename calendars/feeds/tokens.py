"""Feed subscriptions: who may manage them, making, rotating and revoking them,
and reading one by its URL's secret for serving.

A subscription (``FeedToken``) keeps only the hash of its secret; the secret
is shown once, when it is made. Serving reads a subscription by that hash in
one statement, with its stamps and whether its accounts are still active.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import NamedTuple

import sqlalchemy as sa
from flask_babel import gettext as _

from accounts.models import User
from calendars.events import public_group_title
from calendars.feeds import stamps
from calendars.models import (
    FEED_OWNER_TYPES,
    FEED_PRIVACY_LEVELS,
    FeedStamp,
    FeedToken,
)
from calendars.services import can_book_for
from core import audit
from core.errors import NotFound, RuleViolation, ValidationFailed
from core.roles import ADMIN
from core.tokens import hash_secret, new_secret
from extensions import db
from families.models import Family
from groups import permissions as group_permissions
from groups.models import PeerGroup


def may_manage_feed(actor: User, owner_type: str, owner_id: int) -> bool:
    """Workers their own feed; a group's organisers and facilitators its feed; those
    who work with a family its feed (to hand to the family)."""
    if owner_type == "worker":
        return actor.id == owner_id or actor.role == ADMIN
    if owner_type == "group":
        group = db.session.get(PeerGroup, owner_id)
        return group is not None and group_permissions.can_see_roster(actor, group)
    family = db.session.get(Family, owner_id)
    return family is not None and can_book_for(actor, family)


def feed_name(feed: FeedToken) -> str:
    """The calendar's name in the reader's client; no family is named."""
    if feed.owner_type == "worker":
        user = db.session.get(User, feed.owner_id)
        return _("Family work: %(name)s", name=user.name if user else "")
    if feed.owner_type == "group":
        group = db.session.get(PeerGroup, feed.owner_id)
        return (public_group_title(group.public_title) if group else None) \
            or _("Peer group")
    return _("Family work")


def create_feed(actor: User, *, owner_type: str, owner_id: int, privacy="minimal",
                locale=None, detailed_allowed: bool, clock) -> tuple[FeedToken, str]:
    """A new subscription; returns it and its secret, which is shown only once."""
    if owner_type not in FEED_OWNER_TYPES:
        raise ValidationFailed(_("Unknown code."), fields={"owner_type": _("Unknown code.")})
    if privacy not in FEED_PRIVACY_LEVELS:
        raise ValidationFailed(_("Unknown code."), fields={"privacy": _("Unknown code.")})
    if privacy == "detailed" and not detailed_allowed:
        message = _("The administrator allows only minimal feeds.")
        raise RuleViolation(message, code="detailed_not_allowed", fields={"privacy": message})
    if not may_manage_feed(actor, owner_type, owner_id):
        raise NotFound(_("Nothing to subscribe to here."))
    secret = new_secret()
    stamps.ensure(owner_type, owner_id)
    feed = FeedToken(owner_type=owner_type, owner_id=owner_id, privacy=privacy,
                     locale=locale or actor.locale or "fi", token_hash=hash_secret(secret),
                     created_at=clock.now(), created_by_id=actor.id)
    db.session.add(feed)
    db.session.flush()
    audit.record(actor, "feed.create", "feed", feed.id, at=clock.now(),
                 detail={"owner_type": owner_type, "owner_id": owner_id, "privacy": privacy})
    return feed, secret


def get_feed(actor: User, feed_id: int) -> FeedToken:
    feed = db.session.get(FeedToken, feed_id)
    if feed is None or not may_manage_feed(actor, feed.owner_type, feed.owner_id):
        raise NotFound(_("No such feed."))
    return feed


def revoke_feed(actor: User, feed: FeedToken, *, clock) -> None:
    """Stop a subscription at once: its URL answers 404 from now on."""
    if feed.revoked_at is None:
        feed.revoked_at = clock.now()
        audit.record(actor, "feed.revoke", "feed", feed.id, at=clock.now())


def rotate_feed(actor: User, feed: FeedToken, *, detailed_allowed: bool,
                clock) -> tuple[FeedToken, str]:
    """A new URL for the same calendar; the old one stops at once."""
    revoke_feed(actor, feed, clock=clock)
    return create_feed(actor, owner_type=feed.owner_type, owner_id=feed.owner_id,
                       privacy=feed.privacy if detailed_allowed else "minimal",
                       locale=feed.locale, detailed_allowed=detailed_allowed, clock=clock)


def feeds_of(actor: User, owner_type=None, owner_id=None) -> list[FeedToken]:
    """The live subscriptions the actor may manage (of one owner when given)."""
    query = sa.select(FeedToken).where(FeedToken.revoked_at.is_(None))
    if owner_type:
        query = query.where(FeedToken.owner_type == owner_type,
                            FeedToken.owner_id == owner_id)
    else:
        query = query.where(FeedToken.created_by_id == actor.id)
    return [feed for feed in db.session.scalars(query.order_by(FeedToken.id))
            if may_manage_feed(actor, feed.owner_type, feed.owner_id)]


def revoke_feeds_of_account(user: User, *, actor: User, now: datetime) -> int:
    """Revoke every live feed a closed account made or whose calendar it is; the
    receiver of ``accounts.signals.account_deactivated``. Returns how many."""
    feeds = list(db.session.scalars(sa.select(FeedToken).where(
        FeedToken.revoked_at.is_(None),
        sa.or_(FeedToken.created_by_id == user.id,
               sa.and_(FeedToken.owner_type == "worker", FeedToken.owner_id == user.id)))))
    for feed in feeds:
        feed.revoked_at = now
        audit.record(actor, "feed.revoke", "feed", feed.id, at=now,
                     detail={"reason": "account_deactivated"})
    return len(feeds)


class FeedStamps(NamedTuple):
    """The feed stamps (``calendars.feeds.stamps``) a feed is read under: its
    owner's counter and the one every feed shares, each with when it was last
    raised. A feed's cached answer holds while they are what they were."""

    owner_version: int
    owner_changed_at: datetime | None
    shared_version: int
    shared_changed_at: datetime | None

    @property
    def changed_at(self) -> tuple[datetime | None, datetime | None]:
        """When the owner's and the shared counter were last raised."""
        return self.owner_changed_at, self.shared_changed_at


@dataclass(frozen=True)
class FeedRead:
    """What serving a feed needs of its subscription, and its stamps (None while
    the owner or the shared row has no counter).

    ``live`` is False for a feed that was revoked, or whose creator's or (a
    worker's feed) owner's account is inactive: such a feed answers as an
    unknown one does, but its secret was once given out, so fetching it is no
    guess at a secret (`calendars.feeds.serving` counts only guesses)."""

    id: int
    owner_type: str
    owner_id: int
    privacy: str
    locale: str
    token_hash: str
    created_at: datetime
    last_used_at: datetime | None
    stamps: FeedStamps | None
    live: bool = True


@cache
def _feed_read_statement() -> sa.Select:
    """One statement for a feed's secret, made once: built per request, it cost
    more than running it. Table columns, not entities: nothing for the ORM to do.

    Whether the feed is live is read in the same statement: its accounts are
    two lookups by primary key, no second round trip. A feed of an inactive
    account is refused here whatever else happened to it, so no path (a
    deactivation that did not go through the service, a revocation undone)
    can bring one back while the account is closed."""
    feeds, stamp, users = FeedToken.__table__, FeedStamp.__table__, User.__table__
    owner, shared = stamp.alias("owner_stamp"), stamp.alias("shared_stamp")
    creator, worker = users.alias("creator"), users.alias("owner_worker")
    live = sa.and_(
        feeds.c.revoked_at.is_(None),
        sa.or_(feeds.c.created_by_id.is_(None), creator.c.active.is_(True)),
        sa.or_(feeds.c.owner_type != "worker", worker.c.active.is_(True)))
    return (
        sa.select(feeds.c.id, feeds.c.owner_type, feeds.c.owner_id, feeds.c.privacy,
                  feeds.c.locale, feeds.c.token_hash, feeds.c.created_at,
                  feeds.c.last_used_at, owner.c.version, owner.c.changed_at,
                  shared.c.version, shared.c.changed_at, live.label("live"))
        .outerjoin(owner, sa.and_(owner.c.owner_type == feeds.c.owner_type,
                                  owner.c.owner_id == feeds.c.owner_id))
        .outerjoin(shared, sa.and_(shared.c.owner_type == stamps.EVERY_FEED[0],
                                   shared.c.owner_id == stamps.EVERY_FEED[1]))
        .outerjoin(creator, creator.c.id == feeds.c.created_by_id)
        .outerjoin(worker, sa.and_(feeds.c.owner_type == "worker",
                                   worker.c.id == feeds.c.owner_id))
        .where(feeds.c.token_hash == sa.bindparam("token_hash")))


def find_feed(engine: sa.Engine, secret: str) -> FeedRead | None:
    """The feed of a URL's secret, live or not (``FeedRead.live``), or None when
    no feed ever had that secret."""
    if not secret or len(secret) > 100:
        return None
    # One statement on a connection of its own in autocommit: no BEGIN and no
    # ROLLBACK around it, two round trips fewer on PostgreSQL for every fetch.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        row = connection.execute(_feed_read_statement(),
                                 {"token_hash": hash_secret(secret)}).first()
    if row is None:
        return None
    stamps = FeedStamps(*row[8:12])
    return FeedRead(*row[:8], stamps=None if stamps.owner_version is None
                    or stamps.shared_version is None else stamps, live=bool(row[12]))


def feed_by_secret(engine: sa.Engine, secret: str) -> FeedRead | None:
    """The live feed of a URL's secret, or None (unknown, revoked and closed look
    alike)."""
    feed = find_feed(engine, secret)
    return feed if feed is not None and feed.live else None


def note_feed_use(connection: sa.Connection, feed: FeedRead, now: datetime) -> None:
    """Record that a calendar fetched the feed."""
    connection.execute(sa.update(FeedToken.__table__)
                       .where(FeedToken.__table__.c.id == feed.id).values(last_used_at=now))
