"""Writes of data protection: pseudonymisation when the retention period ends, erasure when a
person asks, the daily retention run, and the audited subject access export.

Pseudonymising a person removes every identifying record and free text about them (names,
date of birth, contact, accounts, evidence and its names, decision makers' reasons, the words
of letters, reconsideration grounds, draft answers, year of birth) and keeps the statistical
fields (sex, age at referral, nationalities, languages, exploitation, area, dates, decisions'
outcomes), so that figures stay right. The audit trail keeps every event: by rule it names
fields, never their values (ADR 11), so it holds nothing of the person to scrub, and its hash
chain stays whole. See docs/adr/0014-retention-and-erasure.md.
"""

from __future__ import annotations

import logging
import traceback
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Min
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import User
from opennrm.api.idempotency import expired_keys_delete
from opennrm.audit.services import audit_read, audit_record
from opennrm.care.selectors import live_support_of
from opennrm.care.services import support_records_pseudonymise
from opennrm.cases.models import Case, Person
from opennrm.cases.services import person_erasure_record, person_records_pseudonymise
from opennrm.casework.services import casework_pseudonymise
from opennrm.contacts.services import contacts_pseudonymise
from opennrm.decisions.services import decision_records_pseudonymise
from opennrm.linkage.protection import linked_referrals_holding
from opennrm.linkage.services import linkage_records_pseudonymise
from opennrm.notifications.services import notifications_old_delete
from opennrm.operations.services import (
    reception_names_unreferred_delete,
    reception_records_pseudonymise,
)
from opennrm.referrals.services import (
    drafts_deletion_warn,
    drafts_unsubmitted_delete,
    referral_records_pseudonymise,
)
from opennrm.safeguarding.services import safeguarding_records_pseudonymise
from opennrm.safety.services import safety_records_pseudonymise

from . import selectors
from .models import (
    Erasure,
    ErasureReason,
    ErasureRefusal,
    ErasureRequest,
    ErasureRequestStatus,
    RetentionRun,
)

logger = logging.getLogger(__name__)


def _remove_identifying_records(person: Person) -> dict[str, int]:
    """Have each app delete or empty what identifies `person` in its own tables; how many of
    each. Runs inside the caller's transaction; files are deleted only once it has committed."""
    removed: Counter[str] = Counter()
    case_ids = list(Case.objects.filter(person=person).values_list("pk", flat=True))
    # Names, date of birth, contact, and the accounts of what happened.
    removed.update(person_records_pseudonymise(person=person))
    # Evidence and its names, and the answers of the drafts that became the cases.
    removed.update(referral_records_pseudonymise(case_ids))
    # Decision makers' reasons, the words of letters, reconsideration grounds.
    removed.update(decision_records_pseudonymise(case_ids))
    # Support: plan notes, what was delivered, where they were last seen, places kept away from.
    removed.update(support_records_pseudonymise(case_ids))
    # Case notes' text and tasks' titles.
    removed.update(casework_pseudonymise(case_ids))
    # The children's pathway: what a task's outcome and an age assessment's reasons say.
    removed.update(safeguarding_records_pseudonymise(case_ids))
    # Contacts and agency references, where they are staying, the agencies they consented to.
    removed.update(contacts_pseudonymise(case_ids))
    removed.update(safety_records_pseudonymise(case_ids))
    # Links to other referrals of the same person, and pairs proposed with them (ADR 52):
    # never another organisation's referral itself.
    removed.update(linkage_records_pseudonymise(case_ids))
    # The name or description a first responder wrote when taking them in during an operation.
    removed.update(reception_records_pseudonymise(case_ids))
    return {kind: count for kind, count in removed.items() if count}


def _erase(
    *,
    person: Person,
    reason: ErasureReason,
    by: User | None,
    request_reference: str = "",
    request_received_on: date | None = None,
    requested_by: User | None = None,
) -> Erasure:
    locked = Person.objects.select_for_update().get(pk=person.pk)
    if Erasure.objects.filter(person=locked).exists():
        raise ValidationError("This person's identifying details have already been erased")
    open_cases = list(
        Case.objects.filter(person=locked, closed_at__isnull=True).values_list(
            "reference", flat=True
        )
    )
    if open_cases:
        raise ValidationError(
            "The competent authority must close "
            + ("case " if len(open_cases) == 1 else "cases ")
            + ", ".join(open_cases)
            + " before this person's details can be erased"
        )
    # A referral of another person confirmed as the same person (linkage) protects this
    # person's references from removal while it protects them, and may again while its status
    # can lead there; erasure deletes that link (ADR 0052: kept, it would identify the erased
    # referral again), and the protection with it. So the erasure waits, and retention with it
    # (it passes such a person over: `selectors.people_past_retention`).
    holding = linked_referrals_holding(locked.pk)
    if holding:
        one = len(holding) == 1
        raise ValidationError(
            (
                "The competent authority must close referral "
                if one
                else "The competent authorities must close referrals "
            )
            + ", ".join(f"{case.reference} ({case.competent_authority.name})" for case in holding)
            + ", confirmed to be the same person, before this person's details can be erased: "
            + ("it protects" if one else "they protect")
            + " them from removal, or may again, and erasing would take that protection away"
        )
    # While support is live, the places to keep away from protect the person: they must not
    # be emptied under a request that matching could still serve.
    live = live_support_of(locked.pk)
    if live:
        raise ValidationError(
            f"Support is still under way ({live}): it must end before this person's details "
            "can be erased"
        )
    now = timezone.now()
    removed = _remove_identifying_records(locked)
    erasure = Erasure.objects.create(
        person=locked,
        reason=reason,
        at=now,
        by=by,
        request_reference=request_reference,
        request_received_on=request_received_on,
        removed=removed,
    )
    description = (
        "Identifying details erased at the person's request"
        if reason == ErasureReason.REQUEST
        else "Identifying details removed: the retention period ended"
    )
    # A request still awaiting approval is settled by this erasure, whichever made it (the
    # approval, or the retention run meanwhile): nothing is left to approve.
    ErasureRequest.objects.filter(
        person=locked, status=ErasureRequestStatus.AWAITING_APPROVAL
    ).update(
        status=ErasureRequestStatus.CARRIED_OUT, decided_by=by, decided_at=now, erasure=erasure
    )
    person_erasure_record(person=locked, by=by, at=now, description=description)
    detail: dict[str, Any] = {"removed": removed, "request_reference": request_reference}
    if requested_by is not None:
        detail["requested_by"] = requested_by.pk
    audit_record(
        by=by,
        action="person.erased" if reason == ErasureReason.REQUEST else "person.pseudonymised",
        obj=locked,
        detail=detail,
    )
    return erasure


def _check_request(
    *, by: User, person: Person, request_reference: str, request_received_on: date
) -> None:
    """Refuse a request to erase with no reference, a date to come, or a date before the person
    was first referred; and anyone but the data-protection officer (404)."""
    if not request_reference.strip():
        raise ValidationError({"request_reference": "Enter your reference for the request"})
    if request_received_on > timezone.localdate():
        raise ValidationError(
            {"request_received_on": "The date the request was received must be today or earlier"}
        )
    selectors.person_get_for_data_protection(
        Actor.of_session(by), person.pk
    )  # 404 for anyone but the officer
    first = person.cases.aggregate(first=Min("submitted_at"))["first"]
    if first is not None and request_received_on < timezone.localdate(first):
        raise ValidationError(
            {
                "request_received_on": "The date the request was received cannot be before "
                f"they were first referred ({timezone.localdate(first):%-d %B %Y})"
            }
        )


@transaction.atomic
def erasure_request_record(
    *, by: User, person: Person, request_reference: str, request_received_on: date
) -> ErasureRequest:
    """Record a person's request to erase their details, to be approved by another
    data-protection officer before anything is erased, or refused. Recorded even while a case
    is open, so that the refusal it then gets is kept with it."""
    _check_request(
        by=by,
        person=person,
        request_reference=request_reference,
        request_received_on=request_received_on,
    )
    locked = Person.objects.select_for_update().get(pk=person.pk)
    if Erasure.objects.filter(person=locked).exists():
        raise ValidationError("This person's identifying details have already been erased")
    awaiting = ErasureRequest.objects.filter(
        person=locked, status=ErasureRequestStatus.AWAITING_APPROVAL
    ).first()
    if awaiting is not None:
        raise ValidationError(
            f"Request {awaiting.request_reference} to erase this person's details already "
            "awaits approval: approve or refuse it first"
        )
    request = ErasureRequest.objects.create(
        person=locked,
        request_reference=request_reference.strip(),
        request_received_on=request_received_on,
        requested_by=by,
        requested_at=timezone.now(),
    )
    audit_record(
        by=by,
        action="person.erasure_requested",
        obj=locked,
        detail={"request_reference": request.request_reference},
    )
    return request


def _awaiting(by: User, erasure_request: ErasureRequest) -> ErasureRequest:
    """The request, locked, if it still awaits a decision and `by` is the officer; else a
    refusal (404 for anyone else). The person is locked first, then the request, in the order
    the retention run takes them (`_erase`): the other way round, an approval and the run on
    the same person deadlock on PostgreSQL, and one of them fails."""
    selectors.person_get_for_data_protection(Actor.of_session(by), erasure_request.person_id)
    Person.objects.select_for_update().get(pk=erasure_request.person_id)
    locked = ErasureRequest.objects.select_for_update().get(pk=erasure_request.pk)
    if locked.status != ErasureRequestStatus.AWAITING_APPROVAL:
        raise ValidationError(
            f"Request {locked.request_reference} has already been decided: "
            f"{locked.get_status_display().lower()}"
        )
    return locked


@transaction.atomic
def erasure_request_approve(*, by: User, erasure_request: ErasureRequest) -> Erasure:
    """Approve a request another data-protection officer recorded, and erase the details: an
    erasure cannot be undone, so it takes two officers. Refused, and the request left awaiting,
    while the law needs the details (a case open, support under way, a linked referral
    protecting them): the officer then refuses the request with that reason."""
    request = _awaiting(by, erasure_request)
    if request.requested_by_id == by.pk:
        raise ValidationError(
            "You recorded this request, so you cannot approve it: another data-protection "
            "officer must approve it before the details are erased"
        )
    return _erase(
        person=request.person,
        reason=ErasureReason.REQUEST,
        by=by,
        request_reference=request.request_reference,
        request_received_on=request.request_received_on,
        requested_by=request.requested_by,
    )


def _check_refusal_reason(person_id: int, reason: str) -> None:
    """Refuse a coded reason the record itself contradicts: a case open, a linked referral
    holding the person, support under way, each found as `_erase` finds it. The person is told
    the reason, so it must be true; a legal hold or a retention rule the record cannot know."""
    if reason == ErasureRefusal.OPEN_CASE and not (
        Case.objects.filter(person_id=person_id, closed_at__isnull=True).exists()
    ):
        problem = "All of this person's cases are closed"
    elif reason == ErasureRefusal.LINKED_REFERRAL and not linked_referrals_holding(person_id):
        problem = "No referral confirmed to be the same person protects them from removal"
    elif reason == ErasureRefusal.SUPPORT and not live_support_of(person_id):
        problem = "No support is under way for this person"
    else:
        return
    raise ValidationError(
        {"reason": f"{problem}: select the reason the request is really refused for"}
    )


@transaction.atomic
def erasure_request_refuse(
    *, by: User, erasure_request: ErasureRequest, reason: str
) -> ErasureRequest:
    """Refuse a request to erase, with its coded reason (never free text: the record keeps
    nothing about the person). Any data-protection officer may refuse, the one who recorded it
    too: nothing is lost by a refusal, and the person may ask again."""
    if reason not in ErasureRefusal.values:
        raise ValidationError({"reason": "Select why the request is refused"})
    request = _awaiting(by, erasure_request)
    _check_refusal_reason(request.person_id, reason)
    request.status = ErasureRequestStatus.REFUSED
    request.refusal_reason = reason
    request.decided_by = by
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "refusal_reason", "decided_by", "decided_at"])
    audit_record(
        by=by,
        action="person.erasure_refused",
        obj=request.person,
        detail={"request_reference": request.request_reference, "reason": reason},
    )
    return request


@dataclass(frozen=True)
class RetentionResult:
    people_pseudonymised: int
    drafts_deleted: int
    notifications_deleted: int
    task_results_deleted: int
    # People whose pseudonymisation failed with an unexpected error tonight (rolled back,
    # logged by id, tried again next night).
    people_failed: int = 0


def _before(today: date, days: int) -> datetime:
    """The start of the day `days` before `today`: records older than it are past retention."""
    return timezone.make_aware(datetime.combine(today - timedelta(days=days), time.min))


def _log_failure(person_id: int, error: Exception) -> None:
    """Log a person's failed pseudonymisation for whoever watches the logs: the person's id,
    the kind of error and where it happened (file, line, function), never the error's message
    nor a line of source, which may quote the very details being removed (a value that would
    not convert, a name in a path)."""
    where = "; ".join(
        f"{frame.filename}:{frame.lineno} in {frame.name}"
        for frame in traceback.extract_tb(error.__traceback__)
    )
    logger.error(
        "Retention: pseudonymising person %s failed (%s), rolled back; the next run tries "
        "again. Where: %s",
        person_id,
        type(error).__name__,
        where,
    )


def retention_apply(*, today: date, batch: int = 500) -> RetentionResult:
    """Apply the retention rules: pseudonymise people past the period, delete drafts never
    submitted, old notifications and old finished background tasks. Each person in a
    transaction of their own, so an interrupted run keeps what it did and the next run goes on;
    running twice, even at once, pseudonymises nobody twice (one `Erasure` per person). One
    person whose pseudonymisation fails, whatever the error, is rolled back, logged by id and
    counted (`people_failed`), and the run goes on with everyone else."""
    run = RetentionRun.objects.create(started_at=timezone.now())
    people = 0
    # Those refused tonight (a case reopened, support live, a linked referral still protecting
    # them) are passed over, so that however many are refused the rest behind them are reached.
    waiting: set[int] = set()
    # Those whose erasure failed with an unexpected error (a field that no longer decrypts, a
    # file that cannot be read, a bug in one app's `*_pseudonymise`). Taken in id order, the
    # same person would fail first every night and stop everyone behind them: so their
    # erasure is undone (its own transaction), logged and counted, and the run goes on.
    failed: set[int] = set()
    while True:
        due = list(
            selectors.people_past_retention(today)
            .exclude(pk__in=waiting | failed)
            .values_list("pk", flat=True)[:batch]
        )
        for person_id in due:
            try:
                with transaction.atomic():
                    _erase(
                        person=Person(pk=person_id),
                        reason=ErasureReason.RETENTION,
                        by=None,
                    )
            except (ValidationError, IntegrityError):
                waiting.add(person_id)  # erased meanwhile by another run, or refused: skip
                continue
            except Exception as error:  # noqa: BLE001 - logged by id, without its message
                failed.add(person_id)
                _log_failure(person_id, error)
                continue
            people += 1
        if len(due) < batch:
            break

    with transaction.atomic():
        drafts_deleted = drafts_unsubmitted_delete(today=today)
        drafts_warned = drafts_deletion_warn(today=today)
        # People taken in who never became a case: no erasure can reach their names.
        reception_names = reception_names_unreferred_delete(
            taken_in_before=_before(today, settings.RETENTION_DRAFT_DAYS)
        )
        notifications = notifications_old_delete(
            created_before=_before(today, settings.RETENTION_NOTIFICATION_DAYS)
        )
        tasks = DBTaskResult.objects.filter(
            finished_at__lt=_before(today, settings.RETENTION_TASK_RESULT_DAYS)
        ).delete()[0]
        # Idempotency keys past their published expiry (a day): already forgotten, now gone.
        keys = expired_keys_delete(now=timezone.now())
        result = RetentionResult(
            people_pseudonymised=people,
            drafts_deleted=drafts_deleted,
            notifications_deleted=notifications,
            task_results_deleted=tasks,
            people_failed=len(failed),
        )
        run.finished_at = timezone.now()
        run.people_pseudonymised = people
        run.drafts_deleted = drafts_deleted
        run.notifications_deleted = notifications
        run.task_results_deleted = tasks
        run.save(
            update_fields=[
                "finished_at",
                "people_pseudonymised",
                "drafts_deleted",
                "notifications_deleted",
                "task_results_deleted",
            ]
        )
        audit_record(
            by=None,
            action="retention.applied",
            obj=run,
            detail={
                "people_pseudonymised": people,
                # Past the period but passed over: those whose erasure waits for a referral
                # confirmed as the same person (the selector leaves them out), and those
                # refused tonight for another reason (a case reopened, support begun again).
                "people_waiting_for_linked_referrals": (
                    selectors.people_held_past_retention(today).count()
                ),
                "people_refused": len(waiting),
                # Failed with an unexpected error and rolled back: the log names them by id.
                "people_failed": len(failed),
                "drafts_deleted": drafts_deleted,
                "drafts_warned": drafts_warned,
                "reception_names_emptied": reception_names,
                "notifications_deleted": notifications,
                "task_results_deleted": tasks,
                "idempotency_keys_deleted": keys,
            },
        )
    return result


def subject_access_export(*, by: User, person: Person, request_reference: str) -> dict[str, Any]:
    """Everything held about `person`, for the data-protection officer answering their
    request; recorded as an export of their identifying data before it is handed over."""
    if not request_reference.strip():
        raise ValidationError({"request_reference": "Enter your reference for the request"})
    selectors.person_get_for_data_protection(Actor.of_session(by), person.pk)
    data = selectors.subject_access_data(person)
    audit_read(
        by=by,
        person=person,
        action="person.exported",
        obj=person,
        fields=selectors.EXPORTED_FIELDS,
        purpose=f"subject access request {request_reference.strip()[:60]}",
    )
    return data
