"""Planner statistics on the quarter a case was submitted in (PostgreSQL only).

The analysts' differentially private counts (`statistics.dp`) group referrals by the quarter
of `submitted_at` in the local time zone, an expression PostgreSQL keeps no statistics on: it
guessed a million groups where there are a few hundred, chose to sort every case (spilling to
disk) rather than hash them, and took 4 s instead of under 1 s over a million cases
(bench/statistics.py). Statistics on exactly that expression give it the real number. The
planner alone reads them: nothing is kept up to date on each write, and ANALYZE (autovacuum's)
refreshes them.
"""

from django.conf import settings
from django.db import migrations

NAME = "case_submitted_quarter_stats"


def _expression() -> str:
    zone = settings.TIME_ZONE.replace("'", "''")
    # Exactly as Django writes TruncQuarter("submitted_at") in that zone.
    return f"(DATE_TRUNC('quarter', submitted_at AT TIME ZONE '{zone}'))"


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE STATISTICS IF NOT EXISTS {NAME} ON {_expression()} FROM cases_case"
    )
    schema_editor.execute("ANALYZE cases_case")


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0012_person_nationality_indexes"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
