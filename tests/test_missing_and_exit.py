"""Missing episodes and exit (issue 6, item 9): a person reported missing, with the police contact,
the competent authority and, for a child, the local authority and child guardian service told at
once (never with a name, an address or where they were last seen); their return; the exit form
set to the move-on end date; and the daily reminders 14, 7 and 1 days before it and on the day,
never sent twice."""

from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from opennrm.accommodation import services
from opennrm.accommodation.models import Placement
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.care import reminders
from opennrm.care import services as care_services
from opennrm.care.models import MissingEpisode, MoveOnReminder, MoveOnReminderKind
from opennrm.care.tasks import next_run, send_move_on_reminders
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case, CaseEvent
from opennrm.notifications.models import Notification

from . import case_factories, factories
from . import support_factories as s
from . import support_plan_helpers as h

NAME = "Ottoline Brashcombe"
LAST_SEEN = "Seen boarding the 22:10 bus to Dunmarsh wearing a green coat"
UTC = timezone.get_fixed_timezone(0)


def make_case(referrer: User, organisation: Organisation, authority: Organisation, **fields):
    return case_factories.case(
        referred_by=referrer,
        referring_organisation=organisation,
        authority=authority,
        given_names=NAME,
        consent_to_support=True,
        **fields,
    )


@pytest.fixture
def ottolines_case(alice: User, northmoor_police: Organisation, authority: Organisation) -> Case:
    # Referred before the earliest day these tests travel to: nothing can precede a referral.
    return make_case(
        alice, northmoor_police, authority, submitted_at=datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
    )


@pytest.fixture
def placement(cora: User, maya: User, provider: Organisation, ottolines_case: Case) -> Placement:
    return h.living(cora, maya, provider, ottolines_case)


def report_form(**changes: str) -> dict[str, str]:
    today = timezone.localdate()
    return {
        "went_missing_on_day": str(today.day),
        "went_missing_on_month": str(today.month),
        "went_missing_on_year": str(today.year),
        "went_missing_time": "",
        "last_seen": LAST_SEEN,
    } | changes


def told(kind: str = "missing.reported") -> dict[str, Notification]:
    return {n.recipient.email: n for n in Notification.objects.filter(kind=kind)}


def report(
    by: User, ottolines_case: Case, on: date | None = None, went_missing_time: time | None = None
) -> MissingEpisode:
    return care_services.missing_report(
        by=by,
        case=ottolines_case,
        went_missing_on=on or timezone.localdate(),
        went_missing_time=went_missing_time,
        last_seen=LAST_SEEN,
    )


class TestReportingMissing:
    @pytest.mark.page("support:missing_report")
    def test_the_police_contact_and_the_authority_are_told_at_once(
        self,
        alice: User,
        bob: User,
        cora: User,
        maya: User,
        dmitri: User,
        lena: User,
        gail: User,
        ottolines_case: Case,
        placement: Placement,
        django_capture_on_commit_callbacks,
    ) -> None:
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            yesterday = timezone.localdate() - timedelta(days=1)
            response = factories.signed_in_client(maya).post(
                f"/support/people/{ottolines_case.reference}/missing/",
                report_form(
                    went_missing_on_day=str(yesterday.day),
                    went_missing_on_month=str(yesterday.month),
                    went_missing_on_year=str(yesterday.year),
                    went_missing_time="21:40",
                ),
            )
        assert response.status_code == 302
        episode = MissingEpisode.objects.get()
        assert response["Location"] == f"/support/missing/{episode.pk}/"
        assert (episode.placement, episode.went_missing_time, episode.last_seen) == (
            placement,
            time(21, 40),
            LAST_SEEN,
        )
        notified = told()
        # Referred by a police force: its first responders are the police contact.
        assert {"alice@example.org", "bob@example.org"} <= set(notified)
        assert "Contact Test Refuge for when and where they were last seen" in (
            notified["alice@example.org"].body
        )
        assert "may need to be suspended" in notified["dmitri@example.org"].body
        assert "police force that referred them has been told" in notified["cora@example.org"].body
        assert "maya@example.org" not in notified, "the reporter is not told what they did"
        assert not {"lena@example.org", "gail@example.org"} & set(notified), "an adult"
        # In the app and by e-mail; never the name, the address or where they were last seen.
        assert {"alice@example.org", "dmitri@example.org"} <= {m.to[0] for m in mail.outbox}
        for text in [n.subject + n.body for n in notified.values()] + [
            m.subject + m.body for m in mail.outbox
        ]:
            assert NAME not in text
            assert s.ADDRESS not in text
            assert "Dunmarsh" not in text
        kinds = set(CaseEvent.objects.filter(case=ottolines_case).values_list("kind", flat=True))
        assert {"support.missing", "support.missing_police_told"} <= kinds
        assert "support.missing_safeguarding_told" not in kinds
        [event] = AuditEvent.objects.filter(action="missing_episode.reported")
        assert event.actor == maya
        assert event.detail["told"] == {"police": 2, "support": 1, "authority": 1}
        assert LAST_SEEN not in str(event.detail)

    def test_without_a_police_referrer_the_coordinators_are_asked_to_tell_the_police(
        self, cora: User, maya: User, provider: Organisation, authority: Organisation
    ) -> None:
        charity = factories.organisation(
            "Harbour Outreach", OrganisationKind.NON_STATUTORY_FIRST_RESPONDER
        )
        outreach = factories.user(
            "sam@example.org", organisation=charity, role=Role.FIRST_RESPONDER
        )
        referred = make_case(outreach, charity, authority)
        h.living(cora, maya, provider, referred)
        report(maya, referred)
        notified = told()
        assert "sam@example.org" not in notified, "a charity is not the police"
        assert "report them missing to the police now" in notified["cora@example.org"].body
        assert not CaseEvent.objects.filter(kind="support.missing_police_told").exists()

    def test_a_missing_child_is_told_to_the_local_authority_and_guardians_at_once(
        self,
        alice: User,
        cora: User,
        maya: User,
        lena: User,
        gail: User,
        provider: Organisation,
        northmoor_police: Organisation,
        authority: Organisation,
        django_capture_on_commit_callbacks,
    ) -> None:
        elsewhere = factories.organisation(
            "Otherford Council", OrganisationKind.LOCAL_AUTHORITY, area="Otherford"
        )
        other_lead = factories.user(
            "olga@example.org", organisation=elsewhere, role=Role.SAFEGUARDING_LEAD
        )
        child = make_case(alice, northmoor_police, authority, age_group=AgeGroup.CHILD)
        h.living(cora, maya, provider, child, ages="children")  # never with adults
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            report(cora, child)
        notified = told()
        for lead in (lena, gail):
            message = notified[lead.email]
            assert message.subject == f"Child missing in Testshire: {child.reference}"
            assert "Safeguard first: act today" in message.body
            assert NAME not in message.subject + message.body
        assert other_lead.email not in notified
        assert {lena.email, gail.email} <= {m.to[0] for m in mail.outbox}
        assert CaseEvent.objects.filter(
            case=child, kind="support.missing_safeguarding_told"
        ).exists()
        [event] = AuditEvent.objects.filter(action="missing_episode.reported")
        assert event.detail["told"]["safeguarding"] == 2

    @pytest.mark.page("support:missing_list")
    def test_where_things_stand_is_shown_without_the_details(
        self, alice: User, maya: User, cora: User, ottolines_case: Case, placement: Placement
    ) -> None:
        episode = report(maya, ottolines_case)
        case_page = (
            factories.signed_in_client(alice)
            .get(f"/cases/{ottolines_case.reference}/")
            .content.decode()
        )
        today = timezone.localdate()
        assert f"reported missing since {today:%-d %B %Y}" in case_page
        assert "Dunmarsh" not in case_page
        placement_page = (
            factories.signed_in_client(maya)
            .get(f"/support/placements/{placement.pk}/")
            .content.decode()
        )
        assert f"Reported missing since {today:%-d %B %Y}" in placement_page
        assert f"/support/missing/{episode.pk}/" in placement_page
        assert "Dunmarsh" not in placement_page
        listing = factories.signed_in_client(cora).get("/support/missing/").content.decode()
        assert ottolines_case.reference in listing
        assert "Dunmarsh" not in listing
        assert NAME not in listing
        # The report itself, after a read is recorded.
        assert not AuditEvent.objects.filter(action="person.viewed", actor=maya).exists()
        page = factories.signed_in_client(maya).get(f"/support/missing/{episode.pk}/")
        assert LAST_SEEN in page.content.decode()
        [read] = AuditEvent.objects.filter(action="person.viewed", actor=maya)
        assert read.detail["fields"] == ["missing_last_seen"]

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"last_seen": ""}, "Enter what is known of when and where they were last seen"),
            ({"went_missing_on_day": ""}, "The day they went missing must include a day"),
            (
                {"went_missing_on_year": "2999"},
                "The day they went missing must be today or earlier",
            ),
            ({"went_missing_time": "25:00"}, "enter hours and minutes on the 24-hour clock"),
            ({"went_missing_time": "23:59"}, "The time they went missing must be now or earlier"),
        ],
    )
    def test_a_problem_is_named_and_nothing_typed_is_lost(
        self,
        maya: User,
        ottolines_case: Case,
        placement: Placement,
        changes: dict[str, str],
        message: str,
    ) -> None:
        with time_machine.travel("2026-03-04 12:00:00+00:00", tick=False):
            response = factories.signed_in_client(maya).post(
                f"/support/people/{ottolines_case.reference}/missing/", report_form(**changes)
            )
        page = response.content.decode()
        assert response.status_code == 200
        assert message in page
        if changes.get("last_seen") != "":
            assert LAST_SEEN in page
        assert not MissingEpisode.objects.exists()
        assert not Notification.objects.filter(kind="missing.reported").exists()

    def test_someone_already_missing_cannot_be_reported_twice(
        self, maya: User, ottolines_case: Case, placement: Placement
    ) -> None:
        episode = report(maya, ottolines_case)
        # The same report sent again (a second click) is hers, kept once, telling nobody again.
        assert report(maya, ottolines_case) == episode
        with pytest.raises(ValidationError, match="already recorded as missing since"):
            care_services.missing_report(
                by=maya,
                case=ottolines_case,
                went_missing_on=timezone.localdate(),
                went_missing_time=None,
                last_seen="Seen by the canal with two men.",
            )
        response = factories.signed_in_client(maya).get(
            f"/support/people/{ottolines_case.reference}/missing/"
        )
        assert response["Location"] == f"/support/missing/{episode.pk}/"
        assert MissingEpisode.objects.count() == 1

    def test_outsiders_get_404(
        self,
        cora: User,
        maya: User,
        omar: User,
        alice: User,
        lena: User,
        ottolines_case: Case,
        placement: Placement,
    ) -> None:
        episode = report(maya, ottolines_case)
        for outsider in (omar, alice, lena):
            client = factories.signed_in_client(outsider)
            for url in (
                f"/support/people/{ottolines_case.reference}/missing/",
                f"/support/missing/{episode.pk}/",
            ):
                assert client.get(url).status_code == 404, (outsider, url)
                assert client.post(url, report_form()).status_code == 404, (outsider, url)
        assert ottolines_case.reference not in (
            factories.signed_in_client(omar).get("/support/missing/").content.decode()
        )
        with pytest.raises(ValidationError, match="Only support coordinators"):
            report(omar, ottolines_case)
        with pytest.raises(ValidationError, match="Only support coordinators"):
            care_services.missing_return(by=omar, episode=episode, returned_on=timezone.localdate())


class TestReturning:
    @pytest.mark.page("support:missing_episode")
    def test_the_return_is_recorded_and_the_same_people_told(
        self,
        alice: User,
        cora: User,
        maya: User,
        dmitri: User,
        provider: Organisation,
        ottolines_case: Case,
    ) -> None:
        with time_machine.travel("2026-03-04 12:00:00+00:00", tick=False):
            with time_machine.travel("2026-03-01 12:00:00+00:00", tick=False):
                placement = h.living(cora, maya, provider, ottolines_case)
            # Reported that night: a return cannot be recorded for a day before the report.
            with time_machine.travel("2026-03-03 22:30:00+00:00", tick=False):
                episode = report(
                    maya, ottolines_case, on=date(2026, 3, 3), went_missing_time=time(22, 0)
                )
            # The person left: the stay ends, yet the provider's managers still record the
            # return of someone who went missing from their place.
            services.placement_end(by=maya, placement=placement, on=date(2026, 3, 4), reason="left")
            client = factories.signed_in_client(maya)
            refused = client.post(
                f"/support/missing/{episode.pk}/",
                {
                    "returned_on_day": "3",
                    "returned_on_month": "3",
                    "returned_on_year": "2026",
                    "returned_time": "21:00",
                },
            )
            assert "cannot be before the time they went missing (22:00)" in refused.content.decode()
            too_early = client.post(
                f"/support/missing/{episode.pk}/",
                {"returned_on_day": "2", "returned_on_month": "3", "returned_on_year": "2026"},
            )
            assert "cannot be before the day they went missing (3 March 2026)" in (
                too_early.content.decode()
            )
            response = client.post(
                f"/support/missing/{episode.pk}/",
                {
                    "returned_on_day": "4",
                    "returned_on_month": "3",
                    "returned_on_year": "2026",
                    "returned_time": "08:15",
                },
            )
        assert response.status_code == 302
        episode.refresh_from_db()
        assert (episode.returned_on, episode.returned_time) == (date(2026, 3, 4), time(8, 15))
        back = told("missing.returned")
        assert {alice.email, dmitri.email, cora.email} <= set(back)
        assert NAME not in back[alice.email].body
        assert CaseEvent.objects.filter(case=ottolines_case, kind="support.returned").exists()
        [event] = AuditEvent.objects.filter(action="missing_episode.returned")
        assert event.actor == maya
        with pytest.raises(ValidationError, match="already recorded"):
            care_services.missing_return(by=cora, episode=episode, returned_on=date(2026, 3, 4))
        # Back, and no longer staying with Maya's provider: the closed episode is not hers to
        # read any more.
        with pytest.raises(ValidationError, match="Only support coordinators"):
            care_services.missing_return(by=maya, episode=episode, returned_on=date(2026, 3, 4))
        case_page = factories.signed_in_client(alice).get(f"/cases/{ottolines_case.reference}/")
        assert "reported missing since" not in case_page.content.decode()


# --- Exit ----------------------------------------------------------------------------------------


def set_move_on(ottolines_case: Case, ends: date | None) -> None:
    Case.objects.filter(pk=ottolines_case.pk).update(move_on_ends=ends)


class TestExit:
    @pytest.mark.parametrize(
        ("days_ago", "said"),
        [
            (2, "Move-on support ended on {:%-d %B %Y}"),
            (0, "Move-on support ends today, {:%-d %B %Y}"),
        ],
    )
    @pytest.mark.page("support:placement_end")
    def test_the_exit_form_is_set_to_the_move_on_end_once_it_has_come(
        self, maya: User, ottolines_case: Case, placement: Placement, days_ago: int, said: str
    ) -> None:
        today = timezone.localdate()
        Placement.objects.filter(pk=placement.pk).update(arrived_on=today - timedelta(days=60))
        ended = today - timedelta(days=days_ago)
        set_move_on(ottolines_case, ended)
        client = factories.signed_in_client(maya)
        page = client.get(f"/support/placements/{placement.pk}/").content.decode()
        assert f"Move-on support ends {ended:%-d %B %Y}" in page
        assert said.format(ended) in page
        assert f'name="ended_on_day" type="text" value="{ended.day}"' in page
        assert f'name="ended_on_year" type="text" value="{ended.year}"' in page
        assert 'value="move_on_ended" checked' in page
        # The defaults, sent as they are, record the exit on that day.
        response = client.post(
            f"/support/placements/{placement.pk}/end/",
            {
                "ended_on_day": str(ended.day),
                "ended_on_month": str(ended.month),
                "ended_on_year": str(ended.year),
                "reason": "move_on_ended",
            },
        )
        assert response.status_code == 302
        placement.refresh_from_db()
        assert (placement.ended_on, placement.exit_reason) == (ended, "move_on_ended")

    def test_before_the_move_on_end_the_form_is_empty_and_says_when(
        self, maya: User, ottolines_case: Case, placement: Placement
    ) -> None:
        ends = timezone.localdate() + timedelta(days=10)
        set_move_on(ottolines_case, ends)
        page = (
            factories.signed_in_client(maya)
            .get(f"/support/placements/{placement.pk}/")
            .content.decode()
        )
        assert f"Move-on support ends on {ends:%-d %B %Y}" in page
        assert f'name="ended_on_day" type="text" value="{ends.day}"' not in page
        assert 'value="move_on_ended" checked' not in page


# --- Reminders before move-on support ends ------------------------------------------------------

ENDS = date(2026, 5, 20)


def at(day: date) -> datetime:
    return datetime.combine(day, time(6, 15), tzinfo=UTC)


def run_on(day: date) -> reminders.RunResult:
    with time_machine.travel(at(day), tick=False):
        return reminders.run(day)


@pytest.fixture
def ending(ottolines_case: Case, placement: Placement) -> Placement:
    set_move_on(ottolines_case, ENDS)
    return placement


class TestReminders:
    def test_14_7_and_1_days_before_and_on_the_day_to_the_provider_and_coordinators(
        self,
        alice: User,
        cora: User,
        maya: User,
        omar: User,
        ottolines_case: Case,
        ending: Placement,
    ) -> None:
        fired: dict[str, date] = {}
        for offset in range(30, -3, -1):
            day = ENDS - timedelta(days=offset)
            run_on(day)
            for reminder in MoveOnReminder.objects.filter(sent_on=day):
                fired[reminder.kind] = day
        assert fired == {
            MoveOnReminderKind.DAYS_14: ENDS - timedelta(days=14),
            MoveOnReminderKind.DAYS_7: ENDS - timedelta(days=7),
            MoveOnReminderKind.DAYS_1: ENDS - timedelta(days=1),
            MoveOnReminderKind.ENDS: ENDS,
        }
        to_maya = list(
            Notification.objects.filter(recipient=maya, kind="support.move_on_reminder").order_by(
                "pk"
            )
        )
        assert len(to_maya) == 4, "one each, never again after the end"
        assert "ends on 20 May 2026, in 14 days" in to_maya[0].body
        assert "in 1 day" in to_maya[2].body
        assert "ends today" in to_maya[3].body
        assert ottolines_case.reference in to_maya[0].body
        assert NAME not in to_maya[0].subject + to_maya[0].body
        assert s.ADDRESS not in to_maya[0].body
        assert to_maya[0].url == f"/support/placements/{ending.pk}/"
        assert (
            Notification.objects.filter(recipient=cora, kind="support.move_on_reminder").count()
            == 4
        )
        assert (
            not Notification.objects.filter(recipient__in=[omar, alice])
            .filter(kind="support.move_on_reminder")
            .exists()
        )
        assert AuditEvent.objects.filter(action="support.move_on_reminders_sent").count() == 4

    def test_running_twice_sends_nothing_more(
        self, maya: User, ottolines_case: Case, ending: Placement, capsys
    ) -> None:
        day = ENDS - timedelta(days=7)
        assert run_on(day).reminders == 1
        count = Notification.objects.count()
        assert run_on(day).reminders == 0
        assert Notification.objects.count() == count
        with time_machine.travel(at(day), tick=False):
            call_command("schedule", "move-on-reminders", "--now")
        assert "No move-on reminders are due" in capsys.readouterr().out

    def test_a_missed_day_catches_up_with_the_most_urgent_reminder_only(
        self, maya: User, ottolines_case: Case, ending: Placement
    ) -> None:
        run_on(ENDS - timedelta(days=3))
        assert list(MoveOnReminder.objects.values_list("kind", flat=True)) == ["days_7"]
        run_on(ENDS + timedelta(days=5))
        assert set(MoveOnReminder.objects.values_list("kind", flat=True)) == {"days_7", "ends"}
        last = Notification.objects.filter(recipient=maya).order_by("-pk").first()
        assert last is not None
        assert f"ended on {ENDS:%-d %B %Y}" in last.body
        run_on(ENDS + timedelta(days=6))
        assert MoveOnReminder.objects.count() == 2, "reminded once after the end, not daily"

    def test_a_new_end_date_is_reminded_afresh(
        self, maya: User, ottolines_case: Case, ending: Placement
    ) -> None:
        run_on(ENDS - timedelta(days=1))
        set_move_on(ottolines_case, ENDS + timedelta(days=30))
        run_on(ENDS + timedelta(days=29))
        assert set(MoveOnReminder.objects.values_list("kind", "due_on")) == {
            ("days_1", ENDS),
            ("days_1", ENDS + timedelta(days=30)),
        }

    def test_only_people_living_in_a_place_with_an_end_date(
        self,
        alice: User,
        cora: User,
        maya: User,
        provider: Organisation,
        northmoor_police: Organisation,
        authority: Organisation,
        ottolines_case: Case,
        placement: Placement,
    ) -> None:
        # No end date yet; and someone only offered a place (not arrived) with one.
        offered = make_case(alice, northmoor_police, authority, move_on_ends=ENDS)
        h.offered(cora, maya, provider, offered)
        assert run_on(ENDS - timedelta(days=1)).reminders == 0
        assert not MoveOnReminder.objects.exists()

    def test_the_task_runs_and_schedules_tomorrow_morning(
        self, ottolines_case: Case, ending: Placement
    ) -> None:
        with time_machine.travel(at(ENDS - timedelta(days=14)), tick=False):
            result = send_move_on_reminders.enqueue(reschedule=False)
            assert result.return_value == {"reminders": 1, "people_told": 2}
            assert next_run(timezone.now()).isoformat() == "2026-05-07T06:15:00+01:00"

    def test_the_command_sends_todays_reminders(
        self, ottolines_case: Case, ending: Placement, capsys
    ) -> None:
        with time_machine.travel(at(ENDS), tick=False):
            call_command("schedule", "move-on-reminders", "--now")
        assert "Sent 1 move-on reminders to 2 people." in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_the_same_moment_send_once(
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """On PostgreSQL two runs race in their own connections: the second waits on the first's
    reminder row and then finds it taken. SQLite lets one writer in at a time, so there the runs
    go one after the other; either way each person is told once."""
    ottolines_case = make_case(alice, northmoor_police, authority, move_on_ends=ENDS)
    h.living(cora, maya, provider, ottolines_case)
    day = ENDS - timedelta(days=7)
    results: list[int] = []
    if connection.vendor != "postgresql":
        results = [reminders.run(day).reminders, reminders.run(day).reminders]
    else:
        barrier = threading.Barrier(2)

        def go() -> None:
            barrier.wait(timeout=30)
            try:
                results.append(reminders.run(day).reminders)
            finally:
                connection.close()

        threads = [threading.Thread(target=go) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert sorted(results) == [0, 1]
    assert Notification.objects.filter(recipient=maya, kind="support.move_on_reminder").count() == 1
