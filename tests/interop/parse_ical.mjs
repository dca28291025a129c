// Reads a calendar feed with Mozilla's ical.js and prints what it understood, as JSON.
//
//   node parse_ical.mjs FEED.ics
//
// The feed's own VTIMEZONE components are registered with ical.js's
// TimezoneService before any event is read, so every local time is converted
// to UTC by ical.js from the feed's time-zone data (ical.js knows no zone of
// its own but UTC). For each VEVENT: its UID, SUMMARY, LOCATION, STATUS and
// SEQUENCE, the TZID of its start and end, their wall-clock times there
// ("YYYY-MM-DDTHH:MM:SS"), their offsets from UTC in seconds and the instants
// in UTC ("YYYY-MM-DDTHH:MM:SSZ"). And the calendar's NAME (RFC 7986) and
// X-WR-CALNAME, which ical.js's design set does not know: they are declared TEXT
// here, as a client that shows them does, so that ical.js unescapes them as it
// unescapes SUMMARY. Exits non-zero on anything it cannot read.

import { readFileSync } from "node:fs";

import ICAL from "ical.js";

for (const name of ["name", "x-wr-calname"]) {
  ICAL.design.icalendar.property[name] = { defaultType: "text" };
}

const pad = (number, width = 2) => String(number).padStart(width, "0");

function wallClock(time) {
  return `${pad(time.year, 4)}-${pad(time.month)}-${pad(time.day)}` +
    `T${pad(time.hour)}:${pad(time.minute)}:${pad(time.second)}`;
}

function described(time, property) {
  if (time.isDate) {
    throw new Error(`${property} is a date, not a date-time`);
  }
  const zone = time.zone;
  if (!zone || zone === ICAL.Timezone.localTimezone) {
    throw new Error(`${property} ${time.toString()} is floating: no time zone was found`);
  }
  const utc = time.convertToZone(ICAL.Timezone.utcTimezone);
  return {
    tzid: zone.tzid,
    local: wallClock(time),
    offset_seconds: time.utcOffset(),
    utc: `${wallClock(utc)}Z`,
  };
}

function main(path) {
  const text = readFileSync(path, "utf8");
  const calendar = new ICAL.Component(ICAL.parse(text));
  if (calendar.name !== "vcalendar") {
    throw new Error(`not a calendar: ${calendar.name}`);
  }
  const timezones = calendar.getAllSubcomponents("vtimezone");
  for (const vtimezone of timezones) {
    ICAL.TimezoneService.register(vtimezone);
  }
  const events = calendar.getAllSubcomponents("vevent").map((component) => {
    const event = new ICAL.Event(component);
    if (event.isRecurring()) {
      throw new Error(`${event.uid} recurs; the feeds carry single events`);
    }
    return {
      uid: event.uid,
      summary: event.summary,
      location: event.location,
      description: event.description,
      status: component.getFirstPropertyValue("status"),
      sequence: event.sequence,
      start: described(event.startDate, "DTSTART"),
      end: described(event.endDate, "DTEND"),
    };
  });
  process.stdout.write(JSON.stringify({
    timezones: timezones.map((zone) => zone.getFirstPropertyValue("tzid")),
    names: {
      NAME: calendar.getFirstPropertyValue("name"),
      "X-WR-CALNAME": calendar.getFirstPropertyValue("x-wr-calname"),
    },
    events,
  }));
}

if (process.argv.length !== 3) {
  process.stderr.write("usage: node parse_ical.mjs FEED.ics\n");
  process.exit(2);
}
main(process.argv[2]);
