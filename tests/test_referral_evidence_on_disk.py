"""An evidence file sent with a referral request that is refused, stale, or rolled back must not
stay on disk. The referral services wrote the file (encrypted, in the evidence folder) and then
went on: should anything after the write fail (the row, the timeline entry, the notification,
the audit event), the transaction rolled back and the file stayed, with no row pointing at it,
so no page could serve it, nothing listed it and erasing the person never deleted it (ADR 0014:
erasure reaches every copy). Each retry left another copy. The same fix as the decisions'
reconsideration evidence (stop 37): everything that can refuse is checked and locked first,
and the files written are deleted if anything after them fails.

All people, places and organisations are synthetic."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import Case
from opennrm.referrals import services, steps
from opennrm.referrals.models import EvidenceFile, ReferralAddition, ReferralDraft

from . import referral_helpers as r

PDF = b"%PDF-1.7\n% a statement by Zorica\n%%EOF"
MAX = 10**6


def _on_disk(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


def _failing(action: str, real: Any) -> Any:
    """`audit_record` as it is, except that the event `action` cannot be written."""

    def audit_record(**kwargs: Any) -> Any:
        if kwargs["action"] == action:
            raise RuntimeError("the audit event could not be written")
        return real(**kwargs)

    return audit_record


@pytest.fixture
def draft(
    alice: User, northmoor_police: Organisation, routing: Organisation, settings, tmp_path: Path
) -> ReferralDraft:
    """Zorica's referral, being written, evidence folder empty."""
    settings.PRIVATE_FILES_DIR = tmp_path
    return r.draft_through_services(
        alice, northmoor_police, {"age": r.ADULT, "consent": r.CONSENTS, "person": r.PERSON}
    )


@pytest.fixture
def submitted(
    alice: User, northmoor_police: Organisation, routing: Organisation, settings, tmp_path: Path
) -> Case:
    """Zorica's referral, submitted with one file."""
    settings.PRIVATE_FILES_DIR = tmp_path
    draft = r.draft_through_services(
        alice,
        northmoor_police,
        {**r.ADULT_REFERRAL, "indicators": r.indicators_seen("AL-DR-01", "AL-EX-01")},
        evidence=[("Zorica statement.pdf", PDF)],
    )
    result = services.referral_submit(by=alice, draft=draft)
    assert result.case is not None
    return result.case


# --- A draft's evidence page ---------------------------------------------------------------------


def test_a_draft_upload_rolled_back_after_its_file_was_written_leaves_no_file(
    draft: ReferralDraft, alice: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alice uploads Zorica's statement; the file is written, then the audit event cannot be
    (the request fails, the transaction rolls back): no row, and no file either."""
    monkeypatch.setattr(
        services, "audit_record", _failing("referral.evidence_added", services.audit_record)
    )
    with pytest.raises(RuntimeError):
        services.evidence_add(
            by=alice, draft=draft, upload=SimpleUploadedFile("statement.pdf", PDF), max_bytes=MAX
        )
    assert not EvidenceFile.objects.exists()
    assert _on_disk(tmp_path) == set(), "evidence file left on disk with no record"


def test_a_draft_upload_refused_as_stale_writes_no_file(
    draft: ReferralDraft, alice: User, tmp_path: Path
) -> None:
    """The evidence page was read before another tab saved "does not consent" (the draft is now
    an anonymous report): the upload is refused, and nothing was written."""
    stale = ReferralDraft.objects.get(pk=draft.pk)
    services.draft_save_answers(
        by=alice, draft=draft, step=steps.STEP_BY_SLUG["consent"], data=r.REFUSES
    )
    with pytest.raises(ValidationError):
        services.evidence_add(
            by=alice, draft=stale, upload=SimpleUploadedFile("statement.pdf", PDF), max_bytes=MAX
        )
    assert _on_disk(tmp_path) == set()


def test_an_upload_that_is_kept_is_on_disk(
    draft: ReferralDraft, alice: User, tmp_path: Path
) -> None:
    added = services.evidence_add(
        by=alice, draft=draft, upload=SimpleUploadedFile("statement.pdf", PDF), max_bytes=MAX
    )
    assert _on_disk(tmp_path) == {Path(added.file.path)}


# --- Information added to a submitted referral ---------------------------------------------------


def test_an_addition_rolled_back_after_its_files_were_written_leaves_none(
    submitted: Case, alice: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alice adds a statement and a photograph to the submitted referral; both files are
    written, then the decision makers cannot be told (the request fails and rolls back): only
    the file submitted with the referral is left."""
    before = _on_disk(tmp_path)

    def broken(**_: object) -> None:
        raise RuntimeError("the notification could not be stored")

    monkeypatch.setattr(services, "deliver", broken)
    with pytest.raises(RuntimeError):
        services.referral_addition_add(
            by=alice,
            case=submitted,
            text="A second statement, and a photograph of the car wash.",
            uploads=[
                SimpleUploadedFile("second statement.pdf", PDF),
                SimpleUploadedFile("car wash.pdf", PDF),
            ],
            max_bytes=MAX,
        )
    assert not ReferralAddition.objects.exists()
    assert EvidenceFile.objects.count() == 1
    assert _on_disk(tmp_path) == before, "evidence files left on disk with no record"


def test_an_addition_whose_audit_event_fails_leaves_no_file(
    submitted: Case, alice: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _on_disk(tmp_path)
    monkeypatch.setattr(
        services, "audit_record", _failing("referral.addition_added", services.audit_record)
    )
    with pytest.raises(RuntimeError):
        services.referral_addition_add(
            by=alice,
            case=submitted,
            text="A second statement.",
            uploads=[SimpleUploadedFile("second statement.pdf", PDF)],
            max_bytes=MAX,
        )
    assert _on_disk(tmp_path) == before


def test_an_addition_answering_a_request_answered_meanwhile_writes_no_file(
    submitted: Case, alice: User, bob: User, dmitri: User, tmp_path: Path
) -> None:
    """Alice and Bob both answer the authority's question; Bob's answer, with a file, comes
    second and is refused: his file is not written."""
    asked = services.information_request_ask(
        by=dmitri,
        case=submitted,
        question="Where was she kept?",
        respond_by=timezone.localdate() + timedelta(7),
    )
    services.referral_addition_add(
        by=alice, case=submitted, text="At the car wash.", answers=asked, max_bytes=MAX
    )
    before = _on_disk(tmp_path)
    with pytest.raises(ValidationError, match="already been answered"):
        services.referral_addition_add(
            by=bob,
            case=submitted,
            text="In a flat above it.",
            uploads=[SimpleUploadedFile("photo.pdf", PDF)],
            answers=asked,
            max_bytes=MAX,
        )
    assert _on_disk(tmp_path) == before


def test_an_addition_with_one_file_refused_writes_none_of_them(
    submitted: Case, alice: User, tmp_path: Path
) -> None:
    before = _on_disk(tmp_path)
    with pytest.raises(ValidationError):
        services.referral_addition_add(
            by=alice,
            case=submitted,
            text="Two files.",
            uploads=[
                SimpleUploadedFile("statement.pdf", PDF),
                SimpleUploadedFile("script.exe", b"MZ\x90\x00 not a document"),
            ],
            max_bytes=MAX,
        )
    assert _on_disk(tmp_path) == before
