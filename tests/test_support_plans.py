"""Support plans (issue 6, item 8): the Convention's Art. 12(1) measures for each person, with a
status, dates and who provides each; a services delivered log; an adult's consent to support
respected (no plan without it); notes and what was delivered encrypted and shown only after a
read is recorded; coordinators and the placing provider's managers only, everyone else 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from opennrm.accommodation import services
from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.care import selectors
from opennrm.care import services as care_services
from opennrm.care.models import Measure, MeasureStatus, ServiceDelivery, SupportMeasure, SupportPlan
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case, CaseEvent

from . import case_factories, factories
from . import support_factories as s
from . import support_plan_helpers as h

NOTE = "Prefers appointments after the school run at Brackenfold"
DELIVERED = "Two hours of counselling with Ms Quillfeather"
OUTSIDE = "Brackenfold Law Centre"
ADULT_MEASURES = [
    "Appropriate and secure accommodation",
    "Psychological and material assistance",
    "Emergency medical treatment",
    "Translation and interpretation",
    "Counselling and information on legal rights and services, in a language they understand",
    "Assistance in criminal proceedings",
]


def make_case(alice: User, northmoor_police: Organisation, authority: Organisation, **fields):
    values = {"consent_to_support": True} | fields
    return case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority, **values
    )


@pytest.fixture
def consenting_case(alice: User, northmoor_police: Organisation, authority: Organisation) -> Case:
    return make_case(alice, northmoor_police, authority)


def plan_url(consenting_case: Case) -> str:
    return f"/support/people/{consenting_case.reference}/plan/"


def measure_url(consenting_case: Case, measure: str) -> str:
    return f"{plan_url(consenting_case)}measures/{measure}/"


def measure_form(**changes: str) -> dict[str, str]:
    return {
        "status": "arranged",
        "starts_on_day": "",
        "starts_on_month": "",
        "starts_on_year": "",
        "ends_on_day": "",
        "ends_on_month": "",
        "ends_on_year": "",
        "provider": "",
        "outside_provider": OUTSIDE,
        "notes": NOTE,
        "expected_version": "1",
    } | changes


def reads(user: User) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="person.viewed", actor=user).order_by("id"))


class TestThePlan:
    @pytest.mark.page("support:plan")
    def test_the_conventions_measures_each_with_a_status(
        self, cora: User, consenting_case: Case
    ) -> None:
        s.request(consenting_case)
        page = factories.signed_in_client(cora).get(plan_url(consenting_case)).content.decode()
        for label in ADULT_MEASURES:
            assert label in page
        assert "Access to education" not in page, "education is for children only"
        assert page.count("Not assessed yet") == len(ADULT_MEASURES)
        # Art. 12(6): said on the page.
        assert "never a condition of support" in page
        assert "Article 12(6)" in page
        assert not SupportPlan.objects.exists(), "looking at a plan starts nothing"

    def test_a_childs_plan_has_education_and_needs_no_consent(
        self, cora: User, alice: User, northmoor_police: Organisation, authority: Organisation
    ) -> None:
        child = make_case(
            alice,
            northmoor_police,
            authority,
            age_group=AgeGroup.CHILD,
            consent_to_support=None,
        )
        s.request(child)
        page = factories.signed_in_client(cora).get(plan_url(child)).content.decode()
        assert "Access to education" in page
        assert "No support plan" not in page
        care_services.support_measure_update(
            by=cora,
            case=child,
            measure=Measure.EDUCATION,
            expected_version=1,
            status=MeasureStatus.NEEDED,
        )
        assert SupportMeasure.objects.get().status == MeasureStatus.NEEDED

    def test_education_is_refused_for_an_adult(self, cora: User, consenting_case: Case) -> None:
        s.request(consenting_case)
        with pytest.raises(ValidationError, match="child's support plan only"):
            care_services.support_measure_update(
                by=cora,
                case=consenting_case,
                measure="education",
                expected_version=1,
                status="needed",
            )
        assert (
            factories.signed_in_client(cora)
            .get(measure_url(consenting_case, "education"))
            .status_code
            == 404
        )

    @pytest.mark.parametrize("consent", [False, None])
    def test_no_plan_for_an_adult_without_consent(
        self,
        cora: User,
        alice: User,
        northmoor_police: Organisation,
        authority: Organisation,
        consent: bool | None,
    ) -> None:
        adult = make_case(alice, northmoor_police, authority, consent_to_support=consent)
        s.request(adult)
        client = factories.signed_in_client(cora)
        page = client.get(plan_url(adult)).content.decode()
        assert "No support plan without consent" in page
        assert "informed consent" in page
        assert "Article 12(7)" in page
        assert "Not assessed yet" not in page
        with pytest.raises(ValidationError, match="No support plan can be kept"):
            care_services.support_measure_update(
                by=cora, case=adult, measure="translation", expected_version=1, status="needed"
            )
        with pytest.raises(ValidationError, match="No support plan can be kept"):
            care_services.service_delivery_record(
                by=cora,
                case=adult,
                measure="translation",
                delivered_on=timezone.localdate(),
                description="Interpreter",
                outside_provider=OUTSIDE,
            )
        # Through the pages too: nothing is saved, the plan page explains.
        response = client.post(measure_url(adult, "translation"), measure_form())
        assert response.status_code == 302
        assert response["Location"] == plan_url(adult)
        assert not SupportPlan.objects.exists()
        assert not SupportMeasure.objects.exists()
        assert not ServiceDelivery.objects.exists()


class TestAMeasure:
    @pytest.mark.page("support:plan_measure")
    def test_the_manager_sets_a_measure_and_its_notes_are_encrypted(
        self, cora: User, maya: User, provider: Organisation, consenting_case: Case
    ) -> None:
        h.living(cora, maya, provider, consenting_case)
        client = factories.signed_in_client(maya)
        today = timezone.localdate()
        response = client.post(
            measure_url(consenting_case, "counselling"),
            measure_form(
                status="being_provided",
                starts_on_day=str(today.day),
                starts_on_month=str(today.month),
                starts_on_year=str(today.year),
            ),
        )
        assert response.status_code == 302
        row = SupportMeasure.objects.get(measure="counselling")
        assert (row.status, row.starts_on, row.outside_provider, row.notes) == (
            "being_provided",
            today,
            OUTSIDE,
            NOTE,
        )
        assert row.version == 2
        # At rest, the notes and the outside service are ciphertext.
        with connection.cursor() as cursor:
            cursor.execute("SELECT notes, outside_provider FROM support_supportmeasure")
            stored = cursor.fetchone()
        assert all(value.startswith("enc2$") for value in stored)
        # One event for the write, naming the fields changed, never their values.
        [event] = AuditEvent.objects.filter(action="support_measure.updated")
        assert event.actor == maya
        assert event.detail["measure"] == "counselling"
        assert {"notes", "outside_provider", "status", "starts_on"} <= set(event.detail["fields"])
        assert NOTE not in str(event.detail)
        assert OUTSIDE not in str(event.detail)
        # The plan started, on the case's timeline.
        assert (
            CaseEvent.objects.filter(case=consenting_case, kind="support.plan_started").count() == 1
        )
        page = client.get(plan_url(consenting_case)).content.decode()
        assert "Being provided" in page
        assert f"By {OUTSIDE}" in page
        assert NOTE not in page, "the plan page shows that notes are kept, not the notes"
        [read] = reads(maya)
        assert read.detail["fields"] == ["support_outside_providers"]

    def test_notes_are_shown_only_after_the_read_is_recorded(
        self, cora: User, consenting_case: Case
    ) -> None:
        s.request(consenting_case)
        care_services.support_measure_update(
            by=cora,
            case=consenting_case,
            measure="psychological_material",
            expected_version=1,
            status="needed",
            notes=NOTE,
        )
        client = factories.signed_in_client(cora)
        assert reads(cora) == []
        page = client.get(measure_url(consenting_case, "psychological_material")).content.decode()
        assert NOTE in page
        [read] = reads(cora)
        assert read.detail["fields"] == ["support_notes"]
        assert read.person_id == consenting_case.person_id
        # A measure without notes shows nothing of the person, and records nothing.
        client.get(measure_url(consenting_case, "translation"))
        assert len(reads(cora)) == 1

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"status": ""}, "Select the status of this measure"),
            ({"outside_provider": ""}, "Say who provides it: choose an organisation"),
            (
                {"provider": "PROVIDER"},
                "Choose an organisation or name an outside service, not both",
            ),
            ({"status": "being_provided"}, "Enter the date it started"),
            (
                {
                    "status": "provided",
                    "starts_on_day": "1",
                    "starts_on_month": "2",
                    "starts_on_year": "2026",
                },
                "Enter the date it ended",
            ),
            (
                {
                    "starts_on_day": "10",
                    "starts_on_month": "3",
                    "starts_on_year": "2030",
                    "ends_on_day": "9",
                    "ends_on_month": "3",
                    "ends_on_year": "2030",
                },
                "The end date must be the same as or after the start date",
            ),
            ({"starts_on_day": "1", "starts_on_month": "2", "starts_on_year": "26"}, "4 digits"),
            ({"ends_on_day": "31", "ends_on_month": "2", "ends_on_year": "2030"}, "real date"),
            ({"expected_version": "0"}, "Someone else changed this measure"),
        ],
    )
    def test_a_problem_is_named_and_nothing_typed_is_lost(
        self,
        cora: User,
        provider: Organisation,
        consenting_case: Case,
        changes: dict[str, str],
        message: str,
    ) -> None:
        s.request(consenting_case)
        if changes.get("provider") == "PROVIDER":
            changes = changes | {"provider": str(provider.pk)}
        response = factories.signed_in_client(cora).post(
            measure_url(consenting_case, "translation"), measure_form(**changes)
        )
        page = response.content.decode()
        assert response.status_code == 200
        assert message in page
        assert "There is a problem" in page
        assert NOTE in page, "the notes typed are still there"
        if changes.get("outside_provider", OUTSIDE):
            assert OUTSIDE in page
        assert not SupportMeasure.objects.exclude(version=1).exists()
        assert not AuditEvent.objects.filter(action="support_measure.updated").exists()

    def test_a_measure_provided_cannot_end_in_the_future(
        self, cora: User, consenting_case: Case
    ) -> None:
        s.request(consenting_case)
        today = timezone.localdate()
        with pytest.raises(ValidationError) as refused:
            care_services.support_measure_update(
                by=cora,
                case=consenting_case,
                measure="emergency_medical",
                expected_version=1,
                status="provided",
                starts_on=today,
                ends_on=today + timedelta(days=1),
                outside_provider="Walk-in centre",
            )
        assert refused.value.message_dict == {
            "ends_on": ["A measure marked provided must have ended today or earlier"]
        }

    def test_accommodation_follows_the_placement(
        self, cora: User, maya: User, provider: Organisation, consenting_case: Case
    ) -> None:
        placement = h.offered(cora, maya, provider, consenting_case)
        client = factories.signed_in_client(maya)
        [row] = [
            r for r in selectors.plan_rows(consenting_case) if r.measure == Measure.ACCOMMODATION
        ]
        assert (row.status, row.provider, row.from_placement) == (
            MeasureStatus.ARRANGED,
            "Test Refuge",
            True,
        )
        services.placement_respond(by=maya, placement=placement, accept=True)
        services.placement_arrive(by=maya, placement=placement, on=timezone.localdate())
        page = client.get(plan_url(consenting_case)).content.decode()
        assert "From the placement with Test Refuge" in page
        assert "Being provided" in page
        # While the placement holds the bed, only notes can be kept for it.
        form_page = client.get(measure_url(consenting_case, "accommodation")).content.decode()
        assert "this measure follows the placement: being provided" in form_page
        assert 'name="status"' not in form_page
        response = client.post(
            measure_url(consenting_case, "accommodation"),
            {"notes": NOTE, "status": "declined", "expected_version": "1"},
        )
        assert response.status_code == 302
        stored = SupportMeasure.objects.get(measure="accommodation")
        assert (stored.notes, stored.status) == (NOTE, MeasureStatus.NOT_ASSESSED)
        services.placement_end(
            by=maya, placement=placement, on=timezone.localdate(), reason="moved_on"
        )
        [row] = [
            r for r in selectors.plan_rows(consenting_case) if r.measure == Measure.ACCOMMODATION
        ]
        assert (row.status, row.ends_on) == (MeasureStatus.PROVIDED, timezone.localdate())
        # After the stay, a hand entry wins (the coordinator: the provider's staff no longer
        # see the plan).
        care_services.support_measure_update(
            by=cora,
            case=consenting_case,
            measure="accommodation",
            expected_version=2,
            status="arranged",
            outside_provider="Council housing",
        )
        [row] = [
            r for r in selectors.plan_rows(consenting_case) if r.measure == Measure.ACCOMMODATION
        ]
        assert (row.status, row.outside_provider, row.from_placement) == (
            MeasureStatus.ARRANGED,
            "Council housing",
            False,
        )


class TestServicesDelivered:
    @pytest.mark.page("support:plan_delivery")
    def test_an_entry_is_logged_shown_after_a_read_and_audited(
        self, cora: User, maya: User, provider: Organisation, consenting_case: Case
    ) -> None:
        h.living(cora, maya, provider, consenting_case)
        client = factories.signed_in_client(maya)
        today = timezone.localdate()
        form = {
            "measure": "counselling",
            "delivered_on_day": str(today.day),
            "delivered_on_month": str(today.month),
            "delivered_on_year": str(today.year),
            "provider": str(provider.pk),
            "description": DELIVERED,
        }
        response = client.post(f"{plan_url(consenting_case)}delivered/", form)
        assert response.status_code == 302
        delivery = ServiceDelivery.objects.get()
        assert (delivery.measure, delivery.provider, delivery.description) == (
            "counselling",
            provider,
            DELIVERED,
        )
        [event] = AuditEvent.objects.filter(action="service_delivery.recorded")
        assert (event.actor, event.detail) == (maya, {"measure": "counselling"})
        with connection.cursor() as cursor:
            cursor.execute("SELECT description FROM support_servicedelivery")
            assert cursor.fetchone()[0].startswith("enc2$")
        assert reads(maya) == []
        page = client.get(plan_url(consenting_case)).content.decode()
        assert DELIVERED in page
        [read] = reads(maya)
        assert read.detail["fields"] == ["services_delivered"]

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"measure": ""}, "Select the measure it was delivered under"),
            ({"measure": "education"}, "Select the measure it was delivered under"),
            ({"delivered_on_day": ""}, "The day it was delivered must include a day"),
            ({"delivered_on_year": "2999"}, "The day it was delivered must be today or earlier"),
            ({"description": ""}, "Enter what was delivered"),
            ({"outside_provider": ""}, "Say who delivered it"),
        ],
    )
    def test_a_problem_is_named_and_nothing_typed_is_lost(
        self, cora: User, consenting_case: Case, changes: dict[str, str], message: str
    ) -> None:
        s.request(consenting_case)
        form = {
            "measure": "translation",
            "delivered_on_day": "1",
            "delivered_on_month": "2",
            "delivered_on_year": "2026",
            "provider": "",
            "outside_provider": OUTSIDE,
            "description": DELIVERED,
        } | changes
        response = factories.signed_in_client(cora).post(
            f"{plan_url(consenting_case)}delivered/", form
        )
        page = response.content.decode()
        assert response.status_code == 200
        assert message in page
        if form["description"]:
            assert DELIVERED in page
        assert not ServiceDelivery.objects.exists()


class TestWhoMaySee:
    def test_coordinators_and_the_placing_providers_managers_only(
        self,
        cora: User,
        maya: User,
        omar: User,
        alice: User,
        dmitri: User,
        lena: User,
        provider: Organisation,
        consenting_case: Case,
    ) -> None:
        placement = h.living(cora, maya, provider, consenting_case)
        urls = [
            plan_url(consenting_case),
            measure_url(consenting_case, "translation"),
            f"{plan_url(consenting_case)}delivered/",
        ]
        for url in urls:
            for allowed in (cora, maya):
                assert factories.signed_in_client(allowed).get(url).status_code == 200, url
            for outsider in (omar, alice, dmitri, lena):
                client = factories.signed_in_client(outsider)
                assert client.get(url).status_code == 404, (outsider, url)
                posted = client.post(url, measure_form()).status_code
                if url == plan_url(consenting_case):
                    # The plan page only shows: a POST is refused (405) before any case is
                    # looked up, so an outsider learns no more than of a case that is not there.
                    nowhere = url.replace(consenting_case.reference, "NRM-NONE-0000")
                    assert posted == client.post(nowhere, measure_form()).status_code != 200
                else:
                    assert posted == 404, (outsider, url)
        for outsider in (omar, alice):
            with pytest.raises(ValidationError, match="Only support coordinators"):
                care_services.support_measure_update(
                    by=outsider,
                    case=consenting_case,
                    measure="translation",
                    expected_version=1,
                    status="needed",
                )
        # When the stay is over, the provider's staff no longer see the plan.
        services.placement_end(
            by=maya, placement=placement, on=timezone.localdate(), reason="moved_on"
        )
        assert factories.signed_in_client(maya).get(plan_url(consenting_case)).status_code == 404
        assert factories.signed_in_client(cora).get(plan_url(consenting_case)).status_code == 200
        assert not SupportPlan.objects.exists()

    def test_a_coordinator_sees_no_plan_for_a_case_with_no_placement_request(
        self, cora: User, consenting_case: Case
    ) -> None:
        assert factories.signed_in_client(cora).get(plan_url(consenting_case)).status_code == 404
        assert (
            factories.signed_in_client(cora).get("/support/people/NRM-NONE/plan/").status_code
            == 404
        )

    def test_the_placement_and_request_pages_link_to_the_plan(
        self, cora: User, maya: User, provider: Organisation, consenting_case: Case
    ) -> None:
        placement = h.living(cora, maya, provider, consenting_case)
        for user in (cora, maya):
            page = (
                factories.signed_in_client(user)
                .get(f"/support/placements/{placement.pk}/")
                .content.decode()
            )
            assert plan_url(consenting_case) in page
            assert "6 of 6 measures not assessed or still needed" not in page  # accommodation
            assert "5 of 6 measures not assessed or still needed" in page
        page = (
            factories.signed_in_client(cora)
            .get(f"/support/requests/{placement.request_id}/")
            .content.decode()
        )
        assert plan_url(consenting_case) in page


@override_settings(DEMO=True)
def test_the_demo_coordinator_has_a_plan_to_look_at(db: None) -> None:
    call_command("demo_data")
    call_command("demo_data")  # idempotent: one plan, one delivery
    plan = SupportPlan.objects.get()
    assert plan.case.consent_to_support is True
    assert ServiceDelivery.objects.count() == 1
    coordinator = User.objects.get(email="coordinator@demo.opennrm.test")
    page = factories.signed_in_client(coordinator).get(plan_url(plan.case)).content.decode()
    assert "Declined by the person" in page
    assert "Demo Interpreting Co-operative (fictional)" in page
