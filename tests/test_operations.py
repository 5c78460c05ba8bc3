"""Planned enforcement operations (issue 14, item 1): who plans one, who is invited, who sees it
(ADR 0039), and each of its pages."""

from __future__ import annotations

import inspect
import re
from datetime import date

import pytest
import time_machine
from django.urls import reverse

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.operations import selectors, services
from opennrm.operations.models import ExpectedGroup, Operation, OperationPartner, OperationStatus

from . import factories
from . import operation_helpers as op

# --- The people -----------------------------------------------------------------------------


@pytest.fixture
def senior(authority: Organisation) -> User:
    return factories.user(
        "sian@example.org", organisation=authority, role=Role.SENIOR_DECISION_MAKER
    )


@pytest.fixture
def grace(provider: Organisation) -> User:
    """A support coordinator at the provider that will be invited."""
    return factories.user("grace@example.org", organisation=provider, role=Role.SUPPORT_COORDINATOR)


@pytest.fixture
def uninvited(db: None) -> User:
    """A coordinator at another provider, never invited to anything."""
    elsewhere = factories.organisation("Other Refuge", OrganisationKind.SUPPORT_PROVIDER)
    return factories.user(
        "ursula@example.org", organisation=elsewhere, role=Role.SUPPORT_COORDINATOR
    )


@pytest.fixture
def larkspur(alice: User, northmoor_police: Organisation) -> Operation:
    with time_machine.travel(op.BEFORE, tick=False):
        return op.operation(alice, northmoor_police)


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


# --- Planning -------------------------------------------------------------------------------


def test_a_police_first_responder_and_a_senior_decision_maker_may_plan(
    alice: User, senior: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    assert list(selectors.organisations_planning_for(Actor(alice))) == [northmoor_police]
    assert list(selectors.organisations_planning_for(Actor(senior))) == [authority]


def test_a_council_first_responder_or_a_decision_maker_may_not(
    council: Organisation, authority: Organisation
) -> None:
    responder = factories.user(organisation=council, role=Role.FIRST_RESPONDER)
    decider = factories.user(organisation=authority, role=Role.DECISION_MAKER)
    assert not selectors.organisations_planning_for(Actor(responder)).exists()
    assert not selectors.organisations_planning_for(Actor(decider)).exists()


def test_planning_records_the_expected_groups_and_one_event(
    alice: User, northmoor_police: Organisation
) -> None:
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
    assert selectors.expected_total(operation) == 38
    assert ExpectedGroup.objects.filter(operation=operation).count() == 3
    events = _events("operation.planned")
    assert len(events) == 1
    assert events[0].organisation == northmoor_police
    assert events[0].detail == {"confidential": True, "expected": 38}


def test_a_plan_refuses_an_organisation_that_cannot_lead(
    alice: User, provider: Organisation
) -> None:
    with pytest.raises(services.ValidationError) as refused:
        op.operation(alice, provider)
    assert "cannot lead an operation" in str(refused.value)
    assert not Operation.objects.exists()


def test_a_plan_refuses_no_one_expected_and_unknown_languages(
    alice: User, northmoor_police: Organisation
) -> None:
    with pytest.raises(services.ValidationError) as refused:
        op.operation(alice, northmoor_police, expected={}, languages=["zz"])
    assert set(refused.value.message_dict) == {"expected", "languages"}


def test_the_status_follows_the_dates_and_cancelled_is_final(
    larkspur: Operation, alice: User
) -> None:
    assert larkspur.status_on(op.STARTS.replace(day=1)) == OperationStatus.PLANNED
    assert larkspur.status_on(op.STARTS) == OperationStatus.UNDER_WAY
    assert larkspur.status_on(op.ENDS) == OperationStatus.UNDER_WAY
    assert larkspur.status_on(op.ENDS.replace(day=17)) == OperationStatus.ENDED
    with time_machine.travel(op.DURING, tick=False):
        services.operation_cancel(by=alice, operation=larkspur)
        larkspur.refresh_from_db()
        assert larkspur.status_on(op.STARTS) == OperationStatus.CANCELLED
        with pytest.raises(services.ValidationError):
            services.operation_cancel(by=alice, operation=larkspur)
    assert len(_events("operation.cancelled")) == 1


def test_an_ended_operation_cannot_change(larkspur: Operation, alice: User) -> None:
    with time_machine.travel(op.AFTER, tick=False), pytest.raises(services.ValidationError):
        services.operation_partner_invite(
            by=alice, operation=larkspur, organisation=larkspur.lead_organisation, role="police"
        )


def test_every_operations_service_leaves_one_event(
    alice: User, northmoor_police: Organisation, provider: Organisation
) -> None:
    """Each public service of the app, called once: exactly one new event, its own."""
    public = {
        name
        for name, fn in inspect.getmembers(services, inspect.isfunction)
        if fn.__module__ == services.__name__ and not name.startswith("_")
    }
    assert public == {
        "operation_plan",
        "operation_change",
        "operation_partner_invite",
        "operation_cancel",
        "reception_take_in",
        "reception_names_shown",
        "reception_missing",
        "reception_draft_hand_over",
        "history_rollup_rebuild",
        # Inside privacy's erasure, whose one event (person.erased or person.pseudonymised)
        # covers it: tests/test_erasure_reaches_everything.py.
        "reception_records_pseudonymise",
        # Inside privacy's retention run, whose one event (retention.applied) counts it.
        "reception_names_unreferred_delete",
    }
    with time_machine.travel(op.BEFORE, tick=False):
        calls = [
            ("operation.planned", lambda: op.operation(alice, northmoor_police)),
            (
                "operation.changed",
                lambda: services.operation_change(
                    by=alice,
                    operation=Operation.objects.get(),
                    name="Operation Larkspur II",
                    confidential=False,
                    starts_on=op.STARTS,
                    ends_on=op.ENDS,
                    region="london",
                    expected={("male", "child", "criminal"): 2},
                    languages=[],
                ),
            ),
            (
                "operation.partner_invited",
                lambda: services.operation_partner_invite(
                    by=alice,
                    operation=Operation.objects.get(),
                    organisation=provider,
                    role="support_provider",
                ),
            ),
            (
                "operation.cancelled",
                lambda: services.operation_cancel(by=alice, operation=Operation.objects.get()),
            ),
        ]
        for action, call in calls:
            last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            call()
            new = list(AuditEvent.objects.filter(pk__gt=last).values_list("action", flat=True))
            assert new == [action]
    larkspur = op.operation(alice, northmoor_police, starts_on=op.STARTS, name="Larkspur III")
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with time_machine.travel(op.DURING, tick=False):
        services.reception_take_in(
            by=alice, operation=larkspur, name_or_description="Ana", sex="female", age_group="adult"
        )
    new = list(AuditEvent.objects.filter(pk__gt=last).values_list("action", flat=True))
    assert new == ["operations.person_taken_in"]
    # A read of names: one event when some are shown, none when none is.
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    services.reception_names_shown(by=alice, operation=larkspur, sequences=[])
    services.reception_names_shown(by=alice, operation=larkspur, sequences=[1, 1])
    new_events = AuditEvent.objects.filter(pk__gt=last)
    assert [(e.action, e.detail["reception_sequences"]) for e in new_events] == [
        ("person.viewed", [1])
    ]
    for missing, action in (
        (True, "operations.person_missing"),
        (False, "operations.person_found"),
    ):
        last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        services.reception_missing(by=alice, record=larkspur.reception.get(), missing=missing)
        new = list(AuditEvent.objects.filter(pk__gt=last).values_list("action", flat=True))
        assert new == [action]
    bob = factories.user(
        "bob@example.org", organisation=northmoor_police, role=Role.FIRST_RESPONDER
    )
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    services.reception_draft_hand_over(by=alice, record=larkspur.reception.get(), to=bob)
    new = list(AuditEvent.objects.filter(pk__gt=last).values_list("action", flat=True))
    assert new == ["operations.draft_handed_over"]
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    services.history_rollup_rebuild(date(2027, 3, 12))
    new_events = AuditEvent.objects.filter(pk__gt=last)
    assert [(e.action, e.actor_id, e.detail["covers_before"]) for e in new_events] == [
        ("operations.history_counted", None, "2027-03-12")
    ]


# --- Partners -------------------------------------------------------------------------------


def test_inviting_a_partner_records_one_event(
    larkspur: Operation, alice: User, grace: User, provider: Organisation
) -> None:
    with time_machine.travel(op.BEFORE, tick=False):
        services.operation_partner_invite(
            by=alice, operation=larkspur, organisation=provider, role="support_provider"
        )
    assert OperationPartner.objects.get().organisation == provider
    events = _events("operation.partner_invited")
    assert len(events) == 1
    assert events[0].detail == {
        "partner_organisation": provider.id,
        "role": "support_provider",
        "told": 1,
    }


def test_a_partner_role_must_fit_the_organisation_and_comes_once(
    larkspur: Operation, alice: User, provider: Organisation, northmoor_police: Organisation
) -> None:
    with time_machine.travel(op.BEFORE, tick=False):
        with pytest.raises(services.ValidationError) as refused:
            services.operation_partner_invite(
                by=alice, operation=larkspur, organisation=provider, role="local_authority"
            )
        assert "Test Refuge is not a local authority" in str(refused.value)
        with pytest.raises(services.ValidationError):
            services.operation_partner_invite(
                by=alice, operation=larkspur, organisation=northmoor_police, role="police"
            )
        services.operation_partner_invite(
            by=alice, operation=larkspur, organisation=provider, role="support_provider"
        )
        with pytest.raises(services.ValidationError) as again:
            services.operation_partner_invite(
                by=alice, operation=larkspur, organisation=provider, role="support_provider"
            )
    assert "already invited" in str(again.value)
    assert len(_events("operation.partner_invited")) == 1


# --- Who sees it (ADR 0039) -------------------------------------------------------------------


def test_only_the_lead_and_invited_organisations_see_an_operation(
    larkspur: Operation,
    alice: User,
    bob: User,
    grace: User,
    uninvited: User,
    charlie: User,
    provider: Organisation,
) -> None:
    def sees(user: User) -> bool:
        return selectors.operations_visible_to(Actor(user)).filter(id=larkspur.id).exists()

    assert sees(alice)
    assert sees(bob)
    assert not sees(grace)
    assert not sees(uninvited)
    assert not sees(charlie)
    with time_machine.travel(op.BEFORE, tick=False):
        services.operation_partner_invite(
            by=alice, operation=larkspur, organisation=provider, role="support_provider"
        )
    assert sees(grace)
    assert not sees(uninvited)
    assert not sees(charlie)
    # A non-confidential operation is need-to-know too.
    Operation.objects.filter(id=larkspur.id).update(confidential=False)
    assert not sees(uninvited)
    assert not sees(charlie)
    # After its start, the flag still hides nothing from an organisation invited later, and
    # still everything from those never invited.
    Operation.objects.filter(id=larkspur.id).update(confidential=True)
    with time_machine.travel(op.DURING, tick=False):
        assert not sees(uninvited)


def test_a_member_sees_only_through_a_role_that_works_on_operations(
    larkspur: Operation, northmoor_police: Organisation
) -> None:
    admin = factories.user(organisation=northmoor_police, role=Role.ORGANISATION_ADMIN)
    assert not selectors.operations_visible_to(Actor(admin)).exists()


def test_a_confidential_operation_is_secret_until_it_starts(larkspur: Operation) -> None:
    assert selectors.operation_is_secret(larkspur, op.STARTS.replace(day=9))
    assert not selectors.operation_is_secret(larkspur, op.STARTS)
    assert not selectors.operations_not_secret(op.STARTS.replace(day=9)).exists()
    assert list(selectors.operations_not_secret(op.STARTS)) == [larkspur]


def test_an_uninvited_organisation_gets_404_on_every_operations_route(
    larkspur: Operation, uninvited: User, charlie: User, alice: User
) -> None:
    """Every route of the app with this operation's id: for a provider never invited and for
    another police force's planner, exactly as for an operation that does not exist."""
    from . import routes

    walked = [(name, route) for name, route in routes.routes() if name.startswith("operations:")]
    with_id = [
        (
            name,
            # a surge's or a hold's own id, a person's number: the operation's 404 comes first
            re.sub(r"<int:\w+>", "1", route.replace("<int:operation_id>", str(larkspur.id))),
            routes.declared_methods(name, route),
        )
        for name, route in walked
        if "<int:operation_id>" in route
    ]
    lead_pages = {
        "operations:detail",
        "operations:edit",
        "operations:partner_invite",
        "operations:cancel",
        "operations:reception",
        "operations:board",
        "operations:report",
    }
    surge_pages = {
        "operations:surge_add",
        "operations:surge_end",
        "operations:beds_hold",
        "operations:hold_release",
    }
    # Recording a person taken in as missing (POST only; ADR 0043).
    reception_actions = {"operations:reception_missing", "operations:reception_hand_over"}
    assert {name for name, _, _ in with_id} == lead_pages | surge_pages | reception_actions
    for outsider in (uninvited, charlie):
        client = factories.signed_in_client(outsider)
        for name, route, methods in with_id:
            # Each method the page takes (any other is 405 for every id, so tells nothing).
            for method in {"GET", "POST"} & set(methods or ()):
                response = client.generic(method, "/" + route)
                assert response.status_code == 404, (outsider, name, method)
        listing = client.get(reverse("operations:list")).content.decode()
        assert "Larkspur" not in listing
    # The lead's own view of the same routes answers.
    with time_machine.travel(op.BEFORE, tick=False):
        lead = factories.signed_in_client(alice)
        for name, route, _ in with_id:
            if name in lead_pages:
                assert lead.get("/" + route).status_code == 200, name
    assert len(_events("operation.cancelled")) == 0


# --- The pages ------------------------------------------------------------------------------


@pytest.mark.page("operations:list")
def test_the_list_shows_operations_led_and_invited_to(
    larkspur: Operation, alice: User, grace: User, uninvited: User, provider: Organisation
) -> None:
    with time_machine.travel(op.BEFORE, tick=False):
        services.operation_partner_invite(
            by=alice, operation=larkspur, organisation=provider, role="support_provider"
        )
        url = reverse("operations:list")
        lead = factories.signed_in_client(alice)
        assert lead.post(url).status_code == 405
        page = lead.get(url).content.decode()
        assert "Plan an operation" in page
        led = page.split("Led by your organisation")[1].split("Invited to")[0]
        assert "Operation Larkspur" in led
        invited_page = factories.signed_in_client(grace).get(url).content.decode()
        invited = invited_page.split("Invited to")[1]
        assert "Operation Larkspur" in invited
        assert "Plan an operation" not in invited_page
        assert (
            "Operation Larkspur"
            not in factories.signed_in_client(uninvited).get(url).content.decode()
        )


@pytest.mark.page("operations:plan")
def test_a_police_first_responder_plans_an_operation(
    alice: User, northmoor_police: Organisation, council: Organisation
) -> None:
    url = reverse("operations:plan")
    with time_machine.travel(op.BEFORE, tick=False):
        client = factories.signed_in_client(alice)
        assert client.put(url).status_code == 405
        assert "How many people do you expect to find?" in client.get(url).content.decode()
        response = client.post(url, op.plan_input())
        # A council's first responder may open no plan: their organisation cannot lead.
        council_responder = factories.user(organisation=council, role=Role.FIRST_RESPONDER)
        assert factories.signed_in_client(council_responder).get(url).status_code == 404
    operation = Operation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("operations:detail", args=[operation.id])
    assert operation.lead_organisation == northmoor_police
    assert operation.confidential
    assert (operation.starts_on, operation.ends_on) == (op.STARTS, op.ENDS)
    assert operation.languages == ["ro", "vi"]
    assert selectors.expected_total(operation) == 38
    assert (
        ExpectedGroup.objects.get(
            operation=operation, sex="female", age_group="child", exploitation_type="sexual"
        ).number
        == 3
    )
    assert len(_events("operation.planned")) == 1


def test_a_plan_with_mistakes_says_what_is_wrong_and_keeps_what_was_entered(
    alice: User,
) -> None:
    with time_machine.travel(op.BEFORE, tick=False):
        client = factories.signed_in_client(alice)
        page = client.post(
            reverse("operations:plan"),
            op.plan_input(
                name="Operation Foxglove",
                n_female_adult_sexual="lots",
                n_male_adult_labour="-2",
                ends_on_day="2",
            ),
        ).content.decode()
    assert "There is a problem" in page
    assert "Female, adults: sexual must be a whole number, like 3" in page
    assert "Male, adults: labour must be 0 or more" in page
    assert "The end date must be on or after the start date" in page
    assert 'value="Operation Foxglove"' in page
    assert 'value="lots"' in page
    assert 'value="3"' in page  # the girls, kept
    assert not Operation.objects.exists()


def test_a_plan_with_nobody_expected_is_refused(alice: User) -> None:
    empty = {k: v for k, v in op.plan_input().items() if not k.startswith("n_")}
    with time_machine.travel(op.BEFORE, tick=False):
        page = factories.signed_in_client(alice).post(reverse("operations:plan"), empty)
    assert "Enter how many people you expect to find in at least one group" in page.content.decode()
    assert not Operation.objects.exists()


@pytest.mark.page("operations:detail")
def test_the_operation_page_shows_the_plan_partners_and_totals(
    larkspur: Operation, alice: User, grace: User, provider: Organisation, uninvited: User
) -> None:
    url = reverse("operations:detail", args=[larkspur.id])
    with time_machine.travel(op.BEFORE, tick=False):
        services.operation_partner_invite(
            by=alice, operation=larkspur, organisation=provider, role="support_provider"
        )
        assert factories.signed_in_client(uninvited).get(url).status_code == 404
        client = factories.signed_in_client(grace)
        assert client.post(url).status_code == 405
        page = client.get(url).content.decode()
    assert "Operation Larkspur" in page
    assert "Confidential until it starts on 10 March 2027" in page
    assert "Test Refuge: support provider" in page
    assert "38 (3 children or age disputed)" in page
    assert "Romanian" in page
    assert "Female, children" in page
    # A partner cannot change the plan: no links to.
    assert reverse("operations:edit", args=[larkspur.id]) not in page


@pytest.mark.page("operations:partner_invite")
def test_the_lead_invites_a_partner(
    larkspur: Operation, alice: User, grace: User, provider: Organisation
) -> None:
    url = reverse("operations:partner_invite", args=[larkspur.id])
    with time_machine.travel(op.BEFORE, tick=False):
        services.operation_partner_invite(
            by=alice, operation=larkspur, organisation=provider, role="support_provider"
        )
        council = factories.organisation("Harbour Council", OrganisationKind.LOCAL_AUTHORITY)
        # An invited partner's coordinator may see the operation, not invite to it.
        assert factories.signed_in_client(grace).get(url).status_code == 404
        client = factories.signed_in_client(alice)
        assert client.put(url).status_code == 405
        form = client.get(url).content.decode()
        assert "Harbour Council" in form
        assert "Test Refuge" not in form  # already invited
        wrong = client.post(url, {"organisation": council.id, "role": "support_provider"})
        assert "Harbour Council is not a support provider" in wrong.content.decode()
        response = client.post(url, {"organisation": council.id, "role": "local_authority"})
    assert response.status_code == 302
    assert larkspur.partners.filter(organisation=council, role="local_authority").exists()
    assert len(_events("operation.partner_invited")) == 2


@pytest.mark.page("operations:edit")
def test_the_lead_changes_the_plan(larkspur: Operation, alice: User, grace: User) -> None:
    url = reverse("operations:edit", args=[larkspur.id])
    with time_machine.travel(op.BEFORE, tick=False):
        services.operation_partner_invite(
            by=alice,
            operation=larkspur,
            organisation=Organisation.objects.get(name="Test Refuge"),
            role="support_provider",
        )
        assert factories.signed_in_client(grace).get(url).status_code == 404
        client = factories.signed_in_client(alice)
        assert client.delete(url).status_code == 405
        form = client.get(url).content.decode()
        assert 'value="Operation Larkspur"' in form
        assert 'value="30"' in form
        response = client.post(
            url, op.plan_input(confidential="no", n_female_adult_sexual="40", ends_on_day="17")
        )
    assert response.status_code == 302
    larkspur.refresh_from_db()
    assert not larkspur.confidential
    assert larkspur.ends_on == op.ENDS.replace(day=17)
    assert selectors.expected_total(larkspur) == 48
    assert len(_events("operation.changed")) == 1


@pytest.mark.page("operations:cancel")
def test_the_lead_cancels_an_operation(larkspur: Operation, alice: User, bob: User) -> None:
    url = reverse("operations:cancel", args=[larkspur.id])
    with time_machine.travel(op.BEFORE, tick=False):
        client = factories.signed_in_client(alice)
        assert client.put(url).status_code == 405
        assert "Cancel the operation" in client.get(url).content.decode()
        response = client.post(url)
        larkspur.refresh_from_db()
        assert larkspur.status_on(op.STARTS) == OperationStatus.CANCELLED
        assert larkspur.cancelled_by == alice
        # Again: refused, said plainly.
        again = factories.signed_in_client(bob).post(url).content.decode()
    assert response.status_code == 302
    assert "This operation was cancelled: it cannot change" in again
    assert len(_events("operation.cancelled")) == 1


def test_a_planner_in_two_organisations_chooses_which_leads(
    alice: User, authority: Organisation, northmoor_police: Organisation
) -> None:
    from opennrm.accounts.models import Membership

    Membership.objects.create(user=alice, organisation=authority, role=Role.SENIOR_DECISION_MAKER)
    url = reverse("operations:plan")
    with time_machine.travel(op.BEFORE, tick=False):
        client = factories.signed_in_client(alice)
        assert "Which organisation leads it?" in client.get(url).content.decode()
        unchosen = client.post(url, op.plan_input()).content.decode()
        assert "Select an answer to \u2018Which organisation leads it?\u2019" in unchosen
        assert not Operation.objects.exists()
        client.post(url, op.plan_input(lead_organisation=str(authority.id)))
    assert Operation.objects.get().lead_organisation == authority


def test_an_invitation_tells_the_partner_and_says_nothing_of_a_secret_operation(
    larkspur: Operation, alice: User, grace: User, uninvited: User, provider: Organisation
) -> None:
    from opennrm.notifications.models import Notification

    admin = factories.user(organisation=provider, role=Role.ORGANISATION_ADMIN)
    council = factories.organisation("Harbour Council", OrganisationKind.LOCAL_AUTHORITY)
    ravi = factories.user(organisation=council, role=Role.SAFEGUARDING_LEAD)
    with time_machine.travel(op.BEFORE, tick=False):
        services.operation_partner_invite(
            by=alice, operation=larkspur, organisation=provider, role="support_provider"
        )
    secret = Notification.objects.get()
    assert secret.recipient == grace
    assert secret.subject == "Your organisation has been invited to a confidential operation"
    for leak in ("Larkspur", "March", "2027", "North East", "Northmoor"):
        assert leak not in secret.subject + secret.body
    assert secret.url == reverse("operations:detail", args=[larkspur.id])
    # Once started, the message names it.
    with time_machine.travel(op.DURING, tick=False):
        services.operation_partner_invite(
            by=alice, operation=larkspur, organisation=council, role="local_authority"
        )
    told = Notification.objects.get(recipient=ravi)
    assert told.subject == "Your organisation has been invited to Operation Larkspur"
    assert "from 10 March 2027 to 16 March 2027" in told.body
    assert not Notification.objects.filter(recipient__in=[admin, uninvited, alice]).exists()
    assert [e.detail["told"] for e in _events("operation.partner_invited")] == [1, 1]
