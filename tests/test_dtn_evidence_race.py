"""A duty to notify report (an adult who does not consent) must never keep an evidence file.

The evidence page reads the draft, sees a referral, and calls `services.evidence_add` with the
draft object it read. If, meanwhile, another tab saves "does not consent" (which deletes every
evidence file, `draft_save_answers`), `evidence_add` judges the route on its stale copy, without
re-reading or locking the draft, and stores the file on what is now a duty to notify report;
`_report` then submits the report without deleting it.
"""

from __future__ import annotations

import contextlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from opennrm.accounts.models import Organisation, User
from opennrm.referrals import services, steps
from opennrm.referrals.models import DraftStatus, EvidenceFile, ReferralDraft
from tests import referral_helpers as r

PDF = b"%PDF-1.7\n% statement of Zorica Fictitious\n%%EOF"


def _stale_referral_then_refusal(alice: User, police: Organisation) -> ReferralDraft:
    draft = r.draft_through_services(
        alice, police, {"age": r.ADULT, "consent": r.CONSENTS, "person": r.PERSON}
    )
    stale = ReferralDraft.objects.get(pk=draft.pk)  # what the evidence page read
    assert steps.route(stale.answers) == steps.Route.REFERRAL
    # Another tab: the person withdraws consent; the draft becomes a duty to notify report.
    services.draft_save_answers(
        by=alice, draft=draft, step=steps.STEP_BY_SLUG["consent"], data=r.REFUSES
    )
    return stale


def test_an_upload_racing_the_refusal_of_consent_is_refused(
    alice: User, northmoor_police: Organisation, routing: Organisation
) -> None:
    stale = _stale_referral_then_refusal(alice, northmoor_police)
    with pytest.raises(ValidationError):
        services.evidence_add(
            by=alice,
            draft=stale,
            upload=SimpleUploadedFile("Zorica statement.pdf", PDF),
            max_bytes=10**6,
        )
    assert not EvidenceFile.objects.filter(draft=stale).exists()


def test_a_duty_to_notify_report_submitted_after_a_racing_upload_keeps_no_file(
    alice: User, northmoor_police: Organisation, routing: Organisation
) -> None:
    stale = _stale_referral_then_refusal(alice, northmoor_police)
    # The other tab finishes the report's anonymous answers.
    draft = ReferralDraft.objects.get(pk=stale.pk)
    for slug, data in (("person", r.ANONYMOUS_PERSON), ("exploitation", r.ANONYMOUS_EXPLOITATION)):
        draft = services.draft_save_answers(
            by=alice, draft=draft, step=steps.STEP_BY_SLUG[slug], data=data
        )
    # The evidence page's upload, on the draft it read before the refusal, lands last.
    with contextlib.suppress(ValidationError):
        services.evidence_add(
            by=alice,
            draft=stale,
            upload=SimpleUploadedFile("Zorica statement.pdf", PDF),
            max_bytes=10**6,
        )
    submitted = services.referral_submit(by=alice, draft=draft)
    assert submitted.report is not None
    assert ReferralDraft.objects.get(pk=stale.pk).status == DraftStatus.REPORTED
    assert not EvidenceFile.objects.filter(draft=stale).exists(), (
        "the duty to notify report's draft still holds the person's evidence file"
    )
