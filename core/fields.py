"""The API's field types and base schemas (marshmallow): one declaration parses a
request, serialises an answer and documents both in the OpenAPI document.

Parsing turns JSON values into Python ones (dates, codes, ids) and gives one
message per field; services then apply the rules of the work. The checks of text
and dates are those the forms and the command line use (core/input_checks.py).
"""

from datetime import date, datetime, time

from flask_babel import gettext as _
from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, pre_load

from core.input_checks import (
    MAX_ID,
    MULTI_LINE_REFUSED,
    ONE_LINE_REFUSED,
    nonexistent_time_message,
    read_whole_number,
    text_problem,
    years_message,
)
from core.localtime import (
    EARLIEST_YEAR,
    LATEST_YEAR,
    NonexistentLocalTime,
    iso_local,
    parse_instant,
    plausible_day,
)
from core.text import nfc


class Messages:
    """Our own messages for a missing or empty value, in the caller's language.

    Made when the error is raised, in the request, so that gettext knows the
    language; marshmallow's own messages are English only.
    """

    def make_error(self, key, **kwargs):
        """The error of ``key``: ours for a missing or empty value."""
        if key == "required":
            return ValidationError(_("This field is required."))
        if key == "null":
            return ValidationError(_("This field cannot be empty."))
        return super().make_error(key, **kwargs)


def _describe(metadata, description, note=""):
    """The document's description of a field: its meaning and what input must be."""
    text = f"{description} ({note})" if description and note else description or note
    if text:
        metadata["description"] = text
    return metadata


class Text(Messages, fields.String):
    """Text on one line (a name, a place), or with ``multiline`` several (notes).

    Composed (NFC) and stripped before its length is counted, as it will be stored;
    control characters, NUL and lone surrogates are refused (``text_problem``).
    """

    def __init__(self, max_length, *, min_length=0, multiline=False, description="",
                 **kwargs):
        self.max_length = max_length
        self.min_length = min_length
        self.multiline = multiline
        refused = MULTI_LINE_REFUSED if multiline else ONE_LINE_REFUSED
        # The refused characters as a pattern: none of C0, DEL and C1 on one line,
        # and of them only line feed and carriage return in multi-line text.
        metadata = {"maxLength": max_length,
                    "pattern": f"^{refused.pattern.replace('[', '[^', 1)}*$"}
        if min_length:
            metadata["minLength"] = min_length
        super().__init__(metadata=_describe(metadata, description), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError(_("Expected text."))
        value = nfc(value).strip()
        problem = text_problem(value, multiline=self.multiline)
        if problem:
            raise ValidationError(problem)
        if len(value) > self.max_length:
            raise ValidationError(_("At most %(n)d characters.", n=self.max_length))
        if len(value) < self.min_length:
            raise ValidationError(_("This field is required."))
        return value


class Boolean(Messages, fields.Boolean):
    """True or false, as JSON writes them; no "yes", 1 or "true"."""

    def __init__(self, *, description="", **kwargs):
        super().__init__(metadata=_describe({}, description), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError(_("Expected true or false."))
        return value


class Integer(Messages, fields.Integer):
    """A whole number (an id, a count) from ``minimum`` to the largest both
    databases hold."""

    def __init__(self, *, minimum=1, maximum=MAX_ID, description="", **kwargs):
        self.minimum = minimum
        self.maximum = maximum
        super().__init__(metadata=_describe({"minimum": minimum, "maximum": maximum},
                                            description), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(_("Expected a whole number."))
        if value < self.minimum or value > self.maximum:
            raise ValidationError(_("Out of range."))
        return value


class Date(Messages, fields.String):
    """A date (2026-12-01) in the years the app takes (birth dates reach further back)."""

    def __init__(self, *, earliest_year=EARLIEST_YEAR, description="", **kwargs):
        self.earliest_year = earliest_year
        note = f"In the years {earliest_year}-{LATEST_YEAR}."
        super().__init__(metadata=_describe({"format": "date"}, description, note),
                         **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        # The packages' representations may give the ISO text already.
        return value.isoformat() if isinstance(value, date) else value

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError(_("Expected a date such as 2026-12-01."))
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ValidationError(_("Expected a date such as 2026-12-01.")) from None
        if not plausible_day(day, self.earliest_year):
            raise ValidationError(years_message(self.earliest_year))
        return day


class Time(Messages, fields.String):
    """A local wall-clock time such as "17:00"."""

    def __init__(self, *, description="", **kwargs):
        super().__init__(metadata=_describe({"pattern": "^[0-2][0-9]:[0-5][0-9]$"},
                                            description), **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return value.strftime("%H:%M") if isinstance(value, time) else value

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
            raise ValidationError(_("Expected a time such as 17:00."))
        try:
            return time.fromisoformat(value)
        except ValueError:
            raise ValidationError(_("Expected a time such as 17:00.")) from None


class Instant(Messages, fields.String):
    """A date-time with an offset, or local wall-clock time in the unit's zone;
    answered with the local offset (2026-12-01T17:00:00+02:00)."""

    def __init__(self, *, description="", **kwargs):
        note = (f"In the years {EARLIEST_YEAR}-{LATEST_YEAR}; local time without an"
                " offset must exist that day.")
        super().__init__(metadata=_describe({"format": "date-time"}, description, note),
                         **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return iso_local(value) if isinstance(value, datetime) else value

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            instant = parse_instant(value)
        except NonexistentLocalTime as error:
            raise ValidationError(nonexistent_time_message(error)) from None
        except (TypeError, ValueError, OverflowError):
            raise ValidationError(_("Expected a date and time such as"
                                    " 2026-12-01T17:00:00+02:00.")) from None
        if not plausible_day(instant):
            raise ValidationError(_("Expected a date and time between %(first)d and"
                                    " %(last)d.", first=EARLIEST_YEAR, last=LATEST_YEAR))
        return instant


class Choice(Messages, fields.String):
    """One of a set of codes."""

    def __init__(self, codes, *, description="", **kwargs):
        self.codes = tuple(codes)
        enum = list(self.codes) + ([None] if kwargs.get("allow_none") else [])
        super().__init__(metadata=_describe({"enum": enum}, description), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if value not in self.codes:
            raise ValidationError(_("Unknown code. Expected one of: %(codes)s.",
                                    codes=", ".join(self.codes)))
        return value


class List(Messages, fields.List):
    """A list of at most ``max_items`` values of one field."""

    def __init__(self, item, *, max_items=100, description="", **kwargs):
        self.max_items = max_items
        super().__init__(item, metadata=_describe({"maxItems": max_items}, description),
                         **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise ValidationError(_("Expected a list."))
        if len(value) > self.max_items:
            raise ValidationError(_("At most %(n)d items.", n=self.max_items))
        return super()._deserialize(value, attr, data, **kwargs)


class Nested(Messages, fields.Nested):
    """One object of another schema (a group's series), or with ``many`` a list of
    at most ``max_items`` of them (a family's members)."""

    def __init__(self, schema, *, max_items=30, description="", **kwargs):
        self.max_items = max_items
        metadata = {"maxItems": max_items} if kwargs.get("many") else {}
        super().__init__(schema, metadata=_describe(metadata, description), **kwargs)

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        if self.many:
            if not isinstance(value, list):
                raise ValidationError(_("Expected a list."))
            if len(value) > self.max_items:
                raise ValidationError(_("At most %(n)d items.", n=self.max_items))
        return super()._deserialize(value, attr, data, partial=partial, **kwargs)


class Body(Schema):
    """A request body or an answer: a JSON object of declared fields only.

    An answer is dumped from the object itself (a model, an event): a field reads
    the object's attribute of its name, or, where the schema has a method
    ``read_<field>(obj)``, what that gives (a related object's name, the ids of a
    relation, a figure worked out; ``missing`` leaves the field out).
    """

    class Meta:
        unknown = RAISE
        ordered = True

    error_messages = {"unknown": "Unknown field.",
                      "type": "The request body must be a JSON object."}

    def handle_error(self, error, data, **kwargs):
        """Put the schema's own messages in the caller's language."""
        # The schema's own messages (an unknown field, not an object) in the
        # caller's language; marshmallow's are fixed English strings.
        error.messages = _translated(error.messages)
        raise error

    def get_attribute(self, obj, attr, default):
        """The value of ``attr`` in the answer about ``obj``."""
        reader = getattr(self, f"read_{attr}", None)
        if reader is not None:
            return reader(obj)
        return super().get_attribute(obj, attr, default)


def _translated(messages):
    if isinstance(messages, dict):
        return {key: _translated(value) for key, value in messages.items()}
    if isinstance(messages, list):
        return [_translated(value) for value in messages]
    if messages == "Unknown field.":
        return _("Unknown field.")
    if messages == "The request body must be a JSON object.":
        return _("The request body must be a JSON object.")
    return messages


class Changes:
    """Put before a body's schema: a change of it, any of its fields."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


class With:
    """An object answered with fields it does not have: ``With(absence,
    booked=events)`` reads as the absence, and its ``booked`` as the events."""

    def __init__(self, answered, **more):
        self._answered = answered
        self.__dict__.update(more)

    def __getattr__(self, name):
        return getattr(self._answered, name)


def names(related) -> list[str]:
    """The names of related objects (a user's or a group's municipalities)."""
    return [item.name for item in related]


def ids(related) -> list[int]:
    """The ids of related objects (a visit's workers, a group's facilitators)."""
    return [item.id for item in related]


class Query(Schema):
    """Query parameters: unknown ones are ignored, an empty one is as if absent."""

    class Meta:
        unknown = EXCLUDE
        ordered = True

    @pre_load
    def _drop_empty(self, data, **kwargs):
        return {name: data[name] for name in data if data[name] not in ("", [])}


class WholeNumber(Messages, fields.Integer):
    """A whole-number query parameter in ASCII digits within bounds."""

    def __init__(self, *, low=1, high=MAX_ID, description="", **kwargs):
        self.low = low
        self.high = high
        super().__init__(metadata=_describe({"minimum": low, "maximum": high},
                                            description), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        number = read_whole_number(value if isinstance(value, str) else None,
                                   self.low, self.high)
        if number is None:
            raise ValidationError(_("Expected a whole number from %(low)d to %(high)d.",
                                    low=self.low, high=self.high))
        return number


def field_messages(messages) -> dict[str, str]:
    """Marshmallow's nested messages as the API's ``fields``: one sentence per
    top-level field, with the index and name of what inside it is wrong
    ("[0] first_name: This field is required.")."""
    return {str(name): _sentence(value) for name, value in messages.items()}


def _sentence(messages) -> str:
    if isinstance(messages, dict):
        parts = []
        for key, value in messages.items():
            prefix = f"[{key}]" if isinstance(key, int) else f"{key}:"
            if key == "_schema":
                parts.append(_sentence(value))
            else:
                parts.append(f"{prefix} {_sentence(value)}")
        return "; ".join(parts)
    if isinstance(messages, (list, tuple)):
        return " ".join(_sentence(value) for value in messages)
    return str(messages)
