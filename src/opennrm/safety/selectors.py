"""Reads of safety, from who is acting.

The profile is shown on the case page (to whoever may open the case), beside a placement
request (to coordinators) and with an offer (to the safe house's manager), each with the read
audited by the page that shows it, naming the fields (`fields_shown`). The exploiters'
descriptions are never listed and never searched: no selector filters on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.http import Http404
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.cases.choices import Gender, Sex
from opennrm.cases.models import Case
from opennrm.cases.selectors import case_get_for_user, safeguarding_lead_areas

from .models import (
    Dependant,
    Relationship,
    RiskLevel,
    SafetyProfile,
    SafetyProfileVersion,
    SettingRequired,
)

# Identifying fields of a profile, by the name the audit trail gives them.
IDENTIFYING = ("risk_reasons", "exploiters", "keep_away", "medical_needs")


def profile_of(case: Case) -> SafetyProfile | None:
    """The case's profile, for a page that has already fetched the case through a selector."""
    try:
        return case.safety_profile
    except SafetyProfile.DoesNotExist:
        return None


def profile_now(case: Case) -> SafetyProfile | None:
    """The case's profile as it stands in the database now, not as the case first read it: for
    a page whose save was refused as stale, to show what someone else recorded meanwhile."""
    return SafetyProfile.objects.filter(case=case).first()


def case_for_profile(actor: Actor, reference: str) -> Case:
    """The case whose profile the actor may read and change: anyone who may open the case (its
    referrer, its competent authority, the safeguarding leads of a child's area)."""
    return case_get_for_user(actor, reference)


def dependant_get_for_user(actor: Actor, case: Case, dependant_id: int) -> Dependant:
    try:
        return Dependant.objects.select_related("profile__case").get(
            pk=dependant_id, profile__case=case
        )
    except Dependant.DoesNotExist:
        raise Http404 from None


def fields_shown(profile: SafetyProfile | None, *, with_exploiters: bool = True) -> list[str]:
    """The identifying fields a page showing this profile shows, for its `audit_read`."""
    if profile is None:
        return []
    shown = [
        name
        for name in IDENTIFYING
        if getattr(profile, name) not in ("", [], None)
        and (with_exploiters or name != "exploiters")
    ]
    if profile.dependant_count:
        shown.append("dependants")
    if any(d.name for d in profile.dependants.all()):
        shown.append("dependant_names")
    return shown


@dataclass(frozen=True)
class CarriedConstraints:
    """What a placement request takes from the profile: the settings it allows (None: any),
    the areas it must keep away from, how many dependants come (children and adults alike: the
    room must take them all), and each of them as (sex, adult): an adult of the other sex rules
    out a single-sex house (`accommodation.matching.Companion`)."""

    settings: list[str] | None
    excluded_areas: list[str]
    dependants: int
    companions: tuple[tuple[str, bool], ...] = ()


def constraints_of(case: Case, today: date | None = None) -> CarriedConstraints | None:
    """The constraints the case's profile puts on every placement request (None: no profile).

    A women-only or men-only requirement allows only that setting; each place to keep away from
    is an area the person is never placed in; every dependant needs room with them, and an
    adult who comes (a partner, a grown-up son) must be of the sex of a single-sex house
    (a woman's adult male partner was placed with her in a women-only refuge, in a room for a
    mother and her children, found in review). Ages are as on `today`: a son turning 18 is an
    adult from that day."""
    profile = profile_of(case)
    if profile is None:
        return None
    today = today or timezone.localdate()
    # No query for the many profiles with no dependant (matching reads every open request).
    dependants = list(profile.dependants.all()) if profile.dependant_count else []
    companions = tuple((d.sex, not d.is_child_on(today)) for d in dependants)
    return CarriedConstraints(
        settings=[profile.setting_required] if setting_carried(case, profile) else None,
        excluded_areas=list(profile.keep_away),
        # Everyone who comes needs a place beside the person: a partner too, not only children
        # (a bed for one was offered to a woman and her adult partner, found in review).
        dependants=len(companions),
        companions=companions,
    )


# Who each single-sex house is for, read from the person's gender or, without one, their sex:
# the one reading, by which accommodation places them too (`accommodation.selectors.settings_for`).
_WOMEN = {Gender.FEMININE, Gender.TRANSGENDER_FEMININE}
_MEN = {Gender.MASCULINE, Gender.TRANSGENDER_MASCULINE}
_WHO = {SettingRequired.WOMEN_ONLY: "a woman or girl", SettingRequired.MEN_ONLY: "a man or boy"}


def single_sex_house_for(sex: str, gender: str) -> str | None:
    """The single-sex house the person may be placed in by their sex and gender: women-only
    for a woman, men-only for a man, None for anyone else (placed in mixed houses only)."""
    if gender in _WOMEN or (not gender and sex == Sex.FEMALE):
        return SettingRequired.WOMEN_ONLY.value
    if gender in _MEN or (not gender and sex == Sex.MALE):
        return SettingRequired.MEN_ONLY.value
    return None


def setting_refusal(setting: str, sex: str, gender: str) -> str | None:
    """Why a safety profile may not require `setting` for a person of this sex and gender, or
    None if it may (ADR 0026, addendum 2026-12-05, stop 37): never the single-sex house of the
    other sex from the one they are placed as, since accommodation adds the profile's
    requirement to the houses they may be placed in. Someone placed in mixed houses only (a
    non-binary person, or one whose sex is not known) may need either: the profile is where
    that need is recorded."""
    own = single_sex_house_for(sex, gender)
    if not setting or own is None or setting == own:
        return None
    return (
        f"{SettingRequired(setting).label} is not for someone recorded as "
        f"{_WHO[SettingRequired(own)]}: select {SettingRequired(own).label.lower()} or no "
        "requirement"
    )


def setting_ruled_out(case: Case, profile: SafetyProfile | None = None) -> str | None:
    """Why the profile's women-only or men-only requirement no longer fits the person, or None:
    their recorded sex or gender corrected since it was recorded (or a profile saved before
    `setting_refusal` was checked). Such a requirement is not carried to a placement request
    (`constraints_of`): it would add the other sex's houses to where they may be placed, and
    narrow them to those (stop 42)."""
    profile = profile if profile is not None else profile_of(case)
    if profile is None or not profile.setting_required:
        return None
    return setting_refusal(profile.setting_required, case.person.sex, case.person.gender)


def setting_carried(case: Case, profile: SafetyProfile) -> bool:
    """Whether the profile's setting requirement is carried to placement requests: it has one,
    and the person's sex and gender allow it (`setting_ruled_out`)."""
    return (
        profile.setting_required != SettingRequired.NONE
        and setting_ruled_out(case, profile) is None
    )


def dependants_of(profile: SafetyProfile | None, today: date | None = None) -> list[dict]:
    """Each dependant as a page shows them: relationship, age now, sex, name if given."""
    if profile is None:
        return []
    today = today or timezone.localdate()
    return [
        {
            "id": d.pk,
            "relationship": d.get_relationship_display(),
            "age": d.age_on(today),
            "child": d.is_child_on(today),
            "sex": d.get_sex_display(),
            "name": d.name,
        }
        for d in profile.dependants.all()
    ]


def dependent_children_in_area(actor: Actor) -> list[Dependant]:
    """The dependent children of people referred in the safeguarding lead's areas, whatever
    the age of the person they came with: a child with a trafficked parent is known to the
    local authority (`profile__case` is selected, for the case reference and area). Empty for
    anyone who is not a safeguarding lead of an area. Their names are not shown in a list."""
    areas = safeguarding_lead_areas(actor)
    if not areas:
        return []
    today = timezone.localdate()
    dependants = (
        Dependant.objects.filter(profile__case__area__in=areas)
        .select_related("profile__case__person")
        .order_by("-added_at", "-pk")
    )
    return [d for d in dependants if d.is_child_on(today)]


def safety_export(case: Case) -> dict[str, Any] | None:
    """The case's safety profile and dependants in words, for the person's subject access
    export (`privacy.selectors`, which audits it); None without a profile."""
    profile = profile_of(case)
    if profile is None:
        return None
    return {
        "risk_level": profile.get_risk_level_display(),
        "risk_reasons": profile.risk_reasons,
        "who_exploited_them": profile.exploiters,
        "places_to_keep_away_from": list(profile.keep_away),
        "medical_needs": profile.medical_needs,
        "house_needed": profile.get_setting_required_display(),
        "dependants": [
            {
                "relationship": d.get_relationship_display(),
                "sex": d.get_sex_display(),
                "age_in_years": d.age_years,
                "estimated_date_of_birth": d.born_estimate.isoformat() if d.born_estimate else None,
                "name": d.name,
                "recorded_at": _moment(d.added_at),
            }
            for d in profile.dependants.all()
        ],
        "version": profile.version,
        "updated_at": _moment(profile.updated_at),
        # Every version a change replaced (ADR 0026), oldest first, in the same words.
        "earlier_versions": [_version_export(kept) for kept in profile.versions.all()],
    }


def _moment(value: datetime) -> str:
    """A moment where the person was (the service's time zone), as the rest of the export gives
    it (`privacy.selectors._moment`): the database's UTC dated a dependant recorded just after
    midnight in summer the day before. A version keeps its dependants' moments as the UTC text
    they were saved as."""
    return timezone.localtime(value).isoformat(timespec="seconds")


def _version_export(kept: SafetyProfileVersion) -> dict[str, Any]:
    values = kept.values
    return {
        "version": kept.version,
        "saved_at": _moment(kept.saved_at),
        "risk_level": RiskLevel(values.get("risk_level", RiskLevel.STANDARD)).label,
        "risk_reasons": values.get("risk_reasons", ""),
        "who_exploited_them": values.get("exploiters", ""),
        "places_to_keep_away_from": list(values.get("keep_away", [])),
        "medical_needs": values.get("medical_needs", ""),
        "house_needed": SettingRequired(values.get("setting_required", "")).label,
        "dependants": [
            {
                "relationship": Relationship(d["relationship"]).label,
                "sex": Sex(d["sex"]).label,
                "age_in_years": d["age_years"],
                "estimated_date_of_birth": d["born_estimate"],
                "name": d["name"],
                "recorded_at": _moment(datetime.fromisoformat(d["added_at"])),
            }
            for d in values.get("dependants", [])
        ],
    }
