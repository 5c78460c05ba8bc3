"""Record linkage, as a competent authority's decision maker uses it (reviewer: linkage), and
the fixes (ADR 0049, addendum of stop 39): a pair across two competent authorities goes to the
later referral's authority; an unlink can be taken back as a rejection can; the pair page shows
each referral's other names.

Pairs are written directly with `tests.linkage_helpers.pair_of`, as a run or the check at
submission stores them (scoring is tested elsewhere)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.linkage import selectors, services
from opennrm.linkage.models import OPEN_STATUSES, CandidatePair, PairStatus, UnlinkReason
from opennrm.linkage.services import candidate_pair_review, candidate_pair_unlink

from . import case_factories, factories, linkage_helpers


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def detention_authority(db: None) -> Organisation:
    """A second competent authority (as the IECA takes referrals of people in immigration
    detention, beside the SCA: routing rules send a referral to one or the other)."""
    return factories.organisation(
        "Detention Competent Authority", OrganisationKind.COMPETENT_AUTHORITY
    )


@pytest.fixture
def ivan(detention_authority: Organisation) -> User:
    return factories.user(
        "ivan@example.org",
        organisation=detention_authority,
        role=Role.DECISION_MAKER,
        full_name="Ivan Ieca",
    )


@pytest.fixture
def recognised(charlie: User, southvale_police: Organisation, authority: Organisation) -> Case:
    """Yuliya Ivanova, referred last year and recognised as a victim (positive CG)."""
    return case_factories.case(
        referred_by=charlie,
        referring_organisation=southvale_police,
        authority=authority,
        status=CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS,
        given_names="Yuliya",
        family_name="Ivanova",
        submitted_at=timezone.now() - timedelta(days=400),
    )


def test_a_repeat_referral_routed_to_the_other_competent_authority_reaches_a_decision_maker(
    recognised: Case,
    alice: User,
    northmoor_police: Organisation,
    detention_authority: Organisation,
    dmitri: User,
    ivan: User,
) -> None:
    """Who is hurt: a victim recognised by one competent authority (positive conclusive
    grounds) and referred again, this time from immigration detention, so routed to the
    other authority; and the decision makers of both, who should be told this may be
    re-trafficking.

    Now: the run (or the check at submission) stores the pair, but `pairs_for_review` asks
    that BOTH referrals be routed to an authority the user decides for. No decision maker of
    either authority has it in their queue, their home count, the case page's "Possible
    earlier referral" banner or the decisions queue tag: the pair exists for nobody and is
    never answered, so the link, the people count and the re-trafficking warning never come.

    Should: a pair across two authorities is proposed to someone who can answer it (the
    later referral's authority, or a reviewer deciding for both); at the least, one decision
    maker of either authority sees it waiting."""
    later = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=detention_authority,
        given_names="Julia",
        family_name="Ivanova",
        in_immigration_detention=True,
    )
    pair = linkage_helpers.pair_of(recognised, later)

    waiting = {user.email: selectors.open_pairs_count(Actor(user)) for user in (dmitri, ivan)}
    flagged = {
        user.email: bool(selectors.open_pairs_of_case(Actor(user), case).exists())
        for user, case in ((dmitri, recognised), (ivan, later))
    }

    assert CandidatePair.objects.filter(pk=pair.pk, status=PairStatus.PROPOSED).exists()
    assert any(waiting.values()), (
        f"a proposed pair across two authorities is in nobody's queue: {waiting}"
    )
    assert any(flagged.values()), (
        f"neither case page flags the possible earlier referral: {flagged}"
    )


def test_a_link_unlinked_by_mistake_can_be_put_back(
    recognised: Case,
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    sally: User,
) -> None:
    """Who is hurt: a decision maker who presses "Unlink" on the wrong pair (or on new
    information that turns out wrong), and the person: the link gave the re-trafficking
    warning, the protection from removal through the linked referral (ADR 0040) and the
    count of one person.

    Now: an unlinked pair's page offers no answer and no "Change this answer";
    `linkage:pair_reopen` is 404 for it (only a "Not the same person" answer can be taken
    back), and later runs treat the unlinked pair as rejected and never propose it again
    while the records are unchanged (and identities cannot be corrected after submission).
    The link is gone for good.

    Should: as for a rejection (ADR 0049, addendum of stop 37), an unlink can be taken back
    for a coded reason, the pair open again for an answer, the unlink kept in its history."""
    later = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        given_names="Julia",
        family_name="Ivanova",
    )
    pair = linkage_helpers.pair_of(recognised, later)
    candidate_pair_review(by=Actor(dmitri), pair_id=pair.pk, status=PairStatus.CONFIRMED)
    candidate_pair_unlink(by=Actor(sally), pair_id=pair.pk, reason=UnlinkReason.MISTAKE)
    assert not selectors.cases_linked(recognised.pk, later.pk)

    client = factories.signed_in_client(dmitri)
    reopen = reverse("linkage:pair_reopen", args=[pair.pk])
    page = client.get(reverse("linkage:pair", args=[pair.pk])).content.decode()

    assert reopen in page, "the unlinked pair's page offers no way to take the unlink back"
    assert client.get(reopen).status_code == 200
    client.post(reopen, {"reason": "mistake"})
    pair.refresh_from_db()
    assert pair.status in OPEN_STATUSES
    # Answered again, the two referrals are one person once more.
    candidate_pair_review(by=Actor(dmitri), pair_id=pair.pk, status=PairStatus.CONFIRMED)
    assert selectors.cases_linked(recognised.pk, later.pk)


def test_the_pair_page_shows_the_other_names_each_referral_records(
    charlie: User,
    southvale_police: Organisation,
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
) -> None:
    """Who is hurt: the decision maker deciding whether two referrals are one person, and
    the person if they get it wrong. The referral form records the other names a person uses
    ("aliases"); a person referred under a name they use, and once under their own, is the
    commonest reason two referrals differ by name, and the case page shows them ("Other
    names").

    Now: the pair page shows each record's name, date of birth, sex, nationality, area,
    places and safe contact, but not the other names: here the later referral's alias is the
    earlier one's name, and the page the decision maker answers from hides it (nor is its
    read audited).

    Should: a row "Other names" for both records, and "aliases" among the audited fields of
    the read when there are any."""
    earlier = case_factories.case(
        referred_by=charlie,
        referring_organisation=southvale_police,
        authority=authority,
        given_names="Yuliya",
        family_name="Ivanova",
        submitted_at=timezone.now() - timedelta(days=40),
    )
    later = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        given_names="Julia",
        family_name="Smith",
        aliases=["Yulia Ivanova", "Jules"],
    )
    pair = linkage_helpers.pair_of(earlier, later)
    client = factories.signed_in_client(dmitri)

    response = client.get(reverse("linkage:pair", args=[pair.pk]))

    assert response.status_code == 200
    page = _text(response.content.decode())
    assert "Yulia Ivanova" in page, "the later referral's other names are not shown"
    assert "Jules" in page
    read = AuditEvent.objects.get(action="person.viewed", actor=dmitri, object_id=str(later.pk))
    assert "aliases" in read.detail["fields"]


# --- The fixes, in more detail ------------------------------------------------------------


@pytest.fixture
def later_in_detention(
    alice: User, northmoor_police: Organisation, detention_authority: Organisation
) -> Case:
    """Julia Ivanova, referred now from immigration detention: routed to the other authority."""
    return case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=detention_authority,
        given_names="Julia",
        family_name="Ivanova",
        in_immigration_detention=True,
    )


@pytest.fixture
def both_authorities_dm(authority: Organisation, detention_authority: Organisation) -> User:
    user = factories.user(
        "dual@example.org", organisation=authority, role=Role.DECISION_MAKER, full_name="Dua Two"
    )
    Membership.objects.create(user=user, organisation=detention_authority, role=Role.DECISION_MAKER)
    return user


def test_a_pair_across_two_authorities_is_the_later_referrals_authoritys_to_answer(
    recognised: Case,
    later_in_detention: Case,
    dmitri: User,
    ivan: User,
    both_authorities_dm: User,
    alice: User,
) -> None:
    """The decision makers of the later referral's authority (and one deciding for both) have
    the pair in their queue, count, case page banner and decisions queue tag; the earlier
    referral's authority alone does not (its referral has nothing new to decide), nor does the
    first responder. Answered "Same person", the two are one person."""
    pair = linkage_helpers.pair_of(recognised, later_in_detention)
    url = reverse("linkage:pair", args=[pair.pk])

    for reviewer in (ivan, both_authorities_dm):
        actor = Actor(reviewer)
        assert selectors.open_pairs_count(actor) == 1
        assert list(selectors.open_pairs_for_review(actor)) == [pair]
        assert list(selectors.open_pairs_of_case(actor, later_in_detention)) == [pair]
        assert selectors.cases_with_open_pairs(actor, [later_in_detention.pk]) == {
            later_in_detention.pk
        }
        client = factories.signed_in_client(reviewer)
        assert url in client.get(reverse("linkage:pairs")).content.decode()
        case_page = client.get(reverse("cases:detail", args=[later_in_detention.reference]))
        assert "Possible earlier referral" in case_page.content.decode()

    dmitri_actor = Actor(dmitri)
    assert selectors.open_pairs_count(dmitri_actor) == 0
    assert not selectors.open_pairs_of_case(dmitri_actor, recognised).exists()
    assert factories.signed_in_client(dmitri).get(url).status_code == 404
    dmitri_page = factories.signed_in_client(dmitri).get(
        reverse("cases:detail", args=[recognised.reference])
    )
    assert later_in_detention.reference not in dmitri_page.content.decode()
    assert factories.signed_in_client(alice).get(url).status_code == 404
    alice_page = factories.signed_in_client(alice).get(
        reverse("cases:detail", args=[later_in_detention.reference])
    )
    assert recognised.reference not in alice_page.content.decode()

    factories.signed_in_client(ivan).post(url, {"answer": PairStatus.CONFIRMED})
    pair.refresh_from_db()
    assert pair.status == PairStatus.CONFIRMED
    assert selectors.cases_linked(recognised.pk, later_in_detention.pk)


def test_the_pair_page_does_not_open_the_other_authoritys_case_page(
    recognised: Case, later_in_detention: Case, ivan: User, both_authorities_dm: User
) -> None:
    """Ivan sees both records on the pair page, each read audited, but the earlier referral
    (the other authority's) is named without a link, and its case page stays closed to him."""
    pair = linkage_helpers.pair_of(recognised, later_in_detention)
    client = factories.signed_in_client(ivan)

    page = client.get(reverse("linkage:pair", args=[pair.pk])).content.decode()

    assert "Yuliya" in page
    assert recognised.reference in page
    assert reverse("cases:detail", args=[recognised.reference]) not in page
    assert reverse("cases:detail", args=[later_in_detention.reference]) in page
    assert f"Routed to {recognised.competent_authority.name}" in _text(page)
    read = AuditEvent.objects.filter(action="person.viewed", actor=ivan)
    assert set(read.values_list("object_id", flat=True)) == {
        str(recognised.pk),
        str(later_in_detention.pk),
    }
    assert client.get(reverse("cases:detail", args=[recognised.reference])).status_code == 404
    # Deciding for both, the earlier referral is linked as before.
    dual = factories.signed_in_client(both_authorities_dm)
    dual_page = dual.get(reverse("linkage:pair", args=[pair.pk])).content.decode()
    assert reverse("cases:detail", args=[recognised.reference]) in dual_page


def test_links_through_a_pair_across_authorities_are_named_to_who_reviews_it(
    recognised: Case,
    alice: User,
    northmoor_police: Organisation,
    detention_authority: Organisation,
    ivan: User,
    dmitri: User,
) -> None:
    """Two later referrals of the detention authority each confirmed as the same person as
    the earlier one of the other authority: Ivan reviewed both links, so their pair is
    "linked through other referrals" for him, with the two pairs to unlink named; Dmitri
    reviewed none and is told nothing."""
    one, other = (
        case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=detention_authority,
            given_names="Julia",
            family_name="Ivanova",
        )
        for _ in range(2)
    )
    links = [linkage_helpers.pair_of(recognised, case) for case in (one, other)]
    for link in links:
        candidate_pair_review(by=Actor(ivan), pair_id=link.pk, status=PairStatus.CONFIRMED)
    open_pair = linkage_helpers.pair_of(one, other)

    assert selectors.linked_through_others(Actor(ivan), one.pk, other.pk)
    assert set(selectors.links_between(Actor(ivan), one.pk, other.pk)) == set(links)
    page = factories.signed_in_client(ivan).get(reverse("linkage:pair", args=[open_pair.pk]))
    for link in links:
        assert reverse("linkage:pair_unlink", args=[link.pk]) in page.content.decode()
    with pytest.raises(ValidationError):
        candidate_pair_review(by=Actor(ivan), pair_id=open_pair.pk, status=PairStatus.REJECTED)
    assert not selectors.linked_through_others(Actor(dmitri), one.pk, other.pk)


@pytest.fixture
def unlinked_pair(
    recognised: Case,
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    sally: User,
) -> CandidatePair:
    later = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        given_names="Julia",
        family_name="Ivanova",
    )
    pair = linkage_helpers.pair_of(recognised, later)
    candidate_pair_review(by=Actor(dmitri), pair_id=pair.pk, status=PairStatus.CONFIRMED)
    return candidate_pair_unlink(
        by=Actor(sally), pair_id=pair.pk, reason=UnlinkReason.NEW_INFORMATION
    )


def test_taking_an_unlink_back_keeps_the_unlink_and_is_audited(
    unlinked_pair: CandidatePair, dmitri: User, alice: User, ivan: User
) -> None:
    """The reopen page words the unlink and its reasons; the pair is open again with who
    unlinked it, when and why kept and shown; one `linkage.pair_reopened` event saying what
    was taken back. Nobody else may do it."""
    pair = unlinked_pair
    url = reverse("linkage:pair_reopen", args=[pair.pk])
    pair_url = reverse("linkage:pair", args=[pair.pk])
    for outsider in (alice, ivan):
        assert factories.signed_in_client(outsider).get(url).status_code == 404
        assert (
            factories.signed_in_client(outsider).post(url, {"reason": "mistake"}).status_code == 404
        )
    pair.refresh_from_db()
    assert pair.status == PairStatus.UNLINKED
    client = factories.signed_in_client(dmitri)
    form = _text(client.get(url).content.decode())
    assert "unlinked by Sally Senior" in form
    assert "The referrals were unlinked by mistake" in form
    assert "Not the same person” was chosen by mistake" not in form

    assert client.post(url, {"reason": "mistake"})["Location"] == pair_url

    pair.refresh_from_db()
    assert pair.status == PairStatus.PROPOSED
    assert (pair.unlinked_by.email, pair.unlink_reason) == (
        "sally@example.org",
        UnlinkReason.NEW_INFORMATION,
    )
    assert pair.unlinked_at is not None
    assert (pair.reopened_by, pair.reopen_reason) == (dmitri, "mistake")
    assert pair.rejected_by is None
    event = AuditEvent.objects.get(action="linkage.pair_reopened")
    assert (event.actor, event.detail) == (dmitri, {"reason": "mistake", "taken_back": "unlinked"})
    shown = _text(client.get(pair_url).content.decode())
    assert "Linked as the same person, then unlinked by Sally Senior on " in shown
    assert "New information shows they are different people. Reopened by Dmitri Dane" in shown
    assert ": The referrals were unlinked by mistake." in shown
    # Nothing is linked again until it is answered.
    assert not selectors.cases_linked(pair.case_a_id, pair.case_b_id)


def test_a_pair_reopened_twice_shows_what_the_latest_reopening_took_back(
    unlinked_pair: CandidatePair, dmitri: User, sally: User
) -> None:
    """Unlinked, reopened, answered "Not the same person", reopened again, then linked: the
    earlier answer shown is the rejection (the latest taken back), not the unlink."""
    pair = unlinked_pair
    services.candidate_pair_reopen(by=Actor(dmitri), pair_id=pair.pk, reason="mistake")
    candidate_pair_review(by=Actor(dmitri), pair_id=pair.pk, status=PairStatus.REJECTED)
    services.candidate_pair_reopen(by=Actor(sally), pair_id=pair.pk, reason="new_information")
    candidate_pair_review(by=Actor(sally), pair_id=pair.pk, status=PairStatus.CONFIRMED)

    shown = _text(
        factories.signed_in_client(sally)
        .get(reverse("linkage:pair", args=[pair.pk]))
        .content.decode()
    )

    assert "Earlier answer" in shown
    assert "Answered “Not the same person” by Dmitri Dane" in shown
    assert "reopened by Sally Senior" in shown
    assert "New information shows they may be the same person" in shown


def test_a_confirmed_or_open_pair_is_not_reopened(
    unlinked_pair: CandidatePair, dmitri: User
) -> None:
    pair = unlinked_pair
    services.candidate_pair_reopen(by=Actor(dmitri), pair_id=pair.pk, reason="mistake")
    with pytest.raises(ValidationError):
        services.candidate_pair_reopen(by=Actor(dmitri), pair_id=pair.pk, reason="mistake")
    candidate_pair_review(by=Actor(dmitri), pair_id=pair.pk, status=PairStatus.CONFIRMED)
    with pytest.raises(ValidationError):
        services.candidate_pair_reopen(by=Actor(dmitri), pair_id=pair.pk, reason="mistake")
    client = factories.signed_in_client(dmitri)
    assert client.get(reverse("linkage:pair_reopen", args=[pair.pk])).status_code == 404


def test_other_names_are_audited_only_where_there_are_some(
    recognised: Case,
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
) -> None:
    later = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        given_names="Julia",
        family_name="Ivanova",
        aliases=["Jules"],
    )
    pair = linkage_helpers.pair_of(recognised, later)

    page = _text(
        factories.signed_in_client(dmitri)
        .get(reverse("linkage:pair", args=[pair.pk]))
        .content.decode()
    )

    assert "Other names None given Jules" in page
    fields = dict(
        AuditEvent.objects.filter(action="person.viewed", actor=dmitri).values_list(
            "object_id", "detail__fields"
        )
    )
    assert "aliases" not in fields[str(recognised.pk)]
    assert "aliases" in fields[str(later.pk)]
