from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from opennrm.accounts.actor import actor_of
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role

from . import selectors, services
from .forms import IndicatorChecklistForm, StartForm
from .presentation import checklist_params

RECENT = 20
NO_CHOICE = "Select whether the person is an adult or a child, and the kind of exploitation"
NO_ORGANISATION = "Select the organisation you are screening for"


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _start_page(
    request: HttpRequest, form: StartForm, problem: str = "", problem_field: str = "age_group"
) -> HttpResponse:
    """The start page; `problem` is what was wrong with a link to the checklist, and
    `problem_field` the question it is about, which the error summary links to."""
    if problem_field not in form.fields:
        # One organisation: no question to link to, so the first one.
        problem_field = "age_group"
    return render(
        request,
        "screening/start.html",
        {
            "title": "Screen for indicators of trafficking",
            "form": form,
            "problem": problem,
            "problem_field": problem_field,
            "recent": selectors.screenings_visible_to(actor_of(request))[:RECENT],
        },
    )


def _link_problem(list_key: str) -> str:
    if not list_key:
        return NO_CHOICE
    return f"\u201c{list_key[:40]}\u201d is not one of the indicator lists. {NO_CHOICE}"


def _chosen(organisations: list[Organisation], value: str | None) -> Organisation | None:
    """The organisation named in the link, or the only one the user screens for."""
    if len(organisations) == 1 and not value:
        return organisations[0]
    return next((o for o in organisations if str(o.pk) == value), None)


@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    organisations = list(selectors.screening_organisations_of(actor_of(request)))
    form = StartForm(
        request.POST if request.method == "POST" else None, organisations=organisations
    )
    if request.method == "POST" and form.is_valid():
        query = {"list": form.list_key.value}
        if "organisation" in form.cleaned_data:
            query["organisation"] = form.cleaned_data["organisation"]
        return redirect(f"{reverse('screening:checklist')}?{urlencode(query)}")
    return _start_page(request, form)


@require_http_methods(["GET", "POST"])
def checklist(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    organisations = list(selectors.screening_organisations_of(actor_of(request)))
    catalogue = selectors.active_catalogue()
    list_key = request.GET.get("list", "")
    indicator_list = catalogue.parsed().list(list_key)
    organisation = _chosen(organisations, request.GET.get("organisation"))
    if indicator_list is None or organisation is None:
        # A link with a list or organisation we do not know: say so on the start page.
        start_form = StartForm(organisations=organisations)
        if indicator_list is None:
            return _start_page(request, start_form, _link_problem(list_key))
        return _start_page(request, start_form, NO_ORGANISATION, problem_field="organisation")
    form = IndicatorChecklistForm(
        request.POST if request.method == "POST" else None, indicator_list=indicator_list
    )
    if form.is_valid():
        screening = services.screening_record(
            by=user,
            organisation=organisation,
            list_key=indicator_list.key,
            is_child=indicator_list.is_child,
            observed_codes=form.cleaned_data["observed"],
            catalogue=catalogue,
        )
        return redirect("screening:detail", screening.pk)
    return render(
        request,
        "screening/checklist.html",
        {
            "title": f"Indicators: {indicator_list.label.lower()}",
            "form": form,
            "checklist": checklist_params(form),
            "indicator_list": indicator_list,
            "catalogue": catalogue,
            "organisation": organisation,
        },
    )


@require_safe
def detail(request: HttpRequest, screening_id: int) -> HttpResponse:
    screening = selectors.screening_get_for_user(actor_of(request), screening_id)
    return render(
        request,
        "screening/detail.html",
        {
            "title": f"Screening result: {screening.list_label.lower()}",
            "screening": screening,
            "result": screening.result_object(),
            # A first responder of the organisation screened for may refer the person from here.
            "can_refer": not selectors.screening_referred(screening)
            and screening.organisation_id
            in actor_of(request).organisations_as({Role.FIRST_RESPONDER}),
        },
    )
