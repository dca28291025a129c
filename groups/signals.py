"""Signals the group services send after changing sessions or seats.

Receivers (the reminders package) run inside the service call, in the same
database transaction, so whatever they write commits or rolls back with the
change itself. The services do not know who listens.
"""

from blinker import Namespace

_signals = Namespace()

# Sent after single sessions were moved, cancelled or restored, with
# ``session_ids`` (a list) and ``now``.
sessions_changed = _signals.signal("sessions-changed")
# Sent after a group's sessions, details or roster changed (a series edited,
# the group cancelled, a family placed, withdrawn or promoted from the waiting
# list), with ``group_id`` and ``now``.
group_changed = _signals.signal("group-changed")
