"""The audit trail: every service write leaves exactly one event; nobody can rewrite it."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import DatabaseError, connection, transaction
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp

from opennrm.accounts import services
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Jurisdiction, OrganisationKind, Role
from opennrm.audit import services as audit_services
from opennrm.audit.models import AuditEvent

from . import factories


def _request(user: User | None = None):
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.44")
    request.session = SessionStore()
    request.user = user  # type: ignore[assignment]
    return request


def _code(device) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


# Each case performs one call to one write service. Every public function in a services module
# that writes must appear here (test_every_write_service_is_covered checks).
WRITES: dict[str, Callable[[dict], object]] = {
    "organisation_create": lambda w: services.organisation_create(
        by=w["admin"],
        name="New Org",
        kind=OrganisationKind.SUPPORT_PROVIDER,
        jurisdiction=Jurisdiction.SCOTLAND,
    ),
    "invitation_create": lambda w: services.invitation_create(
        by=w["admin"], organisation=w["org"], email="new@example.org", role=Role.FIRST_RESPONDER
    ),
    "invitation_approve": lambda w: services.invitation_approve(
        by=w["admin"], invitation=w["invitation_asked"]
    ),
    "invitation_revoke": lambda w: services.invitation_revoke(
        by=w["admin"], invitation=w["invitation"]
    ),
    "invitation_accept_as_new_user": lambda w: services.invitation_accept_as_new_user(
        invitation=w["invitation"], full_name="New Person", password="a-long-enough-passphrase"
    ),
    "invitation_accept_as_existing_user": lambda w: services.invitation_accept_as_existing_user(
        invitation=w["invitation_existing"], user=w["member"]
    ),
    # A member with no invitation open: withdrawing one writes its own `invitation.revoked`.
    "membership_change_role": lambda w: services.membership_change_role(
        by=w["admin"], membership=w["uninvited"].memberships.get(), role=Role.ORGANISATION_ADMIN
    ),
    "membership_set_active": lambda w: services.membership_set_active(
        by=w["admin"], membership=w["uninvited"].memberships.get(), active=False
    ),
    "user_sign_in": lambda w: services.user_sign_in(request=_request(), user=w["member"]),
    "user_sign_in_failed": lambda w: services.user_sign_in_failed(
        email="x@example.org", locked_out=False
    ),
    "user_sign_out": lambda w: services.user_sign_out(request=_request(w["member"])),
    "totp_device_confirm": lambda w: services.totp_device_confirm(
        request=_request(w["member"]), device=w["pending_device"], token=_code(w["pending_device"])
    ),
    "two_factor_verify": lambda w: services.two_factor_verify(
        request=_request(w["enrolled"]), token=_code(w["enrolled_device"])
    ),
    "sign_in_reset_send": lambda w: services.sign_in_reset_send(
        by=w["admin"], membership=w["uninvited"].memberships.get()
    ),
    "sign_in_reset_use": lambda w: services.sign_in_reset_use(
        reset=w["reset"], password="a-long-enough-passphrase"
    ),
}

READ_ONLY_HELPERS = {"administers", "hash_token", "totp_secret_base32", "totp_device_pending"}


@pytest.fixture
def world(
    northmoor_police: Organisation, olivia: User, alice: User, bob: User, sysadmin: User
) -> dict:
    invitation, _ = services.invitation_create(
        by=olivia,
        organisation=northmoor_police,
        email="invitee@example.org",
        role=Role.FIRST_RESPONDER,
    )
    existing, _ = services.invitation_create(
        by=olivia, organisation=northmoor_police, email=alice.email, role=Role.ORGANISATION_ADMIN
    )
    enrolled = factories.user("enrolled@example.org")
    asked, _ = services.invitation_create(
        by=sysadmin,
        organisation=northmoor_police,
        email="asked@example.org",
        role=Role.FIRST_RESPONDER,
    )
    return {
        "invitation_asked": asked,
        "admin": olivia,
        "org": northmoor_police,
        "member": alice,
        "uninvited": bob,
        "invitation": invitation,
        "invitation_existing": existing,
        "pending_device": services.totp_device_pending(user=alice),
        "enrolled": enrolled,
        "enrolled_device": factories.totp_device(enrolled),
        "reset": services.sign_in_reset_send(by=olivia, membership=alice.memberships.get()),
    }


@pytest.mark.parametrize("name", sorted(WRITES))
def test_every_write_through_a_service_leaves_one_audit_event(world: dict, name: str) -> None:
    before = AuditEvent.objects.count()
    WRITES[name](world)
    assert AuditEvent.objects.count() == before + 1


def test_every_write_service_is_covered() -> None:
    public = {
        name
        for name, fn in inspect.getmembers(services, inspect.isfunction)
        if fn.__module__ == services.__name__ and not name.startswith("_")
    }
    assert public - READ_ONLY_HELPERS == set(WRITES)


def test_an_event_records_who_what_which_and_from_where(world: dict) -> None:
    request = _request()
    from opennrm.audit import context

    token = context.set_current(context.RequestContext("198.51.100.7", "abc123"))
    try:
        membership = world["uninvited"].memberships.get()
        services.membership_set_active(by=world["admin"], membership=membership, active=False)
    finally:
        context.reset(token)
    event = AuditEvent.objects.latest("id")
    assert event.actor == world["admin"]
    assert event.actor_label == "olivia@example.org"
    assert event.action == "membership.deactivated"
    assert (event.object_type, event.object_id) == ("accounts.membership", str(membership.pk))
    assert event.organisation == world["org"]
    assert event.ip_address == "198.51.100.7"
    assert event.request_id == "abc123"
    assert request  # built to mirror a real request; the context carries its address


def test_a_request_records_its_address(olivia: User, northmoor_police: Organisation) -> None:
    client = factories.signed_in_client(olivia)
    client.post(
        reverse("accounts:member_invite", args=[northmoor_police.pk]),
        {"email": "someone@example.org", "role": Role.FIRST_RESPONDER},
        REMOTE_ADDR="203.0.113.9",
    )
    event = AuditEvent.objects.get(action="invitation.created")
    assert event.ip_address == "203.0.113.9"
    assert len(event.request_id) == 32


def test_audit_events_cannot_be_changed(db: None) -> None:
    event = audit_services.audit_record(by=None, action="test.event")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="test.rewritten")
    event.refresh_from_db()
    assert event.action == "test.event"


def test_audit_events_cannot_be_deleted_on_postgresql(db: None) -> None:
    """PostgreSQL refuses the DELETE. SQLite, the demo database, cannot refuse it without also
    breaking the test runner's flush (see the migration), and this test pins that difference."""
    event = audit_services.audit_record(by=None, action="test.event")
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).delete()
        assert AuditEvent.objects.filter(pk=event.pk).exists()
    else:
        AuditEvent.objects.filter(pk=event.pk).delete()
        assert not AuditEvent.objects.filter(pk=event.pk).exists()


class TestSearchPage:
    @pytest.mark.page("audit:search")
    def test_system_administrator_can_filter(
        self, sysadmin: User, olivia: User, alice: User
    ) -> None:
        audit_services.audit_record(by=olivia, action="membership.role_changed", obj=alice)
        audit_services.audit_record(by=alice, action="auth.signed_out", obj=alice)
        client = factories.signed_in_client(sysadmin)
        html = client.get(reverse("audit:search"), {"actor": "olivia"}).content.decode()
        assert "membership.role_changed" in html
        assert "auth.signed_out" not in html
        html = client.get(reverse("audit:search"), {"action": "signed_out"}).content.decode()
        assert "auth.signed_out" in html
        assert "membership.role_changed" not in html

    def test_dates_filter_and_bad_dates_are_explained(self, sysadmin: User) -> None:
        audit_services.audit_record(by=None, action="test.today")
        client = factories.signed_in_client(sysadmin)
        today = timezone.localdate()
        html = client.get(
            reverse("audit:search"), {"date_from": str(today + timedelta(days=1))}
        ).content.decode()
        assert "test.today" not in html
        html = client.get(reverse("audit:search"), {"date_from": str(today)}).content.decode()
        assert "test.today" in html
        html = client.get(
            reverse("audit:search"), {"date_from": "31 2 2026", "ip_address": "nope"}
        ).content.decode()
        assert "Enter the start date as a real date" in html
        assert "Enter a network address" in html
        assert 'value="nope"' in html
        html = client.get(
            reverse("audit:search"), {"date_from": "2026-03-02", "date_to": "2026-03-01"}
        ).content.decode()
        assert "The end date must be the same as or after the start date" in html

    def test_an_end_date_on_the_last_day_of_the_calendar_is_explained(self, sysadmin: User) -> None:
        """The search runs to the start of the day after the end date: the last day of the
        calendar has none, so it is refused with a message on the field, never a 500."""
        client = factories.signed_in_client(sysadmin)
        client.raise_request_exception = False
        response = client.get(reverse("audit:search"), {"date_to": "31 12 9999"})
        assert response.status_code == 200
        assert "Enter an end date before 31 12 9999" in response.content.decode()

    @pytest.mark.page("audit:search")
    def test_the_trail_pages_without_counting_past_its_cap(
        self, monkeypatch: pytest.MonkeyPatch, sysadmin: User
    ) -> None:
        """ADR 0055: the trail grows with every read recorded; counting it whole on every
        page view would grow with it."""
        from opennrm.audit import views
        from opennrm.lib import paging

        monkeypatch.setattr(views, "PAGE_SIZE", 2)
        monkeypatch.setattr(paging, "COUNT_CAP", 3)
        for n in range(5):
            audit_services.audit_record(by=None, action=f"test.paged_{n}")
        client = factories.signed_in_client(sysadmin)

        def page(number: int) -> str:
            query = {"action": "test.paged", "page": number}
            return client.get(reverse("audit:search"), query).content.decode()

        first, third = page(1), page(3)
        assert "More than 3 events found. Showing 1 to 2." in first
        assert [f"test.paged_{n}" in first for n in range(5)] == [False] * 3 + [True] * 2
        assert "action=test.paged&amp;page=2" in first
        assert "Showing 5 to 5." in third
        assert [f"test.paged_{n}" in third for n in range(5)] == [True] + [False] * 4
        assert 'rel="next"' not in third
        assert "There are no events on page 4." in page(4)
        monkeypatch.setattr(paging, "COUNT_CAP", 5)
        assert "5 events found." in page(1)

    def test_search_text_is_escaped(self, sysadmin: User) -> None:
        audit_services.audit_record(by=None, action="<script>alert(1)</script>")
        html = factories.signed_in_client(sysadmin).get(reverse("audit:search")).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    def test_others_get_404(self, olivia: User, alice: User) -> None:
        for person in (olivia, alice):
            assert (
                factories.signed_in_client(person).get(reverse("audit:search")).status_code == 404
            )
        assert Client().get(reverse("audit:search")).status_code == 302


class TestWhereFrom:
    def test_direct_connections_use_the_socket_address(self, rf, settings) -> None:
        from opennrm.audit.middleware import client_ip

        settings.BEHIND_PROXY = False
        request = rf.get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="203.0.113.66")
        assert client_ip(request) == "192.0.2.1"

    def test_behind_the_proxy_the_last_forwarded_address_counts(self, rf, settings) -> None:
        from opennrm.audit.middleware import client_ip

        settings.BEHIND_PROXY = True
        # The client wrote the first address; our proxy appended the second.
        request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.20")
        assert client_ip(request) == "198.51.100.20"
        assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="junk")) is None
