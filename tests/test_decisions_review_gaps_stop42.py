"""Review gaps of decisions, reconsideration and missing episodes (stop 42): the link from
decisions to the care app's missing episodes was a relation read by its name, which `make
imports` did not see; the support provider supporting the person now could not read the answer
to a reconsideration it had not asked for, though the letter tells the person to ask their
support worker; the reconsiderations queue and its reminders filtered on a date without an
index (ADR 0017, 0030, addenda of stop 42).

All people, places and organisations are synthetic."""

from __future__ import annotations

from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from opennrm.accommodation import services as accommodation
from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.care import selectors as care_selectors
from opennrm.cases.models import Case
from opennrm.decisions import selectors, services
from opennrm.decisions.models import Letter, ReconsiderationRequest

from . import case_factories, factories
from .decision_helpers import fresh

DECISIONS = Path(selectors.__file__).resolve().parent

# --- 1. Decisions reads missing episodes through what care registers -------------------------


def test_decisions_names_no_relation_of_the_care_app() -> None:
    """A developer changing the care app's missing episodes (renaming the relation, moving the
    model) ran `make imports` and saw no link from decisions to care: `back_from_missing` read
    `missing_episodes__...` by name, so the reminders and the operation board would have broken
    at run time only. Now care tells decisions how to find the cases whose person is back, from
    `CareConfig.ready`, through a function it imports from decisions (an edge the import graph
    shows), and no module of decisions names the relation."""
    named = [
        path.name
        for path in DECISIONS.glob("*.py")
        if "missing_episodes" in path.read_text(encoding="utf-8")
    ]
    assert named == []
    assert care_selectors.back_from_missing_of in selectors.BACK_FROM_MISSING


def test_without_what_care_registers_nobody_is_back_from_missing(
    monkeypatch: pytest.MonkeyPatch,
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
    dmitri: User,
) -> None:
    """The person went missing, the reasonable grounds decision was suspended, they came back:
    the case is back from missing, read through care's registered finder. Without it (care not
    installed, nothing recorded missing) decisions finds no case back, rather than failing on a
    relation it cannot see."""
    with time_machine.travel("2026-03-01 08:00:00+00:00", tick=False):
        case = case_factories.housed(
            alice,
            northmoor_police,
            authority,
            cora,
            maya,
            provider,
            submitted_at=timezone.now(),
            assigned_to=dmitri,
        )
    back = factories.suspended_while_missing(
        case,
        reported_by=maya,
        decider=dmitri,
        missing_at="2026-03-01 09:00:00+00:00",
        suspended_at="2026-03-02 10:00:00+00:00",
        returned_at="2026-03-03 15:00:00+00:00",
    )
    assert selectors.back_from_missing().filter(pk=back.pk).exists()
    monkeypatch.setattr(selectors, "BACK_FROM_MISSING", [])
    assert not selectors.back_from_missing().exists()


# --- 3. The provider supporting the person now reads the reconsideration's answer -------------


def _refused_reconsideration(
    case: Case, *, by: User, dmitri: User, support_provider: Organisation | None = None
) -> ReconsiderationRequest:
    request = services.reconsideration_request(
        by=by,
        case=case,
        grounds="She has told us more about the work.",
        expected_version=case.version,
        support_provider=support_provider,
    )
    services.reconsideration_decide(
        by=dmitri,
        request=request,
        accept=False,
        reasons="The new account does not change the decision.",
        expected_version=fresh(case).version,
    )
    assert Letter.objects.filter(reconsideration=request).exists()
    return ReconsiderationRequest.objects.get(pk=request.pk)


@pytest.fixture
def asked_by_referrer(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
    dmitri: User,
    sally: User,
) -> ReconsiderationRequest:
    """The person lives in a safe house of Test Refuge (Maya's); Alice, who referred them,
    asked for the negative reasonable grounds decision to be reconsidered, and was refused."""
    case = case_factories.refused_while_housed(
        alice, northmoor_police, authority, cora, maya, provider, dmitri, sally
    )
    return _refused_reconsideration(case, by=alice, dmitri=dmitri)


@pytest.mark.page("decisions:reconsideration_letter")
def test_the_provider_supporting_the_person_now_reads_the_answer_the_referrer_asked_for(
    asked_by_referrer: ReconsiderationRequest, maya: User, cora: User
) -> None:
    """Who: Maya, safe-house manager of the house the person lives in, and Cora, who coordinates
    their support. The refusal tells the person "Ask the person who referred you or your support
    worker to help you find a solicitor, and do this soon". Maya had not asked for the
    reconsideration (the referrer had), so the letter answered her "Page not found" and the
    support plan did not list it: the support worker the letter names could not read it. Now
    whoever supports the person now reads it, from the support plan, the read audited as any
    reader's."""
    request = asked_by_referrer
    url = reverse("decisions:reconsideration_letter", args=[request.pk])
    for reader in (maya, cora):
        client = factories.signed_in_client(reader)
        plan = client.get(reverse("support:plan", args=[request.case.reference]))
        assert url in plan.content.decode()
        response = client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        assert "The new account does not change the decision." in page
        assert reverse("support:plan", args=[request.case.reference]) in page
        read = AuditEvent.objects.filter(actor=reader, action="person.viewed").last()
        assert read is not None
        assert read.detail["document"]["id"] == request.pk
    pdf = factories.signed_in_client(maya).get(
        reverse("decisions:reconsideration_letter_pdf", args=[request.pk])
    )
    assert pdf["Content-Type"] == "application/pdf"
    assert AuditEvent.objects.filter(actor=maya, action="person.exported").exists()


def test_the_provider_supporting_now_reads_the_answer_to_another_providers_request(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    omar: User,
    provider: Organisation,
    dmitri: User,
    sally: User,
) -> None:
    """A provider that supported the person before (Omar's) asked for the reconsideration; the
    person now lives with Test Refuge. Maya reads the answer, as Omar's provider, which asked,
    still does; the decision's own letter stays the case readers'."""
    case = case_factories.refused_while_housed(
        alice, northmoor_police, authority, cora, maya, provider, dmitri, sally
    )
    before = omar.memberships.get().organisation
    request = _refused_reconsideration(case, by=omar, dmitri=dmitri, support_provider=before)
    url = reverse("decisions:reconsideration_letter", args=[request.pk])
    for reader in (maya, omar):
        response = factories.signed_in_client(reader).get(url)
        assert response.status_code == 200
        assert "The new account does not change the decision." in response.content.decode()
    decision_letter = reverse("decisions:letter", args=[request.decision_id])
    assert factories.signed_in_client(maya).get(decision_letter).status_code == 404


def test_an_outsider_or_a_provider_no_longer_supporting_gets_not_found(
    asked_by_referrer: ReconsiderationRequest, maya: User, omar: User, charlie: User
) -> None:
    """Another provider's manager (Omar), a first responder of another force (Charlie): "Page
    not found", for the page and the PDF, and nothing audited as theirs. Once the person has
    left Maya's house (the placement ended), Maya no longer supports them, and did not ask:
    not found for her either."""
    request = asked_by_referrer
    urls = [
        reverse("decisions:reconsideration_letter", args=[request.pk]),
        reverse("decisions:reconsideration_letter_pdf", args=[request.pk]),
    ]
    for outsider in (omar, charlie):
        client = factories.signed_in_client(outsider)
        assert [client.get(url).status_code for url in urls] == [404, 404]
        assert not AuditEvent.objects.filter(
            actor=outsider, action__in=["person.viewed", "person.exported"]
        ).exists()
    placement = care_selectors.live_placement_of(request.case)
    assert placement is not None
    accommodation.placement_end(
        by=maya, placement=placement, on=timezone.localdate(), reason="moved_on"
    )
    client = factories.signed_in_client(maya)
    assert [client.get(url).status_code for url in urls] == [404, 404]


# --- 4. The reconsiderations queue has an index on its date -----------------------------------


@pytest.mark.django_db
def test_the_reconsiderations_queue_has_its_index() -> None:
    """A decision maker opening "Reconsiderations" (one authority's cases in reconsideration,
    by the day each must be decided) and the morning's reminders (cases in reconsideration due
    by a day) read `reconsideration_decide_by`, which no index covered, unlike the other two
    queues' dates: at a national backlog each read walked the authority's cases. The queue's
    index now orders one status's cases by that date, as the others' do."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Case._meta.db_table)
    columns = {name: c["columns"] for name, c in constraints.items() if c["index"]}
    assert columns.get("case_rc_queue_idx") == [
        "competent_authority_id",
        "status",
        "reconsideration_decide_by",
    ]
