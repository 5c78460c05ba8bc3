"""What a safeguarding lead still hears of a case (ADR 0008, addendum of stop 41).

`cases.selectors.cases_heard_of` let a safeguarding lead hear any news of any case of her area,
whatever it linked to and for whichever role it was sent. So a first responder who left her
police force and became the council's safeguarding lead for the same area still had her old
force's news of an adult's case on her notifications page, with an "Open" that marked it read
and led to a case page that no longer opened for her. A lead is now let through for an adult's
case only for what leads are told of one (its dependent children, a child who came of age, the
return of a person reported missing as a child); anything linking to the case page needs the
case page to open (`cases_visible_to`).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case
from opennrm.notifications.case_readers import may_hear_of_case, pairs_heard_of
from opennrm.notifications.models import Notification
from opennrm.notifications.selectors import may_still_be_read, unread_count, unread_news

from . import case_factories, factories


def _told(user: User, case: Case, kind: str, subject: str, url: str) -> Notification:
    """A notification about `case`, linking to `url`, as the services write them."""
    return Notification.objects.create(
        recipient=user, case=case, kind=kind, subject=subject, body="Sign in to see it.", url=url
    )


@pytest.mark.page("notifications:list")
def test_a_responder_who_became_the_councils_lead_no_longer_sees_her_old_forces_news(
    alice: User,
    olivia: User,
    northmoor_police: Organisation,
    council: Organisation,
    case: Case,
) -> None:
    """Alice referred Zorica's case (an adult, in Testshire) for Northmoor Police and was told
    of its outcome, linking to the case page. She leaves Northmoor (Olivia ends her membership)
    and joins Test Council, the local authority for Testshire, as its safeguarding lead. She
    cannot open the adult's case page. Expected: as for a responder who moved to another force
    or became a support coordinator (ADR 0008, stop 41), her old force's news of the case is no
    longer hers: not listed, and "Open" finds nothing."""
    old = Notification.objects.create(
        recipient=alice,
        case=case,
        kind="case.status_changed",
        subject="Outcome of NORTHMOOR referral",
        body="Sign in to see it.",
        url=reverse("cases:detail", args=[case.reference]),
    )
    case_factories.leaves(alice, northmoor_police, by=olivia)
    Membership.objects.create(user=alice, organisation=council, role=Role.SAFEGUARDING_LEAD)
    client = factories.signed_in_client(alice)
    assert client.get(reverse("cases:detail", args=[case.reference])).status_code == 404

    html = client.get(reverse("notifications:list")).content.decode()
    assert "Outcome of NORTHMOOR referral" not in html, (
        "the council's lead still lists her old force's news of an adult's case she cannot open"
    )
    assert client.post(reverse("notifications:open", args=[old.pk])).status_code == 404
    old.refresh_from_db()
    assert old.read_at is None


def test_her_old_forces_news_is_neither_counted_nor_emailed(
    alice: User,
    olivia: User,
    northmoor_police: Organisation,
    council: Organisation,
    case: Case,
) -> None:
    """The same Alice, now Test Council's safeguarding lead, has her old force's outcome of
    Zorica's (adult) case unread. Expected: the one rule holds for the home page's counts and
    the worker too: it is not counted among her unread news and not e-mailed to her."""
    old = _told(
        alice,
        case,
        "case.status_changed",
        "Outcome of NORTHMOOR referral",
        reverse("cases:detail", args=[case.reference]),
    )
    case_factories.leaves(alice, northmoor_police, by=olivia)
    Membership.objects.create(user=alice, organisation=council, role=Role.SAFEGUARDING_LEAD)

    assert unread_count(alice) == 0
    assert not unread_news(alice, "outcomes").exists()
    assert not may_still_be_read(old)


@pytest.mark.page("notifications:list")
def test_a_lead_still_hears_what_leads_are_told_of_an_adults_case_of_her_area(
    lena: User, case: Case
) -> None:
    """Lena, safeguarding lead of Test Council (Testshire), was told of Zorica's case, an
    adult's in Testshire, what leads are told of an adult's case: a dependent child (linking
    to the children of her area), a child who came of age (her caseload) and the return of a
    person reported missing as a child (the missing episode). She was also told, while Zorica
    was treated as a child, that a child was referred, linking to the case page, which no
    longer opens for her now Zorica is an adult. Expected: the first three are listed, counted
    and e-mailed; the fourth is not listed, not counted and not e-mailed, and "Open" finds
    nothing (its link would 404)."""
    kept = [
        _told(
            lena,
            case,
            "safety.dependent_child",
            "Dependent child in Testshire",
            reverse("safety:children_in_area"),
        ),
        _told(
            lena,
            case,
            "case.turned_18",
            "The person is now 18",
            reverse("safeguarding:caseload"),
        ),
        _told(
            lena,
            case,
            "missing.returned",
            "A person reported missing as a child is back",
            reverse("support:missing_episode", args=[1]),
        ),
    ]
    dropped = _told(
        lena,
        case,
        "case.child_referred",
        "Child referred in Testshire",
        reverse("cases:detail", args=[case.reference]),
    )
    client = factories.signed_in_client(lena)
    assert client.get(reverse("cases:detail", args=[case.reference])).status_code == 404

    html = client.get(reverse("notifications:list")).content.decode()
    assert "Dependent child in Testshire" in html
    assert "The person is now 18" in html
    assert "A person reported missing as a child is back" in html
    assert "Child referred in Testshire" not in html
    assert all(may_still_be_read(each) for each in kept)
    assert not may_still_be_read(dropped)
    assert unread_count(lena) == len(kept)
    assert not unread_news(lena, "children").exists()
    assert client.post(reverse("notifications:open", args=[dropped.pk])).status_code == 404


def test_a_childs_case_of_her_area_is_heard_whatever_the_link_and_no_other_areas(
    lena: User, alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """Lena, safeguarding lead for Testshire, is asked of (case, link) pairs: a child's case and
    an age-disputed person's of Testshire (their page opens for her), an adult's of Testshire,
    and an adult's of Otherland; the links: the case's page, the children of her area, her
    caseload, a missing episode, a placement and none. Expected: every news of the child's and
    the age-disputed person's case; of Testshire's adult only the links leads are sent; of
    Otherland's none; and the batch answers as the single check, pair by pair."""

    def referred(**fields: object) -> Case:
        return case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            **fields,
        )

    child = referred(age_group=AgeGroup.CHILD)
    disputed = referred(age_group=AgeGroup.PRESUMED_CHILD)
    adult = referred()
    elsewhere = referred(area="Otherland")
    leads_links = {
        reverse("safety:children_in_area"),
        reverse("safeguarding:caseload"),
        reverse("support:missing_episode", args=[1]),
    }
    pairs = {
        (each.pk, link)
        for each in (child, disputed, adult, elsewhere)
        for link in (
            *leads_links,
            reverse("cases:detail", args=[each.reference]),
            reverse("support:placement", args=[1]),
            "",
        )
    }
    expected = {
        pair
        for pair in pairs
        if pair[0] in {child.pk, disputed.pk} or (pair[0] == adult.pk and pair[1] in leads_links)
    }
    assert pairs_heard_of(lena, pairs) == expected
    assert {pair for pair in pairs if may_hear_of_case(lena, *pair)} == expected


def test_a_guardian_service_lead_is_let_through_as_the_councils(gail: User, case: Case) -> None:
    """Gail, safeguarding lead of the Testshire child guardian service, was told that Zorica
    (an adult now, in Testshire) came of age, linking to her caseload, and, earlier, of the
    referral of a child, linking to the case page. Expected: the first is hers, the second not
    (the page no longer opens for her)."""
    caseload = reverse("safeguarding:caseload")
    page = reverse("cases:detail", args=[case.reference])
    assert gail.memberships.get().organisation.kind == OrganisationKind.CHILD_GUARDIAN_SERVICE
    assert pairs_heard_of(gail, {(case.pk, caseload), (case.pk, page)}) == {(case.pk, caseload)}
