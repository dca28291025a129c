"""What a reminder says: short texts in Finnish or English, and nothing more.

A message tells what (a home visit, a meeting, or a group's name), when,
where, and whom to contact to change it, with a link to stop reminders.
Never the track, the plan, notes, children's names, the family's surname or
reference, or wording of child protection (rule 8 of the work): the facts a
message is made from (``facts_of_visit``, ``facts_of_session``) carry none of
them, and a group whose name would say too much is called a group meeting.

The texts are gettext messages here rather than template files, so that the
one catalogue translates them and a test can read every one of them.
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.http import datetime_filter

# Words that must not reach a family in any message, in both languages; a
# group named with one of them is not named at all.
FORBIDDEN_WORDS = (
    "lastensuojel", "child protection", "child-protection", "child_protection",
    "preventive", "ennaltaehkäis", "sosiaalityö", "social work", "huostaan", "sijoitus",
    "plan", "suunnitelm", "notes", "muistiinpan", "track", "palvelupolk",
)

# The kinds of visit as a family reads them: a planning or review meeting is
# just a meeting, since its name would speak of the plan.
WHAT = {
    "home_visit": _l("home visit"),
    "planning_meeting": _l("meeting with the family worker"),
    "review_meeting": _l("meeting with the family worker"),
    "group_session": _l("group meeting"),
}

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

PLACE_AS_AGREED = _l("place as agreed")
YOUR_FAMILY_WORKER = _l("your family worker")


@dataclass(frozen=True)
class Message:
    """A message ready for a channel: ``subject`` is for e-mail only."""

    subject: str
    body: str


def says_too_much(text: str) -> bool:
    """Whether a text contains wording that must not leave the system."""
    lowered = (text or "").lower()
    return any(word in lowered for word in FORBIDDEN_WORDS)


def public_group_name(name: str) -> str | None:
    """A group's name as a message may show it, or None when it says too much."""
    name = (name or "").strip()
    return None if not name or says_too_much(name) else name


def facts(*, what: str, start: datetime, end: datetime, place: str, contact_name: str,
          contact_phone: str, group_name: str | None = None) -> dict:
    """The facts a message tells, as stored in the outbox row's payload."""
    return {"what": what, "group_name": public_group_name(group_name or ""),
            "start": start.isoformat(), "end": end.isoformat(),
            "place": (place or "").strip(), "contact_name": (contact_name or "").strip(),
            "contact_phone": (contact_phone or "").strip()}


def told(payload: dict) -> tuple:
    """What of the facts a change notice is about: the time and the place."""
    return payload.get("start"), payload.get("end"), payload.get("place")


def render(*, purpose: str, channel: str, payload: dict, locale: str, link: str) -> Message:
    """The message of one outbox row in the recipient's language."""
    with force_locale(locale):
        values = {
            "what": payload.get("group_name") or str(WHAT.get(payload.get("what"),
                                                               WHAT["home_visit"])),
            "when": datetime_filter(datetime.fromisoformat(payload["start"])),
            "previous": (datetime_filter(datetime.fromisoformat(payload["previous_start"]))
                         if payload.get("previous_start") else ""),
            "place": payload.get("place") or str(PLACE_AS_AGREED),
            "contact": _contact(payload),
            "link": link,
        }
        if channel == "sms":
            return Message(subject="", body=str(SMS[purpose]) % values)
        subject = str(SUBJECTS[purpose]) % values
        body = str(EMAIL[purpose]) % values + str(EMAIL_FOOTER) % values
        return Message(subject=subject, body=body)


def _contact(payload: dict) -> str:
    name = payload.get("contact_name") or ""
    phone = payload.get("contact_phone") or ""
    if name and phone:
        return _("%(name)s, %(phone)s", name=name, phone=phone)
    return name or phone or str(YOUR_FAMILY_WORKER)
