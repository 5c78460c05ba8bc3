"""The cases API: one case's timeline. A token reaches the cases its member may open on the case
pages (`cases_visible_to`, from the token's actor: the member's roles in the token's
organisation only); any other reference is 404, exactly as for one that does not exist. Nothing
here shows who the person is: no names, dates of birth, contact details or accounts.

A case's status, clocks and decisions, and the referrer's request for reconsideration, are
shown and taken by `decisions.api`, which composes the case with its decisions.

The timeline's entries about a draft decision (waiting for a second decision maker's approval,
or refused it) are shown, as on the case page, only to the decision makers of the case's
competent authority (ADR 0017, addendum 2026-12-05, stop 37).
"""

from __future__ import annotations

from datetime import datetime

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema

from opennrm.accounts.actor import actor_of
from opennrm.api.schemas import AUTH_ERRORS, ErrorsOut

from .models import Case
from .selectors import cases_visible_to, timeline_shown

router = Router(tags=["Cases"])


def case_for_api(request: HttpRequest, reference: str) -> Case:
    """A case the request's actor may open, with what every case operation shows; 404 alike
    for one that does not exist and one the actor may not see."""
    case = (
        cases_visible_to(actor_of(request))
        .select_related("competent_authority", "referring_organisation", "assigned_to")
        .filter(reference=reference)
        .first()
    )
    if case is None:
        raise Http404
    return case


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
    it. The entries about a draft decision only for the decision makers of the case's competent
    authority, as on the case page."""
    case = case_for_api(request, reference)
    entries = []
    for event in timeline_shown(actor_of(request), case):
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
