"""What a reminder says: short texts in Finnish or English, and nothing more.

A message tells what (a home visit, a meeting, or a group's public title), when,
where, and whom to contact to change it, with a link to stop reminders.
Never the track, the plan, notes, children's names, the family's surname or
reference, or wording of child protection (rule 8 of the work): the facts a
message is made from (``facts_of_visit``, ``facts_of_session``) carry none of
them, events are named as feeds name them (``calendars.events.public_label``),
and a group is named by its public title only where ``core.wording`` lets it go.

Every value is cleaned before it is written in (``one_line``): a name stored
with a line break or a control character still makes a clean subject and SMS.
An SMS is kept to one segment where its facts fit: the full wording first,
then the short one with a compact date, then without the optional parts in a
fixed order (``SMS_OPTIONAL``); it never takes more than ``max_segments``.

The texts are gettext messages here rather than template files, so that the
one catalogue translates them and a test can read every one of them.
"""

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from flask_babel import force_locale, format_datetime, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from calendars.events import PUBLIC_LABELS, public_group_title, public_label
from core.http import datetime_filter
from core.wording import may_leave
from reminders.sms import segments

# The kinds of event as a family reads them: the feeds' table, so that both agree.
WHAT = PUBLIC_LABELS

SMS = {
    "reminder": _l("Reminder: %(what)s %(when)s, %(place)s. To change it, contact"
                   " %(contact)s. Stop reminders: %(link)s"),
    "change": _l("Changed: %(what)s is now %(when)s, %(place)s (was %(previous)s)."
                 " Questions: %(contact)s. Stop reminders: %(link)s"),
    "cancellation": _l("Cancelled: %(what)s %(when)s. Questions: %(contact)s."
                       " Stop reminders: %(link)s"),
}

SUBJECTS = {
    "reminder": _l("Reminder: %(what)s %(when)s"),
    "change": _l("Changed time: %(what)s %(when)s"),
    "cancellation": _l("Cancelled: %(what)s %(when)s"),
}

EMAIL = {
    "reminder": _l("Hello,\n\nthis is a reminder of your %(what)s on %(when)s.\n"
                   "Place: %(place)s\n\nTo change the time, contact %(contact)s.\n"),
    "change": _l("Hello,\n\nthe time of your %(what)s has changed.\nNew time: %(when)s\n"
                 "Place: %(place)s\nEarlier time: %(previous)s\n\n"
                 "If you have questions, contact %(contact)s.\n"),
    "cancellation": _l("Hello,\n\nyour %(what)s on %(when)s has been cancelled.\n\n"
                       "If you have questions, contact %(contact)s.\n"),
}

EMAIL_FOOTER = _l("\nTo stop these reminders, open %(link)s\n")

# The short SMS: its parts joined by ". ", the optional ones dropped in this
# order until the message fits one segment.
SMS_SHORT_HEAD = {
    "reminder": SUBJECTS["reminder"],
    "change": _l("Changed: %(what)s now %(when)s"),
    "cancellation": SUBJECTS["cancellation"],
}
SMS_PREVIOUS = _l("Was %(previous)s")
SMS_CONTACT = _l("Contact %(contact)s")
SMS_STOP = _l("Stop reminders: %(link)s")
SMS_OPTIONAL = ("contact_phone", "contact", "previous", "place")
# A date in a short SMS: weekday, day and month, time.
SHORT_WHEN = {"fi": "EEE d.M. 'klo' H.mm", "en": "EEE d MMM HH:mm"}
SMS_MAX_SEGMENTS = 2
ELLIPSIS = "..."

PLACE_AS_AGREED = _l("place as agreed")
YOUR_FAMILY_WORKER = _l("your family worker")


@dataclass(frozen=True)
class Message:
    """A message ready for a channel: ``subject`` is for e-mail only."""

    subject: str
    body: str


def says_too_much(text: str) -> bool:
    """Whether a text holds wording that must not leave the system (core.wording)."""
    return not may_leave(text)


def one_line(value) -> str:
    """A value as a header or an SMS may hold it: NFC, no control or format
    characters, every line break and run of spaces folded to one space."""
    text = unicodedata.normalize("NFC", str(value or ""))
    text = "".join(" " if unicodedata.category(char) in ("Cc", "Zl", "Zp")
                   else "" if unicodedata.category(char) == "Cf" else char
                   for char in text)
    return " ".join(text.split())


def facts(*, what: str, start: datetime, end: datetime, place: str, contact_name: str,
          contact_phone: str, group_title: str | None = None) -> dict:
    """The facts a message tells, as stored in the outbox row's payload."""
    return {"what": what, "group_title": public_group_title(one_line(group_title)),
            "start": start.isoformat(), "end": end.isoformat(),
            "place": one_line(place), "contact_name": one_line(contact_name),
            "contact_phone": one_line(contact_phone)}


def time_and_place(payload: dict) -> tuple:
    """What of the facts a change notice is about: the time and the place."""
    return payload.get("start"), payload.get("end"), payload.get("place")


def render(*, purpose: str, channel: str, payload: dict, locale: str, link: str,
           max_segments: int = SMS_MAX_SEGMENTS) -> Message:
    """The message of one outbox row in the recipient's language."""
    with force_locale(locale):
        # A row planned before public titles carries the group's name as it
        # was let out then; it is checked again like any title.
        title = public_group_title(one_line(payload.get("group_title",
                                                        payload.get("group_name"))))
        start = datetime.fromisoformat(payload["start"])
        previous = (datetime.fromisoformat(payload["previous_start"])
                    if payload.get("previous_start") else None)
        values = {
            "what": one_line(title or public_label(payload.get("what"))),
            "when": datetime_filter(start),
            "previous": datetime_filter(previous) if previous else "",
            "place": one_line(payload.get("place")) or str(PLACE_AS_AGREED),
            "contact": _contact(payload),
            "link": one_line(link),
        }
        if channel == "sms":
            return Message(subject="", body=_sms(purpose, values, payload, start, previous,
                                                 max(int(max_segments), 1)))
        subject = one_line(str(SUBJECTS[purpose]) % values)
        body = str(EMAIL[purpose]) % values + str(EMAIL_FOOTER) % values
        return Message(subject=subject, body=body)


def _short_when(instant: datetime) -> str:
    return format_datetime(instant, SHORT_WHEN.get(str(get_locale()), SHORT_WHEN["en"]))


def _sms(purpose: str, values: dict, payload: dict, start: datetime,
         previous: datetime | None, max_segments: int) -> str:
    """The SMS: the first of its wordings that is one segment (the full one, the
    short one, the short one without the optional parts one by one), else the
    first within ``max_segments``, else the shortest cut to fit."""
    short = dict(values, when=_short_when(start),
                 previous=_short_when(previous) if previous else "")
    candidates = [one_line(str(SMS[purpose]) % values)]
    dropped: set[str] = set()
    candidates.append(_short_sms(purpose, short, payload, dropped))
    for part in SMS_OPTIONAL:
        dropped.add(part)
        candidates.append(_short_sms(purpose, short, payload, dropped))
    for limit in (1, max_segments):
        for candidate in candidates:
            if segments(candidate) <= limit:
                return candidate
    candidate = candidates[-1]
    # Only a very long title or name is left too long: cut what the event is called.
    what = short["what"]
    while what and segments(candidate) > max_segments:
        what = what[:-1]
        candidate = _short_sms(purpose, dict(short, what=what.rstrip() + ELLIPSIS),
                               payload, dropped)
    return candidate


def _short_sms(purpose: str, values: dict, payload: dict, dropped: set) -> str:
    head = str(SMS_SHORT_HEAD[purpose]) % values
    if purpose != "cancellation" and "place" not in dropped:
        head = f"{head}, {values['place']}"
    parts = [head]
    if purpose == "change" and values["previous"] and "previous" not in dropped:
        parts.append(str(SMS_PREVIOUS) % values)
    if "contact" not in dropped:
        contact = _contact(payload, with_phone="contact_phone" not in dropped)
        parts.append(str(SMS_CONTACT) % {"contact": contact})
    parts.append(str(SMS_STOP) % values)
    return one_line(". ".join(part.rstrip(".") for part in parts))


def _contact(payload: dict, *, with_phone: bool = True) -> str:
    name = one_line(payload.get("contact_name"))
    phone = one_line(payload.get("contact_phone")) if with_phone else ""
    if name and phone:
        return _("%(name)s, %(phone)s", name=name, phone=phone)
    return name or phone or str(YOUR_FAMILY_WORKER)
