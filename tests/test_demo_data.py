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
def test_a_negative_number_of_people_loads_nothing(db: None) -> None:
    """A mistyped option is refused before anything is loaded, not after the demo data."""
    with pytest.raises(CommandError, match="--people must be 0 or more"):
        call_command("demo_data", people=-1)
    assert not User.objects.exists()
    assert not Organisation.objects.exists()


@override_settings(DEMO=True)
def test_demo_data_says_a_changed_password_is_kept(
    db: None, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("demo_data")
    user = User.objects.get(email="decisions@demo.opennrm.test")
    user.set_password("a-new-password-of-hers")
    user.save()
    call_command("demo_data")
    user.refresh_from_db()
    assert user.check_password("a-new-password-of-hers")
    assert "a changed password is kept" in capsys.readouterr().out


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
def test_demo_data_publishes_two_releases_approved_by_the_second_analyst(db: None) -> None:
    """The last quarter's, and the public account of the demo's ended operation."""
    from decimal import Decimal

    from opennrm.statistics.models import ReleaseVersion, SyntheticDataset, VersionState

    call_command("demo_data")
    call_command("demo_data")  # idempotent: still two
    assert ReleaseVersion.objects.count() == 2
    account = ReleaseVersion.objects.get(release__operation_id__isnull=False)
    assert account.state == VersionState.PUBLISHED
    assert account.approved_by is not None
    assert account.approved_by.email == "analyst2@demo.opennrm.test"
    assert account.snapshot["operation"]["name"] == "Operation Harbour Lights (fictional)"
    assert account.snapshot["title"] in Client().get("/official-statistics/").content.decode()
    version = ReleaseVersion.objects.get(release__operation_id=None)
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
def test_demo_data_has_an_ended_operation_and_a_confidential_one_planned_seen_only_by_partners(
    db: None,
) -> None:
    from django.utils import timezone

    from opennrm.accounts.actor import Actor
    from opennrm.operations import demo as operations_demo
    from opennrm.operations import selectors
    from opennrm.operations.models import AgeGroup, Operation, OperationStatus

    call_command("demo_data")
    call_command("demo_data")
    today = timezone.localdate()
    operation = Operation.objects.get(name=operations_demo.NAME)
    upcoming = Operation.objects.get(name=operations_demo.UPCOMING)
    assert Operation.objects.count() == 2
    assert operation.confidential
    assert upcoming.confidential
    assert operation.status_on(today) == OperationStatus.ENDED
    assert (today - operation.ends_on).days == 3
    assert operation.days == 7
    assert upcoming.status_on(today) == OperationStatus.PLANNED
    assert selectors.operation_is_secret(upcoming)
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

    def sees(email: str, which: Operation) -> bool:
        actor = Actor(User.objects.get(email=email))
        return selectors.operations_visible_to(actor).filter(id=which.id).exists()

    for partner in ("responder", "coordinator", "safehouse", "safeguarding", "decisions"):
        assert sees(f"{partner}@demo.opennrm.test", operation), partner
        assert sees(f"{partner}@demo.opennrm.test", upcoming), partner
    # The charity's outreach worker was invited to neither; the guardians to the next only.
    assert not sees("outreach@demo.opennrm.test", operation)
    assert not sees("outreach@demo.opennrm.test", upcoming)
    assert not sees("guardian@demo.opennrm.test", operation)
    assert sees("guardian@demo.opennrm.test", upcoming)


@override_settings(DEMO=True)
def test_the_demo_operation_took_in_167_people_over_its_week_and_what_followed(
    db: None,
) -> None:
    from collections import Counter
    from datetime import timedelta

    from django.utils import timezone

    from opennrm.accommodation.models import Bed, BedHold, Placement, Site
    from opennrm.operations import demo as operations_demo
    from opennrm.operations import selectors
    from opennrm.operations.models import Operation, ReceptionRecord
    from opennrm.operations.selectors import Standing

    call_command("demo_data")
    call_command("demo_data")  # idempotent: nobody taken in twice
    operation = Operation.objects.get(name=operations_demo.NAME)
    upcoming = Operation.objects.get(name=operations_demo.UPCOMING)
    records = list(selectors.reception_of(operation))
    assert [r.sequence for r in records] == list(range(1, 168))
    assert ReceptionRecord.objects.count() == 167
    days = {timezone.localdate(r.taken_in_at) for r in records}
    assert min(days) == operation.starts_on
    assert all(operation.starts_on <= day <= operation.ends_on + timedelta(days=1) for day in days)
    assert len(days) >= 7
    standings = Counter(selectors.standing_of(r) for r in records)
    assert standings[Standing.PLACED] == 18
    assert standings[Standing.MISSING] == 2
    assert standings[Standing.DECLINED] == 5
    assert standings[Standing.DUTY_TO_NOTIFY] == 12
    assert standings[Standing.WAITING_FOR_BED] > 50
    assert standings[Standing.REFERRED] > 0
    # The children were referred as children, never to adult matching.
    children = [r for r in records if r.is_child]
    assert children
    assert all(r.draft.case.is_child for r in children)
    assert not Placement.objects.filter(request__case__in=[r.draft.case for r in children])

    # The women's safe house: 35 beds, 27 occupied and 8 free today, 2 of those held for the
    # next operation; the 10 surge places all taken by women of Harbour Lights.
    house = Site.objects.get(name="Lantern House A")
    own = Bed.objects.filter(room__site=house, operation_id=None)
    taken = Placement.objects.holding_a_bed().values_list("bed_id", flat=True)
    assert own.count() == 35
    assert own.filter(pk__in=taken).count() == 27
    surge = Bed.objects.filter(operation_id=operation.pk)
    assert surge.count() == 10
    assert surge.filter(pk__in=taken).count() == 10
    held = BedHold.objects.filter(operation_id=upcoming.pk, released_at=None)
    assert held.count() == 2
    assert not held.filter(bed__in=own.filter(pk__in=taken)).exists()
    # The next operation's forecast: far more women expected than places.
    forecast = selectors.operation_bed_forecast(upcoming)
    assert forecast is not None
    women = next(gap for gap in forecast.gaps if gap.kind == "women")
    assert women.free == 6
    assert women.surge == 12
    assert max(women.shortfall_by_day) > 0

    # Decisions followed: positive for the women placed, one negative (approved), two missing.
    from opennrm.decisions.models import Decision

    decided = Decision.objects.filter(
        case__in=[r.draft.case for r in records if r.draft and r.draft.case]
    )
    outcomes = Counter(decided.values_list("outcome_kind", flat=True))
    assert outcomes["positive"] == 18
    assert outcomes["negative"] == 1


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
    # For a woman taken in during the demo operation whose referral is still being made.
    assert planned.reference.startswith("OPR-")


@override_settings(DEMO=True)
def test_the_demo_operations_pages_have_something_to_show(db: None) -> None:
    from opennrm.operations import demo as operations_demo
    from opennrm.operations.models import Operation, ReceptionRecord
    from opennrm.protection.models import PlannedRemoval
    from tests import factories

    call_command("demo_data")
    ended = Operation.objects.get(name=operations_demo.NAME)
    upcoming = Operation.objects.get(name=operations_demo.UPCOMING)

    def page(email: str, url: str, method: str = "get", **data: str) -> str:
        client = factories.signed_in_client(User.objects.get(email=f"{email}@demo.opennrm.test"))
        response = getattr(client, method)(url, data)
        assert response.status_code == 200, (email, url)
        return response.content.decode()

    listed = page("responder", "/operations/")
    assert operations_demo.NAME in listed
    assert operations_demo.UPCOMING in listed
    # The next operation's forecast shows its gap against the places free and agreed.
    assert "are not enough for the forecast" in page("responder", f"/operations/{upcoming.pk}/")
    board = page("responder", f"/operations/{ended.pk}/board/")
    for standing in ("Placed", "Waiting for a bed", "Missing", "Duty to notify only"):
        assert standing in board, standing
    # The provider's page of surge places and held beds for the next operation.
    held = page("safehouse", f"/operations/{upcoming.pk}/holds/new/")
    assert "Lantern House A" in held
    # The enforcement officer's check of the reference of a person taken in.
    planned = PlannedRemoval.objects.get()
    assert ReceptionRecord.objects.filter(reference=planned.reference).exists()
    checked = page("enforcement", "/protection/check/", "post", reference=planned.reference)
    assert "protected" in checked.lower()


@override_settings(DEMO=True)
def test_no_child_of_the_demo_was_ever_placed_in_an_adults_setting(db: None) -> None:
    """Found in review: the demo's bed history drew its people from the national mix, and two
    children had stayed in houses for adults."""
    from opennrm.accommodation.models import Placement, SiteAges
    from opennrm.cases.choices import AgeGroup

    call_command("demo_data")
    placements = Placement.objects.select_related("request__case", "bed__room__site")
    assert placements.count() >= 18  # the operation's 18 at least
    for placement in placements:
        if placement.request.case.age_group != AgeGroup.ADULT:
            assert placement.bed.room.site.ages != SiteAges.ADULTS, placement.pk


@override_settings(DEMO=True)
def test_the_demo_has_a_possible_earlier_referral_for_the_decision_maker_only(db: None) -> None:
    from opennrm.linkage.models import CandidatePair, PairStatus
    from opennrm.pages import demo_linkage as linkage_demo
    from tests import factories

    call_command("demo_data")
    call_command("demo_data")
    pair = CandidatePair.objects.select_related("case_a", "case_b").get()
    assert pair.status == PairStatus.PROPOSED
    assert pair.run is None  # proposed by the check at submission, as for anyone
    referrers = {pair.case_a.referring_organisation.name, pair.case_b.referring_organisation.name}
    assert referrers == {"Northmoor Constabulary", "Harbour Light Outreach"}
    labels = {row["comparison"]: row["label"] for row in pair.comparisons}
    assert labels["birth"] == "Day and month swapped"

    def page(email: str, url: str) -> tuple[int, str]:
        client = factories.signed_in_client(User.objects.get(email=f"{email}@demo.opennrm.test"))
        response = client.get(url)
        return response.status_code, response.content.decode()

    status, queue = page("decisions", "/linkage/")
    assert status == 200
    assert pair.case_b.reference in queue
    status, shown = page("decisions", f"/linkage/pairs/{pair.pk}/")
    assert status == 200
    assert linkage_demo.BY_CHARITY["family_name"] in shown
    # Neither first responder learns of the other's referral.
    for email in ("responder", "outreach"):
        assert page(email, f"/linkage/pairs/{pair.pk}/")[0] == 404
