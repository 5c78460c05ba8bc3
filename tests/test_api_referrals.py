"""Referring through the API: the same checks, the same services and the same results as the
pages, all or nothing, never two cases for one retried request, and nothing of another
organisation's."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client, TestCase

from opennrm.accommodation.models import PlacementRequest
from opennrm.accounts.models import Organisation, User
from opennrm.api.models import ReferralIdempotencyKey
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup, ExploitationAgeGroup
from opennrm.cases.models import Case, Person, PersonIdentity
from opennrm.notifications.models import Notification
from opennrm.referrals import api_submission as api_services
from opennrm.referrals.models import DraftStatus, DutyToNotifyReport, ReferralDraft

from . import api_helpers as a
from . import factories
from . import referral_helpers as r


@pytest.fixture
def alices_api(alice: User, northmoor_police: Organisation) -> Client:
    """Northmoor Police's case management system, with a token acting for Alice."""
    _, secret = a.token(alice, northmoor_police)
    return a.client_with(secret)


@pytest.fixture
def charlies_api(charlie: User, southvale_police: Organisation) -> Client:
    _, secret = a.token(charlie, southvale_police)
    return a.client_with(secret)


def everything_written() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            ReferralDraft,
            Case,
            Person,
            PersonIdentity,
            DutyToNotifyReport,
            PlacementRequest,
            Notification,
            AuditEvent,
            ReferralIdempotencyKey,
        )
    }


def what_happened(case: Case) -> dict[str, Any]:
    """What submitting made, apart from the reference and the moment."""
    return {
        "authority": case.competent_authority_id,
        "age_group": case.age_group,
        "age_group_at_exploitation": case.age_group_at_exploitation,
        "events": list(case.events.values_list("kind", flat=True)),
        "told": sorted(
            Notification.objects.filter(case=case).values_list("recipient__email", "kind")
        ),
        "placement": list(
            PlacementRequest.objects.filter(case=case).values_list("needs", flat=True)
        ),
    }


class TestSubmitting:
    def test_an_adult_who_consents_is_referred_routed_and_everyone_told(
        self, alices_api: Client, alice: User, dmitri: User, routing: Organisation, lena: User
    ) -> None:
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = a.post_referral(alices_api, r.ADULT_REFERRAL)
        assert response.status_code == 201, response.json()
        body = response.json()
        case = Case.objects.get()
        assert body == {
            "outcome": "case",
            "reference": case.reference,
            "status": case.status,
            "status_label": case.get_status_display(),
            "competent_authority": routing.name,
            "submitted_at": body["submitted_at"],
            # An adult: no children's services to tell.
            "childrens_services_told": [],
            "childrens_services_not_told": [],
        }
        assert response["Location"] == f"/api/v1/referrals/{case.reference}"
        assert case.referred_by == alice
        assert case.competent_authority == routing
        assert case.age_group == AgeGroup.ADULT
        assert case.consent_to_referral is True
        assert case.person.identity.given_names == "Zorica Testova"
        assert PlacementRequest.objects.get(case=case).needs == ["bed_tonight", "interpreter"]
        assert {m.to[0] for m in mail.outbox} == {alice.email, dmitri.email}
        assert not Notification.objects.filter(recipient=lena).exists()
        draft = ReferralDraft.objects.get()
        assert (draft.status, draft.answers, draft.created_by) == (DraftStatus.SUBMITTED, {}, alice)
        # Every event names the member the token acts for; one says it came through the API.
        made = AuditEvent.objects.exclude(action__startswith="api_token.")
        assert set(made.values_list("actor", flat=True)) == {alice.pk}
        assert AuditEvent.objects.filter(action="api.referral_received").count() == 1

    def test_the_api_and_the_pages_make_the_same_case(
        self, alices_api: Client, alice: User, dmitri: User, routing: Organisation
    ) -> None:
        page = factories.signed_in_client(alice)
        draft = r.start(page)
        r.complete(page, draft, r.ADULT_REFERRAL)
        r.submit(page, draft)
        a.post_referral(alices_api, r.ADULT_REFERRAL)
        by_page, by_api = Case.objects.order_by("id")
        assert what_happened(by_api) == what_happened(by_page)

    def test_a_child_with_a_disputed_age_is_referred_and_safeguarders_told_at_once(
        self, alices_api: Client, routing: Organisation, lena: User, gail: User
    ) -> None:
        response = a.post_referral(alices_api, r.CHILD_REFERRAL)
        assert response.status_code == 201, response.json()
        case = Case.objects.get(reference=response.json()["reference"])
        assert case.age_group == AgeGroup.PRESUMED_CHILD
        assert case.consent_to_referral is None
        told = set(Notification.objects.filter(case=case).values_list("recipient", flat=True))
        assert {lena.pk, gail.pk} <= told

    def test_an_adult_exploited_as_a_child_is_recorded_so_and_a_child_never_as_an_adult(
        self, alices_api: Client, routing: Organisation
    ) -> None:
        """Asked of an adult only (ADR 0042); a child's answer, if sent, is ignored."""
        as_child = {**r.EXPLOITATION, "under_18_when_began": "yes", "started_year": "2012"}
        adult = a.post_referral(alices_api, {**r.ADULT_REFERRAL, "exploitation": as_child})
        assert adult.status_code == 201, adult.json()
        case = Case.objects.get(reference=adult.json()["reference"])
        assert case.age_group_at_exploitation == ExploitationAgeGroup.CHILD
        assert case.exploited_as_child
        as_adult = {**r.EXPLOITATION, "under_18_when_began": "no"}
        child = a.post_referral(alices_api, {**r.CHILD_REFERRAL, "exploitation": as_adult})
        assert child.status_code == 201, child.json()
        case = Case.objects.get(reference=child.json()["reference"])
        assert case.age_group_at_exploitation == ExploitationAgeGroup.CHILD
        # Read back through the API, as recorded.
        detail = alices_api.get(f"{a.REFERRALS_URL}/{case.reference}").json()
        assert detail["age_group_at_exploitation"] == "child"

    def test_the_schema_documents_the_question(self, alices_api: Client) -> None:
        schema = Client().get("/api/v1/openapi.json").json()["components"]["schemas"]
        field = schema["ExploitationAnswers"]["properties"]["under_18_when_began"]
        assert "yes, no, not_known" in field["description"]

    def test_an_adult_who_refuses_gives_an_anonymous_report_and_nothing_identifying_is_kept(
        self, alices_api: Client, routing: Organisation, council: Organisation
    ) -> None:
        # The client sends everything it has; the refusal makes it a report, which keeps none
        # of the identifying answers.
        answers = {
            **r.ADULT_REFERRAL,
            "consent": r.REFUSES,
            "person": {**r.PERSON, "estimated_age": "34"},
            "exploitation": r.ANONYMOUS_EXPLOITATION,
        }
        response = a.post_referral(alices_api, answers)
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["outcome"] == "duty_to_notify_report"
        assert body["reference"].startswith("DTN-")
        assert body["status"] is None
        assert "Location" not in response
        assert not Case.objects.exists()
        report = DutyToNotifyReport.objects.get(reference=body["reference"])
        assert (report.sex, report.age_band, report.nationalities) == ("female", "25-34", ["AL"])
        written = str(list(ReferralDraft.objects.values())) + str(
            list(AuditEvent.objects.values("detail"))
        )
        assert "Zorica" not in written
        assert "passport" not in written

    def test_json_numbers_and_booleans_are_taken_as_the_page_would_take_them(
        self, alices_api: Client, routing: Organisation
    ) -> None:
        person = {
            **r.CHILD_PERSON,
            "estimated_age": 15,
            "date_of_birth_day": None,
            "date_of_birth_month": None,
            "date_of_birth_year": None,
        }
        answers = {**r.CHILD_REFERRAL, "person": person, "indicators": {"none_observed": True}}
        response = a.post_referral(alices_api, answers)
        assert response.status_code == 201, response.json()
        assert Case.objects.get().person.age_at_referral == 15


class TestRejecting:
    @pytest.mark.parametrize(
        ("step", "change", "field", "message"),
        [
            (
                "person",
                {
                    "date_of_birth_day": "1",
                    "date_of_birth_month": "1",
                    "date_of_birth_year": "2099",
                },
                "date_of_birth",
                "Date of birth must be in the past",
            ),
            (
                "person",
                {
                    "date_of_birth_day": "1",
                    "date_of_birth_month": "1",
                    "date_of_birth_year": "1850",
                },
                "date_of_birth",
                "Date of birth must give an age of 120 or less",
            ),
            (
                "person",
                {
                    "date_of_birth_day": "",
                    "date_of_birth_month": "",
                    "date_of_birth_year": "",
                    "estimated_age": "150",
                },
                "estimated_age",
                "Estimated age must be 120 or less",
            ),
            (
                "person",
                {
                    "date_of_birth_day": "31",
                    "date_of_birth_month": "2",
                    "date_of_birth_year": "2001",
                },
                "date_of_birth",
                "Date of birth must be a real date",
            ),
            (
                "person",
                {"nationality_1": "XX"},
                "nationality_1",
                "Select a nationality from the list",
            ),
            (
                "person",
                {"nationality_2": "AL"},
                "nationality_2",
                "Second nationality must be different from the first",
            ),
            (
                "person",
                {"given_names": ""},
                "given_names",
                "Enter the person's given names, or the name they use",
            ),
            (
                "consent",
                {"consents_to_referral": ""},
                "consents_to_referral",
                "Select whether the person consents to being referred",
            ),
            (
                "consent",
                {"consents_to_support": ""},
                "consents_to_support",
                "Select whether the person consents to receiving support",
            ),
            (
                "exploitation",
                {"types": []},
                "types",
                "Select at least one kind of exploitation, or 'Not specified or not known'",
            ),
            (
                "exploitation",
                {"area": "Atlantis"},
                "area",
                "Select the local authority area the person is in now",
            ),
            (
                "exploitation",
                {"under_18_when_began": ""},
                "under_18_when_began",
                "Select whether they were under 18 when the exploitation began",
            ),
            (
                "exploitation",
                {"under_18_when_began": "perhaps"},
                "under_18_when_began",
                "Select whether they were under 18 when the exploitation began",
            ),
            (
                "needs",
                {"needs": ["none", "medical"]},
                "needs",
                "Select 'None of these' on its own, or only the needs that apply",
            ),
            (
                "account",
                {"responders_account": ""},
                "responders_account",
                "Enter what you saw and why you are referring them",
            ),
        ],
    )
    def test_what_the_form_rejects_is_rejected_naming_the_field_and_nothing_is_written(
        self,
        alices_api: Client,
        routing: Organisation,
        step: str,
        change: dict[str, str],
        field: str,
        message: str,
    ) -> None:
        before = everything_written()
        answers = {**r.ADULT_REFERRAL, step: {**r.ADULT_REFERRAL[step], **change}}
        errors = a.errors(a.post_referral(alices_api, answers))
        assert {"step": step, "field": field, "message": message} in errors
        assert everything_written() == before

    def test_missing_consent_for_an_adult_names_the_step(
        self, alices_api: Client, routing: Organisation
    ) -> None:
        before = everything_written()
        answers = {k: v for k, v in r.ADULT_REFERRAL.items() if k != "consent"}
        assert a.errors(a.post_referral(alices_api, answers)) == [
            {"step": "consent", "field": None, "message": "Complete 'Consent' before submitting"}
        ]
        assert everything_written() == before

    def test_every_error_is_listed_at_once(self, alices_api: Client, routing: Organisation) -> None:
        answers = {
            **r.ADULT_REFERRAL,
            "person": {**r.PERSON, "nationality_1": "XX", "sex": "robot"},
            "account": {"responders_account": ""},
        }
        found = {(e["step"], e["field"]) for e in a.errors(a.post_referral(alices_api, answers))}
        assert found == {
            ("person", "nationality_1"),
            ("person", "sex"),
            ("account", "responders_account"),
        }

    @pytest.mark.parametrize(
        ("answers", "error"),
        [
            (
                {**r.ADULT_REFERRAL, "persons": {}},
                {"step": "persons", "field": None},
            ),
            (
                {**r.ADULT_REFERRAL, "person": {**r.PERSON, "date_of_birth": "1999-03-14"}},
                {"step": "person", "field": "date_of_birth"},
            ),
            (
                {**r.ADULT_REFERRAL, "person": {**r.PERSON, "sex": {"value": "female"}}},
                {"step": "person", "field": "sex"},
            ),
            (
                {**r.ADULT_REFERRAL, "exploitation": {**r.EXPLOITATION, "types": "labour"}},
                {"step": "exploitation", "field": "types"},
            ),
            ({**r.ADULT_REFERRAL, "age": "no"}, {"step": "age", "field": None}),
            (["age", "no"], {"step": None, "field": None}),
        ],
    )
    def test_a_body_of_the_wrong_shape_is_rejected_naming_what_is_wrong(
        self, alices_api: Client, routing: Organisation, answers: Any, error: dict[str, Any]
    ) -> None:
        before = everything_written()
        errors = a.errors(a.post_referral(alices_api, answers))
        assert len(errors) == 1
        assert {k: errors[0][k] for k in ("step", "field")} == error
        assert errors[0]["message"]
        assert everything_written() == before

    def test_a_body_that_is_not_json_is_a_bad_request(self, alices_api: Client) -> None:
        response = alices_api.post(a.REFERRALS_URL, "{not json", content_type="application/json")
        assert response.status_code == 400
        assert response.json() == {
            "errors": [{"step": None, "field": None, "message": "Cannot parse request body"}]
        }

    def test_a_refused_submission_writes_nothing_and_says_why(
        self, alices_api: Client, council: Organisation
    ) -> None:
        # No routing rule: the submission service refuses, and everything is undone.
        before = everything_written()
        errors = a.errors(a.post_referral(alices_api, r.ADULT_REFERRAL))
        assert errors[0]["step"] is None
        assert "No competent authority is set up" in errors[0]["message"]
        assert everything_written() == before

    def test_an_organisation_without_the_duty_cannot_send_a_report(
        self, routing: Organisation, council: Organisation
    ) -> None:
        charity = factories.organisation(
            "Test Outreach", kind=factories.OrganisationKind.NON_STATUTORY_FIRST_RESPONDER
        )
        worker = factories.user(
            "worker@example.org", organisation=charity, role=factories.Role.FIRST_RESPONDER
        )
        _, secret = a.token(worker, charity)
        before = everything_written()
        errors = a.errors(a.post_referral(a.client_with(secret), r.DUTY_TO_NOTIFY))
        assert "does not carry the duty to notify" in errors[0]["message"]
        assert everything_written() == before


class TestRetrying:
    def test_a_retry_with_the_same_key_gives_the_same_case_and_never_a_second(
        self, alices_api: Client, routing: Organisation
    ) -> None:
        first = a.post_referral(alices_api, r.ADULT_REFERRAL, idempotency_key="sync-4711")
        notified = Notification.objects.count()
        again = a.post_referral(alices_api, r.ADULT_REFERRAL, idempotency_key="sync-4711")
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first
        assert Case.objects.count() == 1
        assert ReferralDraft.objects.count() == 1
        assert Notification.objects.count() == notified

    def test_the_same_key_with_different_answers_is_refused(
        self, alices_api: Client, routing: Organisation
    ) -> None:
        a.post_referral(alices_api, r.ADULT_REFERRAL, idempotency_key="sync-4711")
        errors = a.errors(
            a.post_referral(alices_api, r.CHILD_REFERRAL, idempotency_key="sync-4711")
        )
        assert errors[0]["field"] == "Idempotency-Key"
        assert Case.objects.count() == 1

    def test_a_rejected_request_keeps_no_key_so_the_corrected_one_can_use_it(
        self, alices_api: Client, routing: Organisation
    ) -> None:
        wrong = {**r.ADULT_REFERRAL, "person": {**r.PERSON, "nationality_1": "XX"}}
        assert a.post_referral(alices_api, wrong, idempotency_key="k-1").status_code == 422
        assert (
            a.post_referral(alices_api, r.ADULT_REFERRAL, idempotency_key="k-1").status_code == 201
        )
        assert Case.objects.count() == 1

    def test_a_retried_report_keeps_nothing_derived_from_identifying_answers(
        self, alices_api: Client, routing: Organisation, council: Organisation
    ) -> None:
        """A report's key is matched on the answers a report keeps: a retry that differs only
        in identifying answers (deleted anyway) is the same report."""
        sent = {**r.DUTY_TO_NOTIFY, "person": {**r.ANONYMOUS_PERSON, "given_names": "Zorica"}}
        first = a.post_referral(alices_api, sent, idempotency_key="k-1")
        again = a.post_referral(alices_api, r.DUTY_TO_NOTIFY, idempotency_key="k-1")
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert DutyToNotifyReport.objects.count() == 1

    def test_keys_belong_to_one_organisation(
        self, alices_api: Client, charlies_api: Client, routing: Organisation
    ) -> None:
        mine = a.post_referral(alices_api, r.ADULT_REFERRAL, idempotency_key="k-1")
        theirs = a.post_referral(charlies_api, r.ADULT_REFERRAL, idempotency_key="k-1")
        assert (mine.status_code, theirs.status_code) == (201, 201)
        assert mine.json()["reference"] != theirs.json()["reference"]

    def test_a_concurrent_duplicate_is_undone_and_answered_with_the_first_result(
        self,
        alices_api: Client,
        alice: User,
        northmoor_police: Organisation,
        routing: Organisation,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Two requests with one key at once: both pass the first look-up, the second fails on
        the key's unique constraint, is rolled back whole, and returns the first's case."""
        first = a.post_referral(alices_api, r.ADULT_REFERRAL, idempotency_key="k-1").json()
        real_replay = api_services._replay
        calls: list[str] = []

        def not_yet_committed(*args: Any) -> Any:
            calls.append("look-up")
            return None if len(calls) == 1 else real_replay(*args)

        monkeypatch.setattr(api_services, "_replay", not_yet_committed)
        before = everything_written()
        result = api_services.api_referral_submit(
            by=alice,
            organisation=northmoor_police,
            answers=r.ADULT_REFERRAL,
            idempotency_key="k-1",
        )
        assert result.replayed
        assert result.submitted.case is not None
        assert result.submitted.case.reference == first["reference"]
        assert everything_written() == before


class TestReading:
    def refer(self, client: Client) -> str:
        response = a.post_referral(client, r.ADULT_REFERRAL)
        assert response.status_code == 201, response.json()
        return str(response.json()["reference"])

    def test_the_organisation_lists_its_referrals_without_identifying_anyone(
        self, alices_api: Client, bob: User, charlies_api: Client, routing: Organisation
    ) -> None:
        # Bob's referral through the pages is his organisation's too.
        page = factories.signed_in_client(bob)
        draft = r.start(page)
        r.complete(page, draft, r.CHILD_REFERRAL)
        r.submit(page, draft)
        mine = self.refer(alices_api)
        self.refer(charlies_api)
        response = alices_api.get(a.REFERRALS_URL)
        assert response.status_code == 200
        listing = response.json()
        assert listing["count"] == 2
        assert listing["items"][0]["reference"] == mine
        assert set(listing["items"][0]) == {
            "reference",
            "status",
            "status_label",
            "submitted_at",
            "age_group",
            "age_group_at_exploitation",
            "competent_authority",
        }
        assert {item["age_group"] for item in listing["items"]} == {"adult", "presumed_child"}
        assert {item["age_group_at_exploitation"] for item in listing["items"]} == {
            "adult",  # the adult answered "no": not under 18 when it began
            "child",  # age disputed: a child then too, never asked
        }
        assert "Zorica" not in response.content.decode()
        assert "Minor Example" not in response.content.decode()

    def test_the_listing_comes_in_pages(self, alices_api: Client, routing: Organisation) -> None:
        references = [self.refer(alices_api) for _ in range(3)]
        page = alices_api.get(a.REFERRALS_URL, {"limit": 2, "offset": 2}).json()
        assert page["count"] == 3
        assert [item["reference"] for item in page["items"]] == [references[0]]

    @pytest.mark.parametrize("offset", ["10000001", "99999999999999999999999"])
    def test_an_offset_beyond_any_list_is_refused_not_a_server_error(
        self, alices_api: Client, offset: str
    ) -> None:
        """Found by the fuzzer: an offset past the integers the database compares was a 500."""
        response = alices_api.get(a.REFERRALS_URL, {"offset": offset})
        assert response.status_code == 422, response.content
        [error] = response.json()["errors"]
        assert error["field"] == "offset"
        assert "10000000" in error["message"]

    def test_one_referral_shows_its_status_and_timeline(
        self, alices_api: Client, routing: Organisation
    ) -> None:
        reference = self.refer(alices_api)
        response = alices_api.get(f"{a.REFERRALS_URL}/{reference}")
        assert response.status_code == 200
        case = response.json()
        assert (case["reference"], case["status"]) == (reference, "awaiting_rg")
        assert [event["kind"] for event in case["timeline"]] == list(
            Case.objects.get(reference=reference).events.values_list("kind", flat=True)
        )
        assert "Zorica" not in response.content.decode()

    def test_another_organisation_gets_404_exactly_as_for_a_case_that_does_not_exist(
        self, alices_api: Client, charlies_api: Client, routing: Organisation
    ) -> None:
        reference = self.refer(alices_api)
        theirs = charlies_api.get(f"{a.REFERRALS_URL}/{reference}")
        missing = charlies_api.get(f"{a.REFERRALS_URL}/NRM-0000-0000")
        assert theirs.status_code == missing.status_code == 404
        assert (
            theirs.json()
            == missing.json()
            == {"errors": [{"step": None, "field": None, "message": "Not found"}]}
        )
        assert charlies_api.get(a.REFERRALS_URL).json()["count"] == 0
