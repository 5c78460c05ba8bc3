"""Who may see and change a case's contacts (whoever may open the case: its referrer's first
responders, the competent authority's decision makers, the area's safeguarding leads for a
child), which of them a page shows, and the contacts for a subject access export."""

from __future__ import annotations

from typing import Any

from opennrm.accounts.actor import Actor
from opennrm.cases.models import Case
from opennrm.cases.selectors import case_get_for_user

from .models import AgencyConsent, AgencyKind, CaseContacts, LocationType, police_forces

# The fields of `CaseContacts` a page may show, each named as its audit event names it. The
# address is not among them: it has a page of its own (ADDRESS_FIELD).
SHOWN_FIELDS = (
    "referrer_phone",
    "referrer_out_of_hours",
    "crime_reference",
    "home_office_reference",
    "social_worker_name",
    "social_worker_local_authority",
    "social_worker_phone",
    "social_worker_email",
    "guardian_name",
    "guardian_service",
    "guardian_phone",
)
CHILD_ONLY_FIELDS = frozenset(name for name in SHOWN_FIELDS if name.startswith(("social", "guard")))
# The staff's own details: the referring officer's phone and out-of-hours contact, the social
# worker's and the guardian's name, phone and e-mail. They are those people's personal data, not
# the person's, and a subject access export names the staff's organisations, never the staff
# (the referring organisation, the local authority, the guardian service), as it leaves out the
# names of those who worked on the case: given to whoever a copy reaches, possibly those who
# exploited the person, they would lead to the officer or the social worker (ADR 0021, addendum
# of stop 40).
STAFF_FIELDS = frozenset(
    {
        "referrer_phone",
        "referrer_out_of_hours",
        "social_worker_name",
        "social_worker_phone",
        "social_worker_email",
        "guardian_name",
        "guardian_phone",
    }
)
# The fields of `CaseContacts` a subject access export gives (`contacts_export`), besides the
# address, the police force and the kind of place.
EXPORTED_FIELDS = tuple(name for name in SHOWN_FIELDS if name not in STAFF_FIELDS)
ADDRESS_FIELD = "location_address"


def contacts_case_get(actor: Actor, reference: str) -> Case:
    """The case, if the actor may open it (and so see and change its contacts); 404 if not."""
    return case_get_for_user(actor, reference)


def contacts_of(case: Case) -> CaseContacts | None:
    return CaseContacts.objects.filter(case=case).first()


def consents_of(case: Case) -> list[AgencyConsent]:
    """By kind of agency, then name (sorted here: the names are encrypted)."""
    found = case.agency_consents.select_related("recorded_by")
    return sorted(found, key=lambda c: (c.agency_kind, c.agency_name.casefold(), c.pk))


def fields_with_values(contacts: CaseContacts | None, *, child: bool) -> list[str]:
    """The identifying fields a page showing these contacts shows: those with a value."""
    if contacts is None:
        return []
    return [
        name
        for name in SHOWN_FIELDS
        if (child or name not in CHILD_ONLY_FIELDS) and getattr(contacts, name)
    ]


def contacts_export(case: Case) -> dict[str, Any] | None:
    """The case's contacts and consents in words, for a subject access export
    (`privacy.selectors.subject_access_data`, which is audited): its references, the
    organisations of the staff who act for the person, where they are staying and the agencies
    they agreed to share with; never the staff's own details (`STAFF_FIELDS`)."""
    contacts = contacts_of(case)
    consents = consents_of(case)
    if contacts is None and not consents:
        return None
    kinds = dict(AgencyKind.choices)
    found: dict[str, Any] = {}
    if contacts is not None:
        found = {name: getattr(contacts, name) or None for name in EXPORTED_FIELDS}
        found["police_force"] = police_forces().get(contacts.police_force) or None
        found["location_type"] = (
            LocationType(contacts.location_type).label if contacts.location_type else None
        )
        found["location_address"] = contacts.location_address or None
    found["consent_to_share"] = [
        {
            "agency": consent.agency_name,
            "kind": str(kinds.get(consent.agency_kind, consent.agency_kind)),
            "consent_given": consent.consent_given,
            "on": consent.given_on.isoformat(),
        }
        for consent in consents
    ]
    return found
