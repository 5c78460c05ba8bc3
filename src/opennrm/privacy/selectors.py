"""Reads for the data-protection officer: finding a person's records, what the retention rules
say about them, and everything held about them for a subject access request.

Only the data-protection officer reaches these (the access table, and `_check` again here);
anyone else gets 404, as if the records did not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent
from opennrm.care.selectors import support_export
from opennrm.cases.choices import CaseStatus, ExploitationType
from opennrm.cases.models import Case, Person
from opennrm.cases.selectors import identity_match
from opennrm.casework.selectors import casework_export
from opennrm.contacts.selectors import EXPORTED_FIELDS as CONTACT_FIELDS
from opennrm.contacts.selectors import contacts_export
from opennrm.decisions.models import LetterOccasion
from opennrm.lib.iso import country_name, language_name
from opennrm.lib.labels import stored_label
from opennrm.linkage.protection import (
    held_by_linked_referral,
    linked_cases,
    linked_referrals_holding,
)
from opennrm.linkage.selectors import links_export
from opennrm.referrals.models import ReferralDraft
from opennrm.safeguarding.selectors import safeguarding_export
from opennrm.safety.selectors import safety_export


def _check(actor: Actor) -> None:
    if Role.DATA_PROTECTION_OFFICER not in actor.roles:
        raise Http404


def years_before(day: date, years: int) -> date:
    """The same day `years` earlier (28 February for a 29 February that did not exist)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def retention_cutoff(today: date) -> datetime:
    """Cases closed before this moment are past the retention period on `today`: the start of
    the first day of closing whose retention has not ended (`retention_ends`), so that the run
    removes a person on the very day the retention page gives, leap days included (a case
    closed on 28 February 2018 ends on 29 February 2024, and the run that day removes it)."""
    first_kept = years_before(today, settings.RETENTION_CLOSED_CASE_YEARS)
    while _retention_ends_on(first_kept) <= today:
        first_kept += timedelta(days=1)
    while _retention_ends_on(first_kept - timedelta(days=1)) > today:
        first_kept -= timedelta(days=1)
    return timezone.make_aware(datetime.combine(first_kept, datetime.min.time()))


def _retention_ends_on(closed: date) -> date:
    return years_before(closed, -settings.RETENTION_CLOSED_CASE_YEARS) + timedelta(days=1)


def retention_ends(last_closed: datetime | None) -> date | None:
    """The first day the details of a person whose last case closed then may be pseudonymised."""
    if last_closed is None:
        return None
    return _retention_ends_on(timezone.localdate(last_closed))


def _people_closed_long_enough(today: date) -> QuerySet[Person]:
    """People not yet pseudonymised whose every case has been closed for the retention period,
    and whose support has ended (`care.selectors.support_under_way`: their places to keep
    away from still protect them while it has not)."""
    from opennrm.care.selectors import support_under_way

    cutoff = retention_cutoff(today)
    # Only people with a case closed before the cutoff can be past it: found from the index of
    # closing dates first, so the counts below group those few, not everyone (at a million
    # people, grouping everyone took 1.7 s of the retention page, twice).
    closed_long_ago = Case.objects.filter(closed_at__lt=cutoff).values("person_id")
    people = Person.objects.filter(erasure__isnull=True, pk__in=closed_long_ago)
    for still_under_way in support_under_way(OuterRef("pk")).values():
        people = people.exclude(still_under_way)
    return (
        people.annotate(
            open_cases=Count("cases", filter=Q(cases__closed_at__isnull=True)),
            last_closed=Max("cases__closed_at"),
        )
        .filter(open_cases=0, last_closed__lt=cutoff)
        .order_by("pk")
    )


def people_past_retention(today: date) -> QuerySet[Person]:
    """The people the retention run pseudonymises on `today`: past the retention period with
    their support ended (`_people_closed_long_enough`), and no referral confirmed as the same
    person holding their erasure (`people_held_past_retention`), which the run would refuse."""
    return _people_closed_long_enough(today).exclude(held_by_linked_referral(OuterRef("pk")))


def people_held_past_retention(today: date) -> QuerySet[Person]:
    """People past the retention period, their support ended, whose erasure waits for a
    referral confirmed as the same person (`linkage.protection.linked_referrals_holding`): the
    run passes them over each night until its competent authority closes it (ADR 0052)."""
    return _people_closed_long_enough(today).filter(held_by_linked_referral(OuterRef("pk")))


def people_due_within(today: date, days: int) -> int:
    """How many people not yet past the retention period will pass it in the next `days` days.
    Those past it already, due now or held by a linked referral, are counted as such, not here
    again: the page gave one person past the period as two, one of them "soon"."""
    already = _people_closed_long_enough(today).values("pk")
    return people_past_retention(today + timedelta(days=days)).exclude(pk__in=already).count()


def retention_summary(actor: Actor, today: date) -> dict[str, Any]:
    """What the retention rules are doing: who is due now and soon, who waits for a linked
    referral, and the latest runs, with how many people each failed to pseudonymise."""
    from .models import Erasure, ErasureReason, RetentionRun

    _check(actor)
    runs = list(RetentionRun.objects.all()[:10])
    return {
        "due_now": people_past_retention(today).count(),
        "held_now": people_held_past_retention(today).count(),
        "due_soon": people_due_within(today, 90),
        "pseudonymised": Erasure.objects.filter(reason=ErasureReason.RETENTION).count(),
        "erased_on_request": Erasure.objects.filter(reason=ErasureReason.REQUEST).count(),
        "runs": runs,
        "failed_by_run": _people_failed(runs),
    }


@dataclass(frozen=True)
class AwaitingApproval:
    """A request to erase awaiting a second officer, as the find page lists it: the person's
    number and the office's reference, nothing identifying."""

    person_id: int
    request_reference: str
    received_on: date
    # Days since the request was received: the law gives a month to answer (UK GDPR Art. 12(3)).
    days_waiting: int


def erasure_requests_awaiting(actor: Actor, today: date) -> list[AwaitingApproval]:
    """Every request to erase awaiting a second officer's approval, oldest first, so that one
    is not left past the month the law gives because nobody knew of it."""
    from .models import ErasureRequest, ErasureRequestStatus

    _check(actor)
    waiting = ErasureRequest.objects.filter(status=ErasureRequestStatus.AWAITING_APPROVAL)
    return [
        AwaitingApproval(
            person_id=made.person_id,
            request_reference=made.request_reference,
            received_on=made.request_received_on,
            days_waiting=(today - made.request_received_on).days,
        )
        for made in waiting.order_by("request_received_on", "requested_at", "pk")
    ]


def _people_failed(runs: list[Any]) -> dict[int, int]:
    """How many people each run failed to pseudonymise (an unexpected error, rolled back and
    logged by id), as its `retention.applied` event counts them: a run that did not finish has
    no event, and a run from before the count, none in it."""
    from .models import RetentionRun

    events = AuditEvent.objects.filter(
        action="retention.applied",
        object_type=stored_label(RetentionRun),
        object_id__in=[str(run.pk) for run in runs],
    ).values_list("object_id", "detail")
    return {int(run_id): int(detail.get("people_failed", 0)) for run_id, detail in events}


@dataclass(frozen=True)
class PersonRecords:
    """A person as the data-protection officer sees them: no identifying data, only what
    decides what may be done (which cases, open or closed, retention, erasure)."""

    person: Person
    cases: list[Case]
    retention_ends: date | None
    # Referrals of other people confirmed as the same person that hold the erasure, with their
    # competent authority (`linkage.protection.linked_referrals_holding`): while there are
    # any, neither an erasure nor the retention run removes the details, so no date is given.
    held_by: list[Case] = field(default_factory=list)
    # Every referral of other people confirmed as the same person (`linkage.protection.
    # linked_cases`), holding the erasure or not, with their competent authority: records of
    # their own, which erasing this person neither erases nor can find afterwards (it deletes
    # the links, ADR 0052), so the officer is shown them before, to answer the request there.
    linked: list[Case] = field(default_factory=list)
    # Every request to erase, newest first, decided or awaiting a second officer (ADR 0014).
    erasure_requests: list[Any] = field(default_factory=list)

    @property
    def awaiting_erasure(self) -> Any:
        """The request awaiting a second officer's approval, if there is one."""
        return next(
            (r for r in self.erasure_requests if r.status == "awaiting_approval"),
            None,
        )

    @property
    def open_cases(self) -> list[Case]:
        return [case for case in self.cases if case.closed_at is None]

    @property
    def erasure(self) -> Any:
        return getattr(self.person, "erasure", None)

    @property
    def first_reference(self) -> str:
        return self.cases[0].reference if self.cases else ""


def _linked_referrals(person_id: int) -> list[Case]:
    """The referrals of other people confirmed as the same person as `person_id`, each once,
    with their competent authority, in order of reference."""
    return list(
        Case.objects.filter(pk__in=linked_cases(person_id).values("pk"))
        .select_related("competent_authority")
        .order_by("reference")
    )


def _records(person: Person) -> PersonRecords:
    cases = list(person.cases.order_by("submitted_at", "pk"))
    closed = [case.closed_at for case in cases if case.closed_at]
    last_closed = max(closed) if closed and len(closed) == len(cases) else None
    # An erased person's links went with their details: nothing to find.
    erased = hasattr(person, "erasure")
    return PersonRecords(
        person=person,
        cases=cases,
        retention_ends=retention_ends(last_closed),
        held_by=[] if erased else linked_referrals_holding(person.pk),
        linked=[] if erased else _linked_referrals(person.pk),
        erasure_requests=list(person.erasure_requests.select_related("requested_by", "decided_by")),
    )


def people_find(
    actor: Actor,
    *,
    reference: str = "",
    name: str | None = None,
    date_of_birth: date | None = None,
) -> list[PersonRecords]:
    """People with a case of this reference, or whose whole name and/or date of birth match
    exactly (through the blind indexes, nothing decrypted)."""
    _check(actor)
    if reference:
        people = Person.objects.filter(cases__reference=reference.strip().upper())
    else:
        condition = identity_match(name=name, date_of_birth=date_of_birth)
        if condition is None:
            return []
        people = Person.objects.filter(condition)
    found = people.distinct().select_related("erasure").order_by("pk")[:50]
    return [_records(person) for person in found]


def person_get_for_data_protection(actor: Actor, person_id: int) -> PersonRecords:
    _check(actor)
    person = (
        Person.objects.filter(pk=person_id, cases__isnull=False)
        .select_related("erasure", "identity")
        .distinct()
        .first()
    )
    if person is None:
        raise Http404
    return _records(person)


# --- Subject access ---------------------------------------------------------------------------

READ_ACTIONS = ["person.viewed", "person.exported", "evidence.downloaded"]

# What a subject access export holds that identifies the person, for its audit event.
EXPORTED_FIELDS = [
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
    "decision_reasons",
    "decision_approval_note",
    "reconsideration_grounds",
    # A reconsideration taken in after its window: why (decisions.models, ADR 0017).
    "late_circumstances",
    "support_notes",
    "support_outside_providers",
    "services_delivered",
    "missing_last_seen",
    "places_to_keep_away_from",
    "unmet_need_reasons",
    "case_notes",
    "task_titles",
    # operations: the name or description given when taken in (as its own reads name it).
    "reception.name_or_description",
    # contacts.selectors: references, the organisations acting for them (never the staff's own
    # phone, e-mail or name: `contacts.selectors.STAFF_FIELDS`), where they are staying.
    *CONTACT_FIELDS,
    "location_address",
    "agencies_consented",
    "safety_risk_reasons",
    "safety_exploiters",
    "safety_keep_away",
    "safety_medical_needs",
    "dependants",
    "dependant_names",
    # Every earlier version of the safety profile (ADR 0026).
    "safety_earlier_versions",
    # After the referral: what the referrer added, the decision maker's questions, and the
    # children's pathway's free text, each named as the pages that show it name it.
    "additions",
    "information_request",
    "age_assessment_reasons",
    "task_outcome",
    # Removals an immigration enforcement organisation planned for the person's references, and
    # what the protection check answered (`_planned_removals`; never the officer).
    "planned_removals",
    # Their requests to erase their details, and what was decided and why (`_erasure_requests`;
    # never the officers): Art. 15, and Art. 12(4) for a refusal's reason.
    "erasure_requests",
]


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _moment(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _identity(person: Person) -> dict[str, Any] | None:
    identity = getattr(person, "identity", None)
    if identity is None:
        return None
    return {
        "given_names": identity.given_names,
        "family_name": identity.family_name,
        "aliases": list(identity.aliases or []),
        "date_of_birth": _day(identity.date_of_birth),
        "safe_contact": identity.safe_contact,
    }


def _timeline_words(event: Any) -> str:
    """What a timeline event says, without the names of staff: the case's timeline names the
    decision maker a case is assigned to, so the export says it in neutral words (anything but
    "Unassigned" is an assignment, so a name can never slip through)."""
    if event.kind == "case.assigned":
        return "Unassigned" if event.description == "Unassigned" else "Assigned to a decision maker"
    return event.description


def _case(case: Case) -> dict[str, Any]:
    narrative = getattr(case, "narrative", None)
    screening = case.screening
    return {
        "reference": case.reference,
        "status": CaseStatus(case.status).label,
        "submitted_at": _moment(case.submitted_at),
        "closed_at": _moment(case.closed_at),
        "referred_by_organisation": case.referring_organisation.name,
        "competent_authority": case.competent_authority.name,
        "jurisdiction": case.get_jurisdiction_display(),
        "area": case.area,
        "age_group": case.get_age_group_display(),
        "exploitation": [
            ExploitationType(t).label if t in ExploitationType.values else t
            for t in case.exploitation_types
        ],
        "exploitation_location": case.get_exploitation_location_display(),
        "exploitation_started": _day(case.exploitation_started),
        "exploitation_ended": _day(case.exploitation_ended),
        "consent_to_referral": case.consent_to_referral,
        "consent_to_support": case.consent_to_support,
        "consent_explanation": {
            "version": case.consent_explanation_version,
            "language": case.consent_explanation_language,
        },
        "deadlines": {
            "reasonable_grounds_due": _day(case.reasonable_grounds_due),
            "recovery_period_ends": _day(case.recovery_period_ends),
            "conclusive_grounds_from": _day(case.conclusive_grounds_from),
            "reconsideration_until": _day(case.reconsideration_until),
            "move_on_ends": _day(case.move_on_ends),
        },
        "accounts": None
        if narrative is None
        else {
            "persons_account": narrative.persons_account,
            "responders_account": narrative.responders_account,
            "exploitation_places": narrative.exploitation_places,
            "immediate_needs_details": narrative.immediate_needs_details,
        },
        "indicators_observed": []
        if screening is None
        else [
            {"dimension": dimension.label, "indicator": indicator.text}
            for dimension in screening.result_object().dimensions
            for indicator in dimension.counted
        ],
        "decisions": [
            {
                "decision": decision.get_kind_display(),
                "outcome": decision.outcome_label,
                "state": decision.get_state_display(),
                "decided_at": _moment(decision.decided_at),
                "reasons": decision.reasons,
                # Why a second decision maker refused to approve it: their opinion of the
                # case, so the person's as much as the reasons are.
                **(
                    {"second_decision_makers_note": decision.approval_note}
                    if decision.approval_note
                    else {}
                ),
                "rules_applied": decision.policy_profile_version,
            }
            for decision in case.decisions.all()
        ],
        # The letters as they were issued to the person, words and all.
        "letters": [
            {
                # A reconsideration's letter names the decision reconsidered; a letter of the
                # adult dates a change of age group started, the decision giving them.
                "decision": (
                    f"Reconsideration of the {letter.get_kind_display().lower()}"
                    if letter.reconsideration_id is not None
                    else f"Support dates as an adult after the {letter.get_kind_display().lower()}"
                    if letter.occasion == LetterOccasion.ADULT_DATES
                    else letter.get_kind_display()
                ),
                "language": letter.language,
                "issued_at": _moment(letter.issued_at),
                "dates_stated": letter.dates_stated,
                "text": letter.text,
            }
            for letter in case.letters.all()
        ],
        "reconsiderations": [
            {
                "requested_at": _moment(item.requested_at),
                "grounds": item.grounds,
                "state": item.get_state_display(),
                "decided_at": _moment(item.decided_at),
                "reasons": item.decision_reasons,
                "evidence_file_names": [file.original_name for file in item.evidence.all()],
                # A request that reached the authority by letter or e-mail and was taken in by
                # a decision maker, in time or late: who asked, the day it arrived, and why a
                # late one was taken (empty for one in time). Keys named when only late requests
                # were taken in (ADR 0021, addendum 2026-12-05, stop 37).
                **(
                    {
                        "asked_late_by": item.get_late_asked_by_display(),
                        "reached_the_authority_on": _day(item.late_received_on),
                        "exceptional_circumstances": item.late_circumstances,
                    }
                    if item.late_asked_by
                    else {}
                ),
            }
            for item in case.reconsiderations.all()
        ],
        # Asked and added after submission (ADR 28).
        "information_requests": [
            {
                "asked_at": _moment(item.asked_at),
                "respond_by": item.respond_by.isoformat(),
                "question": item.question,
                "status": item.get_status_display(),
            }
            for item in case.information_requests.all()
        ],
        "additions": [
            {
                "added_at": _moment(item.added_at),
                "text": item.text,
                "evidence_file_names": [file.original_name for file in item.evidence.all()],
            }
            for item in case.additions.all()
        ],
        "evidence": [
            {
                "file_name": item.original_name,
                "type": item.content_type,
                "size_bytes": item.size,
                "uploaded_at": _moment(item.uploaded_at),
                "sha256": item.sha256,
            }
            for item in case.evidence.all()
        ],
        # Taken in during an operation, before the referral (ADR 43).
        "taken_in": _reception(case),
        # Removals planned for the case's reference or its reception reference (ADR 40).
        "planned_removals": _planned_removals(case),
        "placement_requests": [_placement_request(item) for item in case.placement_requests.all()],
        "timeline": [
            {"at": _moment(event.at), "what": _timeline_words(event)}
            for event in case.events.order_by("at", "pk")
        ],
        # The support plan, services delivered, missing episodes and places kept away from.
        "support": support_export(case),
        # Case notes and tasks, whoever wrote them and whoever may read them.
        "casework": casework_export(case),
        # Age assessments and the local authority's tasks for a child.
        "safeguarding": safeguarding_export(case),
        # Contacts and agency references, where they are staying, consent to share.
        "contacts": contacts_export(case),
        # The risk, places to keep away from, medical needs and dependants (safety).
        "safety": safety_export(case),
        # Other referrals a decision maker said are of the same person (ADR 0052): a decision
        # about them, used for the count of people and re-trafficking warnings. Only the other
        # referral's reference and when the link was confirmed: nothing of its record.
        "linked_referrals": links_export(case),
    }


def _placement_request(item: Any) -> dict[str, Any]:
    """A request for a place, with what it asked for and what became of it: where the person
    stayed (provider and region, never a site's address: that is the provider's, not theirs),
    and why no bed could be found when none could."""
    from opennrm.accommodation.models import ImmediateNeed, Region, Setting, Specialism
    from opennrm.lib.iso import language_name

    def labels(values: list[str], choices: Any) -> list[str]:
        names = dict(choices)
        return [str(names.get(value, value)) for value in values]

    return {
        "needs": labels(list(item.needs), ImmediateNeed.choices),
        "urgency": item.get_urgency_display(),
        "needed_from": _day(item.needed_from),
        "status": item.get_status_display(),
        "settings": labels(item.accepted_settings, Setting.choices),
        "children_with_them": item.dependants,
        "needs_wheelchair_access": item.needs_wheelchair,
        "languages": [language_name(code) for code in item.languages],
        "through_an_interpreter": item.interpreter_needed,
        "support_needed": labels(item.required_specialisms, Specialism.choices),
        "support_wanted": labels(item.wanted_specialisms, Specialism.choices),
        "regions_preferred": labels(item.preferred_regions, Region.choices),
        "near_a_school": item.near_school,
        "places": [
            {
                "provider": placement.bed.room.site.provider.name,
                "region": placement.bed.room.site.get_region_display(),
                "status": placement.get_status_display(),
                "offered_at": _moment(placement.reserved_at),
                "declined_because": placement.get_decline_reason_display() or None,
                "arrived_on": _day(placement.arrived_on),
                "left_on": _day(placement.ended_on),
                "left_because": placement.get_exit_reason_display() or None,
            }
            for placement in item.placements.exclude(status="proposed")
            .select_related("bed__room__site__provider")
            .order_by("proposed_at", "pk")
        ],
        "no_place_found": [
            {"on": _day(need.on), "why": need.reason} for need in item.unmet_needs.order_by("on")
        ],
    }


def _reception(case: Case) -> dict[str, Any] | None:
    """What the first responder recorded on taking the person in during an operation, when the
    referral began there (None otherwise): the organisation, never the responder's name, nor
    the operation's."""
    from opennrm.accommodation.models import ImmediateNeed
    from opennrm.operations.models import ReceptionRecord

    record = ReceptionRecord.objects.filter(draft__case=case).select_related("organisation").first()
    if record is None:
        return None
    needs = dict(ImmediateNeed.choices)
    return {
        "reference": record.reference,
        "taken_in_at": _moment(record.taken_in_at),
        "taken_in_by_organisation": record.organisation.name,
        "name_or_description": record.name_or_description,
        "sex": record.get_sex_display(),
        "age_group": record.get_age_group_display(),
        "language": language_name(record.language) if record.language else None,
        "urgent_needs": [str(needs.get(need, need)) for need in record.urgent_needs],
        "interpreter_needed": record.interpreter_needed,
        "missing_since": _moment(record.missing_since),
    }


# Why the person was protected on the day a removal was planned, by the reason the check gave
# (`protection.rules.Reason`), in the past tense: the answer as it was when recorded.
REMOVAL_PROTECTED_BECAUSE = {
    "awaiting_reasonable_grounds": "A reasonable grounds decision was awaited",
    "recovery_period": "In the recovery period",
    "awaiting_conclusive_grounds": "A conclusive grounds decision was awaited",
    "identification_not_complete": "The identification process was not complete",
}
# Another source's protection (`protection.selectors.register_source`), by its name.
REMOVAL_PROTECTED_BY_SOURCE = {
    "operations": "Taken in during an operation, and a referral was being made",
}


def _planned_removals(case: Case) -> list[dict[str, Any]]:
    """The removals an immigration enforcement organisation planned for the person by the case's
    reference, or by the reception reference they were given when taken in during an operation
    (`protection.models.PlannedRemoval` is keyed by the reference as typed, not by case), in the
    order recorded: the day planned, the organisation, and what the protection check answered
    for that day. Never the officer who recorded it, nor the form's key: staff and machinery,
    not the person's. A removal planned for a linked referral's reference is that record's
    (`links_export` gives nothing of it)."""
    from opennrm.operations.models import ReceptionRecord
    from opennrm.protection.models import PlannedRemoval

    references = [
        case.reference,
        *ReceptionRecord.objects.filter(draft__case=case).values_list("reference", flat=True),
    ]
    planned = (
        PlannedRemoval.objects.filter(reference__in=references)
        .select_related("organisation")
        .order_by("recorded_at", "pk")
    )
    return [
        {
            "reference": item.reference,
            "planned_for": _day(item.planned_on),
            "recorded_at": _moment(item.recorded_at),
            "planned_by_organisation": item.organisation.name,
            "protected_on_that_day": item.protected,
            "why_protected": (
                REMOVAL_PROTECTED_BECAUSE.get(item.reason)
                or REMOVAL_PROTECTED_BY_SOURCE.get(item.source, "Protected by another record")
            )
            if item.protected
            else None,
            "protected_until": _day(item.protected_until),
            "outcome": (
                "Told that removal must not proceed"
                if item.protected
                else "Told that no NRM protection was recorded for that day"
            ),
            # How many of those acting for the person were alerted at once (never who).
            "people_alerted": item.alerted,
        }
        for item in planned
    ]


def _recipients(person: Person) -> list[dict[str, Any]]:
    """Which organisations have been shown the person's details, and how often (GDPR
    Art. 15(1)(c): the recipients). Organisations, not their staff: the staff's names are
    theirs to protect. Reads of a draft, before the person had a case, count for the
    organisation that wrote it, which the cases already name; but their name on an operation's
    reception board counts for the operation's lead (`reception_reads`), which may not be it.

    A read counts for the organisation it was recorded for, where it was; else for those the
    reader belonged to at the time, as far as the records tell: memberships made before the
    read and still active (a membership's end is not dated, so an inactive one counts only when
    the reader had no active one then). Never an organisation joined after the read."""
    from opennrm.accounts.models import Membership, Organisation

    drafts = list(ReferralDraft.objects.filter(case__person=person).values_list("pk", flat=True))
    board_reads = reception_reads(drafts)
    reads = list(
        AuditEvent.objects.filter(
            Q(person_id=person.pk, action__in=READ_ACTIONS)
            | Q(pk__in=board_reads)
            | reception_record_reads(drafts)
        )
        .exclude(actor=None)
        .values_list("actor_id", "at", "organisation_id")
    )
    memberships: dict[int, list[Membership]] = {}
    for membership in Membership.objects.filter(
        user_id__in={actor for actor, _, _ in reads}
    ).select_related("organisation"):
        memberships.setdefault(membership.user_id, []).append(membership)
    names = dict(
        Organisation.objects.filter(
            pk__in={org for _, _, org in reads if org is not None}
        ).values_list("pk", "name")
    )
    seen: dict[str, dict[str, Any]] = {}
    for actor, at, organisation_id in reads:
        if organisation_id is not None:
            shown_to = [names[organisation_id]]
        else:
            then = [m for m in memberships.get(actor, []) if m.created_at <= at]
            active = [m for m in then if m.is_active]
            shown_to = sorted({m.organisation.name for m in (active or then)})
        for name in shown_to:
            entry = seen.setdefault(name, {"organisation": name, "times": 0, "last": None})
            entry["times"] += 1
            if entry["last"] is None or at > entry["last"]:
                entry["last"] = at
    return [
        {"organisation": e["organisation"], "times": e["times"], "last": _moment(e["last"])}
        for e in sorted(seen.values(), key=lambda e: e["organisation"])
    ]


def _erasure_requests(person: Person) -> list[dict[str, Any]]:
    """The person's requests to erase their details, oldest first: the office's reference, the
    day it was received, what was decided, when, and a refusal's reason; never the officers."""
    return [
        {
            "request_reference": made.request_reference,
            "received_on": _day(made.request_received_on),
            "status": made.get_status_display(),
            "decided_at": _moment(made.decided_at),
            "refusal_reason": made.get_refusal_reason_display() if made.refusal_reason else None,
        }
        for made in person.erasure_requests.order_by("requested_at", "pk")
    ]


def subject_access_data(person: Person) -> dict[str, Any]:
    """Everything OpenNRM holds about one person, in words a reader can follow. Called only by
    `privacy.services.subject_access_export`, which audits it."""
    cases = list(
        person.cases.select_related(
            "referring_organisation", "competent_authority", "narrative", "screening__catalogue"
        ).order_by("submitted_at", "pk")
    )
    erasure = getattr(person, "erasure", None)
    return {
        "about": (
            "Everything OpenNRM holds about this person, exported for a subject access request. "
            "Names of the staff who worked on the cases are left out, as are their phone numbers "
            "and e-mail addresses; the organisations are named."
        ),
        "exported_at": _moment(timezone.now()),
        "person": {
            "identity": _identity(person),
            "sex": person.get_sex_display(),
            "gender": person.get_gender_display() if person.gender else None,
            "age_at_referral": person.age_at_referral,
            "age_is_estimated": person.age_is_estimated,
            "nationalities": [country_name(code) for code in person.nationalities],
            "languages": [language_name(code) for code in person.languages],
            "interpreter_needed": person.interpreter_needed,
        },
        "erasure": None
        if erasure is None
        else {
            "reason": erasure.get_reason_display(),
            "at": _moment(erasure.at),
        },
        "erasure_requests": _erasure_requests(person),
        "cases": [_case(case) for case in cases],
        "shown_to": _recipients(person),
    }


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
    "referrer_phone": "the referrer's phone number",
    "referrer_out_of_hours": "the out-of-hours contact",
    "crime_reference": "the crime reference",
    "home_office_reference": "the Home Office reference",
    "social_worker_name": "the social worker's name",
    "guardian_name": "the guardian's name",
    "location_address": "the address where they are staying",
    "agencies_consented": "the agencies they agreed to share with",
    "reception.name_or_description": "the name or description given when taken in",
    "decision_approval_note": "the second decision maker's note",
    "late_circumstances": "why a late request for reconsideration was taken in",
    "additions": "information the referrer added after the referral",
    "information_request": "the decision maker's questions",
    "age_assessment_reasons": "the reasons for an age assessment",
    "task_outcome": "what children's services did",
    "planned_removals": "removals planned for them",
    "erasure_requests": "their requests to erase their details",
}
# What a read gave out, by the audit event's document type (`audit_read(document=...)`).
DOCUMENT_LABELS = {
    "decisions.decision": "decision letter",
    "referrals.evidencefile": "evidence file",
    "decisions.reconsiderationrequest": "reconsideration letter",
    "decisions.letter": "letter of the support dates as an adult",
    "decisions.reconsiderationevidence": "reconsideration evidence",
}
# The referrer's PDF copy of the referral (`referrals.views.referral_copy`) names as its
# document the draft it was written in, or the case: an internal id nobody can look up.
REFERRAL_COPY = {"referrals.referraldraft", "cases.case"}
DRAFT = "referrals.referraldraft"
PERSON = "cases.person"
OPERATION = "operations.operation"
# A reception record, read before its draft became a case: a protection check or a planned
# removal of its reception reference (`protection.services._record_reads`, no person yet).
RECEPTION = "operations.receptionrecord"


def reception_reads(draft_ids: Iterable[int]) -> list[int]:
    """The ids of the reads that showed the name or description of the people taken in during
    an operation whose referral drafts these are (the board and the reception API,
    `operations.services.reception_names_shown`). Each is recorded once against the operation,
    naming the sequence numbers shown, before anyone taken in has a person record; the
    reception record ties a sequence to its draft, and so to the case it became. Picked out here
    rather than in the database: a JSON list's contents are not asked the same way of SQLite
    and PostgreSQL, and one operation's board reads are hundreds, not millions."""
    from opennrm.operations.models import ReceptionRecord

    shown: dict[str, set[int]] = {}
    for operation_id, sequence in ReceptionRecord.objects.filter(
        draft_id__in=list(draft_ids)
    ).values_list("operation_id", "sequence"):
        shown.setdefault(str(operation_id), set()).add(sequence)
    if not shown:
        return []
    events = AuditEvent.objects.filter(
        object_type=OPERATION, object_id__in=list(shown), action__in=READ_ACTIONS
    ).values_list("pk", "object_id", "detail")
    return [
        pk
        for pk, operation_id, detail in events
        if shown[operation_id].intersection((detail or {}).get("reception_sequences", []))
    ]


def reception_record_reads(draft_ids: Iterable[int]) -> Q:
    """The reads recorded against the reception records whose drafts these are, before each
    became a case and so had a person: an immigration enforcement officer's check of the
    reception reference, or a removal planned for it (`protection.services._record_reads`)."""
    from opennrm.operations.models import ReceptionRecord

    records = ReceptionRecord.objects.filter(draft_id__in=list(draft_ids)).values_list(
        "pk", flat=True
    )
    return Q(
        object_type=RECEPTION,
        object_id__in=[str(pk) for pk in records],
        action__in=READ_ACTIONS,
    )


@dataclass(frozen=True)
class Read:
    event: AuditEvent
    what: str
    record: str
    fields: str


@dataclass(frozen=True)
class PersonReads:
    """Every read of one person's identifying data: of their cases (by the person's id), of
    the draft referrals that became those cases, of their name on the reception board of an
    operation they were taken in during (`reception_reads`), and of their reception record
    before it became a case (`reception_record_reads`), newest first."""

    reference: str
    case_references: dict[str, str]
    draft_cases: dict[str, str]
    events: QuerySet[AuditEvent]
    # Operation id: the person's reception reference and the case it became.
    receptions: dict[str, tuple[str, str]]
    # Reception record id: the same, for the reads recorded against the record itself.
    reception_records: dict[str, tuple[str, str]] = field(default_factory=dict)

    def describe(self, events: Iterable[AuditEvent]) -> list[Read]:
        return [self._describe(event) for event in events]

    def _describe(self, event: AuditEvent) -> Read:
        detail = event.detail or {}
        fields = ", ".join(FIELD_LABELS.get(name, name) for name in detail.get("fields", []))
        if detail.get("purpose"):
            fields += f" (purpose: {detail['purpose']})"
        return Read(
            event=event, what=_what(event), record=self._record(event), fields=fields or "None"
        )

    def _record(self, event: AuditEvent) -> str:
        if event.object_type == DRAFT:
            case = self.draft_cases.get(event.object_id, "")
            return f"Draft referral (now case {case})" if case else "Draft referral"
        if event.object_type == OPERATION:
            reception, case = self.receptions.get(event.object_id, ("", ""))
            return f"Taken in as {reception} (now case {case})"
        if event.object_type == RECEPTION:
            reception, case = self.reception_records.get(event.object_id, ("", ""))
            return f"Taken in as {reception} (now case {case})"
        if event.object_type == PERSON:
            return "All their records"
        return self.case_references.get(event.object_id, event.object_id)


def _what(event: AuditEvent) -> str:
    """What a read was, in words, from its action, record and document."""
    detail = event.detail or {}
    document = detail.get("document") or {}
    if "protection_check" in detail:
        # An immigration enforcement officer saw only the protection answer (ADR 40).
        return "Checked protection from removal"
    if event.object_type == PERSON and not document:
        # The officer's subject access export: everything held, of every record.
        return (
            "Exported everything held about the person (subject access)"
            if event.action == "person.exported"
            else "Viewed everything held about the person"
        )
    if event.object_type == OPERATION:
        return "Shown on an operation's reception board"
    if event.action == "person.viewed" and not document:
        return "Viewed the draft referral" if event.object_type == DRAFT else "Viewed the case"
    if event.action == "person.exported" and document.get("type") in REFERRAL_COPY:
        return "Downloaded the referral as submitted (PDF copy)"
    verb = "Downloaded" if event.action != "person.viewed" else "Viewed"
    noun = DOCUMENT_LABELS.get(document.get("type", ""), "a document")
    what = f"{verb} {noun} {document.get('id', '')}".strip()
    return what + " (PDF)" if event.action == "person.exported" else what


def person_reads_get(actor: Actor, reference: str) -> PersonReads | None:
    """Reads of the person in the case with this reference, for a data-protection officer (any
    case: the role's scope is the whole service); None when no case has the reference. Anyone
    else gets 404, as if the page did not exist."""
    _check(actor)
    case = Case.objects.filter(reference=reference.strip().upper()).first()
    if case is None:
        return None
    cases = dict(
        Case.objects.filter(person_id=case.person_id).values_list("pk", "reference").order_by("pk")
    )
    drafts = dict(
        ReferralDraft.objects.filter(case_id__in=cases).values_list("pk", "case__reference")
    )
    from opennrm.operations.models import ReceptionRecord

    taken_in = list(
        ReceptionRecord.objects.filter(draft_id__in=drafts).values_list(
            "pk", "operation_id", "reference", "draft__case__reference"
        )
    )
    receptions = {str(operation): (ref, case_ref) for _, operation, ref, case_ref in taken_in}
    records = {str(pk): (ref, case_ref) for pk, _, ref, case_ref in taken_in}
    events = (
        AuditEvent.objects.filter(
            Q(person_id=case.person_id)
            | Q(
                object_type=DRAFT, object_id__in=[str(pk) for pk in drafts], action__in=READ_ACTIONS
            )
            | Q(pk__in=reception_reads(drafts))
            | Q(object_type=RECEPTION, object_id__in=list(records), action__in=READ_ACTIONS)
        )
        .select_related("actor")
        .order_by("-at", "-id")
    )
    return PersonReads(
        reference=case.reference,
        case_references={str(pk): ref for pk, ref in cases.items()},
        draft_cases={str(pk): ref for pk, ref in drafts.items()},
        events=events,
        receptions=receptions,
        reception_records=records,
    )
