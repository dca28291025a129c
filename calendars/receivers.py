"""What the calendars package does when another package's services say so.

``accounts.signals.account_deactivated``: the feeds the account made, and those
of its own calendar, are revoked in the same transaction as the deactivation.
Connected by name in ``create_app``.
"""

from accounts.signals import account_deactivated
from calendars.feeds import tokens


def on_account_deactivated(user, *, actor, now) -> None:
    tokens.revoke_feeds_of_account(user, actor=actor, now=now)


def connect() -> None:
    """Connect the receivers (idempotent: blinker keeps one connection per receiver)."""
    account_deactivated.connect(on_account_deactivated)
