"""The notifications page (ADR 0008, addendum of stop 41).

It listed every notification ever made for the user: a first responder who moved to another
police force still saw her old force's news of its cases there, though its "Open" led nowhere,
her home page counted none of it and the worker no longer e-mailed it. And it stopped at the
newest 100 with no way to the rest: a safeguarding lead whose home page counted 101 children
newly referred could reach only 100 of them.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case
from opennrm.cases.selectors import children_newly_referred_count
from opennrm.notifications.case_readers import may_hear_of_case, pairs_heard_of
from opennrm.notifications.models import Notification
from opennrm.referrals.selectors import referrals_with_new_outcome_count

from . import case_factories, factories


def _told(user: User, case: Case, kind: str, subject: str) -> Notification:
    """A notification about `case` linking to its page, as the services write them."""
    return Notification.objects.create(
        recipient=user,
        case=case,
        kind=kind,
        subject=subject,
        body="Sign in to see it.",
        url=reverse("cases:detail", args=[case.reference]),
    )


@pytest.mark.page("notifications:list")
def test_a_responder_who_moved_force_no_longer_sees_her_old_forces_news(
    alice: User,
    olivia: User,
    oscar: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
    case: Case,
) -> None:
    """Alice referred a case for Northmoor Police and was told of its new outcome. She then
    moved to Southvale Police (Olivia took her Northmoor membership away; she joined Southvale
    as a first responder) and referred a case there, whose outcome she was told of too. Her
    home page counts one new outcome, Southvale's. Expected: her notifications page lists the
    Southvale news and not the Northmoor news, and "Open" on the Northmoor one finds nothing
    (it stays unread) rather than marking it read and sending her to a page she cannot open.
    A notice about no case stays listed."""
    Notification.objects.create(recipient=alice, kind="test", subject="A GENERAL NOTICE", body=".")
    old = _told(alice, case, "case.status_changed", "Outcome of NORTHMOOR referral")
    case_factories.leaves(alice, northmoor_police, by=olivia)
    Membership.objects.create(user=alice, organisation=southvale_police, role=Role.FIRST_RESPONDER)
    southvale_case = case_factories.case(
        referred_by=alice, referring_organisation=southvale_police, authority=authority
    )
    _told(alice, southvale_case, "case.status_changed", "Outcome of SOUTHVALE referral")
    assert referrals_with_new_outcome_count(Actor.of_session(alice)) == 1

    client = factories.signed_in_client(alice)
    for query in ("", "?show=outcomes"):
        html = client.get(reverse("notifications:list") + query).content.decode()
        assert "Outcome of SOUTHVALE referral" in html, query
        assert ("A GENERAL NOTICE" in html) == (not query), query
        assert "Outcome of NORTHMOOR referral" not in html, (
            f"the page {query or '(all)'} lists news of a case of the force she left"
        )

    opened = client.post(reverse("notifications:open", args=[old.pk]))
    assert opened.status_code == 404
    old.refresh_from_db()
    assert old.read_at is None


def _references_on(html: str) -> list[str]:
    return re.findall(r"Child referred: (NRM-TEST-\d+)<", html)


@pytest.mark.page("notifications:list")
def test_a_lead_told_of_101_children_can_page_to_the_101st(lena: User, alice: User) -> None:
    """Lena, a safeguarding lead for Testshire, was told of 101 children referred in her area
    and has opened none: her home page counts 101. Expected: the children's list it links to
    shows the newest 100 on its first page, says there are 101, and links to a second page
    (GOV.UK pagination) showing the 101st, the first she was told of; the page with every
    notification pages the same way."""
    police = Organisation.objects.get(memberships__user=alice)
    authority = factories.organisation("Test authority for children")
    children = [
        case_factories.case(
            referred_by=alice,
            referring_organisation=police,
            authority=authority,
            age_group=AgeGroup.CHILD,
        )
        for _ in range(101)
    ]
    for child in children:
        _told(lena, child, "case.child_referred", f"Child referred: {child.reference}")
    assert children_newly_referred_count(Actor.of_session(lena)) == 101

    client = factories.signed_in_client(lena)
    url = reverse("notifications:list")
    for query in ("?show=children", ""):
        first = client.get(url + query).content.decode()
        assert len(_references_on(first)) == 100
        assert children[0].reference not in _references_on(first)
        assert "101 notifications" in first
        assert "govuk-pagination" in first
        following = _link(first, "next")
        assert "page=2" in following
        assert ("show=children" in following) == bool(query)
        second = client.get(url + following).content.decode()
        assert _references_on(second) == [children[0].reference], query
        assert "page=1" in _link(second, "prev")


def _link(html: str, rel: str) -> str:
    """The address of the pagination's previous or next link, unescaped."""
    found = re.search(rf'href="([^"]*)" rel="{rel}"', html)
    assert found, f"no {rel} link"
    return unescape(found.group(1))


@pytest.mark.page("notifications:list")
def test_a_bad_page_number_gives_the_first_page_or_says_the_page_is_empty(alice: User) -> None:
    """Alice has one notification and edits the page number in the address: letters, 0 and a
    negative number give the first page, as the other paged lists do; a page past the end, or
    one too large for the database, says there are no notifications on it and links to the
    first page; never a server error."""
    Notification.objects.create(
        recipient=alice, kind="test", subject="A SYNTHETIC NOTICE", body="."
    )
    client = factories.signed_in_client(alice)
    url = reverse("notifications:list")
    for page in ("abc", "0", "-3", "1.5", ""):
        response = client.get(f"{url}?page={page}")
        assert response.status_code == 200, page
        assert "A SYNTHETIC NOTICE" in response.content.decode(), page
    for page in ("5", "99999999999999999999999"):
        response = client.get(f"{url}?page={page}")
        html = response.content.decode()
        assert response.status_code == 200, page
        assert "A SYNTHETIC NOTICE" not in html, page
        assert "There are no notifications on page" in html, page
        assert "Go to the first page" in html, page


def _page_queries(user: User) -> tuple[int, str]:
    """The number of queries the notifications page makes for `user`, and the page."""
    client = factories.signed_in_client(user)
    client.get(reverse("notifications:list"))  # the session and its first reads, once
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("notifications:list")).content.decode()
    return len(queries), html


@pytest.mark.page("notifications:list")
def test_the_page_asks_the_same_number_of_queries_for_3_or_30_cases(
    alice: User,
    oscar: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
) -> None:
    """Alice, a Northmoor first responder, was told of the outcome of each case she referred,
    and of as many Southvale cases, whose news is not hers (told while she was there, say). With
    news of 3 cases of each, then 30 of each, she opens her notifications. Expected: the page lists her own cases'
    news and none of Southvale's, and asks the database the same number of queries either way:
    whether she may still hear of each case is asked once for all of them, not case by case
    (about 5 queries a case before: 1,500 for someone told of 300 cases)."""
    counts = []
    for total in (3, 30):
        Notification.objects.filter(recipient=alice).delete()
        own, other = [], []
        for _ in range(total):
            own.append(
                case_factories.case(
                    referred_by=alice, referring_organisation=northmoor_police, authority=authority
                )
            )
            other.append(
                case_factories.case(
                    referred_by=oscar, referring_organisation=southvale_police, authority=authority
                )
            )
        for each in own + other:
            _told(alice, each, "case.status_changed", f"Outcome of {each.reference} referral")
        asked, html = _page_queries(alice)
        counts.append(asked)
        assert all(f"Outcome of {each.reference} referral" in html for each in own)
        assert not any(f"Outcome of {each.reference} referral" in html for each in other)
    assert counts[0] == counts[1], f"queries grow with the cases told of: {counts}"


def test_the_batch_check_answers_as_the_single_check_pair_by_pair(
    alice: User,
    charlie: User,
    oscar: User,
    dmitri: User,
    lena: User,
    cora: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
) -> None:
    """Whether someone may still hear of a case, given the link they were sent, asked of many
    (case, link) pairs at once (`case_readers.pairs_heard_of`, as the notifications page asks)
    and of each pair alone (`case_readers.may_hear_of_case`, as the worker asks of one e-mail).
    The cases: Alice's own Northmoor adult case, a Northmoor child's, the same closed, a
    Southvale case (another organisation), a child in another area, and a case routed to
    another competent authority; the links: the case's page, a support page (a placement), and
    none. The people: Alice (Northmoor first responder), Charlie (Southvale first responder),
    Oscar (Southvale's organisation administrator), Dmitri (decision maker), Lena (safeguarding
    lead for Testshire) and Cora (support coordinator).
    Expected: the batch's answer is the single check's, pair by pair, and is the rule: a
    referrer hears of her organisation's cases, a decider of his authority's, a safeguarding
    lead of a child's case of her area (of an adult's, only news linking where leads are told
    of one, as of dependent children), a coordinator only of news linking to the support pages,
    an administrator of none; a closed case is no different."""
    other_authority = factories.organisation(
        "Another competent authority", OrganisationKind.COMPETENT_AUTHORITY
    )

    def referred(by: User, police: Organisation, **fields: object) -> Case:
        return case_factories.case(
            referred_by=by, referring_organisation=police, authority=authority, **fields
        )

    own = referred(alice, northmoor_police)
    child = referred(alice, northmoor_police, age_group=AgeGroup.CHILD)
    closed = case_factories.closed(
        case_factories.withdrawn(alice, northmoor_police, authority), by=dmitri
    )
    southvale = referred(charlie, southvale_police)
    child_elsewhere = referred(
        charlie, southvale_police, age_group=AgeGroup.CHILD, area="Otherland"
    )
    routed_elsewhere = case_factories.case(
        referred_by=charlie,
        referring_organisation=southvale_police,
        authority=other_authority,
        area="Otherland",
    )
    cases = [own, child, closed, southvale, child_elsewhere, routed_elsewhere]
    support_link = reverse("support:placement", args=[1])
    pairs = {
        (each.pk, link)
        for each in cases
        for link in (reverse("cases:detail", args=[each.reference]), support_link, "")
    }
    by_case = {each.pk: each for each in cases}
    northmoor = {own.pk, child.pk, closed.pk}
    testshire = {own.pk, child.pk, closed.pk, southvale.pk}
    expected = {
        alice: {pair for pair in pairs if pair[0] in northmoor},
        charlie: {pair for pair in pairs if pair[0] not in northmoor},
        oscar: set(),
        dmitri: {pair for pair in pairs if by_case[pair[0]].competent_authority_id == authority.pk},
        # A lead hears any news of a child's case of her area (its page opens for her), but of
        # an adult's only what leads are told of one, linking to the children of her area or
        # her caseload (none of these links): an adult's case page does not open for her, so
        # news linking to it is a referrer's or decider's, not hers (ADR 0008, stop 41).
        lena: {pair for pair in pairs if pair[0] in testshire and by_case[pair[0]].is_child},
        cora: {pair for pair in pairs if pair[1] == support_link},
    }
    for person, heard in expected.items():
        batch = pairs_heard_of(person, pairs)
        single = {pair for pair in pairs if may_hear_of_case(person, *pair)}
        assert batch == single, person.email
        assert batch == heard, person.email
    assert pairs_heard_of(alice, []) == set()
