"""Form helpers: the validators every form shares, the base of the forms read
from a query string, and a service's domain error shown on the form that caused it."""

from flask import render_template
from flask_wtf import FlaskForm
from wtforms.validators import ValidationError

from core.errors import DomainError
from core.input_checks import nonexistent_time_message, text_problem, years_message
from core.localtime import (
    EARLIEST_BIRTH_YEAR,
    EARLIEST_YEAR,
    NonexistentLocalTime,
    plausible_day,
    strict_local_datetime,
    unit_zone,
)


class QueryForm(FlaskForm):
    """A form read from the query string: filters, a search, a choice that shows
    the next step. It changes nothing, so it travels in the URL without a token."""

    class Meta:
        csrf = False


class PlainText:
    """Text without control characters; on one line unless ``multiline``.

    The one validator of text in forms, as ``core.fields.Text`` is in the API:
    names, places and references are one line, descriptions and notes keep
    their line breaks.
    """

    def __init__(self, *, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, form, field):
        if isinstance(field.data, str):
            problem = text_problem(field.data.strip(), multiline=self.multiline)
            if problem:
                raise ValidationError(problem)


one_line = PlainText()
multi_line = PlainText(multiline=True)


class PlausibleDate:
    """A date in the years the app takes (core.localtime); birth dates reach
    further back."""

    def __init__(self, earliest_year: int = EARLIEST_YEAR):
        self.earliest_year = earliest_year

    def __call__(self, form, field):
        if field.data is not None and not plausible_day(field.data, self.earliest_year):
            raise ValidationError(years_message(self.earliest_year))


plausible_date = PlausibleDate()
plausible_birth_date = PlausibleDate(EARLIEST_BIRTH_YEAR)


class ExistingLocalTime:
    """A time field that, on the day of another field, exists in the unit's zone.

    A time in the spring DST gap (03:30 on the last Sunday of March in Helsinki)
    is refused naming the time, rather than booked an hour later or refused as
    "the end is before the start".
    """

    def __init__(self, day_field: str):
        self.day_field = day_field

    def __call__(self, form, field):
        day = form[self.day_field].data
        if field.data is None or day is None or not plausible_day(day):
            return
        try:
            strict_local_datetime(day, field.data, unit_zone())
        except NonexistentLocalTime as error:
            raise ValidationError(nonexistent_time_message(error)) from None


def form_page(template, form, status=None, **context):
    """Render a form page: a submitted form that comes back here was refused (422)."""
    if status is None:
        status = 422 if form.is_submitted() else 200
    return render_template(template, form=form, **context), status


def attempt(form, action, *args, **kwargs):
    """Run a service call for a submitted form.

    Returns the call's result, or None after putting the error's field
    messages on the matching fields (and the rest on the form as a whole).
    """
    try:
        return action(*args, **kwargs)
    except DomainError as error:
        unplaced = []
        for name, message in error.fields.items():
            field = getattr(form, name, None)
            if field is not None and hasattr(field, "errors"):
                field.errors = [*field.errors, str(message)]
            else:
                unplaced.append(str(message))
        form.form_errors.extend(unplaced or [str(error.message)])
        return None
