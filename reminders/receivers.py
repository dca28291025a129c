"""Planning reminders in the transaction of the change that implies them.

The calendar and group services send blinker signals (``calendars.signals``,
``groups.signals``) after they book, move or cancel a visit or a session, or
change a group's roster; the receivers here plan that event's reminders
through the same database session, so the outbox rows commit or roll back
with the change (the outbox pattern), and a refused change leaves none.
Connected by name in ``create_app``, which says why signals here.
"""

from calendars.events import GROUP_SESSION, HOME_VISIT
from calendars.signals import visits_changed
from core.localtime import unit_zone
from groups.signals import group_changed, sessions_changed
from reminders import services


def on_visits_changed(_sender, *, visit_ids, now, **_extra):
    services.plan_events(HOME_VISIT, visit_ids, now=now, zone=unit_zone())


def on_sessions_changed(_sender, *, session_ids, now, **_extra):
    services.plan_events(GROUP_SESSION, session_ids, now=now, zone=unit_zone())


def on_group_changed(_sender, *, group_id, now, **_extra):
    services.plan_group(group_id, now=now, zone=unit_zone())


def connect() -> None:
    """Connect the receivers (again adds nothing: blinker keeps one of each)."""
    visits_changed.connect(on_visits_changed)
    sessions_changed.connect(on_sessions_changed)
    group_changed.connect(on_group_changed)
