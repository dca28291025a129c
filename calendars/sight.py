"""What a reader sees of calendar events: an event's family only when the
reader may see that family, by the same rule as the family's own page (which
answers 404 otherwise), or is one of the event's own workers (a second worker
on a visit must know where to go); to anyone else the event is busy time. An
address under non-disclosure is then taken out of the places of those who may
not see it (``calendars.events.for_reader``).

Every calendar answer (the week, month and day pages, the worker's events in
the API, what an absence covers, clash messages) reads its events through a
``Sight``, so that no answer can show what the family page hides. An answer
that shows families writes one audit event naming them, through
``families.services.record_listing`` as every answer does.
"""

import dataclasses

from accounts.models import User
from calendars.events import Event, for_reader
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
        self._shown: set[int] = set()
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
        """Whether the reader may see the event's family: one they see, or one whose
        event they work at (an event of no family, a group session, is
        everyone's to see)."""
        if event.kind == BUSY:
            return False
        return (event.family_id is None or event.family_id in self._families
                or (self.reader is not None and self.reader.id in event.worker_ids))

    def shown(self, event: Event) -> Event:
        """The event as the reader may see it, remembering the family shown."""
        if not self.sees(event):
            return busy_time(event)
        if event.family_id is not None:
            self._shown.add(event.family_id)
        return event

    def show(self, events) -> list[Event]:
        """The events as the reader may see them, places under non-disclosure
        taken out for those who may not see the address."""
        events = list(events)
        self.learn(events)
        shown = [self.shown(event) for event in events]
        return for_reader(shown, self.reader) if self.reader is not None else shown

    @property
    def families_shown(self) -> list[Family]:
        """The families the answer showed, for ``families.services.record_listing``."""
        return [self._families.get(family_id) or db.session.get(Family, family_id)
                for family_id in sorted(self._shown)]


def shown_to(reader: User, events, *, clock) -> list[Event]:
    """Events as a reader may see them, the read of their families audited."""
    sight = Sight(reader, events)
    shown = sight.show(events)
    record_listing(reader, sight.families_shown, clock=clock)
    return shown

