"""Record linkage: which referrals may be the same person, and which a decision maker says are.

Nothing here holds a name, a date of birth or any other identifying value (ADR 0048). A pair is
two case ids, the model's weights and the comparison level each field reached; its fingerprint
is a keyed digest of the compared values, enough to tell that they changed and nothing more.
Confirmed pairs put their cases in one identity cluster: linked, never merged, every referral
and its history kept as it was.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from opennrm.cases.models import Case, PersonIdentity


class Engine(models.TextChoices):
    DUCKDB = "duckdb", "DuckDB (in-process)"
    SPARK = "spark", "Apache Spark"


class LinkageModel(models.Model):
    """One trained model, by version: splink's settings with their m and u probabilities, and
    the threshold a pair must reach to be proposed. Scores are reproducible from this row: the
    same model on the same values gives the same weights. Never changed once written; a new
    training is a new version."""

    version = models.PositiveIntegerField(unique=True)
    splink_version = models.CharField(max_length=20)
    # splink's model JSON (comparisons, blocking rules, trained m and u probabilities). It holds
    # SQL and probabilities, never a value from a record (no term-frequency tables).
    splink_settings = models.JSONField()
    threshold_match_probability = models.FloatField()
    # How many records and pairs it was trained on.
    trained_on_records = models.PositiveIntegerField()
    trained_at = models.DateTimeField()
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"Linkage model v{self.version}"


class LinkageRun(models.Model):
    """One run of the linkage job: when, by whom (None: the system), with which model and
    engine, and how much it compared and found."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    model = models.ForeignKey(LinkageModel, on_delete=models.PROTECT, related_name="runs")
    # Whether this run trained `model` (otherwise it scored with a model trained before).
    trained = models.BooleanField(default=False)
    engine = models.CharField(max_length=10, choices=Engine.choices)
    records = models.PositiveIntegerField()
    candidate_pairs = models.PositiveBigIntegerField()
    pairs_above_threshold = models.PositiveIntegerField()
    pairs_proposed = models.PositiveIntegerField()
    # Pairs above the threshold left out because a decision maker rejected them and the
    # compared values have not changed since.
    pairs_still_rejected = models.PositiveIntegerField()

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Linkage run {self.pk} ({self.started_at:%Y-%m-%d %H:%M})"


class PairStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    CONFIRMED = "confirmed", "Same person"
    REJECTED = "rejected", "Not the same person"
    UNSURE = "unsure", "Not sure"
    # Confirmed, then undone by a decision maker (ADR 0049): no longer linked, and treated as
    # a rejection by later runs (not proposed again unless a compared value changes).
    UNLINKED = "unlinked", "Unlinked after being confirmed"


class UnlinkReason(models.TextChoices):
    """Why a confirmed link was undone: coded, never free text, so that nothing about either
    person is written outside their encrypted records (ADR 0049)."""

    NEW_INFORMATION = "new_information", "New information shows they are different people"
    MISTAKE = "mistake", "The link was confirmed by mistake"
    RECORD_CORRECTED = "record_corrected", "A record was corrected and no longer matches"


class ReopenReason(models.TextChoices):
    """Why a "Not the same person" answer was taken back and the pair opened again: coded, as
    an unlink's reason is (ADR 0049, addendum of stop 37)."""

    MISTAKE = "mistake", "“Not the same person” was chosen by mistake"
    NEW_INFORMATION = "new_information", "New information shows they may be the same person"
    RECORD_CORRECTED = "record_corrected", "A record was corrected and may now match"


# A pair still waiting for a final answer: at most one per two cases.
OPEN_STATUSES = (PairStatus.PROPOSED, PairStatus.UNSURE)


class CandidatePair(models.Model):
    """Two referrals that may be the same person, as one run scored them.

    `case_a` has the lower id. `comparisons` holds, per compared field, the level reached (its
    label and splink's gamma) and its Bayes factor and match weight: the waterfall chart's rows.
    """

    # The run that found the pair; empty for a pair found by the check at submission.
    run = models.ForeignKey(
        LinkageRun, on_delete=models.PROTECT, null=True, blank=True, related_name="pairs"
    )
    case_a = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    case_b = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    match_weight = models.FloatField()
    match_probability = models.FloatField()
    comparisons = models.JSONField(default=list)
    # HMAC of the compared values of both records under the blind-index key `fingerprint_key`:
    # changes when any compared value changes, and says nothing else.
    fingerprint = models.CharField(max_length=64)
    fingerprint_key = models.CharField(max_length=32)
    status = models.CharField(
        max_length=10, choices=PairStatus.choices, default=PairStatus.PROPOSED
    )
    created_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # A confirmed pair undone (status "unlinked"): by whom, when and why (a coded reason).
    unlinked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    unlinked_at = models.DateTimeField(null=True, blank=True)
    unlink_reason = models.CharField(max_length=20, choices=UnlinkReason.choices, blank=True)
    # A "Not the same person" answer taken back (the pair open again): who answered so and when
    # (kept after the pair is answered again), and who reopened it, when and why (coded).
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    rejected_at = models.DateTimeField(null=True, blank=True)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopen_reason = models.CharField(max_length=20, choices=ReopenReason.choices, blank=True)

    class Meta:
        ordering = ["-match_weight", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(case_a__lt=F("case_b")), name="candidate_pair_ordered"
            ),
            models.UniqueConstraint(
                fields=["case_a", "case_b"],
                condition=Q(status__in=["proposed", "unsure"]),
                name="candidate_pair_one_open",
            ),
        ]
        indexes = [models.Index(fields=["case_a", "case_b"], name="candidate_pair_cases_idx")]

    def __str__(self) -> str:
        return f"Pair {self.case_a_id}-{self.case_b_id} ({self.status})"


class IdentityCluster(models.Model):
    """The referrals a decision maker has said are one person: linked, each kept whole."""

    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Identity cluster {self.pk}"


class ClusterMember(models.Model):
    """A case in an identity cluster, and the confirmed pair that put it there."""

    cluster = models.ForeignKey(IdentityCluster, on_delete=models.CASCADE, related_name="members")
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="identity_cluster")
    linked_by = models.ForeignKey(
        CandidatePair, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    linked_at = models.DateTimeField()
    # Linked through an erased referral, the confirmed pairs that linked them having gone with
    # it: an opaque token, random and new for each erasure (`services._erased_link_group`),
    # never the erased case's id, which would say which pseudonymised referral these people's
    # is (ADR 0052, addendum of stop 36). Members sharing it stay joined to one another when the
    # cluster is rebuilt; 0 for members erased before the groups were kept (all of a cluster's
    # such members together).
    linked_through_erased = models.PositiveBigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Case {self.case_id} in cluster {self.cluster_id}"


class LinkageKey(models.Model):
    """A keyed digest of one blocking value of a referral (its family-name key and year of
    birth, say), so that the check at submission finds the earlier referrals a new one would be
    compared with without decrypting anyone else; and of its names and name keys, whose counts
    say how usual each is (`prepare.stored_values`). HMAC under the blind-index key, like the
    blind indexes; deleted with the identity it was computed from (erasure), and all rewritten
    by every linkage run."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    identity = models.ForeignKey(PersonIdentity, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=32, db_index=True)

    def __str__(self) -> str:
        return f"Linkage key of case {self.case_id}"
