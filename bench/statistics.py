"""The official statistics with many cases stored (issue 13): one quarterly release, one
differentially private question and the researchers' extract.

**The data.** M synthetic cases (the generator behind `manage.py demo_data --people`: referrals
spread over 2019 to 2024 in proportion to each year's UK referrals, so at `--scale full` a
quarter holds 30,000 to 55,000 referrals, about eleven times the UK's that year, 2,700 to 4,800),
then, written in bulk by this benchmark (COPY on PostgreSQL, `bulk_create` elsewhere), the
history the tables read, drawn with a fixed seed:

- decisions: a reasonable grounds decision for 98% of the cases (the rest suspended or
  withdrawn), days after referral drawn from a log-normal with a median of 30; positive for
  88% up to 2022 and 54% from 2023 (FACTS.md 3.3); one in ten needing a second decision maker's
  approval (it takes effect when approved); one in a hundred reconsidered (superseded, then
  replaced by a new decision). After a positive one, a conclusive grounds decision at least
  45 days later (30 from 2023), median 420 days (FACTS.md 3.4: averages of 536 to 568 days),
  if that day has come; positive for 66%; a few disqualifications. Case statuses and closings
  follow the decisions;
- duty to notify reports: three for every ten referrals (5,598 against 19,125 in 2024), by
  public authorities of every kind, dated around the referrals;
- support: sites in every region with one bed per 150 cases; placement requests for about a
  third of the adults with a positive reasonable grounds decision who consent to support and
  for a few children; four in five placed (stays of a median 150 days; those still going
  hold a bed of their own), some declined, the rest turned away for a reason, one to three
  days each, in a region; missing episodes for one child in ten and one adult in fifty.

**The release** (`--scale full`: the last quarter of 2024, about 56,000 referrals) is timed as
the release service makes it: `releases.build_snapshot`, what `prepare_release` does before its
two INSERTs: `tables.release_tables(period)` (every loader and table), `tables.protect(...)`
(primary and secondary suppression with the LP check of each round), the snapshot's tables
laid out with their main points in words, and `disclosure.problems(...)`, the independent LP
audit a release must pass before it is published. Its three costly stages are also timed apart
(tables, protect, audit). The floor is the loaders' SQL (captured as executed) run bare over a
cursor. Each loader is also timed alone.

**The DP question** is `services.dp_query_answer` as an analyst asks it (the budget read under
a lock, the answer, the ledger entry and the audit event): referrals by quarter, exploitation
type and age group over every quarter of the data (the largest grouping, every stored case
read). The floor is its grouped SQL run bare. The analyst's budget is raised for this run
(`OPENNRM_DP_BUDGET_EPSILON`) so that repeated runs on a kept database are never refused.

**The extract** is what a download does: `extract.build(year)` (the rows, k-anonymisation,
the k check) then `extract.extract_csv` (the k check again, then the CSV), for the last year
of the data (about 222,000 referrals at full scale); the CTDC export's time is reported
beside it. The floor is the extract's SELECT alone, run bare.

Each figure is the median of a few repeats; the machine's load and this process's CPU time
are reported beside them (`benchkit.Machine`).

Targets (issue 13), at `--scale full` (1,000,000 cases) on PostgreSQL: the release under
60 s, one DP query under 1 s, the extract with its k check under 2 minutes.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the standard library's `statistics`, which benchkit, numpy and
# Django import, and its folder is first on the path of every benchmark run as a script.
if __name__ == "__main__":
    # Run: keep this folder behind the standard library, so `import statistics` finds it.
    _HERE = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE] + [str(_HERE)]
else:
    # Imported as `statistics` by another benchmark: be the standard library's module (the
    # import statement returns what sys.modules holds once this file has run).
    import importlib.machinery
    import importlib.util
    import sysconfig

    _spec = importlib.machinery.PathFinder.find_spec("statistics", [sysconfig.get_path("stdlib")])
    if _spec is not None and _spec.loader is not None and _spec.origin != __file__:
        _standard = importlib.util.module_from_spec(_spec)
        sys.modules[__name__] = _standard
        _spec.loader.exec_module(_standard)

import bisect
import io
import itertools
import json
import math
import os
import random
import re
import statistics
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import benchkit

NAME = "statistics"
CASES = {"small": 20_000, "full": 1_000_000}
REPEATS = {"small": 3, "full": 3}
DP_SAMPLES = {"small": 20, "full": 10}
SEED = 13
CHUNK = 50_000
LONDON = ZoneInfo("Europe/London")
BENCH_MARK = "BENCH-"  # the prefix of this benchmark's duty to notify references


# --- Writing rows in bulk -------------------------------------------------------------------


class Writer:
    """Rows of a model, as tuples in the order of `names`, written by COPY on PostgreSQL and
    `bulk_create` elsewhere. Ids are given here (from the table's largest id), so rows of other
    tables can point at them; the sequence is moved past them afterwards. A model with
    encrypted fields gets a fresh row identity per row, and each encrypted value is sealed to it,
    exactly as the field would."""

    def __init__(self) -> None:
        from django.db import connection

        self.connection = connection
        self.copy = connection.vendor == "postgresql"
        self.next_id: dict[Any, int] = {}
        self.written: dict[str, int] = {}

    def ids(self, model: Any, n: int) -> range:
        from django.db.models import Max

        if model not in self.next_id:
            self.next_id[model] = (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1
        start = self.next_id[model]
        self.next_id[model] = start + n
        return range(start, start + n)

    def write(self, model: Any, names: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        label = model._meta.label
        self.written[label] = self.written.get(label, 0) + len(rows)
        if self.copy:
            self._copy(model, names, rows)
        else:
            attnames = [model._meta.get_field(name).attname for name in names]
            model.objects.bulk_create(
                [model(**dict(zip(attnames, row, strict=True))) for row in rows], batch_size=2000
            )

    def _defaults(self, model: Any, named: Sequence[Any]) -> tuple[list[Any], list[Any]]:
        """The model's other fields (but its id and row identity) and their default values,
        as the database takes them: a field added to the model later does not break this."""
        from django.db import models
        from django.utils import timezone

        from opennrm.lib import fields

        row_field = fields.row_field(model)
        extra_fields, extra = [], []
        for f in model._meta.concrete_fields:
            if f in named or f is row_field or f.primary_key:
                continue
            if f.db_default is not models.NOT_PROVIDED:
                continue
            auto = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
            value = timezone.now() if auto else f.get_default()
            extra_fields.append(f)
            extra.append(f.get_db_prep_save(value, self.connection))
        return extra_fields, extra

    def _copy(self, model: Any, names: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        from django.db import models

        from opennrm.lib import fields

        meta = model._meta
        named = [meta.get_field(name) for name in names]
        row_field = fields.row_field(model)
        sealed = [(i, f) for i, f in enumerate(named) if isinstance(f, fields.EncryptedMixin)]
        jsons = [
            i
            for i, f in enumerate(named)
            if isinstance(f, models.JSONField) and not isinstance(f, fields.EncryptedMixin)
        ]
        extra_fields, extra = self._defaults(model, named)
        columns = [*named, *([row_field] if row_field else []), *extra_fields]
        quote = self.connection.ops.quote_name
        statement = (
            f"COPY {quote(meta.db_table)} ({', '.join(quote(f.column) for f in columns)}) "
            "FROM STDIN"
        )
        with self.connection.cursor() as wrapper, wrapper.cursor.copy(statement) as copy:
            for row in rows:
                values = list(row)
                for i in jsons:
                    values[i] = json.dumps(values[i])
                if row_field is not None:
                    bound = str(uuid.uuid4())
                    for i, f in sealed:
                        values[i] = f.seal(values[i], row=bound)
                    values.append(bound)
                copy.write_row((*values, *extra))

    def finish(self) -> None:
        if not self.copy:
            return
        with self.connection.cursor() as cursor:
            for model in self.next_id:
                table = model._meta.db_table
                quoted = self.connection.ops.quote_name(table)  # a model's table, not input
                top = f"SELECT max(id) FROM {quoted}"  # noqa: S608
                cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, 'id'), ({top}))", [table])


# --- The history the tables read --------------------------------------------------------------


@dataclass
class Setting:
    """What the drawn history points at: the users who decide, approve, coordinate and report,
    the public authorities, the areas and the beds by region, and the moment of the draw."""

    decider: int
    approver: int
    coordinator: int
    reporters: list[tuple[int, int]]  # organisation id, a user who reports for it
    areas: list[str]
    beds: dict[str, list[int]]  # region -> bed ids
    regions: list[str]
    region_weights: list[float]
    now: datetime
    today: date


def bench_setting(cases: int) -> Setting:
    """The users, public authorities and areas the history points at, and beds in every region
    (one per 150 cases, more in London and the North West, made here if missing)."""
    from django.utils import timezone

    from opennrm.accommodation.models import Bed, Region, Room, Site
    from opennrm.accounts.models import Membership, Organisation, User
    from opennrm.accounts.roles import OrganisationKind, Role

    decider = User.objects.get(email="decisions@demo.opennrm.test")
    approver = (
        Membership.objects.filter(role=Role.DECISION_MAKER)
        .exclude(user=decider)
        .values_list("user_id", flat=True)
        .first()
        or decider.pk
    )
    coordinator = (
        Membership.objects.filter(organisation__kind=OrganisationKind.SUPPORT_PROVIDER)
        .values_list("user_id", flat=True)
        .first()
        or decider.pk
    )
    reporters = []
    for organisation in Organisation.objects.filter(
        kind__in=(
            OrganisationKind.STATUTORY_FIRST_RESPONDER,
            OrganisationKind.LOCAL_AUTHORITY,
            OrganisationKind.COMPETENT_AUTHORITY,
        )
    ).order_by("pk"):
        member = organisation.memberships.values_list("user_id", flat=True).first()
        reporters.append((organisation.pk, member or decider.pk))
    areas = sorted(
        set(
            Organisation.objects.filter(kind=OrganisationKind.LOCAL_AUTHORITY)
            .exclude(area="")
            .values_list("area", flat=True)
        )
    )
    provider = Organisation.objects.filter(kind=OrganisationKind.SUPPORT_PROVIDER).first()
    weights = {region.value: 1.0 for region in Region}
    weights |= {"london": 3.0, "north_west": 2.0, "west_midlands": 1.5, "south_east": 1.5}
    beds: dict[str, list[int]] = {}
    wanted = max(24, cases // 150)
    total_weight = sum(weights.values())
    for index, (region, weight) in enumerate(weights.items()):
        name = f"Bench site {index + 1:02d}"
        site = Site.objects.filter(provider=provider, name=name).first()
        if site is None:
            site = Site.objects.create(
                provider=provider,
                name=name,
                kind="safe_house",
                region=region,
                area=areas[index % len(areas)],
                setting="mixed",
                address=f"{index + 1} Benchmark Road (fictional)",
            )
            rooms = Room.objects.bulk_create(
                [Room(site=site, name=f"Room {n + 1}") for n in range(10)]
            )
            per_room = max(1, round(wanted * weight / total_weight / len(rooms)))
            Bed.objects.bulk_create(
                [Bed(room=room, label=str(n + 1)) for room in rooms for n in range(per_room)]
            )
        beds[region] = list(
            Bed.objects.filter(room__site=site).order_by("pk").values_list("pk", flat=True)
        )
    now = timezone.now()
    return Setting(
        decider=decider.pk,
        approver=approver,
        coordinator=coordinator,
        reporters=reporters,
        areas=areas,
        beds=beds,
        regions=list(weights),
        region_weights=list(itertools.accumulate(weights.values())),
        now=now,
        today=timezone.localdate(),
    )


def pick(rng: random.Random, values: Sequence[Any], cumulative: Sequence[float]) -> Any:
    """One of `values`, weighted by the gaps between the `cumulative` weights."""
    return values[bisect.bisect_right(cumulative, rng.random() * cumulative[-1])]


def weighted(weights: dict[Any, float]) -> tuple[list[Any], list[float]]:
    """The values and cumulative weights `pick` takes."""
    return list(weights), list(itertools.accumulate(weights.values()))


UNMET_REASONS = weighted(
    {"taken": 40, "no_beds": 15, "setting": 10, "dependants": 8, "language": 8, "distance": 7,
     "specialism": 5, "excluded_area": 4, "wheelchair": 3}
)  # fmt: skip
DTN_TYPES = weighted(
    {("labour",): 38, ("sexual",): 18, ("criminal",): 17, ("domestic_servitude",): 6,
     ("labour", "criminal"): 5, ("unknown",): 16}
)  # fmt: skip
DTN_NATIONALITIES = weighted({"GB": 20, "AL": 15, "VN": 10, "ER": 6, "SD": 6, "RO": 5, "IN": 5,
                              "NG": 4, "CN": 4, "": 25})  # fmt: skip
EXIT_REASONS = weighted({"moved_on": 50, "move_on_ended": 25, "returned_home": 5,
                         "transferred": 8, "left": 10, "other": 2})  # fmt: skip

DECISION_FIELDS = (
    "id", "case", "kind", "outcome", "outcome_label", "outcome_kind", "reasons", "decided_by",
    "decided_at", "state", "approved_by", "approved_at", "approval_note", "policy_profile_key",
    "policy_profile_version", "replaces",
)  # fmt: skip
REQUEST_FIELDS = (
    "id", "case", "needs", "urgency", "needed_from", "status", "created_at", "raised_by",
    "accepted_settings", "languages", "keep_away", "excluded_areas", "closed_at",
)  # fmt: skip
PLACEMENT_FIELDS = (
    "id", "request", "bed", "status", "why", "proposed_at", "proposed_by", "reserved_at",
    "responded_at", "responded_by", "decline_reason", "arrived_on", "ended_on", "exit_reason",
)  # fmt: skip
UNMET_FIELDS = ("request", "on", "constraint", "reason", "region", "area")
MISSING_FIELDS = (
    "case", "placement", "went_missing_on", "last_seen", "reported_at", "reported_by",
    "returned_on", "return_recorded_at", "return_recorded_by",
)  # fmt: skip
REPORT_FIELDS = (
    "reference", "organisation", "submitted_by", "submitted_at", "jurisdiction", "area", "sex",
    "age_band", "nationalities", "exploitation_types", "exploitation_location",
)  # fmt: skip
OUTCOME_LABELS = {"positive": "Positive", "negative": "Negative"}


@dataclass
class Batch:
    decisions: list[tuple[Any, ...]] = field(default_factory=list)
    requests: list[tuple[Any, ...]] = field(default_factory=list)
    placements: list[tuple[Any, ...]] = field(default_factory=list)
    unmet: list[tuple[Any, ...]] = field(default_factory=list)
    missing: list[tuple[Any, ...]] = field(default_factory=list)
    reports: list[tuple[Any, ...]] = field(default_factory=list)
    statuses: list[tuple[int, str, datetime | None]] = field(default_factory=list)


class History:
    """Draws each case's decisions, support and missing episodes, and the reports around it."""

    def __init__(self, setting: Setting, writer: Writer, rng: random.Random) -> None:
        from opennrm.accommodation.models import Placement, PlacementRequest

        self.s = setting
        self.rng = rng
        self.request_ids = _Counter(writer, PlacementRequest)
        self.placement_ids = _Counter(writer, Placement)
        self.reports = 0
        self.free_beds = {region: list(ids) for region, ids in setting.beds.items()}

    def _decision(
        self,
        batch: Batch,
        ids: Iterator[int],
        case: int,
        kind: str,
        outcome: str,
        at: datetime,
        *,
        state: str = "in_effect",
        replaces: int | None = None,
    ) -> tuple[int, datetime]:
        """One issued decision; returns its id and when it took effect."""
        rng = self.rng
        approved = rng.random() < 0.1
        approved_at = at + timedelta(hours=rng.uniform(2, 96)) if approved else None
        pk = next(ids)
        batch.decisions.append(
            (
                pk, case, kind, outcome, OUTCOME_LABELS.get(outcome, outcome.title()),
                outcome, "Synthetic decision for the statistics benchmark.", self.s.decider,
                at, state, self.s.approver if approved else None, approved_at, "",
                "bench", "bench", replaces,
            )
        )  # fmt: skip
        return pk, approved_at or at

    def case(self, batch: Batch, ids: Iterator[int], row: tuple[Any, ...]) -> None:
        """The case's reports around it, its decisions, support and missing episodes, and the
        status and closing they leave it in."""
        pk, submitted, age_group, consent = row
        rng, now = self.rng, self.s.now
        child = age_group != "adult"
        # Duty to notify reports, around the referrals (3 for every 10).
        if rng.random() < 0.3:
            self.report(batch, submitted + timedelta(days=rng.uniform(-20, 20)))
        draw = rng.random()
        if draw < 0.02:
            status = "rg_suspended" if draw < 0.007 else "rg_withdrawn"
            batch.statuses.append((pk, status, None))
            self.missing(batch, pk, submitted, child, None)
            return
        decided = self._reasonable_grounds(batch, ids, pk, submitted)
        if isinstance(decided, str):  # still waiting for it
            batch.statuses.append((pk, decided, None))
            return
        positive, effect = decided
        if positive:
            placement = None
            if (consent and rng.random() < 0.35) or (child and rng.random() < 0.03):
                placement = self.support(batch, pk, effect, child)
            self.missing(batch, pk, submitted, child, placement)
            batch.statuses.append((pk, *self._conclusive_grounds(batch, ids, pk, effect)))
            return
        status, closed = "negative_rg", None
        if rng.random() < 0.6:
            closed = effect + timedelta(days=rng.uniform(30, 60))
            status, closed = ("closed", closed) if closed <= now else (status, None)
        batch.statuses.append((pk, status, closed))
        self.missing(batch, pk, submitted, child, None)

    def _reasonable_grounds(
        self, batch: Batch, ids: Iterator[int], pk: int, submitted: datetime
    ) -> tuple[bool, datetime] | str:
        """The case's reasonable grounds decision (whether positive, and when it took effect),
        or the status of a case still waiting for one."""
        rng, now = self.rng, self.s.now
        rg_at = submitted + timedelta(days=min(rng.lognormvariate(math.log(30), 0.9), 720))
        positive = rng.random() < (0.88 if submitted.year < 2023 else 0.54)
        if rg_at > now:
            return "awaiting_rg"
        replaces = None
        if rng.random() < 0.01:  # reconsidered: superseded, then a new decision
            replaces, effect = self._decision(
                batch, ids, pk, "reasonable_grounds", "negative", rg_at, state="superseded"
            )
            rg_at = effect + timedelta(days=rng.uniform(20, 90))
            if rg_at > now:
                return "reconsideration"
            positive = rng.random() < 0.7
        outcome = "positive" if positive else "negative"
        _, effect = self._decision(
            batch, ids, pk, "reasonable_grounds", outcome, rg_at, replaces=replaces
        )
        return positive, effect

    def _conclusive_grounds(
        self, batch: Batch, ids: Iterator[int], pk: int, rg_effect: datetime
    ) -> tuple[str, datetime | None]:
        """The decision after a positive reasonable grounds one, if its day has come: the
        case's status and closing."""
        rng, now = self.rng, self.s.now
        minimum = 45 if rg_effect.year < 2023 else 30
        cg_at = rg_effect + timedelta(days=max(minimum, rng.lognormvariate(math.log(420), 0.55)))
        if cg_at > now:
            return "recovery", None
        if rng.random() < 0.004:
            self._decision(batch, ids, pk, "disqualification", "disqualified", cg_at)
            return "disqualified", None
        positive = rng.random() < 0.66
        outcome = "positive" if positive else "negative"
        _, effect = self._decision(batch, ids, pk, "conclusive_grounds", outcome, cg_at)
        if rng.random() < 0.5:
            closed = effect + timedelta(days=rng.uniform(45, 120))
            if closed <= now:
                return "closed", closed
        return ("positive_cg" if positive else "negative_cg"), None

    def support(self, batch: Batch, case: int, from_: datetime, child: bool) -> int | None:
        """A request for a bed from the day of the decision: placed, declined or unmet."""
        rng, s = self.rng, self.s
        request = next(self.request_ids)
        needed = from_.astimezone(LONDON).date()
        region = pick(rng, s.regions, s.region_weights)
        draw = rng.random()
        outcome = "placed" if draw < 0.8 else "unmet"
        batch.requests.append(
            (
                request, case, ["bed_tonight"] if rng.random() < 0.3 else [],
                pick(rng, ("emergency", "urgent", "routine"), (1, 3, 10)), needed, outcome,
                from_, s.coordinator, ["mixed"], ["en"], [], [],
                from_ + timedelta(days=30) if outcome == "unmet" else None,
            )
        )  # fmt: skip
        waited = 0 if rng.random() < 0.6 else int(rng.uniform(1, 4))
        for day in range(waited if outcome == "placed" else int(rng.uniform(1, 4))):
            reason = pick(rng, *UNMET_REASONS)
            batch.unmet.append(
                (
                    request, needed + timedelta(days=day), reason,
                    "No suitable bed (synthetic).", region, s.areas[0],
                )
            )  # fmt: skip
        if outcome != "placed":
            return None
        beds = s.beds[region]
        if rng.random() < 0.05:  # declined by the provider first
            bed = beds[int(rng.random() * len(beds))]
            pk = next(self.placement_ids)
            batch.placements.append(
                (
                    pk, request, bed, "declined", "Synthetic.", from_, s.coordinator, from_,
                    from_ + timedelta(hours=6), s.coordinator, "needs_not_met", None, None, "",
                )
            )  # fmt: skip
        arrived = needed + timedelta(days=waited)
        ended: date | None = arrived + timedelta(days=int(rng.lognormvariate(math.log(150), 0.7)))
        if ended is not None and ended >= s.today:
            free = self.free_beds[region]
            if free:  # still there: a bed of their own
                bed, ended = free.pop(), None
            else:
                bed, ended = beds[0], s.today - timedelta(days=1)
        else:
            bed = beds[int(rng.random() * len(beds))]
        proposed = datetime.combine(arrived, datetime.min.time(), tzinfo=UTC)
        pk = next(self.placement_ids)
        batch.placements.append(
            (
                pk, request, bed, "occupied" if ended is None else "ended", "Synthetic.",
                proposed, s.coordinator, proposed, proposed, s.coordinator, "", arrived, ended,
                "" if ended is None else pick(rng, *EXIT_REASONS),
            )
        )  # fmt: skip
        return pk

    def missing(
        self, batch: Batch, case: int, submitted: datetime, child: bool, placement: int | None
    ) -> None:
        rng, s = self.rng, self.s
        if rng.random() >= (0.1 if child else 0.02):
            return
        went = submitted.astimezone(LONDON).date() + timedelta(days=int(rng.uniform(1, 400)))
        if went >= s.today:
            return
        back = went + timedelta(days=int(rng.uniform(0, 10))) if rng.random() < 0.85 else None
        if back is not None and back >= s.today:
            back = None
        reported = datetime.combine(went, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
        batch.missing.append(
            (
                case, placement, went, "", reported, s.coordinator, back,
                reported + timedelta(days=(back - went).days) if back else None,
                s.coordinator if back else None,
            )
        )  # fmt: skip

    def report(self, batch: Batch, at: datetime) -> None:
        rng, s = self.rng, self.s
        self.reports += 1
        organisation, user = s.reporters[int(rng.random() * len(s.reporters))]
        nationality = pick(rng, *DTN_NATIONALITIES)
        batch.reports.append(
            (
                f"{BENCH_MARK}{self.reports:09d}", organisation, user, at, "england_and_wales",
                s.areas[int(rng.random() * len(s.areas))],
                "male" if rng.random() < 0.72 else "female",
                pick(rng, ("18--24", "25--34", "35--49", "50+"), (3, 6, 8, 9)),
                [nationality] if nationality else [], list(pick(rng, *DTN_TYPES)),
                pick(rng, ("uk", "overseas", "both", "unknown"), (60, 75, 90, 100)),
            )
        )  # fmt: skip


def generate_history(cases: int) -> dict[str, int]:
    """The decisions, reports and support of the generated cases, drawn once (not again on a
    kept database)."""
    from django.db import connection, transaction
    from django.db.models import Exists, OuterRef

    from opennrm.accommodation.models import Placement, PlacementRequest, UnmetNeed
    from opennrm.care.models import MissingEpisode
    from opennrm.cases.models import Case
    from opennrm.decisions.models import Decision
    from opennrm.referrals.models import DutyToNotifyReport
    from opennrm.referrals.synthetic_volume import YEARS

    if DutyToNotifyReport.objects.filter(reference__startswith=BENCH_MARK).exists():
        return {}  # drawn by an earlier run whose database was kept (a few cases still wait)
    end_of_generated = datetime(max(YEARS) + 1, 1, 1, tzinfo=UTC)
    with transaction.atomic():
        setting = bench_setting(cases)
        writer = Writer()
        history = History(setting, writer, random.Random(SEED))
        ids = _Counter(writer, Decision)
        todo = (
            # The generated cases only (the demo's own few are newer, and left as they are).
            Case.objects.filter(status="awaiting_rg", submitted_at__lt=end_of_generated)
            .exclude(Exists(Decision.objects.filter(case=OuterRef("pk"))))
            .exclude(Exists(PlacementRequest.objects.filter(case=OuterRef("pk"))))
            .order_by("pk")
            .values_list("pk", "submitted_at", "age_group", "consent_to_support")
        )
        done = 0
        rows = list(todo)
        if not rows:
            return {}
        benchkit.log(f"drawing the history of {len(rows):,} cases")
        for start in range(0, len(rows), CHUNK):
            batch = Batch()
            for row in rows[start : start + CHUNK]:
                history.case(batch, ids, row)
            writer.write(Decision, DECISION_FIELDS, batch.decisions)
            writer.write(DutyToNotifyReport, REPORT_FIELDS, batch.reports)
            writer.write(PlacementRequest, REQUEST_FIELDS, batch.requests)
            writer.write(Placement, PLACEMENT_FIELDS, batch.placements)
            writer.write(UnmetNeed, UNMET_FIELDS, batch.unmet)
            writer.write(MissingEpisode, MISSING_FIELDS, batch.missing)
            update_statuses(connection, batch.statuses)
            done += len(rows[start : start + CHUNK])
            benchkit.log(f"  {done:,}/{len(rows):,} cases")
        writer.finish()
    if connection.vendor == "postgresql":
        benchkit.log("VACUUM ANALYZE (as autovacuum would after a bulk load)")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return writer.written


class _Counter:
    """The next ids of a table, one at a time."""

    def __init__(self, writer: Writer, model: Any) -> None:
        self.writer = writer
        self.model = model

    def __iter__(self) -> _Counter:
        return self

    def __next__(self) -> int:
        return self.writer.ids(self.model, 1)[0]


def update_statuses(connection: Any, statuses: list[tuple[int, str, datetime | None]]) -> None:
    """Each case's status and closing as its decisions left it."""
    changed = [(pk, status, closed) for pk, status, closed in statuses if status != "awaiting_rg"]
    if not changed:
        return
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.executemany(
                "UPDATE cases_case SET status = %s, closed_at = %s WHERE id = %s",
                [(status, closed, pk) for pk, status, closed in changed],
            )
            return
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS bench_status "
            "(id bigint, status varchar(30), closed_at timestamptz) ON COMMIT DROP"
        )
        cursor.execute("TRUNCATE bench_status")
        with cursor.cursor.copy("COPY bench_status (id, status, closed_at) FROM STDIN") as copy:
            for row in changed:
                copy.write_row(row)
        cursor.execute(
            "UPDATE cases_case c SET status = b.status, closed_at = b.closed_at "
            "FROM bench_status b WHERE c.id = b.id"
        )


# --- Timing --------------------------------------------------------------------------------


def timed(run: Callable[[], Any], repeats: int) -> tuple[list[float], list[float], Any]:
    """Seconds of wall and of this process's CPU for each run, and the last result."""
    wall, cpu, result = [], [], None
    for _ in range(repeats):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = run()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return wall, cpu, result


def median(values: Sequence[float], digits: int = 3) -> float:
    return round(statistics.median(values), digits)


LOADERS = (
    "load_referrals",
    "load_reports",
    "load_decisions",
    "load_awaiting",
    "load_stays",
    "load_turned_away",
    "load_missing",
)


def measure_release(period: Any, repeats: int) -> dict[str, Any]:
    """One quarterly release as the release service makes it: every table, suppression with
    the LP check of each round, then the LP audit a release must pass before publishing."""
    from opennrm.statistics import disclosure, tables

    stages: dict[str, list[float]] = {"tables": [], "protect": [], "audit": []}

    def release() -> tuple[list[Any], disclosure.Protected, list[Any]]:
        t0 = time.perf_counter()
        made = tables.release_tables(period)
        t1 = time.perf_counter()
        protected = tables.protect(made)
        t2 = time.perf_counter()
        found = disclosure.problems(
            protected.release,
            protected.published,
            threshold=protected.threshold,
            protection=protected.protection,
        )
        t3 = time.perf_counter()
        for stage, seconds in (("tables", t1 - t0), ("protect", t2 - t1), ("audit", t3 - t2)):
            stages[stage].append(seconds)
        return made, protected, found

    from opennrm.statistics import releases

    benchkit.log(f"timing the release of {period} ({repeats} times)")
    wall, cpu, built = timed(
        lambda: releases.build_snapshot(period, None, "Benchmark release", ""), repeats
    )
    assert not built.problems, built.problems  # noqa: S101 - the release must be publishable
    benchkit.log(f"timing its stages apart ({repeats} times)")
    stage_wall, _, (made, protected, found) = timed(release, repeats)
    assert not found, found[:5]  # noqa: S101
    # The floor: the loaders' SQL, as executed, run bare.
    statements = benchkit.captured_sql(lambda: tables.release_tables(period))
    floor = median([ms / 1000 for ms in benchkit.time_bare_sql(statements, repeats)])
    by_sex = next(t for t in made if t.name == "referrals_by_sex")
    figures: dict[str, Any] = {
        "release_seconds_median": median(wall),
        "release_seconds_max": round(max(wall), 3),
        "release_process_cpu_seconds_median": median(cpu),
        "release_load_average_1m": round(os.getloadavg()[0], 2),
        "release_stages_seconds_median": median(stage_wall),
        "release_tables_seconds_median": median(stages["tables"]),
        "release_protect_seconds_median": median(stages["protect"]),
        "release_audit_seconds_median": median(stages["audit"]),
        "release_floor_loaders_sql_seconds_median": floor,
        "release_to_floor_ratio": benchkit.ratio(median(wall), floor),
        "release_loader_statements": len(statements),
        "release_referrals": sum(v for v in by_sex.table.counts.values() if isinstance(v, int)),
        "release_count_tables": sum(isinstance(t, tables.StatTable) for t in made),
        "release_cells": len(protected.release.values),
        "release_primary_suppressed": len(protected.primary),
        "release_secondary_suppressed": len(protected.secondary),
        "release_rounds": protected.rounds,
    }
    # Each loader alone, once: where the tables' time goes.
    for loader in LOADERS:
        loader_wall, _, rows = timed(lambda loader=loader: getattr(tables, loader)(period), 1)
        figures[f"release_{loader}_seconds"] = round(loader_wall[0], 3)
        figures[f"release_{loader}_rows"] = len(rows)
    return figures


def measure_dp_query(first_year: int, last_year: int, samples: int) -> dict[str, Any]:
    """One differentially private question as an analyst asks it (`services.dp_query_answer`)."""
    from opennrm.accounts.actor import Actor
    from opennrm.accounts.models import User
    from opennrm.statistics import dp, services

    analyst = Actor.of_session(User.objects.get(email="analyst@demo.opennrm.test"))
    query = dp.Query(
        start=date(first_year, 1, 1),
        end=date(last_year, 12, 31),
        dimensions=("quarter", "exploitation_type", "age_group"),
        epsilon=dp.EPSILON_MIN,
    )
    assert not query.problems(), query.problems()  # noqa: S101
    benchkit.log(f"timing the DP question: {query.describe()}")
    for _ in range(3):
        services.dp_query_answer(by=analyst, query=query)
    wall, cpu, answered = timed(lambda: services.dp_query_answer(by=analyst, query=query), samples)
    # The floor: the grouped SQL of the counts, as executed, run bare.
    statements = benchkit.captured_sql(lambda: dp.true_counts(query))
    floor = median([ms / 1000 for ms in benchkit.time_bare_sql(statements, samples)], 4)
    return {
        "dp_query_seconds_median": median(wall, 4),
        "dp_query_seconds_max": round(max(wall), 4),
        "dp_query_process_cpu_seconds_median": median(cpu, 4),
        "dp_query_load_average_1m": round(os.getloadavg()[0], 2),
        "dp_query_cells": len(answered.answer.cells),
        "dp_query_floor_grouped_sql_seconds_median": floor,
        "dp_query_to_floor_ratio": benchkit.ratio(median(wall, 4), floor),
    }


def measure_extract(year: int, repeats: int) -> dict[str, Any]:
    """The extract of a year as its download makes it: built (rows, k-anonymisation, the k
    check), then checked again and written as CSV."""
    from opennrm.statistics import extract
    from opennrm.statistics.ctdc import ctdc_csv

    period = extract.Period.year(year)
    benchkit.log(f"timing the extract of {period.label} ({repeats} times)")

    def download() -> tuple[extract.Extract, str]:
        made = extract.build(period)
        return made, extract.extract_csv(made)

    wall, cpu, (made, text) = timed(download, repeats)
    ctdc_wall, _, _ = timed(lambda: ctdc_csv(made), 1)
    check_wall, _, _ = timed(
        lambda: extract.require_k(made.rows, extract.QUASI_IDENTIFIERS, made.k), 1
    )
    # The floor: the extract's SELECT alone, as executed, run bare (on PostgreSQL it is sent
    # through a server-side cursor: the SELECT without its DECLARE, every row fetched).
    statements = [
        re.sub(r"^\s*DECLARE .*? FOR (?=SELECT)", "", sql, count=1, flags=re.S)
        for sql in benchkit.captured_sql(lambda: extract.referral_rows(period))
    ]
    floor = median([ms / 1000 for ms in benchkit.time_bare_sql(statements, repeats)])
    return {
        "extract_seconds_median": median(wall),
        "extract_seconds_max": round(max(wall), 3),
        "extract_process_cpu_seconds_median": median(cpu),
        "extract_load_average_1m": round(os.getloadavg()[0], 2),
        "extract_k_check_seconds": round(check_wall[0], 3),
        "extract_ctdc_csv_seconds": round(ctdc_wall[0], 3),
        "extract_floor_select_seconds_median": floor,
        "extract_to_floor_ratio": benchkit.ratio(median(wall), floor),
        "extract_referrals": made.total,
        "extract_rows": len(made.rows),
        "extract_suppressed": made.suppressed,
        "extract_csv_bytes": len(text.encode()),
        "extract_levels": ", ".join(f"{column}: {level}" for column, level in made.levels.items()),
    }


def main() -> None:
    args = benchkit.parse_args(__doc__ or NAME)
    # The budget each analyst has in a month, for this run only (see the module docstring).
    os.environ["OPENNRM_DP_BUDGET_EPSILON"] = "100000"
    wanted = CASES[args.scale]
    repeats = REPEATS[args.scale]
    with benchkit.database(NAME, args.scale, keep=args.keep, reuse=args.reuse) as db:
        benchkit.prepare()
        from django.core.management import call_command

        from opennrm.cases.models import Case
        from opennrm.referrals.synthetic_volume import YEARS
        from opennrm.statistics.tables import Period

        stored = Case.objects.count()
        if stored < wanted:
            benchkit.log(f"storing {wanted - stored:,} synthetic cases on {db.vendor} ({db.name})")
            call_command(
                "demo_data", people=wanted - stored, stdout=io.StringIO(), stderr=sys.stderr
            )
        started = time.perf_counter()
        written = generate_history(wanted)
        history_seconds = time.perf_counter() - started
        if written:
            benchkit.log(f"history written in {history_seconds:.0f} s: {written}")
        # The generated referrals' last quarter and year (the demo's own few cases are newer).
        first_year, last_year = min(YEARS), max(YEARS)
        machine = benchkit.Machine()
        figures: dict[str, Any] = {
            "database": db.vendor,
            "cases_stored": Case.objects.count(),
            "history_rows_written": sum(written.values()),
            "history_seconds": round(history_seconds, 1) if written else 0,
            "release_period": f"{last_year}-Q4",
        }
        figures |= measure_release(Period.quarter(last_year, 4), repeats)
        figures |= measure_dp_query(first_year, last_year, DP_SAMPLES[args.scale])
        figures |= measure_extract(last_year, repeats)
        figures |= machine.figures()
        benchkit.log(
            f"release {figures['release_seconds_median']} s (target 60), DP question "
            f"{figures['dp_query_seconds_median']} s (target 1), extract "
            f"{figures['extract_seconds_median']} s (target 120); load average "
            f"{figures['load_average_1m_start']} at the start, "
            f"{figures['load_average_1m_end']} at the end, on {figures['cpus']} CPUs"
        )
    units: dict[str, str] = {}
    for key, value in figures.items():
        if key.endswith("_ratio"):
            units[key] = "times the floor"
        elif "seconds" in key:
            units[key] = "s"
        elif "load_average" in key:
            units[key] = "runnable processes"
        elif isinstance(value, str):
            units[key] = "text"
        elif key.endswith("_bytes"):
            units[key] = "bytes"
        else:
            units[key] = "count"
    units |= benchkit.MACHINE_UNITS
    benchkit.emit(NAME, args.scale, figures, units)


if __name__ == "__main__":
    main()
