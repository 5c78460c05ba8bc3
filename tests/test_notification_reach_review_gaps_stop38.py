"""Review (notif, stop 38): who the worker still e-mails after they have moved on, and
e-mails whose subject could not be sent.

ADR 0008 (addenda of stops 36 and 38): the worker e-mails a notification only to someone who may
still read it. Two ways round that check remained; and a name typed on two lines (an
operation's, a site's code name) put a line break in e-mail subjects, which cannot be sent.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from opennrm.accommodation import services as accommodation
from opennrm.accommodation.forms import SiteForm
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.care import services as care
from opennrm.cases.models import Case
from opennrm.decisions import services as decisions
from opennrm.notifications import tasks
from opennrm.notifications.models import Notification
from opennrm.notifications.services import deliver
from opennrm.operations import services as operations
from opennrm.operations.forms import OperationForm
from opennrm.operations.models import Operation
from opennrm.referrals import services as referrals
from opennrm.safety import services as safety

from . import case_factories, factories, support_plan_helpers
from . import operation_helpers as op
from . import support_factories as support
from .test_operations_forecast import TODAY, at, histories, referred  # noqa: F401 (fixtures)

DUMMY_TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


def test_a_referrer_who_moved_to_a_charity_as_support_coordinator_is_not_emailed_her_old_forces_case(
    alice: User,
    bob: User,
    olivia: User,
    northmoor_police: Organisation,
    provider: Organisation,
    case: Case,
    dmitri: User,
) -> None:
    """Who is hurt: the potential victim whose case news leaves the force, and the first
    responder's old force. Dmitri asks Northmoor Police for more information on Alice's referral;
    the e-mails wait for the worker. Meanwhile Alice leaves Northmoor (Olivia removes her) and
    joins a support provider as a support coordinator, a common move from police to charity.
    When the worker runs, Alice is still e-mailed "More information asked for on <case>" with a
    link she can no longer open: `cases.selectors.may_hear_of_case` lets through anyone who
    holds the support coordinator or safe-house manager role anywhere, for any case at all,
    because coordinators are told of placements. The check fixed for a move to another force
    (tests/test_leavers_accounts_review_gaps.py) is bypassed by a move to a charity.
    Expected: a coordinator or manager is let through only for the news sent to them as such
    (placements, plans, missing episodes), not for referrer news of a case they cannot open;
    here only Bob is e-mailed."""
    with override_settings(TASKS=DUMMY_TASKS):
        referrals.information_request_ask(
            by=dmitri,
            case=case,
            question="When was she first recruited?",
            respond_by=timezone.localdate() + timedelta(days=7),
        )
    sent = list(Notification.objects.filter(kind="information.requested"))
    assert {n.recipient for n in sent} == {alice, bob}
    case_factories.leaves(alice, northmoor_police, by=olivia)
    Membership.objects.create(user=alice, organisation=provider, role=Role.SUPPORT_COORDINATOR)
    mail.outbox.clear()
    tasks.email_notifications.call([n.pk for n in sent])
    received = sorted(m.to[0] for m in mail.outbox)
    assert received == [bob.email], (
        "a first responder who moved to a support provider was e-mailed news of a case of the "
        f"force she left: {received}"
    )


def test_a_coordinator_is_still_emailed_the_news_of_a_case_told_to_coordinators(
    case: Case, cora: User
) -> None:
    """The other side of the rule above: what a support coordinator is told of a case she
    cannot open (here a missing person, linking to the missing episode's page of the support
    pages) still reaches her by e-mail. Only news linking elsewhere (the case's own pages) is
    held back from her."""
    with override_settings(TASKS=DUMMY_TASKS):
        told = deliver(
            recipients=[cora],
            kind="missing.reported",
            subject=f"Case {case.reference}: the person has gone missing",
            body="Reported missing.",
            url=reverse("support:missing_episode", args=[1]),
            case=case,
        )
        beside = deliver(
            recipients=[cora],
            kind="case.status_changed",
            subject=f"Case {case.reference}: status changed",
            body="Changed.",
            url=reverse("cases:detail", args=[case.reference]),
            case=case,
        )
    mail.outbox.clear()
    tasks.email_notifications.call([n.pk for n in told + beside])
    assert [m.subject for m in mail.outbox] == [
        f"OpenNRM: Case {case.reference}: the person has gone missing"
    ]


def test_operation_news_is_not_emailed_to_a_coordinator_who_moved_to_a_provider_not_invited(
    alice: User,
    northmoor_police: Organisation,
    provider: Organisation,
    cora: User,
) -> None:
    """Who is hurt: the police running an enforcement operation, and the people it is meant
    to find (ADR 0039: an operation is need-to-know, never a public record). Northmoor invites
    Cora's provider to Operation Larkspur; the invitation e-mail ("Your organisation has been
    invited to Operation Larkspur", with its dates) waits for the worker. Meanwhile Cora leaves
    that provider and joins another provider, never invited, as a support coordinator. The worker
    still e-mails her: `tasks._may_still_read` checks a notification with no case only for
    *some* role in force anywhere, so all operation news (invitations, children taken in, beds
    held, shortfalls; none of it has a case) reaches whoever held the role when it was made,
    wherever they now work. Expected: news of an operation is e-mailed only to someone still
    in an organisation that works on it (the lead or an invited partner), as
    `operations_visible_to` decides for its pages; here nobody."""
    with time_machine.travel(op.BEFORE, tick=False):
        larkspur = op.operation(alice, northmoor_police, confidential=False)
        with override_settings(TASKS=DUMMY_TASKS):
            operations.operation_partner_invite(
                by=alice, operation=larkspur, organisation=provider, role="support_provider"
            )
    sent = list(Notification.objects.filter(kind="operation.invited", recipient=cora))
    assert len(sent) == 1
    assert "Operation Larkspur" in sent[0].subject
    assert sent[0].organisation == provider
    elsewhere = factories.organisation("Uninvited Refuge", OrganisationKind.SUPPORT_PROVIDER)
    Membership.objects.filter(user=cora, organisation=provider).update(is_active=False)
    Membership.objects.create(user=cora, organisation=elsewhere, role=Role.SUPPORT_COORDINATOR)
    mail.outbox.clear()
    tasks.email_notifications.call([n.pk for n in sent])
    received = [(m.to[0], m.subject) for m in mail.outbox]
    assert received == [], (
        "a coordinator who left the invited provider for one never invited was e-mailed the "
        f"operation's invitation: {received}"
    )
    assert Notification.objects.get(pk=sent[0].pk).emailed_at is None


def test_operation_news_made_before_its_organisation_was_recorded_keeps_the_old_rule(
    cora: User,
) -> None:
    """A notification made before notifications 0003 records no organisation: it is e-mailed,
    as before, to whoever still holds a role in force."""
    with override_settings(TASKS=DUMMY_TASKS):
        told = deliver(
            recipients=[cora],
            kind="operation.invited",
            subject="Your organisation has been invited to Operation Larkspur",
            body="Invited.",
        )
    assert told[0].organisation is None
    mail.outbox.clear()
    tasks.email_notifications.call([told[0].pk])
    assert [m.to[0] for m in mail.outbox] == [cora.email]


def test_an_operation_named_with_a_line_break_still_gets_its_partners_emailed(
    alice: User,
    northmoor_police: Organisation,
    provider: Organisation,
    cora: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Who is hurt: the support provider (and, for a child taken in, the local authority) who
    must hear of an operation at once. The operation's name is typed by a police planner (page
    or API, `POST /api/v1/operations`) and nothing refuses a line break inside it
    (`operations.services._check_plan` only strips the ends; `lib.text.single_line` is used by
    casework alone). Every message about a non-secret operation puts the name in its subject
    ("Your organisation has been invited to ...", "...: a child taken in (person 1)", "...:
    short of places"), and an e-mail subject with a line break cannot be sent (Django refuses
    the header), so the worker fails on each of them: the partner is never e-mailed, while the
    page says it was told. Expected: a one-line name is required when the operation is planned
    or renamed (as casework's one-line fields are), or the subject is made one line, so the
    e-mail goes."""
    # The plan page's own form (and so the API, which checks its body with it) refuses it.
    form = OperationForm(op.plan_input(name="Operation\nLarkspur", confidential="no"))
    assert not form.is_valid()
    assert form.errors["name"] == [
        "The operation's name must be one line, without tabs or hidden control characters"
    ]
    with time_machine.travel(op.BEFORE, tick=False):
        # So does the service, when the operation is planned or renamed.
        with pytest.raises(ValidationError) as planned:
            op.operation(alice, northmoor_police, confidential=False, name="Operation\nLarkspur")
        assert "name" in planned.value.message_dict
        larkspur = op.operation(alice, northmoor_police, confidential=False)
        with pytest.raises(ValidationError) as renamed:
            operations.operation_change(
                by=alice,
                operation=larkspur,
                name="Operation\r\nLarkspur",
                confidential=False,
                starts_on=larkspur.starts_on,
                ends_on=larkspur.ends_on,
                region=larkspur.region,
                expected={("female", "adult", "sexual"): 30},
                languages=[],
            )
        assert "name" in renamed.value.message_dict
        # An operation named on two lines before names had to be one line is still e-mailed
        # about: the subject is made one line.
        Operation.objects.filter(pk=larkspur.pk).update(name="Operation\nLarkspur")
        larkspur.refresh_from_db()
        mail.outbox.clear()
        # The e-mails are queued once the invitation commits.
        with django_capture_on_commit_callbacks(execute=True):
            operations.operation_partner_invite(
                by=alice, operation=larkspur, organisation=provider, role="support_provider"
            )
    told = Notification.objects.filter(kind="operation.invited", recipient=cora)
    assert told.count() == 1
    received = [(m.to[0], m.subject) for m in mail.outbox]
    assert received == [
        (cora.email, "OpenNRM: Your organisation has been invited to Operation Larkspur")
    ], (
        "the operation was planned with a line break in its name, and the invitation e-mail "
        f"to its partner could not be sent: e-mailed {received}, emailed_at "
        f"{told.get().emailed_at}"
    )


def test_a_site_code_name_must_be_one_line(provider: Organisation, maya: User) -> None:
    """A site's code name is in the subject of the e-mails of a place offered or cancelled
    there ("A place at <code name> is offered for case ..."): the site form and the site
    services refuse a line break in it, as the operation's name."""
    form = SiteForm({"name": "North\nHouse"})
    assert not form.is_valid()
    assert form.errors["name"] == [
        "The code name must be one line, without tabs or hidden control characters"
    ]
    with pytest.raises(ValidationError) as made:
        support.site(maya, provider, name="North\nHouse")
    assert "name" in made.value.message_dict
    site = support.site(maya, provider, name="  North House  ")
    assert site.name == "North House"
    with pytest.raises(ValidationError) as renamed:
        accommodation.site_update(by=maya, site=site, name="North\tHouse")
    assert "name" in renamed.value.message_dict


# --- The organisation each provider's or partner's news is for (stop 38, second part) --------


def _moves(user: User, left: Organisation, role: Role, name: str) -> Organisation:
    """`user` leaves `left` and takes `role` at a new provider named `name`: a membership in
    force elsewhere, as someone who changed jobs keeps the same account."""
    joined = factories.organisation(name, OrganisationKind.SUPPORT_PROVIDER)
    Membership.objects.filter(user=user, organisation=left).update(is_active=False)
    Membership.objects.create(user=user, organisation=joined, role=role)
    return joined


def _emailed(notifications: list[Notification]) -> list[str]:
    """Who the worker e-mails of `notifications`, run now."""
    mail.outbox.clear()
    tasks.email_notifications.call([n.pk for n in notifications])
    return sorted(m.to[0] for m in mail.outbox)


@pytest.mark.usefixtures("histories")
def test_a_shortfall_warning_is_not_emailed_to_a_coordinator_who_moved_to_a_provider_not_invited(
    alice: User,
    bob: User,
    cora: User,
    northmoor_police: Organisation,
    provider: Organisation,
) -> None:
    """Who is hurt: the police running an enforcement operation (ADR 0039: need-to-know). Cora's
    provider is invited to Operation Larkspur while it is short of places, and the shortfall
    grows: she is warned with the lead's planners ("Operation Larkspur: short of places", with
    the figures). Before the worker runs she leaves for a provider never invited. She is still
    e-mailed: `gap_warning._tell` made one delivery for the lead's planners and the providers'
    coordinators together, so it recorded no organisation and the worker checked only for a
    role in force anywhere. Expected: each organisation's people are told in a delivery of
    their own, carrying it, so that the worker e-mails only who still works there."""
    with time_machine.travel(at(TODAY), tick=False), override_settings(TASKS=DUMMY_TASKS):
        larkspur = op.operation(
            alice,
            northmoor_police,
            confidential=False,
            region="north_west",
            starts_on=TODAY + timedelta(days=7),
            ends_on=TODAY + timedelta(days=9),
            expected={("female", "adult", "sexual"): 40},
        )
        operations.operation_partner_invite(
            by=alice, operation=larkspur, organisation=provider, role="support_provider"
        )
        operations.operation_change(
            by=alice,
            operation=larkspur,
            name=larkspur.name,
            confidential=False,
            starts_on=larkspur.starts_on,
            ends_on=larkspur.ends_on,
            region=larkspur.region,
            expected={("female", "adult", "sexual"): 50},
            languages=[],
        )
    warned = list(Notification.objects.filter(kind="operations.short_of_places").order_by("pk"))
    assert {(n.recipient, n.organisation) for n in warned} == {
        (alice, northmoor_police),
        (bob, northmoor_police),
        (cora, provider),
    }
    _moves(cora, provider, Role.SUPPORT_COORDINATOR, "Uninvited Refuge")
    received = _emailed(warned)
    assert cora.email not in received, (
        "a coordinator who left the invited provider for one never invited was e-mailed the "
        "operation's shortfall"
    )
    assert set(received) == {alice.email, bob.email}


def test_a_safe_house_manager_who_moved_to_another_provider_is_not_emailed_its_placement_news(
    cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    """Who is hurt: the person placed, and the provider housing them. Cora offers Maya's house a
    place for a case ("A place at <code name> is offered for case ...") and then cancels it;
    before the worker runs, Maya leaves to manage another provider's safe house. She is still
    e-mailed both (the case's reference and the first provider's code name of the house): a
    safe-house manager holds her role in force at the new provider, and nothing recorded that
    the news was the first provider's. Expected: a provider's news to its staff carries the
    provider, so that it is e-mailed only while they still work there. News told to the support
    coordinators nationally (a place accepted) is tied to no provider and is still e-mailed to
    any coordinator."""
    with override_settings(TASKS=DUMMY_TASKS):
        placement = support_plan_helpers.offered(cora, maya, provider, case)
        accommodation.placement_respond(by=maya, placement=placement, accept=True)
        accommodation.placement_cancel(by=cora, placement=placement)
    to_maya = list(
        Notification.objects.filter(
            recipient=maya, kind__in=["placement.offered", "placement.cancelled"]
        )
    )
    assert len(to_maya) == 2
    assert {n.organisation for n in to_maya} == {provider}
    to_cora = list(Notification.objects.filter(recipient=cora, kind="placement.accepted"))
    assert [n.organisation for n in to_cora] == [None]
    _moves(maya, provider, Role.SAFE_HOUSE_MANAGER, "Another Refuge")
    received = _emailed(to_maya + to_cora)
    assert received == [cora.email], (
        "a safe-house manager who moved to another provider was e-mailed the first provider's "
        f"placement news: {received}"
    )


def test_a_providers_coordinator_who_moved_away_is_not_emailed_the_risk_to_someone_it_houses(
    alice: User, cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    """The risk to a person living in Maya's house is raised: the house and its provider's
    support coordinators are told (`_lived_in_places_told`), as the provider's staff. Cora
    leaves the provider for another before the worker runs: she is not e-mailed it any more,
    and neither is Maya after she moves on too."""
    support_plan_helpers.living(cora, maya, provider, case)
    with override_settings(TASKS=DUMMY_TASKS):
        safety.safety_profile_save(
            by=alice,
            case=case,
            expected_version=None,
            risk_level="very_high",
            risk_reasons="The controller has learnt where she lives",
        )
    told = list(Notification.objects.filter(kind="placement.risk_changed"))
    assert {(n.recipient, n.organisation) for n in told} == {(maya, provider), (cora, provider)}
    _moves(cora, provider, Role.SUPPORT_COORDINATOR, "Another Refuge")
    _moves(maya, provider, Role.SAFE_HOUSE_MANAGER, "Third Refuge")
    assert _emailed(told) == []


def test_a_place_that_breaks_a_safety_condition_is_told_to_coordinators_nationally(
    alice: User, cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    """A place to keep away from learnt after the person moved in: the provider's safe-house
    managers are told as its staff (the provider recorded), the support coordinators
    nationally (none recorded: any coordinator may find them another place)."""
    support_plan_helpers.living(cora, maya, provider, case, region="north_west", area="Bolton")
    with override_settings(TASKS=DUMMY_TASKS):
        safety.safety_profile_save(
            by=alice,
            case=case,
            expected_version=None,
            risk_level="standard",
            risk_reasons="Her exploiters are in Bolton",
            keep_away=["Bolton"],
        )
    told = list(Notification.objects.filter(kind="placement.safety_broken"))
    assert {(n.recipient, n.organisation) for n in told} == {(maya, provider), (cora, None)}


def test_a_safe_house_manager_who_moved_away_is_not_emailed_that_a_person_she_housed_is_missing(
    cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    """A person living in Maya's house is reported missing: the house's safe-house managers
    are told as the provider's staff, the support coordinators nationally. Maya moves to
    another provider before the worker runs: she is not e-mailed; a coordinator still is."""
    support_plan_helpers.living(cora, maya, provider, case)
    elsewhere = factories.organisation("Far Refuge", OrganisationKind.SUPPORT_PROVIDER)
    carl = factories.user("carl@example.org", organisation=elsewhere, role=Role.SUPPORT_COORDINATOR)
    with override_settings(TASKS=DUMMY_TASKS):
        care.missing_report(
            by=cora, case=case, went_missing_on=timezone.localdate(), last_seen="Left at night"
        )
    told = list(Notification.objects.filter(kind="missing.reported", recipient__in=[maya, carl]))
    assert {(n.recipient, n.organisation) for n in told} == {(maya, provider), (carl, None)}
    _moves(maya, provider, Role.SAFE_HOUSE_MANAGER, "Another Refuge")
    assert _emailed(told) == [carl.email]


def test_a_manager_who_asked_for_a_reconsideration_and_moved_away_is_not_emailed_the_answer(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    cora: User,
    maya: User,
    provider: Organisation,
    dmitri: User,
    sally: User,
) -> None:
    """Maya asks, for her provider, for a negative decision to be reconsidered; the answer is
    told to her (`decisions.services._support_provider_to_tell`). She moves to another
    provider before the worker runs: the answer, the first provider's, is not e-mailed to
    her."""
    case = case_factories.refused_while_housed(
        alice, northmoor_police, authority, cora, maya, provider, dmitri, sally
    )
    request = decisions.reconsideration_request(
        by=maya,
        case=case,
        grounds="She has told us more about the work.",
        expected_version=case.version,
        support_provider=provider,
    )
    case.refresh_from_db()
    with override_settings(TASKS=DUMMY_TASKS):
        decisions.reconsideration_decide(
            by=dmitri,
            request=request,
            accept=False,
            reasons="The new account does not change the decision.",
            expected_version=case.version,
        )
    told = list(Notification.objects.filter(kind="reconsideration.decided", recipient=maya))
    assert [n.organisation for n in told] == [provider]
    _moves(maya, provider, Role.SAFE_HOUSE_MANAGER, "Another Refuge")
    assert _emailed(told) == []
