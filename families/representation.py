"""A family's records as JSON: the API's shapes (marshmallow schemas that read
the models), which the right-of-access export dumps too."""

from flask_login import current_user
from marshmallow import missing

from core.fields import (
    Body,
    Boolean,
    Changes,
    Choice,
    Date,
    Instant,
    Integer,
    List,
    Nested,
    Text,
    ids,
)
from core.localtime import EARLIEST_BIRTH_YEAR
from core.vocabulary import LANGUAGES, REFERRAL_SOURCES, SUPPORT_AREAS, TRACKS
from families.models import (
    ADDRESS_MAX,
    AGREED_WITH_MAX,
    CONTENT_MAX,
    EMAIL_MAX,
    FIRST_NAME_MAX,
    MEMBER_ROLES,
    PHONE_MAX,
    REFERENCE_MAX,
    REMINDER_CHANNELS,
    STATUSES,
    SURNAME_MAX,
)
from families.services import may_see_address


class MemberSchema(Body):
    """A guardian or a child of a family."""

    id = Integer(dump_only=True)
    role = Choice(MEMBER_ROLES, required=True)
    first_name = Text(FIRST_NAME_MAX, min_length=1, required=True)
    birth_date = Date(allow_none=True, earliest_year=EARLIEST_BIRTH_YEAR,
                      description="Required for children")
    phone = Text(PHONE_MAX)
    email = Text(EMAIL_MAX)
    reminder_channel = Choice(REMINDER_CHANNELS)
    locale = Choice(("fi", "en"), description="Language of reminders")


class MemberChangesSchema(Changes, MemberSchema):
    """A change of a member: any of its fields."""


class PlanSchema(Body):
    """The family's plan: goals (support areas) and dates."""

    goals = List(Choice(SUPPORT_AREAS), required=True, max_items=len(SUPPORT_AREAS))
    content = Text(CONTENT_MAX, multiline=True)
    agreed_with = Text(AGREED_WITH_MAX)
    start_date = Date(required=True)
    review_date = Date(required=True)
    social_worker_participated = Boolean(
        description="Required true for child-protection families")
    updated_at = Instant(dump_only=True)


class FamilySchema(Body):
    """A family as answered; its address is null for those who may not see it.

    Made with ``detail=False`` it leaves out the members and the plan (a list of
    families); with ``right_of_access=True`` it shows the address to whoever
    reads, as the family's own export does.
    """

    id = Integer(dump_only=True)
    reference = Text(REFERENCE_MAX, dump_only=True)
    surname = Text(SURNAME_MAX, min_length=1, required=True)
    municipality = Text(120, min_length=1, required=True,
                        description="The municipality's name")
    address = Text(ADDRESS_MAX, allow_none=True,
                   description="Null in answers to those who may not see an address"
                               " under non-disclosure")
    address_non_disclosure = Boolean(
        description="The address is under non-disclosure (turvakielto): only the"
                    " family's assigned workers and responsible social worker see it")
    track = Choice(TRACKS, required=True)
    referral_source = Choice(REFERRAL_SOURCES, required=True)
    referral_date = Date(required=True)
    responsible_social_worker_id = Integer(allow_none=True)
    family_worker_ids = List(Integer(), max_items=10)
    status = Choice(STATUSES, description="Set on update; new families are referred")
    languages = List(Choice(LANGUAGES), max_items=len(LANGUAGES))
    members = Nested(MemberSchema, many=True,
                     description="Given on create; then through /members")
    plan = Nested(PlanSchema, allow_none=True, dump_only=True,
                  description="The plan, or null")
    confirm = Boolean(load_only=True,
                      description="On create: true registers a probable duplicate;"
                                  " otherwise a 409 probable_duplicate names it")

    def __init__(self, *args, detail=True, right_of_access=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.detail = detail
        self.right_of_access = right_of_access

    def read_municipality(self, family):
        return family.municipality.name

    def read_address(self, family):
        # The reader is the caller (services.may_see_address).
        disclosed = self.right_of_access or may_see_address(current_user, family)
        return family.address if disclosed else None

    def read_family_worker_ids(self, family):
        return ids(family.family_workers)

    def read_members(self, family):
        return family.members if self.detail else missing

    def read_plan(self, family):
        return family.plan if self.detail else missing


class FamilyInputSchema(FamilySchema):
    """A family as registered: an address is text, never null."""

    address = Text(ADDRESS_MAX)


class FamilyChangesSchema(Changes, FamilyInputSchema):
    """A change of a family: any of its fields."""
