"""An unfinished referral is deleted by retention (ADR 0021) only after its author has been told
when, a notice period before: a referral left unfinished is a person not yet referred, and a
child's most of all. Until stop 36 the draft went at 90 days without a word."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse

from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import Role
from opennrm.notifications.models import Notification
from opennrm.privacy import services as privacy
from opennrm.referrals import services as referrals
from opennrm.referrals import steps
from opennrm.referrals.models import ReferralDraft

from . import factories
from . import referral_helpers as r

STARTED = date(2026, 3, 2)  # saved last on this day: 90 days end on 31 May; deleted on 1 June
GIVEN = "Wendeloria"


def on(day: date) -> time_machine.travel:
    return time_machine.travel(f"{day.isoformat()} 10:00:00+00:00", tick=False)


def run(day: date) -> int:
    with on(day):
        return privacy.retention_apply(today=day).drafts_deleted


@pytest.fixture
def draft(alice: User, northmoor_police: Organisation) -> ReferralDraft:
    with on(STARTED):
        return r.draft_through_services(
            alice, northmoor_police, {"person": {**r.PERSON, "given_names": GIVEN}}
        )


def notices(kind: str = "referrals.draft_deletion") -> list[Notification]:
    return list(Notification.objects.filter(kind=kind))


def test_the_author_is_told_a_notice_period_ahead_and_the_draft_goes_on_the_day_they_were_told(
    draft: ReferralDraft, alice: User
) -> None:
    assert run(date(2026, 5, 17)) == 0
    assert notices() == []  # 15 days ahead: not yet
    assert run(date(2026, 5, 18)) == 0
    [notice] = notices()
    assert notice.recipient == alice
    assert notice.subject == "An unfinished referral will be deleted on 1 June 2026"
    assert "not been saved since 2 March 2026" in notice.body
    assert notice.url == reverse("referrals:task_list", args=[draft.public_id])
    assert GIVEN not in notice.subject + notice.body
    assert run(date(2026, 5, 19)) == 0
    assert len(notices()) == 1  # told once
    assert run(date(2026, 5, 31)) == 0
    assert ReferralDraft.objects.filter(pk=draft.pk).exists()
    assert run(date(2026, 6, 1)) == 1
    assert not ReferralDraft.objects.filter(pk=draft.pk).exists()


def test_saving_after_the_warning_starts_the_count_again(draft: ReferralDraft, alice: User) -> None:
    run(date(2026, 5, 18))
    with on(date(2026, 5, 20)):
        referrals.draft_save_answers(
            by=alice,
            draft=ReferralDraft.objects.get(pk=draft.pk),
            step=steps.STEP_BY_SLUG["person"],
            data={**r.PERSON, "given_names": GIVEN},
        )
    assert run(date(2026, 6, 1)) == 0
    assert ReferralDraft.objects.filter(pk=draft.pk).exists()
    # 90 days after 20 May end on 18 August: told on 5 August, deleted on 19 August.
    assert run(date(2026, 8, 4)) == 0
    assert len(notices()) == 1
    assert run(date(2026, 8, 5)) == 0
    assert len(notices()) == 2
    assert notices()[0].subject.endswith("19 August 2026")
    assert run(date(2026, 8, 19)) == 1


def test_a_draft_never_told_is_kept_a_notice_period_after_it_is(draft: ReferralDraft) -> None:
    """A draft already past its period when the warnings began (an upgrade, or runs missed) is
    not deleted the day its author first hears of it."""
    later = date(2026, 9, 1)
    assert run(later) == 0
    [notice] = notices()
    assert notice.subject.endswith("15 September 2026")
    assert run(later + timedelta(days=13)) == 0
    assert run(later + timedelta(days=14)) == 1


def test_a_childs_draft_says_it_is_a_child_not_yet_referred(
    alice: User, northmoor_police: Organisation
) -> None:
    with on(STARTED):
        r.draft_through_services(
            alice,
            northmoor_police,
            {"person": {**r.PERSON, "given_names": GIVEN}, "age": r.CHILD},
        )
    run(date(2026, 5, 18))
    [notice] = notices()
    assert notice.subject == "An unfinished referral about a child will be deleted on 1 June 2026"
    assert "A child who may have been trafficked is not referred" in notice.body
    assert "safeguarding lead" in notice.body


def test_when_the_author_no_longer_refers_the_administrators_are_told_who_can_give_it_back(
    draft: ReferralDraft, alice: User, northmoor_police: Organisation
) -> None:
    admin = factories.user(
        "olive@example.org", organisation=northmoor_police, role=Role.ORGANISATION_ADMIN
    )
    Membership.objects.filter(user=alice, role=Role.FIRST_RESPONDER).delete()
    run(date(2026, 5, 18))
    assert notices() == []
    [notice] = notices("referrals.draft_deletion_author_gone")
    assert notice.recipient == admin
    assert "Alice Adams" in notice.body
    assert "can no longer complete it" in notice.body
    assert notice.url == reverse("accounts:member_list", args=[northmoor_police.pk])
    assert GIVEN not in notice.subject + notice.body


@pytest.mark.page("referrals:my_referrals")
def test_the_list_of_unfinished_referrals_says_when_each_will_be_deleted(
    draft: ReferralDraft, alice: User
) -> None:
    with on(date(2026, 5, 17)):
        page = factories.signed_in_client(alice).get(reverse("referrals:my_referrals"))
    # Not yet told: told tomorrow at the earliest, so deleted 14 days after that at the earliest.
    assert "1 June 2026" in page.content.decode()
    run(date(2026, 5, 18))
    with on(date(2026, 5, 20)):
        page = factories.signed_in_client(alice).get(reverse("referrals:my_referrals"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Deleted on, unless saved" in text
    assert "1 June 2026" in text
    assert "Soon" in text


def test_the_retention_page_gives_the_rule_with_its_notice(dpo: User) -> None:
    page = factories.signed_in_client(dpo).get(reverse("privacy:retention")).content.decode()
    assert (
        "90 days after they were last changed, then deleted, once their author has been told at least 14 days before"
        in page
    )
