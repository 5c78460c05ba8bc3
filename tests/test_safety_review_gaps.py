"""Gaps a review of safety found (ADR 0026, addendum of 2026-12-05, stop 35): an edit page
opened before the first profile overwrote it unseen; a stale save showed only the user's own
answers; every version of a profile was overwritten, unrecoverable. Synthetic people only."""

from __future__ import annotations

import re

from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.safety import services
from opennrm.safety.models import SafetyProfile, SafetyProfileVersion

from . import case_factories, factories


def _hidden_version(html: str) -> str:
    found = re.search(r'name="expected_version"[^>]*value="([^"]*)"', html) or re.search(
        r'value="([^"]*)"[^>]*name="expected_version"', html
    )
    return found.group(1) if found else ""


def test_a_first_profile_saved_meanwhile_is_not_overwritten_by_a_page_opened_before_it(
    alice: User, dmitri: User, case: Case
) -> None:
    """Alice opens "Risk and safety" for a case with no profile yet. Meanwhile the decision
    maker records the profile: the exploiter's description and the town to keep away from.
    Alice then saves her page (standard risk, only a medical need). What a user sees: "Safety
    profile saved", and the decision maker's exploiters and keep-away place are silently wiped
    (the page sent no version, and `safety_profile_save` treats a missing version as "no check").
    What should happen: Alice's save is refused as stale ("Someone else changed this safety
    profile...") with her answers kept, exactly as for any later version."""
    url = reverse("safety:edit", args=[case.reference])
    client = factories.signed_in_client(alice)
    page = client.get(url).content.decode()
    version = _hidden_version(page)

    services.safety_profile_save(
        by=dmitri,
        case=case,
        expected_version=None,
        risk_level="very_high",
        risk_reasons="The controller knows where she is staying",
        exploiters="A man called 'Uncle', grey van",
        keep_away=["Northmoor"],
        medical_needs="",
        setting_required="women_only",
    )

    response = client.post(
        url,
        {
            "risk_level": "standard",
            "risk_reasons": "",
            "setting_required": "none",
            "keep_away": "",
            "exploiters": "",
            "medical_needs": "Asthma inhaler",
            "expected_version": version,
        },
    )
    profile = SafetyProfile.objects.get(case=case)
    assert (profile.exploiters, profile.keep_away, profile.risk_level) == (
        "A man called 'Uncle', grey van",
        ["Northmoor"],
        "very_high",
    ), "the decision maker's profile was overwritten without warning"
    assert response.status_code == 200
    assert "Someone else changed this safety profile" in response.content.decode()


def test_a_stale_save_shows_what_the_other_person_recorded_so_it_can_be_checked(
    alice: User, dmitri: User, case: Case
) -> None:
    """Alice opens the profile (version 1, no exploiters described). The decision maker then
    adds the exploiter's description. Alice saves: refused as stale, "check the profile, then
    save again", her answers kept. But the page shows only her own answers in the form: what
    the decision maker wrote appears nowhere on it, so "check the profile" is impossible without
    leaving the page (losing what she typed), and pressing Save again (now accepted) silently
    wipes the exploiter's description. The refused page should show the profile as it now
    stands (at least the fields the other person changed) beside her answers."""
    services.safety_profile_save(
        by=alice,
        case=case,
        expected_version=None,
        risk_level="standard",
        risk_reasons="",
        exploiters="",
        keep_away=[],
        medical_needs="",
        setting_required="",
    )
    url = reverse("safety:edit", args=[case.reference])
    client = factories.signed_in_client(alice)
    version = _hidden_version(client.get(url).content.decode())
    assert version == "1"
    services.safety_profile_save(
        by=dmitri,
        case=case,
        expected_version=1,
        risk_level="standard",
        risk_reasons="",
        exploiters="A man called 'Uncle', grey van",
        keep_away=[],
        medical_needs="",
        setting_required="",
    )
    response = client.post(
        url,
        {
            "risk_level": "standard",
            "risk_reasons": "",
            "setting_required": "none",
            "keep_away": "",
            "exploiters": "",
            "medical_needs": "Asthma inhaler",
            "expected_version": version,
        },
    )
    page = response.content.decode()
    assert "Someone else changed this safety profile" in page
    assert "Asthma inhaler" in page  # her answers kept
    assert "Uncle" in page, "what the other person recorded is not shown to be checked"


BLANK = {
    "risk_level": "standard",
    "risk_reasons": "",
    "exploiters": "",
    "keep_away": [],
    "medical_needs": "",
    "setting_required": "",
}


def test_each_version_a_change_replaces_is_kept_with_who_saved_it(
    alice: User, dmitri: User, case: Case
) -> None:
    """A mistaken overwrite can be undone by hand: the version it replaced is kept, encrypted
    and bound to its row, with when and by whom it was saved, and its dependants then."""
    services.safety_profile_save(
        by=alice, case=case, expected_version=None, **BLANK | {"exploiters": "Uncle, grey van"}
    )
    services.dependant_add(
        by=alice,
        case=case,
        expected_version=1,
        relationship="child",
        sex="female",
        age_years=4,
        name="Ana",
    )
    child = SafetyProfile.objects.get(case=case).dependants.get()
    services.dependant_remove(by=dmitri, dependant=child, expected_version=2)
    services.safety_profile_save(by=dmitri, case=case, expected_version=3, **BLANK)

    kept = list(SafetyProfileVersion.objects.filter(profile__case=case))
    assert [v.version for v in kept] == [1, 2, 3]
    assert kept[0].saved_by == alice
    assert kept[2].saved_by == dmitri
    assert kept[0].values["exploiters"] == "Uncle, grey van"
    assert kept[0].values["dependants"] == []
    assert [d["name"] for d in kept[1].values["dependants"]] == ["Ana"]
    assert kept[2].values["exploiters"] == "Uncle, grey van"
    assert SafetyProfile.objects.get(case=case).exploiters == ""
    # Encrypted at rest: the database holds no plaintext.
    (stored,) = SafetyProfileVersion.objects.filter(pk=kept[0].pk).values_list("values", flat=True)[
        :1
    ]
    assert "Uncle" not in str(stored)


def test_earlier_versions_are_in_the_subject_access_export_and_erased_with_the_person(
    alice: User, dpo: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=CaseStatus.CLOSED,
        closed_at=timezone.now(),
    )
    services.safety_profile_save(
        by=alice, case=case, expected_version=None, **BLANK | {"exploiters": "Uncle, grey van"}
    )
    services.safety_profile_save(by=alice, case=case, expected_version=1, **BLANK)
    client = factories.signed_in_client(dpo)
    url = f"/privacy/people/{case.person_id}/export/"
    page = client.post(url, {"request_reference": "SAR-1", "format": "html"}).content.decode()
    assert "Earlier versions" in page
    assert "Uncle, grey van" in page
    data = client.post(url, {"request_reference": "SAR-1", "format": "json"}).json()
    (exported,) = data["cases"]
    (earlier,) = exported["safety"]["earlier_versions"]
    assert (earlier["version"], earlier["who_exploited_them"]) == (1, "Uncle, grey van")

    factories.person_erased(
        case.person,
        recorded_by=dpo,
        request_reference="SAR-9",
        request_received_on=timezone.localdate(),
    )
    assert not SafetyProfileVersion.objects.exists()
