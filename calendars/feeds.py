"""iCalendar feeds: what a calendar service fetches for a worker, a group or a family.

The builder takes events from the event view and returns the bytes of a
calendar. Third-party services store what they fetch, so an event says only
what its reader needs: the family's pseudonymous reference and municipality
at the ``minimal`` level, the surname and street address only at ``detailed``,
and never notes, the plan, the track or children's names. Each event's
serialised form is kept (keyed by everything that goes into it), so a feed in
which one event changed is not serialised again as a whole.
"""

import threading
from collections import OrderedDict
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
)

from calendars.events import HOME_VISIT
from calendars.events import Event as CalendarEvent

PRODID = "-//Perhetyo//Calendar feeds//FI"
CACHE_SIZE = 200_000
END = b"END:VCALENDAR\r\n"

_cache: OrderedDict = OrderedDict()
_lock = threading.Lock()


def _kind_label(kind: str | None) -> str:
    return {"planning_meeting": _("Planning meeting"),
            "review_meeting": _("Review meeting")}.get(kind, _("Home visit"))


def summary_and_location(event: CalendarEvent, owner_type: str,
                         privacy: str) -> tuple[str, str | None]:
    """What the event is called and where it is, at a privacy level."""
    detailed = privacy == "detailed"
    if event.kind != HOME_VISIT:
        return event.group_name or "", ", ".join(
            part for part in (event.place, event.municipality) if part) or None
    label = _kind_label(event.visit_kind)
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
    component.add("summary", summary)
    if location:
        component.add("location", location)
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
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", zone.key)
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

    Found by stepping through the years a quarter of an hour at a time, which
    catches every change on the hour or half hour; done once per zone and range.
    """
    moment = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    before = moment.astimezone(zone)
    step = timedelta(minutes=15)
    while moment < end:
        moment += step
        after = moment.astimezone(zone)
        if after.utcoffset() != before.utcoffset():
            yield moment, before, after
        before = after


def _observance(kind, local_start: datetime, offset_from, offset_to, name):
    component = TimezoneDaylight() if kind == "daylight" else TimezoneStandard()
    component.add("dtstart", local_start)
    component.add("tzoffsetfrom", offset_from)
    component.add("tzoffsetto", offset_to)
    component.add("tzname", name)
    return component


@cache
def _vtimezone(tzid: str, first_year: int, last_year: int) -> bytes:
    """The zone's changes over whole years, one observance each.

    Each observance starts at the local time before its change (RFC 5545) and
    carries no RDATE lists or rules, the form every client reads the same way:
    a VTIMEZONE with several dates on one RDATE line is read by ical.js (and
    the calendar clients built on it) from its first date only.
    """
    zone = ZoneInfo(tzid)
    timezone = Timezone()
    timezone.add("tzid", tzid)
    opening = datetime(first_year, 1, 1, tzinfo=UTC).astimezone(zone)
    timezone.add_component(_observance(
        "daylight" if opening.dst() else "standard",
        opening.replace(tzinfo=None, hour=0, minute=0),
        opening.utcoffset(), opening.utcoffset(), opening.tzname()))
    for instant, before, after in transitions(zone, first_year, last_year):
        timezone.add_component(_observance(
            "daylight" if after.dst() else "standard",
            (instant + before.utcoffset()).replace(tzinfo=None),
            before.utcoffset(), after.utcoffset(), after.tzname()))
    return timezone.to_ical()


def build(events, *, name: str, owner_type: str, privacy: str, locale: str, zone,
          refresh_seconds: int, first: date, last: date) -> bytes:
    """The whole feed: head, the events, end. A feed with no events is still valid."""
    head = calendar_head(name=name, zone=zone, refresh_seconds=refresh_seconds,
                         first=first - timedelta(days=366), last=last + timedelta(days=366))
    return b"".join([head, *(event_bytes(event, owner_type=owner_type, privacy=privacy,
                                         locale=locale, zone=zone) for event in events),
                     END])
