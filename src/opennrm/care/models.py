"""Care: a person's support plan (the Convention's minimum assistance, Art. 12(1)), the services
delivered, missing episodes, and the reminders sent before move-on support ends.

Their tables keep the names they had in `support` (`db_table`), and stored data still names
them `support.<model>` (`stored_app_label`; ADR 0019).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from opennrm.accommodation.models import Placement
from opennrm.lib.fields import EncryptedCharField, EncryptedTextField, RowUUIDField

# --- Support plans: the Convention's minimum assistance, per person ----------------------------


class Measure(models.TextChoices):
    """The assistance every person must have (CETS 197 Art. 12(1)(a) to (f)), one item each."""

    ACCOMMODATION = "accommodation", "Appropriate and secure accommodation"
    PSYCHOLOGICAL_MATERIAL = "psychological_material", "Psychological and material assistance"
    EMERGENCY_MEDICAL = "emergency_medical", "Emergency medical treatment"
    TRANSLATION = "translation", "Translation and interpretation"
    COUNSELLING = (
        "counselling",
        "Counselling and information on legal rights and services, in a language they understand",
    )
    CRIMINAL_PROCEEDINGS = "criminal_proceedings", "Assistance in criminal proceedings"
    EDUCATION = "education", "Access to education"


# Education is for children only (Art. 12(1)(f)); the others are for everyone, in this order.
MEASURES_FOR_EVERYONE = tuple(m for m in Measure if m != Measure.EDUCATION)


class MeasureStatus(models.TextChoices):
    NOT_ASSESSED = "not_assessed", "Not assessed yet"
    NEEDED = "needed", "Needed"
    ARRANGED = "arranged", "Arranged"
    BEING_PROVIDED = "being_provided", "Being provided"
    PROVIDED = "provided", "Provided"
    DECLINED = "declined", "Declined by the person"
    NOT_NEEDED = "not_needed", "Not needed"


# The statuses that say someone provides the measure, so who provides it must be known.
PROVIDED_BY_SOMEONE = (MeasureStatus.ARRANGED, MeasureStatus.BEING_PROVIDED, MeasureStatus.PROVIDED)


class SupportPlan(models.Model):
    """A person's support plan, on their case. It exists only with their consent to support
    (an adult's; a child needs none): `care.services` refuses to start one without it."""

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="support_plan")
    started_at = models.DateTimeField()
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    # Stored data still names it `support.supportplan` (`lib.labels`; ADR 0019).
    stored_app_label = "support"

    class Meta:
        db_table = "support_supportplan"

    def __str__(self) -> str:
        return f"Support plan for case {self.case_id}"


class SupportMeasure(models.Model):
    """One Art. 12(1) measure in a plan: its status, dates, and who provides it (an
    organisation in OpenNRM, or an outside service named in `outside_provider`). The outside
    service's name can say where the person is, and the notes are about the person: both are
    encrypted, and shown only after `audit_read`."""

    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="measures")
    measure = models.CharField(max_length=30, choices=Measure.choices)
    status = models.CharField(
        max_length=20, choices=MeasureStatus.choices, default=MeasureStatus.NOT_ASSESSED
    )
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    provider = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    row_uuid = RowUUIDField()
    outside_provider = EncryptedCharField(max_length=200, blank=True, default="")
    notes = EncryptedTextField(blank=True, default="")
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    # Stored data still names it `support.supportmeasure` (`lib.labels`; ADR 0019).
    stored_app_label = "support"

    class Meta:
        db_table = "support_supportmeasure"
        constraints = [
            models.UniqueConstraint(fields=["plan", "measure"], name="one_row_per_measure"),
            models.CheckConstraint(
                condition=Q(starts_on=None) | Q(ends_on=None) | Q(ends_on__gte=F("starts_on")),
                name="measure_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measure} ({self.status}) in plan {self.plan_id}"


class ServiceDelivery(models.Model):
    """The services delivered log: what was delivered, under which measure, when and by whom.
    What was delivered is about the person, and an outside service's name can say where they
    are: both encrypted."""

    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="deliveries")
    measure = models.CharField(max_length=30, choices=Measure.choices)
    delivered_on = models.DateField()
    provider = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    row_uuid = RowUUIDField()
    outside_provider = EncryptedCharField(max_length=200, blank=True, default="")
    description = EncryptedTextField()
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The one-time key of the form it was sent from: the same form sent twice (a second click,
    # a browser's retry) logs one delivery, which can never be corrected or removed
    # (`service_delivery_record`).
    submission_key = models.UUIDField(null=True, blank=True, editable=False)

    # Stored data still names it `support.servicedelivery` (`lib.labels`; ADR 0019).
    stored_app_label = "support"

    class Meta:
        db_table = "support_servicedelivery"
        ordering = ["-delivered_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recorded_by", "submission_key"], name="servicedelivery_one_per_submission"
            )
        ]

    def __str__(self) -> str:
        return f"{self.measure} delivered on {self.delivered_on}"


# --- Missing episodes -------------------------------------------------------------------------


class ChildMissing(models.TextChoices):
    """What a missing report said of a child, and so whether children's services were told
    (`care.services.missing_report`)."""

    NO = "no", "No child"
    # The person is a child, or treated as one while their age is disputed.
    PERSON = "person", "A child"
    # An adult whose safety profile records a dependent child under 18 (placed with them, so
    # taken to be missing with them).
    WITH_THEM = "with_them", "A dependent child with them"


class MissingEpisode(models.Model):
    """A person reported missing from support, and later back. At most one open episode per
    case (the database refuses a second). Where and how they were last seen is free text about
    the person: encrypted. Times are local wall-clock times, when known."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="missing_episodes"
    )
    # The placement they went missing from, if they had one.
    placement = models.ForeignKey(
        Placement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="missing_episodes",
    )
    went_missing_on = models.DateField()
    went_missing_time = models.TimeField(null=True, blank=True)
    row_uuid = RowUUIDField()
    last_seen = EncryptedTextField(blank=True, default="")
    reported_at = models.DateTimeField()
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # A child missing, as the report said (or as it became when their age was disputed while
    # missing): children's services were told then (or, OpenNRM knowing none for the area, the
    # support staff were asked to tell them). Kept as it was: a child who turns 18, or is
    # assessed an adult, while missing is still the one the local authority was told of, and
    # it hears of the return and may open the episode (ADR 15).
    child_missing = models.CharField(
        max_length=10, choices=ChildMissing.choices, default=ChildMissing.NO
    )
    returned_on = models.DateField(null=True, blank=True)
    returned_time = models.TimeField(null=True, blank=True)
    return_recorded_at = models.DateTimeField(null=True, blank=True)
    return_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    # Stored data still names it `support.missingepisode` (`lib.labels`; ADR 0019).
    stored_app_label = "support"

    class Meta:
        db_table = "support_missingepisode"
        ordering = ["-went_missing_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(returned_on=None), name="one_open_missing_episode"
            ),
            models.CheckConstraint(
                condition=Q(returned_on=None) | Q(returned_on__gte=F("went_missing_on")),
                name="missing_returns_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"Missing episode {self.pk} of case {self.case_id}"

    @property
    def is_open(self) -> bool:
        return self.returned_on is None

    @property
    def childrens_services_told(self) -> bool:
        """Whether children's services were told (or to be told) of the report: then of the
        return too."""
        return self.child_missing != ChildMissing.NO


# --- Reminders before move-on support ends ------------------------------------------------------


class MoveOnReminderKind(models.TextChoices):
    DAYS_14 = "days_14", "14 days before move-on support ends"
    DAYS_7 = "days_7", "7 days before move-on support ends"
    DAYS_1 = "days_1", "The day before move-on support ends"
    ENDS = "ends", "The day move-on support ends"


class MoveOnReminder(models.Model):
    """One reminder sent about one placement's move-on end. The unique row is what makes the
    daily task safe to run twice, even at once: the second insert of the same reminder fails
    and nothing is sent again. A new move-on end date (a reconsideration, say) is a new row."""

    placement = models.ForeignKey(
        Placement, on_delete=models.CASCADE, related_name="move_on_reminders"
    )
    kind = models.CharField(max_length=20, choices=MoveOnReminderKind.choices)
    due_on = models.DateField()
    sent_on = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    # Stored data still names it `support.moveonreminder` (`lib.labels`; ADR 0019).
    stored_app_label = "support"

    class Meta:
        db_table = "support_moveonreminder"
        constraints = [
            models.UniqueConstraint(
                fields=["placement", "kind", "due_on"], name="move_on_reminder_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} for placement {self.placement_id} ending {self.due_on}"
