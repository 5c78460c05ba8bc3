"""The researchers' extract page and its two downloads (ADR 0034): analysts only; figures and
bands, never a person, so no read is recorded, and each download is one audit event."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from opennrm.accounts.actor import actor_of

from . import ctdc, extract
from .forms import ExtractPeriodForm
from .services import extract_download_record

KINDS = {"extract": "de-identified extract", "ctdc": "CTDC export"}


def _form(request: HttpRequest) -> ExtractPeriodForm:
    if "year" in request.GET:
        return ExtractPeriodForm(request.GET)
    return ExtractPeriodForm(initial={"year": timezone.localdate().year})


@require_GET
def extract_page(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    made, refused = None, None
    if form.is_bound and form.is_valid():
        try:
            made = extract.build(form.period(), k=form.chosen_k())
        except extract.ExtractRefused as error:
            refused = str(error)
    query = request.GET.urlencode()
    return render(
        request,
        "statistics/extract.html",
        {
            "title": "De-identified extract",
            "form": form,
            "made": made,
            "refused": refused,
            "columns": extract.COLUMNS,
            "quasi_identifiers": extract.QUASI_IDENTIFIERS,
            "downloads": {
                kind: f"{reverse('statistics:extract_download', args=[kind])}?{query}"
                for kind in KINDS
            },
        },
    )


@require_GET
def extract_download(request: HttpRequest, kind: str) -> HttpResponse:
    """The extract, or its CTDC form, as CSV: built afresh, its k checked over every
    combination before the file is made; refused with the reason otherwise."""
    if kind not in KINDS:
        raise Http404
    actor = actor_of(request)
    form = ExtractPeriodForm(request.GET)
    refused = None
    if not form.is_valid():
        refused = "Choose the period of the extract on the extract page first."
    else:
        try:
            made = extract.build(form.period(), k=form.chosen_k())
            text = ctdc.ctdc_csv(made) if kind == "ctdc" else extract.extract_csv(made)
        except extract.ExtractRefused as error:
            refused = str(error)
    if refused is not None:
        return render(
            request,
            "statistics/extract.html",
            {
                "title": "De-identified extract",
                "form": form,
                "made": None,
                "refused": refused,
                "columns": extract.COLUMNS,
                "quasi_identifiers": extract.QUASI_IDENTIFIERS,
                "downloads": {},
            },
            status=409,
        )
    extract_download_record(
        by=actor.user,
        kind=kind,
        period=made.period.label,
        rows=len(made.rows),
        k=made.k,
        suppressed=made.suppressed,
        total=made.total,
    )
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    name = f"opennrm-{kind}-{made.period.first.isoformat()}-{made.period.last.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
