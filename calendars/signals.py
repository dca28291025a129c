"""Signals the calendar services send after changing home visits.

Receivers (the reminders package) run inside the service call, in the same
database transaction, so whatever they write commits or rolls back with the
change itself. The services do not know who listens.
"""

from blinker import Namespace

_signals = Namespace()

# Sent after visits were booked, moved, changed, cancelled or deleted, with
# ``visit_ids`` (a list) and ``now`` (the service's clock reading).
visits_changed = _signals.signal("visits-changed")
