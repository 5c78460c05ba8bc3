"""Bulk generation of synthetic people with cases (`manage.py demo_data --people N`).

Migrates a fresh benchmark database, loads the demo accounts, then times the demo-data command
generating N people, each with an identity, a case, its narrative and its timeline entries.
Every count and share reported is read back from the database afterwards.

Target (issue 3): 1,000,000 people in under 10 minutes on PostgreSQL (`--scale full`).
"""

from __future__ import annotations

import io
import sys
import time

import benchkit

NAME = "generate"
PEOPLE = {"small": 20_000, "full": 1_000_000}


def measured_counts() -> dict[str, int]:
    from opennrm.cases.models import Case, CaseEvent, CaseNarrative, Person, PersonIdentity

    return {
        "persons": Person.objects.count(),
        "identities": PersonIdentity.objects.count(),
        "cases": Case.objects.count(),
        "narratives": CaseNarrative.objects.count(),
        "events": CaseEvent.objects.count(),
    }


def measured_shares(after_case_id: int) -> dict[str, float]:
    """The mixes of the generated cases, as stored."""
    from django.db.models import Count, Q

    from opennrm.cases.models import Case

    counts = Case.objects.filter(pk__gt=after_case_id).aggregate(
        total=Count("pk"),
        female=Count("pk", filter=Q(person__sex="female")),
        children=Count("pk", filter=Q(age_group__in=["child", "presumed_child"])),
        overseas=Count("pk", filter=Q(exploitation_location__in=["overseas", "both"])),
        uk_nationals=Count("pk", filter=Q(person__nationalities__0="GB")),
        albanian=Count("pk", filter=Q(person__nationalities__0="AL")),
        distinct_references=Count("reference", distinct=True),
    )
    total = counts.pop("total") or 1
    distinct = counts.pop("distinct_references")
    shares = {f"share_{key}": round(value / total, 4) for key, value in counts.items()}
    return {**shares, "distinct_references": distinct}


def main() -> None:
    args = benchkit.parse_args(__doc__ or NAME)
    people = PEOPLE[args.scale]
    with benchkit.database(NAME, args.scale, keep=args.keep, reuse=args.reuse) as db:
        benchkit.prepare()
        from django.core.management import call_command

        from opennrm.cases.models import Case

        before = measured_counts()
        last_case = Case.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        benchkit.log(f"generating {people:,} people on {db.vendor} ({db.name})")
        machine = benchkit.Machine()
        started, cpu_started = time.perf_counter(), time.process_time()
        call_command("demo_data", people=people, stdout=io.StringIO(), stderr=sys.stderr)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        after = measured_counts()
        added = {key: after[key] - before[key] for key in after}
        rows = sum(added.values())
        figures: dict[str, object] = {
            "database": db.vendor,
            "people_requested": people,
            "seconds": round(seconds, 2),
            # This process's CPU time while generating (building rows, encrypting, COPY's
            # client side); the database server's own time is the rest of the wall time.
            "process_cpu_seconds": round(cpu_seconds, 2),
            "rows_per_second": round(rows / seconds),
            "people_per_second": round(added["persons"] / seconds),
            "rows_inserted": rows,
            **{f"{key}_inserted": value for key, value in added.items()},
            **measured_shares(last_case),
            **machine.figures(),
        }
    units = {
        "database": "vendor",
        "people_requested": "people",
        "seconds": "s",
        "process_cpu_seconds": "s",
        "rows_per_second": "rows/s",
        "people_per_second": "people/s",
        "rows_inserted": "rows",
        **{f"{key}_inserted": "rows" for key in added},
        "distinct_references": "references",
        **{key: "fraction" for key in figures if key.startswith("share_")},
        **benchkit.MACHINE_UNITS,
    }
    benchkit.emit(NAME, args.scale, figures, units)


if __name__ == "__main__":
    main()
