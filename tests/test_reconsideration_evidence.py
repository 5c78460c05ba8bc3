"""Evidence sent with a reconsideration request (issue 12 item 6): checked and encrypted as a
referral's evidence is, shown to the competent authority's deciders, every read audited."""

from __future__ import annotations

from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from opennrm.accounts.models import User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.decisions import services
from opennrm.decisions.models import ReconsiderationEvidence, ReconsiderationRequest
from opennrm.lib import crypto

from . import case_factories, factories

MONDAY = "2026-03-02 10:00:00+00:00"
PDF = b"%PDF-1.7\n% a medical report about Zorica\n%%EOF"


@pytest.fixture
def refused(case: Case, dmitri: User, sally: User, settings, tmp_path: Path) -> Case:
    """Zorica's case with a negative reasonable grounds decision in effect, on Monday."""
    settings.PRIVATE_FILES_DIR = tmp_path
    with time_machine.travel(MONDAY, tick=False):
        return case_factories.refused_at_reasonable_grounds(case, decider=dmitri, approver=sally)


@pytest.fixture
def outsider_decider(db: None) -> User:
    elsewhere = factories.organisation("Other Authority", OrganisationKind.COMPETENT_AUTHORITY)
    return factories.user("odette@example.org", organisation=elsewhere, role=Role.DECISION_MAKER)


def _ask(alice: User, case: Case, uploads: list[SimpleUploadedFile]) -> ReconsiderationRequest:
    with time_machine.travel(MONDAY, tick=False):
        return services.reconsideration_request(
            by=alice,
            case=case,
            grounds="A medical report arrived.",
            expected_version=case.version,
            uploads=uploads,
            max_bytes=10**6,
        )


def test_evidence_is_stored_encrypted_with_the_request_in_one_event(
    refused: Case, alice: User, tmp_path: Path
) -> None:
    before = AuditEvent.objects.count()
    request = _ask(alice, refused, [SimpleUploadedFile("Zorica medical.pdf", PDF)])
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("pk")
    assert event.action == "reconsideration.requested"
    assert event.detail == {"evidence_files": 1}
    (item,) = request.evidence.all()
    assert item.original_name == "Zorica medical.pdf"
    on_disk = (tmp_path / "evidence" / item.file.name).read_bytes()
    assert on_disk.startswith(crypto.FILE_MAGIC)
    assert b"Zorica" not in on_disk
    assert item.file.open("rb").read() == PDF


def test_a_bad_file_refuses_the_request_and_changes_nothing(refused: Case, alice: User) -> None:
    for upload, message in (
        (SimpleUploadedFile("report.docx", b"PK\x03\x04 a word file"), "PDF, JPEG or PNG"),
        (SimpleUploadedFile("report.pdf", PDF + b"0" * 10**6), "must be smaller than"),
    ):
        with pytest.raises(ValidationError) as refusal:
            _ask(alice, refused, [upload])
        assert message in refusal.value.message_dict["evidence"][0]
    assert not ReconsiderationRequest.objects.exists()
    assert not ReconsiderationEvidence.objects.exists()
    assert Case.objects.get(pk=refused.pk).status == CaseStatus.NEGATIVE_REASONABLE_GROUNDS


@pytest.mark.page("cases:reconsideration_request")
def test_the_referrer_sends_evidence_with_the_request_and_a_bad_file_keeps_the_grounds(
    refused: Case, alice: User, charlie: User, settings
) -> None:
    url = reverse("cases:reconsideration_request", args=[refused.reference])
    with time_machine.travel(MONDAY, tick=False):
        assert factories.signed_in_client(charlie).get(url).status_code == 404
        client = factories.signed_in_client(alice)
        assert client.put(url).status_code == 405
        settings.EVIDENCE_MAX_BYTES = 1024
        typed = "The medical report shows the injuries she described."
        for upload, message in (
            (SimpleUploadedFile("notes.txt", b"plain"), "must be a PDF, JPEG or PNG"),
            (SimpleUploadedFile("big.pdf", PDF + b"0" * 2000), "must be smaller than"),
            (SimpleUploadedFile("empty.pdf", b""), "The selected file is empty"),
        ):
            html = client.post(
                url, {"grounds": typed, "expected_version": refused.version, "evidence": [upload]}
            ).content.decode()
            assert message in html, message
            assert typed in html
            assert "Your grounds have been kept: select the files again" in html
        reads = AuditEvent.objects.filter(actor=alice, action="person.viewed").order_by("pk")
        assert reads.last().detail["fields"] == ["reconsideration_grounds"]
        response = client.post(
            url,
            {
                "grounds": typed,
                "expected_version": refused.version,
                "evidence": [SimpleUploadedFile("medical report.pdf", PDF)],
            },
        )
    assert response.status_code == 302
    (item,) = ReconsiderationEvidence.objects.all()
    assert item.original_name == "medical report.pdf"
    assert Case.objects.get(pk=refused.pk).status == CaseStatus.RECONSIDERATION


@pytest.mark.page("cases:reconsideration_evidence")
def test_the_deciders_see_and_download_the_evidence_audited(
    refused: Case, alice: User, dmitri: User, charlie: User, outsider_decider: User
) -> None:
    request = _ask(alice, refused, [SimpleUploadedFile("Zorica medical.pdf", PDF)])
    (item,) = request.evidence.all()
    client = factories.signed_in_client(dmitri)
    page = client.get(reverse("decisions:reconsideration", args=[request.pk])).content.decode()
    assert "Zorica medical.pdf" in page
    read = AuditEvent.objects.filter(actor=dmitri, action="person.viewed").latest("pk")
    assert read.detail["fields"] == ["reconsideration_grounds", "evidence_names"]
    url = reverse("cases:reconsideration_evidence", args=[refused.reference, item.pk])
    for outsider in (charlie, outsider_decider):
        assert factories.signed_in_client(outsider).get(url).status_code == 404
    assert client.post(url).status_code == 405
    download = client.get(url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == PDF
    event = AuditEvent.objects.filter(actor=dmitri, action="evidence.downloaded").latest("pk")
    assert event.person_id == refused.person_id
    assert event.detail["document"] == {"type": "decisions.reconsiderationevidence", "id": item.pk}
    # The referrer who sent it may read it back; the case of another request's number is not.
    assert factories.signed_in_client(alice).get(url).status_code == 200
    other = reverse("cases:reconsideration_evidence", args=[refused.reference, item.pk + 1])
    assert client.get(other).status_code == 404
