"""The referral API: submit a referral in one request, list the organisation's referrals, and
follow one. Same stage table, same forms, same services as the pages.

The request body is the journey's answers keyed by step slug, each step's values exactly as its
page's form takes them (see `steps.STEPS`). Its schema is built from those forms, so the OpenAPI
document lists every question and cannot drift from the pages; it checks only the shape (no
unknown step or field, every value text, a number, true or false for a tick box only, or a list
of text). Whether an answer is right is for the forms alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, Header, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import (
    ConfigDict,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    create_model,
)

from opennrm.accounts.actor import Actor, actor_of
from opennrm.accounts.roles import Role
from opennrm.api import idempotency
from opennrm.api.auth import token_of
from opennrm.api.schemas import (
    AUTH_ERRORS,
    MAX_OFFSET,
    ErrorsOut,
    errors_out,
    field_errors_out,
    idempotency_key_header,
    refusal,
)
from opennrm.cases.api import case_for_api
from opennrm.cases.models import Case
from opennrm.cases.selectors import cases_visible_to, is_referrer, may_decide, timeline_shown
from opennrm.lib.govuk_forms import date_input

from . import api_submission, selectors, services, steps
from .forms import AdditionForm, InformationRequestForm
from .models import InformationRequest, ReferralAddition
from .services import Submitted

router = Router(tags=["Referrals"])

# --- The request body, built from the step forms ------------------------------------------------

# A GOV.UK date input is three boxes; the pages post them as <name>_day, _month and _year, and
# the form reads them so (`forms._date_from_parts`).
DATE_PARTS: dict[str, tuple[str, ...]] = {
    "date_of_birth": ("day", "month", "year"),
    "started": ("month", "year"),
}

# What a value may be, before the form says whether it is right: a list for a question with
# several answers, true or false for a tick box, text or a number for everything else. Null is
# an empty answer.
Value = str | int | float | bool | list[str] | None


def _value_type(field: forms.Field) -> Any:
    # Strict: pydantic's lax union takes JSON true as the number 1 and false as 0, and
    # `_as_posted` would write them as "1" and "0" (an age of 1, a non-empty answer). A value of
    # the wrong JSON type is refused instead, naming its step and field (`api.urls`).
    if isinstance(field, forms.MultipleChoiceField):
        return list[StrictStr] | None
    if isinstance(field, forms.BooleanField):
        return StrictBool | StrictStr | None
    return StrictStr | StrictInt | StrictFloat | None


class _Answers(Schema):
    model_config = ConfigDict(extra="forbid")


def _describe(field: forms.Field) -> str:
    parts = [str(field.label or "")]
    if field.help_text:
        parts.append(str(field.help_text))
    choices = [str(value) for value, _ in getattr(field, "choices", []) if value]
    if isinstance(field, forms.MultipleChoiceField):
        parts.append("A list" + (f" of: {', '.join(choices)}" if choices else " of codes"))
    elif isinstance(field, forms.BooleanField):
        parts.append("true or false")
    elif choices:
        parts.append(f"One of: {', '.join(choices)}")
    return ". ".join(p.rstrip(".") for p in parts if p) + "."


def _step_fields(step: steps.Step) -> dict[str, Any]:
    """Every field any of the step's forms asks, as the page posts it."""
    fields: dict[str, Any] = {}
    for form_class in step.form_classes.values():
        for name, field in form_class.base_fields.items():
            keys = [f"{name}_{part}" for part in DATE_PARTS.get(name, ())] or [name]
            for key in keys:
                fields.setdefault(
                    key, (_value_type(field), Field(None, description=_describe(field)))
                )
    return fields


def _answers_schema() -> type[Schema]:
    step_models = {
        step.slug: create_model(
            "".join(word.title() for word in step.slug.split("_")) + "Answers",
            __base__=_Answers,
            **_step_fields(step),
        )
        for step in steps.STEPS
    }
    model: type[Schema] = create_model(  # type: ignore[call-overload]
        "ReferralAnswers",
        __base__=_Answers,
        __doc__="The referral's answers, keyed by step. Which steps apply depends on the "
        "answers: consent only for an adult; indicators, account and needs only for a "
        "referral, not a duty to notify report; intelligence (optional) only for a duty to "
        "notify report, about the exploitation and never the person.",
        **{
            slug: (model | None, Field(None, description=steps.STEP_BY_SLUG[slug].title))
            for slug, model in step_models.items()
        },
    )
    return model


if TYPE_CHECKING:
    ReferralAnswersIn = Schema
else:
    # Built at import from the stage table; a type checker sees only that it is a Schema.
    ReferralAnswersIn = _answers_schema()


def _as_posted(value: Value) -> str | list[str]:
    """A JSON value as a browser would post it, so the draft holds what a page would save."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, int | float):
        return str(value)
    return value


def answers_from(body: Schema) -> steps.Answers:
    given = body.model_dump(exclude_unset=True)
    return {
        slug: {name: _as_posted(value) for name, value in values.items()}
        for slug, values in given.items()
        if values is not None
    }


# --- Responses --------------------------------------------------------------------------------


ChildrensService = Literal["local_authority", "child_guardian_service"]


class SubmittedOut(Schema):
    outcome: Literal["case", "duty_to_notify_report"] = Field(
        description="A case, or (an adult who did not consent, referred by an organisation with "
        "the duty to notify) an anonymous duty to notify report"
    )
    reference: str = Field(description="The case's reference (NRM-...) or the report's (DTN-...)")
    status: str | None = Field(description="The case's status code; null for a report")
    status_label: str | None = Field(description="The case's status in words; null for a report")
    competent_authority: str | None = Field(
        description="The competent authority the case was sent to; null for a report"
    )
    submitted_at: datetime
    childrens_services_told: list[ChildrensService] = Field(
        description="For a child or a person whose age is disputed: the children's services of "
        "the child's area that were told of the referral (local_authority: the local "
        "authority's children's services; child_guardian_service: the child trafficking "
        "guardian service). Empty for an adult or a report"
    )
    childrens_services_not_told: list[ChildrensService] = Field(
        description="For a child or a person whose age is disputed: the children's services of "
        "the child's area that were NOT told, because nobody there uses OpenNRM. Contact each "
        "directly today. Empty for an adult or a report"
    )


class CaseSummaryOut(Schema):
    reference: str
    status: str
    status_label: str
    submitted_at: datetime
    age_group: str = Field(description="adult, child, or presumed_child (age disputed)")
    age_group_at_exploitation: str = Field(
        description="When the exploitation began: child (always for a child or an age-disputed "
        "person), adult, or not_known"
    )
    competent_authority: str

    @staticmethod
    def resolve_status_label(case: Case) -> str:
        return case.get_status_display()

    @staticmethod
    def resolve_competent_authority(case: Case) -> str:
        return case.competent_authority.name


class TimelineEntryOut(Schema):
    at: datetime
    kind: str
    description: str


class CaseDetailOut(CaseSummaryOut):
    timeline: list[TimelineEntryOut]

    @staticmethod
    def resolve_timeline(case: Case) -> list[TimelineEntryOut]:
        # The referring organisation's view: a decision waiting for approval, or refused it, is
        # the competent authority's draft, not a decision (ADR 0017, addendum of stop 37).
        return [
            TimelineEntryOut(at=e.at, kind=e.kind, description=e.description)
            for e in timeline_shown(None, case)
        ]


def _submitted_out(submitted: Submitted) -> SubmittedOut:
    if submitted.case is not None:
        case = submitted.case
        # Organisation kinds, checked against `ChildrensService` by the schema.
        told, untold = selectors.childrens_services_reached(case)
        return SubmittedOut(
            outcome="case",
            reference=case.reference,
            status=case.status,
            status_label=case.get_status_display(),
            competent_authority=case.competent_authority.name,
            submitted_at=case.submitted_at,
            childrens_services_told=told,  # type: ignore[arg-type]
            childrens_services_not_told=untold,  # type: ignore[arg-type]
        )
    report = submitted.report
    assert report is not None, "a submission makes a case or a report"  # noqa: S101
    return SubmittedOut(
        outcome="duty_to_notify_report",
        reference=report.reference,
        status=None,
        status_label=None,
        competent_authority=None,
        submitted_at=report.submitted_at,
        childrens_services_told=[],
        childrens_services_not_told=[],
    )


# --- Operations -------------------------------------------------------------------------------


@router.post(
    "/referrals",
    url_name="referrals",
    operation_id="referral_submit",
    summary="Submit a referral",
    response={201: SubmittedOut, 400: ErrorsOut, **AUTH_ERRORS, 422: ErrorsOut},
)
def referral_submit(
    request: HttpRequest,
    response: HttpResponse,
    answers: ReferralAnswersIn,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Any unique string, e.g. a UUID. A retry with the same key returns what "
        "the first request made, and never makes a second case.",
    ),
) -> Status[Any]:
    """Submit a whole referral: every page's answers in one request.

    The answers are checked exactly as the pages check them. If anything is wrong the response
    is 422, listing every error with its step and field, and nothing is kept: send the whole
    referral again, corrected. Otherwise it is submitted as from "check your answers": routed
    to a competent authority, with the same notifications, and the response is 201.
    """
    token = token_of(request)
    try:
        result = api_submission.api_referral_submit(
            by=token.acts_as,
            organisation=token.organisation,
            answers=answers_from(answers),
            idempotency_key=idempotency_key,
        )
    except api_submission.RejectedReferral as rejected:
        return Status(422, errors_out(rejected.errors))
    body = _submitted_out(result.submitted)
    if result.submitted.case is not None:
        response["Location"] = reverse("api:referral", args=[body.reference])
    if result.replayed:
        idempotency.replayed(response)
    return Status(201, body)


class ReferralPages(LimitOffsetPagination):
    """ninja's limit and offset, with the offset bounded (`MAX_OFFSET`)."""

    class Input(Schema):
        limit: int = Field(100, ge=1, description="At most 500 are returned")
        offset: int = Field(0, ge=0, le=MAX_OFFSET)


def _referred_cases(actor: Actor) -> QuerySet[Case]:
    """The referrals of the organisations the actor refers for (a token's: its own) that the
    actor may see, through the same selector as the case pages; never the person's identifying
    details."""
    return (
        cases_visible_to(actor)
        .filter(referring_organisation_id__in=actor.organisations_as({Role.FIRST_RESPONDER}))
        .select_related("competent_authority")
    )


@router.get(
    "/referrals",
    url_name="referrals",
    operation_id="referral_list",
    summary="List the organisation's referrals",
    response={200: list[CaseSummaryOut], **AUTH_ERRORS, 422: ErrorsOut},
)
@paginate(ReferralPages, max_limit=500)
def referral_list(request: HttpRequest) -> QuerySet[Case]:
    """The cases the organisation has referred, newest first: reference, status and where each
    was sent, with nothing that identifies the person. Duty to notify reports are anonymous and
    are not listed."""
    return _referred_cases(actor_of(request)).order_by("-submitted_at", "-id")


@router.get(
    "/referrals/{reference}",
    url_name="referral",
    operation_id="referral_get",
    summary="Follow one referral",
    response={200: CaseDetailOut, **AUTH_ERRORS, 404: ErrorsOut},
)
def referral_get(request: HttpRequest, reference: str) -> Case:
    """One case the organisation referred: its status and timeline. 404 if there is no such
    case or it is not this organisation's, alike."""
    case = _referred_cases(actor_of(request)).filter(reference=reference).first()
    if case is None:
        raise Http404
    return case


# --- After submission: requests for information and additions (ADR 28) -------------------------
# Case operations, beside `/cases/{reference}/reconsideration`. Neither the question nor the
# information added is ever returned (the API shows no free text about a person): read them on
# the case page.


class InformationRequestOut(Schema):
    id: int
    case: str = Field(description="The case's reference")
    asked_at: datetime
    respond_by: date = Field(description="The day the competent authority asked for an answer by")
    status: Literal["open", "answered", "withdrawn"]
    answered_by: list[int] = Field(
        description="The ids of the additions that answered it (one, once answered)"
    )


class InformationRequestIn(Schema):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(
        description="What the competent authority needs to know; shown to the referring "
        "organisation on the case page, never returned by the API"
    )
    respond_by: date = Field(
        description="The day to answer by: from today to 92 days (about 3 months) ahead"
    )


class AdditionOut(Schema):
    id: int
    case: str = Field(description="The case's reference")
    added_at: datetime
    answers: int | None = Field(description="The request for information it answers, if any")
    evidence_files: int = Field(
        description="How many evidence files came with it (files are added on the case page)"
    )


class AdditionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(
        description="The information added; kept beside the referral as submitted, never "
        "returned by the API"
    )
    answers: int | None = Field(
        None,
        ge=1,
        le=2**31 - 1,
        description="The id of the open request for information it answers, if any",
    )


# The services keep the pages' one-time key (`submission_key`) as a UUID, unique for the member
# who sent it. An API client's `Idempotency-Key` is any string, honoured for `KEY_EXPIRY` from its
# first use and then forgotten (`api.idempotency`): the UUID is of the key and that first use
# (`_submission_key`), so a retry by the token's member within the expiry finds what the first
# request made, and once the key is forgotten the services find nothing under it either and make
# the request anew, as the draft asks. Not the services matching only what was made within the
# expiry: what a forgotten key made keeps its UUID for ever (unique per member in their tables),
# so a request made anew under the same UUID would need the old row changed or would go unkept,
# leaving its own retries nothing to find.
IDEMPOTENCY_KEYS = uuid.UUID("e85b0e6b-04f4-42ee-9a3c-a885d64de730")


def _idempotency_key(made: str) -> Any:
    return idempotency_key_header(
        f"A retry with the same key by the same token's member answers with the {made} the "
        "first request made, and never makes or tells it twice; the same key with a different "
        "request (another case, or another body) is 422."
    )


def _submission_key(idempotency_key: str | None, first_used: datetime | None) -> uuid.UUID | None:
    """The UUID the services keep for this use of the key: of the key and `first_used`, its
    first use since it was last forgotten (`api.idempotency.keyed`); None without a key."""
    if idempotency_key is None or first_used is None:
        return None
    # In UTC, so that the same moment, read back from the database, names the same use.
    use = first_used.astimezone(UTC).isoformat()
    return uuid.uuid5(IDEMPOTENCY_KEYS, f"{idempotency_key}\n{use}")


def _keyed_on_case[T](
    response: HttpResponse,
    idempotency_key: str | None,
    *,
    actor: Actor,
    case: Case,
    operation: str,
    body: Schema,
    send: Callable[[uuid.UUID | None], T],
    check: Callable[[], None] | None = None,
) -> T:
    """`api.idempotency.keyed` for a request about a case (a request for information, an
    addition): the key is the token's member's, the request is the case's reference and the
    body. `send` calls the service with the key as the service keeps it (`_submission_key`)."""

    def sent(first_used: datetime | None) -> T:
        return send(_submission_key(idempotency_key, first_used))

    return idempotency.keyed(
        response,
        idempotency_key,
        by=actor.user,
        operation=operation,
        request={"case": case.reference, **body.model_dump(mode="json")},
        send=sent,
        check=check,
        case=case,
    )


def _request_out(item: InformationRequest) -> InformationRequestOut:
    return InformationRequestOut(
        id=item.pk,
        case=item.case.reference,
        asked_at=item.asked_at,
        respond_by=item.respond_by,
        status=item.status,  # type: ignore[arg-type]
        answered_by=[addition.pk for addition in item.additions.all()],
    )


def _case_for_asker_or_referrer(request: HttpRequest, reference: str) -> tuple[Actor, Case]:
    actor = actor_of(request)
    case = case_for_api(request, reference)
    if not (may_decide(actor, case) or is_referrer(actor, case)):
        raise Http404
    return actor, case


@router.get(
    "/cases/{reference}/information-requests",
    tags=["Cases"],
    url_name="case_information_requests",
    operation_id="information_request_list",
    summary="List a case's requests for information",
    response={200: list[InformationRequestOut], **AUTH_ERRORS, 404: ErrorsOut},
)
def information_request_list(request: HttpRequest, reference: str) -> list[InformationRequestOut]:
    """The requests the competent authority has made of the referring organisation, oldest
    first, with their status: for the authority's decision makers and the referrer's first
    responders. 404 for anyone else, as for a case that does not exist."""
    _, case = _case_for_asker_or_referrer(request, reference)
    return [
        _request_out(item)
        for item in case.information_requests.select_related("case").prefetch_related("additions")
    ]


@router.post(
    "/cases/{reference}/information-requests",
    tags=["Cases"],
    url_name="case_information_requests",
    operation_id="information_request_ask",
    summary="Ask the referring organisation for more information",
    response={
        201: InformationRequestOut,
        **AUTH_ERRORS,
        404: ErrorsOut,
        422: ErrorsOut,
        409: ErrorsOut,
    },
)
def information_request_ask(
    request: HttpRequest,
    response: HttpResponse,
    reference: str,
    body: InformationRequestIn,
    idempotency_key: str | None = _idempotency_key("request"),
) -> Status[Any]:
    """A decision maker of the case's competent authority asks a question, to be answered by a
    date; the referring organisation's first responders are told. 422 for an empty question, or
    a date in the past or more than 92 days ahead; 404 for a case of another authority. With an
    `Idempotency-Key`, the same question and date sent again answer with the request already
    made (`Idempotent-Replayed: true`), telling nobody again, even once the date has passed
    (only a first use is checked against today); another question, date or case under a key
    already used is 422 (`api.idempotency`)."""
    actor = actor_of(request)
    case = case_for_api(request, reference)
    if not may_decide(actor, case):
        raise Http404

    def check() -> None:
        # A first use only: the date must be today or later, and a retry sent after midnight
        # is answered as the first request was (`api.idempotency.keyed`).
        form = InformationRequestForm(
            {"question": body.question, **date_input("respond_by", body.respond_by)}
        )
        if not form.is_valid():
            raise ValidationError(form.errors.as_data())

    def ask(submission_key: uuid.UUID | None) -> InformationRequest:
        # The body as sent, which `check` accepted for a first use (the service strips the
        # question as the form does); for a retry the service finds what the key asked.
        return services.information_request_ask(
            by=actor.user,
            case=case,
            question=body.question,
            respond_by=body.respond_by,
            submission_key=submission_key,
            refuse_other_case=True,
        )

    try:
        asked = _keyed_on_case(
            response,
            idempotency_key,
            actor=actor,
            case=case,
            operation="information_request_ask",
            body=body,
            send=ask,
            check=check,
        )
    except ValidationError as error:
        return refusal(error)
    return Status(201, _request_out(asked))


@router.post(
    "/cases/{reference}/additions",
    tags=["Cases"],
    url_name="case_additions",
    operation_id="referral_addition_add",
    summary="Add information to a submitted referral",
    response={201: AdditionOut, **AUTH_ERRORS, 404: ErrorsOut, 422: ErrorsOut, 409: ErrorsOut},
)
def referral_addition_add(
    request: HttpRequest,
    response: HttpResponse,
    reference: str,
    body: AdditionIn,
    idempotency_key: str | None = _idempotency_key("addition"),
) -> Status[Any]:
    """The referring organisation adds information to its referral, answering an open request
    (`answers`) or of its own accord; the decision makers are told. What was submitted never
    changes. Evidence files are added on the case page. 422 for empty text or a request already
    answered or withdrawn; 404 for a case the organisation did not refer, or a request of
    another case. An addition is kept for ever: with an `Idempotency-Key`, the same text (and
    `answers`) sent again answers with the addition already made (`Idempotent-Replayed: true`),
    even once the request it answered is closed, telling nobody again; other text, `answers` or
    case under a key already used is 422 and adds nothing (`api.idempotency`)."""
    actor = actor_of(request)
    case = case_for_api(request, reference)
    if not is_referrer(actor, case):
        raise Http404
    asked = (
        selectors.information_request_for_referrer(actor, case, body.answers)
        if body.answers is not None
        else None
    )
    form = AdditionForm({"text": body.text})
    if not form.is_valid():
        return Status(422, field_errors_out(form.errors))

    def add(submission_key: uuid.UUID | None) -> ReferralAddition:
        return services.referral_addition_add(
            by=actor.user,
            case=case,
            text=form.cleaned_data["text"],
            answers=asked,
            max_bytes=0,
            submission_key=submission_key,
            refuse_other_case=True,
        )

    try:
        added = _keyed_on_case(
            response,
            idempotency_key,
            actor=actor,
            case=case,
            operation="referral_addition_add",
            body=body,
            send=add,
        )
    except ValidationError as error:
        return refusal(error)
    return Status(
        201,
        AdditionOut(
            id=added.pk,
            case=case.reference,
            added_at=added.added_at,
            answers=added.answers_id,
            evidence_files=0,
        ),
    )
