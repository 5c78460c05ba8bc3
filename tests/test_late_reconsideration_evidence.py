"""A late request for reconsideration from the support provider, taken in by a decision maker
with the provider's letter attached, must not give that letter to the referrer.

All people, places and organisations are synthetic."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import Case
from opennrm.decisions import services
from opennrm.decisions.models import ReconsiderationEvidence

from . import case_factories, factories

PDF = b"%PDF-1.7\n% Test Refuge, 12 Hidden Lane: a letter about Zorica\n%%EOF"


@pytest.fixture
def refused_while_placed(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
    dmitri: User,
    sally: User,
    settings,
    tmp_path: Path,
) -> Case:
    settings.PRIVATE_FILES_DIR = tmp_path
    return case_factories.refused_while_housed(
        alice, northmoor_police, authority, cora, maya, provider, dmitri, sally
    )


def test_the_referrer_cannot_download_the_providers_letter_taken_in_late(
    refused_while_placed: Case, alice: User, dmitri: User
) -> None:
    """What a user would see: the support provider housing the person writes (on its own
    letterhead, with the safe house's address) after the reconsideration window closed; the
    decision maker takes the request in as "Their support provider" and attaches the letter.
    The referring first responder, who is never told where the person lives, can then download
    that letter from /cases/<ref>/reconsideration/evidence/<id>/ (200), because
    `decisions.selectors.reconsideration_evidence_get` only hides files of requests whose
    `support_provider` is set, and a late request never sets it.
    What should happen: as for a request the provider made itself, 404 for the referrer
    (the decision makers still download it)."""
    case = refused_while_placed
    assert case.reconsideration_until is not None
    late_day = case.reconsideration_until + timedelta(days=10)
    with time_machine.travel(late_day.isoformat() + " 10:00:00+00:00", tick=False):
        case.refresh_from_db()
        services.reconsideration_take_late(
            by=dmitri,
            case=case,
            asked_by="support_provider",
            received_on=timezone.localdate() - timedelta(days=1),
            grounds="A new statement, with the refuge's letter.",
            circumstances="The letter was lost in the post for a month.",
            expected_version=case.version,
            uploads=[SimpleUploadedFile("Refuge letter.pdf", PDF)],
            max_bytes=1_000_000,
        )
        item = ReconsiderationEvidence.objects.get(request__case=case)
        url = reverse("cases:reconsideration_evidence", args=[case.reference, item.pk])
        decider: Client = factories.signed_in_client(dmitri)
        assert decider.get(url).status_code == 200
        referrer: Client = factories.signed_in_client(alice)
        assert referrer.get(url).status_code == 404, (
            "the referrer downloaded the support provider's letter taken in late"
        )
