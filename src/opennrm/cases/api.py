"""The cases API: one case's status, clocks and decisions, its timeline, and the referrer's
request for reconsideration. Same selectors, form and service as the case pages.

A token reaches the cases its member may open on the case pages (`cases_visible_to`), narrowed to
what the member's roles in the token's organisation open (`api_token_cases`); any other
reference is 404, exactly as for one that does not exist. Nothing here shows who the person is:
no names, dates of birth, contact details, accounts, or the free text of decisions.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from opennrm.api.auth import token_of
from opennrm.api.models import ApiToken
from opennrm.api.schemas import AUTH_ERRORS, ErrorsOut, field_errors_out, refusal
from opennrm.api.selectors import api_token_cases
from opennrm.decisions import services as decision_services
from opennrm.decisions.api import (
    CaseStateOut,
    DecisionOut,
    ReconsiderationMadeOut,
    ReconsiderationOut,
    decision_out,
    reconsideration_made_out,
    reconsideration_out,
)
from opennrm.decisions.forms import ReconsiderationRequestForm

from .models import Case

router = Router(tags=["Cases"])

# The dates stored on a case when its clocks start (never recomputed on reading), in the order
# and with the words of the case page (`selectors.clocks_of`).
CLOCKS: tuple[tuple[str, str], ...] = (
    ("reasonable_grounds_due", "Reasonable grounds decision due"),
    ("recovery_period_ends", "Recovery period ends"),
    ("conclusive_grounds_from", "Conclusive grounds decision possible from"),
    ("reconsideration_until", "Reconsideration can be asked for until"),
    ("move_on_ends", "Move-on support ends"),
)


def _case(token: ApiToken, reference: str) -> Case:
    case = (
        api_token_cases(token)
        .select_related("competent_authority", "referring_organisation", "assigned_to")
        .filter(reference=reference)
        .first()
    )
    if case is None:
        raise Http404
    return case


# --- One case ---------------------------------------------------------------------------------


class ClockOut(Schema):
    name: str = Field(
        description="reasonable_grounds_due, recovery_period_ends, conclusive_grounds_from, "
        "reconsideration_until or move_on_ends"
    )
    label: str
    date: date
    days_left: int = Field(description="Days from today; negative once the date has passed")


class CaseOut(CaseStateOut):
    submitted_at: datetime
    age_group: str = Field(description="adult, child, or presumed_child (age disputed)")
    jurisdiction: str
    competent_authority: str
    referring_organisation: str
    clocks: list[ClockOut] = Field(description="Only the clocks that have started")
    decisions: list[DecisionOut] = Field(description="Oldest first")
    reconsiderations: list[ReconsiderationOut] = Field(description="Oldest first")


def clocks_out(case: Case) -> list[ClockOut]:
    today = timezone.localdate()
    return [
        ClockOut(name=name, label=label, date=day, days_left=(day - today).days)
        for name, label in CLOCKS
        if (day := getattr(case, name)) is not None
    ]


def case_out(case: Case) -> CaseOut:
    return CaseOut(
        reference=case.reference,
        status=case.status,
        status_label=case.get_status_display(),
        version=case.version,
        assigned_to=case.assigned_to.full_name if case.assigned_to else None,
        submitted_at=case.submitted_at,
        age_group=case.age_group,
        jurisdiction=case.jurisdiction,
        competent_authority=case.competent_authority.name,
        referring_organisation=case.referring_organisation.name,
        clocks=clocks_out(case),
        decisions=[decision_out(d) for d in case.decisions.all()],
        reconsiderations=[reconsideration_out(r) for r in case.reconsiderations.all()],
    )


@router.get(
    "/cases/{reference}",
    url_name="case",
    operation_id="case_get",
    summary="One case: status, clocks and decisions",
    response={200: CaseOut, **AUTH_ERRORS, 404: ErrorsOut},
)
def case_get(request: HttpRequest, reference: str) -> CaseOut:
    """A case the token's member may open on the case pages: its status, the dates its clocks
    set with the days left, and every decision with its outcome, state and the policy profile
    it applied. 404 alike if there is no such case or the member may not see it."""
    return case_out(_case(token_of(request), reference))


class TimelineEntryOut(Schema):
    at: datetime
    kind: str = Field(description="e.g. case.status_changed, decision.in_effect, case.assigned")
    description: str
    from_status: str | None = Field(default=None, description="For a change of status")
    to_status: str | None = Field(default=None, description="For a change of status")


class CaseTimelineOut(Schema):
    reference: str
    status: str
    version: int
    timeline: list[TimelineEntryOut] = Field(description="Oldest first")


@router.get(
    "/cases/{reference}/timeline",
    url_name="case_timeline",
    operation_id="case_timeline",
    summary="One case's timeline",
    response={200: CaseTimelineOut, **AUTH_ERRORS, 404: ErrorsOut},
)
def case_timeline(request: HttpRequest, reference: str) -> CaseTimelineOut:
    """Everything that happened to the case, in order, each change of status with the status it
    left and the one it entered. 404 alike if there is no such case or the member may not see
    it."""
    case = _case(token_of(request), reference)
    entries = []
    for event in case.events.all():
        moved = event.kind == "case.status_changed" and isinstance(event.data, dict)
        entries.append(
            TimelineEntryOut(
                at=event.at,
                kind=event.kind,
                description=event.description,
                from_status=event.data.get("from") if moved else None,
                to_status=event.data.get("to") if moved else None,
            )
        )
    return CaseTimelineOut(
        reference=case.reference, status=case.status, version=case.version, timeline=entries
    )


# --- The referrer asks for reconsideration ------------------------------------------------------


class ReconsiderationRequestIn(Schema):
    model_config = ConfigDict(extra="forbid")

    grounds: str = Field(
        description="The new evidence, or how the decision did not follow the guidance. Never "
        "returned by the API."
    )
    expected_version: int = Field(description="The case's `version` when it was read")


@router.post(
    "/cases/{reference}/reconsideration",
    url_name="case_reconsideration",
    operation_id="reconsideration_request",
    summary="Ask for a negative decision to be reconsidered",
    response={
        201: ReconsiderationMadeOut,
        **AUTH_ERRORS,
        404: ErrorsOut,
        409: ErrorsOut,
        422: ErrorsOut,
    },
)
def reconsideration_request(
    request: HttpRequest, reference: str, body: ReconsiderationRequestIn
) -> Status[Any]:
    """The organisation that referred the case asks for a negative decision (or a
    disqualification) to be looked at again, within the window the rules allow: 422, giving the
    last day, once it has closed. 404 for a case the organisation did not refer."""
    token = token_of(request)
    case = _case(token, reference)
    if case.referring_organisation_id != token.organisation_id:
        raise Http404
    form = ReconsiderationRequestForm(
        {"grounds": body.grounds, "expected_version": body.expected_version}
    )
    if not form.is_valid():
        return Status(422, field_errors_out(form.errors))
    try:
        made = decision_services.reconsideration_request(
            by=token.acts_as,
            case=case,
            grounds=form.cleaned_data["grounds"],
            expected_version=form.cleaned_data["expected_version"],
        )
    except ValidationError as error:
        return refusal(error)
    return Status(201, reconsideration_made_out(made))
