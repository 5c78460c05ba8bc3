"""Review: a person found an adult, then age-disputed again on new information, is a presumed
child again with no assessment of the new dispute: the local authority must be asked to assess."""

from __future__ import annotations

from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import AgeGroup
from opennrm.safeguarding import selectors, services

from . import case_factories


def test_a_person_disputed_again_after_being_found_an_adult_is_an_assessment_outstanding(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    lena: User,
    council: Organisation,
) -> None:
    case = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    case.refresh_from_db()
    services.age_dispute_raise(by=dmitri, case=case, basis="says_so", expected_version=case.version)
    case.refresh_from_db()
    services.age_assessment_record(
        by=lena,
        case=case,
        outcome="adult",
        assessed_on=timezone.localdate(),
        reasons="Synthetic reasons.",
        expected_version=case.version,
    )
    case.refresh_from_db()
    assert case.age_group == AgeGroup.ADULT
    # New information (a document) says they are under 18: disputed again.
    services.age_dispute_raise(
        by=dmitri, case=case, basis="document", expected_version=case.version
    )
    case.refresh_from_db()
    assert case.age_group == AgeGroup.PRESUMED_CHILD
    actor = Actor.of_session(lena)
    assert case in selectors.children_of(actor)
    # The new dispute has no assessment: it must be on the local authority's list, and counted.
    assert case in selectors.assessments_outstanding(actor)
    assert selectors.children_needing_action_count(actor) == 1
