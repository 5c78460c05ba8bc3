"""Pages of care: a person's support plan (the Convention's Art. 12(1) measures with their
statuses, one measure to change, the services delivered log) and missing episodes (report that a
person has gone missing, see who is missing now, record their return); and what the placement
and placement request pages show of them (`placement_extras`, `request_extras`, added to
`accommodation.views` by `care.apps`).

For support coordinators (every case with a placement request) and the safe-house managers of
the provider where the person is placed (or went missing from); anyone else gets 404
(`selectors.support_case_get`). Notes, outside services' names, what was delivered and where and
how they were last seen are shown only after `audit_read`; lists show case references and dates
only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from opennrm.accommodation import selectors as accommodation
from opennrm.accommodation.models import Placement, PlacementRequest, PlacementStatus
from opennrm.accounts import access
from opennrm.accounts.actor import Actor, actor_of
from opennrm.accounts.models import User
from opennrm.audit.services import audit_read
from opennrm.cases.models import Case
from opennrm.decisions import selectors as decisions
from opennrm.decisions.views import reconsideration_evidence_file, reconsideration_request_page
from opennrm.lib.govuk_forms import show_refusal
from opennrm.safety import selectors as safety

from . import selectors, services
from .forms import DeliveryForm, MeasureForm, MissingForm, ReturnedForm
from .models import ChildMissing, Measure, MeasureStatus, MissingEpisode

# GOV.UK task list tags for each status.
TAGS = {
    MeasureStatus.NOT_ASSESSED: "govuk-tag--blue",
    MeasureStatus.NEEDED: "govuk-tag--red",
    MeasureStatus.ARRANGED: "govuk-tag--yellow",
    MeasureStatus.BEING_PROVIDED: "govuk-tag--light-blue",
    MeasureStatus.PROVIDED: "govuk-tag--green",
    MeasureStatus.DECLINED: "govuk-tag--grey",
    MeasureStatus.NOT_NEEDED: "govuk-tag--grey",
}


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def back_link(actor: Actor, case: Case) -> dict[str, str]:
    """Back to the person's placement (for its staff and coordinators), or to the
    coordinator's request."""
    live = selectors.live_placement_of(case)
    if live is not None and accommodation.placements_visible_to(actor).filter(pk=live.pk).exists():
        return {"text": "The placement", "href": reverse("support:placement", args=[live.pk])}
    request = case.placement_requests.order_by("-created_at").first()
    if request is not None and accommodation.is_coordinator(actor):
        return {
            "text": "The placement request",
            "href": reverse("support:request", args=[request.pk]),
        }
    if not _support_staff(actor):
        # The local authority's safeguarding lead, for a child of their area.
        return {
            "text": f"Case {case.reference}",
            "href": reverse("cases:detail", args=[case.reference]),
        }
    return {"text": "Placements", "href": reverse("support:placements")}


def _support_staff(actor: Actor) -> bool:
    return accommodation.is_coordinator(actor) or bool(accommodation.managed_provider_ids(actor))


def _erased(case: Case) -> bool:
    return hasattr(case.person, "erasure")


@require_safe
def plan(request: HttpRequest, reference: str) -> HttpResponse:
    user = _user(request)
    case = selectors.support_case_get(actor_of(request), reference)
    consent_problem = selectors.consent_problem(case)
    rows = [] if consent_problem else selectors.plan_rows(case)
    deliveries = [] if consent_problem else list(selectors.deliveries_of(case))
    shown = []
    if deliveries:
        shown.append("services_delivered")
    if any(row.outside_provider for row in rows) or any(d.outside_provider for d in deliveries):
        shown.append("support_outside_providers")
    # The measures take account of the person's safety (Convention Art. 12(2)): their risk,
    # house, medical needs and dependants are shown beside them, as on the placement page
    # (never who exploited them, where they must keep away from, nor a dependant's name).
    profile = None if consent_problem else safety.profile_of(case)
    shown += [
        f"safety_{name}"
        for name in safety.fields_shown(profile, with_exploiters=False)
        if name not in ("keep_away", "dependant_names")
    ]
    # What the actor's provider sent with a reconsideration request, to read back: the files'
    # names can name the person.
    sent_evidence = list(
        decisions.reconsideration_evidence_sent_by_provider(actor_of(request)).filter(
            request__case=case
        )
    )
    if sent_evidence:
        shown.append("evidence_names")
    # The answers to the reconsiderations the actor's provider asked for: links only, each
    # letter's page audits its own reading; shown only where the access table lets the actor
    # open the letter's page (ADR 3: a link shows only if it would open).
    reconsideration_letters = (
        list(decisions.reconsideration_letters_for_provider(actor_of(request), case))
        if access.may_open(actor_of(request), "decisions:reconsideration_letter")
        else []
    )
    if shown:
        audit_read(by=user, person=case.person, obj=case, fields=shown)
    return render(
        request,
        "support/plan.html",
        {
            "title": f"Support plan for case {case.reference}",
            "case": case,
            "consent_problem": consent_problem,
            "erased": _erased(case),
            "rows": rows,
            "tags": TAGS,
            "deliveries": deliveries,
            "back": back_link(actor_of(request), case),
            "missing": selectors.open_missing_episode(case),
            "safety_profile": profile,
            "safety_dependants": safety.dependants_of(profile),
            "may_ask_reconsideration": selectors.reconsideration_asker(actor_of(request), case)
            is not None,
            "sent_evidence": sent_evidence,
            "reconsideration_letters": reconsideration_letters,
        },
    )


@require_http_methods(["GET", "POST"])
def reconsideration_request(request: HttpRequest, reference: str) -> HttpResponse:
    """The support provider supporting the person asks for a negative decision to be
    reconsidered, where the rules let support providers ask (`reconsideration_asker`). A request
    sent once the window has closed (as they wrote it) is refused on the form, with what they
    typed, not answered "not found"; the case is one they may support (`support_case_get`)."""
    actor = actor_of(request)
    case = selectors.support_case_get(actor, reference)
    back = reverse("support:plan", args=[case.reference])
    provider = selectors.reconsideration_asker(actor, case)
    if provider is None:
        too_late = (
            decisions.reconsideration_late_refusal(case) if request.method == "POST" else None
        )
        if too_late is None:
            raise Http404
        return reconsideration_request_page(request, case, back=back, refusal=too_late)
    return reconsideration_request_page(request, case, back=back, support_provider=provider)


@require_safe
def reconsideration_evidence(
    request: HttpRequest, reference: str, evidence_id: int
) -> FileResponse:
    """A file the actor's support provider sent with a reconsideration request, read back by
    its coordinators and safe-house managers (`reconsideration_evidence_sent_by_provider`)."""
    item = decisions.reconsideration_evidence_get_for_provider(
        actor_of(request), reference, evidence_id
    )
    return reconsideration_evidence_file(_user(request), item.request.case, item)


def _row_or_404(case: Case, measure: str) -> selectors.PlanRow:
    """The plan's row for this measure (education only for a child), or 404."""
    row = next((r for r in selectors.plan_rows(case) if r.measure.value == measure), None)
    if row is None:
        raise Http404
    return row


@require_http_methods(["GET", "POST"])
def plan_measure(request: HttpRequest, reference: str, measure: str) -> HttpResponse:
    user = _user(request)
    case = selectors.support_case_get(actor_of(request), reference)
    if selectors.consent_problem(case) or _erased(case):
        return redirect("support:plan", case.reference)
    row = _row_or_404(case, measure)
    chosen = Measure(row.measure)
    notes_only = row.from_placement and selectors.live_placement_of(case) is not None
    if request.method == "POST":
        form = MeasureForm(request.POST, notes_only=notes_only)
        if form.is_valid():
            try:
                services.support_measure_update(
                    by=user,
                    case=case,
                    measure=chosen,
                    expected_version=form.cleaned_data["expected_version"],
                    **form.values(),
                )
            except ValidationError as error:
                show_refusal(form, error)
            else:
                messages.success(request, f"{chosen.label}: saved")
                return redirect("support:plan", case.reference)
    else:
        saved = MeasureForm.data_for(row.row)
        form = MeasureForm(initial=saved, notes_only=notes_only)
        form.data = saved  # the date boxes read the form's data
        if row.row is not None and (row.row.notes or row.row.outside_provider):
            fields = ["support_notes"] if row.row.notes else []
            if row.row.outside_provider:
                fields.append("support_outside_providers")
            audit_read(by=user, person=case.person, obj=row.row, fields=fields)
    # What was typed, shown again after a refusal: free text about the person.
    _typed_shown_again(
        request,
        case,
        form,
        {"notes": "support_notes", "outside_provider": "support_outside_providers"},
    )
    return render(
        request,
        "support/plan_measure.html",
        {
            "title": f"{chosen.label} - support plan for case {case.reference}",
            "case": case,
            "measure": chosen,
            "row": row,
            "form": form,
            "notes_only": notes_only,
            "placement_status": PlacementStatus,
        },
    )


@require_http_methods(["GET", "POST"])
def plan_delivery(request: HttpRequest, reference: str) -> HttpResponse:
    user = _user(request)
    case = selectors.support_case_get(actor_of(request), reference)
    if selectors.consent_problem(case) or _erased(case):
        return redirect("support:plan", case.reference)
    measures = [row.measure for row in selectors.plan_rows(case)]
    form = DeliveryForm(request.POST or None, measures=measures)
    if request.method == "POST" and form.is_valid():
        try:
            services.service_delivery_record(
                by=user,
                case=case,
                measure=form.cleaned_data["measure"],
                delivered_on=form.cleaned_data["delivered_on"],
                description=form.cleaned_data["description"],
                provider=form.provider_organisation(),
                outside_provider=form.cleaned_data["outside_provider"],
                submission_key=form.cleaned_data["submission_key"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, "Service delivered recorded")
            return redirect("support:plan", case.reference)
    # What was typed, shown again after a refusal: free text about the person.
    _typed_shown_again(
        request,
        case,
        form,
        {"description": "services_delivered", "outside_provider": "support_outside_providers"},
    )
    return render(
        request,
        "support/plan_delivery.html",
        {"title": "Record a service delivered", "case": case, "form": form},
    )


# --- Missing episodes ---------------------------------------------------------------------------


@require_safe
def episodes(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    missing = [
        (episode, (today - episode.went_missing_on).days)
        for episode in selectors.missing_now(actor_of(request))
    ]
    return render(
        request,
        "support/missing_list.html",
        {"title": "People missing", "missing": missing},
    )


@require_http_methods(["GET", "POST"])
def report(request: HttpRequest, reference: str) -> HttpResponse:
    user = _user(request)
    case = selectors.missing_case_get(actor_of(request), reference)
    already = selectors.open_missing_episode(case)
    if already is not None and request.method != "POST":
        # A report sent meanwhile is refused by the service and shown again as typed.
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
            messages.success(request, _reported_message(episode))
            return redirect("support:missing_episode", episode.pk)
    # Where they were last seen, typed and shown again after a refusal: free text about them.
    _typed_shown_again(request, case, form, {"last_seen": "missing_last_seen"})
    # Children's services are told of a child, or of a parent missing with a dependent child.
    child_missing = selectors.child_missing_if_reported(case)
    return render(
        request,
        "support/missing_report.html",
        {
            "title": "Report that the "
            + ("child" if case.is_child else "person")
            + " has gone missing",
            "case": case,
            "form": form,
            "back": back_link(actor_of(request), case),
            "already": already,
            # Their own earlier report is not "someone else's".
            "already_yours": already is not None and already.reported_by_id == user.pk,
            "child_missing": child_missing,
            "leads_known": bool(selectors.child_safeguarding_leads(case))
            if child_missing != ChildMissing.NO
            else None,
        },
    )


def _typed_shown_again(request: HttpRequest, case: Case, form: Any, fields: dict[str, str]) -> None:
    """Record the read of the free text about the person typed into `form` and shown again
    after a refusal: `fields` names each box's field as the audit trail names it."""
    if not form.is_bound:
        return
    shown = [name for box, name in fields.items() if str(form.data.get(box) or "").strip()]
    if shown:
        audit_read(by=_user(request), person=case.person, obj=case, fields=shown)


def _reported_message(episode: MissingEpisode) -> str:
    """What the reporter is told: who was told, and, where OpenNRM knows nobody in the area's
    children's services to tell of a missing child (the person, or a dependent child with
    them), to contact them now (the other support staff are asked the same)."""
    case = episode.case
    told = "Reported missing. The police contact, the competent authority"
    if not episode.childrens_services_told:
        return told + " have been told."
    if selectors.child_safeguarding_leads(case):
        return told + " and children's services in the child's area have been told."
    with_them = (
        " and tell them a child is missing with a parent"
        if episode.child_missing == ChildMissing.WITH_THEM
        else ""
    )
    return (
        told + " have been told. OpenNRM knows no local authority or child guardian service for "
        f"{case.area or 'their area'}: contact the area's children's services now{with_them}."
    )


@require_http_methods(["GET", "POST"])
def episode(request: HttpRequest, episode_id: int) -> HttpResponse:
    user = _user(request)
    found = selectors.missing_episode_get(actor_of(request), episode_id)
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
    # The person's risk, needs and dependants, as the placement page shows them (never who
    # exploited them): those acting to find them need them. The places they must keep away
    # from (where the controller may be: a search's first lead) to those who may read them
    # elsewhere and are asked to alert the police or children's services: the support
    # coordinators and a child's safeguarding leads, not the house's managers.
    actor = actor_of(request)
    staff = _support_staff(actor)
    keep_away = accommodation.is_coordinator(actor) or not staff
    profile = safety.profile_of(found.case)
    shown = [
        *(["missing_last_seen"] if found.last_seen else []),
        *(
            f"safety_{name}"
            for name in safety.fields_shown(profile, with_exploiters=False)
            if name != "dependant_names" and (keep_away or name != "keep_away")
        ),
    ]
    if shown:
        audit_read(by=user, person=found.case.person, obj=found, fields=shown)
    return render(
        request,
        "support/missing_episode.html",
        {
            "title": f"Missing: case {found.case.reference}",
            "episode": found,
            "case": found.case,
            "form": form,
            "provider": found.placement.bed.room.site.provider if found.placement else None,
            "safety_profile": profile,
            "safety_dependants": safety.dependants_of(profile),
            "keep_away": keep_away,
            "back": {"text": "People missing", "href": reverse("support:missing_list")}
            if staff
            else {"text": "Children in your area", "href": reverse("safeguarding:caseload")},
        },
    )


# --- What the local authority's caseload shows of missing children ----------------------------


def caseload_extras(actor: Actor) -> dict[str, Any]:
    """The children of the safeguarding lead's areas missing now, by reference and date only,
    for the caseload (`safeguarding.views.CASELOAD_EXTRAS`, added by `care.apps`); the
    missing report opens for those who may act on it (the local authority's leads)."""
    today = timezone.localdate()
    missing = list(selectors.children_missing_now(actor))
    may_open = set(
        selectors.missing_episodes_visible_to(actor)
        .filter(pk__in=[episode.pk for episode in missing])
        .values_list("pk", flat=True)
    )
    return {
        "missing_children": [
            (episode, (today - episode.went_missing_on).days, episode.pk in may_open)
            for episode in missing
        ]
    }


# --- What the placement page shows of a person's support --------------------------------------


def request_extras(actor: Actor, request: PlacementRequest) -> dict[str, Any]:
    """What a placement request's page shows of the person's missing episodes."""
    return {"open_missing": selectors.open_missing_episode(request.case)}


def placement_extras(actor: Actor, placement: Placement) -> dict[str, Any]:
    """What the placement page shows of the person's support plan and missing episodes."""
    case = placement.request.case
    if not selectors.support_cases_for(actor).filter(pk=case.pk).exists():
        # The provider's staff once the stay is over, or a placement never taken up.
        plan_open = missing_open = False
    else:
        plan_open = True
        missing_open = placement.status in (
            PlacementStatus.RESERVED,
            PlacementStatus.ACCEPTED,
            PlacementStatus.OCCUPIED,
        ) or accommodation.is_coordinator(actor)
    consent_problem = selectors.consent_problem(case) if plan_open else ""
    missing = selectors.open_missing_episode(case)
    if (
        missing is not None
        and not selectors.missing_episodes_visible_to(actor).filter(pk=missing.pk).exists()
    ):
        missing = None
    return {
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
