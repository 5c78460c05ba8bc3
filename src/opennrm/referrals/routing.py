"""Which competent authority a referral goes to, by the configured routing rules."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from opennrm.accounts.models import Organisation
from opennrm.accounts.roles import OrganisationKind
from opennrm.cases.choices import TREATED_AS_CHILD, AgeGroup

from .models import RoutingRule


def competent_authority_for(
    *, jurisdiction: str, in_immigration_detention: bool, age_group: str
) -> Organisation:
    """The authority named by the first matching active rule (lowest priority number first)."""
    rules = RoutingRule.objects.filter(
        is_active=True,
        competent_authority__is_active=True,
        competent_authority__kind=OrganisationKind.COMPETENT_AUTHORITY,
    ).select_related("competent_authority")
    for rule in rules:
        if rule.jurisdiction and rule.jurisdiction != jurisdiction:
            continue
        if (
            rule.in_immigration_detention is not None
            and rule.in_immigration_detention != in_immigration_detention
        ):
            continue
        if rule.age_group and not _age_matches(rule.age_group, age_group):
            continue
        return rule.competent_authority
    raise ValidationError(
        "No competent authority is set up to receive this referral, so nothing was submitted: "
        "ask your system administrator to add a routing rule, then submit again."
    )


def _age_matches(rule_group: str, age_group: str) -> bool:
    """A rule for children takes everyone treated as a child: a person whose age is disputed is
    a child until assessed, never routed as an adult for want of a rule of their own."""
    if rule_group == AgeGroup.CHILD:
        return age_group in TREATED_AS_CHILD
    return rule_group == age_group
