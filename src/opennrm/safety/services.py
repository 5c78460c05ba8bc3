"""Every write of safety: the profile, its dependants, and their part of an erasure.

Each change is a new version of the profile (`expected_version` guards against two people
editing at once); the version it replaces is kept (`SafetyProfileVersion`), with one audit event naming the fields changed, never their values, and an
entry on the case's timeline that says only that the safety profile changed. Recording a
dependent child tells the safeguarding leads of the case's area (a child with a trafficked
parent is a child in need in their area), inside the same service. Whoever else acts on the
profile (the house the person lives in, the local authority housing a child) is told by the
app that knows them (`PROFILE_CHANGE_TELLERS`), counted in the same audit event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.actor import members_with_role
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.services import audit_record
from opennrm.cases.models import Case
from opennrm.cases.services import case_event_record
from opennrm.lib.govuk_forms import StaleVersion, saved_again
from opennrm.notifications.services import deliver

from .models import (
    Dependant,
    Relationship,
    RiskLevel,
    SafetyProfile,
    SafetyProfileVersion,
    SettingRequired,
)
from .selectors import setting_refusal

PROFILE_FIELDS = (
    "risk_level",
    "risk_reasons",
    "exploiters",
    "keep_away",
    "medical_needs",
    "setting_required",
)
# What other apps check when a profile or its dependants change, registered from their own
# AppConfig.ready (safety imports none of them): accommodation refuses a change that a place
# already offered to the person would break (ADR 26).
PROFILE_CHANGE_CHECKS: list[Callable[[Case], None]] = []

_RISK_ORDER = (RiskLevel.STANDARD, RiskLevel.HIGH, RiskLevel.VERY_HIGH)


@dataclass(frozen=True)
class ProfileChange:
    """One change to a case's safety profile, as the apps that act on it are given it: which
    fields changed (never their values), the risk level now, and whether the risk rose or its
    reasons changed."""

    case: Case
    fields: frozenset[str]
    risk_level: str = RiskLevel.STANDARD
    risk_raised: bool = False
    reasons_changed: bool = False

    @property
    def risk_news(self) -> bool:
        """The risk rose or its reasons changed: what anyone who houses the person must hear."""
        return self.risk_raised or self.reasons_changed


# Who other apps tell of a change, registered the same way and run after every check passed:
# each is given the change and the ids of the users already told of it (it adds those it tells,
# so that nobody is told twice for one change) and returns how many it told, under its own
# names, for the change's audit event. accommodation tells the house the person lives in,
# safeguarding the local authority of a child (ADR 26).
PROFILE_CHANGE_TELLERS: list[Callable[[ProfileChange, set[int]], dict[str, int]]] = []

STALE = (
    "Someone else changed this safety profile while you were working on it. Your answers are "
    "still here: check the profile, then save again."
)


def _check_values(values: dict[str, Any]) -> None:
    unknown = set(values) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"not fields of a safety profile: {sorted(unknown)}")
    if values.get("risk_level", RiskLevel.STANDARD) not in RiskLevel.values:
        raise ValidationError({"risk_level": "Select a risk level from the list"})
    if values.get("setting_required", "") not in SettingRequired.values:
        raise ValidationError({"setting_required": "Select a kind of house from the list"})
    if (
        values.get("risk_level") in (RiskLevel.HIGH, RiskLevel.VERY_HIGH)
        and not str(values.get("risk_reasons", "")).strip()
    ):
        raise ValidationError({"risk_reasons": "Say why the risk is high"})
    places = values.get("keep_away", [])
    if not isinstance(places, list) or not all(isinstance(p, str) and p.strip() for p in places):
        raise ValidationError({"keep_away": "Name each place to keep away from"})


def _check_setting(case: Case, setting: str, where: str = "") -> None:
    """Refuse a women-only or men-only requirement the person's sex and gender rule out
    (`selectors.setting_refusal`): accommodation would take it as a house they may be placed
    in. `where` names the page the answer was given on, for a refusal shown elsewhere."""
    refusal = setting_refusal(setting, case.person.sex, case.person.gender)
    if refusal is not None:
        raise ValidationError({"setting_required": f"{where}{refusal}"})


def _profile_for_update(case: Case, by: User | None) -> tuple[SafetyProfile, bool]:
    """The case's profile, locked; made (version 1, nothing recorded) if it has none yet."""
    profile = SafetyProfile.objects.select_for_update().filter(case=case).first()
    if profile is not None:
        return profile, False
    now = timezone.now()
    return (
        SafetyProfile.objects.create(case=case, created_at=now, updated_at=now, updated_by=by),
        True,
    )


def _claim(profile: SafetyProfile, expected_version: int | None, created: bool) -> None:
    """Refuse as stale unless the profile is the version the caller saw. 0 means the caller saw
    no profile (what an edit page opened before the first one sends), so a profile recorded
    since is never overwritten unseen; None, only from callers with no page (demo data, the
    referral's own writes), checks nothing."""
    if not created and expected_version is not None and profile.version != expected_version:
        raise StaleVersion(STALE, current=profile.version)


def _keep_version(profile: SafetyProfile) -> None:
    """Keep the profile as it stands, before a change replaces it (ADR 0026): its fields and
    dependants, for recovery from a mistaken overwrite and for the person's subject access."""
    SafetyProfileVersion.objects.create(
        profile=profile,
        version=profile.version,
        values={
            **{name: getattr(profile, name) for name in PROFILE_FIELDS},
            "dependants": [
                {
                    "relationship": d.relationship,
                    "sex": d.sex,
                    "age_years": d.age_years,
                    "born_estimate": d.born_estimate.isoformat() if d.born_estimate else None,
                    "name": d.name,
                    "added_at": d.added_at.isoformat(),
                }
                for d in profile.dependants.all()
            ],
        },
        saved_at=profile.updated_at,
        saved_by=profile.updated_by,
    )


def _bump(profile: SafetyProfile, by: User | None, fields: Sequence[str], created: bool) -> None:
    if not created:
        profile.version += 1
    profile.updated_at, profile.updated_by = timezone.now(), by
    profile.save(update_fields=[*fields, "version", "updated_at", "updated_by"])


def _run_checks(case: Case) -> None:
    for check in PROFILE_CHANGE_CHECKS:
        check(case)


def _tell(change: ProfileChange) -> dict[str, int]:
    """Run every teller on one change; how many each told, for the change's audit event."""
    told: set[int] = set()
    counts: dict[str, int] = {}
    for teller in PROFILE_CHANGE_TELLERS:
        for audience, number in teller(change, told).items():
            if number:
                counts[audience] = counts.get(audience, 0) + number
    return counts


def _risk_change(profile: SafetyProfile, before: tuple[str, str]) -> dict[str, Any]:
    """Whether the risk rose (from standard, for a new profile) and its reasons changed (to
    something, not merely cleared) between `before` and the profile as now saved."""
    level, reasons = before
    return {
        "risk_level": profile.risk_level,
        "risk_raised": _RISK_ORDER.index(RiskLevel(profile.risk_level))
        > _RISK_ORDER.index(RiskLevel(level)),
        "reasons_changed": profile.risk_reasons != reasons
        and bool(str(profile.risk_reasons).strip()),
    }


def _check_erased(case: Case) -> None:
    if hasattr(case.person, "erasure"):
        raise ValidationError("This person's details have been erased")


@transaction.atomic
def safety_profile_save(
    *, by: User, case: Case, expected_version: int | None, **values: Any
) -> SafetyProfile:
    """Record the person's risk, places to keep away from, medical needs and any women-only or
    men-only requirement (a new profile, or a new version of it)."""
    _check_erased(case)
    _check_values(values)
    if "setting_required" in values:
        _check_setting(case, values["setting_required"])
    profile, created = _profile_for_update(case, by)
    if not created and saved_again(profile, by.pk, expected_version, values):
        return profile  # the same save sent twice: nothing more to write, nobody told again
    _claim(profile, expected_version, created)
    if not created:
        _keep_version(profile)
    before = (profile.risk_level, profile.risk_reasons)
    changed = [name for name, value in values.items() if getattr(profile, name) != value]
    for name in changed:
        setattr(profile, name, values[name])
    _bump(profile, by, changed, created)
    _run_checks(case)
    told = _tell(ProfileChange(case, frozenset(changed), **_risk_change(profile, before)))
    case_event_record(
        case=case,
        kind="safety.profile_changed",
        description="Safety profile recorded" if created else "Safety profile changed",
        by=by,
    )
    detail: dict[str, Any] = {"fields": sorted(changed), "version": profile.version}
    if told:
        detail["told"] = told
    audit_record(
        by=by,
        action="safety_profile.created" if created else "safety_profile.updated",
        obj=profile,
        detail=detail,
    )
    return profile


def _safeguarding_leads(case: Case) -> list[User]:
    organisations = Organisation.objects.filter(
        area=case.area,
        kind__in=[OrganisationKind.LOCAL_AUTHORITY, OrganisationKind.CHILD_GUARDIAN_SERVICE],
        is_active=True,
    )
    return [
        m.user
        for m in members_with_role(None, {Role.SAFEGUARDING_LEAD})
        .filter(organisation__in=organisations)
        .select_related("user")
    ]


def _tell_leads_of_children(case: Case, children: int) -> int:
    """Tell the safeguarding leads of the case's area that `children` dependent children come
    with a referred person; how many were told. Never the child's or the parent's details."""
    if not children:
        return 0
    told = deliver(
        recipients=_safeguarding_leads(case),
        kind="safety.dependent_child",
        case=case,
        url=reverse("safety:children_in_area"),
        subject=f"Dependent child in {case.area}: {case.reference}",
        body=(
            f"{'A child' if children == 1 else f'{children} children'} in {case.area} "
            f"{'comes' if children == 1 else 'come'} with a person referred as a potential "
            "victim of trafficking. Check what they need today."
        ),
    )
    return len(told)


def _new_dependant(
    profile: SafetyProfile,
    by: User | None,
    *,
    relationship: str,
    sex: str,
    age_years: int | None = None,
    born_estimate: date | None = None,
    name: str = "",
) -> Dependant:
    if relationship not in Relationship.values:
        raise ValidationError({"relationship": "Select who the dependant is from the list"})
    if age_years is None and born_estimate is None:
        raise ValidationError({"age_years": "Enter their age in years, or their date of birth"})
    if born_estimate is not None and born_estimate > timezone.localdate():
        raise ValidationError({"born_estimate": "Date of birth must be in the past"})
    if age_years is not None and not 0 <= age_years <= 120:
        raise ValidationError({"age_years": "The age must be between 0 and 120"})
    return Dependant.objects.create(
        profile=profile,
        relationship=relationship,
        sex=sex,
        age_years=age_years,
        born_estimate=born_estimate,
        name=name.strip(),
        added_at=timezone.now(),
        added_by=by,
    )


@transaction.atomic
def dependant_add(
    *, by: User, case: Case, expected_version: int | None, **dependant: Any
) -> Dependant:
    """Record someone who comes with the person: they are placed together or not at all. A
    child tells the safeguarding leads of the case's area."""
    _check_erased(case)
    profile, created = _profile_for_update(case, by)
    _claim(profile, expected_version, created)
    if not created:
        _keep_version(profile)
    added = _new_dependant(profile, by, **dependant)
    profile.dependant_count = profile.dependants.count()
    _bump(profile, by, ["dependant_count"], created)
    _run_checks(case)
    others = _tell(
        ProfileChange(case, frozenset({"dependant_count"}), risk_level=profile.risk_level)
    )
    child = added.is_child_on(timezone.localdate())
    told = _tell_leads_of_children(case, 1 if child else 0)
    case_event_record(
        case=case, kind="safety.dependant_added", description="Dependant recorded", by=by
    )
    audit_record(
        by=by,
        action="safety.dependant_added",
        obj=added,
        detail={
            "relationship": added.relationship,
            "child": child,
            "safeguarding_leads_told": told,
            "version": profile.version,
            **({"told": others} if others else {}),
        },
    )
    return added


@transaction.atomic
def dependant_remove(*, by: User, dependant: Dependant, expected_version: int | None) -> None:
    """A dependant who no longer comes with the person (recorded in error, or staying
    elsewhere)."""
    profile, _created = _profile_for_update(dependant.profile.case, by)
    _claim(profile, expected_version, False)
    _keep_version(profile)
    pk = dependant.pk
    dependant.delete()
    profile.dependant_count = profile.dependants.count()
    _bump(profile, by, ["dependant_count"], False)
    case_event_record(
        case=profile.case, kind="safety.dependant_removed", description="Dependant removed", by=by
    )
    audit_record(
        by=by,
        action="safety.dependant_removed",
        obj=profile,
        detail={"dependant": pk, "version": profile.version},
    )


def safety_record_at_referral(
    *, by: User, case: Case, answers: dict[str, Any] | None
) -> dict[str, int]:
    """The profile and dependants the referral's "Risk and safety" page gave (its cleaned
    data), written inside `referrals.services.referral_submit`, whose event (referral.submitted)
    covers it; who was told of a dependent child, for that event. Nothing if the page was left
    out."""
    if not answers:
        # The new case has no profile: said on the instance, so that what reads it next in the
        # submission (its placement request, `selectors.constraints_of`) asks no query.
        Case.safety_profile.related.set_cached_value(case, None)
        return {}
    # The person's sex and gender are answered on another page: refused on submitting both.
    _check_setting(case, answers.get("setting_required", ""), where="Risk and safety: ")
    now = timezone.now()
    profile = SafetyProfile.objects.create(
        case=case,
        created_at=now,
        updated_at=now,
        updated_by=by,
        **{
            name: answers[name].strip() if isinstance(answers[name], str) else answers[name]
            for name in PROFILE_FIELDS
            if name in answers
        },
    )
    for row in answers.get("dependants", []):
        _new_dependant(profile, by, **row)
    profile.dependant_count = profile.dependants.count()
    profile.save(update_fields=["dependant_count"])
    today = timezone.localdate(now)
    children = sum(1 for d in profile.dependants.all() if d.is_child_on(today))
    return {"dependent_child_leads": _tell_leads_of_children(case, children)} if children else {}


def safety_records_pseudonymise(case_ids: Sequence[int]) -> dict[str, int]:
    """Empty what the profiles of these cases say and delete their dependants and earlier
    versions. Called only inside `privacy.services`' erasure, whose audit event covers it."""
    profiles = SafetyProfile.objects.filter(case_id__in=case_ids)
    removed = Dependant.objects.filter(profile__in=profiles).delete()[0]
    # Earlier versions say what the profile said: deleted, not emptied (nothing else in them).
    versions = SafetyProfileVersion.objects.filter(profile__in=profiles).delete()[0]
    emptied = profiles.update(
        risk_reasons="", exploiters="", keep_away=[], medical_needs="", dependant_count=0
    )
    return {"safety_profiles": emptied, "dependants": removed, "safety_profile_versions": versions}
