"""Forms of the reminder pages: field shapes only; the rules live in services."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, SubmitField, TimeField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from core import vocabulary
from core.forms import QueryForm, one_line
from core.vocabulary import choices
from reminders.models import POLICY_KINDS

# The labels of the codes, from core.vocabulary by the names forms have used.
STATUS_LABELS = vocabulary.REMINDER_STATUSES
PURPOSE_LABELS = vocabulary.MESSAGE_PURPOSES
CHANNEL_LABELS = vocabulary.MESSAGE_CHANNELS
EVENT_TYPE_LABELS = vocabulary.EVENT_TYPES
CANCEL_REASON_LABELS = vocabulary.CANCEL_REASONS
POLICY_KIND_LABELS = vocabulary.POLICY_KINDS


class OutboxFilterForm(QueryForm):
    """The outbox list's filters, read from the query string."""

    status = SelectField(_l("Status"), choices=choices(STATUS_LABELS, _l("All")),
                         validators=[Optional()])
    purpose = SelectField(_l("Kind of message"), choices=choices(PURPOSE_LABELS, _l("All")),
                          validators=[Optional()])
    channel = SelectField(_l("Channel"), choices=choices(CHANNEL_LABELS, _l("All")),
                          validators=[Optional()])
    q = StringField(_l("Family reference"),
                    validators=[Optional(), Length(max=40), one_line])


def _lead(label):
    return IntegerField(label, validators=[Optional(), NumberRange(min=1, max=14 * 24)])


class PolicyForm(FlaskForm):
    """Lead times per kind of event, quiet hours and the planning horizon."""

    planning_meeting_first = _lead(_l("Planning meetings: first reminder, hours before"))
    planning_meeting_second = _lead(_l("Planning meetings: second reminder, hours before"))
    home_visit_first = _lead(_l("Home visits: first reminder, hours before"))
    home_visit_second = _lead(_l("Home visits: second reminder, hours before"))
    review_meeting_first = _lead(_l("Review meetings: first reminder, hours before"))
    review_meeting_second = _lead(_l("Review meetings: second reminder, hours before"))
    group_session_first = _lead(_l("Group sessions: first reminder, hours before"))
    group_session_second = _lead(_l("Group sessions: second reminder, hours before"))
    quiet_start = TimeField(_l("Quiet hours start"), validators=[InputRequired()])
    quiet_end = TimeField(_l("Quiet hours end"), validators=[InputRequired()])
    horizon_days = IntegerField(_l("Planning horizon (days)"),
                                validators=[InputRequired(), NumberRange(min=1, max=365)])
    submit = SubmitField(_l("Save the policy"))

    def lead_hours(self) -> dict:
        """The lead times by kind of event, as the service takes them."""
        return {kind: [value for value in (getattr(self, f"{kind}_first").data,
                                           getattr(self, f"{kind}_second").data)
                       if value is not None]
                for kind in POLICY_KINDS}

    def validate(self, extra_validators=None) -> bool:
        """Two lead times of one kind must differ."""
        if not super().validate(extra_validators):
            return False
        for kind in POLICY_KINDS:
            first = getattr(self, f"{kind}_first")
            second = getattr(self, f"{kind}_second")
            if first.data is not None and first.data == second.data:
                second.errors = [*second.errors, _l("The two reminders need different times.")]
                return False
        return True


def policy_data(policy) -> dict:
    """The form's initial data from a services.Policy."""
    data = {"quiet_start": policy.quiet_start, "quiet_end": policy.quiet_end,
            "horizon_days": policy.horizon_days}
    for kind in POLICY_KINDS:
        hours = list(policy.leads(kind)) + [None, None]
        data[f"{kind}_first"], data[f"{kind}_second"] = hours[0], hours[1]
    return data


class ActionForm(FlaskForm):
    """A button with its CSRF token (retry, cancel, stop reminders)."""

    submit = SubmitField(_l("Confirm"))
