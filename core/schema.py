"""Declared shapes of API input: one declaration validates a request body and
describes it in the OpenAPI document.

Parsing turns JSON values into Python ones (dates, codes, ids) and collects a
message per field; services then apply the rules of the work.
"""

from datetime import date, time

from flask_babel import gettext as _

from core.errors import BadRequest, ValidationFailed
from core.localtime import parse_instant


class FieldError(ValueError):
    """A value that does not fit its field; the message is shown to the caller."""


def unstorable_text_message():
    """Why text with a NUL character is refused: PostgreSQL cannot store one."""
    return _("Contains a character that cannot be saved (NUL).")


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

    def json_schema(self) -> dict:
        schema = {"type": [self.json_type, "null"] if self.nullable else self.json_type}
        if self.read_only:
            schema["readOnly"] = True
        if self.description:
            schema["description"] = self.description
        return schema


class String(Field):
    json_type = "string"

    def __init__(self, max_length, *, min_length=0, **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.min_length = min_length

    def convert(self, value):
        if not isinstance(value, str):
            raise FieldError(_("Expected text."))
        if "\x00" in value:
            raise FieldError(unstorable_text_message())
        value = value.strip()
        if len(value) > self.max_length:
            raise FieldError(_("At most %(n)d characters.", n=self.max_length))
        if len(value) < self.min_length:
            raise FieldError(_("This field is required."))
        return value

    def json_schema(self):
        return {**super().json_schema(), "maxLength": self.max_length,
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
        if value < self.minimum or value > 2**31 - 1:
            raise FieldError(_("Out of range."))
        return value

    def json_schema(self):
        return {**super().json_schema(), "minimum": self.minimum,
                "maximum": 2**31 - 1}


class Date(Field):
    json_type = "string"

    def convert(self, value):
        if not isinstance(value, str):
            raise FieldError(_("Expected a date such as 2026-12-01."))
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise FieldError(_("Expected a date such as 2026-12-01.")) from None

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

    # Before 2000 the zone's rules reach back to local mean time, whose offset has
    # seconds that ISO 8601 cannot write; no work is planned so far off either way.
    EARLIEST_YEAR, LATEST_YEAR = 2000, 2100

    def convert(self, value):
        try:
            instant = parse_instant(value)
        except (TypeError, ValueError, OverflowError):
            raise FieldError(_("Expected a date and time such as"
                               " 2026-12-01T17:00:00+02:00.")) from None
        if not self.EARLIEST_YEAR <= instant.year <= self.LATEST_YEAR:
            raise FieldError(_("Expected a date and time between %(first)d and %(last)d.",
                               first=self.EARLIEST_YEAR, last=self.LATEST_YEAR))
        return instant

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
