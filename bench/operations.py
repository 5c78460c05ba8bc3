"""Enforcement operations (issue 14): the bed forecast for an operation with the deployment's
history stored, 200 people taken in by 10 responders at once, and matching for the
operation's people against 10,000 beds. `--parts forecast,reception,matching` (the default:
all three) runs some of them.

The world (untimed; a kept database keeps it): M synthetic cases (the generator behind
`manage.py demo_data --people`; with the forecast left out, only 2,000), then a share of the
children given a local authority accommodation task and a share of the adults a placement
request, and of those most a placement that began a day or two after the referral and ended
after a stay drawn from a log-normal distribution (median 45 days): written with `bulk_create`
in batches (the encrypted fields sealed to their rows by the fields themselves). And beds up to
10,000 free in all: sites, rooms and beds of 40 synthetic providers across the twelve regions,
shaped as `bench/matching.py` shapes them (safe houses of 8 to 40 beds, dispersed flats of 1 to
4; women-only, men-only and mixed; family and wheelchair rooms; staff languages,
specialisms), 4 % of sites settings for children, every bed free now. VACUUM ANALYZE on
PostgreSQL.

Forecast: first the morning task's count ahead (`operations.services.history_rollup_rebuild`,
timed once: the counts per month, sex, age group and area that the loader reads for past months,
ADR 0053), and the loader once counting every case itself (no count ahead: before the first
morning, and how it was until this count existed). Then, once untimed and `SAMPLES` times timed:

- end to end: `operations.history.load_history` over every stored case (a lookback from
  2019, where the generator's cases start), `free_places` through the capacity rules (the
  10,000 beds), and `forecast.forecast` of 167 people found over a week (issue 14, item 7's
  operation) with 10,000 draws over the week and 8 weeks after; target under 2 s with
  1,000,000 cases;
- the same with the loader's default lookback (from the first of the month three years before
  today's: the generator's cases are of 2019 to 2024, so only the latest of them count), the
  figure a page would show;
- its parts: the loader, the free places, the simulation; the floor: the loader's SQL
  (captured as executed), run bare over a cursor.

Reception: an operation planned through `operations.services` (starting today, so under way),
a second police force, the local authority, the child guardian service and support providers
invited; 10 first responders (5 of the lead force, 3 of the invited force, 2 safeguarding leads
of the local authority: those `selectors.reception_organisation` lets take people in). First,
one responder alone takes 20 people in (an operation of its own): the time of the work with
nobody to wait for. Then the 10, each with a database connection of their own (opened before
the clock starts), released at once, take 20 people each back to back through
`services.reception_take_in`, the service the reception page calls: about one in ten a child or
age disputed (children's services told). They do it twice, in operations of their own: each
responder in a process of their own, as a WSGI server's worker processes serve requests (the
figure the target is judged on), and each in a thread of one process, as `manage.py runserver`
serves them (the threads share one interpreter lock, so a responder holding the database locks
waits for it between statements while the others run Python). Per record: the time of the call
(median and p95; target p95 under 200 ms on PostgreSQL), of it the time waiting for the locks
(the operation's row, which numbers people in turn, and the audit chain's) and in SQL, and the
responder's own CPU time. Afterwards exactly 200 records numbered 1 to 200, each with its draft,
or the run fails. On SQLite one writer at a time: the responders queue for it.

Matching, for the same operation: 60 surge places for it (`operations.surge.surge_add`, six
rooms at invited providers' sites) and 20 for the demo's operation (Harbour Lights), which no
one of ours may have; the operation's 200 people waiting, each a generated adult case with an
open emergency request carrying the operation (`operation_id`, as the referral path sets it)
and constraints drawn as `bench/matching.py` draws them (settings, dependants, wheelchair,
languages, places to keep away from, areas, preferences), 5 % of them then age disputed (the
case becomes presumed child: only a setting for children will do); and 50 ordinary requests
of no operation. Times, once untimed and `RUNS` times: the loader
(`accommodation.selectors.matching_instance`), the engine (`matching.match`: build, solve,
explain), and `services.matching_run` end to end (withdraw the last run's proposals, load,
solve, write the proposals and the unmet need, the audit event); target under 2 s. The floor:
the loader's SQL, run bare. Every proposal is then re-checked from the database (nobody not
recorded as an adult outside a setting for children and no adult in one; a bed kept for an
operation only to its people; no bed twice; `matching.check` on every pair) or the run fails.
At the end the requests are withdrawn and the operation cancelled (its surge places end), so a
kept database is ready for the next run.
"""

from __future__ import annotations

import io
import random
import sys
import time
from datetime import date, timedelta
from typing import Any

import benchkit

NAME = "operations"
CASES = {"small": 20_000, "full": 1_000_000}
SAMPLES = 5
SINCE = date(2019, 1, 1)
# The share of each (sex, age group) of the referrals who needed a place, in the generated
# history (an assumption for the benchmark's data; the forecast learns whatever is stored).
SHARE_NEEDING = {"female": 0.55, "male": 0.3}
SHARE_NEEDING_CHILD = 0.4
SHARE_PLACED = 0.85  # of requests: the others closed unmet
BATCH = 20_000
SEED = 14
PARTS = ("forecast", "reception", "matching")
# Without the forecast, only enough cases for the people waiting for a place.
CASES_WITHOUT_FORECAST = 2_000


def expected_operation() -> dict[Any, float]:
    """167 people found over a week: the demo's fictional operation (issue 14, item 7)."""
    from opennrm.operations.forecast import Group

    return {
        Group("female", "adult"): 96,
        Group("male", "adult"): 52,
        Group("female", "child"): 9,
        Group("male", "presumed_child"): 6,
        Group("unknown", "adult"): 4,
    }


def store_history() -> dict[str, int]:
    """A placement request for a share of the adults' cases, most of them placed and ended,
    and a local authority accommodation task for a share of the children's."""
    import numpy as np

    from opennrm.accommodation.models import (
        Bed,
        Placement,
        PlacementRequest,
        PlacementRequestStatus,
        PlacementStatus,
    )
    from opennrm.cases.models import Case
    from opennrm.safeguarding.models import ChildrenServicesTask, TaskKind

    bed = Bed.objects.order_by("pk").first()
    if bed is None:
        raise SystemExit("the demo data has no bed to place people in")
    rng = np.random.default_rng(14)
    made = {"requests": 0, "placements": 0, "children_services_tasks": 0}
    cases = Case.objects.order_by("pk").values_list(
        "pk", "person__sex", "age_group", "submitted_at", "area"
    )
    batch: list[tuple[int, str, str, Any, str]] = []

    def flush() -> None:
        if not batch:
            return
        share = np.array(
            [
                SHARE_NEEDING.get(sex, 0.3) if group == "adult" else SHARE_NEEDING_CHILD
                for _, sex, group, _, _ in batch
            ]
        )
        needing = rng.random(len(batch)) < share
        # A child's need for a place is the local authority's task (never a placement request).
        tasks = [
            ChildrenServicesTask(
                case_id=pk,
                kind=TaskKind.ACCOMMODATION,
                area=area,
                needs=["bed_tonight"],
                due_on=submitted.date(),
                raised_at=submitted,
            )
            for (pk, _, group, submitted, area), keep in zip(batch, needing, strict=True)
            if keep and group != "adult"
        ]
        ChildrenServicesTask.objects.bulk_create(tasks, batch_size=5000)
        made["children_services_tasks"] += len(tasks)
        chosen = [
            row for row, keep in zip(batch, needing, strict=True) if keep and row[2] == "adult"
        ]
        placed = rng.random(len(chosen)) < SHARE_PLACED
        delay = rng.integers(0, 3, len(chosen))
        stay = np.maximum(1, np.rint(rng.lognormal(np.log(45), 0.8, len(chosen)))).astype(int)
        requests = [
            PlacementRequest(
                case_id=pk,
                needs=["bed_tonight"],
                urgency="emergency",
                needed_from=submitted.date(),
                status=PlacementRequestStatus.PLACED if ok else PlacementRequestStatus.UNMET,
                accepted_settings=(
                    ["women_only", "mixed"]
                    if sex == "female"
                    else ["men_only", "mixed"]
                    if sex == "male"
                    else ["mixed"]
                ),
                closed_at=submitted,
            )
            for (pk, sex, _, submitted, _), ok in zip(chosen, placed, strict=True)
        ]
        requests = PlacementRequest.objects.bulk_create(requests, batch_size=5000)
        placements = []
        for request, (_, _, _, submitted, _), ok, wait, days in zip(
            requests, chosen, placed, delay, stay, strict=True
        ):
            if not ok:
                continue
            arrived = submitted.date() + timedelta(days=int(wait))
            placements.append(
                Placement(
                    request_id=request.pk,
                    bed_id=bed.pk,
                    status=PlacementStatus.ENDED,
                    proposed_at=submitted,
                    arrived_on=arrived,
                    ended_on=arrived + timedelta(days=int(days)),
                    exit_reason="moved_on",
                )
            )
        Placement.objects.bulk_create(placements, batch_size=5000)
        made["requests"] += len(requests)
        made["placements"] += len(placements)
        batch.clear()

    for row in cases.iterator(chunk_size=BATCH):
        batch.append(row)
        if len(batch) >= BATCH:
            flush()
            benchkit.log(f"  {made['requests']:,} requests, {made['placements']:,} placements")
    flush()
    return made


# --- Reception: 200 people taken in by 10 responders at once (issue 14) ------------------------

RESPONDERS = 10
PEOPLE = {"small": 200, "full": 200}
# Who is found, as in the demo's operation: mostly women, about one in ten a child or a person
# whose age is disputed. (sex, age group, weight)
FOUND = [
    ("female", "adult", 66),
    ("male", "adult", 22),
    ("unknown", "adult", 2),
    ("female", "child", 4),
    ("female", "age_disputed", 3),
    ("male", "child", 2),
    ("male", "age_disputed", 1),
]
FOUND_LANGUAGES = ["ro", "sq", "vi", "zh", "pl", "en"]


def bench_operation(today: date, expected_people: int) -> tuple[Any, list[Any]]:
    """An operation planned through the operations services, starting today, with the 10 first
    responders who take people in on the night: 5 of the lead force (the demo responder and 4
    more), 3 of a second force invited as police, 2 safeguarding leads of the local authority
    invited (the roles and partners `selectors.reception_organisation` accepts). The demo
    provider and a few of the benchmark's providers are invited as support providers (for surge
    places), and the child guardian service, which is told of each child taken in."""
    from opennrm.accounts.models import Membership, Organisation, User
    from opennrm.accounts.roles import Jurisdiction, OrganisationKind, Role
    from opennrm.operations import services

    lead = User.objects.get(email="responder@demo.opennrm.test")
    police = Organisation.objects.get(name="Northmoor Constabulary")
    second, _ = Organisation.objects.get_or_create(
        name="Bench Second Constabulary (synthetic)",
        defaults={
            "kind": OrganisationKind.STATUTORY_FIRST_RESPONDER,
            "jurisdiction": Jurisdiction.ENGLAND_AND_WALES,
            "area": "Eastvale",
        },
    )
    council = Organisation.objects.get(name="Northmoor County Council")

    def member(n: int, organisation: Any, role: Role) -> Any:
        user = User.objects.filter(email=f"bench-responder-{n}@bench.opennrm.test").first()
        if user is None:
            user = User.objects.create_user(
                f"bench-responder-{n}@bench.opennrm.test", None, full_name=f"Bench Responder {n}"
            )
        Membership.objects.get_or_create(user=user, organisation=organisation, role=role)
        return user

    responders = [lead]
    responders += [member(n, police, Role.FIRST_RESPONDER) for n in range(1, 5)]
    responders += [member(n, second, Role.FIRST_RESPONDER) for n in range(5, 8)]
    responders += [member(n, council, Role.SAFEGUARDING_LEAD) for n in range(8, 10)]
    share = expected_people / sum(w for _, _, w in FOUND)
    expected = {
        (sex, age, "sexual" if sex == "female" else "labour"): max(1, round(weight * share))
        for sex, age, weight in FOUND
    }
    operation = services.operation_plan(
        by=lead,
        lead_organisation=police,
        name=f"Bench operation {timezone_now_label()}",
        confidential=True,
        starts_on=today,
        ends_on=today + timedelta(days=6),
        region="north_west",
        expected=expected,
        languages=FOUND_LANGUAGES[:-1],
    )
    invited = [
        (second, "police"),
        (council, "local_authority"),
        (
            Organisation.objects.get(name="Riverside Child Guardian Service"),
            "child_guardian_service",
        ),
        (Organisation.objects.get(name="Lanternhouse Refuge Trust"), "support_provider"),
    ]
    invited += [
        (provider, "support_provider")
        for provider in Organisation.objects.filter(name__startswith=PROVIDER_PREFIX).order_by(
            "name"
        )[:SURGE_PROVIDERS]
    ]
    for organisation, role in invited:
        services.operation_partner_invite(
            by=lead, operation=operation, organisation=organisation, role=role
        )
    return operation, responders


def timezone_now_label() -> str:
    from django.utils import timezone

    return timezone.now().strftime("%Y-%m-%d %H:%M:%S.%f")


# The statements in which a responder waits for the others (see `take_in_concurrently`).
LOCK_STATEMENTS = ("FOR UPDATE", "pg_advisory_xact_lock", "BEGIN IMMEDIATE")
# How the responders run side by side: "processes" as a WSGI server's worker processes serve
# requests (the figure the target is judged on), "threads" as one process's threads do
# (`manage.py runserver`, `make run`): those share one interpreter lock, so a responder holding
# the database locks waits for it between statements while the others run Python.
SIDE_BY_SIDE = ("processes", "threads")


def _take_in_as(
    index: int, user: Any, operation: Any, each: int, today: date, ready: Any
) -> dict[str, Any]:
    """One responder taking `each` people in, back to back, through
    `services.reception_take_in` as the reception page does, once `ready` lets everyone go.
    Their own database connection is open before the clock starts, as a server's pooled
    connection would be: the figure is of taking a person in, not of connecting."""
    from django.db import connection

    from opennrm.operations import services

    rng = random.Random(1400 + index)
    timings: dict[str, list[float]] = {"per_record": [], "lock_wait": [], "sql": [], "cpu": []}
    made: list[int] = []
    spent = {"lock": 0.0, "sql": 0.0}

    def timer(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = (time.perf_counter() - started) * 1000
            spent["sql"] += took
            # The two waits for other responders: the operation's row lock (numbers in turn)
            # and the audit chain's advisory lock (one writer at a time). (SQLite: the one
            # writer's lock, taken by BEGIN IMMEDIATE.)
            if any(lock in sql for lock in LOCK_STATEMENTS):
                spent["lock"] += took

    try:
        connection.ensure_connection()
        ready.wait()
        first = time.perf_counter()
        for n in range(each):
            sex, age, _ = rng.choices(FOUND, weights=[w for _, _, w in FOUND])[0]
            language = rng.choice(FOUND_LANGUAGES)
            needs = ["bed_tonight"] if rng.random() < 0.8 else []
            if rng.random() < 0.2:
                needs.append("medical")
            spent["lock"] = spent["sql"] = 0.0
            started, cpu = time.perf_counter(), time.thread_time()
            with connection.execute_wrapper(timer):
                record = services.reception_take_in(
                    by=user,
                    operation=operation,
                    name_or_description=f"Synthetic person {index + 1}-{n + 1} (fictional)",
                    sex=sex,
                    age_group=age,
                    language=language,
                    urgent_needs=needs,
                    interpreter_needed=language != "en",
                    today=today,
                )
            timings["per_record"].append((time.perf_counter() - started) * 1000)
            timings["cpu"].append((time.thread_time() - cpu) * 1000)
            timings["lock_wait"].append(spent["lock"])
            timings["sql"].append(spent["sql"])
            made.append(record.pk)
        return {"timings": timings, "made": made, "span": (first, time.perf_counter())}
    finally:
        connection.close()


def _responder_process(args: tuple[Any, ...], results: Any) -> None:
    try:
        results.put(_take_in_as(*args))
    except BaseException as error:  # noqa: BLE001 - reported by the parent, loudly
        results.put({"failure": repr(error)})


def take_in_concurrently(
    operation: Any, responders: list[Any], each: int, today: date, side_by_side: str
) -> tuple[dict[str, list[float]], list[int], float]:
    """Each responder in a process (or a thread) of their own with a database connection of
    their own, all released at once, taking `each` people in. Returns every call's milliseconds
    (in all, waiting for the locks, in the SQL statements, the responder's own CPU time), the
    records made and the wall time from the release to the last record."""
    import multiprocessing
    import queue
    import threading

    from django.db import connections

    if side_by_side == "processes":
        # Forked after every connection is closed, so no child shares the parent's socket; a
        # child's Django is set up already and opens its own connection.
        connections.close_all()
        context = multiprocessing.get_context("fork")
        ready: Any = context.Barrier(len(responders))
        results: Any = context.Queue()
        workers: list[Any] = [
            context.Process(
                target=_responder_process,
                args=((i, user, operation, each, today, ready), results),
                name=f"responder-{i + 1}",
            )
            for i, user in enumerate(responders)
        ]
    else:
        ready = threading.Barrier(len(responders))
        results = queue.Queue()
        workers = [
            threading.Thread(
                target=_responder_process,
                args=((i, user, operation, each, today, ready), results),
                name=f"responder-{i + 1}",
            )
            for i, user in enumerate(responders)
        ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
    failures = [outcome["failure"] for outcome in outcomes if "failure" in outcome]
    if failures:
        raise SystemExit(f"{len(failures)} responders failed; the first: {failures[0]}")
    timings: dict[str, list[float]] = {"per_record": [], "lock_wait": [], "sql": [], "cpu": []}
    made: list[int] = []
    for outcome in outcomes:
        for kind, values in outcome["timings"].items():
            timings[kind].extend(values)
        made.extend(outcome["made"])
    # perf_counter is the system's monotonic clock: comparable between processes.
    wall = max(o["span"][1] for o in outcomes) - min(o["span"][0] for o in outcomes)
    return timings, made, wall


def _taken_in(
    operation: Any, responders: list[Any], each: int, today: date, side_by_side: str
) -> dict[str, Any]:
    """The responders taking people in side by side (see `SIDE_BY_SIDE`), checked afterwards:
    exactly one record per person, numbered 1 to n, each with its own draft, or the run fails.
    Figures named as `reception_*` names them, without the prefix."""
    import os

    from opennrm.operations.models import ReceptionRecord

    before = os.times()
    timings, made, wall = take_in_concurrently(operation, responders, each, today, side_by_side)
    after = os.times()
    # The benchmark's own process and, once joined, the responders' processes.
    cpu = sum(after[:4]) - sum(before[:4])
    stored = list(
        ReceptionRecord.objects.filter(operation=operation)
        .order_by("sequence")
        .values_list("sequence", "draft_id")
    )
    sequences = [sequence for sequence, _ in stored]
    drafts = {draft for _, draft in stored if draft is not None}
    whole = len(responders) * each
    if not (
        sequences == list(range(1, whole + 1))
        and len(made) == whole
        and len(set(made)) == whole
        and len(drafts) == whole
    ):
        raise SystemExit(
            f"reception ({side_by_side}) lost or merged people: {len(stored)} records, "
            f"sequences {sequences[:5]}...{sequences[-5:]}, {len(drafts)} drafts, "
            f"{len(made)} returned"
        )
    return {
        "records_stored": len(stored),
        "drafts_stored": len(drafts),
        "sequences_complete": True,
        **{f"per_record_{k}": v for k, v in benchkit.timing_figures(timings["per_record"]).items()},
        **{
            f"per_record_{kind}_{k}": v
            for kind in ("lock_wait", "sql", "cpu")
            for k, v in benchkit.timing_figures(timings[kind]).items()
            if k in ("median_ms", "p95_ms", "max_ms")
        },
        "wall_seconds": round(wall, 3),
        "records_per_second": round(whole / wall, 1),
        "cpu_seconds": round(cpu, 3),
    }


def reception_part(scale: str, today: date, vendor: str) -> tuple[Any, dict[str, Any]]:
    people = PEOPLE[scale]
    each = people // RESPONDERS
    part = benchkit.Machine()
    # The reference: one responder alone taking 20 people in (an operation of its own), so
    # nobody waits for anybody: the time of the work itself.
    benchkit.log("reception: one responder alone taking 20 people in")
    alone_operation, responders = bench_operation(today, people)
    alone = _taken_in(alone_operation, responders[:1], 20, today, "processes")
    withdraw(alone_operation, [])
    # As a single process's threads (`make run`): the interpreter lock is shared.
    benchkit.log(f"  {RESPONDERS} responders in threads of one process, {each} people each")
    threads_operation, responders = bench_operation(today, people)
    threads = _taken_in(threads_operation, responders, each, today, "threads")
    withdraw(threads_operation, [])
    benchkit.log(f"  {RESPONDERS} responders in processes of their own, {each} people each")
    operation, responders = bench_operation(today, people)
    together = _taken_in(operation, responders, each, today, "processes")
    figures: dict[str, Any] = {
        "reception_responders": RESPONDERS,
        "reception_people": RESPONDERS * each,
        "reception_side_by_side": "processes",
        **{f"reception_{k}": v for k, v in together.items()},
        **{
            f"reception_alone_{k}": v
            for k, v in alone.items()
            if k.startswith("per_record_") and k.endswith(("median_ms", "p95_ms"))
        },
        **{
            f"reception_threads_{k}": v
            for k, v in threads.items()
            if k.startswith("per_record_") or k in ("wall_seconds", "records_per_second")
        },
        "reception_target_p95_ms": 200,
    }
    figures["reception_target_met"] = figures["reception_per_record_p95_ms"] < 200
    figures |= {f"reception_{k}": v for k, v in part.figures().items() if k != "cpus"}
    if vendor == "sqlite":
        benchkit.log(
            "  (SQLite lets one writer in at a time: the responders queue for it; the target "
            "is PostgreSQL's)"
        )
    benchkit.log(
        f"  {RESPONDERS * each} records numbered 1..{RESPONDERS * each}; per record median "
        f"{figures['reception_per_record_median_ms']} ms, p95 "
        f"{figures['reception_per_record_p95_ms']} ms (in threads of one process: median "
        f"{threads['per_record_median_ms']} ms, p95 {threads['per_record_p95_ms']} ms)"
    )
    return operation, figures


# --- Matching: the operation's 200 people against 10,000 beds (issue 14) -----------------------

BEDS = 10_000
PROVIDERS = 40
PROVIDER_PREFIX = "Bench Provider "
SITE_PREFIX = "Bench site "
SURGE_PROVIDERS = 4  # of the benchmark's providers, invited to the operation
SURGES = [10] * 6  # the operation's surge places: 6 rooms of 10 (outsourced to invited sites)
OTHER_SURGE = 20  # the demo operation's (Harbour Lights) surge places: never for ours
CHILDREN_SITES = 0.04  # share of sites that are settings for children
OPERATION_PEOPLE = 200
OTHERS_WAITING = 50  # ordinary requests waiting at the same time (no operation)
AGE_DISPUTED_LATER = 0.05  # of the operation's people: an age dispute raised after the request
RUNS = 5
# The pure matching benchmark's specialisms, as the site model names them (synthetic either way).
SPECIALISM = {
    "sexual_exploitation": "sexual_exploitation",
    "labour_exploitation": "labour_exploitation",
    "mental_health": "mental_health",
    "substance_misuse": "substance_use",
    "criminal_exploitation": "young_adults",
    "children": "pregnancy",
}


def store_beds(wanted: int) -> int:
    """Sites, rooms and beds up to `wanted` beds in all (surge places apart; the demo's count), across 40 providers and the twelve
    regions, shaped as the pure matching benchmark's (`bench/matching.py`: safe houses of 8 to
    40 beds, dispersed flats of 1 to 4, women-only, men-only and mixed, family and wheelchair
    rooms, staff languages, specialisms), with a share of sites for children; every bed free
    now. Written with `bulk_create` (untimed); a kept database keeps them."""
    import matching as pure

    from opennrm.accommodation.models import Bed, Region, Room, Site
    from opennrm.accounts.models import Organisation
    from opennrm.accounts.roles import Jurisdiction, OrganisationKind

    have = Bed.objects.filter(operation_id=None).count()  # surge places apart
    if have >= wanted:
        return 0
    providers = []
    for n in range(1, PROVIDERS + 1):
        provider, _ = Organisation.objects.get_or_create(
            name=f"{PROVIDER_PREFIX}{n:02d} (synthetic)",
            defaults={
                "kind": OrganisationKind.SUPPORT_PROVIDER,
                "jurisdiction": Jurisdiction.ENGLAND_AND_WALES,
                "area": "National",
            },
        )
        providers.append(provider)
    region_value = {label: value for value, label in Region.choices}
    rng = random.Random(SEED)
    beds = pure.make_beds(rng, wanted - have)
    sites: dict[int, list[Any]] = {}
    for bed in beds:
        sites.setdefault(bed.site_id, []).append(bed)
    first = Site.objects.filter(name__startswith=SITE_PREFIX).count()
    made_sites = Site.objects.bulk_create(
        Site(
            provider=providers[(site_id - 1) % PROVIDERS],
            name=f"{SITE_PREFIX}{first + site_id:05d}",
            kind="safe_house" if len(group) > 4 else "dispersed",
            region=region_value[group[0].region],
            area=group[0].area,
            setting="mixed" if children else group[0].setting.value,
            ages="children" if children else "adults",
            address=f"{site_id} Benchmark Street (fictional)",
            postcode="ZZ9 9ZZ",
            location=list(group[0].location),
            staff_languages=sorted(group[0].languages),
            specialisms=sorted(SPECIALISM[s] for s in group[0].specialisms),
            near_school=group[0].near_school,
        )
        for site_id, group in sites.items()
        for children in [rng.random() < CHILDREN_SITES]
    )
    rooms: list[Room] = []
    room_beds: list[list[Any]] = []
    for site, group in zip(made_sites, sites.values(), strict=True):
        kinds: dict[tuple[int, bool], list[Any]] = {}
        for bed in group:
            kinds.setdefault((bed.takes_dependants, bed.wheelchair_accessible), []).append(bed)
        for n, ((dependants, wheelchair), members) in enumerate(sorted(kinds.items()), start=1):
            rooms.append(
                Room(
                    site=site,
                    name=f"Room {n}",
                    takes_dependants=dependants,
                    wheelchair_accessible=wheelchair,
                )
            )
            room_beds.append(members)
    rooms = Room.objects.bulk_create(rooms, batch_size=5000)
    Bed.objects.bulk_create(
        (
            Bed(room=room, label=str(n))
            for room, members in zip(rooms, room_beds, strict=True)
            for n in range(1, len(members) + 1)
        ),
        batch_size=5000,
    )
    return len(beds)


def add_surge_places(operation: Any, today: date) -> int:
    """The operation's surge places, added through `operations.surge.surge_add` by the demo
    provider's coordinator at invited providers' sites (outsourced), and the demo operation's
    own surge places at the demo provider's site (once), which the bench operation's people
    must never be given."""
    from opennrm.accommodation.models import Site
    from opennrm.accounts.models import Organisation, User
    from opennrm.operations import surge
    from opennrm.operations.demo import NAME as DEMO_OPERATION
    from opennrm.operations.models import Operation

    coordinator = User.objects.get(email="coordinator@demo.opennrm.test")
    demo_provider = Organisation.objects.get(name="Lanternhouse Refuge Trust")
    sites = list(
        surge.sites_for_surge(operation)
        .filter(name__startswith=SITE_PREFIX, ages="adults")
        .order_by("pk")[: len(SURGES)]
    )
    for site, places in zip(sites, SURGES, strict=True):
        surge.surge_add(
            by=coordinator,
            operation=operation,
            provider=demo_provider,
            site=site,
            places=places,
            starts_on=today,
            ends_on=operation.ends_on,
        )
    other = Operation.objects.filter(name=DEMO_OPERATION).first()
    if other is not None and not other.surges.exists():
        site = Site.objects.get(name="Lantern House A")
        surge.surge_add(
            by=coordinator,
            operation=other,
            provider=demo_provider,
            site=site,
            places=OTHER_SURGE,
            starts_on=today,
            ends_on=other.ends_on,
        )
    return sum(SURGES)


def store_requests(operation: Any, today: date) -> tuple[list[int], list[int]]:
    """The operation's 200 people waiting: generated adult cases (of a sex that fits the
    settings they accept) with no request yet, each given an open emergency request carrying
    the operation, as the referral path writes it (`operation_id`), with constraints drawn as
    the pure matching benchmark draws them (settings, dependants, wheelchair, languages,
    places to keep away from, areas, preferences); a few of them then have their age disputed
    (the case becomes "presumed child": matching must place them only in a setting for
    children). And 50 ordinary requests waiting at the same time, of no operation."""
    import matching as pure
    from django.db.models import Exists, OuterRef

    from opennrm.accommodation.models import PlacementRequest, Region
    from opennrm.cases.models import Case

    region_value = {label: value for value, label in Region.choices}
    rng = random.Random(SEED + operation.pk)
    taken = PlacementRequest.objects.filter(case=OuterRef("pk"))
    free_cases = Case.objects.filter(~Exists(taken), age_group="adult").order_by("pk")
    pools = {
        sex: list(free_cases.filter(person__sex=sex).values_list("pk", flat=True)[:400])
        for sex in ("female", "male", "other", "unknown")
    }
    pools["other"] += pools.pop("unknown")

    def request_for(made: Any, operation_id: int | None) -> PlacementRequest:
        settings = {s.value for s in made.accepted_settings}
        sex = (
            "female" if "women_only" in settings else "male" if "men_only" in settings else "other"
        )
        pool = pools[sex] or pools["female"] or pools["male"]
        if not pool:
            raise SystemExit("not enough generated adult cases without a request")
        return PlacementRequest(
            case_id=pool.pop(),
            needs=["bed_tonight"],
            urgency="emergency" if operation_id else made.urgency.value,
            needed_from=today if operation_id else max(today, made.needed_from),
            accepted_settings=sorted(settings),
            dependants=made.dependants,
            needs_wheelchair=made.needs_wheelchair,
            languages=sorted(made.languages),
            interpreter_needed=made.interpreter_needed,
            required_specialisms=sorted(SPECIALISM[s] for s in made.required_specialisms),
            keep_away=[
                {"label": "", "place": "", "lat": z.location[0], "lon": z.location[1], "km": z.km}
                for z in made.keep_away
            ],
            excluded_areas=sorted(region_value.get(a, a) for a in made.excluded_areas),
            preferred_regions=sorted(region_value[r] for r in made.preferred_regions),
            near_school=made.near_school,
            wanted_specialisms=sorted(SPECIALISM[s] for s in made.wanted_specialisms),
            operation_id=operation_id,
        )

    ours = PlacementRequest.objects.bulk_create(
        request_for(pure.make_request(rng, i), operation.pk) for i in range(OPERATION_PEOPLE)
    )
    others = PlacementRequest.objects.bulk_create(
        request_for(pure.make_request(rng, i), None) for i in range(OTHERS_WAITING)
    )
    disputed = rng.sample(ours, round(AGE_DISPUTED_LATER * len(ours)))
    Case.objects.filter(pk__in=[r.case_id for r in disputed]).update(age_group="presumed_child")
    return [r.pk for r in ours], [r.pk for r in others]


def check_proposals(
    operation: Any, ours: list[int], everyone_ids: list[int], today: date
) -> dict[str, Any]:
    """Every proposal of the last run against the hard constraints, from the database: nobody
    not recorded as an adult outside a setting for children and no adult in one; a bed kept for
    an operation only to that operation's people; no bed twice; and each pair re-checked with
    `matching.check` (every hard and safety constraint). Fails loudly on any breach."""
    from opennrm.accommodation import matching, selectors
    from opennrm.accommodation.models import Placement, PlacementRequest, PlacementStatus

    proposals = list(
        Placement.objects.filter(status=PlacementStatus.PROPOSED).values_list(
            "request_id",
            "request__operation_id",
            "request__case__age_group",
            "bed_id",
            "bed__operation_id",
            "bed__room__site__ages",
        )
    )
    # The proposed requests have a live placement now, so the loader leaves them out: each is
    # read as the loader reads it.
    by_request = {
        r.pk: selectors.matching_request(r, today)
        for r in PlacementRequest.objects.filter(pk__in=[p[0] for p in proposals]).select_related(
            "case__safety_profile"
        )
    }
    by_bed = {b.id: b for b in selectors.matching_instance(today)[1]}
    mine = set(ours)
    broken: list[str] = []
    for request_id, request_op, age_group, bed_id, bed_op, ages in proposals:
        if (age_group != "adult") != (ages == "children"):
            broken.append(f"request {request_id} ({age_group}) proposed a bed for {ages}")
        if bed_op is not None and bed_op != request_op:
            broken.append(f"request {request_id} proposed bed {bed_id} kept for operation {bed_op}")
        reasons = matching.check(by_request[request_id], by_bed[bed_id], today=today)
        if reasons:
            broken.append(f"request {request_id} on bed {bed_id}: {reasons}")
    # The operation rule at work: pairs of a person and a bed kept for an operation they were
    # not found in that only that rule refuses (without it, the bed would have been theirs to
    # take).
    everyone = [
        selectors.matching_request(r, today)
        for r in PlacementRequest.objects.filter(pk__in=everyone_ids).select_related(
            "case__safety_profile"
        )
    ]
    kept = [b for b in by_bed.values() if b.operation_id is not None]
    only_kept = sum(
        1
        for r in everyone
        for b in kept
        if [code for code, _ in matching.failures(r, b, today=today)]
        == [matching.Constraint.OPERATION.value]
    )
    if len({p[3] for p in proposals}) != len(proposals):
        broken.append("a bed is proposed twice")
    if broken:
        raise SystemExit(f"{len(broken)} proposals break a hard constraint: {broken[:5]}")
    return {
        "matching_proposals_checked": len(proposals),
        "matching_operation_people_placed": sum(1 for p in proposals if p[0] in mine),
        "matching_surge_places_given": sum(1 for p in proposals if p[4] is not None),
        "matching_children_placed_in_childrens_settings": sum(
            1 for p in proposals if p[2] != "adult"
        ),
        "matching_constraints_broken": 0,
        "matching_pairs_refused_only_as_kept_for_an_operation": only_kept,
    }


def matching_part(operation: Any, today: date) -> dict[str, Any]:
    """Times matching for the operation: its parts once the world is stored (the loader,
    `selectors.matching_instance`; the engine, `matching.match`), then `services.matching_run`
    end to end (withdrawing the last run's proposals, loading, solving, writing the proposals
    and the unmet need, the audit event), as the coordinator's button runs it."""
    from django.contrib.auth import get_user_model

    from opennrm.accommodation import matching, selectors, services

    coordinator = get_user_model().objects.get(email="coordinator@demo.opennrm.test")
    benchkit.log("matching: the operation's surge places and its people's requests")
    surge = add_surge_places(operation, today)
    ours, others = store_requests(operation, today)
    part = benchkit.Machine()
    benchkit.log("  its parts, once untimed, then timed")
    requests, beds = selectors.matching_instance(today)
    result = matching.match(requests, beds, today)
    loading, loading_cpu, solving, solving_cpu = [], [], [], []
    stages: dict[str, list[float]] = {"build": [], "solve": [], "explain": []}
    for _ in range(RUNS):
        started, cpu = time.perf_counter(), time.process_time()
        requests, beds = selectors.matching_instance(today)
        loading.append((time.perf_counter() - started) * 1000)
        loading_cpu.append((time.process_time() - cpu) * 1000)
        started, cpu = time.perf_counter(), time.process_time()
        result = matching.match(requests, beds, today)
        solving.append((time.perf_counter() - started) * 1000)
        solving_cpu.append((time.process_time() - cpu) * 1000)
        for stage, seconds in result.timings:
            stages[stage].append(seconds * 1000)
    statements = benchkit.captured_sql(lambda: selectors.matching_instance(today))
    bare = benchkit.timing_figures(benchkit.time_bare_sql(statements, RUNS))
    benchkit.log("  services.matching_run end to end, once untimed, then timed")
    services.matching_run(by=coordinator, today=today)
    whole, whole_cpu = [], []
    outcome: Any = None
    for _ in range(RUNS):
        started, cpu = time.perf_counter(), time.process_time()
        outcome = services.matching_run(by=coordinator, today=today)
        whole.append((time.perf_counter() - started) * 1000)
        whole_cpu.append((time.process_time() - cpu) * 1000)
    figures: dict[str, Any] = {
        "matching_operation_requests": len(ours),
        "matching_other_requests": len(others),
        "matching_requests_matched": len(requests),
        "matching_beds_free": len(beds),
        "matching_surge_places": surge,
        "matching_surge_places_free": sum(1 for b in beds if b.operation_id == operation.pk),
        "matching_beds_kept_for_other_operations": sum(
            1 for b in beds if b.operation_id not in (None, operation.pk)
        ),
        "matching_childrens_beds_free": sum(1 for b in beds if b.for_children),
        "matching_placed": outcome.proposed,
        "matching_unplaced": outcome.unplaced,
        **{f"matching_run_{k}": v for k, v in benchkit.timing_figures(whole).items()},
        "matching_run_cpu_median_ms": benchkit.timing_figures(whole_cpu)["median_ms"],
        **{f"matching_loader_{k}": v for k, v in benchkit.timing_figures(loading).items()},
        "matching_loader_cpu_median_ms": benchkit.timing_figures(loading_cpu)["median_ms"],
        "matching_loader_statements": len(statements),
        "matching_loader_floor_bare_sql_median_ms": bare["median_ms"],
        **{f"matching_engine_{k}": v for k, v in benchkit.timing_figures(solving).items()},
        "matching_engine_cpu_median_ms": benchkit.timing_figures(solving_cpu)["median_ms"],
        **{
            f"matching_engine_{stage}_median_ms": benchkit.timing_figures(values)["median_ms"]
            for stage, values in stages.items()
        },
        "matching_arcs": result.arcs,
        "matching_target_ms": 2000,
    }
    figures["matching_loader_to_floor_ratio"] = benchkit.ratio(
        figures["matching_loader_median_ms"], bare["median_ms"]
    )
    figures["matching_rest_of_run_median_ms"] = round(
        figures["matching_run_median_ms"]
        - figures["matching_loader_median_ms"]
        - figures["matching_engine_median_ms"],
        3,
    )
    figures["matching_target_met"] = figures["matching_run_median_ms"] < 2000
    figures |= {f"matching_{k}": v for k, v in part.figures().items() if k != "cpus"}
    benchkit.log("  re-checking every proposal against the hard constraints")
    figures |= check_proposals(operation, ours, ours + others, today)
    benchkit.log(
        f"  {len(requests)} requests, {len(beds):,} free beds: {outcome.proposed} proposed; "
        f"run median {figures['matching_run_median_ms']} ms (loader "
        f"{figures['matching_loader_median_ms']} ms, engine "
        f"{figures['matching_engine_median_ms']} ms)"
    )
    withdraw(operation, ours + others)
    return figures


def withdraw(operation: Any, request_ids: list[int]) -> None:
    """Leave a kept database as it was for the next run: the benchmark's requests withdrawn,
    their proposals cancelled, the operation cancelled (which ends its surge places)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from opennrm.accommodation.models import (
        Placement,
        PlacementRequest,
        PlacementRequestStatus,
        PlacementStatus,
    )
    from opennrm.operations import services

    Placement.objects.filter(request_id__in=request_ids, status=PlacementStatus.PROPOSED).update(
        status=PlacementStatus.CANCELLED, responded_at=timezone.now()
    )
    PlacementRequest.objects.filter(pk__in=request_ids).update(
        status=PlacementRequestStatus.WITHDRAWN, closed_at=timezone.now()
    )
    lead = get_user_model().objects.get(email="responder@demo.opennrm.test")
    services.operation_cancel(by=lead, operation=operation)


def forecast_part(today: date) -> dict[str, Any]:
    from opennrm.operations import forecast, history, services
    from opennrm.operations.models import HistoryRollup

    expected = expected_operation()
    part = benchkit.Machine()
    figures: dict[str, Any] = {
        "people_expected": int(sum(expected.values())),
        "simulations": forecast.DEFAULT_SIMULATIONS,
    }

    def end_to_end(since: date | None = SINCE) -> tuple[Any, dict[str, int]]:
        past = history.load_history(since=since, today=today)
        free = history.free_places(today=today)
        made = forecast.forecast(expected, past, first_day=today, operation_days=7)
        return made, free

    benchkit.log("the loader counting every case itself (no morning count yet), 3 times")
    HistoryRollup.objects.all().delete()
    every_case = []
    for _ in range(3):
        started = time.perf_counter()
        history.load_history(since=SINCE, today=today)
        every_case.append((time.perf_counter() - started) * 1000)
    figures["loader_counting_every_case_median_ms"] = benchkit.timing_figures(every_case)[
        "median_ms"
    ]
    benchkit.log("the morning's count ahead (services.history_rollup_rebuild)")
    started, cpu = time.perf_counter(), time.process_time()
    figures["history_rows_counted"] = services.history_rollup_rebuild(today)
    figures["history_rollup_rebuild_ms"] = round((time.perf_counter() - started) * 1000, 1)
    figures["history_rollup_rebuild_cpu_ms"] = round((time.process_time() - cpu) * 1000, 1)
    benchkit.log("the forecast end to end, once untimed, then timed")
    made, free = end_to_end()
    whole, whole_cpu = [], []
    for _ in range(SAMPLES):
        started, cpu = time.perf_counter(), time.process_time()
        made, free = end_to_end()
        whole.append((time.perf_counter() - started) * 1000)
        whole_cpu.append((time.process_time() - cpu) * 1000)
    figures |= {f"forecast_{k}": v for k, v in benchkit.timing_figures(whole).items()}
    figures["forecast_cpu_median_ms"] = benchkit.timing_figures(whole_cpu)["median_ms"]
    benchkit.log("the same with the default lookback (three years), once untimed, then timed")
    end_to_end(None)
    recent, recent_cpu = [], []
    for _ in range(SAMPLES):
        started, cpu = time.perf_counter(), time.process_time()
        end_to_end(None)
        recent.append((time.perf_counter() - started) * 1000)
        recent_cpu.append((time.process_time() - cpu) * 1000)
    figures |= {
        f"forecast_default_lookback_{k}": v for k, v in benchkit.timing_figures(recent).items()
    }
    figures["forecast_default_lookback_cpu_median_ms"] = benchkit.timing_figures(recent_cpu)[
        "median_ms"
    ]
    figures["cases_in_default_lookback"] = sum(
        h.referred for h in history.load_history(today=today).values()
    )
    women = forecast.gap(made, forecast.WOMEN, free=free[forecast.WOMEN], surge=10)
    benchkit.log(f"  {women.sentence}")
    figures["women_needed_at_peak_upper"] = women.needed
    figures["women_free"] = women.free

    loading, freeing, simulating = [], [], []
    past: Any = None
    for _ in range(SAMPLES):
        started = time.perf_counter()
        past = history.load_history(since=SINCE, today=today)
        loading.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        history.free_places(today=today)
        freeing.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        forecast.forecast(expected, past, first_day=today, operation_days=7)
        simulating.append((time.perf_counter() - started) * 1000)
    figures["cases_in_history"] = sum(h.referred for h in past.values())
    figures["stays_in_history"] = sum(h.stay_count for h in past.values())
    figures |= {f"loader_{k}": v for k, v in benchkit.timing_figures(loading).items()}
    figures |= {f"free_places_{k}": v for k, v in benchkit.timing_figures(freeing).items()}
    figures |= {f"simulation_{k}": v for k, v in benchkit.timing_figures(simulating).items()}
    statements = benchkit.captured_sql(lambda: history.load_history(since=SINCE, today=today))
    bare = benchkit.timing_figures(benchkit.time_bare_sql(statements, SAMPLES))
    figures["loader_floor_bare_sql_median_ms"] = bare["median_ms"]
    figures["loader_to_floor_ratio"] = benchkit.ratio(
        figures["loader_median_ms"], bare["median_ms"]
    )
    figures["forecast_target_ms"] = 2000
    figures["forecast_target_met"] = figures["forecast_median_ms"] < 2000
    figures |= {f"forecast_{k}": v for k, v in part.figures().items() if k != "cpus"}
    return figures


def units_of(figures: dict[str, Any]) -> dict[str, str]:
    units = {
        key: "ms" if key.endswith("_ms") else "s" if key.endswith("_seconds") else "count"
        for key in figures
    }
    units["database"] = "vendor"
    units["parts"] = "names"
    units |= {key: "true or false" for key, value in figures.items() if isinstance(value, bool)}
    units |= {key: "times the floor" for key in figures if key.endswith("_ratio")}
    units |= {key: "per second" for key in figures if key.endswith("_per_second")}
    return units | benchkit.machine_units(figures, ("", "reception_", "matching_"))


def store_world(parts: list[str], wanted: int, db: benchkit.BenchDatabase) -> None:
    """The cases, the history the forecast learns from and the beds, as far as the parts need
    them (untimed; a kept database keeps them)."""
    from django.core.management import call_command
    from django.db import connection

    from opennrm.accommodation.models import PlacementRequest
    from opennrm.cases.models import Case

    stored = Case.objects.count()
    if stored < wanted:
        benchkit.log(f"storing {wanted - stored:,} synthetic cases on {db.vendor} ({db.name})")
        call_command("demo_data", people=wanted - stored, stdout=io.StringIO(), stderr=sys.stderr)
    if "forecast" in parts and PlacementRequest.objects.count() < wanted // 10:
        benchkit.log("giving a share of the cases a placement request or a local authority task")
        started = time.perf_counter()
        store_history()
        benchkit.log(f"  in {time.perf_counter() - started:.1f} s")
    if "matching" in parts or "forecast" in parts:
        # The forecast counts the free places too: it runs in the same world.
        started = time.perf_counter()
        made = store_beds(BEDS - sum(SURGES) - OTHER_SURGE)
        if made:
            benchkit.log(f"stored {made:,} beds in {time.perf_counter() - started:.1f} s")
    if db.vendor == "postgresql":
        benchkit.log("VACUUM ANALYZE (as autovacuum would after a bulk load)")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def main() -> None:
    args = benchkit.parse_args(__doc__ or NAME, parts=PARTS)
    parts = args.parts
    wanted = CASES[args.scale] if "forecast" in parts else CASES_WITHOUT_FORECAST
    with benchkit.database(NAME, args.scale, keep=args.keep, reuse=args.reuse) as db:
        benchkit.prepare()
        from django.utils import timezone

        from opennrm.accommodation.models import Bed, Placement, PlacementRequest
        from opennrm.cases.models import Case
        from opennrm.safeguarding.models import ChildrenServicesTask

        store_world(parts, wanted, db)
        today = timezone.localdate()
        machine = benchkit.Machine()
        figures: dict[str, Any] = {
            "database": db.vendor,
            "parts": ",".join(parts),
            "cases_stored": Case.objects.count(),
            "placement_requests_stored": PlacementRequest.objects.count(),
            "placements_stored": Placement.objects.count(),
            "children_services_tasks_stored": ChildrenServicesTask.objects.count(),
            "beds_stored": Bed.objects.count(),
        }
        if "forecast" in parts:
            figures |= forecast_part(today)
        if "reception" in parts or "matching" in parts:
            operation, reception = reception_part(args.scale, today, db.vendor)
            if "reception" in parts:
                figures |= reception
            if "matching" in parts:
                figures |= matching_part(operation, today)
            else:
                withdraw(operation, [])
        figures |= machine.figures()
    benchkit.emit(NAME, args.scale, figures, units_of(figures))


if __name__ == "__main__":
    main()
