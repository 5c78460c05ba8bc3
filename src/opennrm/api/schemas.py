"""The one error shape every API response uses: a list, each naming step and field if it can."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from ninja import Field, Header, Schema, Status

from opennrm.lib.govuk_forms import StaleVersion


@dataclass(frozen=True)
class AnswerError:
    """One thing wrong with the answers: which step, which field (None for the whole step), and
    the message the page would show."""

    step: str | None
    field: str | None
    message: str


class ErrorOut(Schema):
    step: str | None = Field(
        default=None, description="The step of the referral the error is about, e.g. 'person'"
    )
    field: str | None = Field(
        default=None,
        description="The field (or request header) the error is about, e.g. 'date_of_birth'",
    )
    message: str = Field(description="What is wrong, in the words the pages use")


class ErrorsOut(Schema):
    errors: list[ErrorOut]


def errors_out(errors: Iterable[AnswerError]) -> ErrorsOut:
    return ErrorsOut(
        errors=[ErrorOut(step=e.step, field=e.field, message=e.message) for e in errors]
    )


def error_out(message: str) -> ErrorsOut:
    return ErrorsOut(errors=[ErrorOut(message=message)])


def field_errors_out(
    by_field: Mapping[str, Iterable[Any]], fields: Mapping[str, str] | None = None
) -> ErrorsOut:
    """Errors keyed by a form's or a service's field name, each named as the request names it
    (`fields` maps the few names that differ); errors about no one field have none."""
    fields = fields or {}
    return ErrorsOut(
        errors=[
            ErrorOut(
                field=None if name == NON_FIELD_ERRORS else fields.get(name, name),
                message=str(message),
            )
            for name, messages in by_field.items()
            for message in messages
        ]
    )


def refusal(error: ValidationError, fields: Mapping[str, str] | None = None) -> Status[ErrorsOut]:
    """A service's refusal as a response: 409 if someone else changed the case (or the record)
    meanwhile (send it again against it as it is now), otherwise 422 naming the field where the
    service names one. Every operation that answers with it declares 409 (a test sees to it)."""
    if isinstance(error, StaleVersion):
        return Status(409, error_out(" ".join(error.messages)))
    if hasattr(error, "error_dict"):
        return Status(422, field_errors_out(error.message_dict, fields))
    return Status(422, ErrorsOut(errors=[ErrorOut(message=m) for m in error.messages]))


# The furthest a list may be paged: far beyond any organisation's records, and well inside the
# whole numbers a database can compare (an offset past them was a server error).
MAX_OFFSET = 10_000_000
# A list's page: `limit` items from `offset`, at most MAX_LIMIT whatever is asked.
MAX_LIMIT = 500
DEFAULT_LIMIT = 100


def page_slice(limit: int, offset: int) -> slice:
    """The items of a list that a request's `limit` and `offset` ask for: from `offset`, at most
    `limit` of them and never more than MAX_LIMIT. Slice a queryset with it (one LIMIT/OFFSET
    query) or a list."""
    return slice(offset, offset + min(limit, MAX_LIMIT))


# Responses every authenticated operation can give, for the OpenAPI document: no usable token,
# a token without the scope or role, and too many requests (with Retry-After).
AUTH_ERRORS: dict[int, type[Schema]] = {401: ErrorsOut, 403: ErrorsOut, 429: ErrorsOut}


def idempotency_key_header(on_retry: str) -> Any:
    """The optional `Idempotency-Key` request header, the same on every operation that takes
    one; `on_retry` says what a retry with the same key answers."""
    return Header(
        None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description=f"Any unique string, e.g. a UUID. {on_retry}",
    )
