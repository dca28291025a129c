"""Declared shapes of API input: one declaration validates a request body and
describes it in the OpenAPI document.

Parsing turns JSON values into Python ones (dates, codes, ids) and collects a
message per field; services then apply the rules of the work.
"""

import re
from datetime import date, time

from flask_babel import format_date, ngettext
from flask_babel import gettext as _

from core.errors import BadRequest, ValidationFailed
from core.localtime import (
    EARLIEST_YEAR,
    LATEST_YEAR,
    NonexistentLocalTime,
    parse_instant,
    plausible_day,
)
from core.text import nfc

# What text may not hold. Control characters (Unicode category Cc: C0, DEL and
# C1) break calendar lines and terminals wherever the text goes next; one-line
# text (names, places, references) also refuses line and paragraph separators,
# multi-line text (descriptions, notes) keeps its line breaks. Lone surrogates
# are not characters at all and cannot be encoded to be saved.
ONE_LINE_REFUSED = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MULTI_LINE_REFUSED = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f]")
SURROGATE = re.compile(r"[\ud800-\udfff]")


# The largest id, and whole number, both databases hold (a 32-bit integer).
MAX_ID = 2**31 - 1


class FieldError(ValueError):
    """A value that does not fit its field; the message is shown to the caller."""


def unstorable_text_message():
    """Why text with a NUL character is refused: PostgreSQL cannot store one."""
    return _("Contains a character that cannot be saved (NUL).")


def surrogate_message():
    """Why text with a lone surrogate (JSON's "\\ud800") is refused."""
    return _("Contains a character that cannot be saved (a lone surrogate).")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why a text cannot be taken as it is, or None: the one check of text input,
    for the API's fields, the forms and the command line."""
    if "\x00" in value:
        return unstorable_text_message()
    if SURROGATE.search(value):
        return surrogate_message()
    if multiline:
        if MULTI_LINE_REFUSED.search(value):
            return _("Contains a control character; only line breaks are allowed.")
    elif ONE_LINE_REFUSED.search(value):
        return _("Write this on one line, without line breaks or control characters.")
    return None


def years_message(earliest_year: int = EARLIEST_YEAR) -> str:
    """Why a date outside the years the app takes is refused."""
    return _("Give a date in the years %(first)d–%(last)d.", first=earliest_year,
             last=LATEST_YEAR)


def nonexistent_time_message(error: NonexistentLocalTime) -> str:
    """Why a local time skipped by the spring DST change is refused."""
    minutes = int(error.gap.total_seconds() // 60)
    day = format_date(error.day, "medium")
    if minutes == 60:
        return _("There is no %(time)s on %(date)s: the clocks go forward an hour.",
                 time=error.at.strftime("%H:%M"), date=day)
    return ngettext("There is no %(time)s on %(date)s: the clocks go forward"
                    " %(num)d minute.",
                    "There is no %(time)s on %(date)s: the clocks go forward"
                    " %(num)d minutes.", minutes, time=error.at.strftime("%H:%M"), date=day)


def read_whole_number(raw: str | None, low: int = 1, high: int = MAX_ID) -> int | None:
    """A whole number written in ASCII digits within bounds, else None.

    ``str.isdigit`` alone is not enough: "²" is a digit that ``int`` refuses.
    """
    if not raw or not raw.isascii() or not raw.isdigit() or len(raw) > len(str(high)):
        return None
    number = int(raw)
    return number if low <= number <= high else None


def read_date(raw: str | None, earliest_year: int = EARLIEST_YEAR) -> date | None:
    """An ISO date (2026-12-01) in the years the app takes, else None."""
    try:
        day = date.fromisoformat(raw or "")
    except ValueError:
        return None
    return day if plausible_day(day, earliest_year) else None


class Field:
    """A JSON field. ``read_only`` fields are answered but ignored on input."""

    json_type = None

    def __init__(self, *, required=False, nullable=False, read_only=False,
                 description=""):
        self.required = required
        self.nullable = nullable
        self.read_only = read_only
        self.description = description

    def parse(self, value):
        if value is None:
            if self.nullable:
                return None
            raise FieldError(_("This field cannot be empty."))
        return self.convert(value)

    def convert(self, value):
        return value

    def input_note(self) -> str:
        """What the document says input must also be, beside the field's description."""
        return ""

    def json_schema(self) -> dict:
        schema = {"type": [self.json_type, "null"] if self.nullable else self.json_type}
        if self.read_only:
            schema["readOnly"] = True
        note = "" if self.read_only else self.input_note()
        description = f"{self.description} ({note})" if self.description and note \
            else self.description or note
        if description:
            schema["description"] = description
        return schema


class String(Field):
    """Text on one line (a name, a place), or with ``multiline`` several (notes)."""

    json_type = "string"

    def __init__(self, max_length, *, min_length=0, multiline=False, **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.min_length = min_length
        self.multiline = multiline

    def convert(self, value):
        if not isinstance(value, str):
            raise FieldError(_("Expected text."))
        # Composed (NFC) before its length is counted: as it will be stored.
        value = nfc(value).strip()
        problem = text_problem(value, multiline=self.multiline)
        if problem:
            raise FieldError(problem)
        if len(value) > self.max_length:
            raise FieldError(_("At most %(n)d characters.", n=self.max_length))
        if len(value) < self.min_length:
            raise FieldError(_("This field is required."))
        return value

    def json_schema(self):
        # Refused characters, as a pattern: none of C0, DEL and C1 on one line, and
        # of them only line feed and carriage return in multi-line text.
        refused = MULTI_LINE_REFUSED if self.multiline else ONE_LINE_REFUSED
        return {**super().json_schema(), "maxLength": self.max_length,
                "pattern": f"^{refused.pattern.replace('[', '[^', 1)}*$",
                **({"minLength": self.min_length} if self.min_length else {})}


class Boolean(Field):
    json_type = "boolean"

    def convert(self, value):
        if not isinstance(value, bool):
            raise FieldError(_("Expected true or false."))
        return value


class Integer(Field):
    json_type = "integer"

    def __init__(self, *, minimum=1, **kwargs):
        super().__init__(**kwargs)
        self.minimum = minimum

    def convert(self, value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldError(_("Expected a whole number."))
        if value < self.minimum or value > MAX_ID:
            raise FieldError(_("Out of range."))
        return value

    def json_schema(self):
        return {**super().json_schema(), "minimum": self.minimum,
                "maximum": MAX_ID}


class Date(Field):
    """A date in the years the app takes (birth dates reach further back)."""

    json_type = "string"

    def __init__(self, *, earliest_year=EARLIEST_YEAR, **kwargs):
        super().__init__(**kwargs)
        self.earliest_year = earliest_year

    def convert(self, value):
        if not isinstance(value, str):
            raise FieldError(_("Expected a date such as 2026-12-01."))
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise FieldError(_("Expected a date such as 2026-12-01.")) from None
        if not plausible_day(day, self.earliest_year):
            raise FieldError(years_message(self.earliest_year))
        return day

    def input_note(self):
        return f"In the years {self.earliest_year}-{LATEST_YEAR}."

    def json_schema(self):
        return {**super().json_schema(), "format": "date"}


class Time(Field):
    """A local wall-clock time such as "17:00"."""

    json_type = "string"

    def convert(self, value):
        if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
            raise FieldError(_("Expected a time such as 17:00."))
        try:
            return time.fromisoformat(value)
        except ValueError:
            raise FieldError(_("Expected a time such as 17:00.")) from None

    def json_schema(self):
        return {**super().json_schema(), "pattern": "^[0-2][0-9]:[0-5][0-9]$"}


class Instant(Field):
    """A date-time with an offset, or local wall-clock time in the unit's zone."""

    json_type = "string"

    def convert(self, value):
        try:
            instant = parse_instant(value)
        except NonexistentLocalTime as error:
            raise FieldError(nonexistent_time_message(error)) from None
        except (TypeError, ValueError, OverflowError):
            raise FieldError(_("Expected a date and time such as"
                               " 2026-12-01T17:00:00+02:00.")) from None
        if not plausible_day(instant):
            raise FieldError(_("Expected a date and time between %(first)d and %(last)d.",
                               first=EARLIEST_YEAR, last=LATEST_YEAR))
        return instant

    def input_note(self):
        return (f"In the years {EARLIEST_YEAR}-{LATEST_YEAR}; local time without an"
                " offset must exist that day.")

    def json_schema(self):
        return {**super().json_schema(), "format": "date-time"}


class Choice(Field):
    """One of a set of codes."""

    json_type = "string"

    def __init__(self, codes, **kwargs):
        super().__init__(**kwargs)
        self.codes = tuple(codes)

    def convert(self, value):
        if value not in self.codes:
            raise FieldError(_("Unknown code. Expected one of: %(codes)s.",
                               codes=", ".join(self.codes)))
        return value

    def json_schema(self):
        schema = super().json_schema()
        schema["enum"] = list(self.codes) + ([None] if self.nullable else [])
        return schema


class ListOf(Field):
    json_type = "array"

    def __init__(self, item: Field, *, max_items=100, **kwargs):
        super().__init__(**kwargs)
        self.item = item
        self.max_items = max_items

    def convert(self, value):
        if not isinstance(value, list):
            raise FieldError(_("Expected a list."))
        if len(value) > self.max_items:
            raise FieldError(_("At most %(n)d items.", n=self.max_items))
        parsed = []
        for index, item in enumerate(value):
            try:
                parsed.append(self.item.parse(item))
            except FieldError as error:
                raise FieldError(f"[{index}] {error}") from None
        return parsed

    def json_schema(self):
        return {**super().json_schema(), "items": self.item.json_schema(),
                "maxItems": self.max_items}


class Schema:
    """A named set of fields: parses request bodies and documents them."""

    def __init__(self, name: str, fields: dict[str, Field]):
        self.name = name
        self.fields = fields

    def parse(self, payload, *, partial=False) -> dict:
        """Validate a JSON object; ``partial`` (PATCH) makes every field optional."""
        if not isinstance(payload, dict):
            raise BadRequest(_("The request body must be a JSON object."),
                             code="invalid_json")
        errors = {}
        result = {}
        for name in payload:
            if name not in self.fields:
                errors[name] = _("Unknown field.")
        for name, field in self.fields.items():
            if field.read_only:
                continue
            if name not in payload:
                if field.required and not partial:
                    errors[name] = _("This field is required.")
                continue
            try:
                result[name] = field.parse(payload[name])
            except FieldError as error:
                errors[name] = str(error)
        if errors:
            raise ValidationFailed(_("Check the fields."), fields=errors)
        return result

    def json_schema(self) -> dict:
        """The JSON Schema (OpenAPI 3.1) of this shape."""
        return {
            "type": "object",
            "properties": {name: field.json_schema() for name, field in self.fields.items()},
            "required": [name for name, field in self.fields.items()
                         if field.required and not field.read_only],
        }


class Object(Field):
    """One object of another schema (a group's series)."""

    json_type = "object"

    def __init__(self, schema: "Schema", **kwargs):
        super().__init__(**kwargs)
        self.schema = schema

    def convert(self, value):
        try:
            return self.schema.parse(value)
        except (ValidationFailed, BadRequest) as error:
            details = "; ".join(f"{key}: {text}" for key, text in error.fields.items())
            raise FieldError(details or str(error.message)) from None

    def json_schema(self):
        schema = {"$ref": f"#/components/schemas/{self.schema.name}"}
        if self.nullable:
            return {"oneOf": [schema, {"type": "null"}]}
        return schema


class Nested(Field):
    """A list of objects of another schema (a family's members)."""

    json_type = "array"

    def __init__(self, schema: Schema, *, max_items=30, **kwargs):
        super().__init__(**kwargs)
        self.schema = schema
        self.max_items = max_items

    def convert(self, value):
        if not isinstance(value, list):
            raise FieldError(_("Expected a list."))
        if len(value) > self.max_items:
            raise FieldError(_("At most %(n)d items.", n=self.max_items))
        parsed = []
        for index, item in enumerate(value):
            try:
                parsed.append(self.schema.parse(item))
            except (ValidationFailed, BadRequest) as error:
                details = "; ".join(f"{key}: {text}" for key, text in error.fields.items())
                raise FieldError(f"[{index}] {details or error.message}") from None
        return parsed

    def json_schema(self):
        return {**super().json_schema(),
                "items": {"$ref": f"#/components/schemas/{self.schema.name}"},
                "maxItems": self.max_items}
