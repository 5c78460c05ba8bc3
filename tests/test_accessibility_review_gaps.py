"""Accessibility review (WCAG 2.2 AA, GOV.UK Design System patterns) of pages changed recently,
through the Django test client: error summaries, error messages and paged lists. Synthetic
data only."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import time_machine
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.operations import services as operations
from opennrm.operations.models import PartnerRole

from . import case_factories, factories
from . import operation_helpers as op
from . import support_plan_helpers as h

UTC = timezone.get_fixed_timezone(0)


def _ids_in_page_order(page: str) -> list[str]:
    return re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', page)


def _summary_targets(page: str) -> list[str]:
    summary = re.search(r'govuk-error-summary__list">(.*?)</ul>', page, re.S)
    assert summary, "no error summary"
    return re.findall(r'href="#([^"]+)"', summary.group(1))


def test_the_reception_error_summary_lists_the_errors_in_the_order_of_the_questions(
    alice: User, northmoor_police: Organisation, council: Organisation
) -> None:
    """Alice, taking people in during a night operation, presses "Take in" on an empty form.
    The page asks "Adult or child?" before "Sex" (operations/reception.html), but the error
    summary lists "Select their sex" before "Select whether they are an adult or a child":
    `error_summary_items` follows ReceptionForm's field order (sex declared before age_group),
    not the page's. A screen reader user moving from the summary to the fields meets them in
    another order. GOV.UK Design System (error summary): list the errors in the order the
    questions appear on the page (WCAG 1.3.2, 3.3.1). ReceptionForm's fields should be
    declared in the order the template shows them (or the template follow the form)."""
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
        operations.operation_partner_invite(
            by=alice, operation=operation, organisation=council, role=PartnerRole.LOCAL_AUTHORITY
        )
    with time_machine.travel(op.DURING, tick=False):
        client = factories.signed_in_client(alice)
        page = client.post(
            reverse("operations:reception", args=[operation.id]), {"submission_key": "k"}
        ).content.decode()
    targets = _summary_targets(page)
    assert len(targets) == 4
    order = _ids_in_page_order(page)
    assert targets == sorted(targets, key=order.index), (
        f"the error summary lists {targets}; the page asks them in the order "
        f"{sorted(targets, key=order.index)}"
    )


def test_a_move_on_exit_refused_during_a_reconsideration_does_not_say_support_ran_to_a_past_day(
    alice: User,
    cora: User,
    maya: User,
    northmoor_police: Organisation,
    provider: Organisation,
    authority: Organisation,
) -> None:
    """Maya, a safe-house manager, records that a woman left two days after the day her
    move-on support was to end (set by a negative conclusive decision), choosing "Move-on
    support ended". The referrer had asked for a reconsideration, still waiting, so support
    runs on and the exit is refused, rightly. But the error message says "Move-on support
    runs until <the end date, two days ago>: it had not ended on <today>": a date already
    past given as the end of support that is still running, beside a hint on the same page
    saying it "runs on while the reconsideration ... waits". The message does not describe
    the problem (WCAG 3.3.1, 3.3.3): it should say support runs on while the reconsideration
    waits (accommodation/services.py: _check_move_on_ended words every refusal from
    `case.move_on_ends`, whatever `support_running` found)."""
    today = timezone.localdate()
    _, placement = h.reconsidering_while_living(
        alice, cora, maya, northmoor_police, provider, authority
    )
    ends = today + timedelta(days=5)
    left = ends + timedelta(days=2)
    with time_machine.travel(datetime.combine(left, time(12, 0), tzinfo=UTC), tick=False):
        client = factories.signed_in_client(maya)
        response = client.post(
            reverse("support:placement_end", args=[placement.pk]),
            {
                "reason": "move_on_ended",
                "ended_on_day": str(left.day),
                "ended_on_month": str(left.month),
                "ended_on_year": str(left.year),
            },
        )
    page = re.sub(r"\s+", " ", response.content.decode())
    assert response.status_code == 200
    assert "govuk-error-summary" in page, "the exit was not refused"
    assert f"runs until {ends:%-d %B %Y}" not in page, (
        f"the refusal says move-on support runs until {ends:%-d %B %Y}, two days before the "
        f"day she left, while it runs on because the reconsideration waits"
    )


def test_the_queue_s_next_page_link_brings_the_reader_back_to_the_queue_not_the_top(
    alice: User, dmitri: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """Dmitri pages the reasonable grounds queue below a full "Suspended: the person is
    missing" table (50 rows, each a link). The suspended table's own pager returns him to it
    ("#suspended"), as both pagers on the referrals page do ("#questions", "#referrals"); the
    queue's "Next page" (`paging.links` in decisions/queue.html) has no fragment and its
    "Waiting for a decision" heading no id, so each page of the queue opens at the top and a
    keyboard or screen reader user passes the filters and the 50 suspended cases again to
    reach the list they were paging (WCAG 2.4.3 focus order, 2.4.1). The queue's pager should
    link to an anchor on its own heading, as the other lists do."""
    from .decision_helpers import rg

    for n in range(102):
        case = case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            submitted_at=timezone.now() - timedelta(hours=n),
        )
        if n % 2:
            rg(case, dmitri, "suspended", "Reported missing before a decision.")
    page = (
        factories.signed_in_client(dmitri)
        .get("/decisions/?queue=reasonable-grounds")
        .content.decode()
    )
    assert "apart_page=2#suspended" in page
    queue_part = page.split("Waiting for a decision", 1)[1]
    next_link = re.search(r'href="([^"]*page=2[^"]*)" rel="next"', queue_part)
    assert next_link, "the queue has no next page"
    href = next_link.group(1)
    assert "#" in href, f"the queue's next page link {href!r} has no anchor"
    assert f'id="{href.split("#", 1)[1]}"' in page, (
        f"the queue's next page link {href!r} opens the page at its top, above the filters and "
        "the suspended table"
    )
