"""The referral journey through the pages: adults, children, duty to notify, never losing work."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client, TestCase
from django.urls import reverse

from opennrm.accommodation.models import PlacementRequest
from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import AgeGroup, ExploitationAgeGroup
from opennrm.cases.models import Case, CaseEvent
from opennrm.notifications.models import Notification
from opennrm.referrals.models import (
    DraftStatus,
    DutyToNotifyIntelligence,
    DutyToNotifyReport,
    ReferralDraft,
)

from . import factories
from . import referral_helpers as r


@pytest.mark.page("referrals:confirmation")
def test_adult_who_consents_is_referred_routed_and_everyone_told(
    alice: User, dmitri: User, routing: Organisation, lena: User
) -> None:
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.complete(client, draft, r.ADULT_REFERRAL)
    check = client.get(reverse("referrals:check_answers", args=[draft.public_id])).content.decode()
    assert "Zorica Testova" in check
    assert "Albania" in check
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = r.submit(client, draft)
    assert response["Location"] == reverse("referrals:confirmation", args=[draft.public_id])
    case = Case.objects.get()
    assert case.reference.startswith("NRM-")
    assert case.competent_authority == routing
    assert case.age_group == AgeGroup.ADULT
    assert case.consent_to_referral is True
    assert case.consent_explanation_version == "opennrm-consent-2026-1"
    assert case.consent_explanation_language == "sq"
    assert case.submitted_at.tzinfo is not None
    assert case.person.identity.given_names == "Zorica Testova"
    assert case.person.nationalities == ["AL"]
    assert case.exploitation_types == ["labour", "criminal"]
    assert PlacementRequest.objects.get(case=case).needs == ["bed_tonight", "interpreter"]
    assert set(Notification.objects.values_list("recipient__email", flat=True)) == {
        alice.email,
        dmitri.email,
    }
    assert not Notification.objects.filter(recipient=lena).exists()
    assert {m.to[0] for m in mail.outbox} == {alice.email, dmitri.email}
    assert all("Zorica" not in m.body and "Zorica" not in m.subject for m in mail.outbox)
    confirmation = client.get(response["Location"]).content.decode()
    assert case.reference in confirmation
    assert "govuk-panel" in confirmation
    draft.refresh_from_db()
    assert draft.status == DraftStatus.SUBMITTED
    assert draft.answers == {}
    # The decision maker and the referrer can open the case; its timeline says what happened.
    for person in (alice, dmitri):
        page = factories.signed_in_client(person).get(
            reverse("cases:detail", args=[case.reference])
        )
        assert page.status_code == 200
    assert list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True)) == [
        "referral.submitted",
        "case.routed",
        "support.placement_requested",
    ]


def test_child_with_disputed_age_is_treated_as_a_child_and_safeguarders_told_at_once(
    alice: User, dmitri: User, routing: Organisation, lena: User, gail: User
) -> None:
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.complete(client, draft, r.CHILD_REFERRAL)
    # No consent page for a child.
    assert (
        client.get(reverse("referrals:step", args=[draft.public_id, "consent"])).status_code == 404
    )
    r.submit(client, draft)
    case = Case.objects.get()
    assert case.age_group == AgeGroup.PRESUMED_CHILD
    assert case.consent_to_referral is None
    told = set(Notification.objects.filter(case=case).values_list("recipient__email", flat=True))
    assert {lena.email, gail.email} <= told
    assert (
        factories.signed_in_client(lena)
        .get(reverse("cases:detail", args=[case.reference]))
        .status_code
        == 200
    )


def test_safeguarders_are_never_told_about_adults_and_cannot_open_them(
    alice: User, routing: Organisation, lena: User, gail: User
) -> None:
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.complete(client, draft, r.ADULT_REFERRAL)
    r.submit(client, draft)
    case = Case.objects.get()
    assert not Notification.objects.filter(recipient__in=[lena, gail]).exists()
    assert (
        factories.signed_in_client(lena)
        .get(reverse("cases:detail", args=[case.reference]))
        .status_code
        == 404
    )


def test_children_in_another_area_are_not_told(alice: User, routing: Organisation) -> None:
    elsewhere = factories.organisation(
        "Other Council", kind=factories.OrganisationKind.LOCAL_AUTHORITY, area="Elsewhere"
    )
    far_lead = factories.user(
        "far@example.org", organisation=elsewhere, role=factories.Role.SAFEGUARDING_LEAD
    )
    factories.organisation(
        "Testshire Council", kind=factories.OrganisationKind.LOCAL_AUTHORITY, area="Testshire"
    )
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.complete(client, draft, r.CHILD_REFERRAL)
    r.submit(client, draft)
    assert not Notification.objects.filter(recipient=far_lead).exists()


def test_adult_who_refuses_gives_an_anonymous_report_and_no_case(
    alice: User, routing: Organisation, council: Organisation
) -> None:
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    # The officer starts with the person's details, then records that consent was refused.
    r.answer(client, draft, "age", r.ADULT)
    r.answer(client, draft, "consent", r.CONSENTS)
    r.answer(client, draft, "person", r.PERSON)
    r.answer(client, draft, "account", r.ACCOUNT)
    r.answer(client, draft, "consent", r.REFUSES)
    draft.refresh_from_db()
    assert "Zorica" not in str(draft.answers)
    assert "passport" not in str(draft.answers)
    r.complete(client, draft, r.DUTY_TO_NOTIFY)
    page = client.get(reverse("referrals:check_answers", args=[draft.public_id])).content.decode()
    assert "Submit report" in page
    r.submit(client, draft)
    assert not Case.objects.exists()
    report = DutyToNotifyReport.objects.get()
    assert report.reference.startswith("DTN-")
    assert (report.sex, report.age_band, report.nationalities) == ("male", "25-34", ["VN"])
    assert report.exploitation_types == ["labour"]
    draft.refresh_from_db()
    assert draft.status == DraftStatus.REPORTED
    assert draft.answers == {}
    # Nothing identifying survives anywhere in the database, though it was typed once.
    assert factories.rows_containing("Zorica") == []
    assert factories.rows_containing("said I owed them money") == []
    assert factories.rows_containing("Through the outreach worker only") == []


def test_a_duty_to_notify_report_has_no_identifying_field() -> None:
    """Enforced in the schema: the table has no column that could hold a name or free text."""
    columns = {field.name for field in DutyToNotifyReport._meta.get_fields()}
    assert columns == {
        "id",
        "draft",
        "reference",
        "organisation",
        "submitted_by",
        "submitted_at",
        "jurisdiction",
        "area",
        "sex",
        "age_band",
        "nationalities",
        "exploitation_types",
        "exploitation_location",
        # What it tells the police about the exploiters, apart and encrypted: no field of it
        # is about the person (test_duty_to_notify_intelligence.py).
        "intelligence",
    }
    intelligence = {field.name for field in DutyToNotifyIntelligence._meta.get_fields()}
    assert intelligence == {
        "id",
        "report",
        "row_uuid",
        "places",
        "exploiters",
        "vehicles",
        "dates",
        "routed_to",
    }


def test_an_organisation_without_the_duty_cannot_submit_a_report(
    routing: Organisation, council: Organisation
) -> None:
    charity = factories.organisation(
        "Test Outreach", kind=factories.OrganisationKind.NON_STATUTORY_FIRST_RESPONDER
    )
    worker = factories.user(
        "worker@example.org", organisation=charity, role=factories.Role.FIRST_RESPONDER
    )
    client = factories.signed_in_client(worker)
    draft = r.start(client)
    # The report's pages are not offered to it (tests/test_referral_journey_review_gaps.py).
    r.complete(client, draft, {"age": r.ADULT, "consent": r.REFUSES})
    html = r.submit(client, draft).content.decode()
    assert "does not carry the duty to notify" in html
    assert not DutyToNotifyReport.objects.exists()


def test_double_submit_makes_one_case(alice: User, routing: Organisation) -> None:
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.complete(client, draft, r.ADULT_REFERRAL)
    first = r.submit(client, draft)
    second = r.submit(client, draft)
    assert Case.objects.count() == 1
    assert second["Location"] == first["Location"]


@pytest.mark.page("referrals:task_list")
def test_a_draft_survives_signing_out_and_is_resumed(alice: User, routing: Organisation) -> None:
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.answer(client, draft, "age", r.ADULT)
    r.answer(client, draft, "consent", r.CONSENTS)
    # A half-finished page, with a mistake, is saved as typed.
    r.answer(client, draft, "person", {**r.PERSON, "nationality_1": ""})
    client.post(reverse("accounts:sign_out"))
    later = factories.signed_in_client(alice)
    listing = later.get(reverse("referrals:my_referrals")).content.decode()
    assert reverse("referrals:task_list", args=[draft.public_id]) in listing
    page = later.get(reverse("referrals:step", args=[draft.public_id, "person"])).content.decode()
    assert 'value="Zorica Testova"' in page
    tasks = later.get(reverse("referrals:task_list", args=[draft.public_id])).content.decode()
    assert "In progress" in tasks


@pytest.mark.page("referrals:step")
def test_autosave_keeps_an_answer_without_leaving_the_page(alice: User) -> None:
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    response = client.post(
        reverse("referrals:step", args=[draft.public_id, "age"]),
        {"under_18": "no"},
        HTTP_X_AUTOSAVE="1",
    )
    assert response.status_code == 204
    draft.refresh_from_db()
    assert draft.answers["age"] == {"under_18": "no"}


def test_detained_people_are_routed_to_the_detention_authority(
    alice: User, routing: Organisation
) -> None:
    from opennrm.referrals.models import RoutingRule

    detention = factories.organisation(
        "Detention Authority", kind=factories.OrganisationKind.COMPETENT_AUTHORITY
    )
    RoutingRule.objects.create(
        priority=10,
        description="Detention",
        in_immigration_detention=True,
        competent_authority=detention,
    )
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.complete(
        client,
        draft,
        {**r.ADULT_REFERRAL, "exploitation": {**r.EXPLOITATION, "in_immigration_detention": "yes"}},
    )
    r.submit(client, draft)
    assert Case.objects.get().competent_authority == detention


def test_without_a_routing_rule_nothing_is_written_and_the_answers_stay(
    alice: User, council: Organisation
) -> None:
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.complete(client, draft, r.ADULT_REFERRAL)
    html = r.submit(client, draft).content.decode()
    assert "No competent authority is set up" in html
    assert not Case.objects.exists()
    draft.refresh_from_db()
    assert draft.status == DraftStatus.DRAFT
    assert draft.answers["person"]["given_names"] == "Zorica Testova"


def test_submitting_an_incomplete_draft_goes_to_the_missing_page(
    alice: User, routing: Organisation
) -> None:
    client = factories.signed_in_client(alice)
    draft = r.start(client)
    r.complete(client, draft, {"age": r.ADULT, "consent": r.CONSENTS})
    response = r.submit(client, draft)
    assert response["Location"] == reverse("referrals:step", args=[draft.public_id, "person"])
    assert not Case.objects.exists()


class TestWhoSeesWhat:
    def test_outsiders_get_404_on_a_draft_and_its_pages(
        self, alice: User, bob: User, charlie: User, dmitri: User
    ) -> None:
        draft = r.start(factories.signed_in_client(alice))
        for person in (bob, charlie, dmitri):
            client = factories.signed_in_client(person)
            for name, args in [
                ("referrals:task_list", [draft.public_id]),
                ("referrals:step", [draft.public_id, "age"]),
                ("referrals:evidence", [draft.public_id]),
                ("referrals:check_answers", [draft.public_id]),
                ("referrals:draft_delete", [draft.public_id]),
            ]:
                assert client.get(reverse(name, args=args)).status_code == 404, (person, name)
            assert (
                client.post(reverse("referrals:draft_delete", args=[draft.public_id])).status_code
                == 404
            )
        assert ReferralDraft.objects.filter(pk=draft.pk).exists()

    def test_outsiders_get_404_on_a_case(
        self, alice: User, bob: User, charlie: User, routing: Organisation
    ) -> None:
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        r.complete(client, draft, r.ADULT_REFERRAL)
        r.submit(client, draft)
        case = Case.objects.get()
        assert (
            factories.signed_in_client(bob)
            .get(reverse("cases:detail", args=[case.reference]))
            .status_code
            == 200
        )
        assert (
            factories.signed_in_client(charlie)
            .get(reverse("cases:detail", args=[case.reference]))
            .status_code
            == 404
        )
        assert (
            factories.signed_in_client(charlie)
            .get(reverse("cases:detail", args=["NRM-0000-0000"]))
            .status_code
            == 404
        )
        assert Client().get(reverse("cases:detail", args=[case.reference])).status_code == 302

    @pytest.mark.page("referrals:my_referrals")
    def test_my_referrals_lists_the_organisations_cases_without_names(
        self, alice: User, bob: User, routing: Organisation
    ) -> None:
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        r.complete(client, draft, r.ADULT_REFERRAL)
        r.submit(client, draft)
        listing = (
            factories.signed_in_client(bob).get(reverse("referrals:my_referrals")).content.decode()
        )
        assert Case.objects.get().reference in listing
        assert "Zorica" not in listing


class TestIndicatorsInTheReferral:
    def test_the_list_follows_age_and_exploitation(
        self, alice: User, council: Organisation
    ) -> None:
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        r.complete(client, draft, {"age": r.CHILD, "person": r.CHILD_PERSON})
        # Before the exploitation page, the checklist cannot be chosen.
        tasks = client.get(reverse("referrals:task_list", args=[draft.public_id])).content.decode()
        assert "Cannot start yet" in tasks
        r.complete(
            client, draft, {"exploitation": {**r.EXPLOITATION, "types": ["sexual", "labour"]}}
        )
        page = client.get(
            reverse("referrals:step", args=[draft.public_id, "indicators"])
        ).content.decode()
        assert "Child, sexual exploitation" in page
        assert 'value="CS-DR-01"' in page
        assert 'value="AL-DR-01"' not in page

    def test_observed_indicators_are_screened_and_shown_on_the_case(
        self, alice: User, routing: Organisation
    ) -> None:
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        observed = r.indicators_seen("AL-DR-01", "AL-DR-02", "AL-EX-01")
        r.complete(client, draft, {**r.ADULT_REFERRAL, "indicators": observed})
        r.submit(client, draft)
        case = Case.objects.get()
        assert case.screening is not None
        assert case.screening.observed_codes == ["AL-DR-01", "AL-DR-02", "AL-EX-01"]
        page = client.get(reverse("cases:detail", args=[case.reference])).content.decode()
        assert "Indicators observed" in page
        assert "never a decision" in page.lower() or "not a decision" in page.lower()

    def test_an_unknown_indicator_code_is_refused(self, alice: User, council: Organisation) -> None:
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        r.complete(
            client, draft, {"age": r.ADULT, "consent": r.CONSENTS, "exploitation": r.EXPLOITATION}
        )
        html = r.answer(
            client, draft, "indicators", r.indicators_seen("AL-DR-01", "XX-99")
        ).content.decode()
        assert "XX-99 is not an indicator in this list" in html
        assert (
            'value="AL-DR-01" checked' in html or 'value="AL-DR-01"\n' in html or "AL-DR-01" in html
        )


def test_the_reasonable_grounds_target_is_stored_and_shown(
    alice: User, bob: User, routing: Organisation
) -> None:
    import time_machine

    with time_machine.travel("2026-12-24 10:00:00+00:00"):
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        r.complete(client, draft, r.ADULT_REFERRAL)
        r.submit(client, draft)
    case = Case.objects.get()
    assert str(case.reasonable_grounds_due) == "2027-01-05"
    listing = (
        factories.signed_in_client(bob).get(reverse("referrals:my_referrals")).content.decode()
    )
    assert "Reasonable grounds decision due: 5 January 2027" in listing


class TestUnder18WhenTheExploitationBegan:
    """Asked of an adult only (ADR 0042): a child or age-disputed person was a child then too."""

    QUESTION = "Was the person under 18 when the exploitation began?"

    def page(self, client, draft) -> str:
        url = reverse("referrals:step", args=[draft.public_id, "exploitation"])
        return client.get(url).content.decode()

    @pytest.mark.parametrize(
        ("answer", "saved", "shown"),
        [
            ("yes", ExploitationAgeGroup.CHILD, "Yes"),
            ("no", ExploitationAgeGroup.ADULT, "No"),
            ("not_known", ExploitationAgeGroup.NOT_KNOWN, "Not known"),
        ],
    )
    def test_an_adult_is_asked_and_the_answer_is_kept_as_given(
        self, alice: User, routing: Organisation, answer: str, saved: str, shown: str
    ) -> None:
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        r.complete(client, draft, {"age": r.ADULT, "consent": r.CONSENTS})
        page = self.page(client, draft)
        assert self.QUESTION in page
        for value in ("yes", "no", "not_known"):
            assert f'name="under_18_when_began" type="radio" value="{value}"' in page
        # Born in 1999 (r.PERSON): a start in 2012 agrees with "yes", 2025 with "no".
        started = "2012" if answer == "yes" else "2025"
        exploitation = {**r.EXPLOITATION, "under_18_when_began": answer, "started_year": started}
        r.complete(client, draft, {**r.ADULT_REFERRAL, "exploitation": exploitation})
        # Saved as typed: the page shows the answer chosen.
        page = self.page(client, draft)
        assert f'type="radio" value="{answer}" checked' in page
        check = client.get(reverse("referrals:check_answers", args=[draft.public_id]))
        summary = check.content.decode()
        row = summary.split(self.QUESTION, 1)[1].split("</dd>", 1)[0]
        assert shown in row.split("govuk-summary-list__value", 1)[1]
        r.submit(client, draft)
        case = Case.objects.get()
        assert case.age_group_at_exploitation == saved
        assert case.exploited_as_child == (saved == ExploitationAgeGroup.CHILD)

    def test_an_adult_must_answer_it(self, alice: User) -> None:
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        r.complete(client, draft, {"age": r.ADULT, "consent": r.CONSENTS})
        unanswered = {k: v for k, v in r.EXPLOITATION.items() if k != "under_18_when_began"}
        response = r.answer(client, draft, "exploitation", unanswered)
        html = response.content.decode()
        assert response.status_code == 200
        assert "There is a problem" in html
        assert "Select whether they were under 18 when the exploitation began" in html
        assert 'href="#id_under_18_when_began' in html
        # Nothing already typed is lost.
        assert "A car wash on the ring road" in html
        invalid = {**r.EXPLOITATION, "under_18_when_began": "maybe"}
        html = r.answer(client, draft, "exploitation", invalid).content.decode()
        assert "Select whether they were under 18 when the exploitation began" in html

    def test_a_child_is_not_asked_and_was_a_child_then(
        self, alice: User, routing: Organisation
    ) -> None:
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        r.complete(client, draft, {"age": r.AGE_DISPUTED, "person": r.CHILD_PERSON})
        assert self.QUESTION not in self.page(client, draft)
        # An answer sent anyway is ignored: a child is never recorded as an adult then.
        exploitation = {**r.EXPLOITATION, "under_18_when_began": "no"}
        r.complete(client, draft, {**r.CHILD_REFERRAL, "exploitation": exploitation})
        check = client.get(reverse("referrals:check_answers", args=[draft.public_id]))
        assert self.QUESTION not in check.content.decode()
        r.submit(client, draft)
        case = Case.objects.get()
        assert case.age_group_at_exploitation == ExploitationAgeGroup.CHILD
        assert case.exploited_as_child

    def test_a_duty_to_notify_report_is_not_asked(self, alice: User, routing: Organisation) -> None:
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        r.complete(client, draft, {"age": r.ADULT, "consent": r.REFUSES})
        assert self.QUESTION not in self.page(client, draft)
