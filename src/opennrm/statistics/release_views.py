"""The analysts' release pages (ADR 0036), under /statistics/releases/: the releases, preparing
one, a version as it will be published with its approval (by a second analyst), withdrawing a
version awaiting approval, and revising a published release."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from opennrm.accounts.actor import actor_of
from opennrm.lib.govuk_forms import show_refusal
from opennrm.lib.text import multi_line, single_line

from . import releases, selectors
from .models import Release, ReleaseVersion, VersionState
from .public_views import LARGEST_KEY, bulletin_context
from .synthetic import EPSILON_MAX, EPSILON_MIN
from .tables_views import TablesForm, last_quarter

EPSILON_RANGE = f"Enter the epsilon as a number from {EPSILON_MIN} to {EPSILON_MAX}"


class SyntheticDataFields(forms.Form):
    """Whether to publish a differentially private synthetic dataset with the release (ADR
    0037), and its epsilon: asked when preparing a release and when revising one."""

    synthetic = forms.ChoiceField(
        label="Publish a synthetic dataset with the release?",
        help_text="A synthetic dataset has records that look like the referrals but are "
        "generated: no row is a real person. It is protected by differential privacy, which "
        "spends a privacy budget, epsilon, on top of the tables (the tables are protected by "
        "suppressing small counts, not by differential privacy)",
        choices=[("yes", "Yes"), ("no", "No")],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select yes if a synthetic dataset is to be published with the release",
            "invalid_choice": "Select yes or no",
        },
    )
    epsilon = forms.CharField(
        label="Epsilon",
        help_text=f"A number from {EPSILON_MIN} to {EPSILON_MAX}. Smaller "
        "means more privacy and less accurate data; larger, less privacy and more accurate "
        "data. 1 is a common choice",
        initial="1",
        required=False,  # checked in `clean`, only after "Yes"
    )
    epsilon_max = EPSILON_MAX  # less on a revision whose release has spent some (`_budget_left`)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("synthetic") != "yes":
            cleaned["epsilon"] = None  # not asked: whatever is in the box is not used
            return cleaned
        text = (cleaned.get("epsilon") or "").strip()
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = Decimal("NaN")
        most = self.epsilon_max
        in_range = value.is_finite() and EPSILON_MIN <= value <= most
        if not in_range:
            self.add_error(
                "epsilon",
                EPSILON_RANGE
                if most == EPSILON_MAX
                else f"Enter the epsilon as a number from {EPSILON_MIN} to {most.normalize():f}, "
                "what this release's budget has left",
            )
        elif value != value.quantize(releases.EPSILON_PLACES):
            self.add_error("epsilon", "Enter the epsilon with up to 2 decimal places, like 0.5")
        else:
            cleaned["epsilon"] = value
        return cleaned

    def synthetic_epsilon(self) -> Decimal | None:
        epsilon: Decimal | None = self.cleaned_data.get("epsilon")
        return epsilon


class PrepareForm(SyntheticDataFields, TablesForm):
    field_order = ["year", "quarter", "jurisdiction", "title", "notes"]

    title = forms.CharField(
        label="Title",
        max_length=200,
        help_text="For example, National Referral Mechanism statistics: July to September 2026",
        validators=[single_line("The title")],
        error_messages={
            "required": "Enter the title of the release",
            "max_length": "The title must be 200 characters or fewer",
        },
    )
    notes = forms.CharField(
        label="Notes for readers (optional)",
        help_text="Published with the release. Separate paragraphs with a blank line",
        required=False,
        max_length=5000,
        validators=[multi_line("The notes")],
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"max_length": "The notes must be 5,000 characters or fewer"},
    )


class ReviseForm(SyntheticDataFields):
    field_order = ["reason"]

    reason = forms.CharField(
        label="Why is the release being revised?",
        help_text="Published with the new version, for example: late referrals were added",
        max_length=2000,
        validators=[multi_line("The reason")],
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": "Enter the reason for the revision",
            "max_length": "The reason must be 2,000 characters or fewer",
        },
    )


def _budget_left(form: ReviseForm, left: Decimal) -> None:
    """Ask only for what the release's budget still allows: no synthetic question when less
    than the smallest epsilon is left, else the hint and the check say the real most."""
    if left < EPSILON_MIN:
        del form.fields["synthetic"], form.fields["epsilon"]
        return
    if left < EPSILON_MAX:
        form.epsilon_max = left
        form.fields["epsilon"].help_text = form.fields["epsilon"].help_text.replace(
            f"to {EPSILON_MAX}.", f"to {left.normalize():f}, what this release has left."
        )


class ReviseOperationForm(forms.Form):
    """The revision of an operation's account: the reason only (it has no synthetic dataset)."""

    reason = ReviseForm.base_fields["reason"]

    def synthetic_epsilon(self) -> Decimal | None:
        return None


class PrepareOperationForm(forms.Form):
    """The public account of an enforcement operation that has ended (ADR 0046)."""

    operation = forms.TypedChoiceField(
        label="Which operation?",
        help_text="Only operations that took place and have ended are listed",
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select the operation",
            "invalid_choice": "Select one of the operations listed: only an operation that "
            "took place and has ended can have its account published",
        },
    )
    title = forms.CharField(
        label="Title",
        max_length=200,
        help_text="For example, Operation Larkspur: what happened to the people found",
        validators=[single_line("The title")],
        error_messages={
            "required": "Enter the title of the release",
            "max_length": "The title must be 200 characters or fewer",
        },
    )
    notes = PrepareForm.base_fields["notes"]

    def __init__(self, *args: Any, operations: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.TypedChoiceField, self.fields["operation"])
        field.choices = [
            (o.id, f"{o.name}: {o.region_label}, {o.starts_on:%-d %B %Y} to {o.ends_on:%-d %B %Y}")
            for o in operations
        ]


def _version(release: int, version: int) -> ReleaseVersion:
    if not (0 < release <= LARGEST_KEY and 0 < version <= LARGEST_KEY):
        raise Http404  # a number no key holds (it would overflow the query)
    return get_object_or_404(
        ReleaseVersion.objects.select_related("release", "prepared_by", "approved_by"),
        release_id=release,
        number=version,
    )


@require_http_methods(["GET", "HEAD"])
def release_list(request: HttpRequest) -> HttpResponse:
    selectors.analyst_organisation(actor_of(request))
    versions = list(
        ReleaseVersion.objects.select_related("release", "prepared_by").order_by(
            "-prepared_at", "-pk"
        )
    )
    return render(
        request,
        "statistics/releases.html",
        {
            "title": "Official statistics releases",
            "awaiting": [v for v in versions if v.state == VersionState.AWAITING_APPROVAL],
            "published": [v for v in versions if v.state == VersionState.PUBLISHED],
            "withdrawn": [v for v in versions if v.state == VersionState.WITHDRAWN],
        },
    )


@require_http_methods(["GET", "POST"])
def release_prepare(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    selectors.analyst_organisation(actor)
    today = timezone.localdate()
    if request.method == "POST":
        form = PrepareForm(request.POST, today=today)
        if form.is_valid():
            try:
                version = releases.prepare_release(
                    by=actor,
                    period=form.period(),
                    jurisdiction=form.cleaned_data["jurisdiction"] or None,
                    title=form.cleaned_data["title"],
                    notes=form.cleaned_data["notes"],
                    synthetic_epsilon=form.synthetic_epsilon(),
                )
            except ValidationError as refusal:
                show_refusal(form, refusal)
            else:
                return redirect("statistics:release_version", release=version.release_id, version=1)
    else:
        year, quarter = last_quarter(today)
        form = PrepareForm(initial={"year": year, "quarter": str(quarter)}, today=today)
    return render(
        request,
        "statistics/release_prepare.html",
        {"title": "Prepare a release", "form": form},
    )


@require_http_methods(["GET", "POST"])
def release_prepare_operation(request: HttpRequest) -> HttpResponse:
    """Prepare the public account of an enforcement operation that has ended (ADR 0046)."""
    actor = actor_of(request)
    selectors.analyst_organisation(actor)
    operations = releases.releasable_operations()
    form = PrepareOperationForm(request.POST or None, operations=operations)
    if request.method == "POST" and form.is_valid():
        try:
            version = releases.prepare_operation_release(
                by=actor,
                operation_id=form.cleaned_data["operation"],
                title=form.cleaned_data["title"],
                notes=form.cleaned_data["notes"],
            )
        except ValidationError as refusal:
            show_refusal(form, refusal)
        else:
            return redirect("statistics:release_version", release=version.release_id, version=1)
    return render(
        request,
        "statistics/release_prepare_operation.html",
        {"title": "Publish the account of an operation", "form": form, "operations": operations},
    )


def _version_page(
    request: HttpRequest, version: ReleaseVersion, refusal: str | None = None
) -> HttpResponse:
    actor = actor_of(request)
    return render(
        request,
        "statistics/release_version.html",
        {
            "title": f"{version.release.title}: version {version.number}",
            "version": version,
            "may_approve": version.state == VersionState.AWAITING_APPROVAL
            and version.prepared_by_id != actor.user.pk,
            "refusal": refusal,
            **bulletin_context(version, public=False),
        },
        status=400 if refusal else 200,
    )


@require_http_methods(["GET", "HEAD"])
def release_version(request: HttpRequest, release: int, version: int) -> HttpResponse:
    selectors.analyst_organisation(actor_of(request))
    return _version_page(request, _version(release, version))


@require_POST
def release_approve(request: HttpRequest, release: int, version: int) -> HttpResponse:
    actor = actor_of(request)
    selectors.analyst_organisation(actor)
    found = _version(release, version)
    try:
        releases.approve_release(by=actor, version=found)
    except releases.ReleaseRefused as refusal:
        return _version_page(request, found, " ".join(refusal.messages))
    return redirect("statistics:release_version", release=release, version=version)


@require_POST
def release_withdraw(request: HttpRequest, release: int, version: int) -> HttpResponse:
    actor = actor_of(request)
    selectors.analyst_organisation(actor)
    found = _version(release, version)
    try:
        releases.withdraw_draft(by=actor, version=found)
    except releases.ReleaseRefused as refusal:
        return _version_page(request, found, " ".join(refusal.messages))
    return redirect("statistics:releases")


@require_http_methods(["GET", "POST"])
def release_revise(request: HttpRequest, release: int) -> HttpResponse:
    actor = actor_of(request)
    selectors.analyst_organisation(actor)
    found = get_object_or_404(Release, pk=release)
    if not found.versions.filter(state=VersionState.PUBLISHED).exists():
        raise Http404
    form: ReviseForm | ReviseOperationForm
    if found.operation_id is not None:
        form = ReviseOperationForm(request.POST or None)
    else:
        form = ReviseForm(request.POST or None)
        _budget_left(form, releases.synthetic_left(found))
    if request.method == "POST" and form.is_valid():
        try:
            version = releases.revise_release(
                by=actor,
                release=found,
                reason=form.cleaned_data["reason"],
                synthetic_epsilon=form.synthetic_epsilon(),
            )
        except ValidationError as refusal:
            show_refusal(form, refusal)
        else:
            return redirect("statistics:release_version", release=found.pk, version=version.number)
    context: dict[str, Any] = {
        "title": f"Revise {found.title}",
        "form": form,
        "release": found,
        "synthetic_spent": releases.synthetic_spent(found),
    }
    return render(request, "statistics/release_revise.html", context)
