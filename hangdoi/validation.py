"""Input checking for JSON bodies and socket payloads. The same field lists produce the OpenAPI schemas."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from hangdoi.messages import bilingual


class BadInput(Exception):
    """Client input that cannot be accepted; `status` is the HTTP status to answer with."""

    def __init__(self, code: str, status: int = 400, **params):
        self.code, self.status, self.params = code, status, params
        super().__init__(bilingual(code, **params))


@dataclass(frozen=True)
class Field:
    types: tuple[type, ...]
    required: bool = False
    nullable: bool = False
    max_length: int = 200
    minimum: int = 1
    maximum: int = 2**31 - 1
    description: str = ""
    items: str = "string"          # a list's item type, for the OpenAPI document

    def check(self, name: str, value):
        if value is None:
            if self.nullable:
                return None
            raise BadInput("invalid_field", 422, field=name, reason="needs_value")
        # bool is an int in Python; JSON true is never a valid id, nor 1 a valid true.
        if isinstance(value, bool) != (bool in self.types) or not isinstance(value, self.types):
            raise BadInput("invalid_field", 422, field=name, reason="wrong_type", kind=self.type_names())
        if type(value) is int and not self.minimum <= value <= self.maximum:
            raise BadInput("invalid_field", 422, field=name, reason="out_of_range",
                           minimum=self.minimum, maximum=self.maximum)
        if isinstance(value, list) and len(value) > self.max_length:
            raise BadInput("invalid_field", 422, field=name, reason="too_many", n=self.max_length)
        if isinstance(value, list) and self.items == "integer" and not all(
                type(item) is int and 0 < item <= self.maximum for item in value):
            raise BadInput("invalid_field", 422, field=name, reason="positive_ids")
        if isinstance(value, str):
            value = value.strip()
            if not value or len(value) > self.max_length:
                raise BadInput("invalid_field", 422, field=name, reason="length", n=self.max_length)
            # Control characters and lone surrogates print as garbage, break spreadsheets and
            # cannot be encoded: no name, code or password needs them.
            if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
                raise BadInput("invalid_field", 422, field=name, reason="control_characters")
        return value

    def type_names(self) -> str:
        return " or ".join({int: "integer", str: "string", list: "array", bool: "boolean", dict: "object"}[t]
                           for t in self.types)

    def openapi(self) -> dict:
        variants = [{"type": "integer", "minimum": self.minimum, "maximum": self.maximum} if t is int
                    else {"type": "array", "items": {"type": self.items}, "maxItems": self.max_length} if t is list
                    else {"type": "boolean"} if t is bool
                    else {"type": "object"} if t is dict
                    else {"type": "string", "minLength": 1, "maxLength": self.max_length}
                    for t in self.types]
        schema = variants[0] if len(variants) == 1 else {"oneOf": variants}
        if self.nullable:
            schema = {"oneOf": [*schema.get("oneOf", [schema]), {"type": "null"}]}
        if self.description:
            schema = {**schema, "description": self.description}
        return schema


def INT(**kw) -> Field:
    return Field((int,), **kw)


def STR(**kw) -> Field:
    return Field((str,), **kw)


def BOOL(**kw) -> Field:
    return Field((bool,), **kw)


def OBJ(**kw) -> Field:
    return Field((dict,), **kw)


def IDS(**kw) -> Field:
    """A list of ids (or numbers): positive integers."""
    return Field((list,), items="integer", **kw)


def check_object(payload, fields: dict[str, Field]) -> dict:
    """Validate a decoded JSON value against `fields`: an object, no unknown keys, typed values."""
    if not isinstance(payload, dict):
        raise BadInput("expected_object")
    for key in payload:
        if key not in fields:
            raise BadInput("unknown_field", 422, field=str(key)[:40])
    clean = {}
    for name, field in fields.items():
        if name not in payload:
            if field.required:
                raise BadInput("missing_field", 422, field=name)
            clean[name] = None
            continue
        clean[name] = field.check(name, payload[name])
    return clean


def object_schema(fields: dict[str, Field]) -> dict:
    return {"type": "object", "additionalProperties": False,
            "properties": {name: f.openapi() for name, f in fields.items()},
            "required": [name for name, f in fields.items() if f.required]}
