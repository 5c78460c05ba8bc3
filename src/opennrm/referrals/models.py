from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from opennrm.accounts.models import Organisation
from opennrm.accounts.roles import Jurisdiction
from opennrm.cases.choices import AgeGroup, ExploitationLocation, Sex
from opennrm.cases.models import Case
from opennrm.lib.fields import (
    EncryptedCharField,
    EncryptedFileSystemStorage,
    EncryptedJSONField,
    EncryptedTextField,
    RowUUIDField,
)


class DraftStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted as a referral"
    REPORTED = "reported", "Submitted as a duty to notify report"


class ReferralDraft(models.Model):
    """A referral being written. Every answer is saved here as it is given, as the raw values
    typed, so nothing is lost to a timeout, a sign-out or a validation error.

    `answers` maps each step's slug to that step's submitted values, encrypted at rest (they
    hold names and accounts). Once submitted, the answers are emptied: the details then live in
    the case's own tables (or, for a duty to notify report, only the anonymous fields survive).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referral_drafts"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="referral_drafts"
    )
    row_uuid = RowUUIDField()
    answers = EncryptedJSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=DraftStatus.choices, default=DraftStatus.DRAFT)
    case = models.OneToOneField(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="draft"
    )
    report = models.OneToOneField(
        "DutyToNotifyReport", on_delete=models.PROTECT, null=True, blank=True, related_name="draft"
    )
    # The stand-alone screening the draft was started from (ADR 0007): one screening, one
    # person, so it starts one referral. Submission records it as the case's screening when the
    # draft's indicators still say what it says. A duty to notify report keeps no link to it.
    source_screening = models.ForeignKey(
        "screening.Screening",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referral_drafts",
    )
    # The catalogue version the indicators page was answered from (ADR 0007): submission
    # checks the ticks against it, not against a version loaded since. None until that page is
    # saved (and for drafts saved before it was recorded: they are checked against the active
    # one, and asked again if their codes are not in it).
    indicators_catalogue = models.ForeignKey(
        "screening.IndicatorCatalogue",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The enforcement operation the person was taken in during (operations.ReceptionRecord,
    # ADR 43): a plain number, as accommodation.Bed keeps it, so that referrals never imports
    # operations. The placement request the referral raises carries it, so the operation's
    # surge places and held beds can take the person (ADR 44).
    operation_id = models.PositiveBigIntegerField(null=True, blank=True)
    # Whoever took the person in (an operation's reception) judged them a child or their age
    # disputed, and children's services were told: the referral may not call them an adult.
    # Only an age assessment after referral moves a child to the adult pathway (ADR 0025).
    presumed_child = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When its author (or, if they no longer refer for the organisation, its administrators)
    # was told that retention will delete the draft; a save after it starts the count again.
    # Retention deletes only a draft warned a notice period before (ADR 0021).
    deletion_warned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"Referral draft {self.public_id}"


class DutyToNotifyReport(models.Model):
    """An anonymous report about an adult who did not consent to a referral (MSA 2015 s.52).

    By design this table has no field that could identify the person: no names, no dates of
    birth, no free text. `referrals.steps.ANONYMOUS_ANSWERS` is the allow-list of the draft's
    answers that may survive to fill it, and a test checks that nothing else of the draft does.
    What the reporter knows about the exploiters goes apart, in `DutyToNotifyIntelligence`.
    """

    reference = models.CharField(max_length=20, unique=True)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="duty_to_notify_reports"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField()
    jurisdiction = models.CharField(max_length=40, choices=Jurisdiction.choices)
    area = models.CharField(max_length=120)
    sex = models.CharField(max_length=10, choices=Sex.choices)
    age_band = models.CharField(max_length=10)
    nationalities = models.JSONField(default=list)
    exploitation_types = models.JSONField(default=list)
    exploitation_location = models.CharField(max_length=10, choices=ExploitationLocation.choices)

    def __str__(self) -> str:
        return self.reference


class DutyToNotifyIntelligence(models.Model):
    """What a duty to notify report can tell the police about the exploitation without
    identifying the person (issue 12, item 8): places (a town or area and the kind of
    premises), descriptions of the exploiters, vehicles and relevant dates. It is about the
    exploiters, not the person, and the page that asks for it says never to put the person's
    name, date of birth, phone number or address in it; still, free text can say more than
    meant, so it is encrypted, and shown only after `audit_read`.

    `routed_to` are the organisations told of it when the report was submitted: the statutory
    first responders of the report's area (its police), or, where there are none, the
    competent authority. Their first responders (or decision makers) may read it, and so may
    the reporting organisation's (`referrals.selectors.report_get_for`).
    """

    report = models.OneToOneField(
        DutyToNotifyReport, on_delete=models.CASCADE, related_name="intelligence"
    )
    row_uuid = RowUUIDField()
    # [{"area": ..., "premises": <PremisesKind>}]
    places = EncryptedJSONField(default=list, blank=True)
    exploiters = EncryptedTextField(blank=True, default="")
    # [{"make": ..., "colour": ..., "registration": ...}]
    vehicles = EncryptedJSONField(default=list, blank=True)
    dates = EncryptedTextField(blank=True, default="")
    routed_to = models.ManyToManyField(Organisation, related_name="+", blank=True)

    def __str__(self) -> str:
        return f"Intelligence of report {self.report_id}"


class RoutingRule(models.Model):
    """Which competent authority receives a referral. The first matching rule, by priority, wins;
    an empty condition matches anything. Configured by system administrators."""

    priority = models.PositiveIntegerField(default=100)
    description = models.CharField(max_length=200)
    jurisdiction = models.CharField(max_length=40, choices=Jurisdiction.choices, blank=True)
    in_immigration_detention = models.BooleanField(null=True, blank=True)
    age_group = models.CharField(max_length=20, choices=AgeGroup.choices, blank=True)
    competent_authority = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="routing_rules"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return self.description


def evidence_storage() -> EncryptedFileSystemStorage:
    # Under PRIVATE_FILES_DIR, outside STATIC_ROOT, encrypted, and with no URL: files are only
    # ever served by an access-checked view, never by the web server from a public address.
    return EncryptedFileSystemStorage("evidence")


class EvidenceFile(models.Model):
    # A file of the draft, which becomes the case's on submission; or a file added to the case
    # after it (`addition` set, no draft): never mixed with what was submitted (ADR 28).
    draft = models.ForeignKey(
        ReferralDraft, on_delete=models.CASCADE, null=True, blank=True, related_name="evidence"
    )
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="evidence"
    )
    addition = models.ForeignKey(
        "ReferralAddition",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evidence",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    # The name it had on the uploader's computer, which may identify someone: encrypted. The
    # stored file's name is random, and its content encrypted by the storage.
    row_uuid = RowUUIDField()
    original_name = EncryptedCharField(max_length=255)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    file = models.FileField(storage=evidence_storage, upload_to="%Y/%m/")

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"Evidence {self.pk}"


class InformationRequestStatus(models.TextChoices):
    OPEN = "open", "Waiting for an answer"
    ANSWERED = "answered", "Answered"
    WITHDRAWN = "withdrawn", "Withdrawn"


class InformationRequest(models.Model):
    """A decision maker of the case's competent authority asks the referring organisation for
    more information. It is answered by a `ReferralAddition`; nothing submitted changes."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="information_requests")
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    asked_at = models.DateTimeField()
    respond_by = models.DateField()
    row_uuid = RowUUIDField()
    # A question about the person may name them or what happened to them: encrypted.
    question = EncryptedTextField()
    status = models.CharField(
        max_length=20,
        choices=InformationRequestStatus.choices,
        default=InformationRequestStatus.OPEN,
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    # The one-time key of the form it was sent from: the same form sent twice (a second click,
    # Back and send again) asks once, and the referrer is told once (`information_request_ask`).
    submission_key = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["asked_at", "id"]
        indexes = [models.Index(fields=["case", "status"], name="info_request_case_status_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["asked_by", "submission_key"], name="info_request_one_per_submission"
            )
        ]

    def __str__(self) -> str:
        return f"Information request {self.pk} on {self.case_id}"


class ReferralAddition(models.Model):
    """Information (and evidence) the referring organisation adds to a submitted referral,
    answering a request or of its own accord. Kept beside what was submitted, never written
    over it (ADR 28)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="additions")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField()
    answers = models.ForeignKey(
        InformationRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="additions",
    )
    row_uuid = RowUUIDField()
    text = EncryptedTextField()
    # When a decision maker of the competent authority marked it read ("new information" on
    # their home page until then).
    seen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    seen_at = models.DateTimeField(null=True, blank=True)
    # The one-time key of the form it was sent from: the same form sent twice adds it (and its
    # files) once, kept for ever, and the decision makers are told once (`referral_addition_add`).
    submission_key = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["added_by", "submission_key"], name="addition_one_per_submission"
            )
        ]

    def __str__(self) -> str:
        return f"Addition {self.pk} to {self.case_id}"
