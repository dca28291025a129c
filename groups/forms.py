"""Forms of the peer-group pages: field shapes only; the rules live in services."""

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Field,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import TextArea

from core import vocabulary
from core.forms import ExistingLocalTime, QueryForm, multi_line, one_line, plausible_date
from core.localtime import plausible_day
from core.vocabulary import LANGUAGES, SUPPORT_AREAS, TRACKS, choices
from families.forms import MultiCheckboxField, optional_id
from groups.models import DESCRIPTION_MAX, NAME_MAX

# The labels of the codes, from core.vocabulary by the names forms have used.
GROUP_STATUS_LABELS = vocabulary.GROUP_STATUSES
SESSION_STATUS_LABELS = vocabulary.SESSION_STATUSES
ENROLLMENT_STATUS_LABELS = vocabulary.ENROLLMENT_STATUSES
STATUS_ACTIONS = vocabulary.GROUP_STATUS_ACTIONS
WEEKDAYS = vocabulary.WEEKDAYS
INTERVALS = vocabulary.INTERVALS

SEARCH_TEXT_MAX = 100
DATES_TEXT_MAX = 2000
# Finnish 24.12.2026 (day and month with or without a leading zero) or ISO 2026-12-24.
FINNISH_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

SERIES_FIELDS = ("weekday", "start_time", "duration_minutes", "first_date", "count",
                 "until", "interval_weeks", "added_dates", "removed_dates",
                 "remove_dates")


def parse_day(text: str) -> date:
    """A date written as 24.12.2026 or 2026-12-24; ValueError otherwise."""
    text = text.strip()
    finnish = FINNISH_DATE.match(text)
    if finnish:
        day_number, month, year = (int(part) for part in finnish.groups())
        day = date(year, month, day_number)
    elif ISO_DATE.match(text):
        day = date.fromisoformat(text)
    else:
        raise ValueError(text)
    if not plausible_day(day):
        raise ValueError(text)
    return day


class DateListField(Field):
    """Dates one per line or separated by commas, in Finnish or ISO form."""

    widget = TextArea()

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "\n".join(day.isoformat() for day in self.data or ())

    def process_formdata(self, valuelist):
        self.data = []
        if not valuelist:
            return
        text = valuelist[0] or ""
        if len(text) > DATES_TEXT_MAX:
            raise ValueError(_l("At most %(n)d characters.", n=DATES_TEXT_MAX))
        for part in re.split(r"[,;\n]+", text):
            if not part.strip():
                continue
            try:
                self.data.append(parse_day(part))
            except ValueError:
                self.data = []
                raise ValueError(_l("%(text)s is not a date. Write dates as 24.12.2026"
                                    " or 2026-12-24.", text=part.strip()[:20])) from None
        self.data = sorted(set(self.data))


def iso_day(value) -> date:
    """Coerce a preview checkbox's value (an ISO date) to a date."""
    if isinstance(value, date):
        return value
    if not ISO_DATE.match(value or ""):
        raise ValueError(value)
    return parse_day(value)


class GroupSearchForm(QueryForm):
    """The list page's filters, read from the query string."""

    q = StringField(_l("Name"),
                    validators=[Optional(), Length(max=SEARCH_TEXT_MAX), one_line])
    municipality = SelectField(_l("Municipality"), validators=[Optional()])
    status = SelectField(_l("Status"),
                         choices=choices(GROUP_STATUS_LABELS, _l("All statuses")),
                         validators=[Optional()])
    theme = SelectField(_l("Theme"), choices=choices(SUPPORT_AREAS, _l("All themes")),
                        validators=[Optional()])
    free = BooleanField(_l("Only groups with free places"))
    submit = SubmitField(_l("Search"))


class GroupForm(FlaskForm):
    """A group's details and its session series: creating and editing.

    The views fill in the choices that come from the database (municipalities,
    venues, facilitators and the statuses allowed next); ``status`` is removed
    on creation, where a group starts as a draft.
    """

    name = StringField(_l("Name"),
                       validators=[DataRequired(), Length(max=NAME_MAX), one_line])
    public_title = StringField(
        _l("Public title"),
        description=_l("The only name shown outside the service: in calendar feeds,"
                       " reminders and pages families read. Leave empty to call it a"
                       " group meeting."),
        validators=[Optional(), Length(max=NAME_MAX), one_line])
    description = TextAreaField(_l("Description"), validators=[
        Optional(), Length(max=DESCRIPTION_MAX), multi_line])
    themes = MultiCheckboxField(_l("Themes"), choices=choices(SUPPORT_AREAS),
                                validators=[Optional()])
    min_age_months = IntegerField(_l("Youngest child, in months"),
                                  validators=[InputRequired()])
    max_age_months = IntegerField(_l("Oldest child, in months"),
                                  validators=[InputRequired()])
    tracks = MultiCheckboxField(_l("Tracks"), choices=choices(TRACKS),
                                validators=[DataRequired(
                                    _l("Choose the tracks the group is for."))])
    language = SelectField(_l("Language"), choices=choices(LANGUAGES),
                           validators=[DataRequired()])
    municipalities = MultiCheckboxField(_l("Municipalities"), validators=[DataRequired(
        _l("Choose the municipalities the group serves."))])
    venue = SelectField(_l("Venue"), validators=[Optional()])
    capacity = IntegerField(_l("Capacity, in families"), validators=[InputRequired()])
    facilitator_ids = MultiCheckboxField(_l("Facilitators"), coerce=int,
                                         validators=[Optional()])
    enrollment_opens = DateField(_l("Enrollment opens"),
                                 validators=[Optional(), plausible_date])
    enrollment_closes = DateField(_l("Enrollment closes"),
                                  validators=[Optional(), plausible_date])
    status = SelectField(_l("Status"), validators=[DataRequired()])

    weekday = SelectField(_l("Weekday"), coerce=optional_id,
                          choices=choices(WEEKDAYS, _l("Choose a weekday")),
                          validators=[InputRequired()])
    start_time = TimeField(_l("Start time"), format=["%H:%M", "%H.%M"],
                           validators=[InputRequired()])
    duration_minutes = IntegerField(_l("Duration in minutes"), validators=[InputRequired()])
    first_date = DateField(_l("First date"), validators=[InputRequired(), plausible_date])
    count = IntegerField(_l("Number of sessions"), validators=[Optional()])
    until = DateField(_l("Last date"), validators=[Optional(), plausible_date])
    interval_weeks = SelectField(_l("Meets"), coerce=int, choices=choices(INTERVALS),
                                 validators=[InputRequired()])
    added_dates = DateListField(_l("Added dates"))
    removed_dates = DateListField(_l("Removed dates"))
    # The preview's "remove" checkboxes: any date, added to the removed dates.
    remove_dates = SelectMultipleField(_l("Remove"), coerce=iso_day, validate_choice=False)

    preview = SubmitField(_l("Preview dates"))
    submit = SubmitField(_l("Save"))

    def validate_series(self) -> bool:
        """Validate the series fields (and the CSRF token) alone, for a preview."""
        valid = True
        for name in ("csrf_token", *SERIES_FIELDS):
            field = getattr(self, name, None)
            if field is not None and not field.validate(self):
                valid = False
        return valid

    def removed_days(self) -> tuple[date, ...]:
        """Dates removed in the text field and by the preview's checkboxes."""
        return tuple(sorted(set(self.removed_dates.data or ()) |
                            set(self.remove_dates.data or ())))

    def series_fields(self) -> dict:
        """The series as ``services.series_rule`` takes it."""
        return {
            "weekday": self.weekday.data,
            "start_time": self.start_time.data,
            "duration_minutes": self.duration_minutes.data,
            "first_date": self.first_date.data,
            "count": self.count.data,
            "until": self.until.data,
            "interval_weeks": self.interval_weeks.data,
        }

    def group_fields(self) -> dict:
        """The group's own fields as the services take them (no series)."""
        fields = {
            "name": self.name.data or "",
            "public_title": (self.public_title.data or "").strip() or None,
            "description": self.description.data or "",
            "themes": list(self.themes.data or []),
            "min_age_months": self.min_age_months.data,
            "max_age_months": self.max_age_months.data,
            "tracks": list(self.tracks.data or []),
            "language": self.language.data,
            "municipalities": list(self.municipalities.data or []),
            "venue": self.venue.data or None,
            "capacity": self.capacity.data,
            "facilitator_ids": list(self.facilitator_ids.data or []),
            "enrollment_opens": self.enrollment_opens.data,
            "enrollment_closes": self.enrollment_closes.data,
        }
        if self.status is not None:  # removed on creation
            fields["status"] = self.status.data
        return fields


class StatusForm(FlaskForm):
    """A group's next status, one button per allowed transition."""

    status = SelectField(_l("Status"), choices=choices(GROUP_STATUS_LABELS),
                         validators=[DataRequired()])


class ChooseFamilyForm(QueryForm):
    """The first step of placing a family from the group's page."""

    family_id = SelectField(_l("Family"), coerce=optional_id,
                            validators=[InputRequired()])
    submit = SubmitField(_l("Choose the members"))


class SeatForm(FlaskForm):
    """A family's seat in a group: which group (from the family's side) and who attends."""

    group_id = SelectField(_l("Group"), coerce=optional_id, validators=[InputRequired()])
    member_ids = MultiCheckboxField(_l("Attending members"), coerce=int,
                                    validators=[DataRequired(
                                        _l("Choose the members of this family who will"
                                           " attend."))])
    submit = SubmitField(_l("Place the family"))


class SessionForm(FlaskForm):
    """Moving one session or changing its venue."""

    day = DateField(_l("Date"), validators=[InputRequired(), plausible_date])
    start = TimeField(_l("Start time"), format=["%H:%M", "%H.%M"],
                      validators=[InputRequired(), ExistingLocalTime("day")])
    end = TimeField(_l("End time"), format=["%H:%M", "%H.%M"],
                    validators=[InputRequired(), ExistingLocalTime("day")])
    venue = SelectField(_l("Venue"), validators=[Optional()])
    move = SubmitField(_l("Save the changes"))


class SessionStatusForm(FlaskForm):
    """Cancelling or restoring one session."""

    cancel = SubmitField(_l("Cancel this session"))
    restore = SubmitField(_l("Restore this session"))


class AttendanceForm(FlaskForm):
    """Who was at a session: one checkbox per expected member."""

    present = MultiCheckboxField(_l("Present"), coerce=int, validators=[Optional()])
    record = SubmitField(_l("Save the attendance"))


class ConfirmForm(FlaskForm):
    """A confirmation button with its CSRF token."""

    submit = SubmitField(_l("Withdraw"))
