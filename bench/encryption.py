"""What field encryption costs: referral submission and the case page with encryption and without,
and the throughput of `manage.py rotate_keys`.

Fills a fresh benchmark database with N synthetic people (the generator behind
`manage.py demo_data --people`, which encrypts as it writes), then:

1. Rotation: adds a new primary encryption key and a new blind-index key in front of the old
   ones and times `rotate_keys` re-encrypting every value and recomputing every blind index
   over the N people; then drops the old keys and reads a sample back, to show that they are no
   longer needed.
2. Overhead: times `referrals.services.referral_submit` (server side, no HTTP) and the case page
   (`cases:detail`, rendered through Django's test client as the referring user), each on
   drafts and cases of its own, alternating call by call between the real keyring and, inside
   this benchmark only, a keyring whose cipher is the identity and a blind index that computes
   nothing: the same code, with encryption switched off. The overhead is the difference of the
   medians, as a share of the unencrypted median.

Target (issue 5): under 20% overhead; rotation throughput reported over 1,000,000 people
(`--scale full`).
"""

from __future__ import annotations

import base64
import io
import os
import random
import secrets
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import benchkit

NAME = "encryption"
PEOPLE = {"small": 20_000, "full": 1_000_000}
CALLS = 200  # timed submissions per mode
PAGE_VIEWS = 400  # timed case page renders per mode (each case created in the run, twice)
WARM_UP = 5
SAMPLE = 1_000  # people read back after the old keys are dropped


def new_key(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


class IdentityKeyring:
    """Encryption switched off: the 'cipher' returns what it is given. Only in this benchmark."""

    def encrypt_text(self, text: str, context: str, row: str | None = None) -> str:
        return text

    def decrypt_text(self, token: str, context: str, row: str | None = None) -> str:
        return token


class NoBlindIndex:
    """Blind indexes switched off: no digest of a name or a date. The linkage keys of the check
    for earlier referrals (issue 15) are keyed digests under the blind index's current secret
    too; they stay computed, under a fixed secret, in both modes alike (without one the check
    failed in this mode, so the mode without encryption skipped most of it)."""

    def __init__(self) -> None:
        from opennrm.lib import crypto

        self.current = crypto.Key(id="off", secret=bytes(32))
        self.keys = [self.current]

    def of_name(self, name: str) -> str:
        return ""

    def of_date(self, value: Any) -> str:
        return ""


@contextmanager
def encryption(on: bool) -> Iterator[None]:
    """The real keyring and blind index, or the identity ones, for the code inside."""
    from opennrm.lib import fields

    real_keyring, real_index = fields.keyring, fields.blind_index
    if not on:
        # One of each for the block, as the real ones are built once and cached: the mode
        # without encryption must not build a key on every call.
        keyring, index = IdentityKeyring(), NoBlindIndex()
        fields.keyring = lambda: keyring  # type: ignore[assignment,return-value]
        fields.blind_index = lambda: index  # type: ignore[assignment,return-value]
    try:
        yield
    finally:
        fields.keyring, fields.blind_index = real_keyring, real_index


def rotate(people: int) -> dict[str, object]:
    """Time rotate_keys to a new primary key and blind-index key, then drop the old ones."""
    from django.conf import settings
    from django.core.management import call_command

    from opennrm.cases.models import CaseNarrative, KeyRotation, PersonIdentity
    from opennrm.lib import crypto

    old_keys, old_index = list(settings.ENCRYPTION_KEYS), list(settings.BLIND_INDEX_KEYS)
    settings.ENCRYPTION_KEYS = [*crypto.parse_keys(new_key("bench-b"), source="bench"), *old_keys]
    settings.BLIND_INDEX_KEYS = [
        *crypto.parse_keys(new_key("bench-index-b"), source="bench"),
        *old_index,
    ]
    benchkit.log(f"rotating {people:,} people to new keys")
    started = time.perf_counter()
    call_command("rotate_keys", stdout=io.StringIO(), stderr=io.StringIO())
    seconds = time.perf_counter() - started
    progress = list(KeyRotation.objects.filter(finished_at__isnull=False))
    checked = sum(p.checked for p in progress if not p.target.endswith(":files"))
    rewritten = sum(p.rewritten for p in progress if not p.target.endswith(":files"))
    identities = next(p.checked for p in progress if p.target == "cases.personidentity")

    settings.ENCRYPTION_KEYS, settings.BLIND_INDEX_KEYS = (
        settings.ENCRYPTION_KEYS[:1],
        settings.BLIND_INDEX_KEYS[:1],
    )
    sample = list(PersonIdentity.objects.order_by("?")[:SAMPLE])
    assert all(identity.given_names for identity in sample)  # noqa: S101 - old keys gone
    assert CaseNarrative.objects.order_by("pk").last() is not None  # noqa: S101
    return {
        "rotate_seconds": round(seconds, 2),
        "rotate_rows_checked": checked,
        "rotate_rows_rewritten": rewritten,
        "rotate_rows_per_s": round(checked / seconds),
        "rotate_people_per_s": round(identities / seconds),
        "read_back_after_old_keys_removed": len(sample),
    }


def median_overhead(plain: list[float], encrypted: list[float]) -> float:
    return round(100 * (statistics.median(encrypted) / statistics.median(plain) - 1), 1)


def overhead() -> dict[str, object]:
    """Submission and case page timings, alternating between encryption off and on."""
    from django.test import Client
    from django.urls import reverse
    from referral_submit import prepare_drafts

    from opennrm.referrals import services

    rng = random.Random(CALLS)
    drafts: dict[bool, list[tuple[Any, Any]]] = {}
    for on in (False, True):
        with encryption(on):
            benchkit.log(f"preparing {WARM_UP + CALLS} drafts, encryption {'on' if on else 'off'}")
            drafts[on] = prepare_drafts(WARM_UP + CALLS, rng)
    submit: dict[bool, list[float]] = {False: [], True: []}
    cases: dict[bool, list[tuple[Any, str]]] = {False: [], True: []}
    benchkit.log(f"submitting {CALLS} referrals in each mode, alternating")
    for i in range(WARM_UP + CALLS):
        for on in (i % 2 == 0, i % 2 == 1):  # alternate which mode goes first
            user, draft = drafts[on][i]
            with encryption(on):
                started = time.perf_counter()
                submitted = services.referral_submit(by=user, draft=draft)
                elapsed = (time.perf_counter() - started) * 1000
            assert submitted.case is not None  # noqa: S101 - every prepared draft refers
            if i >= WARM_UP:
                submit[on].append(elapsed)
                cases[on].append((user, submitted.case.reference))
    # The check for earlier referrals must have run in both modes (it logs a failure and
    # lets the submission stand, so only its keys show it ran).
    from opennrm.linkage.models import LinkageKey

    for on, made in cases.items():
        references = [reference for _, reference in made]
        keyed = LinkageKey.objects.filter(case__reference__in=references).values("case").distinct()
        assert keyed.count() == len(references), f"checks failed, encryption {on}"  # noqa: S101
    clients: dict[int, Client] = {}
    pages: dict[bool, list[float]] = {False: [], True: []}
    benchkit.log(f"rendering {PAGE_VIEWS} case pages in each mode, alternating")
    for i in range(WARM_UP + PAGE_VIEWS):
        for on in (i % 2 == 0, i % 2 == 1):
            user, reference = cases[on][i % len(cases[on])]
            if user.pk not in clients:
                clients[user.pk] = Client()
                clients[user.pk].force_login(user)
            url = reverse("cases:detail", args=[reference])
            with encryption(on):
                started = time.perf_counter()
                response = clients[user.pk].get(url)
                elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, response.status_code  # noqa: S101
            if i >= WARM_UP:
                pages[on].append(elapsed)
    return {
        "submit_median_ms_plain": round(statistics.median(submit[False]), 3),
        "submit_median_ms_encrypted": round(statistics.median(submit[True]), 3),
        "submit_p95_ms_plain": round(benchkit.percentile(submit[False], 0.95), 3),
        "submit_p95_ms_encrypted": round(benchkit.percentile(submit[True], 0.95), 3),
        "submit_overhead_pct": median_overhead(submit[False], submit[True]),
        "case_page_median_ms_plain": round(statistics.median(pages[False]), 3),
        "case_page_median_ms_encrypted": round(statistics.median(pages[True]), 3),
        "case_page_p95_ms_plain": round(benchkit.percentile(pages[False], 0.95), 3),
        "case_page_p95_ms_encrypted": round(benchkit.percentile(pages[True], 0.95), 3),
        "case_page_overhead_pct": median_overhead(pages[False], pages[True]),
        "submissions_per_mode": len(submit[True]),
        "page_views_per_mode": len(pages[True]),
    }


def main() -> None:
    args = benchkit.parse_args(__doc__ or NAME)
    if args.reuse:
        raise SystemExit("encryption: --reuse cannot work, every run encrypts with new keys")
    people = PEOPLE[args.scale]
    # Throwaway keys for this run only; the test client's host must be allowed.
    os.environ["OPENNRM_ENCRYPTION_KEYS"] = new_key("bench-a")
    os.environ["OPENNRM_BLIND_INDEX_KEY"] = new_key("bench-index-a")
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    with benchkit.database(NAME, args.scale, keep=args.keep, reuse=args.reuse) as db:
        benchkit.prepare()
        from django.core.management import call_command

        from opennrm.cases.models import PersonIdentity

        machine = benchkit.Machine()
        stored = PersonIdentity.objects.count()
        started = time.perf_counter()
        if stored < people:
            benchkit.log(f"storing {people - stored:,} synthetic people on {db.vendor} ({db.name})")
            call_command(
                "demo_data", people=people - stored, stdout=io.StringIO(), stderr=sys.stderr
            )
        generate_seconds = time.perf_counter() - started
        figures: dict[str, object] = {
            "database": db.vendor,
            "people": PersonIdentity.objects.count(),
            "generate_seconds_encrypted": round(generate_seconds, 2),
            **rotate(people),
            **overhead(),
            **machine.figures(),
        }
    units = {
        "database": "vendor",
        "people": "people",
        "generate_seconds_encrypted": "s",
        "rotate_seconds": "s",
        "rotate_rows_checked": "rows",
        "rotate_rows_rewritten": "rows",
        "rotate_rows_per_s": "rows/s",
        "rotate_people_per_s": "people/s",
        "read_back_after_old_keys_removed": "people",
        **{key: "ms" for key in figures if "_ms_" in key},
        "submit_overhead_pct": "%",
        "case_page_overhead_pct": "%",
        "submissions_per_mode": "calls",
        "page_views_per_mode": "requests",
        **benchkit.MACHINE_UNITS,
    }
    benchkit.emit(NAME, args.scale, figures, units)


if __name__ == "__main__":
    main()
