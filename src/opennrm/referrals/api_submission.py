"""A whole referral submitted in one request (the API's `POST /referrals`): every page's answers
checked by the pages' own forms, then submitted by the same services as the pages, all or
nothing, with an idempotency key so that a retry never makes a second case.

The idempotency keys' table stays in the `api` app (`api.ReferralIdempotencyKey`): moving a
table between apps needs a migration of state for no gain; what writes it lives here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.crypto import salted_hmac

from opennrm.accounts.models import Organisation, User
from opennrm.api.idempotency import KeyReused
from opennrm.api.models import ReferralIdempotencyKey
from opennrm.api.schemas import AnswerError
from opennrm.audit.services import audit_record

from . import services as referrals
from . import steps
from .models import ReferralDraft


class RejectedReferral(ValidationError):
    def __init__(self, errors: list[AnswerError]) -> None:
        super().__init__([error.message for error in errors])
        self.errors = errors


@dataclass(frozen=True)
class ApiSubmission:
    submitted: referrals.Submitted
    replayed: bool = False


def answer_errors(answers: steps.Answers) -> list[AnswerError]:
    """Every error the journey's pages would show for these answers, step by step, from the same
    stage table and forms. An applicable step with no answers is an error naming the step."""
    errors: list[AnswerError] = []
    for step in steps.applicable_steps(answers):
        if steps.left_out(step, answers):
            continue
        form = steps.bind(step, answers) if step.slug in answers else None
        if form is None:
            errors.append(
                AnswerError(step.slug, None, str(referrals.IncompleteReferral(step).message))
            )
            continue
        if form.is_valid():
            continue
        for field, messages in form.errors.items():
            errors.extend(
                AnswerError(step.slug, None if field == "__all__" else field, str(message))
                for message in messages
            )
    return errors


def _fingerprint(answers: steps.Answers) -> str:
    """A keyed hash of the answers, to tell a retry from another referral.

    For a duty to notify report (or an adult who does not consent, at an organisation without
    the duty), only of the answers a report may keep (the allow-list `draft_save_answers`
    applies): nothing derived from identifying answers is stored for it.
    """
    if steps.refused(answers):
        answers = {
            slug: {k: v for k, v in values.items() if k in steps.ANONYMOUS_ANSWERS[slug]}
            for slug, values in answers.items()
            if slug in steps.ANONYMOUS_ANSWERS
        }
    canonical = json.dumps(answers, sort_keys=True, separators=(",", ":"))
    return salted_hmac("opennrm.api.idempotency", canonical, algorithm="sha256").hexdigest()


def _replay(organisation: Organisation, key: str, fingerprint: str) -> ApiSubmission | None:
    """What an earlier request with this key made, if there was one."""
    earlier = (
        ReferralIdempotencyKey.objects.select_related("draft__case", "draft__report")
        .filter(organisation=organisation, key=key)
        .first()
    )
    if earlier is None:
        return None
    if earlier.fingerprint != fingerprint:
        reused = KeyReused("for a different referral", "each new referral")
        raise RejectedReferral(
            [AnswerError(None, field, m) for field, ms in reused.message_dict.items() for m in ms]
        )
    draft = earlier.draft
    return ApiSubmission(referrals.Submitted(case=draft.case, report=draft.report), replayed=True)


@transaction.atomic
def _submit(
    *,
    by: User,
    organisation: Organisation,
    answers: steps.Answers,
    key: str | None,
    fingerprint: str,
) -> ApiSubmission:
    # 1. A draft, as the pages start one, with every page's answers saved in journey order:
    #    saving is what deletes identifying answers when this turns out to be a duty to notify
    #    report.
    draft: ReferralDraft = referrals.draft_start(by=by, organisation=organisation)
    for step in steps.STEPS:
        if step.slug in answers:
            draft = referrals.draft_save_answers(
                by=by, draft=draft, step=step, data=answers[step.slug]
            )
    # 2. Every applicable step checked by its page's form; any error undoes everything.
    errors = answer_errors(draft.answers)
    if errors:
        raise RejectedReferral(errors)
    # 3. Submitted by the same service as the "check your answers" page.
    try:
        # The check for earlier referrals waits for this transaction's commit (see below).
        submitted = referrals.referral_submit(by=by, draft=draft, check_earlier_referrals=False)
    except referrals.IncompleteReferral as incomplete:
        raise RejectedReferral(
            [AnswerError(incomplete.step.slug, None, str(incomplete.message))]
        ) from None
    except ValidationError as refused:
        raise RejectedReferral([AnswerError(None, None, m) for m in refused.messages]) from None
    if key is not None:
        # Last, so that a concurrent request with the same key fails here and is rolled back.
        ReferralIdempotencyKey.objects.create(
            organisation=organisation, key=key, fingerprint=fingerprint, draft=draft
        )
    made = submitted.case or submitted.report
    audit_record(
        by=by,
        action="api.referral_received",
        obj=made,
        organisation=organisation,
        detail={
            "draft": str(draft.public_id),
            "outcome": "case" if submitted.case else "duty_to_notify_report",
            "idempotency_key": key is not None,
        },
    )
    return ApiSubmission(submitted)


def api_referral_submit(
    *, by: User, organisation: Organisation, answers: steps.Answers, idempotency_key: str | None
) -> ApiSubmission:
    """Submit a whole referral in one request, through the same services as the pages.

    All or nothing: if any answer is wrong, or the submission is refused, nothing is written (no
    draft is left behind) and `RejectedReferral` lists every error, naming step and field. With
    an idempotency key, a retry returns what the first request made and never a second case.

    Writes one audit event of its own (`api.referral_received`), besides those of the referral
    services it calls.
    """
    fingerprint = _fingerprint(answers)
    if idempotency_key is not None:
        earlier = _replay(organisation, idempotency_key, fingerprint)
        if earlier is not None:
            return earlier
    try:
        made = _submit(
            by=by,
            organisation=organisation,
            answers=answers,
            key=idempotency_key,
            fingerprint=fingerprint,
        )
    except IntegrityError:
        # Another request with the same key committed first: everything this one did has been
        # rolled back, and the answer is what that one made.
        earlier = _replay(organisation, idempotency_key, fingerprint) if idempotency_key else None
        if earlier is None:
            raise
        return earlier
    referrals.earlier_referrals_check(made.submitted)
    return made
