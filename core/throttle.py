"""Failed guesses at secrets (bearer tokens, feed URLs), counted per address.

The counts live where Flask-Limiter keeps the sign-in limits (the storage of
RATELIMIT_STORAGE_URI, under RATELIMIT_KEY_PREFIX): in memory that is per
process, so that with several web processes only Redis makes a limit one
limit. Only failures count, so a correct secret used all day never meets the
limit; once an address has failed too often, every attempt from it waits,
right or wrong, or a guess that came right would still be answered.

When the storage cannot be reached (Redis down) and RATELIMIT_SWALLOW_ERRORS
is on, as it is by default, the attempt is let through uncounted and the
fault logged, as Flask-Limiter does with the sign-in limits: a Redis outage
must not stop every calendar from being served. Accounts still pause after
failed sign-ins in a row (LOGIN_LOCKOUT_FAILURES), which lives in the database.
"""

import logging
import math
import time
from dataclasses import dataclass
from functools import cache

from limits import RateLimitItem, parse

from extensions import limiter

log = logging.getLogger(__name__)


@cache
def _item(text: str) -> RateLimitItem:
    return parse(text)


@dataclass(frozen=True)
class FailureLimit:
    """A limit of failed attempts per address, read from the setting ``setting``
    ("30 per 10 minutes"), counted under its own ``scope``."""

    scope: str
    setting: str

    def _key(self, config, address: str) -> tuple[RateLimitItem, list[str]]:
        prefix = config.get("RATELIMIT_KEY_PREFIX") or ""
        identifiers = [address or "unknown", self.scope]
        return _item(config[self.setting]), [prefix, *identifiers] if prefix else identifiers

    def wait(self, config, address: str) -> int | None:
        """Seconds the address must wait before trying again; None while it may."""
        if not config.get("RATELIMIT_ENABLED", True):
            return None
        item, identifiers = self._key(config, address)
        try:
            if limiter.limiter.test(item, *identifiers):
                return None
            reset, _remaining = limiter.limiter.get_window_stats(item, *identifiers)
        except Exception:
            self._storage_failed(config)
            return None
        return max(1, math.ceil(reset - time.time()))

    def fail(self, config, address: str) -> None:
        """Count one failed attempt of the address."""
        if config.get("RATELIMIT_ENABLED", True):
            item, identifiers = self._key(config, address)
            try:
                limiter.limiter.hit(item, *identifiers)
            except Exception:
                self._storage_failed(config)

    def _storage_failed(self, config) -> None:
        if not config.get("RATELIMIT_SWALLOW_ERRORS", False):
            raise
        log.exception("the limits' storage failed: %s not counted", self.scope)


# Wrong bearer tokens on the API, and feed URLs whose secret no feed ever had.
BEARER_FAILURES = FailureLimit("bearer-address", "BEARER_LIMIT_PER_ADDRESS")
FEED_FAILURES = FailureLimit("feed-address", "FEED_LIMIT_PER_ADDRESS")
