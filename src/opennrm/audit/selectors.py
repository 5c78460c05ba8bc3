from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.roles import Role

from .models import AuditEvent


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    ip_address: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_events_search(filters: AuditFilter) -> QuerySet[AuditEvent]:
    """Events matching every given filter, newest first. Only system administrators and the
    data-protection officer reach this (the access table says so); there is no per-organisation
    view of the audit trail yet."""
    events = AuditEvent.objects.select_related("actor", "organisation")
    if filters.actor:
        events = events.filter(actor_label__icontains=filters.actor)
    if filters.action:
        events = events.filter(action__icontains=filters.action)
    if filters.object_type:
        events = events.filter(object_type=filters.object_type)
    if filters.object_id:
        events = events.filter(object_id=filters.object_id)
    if filters.ip_address:
        events = events.filter(ip_address=filters.ip_address)
    if filters.date_from:
        events = events.filter(at__gte=_start_of(filters.date_from))
    if filters.date_to:
        events = events.filter(at__lt=_start_of(filters.date_to + timedelta(days=1)))
    return events.order_by("-at", "-id")


def audit_object_types() -> list[str]:
    return list(
        AuditEvent.objects.exclude(object_type="")
        .order_by("object_type")
        .values_list("object_type", flat=True)
        .distinct()
    )


# --- Who looked at a person: the data-protection officer's page --------------------------------

# The identifying fields a read can name, in words.
FIELD_LABELS = {
    "given_names": "given names",
    "family_name": "family name",
    "aliases": "other names",
    "date_of_birth": "date of birth",
    "safe_contact": "safe contact details",
    "persons_account": "the person's account",
    "responders_account": "the first responder's account",
    "exploitation_places": "places of exploitation",
    "immediate_needs_details": "immediate needs",
    "evidence_names": "names of evidence files",
    "decision_reasons": "the reasons for a decision",
}
DOCUMENT_LABELS = {
    "decisions.decision": "decision letter",
    "referrals.evidencefile": "evidence file",
}
READ_ACTIONS = ("person.viewed", "person.exported", "evidence.downloaded")
DRAFT = "referrals.referraldraft"


@dataclass(frozen=True)
class Read:
    event: AuditEvent
    what: str
    record: str
    fields: str


@dataclass(frozen=True)
class PersonReads:
    """Every read of one person's identifying data: of their cases (by the person's id) and of
    the draft referrals that became those cases, newest first."""

    reference: str
    case_references: dict[str, str]
    draft_cases: dict[str, str]
    events: QuerySet[AuditEvent]

    def describe(self, events: Iterable[AuditEvent]) -> list[Read]:
        return [self._describe(event) for event in events]

    def _describe(self, event: AuditEvent) -> Read:
        detail = event.detail or {}
        document = detail.get("document") or {}
        if event.action == "person.viewed" and not document:
            what = "Viewed the draft referral" if event.object_type == DRAFT else "Viewed the case"
        else:
            verb = "Downloaded" if event.action != "person.viewed" else "Viewed"
            noun = DOCUMENT_LABELS.get(document.get("type", ""), "a document")
            what = f"{verb} {noun} {document.get('id', '')}".strip()
            if event.action == "person.exported":
                what += " (PDF)"
        if event.object_type == DRAFT:
            case = self.draft_cases.get(event.object_id, "")
            record = f"Draft referral (now case {case})" if case else "Draft referral"
        else:
            record = self.case_references.get(event.object_id, event.object_id)
        fields = ", ".join(FIELD_LABELS.get(name, name) for name in detail.get("fields", []))
        if detail.get("purpose"):
            fields += f" (purpose: {detail['purpose']})"
        return Read(event=event, what=what, record=record, fields=fields or "None")


def person_reads_get(actor: Actor, reference: str) -> PersonReads | None:
    """Reads of the person in the case with this reference, for a data-protection officer (any
    case: the role's scope is the whole service); None when no case has the reference. Anyone
    else gets 404, as if the page did not exist."""
    from opennrm.cases.models import Case
    from opennrm.referrals.models import ReferralDraft

    if Role.DATA_PROTECTION_OFFICER not in actor.roles:
        raise Http404
    case = Case.objects.filter(reference=reference.strip().upper()).first()
    if case is None:
        return None
    cases = dict(
        Case.objects.filter(person_id=case.person_id).values_list("pk", "reference").order_by("pk")
    )
    drafts = dict(
        ReferralDraft.objects.filter(case_id__in=cases).values_list("pk", "case__reference")
    )
    events = (
        AuditEvent.objects.filter(
            Q(person_id=case.person_id)
            | Q(
                object_type=DRAFT, object_id__in=[str(pk) for pk in drafts], action__in=READ_ACTIONS
            )
        )
        .select_related("actor")
        .order_by("-at", "-id")
    )
    return PersonReads(
        reference=case.reference,
        case_references={str(pk): ref for pk, ref in cases.items()},
        draft_cases={str(pk): ref for pk, ref in drafts.items()},
        events=events,
    )
