"""Every display or export of a person's identifying data leaves an audit event naming who,
which person, which fields or document; listings show no names; the data-protection officer
sees who looked at a person, and nobody else can."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.audit import services as audit_services
from opennrm.audit.models import AuditEvent
from opennrm.cases.models import Case
from opennrm.decisions import services as decision_services
from opennrm.referrals.models import EvidenceFile, ReferralDraft

from . import factories
from . import referral_helpers as r

PDF = b"%PDF-1.7\n" + b"0" * 64 + b"\n%%EOF"
READS = ("person.viewed", "person.exported", "evidence.downloaded")


def reads(**filters: object) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action__in=READS, **filters).order_by("id"))


def _decision(case: Case, by: User):
    with time_machine.travel("2026-03-02 10:00:00+00:00", tick=False):
        return decision_services.decision_record_reasonable_grounds(
            by=by, case=case, outcome="positive", reasons="Credible.", expected_version=1
        )


class TestCasePages:
    @pytest.mark.page("cases:detail")
    def test_the_case_page_records_who_saw_which_fields(
        self, case: Case, alice: User, dmitri: User
    ) -> None:
        for reader in (alice, dmitri):
            response = factories.signed_in_client(reader).get(
                reverse("cases:detail", args=[case.reference]), REMOTE_ADDR="203.0.113.5"
            )
            assert response.status_code == 200
            assert "Zorica Testova" in response.content.decode()
            [event] = reads(actor=reader)
            assert event.action == "person.viewed"
            assert event.person_id == case.person_id
            assert (event.object_type, event.object_id) == ("cases.case", str(case.pk))
            assert event.ip_address == "203.0.113.5"
            assert event.request_id == response["X-Request-ID"]
            # The fields that had a value: no family name, no date of birth was given.
            assert event.detail == {"fields": ["given_names", "responders_account"]}
            # The event names the fields, never their values.
            assert "Zorica" not in str(event.detail)

    def test_nothing_is_recorded_for_someone_refused(self, case: Case, charlie: User) -> None:
        client = factories.signed_in_client(charlie)
        assert client.get(reverse("cases:detail", args=[case.reference])).status_code == 404
        assert reads() == []

    def test_letters_on_screen_and_as_pdf(self, case: Case, alice: User, dmitri: User) -> None:
        decision = _decision(case, dmitri)
        factories.signed_in_client(alice).get(reverse("decisions:letter", args=[decision.pk]))
        factories.signed_in_client(dmitri).get(reverse("decisions:letter_pdf", args=[decision.pk]))
        viewed, exported = reads()
        assert (viewed.actor, viewed.action) == (alice, "person.viewed")
        assert (exported.actor, exported.action) == (dmitri, "person.exported")
        for event in (viewed, exported):
            assert event.person_id == case.person_id
            assert event.detail == {
                "fields": ["given_names", "decision_reasons"],
                "document": {"type": "decisions.decision", "id": decision.pk},
            }

    def test_evidence_downloads_from_the_case_and_the_decision_page(
        self, alice: User, dmitri: User, routing: Organisation, settings, tmp_path
    ) -> None:
        settings.PRIVATE_FILES_DIR = tmp_path
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        r.complete(client, draft, r.ADULT_REFERRAL)
        client.post(
            reverse("referrals:evidence", args=[draft.public_id]),
            {"file": SimpleUploadedFile("statement Zorica.pdf", PDF)},
        )
        r.submit(client, draft)
        case = Case.objects.get()
        item = EvidenceFile.objects.get()
        before = len(reads())
        response = factories.signed_in_client(dmitri).get(
            reverse("cases:evidence_download", args=[case.reference, item.pk])
        )
        assert response.status_code == 200
        event = reads()[before]
        assert (event.actor, event.action, event.person_id) == (
            dmitri,
            "evidence.downloaded",
            case.person_id,
        )
        assert event.detail == {
            "fields": [],
            "document": {"type": "referrals.evidencefile", "id": item.pk},
        }
        page = factories.signed_in_client(dmitri).get(
            reverse("decisions:decide", args=[case.reference, "reasonable-grounds"])
        )
        assert "statement Zorica.pdf" in page.content.decode()
        assert reads()[-1].detail == {"fields": ["evidence_names"]}
        assert reads()[-1].request_id == page["X-Request-ID"]


class TestDraftPages:
    def test_pages_that_show_saved_identifying_answers_are_recorded(self, alice: User) -> None:
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        r.complete(client, draft, {"age": r.ADULT, "consent": r.CONSENTS})
        person_page = reverse("referrals:step", args=[draft.public_id, "person"])
        # Empty, the person page shows nothing of anyone.
        assert client.get(person_page).status_code == 200
        assert reads() == []
        # Saved in the background as it is typed: nothing is shown back.
        client.post(person_page, {"given_names": "Zorica Testova"}, HTTP_X_AUTOSAVE="1")
        assert reads() == []
        # Shown again, with what was saved.
        assert "Zorica Testova" in client.get(person_page).content.decode()
        [event] = reads()
        assert (event.actor, event.action, event.person_id) == (alice, "person.viewed", None)
        assert (event.object_type, event.object_id) == ("referrals.referraldraft", str(draft.pk))
        assert event.detail == {"fields": ["given_names"]}
        # A page with nothing identifying on it records nothing.
        client.get(reverse("referrals:step", args=[draft.public_id, "age"]))
        assert len(reads()) == 1

    @pytest.mark.page("referrals:check_answers")
    def test_check_answers_names_every_identifying_field_shown(
        self, alice: User, routing: Organisation
    ) -> None:
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        r.complete(client, draft, r.ADULT_REFERRAL)
        before = len(reads())
        assert client.get(reverse("referrals:check_answers", args=[draft.public_id])).status_code
        event = reads()[before]
        assert event.detail["fields"] == [
            "given_names",
            "family_name",
            "date_of_birth",
            "aliases",
            "safe_contact",
            "exploitation_places",
            "persons_account",
            "responders_account",
            "immediate_needs_details",
        ]

    def test_draft_evidence_list_and_download(self, alice: User, settings, tmp_path) -> None:
        settings.PRIVATE_FILES_DIR = tmp_path
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        r.complete(client, draft, {"age": r.ADULT, "consent": r.CONSENTS})
        evidence_page = reverse("referrals:evidence", args=[draft.public_id])
        client.get(evidence_page)
        assert reads() == []
        client.post(evidence_page, {"file": SimpleUploadedFile("statement Zorica.pdf", PDF)})
        assert "statement Zorica.pdf" in client.get(evidence_page).content.decode()
        assert reads()[-1].detail == {"fields": ["evidence_names"]}
        item = EvidenceFile.objects.get()
        client.get(reverse("referrals:evidence_download", args=[draft.public_id, item.pk]))
        event = reads()[-1]
        assert (event.action, event.object_id) == ("evidence.downloaded", str(draft.pk))
        assert event.detail["document"] == {"type": "referrals.evidencefile", "id": item.pk}

    def test_an_outsider_reads_nothing(self, alice: User, charlie: User) -> None:
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        r.complete(client, draft, {"age": r.ADULT, "consent": r.CONSENTS, "person": r.PERSON})
        for route in ("referrals:check_answers", "referrals:evidence"):
            outsider = factories.signed_in_client(charlie)
            assert outsider.get(reverse(route, args=[draft.public_id])).status_code == 404
        assert reads() == []


def test_only_read_actions_are_accepted(alice: User) -> None:
    with pytest.raises(ValueError, match="not a read action"):
        audit_services.audit_read(by=alice, person=None, fields=[], action="person.deleted")


_RANDOM_TOKEN = re.compile(r"[A-Za-z0-9]{32,}")


class TestListingsShowNoNames:
    @pytest.mark.page("notifications:list")
    def test_referrals_decisions_and_notifications_lists(
        self, alice: User, dmitri: User, routing: Organisation
    ) -> None:
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        r.complete(client, draft, r.ADULT_REFERRAL)
        r.submit(client, draft)
        reference = Case.objects.get().reference
        for reader, route in (
            (alice, "referrals:my_referrals"),
            (alice, "notifications:list"),
            (dmitri, "decisions:queue"),
            (dmitri, "notifications:list"),
        ):
            html = factories.signed_in_client(reader).get(reverse(route)).content.decode()
            assert reference in html, (reader, route)
            # Random tokens (CSRF) can spell a short name by chance ("...cZeey..."): not a leak.
            html = _RANDOM_TOKEN.sub("", html)
            for value in (
                r.PERSON["given_names"],
                r.PERSON["family_name"],
                "Zee",
                r.PERSON["safe_contact"],
                r.ACCOUNT["persons_account"],
            ):
                assert value not in html, (reader, route, value)
        assert reads() == []


class TestDataProtectionOfficer:
    @pytest.mark.page("privacy:person_reads")
    def test_sees_who_looked_which_fields_when_and_from_where(
        self, case: Case, alice: User, dmitri: User, dpo: User
    ) -> None:
        factories.signed_in_client(dmitri).get(
            reverse("cases:detail", args=[case.reference]), REMOTE_ADDR="198.51.100.23"
        )
        decision = _decision(case, dmitri)
        factories.signed_in_client(alice).get(reverse("decisions:letter_pdf", args=[decision.pk]))
        page = factories.signed_in_client(dpo).get(
            reverse("privacy:person_reads"), {"reference": case.reference}
        )
        html = page.content.decode()
        assert page.status_code == 200
        assert "dmitri@example.org" in html
        assert "Viewed the case" in html
        assert "given names, the first responder&#39;s account" in html
        assert "198.51.100.23" in html
        assert "alice@example.org" in html
        assert f"Downloaded decision letter {decision.pk} (PDF)" in html
        assert "2 reads" in html
        assert "Zorica" not in html
        # The look-up itself is recorded, so the trail shows who watched.
        looked_up = AuditEvent.objects.get(action="audit.person_reads_viewed")
        assert (looked_up.actor, looked_up.detail["reference"]) == (dpo, case.reference)

    def test_reads_of_the_draft_before_it_became_the_case_are_included(
        self, alice: User, routing: Organisation, dpo: User
    ) -> None:
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        r.complete(client, draft, r.ADULT_REFERRAL)
        client.get(reverse("referrals:check_answers", args=[draft.public_id]))
        r.submit(client, draft)
        case = ReferralDraft.objects.get(pk=draft.pk).case
        html = (
            factories.signed_in_client(dpo)
            .get(reverse("privacy:person_reads"), {"reference": case.reference})
            .content.decode()
        )
        assert "Viewed the draft referral" in html
        assert f"Draft referral (now case {case.reference})" in html

    def test_an_unknown_reference_is_explained(self, dpo: User) -> None:
        html = (
            factories.signed_in_client(dpo)
            .get(reverse("privacy:person_reads"), {"reference": "NRM-NONE-0000"})
            .content.decode()
        )
        assert "No case has this reference" in html
        assert not AuditEvent.objects.filter(action="audit.person_reads_viewed").exists()

    def test_the_audit_trail_is_open_to_the_officer(self, dpo: User) -> None:
        assert factories.signed_in_client(dpo).get(reverse("audit:search")).status_code == 200

    def test_everyone_else_gets_404(
        self, case: Case, people_in_every_role: dict[Role, User]
    ) -> None:
        url = reverse("privacy:person_reads")
        for role, person in people_in_every_role.items():
            status = (
                factories.signed_in_client(person)
                .get(url, {"reference": case.reference})
                .status_code
            )
            assert status == (200 if role == Role.DATA_PROTECTION_OFFICER else 404), role
        nobody = factories.user("nobody@example.org")
        assert factories.signed_in_client(nobody).get(url).status_code == 404
        assert Client().get(url).status_code == 302
