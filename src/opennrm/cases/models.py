"""The person referred and their case.

Identifying details (names, date of birth, contact details, accounts in free text) live in their
own tables, `PersonIdentity` and `CaseNarrative`, apart from the statistical fields on `Person`
and `Case`. Statistics and listings read only the latter; every field of the identifying tables
is encrypted at rest (`opennrm.lib.fields`, docs/adr/0012), and pseudonymisation deletes them.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models.fields.json import KeyTransform

from opennrm.accounts.models import Organisation
from opennrm.accounts.roles import Jurisdiction
from opennrm.lib import fields
from opennrm.lib.fields import (
    EncryptedCharField,
    EncryptedDateField,
    EncryptedJSONField,
    EncryptedTextField,
    RowUUIDField,
)

from .choices import (
    TREATED_AS_CHILD,
    AgeGroup,
    CaseStatus,
    ExploitationAgeGroup,
    ExploitationLocation,
    Gender,
    Sex,
)


class Person(models.Model):
    """Statistical facts about a person: nothing here identifies them on its own."""

    sex = models.CharField(max_length=10, choices=Sex.choices)
    gender = models.CharField(max_length=30, choices=Gender.choices, blank=True)
    age_at_referral = models.PositiveSmallIntegerField(null=True, blank=True)
    age_is_estimated = models.BooleanField(default=False)
    nationalities = models.JSONField(default=list, help_text="ISO 3166-1 alpha-2 codes")
    languages = models.JSONField(default=list, help_text="ISO 639-1 codes")
    interpreter_needed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # The search by nationality (cases.selectors.cases_matching) compares the first and
            # the second nationality: each through its own index, which also gives the planner
            # each nationality's share, so a rare one is looked up and a common one found while
            # walking the newest cases.
            models.Index(KeyTransform("0", "nationalities"), name="person_nationality_1_idx"),
            models.Index(KeyTransform("1", "nationalities"), name="person_nationality_2_idx"),
        ]

    def __str__(self) -> str:
        return f"Person {self.pk}"


class PersonIdentity(models.Model):
    """Who the person is. Shown only to those allowed; every field here is identifying, and
    encrypted at rest.

    `name_index` and `dob_index` are blind indexes: keyed digests of the normalised whole name
    and of the date of birth (`identity_indexes`), so that `cases.selectors.people_matching`
    finds exact matches without decrypting the table. Whatever writes the name or date of birth
    writes them too.
    """

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="identity")
    row_uuid = RowUUIDField()
    given_names = EncryptedCharField(max_length=200)
    family_name = EncryptedCharField(max_length=200, blank=True)
    aliases = EncryptedJSONField(default=list)
    date_of_birth = EncryptedDateField(null=True, blank=True)
    safe_contact = EncryptedTextField(blank=True)
    name_index = models.CharField(max_length=32, blank=True, default="", editable=False)
    dob_index = models.CharField(max_length=32, blank=True, default="", editable=False)

    class Meta:
        indexes = [
            models.Index(fields=["name_index"], name="identity_name_index_idx"),
            models.Index(fields=["dob_index"], name="identity_dob_index_idx"),
        ]

    def __str__(self) -> str:
        return f"Identity of person {self.person_id}"


def whole_name(given_names: str, family_name: str) -> str:
    return f"{given_names} {family_name}".strip()


def identity_indexes(
    *, given_names: str, family_name: str, date_of_birth: date | None
) -> dict[str, str]:
    """The blind-index columns of a PersonIdentity with these values, under the current key."""
    index = fields.blind_index()
    return {
        "name_index": index.of_name(whole_name(given_names, family_name)),
        "dob_index": index.of_date(date_of_birth),
    }


class Case(models.Model):
    reference = models.CharField(max_length=20, unique=True)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="cases")
    referring_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="referred_cases"
    )
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referred_cases"
    )
    competent_authority = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="routed_cases"
    )
    jurisdiction = models.CharField(max_length=40, choices=Jurisdiction.choices)
    # The local authority area the person is in now: who safeguards a child, where support is.
    area = models.CharField(max_length=120)
    age_group = models.CharField(max_length=20, choices=AgeGroup.choices)
    # The age group when the exploitation began (ADR 0042): a person exploited as a child is a
    # child for the trafficking definition (no means needed), and the statistics count by it.
    age_group_at_exploitation = models.CharField(
        max_length=20,
        choices=ExploitationAgeGroup.choices,
        default=ExploitationAgeGroup.NOT_KNOWN,
    )
    exploitation_types = models.JSONField(default=list)
    exploitation_location = models.CharField(max_length=10, choices=ExploitationLocation.choices)
    exploitation_started = models.DateField(null=True, blank=True)
    exploitation_ended = models.DateField(null=True, blank=True)
    in_immigration_detention = models.BooleanField(default=False)
    # Consent (adults only; empty for children, who need none).
    consent_to_referral = models.BooleanField(null=True)
    consent_to_support = models.BooleanField(null=True)
    consent_explanation_version = models.CharField(max_length=40, blank=True)
    consent_explanation_language = models.CharField(max_length=10, blank=True)
    status = models.CharField(
        max_length=30, choices=CaseStatus.choices, default=CaseStatus.AWAITING_REASONABLE_GROUNDS
    )
    # The indicators the first responder observed, screened as part of the referral.
    screening = models.OneToOneField(
        "screening.Screening", on_delete=models.PROTECT, null=True, blank=True, related_name="case"
    )
    # The moment of submission, to the microsecond and time-zone aware: the statutory clocks
    # (reasonable grounds target, recovery period) start from it.
    submitted_at = models.DateTimeField(db_index=True)
    # Stored when the clock starts, never recomputed on a page (policy.clock computes it).
    reasonable_grounds_due = models.DateField(null=True, blank=True)
    recovery_period_ends = models.DateField(null=True, blank=True)
    conclusive_grounds_from = models.DateField(null=True, blank=True)
    reconsideration_until = models.DateField(null=True, blank=True)
    move_on_ends = models.DateField(null=True, blank=True)
    # Support the jurisdiction's own law gives an adult from a positive reasonable grounds
    # decision (Scotland: 90 days under the 2015 Act s.9), cut short by a conclusive decision.
    support_ends = models.DateField(null=True, blank=True)
    # While a reconsideration request waits: the day the competent authority should decide it.
    reconsideration_decide_by = models.DateField(null=True, blank=True)
    # When the case was closed: the retention period of the person's identifying details runs
    # from the latest closing of their cases (privacy.retention).
    closed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Incremented by every change of status: two decision makers acting at once cannot both
    # succeed, because the second one's expected version is no longer the case's.
    version = models.PositiveIntegerField(default=1, db_default=1)
    # The decision maker the case is assigned to, if any.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_cases",
    )

    class Meta:
        indexes = [
            models.Index(
                fields=["referring_organisation", "-submitted_at"], name="case_referrer_idx"
            ),
            models.Index(fields=["competent_authority", "status"], name="case_authority_idx"),
            # The decision queues: one status, oldest deadline first.
            models.Index(
                fields=["competent_authority", "status", "reasonable_grounds_due"],
                name="case_rg_queue_idx",
            ),
            models.Index(
                fields=["competent_authority", "status", "conclusive_grounds_from"],
                name="case_cg_queue_idx",
            ),
            # The reconsiderations queue and its daily reminders, by the day each is due.
            models.Index(
                fields=["competent_authority", "status", "reconsideration_decide_by"],
                name="case_rc_queue_idx",
            ),
            # The queue filtered to adults or to children: its page count, from the index alone.
            models.Index(
                fields=["competent_authority", "status", "age_group", "reasonable_grounds_due"],
                name="case_rg_queue_age_idx",
            ),
            # A safeguarding lead's children: one area's children, by when they were referred
            # (without it, the caseload read every child of the country at a million cases).
            models.Index(fields=["area", "age_group", "submitted_at"], name="case_area_age_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_child(self) -> bool:
        return self.age_group in TREATED_AS_CHILD

    @property
    def exploited_as_child(self) -> bool:
        """A child when the exploitation began: a child or age-disputed person now, or an adult
        whose exploitation began before they were 18. Means are not needed (CETS 197 art. 4(c))."""
        return self.is_child or self.age_group_at_exploitation == ExploitationAgeGroup.CHILD


class CaseStatusChange(models.Model):
    """One row per change of status, written by the transition service and by nothing else."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=30, choices=CaseStatus.choices)
    to_status = models.CharField(max_length=30, choices=CaseStatus.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.from_status} -> {self.to_status}"


class CaseNarrative(models.Model):
    """The accounts of what happened, and where: free text that can identify anyone, encrypted
    at rest."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="narrative")
    row_uuid = RowUUIDField()
    persons_account = EncryptedTextField(blank=True)
    responders_account = EncryptedTextField(blank=True)
    exploitation_places = EncryptedTextField(blank=True)
    immediate_needs_details = EncryptedTextField(blank=True)

    def __str__(self) -> str:
        return f"Narrative of {self.case_id}"


class CaseEvent(models.Model):
    """The case's timeline: everything that happens to it, in order."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=60)
    description = models.CharField(max_length=300)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.kind}"


class KeyRotation(models.Model):
    """How far `manage.py rotate_keys` has got with one table (or one table's files).

    One row per target and pair of current keys: a run that is interrupted continues after
    `last_pk`; a finished row means every value of the target was under these keys when it
    finished (and new values are written under them anyway). Written only by
    `cases.key_rotation.keys_rotate`.
    """

    target = models.CharField(max_length=120)
    key_id = models.CharField(max_length=32)
    index_key_id = models.CharField(max_length=32)
    last_pk = models.BigIntegerField(default=0)
    checked = models.PositiveBigIntegerField(default=0)
    rewritten = models.PositiveBigIntegerField(default=0)
    missing = models.PositiveBigIntegerField(default=0)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["target", "key_id", "index_key_id"], name="key_rotation_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.target} to {self.key_id}/{self.index_key_id}"
