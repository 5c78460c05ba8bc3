"""The extract in the Counter-Trafficking Data Collaborative's column names and value formats
(issue 13, item 5; ADR 0034), so a deployment can contribute to CTDC's k-anonymised Global
Dataset (k = 11).

Every CTDC column is computed from the k-anonymous extract's quasi-identifiers alone (the
outcomes and day bands have no CTDC column), so each CTDC row is a merging of the extract's
groups; `ctdc_csv` still counts every combination of every column afresh and refuses if any
is under k. Formats, as CTDC's: age bands `18--20` (`48+` at the top), ISO 3166-1 alpha-2
codes, flags 0 or 1, and an empty cell for what is not known, not recorded, or withheld by the
generalisation (a nationality given by region, an age band wider than CTDC's). Columns OpenNRM
does not record (means of control, labour sectors other than the two its categories imply,
kinds of sexual exploitation, abduction, the recruiter) are always empty.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from opennrm.cases.choices import ExploitationType

from .extract import CTDC_AGE_BOUNDS, Extract, band, exploitation_types, require_k, write_csv

# Column 0 of CTDC's file carries its terms-of-use notice in the header and is empty in every
# row; ours carries the provenance of the file in the same place.
NOTICE = "OpenNRM de-identified extract (k-anonymised): see the release notes for its terms"

CTDC_COLUMNS: tuple[str, ...] = (
    NOTICE,
    "yearOfRegistration",
    "Datasource",
    "gender",
    "ageBroad",
    "majorityStatus",
    "majorityStatusAtExploit",
    "majorityEntry",
    "citizenship",
    "meansOfControlDebtBondage",
    "meansOfControlTakesEarnings",
    "meansOfControlRestrictsFinancialAccess",
    "meansOfControlThreats",
    "meansOfControlPsychologicalAbuse",
    "meansOfControlPhysicalAbuse",
    "meansOfControlSexualAbuse",
    "meansOfControlFalsePromises",
    "meansOfControlPsychoactiveSubstances",
    "meansOfControlRestrictsMovement",
    "meansOfControlRestrictsMedicalCare",
    "meansOfControlExcessiveWorkingHours",
    "meansOfControlUsesChildren",
    "meansOfControlThreatOfLawEnforcement",
    "meansOfControlWithholdsNecessities",
    "meansOfControlWithholdsDocuments",
    "meansOfControlOther",
    "meansOfControlNotSpecified",
    "meansOfControlConcatenated",
    "isForcedLabour",
    "isSexualExploit",
    "isOtherExploit",
    "isSexAndLabour",
    "isForcedMarriage",
    "isForcedMilitary",
    "isOrganRemoval",
    "isSlaveryAndPractices",
    "typeOfExploitConcatenated",
    "typeOfLabourAgriculture",
    "typeOfLabourAquafarming",
    "typeOfLabourBegging",
    "typeOfLabourConstruction",
    "typeOfLabourDomesticWork",
    "typeOfLabourHospitality",
    "typeOfLabourIllicitActivities",
    "typeOfLabourManufacturing",
    "typeOfLabourMiningOrDrilling",
    "typeOfLabourPeddling",
    "typeOfLabourTransportation",
    "typeOfLabourOther",
    "typeOfLabourNotSpecified",
    "typeOfLabourConcatenated",
    "typeOfSexProstitution",
    "typeOfSexPornography",
    "typeOfSexRemoteInteractiveServices",
    "typeOfSexPrivateSexualServices",
    "typeOfSexConcatenated",
    "isAbduction",
    "RecruiterRelationship",
    "CountryOfExploitation",
    "recruiterRelationIntimatePartner",
    "recruiterRelationFriend",
    "recruiterRelationFamily",
    "recruiterRelationOther",
    "recruiterRelationUnknown",
)

DATASOURCE = "Case Management"
GENDER = {"Female": "Female", "Male": "Male"}  # "Other" and "Not known": empty
MAJORITY = {"Adult": "Adult", "Child": "Minor"}
CTDC_AGE_BANDS = frozenset(band(low, CTDC_AGE_BOUNDS) for low in CTDC_AGE_BOUNDS)
_BAND = re.compile(r"^(\d+)(--\d+|\+)$")


def majority_of_band(age_band: str) -> str:
    """CTDC's majority status of an age band, at any level of generalisation (every level's
    bands split at 18): "Minor" under 18, "Adult" from 18, "" if none or withheld."""
    matched = _BAND.match(age_band)
    if matched is None:
        return ""
    return "Minor" if int(matched.group(1)) < 18 else "Adult"


# The CTDC type-of-exploitation flags each OpenNRM exploitation type sets (ADR 0034). Criminal
# exploitation is forced labour in illicit activities (HTCDS, too, folds it into forced labour);
# domestic servitude is forced labour in domestic work, as CTDC codes it.
EXPLOITATION_FLAGS: dict[str, tuple[str, ...]] = {
    ExploitationType.SEXUAL: ("isSexualExploit",),
    ExploitationType.LABOUR: ("isForcedLabour",),
    ExploitationType.CRIMINAL: ("isForcedLabour",),
    ExploitationType.DOMESTIC_SERVITUDE: ("isForcedLabour",),
    ExploitationType.ORGAN_HARVESTING: ("isOrganRemoval",),
    ExploitationType.FORCED_MARRIAGE: ("isForcedMarriage",),
}
LABOUR_SECTOR: dict[str, str] = {
    ExploitationType.LABOUR: "typeOfLabourNotSpecified",
    ExploitationType.CRIMINAL: "typeOfLabourIllicitActivities",
    ExploitationType.DOMESTIC_SERVITUDE: "typeOfLabourDomesticWork",
}
TYPE_FLAGS = (
    "isForcedLabour",
    "isSexualExploit",
    "isOtherExploit",
    "isSexAndLabour",
    "isForcedMarriage",
    "isForcedMilitary",
    "isOrganRemoval",
    "isSlaveryAndPractices",
)
TYPE_NAMES = {
    "isForcedLabour": "Forced labour",
    "isSexualExploit": "Sexual exploitation",
    "isForcedMarriage": "Forced marriage",
    "isOrganRemoval": "Organ removal",
}
SECTOR_NAMES = {
    "typeOfLabourDomesticWork": "Domestic work",
    "typeOfLabourIllicitActivities": "Illicit activities",
    "typeOfLabourNotSpecified": "Not specified",
}


def ctdc_row(row: Mapping[str, str]) -> dict[str, str]:
    """One extract row in CTDC's columns; every column not filled here is empty."""
    out = dict.fromkeys(CTDC_COLUMNS, "")
    out["yearOfRegistration"] = row["referral_year"]
    out["Datasource"] = DATASOURCE
    out["gender"] = GENDER.get(row["sex"], "")
    out["ageBroad"] = row["age_band"] if row["age_band"] in CTDC_AGE_BANDS else ""
    # At registration, from the band of the age at referral (empty where no band is given);
    # at exploitation, from the extract's age group, which is the age group then (ADR 0042).
    out["majorityStatus"] = majority_of_band(row["age_band"])
    out["majorityStatusAtExploit"] = MAJORITY.get(row["age_group"], "")
    nationality = row["nationality"]
    out["citizenship"] = nationality if _iso2(nationality) else ""
    types = exploitation_types(row["exploitation_type"])
    if types:  # known: every flag 0 or 1
        flags = {flag for t in types for flag in EXPLOITATION_FLAGS[t]}
        if {"isForcedLabour", "isSexualExploit"} <= flags:
            flags.add("isSexAndLabour")
        for flag in TYPE_FLAGS:
            out[flag] = "1" if flag in flags else "0"
        out["typeOfExploitConcatenated"] = ";".join(
            TYPE_NAMES[f] for f in TYPE_FLAGS if f in flags and f in TYPE_NAMES
        )
        sectors = [LABOUR_SECTOR[t] for t in types if t in LABOUR_SECTOR]
        for sector in sectors:  # the sectors it names are 1; others are not recorded
            out[sector] = "1"
        out["typeOfLabourConcatenated"] = ";".join(
            SECTOR_NAMES[s] for s in SECTOR_NAMES if s in sectors
        )
    return out


def _iso2(value: str) -> bool:
    return len(value) == 2 and value.isascii() and value.isalpha() and value.isupper()


def ctdc_rows(made: Extract) -> list[dict[str, str]]:
    return [ctdc_row(row) for row in made.rows]


def ctdc_csv(made: Extract) -> str:
    """The extract in CTDC's columns as CSV, after counting every combination of all its
    columns: each must occur at least k times (ExtractRefused if not)."""
    rows = ctdc_rows(made)
    require_k(rows, CTDC_COLUMNS, made.k)
    return write_csv(CTDC_COLUMNS, rows)
