"""Pages of missing episodes: report that a person has gone missing, see who is missing now,
record their return; and what the placement page shows of them (`placement_extras`).

For support coordinators and the safe-house managers of the provider the person is placed with
(or went missing from); anyone else gets 404. Where and how they were last seen is shown only
after `audit_read`; lists show case references and dates only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from opennrm.accounts.models import User
from opennrm.audit.services import audit_read
from opennrm.cases.choices import CaseStatus
from opennrm.decisions.models import DecisionKind, DecisionState
from opennrm.lib.govuk_forms import show_refusal

from . import selectors, services
from .forms import EndForm
from .models import ExitReason, Placement, PlacementStatus
from .plan_forms import MissingForm, ReturnedForm
from .plan_views import back_link


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def episodes(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    today = timezone.localdate()
    missing = [
        (episode, (today - episode.went_missing_on).days) for episode in selectors.missing_now(user)
    ]
    return render(
        request,
        "support/missing_list.html",
        {"title": "People missing", "missing": missing},
    )


@require_http_methods(["GET", "POST"])
def report(request: HttpRequest, reference: str) -> HttpResponse:
    user = _user(request)
    case = selectors.support_case_get(user, reference)
    already = selectors.open_missing_episode(case)
    if already is not None:
        messages.error(
            request,
            f"This person is already recorded as missing since "
            f"{already.went_missing_on:%-d %B %Y}. Record their return here when they are back.",
        )
        return redirect("support:missing_episode", already.pk)
    form = MissingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            episode = services.missing_report(
                by=user,
                case=case,
                went_missing_on=form.cleaned_data["went_missing_on"],
                went_missing_time=form.cleaned_data["went_missing_time"],
                last_seen=form.cleaned_data["last_seen"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(
                request,
                "Reported missing. The police contact, the competent authority"
                + (", the local authority and the child guardian service" if case.is_child else "")
                + " have been told.",
            )
            return redirect("support:missing_episode", episode.pk)
    return render(
        request,
        "support/missing_report.html",
        {
            "title": "Report that the person has gone missing",
            "case": case,
            "form": form,
            "back": back_link(user, case),
        },
    )


@require_http_methods(["GET", "POST"])
def episode(request: HttpRequest, episode_id: int) -> HttpResponse:
    user = _user(request)
    found = selectors.missing_episode_get(user, episode_id)
    form = ReturnedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.missing_return(
                by=user,
                episode=found,
                returned_on=form.cleaned_data["returned_on"],
                returned_time=form.cleaned_data["returned_time"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(
                request,
                "Their return is recorded. Everyone told that they were missing has been told "
                "they are back.",
            )
            return redirect("support:missing_episode", found.pk)
    if found.last_seen:
        audit_read(by=user, person=found.case.person, obj=found, fields=["missing_last_seen"])
    return render(
        request,
        "support/missing_episode.html",
        {
            "title": f"Missing: case {found.case.reference}",
            "episode": found,
            "case": found.case,
            "form": form,
            "provider": found.placement.bed.room.site.provider if found.placement else None,
        },
    )


# --- What the placement page shows of a person's support --------------------------------------


def _move_on_text(case: Any) -> str:
    if case.move_on_ends:
        return f"Move-on support ends {case.move_on_ends:%-d %B %Y}"
    if case.status in (
        CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS,
        CaseStatus.NEGATIVE_CONCLUSIVE_GROUNDS,
    ):
        decision = (
            case.decisions.filter(
                kind=DecisionKind.CONCLUSIVE_GROUNDS, state=DecisionState.IN_EFFECT
            )
            .order_by("-decided_at")
            .first()
        )
        rules = f" ({decision.policy_profile_version})" if decision else ""
        return (
            "No end date: the rules the conclusive grounds decision applied"
            f"{rules} set no move-on period"
        )
    return "Not set yet: it follows the conclusive grounds decision"


def end_form_for(placement: Placement) -> EndForm:
    """The exit form, its date set to the move-on end once that day has come (the reason too),
    and the end date said above the boxes."""
    form = EndForm()
    ends = placement.request.case.move_on_ends
    if ends is None or placement.status != PlacementStatus.OCCUPIED:
        return form
    today = timezone.localdate()
    if ends <= today:
        form = EndForm(initial={"reason": ExitReason.MOVE_ON_ENDED})
        form.data = {
            "ended_on_day": str(ends.day),
            "ended_on_month": str(ends.month),
            "ended_on_year": str(ends.year),
        }
        form.fields["ended_on"].help_text = (
            f"Move-on support ended on {ends:%-d %B %Y}"
            if ends < today
            else f"Move-on support ends today, {ends:%-d %B %Y}"
        )
    else:
        form.fields["ended_on"].help_text = f"Move-on support ends on {ends:%-d %B %Y}"
    return form


def placement_extras(user: User, placement: Placement) -> dict[str, Any]:
    """What the placement page shows of the person's support plan and missing episodes, and
    its exit form with the move-on end date."""
    case = placement.request.case
    if not selectors.support_cases_for(user).filter(pk=case.pk).exists():
        # The provider's staff once the stay is over, or a placement never taken up.
        plan_open = missing_open = False
    else:
        plan_open = True
        missing_open = placement.status in (
            PlacementStatus.RESERVED,
            PlacementStatus.ACCEPTED,
            PlacementStatus.OCCUPIED,
        ) or selectors.is_coordinator(user)
    consent_problem = selectors.consent_problem(case) if plan_open else ""
    missing = selectors.open_missing_episode(case)
    if (
        missing is not None
        and not selectors.missing_episodes_visible_to(user).filter(pk=missing.pk).exists()
    ):
        missing = None
    return {
        "end_form": end_form_for(placement),
        "move_on_text": _move_on_text(case),
        "plan_open": plan_open,
        "may_report_missing": missing_open and missing is None,
        "missing": missing,
        "plan_status": None if not plan_open or consent_problem else _plan_status(case),
        "consent_problem": consent_problem,
    }


def _plan_status(case: Any) -> str:
    rows = selectors.plan_rows(case)
    open_ = [r for r in rows if r.status in ("not_assessed", "needed")]
    if not open_:
        return "Every measure is settled"
    return f"{len(open_)} of {len(rows)} measures not assessed or still needed"
