"""Every write of contacts: a case's contacts and agency references, consent to share with a
named agency, and erasure of both with the person's identifying details.

Whoever may open the case may change them (`selectors.contacts_case_get`, checked again here).
Audit events name the fields changed, never their values.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import User
from opennrm.audit.services import audit_record
from opennrm.cases.models import Case
from opennrm.cases.selectors import cases_visible_to
from opennrm.lib.govuk_forms import StaleVersion, saved_again
from opennrm.lib.text import as_lines

from .checks import address_refusal, phone_problem, reference_problem
from .models import (
    ADDRESS_ALLOWED,
    AgencyConsent,
    AgencyKind,
    CaseContacts,
    LocationType,
    police_forces,
)
from .selectors import CHILD_ONLY_FIELDS

MAX_ADDRESS = 500
MAX_NAME = 200
# Consent to share may be asked when the person is first met, in the days before the referral
# is sent; an answer dated earlier than this belongs to another time, or is a slip of the year.
CONSENT_BEFORE_REFERRAL = timedelta(days=30)
PHONES = {
    "referrer_phone": "The referrer's phone number",
    "social_worker_phone": "The social worker's phone number",
    "guardian_phone": "The guardian's phone number",
}
REFERENCES = {
    "crime_reference": ("The crime reference", 40),
    "home_office_reference": ("The Home Office reference", 40),
}
TEXTS = {
    "referrer_out_of_hours": ("The out-of-hours contact", 200),
    "social_worker_name": ("The social worker's name", MAX_NAME),
    "social_worker_local_authority": ("The social worker's local authority", MAX_NAME),
    "guardian_name": ("The guardian's name", MAX_NAME),
    "guardian_service": ("The guardian's service", MAX_NAME),
}
EDITABLE = (
    "referrer_phone",
    "referrer_out_of_hours",
    "police_force",
    "crime_reference",
    "home_office_reference",
    "social_worker_name",
    "social_worker_local_authority",
    "social_worker_phone",
    "social_worker_email",
    "guardian_name",
    "guardian_service",
    "guardian_phone",
    "location_type",
    "location_address",
)


def _check_may_open(by: User, case: Case) -> None:
    if not cases_visible_to(Actor.of_session(by)).filter(pk=case.pk).exists():
        raise ValidationError("Only those who may open this case can change its contacts")


def _check_not_erased(case: Case) -> None:
    if hasattr(case.person, "erasure"):
        raise ValidationError("This person's details have been erased")


def _format_problems(values: dict[str, str]) -> dict[str, str]:
    """Phone numbers, references, lengths and the e-mail address."""
    problems: dict[str, str] = {}
    for name, label in PHONES.items():
        problem = phone_problem(values.get(name, ""), label)
        if problem:
            problems[name] = problem
    for name, (label, limit) in REFERENCES.items():
        problem = reference_problem(values.get(name, ""), label, limit)
        if problem:
            problems[name] = problem
    for name, (label, limit) in TEXTS.items():
        if len(values.get(name, "")) > limit:
            problems[name] = f"{label} must be {limit} characters or fewer"
    email = values.get("social_worker_email", "")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problems["social_worker_email"] = (
                "Enter the social worker's email address in the right format, like "
                "name@example.gov.uk"
            )
    return problems


def _place_problems(values: dict[str, str]) -> dict[str, str]:
    """The police force from the list; the kind of place, and an address only where it needs
    one."""
    problems: dict[str, str] = {}
    force = values.get("police_force", "")
    if force and force not in police_forces():
        problems["police_force"] = "Select the police force from the list"
    location = values.get("location_type", "")
    if location and location not in LocationType.values:
        problems["location_type"] = "Select where the person is staying now from the list"
    address = values.get("location_address", "")
    if address and location not in ADDRESS_ALLOWED:
        problems["location_address"] = address_refusal(location)
    elif len(address) > MAX_ADDRESS:
        problems["location_address"] = f"The address must be {MAX_ADDRESS} characters or fewer"
    return problems


def contact_problems(values: dict[str, str], *, child: bool) -> dict[str, str]:
    """What is wrong with these contact values, by field: the same messages as the form's."""
    problems = _format_problems(values) | _place_problems(values)
    if not child:
        for name in sorted(CHILD_ONLY_FIELDS):
            if values.get(name):
                problems[name] = "Only a child's case has a social worker and a guardian here"
    return problems


@transaction.atomic
def case_contacts_update(
    *,
    by: User,
    case: Case,
    expected_version: int,
    referrer_phone: str | None = None,
    referrer_out_of_hours: str | None = None,
    police_force: str | None = None,
    crime_reference: str | None = None,
    home_office_reference: str | None = None,
    social_worker_name: str | None = None,
    social_worker_local_authority: str | None = None,
    social_worker_phone: str | None = None,
    social_worker_email: str | None = None,
    guardian_name: str | None = None,
    guardian_service: str | None = None,
    guardian_phone: str | None = None,
    location_type: str | None = None,
    location_address: str | None = None,
) -> CaseContacts:
    """Set the case's contacts and references. A value left as None keeps what is stored (an
    adult's page does not ask for a social worker or guardian). Refused, naming each field,
    when a value is not right; an address is kept only for the kinds of place that allow one,
    and emptied when the person moves to a kind that does not. Sent with an old version it is
    refused as stale, unless it is the writer's own last save sent again: then the contacts are
    returned as they are, and nothing more is written."""
    _check_may_open(by, case)
    _check_not_erased(case)
    given = {
        "referrer_phone": referrer_phone,
        "referrer_out_of_hours": referrer_out_of_hours,
        "police_force": police_force,
        "crime_reference": crime_reference,
        "home_office_reference": home_office_reference,
        "social_worker_name": social_worker_name,
        "social_worker_local_authority": social_worker_local_authority,
        "social_worker_phone": social_worker_phone,
        "social_worker_email": social_worker_email,
        "guardian_name": guardian_name,
        "guardian_service": guardian_service,
        "guardian_phone": guardian_phone,
        "location_type": location_type,
        "location_address": location_address,
    }
    try:
        with transaction.atomic():
            CaseContacts.objects.get_or_create(case=case)
    except IntegrityError:
        pass  # made a moment ago by someone else
    locked = CaseContacts.objects.select_for_update().get(case=case)
    values = {
        name: (getattr(locked, name) if value is None else value.strip())
        for name, value in given.items()
    }
    if location_address is not None:
        # Line breaks as the writer counts them: a browser sends each as CR LF.
        values["location_address"] = as_lines(values["location_address"])
    if values["location_type"] not in ADDRESS_ALLOWED and location_address is None:
        values["location_address"] = ""  # moved to a kind of place that has no address here
    if locked.version != expected_version:
        if saved_again(locked, by.pk, expected_version, {n: values[n] for n in EDITABLE}):
            return locked  # the same save sent twice: nothing more to write
        raise StaleVersion(
            "Someone else changed these contacts while you were working on them. Your answers "
            "are still here: check them, then save again.",
            current=locked.version,
        )
    # Checked: what was given, and the place with its address (which depend on each other).
    checked = {name for name, value in given.items() if value is not None}
    checked |= {"location_type", "location_address"}
    problems = contact_problems({name: values[name] for name in checked}, child=case.is_child)
    if problems:
        raise ValidationError(problems)
    changed = [name for name in EDITABLE if getattr(locked, name) != values[name]]
    for name in changed:
        setattr(locked, name, values[name])
    locked.updated_at = timezone.now()
    locked.updated_by = by
    locked.version += 1
    locked.save(update_fields=[*changed, "updated_at", "updated_by", "version"])
    audit_record(
        by=by,
        action="contacts.updated",
        obj=case,
        detail={"reference": case.reference, "fields": changed},
    )
    return locked


def _consent_problems(
    case: Case, agency_kind: str, agency_name: str, given_on: date | None
) -> dict[str, str]:
    problems: dict[str, str] = {}
    if agency_kind not in AgencyKind.values:
        problems["agency_kind"] = "Select the kind of agency"
    if not agency_name:
        problems["agency_name"] = "Enter the name of the agency"
    elif len(agency_name) > MAX_NAME:
        problems["agency_name"] = f"The agency's name must be {MAX_NAME} characters or fewer"
    if given_on is None:
        problems["given_on"] = "Enter the date they answered"
    elif given_on > timezone.localdate():
        problems["given_on"] = "The date they answered must be today or earlier"
    elif given_on < (earliest := timezone.localdate(case.submitted_at) - CONSENT_BEFORE_REFERRAL):
        problems["given_on"] = (
            "The date they answered cannot be more than 30 days before they were referred: "
            f"enter {earliest:%-d %B %Y} or later"
        )
    return problems


@transaction.atomic
def agency_consent_record(
    *,
    by: User,
    case: Case,
    agency_kind: str,
    agency_name: str,
    consent_given: bool,
    given_on: date | None,
) -> AgencyConsent:
    """Record an adult's answer to sharing their details with one named agency; asked again,
    the agency's row takes the new answer. An answer given before the one held (a paper form
    typed in late) is refused: the later answer stands, a withdrawal above all. A child needs
    no consent, so none is recorded."""
    _check_may_open(by, case)
    _check_not_erased(case)
    if case.is_child:
        raise ValidationError(
            "A child needs no consent: their details are shared with the agencies that "
            "safeguard them"
        )
    agency_name = " ".join(agency_name.split())
    problems = _consent_problems(case, agency_kind, agency_name, given_on)
    if problems:
        raise ValidationError(problems)
    assert given_on is not None  # noqa: S101 - checked above
    now = timezone.now()
    # The names are encrypted, so they are compared here; the case's lock keeps two people
    # recording the same agency at once from making two rows.
    Case.objects.select_for_update().filter(pk=case.pk).exists()
    same_name = agency_name.casefold()
    existing = next(
        (
            consent
            for consent in AgencyConsent.objects.filter(case=case, agency_kind=agency_kind)
            if consent.agency_name.casefold() == same_name
        ),
        None,
    )
    if existing is not None and given_on < existing.given_on:
        raise ValidationError(
            {
                "given_on": "A newer answer about sharing with this agency, given on "
                f"{existing.given_on:%-d %B %Y}, is recorded and stands: an answer given "
                "before it cannot replace it"
            }
        )
    if existing is None:
        consent = AgencyConsent.objects.create(
            case=case,
            agency_kind=agency_kind,
            agency_name=agency_name,
            consent_given=consent_given,
            given_on=given_on,
            recorded_by=by,
            recorded_at=now,
        )
    else:
        consent = existing
        consent.agency_name = agency_name
        consent.consent_given = consent_given
        consent.given_on = given_on
        consent.recorded_by = by
        consent.recorded_at = now
        consent.save(
            update_fields=["agency_name", "consent_given", "given_on", "recorded_by", "recorded_at"]
        )
    audit_record(
        by=by,
        action="contacts.consent_recorded",
        obj=consent,
        detail={
            "reference": case.reference,
            "agency_kind": agency_kind,
            "consent_given": consent_given,
            "changed": existing is not None,
        },
    )
    return consent


def contacts_pseudonymise(case_ids: Sequence[int]) -> dict[str, int]:
    """Delete the contacts and references of these cases, and the agencies their consents
    name. Called only inside `privacy.services._remove_identifying_records`, whose audit event
    covers it."""
    return {
        "contacts": CaseContacts.objects.filter(case_id__in=case_ids).delete()[0],
        "agency_consents": AgencyConsent.objects.filter(case_id__in=case_ids).delete()[0],
    }
