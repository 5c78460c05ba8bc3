from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from opennrm.accounts.models import User
from opennrm.lib.iso import country_name, language_name
from opennrm.referrals.views import download

from .selectors import case_get_for_user


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def detail(request: HttpRequest, reference: str) -> HttpResponse:
    case = case_get_for_user(_user(request), reference)
    return render(
        request,
        "cases/detail.html",
        {
            "title": f"Case {case.reference}",
            "case": case,
            "identity": case.person.identity,
            "nationalities": [country_name(c) for c in case.person.nationalities],
            "languages": [language_name(c) for c in case.person.languages],
            "events": case.events.select_related("actor"),
            "evidence": case.evidence.all(),
            "screening": case.screening,
            "screening_result": case.screening.result_object() if case.screening else None,
        },
    )


def evidence_download(request: HttpRequest, reference: str, evidence_id: int) -> FileResponse:
    case = case_get_for_user(_user(request), reference)
    item = case.evidence.filter(pk=evidence_id).first()
    if item is None:
        raise Http404
    return download(item)
