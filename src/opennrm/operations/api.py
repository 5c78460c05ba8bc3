"""The operations API: the operations the token's member may see, one of them, and planning one;
the people taken in during one, and taking a person in.
A token reaches exactly the operations its member sees on the pages (`operations_visible_to`,
through the member's roles in the token's organisation only); any other id is 404, as for one
that does not exist. A plan is checked by the plan page's own form and written by its service;
so is a person taken in (the reception page's form, `services.reception_take_in`), and the
people taken in are read as the board reads them: a name only where `may_see_name` allows, the
read recorded in the audit trail.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from opennrm.accounts.actor import actor_of
from opennrm.api import idempotency
from opennrm.api.schemas import (
    AUTH_ERRORS,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_OFFSET,
    ErrorsOut,
    field_errors_out,
    idempotency_key_header,
    page_slice,
    refusal,
)
from opennrm.lib.govuk_forms import date_input

from . import selectors, services
from .forms import LANGUAGE_BOXES, OperationForm, ReceptionForm, number_field_name
from .models import Operation, ReceptionRecord
from .report import OperationReport, operation_report

router = Router(tags=["Operations"])


class ExpectedGroupIO(Schema):
    model_config = ConfigDict(extra="forbid")

    sex: Literal["female", "male", "unknown"]
    age_group: Literal["adult", "child", "age_disputed"] = Field(
        description="A child or a person whose age is disputed is never counted as an adult"
    )
    exploitation_type: Literal[
        "sexual",
        "labour",
        "criminal",
        "domestic_servitude",
        "organ_harvesting",
        "forced_marriage",
        "unknown",
    ]
    number: int = Field(ge=1, le=10_000, description="How many people of this group")


class PartnerOut(Schema):
    organisation: str = Field(description="The invited organisation's name")
    role: str = Field(
        description="support_provider, local_authority, child_guardian_service, "
        "competent_authority or police"
    )


class OperationOut(Schema):
    id: int
    name: str
    lead_organisation: str = Field(description="The name of the organisation that leads it")
    confidential: bool = Field(
        description="Until it starts, nothing about it appears outside its own pages"
    )
    starts_on: date
    ends_on: date
    status: str = Field(description="planned, under_way, ended (by its dates) or cancelled")
    region: str
    languages: list[str] = Field(description="ISO 639 codes of the languages expected")
    expected_total: int = Field(description="How many people in all are expected")
    expected: list[ExpectedGroupIO]
    partners: list[PartnerOut]


class OperationPageOut(Schema):
    items: list[OperationOut]
    count: int = Field(description="How many operations the member may see in all")


class OperationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=120, description="The name the organisation uses for it")
    confidential: bool
    starts_on: date
    ends_on: date
    region: str = Field(description="One of the regions, e.g. north_east, london, wales")
    expected: list[ExpectedGroupIO] = Field(
        description="People expected, by group; each group once; at least one person"
    )
    languages: list[str] = Field(
        default_factory=list,
        description=f"ISO 639 codes of the languages expected (at most {LANGUAGE_BOXES})",
    )


def _operation_out(operation: Operation) -> OperationOut:
    groups = list(selectors.expected_of(operation))
    return OperationOut(
        id=operation.id,
        name=operation.name,
        lead_organisation=operation.lead_organisation.name,
        confidential=operation.confidential,
        starts_on=operation.starts_on,
        ends_on=operation.ends_on,
        status=operation.status_on(timezone.localdate()).value,
        region=operation.region,
        languages=list(operation.languages),
        expected_total=sum(g.number for g in groups),
        expected=[
            ExpectedGroupIO(
                sex=g.sex,  # type: ignore[arg-type]
                age_group=g.age_group,  # type: ignore[arg-type]
                exploitation_type=g.exploitation_type,  # type: ignore[arg-type]
                number=g.number,
            )
            for g in groups
        ],
        partners=[
            PartnerOut(organisation=p.organisation.name, role=p.role)
            for p in selectors.partners_of(operation)
        ],
    )


@router.get(
    "/operations",
    url_name="operations",
    operation_id="operation_list",
    summary="The operations the member may see",
    response={200: OperationPageOut, **AUTH_ERRORS, 404: ErrorsOut, 422: ErrorsOut},
)
def operation_list(
    request: HttpRequest,
    limit: int = Query(DEFAULT_LIMIT, ge=1, description=f"At most {MAX_LIMIT}"),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> OperationPageOut:
    """Operations led by, or invited to, the token's organisation, latest start first. No
    other operation is listed or counted, confidential or not."""
    operations = selectors.operations_visible_to(actor_of(request))
    page = operations[page_slice(limit, offset)]
    return OperationPageOut(items=[_operation_out(o) for o in page], count=operations.count())


@router.get(
    "/operations/{operation_id}",
    url_name="operation",
    operation_id="operation_get",
    summary="One operation",
    response={200: OperationOut, **AUTH_ERRORS, 404: ErrorsOut, 422: ErrorsOut},
)
def operation_get(request: HttpRequest, operation_id: int) -> OperationOut:
    """The operation's plan, expected numbers and partners. 404 alike if there is no such
    operation or the token's organisation neither leads it nor is invited to it."""
    return _operation_out(selectors.operation_get_for(actor_of(request), operation_id))


class GroupCountOut(Schema):
    sex: str = Field(description="female, male, other or unknown, as recorded at reception")
    age_group: str = Field(description="adult, child or age_disputed, as it appeared")
    people: int


class StandingsOut(Schema):
    """Where each person taken in stands now, as the board derives it (ADR 0043)."""

    # One field per selectors.Standing: a standing missing here is an error, not a count
    # silently dropped from the report.
    model_config = ConfigDict(extra="forbid")

    draft: int = Field(description="Their referral is still a draft")
    referred: int = Field(description="Referred: a case exists, no place needed or open")
    duty_to_notify: int = Field(description="Reported under the duty to notify, not referred")
    declined: int = Field(description="Their draft was deleted unsubmitted")
    not_referred: int = Field(
        description="A child or age-disputed person whose draft was deleted unsubmitted (only "
        "retention deletes one: a child does not decline)"
    )
    placed: int = Field(description="A place accepted or lived in, or their request met")
    waiting_for_bed: int = Field(description="An adult waiting for a place")
    support_refused: int = Field(
        description="An adult whose draft says they do not consent to support (or to a "
        "referral): no place is sought for them"
    )
    missing: int = Field(description="Their case is suspended because they are missing")


class DecisionsOut(Schema):
    """Each referred person once, by their case's latest decision of the kind in effect
    (approved where approval is needed; a superseded decision is not counted)."""

    positive: int
    negative: int
    not_decided: int = Field(description="The stage closed or paused without a decision")
    awaited: int = Field(
        description="No decision of the kind in effect yet (conclusive grounds: among those "
        "with a positive reasonable grounds decision)"
    )


class WaitsOut(Schema):
    people: int = Field(description="How many people")
    timed: int = Field(description="How many of them have the time recorded")
    median_hours: float | None = Field(description="Median hours from being taken in")
    longest_hours: float | None = Field(description="Longest, in hours from being taken in")


class TurnedAwayOut(Schema):
    reason: str = Field(
        description="The last reason matching found for the person's request (a constraint "
        "code, taken or no_beds), or closed (by a coordinator, none found)"
    )
    label: str
    people: int


class ReportDayOut(Schema):
    """One day, as at its end."""

    day: date
    needed: int = Field(description="in_place + waiting")
    in_place: int = Field(description="The operation's people in a place")
    waiting: int = Field(description="Adults of the operation waiting for a place")
    kept_free: int = Field(description="Free surge places and beds held for the operation")
    other_free: int = Field(
        description="Other free beds at adults' sites in the operation's region, of any setting"
    )
    available: int = Field(description="in_place + kept_free + other_free")
    short: int = Field(description="max(0, needed - available)")


class KindDayOut(Schema):
    kind: str = Field(description="women, men or mixed (a place in a mixed setting)")
    needed: int = Field(description="Adults of the kind in a place or waiting for one")
    median: int = Field(description="The forecast's median for the day")
    lower: int = Field(description="The lower end of the forecast's interval")
    upper: int = Field(description="The upper end of the forecast's interval")
    within: bool


class ForecastDayOut(Schema):
    day: date
    kinds: list[KindDayOut]


class ForecastComparedOut(Schema):
    """The bed forecast made again as on the day before the operation began (the plan's
    expected numbers, the history recorded before its first day), beside the places needed."""

    level: float = Field(description="The interval's level, e.g. 0.8")
    simulations: int
    days_within: int = Field(description="Days on which every kind was within its interval")
    days: list[ForecastDayOut]


class OperationReportOut(Schema):
    """The operation report (ADR 0045): counts only, nobody named."""

    operation_id: int
    as_of: date = Field(description="The day the records were read")
    taken_in: int = Field(description="People taken in during the operation")
    taken_in_by_group: list[GroupCountOut]
    cases: int = Field(description="How many of them were referred (a case exists)")
    standings: StandingsOut
    reasonable_grounds: DecisionsOut
    conclusive_grounds: DecisionsOut
    placed: WaitsOut = Field(description="Adults given a place; waits to the provider accepting it")
    children_accommodated: WaitsOut = Field(
        description="Children and age-disputed people whose accommodation the local authority "
        "recorded done; waits to that record"
    )
    turned_away: list[TurnedAwayOut] = Field(
        description="People whose request for a place was closed unmet, by reason"
    )
    missing_now: int
    left_without_notice: int = Field(description="Placements ended: left without notice")
    planned_removals_while_protected: int = Field(
        description="Planned removals recorded for their references while protected (removals "
        "carried out are not recorded by OpenNRM); should be 0"
    )
    people_with_planned_removal_while_protected: int
    days: list[ReportDayOut] = Field(
        description="From the first day to 8 weeks after the last, up to as_of"
    )
    forecast: ForecastComparedOut | None = Field(
        description="The forecast beside the places needed; null with no_forecast saying why"
    )
    no_forecast: str = Field(description="Why there is no forecast to compare with, or empty")


def _report_out(operation: Operation, report: OperationReport) -> OperationReportOut:
    return OperationReportOut(
        operation_id=operation.pk,
        as_of=report.as_of,
        taken_in=report.taken_in,
        taken_in_by_group=[
            GroupCountOut(sex=sex, age_group=age, people=n)
            for (sex, age), n in report.by_sex_and_age.items()
        ],
        cases=report.cases,
        standings=StandingsOut(**{standing.value: n for standing, n in report.standings.items()}),
        reasonable_grounds=DecisionsOut(**vars(report.reasonable_grounds)),
        conclusive_grounds=DecisionsOut(**vars(report.conclusive_grounds)),
        placed=WaitsOut(**vars(report.placed)),
        children_accommodated=WaitsOut(**vars(report.children_accommodated)),
        turned_away=[
            TurnedAwayOut(reason=code, label=label, people=n)
            for code, label, n in report.turned_away_labelled
        ],
        missing_now=report.missing_now,
        left_without_notice=report.left_without_notice,
        planned_removals_while_protected=report.planned_removals_while_protected,
        people_with_planned_removal_while_protected=(
            report.people_with_planned_removal_while_protected
        ),
        days=[
            ReportDayOut(
                day=d.day,
                needed=d.needed,
                in_place=d.in_place,
                waiting=d.waiting,
                kept_free=d.kept_free,
                other_free=d.other_free,
                available=d.available,
                short=d.short,
            )
            for d in report.days
        ],
        forecast=None
        if report.forecast is None
        else ForecastComparedOut(
            level=report.forecast.level,
            simulations=report.forecast.simulations,
            days_within=report.forecast.days_within,
            days=[
                ForecastDayOut(
                    day=fd.day,
                    kinds=[KindDayOut(**vars(k), within=k.within) for k in fd.kinds],
                )
                for fd in report.forecast.days
            ],
        ),
        no_forecast=report.no_forecast,
    )


@router.get(
    "/operations/{operation_id}/report",
    url_name="operation_report",
    operation_id="operation_report",
    summary="The operation report",
    response={200: OperationReportOut, **AUTH_ERRORS, 404: ErrorsOut, 422: ErrorsOut},
)
def operation_report_get(request: HttpRequest, operation_id: int) -> OperationReportOut:
    """The report of the operation page, as figures: people taken in, where they stand,
    decisions, accommodation and waits, people turned away and why, missing, planned removals
    recorded while protected, and places needed against places available each day. Counts
    only. 404 alike if there is no such operation or the token's organisation neither leads it
    nor is invited to it."""
    operation = selectors.operation_get_for(actor_of(request), operation_id)
    return _report_out(operation, operation_report(operation, timezone.localdate()))


def _form_data(body: OperationIn) -> dict[str, str]:
    data = {
        "name": body.name,
        "confidential": "yes" if body.confidential else "no",
        "region": body.region,
    }
    data |= date_input("starts_on", body.starts_on) | date_input("ends_on", body.ends_on)
    for group in body.expected:
        data[number_field_name(group.sex, group.age_group, group.exploitation_type)] = str(
            group.number
        )
    for n, code in enumerate(body.languages, start=1):
        data[f"language_{n}"] = code
    return data


# The form's fields, as the request names them.
FIELDS = {"starts_on": "starts_on", "ends_on": "ends_on"} | {
    f"language_{n}": "languages" for n in range(1, LANGUAGE_BOXES + 1)
}


@router.post(
    "/operations",
    url_name="operations",
    operation_id="operation_plan",
    summary="Plan an operation",
    response={201: OperationOut, **AUTH_ERRORS, 404: ErrorsOut, 422: ErrorsOut, 409: ErrorsOut},
)
def operation_plan(request: HttpRequest, body: OperationIn) -> Status[Any]:
    """Plan an operation led by the token's organisation, as the plan page does. 404 if that
    organisation cannot lead one (only a police force, through its first responders, or a
    competent authority, through its senior decision makers); 422 naming the field if the plan
    is not right (an end before the start, no one expected, a language not in the list)."""
    actor = actor_of(request)
    leads = selectors.organisations_planning_for(actor)
    if not leads.exists():
        raise Http404
    groups = [(g.sex, g.age_group, g.exploitation_type) for g in body.expected]
    if len(set(groups)) != len(groups):
        return Status(422, field_errors_out({"expected": ["Give each group once"]}))
    if len(body.languages) > LANGUAGE_BOXES:
        return Status(
            422, field_errors_out({"languages": [f"Give at most {LANGUAGE_BOXES} languages"]})
        )
    form = OperationForm(_form_data(body), lead_choices=leads)
    if not form.is_valid():
        errors = {
            ("expected" if name.startswith("n_") or name == "__all__" else name): messages
            for name, messages in form.errors.items()
        }
        return Status(422, field_errors_out(errors, FIELDS))
    try:
        operation = services.operation_plan(
            by=actor.user,
            lead_organisation=form.cleaned_data["lead_organisation"],
            **form.plan_values(),
        )
    except ValidationError as error:
        return refusal(error)
    return Status(201, _operation_out(operation))


# --- Reception (ADR 0043) ---------------------------------------------------------------------

Need = Literal["bed_tonight", "medical", "interpreter", "safety_risk"]


class ReceptionOut(Schema):
    sequence: int = Field(description="The person's number in the operation: 1, 2, 3...")
    reference: str = Field(
        description="The reference given on the night (OPR-XXXX-XXXX), which the protection "
        "check accepts"
    )
    name_or_description: str | None = Field(
        description="The name they gave, or a description; null unless the token's member took "
        "them in or is a first responder of the lead organisation"
    )
    sex: str = Field(description="female, male or unknown")
    age_group: str = Field(
        description="adult, child or age_disputed (treated as a child until assessed), as "
        "known now: the group recorded when taken in, unless they were found to be a child or "
        "their age disputed since (at the referral or on their case); never adult while their "
        "case treats them as a child, nor once found to be a child at the referral"
    )
    language: str = Field(description="ISO 639 code of their language; empty if not known")
    interpreter_needed: bool
    urgent_needs: list[str] = Field(
        description="What they needed at once: bed_tonight, medical, interpreter, safety_risk"
    )
    standing: str = Field(
        description="Where they stand now: draft, referred, duty_to_notify, declined, "
        "not_referred, placed, waiting_for_bed, support_refused or missing"
    )
    taken_in_at: datetime


class ReceptionPageOut(Schema):
    items: list[ReceptionOut]
    count: int = Field(description="How many people were taken in during the operation")


class TakenInOut(ReceptionOut):
    message: str = Field(
        description="What the page says once the person is taken in: for a child, whether "
        "children's services were told"
    )


class ReceptionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name_or_description: str = Field(
        max_length=500,
        description="The name they give, or how to recognise them, e.g. 'woman in red coat, "
        "room 3'",
    )
    sex: Literal["female", "male", "unknown"]
    age_group: Literal["adult", "child", "age_disputed"] = Field(
        description="If you are not sure they are an adult, age_disputed: treated as a child"
    )
    language: str = Field(default="", description="ISO 639 code of their language, if known")
    urgent_needs: list[Need] = Field(
        default_factory=list, description="What they need now, if anything"
    )
    interpreter_needed: bool


def _reception_out(record: ReceptionRecord, name_shown: bool) -> ReceptionOut:
    return ReceptionOut(
        sequence=record.sequence,
        reference=record.reference,
        name_or_description=record.name_or_description if name_shown else None,
        sex=record.sex,
        # As the board, report and public account count them now, not the night's impression:
        # a system reading it must not route a child as an adult (ADR 0043).
        age_group=selectors.age_group_now(record).value,
        language=record.language,
        interpreter_needed=record.interpreter_needed,
        urgent_needs=list(record.urgent_needs),
        standing=selectors.standing_of(record).value,
        taken_in_at=record.taken_in_at,
    )


@router.get(
    "/operations/{operation_id}/reception",
    url_name="operation_reception",
    operation_id="reception_list",
    summary="The people taken in during an operation",
    response={200: ReceptionPageOut, **AUTH_ERRORS, 404: ErrorsOut, 422: ErrorsOut},
)
def reception_list(
    request: HttpRequest,
    operation_id: int,
    limit: int = Query(DEFAULT_LIMIT, ge=1, description=f"At most {MAX_LIMIT}"),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> ReceptionPageOut:
    """Everyone taken in, by number, and where each stands, as the board shows them. The name
    or description only to the member who took the person in and to the lead organisation's
    first responders (each time, recorded in the audit trail); null for every other reader.
    404 alike if there is no such operation or the token's organisation neither leads it nor
    is invited to it."""
    actor = actor_of(request)
    operation = selectors.operation_get_for(actor, operation_id)
    lead_responder = selectors.is_lead_responder(actor, operation)
    records = selectors.reception_of(operation)
    page = list(records[page_slice(limit, offset)])
    named = {r.sequence for r in page if selectors.may_see_name(actor, r, lead_responder)}
    services.reception_names_shown(by=actor.user, operation=operation, sequences=named)
    return ReceptionPageOut(
        items=[_reception_out(r, r.sequence in named) for r in page], count=records.count()
    )


@router.post(
    "/operations/{operation_id}/reception",
    url_name="operation_reception",
    operation_id="reception_take_in",
    summary="Take a person in during an operation",
    response={201: TakenInOut, **AUTH_ERRORS, 404: ErrorsOut, 422: ErrorsOut, 409: ErrorsOut},
)
def reception_take_in(
    request: HttpRequest,
    response: HttpResponse,
    operation_id: int,
    body: ReceptionIn,
    idempotency_key: str | None = idempotency_key_header(
        "A retry with the same key answers with the person the first request took in, and "
        "never takes them in twice."
    ),
) -> Status[Any]:
    """Take one person in, as the reception page does: the next number in the operation, and a
    referral draft for the token's member with what is known filled in, to complete through the
    referral journey. A child or age-disputed person is treated as a child at once (the
    safeguarding leads of the invited local authority and child guardian service are told).
    Only first responders and safeguarding leads of the lead organisation, or of one invited as
    police or local authority, take people in: 404 for anyone else, as for an operation that
    does not exist. 422 while the operation is not under way, or naming the field that is not
    right. With an `Idempotency-Key`, a request sent again answers with the person already
    taken in (`Idempotent-Replayed: true`); the same key with different answers is 422."""
    actor = actor_of(request)
    operation = selectors.operation_get_for(actor, operation_id)
    if selectors.reception_organisation(actor, operation) is None:
        raise Http404
    form = ReceptionForm(
        {
            "name_or_description": body.name_or_description,
            "sex": body.sex,
            "age_group": body.age_group,
            "language": body.language,
            "urgent_needs": list(body.urgent_needs),
            "interpreter_needed": "yes" if body.interpreter_needed else "no",
            "submission_key": idempotency_key or "",
        }
    )
    if not form.is_valid():
        return Status(422, field_errors_out(form.errors))
    try:
        record = services.reception_take_in(
            by=actor.user, operation=operation, actor=actor, **form.take_in_values()
        )
    except services.AlreadyTakenIn as sent:
        if not sent.same:
            return idempotency.key_reused(
                f"to take in person {sent.record.sequence}", "each person"
            )
        record = sent.record
        idempotency.replayed(response)
    except ValidationError as error:
        return refusal(error)
    out = _reception_out(record, name_shown=True)
    return Status(
        201, TakenInOut(**out.model_dump(), message=selectors.taken_in_message(operation, record))
    )
