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


def parse_args(description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
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
    return parser.parse_args(argv)


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
