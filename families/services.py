"""The rules of families: referral, who sees whom, members and the plan.

Every read and change of a family record is written to the audit log here,
so that pages and the API cannot forget it.
"""

import re
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import selectinload

from accounts.models import User
from core import audit
from core.errors import Conflict, Forbidden, NotFound, RuleViolation, ValidationFailed
from core.localtime import local_today
from core.places import municipality_named
from core.roles import ADMIN, COORDINATOR, FAMILY_WORKER, SOCIAL_WORKER
from core.text import LIKE_ESCAPE, contains_pattern, search_key
from core.vocabulary import (
    CHILD_PROTECTION,
    LANGUAGES,
    REFERRAL_SOURCES,
    REFERRAL_SOURCES_BY_TRACK,
    SUPPORT_AREAS,
    TRACKS,
)
from extensions import db
from families.models import (
    MEMBER_ROLES,
    REMINDER_CHANNELS,
    STATUSES,
    Family,
    Member,
    Plan,
    ReferenceCounter,
    TrackChange,
    family_workers,
)

REFERENCE_PREFIX = "PT"
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 ()-]{4,28}$")


# --- who sees what ---------------------------------------------------------

def visible_families_query(user: User) -> sa.Select:
    """The families a user may see, as a query to filter further.

    A family worker sees the families assigned to them, a coordinator those of
    their municipalities, a social worker the child-protection families they
    are responsible for and those they referred, an admin all.
    """
    query = sa.select(Family)
    if user.role == ADMIN:
        return query
    if user.role == COORDINATOR:
        return query.where(Family.municipality_id.in_([m.id for m in user.municipalities]))
    if user.role == FAMILY_WORKER:
        return query.where(Family.family_workers.any(User.id == user.id))
    if user.role == SOCIAL_WORKER:
        return query.where(sa.or_(
            sa.and_(Family.track == CHILD_PROTECTION,
                    Family.responsible_social_worker_id == user.id),
            Family.referred_by_id == user.id,
        ))
    return query.where(sa.false())


def can_see(user: User, family: Family) -> bool:
    """Whether a user may see a family (the same rule as the query)."""
    return db.session.scalar(
        visible_families_query(user).where(Family.id == family.id).with_only_columns(
            Family.id)) is not None


def can_edit_family(user: User, family: Family) -> bool:
    """Coordinators and admins edit the families they see; social workers
    their child-protection families. An anonymised family is kept for
    statistics only."""
    if family.anonymised_at is not None or not can_see(user, family):
        return False
    if user.role in (ADMIN, COORDINATOR):
        return True
    return user.role == SOCIAL_WORKER and family.track == CHILD_PROTECTION


def can_edit_members_and_plan(user: User, family: Family) -> bool:
    """Everyone who sees a family works with it, and may keep its members and plan."""
    return family.anonymised_at is None and can_see(user, family)


def can_create_families(user: User) -> bool:
    """Coordinators and admins register referrals; social workers refer families."""
    return user.role in (ADMIN, COORDINATOR, SOCIAL_WORKER)


def get_family(actor: User, family_id: int, *, clock,
               action="family.read") -> Family:
    """A family the actor may see, with the read written to the audit log.

    A family the actor may not see is answered as not found: its existence is
    itself confidential.
    """
    family = db.session.scalar(
        visible_families_query(actor).where(Family.id == family_id))
    if family is None:
        raise NotFound(_("No such family."))
    audit.record(actor, action, "family", family.id, at=clock.now())
    return family


def record_listing(actor: User, families, *, clock) -> None:
    """A list shows families too: write which ones the actor was shown.

    The one way every answer that names families (lists, calendars, rosters,
    reminders, reports) audits them: one event naming each family once, in
    order of id, and none when the answer showed no family.
    """
    family_ids = sorted({family.id for family in families})
    if family_ids:
        audit.record(actor, "family.list", "family", None, at=clock.now(),
                     detail={"family_ids": family_ids})


def search_families(actor: User, *, text="", track=None, status=None,
                    municipality=None, worker_id=None) -> sa.Select:
    """The actor's visible families filtered for the list page and the API."""
    query = visible_families_query(actor)
    if search_key(text):
        # Both sides folded by core.text.search_key: the surname's key is stored,
        # and a reference is ASCII, which lower() folds on both databases.
        pattern = contains_pattern(text)
        query = query.where(sa.or_(
            sa.func.lower(Family.reference).like(pattern, escape=LIKE_ESCAPE),
            Family.surname_key.like(pattern, escape=LIKE_ESCAPE)))
    if track:
        query = query.where(Family.track == track)
    if status:
        query = query.where(Family.status == status)
    if municipality:
        query = query.join(Family.municipality).where(
            Family.municipality.has(name=municipality))
    if worker_id:
        query = query.where(Family.family_workers.any(User.id == worker_id))
    # Lists show each family's municipality, workers and review date: load
    # them in three queries per page instead of three per family.
    return query.order_by(Family.reference).options(
        selectinload(Family.municipality), selectinload(Family.family_workers),
        selectinload(Family.plan))


# --- the address under non-disclosure (turvakielto) ------------------------

def may_see_address(reader: User | None, family: Family) -> bool:
    """Whether a reader may see the family's address (and the places of its visits).

    The one decision for every page, answer, feed, message, report and export.
    An address under non-disclosure is seen only by the family's assigned
    family workers and its responsible social worker; ``reader`` None is a
    channel that leaves the system (a feed, a reminder, a report, an export
    other than the right-of-access one), which never carries it.
    """
    if not family.address_non_disclosure:
        return True
    if reader is None:
        return False
    return (reader.id == family.responsible_social_worker_id
            or any(worker.id == reader.id for worker in family.family_workers))


def shown_address(reader: User | None, family: Family) -> str | None:
    """The family's address for a reader, or None where it is not disclosed."""
    return family.address if may_see_address(reader, family) else None


def address_readers(family_ids) -> dict[int, frozenset[int] | None]:
    """For each family, the user ids who may see its address; None where all may.

    For lists of events, which carry a family's id rather than the family:
    the same rule as ``may_see_address``, in two queries for the whole list.
    """
    ids = set(family_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Family.id, Family.address_non_disclosure,
                  Family.responsible_social_worker_id).where(Family.id.in_(ids))).all()
    readers: dict[int, frozenset[int] | None] = {}
    protected = {}
    for family_id, non_disclosure, social_worker_id in rows:
        if non_disclosure:
            protected[family_id] = {social_worker_id} - {None}
        else:
            readers[family_id] = None
    if protected:
        for family_id, user_id in db.session.execute(
                sa.select(family_workers.c.family_id, family_workers.c.user_id)
                .where(family_workers.c.family_id.in_(protected))):
            protected[family_id].add(user_id)
    readers.update({family_id: frozenset(users) for family_id, users in protected.items()})
    return readers


# --- probable duplicates ---------------------------------------------------

class ProbableDuplicate(Conflict):
    """A registration that looks like a family already registered."""

    code = "probable_duplicate"

    def __init__(self, message, *, families, fields=None, details=None):
        super().__init__(message, fields=fields, details=details)
        self.families = families


def probable_duplicates(surname, municipality, child_birth_dates=()) -> list[Family]:
    """Families that the registration of ``surname`` in ``municipality`` may repeat.

    The same surname (as searches compare it) in the same municipality, and,
    where the registration names children, a child born on one of their birth
    dates. Families whose identity has been removed are not compared.
    """
    query = (sa.select(Family)
             .where(Family.surname_key == search_key(surname),
                    Family.municipality.has(name=municipality),
                    Family.anonymised_at.is_(None)))
    dates = {day for day in child_birth_dates if day is not None}
    if dates:
        query = query.where(Family.members.any(sa.and_(Member.role == "child",
                                                       Member.birth_date.in_(dates))))
    return list(db.session.scalars(query.order_by(Family.reference)))


def check_probable_duplicate(actor: User, surname, municipality, members=()) -> None:
    """Refuse an unconfirmed registration that probably repeats a family.

    The refusal names the families the actor may see; of the others it says
    only that they exist and whom to ask: their existence is confidential.
    """
    found = probable_duplicates(
        surname, municipality,
        [fields.get("birth_date") for fields in members if fields.get("role") == "child"])
    if not found:
        return
    visible = [family for family in found if can_see(actor, family)]
    if visible:
        message = _("A family with the same surname is already registered in"
                    " %(municipality)s: %(references)s. Check that it is not the same"
                    " family; to register it anyway, confirm.",
                    municipality=municipality,
                    references=", ".join(family.reference for family in visible))
    else:
        message = _("A family with the same surname is probably already registered in"
                    " %(municipality)s. Ask a coordinator of %(municipality)s before"
                    " registering; to register it anyway, confirm.",
                    municipality=municipality)
    raise ProbableDuplicate(
        message, families=visible, fields={"surname": message},
        details=[{"id": family.id, "reference": family.reference} for family in visible])


# --- referral rules --------------------------------------------------------

def check_referral(track: str, referral_source: str,
                   responsible_social_worker: User | None) -> None:
    """Rules 2 and 3 of the work: where a family on each track may come from."""
    if track not in TRACKS:
        raise ValidationFailed(_("Unknown track."), fields={"track": _("Unknown track.")})
    if referral_source not in REFERRAL_SOURCES:
        raise ValidationFailed(_("Unknown referral source."),
                               fields={"referral_source": _("Unknown referral source.")})
    if track == CHILD_PROTECTION:
        if referral_source not in REFERRAL_SOURCES_BY_TRACK[CHILD_PROTECTION]:
            message = _("A family comes to child-protection family work only through"
                        " a social worker.")
            raise RuleViolation(message, code="child_protection_requires_social_worker",
                                fields={"referral_source": message})
        if responsible_social_worker is None:
            message = _("A child-protection family needs a responsible social worker.")
            raise RuleViolation(message, code="responsible_social_worker_required",
                                fields={"responsible_social_worker_id": message})
    elif referral_source not in REFERRAL_SOURCES_BY_TRACK[track]:
        message = _("Preventive family work comes from health care, the child health"
                    " clinic, early childhood education, another authority or the"
                    " family itself, not from a social worker.")
        raise RuleViolation(message, code="referral_source_not_allowed",
                            fields={"referral_source": message})


def _staff_member(user_id, role, field) -> User | None:
    """An active user of a role by id, or a field error."""
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.role != role:
        messages = {
            SOCIAL_WORKER: _("Choose an active social worker."),
            FAMILY_WORKER: _("Choose active family workers."),
        }
        raise ValidationFailed(messages[role], fields={field: messages[role]})
    return user


def _check_languages(languages) -> list[str]:
    unknown = [code for code in languages if code not in LANGUAGES]
    if unknown:
        raise ValidationFailed(_("Unknown language."),
                               fields={"languages": _("Unknown language code.")})
    return list(dict.fromkeys(languages))


def _check_in_scope(actor: User, municipality) -> None:
    """A coordinator registers families only in their own municipalities."""
    if actor.role == COORDINATOR and municipality not in actor.municipalities:
        raise Forbidden(_("This municipality is not one of yours."),
                        fields={"municipality": _("Not one of your municipalities.")})


def _next_reference(year: int) -> str:
    """The year's next reference, such as PT-2026-0042.

    One statement raises the year's counter (or starts it at 1) and returns the
    new number: PostgreSQL holds the counter's row locked and SQLite the whole
    database until the registration commits, so registrations at once take
    turns and never get the same number, and a number is never handed out again.
    """
    counters = ReferenceCounter.__table__
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    number = db.session.execute(
        insert(counters).values(year=year, last_number=1)
        .on_conflict_do_update(index_elements=[counters.c.year],
                               set_={"last_number": counters.c.last_number + 1})
        .returning(counters.c.last_number)).scalar_one()
    return f"{REFERENCE_PREFIX}-{year}-{number:04d}"


def create_family(actor: User, *, surname, municipality, track, referral_source,
                  referral_date, address="", responsible_social_worker_id=None,
                  family_worker_ids=(), languages=("fi",), members=(),
                  address_non_disclosure=False, confirm=False, clock) -> Family:
    """Register a referred family; ``municipality`` is given by name.

    ``members`` are dicts of member fields, added as with ``add_member``. A
    registration that probably repeats a family (``check_probable_duplicate``)
    is refused unless ``confirm`` is true.
    """
    if not can_create_families(actor):
        raise Forbidden(_("Your role does not allow registering families."))
    _check_required_text(surname, "surname")
    if actor.role == SOCIAL_WORKER and responsible_social_worker_id is None:
        responsible_social_worker_id = actor.id if track == CHILD_PROTECTION else None
    if actor.role == SOCIAL_WORKER and track != CHILD_PROTECTION:
        message = _("Social workers refer families to child-protection family work.")
        raise RuleViolation(message, code="referral_source_not_allowed",
                            fields={"track": message})
    municipality = municipality_named(municipality)
    _check_in_scope(actor, municipality)
    social_worker = _staff_member(responsible_social_worker_id, SOCIAL_WORKER,
                                  "responsible_social_worker_id")
    check_referral(track, referral_source, social_worker)
    today = local_today(clock.now())
    _check_not_future(referral_date, today, "referral_date")
    if not confirm:
        check_probable_duplicate(actor, surname, municipality.name, members)
    now = clock.now()
    family = Family(
        reference=_next_reference(today.year),
        surname=surname.strip(),
        municipality=municipality,
        address=(address or "").strip(),
        address_non_disclosure=bool(address_non_disclosure),
        track=track,
        referral_source=referral_source,
        referral_date=referral_date,
        referred_by=actor,
        responsible_social_worker=social_worker,
        family_workers=[_staff_member(user_id, FAMILY_WORKER, "family_worker_ids")
                        for user_id in dict.fromkeys(family_worker_ids)],
        status="referred",
        languages=_check_languages(languages),
        created_at=now,
        updated_at=now,
    )
    db.session.add(family)
    for fields in members:
        family.members.append(_build_member(fields, today))
    db.session.flush()
    audit.record(actor, "family.create", "family", family.id, at=now)
    if family.address_non_disclosure:
        _record_non_disclosure(actor, family, now)
    return family


def _record_non_disclosure(actor: User, family: Family, now) -> None:
    """Setting or lifting the address's non-disclosure is an audit event of its own."""
    audit.record(actor, "family.address_non_disclosure", "family", family.id, at=now,
                 detail={"address_non_disclosure": family.address_non_disclosure})


def update_family(actor: User, family: Family, changes: dict, *, clock) -> Family:
    """Change a family's details; a track change is recorded with its date."""
    if not can_edit_family(actor, family):
        raise Forbidden(_("You may not edit this family."))
    today = local_today(clock.now())
    track = changes.get("track", family.track)
    referral_source = changes.get("referral_source", family.referral_source)
    social_worker_id = changes.get("responsible_social_worker_id",
                                   family.responsible_social_worker_id)
    social_worker = _staff_member(social_worker_id, SOCIAL_WORKER,
                                  "responsible_social_worker_id")
    check_referral(track, referral_source, social_worker)
    if "municipality" in changes:
        municipality = municipality_named(changes["municipality"])
        _check_in_scope(actor, municipality)
        family.municipality = municipality
    if "surname" in changes:
        _check_required_text(changes["surname"], "surname")
        family.surname = changes["surname"].strip()
    if "address" in changes:
        family.address = (changes["address"] or "").strip()
    flag_changed = ("address_non_disclosure" in changes and bool(
        changes["address_non_disclosure"]) != family.address_non_disclosure)
    if flag_changed:
        family.address_non_disclosure = bool(changes["address_non_disclosure"])
    if "referral_date" in changes:
        _check_not_future(changes["referral_date"], today, "referral_date")
        family.referral_date = changes["referral_date"]
    if "languages" in changes:
        family.languages = _check_languages(changes["languages"])
    if "family_worker_ids" in changes:
        family.family_workers = [
            _staff_member(user_id, FAMILY_WORKER, "family_worker_ids")
            for user_id in dict.fromkeys(changes["family_worker_ids"])]
    track_changed = track != family.track
    if track_changed:
        family.track_changes.append(TrackChange(
            from_track=family.track, to_track=track, changed_on=today,
            changed_by_id=actor.id))
        family.track = track
    family.referral_source = referral_source
    family.responsible_social_worker = social_worker
    # A form sends the status it shows: the same status is no request to set it.
    status_set = changes.get("status", family.status) != family.status
    if status_set:
        _set_status(actor, family, changes["status"], clock.now())
    _follow_plan(family, promote=track_changed and not status_set)
    family.updated_at = clock.now()
    db.session.flush()
    audit.record(actor, "family.update", "family", family.id, at=clock.now(),
                 detail={"fields": sorted(changes)})
    if flag_changed:
        _record_non_disclosure(actor, family, clock.now())
    return family


def _set_status(actor: User, family: Family, status: str, now) -> None:
    """A status; closing starts the retention period, reopening ends it.

    Closing cancels bookings (``casework.privacy.close_family``), which only
    coordinators and admins may do for a family.
    """
    if status not in STATUSES:
        raise ValidationFailed(_("Unknown status."), fields={"status": _("Unknown status.")})
    if status == "active":
        state = family_plan_state(family)
        if state == "none":
            message = _("Family work starts with a plan: record the plan first.")
            raise RuleViolation(message, code="plan_required", fields={"status": message})
        if state == "awaiting_social_worker":
            message = _("A child-protection family's work starts once its plan records"
                        " the responsible social worker's participation.")
            raise RuleViolation(message, code="social_worker_participation_required",
                                fields={"status": message})
    if status == "closed" and family.status != "closed":
        if actor.role not in (ADMIN, COORDINATOR):
            message = _("Only a coordinator or an admin closes a family.")
            raise Forbidden(message, fields={"status": message})
        family.closed_at = now
    elif status != "closed":
        family.closed_at = None
    family.status = status


def _follow_plan(family: Family, *, promote: bool) -> None:
    """An active family whose plan is not in force (a preventive family moved
    to child protection, whose plan lacks the social worker's participation)
    is back in planning; with ``promote``, a family in planning whose plan is
    in force (the track changed back) is active again."""
    state = family_plan_state(family)
    if family.status == "active" and state != "in_force":
        family.status = "planning"
    elif promote and family.status in ("referred", "planning") and state == "in_force":
        family.status = "active"


# --- members ---------------------------------------------------------------

def _check_required_text(value, field) -> None:
    if not (value or "").strip():
        raise ValidationFailed(_("Check the highlighted fields."),
                               fields={field: _("This field is required.")})


def _check_not_future(day: date, today: date, field: str) -> None:
    if day > today:
        raise ValidationFailed(_("Check the highlighted fields."),
                               fields={field: _("The date cannot be in the future.")})


def _build_member(fields: dict, today: date, member: Member | None = None) -> Member:
    """Check a member's fields and apply them to a new or existing member."""
    member = member or Member()
    values = {
        "role": member.role, "first_name": member.first_name,
        "birth_date": member.birth_date, "phone": member.phone or "",
        "email": member.email or "", "reminder_channel": member.reminder_channel or "none",
        "locale": member.locale or "fi",
    }
    values.update({key: value for key, value in fields.items() if key in values})
    errors = {}
    if values["role"] not in MEMBER_ROLES:
        errors["role"] = _("A member is a guardian or a child.")
    if not (values["first_name"] or "").strip():
        errors["first_name"] = _("This field is required.")
    if values["role"] == "child" and values["birth_date"] is None:
        errors["birth_date"] = _("A child's birth date is needed for group fit.")
    if values["birth_date"] is not None and values["birth_date"] > today:
        errors["birth_date"] = _("The date cannot be in the future.")
    phone = (values["phone"] or "").strip()
    email = (values["email"] or "").strip()
    if phone and not PHONE_PATTERN.match(phone):
        errors["phone"] = _("Enter a phone number such as +358 40 123 4567.")
    if email and ("@" not in email or " " in email):
        errors["email"] = _("Enter a valid e-mail address.")
    channel = values["reminder_channel"]
    if channel not in REMINDER_CHANNELS:
        errors["reminder_channel"] = _("Unknown reminder channel.")
    elif values["role"] == "child" and channel != "none":
        errors["reminder_channel"] = _("Reminders go to guardians, not to children.")
    elif channel == "sms" and not phone:
        errors["reminder_channel"] = _("SMS reminders need a phone number.")
    elif channel == "email" and not email:
        errors["reminder_channel"] = _("E-mail reminders need an e-mail address.")
    if values["role"] == "child" and (phone or email):
        errors["phone" if phone else "email"] = _(
            "Contact details are kept for guardians only.")
    if errors:
        raise ValidationFailed(_("Check the highlighted fields."), fields=errors)
    values.update(first_name=values["first_name"].strip(), phone=phone, email=email)
    for key, value in values.items():
        setattr(member, key, value)
    return member


def add_member(actor: User, family: Family, fields: dict, *, clock) -> Member:
    """Add a guardian or a child to a family."""
    _check_may_work_with(actor, family)
    member = _build_member(fields, local_today(clock.now()))
    family.members.append(member)
    family.updated_at = clock.now()
    db.session.flush()
    audit.record(actor, "member.create", "family", family.id, at=clock.now(),
                 detail={"member_id": member.id})
    return member


def update_member(actor: User, member: Member, fields: dict, *, clock) -> Member:
    """Change a member's details."""
    _check_may_work_with(actor, member.family)
    _build_member(fields, local_today(clock.now()), member)
    member.family.updated_at = clock.now()
    audit.record(actor, "member.update", "family", member.family_id, at=clock.now(),
                 detail={"member_id": member.id, "fields": sorted(fields)})
    return member


def remove_member(actor: User, member: Member, *, clock) -> None:
    """Remove a member from a family."""
    family = member.family
    _check_may_work_with(actor, family)
    family.members.remove(member)
    family.updated_at = clock.now()
    audit.record(actor, "member.delete", "family", family.id, at=clock.now(),
                 detail={"member_id": member.id})


def _check_may_work_with(actor: User, family: Family) -> None:
    if not can_edit_members_and_plan(actor, family):
        raise NotFound(_("No such family."))


# --- the plan --------------------------------------------------------------

def set_plan(actor: User, family: Family, *, goals, start_date, review_date, content="",
             agreed_with="", social_worker_participated=False, clock) -> Plan:
    """Record or revise the family's plan (rule 4 of the work).

    A family with a plan and no later status becomes active: regular home
    visits and group seats can now be booked.
    """
    _check_may_work_with(actor, family)
    errors = {}
    goals = list(dict.fromkeys(goals or ()))
    if not goals:
        errors["goals"] = _("Choose at least one goal from the support areas.")
    elif any(goal not in SUPPORT_AREAS for goal in goals):
        errors["goals"] = _("Unknown support area.")
    if review_date < start_date:
        errors["review_date"] = _("The review date cannot be before the start date.")
    if errors:
        raise ValidationFailed(_("Check the highlighted fields."), fields=errors)
    if family.track == CHILD_PROTECTION and not social_worker_participated:
        message = _("A child-protection family's plan is made together with the"
                    " responsible social worker: record their participation.")
        raise RuleViolation(message, code="social_worker_participation_required",
                            fields={"social_worker_participated": message})
    now = clock.now()
    if family.plan is None:
        family.plan = Plan(created_at=now)
    plan = family.plan
    plan.goals = goals
    plan.content = (content or "").strip()
    plan.agreed_with = (agreed_with or "").strip()
    plan.start_date = start_date
    plan.review_date = review_date
    plan.social_worker_participated = bool(social_worker_participated)
    plan.updated_at = now
    if family.status in ("referred", "planning"):
        family.status = "active"
    family.updated_at = now
    db.session.flush()
    audit.record(actor, "plan.update", "family", family.id, at=now)
    return plan


# What a family's plan allows (rule 4 of the work): none yet; recorded but, on
# the child-protection track, without the responsible social worker's
# participation; or in force.
PLAN_STATES = ("none", "awaiting_social_worker", "in_force")
# What can be booked for a family: its visit kinds and a seat in a group.
BOOKING_KINDS = ("planning_meeting", "home_visit", "review_meeting", "group_place")


def plan_state(track: str, has_plan: bool, social_worker_participated: bool) -> str:
    """Whether a plan is in force: on the child-protection track only once it
    records the responsible social worker's participation (rule 4)."""
    if not has_plan:
        return "none"
    if track == CHILD_PROTECTION and not social_worker_participated:
        return "awaiting_social_worker"
    return "in_force"


def family_plan_state(family: Family) -> str:
    """The plan state of a family (see ``plan_state``)."""
    plan = family.plan
    return plan_state(family.track, plan is not None,
                      bool(plan is not None and plan.social_worker_participated))


def booking_refusal(*, status: str, track: str, plan: str, kind: str,
                    planning_meetings_booked: int = 0,
                    occurrences: int = 1) -> RuleViolation | None:
    """The one rule of what a family may have booked, or None when it may.

    ``plan`` is one of ``PLAN_STATES``; ``kind`` one of ``BOOKING_KINDS``;
    ``planning_meetings_booked`` counts the family's other planning meetings
    still on the calendar, and ``occurrences`` the visits booked at once (a
    series). A closed family gets nothing. Before its plan is in force a
    family gets only the planning meeting, and only one: no second one while
    one is booked, and no series of them. Every path that books a visit, brings
    one back onto the calendar or gives a group seat applies this rule.
    """
    if status == "closed":
        return RuleViolation(_("The family's work has ended: nothing can be booked."),
                             code="family_closed")
    if plan == "in_force":
        return None
    if kind != "planning_meeting":
        if plan == "awaiting_social_worker":
            return RuleViolation(
                _("A child-protection family's plan must record the responsible social"
                  " worker's participation before regular visits or group places are"
                  " booked."), code="social_worker_participation_required")
        return RuleViolation(
            _("Family work starts with a plan: only the planning meeting can be"
              " booked before the plan is recorded."), code="plan_required")
    if occurrences > 1 or planning_meetings_booked > 0:
        return RuleViolation(
            _("Only one planning meeting comes before the plan: record the plan, or"
              " move or cancel the planning meeting already booked."),
            code="one_planning_meeting")
    return None


def ensure_bookable(family: Family, kind: str, *, planning_meetings_booked: int = 0,
                    occurrences: int = 1) -> None:
    """Refuse what ``booking_refusal`` refuses for this family."""
    refusal = booking_refusal(status=family.status, track=family.track,
                              plan=family_plan_state(family), kind=kind,
                              planning_meetings_booked=planning_meetings_booked,
                              occurrences=occurrences)
    if refusal is not None:
        raise refusal
