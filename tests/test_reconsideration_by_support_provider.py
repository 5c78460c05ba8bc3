"""A support provider supporting the person may ask for a negative decision to be reconsidered,
where the rules let support providers ask (every England and Wales, Scotland and Northern
Ireland profile lists them in `reconsideration_requesters`, as the Modern Slavery Statutory
Guidance does): from the support plan, for the provider of the person's live placement or a
support coordinator. Until 2026-12-04 only the referrer could, while the letters told the person
"your support worker can ask us"."""

from __future__ import annotations

import dataclasses

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.decisions import services as decisions
from opennrm.decisions.models import ReconsiderationRequest
from opennrm.notifications.models import Notification
from opennrm.policy.profiles import Requester

from . import case_factories, factories
from . import support_plan_helpers as h


def _newest_notification() -> int:
    return Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.mark.page("support:reconsideration_request")
def test_the_safe_house_manager_asks_for_a_reconsideration_from_the_support_plan(
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
    case = case_factories.refused_while_housed(
        alice, northmoor_police, authority, cora, maya, provider, dmitri, sally
    )
    url = reverse("support:reconsideration_request", args=[case.reference])
    client = factories.signed_in_client(maya)
    plan = client.get(reverse("support:plan", args=[case.reference])).content.decode()
    assert url in plan
    assert factories.signed_in_client(omar).get(url).status_code == 404
    assert client.put(url).status_code == 405
    page = client.get(url)
    assert page.status_code == 200
    assert "Ask for reconsideration" in page.content.decode()

    # A refusal shows the grounds typed again: the read is recorded.
    refused = client.post(url, {"grounds": "", "expected_version": case.version})
    assert refused.status_code == 200
    before = _newest_notification()
    response = client.post(
        url, {"grounds": "She has told us more about the work.", "expected_version": case.version}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("support:plan", args=[case.reference])
    request = ReconsiderationRequest.objects.get(case=case)
    assert request.requested_by == maya
    assert request.grounds == "She has told us more about the work."
    case.refresh_from_db()
    assert case.status == CaseStatus.RECONSIDERATION
    told = Notification.objects.filter(pk__gt=before, kind="reconsideration.requested")
    assert {n.recipient for n in told} >= {dmitri, sally}
    assert all(n.body.startswith("Test Refuge, supporting the person, has asked") for n in told)
    event = AuditEvent.objects.filter(action="reconsideration.requested").get()
    assert event.organisation == provider

    # The answer reaches the manager who asked, on the plan they asked from.
    before = _newest_notification()
    decisions.reconsideration_decide(
        by=dmitri,
        request=request,
        accept=False,
        reasons="The new account does not change the decision.",
        expected_version=case.version,
    )
    (answer,) = Notification.objects.filter(pk__gt=before, recipient=maya)
    assert answer.subject == f"Reconsideration refused on {case.reference}"
    assert answer.url == reverse("support:plan", args=[case.reference])


def test_a_grounds_page_shown_again_records_the_read(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
    dmitri: User,
    sally: User,
) -> None:
    case = case_factories.refused_while_housed(
        alice, northmoor_police, authority, cora, maya, provider, dmitri, sally
    )
    url = reverse("support:reconsideration_request", args=[case.reference])
    # A stale version: refused, the grounds kept on the page.
    response = factories.signed_in_client(maya).post(
        url, {"grounds": "More about the work.", "expected_version": case.version - 1}
    )
    assert response.status_code == 200
    assert "More about the work." in response.content.decode()
    reads = AuditEvent.objects.filter(actor=maya, action="person.viewed")
    assert [r.detail["fields"] for r in reads] == [["reconsideration_grounds"]]
    assert not ReconsiderationRequest.objects.filter(case=case).exists()


def test_not_offered_while_no_negative_decision_stands(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
) -> None:
    case = case_factories.consenting(
        alice, northmoor_police, authority, submitted_at=timezone.now()
    )
    h.living(cora, maya, provider, case)
    url = reverse("support:reconsideration_request", args=[case.reference])
    client = factories.signed_in_client(maya)
    assert url not in client.get(reverse("support:plan", args=[case.reference])).content.decode()
    assert client.get(url).status_code == 404


def test_where_the_rules_do_not_let_support_providers_ask_they_cannot(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
    dmitri: User,
    sally: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = case_factories.refused_while_housed(
        alice, northmoor_police, authority, cora, maya, provider, dmitri, sally
    )
    real = decisions._profile

    def referrers_only(case: Case, on: object) -> object:
        return dataclasses.replace(
            real(case, on),
            reconsideration_requesters=(Requester.REFERRER,),
        )

    monkeypatch.setattr(decisions, "_profile", referrers_only)
    with pytest.raises(ValidationError, match="a support provider cannot ask"):
        decisions.reconsideration_request(
            by=maya,
            case=case,
            grounds="More.",
            expected_version=case.version,
            support_provider=provider,
        )
    monkeypatch.setattr(
        "opennrm.care.selectors.reconsideration_requesters", lambda case: (Requester.REFERRER,)
    )
    url = reverse("support:reconsideration_request", args=[case.reference])
    assert factories.signed_in_client(maya).get(url).status_code == 404
