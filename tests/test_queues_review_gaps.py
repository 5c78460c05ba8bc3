"""Found by a review role-playing a decision maker working the queues and the home page: a
conclusive decision waiting for approval is not one "that can be made now"; the workload counts
only the viewer's authorities' cases; every addition and question the home counts can be
reached from its paged list; a suspended reasonable grounds case stays in the queue."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.decisions import services as decisions
from opennrm.decisions.selectors import QueueFilter, queue_count, workload
from opennrm.referrals.models import InformationRequest, ReferralAddition

from . import case_factories, factories


def today(offset: int = 0) -> Any:
    return timezone.localdate() + timedelta(days=offset)


def row_of(page: str, case: Case) -> str:
    return page.split(case.reference, 2)[-1].split("</tr>", 1)[0]


def test_a_conclusive_decision_waiting_for_approval_is_not_one_that_can_be_made_now(
    dmitri: User, alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """Dmitri records a negative conclusive grounds decision; it waits for a second decision
    maker. His home page still says "1 conclusive grounds decision that can be made now" and
    the conclusive grounds queue tags the case "Can be decided now", but the decision page
    refuses any decision on it ("waiting for a second decision maker's approval",
    services.decision_refusal). The count and the tag should leave out a case whose decision
    is already made and only waiting for approval (it is on the approvals tab)."""
    eligible = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=CaseStatus.RECOVERY_PERIOD,
        submitted_at=timezone.now() - timedelta(days=90),
        conclusive_grounds_from=today(-3),
    )
    eligible = Case.objects.get(pk=eligible.pk)
    drafted = decisions.decision_record_conclusive_grounds(
        by=dmitri,
        case=eligible,
        outcome="insufficient_evidence",
        negative_reason="insufficient_information",
        reasons="Not enough evidence.",
        expected_version=eligible.version,
    )
    assert drafted.state == "awaiting_approval"
    assert decisions.decision_refusal(case=eligible, stage=drafted.kind) is not None

    client = factories.signed_in_client(dmitri)
    home = client.get("/").content.decode()
    assert "conclusive grounds decision that can be made now" not in home, (
        "the home page counts a decision already made and waiting for approval as one to make"
    )
    queue = client.get("/decisions/?queue=conclusive-grounds").content.decode()
    assert "Can be decided now" not in row_of(queue, eligible), (
        "the queue tags 'Can be decided now' a case whose decision page refuses a decision"
    )


def test_the_workload_counts_only_the_authority_s_own_cases(
    sally: User,
    dmitri: User,
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """Sally, senior decision maker at the test authority, reads the workload table on the
    queue page. Dmitri decides there and also at a second competent authority, where one case
    (overdue) is assigned to him. Sally's table shows Dmitri with 1 open case and 1 overdue:
    another authority's case, which none of her queues shows (selectors.workload counts every
    case assigned to him, whatever its authority). It should count only the cases of the
    authorities whose queues she sees: 0 and 0."""
    elsewhere = factories.organisation(
        name="Another competent authority", kind=OrganisationKind.COMPETENT_AUTHORITY
    )
    Membership.objects.create(user=dmitri, organisation=elsewhere, role=Role.DECISION_MAKER)
    case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=elsewhere,
        assigned_to=dmitri,
        reasonable_grounds_due=today(-2),
    )
    rows = {row["user"].pk: row for row in workload(Actor.of_session(sally))}
    assert (rows[dmitri.pk]["open_cases"], rows[dmitri.pk]["overdue"]) == (0, 0), (
        "the workload counts another authority's case"
    )
    page = factories.signed_in_client(sally).get("/decisions/").content.decode()
    dmitri_row = page.split("Dmitri Dane", 1)[1].split("</tr>", 1)[0]
    assert ">1<" not in dmitri_row


def test_every_addition_the_home_page_counts_can_be_reached_from_its_list(
    dmitri: User, alice: User, case: Case
) -> None:
    """Dmitri's home says "201 additions to referrals not yet read" and links to the list.
    The list (referrals.views.additions_unseen) shows the 200 oldest and stops: no paging, no
    word that there are more, so the newest addition cannot be reached from it. ADR 30: "a
    count beside a link is a promise that the page it opens shows that many records"; rule 14
    of CONTRIBUTING: page such a list with paging.page_of."""
    start = timezone.now() - timedelta(days=10)
    for n in range(201):
        ReferralAddition.objects.create(
            case=case, added_by=alice, added_at=start + timedelta(minutes=n), text=f"Note {n}"
        )
    newest = ReferralAddition.objects.order_by("-added_at").first()
    assert newest is not None
    client = factories.signed_in_client(dmitri)
    home = client.get("/").content.decode()
    assert "201 additions to referrals not yet read" in home
    page = client.get("/referrals/additions/").content.decode()
    shown = page.count("#after-submission")
    more = "page=2" in page or "Next" in page
    assert shown == 201 or more, (
        f"the list shows {shown} of the 201 additions counted, and offers no next page"
    )


def test_a_suspended_case_whose_person_is_back_is_in_the_reasonable_grounds_queue(
    case: Case, dmitri: User, alice: User
) -> None:
    """The person went missing before the reasonable grounds decision and Dmitri recorded it
    as suspended. She is found and back (her return is recorded). ADR 10's addendum: "found
    again, the person is decided on as one never missing would be"; the decision is still open
    (decisions.services.REASONABLE_GROUNDS_OPEN). But the reasonable grounds queue lists only
    `awaiting_rg` cases (selectors.QUEUES), so her case is in no queue, no overdue count on the
    home page and no workload: the decision makers' work list has lost her. The queue should
    list a suspended case (at least once the person is back), with its deadline."""
    from opennrm.care.models import MissingEpisode

    from .decision_helpers import rg

    rg(case, dmitri, "suspended", "Reported missing from her accommodation before a decision.")
    MissingEpisode.objects.create(
        case=case,
        went_missing_on=today(-5),
        reported_at=timezone.now() - timedelta(days=5),
        reported_by=alice,
        returned_on=today(-1),
        return_recorded_at=timezone.now(),
        return_recorded_by=alice,
    )
    assert Case.objects.get(pk=case.pk).status == CaseStatus.RG_SUSPENDED
    page = factories.signed_in_client(dmitri).get("/decisions/?queue=reasonable-grounds")
    assert case.reference in page.content.decode(), (
        "a case whose reasonable grounds decision is still to be made is in no decision queue"
    )


def test_the_reasonable_grounds_queue_holds_every_status_a_decision_can_be_recorded_in() -> None:
    """The queue lists what the decision page accepts (`services.REASONABLE_GROUNDS_OPEN`), no
    more and no less: its own status and the one it lists apart."""
    from opennrm.decisions.selectors import statuses_of

    assert set(statuses_of("reasonable-grounds")) == set(decisions.REASONABLE_GROUNDS_OPEN)


def test_a_suspended_case_is_listed_apart_and_counted_overdue_in_the_home_and_the_workload(
    case: Case, dmitri: User, alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """Suspended with its deadline passed, the case is listed apart in the queue ("Suspended:
    the person is missing", above the cases awaiting a decision), and counted overdue on the
    home page and in its decision maker's workload, as the queue's "Overdue only" lists it."""
    from .decision_helpers import rg

    Case.objects.filter(pk=case.pk).update(assigned_to=dmitri)
    rg(case, dmitri, "suspended", "Reported missing before a decision.")
    Case.objects.filter(pk=case.pk).update(reasonable_grounds_due=today(-1))
    actor = Actor.of_session(dmitri)
    overdue = QueueFilter(overdue_only=True)
    assert queue_count(actor, "reasonable-grounds", overdue) == 1
    rows = {row["user"].pk: row for row in workload(actor)}
    assert (rows[dmitri.pk]["open_cases"], rows[dmitri.pk]["overdue"]) == (1, 1)
    client = factories.signed_in_client(dmitri)
    assert "1 reasonable grounds decision overdue" in client.get("/").content.decode()
    waiting = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    page = client.get("/decisions/?queue=reasonable-grounds&overdue=yes").content.decode()
    apart, rest = page.split("Waiting for a decision", 1)
    assert "Suspended: the person is missing" in apart
    assert case.reference in apart
    assert "1 suspended case, oldest deadline first" in apart
    assert case.reference not in rest
    assert "0 cases" in rest
    page = client.get("/decisions/?queue=reasonable-grounds").content.decode()
    assert waiting.reference in page.split("Waiting for a decision", 1)[1]


def test_a_conclusive_decision_waiting_for_approval_is_tagged_so_and_left_out_of_can_decide(
    dmitri: User, alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """The queue's "Can be decided now" filter leaves the case out; its row says the decision
    is waiting for approval; a case beside it with nothing waiting is still counted."""
    kwargs: dict[str, Any] = {
        "referred_by": alice,
        "referring_organisation": northmoor_police,
        "authority": authority,
        "status": CaseStatus.RECOVERY_PERIOD,
        "submitted_at": timezone.now() - timedelta(days=90),
        "conclusive_grounds_from": today(-3),
    }
    waiting = Case.objects.get(pk=case_factories.case(**kwargs).pk)
    case_factories.case(**kwargs)
    decisions.decision_record_conclusive_grounds(
        by=dmitri,
        case=waiting,
        outcome="insufficient_evidence",
        negative_reason="insufficient_information",
        reasons="Not enough evidence.",
        expected_version=waiting.version,
    )
    actor = Actor.of_session(dmitri)
    assert queue_count(actor, "conclusive-grounds", QueueFilter(due_today=True)) == 1
    client = factories.signed_in_client(dmitri)
    home = client.get("/").content.decode()
    assert "1 conclusive grounds decision that can be made now" in home
    page = client.get("/decisions/?queue=conclusive-grounds").content.decode()
    assert "Decision waiting for approval" in row_of(page, waiting)
    filtered = client.get("/decisions/?queue=conclusive-grounds&due=today").content.decode()
    assert waiting.reference not in filtered


def test_every_question_and_referral_on_the_referrals_page_can_be_reached(
    alice: User, dmitri: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """The referrals page listed the first 200 questions waiting for an answer and the 200
    newest referrals of the organisation, and said nothing of the rest. Each list is now paged
    on its own: the questions by `questions_page`, the referrals by `page`."""
    cases = [
        case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            submitted_at=timezone.now() - timedelta(hours=n),
        )
        for n in range(51)
    ]
    for n, case in enumerate(cases):
        InformationRequest.objects.create(
            case=case,
            asked_by=dmitri,
            asked_at=timezone.now(),
            respond_by=today(n),
            question="Which town?",
        )
    client = factories.signed_in_client(alice)
    home = client.get("/").content.decode()
    assert "51 questions from the competent authority waiting for your answer" in home
    first = client.get("/referrals/").content.decode()
    assert "51 questions" in first
    assert "51 referrals" in first
    assert "questions_page=2#questions" in first
    assert "page=2#referrals" in first
    assert cases[-1].reference not in first.split('id="referrals"', 1)[1]
    second = client.get("/referrals/?questions_page=2&page=2").content.decode()
    questions, referrals = second.split('id="referrals"', 1)
    assert cases[-1].reference in questions
    assert cases[0].reference not in questions
    assert cases[-1].reference in referrals
    assert cases[0].reference not in referrals


def test_the_case_page_offers_the_reasonable_grounds_decision_of_a_suspended_case(
    case: Case, dmitri: User
) -> None:
    """Opened from the queue's "Suspended" table, the case page must offer the decision the
    decision page accepts; it offered it only to an `awaiting_rg` case."""
    from .decision_helpers import rg

    rg(case, dmitri, "suspended", "Reported missing from her accommodation before a decision.")
    page = factories.signed_in_client(dmitri).get(f"/cases/{case.reference}/").content.decode()
    assert "Make the reasonable grounds decision" in page


def test_the_api_queue_tags_and_lists_as_the_page_does(
    case: Case, dmitri: User, alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """The API's queue gave "can_decide" to a case whose decision waits for approval, and had
    no way to list the suspended cases the page lists apart."""
    from . import api_helpers as a
    from .decision_helpers import rg

    eligible = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=CaseStatus.RECOVERY_PERIOD,
        submitted_at=timezone.now() - timedelta(days=90),
        conclusive_grounds_from=today(-3),
    )
    eligible = Case.objects.get(pk=eligible.pk)
    decisions.decision_record_conclusive_grounds(
        by=dmitri,
        case=eligible,
        outcome="insufficient_evidence",
        negative_reason="insufficient_information",
        reasons="Not enough evidence.",
        expected_version=eligible.version,
    )
    rg(case, dmitri, "suspended", "Reported missing from her accommodation before a decision.")
    _, secret = a.token(dmitri, authority, scopes=(a.DECISIONS_READ,))
    client = a.client_with(secret)
    [row] = client.get("/api/v1/queues/conclusive-grounds").json()["items"]
    assert (row["reference"], row["deadline"]) == (eligible.reference, "none")
    listed = client.get("/api/v1/queues/reasonable-grounds").json()["items"]
    assert case.reference not in [r["reference"] for r in listed]
    apart = client.get("/api/v1/queues/reasonable-grounds?suspended=true").json()
    assert [r["reference"] for r in apart["items"]] == [case.reference]
    assert apart["count"] == 1
    none = client.get("/api/v1/queues/conclusive-grounds?suspended=true").json()
    assert none == {"items": [], "count": 0}
