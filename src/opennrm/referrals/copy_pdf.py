"""The referrer's copy of a referral, as a PDF: what it said when it was submitted and, apart
and labelled so, what was asked and added after it (ADR 28).

The words are the stored records of the submission (the person's identity, the accounts, the
screening's indicators, the consent, the needs the referral raised, the names of the evidence
it carried), which nothing after submission writes over: additions and requests are rows of
their own. Printed with the decision letters' fonts (`decisions.letters`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from opennrm.accommodation.models import ImmediateNeed
from opennrm.cases.choices import (
    AgeGroup,
    ExploitationAgeGroup,
    ExploitationLocation,
    ExploitationType,
    Gender,
    Sex,
)
from opennrm.cases.models import Case
from opennrm.decisions.letters import MAIN, pdf_bytes, pdf_document
from opennrm.lib.iso import country_name, language_name

from .models import InformationRequest, ReferralAddition
from .selectors import after_submission, evidence_as_submitted

# The answer to "Was the person under 18 when the exploitation began?", in its words.
UNDER_18_WHEN_BEGAN: dict[str, str] = {
    ExploitationAgeGroup.CHILD.value: "Yes",
    ExploitationAgeGroup.ADULT.value: "No",
    ExploitationAgeGroup.NOT_KNOWN.value: "Not known",
}

# The identifying fields the copy holds, for the read it records (never their values).
COPY_FIELDS = [
    "given_names",
    "family_name",
    "aliases",
    "date_of_birth",
    "safe_contact",
    "persons_account",
    "responders_account",
    "exploitation_places",
    "immediate_needs_details",
    "evidence_names",
    "information_requests",
    "additions",
]

SUBMITTED_HEADING = "The referral as submitted"
ADDED_HEADING = "Added after submission"
ADDED_NOTE = (
    "Everything below was asked or added after the referral was submitted. It is kept beside "
    "the referral and does not change what the referral said."
)


@dataclass(frozen=True)
class Section:
    heading: str
    rows: list[tuple[str, str]]


def _label(choices: Any, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def _yes_no(value: bool | None) -> str:
    return "Not asked" if value is None else ("Yes" if value else "No")


def _day(value: Any) -> str:
    return f"{value:%-d %B %Y}" if value else "Not given"


def _moment(value: datetime) -> str:
    return f"{timezone.localtime(value):%-d %B %Y at %H:%M}"


def _needs_submitted(case: Case) -> list[str]:
    """The immediate needs the referral raised, in words: an adult's placement request, or a
    child's (or age-disputed person's) children's services task raised at submission, which
    keeps them in words already (ADR 25)."""
    request = case.placement_requests.filter(raised_by__isnull=True).order_by("pk").first()
    if request is not None:
        return [_label(ImmediateNeed, need) for need in request.needs]
    task = case.children_services_tasks.filter(raised_at=case.submitted_at).order_by("pk").first()
    return [str(need) for need in task.needs] if task is not None else []


def as_submitted(case: Case) -> list[Section]:
    """What the referral said when it was submitted, section by section."""
    person = case.person
    identity = getattr(person, "identity", None)
    narrative = getattr(case, "narrative", None)
    name = (
        " ".join(p for p in (identity.given_names, identity.family_name) if p)
        if identity
        else "Erased"
    )
    indicators: list[tuple[str, str]] = []
    if case.screening is not None:
        listed = case.screening.catalogue.parsed().list(case.screening.list_key)
        for code in case.screening.observed_codes:
            indicator = listed.get(code) if listed else None
            indicators.append((code, indicator.text if indicator else code))
    needs = _needs_submitted(case)
    evidence = [item.original_name for item in evidence_as_submitted(case)]
    return [
        Section(
            "Referral",
            [
                ("Reference", case.reference),
                ("Submitted", _moment(case.submitted_at)),
                (
                    "Referred by",
                    f"{case.referred_by.full_name}, {case.referring_organisation.name}",
                ),
                ("Sent to", case.competent_authority.name),
            ],
        ),
        Section(
            "The person",
            [
                ("Name", name),
                (
                    "Other names",
                    ", ".join(identity.aliases) if identity and identity.aliases else "None given",
                ),
                ("Date of birth", _day(identity.date_of_birth if identity else None)),
                (
                    "Age at referral",
                    f"{person.age_at_referral}{' (estimated)' if person.age_is_estimated else ''}"
                    if person.age_at_referral is not None
                    else "Not given",
                ),
                ("Age group", _label(AgeGroup, case.age_group)),
                ("Sex", _label(Sex, person.sex)),
                ("Gender", _label(Gender, person.gender) if person.gender else "Not given"),
                ("Nationality", ", ".join(country_name(c) for c in person.nationalities)),
                ("Languages", ", ".join(language_name(c) for c in person.languages)),
                ("Interpreter needed", _yes_no(person.interpreter_needed)),
                (
                    "Safe way to contact them",
                    (identity.safe_contact if identity else "") or "None given",
                ),
            ],
        ),
        Section(
            "Exploitation",
            [
                (
                    "Kind",
                    ", ".join(_label(ExploitationType, t) for t in case.exploitation_types),
                ),
                ("Where", _label(ExploitationLocation, case.exploitation_location)),
                ("Area", case.area),
                ("Started", _day(case.exploitation_started)),
                (
                    "Under 18 when it began",
                    UNDER_18_WHEN_BEGAN.get(case.age_group_at_exploitation, "Not known"),
                ),
                ("Places", (narrative.exploitation_places if narrative else "") or "None given"),
                ("In immigration detention", _yes_no(case.in_immigration_detention)),
            ],
        ),
        Section(
            "Indicators seen",
            [(code, text) for code, text in indicators] or [("", "None observed")],
        ),
        Section(
            "Consent",
            [
                ("Consents to the referral", _yes_no(case.consent_to_referral)),
                ("Consents to support", _yes_no(case.consent_to_support)),
                ("Explanation given", case.consent_explanation_version or "Not recorded"),
                (
                    "In the language",
                    language_name(case.consent_explanation_language)
                    if case.consent_explanation_language
                    else "Not recorded",
                ),
            ],
        ),
        Section(
            "Accounts",
            [
                (
                    "The person's account",
                    (narrative.persons_account if narrative else "") or "None given",
                ),
                (
                    "The first responder's account",
                    (narrative.responders_account if narrative else "") or "None given",
                ),
            ],
        ),
        Section(
            "Immediate needs",
            [
                ("Needs", ", ".join(needs) or "None"),
                (
                    "Details",
                    (narrative.immediate_needs_details if narrative else "") or "None given",
                ),
            ],
        ),
        Section("Evidence files", [("", name) for name in evidence] or [("", "None")]),
    ]


def added_after(case: Case) -> list[Section]:
    """Each request for information and each addition, in order, as a section of its own."""
    sections = []
    for item in after_submission(case):
        if isinstance(item, InformationRequest):
            sections.append(
                Section(
                    f"Request for information, {_moment(item.asked_at)}",
                    [
                        ("Asked by", f"{item.asked_by.full_name}, {case.competent_authority.name}"),
                        ("Answer by", _day(item.respond_by)),
                        ("Status", item.get_status_display()),
                        ("Question", item.question or "Erased"),
                    ],
                )
            )
        elif isinstance(item, ReferralAddition):
            files = [e.original_name for e in item.evidence.all()]
            sections.append(
                Section(
                    f"Information added, {_moment(item.added_at)}",
                    [
                        (
                            "Added by",
                            f"{item.added_by.full_name}, {case.referring_organisation.name}",
                        ),
                        (
                            "In answer to",
                            f"the request of {_moment(item.answers.asked_at)}"
                            if item.answers
                            else "Nothing: added by the referrer",
                        ),
                        ("Information", item.text or "Erased"),
                        ("Evidence files", ", ".join(files) or "None"),
                    ],
                )
            )
    return sections


def pdf(case: Case, *, printed_at: datetime) -> bytes:
    """The copy as an A4 PDF. `MissingGlyphs` if some character cannot be printed."""
    submitted, added = as_submitted(case), added_after(case)
    title = f"Copy of referral {case.reference}"
    lines = [
        title,
        SUBMITTED_HEADING,
        ADDED_HEADING,
        ADDED_NOTE,
        case.referring_organisation.name,
        *(text for section in (*submitted, *added) for row in section.rows for text in row),
        *(section.heading for section in (*submitted, *added)),
    ]
    document = pdf_document(lines, language="en", title=title, created_at=printed_at)

    def write(text: str, *, size: float, height: float, bold: bool = False) -> None:
        document.set_font(MAIN.family, "B" if bold else "", size)
        document.multi_cell(0, height, text, align="L", new_x="LMARGIN", new_y="NEXT")

    def sections(items: list[Section]) -> None:
        for section in items:
            document.ln(3)
            write(section.heading, size=12, height=7, bold=True)
            for label, value in section.rows:
                if label:
                    write(label, size=10, height=5, bold=True)
                write(value, size=10, height=5)

    write(title, size=18, height=10, bold=True)
    write(
        f"For the records of {case.referring_organisation.name}. Printed {_moment(printed_at)}.",
        size=10,
        height=5,
    )
    document.ln(4)
    write(SUBMITTED_HEADING, size=15, height=9, bold=True)
    sections(submitted)
    document.ln(6)
    write(ADDED_HEADING, size=15, height=9, bold=True)
    write(ADDED_NOTE, size=10, height=5)
    if added:
        sections(added)
    else:
        write("Nothing has been asked or added since.", size=10, height=5)
    return pdf_bytes(document)
