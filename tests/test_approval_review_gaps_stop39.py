"""A second decision maker approving a negative decision (review of a decision maker's working
day, stop 39): what the referrer added after the decision was drafted is shown on the approval
page, and those who may approve are told when it arrives."""

from __future__ import annotations

from django.urls import reverse

from opennrm.accounts.models import User
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.models import Case
from opennrm.decisions import services
from opennrm.decisions.models import Decision, DecisionState
from opennrm.notifications.models import Notification
from opennrm.referrals import services as referral_services
from tests import factories
from tests.decision_helpers import fresh


def _drafted_refusal(case: Case, dmitri: User) -> Decision:
    drafted = services.decision_record_reasonable_grounds(
        by=dmitri,
        case=fresh(case),
        outcome="negative",
        negative_reason="insufficient_information",
        reasons="Not enough information about the exploitation.",
        expected_version=fresh(case).version,
    )
    assert drafted.state == DecisionState.AWAITING_APPROVAL
    return drafted


def _add(case: Case, alice: User, text: str) -> None:
    referral_services.referral_addition_add(
        by=alice, case=fresh(case), text=text, max_bytes=10_000_000
    )


def test_the_approval_page_shows_information_the_referrer_added_after_the_negative_decision_was_drafted(
    case: Case, alice: User, dmitri: User, sally: User
) -> None:
    """Who is hurt: the person, refused on information the authority no longer has alone.

    Dmitri drafts a negative reasonable grounds decision ("insufficient information"). Before a
    second decision maker approves it, Alice, the first responder, adds to the referral (for
    example, answering an earlier question with a GP's letter). The addition is announced to
    the case's assignee only (Dmitri, `deciders_to_tell`), never to the approver.

    What happens now: Sally opens "Approve a decision" (decisions.views.approval,
    templates/decisions/approval.html): it shows the draft, its reasons and nothing else, and
    `decision_approve` puts it in effect. She approves a refusal for want of information
    without being shown that information arrived after it was written.

    What should happen: the approval page shows (or links to and names) the information added
    since the decision was drafted, so the approver can refuse it and ask for a new decision."""
    drafted = services.decision_record_reasonable_grounds(
        by=dmitri,
        case=fresh(case),
        outcome="negative",
        negative_reason="insufficient_information",
        reasons="Not enough information about the exploitation.",
        expected_version=fresh(case).version,
    )
    assert drafted.state == DecisionState.AWAITING_APPROVAL
    referral_services.referral_addition_add(
        by=alice,
        case=fresh(case),
        text="GP letter: injuries consistent with her account of beatings at the car wash.",
        max_bytes=10_000_000,
    )
    html = (
        factories.signed_in_client(sally)
        .get(reverse("decisions:approval", args=[drafted.pk]))
        .content.decode()
    )
    assert "Approve a decision" in html
    assert "GP letter: injuries consistent with her account" in html


def test_the_approval_page_audits_the_additions_it_shows_and_leaves_out_those_before_the_draft(
    case: Case, alice: User, dmitri: User, sally: User
) -> None:
    """What was added before the draft was weighed by it and is on the case page; only what came
    after is shown and warned of, and the read names the additions, as the case page's does."""
    _add(case, alice, "Earlier: the address of the car wash.")
    drafted = _drafted_refusal(case, dmitri)
    approval = reverse("decisions:approval", args=[drafted.pk])
    client = factories.signed_in_client(sally)
    html = client.get(approval).content.decode()
    assert "Information added after this decision was drafted" not in html
    assert "Earlier: the address of the car wash." not in html
    read = AuditEvent.objects.filter(action="person.viewed").latest("pk")
    assert read.detail["fields"] == ["decision_reasons"]

    _add(case, alice, "Later: a GP letter.")
    html = client.get(approval).content.decode()
    assert "Information added after this decision was drafted" in html
    assert "Later: a GP letter." in html
    assert "Earlier: the address of the car wash." not in html
    read = AuditEvent.objects.filter(action="person.viewed").latest("pk")
    assert read.detail["fields"] == ["decision_reasons", "additions"]


def test_those_who_may_approve_are_told_of_an_addition_while_a_draft_waits(
    case: Case, alice: User, dmitri: User, sally: User
) -> None:
    """Sally, who may approve Dmitri's draft, is told that information came after it, with a
    link to the approval page; Dmitri, who drafted it and cannot approve it, gets the usual
    message about new information, and nobody is told twice."""
    drafted = _drafted_refusal(case, dmitri)
    _add(case, alice, "GP letter.")
    to_sally = Notification.objects.get(recipient=sally, kind="referral.information_added")
    assert to_sally.url == reverse("decisions:approval", args=[drafted.pk])
    assert "waits for a second decision maker's approval" in to_sally.body
    to_dmitri = Notification.objects.get(recipient=dmitri, kind="referral.information_added")
    assert to_dmitri.url != to_sally.url
    added = AuditEvent.objects.get(action="referral.addition_added")
    assert (added.detail["notified"], added.detail["approvers_notified"]) == (2, 1)


def test_no_approver_is_told_when_nothing_waits_for_approval(
    case: Case, alice: User, dmitri: User, sally: User
) -> None:
    """Without a draft waiting, an addition is announced as before (to every decision maker of
    an unassigned case), never as waiting for approval."""
    factories.user(
        "other@example.org", organisation=case.competent_authority, role=Role.DECISION_MAKER
    )
    _add(case, alice, "GP letter.")
    told = Notification.objects.filter(kind="referral.information_added")
    assert told.count() == 3
    assert not told.filter(body__contains="approval").exists()
    added = AuditEvent.objects.get(action="referral.addition_added")
    assert "approvers_notified" not in added.detail
