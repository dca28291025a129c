"""Forms of the families pages: field shapes only; the rules live in services."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from core.forms import QueryForm, multi_line, one_line, plausible_birth_date, plausible_date
from core.vocabulary import (
    FAMILY_STATUSES,
    LANGUAGES,
    LOCALES,
    MEMBER_ROLES,
    REFERRAL_SOURCES,
    REMINDER_CHANNELS,
    SUPPORT_AREAS,
    TRACKS,
    choices,
)
from families.models import (
    ADDRESS_MAX,
    AGREED_WITH_MAX,
    CONTENT_MAX,
    EMAIL_MAX,
    FIRST_NAME_MAX,
    PHONE_MAX,
    SURNAME_MAX,
)

# The labels of the codes, from core.vocabulary by the names forms have used.
STATUS_LABELS = FAMILY_STATUSES
MEMBER_ROLE_LABELS = MEMBER_ROLES
REMINDER_CHANNEL_LABELS = REMINDER_CHANNELS
REMINDER_LOCALES = LOCALES

SEARCH_TEXT_MAX = 100


def optional_id(value):
    """Coerce a select's value to a user id; the empty choice means none."""
    if value in (None, "", "None"):
        return None
    return int(value)


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as a group of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class FamilySearchForm(QueryForm):
    """The list page's filters, read from the query string."""

    q = StringField(_l("Reference or surname"),
                    validators=[Optional(), Length(max=SEARCH_TEXT_MAX), one_line])
    track = SelectField(_l("Track"), choices=choices(TRACKS, _l("All tracks")),
                        validators=[Optional()])
    status = SelectField(_l("Status"),
                         choices=choices(STATUS_LABELS, _l("All statuses")),
                         validators=[Optional()])
    municipality = SelectField(_l("Municipality"), validators=[Optional()])
    submit = SubmitField(_l("Search"))


class FamilyForm(FlaskForm):
    """A family's details: registration and editing.

    The views fill in the choices that come from the database (municipalities
    and staff); ``status`` is removed on registration, where a family starts
    as referred.
    """

    surname = StringField(_l("Surname"),
                          validators=[DataRequired(), Length(max=SURNAME_MAX), one_line])
    municipality = SelectField(_l("Municipality"), validators=[DataRequired()])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=ADDRESS_MAX), one_line])
    address_non_disclosure = BooleanField(_l("The address is under non-disclosure"))
    track = SelectField(_l("Track"), choices=choices(TRACKS, _l("Choose a track")),
                        validators=[DataRequired()])
    referral_source = SelectField(
        _l("Referral source"),
        choices=choices(REFERRAL_SOURCES, _l("Choose a referral source")),
        validators=[DataRequired()])
    # InputRequired, not DataRequired: a malformed date keeps its own message.
    referral_date = DateField(_l("Referral date"), validators=[InputRequired(), plausible_date])
    responsible_social_worker_id = SelectField(_l("Responsible social worker"),
                                               coerce=optional_id,
                                               validators=[Optional()])
    family_worker_ids = MultiCheckboxField(_l("Family workers"), coerce=int,
                                           validators=[Optional()])
    languages = MultiCheckboxField(_l("Languages"), choices=choices(LANGUAGES),
                                   validators=[Optional()])
    status = SelectField(_l("Status"), choices=choices(STATUS_LABELS),
                         validators=[DataRequired()])
    # Registration only: shown once a probable duplicate has been named.
    confirm_duplicate = BooleanField(_l("This is another family: register it anyway"))
    submit = SubmitField(_l("Save"))

    def service_fields(self) -> dict:
        """The fields as the services take them.

        ``address`` is removed for an editor who may not see an address under
        non-disclosure: the address they cannot see stays as it is.
        """
        fields = {
            "surname": self.surname.data,
            "municipality": self.municipality.data,
            "address_non_disclosure": bool(self.address_non_disclosure.data),
            "track": self.track.data,
            "referral_source": self.referral_source.data,
            "referral_date": self.referral_date.data,
            "responsible_social_worker_id": self.responsible_social_worker_id.data,
            "family_worker_ids": list(self.family_worker_ids.data or []),
            "languages": list(self.languages.data or []),
        }
        if self.address is not None:
            fields["address"] = self.address.data or ""
        if self.status is not None:  # removed on registration
            fields["status"] = self.status.data
        if self.confirm_duplicate is not None:  # removed on editing
            fields["confirm"] = bool(self.confirm_duplicate.data)
        return fields


class MemberForm(FlaskForm):
    """A guardian or a child of a family."""

    role = SelectField(_l("Role in the family"), choices=choices(MEMBER_ROLE_LABELS),
                       validators=[DataRequired()])
    first_name = StringField(_l("First name"),
                             validators=[DataRequired(), Length(max=FIRST_NAME_MAX), one_line])
    birth_date = DateField(_l("Birth date"), validators=[Optional(), plausible_birth_date])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=PHONE_MAX), one_line])
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=EMAIL_MAX), one_line])
    reminder_channel = SelectField(_l("Reminders"),
                                   choices=choices(REMINDER_CHANNEL_LABELS),
                                   validators=[DataRequired()])
    locale = SelectField(_l("Language of reminders"), choices=choices(REMINDER_LOCALES),
                         validators=[DataRequired()])
    submit = SubmitField(_l("Save"))

    def service_fields(self) -> dict:
        """The fields as the services take them."""
        return {
            "role": self.role.data,
            "first_name": self.first_name.data,
            "birth_date": self.birth_date.data,
            "phone": self.phone.data or "",
            "email": self.email.data or "",
            "reminder_channel": self.reminder_channel.data,
            "locale": self.locale.data,
        }


class PlanForm(FlaskForm):
    """The family's plan, agreed with the family."""

    goals = MultiCheckboxField(_l("Goals"), choices=choices(SUPPORT_AREAS),
                               validators=[DataRequired(
                                   _l("Choose at least one goal from the support areas."))])
    content = TextAreaField(_l("Content of the work"),
                            validators=[Optional(), Length(max=CONTENT_MAX), multi_line])
    agreed_with = StringField(_l("Agreed with"),
                              validators=[Optional(), Length(max=AGREED_WITH_MAX), one_line])
    start_date = DateField(_l("Start date"), validators=[InputRequired(), plausible_date])
    review_date = DateField(_l("Review date"), validators=[InputRequired(), plausible_date])
    social_worker_participated = BooleanField(
        _l("The responsible social worker took part in the plan"))
    submit = SubmitField(_l("Save the plan"))

    def service_fields(self) -> dict:
        """The fields as ``services.set_plan`` takes them."""
        return {
            "goals": list(self.goals.data or []),
            "content": self.content.data or "",
            "agreed_with": self.agreed_with.data or "",
            "start_date": self.start_date.data,
            "review_date": self.review_date.data,
            "social_worker_participated": self.social_worker_participated.data,
        }


class ConfirmForm(FlaskForm):
    """A confirmation button with its CSRF token."""

    submit = SubmitField(_l("Remove"))
