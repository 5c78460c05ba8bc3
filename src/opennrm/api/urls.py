"""The API, under /api/v1/: the NinjaAPI object, each app's router, and one shape for errors."""

from __future__ import annotations

import math
import re
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.parser import Parser

from opennrm.accommodation.api import directory_router
from opennrm.accommodation.api import router as support_router
from opennrm.cases.api import router as cases_router
from opennrm.decisions.api import router as decisions_router
from opennrm.operations.api import router as operations_router
from opennrm.protection.api import router as protection_router
from opennrm.referrals import steps
from opennrm.referrals.api import router as referrals_router
from opennrm.statistics.api import router as capacity_router
from opennrm.statistics.dp_api import router as private_counts_router
from opennrm.statistics.release_api import router as releases_router

from .auth import TokenAuth
from .schemas import ErrorOut, ErrorsOut, error_out
from .throttling import RateLimited, seconds_in_words

DESCRIPTION = """\
Refer potential victims of trafficking and follow what happens to the referral; work a competent
authority's decision queues and record its decisions; place people in safe-house beds and follow
capacity; read the support directory as an Open Referral HSDS document; ask differentially
private counts (an analyst); read the published official statistics (no token needed); plan
enforcement operations, read those the organisation leads or is invited to, and take people in
during one; check whether removal must not proceed for a reference, and record planned removals
(immigration enforcement). Each
operation has the same checks and the same rules as the page that does the same thing.

Authenticate every request with an API token of your organisation (except the published
official statistics, which anyone may read without one):
`Authorization: Bearer <token>`. A token acts for one named member of the organisation, with
exactly that member's roles, and carries scopes (`referrals:write`, `referrals:read`,
`cases:read`, `decisions:read`, `decisions:write`, `support:read`, `support:write`,
`directory:read`, `statistics:query`, `operations:read`, `operations:write`,
`protection:check`). An operator creates one with `manage.py create_api_token`.

Every error response has the same shape: `{"errors": [{"step": ..., "field": ..., "message":
...}]}`, where `step` and `field` say what the message is about when it is about an answer.
A write that acts on a case takes the case's `version` as `expected_version`, and is refused
with 409 if someone else changed the case meanwhile. Offering a bed that another placement
holds is refused with 409 too.

A safe house's address is returned only to the site's own staff and to support coordinators
holding the permission to see addresses, and each time it is, that is recorded in the audit
trail; for everyone else it is null. The HSDS export never carries one.

Requests are rate limited, per token, and per address for requests without a valid token. Over
the limit the answer is 429, with a `Retry-After` header giving the seconds to wait.
"""


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogate(value: object, where: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """Where in a parsed body a text holds a lone UTF-16 surrogate, or None."""
    if isinstance(value, str):
        return where if _LONE_SURROGATE.search(value) else None
    items: list[tuple[str, object]] = []
    if isinstance(value, dict):
        items = [(str(key), key) for key in value] + [(str(k), v) for k, v in value.items()]
    elif isinstance(value, list):
        items = [(str(n), item) for n, item in enumerate(value)]
    for name, item in items:
        found = _lone_surrogate(item, (*where, name))
        if found is not None:
            return found
    return None


class LoneSurrogate(ValueError):
    def __init__(self, where: tuple[str, ...]) -> None:
        super().__init__("a lone surrogate at " + ".".join(where))
        self.where = where


class SurrogateRefusingParser(Parser):
    """JSON bodies, refusing text that no field can store: a lone UTF-16 surrogate is valid
    JSON as an escape ("\\ud800") but not text, and failed deep inside a write (the encryption
    of a field) with a server error. Refused before any handler runs; ninja turns a parser's
    error into a 400, which `http_error` answers as a 422 naming the field."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = super().parse_body(request)
        where = _lone_surrogate(data)
        if where is not None:
            raise LoneSurrogate(where)
        return data


class OpenNrmApi(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        """The document ninja builds, with the answers an operation can give before any
        handler runs, so that no operation lists by itself: for every operation 422 when the
        query string holds a NUL byte (the request screening middleware refuses it); for every
        operation taking a JSON body also 400 when the body is not JSON (ninja refuses it), 413
        when it is larger than the API takes (the middleware refuses it unread). An operation
        that lists its own 422 keeps its description."""
        document = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for methods in document["paths"].values():
            for operation in methods.values():
                operation["responses"].setdefault(422, NUL_IN_QUERY)
                if "requestBody" in operation:
                    operation["responses"].setdefault(400, NOT_JSON)
                    operation["responses"].setdefault(413, TOO_LARGE)
        return document


def _errors(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorsOut"}}},
    }


NOT_JSON = _errors("The body is not JSON")
TOO_LARGE = _errors("The body is larger than the API takes (the message says the limit)")
NUL_IN_QUERY = _errors("The query string holds a NUL byte")

api = OpenNrmApi(
    title="OpenNRM API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=TokenAuth(),
    parser=SurrogateRefusingParser(),
)
api.add_router("/", referrals_router)
api.add_router("/", cases_router)
api.add_router("/", decisions_router)
api.add_router("/", support_router)
api.add_router("/", capacity_router)
api.add_router("/", private_counts_router)
api.add_router("/", directory_router)
api.add_router("/", releases_router)
api.add_router("/", operations_router)
api.add_router("/", protection_router)


def _json(status: int, body: ErrorsOut, request: HttpRequest) -> HttpResponse:
    return api.create_response(request, body.model_dump(), status=status)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = exc.message
    if message == "Unauthorized":  # ninja's own: no bearer token was sent at all
        message = "Send an API token in the Authorization header: 'Authorization: Bearer <token>'"
    response = _json(401, error_out(message), request)
    response["WWW-Authenticate"] = 'Bearer realm="OpenNRM API"'
    return response


@api.exception_handler(Throttled)
def throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    wait = max(1, math.ceil(exc.wait or 60))
    message = (
        exc.message
        if isinstance(exc, RateLimited)
        else f"Too many requests. Try again in {seconds_in_words(wait)}"
    )
    response = _json(429, error_out(message), request)
    response["Retry-After"] = str(wait)
    return response


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, LoneSurrogate):
        where = exc.__cause__.where
        match = request.resolver_match
        referral = (request.method, match.view_name if match else "") == ("POST", "api:referrals")
        step, field = (
            (where[0], where[1]) if referral and len(where) > 1 else (None, next(iter(where), None))
        )
        error = ErrorOut(
            step=step,
            field=field,
            message="This holds a character that is not text (a lone surrogate): send the "
            "text as UTF-8",
        )
        return _json(422, ErrorsOut(errors=[error]), request)
    return _json(exc.status_code, error_out(exc.message), request)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _json(404, error_out("Not found"), request)


@api.exception_handler(ValidationError)
def invalid_request(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """Requests whose shape is wrong (an unknown step or field, an answer that is not text),
    before any form sees them: the same error shape as the forms' own errors."""
    match = request.resolver_match
    referral = (request.method, match.view_name if match else "") == ("POST", "api:referrals")
    shaped: dict[tuple[str | None, str | None], ErrorOut] = {}
    for error in exc.errors:
        # A value that fits no member of a union gets one error per member: keep one.
        out = _shape_error(error, referral)
        shaped.setdefault((out.step, out.field), out)
    return _json(422, ErrorsOut(errors=list(shaped.values())), request)


def _shape_error(error: dict[str, Any], referral: bool) -> ErrorOut:
    location = [str(part) for part in error.get("loc", ())]
    kind = str(error.get("type", ""))
    if location[:1] == ["body"] and not referral:
        # ("body", <parameter>, field, ...)
        field = location[2] if len(location) > 2 else None
        return ErrorOut(field=field, message=_field_message(kind, field, error))
    if location[:1] == ["body"]:
        # ("body", <parameter>, step, field, ...)
        step = location[2] if len(location) > 2 else None
        field = location[3] if len(location) > 3 else None
        return ErrorOut(step=step, field=field, message=_body_message(kind, step, field))
    return ErrorOut(field=location[-1] if location else None, message=str(error.get("msg", "")))


def _field_message(kind: str, field: str | None, error: dict[str, Any]) -> str:
    """What is wrong with one field of a body that is not a referral's answers."""
    if field is None:
        return "Send the request body as a JSON object"
    if kind == "missing":
        return f"Give '{field}'"
    if kind == "extra_forbidden":
        return f"'{field}' is not a field of this request"
    return f"'{field}': {error.get('msg', 'this value is not right')}"


def _body_message(kind: str, step: str | None, field: str | None) -> str:
    if step is None:
        return "Send the answers as a JSON object with one object of answers for each step"
    known = steps.STEP_BY_SLUG.get(step)
    if field is None:
        if kind == "extra_forbidden":
            return f"There is no step called '{step}'. The steps are: " + ", ".join(
                steps.STEP_BY_SLUG
            )
        return f"Send the '{step}' answers as a JSON object of field names and values"
    if kind == "extra_forbidden":
        return f"'{field}' is not a question of the '{known.title if known else step}' step"
    if kind == "list_type":
        return 'Give this answer as a list, like ["labour"]'
    return "Give this answer as text or a number (a list only where several answers are asked)"


urlpatterns = [path("", api.urls)]
