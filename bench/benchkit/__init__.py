"""What the benchmarks share: a throwaway database, the environment, and the one JSON line.

A benchmark never touches the database DATABASE_URL names. On PostgreSQL it creates its own
database next to it (`<name>_bench_<benchmark>_<scale>`, dropped afterwards unless --keep); otherwise it
uses a temporary SQLite file. It sets the environment a demo needs (OPENNRM_DEMO, a throwaway
secret, in-memory e-mail) before Django is imported.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import secrets
import shutil
import statistics
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
SCALES = ("small", "full")


def parse_args(
    description: str,
    argv: Sequence[str] | None = None,
    *,
    parts: Sequence[str] = (),
) -> argparse.Namespace:
    """The options every benchmark takes; with `parts`, also `--parts` (a comma-separated
    choice among them, all by default), given back as a list in the order typed."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--scale", choices=SCALES, default="small")
    parser.add_argument(
        "--keep", action="store_true", help="keep the benchmark database afterwards"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="start from the benchmark database an earlier --keep run left (not a fresh one)",
    )
    if parts:
        parser.add_argument(
            "--parts",
            default=",".join(parts),
            help="which parts to run, comma-separated (default: all): " + ", ".join(parts),
        )
    args = parser.parse_args(argv)
    if parts:
        chosen = [part.strip() for part in args.parts.split(",") if part.strip()]
        unknown = sorted(set(chosen) - set(parts))
        if unknown or not chosen:
            parser.error(
                f"--parts takes some of {', '.join(parts)}"
                + (f" (not {', '.join(unknown)})" if unknown else "")
            )
        args.parts = chosen
    return args


def log(message: str) -> None:
    """Progress goes to stderr: stdout carries only the result line."""
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class BenchDatabase:
    vendor: str  # "postgresql" or "sqlite"
    url: str
    name: str


_PG_SCHEMES = {"postgres", "postgresql", "pgsql", "postgis"}


def _is_postgres(url: str) -> bool:
    return urlsplit(url).scheme.split("+")[0] in _PG_SCHEMES


@contextmanager
def database(
    bench: str, scale: str, *, keep: bool = False, reuse: bool = False
) -> Iterator[BenchDatabase]:
    """A database of the benchmark's own (one per scale), with the environment pointing at it."""
    bench = f"{bench}_{scale}"
    workdir = Path(tempfile.mkdtemp(prefix=f"opennrm-bench-{bench}-"))
    source = os.environ.get("DATABASE_URL", "").strip()
    try:
        if source and _is_postgres(source):
            with _postgres(source, bench, keep=keep, reuse=reuse) as db:
                _environment(db, workdir)
                yield db
        else:
            kept_dir = ROOT / "var" / "bench"
            if keep or reuse:
                kept_dir.mkdir(parents=True, exist_ok=True)
            path = (kept_dir if keep or reuse else workdir) / f"{bench}.sqlite3"
            if not reuse and path.exists():
                path.unlink()
            db = BenchDatabase("sqlite", f"sqlite:///{path}", str(path))
            _environment(db, workdir)
            yield db
            _close_connections()
            if not keep:
                path.unlink(missing_ok=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def _postgres(source: str, bench: str, *, keep: bool, reuse: bool) -> Iterator[BenchDatabase]:
    import psycopg  # the project's PostgreSQL driver

    parts = urlsplit(source)
    base = parts.path.lstrip("/") or "opennrm"
    name = f"{base}_bench_{bench}"
    if not re.fullmatch(r"[a-z0-9_]+", name) or name == base:
        raise SystemExit(f"refusing to use {name!r} as a benchmark database")
    bench_url = urlunsplit(parts._replace(path=f"/{name}"))
    admin_url = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and not reuse:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if not exists or not reuse:
            admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield BenchDatabase("postgresql", bench_url, name)
    finally:
        _close_connections()
        if not keep:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _environment(db: BenchDatabase, workdir: Path) -> None:
    os.environ["DATABASE_URL"] = db.url
    os.environ["DJANGO_SETTINGS_MODULE"] = "opennrm.settings"
    os.environ["OPENNRM_DEMO"] = "true"
    os.environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)  # throwaway, this run only
    os.environ["OPENNRM_HTTPS"] = "false"
    os.environ["OPENNRM_VAR_DIR"] = str(workdir)
    os.environ["OPENNRM_EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ.setdefault("OPENNRM_LOG_LEVEL", "WARNING")
    import django

    django.setup()


def _close_connections() -> None:
    if "django.db" in sys.modules:
        from django.db import connections

        connections.close_all()


def prepare(*, demo: bool = True) -> None:
    """Migrate the benchmark database and load the demo organisations and accounts."""
    import io

    from django.core.management import call_command

    log("migrating the benchmark database")
    call_command("migrate", verbosity=0, interactive=False)
    if demo:
        call_command("demo_data", stdout=io.StringIO())


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def timing_figures(milliseconds: Sequence[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(milliseconds), 3),
        "p95_ms": round(percentile(milliseconds, 0.95), 3),
        "max_ms": round(max(milliseconds), 3),
        "mean_ms": round(statistics.fmean(milliseconds), 3),
        "min_ms": round(min(milliseconds), 3),
    }


def emit(bench: str, scale: str, figures: dict[str, Any], units: dict[str, str]) -> None:
    """The benchmark's result: one JSON line on stdout, and nothing else there."""
    line = {"bench": bench, "scale": scale, "figures": figures, "units": units}
    print(json.dumps(line), flush=True)


class Machine:
    """What else the machine was doing, and this process's own CPU time, over a benchmark run.

    A wall-clock figure means little without these beside it: the load average (1, 5 and 15
    minutes) at the start and at the end says whether other work shared the two cores, and CPU
    time against wall time says how much of the run this process spent computing rather than
    waiting (for the database, or for a core)."""

    def __init__(self) -> None:
        import time

        self._wall = time.perf_counter()
        self._cpu = time.process_time()
        self._load = os.getloadavg()

    def figures(self) -> dict[str, float]:
        import time

        end = os.getloadavg()
        return {
            "run_wall_seconds": round(time.perf_counter() - self._wall, 2),
            "run_process_cpu_seconds": round(time.process_time() - self._cpu, 2),
            "load_average_1m_start": round(self._load[0], 2),
            "load_average_5m_start": round(self._load[1], 2),
            "load_average_1m_end": round(end[0], 2),
            "load_average_5m_end": round(end[1], 2),
            "load_average_15m_end": round(end[2], 2),
            "cpus": os.cpu_count() or 0,
        }


MACHINE_UNITS = {
    "run_wall_seconds": "s",
    "run_process_cpu_seconds": "s",
    "load_average_1m_start": "runnable processes",
    "load_average_5m_start": "runnable processes",
    "load_average_1m_end": "runnable processes",
    "load_average_5m_end": "runnable processes",
    "load_average_15m_end": "runnable processes",
    "cpus": "count",
}


def machine_units(figures: dict[str, Any], prefixes: Sequence[str]) -> dict[str, str]:
    """The units of the machine's figures (`Machine.figures`) of each part, as `prefixes` name
    them ("" for the whole run's), where `figures` has them."""
    return {
        key: unit
        for prefix in prefixes
        for name, unit in MACHINE_UNITS.items()
        if (key := prefix + name) in figures
    }


def ratio(measured: float, floor: float) -> float:
    """How many times the floor a figure is: the same on a faster or slower machine, so it is
    what to compare between runs on different machines."""
    return round(measured / floor, 2) if floor > 0 else math.inf


def captured_sql(run: Any) -> list[str]:
    """The SQL statements `run()` sends to the database, as executed (parameters in place),
    without the transaction control around them (BEGIN, SAVEPOINT, COMMIT...)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET ")
    with CaptureQueriesContext(connection) as captured:
        run()
    return [
        query["sql"]
        for query in captured.captured_queries
        if not query["sql"].lstrip().upper().startswith(control)
    ]


def time_bare_sql(
    statements: Sequence[str | tuple[str, Sequence[Any]]], repeats: int
) -> list[float]:
    """Milliseconds to run `statements` over a plain cursor, `repeats` times, fetching every
    row they return: no ORM, no Python between them. Each repeat runs in a transaction that is
    rolled back, so writes are replayed as if for the first time (foreign keys are checked at
    commit, which never comes)."""
    import time

    from django.db import connection, transaction

    milliseconds = []
    for _ in range(repeats):
        with transaction.atomic(), connection.cursor() as cursor:
            started = time.perf_counter()
            for statement in statements:
                sql, params = (statement, None) if isinstance(statement, str) else statement
                cursor.execute(sql, params)
                if cursor.description:
                    cursor.fetchall()
            milliseconds.append((time.perf_counter() - started) * 1000)
            transaction.set_rollback(True)
    return milliseconds
