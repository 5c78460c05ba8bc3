"""Cases in a given state, built directly (not through the referral journey) for speed."""

from __future__ import annotations

import itertools
from datetime import date

from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import AgeGroup, CaseStatus, ExploitationLocation, Sex
from opennrm.cases.models import Case, CaseNarrative, Person, PersonIdentity, identity_indexes

_numbers = itertools.count(1)


def case(
    *,
    referred_by: User,
    referring_organisation: Organisation,
    authority: Organisation,
    status: CaseStatus = CaseStatus.AWAITING_REASONABLE_GROUNDS,
    age_group: AgeGroup = AgeGroup.ADULT,
    area: str = "Testshire",
    given_names: str = "Test Person",
    family_name: str = "",
    date_of_birth: date | None = None,
    **fields: object,
) -> Case:
    person = Person.objects.create(
        sex=Sex.FEMALE, nationalities=["AL"], languages=["sq"], age_at_referral=30
    )
    PersonIdentity.objects.create(
        person=person,
        given_names=given_names,
        family_name=family_name,
        date_of_birth=date_of_birth,
        **identity_indexes(
            given_names=given_names, family_name=family_name, date_of_birth=date_of_birth
        ),
    )
    number = next(_numbers)
    made = Case.objects.create(
        reference=f"NRM-TEST-{number:04d}",
        person=person,
        referring_organisation=referring_organisation,
        referred_by=referred_by,
        competent_authority=authority,
        jurisdiction=referring_organisation.jurisdiction,
        area=area,
        age_group=age_group,
        exploitation_types=["labour"],
        exploitation_location=ExploitationLocation.UK,
        status=status,
        submitted_at=fields.pop("submitted_at", timezone.now()),  # type: ignore[misc]
        **fields,
    )
    CaseNarrative.objects.create(case=made, responders_account="Seen at a car wash.")
    return made
