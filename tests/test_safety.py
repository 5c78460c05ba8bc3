"""Risk and safety carried through (issue 12, items 2 and 3): the safety profile and its
dependants, recorded at referral or from the case; their one audit event each; the profile
prefilled into every placement request and applied by matching whatever the request says; the
safe house's manager seeing risk and needs with the offer; families placed together or not at
all; a dependent child made known to the local authority."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opennrm.accommodation import matching
from opennrm.accommodation import selectors as accommodation_selectors
from opennrm.accommodation import services as accommodation
from opennrm.accommodation.models import Placement, PlacementRequest
from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.notifications.models import Notification
from opennrm.safety import selectors, services
from opennrm.safety.models import Dependant, SafetyProfile

from . import api_helpers as a
from . import case_factories, factories
from . import referral_helpers as r
from . import support_factories as s

SAFE = {
    "risk_level": "high",
    "risk_reasons": "The controller is looking for her",
    "exploiters": "A man called 'Uncle', grey van",
    "keep_away": ["Northmoor"],
    "medical_needs": "Asthma inhaler",
    "setting_required": "women_only",
}


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


def _one_new_event(before: int) -> AuditEvent:
    assert AuditEvent.objects.count() == before + 1
    return AuditEvent.objects.order_by("-pk").first()  # type: ignore[return-value]


def _reads(user: User) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(actor=user, action="person.viewed"))


def _profile(by: User, case: Case, **values: Any) -> SafetyProfile:
    return services.safety_profile_save(by=by, case=case, expected_version=None, **(SAFE | values))


def _child(by: User, case: Case, age: int = 4, **values: Any) -> Dependant:
    return services.dependant_add(
        by=by,
        case=case,
        expected_version=None,
        relationship="child",
        sex="female",
        age_years=age,
        **values,
    )


# --- The services: one audit event each, versions, refusals ---------------------------------


def test_saving_a_profile_leaves_one_event_naming_fields_never_values(
    alice: User, case: Case
) -> None:
    before = AuditEvent.objects.count()
    profile = _profile(alice, case)
    event = _one_new_event(before)
    assert event.action == "safety_profile.created"
    assert "Uncle" not in str(event.detail)
    assert "Northmoor" not in str(event.detail)
    assert set(event.detail["fields"]) >= {"exploiters", "keep_away", "risk_level"}
    assert profile.version == 1

    before = AuditEvent.objects.count()
    changed = services.safety_profile_save(
        by=alice, case=case, expected_version=1, **(SAFE | {"medical_needs": "Inhaler, twice"})
    )
    event = _one_new_event(before)
    assert (event.action, event.detail["fields"]) == ("safety_profile.updated", ["medical_needs"])
    assert changed.version == 2
    assert case.events.filter(kind="safety.profile_changed").count() == 2


def test_a_profile_changed_since_the_page_was_opened_is_refused(alice: User, case: Case) -> None:
    """Other answers sent with an old version are refused as stale, even from the writer of
    the version in between (another tab): only the very same save sent again is taken as a
    repeat (`test_the_same_save_sent_twice_is_the_writers_own`)."""
    _profile(alice, case)
    services.safety_profile_save(by=alice, case=case, expected_version=1, **SAFE)
    with pytest.raises(ValidationError, match="Someone else changed"):
        services.safety_profile_save(
            by=alice, case=case, expected_version=1, **(SAFE | {"medical_needs": "None known"})
        )


def test_the_same_save_sent_twice_is_the_writers_own(alice: User, case: Case) -> None:
    """A second click sends the same answers with the version the page was opened at: it is
    the writer's own save, kept once (no second version, nobody told again), not refused as
    someone else's change."""
    _profile(alice, case)
    saved = services.safety_profile_save(
        by=alice, case=case, expected_version=1, **(SAFE | {"medical_needs": "Inhaler"})
    )
    before = AuditEvent.objects.count()
    again = services.safety_profile_save(
        by=alice, case=case, expected_version=1, **(SAFE | {"medical_needs": "Inhaler"})
    )
    assert (again.pk, again.version) == (saved.pk, 2)
    assert AuditEvent.objects.count() == before


def test_a_high_risk_needs_its_reasons(alice: User, case: Case) -> None:
    with pytest.raises(ValidationError) as refused:
        _profile(alice, case, risk_reasons=" ")
    assert "risk_reasons" in refused.value.message_dict
    assert not SafetyProfile.objects.exists()


def test_adding_and_removing_a_dependant_leave_one_event_each(alice: User, case: Case) -> None:
    before = AuditEvent.objects.count()
    child = _child(alice, case, name="Ana")
    event = _one_new_event(before)
    assert event.action == "safety.dependant_added"
    assert "Ana" not in str(event.detail)
    profile = SafetyProfile.objects.get(case=case)
    assert (profile.dependant_count, profile.version) == (1, 1)

    before = AuditEvent.objects.count()
    services.dependant_remove(by=alice, dependant=child, expected_version=1)
    assert _one_new_event(before).action == "safety.dependant_removed"
    profile.refresh_from_db()
    assert (profile.dependant_count, profile.version) == (0, 2)


def test_a_dependant_needs_an_age(alice: User, case: Case) -> None:
    with pytest.raises(ValidationError, match="age"):
        services.dependant_add(
            by=alice, case=case, expected_version=None, relationship="child", sex="male"
        )
    with pytest.raises(ValidationError, match="past"):
        _child(alice, case, age=None, born_estimate=date(2999, 1, 1))


def test_a_dependant_born_on_an_estimated_date_has_their_own_age(alice: User, case: Case) -> None:
    today = timezone.localdate()
    child = _child(alice, case, age=None, born_estimate=date(today.year - 7, 1, 1))
    assert child.age_on(date(today.year, 12, 31)) == 7
    assert child.is_child_on(today)


# --- A dependent child is known to the local authority ---------------------------------------


def test_a_dependent_child_tells_the_areas_safeguarding_leads_and_is_on_their_list(
    alice: User, case: Case, lena: User
) -> None:
    elsewhere = factories.organisation("Far Council", OrganisationKind.LOCAL_AUTHORITY, area="Far")
    far_lead = factories.user(
        "far@example.org", organisation=elsewhere, role=Role.SAFEGUARDING_LEAD
    )
    child = _child(alice, case)
    (told,) = Notification.objects.filter(kind="safety.dependent_child")
    assert told.recipient == lena
    assert case.reference in told.subject
    assert "Test Person" not in told.body
    event = AuditEvent.objects.get(action="safety.dependant_added")
    assert event.detail["safeguarding_leads_told"] == 1
    assert selectors.dependent_children_in_area(Actor.of_session(lena)) == [child]
    assert selectors.dependent_children_in_area(Actor.of_session(far_lead)) == []
    assert selectors.dependent_children_in_area(Actor.of_session(alice)) == []


def test_an_adult_partner_tells_nobody(alice: User, case: Case, lena: User) -> None:
    services.dependant_add(
        by=alice,
        case=case,
        expected_version=None,
        relationship="partner",
        sex="male",
        age_years=31,
    )
    assert not Notification.objects.filter(kind="safety.dependent_child").exists()
    assert selectors.dependent_children_in_area(Actor.of_session(lena)) == []


# --- Recorded at referral ----------------------------------------------------------------------


SAFETY_PAGE = {
    "risk_level": "very_high",
    "risk_reasons": "The controller lives in Northmoor",
    "setting_required": "women_only",
    "keep_away": "Northmoor\n northmoor \n",
    "exploiters": "",
    "medical_needs": "Asthma inhaler",
    "dependant_1_relationship": "child",
    "dependant_1_age": "6",
    "dependant_1_sex": "male",
    "dependant_1_name": "",
}


def test_the_referrals_safety_page_makes_the_profile_and_the_request_starts_from_it(
    alice: User, northmoor_police: Organisation, routing: Organisation, lena: User
) -> None:
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.complete(client, draft, {**r.ADULT_REFERRAL, "safety": SAFETY_PAGE})
    assert r.submit(client, draft).status_code == 302
    case = Case.objects.get(draft__pk=draft.pk)
    profile = case.safety_profile
    assert (profile.risk_level, profile.keep_away, profile.medical_needs) == (
        "very_high",
        ["Northmoor"],
        "Asthma inhaler",
    )
    (child,) = profile.dependants.all()
    assert (child.relationship, child.age_years, child.sex) == ("child", 6, "male")
    request = PlacementRequest.objects.get(case=case)
    assert request.accepted_settings == ["women_only"]
    assert request.excluded_areas == ["Northmoor"]
    assert request.dependants == 1
    # One event for the whole submission, which names who was told of the child.
    (submitted,) = _events("referral.submitted")
    assert submitted.detail["notified"]["dependent_child_leads"] == 1
    assert not _events("safety_profile.created")
    assert Notification.objects.filter(recipient=lena, kind="safety.dependent_child").exists()


def test_the_api_takes_the_safety_page_with_its_dependants(
    alice: User, northmoor_police: Organisation, routing: Organisation
) -> None:
    _, secret = a.token(alice, northmoor_police)
    answers = {**r.ADULT_REFERRAL, "safety": {**SAFETY_PAGE, "dependant_1_age": 6}}
    response = a.post_referral(a.client_with(secret), answers)
    assert response.status_code == 201, response.content
    (profile,) = SafetyProfile.objects.all()
    assert profile.dependant_count == 1
    assert profile.setting_required == "women_only"
    wrong = {**r.ADULT_REFERRAL, "safety": {**SAFETY_PAGE, "risk_reasons": ""}}
    refused = a.post_referral(a.client_with(secret), wrong)
    assert refused.status_code == 422
    assert "Say why the risk is high" in refused.content.decode()


def test_a_referral_can_be_submitted_without_the_safety_page(
    alice: User, northmoor_police: Organisation, routing: Organisation
) -> None:
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.complete(client, draft, r.ADULT_REFERRAL)
    task_list = client.get(reverse("referrals:task_list", args=[draft.public_id])).content
    assert b"Risk and safety" in task_list
    assert b"Check answers and submit" in task_list
    assert r.submit(client, draft).status_code == 302
    assert not SafetyProfile.objects.exists()


def test_a_safety_page_half_filled_says_what_is_missing_and_keeps_it(
    alice: User, northmoor_police: Organisation, routing: Organisation
) -> None:
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.complete(client, draft, r.ADULT_REFERRAL)
    response = r.answer(
        client, draft, "safety", {**SAFETY_PAGE, "risk_reasons": "", "dependant_1_sex": ""}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Say why the risk is high" in page
    assert "Select dependant 1&#39;s sex" in page or "Select dependant 1&#x27;s sex" in page, [
        line for line in page.splitlines() if "dependant 1" in line.lower()
    ][:6]
    assert "Asthma inhaler" in page


# --- Carried through to the request and matching -------------------------------------------


@pytest.fixture
def tempting(maya: User, provider: Organisation) -> dict[str, Any]:
    """A women-only bed in Northmoor, a mixed bed elsewhere, and a women-only bed elsewhere."""
    return {
        "northmoor": s.beds(maya, s.site(maya, provider, name="Moor House", area="Northmoor"))[0],
        "mixed": s.beds(maya, s.site(maya, provider, name="Dale Flats", setting="mixed"))[0],
        "safe": s.beds(maya, s.site(maya, provider, name="Harbour View"))[0],
    }


def test_matching_never_breaks_the_profile_even_when_the_request_forgot_it(
    alice: User, cora: User, case: Case, tempting: dict[str, Any]
) -> None:
    request = s.request(case, accepted_settings=["women_only", "mixed"], excluded_areas=[])
    _profile(alice, case)  # recorded after the request was made
    bed_ids = {b.pk: name for name, b in tempting.items()}
    allowed = {
        bed_ids[bed.pk]
        for bed, reasons in accommodation_selectors.free_beds_for(request, timezone.localdate())
        if not reasons
    }
    assert allowed == {"safe"}
    accommodation.matching_run(by=cora)
    (proposal,) = Placement.objects.filter(request=request)
    assert proposal.bed == tempting["safe"]


def test_placing_by_hand_in_a_place_to_keep_away_from_is_refused(
    alice: User, cora: User, case: Case, tempting: dict[str, Any]
) -> None:
    _profile(alice, case)
    request = s.request(case)
    assert request.excluded_areas == ["Northmoor"]
    assert request.accepted_settings == ["women_only"]
    for name in ("northmoor", "mixed"):
        with pytest.raises(ValidationError):
            accommodation.placement_make(by=cora, request=request, bed=tempting[name])
    assert not Placement.objects.exists()


# --- Families: together or not at all -------------------------------------------------------


def test_a_family_is_never_placed_without_room_for_every_dependant(
    alice: User, cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    _child(alice, case, age=3)
    _child(alice, case, age=9)
    request = s.request(case, dependants=0)  # a coordinator's stale count
    (small,) = s.beds(maya, s.site(maya, provider, name="Small"), takes_dependants=1)
    with pytest.raises(ValidationError):
        accommodation.placement_make(by=cora, request=request, bed=small)
    accommodation.matching_run(by=cora)
    assert not Placement.objects.filter(request=request).exists()
    (family,) = s.beds(maya, s.site(maya, provider, name="Family"), takes_dependants=2)
    accommodation.matching_run(by=cora)
    assert Placement.objects.get(request=request).bed == family


@st.composite
def families_and_beds(draw: st.DrawFn) -> tuple[list[matching.Request], list[matching.Bed]]:
    today = date(2026, 3, 2)
    requests = [
        matching.Request(
            id=i,
            accepted_settings=frozenset({"women_only", "mixed"}),
            needed_from=today,
            waiting_since=today,
            dependants=draw(st.integers(0, 4)),
        )
        for i in range(draw(st.integers(1, 8)))
    ]
    beds = [
        matching.Bed(
            id=i,
            site_id=i % 3,
            provider_id=1,
            region="north_west",
            setting=draw(st.sampled_from(["women_only", "mixed"])),
            takes_dependants=draw(st.integers(0, 4)),
        )
        for i in range(draw(st.integers(0, 10)))
    ]
    return requests, beds


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(families_and_beds())
def test_matching_places_every_family_together_or_not_at_all(
    problem: tuple[list[matching.Request], list[matching.Bed]],
) -> None:
    requests, beds = problem
    result = matching.match(requests, beds, date(2026, 3, 2))
    by_id = {b.id: b for b in beds}
    wanted = {r.id: r for r in requests}
    for proposal in result.proposals:
        assert by_id[proposal.bed_id].takes_dependants >= wanted[proposal.request_id].dependants
    # And no family is left out while a bed with room for all of them stayed free.
    used = {p.bed_id for p in result.proposals}
    placed = {p.request_id for p in result.proposals}
    for r_ in requests:
        if r_.id not in placed:
            assert not any(b.takes_dependants >= r_.dependants and b.id not in used for b in beds)


# --- The safe house's manager sees what they need to answer -----------------------------------


def test_the_manager_sees_risk_needs_and_dependants_with_the_offer_not_the_exploiters(
    alice: User, cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    _profile(alice, case)
    _child(alice, case, age=5, name="Ana")
    (bed,) = s.beds(maya, s.site(maya, provider, name="Harbour View"), takes_dependants=1)
    placement = accommodation.placement_make(by=cora, request=s.request(case), bed=bed)
    page = (
        factories.signed_in_client(maya)
        .get(reverse("support:placement", args=[placement.pk]))
        .content.decode()
    )
    for shown in ("High: The controller is looking for her", "Asthma inhaler", "Their child, 5"):
        assert shown in page
    assert "Labour" in page  # the exploitation type
    for hidden in ("Uncle", "Northmoor", "Ana", "They took my passport"):
        assert hidden not in page
    (read,) = _reads(maya)
    assert {"safety_risk_reasons", "safety_medical_needs", "safety_dependants"} <= set(
        read.detail["fields"]
    )
    assert "safety_exploiters" not in read.detail["fields"]


def test_the_coordinator_sees_the_profile_beside_the_request(
    alice: User, cora: User, case: Case
) -> None:
    _profile(alice, case)
    request = s.request(case)
    for route in ("support:request", "support:request_edit"):
        page = factories.signed_in_client(cora).get(reverse(route, args=[request.pk]))
        assert "Uncle" in page.content.decode()
        assert "Asthma inhaler" in page.content.decode()
    fields = {f for read in _reads(cora) for f in read.detail["fields"]}
    assert {"safety_exploiters", "safety_keep_away", "safety_risk_reasons"} <= fields


# --- The case page and erasure -------------------------------------------------------------


def test_the_case_page_shows_the_profile_with_the_read_audited(alice: User, case: Case) -> None:
    _profile(alice, case)
    page = factories.signed_in_client(alice).get(reverse("cases:detail", args=[case.reference]))
    assert "Uncle" in page.content.decode()
    assert reverse("safety:edit", args=[case.reference]) in page.content.decode()
    (read,) = _reads(alice)
    assert "safety_exploiters" in read.detail["fields"]


def test_erasure_empties_the_profile_and_deletes_dependants(
    alice: User, dpo: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=CaseStatus.CLOSED,
        closed_at=timezone.now(),
    )
    _profile(alice, case)
    _child(alice, case, name="Ana")
    factories.person_erased(
        case.person,
        recorded_by=dpo,
        request_reference="SAR-9",
        request_received_on=timezone.localdate(),
    )
    profile = SafetyProfile.objects.get(case=case)
    assert (profile.exploiters, profile.keep_away, profile.risk_reasons) == ("", [], "")
    assert not Dependant.objects.exists()


def test_the_subject_access_export_holds_the_profile_and_dependants(
    alice: User, dpo: User, case: Case
) -> None:
    _profile(alice, case)
    _child(alice, case, name="Ana")
    client = factories.signed_in_client(dpo)
    url = f"/privacy/people/{case.person_id}/export/"
    page = client.post(url, {"request_reference": "SAR-1", "format": "html"}).content.decode()
    for shown in ("The controller is looking for her", "Uncle", "Northmoor", "Asthma", "Ana"):
        assert shown in page, shown
    data = client.post(url, {"request_reference": "SAR-1", "format": "json"}).json()
    (exported,) = data["cases"]
    assert exported["safety"]["places_to_keep_away_from"] == ["Northmoor"]
    assert exported["safety"]["dependants"][0]["age_in_years"] == 4
    (event,) = AuditEvent.objects.filter(action="person.exported")[:1]
    assert "safety_exploiters" in event.detail["fields"]


# --- Pages -----------------------------------------------------------------------------------


@pytest.mark.page("safety:edit")
def test_the_profile_page_saves_a_new_version(alice: User, charlie: User, case: Case) -> None:
    url = reverse("safety:edit", args=[case.reference])
    client = factories.signed_in_client(alice)
    assert client.put(url).status_code == 405
    assert factories.signed_in_client(charlie).get(url).status_code == 404
    assert client.get(url).status_code == 200
    assert _reads(alice) == []  # nothing recorded yet, nothing read
    data = {**SAFE, "keep_away": "Northmoor", "expected_version": ""}
    response = client.post(url, data)
    assert response.status_code == 302
    assert SafetyProfile.objects.get(case=case).exploiters == SAFE["exploiters"]
    page = client.get(url).content.decode()
    assert "Uncle" in page
    (read,) = _reads(alice)
    assert "exploiters" in read.detail["fields"]
    # Sent wrong: a specific message, and what was typed kept.
    response = client.post(url, {**data, "risk_reasons": "", "expected_version": "1"})
    assert "Say why the risk is high" in response.content.decode()
    assert "Asthma inhaler" in response.content.decode()


@pytest.mark.page("safety:dependant_add")
def test_adding_a_dependant_from_the_case(
    alice: User, charlie: User, case: Case, lena: User
) -> None:
    url = reverse("safety:dependant_add", args=[case.reference])
    client = factories.signed_in_client(alice)
    assert client.put(url).status_code == 405
    assert factories.signed_in_client(charlie).get(url).status_code == 404
    response = client.post(url, {"relationship": "child", "sex": "female", "name": "Ana"})
    assert "Enter their age in years, or their date of birth" in response.content.decode()
    assert 'value="Ana"' in response.content.decode()
    response = client.post(
        url,
        {
            "relationship": "child",
            "sex": "female",
            "born_estimate_day": "1",
            "born_estimate_month": "6",
            "born_estimate_year": str(timezone.localdate().year - 4),
        },
    )
    assert response.status_code == 302
    assert Dependant.objects.get().born_estimate is not None
    assert Notification.objects.filter(recipient=lena).exists()


@pytest.mark.page("safety:dependant_remove")
def test_removing_a_dependant(alice: User, charlie: User, case: Case) -> None:
    child = _child(alice, case)
    url = reverse("safety:dependant_remove", args=[case.reference, child.pk])
    assert factories.signed_in_client(alice).get(url).status_code == 405
    assert factories.signed_in_client(charlie).post(url).status_code == 404
    response = factories.signed_in_client(alice).post(url, {"expected_version": "1"})
    assert response.status_code == 302
    assert not Dependant.objects.exists()


@pytest.mark.page("safety:children_in_area")
def test_the_safeguarding_leads_list_of_dependent_children(
    alice: User, case: Case, lena: User
) -> None:
    _child(alice, case, name="Ana")
    url = reverse("safety:children_in_area")
    client = factories.signed_in_client(lena)
    assert client.post(url).status_code == 405
    page = client.get(url).content.decode()
    assert case.reference in page
    assert "Their child, 4" in page
    assert "Ana" not in page  # never a name in a list
    (read,) = _reads(lena)
    assert read.detail["fields"] == ["dependant_age", "dependant_sex"]
    assert factories.signed_in_client(alice).get(url).status_code == 404
    elsewhere = factories.organisation("Far Council", OrganisationKind.LOCAL_AUTHORITY, area="Far")
    far = factories.user("far@example.org", organisation=elsewhere, role=Role.SAFEGUARDING_LEAD)
    assert case.reference not in factories.signed_in_client(far).get(url).content.decode()


@override_settings(DEMO=True)
def test_the_demo_has_a_profile_with_risk_a_place_to_keep_away_from_and_a_child(db: None) -> None:
    call_command("demo_data")
    call_command("demo_data")
    (profile,) = SafetyProfile.objects.all()
    assert profile.risk_level == "high"
    assert profile.keep_away == ["Northmoor"]
    (child,) = profile.dependants.all()
    assert child.is_child_on(timezone.localdate())
    request = PlacementRequest.objects.filter(case=profile.case, status="open").get()
    wanted = accommodation_selectors.matching_request(request, timezone.localdate())
    assert wanted.accepted_settings == {"women_only"}
    assert "northmoor" in wanted.excluded_areas
    assert wanted.dependants == 1


def test_a_profile_change_a_place_already_offered_would_break_is_refused(
    alice: User, cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    (bed,) = s.beds(maya, s.site(maya, provider, name="Moor House", area="Northmoor"))
    accommodation.placement_make(by=cora, request=s.request(case), bed=bed)
    with pytest.raises(ValidationError, match="cancel the offer first"):
        _profile(alice, case)
    assert not SafetyProfile.objects.exists()
    with pytest.raises(ValidationError, match="cancel the offer first"):
        _child(alice, case)
    assert not Dependant.objects.exists()
    # A change the place still meets is saved.
    _profile(alice, case, keep_away=["Southvale"])
    assert SafetyProfile.objects.get(case=case).keep_away == ["Southvale"]


def _last_notification() -> int:
    """The newest notification's id (ids, not a count: PostgreSQL's sequence skips numbers)."""
    return Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_a_profile_change_the_place_lived_in_breaks_is_kept_and_its_house_told(
    alice: User, cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    (bed,) = s.beds(maya, s.site(maya, provider, name="Moor House", area="Hollowmere"))
    placement = accommodation.placement_make(by=cora, request=s.request(case), bed=bed)
    accommodation.placement_respond(by=maya, placement=placement, accept=True)
    accommodation.placement_arrive(by=maya, placement=placement, on=timezone.localdate())
    before = _last_notification()
    # The first responder learns the controller lives in Hollowmere, where she now lives.
    _profile(alice, case, keep_away=["Hollowmere"])
    assert SafetyProfile.objects.get(case=case).keep_away == ["Hollowmere"]
    told = Notification.objects.filter(pk__gt=before, kind="placement.safety_broken")
    assert {n.recipient for n in told} == {maya, cora}
    assert all("Hollowmere" not in n.subject + n.body for n in told)
    assert case.events.filter(kind="support.place_breaks_safety").count() == 1
    # Each change the place still breaks is told again; one it meets tells nobody.
    _profile(alice, case, keep_away=["Hollowmere", "Southvale"], risk_reasons="Also Southvale")
    assert case.events.filter(kind="support.place_breaks_safety").count() == 2
    before = _last_notification()
    _profile(alice, case, keep_away=["Southvale"])
    assert case.events.filter(kind="support.place_breaks_safety").count() == 2
    assert not Notification.objects.filter(pk__gt=before, kind="placement.safety_broken").exists()
