"""Cases in a given state, built directly (not through the referral journey) for speed."""

from __future__ import annotations

import itertools
from datetime import date

from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.cases.choices import AgeGroup, CaseStatus, ExploitationLocation, Sex
from opennrm.cases.models import Case
from opennrm.cases.services import case_open, case_rows

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
    number = next(_numbers)
    # Through the same rows the referral service writes, without its first timeline entries.
    return case_open(
        case_rows(
            sex=Sex.FEMALE,
            age_at_referral=30,
            age_is_estimated=False,
            nationalities=["AL"],
            languages=["sq"],
            given_names=given_names,
            family_name=family_name,
            date_of_birth=date_of_birth,
            reference=f"NRM-TEST-{number:04d}",
            referring_organisation_id=referring_organisation.pk,
            referred_by_id=referred_by.pk,
            competent_authority_id=authority.pk,
            jurisdiction=referring_organisation.jurisdiction,
            area=area,
            age_group=age_group,
            exploitation_types=["labour"],
            exploitation_location=ExploitationLocation.UK,
            status=status,
            submitted_at=fields.pop("submitted_at", timezone.now()),
            reasonable_grounds_due=fields.pop("reasonable_grounds_due", None),
            responders_account="Seen at a car wash.",
            **fields,
        )
    )
