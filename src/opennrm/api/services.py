"""Every write of the API: tokens, and referrals submitted through it."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.selectors import memberships_of, organisations_administered_by
from opennrm.audit.services import audit_record
from opennrm.referrals import services as referrals
from opennrm.referrals import steps
from opennrm.referrals.models import ReferralDraft

from .models import ApiToken, ReferralIdempotencyKey, TokenScope
from .selectors import hash_secret

# Tokens expire: a forgotten token stops working by itself. Renewing means creating a new one.
MAX_TOKEN_LIFETIME = timedelta(days=365)
TOKEN_PREFIX = "onrm_"  # noqa: S105 (marks an OpenNRM token, e.g. for secret scanners)
# How often a token's last use is written down: often enough to tell a live token from a
# dead one, rarely enough that busy clients do not write on every request.
LAST_USED_PRECISION = timedelta(minutes=1)
NAME_MAX_LENGTH = 100


def _check_new_token(
    *,
    by: User | None,
    organisation: Organisation,
    acts_as: User,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime,
) -> list[str]:
    problems: dict[str, str] = {}
    if by is not None and not organisations_administered_by(by).filter(pk=organisation.pk).exists():
        problems["organisation"] = "You can create tokens only for organisations you administer"
    if not memberships_of(acts_as).filter(organisation=organisation).exists():
        problems["acts_as"] = (
            f"{acts_as.email} is not an active member of {organisation.name}: a token acts for "
            "one member of its organisation"
        )
    if not name.strip():
        problems["name"] = "Give the token a name that says what uses it"
    elif len(name.strip()) > NAME_MAX_LENGTH:
        problems["name"] = f"The token's name must be {NAME_MAX_LENGTH} characters or fewer"
    scopes = list(scopes)
    unknown = sorted(set(scopes) - set(TokenScope.values))
    if unknown:
        problems["scopes"] = (
            f"Unknown scope {', '.join(unknown)}: choose from {', '.join(TokenScope.values)}"
        )
    elif not scopes:
        problems["scopes"] = f"Give at least one scope: {', '.join(TokenScope.values)}"
    now = timezone.now()
    if expires_at <= now:
        problems["expires_at"] = "The expiry must be in the future"
    elif expires_at > now + MAX_TOKEN_LIFETIME:
        problems["expires_at"] = (
            f"A token can last at most {MAX_TOKEN_LIFETIME.days} days; create a new one to renew"
        )
    if problems:
        raise ValidationError(problems)
    return sorted(set(scopes))


@transaction.atomic
def api_token_create(
    *,
    by: User | None,
    organisation: Organisation,
    acts_as: User,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is shown once and stored nowhere.

    `by=None` is the command line (an operator with shell access); a user must administer the
    organisation. The token acts for `acts_as`, who must be an active member of it.
    """
    clean_scopes = _check_new_token(
        by=by,
        organisation=organisation,
        acts_as=acts_as,
        name=name,
        scopes=scopes,
        expires_at=expires_at,
    )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        organisation=organisation,
        acts_as=acts_as,
        name=name.strip(),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        secret_hash=hash_secret(secret),
        scopes=clean_scopes,
        created_by=by,
        expires_at=expires_at,
    )
    audit_record(
        by=by,
        action="api_token.created",
        obj=token,
        organisation=organisation,
        detail={
            "name": token.name,
            "prefix": token.prefix,
            "acts_as": acts_as.email,
            "scopes": clean_scopes,
            "expires_at": expires_at.isoformat(),
        },
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, by: User | None, token: ApiToken) -> ApiToken:
    """Stop a token working at once. Revoking a revoked token changes nothing but is recorded."""
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if (
        by is not None
        and not organisations_administered_by(by).filter(pk=locked.organisation_id).exists()
    ):
        raise ValidationError("You can revoke tokens only of organisations you administer")
    already = locked.revoked_at is not None
    if not already:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
    audit_record(
        by=by,
        action="api_token.revoked",
        obj=locked,
        organisation=locked.organisation,
        detail={"prefix": locked.prefix, "already_revoked": already},
    )
    return locked


def api_token_record_use(*, token: ApiToken) -> None:
    """Note when a token was last used, at most once a minute.

    Writes no audit event, deliberately: it runs on every request, and what the request does is
    audited by the service it calls, with the token's member as the actor.
    """
    now = timezone.now()
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
    ).update(last_used_at=now)


# --- Referrals through the API ------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerError:
    """One thing wrong with the answers: which step, which field (None for the whole step), and
    the message the page would show."""

    step: str | None
    field: str | None
    message: str


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
        if step.optional and step.slug not in answers:
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

    For a duty to notify report, only of the answers a report may keep (the allow-list
    `draft_save_answers` applies): nothing derived from identifying answers is stored for it.
    """
    if steps.route(answers) == steps.Route.DUTY_TO_NOTIFY:
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
        raise RejectedReferral(
            [
                AnswerError(
                    None,
                    "Idempotency-Key",
                    "This Idempotency-Key was already used for a different referral. "
                    "Use a new key for each new referral.",
                )
            ]
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
        submitted = referrals.referral_submit(by=by, draft=draft)
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
        return _submit(
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
