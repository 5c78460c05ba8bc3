"""The demo-data command: every role, idempotent, and never outside demo mode."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.urls import reverse

from opennrm.accounts import demo
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import Role, roles_allowed_in


@override_settings(DEMO=True)
def test_demo_data_covers_every_role_and_is_idempotent(
    db: None, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("demo_data")
    counts = (Organisation.objects.count(), User.objects.count(), Membership.objects.count())
    call_command("demo_data")
    assert (
        Organisation.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
    ) == counts
    assert {Role(m.role) for m in Membership.objects.all()} == set(Role)
    output = capsys.readouterr().out
    assert demo.DEMO_PASSWORD in output
    for account in demo.ACCOUNTS:
        assert account.email in output
    for membership in Membership.objects.select_related("organisation"):
        assert membership.role in roles_allowed_in(membership.organisation.kind)


@override_settings(DEMO=True)
def test_demo_user_reaches_their_home_page(db: None) -> None:
    call_command("demo_data")
    client = Client()
    response = client.post(
        reverse("accounts:sign_in"),
        {"email": "decisions@demo.opennrm.test", "password": demo.DEMO_PASSWORD},
    )
    assert response["Location"] == "/"
    html = client.get("/").content.decode()
    assert "Decision maker" in html
    assert "Eastgate Competent Authority" in html


@override_settings(DEMO=False)
def test_demo_data_refuses_outside_demo_mode(db: None) -> None:
    with pytest.raises(CommandError, match="only runs with OPENNRM_DEMO=true"):
        call_command("demo_data")
    assert not User.objects.exists()


@override_settings(DEMO=True)
def test_demo_cases_are_at_each_stage_and_none_is_overdue_by_years(db: None) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from opennrm.cases.choices import CaseStatus
    from opennrm.cases.models import Case

    call_command("demo_data")
    today = timezone.localdate()
    statuses = set(Case.objects.values_list("status", flat=True))
    assert {
        CaseStatus.AWAITING_REASONABLE_GROUNDS,
        CaseStatus.RECOVERY_PERIOD,
        CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS,
        CaseStatus.NEGATIVE_REASONABLE_GROUNDS,
    } <= statuses
    # Someone past their recovery period, ready for a conclusive grounds decision.
    assert Case.objects.filter(
        status=CaseStatus.RECOVERY_PERIOD,
        recovery_period_ends__lt=today,
        conclusive_grounds_from__lte=today,
    ).exists()
    # Nobody waits years for a reasonable grounds decision, and nobody was referred long
    # before the history of stays the demo shows.
    assert not Case.objects.filter(
        status=CaseStatus.AWAITING_REASONABLE_GROUNDS,
        reasonable_grounds_due__lt=today - timedelta(days=30),
    ).exists()
    assert not Case.objects.filter(submitted_at__lt=timezone.now() - timedelta(days=365)).exists()
    for case in Case.objects.exclude(status=CaseStatus.AWAITING_REASONABLE_GROUNDS):
        decided = case.decisions.order_by("decided_at").first()
        assert decided is not None, case.reference
        assert decided.decided_at >= case.submitted_at, case.reference


@override_settings(DEMO=True)
def test_demo_data_publishes_one_release_approved_by_the_second_analyst(db: None) -> None:
    from decimal import Decimal

    from opennrm.statistics.models import ReleaseVersion, SyntheticDataset, VersionState

    call_command("demo_data")
    call_command("demo_data")  # idempotent: still one
    version = ReleaseVersion.objects.get()
    assert version.state == VersionState.PUBLISHED
    assert version.prepared_by.email == "analyst@demo.opennrm.test"
    assert version.approved_by is not None
    assert version.approved_by.email == "analyst2@demo.opennrm.test"
    page = Client().get("/official-statistics/").content.decode()
    assert version.snapshot["title"] in page
    # With a synthetic dataset of epsilon 1, downloadable from the public page.
    assert SyntheticDataset.objects.get().epsilon == Decimal("1")
    assert version.snapshot["synthetic"]["epsilon"] == 1.0
    base = f"/official-statistics/{version.release_id}/1/"
    assert "Synthetic data" in Client().get(base).content.decode()
    assert Client().get(f"{base}synthetic.csv").status_code == 200


@override_settings(DEMO=True)
def test_demo_data_has_a_confidential_operation_under_way_seen_only_by_its_partners(
    db: None,
) -> None:
    from django.utils import timezone

    from opennrm.accounts.actor import Actor
    from opennrm.operations import selectors
    from opennrm.operations.models import AgeGroup, Operation, OperationStatus

    call_command("demo_data")
    call_command("demo_data")
    operation = Operation.objects.get()
    assert operation.name.startswith("Operation Harbour Lights")
    assert operation.confidential
    assert operation.status_on(timezone.localdate()) == OperationStatus.UNDER_WAY
    assert operation.days == 7
    groups = list(operation.expected.all())
    assert sum(g.number for g in groups) == 167
    women = sum(g.number for g in groups if g.sex == "female")
    assert women > 167 / 2
    assert sum(g.number for g in groups if g.age_group != AgeGroup.ADULT) > 0
    assert {p.role for p in operation.partners.all()} == {
        "support_provider",
        "local_authority",
        "competent_authority",
    }

    def sees(email: str) -> bool:
        actor = Actor(User.objects.get(email=email))
        return selectors.operations_visible_to(actor).filter(id=operation.id).exists()

    for partner in ("responder", "coordinator", "safehouse", "safeguarding", "decisions"):
        assert sees(f"{partner}@demo.opennrm.test"), partner
    # The charity's outreach worker and the guardians were not invited.
    assert not sees("outreach@demo.opennrm.test")
    assert not sees("guardian@demo.opennrm.test")


@override_settings(DEMO=True)
def test_demo_data_plans_a_removal_for_a_protected_person_and_alerts_once(db: None) -> None:
    from opennrm.notifications.models import Notification
    from opennrm.protection.models import PlannedRemoval

    call_command("demo_data")
    call_command("demo_data")
    planned = PlannedRemoval.objects.get()
    assert planned.protected
    assert planned.recorded_by.email == "enforcement@demo.opennrm.test"
    told = Notification.objects.filter(kind="protection.planned_removal")
    assert told.count() == planned.alerted > 0
    assert told.filter(recipient__email="responder@demo.opennrm.test").exists()
