"""Typed errors, raised by services and mapped once in web/ to problem responses and acks.

An error says why in no language yet: a key of the catalogues (shopcast/locales/, `errors.…`) and
the values of its placeholders, put into words at the edge, in the language of whoever reads it:

    raise NotFound("errors.product.none", product_id=product_id)

`detail` is the English wording (logs, the command line).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from babel.numbers import format_decimal
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationError
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, ErrorDetails, core_schema
from pydantic_core.core_schema import SerializationInfo

from shopcast.core.catalogues import DEFAULT, catalogues, translate


class Phrase:
    """Words in no language yet: a catalogue key and the values of its `{name}` placeholders.

    A value is inserted as text, whatever it holds (a product's title is never read as a template);
    a Phrase value (a status word) is put into the same language first, a list of them is joined
    with the language's separator, and a Number is written the language's way. A response field
    typed Phrase is written as text in the language the serialisation's context names
    (`{"language": "fr"}`), English without one.
    """

    __slots__ = ("key", "params")

    def __init__(self, key: str, /, **params: Any) -> None:
        self.key = key
        self.params = params

    def in_language(self, language: str) -> str:
        if self.key not in catalogues()[DEFAULT]:
            # Words written out rather than a key (a branch from before the catalogues had them): said
            # as they are rather than a crash; tests/web/test_error_languages.py refuses them.
            return self.key
        return translate(language, self.key, **{name: _said(value, language) for name, value in self.params.items()})

    def __str__(self) -> str:
        return self.in_language(DEFAULT)

    def __repr__(self) -> str:
        return f"Phrase({self.key!r}, **{self.params!r})"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        def written(phrase: Phrase, info: SerializationInfo) -> str:
            return phrase.in_language((info.context or {}).get("language", DEFAULT))

        return core_schema.is_instance_schema(
            cls,
            serialization=core_schema.plain_serializer_function_ser_schema(
                written, info_arg=True, return_schema=core_schema.str_schema()
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {"type": "string"}


@dataclass(frozen=True)
class Number:
    """A quantity as the reader writes it: 10,485,760 in English, 10 485 760 in French."""

    value: int

    def in_language(self, language: str) -> str:
        return format_decimal(self.value, locale=language)


def _said(value: Any, language: str) -> Any:
    if isinstance(value, Phrase | Number):
        return value.in_language(language)
    if isinstance(value, list):
        return translate(language, "errors.separator").join(_said(v, language) for v in value)
    return value


def in_language(value: Any, language: str) -> Any:
    """`value` (an error's extra fields) with every Phrase in it, however deep, put into `language`."""
    if isinstance(value, Phrase):
        return value.in_language(language)
    if isinstance(value, dict):
        return {k: in_language(v, language) for k, v in value.items()}
    if isinstance(value, list):
        return [in_language(v, language) for v in value]
    return value


class ShopcastError(Exception):
    """Base of every error a client can be told about."""

    status = 500
    slug = "internal-error"
    title = Phrase("errors.title.internal_error")

    def __init__(self, key: str, /, *, extra: dict[str, Any] | None = None, **params: Any) -> None:
        super().__init__(key)
        self.reason = Phrase(key, **params)
        self.extra = extra or {}

    @property
    def detail(self) -> str:
        return str(self.reason)

    def __str__(self) -> str:
        return self.detail


class BadRequest(ShopcastError):
    status, slug, title = 400, "bad-request", Phrase("errors.title.bad_request")


class InvalidInput(ShopcastError):
    status, slug, title = 422, "invalid-input", Phrase("errors.title.invalid_input")


class Unauthorized(ShopcastError):
    status, slug, title = 401, "unauthorized", Phrase("errors.title.unauthorized")


class Forbidden(ShopcastError):
    status, slug, title = 403, "forbidden", Phrase("errors.title.forbidden")


class NotFound(ShopcastError):
    status, slug, title = 404, "not-found", Phrase("errors.title.not_found")


class Conflict(ShopcastError):
    status, slug, title = 409, "conflict", Phrase("errors.title.conflict")


class PayloadTooLarge(ShopcastError):
    status, slug, title = 413, "payload-too-large", Phrase("errors.title.payload_too_large")


class UnsupportedMediaType(ShopcastError):
    status, slug, title = 415, "unsupported-media-type", Phrase("errors.title.unsupported_media_type")


class TooManyRequests(ShopcastError):
    status, slug, title = 429, "too-many-requests", Phrase("errors.title.too_many_requests")

    def __init__(self, key: str, /, *, retry_after: float, **params: Any) -> None:
        # Rounded up: a client that waits what it is told must get in (the millisecond is float slack).
        self.retry_after = max(1, math.ceil(retry_after - 0.001))
        super().__init__(key, extra={"retry_after": self.retry_after}, **params)


class Busy(ShopcastError):
    """The server has more work than it can take just now (no database connection came free)."""

    status, slug, title = 503, "busy", Phrase("errors.title.busy")

    def __init__(self, key: str, /, *, retry_after: int, **params: Any) -> None:
        super().__init__(key, extra={"retry_after": retry_after}, **params)


class InvalidValue(ValueError):
    """A pydantic validator's refusal, said like an error (the 422 puts it in the reader's language)."""

    def __init__(self, key: str, /, **params: Any) -> None:
        super().__init__(key)
        self.reason = Phrase(key, **params)

    def __str__(self) -> str:
        return str(self.reason)


# --- what pydantic refuses -----------------------------------------------------------------------

# Pydantic's own words for a few of its error types (the rest have a key of their own).
_EMAIL = "value is not a valid email address"
# Its length errors name the kind of container ("List should have at least 2 items").
_CONTAINERS = {"List", "Dictionary", "Tuple", "Set", "Data"}


def field_reason(error: ErrorDetails) -> Phrase:
    """What pydantic found wrong with one value, in words of the catalogues (`errors.field.<type>`,
    with its context as placeholders); our validators' own refusals as they said them."""
    context = dict(error.get("ctx") or {})
    cause = context.pop("error", None)
    if isinstance(cause, InvalidValue):
        return cause.reason
    kind = error["type"]
    if kind == "value_error" and error["msg"].startswith(_EMAIL):
        return Phrase("errors.field.email")
    if kind in ("string_too_short", "too_short", "string_too_long", "too_long"):
        context["count"] = context.pop("min_length" if "short" in kind else "max_length")
        if "field_type" in context:
            name = context.pop("field_type")
            context["kind"] = Phrase(f"errors.field.kind_{name.lower()}") if name in _CONTAINERS else name
    if kind in ("enum", "literal_error"):
        context["expected"] = _choices(str(context["expected"]))
    key = f"errors.field.{kind}"
    if key not in catalogues()[DEFAULT]:
        return Phrase("errors.field.invalid")
    return Phrase(key, **context)


def _choices(expected: str) -> Any:
    """Pydantic's "'a', 'b' or 'c'", with the last "or" in the reader's language."""
    first, sep, last = expected.rpartition(" or ")
    return Phrase("errors.either", first=first, last=last) if sep else expected


def field_problems(error: ValidationError, *, whole: str) -> list[dict[str, Any]]:
    """`[{field, reason}]` for each value refused (`whole`: what an error about all of it names)."""
    return [
        {"field": ".".join(str(p) for p in e["loc"]) or whole, "reason": field_reason(e)}
        for e in error.errors(include_url=False)
    ]


def invalid_input(error: ValidationError, *, whole: str) -> InvalidInput:
    """The 422 for data pydantic refused: each field and its reason, in the detail and in `errors`."""
    problems = field_problems(error, whole=whole)
    reasons = [Phrase("errors.field.reason", field=p["field"], reason=p["reason"]) for p in problems]
    return InvalidInput("errors.field.reasons", reasons=reasons, extra={"errors": problems})
