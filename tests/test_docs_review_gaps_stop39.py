"""What README.md promises a new developer and a new operator, checked against what happens
(an outside review of the documentation, stop 39): the tools `make test` needs, the settings
production needs, `/healthz` behind a load balancer, `make run` on every interface, and the
documented key rotation followed to the letter (with the check at submission, ADR 48)."""

from __future__ import annotations

import io
import ipaddress
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.http.request import validate_host
from django.test import Client, override_settings

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.cases import key_rotation as rotation
from opennrm.cases.models import Case, KeyRotation
from opennrm.linkage import synthetic
from opennrm.linkage.models import CandidatePair, LinkageKey, LinkageModel, PairStatus
from opennrm.linkage.selectors import linkable_cases
from opennrm.linkage.services import candidate_pair_review, linkage_run
from tests.test_key_rotation import INDEX_1, INDEX_2, A, B, restart  # noqa: F401 - a fixture
from tests.test_linkage_run import (  # noqa: F401 - fixtures
    _submit_again,
    referred,
    small_model,
    stored_model,
)
from tests.test_serve_script import serve
from tests.test_settings import PRODUCTION, SETUP, run_python

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
# Production as README's "Running it for real" had it before OPENNRM_SITE_URL was among its steps.
WITHOUT_SITE_URL = {k: v for k, v in PRODUCTION.items() if k != "OPENNRM_SITE_URL"}


def section(text: str, heading: str) -> str:
    """The text under a `## heading`, up to the next heading of level 2."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, heading
    return match.group(1)


# --- What you need for `make test` ----------------------------------------------------------


def test_what_you_need_for_make_test_names_java_when_make_test_runs_the_spark_test() -> None:
    """Who is hurt: a new developer on a fresh machine. README "What you need" lists Python,
    Node.js, internet access and (for browser tests) Chromium, and ends "Nothing else is needed
    for `make run` and `make test`".

    What happens now: `make test` runs `make test-suite`, whose marker expression is
    `not browser and not fuzz`, so it includes tests/test_linkage_spark.py (marked `spark`),
    which needs Java 17 and, by design, fails rather than skips without it (CONTRIBUTING says
    so, and `.ci/run` installs openjdk-17 before `make test` for that reason). On a machine
    without Java `make test` fails at the first command the README gives.

    What should happen: the README names Java 17 as needed for `make test` (or `make test`
    leaves the `spark` marker out, as it does the browser and fuzz tests)."""
    makefile = (ROOT / "Makefile").read_text()
    suite = re.search(r"^test-suite:.*?\n\t(.*?)$", makefile, re.M | re.S)
    assert suite
    spark_in_make_test = "not spark" not in suite.group(1)
    spark_tests = [
        p.name for p in (ROOT / "tests").glob("test_*.py") if "pytest.mark.spark" in p.read_text()
    ]
    assert spark_tests, "no test is marked spark any more"
    if spark_in_make_test:
        needs = section(README, "What you need")
        assert re.search(r"\bJava\b", needs), (
            f"`make test` runs {spark_tests} (needs Java 17), but 'What you need' never names Java"
        )


# --- OPENNRM_SITE_URL in production -----------------------------------------------------------


def test_production_without_a_site_url_does_not_send_links_to_the_loopback_address() -> None:
    """Who is hurt: every person invited to a real deployment (invitations are the only way in),
    and anyone sent a sign-in reset or a notification link. README "Running it for real" lists
    what must be set (secret key, allowed hosts, keys, proxy) and says `manage
    invite_system_admin` prints and e-mails the first administrator's link.

    What happens now: OPENNRM_SITE_URL is not among the things "Running it for real" says to
    set, and settings.py gives it the default `http://127.0.0.1:8000` even outside demo mode,
    without a word (and `check --deploy` stays clean). A deployment set up exactly as the README
    says prints and e-mails `http://127.0.0.1:8000/join/<token>/`: a link that opens nothing on
    the invitee's computer (or, worse, whatever listens on their own port 8000).

    What should happen: outside demo mode OpenNRM refuses to start without OPENNRM_SITE_URL,
    naming it (settings fail closed, CONTRIBUTING rule 8), or at the very least the README's
    production list says it must be set."""
    result = run_python(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='opennrm.settings'; "
        "django.setup(); from django.conf import settings; print(settings.SITE_URL)",
        WITHOUT_SITE_URL,
    )
    if result.returncode != 0:
        assert "OPENNRM_SITE_URL" in result.stderr, result.stderr
        return
    host = urlsplit(result.stdout.strip()).hostname or ""
    loopback = host == "localhost" or (
        re.fullmatch(r"[\d.:a-fA-F]+", host) is not None and ipaddress.ip_address(host).is_loopback
    )
    production_steps = section(README, "Running it for real")
    assert not loopback or "OPENNRM_SITE_URL" in production_steps, (
        f"a production deployment sends every link to {result.stdout.strip()}"
    )


def test_production_without_a_site_url_refuses_to_start_and_says_which_variable() -> None:
    result = run_python(SETUP, WITHOUT_SITE_URL)
    assert result.returncode != 0
    assert "OPENNRM_SITE_URL is not set" in result.stderr
    assert "OPENNRM_SITE_URL" in section(README, "Running it for real")


@pytest.mark.parametrize("value", ["nrm.example.org", "ftp://nrm.example.org", "https://"])
def test_a_site_url_that_is_not_an_address_is_refused_by_name(value: str) -> None:
    result = run_python(SETUP, {**PRODUCTION, "OPENNRM_SITE_URL": value})
    assert result.returncode != 0
    assert "OPENNRM_SITE_URL must be the site's address" in result.stderr


# --- /healthz and hosts not allowed -----------------------------------------------------------


@override_settings(ALLOWED_HOSTS=["nrm.example.org"], SECURE_SSL_REDIRECT=True)
def test_a_load_balancer_probing_healthz_by_address_over_plain_http_gets_the_health(
    db: None,
) -> None:
    """Who is hurt: the operator, and everyone who then cannot reach the service. README: "For
    monitoring, `/healthz` answers `200` ... It is the one address not redirected to HTTPS, so a
    load balancer can probe it over plain HTTP."

    What happens now: a load balancer's or orchestrator's probe goes to the instance's own
    address (AWS target groups and Kubernetes httpGet probes send `Host: <instance IP>` by
    default). That host is not in DJANGO_ALLOWED_HOSTS, which the README tells the operator to
    set to the site's name only, so CommonMiddleware's `get_host()` raises DisallowedHost; the
    400 handler (pages/views.bad_request -> _error -> render) then crashes in
    accounts/context_processors.navigation_context on `request.user`, which the authentication
    middleware never set, so the probe gets a 500 server error page: every instance is marked
    unhealthy, and every request with a stray Host header (scanners) is logged as a server error.

    What should happen: `/healthz` answers 200 (or 503) to a probe over plain HTTP whatever its
    Host header, before host validation (it shows nothing but the database's health); and a
    request with a host not allowed gets the 400 page, never a 500."""
    client = Client(raise_request_exception=False)
    probe = client.get("/healthz", HTTP_HOST="10.0.0.5")
    assert probe.status_code != 500, "a request with an unknown Host header is a server error"
    assert probe.status_code == 200, probe.status_code
    assert probe.json() == {"status": "ok", "database": "ok"}


@override_settings(ALLOWED_HOSTS=["nrm.example.org"])
def test_a_request_to_a_host_not_allowed_gets_the_400_page_not_a_server_error(db: None) -> None:
    client = Client(raise_request_exception=False)
    for path in ("/", "/accounts/sign-in/", "/no-such-page/"):
        response = client.get(path, HTTP_HOST="scanner.example")
        assert response.status_code == 400, (path, response.status_code)
        assert "There is a problem with your request" in response.content.decode()
    # Only asking for the health is answered whatever the host.
    assert client.post("/healthz", HTTP_HOST="10.0.0.5").status_code == 400


@override_settings(ALLOWED_HOSTS=["nrm.example.org"])
def test_healthz_by_address_still_carries_the_protective_headers(db: None) -> None:
    probe = Client().get("/healthz", HTTP_HOST="10.0.0.5")
    assert probe.status_code == 200
    assert "no-store" in probe["Cache-Control"]
    assert probe["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in probe["Content-Security-Policy"]


# --- make run on every interface --------------------------------------------------------------


def test_make_run_on_every_interface_accepts_the_machines_own_addresses(tmp_path: Path) -> None:
    """Who is hurt: a developer or trainer showing the demo to colleagues. README: "To serve it
    elsewhere, give the address and port: `make run HOST=0.0.0.0 PORT=8080` (the address in
    e-mails and the host names accepted follow them)."

    What happens now: bin/serve, for HOST=0.0.0.0, accepts only the loopback names and
    `hostname -f` (and puts `http://<hostname -f>:8080` in e-mails). A colleague who opens
    `http://<the machine's IP address>:8080/`, the usual way to reach a laptop or VM on a
    network, gets "400 Bad Request" (DisallowedHost); the name `hostname -f` gives (here "vm",
    often a container id) usually resolves nowhere else, so the e-mailed links fail too.

    What should happen: serving on every interface also accepts the machine's own addresses
    (those `hostname -I` lists), so the documented command serves the demo to the network."""
    hostname = shutil.which("hostname")
    if hostname is None:
        pytest.skip("no hostname command")
    listed = subprocess.run(  # noqa: S603 - the system's own command
        [hostname, "-I"], capture_output=True, text=True, check=False
    ).stdout.split()
    addresses = [a for a in listed if not ipaddress.ip_address(a).is_loopback]
    if not addresses:
        pytest.skip("this machine has no address but the loopback")
    calls = serve(tmp_path, HOST="0.0.0.0", PORT="8080")  # noqa: S104 - the README's example
    runserver = next(call for call in calls if call.startswith("runserver"))
    _command, _site_url, hosts = runserver.split(" | ")
    allowed = hosts.split(",")
    refused = [
        address
        for address in addresses
        if not validate_host(
            address if ipaddress.ip_address(address).version == 4 else f"[{address}]", allowed
        )
    ]
    assert not refused, f"requests to {refused} get 400; accepted: {allowed}"


HOSTNAME = """#!/usr/bin/env bash
# Stands in for hostname: the machine is "vm", with the addresses in $ADDRESSES.
if [ "${1:-}" = "-I" ]; then echo "$ADDRESSES"; else echo vm; fi
"""


def serve_on(tmp_path: Path, host: str, addresses: str) -> tuple[str, list[str]]:
    """bin/serve on `host`:8080 on a machine with these addresses: its site URL and hosts."""
    folder = tmp_path / "stubs"
    folder.mkdir()
    (folder / "hostname").write_text(HOSTNAME)
    (folder / "hostname").chmod(0o755)
    calls = serve(
        tmp_path, HOST=host, PORT="8080", ADDRESSES=addresses, PATH=f"{folder}:{os.environ['PATH']}"
    )
    runserver = next(call for call in calls if call.startswith("runserver"))
    _command, site_url, hosts = runserver.split(" | ")
    return site_url, hosts.split(",")


@pytest.mark.parametrize(
    ("host", "site_url"),
    [
        ("0.0.0.0", "http://192.0.2.2:8080"),  # noqa: S104 - listens on IPv4 only
        ("::", "http://[fd00::2]:8080"),
    ],
)
def test_on_every_interface_e_mails_use_the_first_address_others_can_reach(
    tmp_path: Path, host: str, site_url: str
) -> None:
    url, allowed = serve_on(tmp_path, host, "fd00::2 192.0.2.2 198.51.100.4")
    assert url == site_url
    assert allowed == [
        "127.0.0.1",
        "localhost",
        "[::1]",
        "vm",
        "[fd00::2]",
        "192.0.2.2",
        "198.51.100.4",
    ]


def test_on_every_interface_of_a_machine_without_addresses_e_mails_use_its_name(
    tmp_path: Path,
) -> None:
    url, allowed = serve_on(tmp_path, "0.0.0.0", "")  # noqa: S104 - every interface
    assert url == "http://vm:8080"
    assert allowed == ["127.0.0.1", "localhost", "[::1]", "vm"]


# --- Key rotation and record linkage ----------------------------------------------------------


def test_after_the_readmes_blind_index_key_rotation_a_returning_person_is_still_found_at_submission(
    restart: Callable[..., None],  # noqa: F811
    referred: Callable[..., tuple[synthetic.Truth, set[tuple[int, int]]]],  # noqa: F811
    stored_model: LinkageModel,  # noqa: F811
    routing: Organisation,
    alice: User,
    northmoor_police: Organisation,
) -> None:
    """Who is hurt: a person referred again (possible re-trafficking, a duplicate referral) and
    the competent authority that should be told at once. The README's "Running it for real"
    says: to rotate a key, put the new one first, restart, run `manage rotate_keys`, then remove
    the old keys and restart; its table says older blind-index keys "still match until
    `rotate_keys` has run", and `rotate_keys` itself reports the old blind-index key as no longer
    needed.

    What happens now: `rotate_keys` (cases/key_rotation.keys_rotate) re-keys the identity's blind
    indexes but not linkage's keyed blocking digests (`LinkageKey`, written by
    linkage/services._keys_write with the blind-index key). After the old key is removed, the
    check at submission (linkage/services.submission_check) hashes the new referral's keys with
    the new key, matches none of the stored ones, and proposes nothing: every earlier referral is
    invisible to it until someone happens to run `link_records`, which nothing schedules and the
    README's rotation steps do not mention.

    What should happen: after the documented rotation the same person's new referral is still
    proposed against the earlier one (rotate_keys rebuilds the linkage keys, or the documented
    procedure says to run `link_records --keys-only`, and rotate_keys stops calling the old key
    unneeded while digests under it remain)."""
    restart(keys=A, index_keys=INDEX_1)
    truth, _ = referred(120, 25)
    linkage_run(by=None)  # every referral's blocking keys, under the blind-index key in use

    # The README's procedure: new key first, restart, rotate_keys, old key removed, restart.
    restart(keys=A, index_keys=f"{INDEX_2},{INDEX_1}")
    out = io.StringIO()
    call_command("rotate_keys", stdout=out, stderr=io.StringIO())
    assert "index-1" in out.getvalue()  # "Keys no longer needed: ... index-1."
    restart(keys=A, index_keys=INDEX_2)

    case, record_id = _submit_again(truth, alice, northmoor_police)

    first = Case.objects.get(reference=f"NRM-LINK-{record_id:05d}")
    assert CandidatePair.objects.filter(case_a=first, case_b=case).exists(), (
        "the earlier referral of the same person was not proposed after the key rotation"
    )


def test_rotation_recomputes_the_fingerprints_so_a_rejected_pair_stays_rejected_without_the_old_key(
    restart: Callable[..., None],  # noqa: F811
    referred: Callable[..., tuple[synthetic.Truth, set[tuple[int, int]]]],  # noqa: F811
    stored_model: LinkageModel,  # noqa: F811
    dmitri: User,
) -> None:
    """A pair a decision maker rejected is not proposed again while its values stay the same
    (ADR 48); its fingerprint is an HMAC under the blind-index key, so rotation recomputes it:
    after the old key is removed the rejection still holds. A rotation of the encryption key
    alone checks the digests and rewrites none."""
    restart(keys=A, index_keys=INDEX_1)
    referred(120, 25)
    linkage_run(by=None)
    pair = CandidatePair.objects.order_by("-match_weight").first()
    assert pair is not None
    candidate_pair_review(by=Actor(dmitri), pair_id=pair.pk, status=PairStatus.REJECTED)
    pairs, keys = CandidatePair.objects.count(), LinkageKey.objects.count()

    restart(keys=f"{B},{A}", index_keys=INDEX_1)
    summary = rotation.keys_rotate()
    assert (
        summary["linkage.candidatepair"].checked,
        summary["linkage.candidatepair"].rewritten,
    ) == (
        pairs,
        0,
    )
    assert summary["linkage.linkagekey"].rewritten == 0

    restart(keys=B, index_keys=f"{INDEX_2},{INDEX_1}")
    summary = rotation.keys_rotate()
    assert summary["linkage.candidatepair"].rewritten == pairs
    assert summary["linkage.linkagekey"].rewritten == linkable_cases().count()
    assert LinkageKey.objects.count() == keys
    assert set(CandidatePair.objects.values_list("fingerprint_key", flat=True)) == {"index-2"}

    restart(keys=B, index_keys=INDEX_2)
    again = linkage_run(by=None)
    assert again.pairs_still_rejected == 1
    assert not CandidatePair.objects.filter(
        case_a=pair.case_a, case_b=pair.case_b, status=PairStatus.PROPOSED
    ).exists()


def test_an_interrupted_rotation_of_the_linkage_keys_continues_where_it_stopped(
    restart: Callable[..., None],  # noqa: F811
    referred: Callable[..., tuple[synthetic.Truth, set[tuple[int, int]]]],  # noqa: F811
    stored_model: LinkageModel,  # noqa: F811
) -> None:
    restart(keys=A, index_keys=INDEX_1)
    referred(60, 10)
    linkage_run(by=None)
    restart(keys=A, index_keys=f"{INDEX_2},{INDEX_1}")

    def interrupt_in_the_linkage_keys(target: str, tally: rotation.Tally) -> None:
        if target == "linkage.linkagekey":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rotation.keys_rotate(batch_size=20, report=interrupt_in_the_linkage_keys)
    progress = KeyRotation.objects.get(target="linkage.linkagekey", index_key_id="index-2")
    assert (progress.checked, progress.finished_at) == (20, None)

    summary = rotation.keys_rotate(batch_size=20)
    assert summary["linkage.linkagekey"].checked == linkable_cases().count() == 70
    assert summary["linkage.linkagekey"].rewritten == 70
    assert rotation.keys_rotate(restart=True)["linkage.linkagekey"].rewritten == 0
