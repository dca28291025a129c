"""Peer groups themselves: creating, changing, opening and closing them, and finding them."""

from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from accounts.models import User
from core import audit
from core.errors import Conflict, Forbidden, NotFound, RuleViolation, ValidationFailed
from core.locks import lock_calendars
from core.places import municipalities_named, venue_named
from core.roles import COORDINATOR, FAMILY_WORKER
from core.vocabulary import LANGUAGES, SUPPORT_AREAS, TRACKS
from core.wording import forbidden_words, may_leave
from extensions import db
from groups.enrollment import close_roster, set_capacity
from groups.models import DESCRIPTION_MAX, NAME_MAX, Enrollment, PeerGroup
from groups.permissions import can_manage, require
from groups.series import SeriesPlan, apply_series, cancel_session, upcoming_sessions
from groups.signals import group_changed

MAX_AGE_MONTHS = 18 * 12
MAX_CAPACITY = 100

# Which status may follow which; anything else is refused.
TRANSITIONS = {
    "draft": {"open", "cancelled"},
    "open": {"draft", "running", "cancelled"},
    "running": {"finished", "cancelled"},
    "finished": set(),
    "cancelled": set(),
}


def get_group(group_id: int) -> PeerGroup:
    """A group by id, or not found. Groups themselves are known to all staff."""
    group = db.session.get(PeerGroup, group_id)
    if group is None:
        raise NotFound(_("No such group."))
    return group


def _check_group_fields(fields: dict) -> dict:
    """Field checks shared by creating and changing a group."""
    errors = {}
    if "name" in fields and not (fields["name"] or "").strip():
        errors["name"] = _("This field is required.")
    if len(fields.get("name") or "") > NAME_MAX:
        errors["name"] = _("At most %(n)d characters.", n=NAME_MAX)
    if fields.get("public_title"):
        problem = public_title_problem(fields["public_title"])
        if problem:
            errors["public_title"] = problem
    if len(fields.get("description") or "") > DESCRIPTION_MAX:
        errors["description"] = _("At most %(n)d characters.", n=DESCRIPTION_MAX)
    if any(theme not in SUPPORT_AREAS for theme in fields.get("themes", ())):
        errors["themes"] = _("Unknown support area.")
    if "tracks" in fields and (not fields["tracks"]
                               or any(track not in TRACKS for track in fields["tracks"])):
        errors["tracks"] = _("Choose the tracks the group is for.")
    if "language" in fields and fields["language"] not in LANGUAGES:
        errors["language"] = _("Unknown language code.")
    for name in ("min_age_months", "max_age_months"):
        if name in fields and not 0 <= fields[name] <= MAX_AGE_MONTHS:
            errors[name] = _("Ages are 0 to %(n)d months.", n=MAX_AGE_MONTHS)
    if "capacity" in fields and not 1 <= fields["capacity"] <= MAX_CAPACITY:
        errors["capacity"] = _("The capacity is 1 to %(n)d families.", n=MAX_CAPACITY)
    if "municipalities" in fields and not fields["municipalities"]:
        errors["municipalities"] = _("Choose the municipalities the group serves.")
    if errors:
        raise ValidationFailed(_("Check the highlighted fields."), fields=errors)
    return fields


def public_title_problem(title: str) -> str | None:
    """Why a group's public title may not be used, or None: it leaves the system,
    so it holds none of the words that must not (``core.wording``)."""
    if len(title) > NAME_MAX:
        return _("At most %(n)d characters.", n=NAME_MAX)
    words = forbidden_words(title)
    if words:
        return _("The public title is shown in calendars and reminders; it may not"
                 " say \"%(word)s\".", word=words[0])
    return None


def default_public_title(name: str) -> str:
    """A new group's public title when none is given: its name if the name may
    leave the system, else none (feeds and reminders say "group meeting")."""
    name = (name or "").strip()
    return name if may_leave(name) else ""


def _facilitators(user_ids) -> list[User]:
    users = []
    for user_id in dict.fromkeys(user_ids):
        user = db.session.get(User, user_id)
        if user is None or not user.active or user.role != FAMILY_WORKER:
            message = _("Facilitators are active family workers.")
            raise ValidationFailed(message, fields={"facilitator_ids": message})
        users.append(user)
    return users


def _check_window(opens, closes) -> None:
    if opens and closes and closes < opens:
        message = _("Enrollment cannot close before it opens.")
        raise ValidationFailed(message, fields={"enrollment_closes": message})


def _check_ages(minimum, maximum) -> None:
    if maximum < minimum:
        message = _("The oldest age cannot be below the youngest.")
        raise ValidationFailed(message, fields={"max_age_months": message})


def create_group(actor: User, *, name, capacity, municipalities, tracks, themes=(),
                 public_title=None,
                 description="", min_age_months=0, max_age_months=MAX_AGE_MONTHS,
                 language="fi", venue=None, facilitator_ids=(), enrollment_opens=None,
                 enrollment_closes=None, series: SeriesPlan | None = None, zone,
                 clock) -> PeerGroup:
    """Create a group as a draft, with its sessions when a series is given."""
    require(can_manage(actor), _("Your role does not allow organising groups."))
    _check_group_fields({"name": name, "public_title": public_title,
                         "description": description, "themes": themes,
                         "tracks": tracks, "language": language,
                         "min_age_months": min_age_months,
                         "max_age_months": max_age_months, "capacity": capacity,
                         "municipalities": municipalities})
    _check_ages(min_age_months, max_age_months)
    _check_window(enrollment_opens, enrollment_closes)
    places = municipalities_named(municipalities)
    if actor.role == COORDINATOR and not set(places) <= set(actor.municipalities):
        raise Forbidden(_("A coordinator organises groups for their own municipalities."),
                        fields={"municipalities": _("Not one of your municipalities.")})
    now = clock.now()
    facilitators = _facilitators(facilitator_ids)
    lock_calendars(user.id for user in facilitators)
    group = PeerGroup(
        name=name.strip(), description=(description or "").strip(),
        public_title=(public_title.strip() if public_title is not None
                      else default_public_title(name)),
        themes=list(dict.fromkeys(themes)), min_age_months=min_age_months,
        max_age_months=max_age_months, tracks=list(dict.fromkeys(tracks)),
        language=language, venue=venue_named(venue) if venue else None,
        capacity=capacity, municipalities=places,
        facilitators=facilitators, enrollment_opens=enrollment_opens,
        enrollment_closes=enrollment_closes, status="draft", created_at=now,
        updated_at=now)
    db.session.add(group)
    if series is not None:
        apply_series(group, series, zone=zone, now=now)
    db.session.flush()
    audit.record(actor, "group.create", "group", group.id, at=now)
    return group


def update_group(actor: User, group: PeerGroup, changes: dict, *, zone, clock) -> PeerGroup:
    """Change a group's details, capacity, series or status."""
    require(can_manage(actor, group), _("You may not change this group."))
    if group.status in ("finished", "cancelled") and set(changes) - {"description"}:
        raise Conflict(_("A finished or cancelled group can no longer be changed."),
                       code="group_closed")
    _check_group_fields(changes)
    now = clock.now()
    minimum = changes.get("min_age_months", group.min_age_months)
    maximum = changes.get("max_age_months", group.max_age_months)
    _check_ages(minimum, maximum)
    _check_window(changes.get("enrollment_opens", group.enrollment_opens),
                  changes.get("enrollment_closes", group.enrollment_closes))
    facilitators = (_facilitators(changes["facilitator_ids"]) if "facilitator_ids" in changes
                    else group.facilitators)
    if {"facilitator_ids", "series", "status"} & set(changes):
        # Sessions put on (or moved on) the facilitators' calendars, the old ones'
        # and the new ones': a booking for them waits for this change, then sees it.
        lock_calendars({user.id for user in [*group.facilitators, *facilitators]})
    for name in ("description", "min_age_months", "max_age_months", "language",
                 "enrollment_opens", "enrollment_closes"):
        if name in changes:
            setattr(group, name, changes[name])
    if "name" in changes:
        group.name = changes["name"].strip()
    if "public_title" in changes:
        group.public_title = (changes["public_title"] or "").strip()
    if "themes" in changes:
        group.themes = list(dict.fromkeys(changes["themes"]))
    if "tracks" in changes:
        group.tracks = list(dict.fromkeys(changes["tracks"]))
    if "venue" in changes:
        group.venue = venue_named(changes["venue"]) if changes["venue"] else None
    if "municipalities" in changes:
        places = municipalities_named(changes["municipalities"])
        if actor.role == COORDINATOR and not set(places) <= set(actor.municipalities):
            raise Forbidden(_("A coordinator organises groups for their own municipalities."))
        group.municipalities = places
    if "facilitator_ids" in changes:
        group.facilitators = facilitators
    if "series" in changes:
        apply_series(group, changes["series"], zone=zone, now=now)
    if "capacity" in changes:
        set_capacity(group, changes["capacity"], now=now, zone=zone)
    if "status" in changes and changes["status"] != group.status:
        set_status(group, changes["status"], now=now)
    group.updated_at = now
    db.session.flush()
    audit.record(actor, "group.update", "group", group.id, at=now,
                 detail={"fields": sorted(changes)})
    group_changed.send("groups", group_id=group.id, now=now)
    return group


def set_status(group: PeerGroup, status: str, *, now: datetime) -> None:
    """Move a group along draft -> open -> running -> finished, or cancel it."""
    if status not in TRANSITIONS:
        raise ValidationFailed(_("Unknown status."), fields={"status": _("Unknown status.")})
    if status not in TRANSITIONS[group.status]:
        raise Conflict(_("A group cannot go from %(old)s to %(new)s.",
                         old=group.status, new=status), code="invalid_transition",
                       fields={"status": _("Not allowed from the current status.")})
    if status == "open" and not upcoming_sessions(group, now):
        message = _("A group opens for enrollment only with sessions ahead.")
        raise RuleViolation(message, code="no_upcoming_sessions", fields={"status": message})
    if status in ("finished", "cancelled"):
        close_roster(group, finished=status == "finished", now=now)
    if status == "cancelled":
        for session in upcoming_sessions(group, now):
            cancel_session(session, now)
    group.status = status


def search_groups(*, municipality=None, status=None, theme=None, with_free_seats=False,
                  text="") -> sa.Select:
    """Groups filtered for the list page and the API, soonest first."""
    query = sa.select(PeerGroup)
    if municipality:
        query = query.where(PeerGroup.municipalities.any(name=municipality))
    if status:
        query = query.where(PeerGroup.status == status)
    if text:
        query = query.where(sa.func.lower(PeerGroup.name).like(f"%{text.lower()}%"))
    if with_free_seats:
        taken = (sa.select(sa.func.count(Enrollment.id))
                 .where(Enrollment.group_id == PeerGroup.id, Enrollment.status == "enrolled")
                 .scalar_subquery())
        query = query.where(PeerGroup.capacity > taken)
    query = query.order_by(PeerGroup.status != "open", PeerGroup.name)
    if theme:
        # Themes are a JSON list; filtered here to stay the same on both databases.
        ids = [group.id for group in db.session.scalars(query) if theme in group.themes]
        query = query.where(PeerGroup.id.in_(ids))
    return query.options(selectinload(PeerGroup.municipalities),
                         selectinload(PeerGroup.venue))
