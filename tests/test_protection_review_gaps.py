"""The protection check, found by review: a person is protected by any of their referrals (one
Person, or confirmed linked), and the pages are rate limited like the API."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import CaseStatus as S
from opennrm.cases.models import Case
from opennrm.linkage.models import PairStatus
from opennrm.linkage.services import candidate_pair_review
from opennrm.protection.services import protection_check

from . import case_factories, factories, linkage_helpers


@pytest.fixture
def ivan(border_enforcement: Organisation) -> User:
    return factories.user(
        "ivan@example.org", organisation=border_enforcement, role=Role.IMMIGRATION_ENFORCEMENT
    )


def test_an_earlier_reference_of_a_protected_person_says_protected(
    case: Case,
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    ivan: User,
) -> None:
    """A person refused at reasonable grounds is referred again and the new referral awaits its
    RG decision: they are protected (CETS Art. 10(2); ADR 40: "removal is paused from referral
    until a negative RG"). Immigration enforcement usually holds the first reference. Both
    cases are one `Person` (ADR 52: "Referrals are one person when ... recorded for one Person
    row"), yet the old reference answers "No NRM protection recorded" and the officer may
    remove a protected person. ADR 40 already makes two references of one person (reception
    and case) give the same answer; the same should hold for a person's cases."""
    old = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=S.NEGATIVE_REASONABLE_GROUNDS,
    )
    Case.objects.filter(pk=case.pk).update(person=old.person)  # the new referral, same person
    assert protection_check(by=ivan, reference=case.reference).protected
    assert protection_check(by=ivan, reference=old.reference).protected


@override_settings(API_TOKEN_REQUESTS_PER_MINUTE=3)
def test_the_check_page_is_rate_limited_like_the_api(ivan: User) -> None:
    """The same check through the API is limited per token (ADR 13: "a leaked token could be
    used to read ... as fast as the server answers"). The page, reached with a stolen or shared
    officer session, is limited the same way: past the limit within a minute a check (or a
    planned removal) is refused with 429, nothing looked up or recorded, what was typed kept."""
    client = factories.signed_in_client(ivan)
    checks = AuditEvent.objects.filter(actor=ivan, action="person.viewed")
    before = checks.count()
    statuses = [
        client.post(reverse("protection:check"), {"reference": f"NRM-ZZZZ-{n:04d}"}).status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 200]
    refused = client.post(reverse("protection:check"), {"reference": "NRM-ZZZZ-0009"})
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "Too many requests: you may make 3 a minute" in page
    assert 'value="NRM-ZZZZ-0009"' in page
    removal = client.post(
        reverse("protection:planned_removal"),
        {"reference": "NRM-ZZZZ-0001", "planned_on-day": "1", "planned_on-month": "1"},
    )
    assert removal.status_code == 429
    assert checks.count() == before + 3


def test_a_referral_confirmed_as_the_same_person_protects_the_other(
    case: Case,
    alice: User,
    dmitri: User,
    northmoor_police: Organisation,
    authority: Organisation,
    ivan: User,
) -> None:
    """Two referrals of different `Person` rows that a decision maker confirmed are one person
    (linkage): the refused one is protected while the other awaits its decision, as a person's
    own referrals are. Unconfirmed, they are not: nothing is inferred from a possible match."""
    old = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=S.NEGATIVE_REASONABLE_GROUNDS,
    )
    pair = linkage_helpers.pair_of(old, case)
    assert not protection_check(by=ivan, reference=old.reference).protected

    candidate_pair_review(by=Actor(dmitri), pair_id=pair.pk, status=PairStatus.CONFIRMED)

    assert protection_check(by=ivan, reference=old.reference).protected
