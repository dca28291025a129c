"""Forms of the admin pages: field shapes only; the rules live in services."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FloatField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from accounts.models import EMAIL_MAX
from accounts.models import NAME_MAX as USER_NAME_MAX
from core.forms import QueryForm, one_line, plausible_date
from core.input_checks import MAX_ID
from core.models import NAME_MAX
from core.places import ADDRESS_MAX, REASON_MAX
from core.roles import ROLES
from core.vocabulary import choices
from families.forms import REMINDER_LOCALES, MultiCheckboxField

# The languages of the interface, for a user's own pages.
USER_LOCALES = REMINDER_LOCALES
ACTIVE_CHOICES = {"yes": _l("Active"), "no": _l("Deactivated")}
PASSWORD_MAX = 200


class UserFilterForm(QueryForm):
    """The user list's filters, read from the query string."""

    role = SelectField(_l("Role"), choices=choices(ROLES, _l("All roles")),
                       validators=[Optional()])
    active = SelectField(_l("Status"), choices=choices(ACTIVE_CHOICES, _l("All")),
                         validators=[Optional()])
    submit = SubmitField(_l("Filter"))


class _PasswordFields:
    password = PasswordField(_l("Password"),
                             validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    confirm = PasswordField(_l("Password again"), validators=[
        DataRequired(), EqualTo("password", message=_l("The passwords do not match."))])


class _UserFields(FlaskForm):
    """What an admin sets of every account; the view fills in municipalities."""

    name = StringField(_l("Name"),
                       validators=[DataRequired(), Length(max=USER_NAME_MAX), one_line])
    role = SelectField(_l("Role"), choices=choices(ROLES), validators=[DataRequired()])
    municipalities = MultiCheckboxField(_l("Municipalities"), validators=[Optional()])
    locale = SelectField(_l("Language"), choices=choices(USER_LOCALES),
                         validators=[DataRequired()])


class UserCreateForm(_PasswordFields, _UserFields):
    """A new staff account."""

    email = EmailField(_l("E-mail"),
                       validators=[DataRequired(), Length(max=EMAIL_MAX), one_line])
    submit = SubmitField(_l("Create the user"))

    def service_fields(self) -> dict:
        """The fields as accounts.services.create_user takes them."""
        return {"name": self.name.data, "email": self.email.data, "role": self.role.data,
                "municipalities": list(self.municipalities.data or ()),
                "locale": self.locale.data, "password": self.password.data}


class UserEditForm(_UserFields):
    """A user's details as an admin changes them."""

    active = BooleanField(_l("Active: may sign in"))
    submit = SubmitField(_l("Save"))

    def service_fields(self) -> dict:
        """The fields as accounts.services.update_user takes them."""
        return {"name": self.name.data, "role": self.role.data,
                "municipalities": list(self.municipalities.data or ()),
                "locale": self.locale.data, "active": bool(self.active.data)}


class PasswordForm(_PasswordFields, FlaskForm):
    """A new password an admin sets for a user."""

    submit = SubmitField(_l("Set the new password"))


class MunicipalityForm(FlaskForm):
    """A municipality and its approximate centroid."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=NAME_MAX), one_line])
    # InputRequired, not DataRequired: a malformed number keeps its own message.
    latitude = FloatField(_l("Latitude"), validators=[InputRequired()])
    longitude = FloatField(_l("Longitude"), validators=[InputRequired()])
    submit = SubmitField(_l("Save"))

    def service_fields(self) -> dict:
        return {"name": self.name.data, "latitude": self.latitude.data,
                "longitude": self.longitude.data}


class VenueForm(FlaskForm):
    """A place where groups meet; the view fills in the municipalities."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=NAME_MAX), one_line])
    municipality = SelectField(_l("Municipality"), validators=[DataRequired()])
    address = StringField(_l("Address"),
                          validators=[Optional(), Length(max=ADDRESS_MAX), one_line])
    accessible = BooleanField(_l("Accessible"))
    submit = SubmitField(_l("Save"))

    def service_fields(self) -> dict:
        return {"name": self.name.data, "municipality": self.municipality.data,
                "address": self.address.data or "", "accessible": bool(self.accessible.data)}


class BlackoutDateForm(FlaskForm):
    """A date closed for scheduled work."""

    day = DateField(_l("Date"), validators=[InputRequired(), plausible_date])
    reason = StringField(_l("Reason"),
                         validators=[DataRequired(), Length(max=REASON_MAX), one_line])
    submit = SubmitField(_l("Add the blackout date"))


def _audit_date(label):
    # The years the app takes: every record's, and a day's bounds are instants
    # the database can hold.
    return DateField(label, validators=[Optional(), plausible_date])


class AuditFilterForm(QueryForm):
    """Search the audit log; every field may be left empty."""

    actor = StringField(_l("Person (e-mail)"),
                        validators=[Optional(), Length(max=EMAIL_MAX), one_line])
    action = StringField(_l("Action"), validators=[Optional(), Length(max=60), one_line])
    target_type = StringField(_l("Target type"),
                              validators=[Optional(), Length(max=40), one_line])
    target_id = IntegerField(_l("Target id"), validators=[
        Optional(), NumberRange(min=1, max=MAX_ID)])
    reference = StringField(_l("Family reference"),
                            validators=[Optional(), Length(max=20), one_line])
    start = _audit_date(_l("From (date)"))
    end = _audit_date(_l("To (date)"))
    submit = SubmitField(_l("Search"))

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if valid and self.start.data and self.end.data and self.end.data < self.start.data:
            self.end.errors = [*self.end.errors, _l("The end cannot be before the start.")]
            valid = False
        return valid


class RetentionForm(FlaskForm):
    """How long closed families keep their identity."""

    years = IntegerField(_l("Years"), validators=[InputRequired(), NumberRange(min=0, max=100)])
    months = IntegerField(_l("Months"), validators=[InputRequired(),
                                                    NumberRange(min=0, max=11)])
    submit = SubmitField(_l("Save"))
