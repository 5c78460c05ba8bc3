"""Pages of accommodation: the coordinator's waiting list, matching and proposals;
the provider's offers, residents, sites and beds; the directory; address permissions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from opennrm.accounts.actor import Actor, actor_of
from opennrm.accounts.models import Organisation, User
from opennrm.audit.services import audit_read
from opennrm.cases.choices import CaseStatus, ExploitationType
from opennrm.decisions.models import DecisionKind, DecisionState
from opennrm.lib.govuk_forms import show_refusal
from opennrm.lib.iso import language_name
from opennrm.safeguarding.models import ChildrenServicesTask
from opennrm.safeguarding.services import redirect_message
from opennrm.safety import selectors as safety

from . import selectors, services
from .forms import (
    AddressGrantRequestForm,
    ArrivedForm,
    CloseRequestForm,
    EndForm,
    OutOfServiceForm,
    RaiseRequestForm,
    RequestConstraintsForm,
    RespondForm,
    RoomForm,
    ServiceForm,
    SiteChangeForm,
    SiteForm,
)
from .matching import constraint_label
from .models import (
    ADDRESS_GRANT_DAYS,
    HOLDS_BED,
    ExitReason,
    ImmediateNeed,
    Placement,
    PlacementRequest,
    PlacementRequestStatus,
    PlacementStatus,
    Region,
    Setting,
    Site,
    Specialism,
)

# What other apps show on a placement request's page and a placement's page: functions of the
# actor and the request (or placement) giving more of the page's context. The care app adds
# whether the person is missing, and their support plan (`care.views`, registered in
# `care.apps`): accommodation is the lower app and imports neither care nor statistics (ADR 0019).
REQUEST_PAGE_EXTRAS: list[Callable[[Actor, PlacementRequest], dict[str, Any]]] = []
PLACEMENT_PAGE_EXTRAS: list[Callable[[Actor, Placement], dict[str, Any]]] = []


def _extras(
    extras: Sequence[Callable[[Actor, Any], dict[str, Any]]], actor: Actor, item: Any
) -> dict[str, Any]:
    return {key: value for extra in extras for key, value in extra(actor, item).items()}


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _labels(values: list[str], choices: Any) -> str:
    names = dict(choices)
    return ", ".join(str(names.get(value, value)) for value in values) or "None"


# --- The coordinator: waiting list, matching, proposals --------------------------------------


@require_http_methods(["GET", "POST"])
def requests(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method == "POST":
        outcome = services.matching_run(by=user)
        held = outcome.held_for_review
        messages.success(
            request,
            f"Matching proposed {outcome.proposed} "
            f"{'place' if outcome.proposed == 1 else 'places'}; "
            f"{outcome.unplaced} {'person' if outcome.unplaced == 1 else 'people'} "
            "could not be placed. Check each proposal, then confirm it."
            + (
                f" {held} {'person was' if held == 1 else 'people were'} not matched: read "
                "what their referral says about their needs and safety first."
                if held
                else ""
            ),
        )
        return redirect("support:proposals")
    today = timezone.localdate()
    waiting = [
        (item, (today - timezone.localdate(item.created_at)).days)
        for item in selectors.requests_waiting(actor_of(request))
    ]
    return render(
        request,
        "support/requests.html",
        {"title": "Waiting for a place", "waiting": waiting, "today": today},
    )


@require_safe
def proposals(request: HttpRequest) -> HttpResponse:
    """Each proposal with what the first responder wrote of the person's immediate needs and
    safety, and their safety profile, beside it: the coordinator checks the bed against them
    before confirming."""
    user = _user(request)
    shown = []
    for placement in (
        selectors.proposals(actor_of(request))
        .select_related(
            "request__case__person", "request__case__narrative", "request__case__safety_profile"
        )
        .prefetch_related("request__case__safety_profile__dependants")
    ):
        # The person's risk, needs and dependants beside the bed, as on the request's page; a
        # list, so never who exploited them nor a dependant's name (ADR 0026).
        profile = safety.profile_of(placement.request.case)
        fields = [
            f"safety_{name}"
            for name in safety.fields_shown(profile, with_exploiters=False)
            if name != "dependant_names"
        ]
        details = _show_details(user, placement.request, obj=placement, also=fields)
        shown.append((placement, details, profile, safety.dependants_of(profile)))
    return render(
        request,
        "support/proposals.html",
        {
            "title": "Proposed places",
            "proposals": shown,
            "unmet": selectors.unmet_today(actor_of(request), timezone.localdate()),
            "held": selectors.requests_held_for_review()
            if selectors.is_coordinator(actor_of(request))
            else [],
            "constraint_label": constraint_label,
        },
    )


def _show_details(user: User, item: Any, *, obj: Any = None, also: Sequence[str] = ()) -> str:
    """What the first responder wrote under immediate needs, for a page about to show it, with
    the read recorded (with any other identifying fields `also` shown); "" if nothing."""
    details = selectors.referral_details(item.case)
    fields = [*also, *(["immediate_needs_details"] if details else [])]
    if fields:
        audit_read(by=user, person=item.case.person, obj=obj or item, fields=fields)
    return details


@require_POST
def proposal_decide(request: HttpRequest, placement_id: int) -> HttpResponse:
    user = _user(request)
    if not selectors.is_coordinator(actor_of(request)):
        raise Http404
    placement = selectors.placement_get_for_user(actor_of(request), placement_id)
    action = request.POST.get("action")
    if action not in ("confirm", "reject"):
        messages.error(request, "Choose whether to confirm the proposal or turn it down")
        return redirect("support:proposals")
    try:
        if action == "confirm":
            services.placement_confirm(by=user, placement=placement)
            messages.success(
                request,
                f"Place offered for case {placement.request.case.reference}. The provider has "
                "been asked to accept it.",
            )
        else:
            services.placement_reject(by=user, placement=placement)
            messages.success(request, "Proposal turned down. The person is still waiting.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("support:proposals")


@require_safe
def request_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    user = _user(request)
    item = selectors.request_get_for_coordinator(actor_of(request), request_id)
    person = item.case.person
    unmet = list(item.unmet_needs.all()[:10])
    details = _record_safety_read(user, item, shown_unmet=bool(unmet))
    return render(
        request,
        "support/request.html",
        {
            "title": f"Placement request for case {item.case.reference}",
            "item": item,
            "person": person,
            "languages": ", ".join(language_name(code) for code in item.languages) or "None",
            "needs": _labels(item.needs, ImmediateNeed.choices),
            "settings": _labels(item.accepted_settings, Setting.choices),
            "required": _labels(item.required_specialisms, Specialism.choices),
            "wanted": _labels(item.wanted_specialisms, Specialism.choices),
            "preferred": _labels(item.preferred_regions, Region.choices),
            "placements": item.placements.select_related("bed__room__site__provider"),
            "unmet": unmet,
            # What other apps add: whether the person is missing now (`care`).
            **_extras(REQUEST_PAGE_EXTRAS, actor_of(request), item),
            "days_waiting": (timezone.localdate() - timezone.localdate(item.created_at)).days,
            "details": details,
            **_safety_context(item.case),
        },
    )


def _record_safety_read(user: User, item: Any, *, shown_unmet: bool = False) -> str:
    """Places a person must keep away from say where they were exploited: showing them (or
    the reasons worded from them) is a read of the person's identifying data, and so is what
    the first responder wrote under immediate needs, which is returned to be shown, and the
    case's safety profile, shown beside it (`_safety_context`)."""
    fields = []
    if item.keep_away or item.excluded_areas:
        fields.append("keep_away_places")
    if shown_unmet:
        fields.append("unmet_need_reasons")
    fields += [f"safety_{name}" for name in safety.fields_shown(safety.profile_of(item.case))]
    return _show_details(user, item, also=fields)


def _safety_context(case: Any) -> dict[str, Any]:
    """The case's safety profile and dependants, for the page's `safety_summary` (the page
    records the read of the fields it shows)."""
    profile = safety.profile_of(case)
    return {"safety_profile": profile, "safety_dependants": safety.dependants_of(profile)}


@require_http_methods(["GET", "POST"])
def request_edit(request: HttpRequest, request_id: int) -> HttpResponse:
    user = _user(request)
    item = selectors.request_get_for_coordinator(actor_of(request), request_id)
    if request.method == "POST":
        form = RequestConstraintsForm(request.POST)
        if form.is_valid():
            try:
                services.placement_request_update(
                    by=user,
                    request=item,
                    expected_version=form.cleaned_data["expected_version"],
                    details_reviewed=form.cleaned_data["details_reviewed"],
                    **form.changes(),
                )
            except ValidationError as error:
                show_refusal(form, error)
            else:
                messages.success(request, "Needs and constraints saved")
                unknown = selectors.unknown_areas(form.changes()["excluded_areas"])
                if unknown:
                    # Kept (a site may open there), but today it rules nothing out.
                    messages.warning(
                        request,
                        "No site is recorded in "
                        + ", ".join(unknown)
                        + " yet: check the spelling. The area will be avoided if one opens.",
                    )
                return redirect("support:request", item.pk)
    else:
        form = RequestConstraintsForm(
            initial=RequestConstraintsForm.initial_for(item),
            data=None,
        )
        form.data = RequestConstraintsForm.date_data(item)
    # Shown again with a form sent wrong: the text is what the constraints are made from.
    details = _record_safety_read(user, item)
    return render(
        request,
        "support/request_edit.html",
        {
            "title": "Needs and constraints",
            "item": item,
            "form": form,
            "details": details,
            **_safety_context(item.case),
        },
    )


@require_http_methods(["GET", "POST"])
def request_place(request: HttpRequest, request_id: int) -> HttpResponse:
    """Place by hand: every free bed, those this person may take first, with the reasons the
    others cannot take them."""
    user = _user(request)
    item = selectors.request_get_for_coordinator(actor_of(request), request_id)
    error = None
    if request.method == "POST":
        try:
            bed = selectors.bed_get_for_placing(
                actor_of(request), int(request.POST.get("bed", "0") or 0)
            )
            if bed is None:
                raise ValueError
            services.placement_make(by=user, request=item, bed=bed)
        except ValueError:
            error = "Select a bed from the list"
        except services.BedNotFree:
            # Taken, or out of service, since the list was shown.
            error = "This bed is no longer free. Choose another bed from the list"
        except ValidationError as problem:
            error = " ".join(problem.messages)
        else:
            messages.success(request, "Place offered. The provider has been asked to accept it.")
            return redirect("support:request", item.pk)
    rows = selectors.free_beds_for(item, timezone.localdate())
    # The reasons a bed cannot take the person can name an area they must keep away from.
    details = _record_safety_read(user, item)
    return render(
        request,
        "support/request_place.html",
        {
            "title": "Choose a bed",
            "item": item,
            "rows": rows,
            "error": error,
            "details": details,
            # The profile the read above names: the bed is chosen knowing the person's risk.
            **_safety_context(item.case),
        },
    )


@require_http_methods(["GET", "POST"])
def request_close(request: HttpRequest, request_id: int) -> HttpResponse:
    user = _user(request)
    item = selectors.request_get_for_coordinator(actor_of(request), request_id)
    form = CloseRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.placement_request_close(
                by=user, request=item, status=PlacementRequestStatus(form.cleaned_data["outcome"])
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, "Request closed")
            return redirect("support:requests")
    return render(
        request,
        "support/request_close.html",
        {"title": "Close the request", "item": item, "form": form},
    )


@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not selectors.is_coordinator(actor_of(request)):
        raise Http404
    form = RaiseRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        case = selectors.case_for_coordinator(actor_of(request), form.cleaned_data["reference"])
        if case is None:
            form.add_error("reference", "No case has this reference: check it and try again")
        else:
            try:
                item = services.placement_request_raise(
                    by=user,
                    case=case,
                    urgency=form.cleaned_data["urgency"],
                    needed_from=form.cleaned_data["needed_from"],
                )
            except ValidationError as error:
                show_refusal(form, error)
                if hasattr(error, "error_dict") and "case" in error.message_dict:
                    form.add_error("reference", error.message_dict["case"])
            else:
                if isinstance(item, ChildrenServicesTask):
                    # A child is never on the adult waiting list (ADR 25).
                    messages.warning(request, redirect_message(case))
                    return redirect("support:requests")
                messages.success(request, "Request raised. Set the person's needs next.")
                return redirect("support:request_edit", item.pk)
    return render(request, "support/request_new.html", {"title": "Ask for a place", "form": form})


# --- Placements: the provider answers, the person arrives and leaves ---------------------------


@require_safe
def placements(request: HttpRequest) -> HttpResponse:
    visible = selectors.placements_visible_to(actor_of(request))
    return render(
        request,
        "support/placements.html",
        {
            "title": "Placements",
            "offers": selectors.offers_unanswered(actor_of(request)),
            "expected": selectors.arrivals_expected(actor_of(request)),
            # Everyone living in a place, nationally for a coordinator: a page at a time.
            "living": Paginator(visible.filter(status=PlacementStatus.OCCUPIED), 50).get_page(
                request.GET.get("page")
            ),
        },
    )


@require_safe
def placement(request: HttpRequest, placement_id: int) -> HttpResponse:
    item = selectors.placement_get_for_user(actor_of(request), placement_id)
    return render(request, "support/placement.html", _placement_context(actor_of(request), item))


def _placement_context(actor: Actor, item: Any, **forms: Any) -> dict[str, Any]:
    """The placement page: the place, the person (no name), and the forms of the actions the
    user may take (`forms` replaces one sent wrong). Records the showing of the address."""
    site = item.bed.room.site
    shows_address = selectors.may_see_address(actor, site)
    if shows_address:
        services.site_address_shown(by=actor.user, site=site)
    # What the first responder wrote, and the person's risk, needs and dependants: the provider
    # deciding on the offer must know them too (not who exploited them, nor where: the
    # coordinator has kept the person away from there). Only while the placement is live: a
    # house that declined the offer, or whose stay has ended, acts on the person no more, and
    # does not read what their profile says since.
    live = item.status in HOLDS_BED
    profile = safety.profile_of(item.request.case) if live else None
    shown = [
        f"safety_{name}"
        for name in safety.fields_shown(profile, with_exploiters=False)
        if name not in ("keep_away", "dependant_names")
    ]
    details = _show_details(actor.user, item.request, obj=item, also=shown)
    return {
        "details": details,
        "safety_profile": profile,
        "safety_not_live": not live,
        # The place no longer meets a safety condition learnt since (the message that sent them
        # here says so): the page says it too, without saying which.
        "safety_broken": live and selectors.safety_conditions_broken(item),
        "safety_dependants": safety.dependants_of(profile),
        "exploitation": _labels(item.request.case.exploitation_types, ExploitationType.choices),
        "needs": _labels(item.request.needs, ImmediateNeed.choices),
        "title": f"Placement for case {item.request.case.reference}",
        "item": item,
        "site": site,
        "shows_address": shows_address,
        "is_staff": site.provider_id in selectors.managed_provider_ids(actor),
        "is_coordinator": selectors.is_coordinator(actor),
        "person": item.request.case.person,
        "languages": ", ".join(language_name(c) for c in item.request.languages) or "None",
        "respond_form": RespondForm(),
        "arrived_form": ArrivedForm(),
        # The exit form set to the move-on end, and what it says of that end.
        "end_form": end_form_for(item),
        "move_on_text": _move_on_text(item.request.case),
        # What other apps add: the person's plan and missing episodes (`care`).
        **_extras(PLACEMENT_PAGE_EXTRAS, actor, item),
        "move_on_ends": selectors.adult_move_on_ends(item.request.case),
        **forms,
    }


def _placement_action(
    request: HttpRequest, placement_id: int, form_class: Any, act: Any, template_key: str
) -> HttpResponse:
    user = _user(request)
    item = selectors.placement_get_for_user(actor_of(request), placement_id)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            message = act(user, item, form.cleaned_data)
        except ValidationError as error:
            # The services call the day of an arrival or an exit `on`, as the API does.
            show_refusal(
                form, error, {"on": "arrived_on" if "arrived_on" in form.fields else "ended_on"}
            )
        else:
            messages.success(request, message)
            return redirect("support:placement", item.pk)
    context = _placement_context(actor_of(request), item, **{template_key: form, "form": form})
    return render(request, "support/placement.html", context)


@require_POST
def placement_respond(request: HttpRequest, placement_id: int) -> HttpResponse:
    def act(user: User, item: Any, data: dict[str, Any]) -> str:
        accept = data["answer"] == "accept"
        services.placement_respond(by=user, placement=item, accept=accept, reason=data["reason"])
        return "Accepted. Tell us when the person arrives." if accept else "Declined"

    return _placement_action(request, placement_id, RespondForm, act, "respond_form")


@require_POST
def placement_arrived(request: HttpRequest, placement_id: int) -> HttpResponse:
    def act(user: User, item: Any, data: dict[str, Any]) -> str:
        services.placement_arrive(by=user, placement=item, on=data["arrived_on"])
        return "Arrival recorded"

    return _placement_action(request, placement_id, ArrivedForm, act, "arrived_form")


@require_POST
def placement_end(request: HttpRequest, placement_id: int) -> HttpResponse:
    def act(user: User, item: Any, data: dict[str, Any]) -> str:
        services.placement_end(by=user, placement=item, on=data["ended_on"], reason=data["reason"])
        return "The stay has ended and the bed is free"

    return _placement_action(request, placement_id, EndForm, act, "end_form")


@require_POST
def placement_cancel(request: HttpRequest, placement_id: int) -> HttpResponse:
    user = _user(request)
    item = selectors.placement_get_for_user(actor_of(request), placement_id)
    try:
        services.placement_cancel(by=user, placement=item)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "The place offered is cancelled and the bed is free")
    return redirect("support:placement", item.pk)


# --- The placement page's exit form and move-on end --------------------------------------------


def _move_on_text(case: Any) -> str:
    if case.is_child:
        # An adult's move-on end kept from before their age was disputed does not run (ADR 25).
        return (
            "No move-on end: they are treated as a child, and their support is the local "
            "authority's, not an adult's move-on period"
        )
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
    # Never for a person treated as a child: "move-on support ended" is refused for them; nor
    # while a reconsideration waits, when support runs on whatever the date.
    case = placement.request.case
    ends = selectors.adult_move_on_ends(case)
    if placement.status != PlacementStatus.OCCUPIED:
        return form
    if ends is None:
        if case.move_on_ends and not case.is_child:  # a reconsideration waits
            form.fields["ended_on"].help_text = (
                "Move-on support runs on while the reconsideration of the negative conclusive "
                "grounds decision waits for its answer"
            )
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


# --- Sites, rooms and beds --------------------------------------------------------------------


@require_safe
def sites(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "support/sites.html",
        {
            "title": "Sites and beds",
            "sites": selectors.site_summaries(actor_of(request)),
            "services": selectors.services_managed_by(actor_of(request)),
            "may_add": bool(selectors.managed_provider_ids(actor_of(request))),
        },
    )


@require_safe
def site(request: HttpRequest, site_id: int) -> HttpResponse:
    user = _user(request)
    return _site_page(request, user, selectors.site_get_for_user(actor_of(request), site_id))


def _site_page(
    request: HttpRequest, user: User, found: Site, bed_error: dict[str, Any] | None = None
) -> HttpResponse:
    """The site and its beds; `bed_error` is a bed's out-of-service form sent wrong."""
    shows_address = selectors.may_see_address(actor_of(request), found)
    if shows_address:
        services.site_address_shown(by=user, site=found)
    return render(
        request,
        "support/site.html",
        {
            "title": found.name,
            "site": found,
            "beds": selectors.beds_of_site(actor_of(request), found),
            "shows_address": shows_address,
            "is_staff": found.pk in selectors.assigned_site_ids(actor_of(request)),
            "languages": ", ".join(language_name(c) for c in found.staff_languages) or "None",
            "specialisms": _labels(found.specialisms, Specialism.choices),
            "out_of_service_form": OutOfServiceForm(),
            "bed_error": bed_error,
        },
    )


@require_http_methods(["GET", "POST"])
def site_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    providers = selectors.managed_provider_ids(actor_of(request))
    if not providers:
        raise Http404
    form = SiteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            made = services.site_create(
                by=user, provider=Organisation.objects.get(pk=providers[0]), **form.values()
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, f"Site {made.name} added. Add its rooms and beds next.")
            return redirect("support:site", made.pk)
    return render(request, "support/site_form.html", {"title": "Add a site", "form": form})


@require_http_methods(["GET", "POST"])
def site_edit(request: HttpRequest, site_id: int) -> HttpResponse:
    user = _user(request)
    found = selectors.site_get_for_manager(actor_of(request), site_id)
    if request.method == "POST":
        form = SiteChangeForm(request.POST)
        if form.is_valid():
            try:
                services.site_update(
                    by=user,
                    site=found,
                    expected_version=form.cleaned_data["expected_version"],
                    **form.values(),
                )
            except ValidationError as error:
                show_refusal(form, error)
            else:
                messages.success(request, "Site saved")
                return redirect("support:site", found.pk)
    else:
        form = SiteChangeForm(initial=SiteChangeForm.initial_for(found))
        # The form shows the address to change it.
        services.site_address_shown(by=user, site=found)
    return render(
        request, "support/site_form.html", {"title": "Change the site", "form": form, "site": found}
    )


@require_http_methods(["GET", "POST"])
def room_new(request: HttpRequest, site_id: int) -> HttpResponse:
    user = _user(request)
    found = selectors.site_get_for_manager(actor_of(request), site_id)
    form = RoomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.room_create(by=user, site=found, **form.cleaned_data)
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, "Room added")
            return redirect("support:site", found.pk)
    return render(
        request, "support/room_form.html", {"title": "Add a room", "form": form, "site": found}
    )


@require_POST
def bed_service(request: HttpRequest, bed_id: int) -> HttpResponse:
    user = _user(request)
    bed = selectors.bed_get_for_manager(actor_of(request), bed_id)
    back = redirect("support:site", bed.room.site_id)
    in_service = request.POST.get("action") == "in_service"
    form = OutOfServiceForm(request.POST)
    if not in_service and not form.is_valid():
        problem = {
            "bed_id": bed.pk,
            "message": " ".join(str(problem) for problem in form.errors["reason"]),
            "value": request.POST.get("reason", ""),
        }
        return _site_page(request, user, bed.room.site, bed_error=problem)
    try:
        services.bed_set_in_service(
            by=user,
            bed=bed,
            in_service=in_service,
            reason="" if in_service else form.cleaned_data["reason"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, "Bed back in service" if in_service else "Bed taken out of service"
        )
    return back


@require_http_methods(["GET", "POST"])
def service_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    providers = selectors.managed_provider_ids(actor_of(request))
    if not providers:
        raise Http404
    form = ServiceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.service_create(
                by=user, provider=Organisation.objects.get(pk=providers[0]), **form.values()
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, "Service added to the directory")
            return redirect("support:sites")
    return render(request, "support/service_form.html", {"title": "Add a service", "form": form})


@require_http_methods(["GET", "POST"])
def service_edit(request: HttpRequest, service_id: int) -> HttpResponse:
    user = _user(request)
    found = selectors.service_get_for_manager(actor_of(request), service_id)
    if request.method == "POST":
        form = ServiceForm(request.POST)
        if form.is_valid():
            try:
                services.service_update(by=user, service=found, **form.values())
            except ValidationError as error:
                show_refusal(form, error)
            else:
                messages.success(request, "Service saved")
                return redirect("support:sites")
    else:
        form = ServiceForm(
            initial={
                field: getattr(found, field)
                for field in (
                    "name",
                    "description",
                    "eligible_sexes",
                    "minimum_age",
                    "maximum_age",
                    "exploitation_types",
                    "languages",
                    "accessibility",
                )
            }
        )
    return render(
        request, "support/service_form.html", {"title": "Change the service", "form": form}
    )


# --- The directory and address permissions ----------------------------------------------------


@require_safe
def directory(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "support/directory.html",
        {
            "title": "Support directory",
            "providers": selectors.directory(),
        },
    )


@require_http_methods(["GET", "POST"])
def address_access(request: HttpRequest) -> HttpResponse:
    """Who may see which safe house's address: coordinators ask for one site at a time; the
    site's provider's administrators (or, in an emergency, a competent authority's senior
    decision makers) approve or refuse; administrators withdraw grants and assign safe-house
    managers to their sites."""
    user = _user(request)
    if not selectors.may_manage_addresses(actor_of(request)):
        raise Http404
    is_coordinator = selectors.is_coordinator(actor_of(request))
    all_sites = (
        selectors.sites_visible_to(actor_of(request))
        .select_related("provider")
        .order_by("provider__name", "name")
        if is_coordinator
        else Site.objects.none()
    )
    form = AddressGrantRequestForm(
        request.POST if request.POST.get("action") == "request" else None, sites=all_sites
    )
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "request" and is_coordinator:
                if form.is_valid():
                    site = all_sites.get(pk=form.cleaned_data["site"])
                    services.address_grant_request(
                        by=user,
                        site=site,
                        reason=form.cleaned_data["reason"],
                        emergency=form.cleaned_data["emergency"],
                    )
                    messages.success(request, f"Your request to see {site.name}'s address is sent")
                    return redirect("support:address_access")
            elif action in ("approve", "refuse"):
                grant = _one(
                    selectors.address_grants_to_decide(actor_of(request)), request.POST.get("grant")
                )
                services.address_grant_decide(by=user, grant=grant, approve=action == "approve")
                messages.success(
                    request,
                    f"{grant.membership.user.full_name}'s request for {grant.site.name} has been "
                    + ("approved" if action == "approve" else "refused"),
                )
                return redirect("support:address_access")
            elif action == "revoke":
                grant = _one(
                    selectors.address_grants_revocable_by(actor_of(request)),
                    request.POST.get("grant"),
                )
                services.address_grant_revoke(by=user, grant=grant)
                messages.success(request, f"The permission for {grant.site.name} has ended")
                return redirect("support:address_access")
            elif action in ("assign", "unassign"):
                membership = _one(
                    selectors.managers_of_administered_providers(actor_of(request)),
                    request.POST.get("manager"),
                )
                site = _one(
                    selectors.sites_of_administered_providers(actor_of(request)),
                    request.POST.get("site"),
                )
                services.site_assignment_set(
                    by=user, membership=membership, site=site, assigned=action == "assign"
                )
                messages.success(
                    request,
                    f"{membership.user.full_name} is "
                    + ("now assigned to " if action == "assign" else "no longer assigned to ")
                    + site.name,
                )
                return redirect("support:address_access")
            else:
                messages.error(request, "Choose what to do from the page")
                return redirect("support:address_access")
        except ValidationError as error:
            if action == "request":
                show_refusal(form, error)
            else:
                messages.error(request, " ".join(error.messages))
                return redirect("support:address_access")
    managed_sites = list(
        selectors.sites_of_administered_providers(actor_of(request)).order_by("name")
    )
    assignments = list(selectors.site_assignments_of_administered_providers(actor_of(request)))
    return render(
        request,
        "support/address_access.html",
        {
            "title": "Safe-house addresses",
            "is_coordinator": is_coordinator,
            "form": form,
            "asked": list(selectors.address_grants_asked_by(actor_of(request))[:50]),
            "to_decide": list(selectors.address_grants_to_decide(actor_of(request))),
            "live": list(selectors.address_grants_of_providers(actor_of(request))),
            "managed_sites": managed_sites,
            "managers": list(selectors.managers_of_administered_providers(actor_of(request))),
            "assigned": {(a.membership_id, a.site_id) for a in assignments},
            "now": timezone.now(),
            "grant_days": ADDRESS_GRANT_DAYS,
        },
    )


def _one(queryset: Any, raw: str | None) -> Any:
    """The record named in a POST, among those the user may act on; 404 otherwise."""
    found = queryset.filter(pk=raw).first() if raw and raw.isascii() and raw.isdigit() else None
    if found is None:
        raise Http404
    return found
