"""The rough edges a caseworker hits (issue 10, item 20): "check your answers" in words, error
messages that name their field once, exclusive checkboxes, the age question's reveal, asking
before a draft is deleted, a referral started from a screening, the service's own 405 and 500
pages, page titles and the accessibility statement."""

from __future__ import annotations

import logging
import re
import sys

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client, RequestFactory
from django.urls import reverse

from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.pages.views import server_error
from opennrm.referrals.models import ReferralDraft
from opennrm.screening import services as screening_services

from . import factories
from . import referral_helpers as r


def _check_answers(client, draft) -> str:
    response = client.get(reverse("referrals:check_answers", args=[draft.public_id]))
    assert response.status_code == 200
    return response.content.decode()


class TestCheckYourAnswers:
    def test_answers_are_words_and_questions_that_do_not_apply_are_left_out(
        self, alice: User, routing: Organisation
    ) -> None:
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        r.complete(client, draft, r.ADULT_REFERRAL)  # no indicators seen
        page = _check_answers(client, draft)
        assert "False" not in page
        assert "True" not in page
        # An adult who said "No" to "under 18?": the reason question was never asked.
        assert "Is there any reason to believe they may be under 18?" not in page
        # "I have not seen any of these" ticked: said as "Yes", and the empty list not shown.
        assert "I have not seen any of these" in page
        assert "Indicators you have seen" not in page

    def test_text_keeps_its_line_breaks_and_several_choices_are_a_list(
        self, alice: User, routing: Organisation
    ) -> None:
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        r.complete(
            client,
            draft,
            {
                **r.ADULT_REFERRAL,
                "indicators": r.indicators_seen("AL-DR-01", "AL-EX-01"),
                "account": {**r.ACCOUNT, "persons_account": "First line\nSecond <b>line</b>"},
            },
        )
        page = _check_answers(client, draft)
        assert "Zee<br>Zori" in page
        assert "First line<br>Second &lt;b&gt;line&lt;/b&gt;" in page
        lists = re.findall(r'<ul class="govuk-list govuk-list--bullet">(.*?)</ul>', page, re.S)
        indicators = [items for items in lists if items.count("<li>") == 2]
        assert any("<li>" in items for items in indicators)
        # The kinds of exploitation (labour and criminal) are a list too.
        assert any("Labour exploitation" in items for items in lists)


class TestErrorMessages:
    def test_a_message_names_its_field_and_appears_once_in_the_summary_and_once_by_it(
        self, alice: User, council: Organisation
    ) -> None:
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        r.complete(client, draft, {"age": r.ADULT, "consent": r.CONSENTS})
        response = r.answer(client, draft, "person", {**r.PERSON, "given_names": "x" * 201})
        page = response.content.decode()
        assert "Ensure this value" not in page
        assert page.count("Given names must be 200 characters or fewer") == 2

    def test_the_account_page_names_its_field_too(self, alice: User, council: Organisation) -> None:
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        r.complete(client, draft, {"age": r.ADULT, "consent": r.CONSENTS})
        page = r.answer(
            client, draft, "account", {**r.ACCOUNT, "responders_account": "y" * 20_001}
        ).content.decode()
        assert (
            "What you saw and why you are referring them must be 20,000 characters or fewer" in page
        )


class TestQuestionPages:
    def test_none_of_these_and_not_known_are_exclusive_checkboxes(
        self, alice: User, council: Organisation
    ) -> None:
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        r.complete(client, draft, {"age": r.ADULT, "consent": r.CONSENTS})
        for slug, label in [
            ("needs", "None of these"),
            ("exploitation", "Not specified or not known"),
        ]:
            page = client.get(
                reverse("referrals:step", args=[draft.public_id, slug])
            ).content.decode()
            exclusive = re.search(r'<input[^>]*data-behaviour="exclusive"[^>]*>', page)
            assert exclusive is not None, slug
            assert "govuk-checkboxes__divider" in page
            assert label in page[exclusive.end() : exclusive.end() + 400]
        r.complete(client, draft, {"person": r.PERSON, "exploitation": r.EXPLOITATION})
        indicators = client.get(reverse("referrals:step", args=[draft.public_id, "indicators"]))
        assert 'data-app-exclusive="observed"' in indicators.content.decode()

    def test_the_reason_to_believe_question_is_revealed_under_not_sure(self, alice: User) -> None:
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        page = client.get(reverse("referrals:step", args=[draft.public_id, "age"])).content.decode()
        conditional = re.search(
            r'<div class="app-conditional" data-app-show-when="under_18" '
            r'data-app-show-value="not_sure">(.*?)</fieldset>',
            page,
            re.S,
        )
        assert conditional is not None
        assert "Is there any reason to believe they may be under 18?" in conditional.group(1)
        assert page.count("Is there any reason to believe they may be under 18?") == 1

    def test_page_titles_say_which_journey_the_page_is_part_of(
        self, alice: User, council: Organisation
    ) -> None:
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        r.complete(client, draft, {"age": r.ADULT})
        page = client.get(reverse("referrals:step", args=[draft.public_id, "consent"]))
        assert (
            "<title>Consent - Refer a potential victim - OpenNRM</title>" in page.content.decode()
        )
        r.complete(client, draft, {"consent": r.REFUSES})
        page = client.get(reverse("referrals:step", args=[draft.public_id, "person"]))
        assert (
            "<title>About the person - Duty to notify report - OpenNRM</title>"
            in page.content.decode()
        )


class TestDeletingADraft:
    @pytest.mark.page("referrals:draft_delete")
    def test_delete_asks_first_and_deletes_only_when_confirmed(self, alice: User) -> None:
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        task_list = client.get(reverse("referrals:task_list", args=[draft.public_id])).content
        url = reverse("referrals:draft_delete", args=[draft.public_id])
        assert f'href="{url}"'.encode() in task_list
        assert f'action="{url}"'.encode() not in task_list
        page = client.get(url)
        assert page.status_code == 200
        assert "Are you sure you want to delete this draft?" in page.content.decode()
        assert ReferralDraft.objects.filter(pk=draft.pk).exists()
        response = client.post(url)
        assert response.status_code == 302
        assert not ReferralDraft.objects.filter(pk=draft.pk).exists()


class TestReferralFromAScreening:
    def _screening(self, alice: User, organisation: Organisation, codes: list[str]):
        return screening_services.screening_record(
            by=alice,
            organisation=organisation,
            list_key="child_sexual",
            is_child=True,
            observed_codes=codes,
        )

    @pytest.mark.page("referrals:draft_from_screening")
    def test_a_screening_starts_a_referral_with_its_answers(
        self, alice: User, northmoor_police: Organisation, council: Organisation
    ) -> None:
        screening = self._screening(alice, northmoor_police, ["CS-DR-01", "CS-EX-01"])
        client = factories.signed_in_client(alice)
        detail = client.get(reverse("screening:detail", args=[screening.pk])).content.decode()
        url = reverse("referrals:draft_from_screening", args=[screening.pk])
        assert f'action="{url}"' in detail
        before = AuditEvent.objects.count()
        response = client.post(url)
        assert response.status_code == 302
        draft = ReferralDraft.objects.get(created_by=alice)
        assert response["Location"] == reverse("referrals:task_list", args=[draft.public_id])
        # The screening's "child" means "may be under 18": carried over as age uncertain with
        # reason to believe they are under 18 (treated as a child until assessed), not certain.
        assert draft.answers == {
            "age": {"under_18": "not_sure", "reason_to_believe_child": "yes"},
            "exploitation": {"types": ["sexual"]},
            "indicators": {"observed": ["CS-DR-01", "CS-EX-01"]},
        }
        assert AuditEvent.objects.count() == before + 1
        event = AuditEvent.objects.get(action="referral.draft_started")
        assert event.detail == {"from_screening": screening.pk}
        assert client.get(url).status_code == 405

    def test_an_outsider_gets_404(
        self, alice: User, charlie: User, northmoor_police: Organisation
    ) -> None:
        screening = self._screening(alice, northmoor_police, [])
        url = reverse("referrals:draft_from_screening", args=[screening.pk])
        assert factories.signed_in_client(charlie).post(url).status_code == 404
        assert not ReferralDraft.objects.exists()


class TestErrorPages:
    def test_a_wrong_method_gets_the_services_own_page(self, alice: User) -> None:
        response = factories.signed_in_client(alice).get(reverse("referrals:draft_start"))
        assert response.status_code == 405
        assert response["Allow"] == "POST"
        page = response.content.decode()
        assert "This page cannot be used that way - OpenNRM</title>" in page
        assert "govuk-header" in page or "govuk-template" in page

    def test_the_500_page_shows_a_reference_that_is_in_the_log(
        self, db: None, caplog: pytest.LogCaptureFixture
    ) -> None:
        request = RequestFactory().get("/somewhere/")
        request.user = AnonymousUser()
        caplog.set_level(logging.ERROR, logger="opennrm.pages.views")
        try:
            raise RuntimeError("a synthetic failure")
        except RuntimeError:
            assert sys.exc_info()[0] is RuntimeError
            response = server_error(request)
        assert response.status_code == 500
        reference = re.search(r'id="error-reference">([0-9A-F]{10})<', response.content.decode())
        assert reference is not None
        assert any(
            reference.group(1) in record.getMessage() and record.exc_info
            for record in caplog.records
        )


@pytest.mark.page("pages:accessibility")
def test_the_accessibility_statement_has_what_the_regulations_require(db: None) -> None:
    page = Client().get(reverse("pages:accessibility")).content.decode()
    for words in [
        "Compliance status",
        "partially compliant with the",
        "Enforcement procedure",
        "Equality and Human Rights Commission",
        "Equality Advisory and Support Service",
        "Public Sector Bodies (Websites and Mobile Applications) (No. 2) Accessibility Regulations 2018",
        "Non-accessible content",
        "Preparation of this accessibility statement",
    ]:
        assert words in page, words
