"""Forms of the calendar pages: field shapes only; the rules live in services."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from calendars.conflicts import ABSENCE_LABELS
from calendars.models import NOTES_MAX, PLACE_MAX, REASON_MAX
from calendars.services import MAX_VISIT_MINUTES
from core import vocabulary
from core.forms import ExistingLocalTime, multi_line, one_line, plausible_date
from core.vocabulary import choices
from families.forms import MultiCheckboxField, optional_id

# The labels of the codes, from core.vocabulary by the names forms have used.
VISIT_KIND_LABELS = vocabulary.VISIT_KINDS
VISIT_STATUS_LABELS = vocabulary.VISIT_STATUSES
REPEAT_LABELS = vocabulary.INTERVALS

TIME_FORMATS = ["%H:%M", "%H.%M"]
DEFAULT_DURATION_MINUTES = 60
# A series booked from the form: enough for half a year of weekly visits.
MAX_REPEATS = 26
# What suggesting free times needs: whose times, for whom and for how long.
SUGGESTION_FIELDS = ("csrf_token", "family_id", "kind", "worker_ids", "duration_minutes")


class VisitForm(FlaskForm):
    """Booking one visit or a weekly or fortnightly series of them.

    The view fills in the families and workers the user may choose from.
    ``end`` wins over ``duration_minutes`` when both are given.
    """

    family_id = SelectField(_l("Family"), coerce=optional_id, validators=[InputRequired()])
    kind = SelectField(_l("Kind of visit"), choices=choices(VISIT_KIND_LABELS),
                       validators=[DataRequired()])
    day = DateField(_l("Date"), validators=[InputRequired(), plausible_date])
    start = TimeField(_l("Start time"), format=TIME_FORMATS,
                      validators=[InputRequired(), ExistingLocalTime("day")])
    duration_minutes = IntegerField(
        _l("Duration in minutes"),
        validators=[Optional(), NumberRange(min=1, max=MAX_VISIT_MINUTES)])
    end = TimeField(_l("End time"), format=TIME_FORMATS,
                    validators=[Optional(), ExistingLocalTime("day")])
    worker_ids = MultiCheckboxField(_l("Family workers"), coerce=int, validators=[
        DataRequired(_l("Choose one or two family workers."))])
    place = StringField(_l("Place"), validators=[Optional(), Length(max=PLACE_MAX), one_line])
    repeat = SelectField(_l("Repeat"), coerce=optional_id,
                         choices=choices(REPEAT_LABELS, _l("Only once")),
                         validators=[Optional()])
    count = IntegerField(_l("Number of visits"),
                         validators=[Optional(), NumberRange(min=2, max=MAX_REPEATS)])
    confirm = BooleanField(_l("Book despite the warnings"))

    suggest = SubmitField(_l("Suggest times"))
    submit = SubmitField(_l("Book the visit"))

    def validate_suggestion(self) -> bool:
        """Validate what suggesting times needs (and the CSRF token) alone."""
        valid = True
        for name in SUGGESTION_FIELDS:
            field = getattr(self, name)
            if not field.validate(self):
                valid = False
        return valid

    def duration(self) -> int:
        """The visit's length in minutes from the duration field (the default if empty)."""
        return self.duration_minutes.data or DEFAULT_DURATION_MINUTES


class MoveForm(FlaskForm):
    """Moving a visit to another date or time."""

    day = DateField(_l("Date"), validators=[InputRequired(), plausible_date])
    start = TimeField(_l("Start time"), format=TIME_FORMATS,
                      validators=[InputRequired(), ExistingLocalTime("day")])
    end = TimeField(_l("End time"), format=TIME_FORMATS,
                    validators=[InputRequired(), ExistingLocalTime("day")])
    confirm = BooleanField(_l("Move despite the warnings"))
    submit = SubmitField(_l("Move the visit"))


class CancelForm(FlaskForm):
    """Cancelling a visit, with the reason calendars and colleagues see."""

    cancel_reason = StringField(_l("Reason for cancelling"), validators=[
        DataRequired(_l("Say why the visit is cancelled.")), Length(max=REASON_MAX),
        one_line])
    submit = SubmitField(_l("Cancel the visit"))


class NoShowForm(FlaskForm):
    """Recording that the family was not met."""

    no_show_reason = StringField(_l("What happened"),
                                 validators=[Optional(), Length(max=REASON_MAX), one_line])
    submit = SubmitField(_l("Record that the family was not met"))


class DoneForm(FlaskForm):
    """Marking a visit held."""

    submit = SubmitField(_l("Mark as done"))


class NotesForm(FlaskForm):
    """The worker's notes of a visit, kept in the system only."""

    notes = TextAreaField(_l("Notes"),
                          validators=[Optional(), Length(max=NOTES_MAX), multi_line])
    submit = SubmitField(_l("Save the notes"))


class ConfirmForm(FlaskForm):
    """A confirmation button with its CSRF token."""

    submit = SubmitField(_l("Delete the visit"))


# --- working time ----------------------------------------------------------

class DayHoursForm(Form):
    """One weekday's hours; both blank, the day is not worked."""

    start = TimeField(_l("Starts"), format=TIME_FORMATS, validators=[Optional()])
    end = TimeField(_l("Ends"), format=TIME_FORMATS, validators=[Optional()])

    def validate(self, extra_validators=None):
        if not super().validate(extra_validators):
            return False
        if (self.start.data is None) != (self.end.data is None):
            self.end.errors.append(_l("Give both times, or neither for a day off."))
            return False
        return True


class WorkingHoursForm(FlaskForm):
    """A worker's hours, Monday to Sunday."""

    days = FieldList(FormField(DayHoursForm), min_entries=7, max_entries=7)
    submit = SubmitField(_l("Save the working hours"))


class DefaultHoursForm(FlaskForm):
    """Going back to the unit's default hours."""

    submit = SubmitField(_l("Use the unit's default hours"))


class AbsenceForm(FlaskForm):
    """An absence from one day to another; without times, whole days."""

    kind = SelectField(_l("Kind of absence"), choices=choices(ABSENCE_LABELS),
                       validators=[DataRequired()])
    first_day = DateField(_l("First day"), validators=[InputRequired(), plausible_date])
    start_time = TimeField(_l("From (time)"), format=TIME_FORMATS,
                           validators=[Optional(), ExistingLocalTime("first_day")])
    last_day = DateField(_l("Last day"), validators=[InputRequired(), plausible_date])
    end_time = TimeField(_l("Until (time)"), format=TIME_FORMATS,
                         validators=[Optional(), ExistingLocalTime("last_day")])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=REASON_MAX), one_line])
    confirm = BooleanField(_l("Record it anyway: the visits and sessions stay booked "
                              "until they are moved"))
    submit = SubmitField(_l("Record the absence"))


class DeleteAbsenceForm(FlaskForm):
    """Removing an absence, with its CSRF token."""

    submit = SubmitField(_l("Remove"))
