"""Forms of the matching pages: field shapes only; the rules live in services."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FloatField, IntegerField, SubmitField
from wtforms.validators import InputRequired, NumberRange, Optional

from core import vocabulary
from families.forms import MultiCheckboxField
from matching.scoring import CRITERIA

# The labels of the codes, from core.vocabulary by the names forms have used.
CRITERION_LABELS = vocabulary.CRITERIA
PROPOSAL_STATUS_LABELS = vocabulary.PROPOSAL_STATUSES
ITEM_STATUS_LABELS = vocabulary.PROPOSAL_ITEM_STATUSES


class ProposalForm(FlaskForm):
    """A new bulk proposal: the municipalities it covers."""

    municipalities = MultiCheckboxField(_l("Municipalities"), validators=[Optional()])
    submit = SubmitField(_l("Make a proposal"))


class AcceptForm(FlaskForm):
    """The families of a proposal to place: those chosen, or all of them."""

    item_ids = MultiCheckboxField(_l("Families to place"), coerce=int,
                                  validators=[Optional()])
    accept_selected = SubmitField(_l("Accept selected"))
    accept_all = SubmitField(_l("Accept all"))


class RejectForm(FlaskForm):
    """The confirmation of rejecting a whole proposal."""

    submit = SubmitField(_l("Reject the proposal"))


def _weight(label):
    # InputRequired, not DataRequired: 0 is a weight, and a malformed number
    # keeps its own message.
    return IntegerField(label, validators=[InputRequired(), NumberRange(min=0, max=100)])


# The columns of matching.models.MatchingPolicy an admin sets.
POLICY_FIELDS = (*CRITERIA, "max_clash_share", "waiting_full_days", "distance_zero_km")


def policy_data(weights) -> dict:
    """A policy's values as the form shows them: whole numbers where the form takes them."""
    data = {name: getattr(weights, name) for name in POLICY_FIELDS}
    for name in (*CRITERIA, "waiting_full_days"):
        data[name] = round(data[name])
    return data


class PolicyForm(FlaskForm):
    """The matching policy: the weights of the score and the limits of eligibility."""

    goals = _weight(CRITERION_LABELS["goals"])
    distance = _weight(CRITERION_LABELS["distance"])
    age = _weight(CRITERION_LABELS["age"])
    timing = _weight(CRITERION_LABELS["timing"])
    waiting = _weight(CRITERION_LABELS["waiting"])
    max_clash_share = FloatField(_l("Largest share of clashing home visits"),
                                 validators=[InputRequired(), NumberRange(min=0, max=1)])
    waiting_full_days = IntegerField(_l("Waiting counts fully after (days)"),
                                     validators=[InputRequired(),
                                                 NumberRange(min=1, max=3650)])
    distance_zero_km = FloatField(_l("Distance counts nothing from (km)"),
                                  validators=[InputRequired(), NumberRange(min=1, max=1000)])
    submit = SubmitField(_l("Save the weights"))

    def policy_fields(self) -> dict:
        """The values as matching.models.MatchingPolicy holds them."""
        return {name: getattr(self, name).data for name in POLICY_FIELDS}

    def validate(self, extra_validators=None) -> bool:
        """The fields, and at least one weight above zero: a score needs something."""
        if not super().validate(extra_validators):
            return False
        if not any(getattr(self, name).data for name in CRITERIA):
            self.form_errors.append(_l("Give at least one weight above zero."))
            return False
        return True
