"""The shared codes of the work and their labels: one registry for every code set.

Each code set is written once, here: the models build their check
constraints from it, the forms their choices, the API its fields, and the
pages show its labels through the one ``label`` template filter. The same
codes are used in the database, the API and the interface; labels are
translated through the message catalogues (lazy gettext, so that a label is
translated in the language of the request that shows it).
"""

from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

# Every vocabulary by its name, the name templates give the ``label`` filter.
REGISTRY: dict[str, "Vocabulary"] = {}


class Vocabulary(dict):
    """A code set in its order, each code with its translated label.

    A dict from code to label, so that it reads as the mappings it replaces
    (``TRACKS[code]``, ``code in TRACKS``, ``TRACKS.items()``). ``shown`` is
    false for codes that only the system reads (who owns a feed): those have
    no labels, and the label filter never meets them. ``translated`` is false
    for labels that are the same in every language of the interface (each
    language by its own name).
    """

    def __init__(self, name: str, labels, *, shown: bool = True, translated: bool = True):
        if shown:
            super().__init__(labels)
        else:
            super().__init__((code, None) for code in labels)
        if name in REGISTRY:
            raise ValueError(f"vocabulary {name!r} is registered twice")
        self.name = name
        self.shown = shown
        self.translated = shown and translated
        REGISTRY[name] = self

    @property
    def codes(self) -> tuple:
        """The codes in their order."""
        return tuple(self)

    def check(self, column: str) -> str:
        """The SQL of a check constraint that keeps ``column`` to these codes.

        Written as the migrations write it (``status IN ('a', 'b')``), so a
        constraint built here is the one the database holds.
        """
        values = ", ".join(str(code) if isinstance(code, int) else f"'{code}'"
                           for code in self)
        return f"{column} IN ({values})"

    def choices(self, blank=None) -> list[SelectChoice]:
        """A select's options from these codes and labels; see ``choices``."""
        return choices(self, blank)

    def label(self, code):
        """The translated label of a code; an unknown code is shown as it is."""
        found = self.get(code)
        return code if found is None else found


def vocabulary(name: str) -> Vocabulary:
    """The registered vocabulary of a name; KeyError for an unknown one."""
    return REGISTRY[name]


def label(code, name: str):
    """The translated label of a code in the named vocabulary, the pages'
    ``label`` filter; an unknown code is shown as it is."""
    return REGISTRY[name].label(code)


def choices(pairs, blank=None) -> list[SelectChoice]:
    """A select's options from (value, label) pairs or a code-to-label mapping.

    ``blank`` labels an empty first option, for "none" or "all".
    """
    if isinstance(pairs, dict):
        pairs = pairs.items()
    options = [SelectChoice("", blank)] if blank is not None else []
    return options + [SelectChoice(value, label) for value, label in pairs]


# --- people and families ---------------------------------------------------

ROLES = Vocabulary("role", {
    "admin": _l("Administrator"),
    "coordinator": _l("Coordinator"),
    "family_worker": _l("Family worker"),
    "social_worker": _l("Social worker"),
})

CHILD_PROTECTION = "child_protection"
PREVENTIVE = "preventive"

TRACKS = Vocabulary("track", {
    CHILD_PROTECTION: _l("Child-protection family work"),
    PREVENTIVE: _l("Preventive family work"),
})

SOCIAL_WORKER = "social_worker"

REFERRAL_SOURCES = Vocabulary("referral_source", {
    SOCIAL_WORKER: _l("Social worker"),
    "health_care": _l("Health care"),
    "child_health_clinic": _l("Child health clinic"),
    "early_childhood_education": _l("Early childhood education"),
    "other_authority": _l("Other authority"),
    "self": _l("The family itself (voluntary)"),
})

# A child-protection family always comes through a social worker; preventive
# work is voluntary and comes from the other sources or from the family itself.
REFERRAL_SOURCES_BY_TRACK = {
    CHILD_PROTECTION: (SOCIAL_WORKER,),
    PREVENTIVE: ("health_care", "child_health_clinic", "early_childhood_education",
                 "other_authority", "self"),
}

SUPPORT_AREAS = Vocabulary("support_area", {
    "parent_child_relationship": _l("Supporting the relationship between child and parent"),
    "positive_upbringing": _l("Finding positive means of upbringing"),
    "family_resources": _l("Finding and increasing the family's own resources"),
    "everyday_problems": _l("Guidance in managing everyday problems"),
    "time_together": _l("Encouraging the family to spend time together"),
    "doing_together": _l("Doing things together"),
    "service_mapping": _l("Mapping services"),
    "age_appropriate_development": _l("Supporting age-appropriate development"),
    "parenthood": _l("Supporting parenthood"),
    "care_and_upbringing": _l("Guidance in the care and upbringing of children"),
    "everyday_routines": _l("Managing the home's everyday life and routines"),
    "family_functioning": _l("Strengthening the family's capacity to function"),
    "interaction_and_networks": _l(
        "Supporting interaction skills and widening social networks"),
    "preventing_exclusion": _l("Preventing social exclusion"),
})

# Where the source text lists each area; any area may be a goal on either track.
SUPPORT_AREA_SOURCE_TRACK = {
    code: (CHILD_PROTECTION if index < 8 else PREVENTIVE)
    for index, code in enumerate(SUPPORT_AREAS)
}

LANGUAGES = Vocabulary("language", {
    "fi": _l("Finnish"),
    "sv": _l("Swedish"),
    "en": _l("English"),
    "ru": _l("Russian"),
    "uk": _l("Ukrainian"),
    "ar": _l("Arabic"),
    "so": _l("Somali"),
    "fa": _l("Persian"),
})

# The languages of the interface, of reminders and of feeds.
LOCALES = Vocabulary("locale", {"fi": _l("Finnish"), "en": _l("English")})
# The same languages each by its own name, for choosing one: a reader finds
# their language whatever the page's language is.
LOCALE_NAMES = Vocabulary("locale_name", {"fi": "suomi", "en": "English"}, translated=False)

FAMILY_STATUSES = Vocabulary("family_status", {
    "referred": _l("Referred"),
    "planning": _l("Planning"),
    "active": _l("Active"),
    "closed": _l("Closed"),
})
# Families whose work goes on: visits can be booked for them.
ONGOING_FAMILY_STATUSES = ("referred", "planning", "active")

MEMBER_ROLES = Vocabulary("member_role", {"guardian": _l("Guardian"), "child": _l("Child")})

# How a member gets reminders.
REMINDER_CHANNELS = Vocabulary("reminder_channel", {
    "sms": _l("Text message (SMS)"),
    "email": _l("E-mail"),
    "none": _l("No reminders"),
})

# --- peer groups -------------------------------------------------------------

GROUP_STATUSES = Vocabulary("group_status", {
    "draft": _l("Draft"),
    "open": _l("Open for enrollment"),
    "running": _l("Running"),
    "finished": _l("Finished"),
    "cancelled": _l("Cancelled"),
})
# What the button that moves a group to a status says, by that status.
GROUP_STATUS_ACTIONS = Vocabulary("status_action", {
    "draft": _l("Return to draft"),
    "open": _l("Open enrollment"),
    "running": _l("Mark as running"),
    "finished": _l("Mark as finished"),
    "cancelled": _l("Cancel the group"),
})
# A group that takes families: enrollment and matching look only at these.
ENROLLING_STATUSES = ("open", "running")

SESSION_STATUSES = Vocabulary("session_status", {
    "scheduled": _l("Scheduled"),
    "cancelled": _l("Cancelled"),
})

ENROLLMENT_STATUSES = Vocabulary("enrollment_status", {
    "enrolled": _l("Has a place"),
    "waitlisted": _l("On the waiting list"),
    "withdrawn": _l("Withdrawn"),
    "completed": _l("Completed"),
})

# ISO weekdays, Monday first, as series store them.
WEEKDAYS = Vocabulary("weekday", {
    1: _l("Monday"),
    2: _l("Tuesday"),
    3: _l("Wednesday"),
    4: _l("Thursday"),
    5: _l("Friday"),
    6: _l("Saturday"),
    7: _l("Sunday"),
})

# How often a series meets, in weeks: group series and visit series alike.
INTERVALS = Vocabulary("interval", {1: _l("Every week"), 2: _l("Every other week")})

# --- calendars ---------------------------------------------------------------

VISIT_KINDS = Vocabulary("visit_kind", {
    "planning_meeting": _l("Planning meeting"),
    "home_visit": _l("Home visit"),
    "review_meeting": _l("Review meeting"),
})

VISIT_STATUSES = Vocabulary("visit_status", {
    "scheduled": _l("Scheduled"),
    "done": _l("Done"),
    "cancelled": _l("Cancelled"),
    "no_show": _l("Family not met"),
})

ABSENCE_KINDS = Vocabulary("absence_kind", {
    "leave": _l("Leave"),
    "training": _l("Training"),
    "other": _l("Other absence"),
})

FEED_PRIVACY_LEVELS = Vocabulary("feed_privacy", {
    "minimal": _l("Minimal: the family's reference and municipality"),
    "detailed": _l("Detailed: also the surname and the street address"),
})

# Whose calendar a feed serves; read by the system only.
FEED_OWNER_TYPES = Vocabulary("feed_owner_type", ("worker", "group", "family"), shown=False)
# A feed stamp's owner: a feed's owner, or "all" for changes every feed may show.
FEED_STAMP_OWNER_TYPES = Vocabulary(
    "feed_stamp_owner_type", (*FEED_OWNER_TYPES, "all"), shown=False)

# --- matching ----------------------------------------------------------------

# The criteria of the score, in the order the scorer computes them.
CRITERIA = Vocabulary("criterion", {
    "goals": _l("Goals"),
    "distance": _l("Distance"),
    "age": _l("Age"),
    "timing": _l("Timing"),
    "waiting": _l("Waiting time"),
})

PROPOSAL_STATUSES = Vocabulary("proposal_status", {
    "open": _l("Waiting for review"),
    "accepted": _l("Accepted"),
    "partly_accepted": _l("Partly accepted"),
    "rejected": _l("Rejected"),
    "stale": _l("Outdated"),
})

PROPOSAL_ITEM_STATUSES = Vocabulary("item_status", {
    "proposed": _l("Proposed"),
    "accepted": _l("Placed"),
    "rejected": _l("Not accepted"),
    "failed": _l("Not placed"),
    "left_out": _l("Left out"),
})

# --- reminders -----------------------------------------------------------------

REMINDER_STATUSES = Vocabulary("reminder_status", {
    "pending": _l("Waiting"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
    "cancelled": _l("Cancelled"),
})

# What a message tells: a reminder ahead of an event, a notice that it changed,
# or a notice that it was cancelled.
MESSAGE_PURPOSES = Vocabulary("message_purpose", {
    "reminder": _l("Reminder"),
    "change": _l("Change notice"),
    "cancellation": _l("Cancellation notice"),
})

# The channel a message goes out on.
MESSAGE_CHANNELS = Vocabulary("message_channel", {"sms": _l("SMS"), "email": _l("E-mail")})

# The events a message is about: a home visit (any kind) or a group session.
EVENT_TYPES = Vocabulary("event_type", {
    "home_visit": _l("Visit"),
    "group_session": _l("Group session"),
})

# Why a message was cancelled rather than sent.
CANCEL_REASONS = Vocabulary("cancel_reason", {
    "event_changed": _l("the event changed"),
    "event_cancelled": _l("the event was cancelled"),
    "not_recipient": _l("the family no longer takes part"),
    "opted_out": _l("the guardian stopped reminders"),
    "no_consent": _l("the guardian no longer gets reminders on this channel"),
    "too_late": _l("too late to send"),
    "staff": _l("cancelled by staff"),
})

# Reminder policies are set per kind of event: the kinds of visit and group sessions.
POLICY_KINDS = Vocabulary("policy_kind", {
    "planning_meeting": _l("Planning meetings"),
    "home_visit": _l("Home visits"),
    "review_meeting": _l("Review meetings"),
    "group_session": _l("Group sessions"),
})
