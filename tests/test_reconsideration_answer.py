"""The answer to a reconsideration reaches whoever asked, by a link they can open, once."""

from __future__ import annotations

from django.urls import reverse

from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import Case
from opennrm.decisions import services as decisions
from opennrm.notifications.models import Notification
from tests import case_factories, factories


def _negative(
    alice: User, police: Organisation, authority: Organisation, dmitri: User, sally: User
) -> Case:
    case = case_factories.consenting(alice, police, authority)
    return case_factories.refused_at_reasonable_grounds(case, decider=dmitri, approver=sally)


def _ask_as_colleague(bob: User, case: Case) -> None:
    """Bob, a first responder at the referring organisation (not the one who referred), asks
    from the case page, as `may_request_reconsideration` lets him."""
    url = reverse("cases:reconsideration_request", args=[case.reference])
    response = factories.signed_in_client(bob).post(
        url, {"grounds": "New statement from her.", "expected_version": case.version}
    )
    assert response.status_code == 302, response.content.decode()[:500]


def test_a_referring_colleague_who_asked_is_not_sent_a_link_to_a_support_plan(
    alice: User,
    bob: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    sally: User,
) -> None:
    case = _negative(alice, northmoor_police, authority, dmitri, sally)
    _ask_as_colleague(bob, case)
    case.refresh_from_db()
    request = decisions.ReconsiderationRequest.objects.get(case=case)
    decisions.reconsideration_decide(
        by=dmitri,
        request=request,
        accept=False,
        reasons="It does not change it.",
        expected_version=case.version,
    )
    client = factories.signed_in_client(bob)
    for told in Notification.objects.filter(recipient=bob, case=case):
        assert client.get(told.url).status_code == 200, (
            f"{told.kind}: {told.url} is a 404 for the first responder told"
        )


def test_a_colleague_who_asked_after_the_referrer_left_is_told_the_answer_once(
    alice: User,
    bob: User,
    olivia: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    sally: User,
) -> None:
    case = _negative(alice, northmoor_police, authority, dmitri, sally)
    case_factories.leaves(alice, northmoor_police, by=olivia)
    _ask_as_colleague(bob, case)
    case.refresh_from_db()
    request = decisions.ReconsiderationRequest.objects.get(case=case)
    before = Notification.objects.order_by("-pk").values_list("pk", flat=True).first()
    decisions.reconsideration_decide(
        by=dmitri,
        request=request,
        accept=False,
        reasons="It does not change it.",
        expected_version=case.version,
    )
    told = Notification.objects.filter(pk__gt=before, recipient=bob)
    assert [(n.kind, n.url) for n in told] == [
        ("case.status_changed", reverse("cases:detail", args=[case.reference]))
    ], "Bob is told the one answer twice, once by a link he cannot open"


def test_a_safe_house_manager_who_has_left_is_not_told_the_answer(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
    dmitri: User,
    sally: User,
) -> None:
    from opennrm.accounts.roles import Role

    case = case_factories.refused_while_housed(
        alice, northmoor_police, authority, cora, maya, provider, dmitri, sally
    )
    url = reverse("support:reconsideration_request", args=[case.reference])
    response = factories.signed_in_client(maya).post(
        url, {"grounds": "She has told us more.", "expected_version": case.version}
    )
    assert response.status_code == 302
    # Maya leaves Test Refuge: its administrator takes her access away.
    admin = factories.user(organisation=provider, role=Role.ORGANISATION_ADMIN)
    case_factories.leaves(maya, provider, by=admin)
    case.refresh_from_db()
    request = decisions.ReconsiderationRequest.objects.get(case=case)
    decisions.reconsideration_decide(
        by=dmitri,
        request=request,
        accept=False,
        reasons="It does not change it.",
        expected_version=case.version,
    )
    told = Notification.objects.filter(recipient=maya, kind="reconsideration.decided")
    assert not told.exists(), (
        "the answer on a victim's case reaches a manager whose access was removed, by a link "
        "that is a 404 for her"
    )
