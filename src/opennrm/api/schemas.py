"""The one error shape every API response uses: a list, each naming step and field if it can."""

from __future__ import annotations

from collections.abc import Iterable

from ninja import Field, Schema

from .services import AnswerError


class ErrorOut(Schema):
    step: str | None = Field(
        default=None, description="The step of the referral the error is about, e.g. 'person'"
    )
    field: str | None = Field(
        default=None,
        description="The field (or request header) the error is about, e.g. 'date_of_birth'",
    )
    message: str = Field(description="What is wrong, in the words the referral pages use")


class ErrorsOut(Schema):
    errors: list[ErrorOut]


def errors_out(errors: Iterable[AnswerError]) -> ErrorsOut:
    return ErrorsOut(
        errors=[ErrorOut(step=e.step, field=e.field, message=e.message) for e in errors]
    )


def error_out(message: str) -> ErrorsOut:
    return ErrorsOut(errors=[ErrorOut(message=message)])


# Responses every authenticated operation can give, for the OpenAPI document.
AUTH_ERRORS: dict[int, type[Schema]] = {401: ErrorsOut, 403: ErrorsOut}
