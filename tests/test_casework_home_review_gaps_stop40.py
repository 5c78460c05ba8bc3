"""Found in review, stop 40: "My tasks" lists work on a child's case without saying it is a child's."""

from __future__ import annotations

import re

from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import AgeGroup
from opennrm.casework import services as casework
from tests import case_factories, factories


def test_my_tasks_marks_a_task_on_a_childs_case(
    alice: User, dmitri: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """Who is hurt: a child whose case work is triaged as an adult's. Now: Dmitri, a decision
    maker, has two tasks due today, one on an adult's case and one on a child's. The home page
    sends him to "My tasks", whose table gives only the due date, the reference and the task's
    title: nothing says which case is a child's, although the decision queue ("Child"/"Adult"),
    the referrer's "My referrals" and the support requests all mark it. A child's task (a
    safeguarding call, a strategy meeting) is not picked out as the one to do first.
    Expected: each row about a child's case carries the child marker (as the queue does)."""
    child = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.CHILD,
        given_names="Ana Childova",
    )
    adult = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    today = timezone.localdate()
    for case in (child, adult):
        casework.case_task_add(
            by=dmitri, case=case, title="Call the referrer back", owner=dmitri, due_on=today
        )
    html = factories.signed_in_client(dmitri).get(reverse("casework:my_tasks")).content.decode()
    rows = {
        ref: row
        for row in re.findall(r'<tr class="govuk-table__row">(.*?)</tr>', html, re.S)
        for ref in (child.reference, adult.reference)
        if ref in row
    }
    assert set(rows) == {child.reference, adult.reference}
    assert "child" in rows[child.reference].lower(), (
        "the task on a child's case is listed with nothing marking it as a child's: "
        f"{' '.join(rows[child.reference].split())}"
    )
