"""Signals the account services send after closing an account.

Receivers (the calendars package, for the feeds the account made or owns) run
inside the service call, in the same database transaction, so what they write
commits or rolls back with the deactivation itself. The services do not know
who listens.
"""

from blinker import Namespace

_signals = Namespace()

# Sent when an account is deactivated, with ``user`` (the account), ``actor``
# (the admin who closed it) and ``now`` (the service's clock reading).
account_deactivated = _signals.signal("account-deactivated")
