"""A feed's iCalendar bytes: the calendar, its VTIMEZONE and its events.

The builder takes events from the event view and returns the bytes of a
calendar. Third-party services store what they fetch, so an event says only
what its reader needs: the family's pseudonymous reference and municipality
at the ``minimal`` level, the surname and street address only at ``detailed``,
and never notes, the plan, the track or children's names. Events are called by
the neutral names reminders use too (``calendars.events.public_label``: a
planning meeting is a meeting) and groups by their public title alone. Each event's
serialised form is kept (keyed by everything that goes into it), so a feed in
which one event changed is not serialised again as a whole.

Every text value goes out as iCalendar TEXT, escaped, and without the control
characters TEXT cannot carry; the time zone goes out as its yearly rules, the
form Outlook reduces every VTIMEZONE to.
"""

import threading
import unicodedata
from calendar import monthrange
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import (
    Calendar,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vDuration,
    vRecur,
    vText,
)

from calendars.events import GROUP_SESSION, HOME_VISIT, public_group_title, public_label
from calendars.events import Event as CalendarEvent

PRODID = "-//Perhetyo//Calendar feeds//FI"
CACHE_SIZE = 200_000
END = b"END:VCALENDAR\r\n"

_cache: OrderedDict = OrderedDict()
_lock = threading.Lock()


# RFC 5545 (3.3.11) allows no control character (C0, DEL) in TEXT but HTAB; a line
# break is written as "\\n". The others are dropped, and the C1 controls with them,
# which mean nothing in a calendar either.
_CONTROLS = {code: None for code in range(0xA0)  # every "Cc" character is below
             if unicodedata.category(chr(code)) == "Cc" and chr(code) not in "\t\n"}


def text(value: str) -> vText:
    """``value`` as iCalendar TEXT: line breaks kept (escaped, as every TEXT is, by
    vText), other control characters removed."""
    return vText(value.replace("\r\n", "\n").replace("\r", "\n").translate(_CONTROLS))


def _label(kind: str | None) -> str:
    """The event's neutral name (``calendars.events.public_label``), as a title."""
    label = public_label(kind)
    return label[:1].upper() + label[1:]


def summary_and_location(event: CalendarEvent, owner_type: str,
                         privacy: str) -> tuple[str, str | None]:
    """What the event is called and where it is, at a privacy level."""
    detailed = privacy == "detailed"
    if event.place_confidential:
        # An address under non-disclosure never leaves the system, at any level
        # and in any feed, the family's own included (families.services.may_see_address).
        event = replace(event, place=None)
    if event.kind != HOME_VISIT:
        return public_group_title(event.group_title) or _label(GROUP_SESSION), ", ".join(
            part for part in (event.place, event.municipality) if part) or None
    label = _label(event.visit_kind)
    if owner_type == "family":
        # The family's own calendar: it knows who it is and where it lives.
        return label, event.place if detailed else None
    who = f"{event.family_reference} {event.family_surname}" if detailed \
        else event.family_reference
    summary = f"{label} {who}, {event.municipality}"
    location = f"{event.place}, {event.municipality}" if detailed and event.place \
        else event.municipality
    return summary, location


def _utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC)


def _wall_clock_or_utc(instant: datetime, zone) -> datetime:
    """Local time with the zone, unless the wall clock shows it twice (the autumn
    hour): then UTC, since readers take the first of two equal local times."""
    local = instant.astimezone(zone)
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        return instant.astimezone(UTC)
    return local


def event_bytes(event: CalendarEvent, *, owner_type: str, privacy: str, locale: str,
                zone) -> bytes:
    """One VEVENT, serialised; kept and reused while nothing in it changes."""
    key = (event, owner_type, privacy, locale, zone.key)
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    with force_locale(locale):
        summary, location = summary_and_location(event, owner_type, privacy)
        if event.status == "cancelled":
            summary = _("Cancelled: %(summary)s", summary=summary)
    component = Event()
    component.add("uid", event.uid)
    # DTSTAMP is when this version of the event was made, so the bytes (and
    # the feed's ETag) stay the same until the event changes.
    component.add("dtstamp", _utc(event.last_modified))
    component.add("created", _utc(event.created))
    component.add("last-modified", _utc(event.last_modified))
    component.add("sequence", event.sequence)
    component.add("dtstart", _wall_clock_or_utc(event.start, zone))
    component.add("dtend", _wall_clock_or_utc(event.end, zone))
    component.add("summary", text(summary))
    if location:
        component.add("location", text(location))
    component.add("status", "CANCELLED" if event.status == "cancelled" else "CONFIRMED")
    component.add("transp", "TRANSPARENT" if event.status == "cancelled" else "OPAQUE")
    data = component.to_ical()
    with _lock:
        _cache[key] = data
        if len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return data


def calendar_with_properties(*, name: str, zone, refresh_seconds: int) -> Calendar:
    """An empty calendar with a feed's own properties: name, zone, refresh."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    # No METHOD: a subscription is no iTIP message, and METHOD:PUBLISH without an
    # ORGANIZER fails libical's iTIP check (RFC 5546, 3.2.1).
    # icalendar knows neither NAME (RFC 7986) nor the X- names as TEXT, and would
    # write them unescaped: a ";" or "," would cut the name short, a line break the
    # calendar.
    calendar.add("name", text(name))
    calendar.add("x-wr-calname", text(name))
    calendar.add("x-wr-timezone", text(zone.key))
    refresh = vDuration(timedelta(seconds=refresh_seconds))
    calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", refresh)
    return calendar


def calendar_head(*, name: str, zone, refresh_seconds: int, first: date,
                  last: date) -> bytes:
    """The calendar's own properties and its time zone, without END:VCALENDAR."""
    data = calendar_with_properties(name=name, zone=zone,
                                    refresh_seconds=refresh_seconds).to_ical()
    return data[:-len(END)] + _vtimezone(zone.key, first.year, last.year)


def transitions(zone: ZoneInfo, first_year: int, last_year: int):
    """Every change of the zone's UTC offset in whole years: (instant, before, after).

    Found by stepping through the years a day at a time and, where the offset
    differs, bisecting to the second; no zone changes twice within a day.
    """
    moment = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    day = timedelta(days=1)
    while moment < end:
        before = moment.astimezone(zone)
        if (moment + day).astimezone(zone).utcoffset() != before.utcoffset():
            low, high = 0, int(day.total_seconds())  # the change: after low, by high
            while high - low > 1:
                middle = (low + high) // 2
                if (moment + timedelta(seconds=middle)).astimezone(zone).utcoffset() \
                        == before.utcoffset():
                    low = middle
                else:
                    high = middle
            instant = moment + timedelta(seconds=high)
            yield instant, (instant - timedelta(seconds=1)).astimezone(zone), \
                instant.astimezone(zone)
        moment += day


@dataclass(frozen=True)
class _Change:
    """A change of offset as an observance describes it: the local time before it."""

    local: datetime  # wall clock at the old offset, naive
    offset_from: timedelta
    offset_to: timedelta
    name: str
    daylight: bool

    @property
    def rule(self) -> tuple:
        """What makes it the same change as another year's: the month, the weekday and
        which of the month (the last, or the first to fourth), the time, the offsets."""
        days = monthrange(self.local.year, self.local.month)[1]
        week = -1 if self.local.day > days - 7 else (self.local.day - 1) // 7 + 1
        return (self.local.month, week, self.local.weekday(), self.local.time(),
                self.offset_from, self.offset_to, self.name, self.daylight)


_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _observance(change: _Change, until: datetime | None = None, *, yearly: bool = False):
    component = TimezoneDaylight() if change.daylight else TimezoneStandard()
    component.add("dtstart", change.local)
    if yearly:
        month, week, weekday = change.rule[:3]
        recur = {"freq": "YEARLY", "bymonth": month, "byday": f"{week}{_WEEKDAYS[weekday]}"}
        if until is not None:
            recur["until"] = until
        component.add("rrule", vRecur(recur))
    component.add("tzoffsetfrom", change.offset_from)
    component.add("tzoffsetto", change.offset_to)
    component.add("tzname", text(change.name))
    return component


def _yearly_runs(changes: list[tuple[datetime, _Change]]) -> list[list]:
    """The changes in runs of the same rule in consecutive years, in order of their
    first change; a change no other year repeats is a run of its own."""
    runs: list[list] = []
    open_runs: dict[tuple, list] = {}
    for instant, change in changes:
        run = open_runs.get(change.rule)
        if run is not None and run[-1][1].local.year == change.local.year - 1:
            run.append((instant, change))
        else:
            run = [(instant, change)]
            runs.append(run)
            open_runs[change.rule] = run
    return runs


@cache
def _vtimezone(tzid: str, first_year: int, last_year: int) -> bytes:
    """The zone from ``first_year`` to ``last_year`` as its yearly rules.

    Each rule is an observance with ``RRULE:FREQ=YEARLY`` from its first change
    (the local time before it, RFC 5545), which is how Outlook reads a zone
    (MS-OXCICAL reduces a VTIMEZONE to one yearly rule); a rule the zone gave up
    in the range ends with UNTIL. A rule that holds to the end of the range has
    no end: it is the zone's current rule, on which readers also go beyond it.
    Only a change that no other year repeats is a dated observance. A zone
    without changes is one observance. The changes of the year before the range
    are included, so that the range's first day is covered by a rule's start.
    """
    zone = ZoneInfo(tzid)
    # DAYLIGHT is the higher offset of the pair, also where the zone data count
    # the winter as the negative "summer time" (Europe/Dublin): readers such as
    # dateutil tell the repeated hour apart by it.
    changes = [(instant, _Change((instant + before.utcoffset()).replace(tzinfo=None),
                                 before.utcoffset(), after.utcoffset(), after.tzname(),
                                 after.dst() > timedelta(0) or before.dst() < timedelta(0)))
               for instant, before, after in transitions(zone, first_year - 1, last_year)]
    timezone = Timezone()
    timezone.add("tzid", tzid)
    opening = datetime(first_year, 1, 1, tzinfo=UTC)
    if not changes or changes[0][0] > opening:
        local = opening.astimezone(zone)
        timezone.add_component(_observance(_Change(
            local.replace(tzinfo=None, hour=0, minute=0), local.utcoffset(),
            local.utcoffset(), local.tzname(), local.dst() > timedelta(0))))
    for run in _yearly_runs(changes):
        first = run[0][1]
        if len(run) == 1:
            timezone.add_component(_observance(first))
        elif run[-1][1].local.year == last_year:
            timezone.add_component(_observance(first, yearly=True))
        else:
            # UNTIL a day after the last change: readers that compare it with the
            # local start as if both were UTC still take that change, and the next
            # is a year away.
            timezone.add_component(_observance(first, run[-1][0] + timedelta(days=1),
                                               yearly=True))
    return timezone.to_ical()


def build(events, *, name: str, owner_type: str, privacy: str, locale: str, zone,
          refresh_seconds: int, first: date, last: date) -> bytes:
    """The whole feed: head, the events, end. A feed with no events is still valid."""
    head = calendar_head(name=name, zone=zone, refresh_seconds=refresh_seconds,
                         first=first - timedelta(days=366), last=last + timedelta(days=366))
    return b"".join([head, *(event_bytes(event, owner_type=owner_type, privacy=privacy,
                                         locale=locale, zone=zone) for event in events),
                     END])
