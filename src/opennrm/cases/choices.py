"""Coded values for people and cases. Codes follow the Human Trafficking Case Data Standard
(HTCDS v2.0) where it has one, so records can be exchanged without translation."""

from __future__ import annotations

from django.db import models


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Not known"


class Gender(models.TextChoices):
    """HTCDS prs_Gender picklist."""

    FEMININE = "Feminine", "Woman or girl"
    MASCULINE = "Masculine", "Man or boy"
    TRANSGENDER_FEMININE = "TransgenderFeminine", "Transgender woman or girl"
    TRANSGENDER_MASCULINE = "TransgenderMasculine", "Transgender man or boy"
    NON_CONFORMING = "NonConforming", "Non-binary or gender non-conforming"
    UNKNOWN = "NonSpecifiedUnknown", "Not specified or not known"


class ExploitationType(models.TextChoices):
    """The UK statistical categories, each with its HTCDS vic_TypeOfExploitation code.

    Criminal exploitation has no HTCDS code of its own (HTCDS folds it into forced labour);
    `HTCDS_CODE` below says how each maps when exporting.
    """

    SEXUAL = "sexual", "Sexual exploitation"
    LABOUR = "labour", "Labour exploitation"
    CRIMINAL = "criminal", "Criminal exploitation (for example county lines, cannabis farms)"
    DOMESTIC_SERVITUDE = "domestic_servitude", "Domestic servitude"
    ORGAN_HARVESTING = "organ_harvesting", "Organ harvesting"
    FORCED_MARRIAGE = "forced_marriage", "Forced marriage"
    UNKNOWN = "unknown", "Not specified or not known"


HTCDS_CODE: dict[ExploitationType, str] = {
    ExploitationType.SEXUAL: "SexualExploitation",
    ExploitationType.LABOUR: "ForcedLabour",
    ExploitationType.CRIMINAL: "ForcedLabour",
    ExploitationType.DOMESTIC_SERVITUDE: "Servitude",
    ExploitationType.ORGAN_HARVESTING: "OrganRemoval",
    ExploitationType.FORCED_MARRIAGE: "ForcedMarriage",
    ExploitationType.UNKNOWN: "Other",
}


class ExploitationLocation(models.TextChoices):
    UK = "uk", "In the UK only"
    OVERSEAS = "overseas", "Overseas only"
    BOTH = "both", "Both in the UK and overseas"
    UNKNOWN = "unknown", "Not known"


class AgeGroup(models.TextChoices):
    ADULT = "adult", "Adult"
    CHILD = "child", "Child"
    # Age disputed: treated as a child until assessed (CETS art. 10(3); MSA 2015 s.51).
    PRESUMED_CHILD = "presumed_child", "Age disputed: treated as a child until assessed"


# Whoever is treated as a child: a child, and a person whose age is disputed (`Case.is_child`).
TREATED_AS_CHILD = (AgeGroup.CHILD, AgeGroup.PRESUMED_CHILD)


class ExploitationAgeGroup(models.TextChoices):
    """Whether the person was a child when the exploitation began (ADR 0042). Asked of an adult
    at referral; a child or age-disputed person at referral was a child then too. Never
    "adult" unless someone said so."""

    ADULT = "adult", "Adult"
    CHILD = "child", "Child"
    NOT_KNOWN = "not_known", "Not known"


def age_group_at_exploitation_for(age_group: str, answered: str | None) -> str:
    """The age group when the exploitation began (ADR 0042): a child or age-disputed person at
    referral was a child then too, whatever else is said; an adult's is what the referrer
    answered, else not known (never assumed to be "adult")."""
    if age_group != AgeGroup.ADULT:
        return ExploitationAgeGroup.CHILD.value
    if answered in ExploitationAgeGroup.values:
        return str(answered)
    return ExploitationAgeGroup.NOT_KNOWN.value


class CaseStatus(models.TextChoices):
    AWAITING_REASONABLE_GROUNDS = "awaiting_rg", "Awaiting reasonable grounds decision"
    RG_SUSPENDED = "rg_suspended", "Suspended: the person is missing"
    RG_WITHDRAWN = "rg_withdrawn", "Withdrawn: the person has left"
    NEGATIVE_REASONABLE_GROUNDS = "negative_rg", "Negative reasonable grounds decision"
    RECOVERY_PERIOD = "recovery", "Recovery period: awaiting conclusive grounds decision"
    POSITIVE_CONCLUSIVE_GROUNDS = "positive_cg", "Recognised as a victim"
    NEGATIVE_CONCLUSIVE_GROUNDS = "negative_cg", "Negative conclusive grounds decision"
    RECONSIDERATION = "reconsideration", "Reconsideration requested"
    DISQUALIFIED = "disqualified", "Disqualified from protection"
    CLOSED = "closed", "Closed"


class CloseReason(models.TextChoices):
    """Why a competent authority closes a case. Codes, never free text: the reason is shown to
    the referrer and kept after the person's details are erased."""

    DECISION_FINAL = "decision_final", "The decision is final: no reconsideration is possible"
    SUPPORT_ENDED = "support_ended", "Support and move-on support have ended"
    LEFT = "left", "The person has left the country or withdrawn from the mechanism"
    DUPLICATE = "duplicate", "The case duplicates another case of the same person"
