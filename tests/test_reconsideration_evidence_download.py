"""A support provider that asked for a reconsideration from the support plan may read back the
evidence it sent, as the referrer who asked from the case page may: the provider's support
coordinators and safe-house managers, while they still work there; never the case's other
evidence, and every download recorded in the audit trail."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.models import Case
from opennrm.decisions import services as decisions
from opennrm.decisions.models import ReconsiderationEvidence, ReconsiderationRequest

from . import case_factories, factories

UTC = timezone.get_fixed_timezone(0)
PDF = b"%PDF-1.7\n% a letter from Zorica's doctor\n%%EOF"


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
    """A negative reasonable grounds decision on a person living at Test Refuge."""
    settings.PRIVATE_FILES_DIR = tmp_path
    return case_factories.refused_while_housed(
        alice, northmoor_police, authority, cora, maya, provider, dmitri, sally
    )


def _ask_from_the_plan(client: Client, case: Case) -> ReconsiderationEvidence:
    response = client.post(
        reverse("support:reconsideration_request", args=[case.reference]),
        {
            "grounds": "Her doctor has written about the injuries.",
            "expected_version": case.version,
            "evidence": [SimpleUploadedFile("Zorica doctor.pdf", PDF)],
        },
    )
    assert response.status_code == 302
    return ReconsiderationEvidence.objects.get(request__case=case)


def test_the_provider_downloads_from_the_support_plan_the_evidence_it_sent(
    refused_while_placed: Case, maya: User
) -> None:
    case = refused_while_placed
    client = factories.signed_in_client(maya)
    item = _ask_from_the_plan(client, case)
    # The page the referrer downloads from is not the provider's: the case is not theirs.
    referrers_page = reverse("cases:reconsideration_evidence", args=[case.reference, item.pk])
    assert client.get(referrers_page).status_code == 404

    plan = client.get(reverse("support:plan", args=[case.reference])).content.decode()
    link = re.search(r'href="([^"]+)">Zorica doctor\.pdf<', plan)
    assert link is not None, "the support plan offers no link to the evidence the provider sent"
    read = AuditEvent.objects.filter(actor=maya, action="person.viewed").latest("pk")
    assert "evidence_names" in read.detail["fields"]

    download = client.get(link.group(1))
    assert download.status_code == 200, (
        f"{download.status_code}: the provider cannot download the evidence it sent"
    )
    assert b"".join(download.streaming_content) == PDF
    event = AuditEvent.objects.filter(actor=maya, action="evidence.downloaded").latest("pk")
    assert event.person_id == case.person_id
    assert event.detail["document"] == {"type": "decisions.reconsiderationevidence", "id": item.pk}


@pytest.mark.page("support:reconsideration_evidence")
def test_only_the_provider_that_sent_it_may_download_it_and_nothing_else(
    refused_while_placed: Case,
    alice: User,
    cora: User,
    maya: User,
    omar: User,
    dmitri: User,
) -> None:
    case = refused_while_placed
    item = _ask_from_the_plan(factories.signed_in_client(maya), case)
    url = reverse("support:reconsideration_evidence", args=[case.reference, item.pk])

    assert factories.signed_in_client(maya).post(url).status_code == 405
    # The same organisation's coordinator may read it back; the download is recorded.
    download = factories.signed_in_client(cora).get(url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Cache-Control"] == "private, no-store"
    assert b"".join(download.streaming_content) == PDF
    event = AuditEvent.objects.filter(actor=cora, action="evidence.downloaded").get()
    assert event.person_id == case.person_id
    assert event.detail["document"]["id"] == item.pk

    # Another provider, the referrer and the decider (who have their own pages) are outsiders.
    for outsider in (omar, alice, dmitri):
        assert factories.signed_in_client(outsider).get(url).status_code == 404
    # The case's reference must match the file's.
    other_case = case_factories.case(
        referred_by=alice,
        referring_organisation=case.referring_organisation,
        authority=case.competent_authority,
    )
    elsewhere = reverse("support:reconsideration_evidence", args=[other_case.reference, item.pk])
    assert factories.signed_in_client(maya).get(elsewhere).status_code == 404

    # Evidence the referrer sent with an earlier request on the same case is not the provider's.
    earlier = ReconsiderationRequest.objects.create(
        case=case,
        decision=item.request.decision,
        requested_by=alice,
        requested_at=timezone.now(),
        grounds="The referrer's grounds.",
        state="refused",
    )
    referrers = ReconsiderationEvidence(
        request=earlier,
        uploaded_by=alice,
        original_name="referrer.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256="0" * 64,
    )
    referrers.file.save("EVREFERRER.pdf", SimpleUploadedFile("referrer.pdf", PDF), save=True)
    theirs = reverse("support:reconsideration_evidence", args=[case.reference, referrers.pk])
    assert factories.signed_in_client(maya).get(theirs).status_code == 404
    plan = factories.signed_in_client(maya).get(reverse("support:plan", args=[case.reference]))
    assert "referrer.pdf" not in plan.content.decode()

    # Once she no longer works at Test Refuge, the manager who sent it may not read it back.
    shelter = factories.organisation("Hillside Shelter", OrganisationKind.SUPPORT_PROVIDER)
    Membership.objects.filter(user=maya).update(is_active=False)
    Membership.objects.create(user=maya, organisation=shelter, role=Role.SAFE_HOUSE_MANAGER)
    assert factories.signed_in_client(maya).get(url).status_code == 404
    assert not AuditEvent.objects.filter(
        action="evidence.downloaded", actor__in=[omar, alice, dmitri, maya]
    ).exists()


@pytest.mark.django_db(transaction=True)
def test_the_migration_finds_the_provider_that_asked_in_the_audit_trail(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    maya: User,
    provider: Organisation,
    dmitri: User,
    sally: User,
) -> None:
    def refused() -> Case:
        made = case_factories.case(
            referred_by=alice, referring_organisation=northmoor_police, authority=authority
        )
        return case_factories.refused_at_reasonable_grounds(made, decider=dmitri, approver=sally)

    by_referrer, by_provider = refused(), refused()
    for case, asker, supporting in ((by_referrer, alice, None), (by_provider, maya, provider)):
        decisions.reconsideration_request(
            by=asker,
            case=case,
            grounds="More.",
            expected_version=case.version,
            support_provider=supporting,
        )
    executor = MigrationExecutor(connection)
    executor.migrate([("decisions", "0010_decision_case_kind_index")])
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    asked = dict(ReconsiderationRequest.objects.values_list("case_id", "support_provider_id"))
    assert asked == {by_referrer.pk: None, by_provider.pk: provider.pk}


def test_the_referrer_never_downloads_what_a_provider_sent_and_the_decider_does(
    refused_while_placed: Case, maya: User, alice: User, dmitri: User
) -> None:
    """A provider's files can say where the person lives, which the referrer is never told."""
    case = refused_while_placed
    item = _ask_from_the_plan(factories.signed_in_client(maya), case)
    url = reverse("cases:reconsideration_evidence", args=[case.reference, item.pk])

    assert factories.signed_in_client(alice).get(url).status_code == 404
    download = factories.signed_in_client(dmitri).get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF


def test_those_who_read_back_a_providers_evidence_are_those_who_act_for_it() -> None:
    """One set of roles says who acts for a support provider (`accounts.roles`): asking for a
    reconsideration and reading back what was sent with it, as acting for it in an operation;
    the decisions app keeps no copy of its own."""
    from opennrm.accounts.roles import SUPPORT_PROVIDER_STAFF
    from opennrm.decisions import selectors

    assert {Role.SUPPORT_COORDINATOR, Role.SAFE_HOUSE_MANAGER} == SUPPORT_PROVIDER_STAFF
    assert not hasattr(selectors, "SUPPORT_ASKERS")
