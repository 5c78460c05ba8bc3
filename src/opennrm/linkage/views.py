"""The competent authority's pages of record linkage (ADR 0049): the pairs to review, one
pair side by side with its waterfall and the three answers, undoing a link, and the quality of
the model as the reviews measure it. Who may see a pair: `selectors.pairs_for_review`."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from opennrm.accounts.actor import actor_of
from opennrm.accounts.models import User
from opennrm.audit.services import audit_read
from opennrm.cases.models import Case
from opennrm.lib.govuk_forms import show_refusal
from opennrm.lib.iso import country_name

from . import charts, selectors, services
from .models import OPEN_STATUSES, CandidatePair, PairStatus, ReopenReason, UnlinkReason

PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _pair(request: HttpRequest, pair_id: int) -> CandidatePair:
    try:
        return selectors.pair_get_for_review(actor_of(request), pair_id)
    except CandidatePair.DoesNotExist:
        raise Http404 from None


class ReviewForm(forms.Form):
    answer = forms.ChoiceField(
        label="Are these referrals of the same person?",
        choices=[
            (PairStatus.CONFIRMED.value, "Same person"),
            (PairStatus.REJECTED.value, "Not the same person"),
            (PairStatus.UNSURE.value, "Not sure"),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select whether these referrals are of the same person",
            "invalid_choice": "Select whether these referrals are of the same person",
        },
    )


class UnlinkForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why are these referrals no longer linked?",
        choices=UnlinkReason.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select why these referrals are no longer linked",
            "invalid_choice": "Select why these referrals are no longer linked",
        },
    )


# The reasons for taking back an unlink, in its words: the same codes as for a "Not the same
# person" answer (`ReopenReason`), whose labels speak of that answer.
REOPEN_UNLINK_LABELS = {
    ReopenReason.MISTAKE: "The referrals were unlinked by mistake",
    ReopenReason.NEW_INFORMATION: "New information shows they may be the same person",
    ReopenReason.RECORD_CORRECTED: "A record was corrected and may now match",
}


class ReopenForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why are you changing this answer?",
        choices=ReopenReason.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select why this answer is being changed",
            "invalid_choice": "Select why this answer is being changed",
        },
    )

    def __init__(self, *args: Any, unlinked: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if unlinked:
            reason = cast(forms.ChoiceField, self.fields["reason"])
            reason.choices = list(REOPEN_UNLINK_LABELS.items())


def _taken_back(found: CandidatePair) -> str:
    """The answer the pair's latest reopening took back, "rejected" or "unlinked" ("" if it
    was never reopened, or what it took back was since overwritten by the same answer again,
    whose event is in the audit trail): the later of the two before the reopening."""
    before = {
        status: at
        for status, at in (
            (PairStatus.REJECTED, found.rejected_at),
            (PairStatus.UNLINKED, found.unlinked_at),
        )
        if found.reopened_at and at and at <= found.reopened_at
    }
    return str(max(before, key=before.__getitem__)) if before else ""


def _reopen_reason(found: CandidatePair) -> str:
    if _taken_back(found) == PairStatus.UNLINKED:
        return REOPEN_UNLINK_LABELS.get(ReopenReason(found.reopen_reason), "")
    return found.get_reopen_reason_display()


@require_safe
def pairs(request: HttpRequest) -> HttpResponse:
    """The pairs waiting for an answer, strongest first: case references, referring
    organisations and the match probability, no name."""
    actor = actor_of(request)
    page = Paginator(selectors.open_pairs_for_review(actor), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "linkage/pairs.html",
        {
            "title": "Possible earlier referrals",
            "page": page,
            # Linked through other referrals the user may review (never through one they may
            # not open): "Not the same person" waits for those to be unlinked.
            "linked_already": selectors.pairs_linked_already(actor, page.object_list),
        },
    )


# The identifying fields the pair page shows of each record, by the record holding them: the
# other names too, which the case page shows, as a person referred once under a name they use
# is the commonest reason two referrals differ by name.
SHOWN = ("given_names", "family_name", "aliases", "date_of_birth", "safe_contact")


def _record(case: Case, openable: set[int]) -> dict[str, Any]:
    person = case.person
    identity = getattr(person, "identity", None)
    places = selectors.exploitation_places(case) if identity else ""
    return {
        "case": case,
        # Linked to its case page only if the user may open it: the earlier referral of a pair
        # across two authorities is shown here, and there only to its own authority.
        "may_open": case.pk in openable,
        "identity": identity,
        "name": " ".join(
            part for part in (identity.given_names, identity.family_name) if part
        ).strip()
        if identity
        else "",
        "nationalities": [country_name(code) for code in person.nationalities or []],
        # Compared by the model (ADR 0051), so shown beside the rest.
        "places": places,
        "fields": [name for name in SHOWN if identity and getattr(identity, name, None)]
        + (["exploitation_places"] if places else []),
    }


@require_http_methods(["GET", "POST"])
def pair(request: HttpRequest, pair_id: int) -> HttpResponse:
    actor = actor_of(request)
    found = _pair(request, pair_id)
    is_open = found.status in OPEN_STATUSES
    form = ReviewForm(request.POST if request.method == "POST" and is_open else None)
    if request.method == "POST" and is_open and form.is_valid():
        try:
            services.candidate_pair_review(
                by=actor, pair_id=found.pk, status=form.cleaned_data["answer"]
            )
        except ValidationError as error:
            show_refusal(form, error)
        except PermissionDenied:
            raise Http404 from None
        else:
            answered = PairStatus(form.cleaned_data["answer"]).label
            messages.success(request, f"Answer recorded: {answered}")
            return redirect("linkage:pair", found.pk)
    if request.method == "POST" and not is_open:
        messages.error(
            request,
            "This pair has already been answered."
            + (
                " To change a “Not the same person” answer or an unlink, use “Change this answer”."
                if found.status in services.REOPENABLE
                else ""
            ),
        )
        return redirect("linkage:pair", found.pk)
    cases = (
        Case.objects.filter(pk__in=(found.case_a_id, found.case_b_id))
        .select_related(
            "person__identity", "referring_organisation", "competent_authority", "narrative"
        )
        .order_by("submitted_at", "pk")
    )
    openable = selectors.cases_openable(actor, (found.case_a_id, found.case_b_id))
    records = [_record(case, openable) for case in cases]
    # One read for each record shown, naming the fields that had a value.
    for record in records:
        audit_read(
            by=_user(request),
            person=record["case"].person,
            obj=record["case"],
            fields=record["fields"],
        )
    steps = charts.waterfall(found.comparisons, found.match_weight)
    response = render(
        request,
        "linkage/pair.html",
        {
            "title": "Possible earlier referral",
            "pair": found,
            "is_open": is_open,
            "records": records,
            "steps": steps,
            "chart": charts.chart(steps),
            "prior_probability": charts.probability(steps[0].match_weight),
            "form": form,
            # What the latest "Change this answer" took back, and why, for the pair's history.
            "taken_back": _taken_back(found),
            "reopen_reason": _reopen_reason(found) if found.reopened_at else "",
            # Linked through other referrals the user may review already: "Not the same
            # person" is refused until those are unlinked, and the page says so, with the
            # pairs to unlink, before it is chosen. A link through a referral the user may not
            # open is never mentioned (ADR 0049, addendum of stop 37).
            "links_between": selectors.links_between(actor, found.case_a_id, found.case_b_id)
            if is_open
            else [],
            "linked_already": is_open
            and selectors.linked_through_others(actor, found.case_a_id, found.case_b_id),
        },
    )
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
def pair_unlink(request: HttpRequest, pair_id: int) -> HttpResponse:
    actor = actor_of(request)
    found = _pair(request, pair_id)
    if request.method == "POST" and found.status == PairStatus.UNLINKED:
        # A second press (double click, or the browser resending) after the first unlinked it:
        # back to the pair with the answer, as the review form does for a pair already answered.
        # Opening the page of an unlinked pair is still "not found": nothing to unlink.
        messages.info(request, "These referrals have already been unlinked.")
        return redirect("linkage:pair", found.pk)
    if found.status != PairStatus.CONFIRMED:
        raise Http404
    form = UnlinkForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.candidate_pair_unlink(
                by=actor, pair_id=found.pk, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            show_refusal(form, error)
        except PermissionDenied:
            raise Http404 from None
        else:
            # A link undone in a chain with another way round (or through an erased referral,
            # ADR 0052) leaves the two referrals linked through the others: say so, rather
            # than that they are no longer linked.
            # Only links the user may review are named: one through a referral they may not
            # open is not mentioned (ADR 0049, addendum of stop 37).
            if selectors.linked_through_others(actor, found.case_a_id, found.case_b_id):
                messages.success(
                    request,
                    "This pair is unlinked. The referrals are still linked through other "
                    "referrals confirmed as the same person",
                )
            elif selectors.cases_linked(found.case_a_id, found.case_b_id):
                messages.success(request, "This pair is unlinked")
            else:
                messages.success(request, "The referrals are no longer linked")
            return redirect("linkage:pair", found.pk)
    return render(
        request,
        "linkage/unlink.html",
        {"title": "Unlink these referrals", "pair": found, "form": form},
    )


@require_http_methods(["GET", "POST"])
def pair_reopen(request: HttpRequest, pair_id: int) -> HttpResponse:
    """Take back a "Not the same person" answer or an unlink given by mistake (or made wrong
    by new information): the pair is open again for an answer, the rejection or the unlink
    kept in its history."""
    found = _pair(request, pair_id)
    if request.method == "POST" and found.status in OPEN_STATUSES and found.reopened_at:
        # A second press after the first reopened it: back to the pair, open for an answer.
        messages.info(request, "This pair is already open for a new answer.")
        return redirect("linkage:pair", found.pk)
    if found.status not in services.REOPENABLE:
        raise Http404
    form = ReopenForm(
        request.POST if request.method == "POST" else None,
        unlinked=found.status == PairStatus.UNLINKED,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.candidate_pair_reopen(
                by=actor_of(request), pair_id=found.pk, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            show_refusal(form, error)
        except PermissionDenied:
            raise Http404 from None
        else:
            messages.success(request, "The pair is open again: answer it below")
            return redirect("linkage:pair", found.pk)
    return render(
        request,
        "linkage/reopen.html",
        {"title": "Change this answer", "pair": found, "form": form},
    )


@require_safe
def quality(request: HttpRequest) -> HttpResponse:
    model = selectors.linkage_model_current()
    return render(
        request,
        "linkage/quality.html",
        {
            "title": "Record linkage quality",
            "quality": selectors.pairs_quality(actor_of(request)),
            "runs": selectors.linkage_runs_latest(),
            "model": model,
            "prior": selectors.model_prior(model) if model else None,
            "parameters": selectors.model_parameters(model) if model else [],
            "now": timezone.now(),
        },
    )
