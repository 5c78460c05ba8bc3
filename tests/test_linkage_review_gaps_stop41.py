"""Record linkage's uses on the case page, for a link across two competent authorities
(reviewer: linkage; ADR 0049, addendum of stop 41).

A pair whose two referrals were routed to two authorities is the later referral's authority's
to answer (addendum of stop 39). Confirmed, the link reached neither case page: "Linked
referrals" and the possible re-trafficking warning listed only referrals the reader may open,
and the later authority may not open the earlier one. Now its decision makers see, on the later
referral's case page, the earlier referral by reference, who referred it and when, which
authority holds it (without a link to its case page, which stays that authority's) and whether
it had a positive conclusive grounds decision before this referral, with the warning. Nobody
else learns anything more than before.

Pairs are written directly with `tests.linkage_helpers.pair_of`, as a run or the check at
submission stores them (scoring is tested elsewhere)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.linkage.models import CandidatePair, PairStatus
from opennrm.linkage.services import candidate_pair_review

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
def otto(db: None) -> User:
    """A decision maker of a third authority, which holds neither referral."""
    other = factories.organisation("Other Authority", OrganisationKind.COMPETENT_AUTHORITY)
    return factories.user(
        "otto@example.org", organisation=other, role=Role.DECISION_MAKER, full_name="Otto Other"
    )


@pytest.fixture
def recognised(charlie: User, southvale_police: Organisation, authority: Organisation) -> Case:
    """Yuliya Ivanova, referred by Southvale Police last year to the Test Competent Authority
    and recognised as a victim (a positive conclusive grounds decision in effect)."""
    return case_factories.case(
        referred_by=charlie,
        referring_organisation=southvale_police,
        authority=authority,
        status=CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS,
        given_names="Yuliya",
        family_name="Ivanova",
        submitted_at=timezone.now() - timedelta(days=400),
    )


@pytest.fixture
def later(alice: User, northmoor_police: Organisation, detention_authority: Organisation) -> Case:
    """Julia Ivanova, referred by Northmoor Police now from immigration detention: routed to
    the other authority."""
    return case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=detention_authority,
        given_names="Julia",
        family_name="Petrova",
        in_immigration_detention=True,
    )


@pytest.fixture
def confirmed(recognised: Case, later: Case, ivan: User) -> CandidatePair:
    """The pair, confirmed "Same person" by Ivan, whose authority's it is to answer."""
    pair = linkage_helpers.pair_of(recognised, later)
    candidate_pair_review(by=Actor(ivan), pair_id=pair.pk, status=PairStatus.CONFIRMED)
    return pair


def test_the_later_referrals_decision_maker_sees_the_link_across_authorities_and_the_warning(
    confirmed: CandidatePair, recognised: Case, later: Case, ivan: User
) -> None:
    """Who: Ivan, a decision maker of the detention authority, deciding Julia's referral.
    What: he confirmed it is the same person as Yuliya's referral to the Test Competent
    Authority, recognised as a victim last year, and opens Julia's case page.
    Should: "Linked referrals" names Yuliya's referral (reference, who referred it, which
    authority holds it) without a link to its case page, tagged as recognised before this
    referral, with the link to the pair he reviewed and the possible re-trafficking warning;
    no name or detail of Yuliya's record, and the page's read is audited for Julia alone, as
    before. (Before the fix the case page listed only referrals he may open: nothing.)"""
    client = factories.signed_in_client(ivan)
    before = AuditEvent.objects.filter(action="person.viewed").count()

    html = client.get(reverse("cases:detail", args=[later.reference])).content.decode()

    page = _text(html)
    assert "Linked referrals" in page
    assert recognised.reference in page
    assert "referred by Southvale Police" in page
    assert "held by Test Competent Authority" in page
    assert "Possible re-trafficking" in page
    assert "Recognised as a victim before this referral" in page
    assert reverse("linkage:pair", args=[confirmed.pk]) in html
    # Named, never opened: its case page is its own authority's.
    assert reverse("cases:detail", args=[recognised.reference]) not in html
    assert client.get(reverse("cases:detail", args=[recognised.reference])).status_code == 404
    assert "Yuliya" not in page
    assert "Ivanova" not in page
    reads = AuditEvent.objects.filter(action="person.viewed").order_by("pk")[before:]
    assert [(e.actor, e.object_id) for e in reads] == [(ivan, str(later.pk))]


def test_no_warning_when_the_other_authoritys_referral_was_not_recognised_before(
    charlie: User,
    southvale_police: Organisation,
    authority: Organisation,
    later: Case,
    ivan: User,
) -> None:
    """Who: Ivan, deciding Julia's referral. What: the earlier referral at the other
    authority is linked but still waits for its reasonable grounds decision. Should: it is
    listed as linked, with no re-trafficking warning and no "recognised" tag."""
    waiting = case_factories.case(
        referred_by=charlie,
        referring_organisation=southvale_police,
        authority=authority,
        submitted_at=timezone.now() - timedelta(days=30),
    )
    pair = linkage_helpers.pair_of(waiting, later)
    candidate_pair_review(by=Actor(ivan), pair_id=pair.pk, status=PairStatus.CONFIRMED)

    page = _text(
        factories.signed_in_client(ivan)
        .get(reverse("cases:detail", args=[later.reference]))
        .content.decode()
    )

    assert "Linked referrals" in page
    assert waiting.reference in page
    assert "re-trafficking" not in page
    assert "Recognised as a victim" not in page


def test_the_first_responders_and_the_earlier_authority_learn_nothing_of_the_other_referral(
    confirmed: CandidatePair,
    recognised: Case,
    later: Case,
    ivan: User,
    alice: User,
    charlie: User,
    dmitri: User,
) -> None:
    """Who: Alice (Northmoor Police, who referred Julia), Charlie (Southvale Police, who
    referred Yuliya) and Dmitri (the earlier referral's authority, which has nothing new to
    decide and is not told, addendum of stop 39). What: the link across authorities is
    confirmed and each opens their own case page. Should: Ivan's page names the other
    referral (so the traces below are real), and theirs show no linked referral, no
    reference of the other, no warning and no linkage link."""
    ivan_page = factories.signed_in_client(ivan).get(
        reverse("cases:detail", args=[later.reference])
    )
    assert recognised.reference in ivan_page.content.decode()

    for who, own, other in (
        (alice, later, recognised),
        (charlie, recognised, later),
        (dmitri, recognised, later),
    ):
        html = (
            factories.signed_in_client(who)
            .get(reverse("cases:detail", args=[own.reference]))
            .content.decode()
        )
        assert own.reference in html, who
        # "/linkage/pairs/": a decision maker's navigation links the queue, "/linkage/".
        for trace in (other.reference, "Linked referral", "re-trafficking", "/linkage/pairs/"):
            assert trace.casefold() not in html.casefold(), (who.email, trace)


def test_an_outsider_gets_404_for_both_case_pages_and_the_pair(
    confirmed: CandidatePair, recognised: Case, later: Case, ivan: User, otto: User, alice: User
) -> None:
    """Who: Otto, a decision maker of a third authority, and Alice, who referred only Julia.
    What: they ask for the case pages and the pair page of a link across two authorities.
    Should: 404 for each case and pair they may not open, as before, while Ivan (the
    control) sees the link on Julia's case page."""
    shown = (
        factories.signed_in_client(ivan)
        .get(reverse("cases:detail", args=[later.reference]))
        .content.decode()
    )
    assert reverse("linkage:pair", args=[confirmed.pk]) in shown

    otto_client = factories.signed_in_client(otto)
    for path in (
        reverse("cases:detail", args=[later.reference]),
        reverse("cases:detail", args=[recognised.reference]),
        reverse("linkage:pair", args=[confirmed.pk]),
    ):
        assert otto_client.get(path).status_code == 404, path
    alice_client = factories.signed_in_client(alice)
    for path in (
        reverse("cases:detail", args=[recognised.reference]),
        reverse("linkage:pair", args=[confirmed.pk]),
    ):
        assert alice_client.get(path).status_code == 404, path


def test_a_referral_linked_only_through_a_pair_he_may_not_review_is_not_named(
    charlie: User,
    southvale_police: Organisation,
    authority: Organisation,
    recognised: Case,
    later: Case,
    ivan: User,
    dmitri: User,
) -> None:
    """Who: Ivan, deciding Julia's referral. What: Julia is confirmed (by Ivan) as the same
    person as a second referral to the Test Competent Authority, which Dmitri confirmed is
    the same person as Yuliya's (a pair Ivan may not review). Should: Ivan's case page names
    the referral of the pair he reviewed, and not Yuliya's, which he never saw and could
    neither open nor review a pair of (links are named only through pairs the reader may
    review, addendum of stop 37); so no warning from it either."""
    middle = case_factories.case(
        referred_by=charlie,
        referring_organisation=southvale_police,
        authority=authority,
        submitted_at=timezone.now() - timedelta(days=30),
    )
    first = linkage_helpers.pair_of(recognised, middle)
    candidate_pair_review(by=Actor(dmitri), pair_id=first.pk, status=PairStatus.CONFIRMED)
    second = linkage_helpers.pair_of(middle, later)
    candidate_pair_review(by=Actor(ivan), pair_id=second.pk, status=PairStatus.CONFIRMED)

    page = _text(
        factories.signed_in_client(ivan)
        .get(reverse("cases:detail", args=[later.reference]))
        .content.decode()
    )

    assert middle.reference in page
    assert recognised.reference not in page
    assert "re-trafficking" not in page
