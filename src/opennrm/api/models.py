"""API tokens, and the idempotency keys that make a retried request safe.

A token belongs to one organisation and acts for one named member of it: a request made with it
is that member's, with exactly that member's roles in that organisation, and every service it
reaches records that member as the actor. Only a SHA-256 hash of the secret is stored; the secret
is shown once, when the token is created.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from opennrm.accounts.models import Organisation
from opennrm.cases.models import Case
from opennrm.referrals.models import ReferralDraft


class TokenScope(models.TextChoices):
    """What a token may do. The roles of the member it acts for still apply on top."""

    REFERRALS_READ = "referrals:read", "Read the organisation's referrals: status and timeline"
    REFERRALS_WRITE = "referrals:write", "Submit referrals"
    CASES_READ = (
        "cases:read",
        ("Read the cases the member may see: status, clocks, decisions and timeline"),
    )
    DECISIONS_READ = "decisions:read", "Read the decision queues of the competent authority"
    DECISIONS_WRITE = (
        "decisions:write",
        (
            "Record decisions and act on them: decide, approve, assign, and ask for or decide a "
            "reconsideration, as the member's roles allow"
        ),
    )
    SUPPORT_READ = (
        "support:read",
        (
            "Read support and accommodation as the member's roles allow: the waiting list, "
            "proposals, free beds, placements, sites and beds, capacity figures"
        ),
    )
    SUPPORT_WRITE = (
        "support:write",
        (
            "Place people: run matching, confirm proposals, place by hand (a coordinator); "
            "answer offers, record arrivals and exits (a safe-house manager)"
        ),
    )
    DIRECTORY_READ = (
        "directory:read",
        "Read the support directory as an HSDS document, with bed capacity and no addresses",
    )
    STATISTICS_QUERY = (
        "statistics:query",
        "Ask differentially private counts, charged to the analyst's privacy budget",
    )
    OPERATIONS_READ = (
        "operations:read",
        "Read the operations the organisation leads or is invited to: plan, numbers, partners, "
        "the people taken in",
    )
    OPERATIONS_WRITE = (
        "operations:write",
        "Plan operations (a police force or competent authority); take people in during one "
        "(first responders and safeguarding leads)",
    )
    PROTECTION_CHECK = (
        "protection:check",
        "Check whether removal must not proceed for a reference, and record planned removals",
    )


class ApiToken(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="api_tokens"
    )
    acts_as = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What uses it, e.g. 'Case management sync'")
    # The first characters of the secret: enough to recognise a token in a list or a log,
    # far too few to use it.
    prefix = models.CharField(max_length=16, db_index=True)
    secret_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    # Empty when created from the command line.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organisation__name", "-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}...)"


class ReferralIdempotencyKey(models.Model):
    """An `Idempotency-Key` sent with `POST /api/v1/referrals`, and the draft it produced.

    A retry with the same key (in the same organisation) returns what the first request made
    instead of making a second case. Only requests that succeeded are kept: a rejected one is
    rolled back with everything else, so the same key can be sent again with corrected answers.
    `fingerprint` is a keyed hash (HMAC) of the answers, to tell a retry from a different
    referral sent with the same key without storing anything that could identify the person.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    draft = models.OneToOneField(
        ReferralDraft, on_delete=models.PROTECT, related_name="idempotency_key"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "key"], name="referral_idempotency_key_unique"
            )
        ]

    def __str__(self) -> str:
        return f"Idempotency key {self.key}"


class IdempotencyKey(models.Model):
    """An `Idempotency-Key` a member sent with an operation whose own records keep no hash of
    what was asked (a request for information, an addition), and a keyed hash (HMAC-SHA-256)
    of the request: its address and its validated body (`api.idempotency.fingerprint`).

    The same key sent again by the same member with the same request is a retry; with another
    request it is refused (422), for 24 hours from `created_at` (`api.idempotency.KEY_EXPIRY`):
    older, it is forgotten and the nightly retention run deletes it. A key is its member's: two
    members may send the same one. Only requests that succeeded are kept (a rejected one is
    rolled back with the rest). Never the body itself, which is free text about a person;
    erasing the person empties the hash (`referrals.services.referral_records_pseudonymise`),
    and the key then refuses everything until it expires.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The API operation's id, e.g. "referral_addition_add".
    operation = models.CharField(max_length=64)
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    # The case the request was about, so that erasing its person empties the hash.
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "operation", "key"], name="api_idempotency_key_unique"
            )
        ]

    def __str__(self) -> str:
        return f"Idempotency key {self.key} ({self.operation})"
