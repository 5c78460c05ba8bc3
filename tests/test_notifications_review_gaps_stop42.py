"""What a safeguarding lead still hears of a case, and who hears of an age dispute (stop 42).

1. News a support coordinator was told for that role (a missing episode of an adult's case)
   stayed on her notifications page once she became the council's safeguarding lead of the
   case's area: the lead's rule for news of an adult's case she cannot open let it through by
   its link alone. What a lead hears of a case she cannot open is hers only if it was told
   since she became a lead there (ADR 0008, addendum of stop 42).
2. A lead's news of a child's case left her list the day the person turned 18, although her
   council still holds their children's services task, which opens for her. It now stays while
   the council holds that task, and "Open" takes her to the task (ADR 0025, addendum of stop 42).
3. An age dispute raised on the case of a person taken in at an enforcement operation told the
   case's own local authority only, never the children's services partners the operation
   invited (ADR 0039, addendum of stop 42).
"""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case
from opennrm.notifications.models import Notification
from opennrm.notifications.selectors import may_still_be_read, unread_count
from opennrm.operations import services as operations
from opennrm.operations.models import PartnerRole
from opennrm.referrals import services as referrals
from opennrm.referrals import steps
from opennrm.safeguarding import coming_of_age
from opennrm.safeguarding import services as safeguarding
from opennrm.safeguarding.models import DisputeBasis

from . import case_factories, factories
from . import operation_helpers as op
from . import referral_helpers as r

WHEN_TOLD = "2026-11-02 09:00:00+00:00"
WHEN_SHE_MOVED = "2026-11-20 09:00:00+00:00"
LATER = "2026-11-25 09:00:00+00:00"


def _told(user: User, case: Case, kind: str, subject: str, url: str) -> Notification:
    """A notification about `case`, linking to `url`, as the services write them."""
    return Notification.objects.create(
        recipient=user, case=case, kind=kind, subject=subject, body="Sign in to see it.", url=url
    )


@pytest.mark.page("notifications:list")
def test_a_coordinator_who_became_the_councils_lead_no_longer_sees_her_old_episode_news(
    cora: User, provider: Organisation, council: Organisation, case: Case
) -> None:
    """Cora, a support coordinator at Test Refuge, was told that Zorica (an adult, in
    Testshire) went missing, linking to the missing episode. She then leaves the refuge and
    becomes Test Council's safeguarding lead for Testshire. Expected: that coordinator's news is
    no longer hers (she holds no coordinator role, and as a lead she was never told it): not
    listed, not counted, not e-mailed, and "Open" finds nothing. What she is told as a lead from
    then on, linking to a missing episode, is hers."""
    with time_machine.travel(WHEN_TOLD, tick=False):
        old = _told(
            cora,
            case,
            "missing.reported",
            "Case went missing: coordinator's news",
            reverse("support:missing_episode", args=[1]),
        )
    with time_machine.travel(WHEN_SHE_MOVED, tick=False):
        Membership.objects.filter(user=cora, organisation=provider).update(is_active=False)
        Membership.objects.create(user=cora, organisation=council, role=Role.SAFEGUARDING_LEAD)
    with time_machine.travel(LATER, tick=False):
        new = _told(
            cora,
            case,
            "missing.returned",
            "A person reported missing as a child is back",
            reverse("support:missing_episode", args=[1]),
        )
        client = factories.signed_in_client(cora)
        html = client.get(reverse("notifications:list")).content.decode()
        assert "coordinator&#39;s news" not in html, (
            "the council's new lead still lists what she was told as a coordinator"
        )
        assert "A person reported missing as a child is back" in html
        assert not may_still_be_read(old)
        assert may_still_be_read(new)
        assert unread_count(cora) == 1
        assert client.post(reverse("notifications:open", args=[old.pk])).status_code == 404
    old.refresh_from_db()
    assert old.read_at is None


@pytest.fixture
def turning_18(alice: User, northmoor_police: Organisation, authority: Organisation) -> Case:
    """A child in Testshire, referred with a date of birth that makes them 18 today."""
    return case_factories.turning_18_today(alice, northmoor_police, authority)


@pytest.mark.page("notifications:list")
def test_a_leads_news_stays_while_her_council_holds_the_care_leavers_task(
    lena: User, gail: User, alice: User, turning_18: Case
) -> None:
    """Lena, Test Council's safeguarding lead, was told of a child referred in Testshire (a
    link to the case page), and her council was asked to find them a place (an open task). The
    child turns 18 with the task open: the council's duties to a care leaver go on, and the task
    still opens for her. Expected: her news of the case stays listed, counted and e-mailed,
    and "Open" takes her to the task rather than to the case page that no longer opens for
    her. Once she records the task done, news of a case she may no longer open goes. Gail, of
    the guardian service (which works with children only, and holds no task), no longer hears
    the news linking to the case page."""
    child = turning_18
    task, _ = safeguarding.children_accommodation_task_open(
        case=child, needs=["A bed tonight"], due_on=timezone.localdate(), by=alice
    )
    page = reverse("cases:detail", args=[child.reference])
    hers = _told(lena, child, "case.child_referred", "Child referred in Testshire", page)
    gails = _told(gail, child, "case.child_referred", "Child referred (guardian)", page)

    assert coming_of_age.run(timezone.localdate()).turned_18 == 1
    assert Case.objects.get(pk=child.pk).age_group == AgeGroup.ADULT
    client = factories.signed_in_client(lena)
    assert client.get(page).status_code == 404
    html = client.get(reverse("notifications:list")).content.decode()
    assert "Child referred in Testshire" in html, (
        "the lead lost her news of a care leaver whose task her council still holds"
    )
    assert may_still_be_read(hers)
    assert not may_still_be_read(gails)
    opened = client.post(reverse("notifications:open", args=[hers.pk]))
    assert opened.status_code == 302
    assert opened["Location"] == reverse("safeguarding:task", args=[task.pk])
    assert client.get(opened["Location"]).status_code == 200

    safeguarding.children_services_task_done(by=lena, task=task, outcome="Placed with carers")
    html = client.get(reverse("notifications:list")).content.decode()
    assert "Child referred in Testshire" not in html
    assert not may_still_be_read(hers)
    assert client.post(reverse("notifications:open", args=[hers.pk])).status_code == 404


def test_her_count_agrees_with_the_list_for_a_care_leaver(
    lena: User, alice: User, turning_18: Case
) -> None:
    """The home page counts what the list shows: Lena's unread news of the care leaver whose
    task her council holds is counted after the birthday, as it is listed."""
    child = turning_18
    safeguarding.children_accommodation_task_open(
        case=child, needs=["A bed tonight"], due_on=timezone.localdate(), by=alice
    )
    _told(
        lena,
        child,
        "case.child_referred",
        "Child referred in Testshire",
        reverse("cases:detail", args=[child.reference]),
    )
    before = unread_count(lena)
    coming_of_age.run(timezone.localdate())
    # Her old news, and the message that the person is now 18 (linking to the task).
    assert unread_count(lena) == before + 1
    assert Notification.objects.filter(recipient=lena).count() == unread_count(lena)


@pytest.fixture
def fiona(db: None) -> tuple[User, Organisation]:
    """Safeguarding lead of Farshire Council, invited to the operation as a local authority."""
    farshire = factories.organisation(
        "Farshire Council", OrganisationKind.LOCAL_AUTHORITY, area="Farshire"
    )
    user = factories.user("fiona@example.org", organisation=farshire, role=Role.SAFEGUARDING_LEAD)
    return user, farshire


def test_an_age_dispute_after_an_operation_is_told_to_its_childrens_services_partners(
    alice: User,
    northmoor_police: Organisation,
    lena: User,
    fiona: tuple[User, Organisation],
    council: Organisation,
    routing: Organisation,
) -> None:
    """Alice takes in a man as an adult at Operation Larkspur, to which Farshire Council and
    Test Council are invited as local authorities, and refers him (his case is in Testshire).
    Later he says he is 16 and Alice records that his age is disputed. Expected: Farshire
    Council's lead, Fiona, invited to work on the operation's children, is told (a message
    naming nobody, linking to the operation's board, for her council), as she would have been
    had he been taken in as a child; Lena, Testshire's lead, is told by the dispute itself and
    not a second time as the operation's partner."""
    fiona_user, farshire = fiona
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
        for partner in (farshire, council):
            operations.operation_partner_invite(
                by=alice,
                operation=operation,
                organisation=partner,
                role=PartnerRole.LOCAL_AUTHORITY,
            )
    with time_machine.travel(op.DURING, tick=False):
        record = operations.reception_take_in(
            by=alice,
            operation=operation,
            name_or_description="man in blue",
            sex="male",
            age_group="adult",
            urgent_needs=[],
            interpreter_needed=False,
        )
        draft = record.draft
        for slug, data in r.ADULT_REFERRAL.items():
            draft = referrals.draft_save_answers(
                by=alice, draft=draft, step=steps.STEP_BY_SLUG[slug], data=data
            )
        case = referrals.referral_submit(by=alice, draft=draft).case
        assert case is not None
        assert case.age_group == AgeGroup.ADULT
        before = set(Notification.objects.values_list("pk", flat=True))
        safeguarding.age_dispute_raise(
            by=alice, case=case, basis=DisputeBasis.SAYS_SO, expected_version=case.version
        )
    news = Notification.objects.exclude(pk__in=before)
    to_fiona = list(news.filter(recipient=fiona_user))
    assert len(to_fiona) == 1, "the operation's local authority partner was not told"
    told = to_fiona[0]
    assert told.organisation_id == farshire.pk
    assert told.url == reverse("operations:board", args=[operation.pk])
    assert "man in blue" not in told.subject + told.body
    assert f"person {record.sequence}" in told.subject
    assert news.filter(recipient=lena, subject__contains="age disputed").count() == 1
    assert not news.filter(recipient=lena, kind="operations.age_disputed").exists()
