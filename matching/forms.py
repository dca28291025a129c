"""Forms of the matching pages: field shapes only; the rules live in services."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField
from wtforms.validators import Optional

from families.forms import MultiCheckboxField

# Labels of the codes in matching/scoring.py and matching/models.py.
CRITERION_LABELS = {
    "goals": _l("Goals"),
    "distance": _l("Distance"),
    "age": _l("Age"),
    "timing": _l("Timing"),
    "waiting": _l("Waiting time"),
}
PROPOSAL_STATUS_LABELS = {
    "open": _l("Waiting for review"),
    "accepted": _l("Accepted"),
    "partly_accepted": _l("Partly accepted"),
    "rejected": _l("Rejected"),
    "stale": _l("Outdated"),
}
ITEM_STATUS_LABELS = {
    "proposed": _l("Proposed"),
    "accepted": _l("Placed"),
    "rejected": _l("Not accepted"),
    "failed": _l("Not placed"),
    "left_out": _l("Left out"),
}


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
