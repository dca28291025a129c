"""The report filters as a form: its fields and their labels; reading and
checking the values is reports.services.read_filters, shared with the API."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, SubmitField

from core.forms import QueryForm, one_line
from core.vocabulary import TRACKS, choices


class ReportFilterForm(QueryForm):
    """The filters travel in the URL: a report changes nothing, needs no token."""

    period_from = StringField(_l("From (month)"), name="from", validators=[one_line])
    period_to = StringField(_l("To (month)"), name="to", validators=[one_line])
    municipality = SelectField(_l("Municipality"), validate_choice=False)
    track = SelectField(_l("Track"), choices=choices(TRACKS, _l("All tracks")),
                        validate_choice=False)
    worker = SelectField(_l("Family worker"), validate_choice=False)
    submit = SubmitField(_l("Show"))

    # The query argument each field reads, for the service's field errors.
    FIELDS_BY_ARGUMENT = {"from": "period_from", "to": "period_to",
                          "municipality": "municipality", "track": "track",
                          "worker": "worker"}
