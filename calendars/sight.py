"""What a reader sees of calendar events: an event's family only when the
reader may see that family, by the same rule as the family's own page (which
answers 404 otherwise); to anyone else the event is busy time.

Every calendar answer (the week, month and day pages, the worker's events in
the API, what an absence covers, clash messages) reads its events through a
``Sight``, so that no answer can show what the family page hides. An answer
that shows families writes one audit event naming them.
"""

import dataclasses

from accounts.models import User
from calendars.events import Event
from extensions import db
from families.models import Family
from families.services import record_listing, visible_families_query

BUSY = "busy"


def busy_time(event: Event) -> Event:
    """The event as time taken and nothing more: no family, no id to link to,
    no place or municipality, no kind of visit."""
    return dataclasses.replace(
        event, kind=BUSY, id=0, sequence=0, municipality_id=None, municipality=None,
        visit_kind=None, family_id=None, family_reference=None, family_surname=None,
        place=None, group_id=None, group_name=None)


class Sight:
    """Which families of some events a reader may see, asked once for all of them."""

    def __init__(self, reader: User, events=()):
        self.reader = reader
        self._families: dict[int, Family] = {}
        self._shown: dict[int, Family] = {}
        self.learn(events)

    def learn(self, events) -> None:
        """Ask about the families of more events (one query for all of them)."""
        unknown = {event.family_id for event in events
                   if event.family_id is not None and event.family_id not in self._families}
        if unknown and self.reader is not None:
            for family in db.session.scalars(visible_families_query(self.reader).where(
                    Family.id.in_(sorted(unknown)))):
                self._families[family.id] = family

    def sees(self, event: Event) -> bool:
        """Whether the reader may see the event's family (an event of no family,
        a group session, is everyone's to see)."""
        if event.kind == BUSY:
            return False
        return event.family_id is None or event.family_id in self._families

    def shown(self, event: Event) -> Event:
        """The event as the reader may see it, remembering the family shown."""
        if not self.sees(event):
            return busy_time(event)
        if event.family_id is not None:
            self._shown[event.family_id] = self._families[event.family_id]
        return event

    def show(self, events) -> list[Event]:
        """The events as the reader may see them."""
        self.learn(events)
        return [self.shown(event) for event in events]

    def record_read(self, *, clock, origin=None) -> None:
        """Write one audit event naming the families the answer showed, if any."""
        if self._shown:
            record_listing(self.reader, [self._shown[key] for key in sorted(self._shown)],
                           clock=clock, origin=origin)


def shown_to(reader: User, events, *, clock, origin=None) -> list[Event]:
    """Events as a reader may see them, the read of their families audited."""
    sight = Sight(reader, events)
    shown = sight.show(events)
    sight.record_read(clock=clock, origin=origin)
    return shown

