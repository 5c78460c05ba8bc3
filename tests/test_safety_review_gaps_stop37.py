"""Review gaps of safety found while fixing other defects (stop 37): a safety profile that
requires a house the person's own sex or gender rules out."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import Gender, Sex
from opennrm.cases.models import Case
from opennrm.referrals.models import ReferralDraft
from opennrm.safety import services
from opennrm.safety.models import SafetyProfile, SettingRequired

from . import factories
from . import referral_helpers as r

PROFILE = {
    "risk_level": "high",
    "risk_reasons": "The controller is looking for her",
    "exploiters": "",
    "keep_away": [],
    "medical_needs": "",
}
PAGE = {
    "risk_level": "high",
    "risk_reasons": "The controller is looking for her",
    "keep_away": "",
    "exploiters": "",
    "medical_needs": "",
    "expected_version": "",
}
REFUSED = "A men-only house is not for someone recorded as a woman or girl"


def test_a_womans_safety_profile_cannot_require_a_men_only_house(case: Case, alice: User) -> None:
    """Zorica is recorded as a woman. Her referrer's slip on the safety page, "A men-only
    house", was saved, and accommodation takes a profile's requirement as a setting she may be
    placed in (`settings_allowed` adds it to those of her sex and gender, ADR 0026): matching
    could then offer a woman at high risk a bed in a men-only house, the very danger the
    requirement is there to prevent. Cause: safety.services checked only that the value is one
    of the list, never against the person's sex and gender (accommodation's `settings_for`).
    It should refuse with a field error saying why."""
    with pytest.raises(ValidationError) as refused:
        services.safety_profile_save(
            by=alice,
            case=case,
            expected_version=0,
            **PROFILE,
            setting_required=SettingRequired.MEN_ONLY,
        )
    assert REFUSED in " ".join(refused.value.message_dict["setting_required"])
    assert not SafetyProfile.objects.filter(case=case).exists()
    # Her own kind of house, or none, is recorded.
    saved = services.safety_profile_save(
        by=alice, case=case, expected_version=0, **PROFILE, setting_required="women_only"
    )
    assert saved.setting_required == SettingRequired.WOMEN_ONLY


def test_a_man_recorded_by_gender_cannot_require_a_women_only_house(
    case: Case, alice: User
) -> None:
    """Gender decides before sex, as accommodation's `settings_for` reads them: a transgender
    man is placed as a man, so his profile cannot require a women-only house, and a
    transgender woman's may."""
    case.person.gender = Gender.TRANSGENDER_MASCULINE
    case.person.save(update_fields=["gender"])
    with pytest.raises(ValidationError) as refused:
        services.safety_profile_save(
            by=alice, case=case, expected_version=0, **PROFILE, setting_required="women_only"
        )
    assert "A women-only house is not for someone recorded as a man or boy" in " ".join(
        refused.value.message_dict["setting_required"]
    )
    case.person.sex, case.person.gender = Sex.MALE, Gender.TRANSGENDER_FEMININE
    case.person.save(update_fields=["sex", "gender"])
    saved = services.safety_profile_save(
        by=alice, case=case, expected_version=0, **PROFILE, setting_required="women_only"
    )
    assert saved.setting_required == SettingRequired.WOMEN_ONLY


def test_someone_placed_in_mixed_houses_may_need_either(case: Case, alice: User) -> None:
    """A non-binary person, or one whose sex is not known, is placed only in mixed houses by
    their sex and gender; the safety profile is where the need for a single-sex house is
    recorded for them (accommodation adds it, ADR 0026), so neither is refused."""
    case.person.gender = Gender.NON_CONFORMING
    case.person.save(update_fields=["gender"])
    saved = services.safety_profile_save(
        by=alice, case=case, expected_version=0, **PROFILE, setting_required="men_only"
    )
    assert saved.setting_required == SettingRequired.MEN_ONLY


@pytest.mark.page("safety:edit")
def test_the_profile_page_says_why_a_men_only_house_is_refused_for_a_woman(
    case: Case, alice: User
) -> None:
    """On the page: the error on the question, what was typed kept, nothing saved."""
    url = reverse("safety:edit", args=[case.reference])
    response = factories.signed_in_client(alice).post(url, {**PAGE, "setting_required": "men_only"})
    assert response.status_code == 200
    html = response.content.decode()
    assert REFUSED in html
    assert 'href="#setting_required' in html or "id_setting_required" in html
    assert "The controller is looking for her" in html
    assert not SafetyProfile.objects.filter(case=case).exists()


def test_a_referral_asking_a_men_only_house_for_a_woman_is_refused_with_the_reason(
    alice: User, northmoor_police: Organisation, routing: Organisation
) -> None:
    """The referral's "Risk and safety" page is answered before or after "About the person";
    submitting the two together is refused, with the reason, and no case is made."""
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    safety_page = {k: v for k, v in PAGE.items() if k != "expected_version"}
    r.complete(
        client,
        draft,
        {**r.ADULT_REFERRAL, "safety": {**safety_page, "setting_required": "men_only"}},
    )
    response = r.submit(client, draft)
    assert response.status_code == 200
    assert REFUSED in response.content.decode()
    assert not Case.objects.exists()
    assert ReferralDraft.objects.get(pk=draft.pk).case is None
