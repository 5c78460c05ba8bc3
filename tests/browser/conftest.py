"""Browser journeys: Playwright driving Debian's Chromium against the live test server.

Nothing is downloaded: Chromium comes from the machine (/usr/bin/chromium, or CHROMIUM_PATH),
and axe-core comes inside the axe-playwright-python package.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.http import HttpRequest, HttpResponse
from django_otp.oath import totp
from playwright.sync_api import Browser, Page, sync_playwright

# Playwright's sync API runs an event loop in this thread; the ORM calls our tests make around it
# are ordinary synchronous calls, so Django's async-safety guard would refuse them by mistake.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

_axe = Axe()


@pytest.fixture(scope="session", autouse=True)
def _one_request_at_a_time() -> Iterator[None]:
    """The live server answers on several threads, and on SQLite the test database is in memory,
    so they all share one connection (as Django's live server must). Two requests at once (a
    form posted while the page's autosave is still saving, under a loaded machine) then nest
    their savepoints on that one connection and one fails with "no such savepoint". Requests are
    answered one at a time here: the server still accepts on many threads, so a browser holding
    a connection open never blocks another. A deployment has a connection per thread."""
    import threading

    from django.core.handlers.wsgi import WSGIHandler

    lock = threading.Lock()
    answer = WSGIHandler.__call__

    def one_at_a_time(self, environ, start_response):
        with lock:
            response = answer(self, environ, start_response)
            if hasattr(response, "file_to_stream"):
                return response  # a file on disk, read without the database
            # A streamed response may query as it is read: read it inside, then finish the
            # request (request_finished) as the server would have.
            try:
                return list(response)
            finally:
                response.close()

    WSGIHandler.__call__ = one_at_a_time  # type: ignore[method-assign]
    yield
    WSGIHandler.__call__ = answer  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _indicator_catalogue(transactional_db: None) -> None:
    """Browser tests run on a database that is emptied between tests, which also empties the
    catalogue the migration loaded; load it again as a deployment would have it."""
    from opennrm.screening import catalogue, services
    from opennrm.screening.models import IndicatorCatalogue

    if not IndicatorCatalogue.objects.exists():
        services.catalogue_load(by=None, data=json.loads(catalogue.BUNDLED_PATH.read_text()))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (see .ci/run)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser: Browser, live_server):
    """Makes pages in fresh browser contexts (separate cookies), as separate people would have."""
    contexts = []

    def make() -> Page:
        context = browser.new_context(base_url=live_server.url)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)  # generous: CI machines are sometimes busy
        return page

    yield make
    for context in contexts:
        context.close()


class AccessibilityLog:
    """Scans each page with axe and remembers which pages were scanned."""

    def __init__(self) -> None:
        self.scanned: list[str] = []

    def check(self, page: Page) -> None:
        page.wait_for_load_state("load")
        results = _axe.run(page)
        self.scanned.append(page.url)
        assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


@pytest.fixture
def axe() -> AccessibilityLog:
    return AccessibilityLog()


def code_for_secret(secret: str) -> str:
    """The current six-digit code for a TOTP key shown on the set-up page."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{totp(key):06d}"


def secret_on(page: Page) -> str:
    return re.sub(r"\s", "", page.locator("#secret-key").inner_text())


# --- Every read of identifying data leaves an audit event ---------------------------------------

# Routes that send out a person's identifying data as a file: each must leave an event.
EXPORT_ROUTES = {"cases:evidence_download", "referrals:evidence_download", "decisions:letter_pdf"}
READ_ACTIONS = ("person.viewed", "person.exported", "evidence.downloaded")


@dataclass
class Served:
    route: str
    status: int
    request_id: str
    user_email: str
    body: str | None


class ReadLog:
    """Everything the live server answered during a journey, to check at its end that every
    response showing a person's identifying data (or sending it as a file) has an audit event
    with that response's request id."""

    def __init__(self) -> None:
        self.served: list[Served] = []

    def identifying_values(self, extra: Iterable[str]) -> set[str]:
        """What identifies the people in the database now, and what the journey typed."""
        from opennrm.cases.models import CaseNarrative, PersonIdentity
        from opennrm.referrals.models import EvidenceFile

        # File names count: people type them, and "statement Zorica.pdf" happens.
        values = set(extra) | {e.original_name for e in EvidenceFile.objects.all()}
        for identity in PersonIdentity.objects.all():
            values |= {identity.given_names, identity.family_name, identity.safe_contact}
            values |= set(identity.aliases)
        from opennrm.decisions.models import Decision, ReconsiderationRequest

        # Decision makers' and referrers' free text is about the person, and may name them.
        for decision in Decision.objects.all():
            values |= {decision.reasons, decision.approval_note}
        for request in ReconsiderationRequest.objects.all():
            values |= {request.grounds, request.decision_reasons}
        from opennrm.safeguarding.models import AgeAssessment, ChildrenServicesTask

        # The children's pathway: what a task's outcome and an age assessment's reasons say.
        values |= {task.outcome for task in ChildrenServicesTask.objects.all()}
        values |= {assessment.reasons for assessment in AgeAssessment.objects.all()}
        for narrative in CaseNarrative.objects.all():
            values |= {
                narrative.persons_account,
                narrative.responders_account,
                narrative.exploitation_places,
                narrative.immediate_needs_details,
            }
        return {value for value in values if value and len(value) >= 4}

    def showing_identifying_data(self, extra: Iterable[str] = ()) -> list[Served]:
        values = self.identifying_values(extra)
        spellings = values | {html.escape(value) for value in values}
        return [
            served
            for served in self.served
            if served.status == 200
            and (
                served.route in EXPORT_ROUTES
                or (served.body is not None and any(s in served.body for s in spellings))
            )
        ]

    def check(self, *, typed: Iterable[str] = ()) -> list[Served]:
        """Assert that each response that showed identifying data was audited as a read, and
        return those responses."""
        from opennrm.audit.models import AuditEvent

        shown = self.showing_identifying_data(typed)
        for served in shown:
            assert AuditEvent.objects.filter(
                request_id=served.request_id, action__in=READ_ACTIONS
            ).exists(), f"{served.route} showed identifying data without an audit event"
        return shown


@pytest.fixture(autouse=True)
def reads(monkeypatch: pytest.MonkeyPatch) -> ReadLog:
    """Records each response the live server sends, by wrapping the middleware that gives every
    request its id (it runs in this process, in the server's threads)."""
    from opennrm.audit.middleware import RequestContextMiddleware

    log = ReadLog()
    original = RequestContextMiddleware.__call__

    def recording(self: RequestContextMiddleware, request: HttpRequest) -> HttpResponse:
        response = original(self, request)
        match = getattr(request, "resolver_match", None)
        content_type = response.get("Content-Type", "")
        is_text = content_type.startswith("text/") or content_type.startswith("application/json")
        user = getattr(request, "user", None)
        log.served.append(
            Served(
                route=match.view_name if match else "",
                status=response.status_code,
                request_id=response.get("X-Request-ID", ""),
                user_email=getattr(user, "email", "") or "",
                body=response.content.decode() if is_text and not response.streaming else None,
            )
        )
        return response

    monkeypatch.setattr(RequestContextMiddleware, "__call__", recording)
    return log
