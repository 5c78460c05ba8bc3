"""Protection from removal over the API: the same form, selectors and services as the pages.

An immigration enforcement organisation's token (scope `protection:check`, acting for a member
in the immigration enforcement officer role) checks a reference and records planned removals.
The answer is the page's: protected or not, why, until when. An unknown reference gets the same
answer as one that is not protected, and nothing else about anyone is ever returned.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from opennrm.accounts.actor import actor_of
from opennrm.accounts.models import User
from opennrm.api import idempotency
from opennrm.api.schemas import (
    AUTH_ERRORS,
    ErrorsOut,
    field_errors_out,
    idempotency_key_header,
)

from . import selectors, services
from .forms import PlannedRemovalForm, ReferenceForm
from .rules import Protection

router = Router(tags=["Protection from removal"])


class ProtectionOut(Schema):
    reference: str = Field(description="The reference checked, as normalised (upper case)")
    protected: bool = Field(description="True if removal must not proceed")
    answer: str = Field(
        description="The answer in words, e.g. 'Removal must not proceed: a reasonable "
        "grounds decision is awaited.' or 'No NRM protection recorded for this reference.' "
        "(the same for a reference the system does not know)"
    )
    reason: str | None = Field(
        description="Why, as a code: awaiting_reasonable_grounds, recovery_period, "
        "awaiting_conclusive_grounds, identification_not_complete, other_source; null if not "
        "protected"
    )
    until: date | None = Field(
        description="The last day of the protection where one is known (the last day a "
        "negative conclusive grounds decision may be reconsidered; the answer says 'at least "
        "until'); null while it lasts until a decision (in the recovery period too: protection "
        "goes on after it until the conclusive grounds decision), or if not protected"
    )
    recovery_period_ends: date | None = Field(
        description="The last day of the recovery period while the person is in it (reason "
        "recovery_period), as the answer names it; not the protection's last day, which lasts "
        "after it until the conclusive grounds decision. Null otherwise",
    )


class PlannedRemovalIn(Schema):
    model_config = ConfigDict(extra="forbid")

    planned_on: date = Field(
        description="The day of the planned removal: today or later, within a year"
    )


class PlannedRemovalOut(ProtectionOut):
    id: int
    planned_on: date
    alerted: bool = Field(
        description="True if the competent authority and the referrer were told at once"
    )


def _out(reference: str, protection: Protection) -> dict[str, Any]:
    return {
        "reference": reference,
        "protected": protection.protected,
        "answer": protection.answer,
        "reason": str(protection.reason) if protection.reason else None,
        "until": protection.until,
        "recovery_period_ends": protection.recovery_period_ends,
    }


@router.get(
    "/protection/{reference}",
    url_name="protection_check",
    operation_id="protection_check",
    summary="Check whether removal must not proceed for a reference",
    response={200: ProtectionOut, **AUTH_ERRORS, 422: ErrorsOut},
)
def protection_check(request: HttpRequest, reference: str) -> Status[Any]:
    """Whether removal must not proceed today for the person with this reference, and why.
    Recorded in the audit trail as a read, naming who checked which reference. 422 for a
    reference not in the form NRM-7K3Q-9XPD (a NUL byte in it too, answered before the route
    runs: `pages.middleware`). Never 404: a reference the system does not know gets the answer
    of one that is not protected."""
    actor = actor_of(request)
    selectors.enforcement_organisation(actor)
    form = ReferenceForm({"reference": reference})
    if not form.is_valid():
        return Status(422, field_errors_out(form.errors))
    checked = form.cleaned_data["reference"]
    protection = services.protection_check(by=actor.user, reference=checked)
    return Status(200, _out(checked, protection))


def _retried(by: User, form: PlannedRemovalForm, key: str | None) -> bool:
    """Whether the request refused only for its day (which depends on today) is sent under an
    `Idempotency-Key` that `by` already recorded a removal with: a retry, or another request
    under a used key, which the service tells apart (`services.planned_removal_record`)."""
    if key is None or set(form.errors) != {"planned_on"}:
        return False
    return selectors.planned_removal_key_used(by, key)


@router.post(
    "/protection/{reference}/planned-removals",
    url_name="protection_planned_removals",
    operation_id="protection_planned_removal",
    summary="Record a planned removal; alerts at once if the person is protected that day",
    response={201: PlannedRemovalOut, **AUTH_ERRORS, 422: ErrorsOut},
)
def planned_removal(
    request: HttpRequest,
    response: HttpResponse,
    reference: str,
    body: PlannedRemovalIn,
    idempotency_key: str | None = idempotency_key_header(
        "A retry with the same key answers with the removal the first request recorded, and "
        "never records it or alerts twice."
    ),
) -> Status[Any]:
    """Record that the token's organisation plans to remove the person with this reference on
    `planned_on`. If they are protected on that day, the competent authority's decision makers
    and the first responder who referred them are alerted at once, and the answer says that
    removal must not proceed. 422 for a malformed reference, or a day in the past or more than a
    year ahead. With an `Idempotency-Key`, a request sent again answers with the removal already
    recorded (`Idempotent-Replayed: true`), alerting nobody again, even once its day has
    passed (only a first use is checked against today); the same key with another reference or
    day is 422."""
    actor = actor_of(request)
    organisation = selectors.enforcement_organisation(actor)
    form = PlannedRemovalForm(
        PlannedRemovalForm.data_for(reference, body.planned_on, idempotency_key or "")
    )
    if form.is_valid():
        values = form.removal_values()
    elif _retried(actor.user, form, idempotency_key):
        # The day is checked against today on a first use only: a retry sent after midnight of
        # a removal planned for the day before is answered as the first request was (the
        # service replays it, or refuses the key if it recorded another reference or day).
        values = {
            "reference": form.cleaned_data["reference"],
            "planned_on": body.planned_on,
            "submission_key": idempotency_key,
        }
    else:
        return Status(422, field_errors_out(form.errors))
    try:
        recorded = services.planned_removal_record(
            by=actor.user, organisation=organisation, **values
        )
    except services.KeyUsed:
        return idempotency.key_reused("to record another planned removal", "each planned removal")
    if recorded.repeat:
        idempotency.replayed(response)
    planned = recorded.planned
    return Status(
        201,
        {
            **_out(planned.reference, recorded.protection),
            "id": planned.pk,
            "planned_on": planned.planned_on,
            "alerted": planned.alerted > 0,
        },
    )
