"""Pages of a case's contacts and agency references: see them, change them, see the address
where the person is staying (a page of its own, so that it is shown only when asked for), and
record consent to share with a named agency (an adult's; a child needs none, and is not asked).

Served under `/cases/<reference>/contacts/` in the `cases:` namespace (pages/case_urls.py), for
whoever may open the case; anyone else gets 404. Every page that shows a contact detail, a
reference or the address records a read naming the fields first.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from opennrm.accounts.actor import actor_of
from opennrm.accounts.models import User
from opennrm.audit.services import audit_read
from opennrm.cases.models import Case
from opennrm.lib.govuk_forms import show_refusal

from . import selectors, services
from .forms import ConsentForm, ContactsForm
from .models import ADDRESS_ALLOWED, AgencyKind


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@require_safe
def contacts(request: HttpRequest, reference: str) -> HttpResponse:
    user = _user(request)
    case = selectors.contacts_case_get(actor_of(request), reference)
    found = selectors.contacts_of(case)
    consents = selectors.consents_of(case)
    shown = selectors.fields_with_values(found, child=case.is_child)
    if consents:
        shown.append("agencies_consented")
    if shown:
        audit_read(by=user, person=case.person, obj=case, fields=shown)
    return render(
        request,
        "contacts/contacts.html",
        {
            "title": f"Contacts and references - case {case.reference}",
            "case": case,
            "contacts": found,
            "consents": consents,
            "agency_kinds": dict(AgencyKind.choices),
            "erased": hasattr(case.person, "erasure"),
        },
    )


@require_http_methods(["GET", "POST"])
def contacts_edit(request: HttpRequest, reference: str) -> HttpResponse:
    user = _user(request)
    case = selectors.contacts_case_get(actor_of(request), reference)
    if hasattr(case.person, "erasure"):
        return redirect("cases:contacts", case.reference)
    found = selectors.contacts_of(case)
    shown: list[str] = []
    if request.method == "POST":
        form = ContactsForm(request.POST, child=case.is_child)
        if form.is_valid():
            try:
                services.case_contacts_update(
                    by=user,
                    case=case,
                    expected_version=form.cleaned_data["expected_version"] or 1,
                    **form.values(),
                )
            except ValidationError as error:
                show_refusal(form, error)
            else:
                messages.success(request, "Contacts and references saved")
                return redirect("cases:contacts", case.reference)
        # Refused: what was typed is shown again in the boxes, and read as the GET's values are.
        shown = [
            name
            for name in (*selectors.SHOWN_FIELDS, selectors.ADDRESS_FIELD)
            if name in form.fields and str(form.data.get(name) or "").strip()
        ]
    else:
        saved = ContactsForm.data_for(found)
        form = ContactsForm(initial=saved, child=case.is_child)
        form.data = saved
        shown = selectors.fields_with_values(found, child=case.is_child)
        if found is not None and found.location_address:
            shown.append(selectors.ADDRESS_FIELD)
    # Beside an address in its box (stored, or typed and shown again), as on the address page.
    address = form["location_address"].value() or ""
    safe_contact = _safe_contact(case) if address.strip() else ""
    if safe_contact:
        shown.append("safe_contact")
    if shown:
        audit_read(by=user, person=case.person, obj=case, fields=shown)
    return render(
        request,
        "contacts/contacts_edit.html",
        {
            "title": f"Change contacts and references - case {case.reference}",
            "case": case,
            "form": form,
            "address_allowed": sorted(ADDRESS_ALLOWED),
            "safe_contact": safe_contact,
        },
    )


def _safe_contact(case: Case) -> str:
    """How the person said they may be contacted safely, shown beside their address: whoever
    reads it may be about to visit or phone, and must not where the exploiters are watching."""
    identity = getattr(case.person, "identity", None)
    return identity.safe_contact if identity is not None else ""


@require_safe
def contacts_address(request: HttpRequest, reference: str) -> HttpResponse:
    """The address where the person is staying, shown only when asked for, the read recorded."""
    user = _user(request)
    case = selectors.contacts_case_get(actor_of(request), reference)
    found = selectors.contacts_of(case)
    address = found.location_address if found is not None else ""
    safe_contact = _safe_contact(case) if address else ""
    if address:
        shown = [selectors.ADDRESS_FIELD] + (["safe_contact"] if safe_contact else [])
        audit_read(by=user, person=case.person, obj=case, fields=shown)
    return render(
        request,
        "contacts/contacts_address.html",
        {
            "title": f"Where the person is staying - case {case.reference}",
            "case": case,
            "contacts": found,
            "address": address,
            "safe_contact": safe_contact,
        },
    )


@require_http_methods(["GET", "POST"])
def contacts_consent(request: HttpRequest, reference: str) -> HttpResponse:
    """Record an adult's consent to share with one agency. A child is not asked: the page says
    why, and takes nothing."""
    user = _user(request)
    case = selectors.contacts_case_get(actor_of(request), reference)
    context = {
        "title": f"Consent to share - case {case.reference}",
        "case": case,
    }
    if case.is_child:
        return render(request, "contacts/contacts_consent.html", context | {"child": True})
    if hasattr(case.person, "erasure"):
        return redirect("cases:contacts", case.reference)
    form = ConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.agency_consent_record(
                by=user,
                case=case,
                agency_kind=form.cleaned_data["agency_kind"],
                agency_name=form.cleaned_data["agency_name"],
                consent_given=form.cleaned_data["consent_given"] == "yes",
                given_on=form.cleaned_data["given_on"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            # The agency is not named: messages are kept in the session, stored in the clear.
            messages.success(request, "Consent to share recorded")
            return redirect("cases:contacts", case.reference)
    if form.is_bound and str(form.data.get("agency_name") or "").strip():
        # Refused: the agency typed (a GP surgery can say where the person lives) is shown
        # again in its box, and read as the contacts page's list of agencies is.
        audit_read(by=user, person=case.person, obj=case, fields=["agencies_consented"])
    return render(request, "contacts/contacts_consent.html", context | {"form": form})
