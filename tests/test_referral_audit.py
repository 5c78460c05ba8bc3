"""Each referral, case and notification write leaves exactly one audit event."""

from __future__ import annotations

import inspect

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.notifications import services as notification_services
from opennrm.notifications.models import Notification
from opennrm.referrals import services, steps
from opennrm.screening.models import Screening

from . import referral_helpers as r

PDF = b"%PDF-1.7\n0\n%%EOF"


def _complete(draft, by, pages) -> None:
    for slug, data in pages.items():
        services.draft_save_answers(by=by, draft=draft, step=steps.STEP_BY_SLUG[slug], data=data)


@pytest.fixture
def draft(alice: User, northmoor_police: Organisation, routing: Organisation, settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path
    return services.draft_start(by=alice, organisation=northmoor_police)


def count(action: str | None = None) -> int:
    events = AuditEvent.objects.all()
    return events.filter(action=action).count() if action else events.count()


def test_each_referral_write_leaves_one_event(draft, alice: User) -> None:
    before = count()
    services.draft_save_answers(by=alice, draft=draft, step=steps.STEP_BY_SLUG["age"], data=r.ADULT)
    assert count() == before + 1
    _complete(draft, alice, {k: v for k, v in r.ADULT_REFERRAL.items() if k != "age"})
    before = count()
    evidence = services.evidence_add(
        by=alice, draft=draft, upload=SimpleUploadedFile("s.pdf", PDF), max_bytes=10_000
    )
    assert count() == before + 1
    services.evidence_remove(by=alice, evidence=evidence)
    assert count() == before + 2
    services.referral_submit(by=alice, draft=draft)
    # The submission alone: its event records the screening it made.
    assert count() == before + 3
    submitted = AuditEvent.objects.get(action="referral.submitted")
    screening = Screening.objects.get()
    assert submitted.detail["screening"] == {
        "id": screening.pk,
        "list_key": screening.list_key,
        "catalogue": f"{screening.catalogue.key}@{screening.catalogue.version}",
        "observed": len(screening.observed_codes),
        "indicated": screening.indicated,
    }
    assert count("screening.recorded") == 0
    # Submitting again changes nothing and records nothing.
    services.referral_submit(by=alice, draft=draft)
    assert count() == before + 3
    notification = Notification.objects.filter(recipient=alice).first()
    notification_services.notification_mark_read(by=alice, notification=notification)
    assert count() == before + 4


def test_duty_to_notify_and_delete_each_leave_one_event(
    draft, alice: User, northmoor_police: Organisation
) -> None:
    _complete(draft, alice, r.DUTY_TO_NOTIFY)
    before = count()
    services.referral_submit(by=alice, draft=draft)
    assert count() == before + 1
    other = services.draft_start(by=alice, organisation=northmoor_police)
    before = count()
    services.draft_delete(by=alice, draft=other)
    assert count() == before + 1


@pytest.mark.parametrize("module", [services, notification_services])
def test_every_public_write_service_is_exercised_above(module) -> None:
    exercised = {
        "draft_start",
        "draft_save_answers",
        "draft_delete",
        "evidence_add",
        "evidence_remove",
        "referral_submit",
        "notification_mark_read",
        # After submission: each has its one-event test in tests/test_referral_additions.py.
        "information_request_ask",
        "information_request_withdraw",
        "referral_addition_add",
        "referral_addition_mark_seen",
    }
    internal = {
        "deliver",  # called inside services that audit; names who was told in their event
        "deliver_all",  # the same, several deliveries in one statement
        "emails_in_one_task",  # writes no row of its own: deliver's e-mails in one task
        # Called only inside privacy's erasure and retention run, whose one event covers them
        # (tests/test_retention_and_erasure.py).
        "referral_records_pseudonymise",
        "drafts_unsubmitted_delete",
        "drafts_deletion_warn",
        "notifications_old_delete",
        # Called by referral_submit (and by the API once its transaction commits); its event is
        # linkage.submission_check (tests/test_linkage_run.py).
        "earlier_referrals_check",
    }
    public = {
        name
        for name, fn in inspect.getmembers(module, inspect.isfunction)
        if fn.__module__ == module.__name__ and not name.startswith("_")
    }
    assert public - internal <= exercised
