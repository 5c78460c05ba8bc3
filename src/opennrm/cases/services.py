"""Changes to a case. `case_transition` is the only code that changes a case's status,
`case_version_claim` the only code that advances its version, and `case_event_record` the only
code that writes its timeline: other apps call them from inside their own services."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import User
from opennrm.audit.services import audit_record
from opennrm.lib.govuk_forms import StaleVersion
from opennrm.lib.references import reference_kept_unique
from opennrm.notifications.services import deliver

from . import state
from .choices import (
    AgeGroup,
    CaseStatus,
    CloseReason,
    ExploitationAgeGroup,
    age_group_at_exploitation_for,
)
from .models import (
    Case,
    CaseEvent,
    CaseNarrative,
    CaseStatusChange,
    Person,
    PersonIdentity,
    identity_indexes,
)
from .selectors import adult_support_end, referrers_stand_in, referrers_to_tell


class CaseChanged(StaleVersion):
    """Someone else changed the case since the page was loaded."""

    def __init__(self, current: int | None = None) -> None:
        super().__init__(
            "This case changed while you were working on it: someone else recorded something "
            "on it. Your answers are still here. Check the case, then submit again.",
            current=current,
        )


class CaseRows(NamedTuple):
    """The values of the rows of a new case, by table, keyed by attribute name (foreign keys as
    `<name>_id`), without the ids that join them: `case_open` writes them, and the synthetic
    volume generator turns them into rows of its own for COPY."""

    person: dict[str, Any]
    identity: dict[str, Any]
    case: dict[str, Any]
    narrative: dict[str, Any]
    events: list[dict[str, Any]]


def case_rows(
    *,
    sex: str,
    gender: str = "",
    age_at_referral: int | None,
    age_is_estimated: bool,
    nationalities: list[str],
    languages: list[str],
    interpreter_needed: bool = False,
    given_names: str,
    family_name: str = "",
    aliases: list[str] | None = None,
    date_of_birth: date | None = None,
    safe_contact: str = "",
    reference: str,
    referring_organisation_id: int,
    referred_by_id: int,
    competent_authority_id: int,
    jurisdiction: str,
    area: str,
    age_group: str,
    age_group_at_exploitation: str | None = None,
    exploitation_types: list[str],
    exploitation_location: str,
    exploitation_started: date | None = None,
    exploitation_ended: date | None = None,
    in_immigration_detention: bool = False,
    consent_to_referral: bool | None = None,
    consent_to_support: bool | None = None,
    consent_explanation_version: str = "",
    consent_explanation_language: str = "",
    status: str = CaseStatus.AWAITING_REASONABLE_GROUNDS,
    submitted_at: datetime,
    reasonable_grounds_due: date | None,
    screening_id: int | None = None,
    persons_account: str = "",
    responders_account: str = "",
    exploitation_places: str = "",
    immediate_needs_details: str = "",
    events: list[dict[str, Any]] | None = None,
    **case_fields: Any,
) -> CaseRows:
    """The rows of a new person and their case: the one description of what a new case holds,
    for the referral service, the synthetic volume generator and the test factories.
    `case_fields` sets other fields of the case (test factories put cases in later states)."""
    return CaseRows(
        person={
            "sex": sex,
            "gender": gender,
            "age_at_referral": age_at_referral,
            "age_is_estimated": age_is_estimated,
            "nationalities": nationalities,
            "languages": languages,
            "interpreter_needed": interpreter_needed,
        },
        identity={
            "given_names": given_names,
            "family_name": family_name,
            "aliases": aliases or [],
            "date_of_birth": date_of_birth,
            "safe_contact": safe_contact,
            # Blind indexes, so exact-match search finds this person without decrypting anyone.
            **identity_indexes(
                given_names=given_names, family_name=family_name, date_of_birth=date_of_birth
            ),
        },
        case={
            "reference": reference,
            "referring_organisation_id": referring_organisation_id,
            "referred_by_id": referred_by_id,
            "competent_authority_id": competent_authority_id,
            "jurisdiction": jurisdiction,
            "area": area,
            "age_group": age_group,
            "age_group_at_exploitation": age_group_at_exploitation_for(
                age_group, age_group_at_exploitation
            ),
            "exploitation_types": exploitation_types,
            "exploitation_location": exploitation_location,
            "exploitation_started": exploitation_started,
            "exploitation_ended": exploitation_ended,
            "in_immigration_detention": in_immigration_detention,
            "consent_to_referral": consent_to_referral,
            "consent_to_support": consent_to_support,
            "consent_explanation_version": consent_explanation_version,
            "consent_explanation_language": consent_explanation_language,
            "status": status,
            "submitted_at": submitted_at,
            "reasonable_grounds_due": reasonable_grounds_due,
            "screening_id": screening_id,
            **case_fields,
        },
        narrative={
            "persons_account": persons_account,
            "responders_account": responders_account,
            "exploitation_places": exploitation_places,
            "immediate_needs_details": immediate_needs_details,
        },
        events=events or [],
    )


def first_events(
    *,
    at: datetime,
    referred_by_id: int,
    referrer_name: str,
    authority_name: str,
    area: str,
    child: bool,
    placement_requested: bool,
) -> list[dict[str, Any]]:
    """A referred case's first timeline entries (values for `case_rows(events=...)`): referred,
    sent to the competent authority, a placement request raised for immediate needs, and, for
    a child, the local authority and child guardian service told."""
    events: list[dict[str, Any]] = [
        {
            "at": at,
            "kind": "referral.submitted",
            "description": f"Referred by {referrer_name}",
            "actor_id": referred_by_id,
            "data": {},
        },
        {
            "at": at,
            "kind": "case.routed",
            "description": f"Sent to {authority_name} for a reasonable grounds decision",
            "actor_id": None,
            "data": {},
        },
    ]
    if placement_requested:
        events.append(
            {
                "at": at,
                "kind": "support.placement_requested",
                "description": "Placement request raised for immediate needs",
                "actor_id": None,
                "data": {},
            }
        )
    if child:
        events.append(
            {
                "at": at,
                "kind": "case.safeguarding_notified",
                "description": f"Local authority and child guardian service in {area} told",
                "actor_id": None,
                "data": {},
            }
        )
    return events


def case_open(rows: CaseRows) -> Case:
    """Write a new person and their case from `case_rows`: the only code that creates them.
    Called inside the referral service, whose audit event covers it. Raises `ReferenceTaken`
    if the case's reference, drawn without looking, is another case's (the caller's
    transaction is then spoilt: it draws again in a new one)."""
    person = Person.objects.create(**rows.person)
    PersonIdentity.objects.create(person=person, **rows.identity)
    with reference_kept_unique():
        case = Case.objects.create(person=person, **rows.case)
    CaseNarrative.objects.create(case=case, **rows.narrative)
    CaseEvent.objects.bulk_create(CaseEvent(case=case, **event) for event in rows.events)
    return case


def case_version_claim(
    *,
    case: Case,
    expected_version: int,
    status_was: str | None = None,
    changes: dict[str, Any] | None = None,
) -> None:
    """Take the case's next version, so nobody else can act on what was seen at
    `expected_version` (and, if given, in status `status_was`), setting `changes` (fields of
    the case) in the same UPDATE.

    Every change to a case that someone acted on from a page (a decision, an assignment, a
    change of status) claims the version once: of two people acting at once exactly one
    succeeds, and the other gets `CaseChanged`. Called inside the caller's transaction.
    """
    claimed = Case.objects.filter(pk=case.pk, version=expected_version)
    if status_was is not None:
        claimed = claimed.filter(status=status_was)
    if claimed.update(version=F("version") + 1, **(changes or {})) != 1:
        raise CaseChanged(Case.objects.filter(pk=case.pk).values_list("version", flat=True).first())
    case.version = expected_version + 1


def case_event(
    *,
    case: Case,
    kind: str,
    description: str,
    by: User | None,
    at: datetime | None = None,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """An unsaved timeline entry, for `case_events_record` to write with others at once."""
    return CaseEvent(
        case=case,
        at=at or timezone.now(),
        kind=kind,
        actor=by,
        description=description,
        data=data or {},
    )


def case_event_record(
    *,
    case: Case,
    kind: str,
    description: str,
    by: User | None,
    at: datetime | None = None,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Add an entry to the case's timeline. Called inside a service of any app, whose audit
    event covers it (like `notifications.services.deliver`, it writes no event of its own)."""
    event = case_event(case=case, kind=kind, description=description, by=by, at=at, data=data)
    event.save()
    return event


def case_events_record(events: Iterable[CaseEvent]) -> None:
    """Write several timeline entries built by `case_event` at once."""
    CaseEvent.objects.bulk_create(events)


def case_events_backdate(*, case: Case, at: datetime) -> None:
    """Demo data only: date every entry of a case's timeline `at`, for a case whose history
    the demo sets in the past."""
    CaseEvent.objects.filter(case=case).update(at=at)


# Who else hears of every change of a case's status, registered from their own AppConfig.ready
# (cases imports none of them): each is given the case (in its new status), the reason, and the
# ids of the users already told of this change (it adds those it tells, so that nobody is told
# twice). safeguarding tells the local authority and the child guardian service of a child's
# area: a negative decision ends the child's protection from removal and opens the window for
# a reconsideration, and they act for the child.
STATUS_CHANGE_TELLERS: list[Callable[[Case, str, set[int]], None]] = []


def case_transition(
    *,
    by: User | None,
    case: Case,
    to: CaseStatus,
    reason: str,
    expected_version: int,
    changes: dict[str, Any] | None = None,
) -> Case:
    """Move `case` to status `to`, with a history row and a timeline entry; the referrer is
    told, and whoever the other apps' `STATUS_CHANGE_TELLERS` tell.

    Called inside the service that decides (which holds the transaction and writes the audit
    event). The UPDATE only succeeds if the case is still at `expected_version` and in the
    status it was read in, so of two people acting at once exactly one succeeds; the other
    gets `CaseChanged`. `changes` sets other fields (stored clock dates) in the same UPDATE.
    """
    problem = state.refusal(case.status, to)
    if problem:
        raise ValidationError(problem)
    now = timezone.now()
    changes = dict(changes or {})
    if to == CaseStatus.CLOSED:
        changes["closed_at"] = now
    case_version_claim(
        case=case,
        expected_version=expected_version,
        status_was=case.status,
        changes={"status": to, **changes},
    )
    CaseStatusChange.objects.create(
        case=case, from_status=case.status, to_status=to, at=now, by=by, reason=reason
    )
    case_event_record(
        case=case,
        at=now,
        kind="case.status_changed",
        by=by,
        description=reason,
        data={"from": case.status, "to": to},
    )
    case.refresh_from_db()
    # The referrer hears of every change of status (never with the person's details).
    told = deliver(
        recipients=referrers_to_tell(case),
        kind="case.status_changed",
        case=case,
        url=reverse("cases:detail", args=[case.reference]),
        subject=f"Case {case.reference}: {CaseStatus(to).label.lower()}",
        body=f"The case you referred is now: {CaseStatus(to).label.lower()}. {reason}",
        stand_in=lambda: referrers_stand_in(case),
    )
    already_told = {notification.recipient_id for notification in told}
    for teller in STATUS_CHANGE_TELLERS:
        teller(case, reason, already_told)
    return case


def case_age_group_change(
    *,
    by: User | None,
    case: Case,
    to: str,
    reason: str,
    expected_version: int,
    dates: dict[str, date] | None = None,
    turned_18: bool = False,
) -> Case:
    """Change the case's age group: the only code that does, and only ever because an age
    assessment was recorded (`safeguarding.services.age_assessment_record`), an adult's age
    disputed (`safeguarding.services.age_dispute_raise`), or a child turned 18 by the date of
    birth recorded (`safeguarding.coming_of_age`, `by` None: the daily task), whose audit
    events cover it. A child or age-disputed person moves to the adult pathway through this
    alone, never silently: the timeline says so, and the version is claimed, so nobody acts on
    the case as it was seen before. The caller tells those who must know. `dates`: clock dates
    that start with the change (an adult's: `decisions.services.adult_clocks`)."""
    if to not in AgeGroup.values:
        raise ValueError(f"not an age group: {to}")
    was = case.age_group
    if to == was:
        raise ValidationError(f"The case is already recorded as: {AgeGroup(to).label.lower()}")
    if turned_18 and (was, to) != (AgeGroup.CHILD, AgeGroup.ADULT):
        raise ValueError("only a child turns 18, and becomes an adult")
    # A child now was a child then. Turned 18: a child when referred, so a child when the
    # exploitation began. Found an adult: see `_at_exploitation_back_to_adult`.
    before = case.age_group_at_exploitation
    then = (
        ExploitationAgeGroup.CHILD.value
        if to != AgeGroup.ADULT or turned_18
        else _at_exploitation_back_to_adult(case)
    )
    dates = dates or {}
    case_version_claim(
        case=case,
        expected_version=expected_version,
        changes={"age_group": to, "age_group_at_exploitation": then, **dates},
    )
    case.age_group = to
    case.age_group_at_exploitation = then
    for field, value in dates.items():
        setattr(case, field, value)
    case_event_record(
        case=case,
        kind="case.age_group_changed",
        description=f"Age group changed from {AgeGroup(was).label.lower()} to "
        f"{AgeGroup(to).label.lower()}: {reason}"[:300],
        by=by,
        # Leaving the adult pathway (an age dispute), what the age group at exploitation was
        # before: an assessment that finds an adult gives it back.
        data={"from": was, "to": to}
        | ({"at_exploitation_before": before} if was == AgeGroup.ADULT else {})
        | {field: str(value) for field, value in dates.items()},
    )
    return case


def _at_exploitation_back_to_adult(case: Case) -> str:
    """The age group when the exploitation began of a case an age assessment moves back to the
    adult pathway. Being treated as a child made it "child"; the assessment of the age now says
    nothing of the age then. So it is what it was before the case last left the adult pathway
    (an adult's age disputed: the referrer's answer, "under 18 when it began" or not, kept);
    and "not known" for a case treated as a child since its referral, whose "child" followed
    only from the age now found wrong (nobody asked, so never "adult" either; ADR 0042), or one
    disputed before the timeline kept the value."""
    left_adult = (
        CaseEvent.objects.filter(
            case=case, kind="case.age_group_changed", data__from=AgeGroup.ADULT
        )
        .order_by("-at", "-pk")
        .first()
    )
    kept = left_adult.data.get("at_exploitation_before") if left_adult is not None else None
    if kept in ExploitationAgeGroup.values:
        return str(kept)
    return ExploitationAgeGroup.NOT_KNOWN.value


# What other apps must see finished before a case closes, registered from their own
# AppConfig.ready (cases imports none of them): each is given the case and says why it cannot
# close yet, or None. safeguarding refuses while a children's services task for the child is
# open, which closing would leave with nobody to answer to.
CLOSE_CHECKS: list[Callable[[Case], str | None]] = []


def close_refusal(case: Case, reason: CloseReason | None = None) -> str | None:
    """Why the case cannot be closed today (for `reason`, if given), or None if it can. The
    close page asks this before offering the action or a reason; `case_close` refuses the same."""
    problem = state.refusal(case.status, CaseStatus.CLOSED)
    if problem:
        return problem
    for check in CLOSE_CHECKS:
        problem = check(case)
        if problem:
            return problem
    today = timezone.localdate()
    negative = (
        CaseStatus.NEGATIVE_REASONABLE_GROUNDS,
        CaseStatus.NEGATIVE_CONCLUSIVE_GROUNDS,
        CaseStatus.DISQUALIFIED,
    )
    if (
        case.status in negative
        and case.reconsideration_until
        and today <= case.reconsideration_until
    ):
        return (
            "Reconsideration can still be asked for, until "
            f"{case.reconsideration_until:%-d %B %Y}: close the case after that date"
        )
    running = adult_support_end(case)
    if reason == CloseReason.SUPPORT_ENDED and running and support_running(case, today):
        ends, what = running
        return (
            f"{what[0].upper()}{what[1:]} runs until {ends:%-d %B %Y}: support has not ended, "
            "so the case cannot be closed for that reason before then"
        )
    return None


def support_running(case: Case, today: date) -> bool:
    """Whether an adult's support is still running (`selectors.adult_support_end`): the
    move-on support a conclusive decision started, or the jurisdiction's own support where its
    date is then an end (Northern Ireland's s.18 after a positive conclusive decision, whose
    profiles set no move-on); never for a person treated as a child. While a reconsideration of
    the negative decision waits for its answer, it runs on whatever the date: the decision may
    yet be reopened (then no move-on at all, back in the recovery period), and the person is
    protected from removal until the answer (ADR 40)."""
    running = adult_support_end(case)
    if running is None:
        return False
    return case.status == CaseStatus.RECONSIDERATION or today <= running[0]


@transaction.atomic
def case_close(*, by: User, case: Case, reason: CloseReason, expected_version: int) -> Case:
    """The competent authority closes a case whose process has ended. Closing starts the
    retention period of the person's identifying details (privacy.retention)."""
    from .selectors import may_decide

    if not may_decide(Actor.of_session(by), case):
        raise ValidationError(
            "Only a decision maker of the case's competent authority can close it"
        )
    # Locked before the checks, so that what they read (a children's services task raised for
    # the case, which locks the case too) cannot change before the case is closed.
    Case.objects.select_for_update().get(pk=case.pk)
    problem = close_refusal(case, reason)
    if problem:
        raise ValidationError(problem)
    closed = case_transition(
        by=by,
        case=case,
        to=CaseStatus.CLOSED,
        reason=f"Case closed: {CloseReason(reason).label.lower()}",
        expected_version=expected_version,
    )
    audit_record(
        by=by,
        action="case.closed",
        obj=closed,
        organisation=closed.competent_authority,
        detail={"reason": str(reason)},
    )
    return closed


def person_records_pseudonymise(*, person: Person) -> dict[str, int]:
    """Delete what identifies `person` in this app's tables: their identity and the accounts
    of their cases; how many of each. Called only inside `privacy.services`' erasure, whose
    audit event covers it (as do the other apps' `*_pseudonymise`)."""
    # Counted by model: deleting an identity also deletes what other apps derived from it
    # (linkage's keyed digests, ADR 48), which is not an identity.
    identities = PersonIdentity.objects.filter(person=person).delete()[1]
    narratives = CaseNarrative.objects.filter(case__person=person).delete()[1]
    return {
        "identity": identities.get(PersonIdentity._meta.label, 0),
        "accounts": narratives.get(CaseNarrative._meta.label, 0),
    }


def person_erasure_record(
    *, person: Person, by: User | None, at: datetime, description: str
) -> None:
    """Say on the timeline of each of `person`'s cases that their details were erased."""
    case_events_record(
        CaseEvent(case_id=case_id, at=at, kind="person.erased", actor=by, description=description)
        for case_id in Case.objects.filter(person=person).values_list("pk", flat=True)
    )
