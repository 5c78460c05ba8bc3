"""A differentially private synthetic dataset in the column set of CTDC's Global Synthetic
Dataset (v2025), for a release (issue 13, item 6; ADR 0037).

Two parts. The loader (`referral_rows`) reads the referrals submitted in a period, in one
jurisdiction or all, from one query of statistical fields only (`LOADER_FIELDS`: never a name,
reference, date of birth, area or free text) and maps each to a row of CTDC's 27 synthetic
columns with the k-anonymised export's mapping (`ctdc.ctdc_row`, from the extract's labels).
The pure part (`mst.synthesise`) turns those rows into synthetic rows by MST with
(epsilon, delta)-differential privacy for each referral, added or removed.

Each column's domain is public, fixed before the data is read: a year of the period, CTDC's
age bands, every ISO 3166-1 country (alpha-3, as CTDC's synthetic file has them, and Kosovo's
XKX), flags 0 and 1, and always the empty value for "not known". The domain of citizenship is
the whole ISO list, never the nationalities the period's referrals have, so that the file's
values do not show which rare nationality was present; MST puts the rare ones together and
draws them uniformly.

Columns OpenNRM does not record (`UNFILLED`: the means of control, the labour sectors other than
domestic work, the kinds of sexual exploitation, the recruiter's relation) are empty in every
row and cost no privacy.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pycountry
from django.db.models import QuerySet

from opennrm.accounts.roles import Jurisdiction
from opennrm.cases.choices import ExploitationLocation
from opennrm.cases.models import Case
from opennrm.lib.iso import KOSOVO

from . import mst
from .ctdc import CTDC_AGE_BANDS, GENDER, ctdc_row
from .extract import (
    AGE_GROUP_LABEL,
    NOT_GIVEN,
    SEX_LABEL,
    age_band_of,
    exploitation_value,
)
from .tables import Period, local_day

# CTDC's Global Synthetic Dataset v2025, in its order (tests/data/ctdc_columns_synthetic_v2025.csv).
SYNTHETIC_COLUMNS: tuple[str, ...] = (
    "yearOfRegistration",
    "gender",
    "ageBroad",
    "citizenship",
    "CountryOfExploitation",
    "traffickMonths",
    "meansDebtBondageEarnings",
    "meansThreats",
    "meansAbusePsyPhySex",
    "meansFalsePromises",
    "meansDrugsAlcohol",
    "meansDenyBasicNeeds",
    "meansExcessiveWorkHours",
    "meansWithholdDocs",
    "isForcedLabour",
    "isSexualExploit",
    "isOtherExploit",
    "typeOfLabourAgriculture",
    "typeOfLabourConstruction",
    "typeOfLabourDomesticWork",
    "typeOfLabourHospitality",
    "typeOfSexProstitution",
    "typeOfSexPornography",
    "recruiterRelationIntimatePartner",
    "recruiterRelationFriend",
    "recruiterRelationFamily",
    "recruiterRelationOther",
)
UNFILLED: tuple[str, ...] = (
    *(c for c in SYNTHETIC_COLUMNS if c.startswith(("means", "typeOfSex", "recruiter"))),
    "typeOfLabourAgriculture",
    "typeOfLabourConstruction",
    "typeOfLabourHospitality",
)
UNFILLED_NOTE = (
    "OpenNRM does not record the means of control, the labour sectors other than domestic "
    "work, the kind of sexual exploitation or the recruiter's relation to the person; those "
    "columns are empty in every row."
)

# The only fields the loader reads (tests assert that the query reads these and no other).
LOADER_FIELDS: tuple[str, ...] = (
    "submitted_at",
    "age_group",
    "person__age_at_referral",
    "person__sex",
    "person__nationalities",
    "exploitation_types",
    "exploitation_location",
    "exploitation_started",
    "exploitation_ended",
)

DELTA = 1e-9  # fixed, not 1/n²: n is private; far below 1/n for any national caseload
EPSILON_MIN = Decimal("0.1")
EPSILON_MAX = Decimal("10")
# The most a release's synthetic datasets may spend in all (ADR 0037, addendum of stop 40):
# every version's dataset stays public and describes the same referrals, so their epsilons add
# up. No more than one dataset alone may spend: the protection a reader of every public file is
# left with is then never weaker than the weakest single dataset the project allows.
RELEASE_EPSILON_BUDGET = EPSILON_MAX
METHOD = (
    "MST (McKenna, Miklau and Sheldon 2021): noisy one-way marginals of every column, a "
    "maximum spanning tree of pairs chosen by the exponential mechanism, noisy two-way "
    "marginals of the tree's pairs, rows sampled from the tree model fitted to them; Gaussian "
    "noise (OpenDP), privacy accounted in zero-concentrated DP"
)

FLAG = ("0", "1", "")
# CTDC's v2025 synthetic file gives how long the person was exploited in these three bands;
# only the middle one's exact spelling has been seen, the other two follow it.
TRAFFICK_MONTHS = ("0--12 (0-1 yr)", "13--24 (1-2 yrs)", "25+ (2+ yrs)")
UK = "GBR"
# Every ISO 3166-1 country by its alpha-2 code, to the alpha-3 code CTDC's synthetic file uses.
ALPHA_3: dict[str, str] = {c.alpha_2: c.alpha_3 for c in pycountry.countries} | {KOSOVO: "XKX"}
OTHER_TYPES = ("isOtherExploit", "isForcedMarriage", "isOrganRemoval", "isForcedMilitary")


class SyntheticRefused(ValueError):
    """The dataset cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class SyntheticDataset:
    """The synthetic rows (in `columns`, CTDC's order) and what the release states of them."""

    period: Period
    jurisdiction: str | None
    epsilon: float
    delta: float
    rho: float
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    method: str
    unfilled: tuple[str, ...]
    tree: tuple[tuple[str, str], ...]

    @property
    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(self.columns)
        writer.writerows(self.rows)
        return out.getvalue()

    @property
    def privacy(self) -> str:
        """The guarantee, in words, for the release notes."""
        return (
            f"Differentially private with epsilon = {self.epsilon:g} and delta = "
            f"{self.delta:g} for each referral (added or removed): {self.rho:.6g}-zCDP, "
            "converted by Canonne, Kamath and Steinke (2020). Counts are of referrals, not of "
            "people: a person referred twice is protected for each referral."
        )

    @property
    def notes(self) -> tuple[str, ...]:
        return (
            self.privacy,
            f"Method: {self.method}.",
            "The rows are synthetic: none is a referral, and the number of rows is itself a "
            "noisy estimate of the number of referrals.",
            UNFILLED_NOTE,
        )


def columns_for(period: Period) -> list[mst.Column]:
    """Each column with its public domain (ADR 0037): chosen before any data is read."""
    years = tuple(str(year) for year in range(period.start.year, period.end.year + 1))
    countries = tuple(sorted(set(ALPHA_3.values())))
    domains: dict[str, tuple[str, ...]] = {
        "yearOfRegistration": years,
        "gender": (*GENDER.values(), ""),
        "ageBroad": (*sorted(CTDC_AGE_BANDS, key=_band_start), ""),
        "citizenship": (*countries, ""),
        "CountryOfExploitation": (UK, ""),
        "traffickMonths": (*TRAFFICK_MONTHS, ""),
        "isForcedLabour": FLAG,
        "isSexualExploit": FLAG,
        "isOtherExploit": FLAG,
        "typeOfLabourDomesticWork": ("1", ""),  # as the CTDC export: 1 when named, else empty
    }
    return [mst.Column(name, domains.get(name, ("",))) for name in SYNTHETIC_COLUMNS]


def _band_start(label: str) -> int:
    return int(label.split("-")[0].rstrip("+"))


def check_epsilon(epsilon: float | Decimal) -> Decimal:
    try:
        value = Decimal(str(epsilon))
    except ArithmeticError:
        value = Decimal("NaN")
    if not value.is_finite() or not EPSILON_MIN <= value <= EPSILON_MAX:
        raise SyntheticRefused(
            f"Epsilon must be a number from {EPSILON_MIN} to {EPSILON_MAX}, not {epsilon}"
        )
    return value


def synthetic_dataset(
    period: Period,
    jurisdiction: str | None = None,
    epsilon: float | Decimal = 1.0,
    seed: int | None = None,
    count: int | None = None,
) -> SyntheticDataset:
    """A synthetic dataset of the referrals submitted in the period (in one jurisdiction, or
    all), (epsilon, DELTA)-differentially private. `seed` makes it reproducible and is for
    tests and demonstrations only: a release leaves it None (OpenDP's secure noise). `count`
    fixes the number of rows (a public choice); by default it is the noisy estimate."""
    chosen = float(check_epsilon(epsilon))
    if jurisdiction is not None and jurisdiction not in Jurisdiction.values:
        raise SyntheticRefused(
            f"Jurisdiction must be one of {', '.join(Jurisdiction.values)}, not {jurisdiction}"
        )
    if count is not None and count < 0:
        raise SyntheticRefused("The number of rows must be 0 or more")
    columns = columns_for(period)
    made = mst.synthesise(
        referral_rows(period, jurisdiction),
        columns,
        epsilon=chosen,
        delta=DELTA,
        count=count,
        seed=seed,
    )
    return SyntheticDataset(
        period=period,
        jurisdiction=jurisdiction,
        epsilon=chosen,
        delta=DELTA,
        rho=made.rho,
        columns=SYNTHETIC_COLUMNS,
        rows=made.rows,
        method=METHOD,
        unfilled=UNFILLED,
        tree=made.tree,
    )


# --- The loader -----------------------------------------------------------------------------


def referral_query(period: Period, jurisdiction: str | None = None) -> QuerySet[Any]:
    """The period's referrals (by the day they were submitted, Europe/London), as tuples of
    `LOADER_FIELDS`: statistical fields only."""
    cases = Case.objects.filter(submitted_at__gte=period.begins, submitted_at__lt=period.ends)
    if jurisdiction is not None:
        cases = cases.filter(jurisdiction=jurisdiction)
    return cases.order_by().values_list(*LOADER_FIELDS)


def referral_rows(period: Period, jurisdiction: str | None = None) -> list[tuple[str, ...]]:
    """One row per referral in `SYNTHETIC_COLUMNS`, every value in its column's domain."""
    return [synthetic_row(values) for values in referral_query(period, jurisdiction).iterator()]


def synthetic_row(values: tuple[Any, ...]) -> tuple[str, ...]:
    """One referral's `LOADER_FIELDS` as a row of CTDC's synthetic columns, by the k-anonymised
    export's mapping (ADR 0034) where CTDC's two files share a column."""
    (submitted, age_group, age, sex, nationalities, types, location, started, ended) = values
    referred = local_day(submitted)
    nationality = str(nationalities[0]).upper() if nationalities else ""
    exported = ctdc_row(
        {
            "referral_year": str(referred.year),
            "sex": SEX_LABEL.get(sex, "Not known"),
            "age_group": AGE_GROUP_LABEL.get(age_group, NOT_GIVEN),
            "age_band": age_band_of(age_group, age),
            "nationality": nationality,
            "exploitation_type": exploitation_value(types or ()),
        }
    )
    known = exported["isForcedLabour"] != ""
    out = dict.fromkeys(SYNTHETIC_COLUMNS, "")
    out["yearOfRegistration"] = exported["yearOfRegistration"]
    out["gender"] = exported["gender"]
    out["ageBroad"] = exported["ageBroad"]
    out["citizenship"] = ALPHA_3.get(exported["citizenship"], "")
    out["CountryOfExploitation"] = UK if location == ExploitationLocation.UK else ""
    out["traffickMonths"] = traffick_months(started, ended or referred)
    out["isForcedLabour"] = exported["isForcedLabour"]
    out["isSexualExploit"] = exported["isSexualExploit"]
    # CTDC's synthetic file has one flag for every other kind (forced marriage, organ removal).
    out["isOtherExploit"] = (
        ("1" if any(exported[flag] == "1" for flag in OTHER_TYPES) else "0") if known else ""
    )
    out["typeOfLabourDomesticWork"] = exported["typeOfLabourDomesticWork"]
    return tuple(out[column] for column in SYNTHETIC_COLUMNS)


def traffick_months(started: date | None, ended: date) -> str:
    """How long the exploitation lasted, in CTDC's bands: from its recorded start to its end,
    or to the referral while it had not ended; empty when the start is not known."""
    if started is None or ended < started:
        return ""
    months = (ended.year - started.year) * 12 + ended.month - started.month
    months -= 1 if ended.day < started.day else 0
    if months <= 12:
        return TRAFFICK_MONTHS[0]
    return TRAFFICK_MONTHS[1] if months <= 24 else TRAFFICK_MONTHS[2]
