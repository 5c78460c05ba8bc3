"""Builders for test data. One function per thing, with sensible fictional defaults."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from typing import TYPE_CHECKING

import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import Jurisdiction, OrganisationKind, Role

if TYPE_CHECKING:
    from opennrm.cases.models import Case, Person
    from opennrm.privacy.models import Erasure, ErasureRequest

PASSWORD = "correct-horse-battery-staple"
_counter = itertools.count(1)


def organisation(
    name: str | None = None,
    kind: OrganisationKind = OrganisationKind.STATUTORY_FIRST_RESPONDER,
    jurisdiction: Jurisdiction = Jurisdiction.ENGLAND_AND_WALES,
    area: str = "Testshire",
) -> Organisation:
    return Organisation.objects.create(
        name=name or f"Test organisation {next(_counter)}",
        kind=kind,
        jurisdiction=jurisdiction,
        area=area,
    )


def user(
    email: str | None = None,
    *,
    organisation: Organisation | None = None,
    role: Role | None = None,
    full_name: str = "Test Person",
    is_demo_account: bool = False,
) -> User:
    account = User.objects.create_user(
        email=email or f"person{next(_counter)}@example.org",
        password=PASSWORD,
        full_name=full_name,
        is_demo_account=is_demo_account,
    )
    if organisation is not None and role is not None:
        Membership.objects.create(user=account, organisation=organisation, role=role)
    return account


def totp_device(account: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=account, name="Test app", confirmed=True)


def signed_in_client(account: User) -> Client:
    """A client for `account` that has passed two-factor authentication, as after sign-in."""
    device = TOTPDevice.objects.filter(user=account, confirmed=True).first() or totp_device(account)
    client = Client()
    client.force_login(account, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


def suspended_while_missing(
    case: Case,
    *,
    reported_by: User,
    decider: User,
    missing_at: str,
    suspended_at: str,
    returned_at: str | None = None,
    last_seen: str = "Near the station",
) -> Case:
    """`case`, its person living in a house `reported_by` manages, reported missing by them at
    `missing_at` (gone that day), its reasonable grounds decision suspended by `decider` at
    `suspended_at` and, with `returned_at`, their return recorded (back that day), before or
    after the suspension: each step at its own moment (ISO, with the offset), in the order of
    the moments. Fresh from the database."""
    from opennrm.care import services as care
    from opennrm.decisions import services as decisions

    episode = None

    def report() -> None:
        nonlocal episode
        episode = care.missing_report(
            by=reported_by, case=case, went_missing_on=timezone.localdate(), last_seen=last_seen
        )

    def suspend() -> None:
        case.refresh_from_db()
        decisions.decision_record_reasonable_grounds(
            by=decider,
            case=case,
            outcome="suspended",
            reasons="Missing before the decision",
            expected_version=case.version,
        )

    def come_back() -> None:
        assert episode is not None, "a return is recorded after the report"
        care.missing_return(by=reported_by, episode=episode, returned_on=timezone.localdate())

    steps = [(missing_at, report), (suspended_at, suspend)]
    if returned_at is not None:
        steps.append((returned_at, come_back))
    for moment, step in sorted(steps, key=lambda s: datetime.fromisoformat(s[0])):
        with time_machine.travel(moment, tick=False):
            step()
    case.refresh_from_db()
    return case


def person_erased(
    person: Person,
    *,
    recorded_by: User | None = None,
    approved_by: User | None = None,
    request_reference: str = "DPR-TEST-1",
    request_received_on: date | None = None,
) -> Erasure:
    """`person`'s identifying details erased at their request, as the product erases them: one
    data-protection officer records the request (`erasure_request_record`), a second approves
    it (`erasure_request_approve`), which erases. `recorded_by` and `approved_by` default to
    two new officers of one service operator (as the `dpo` and `second_dpo` fixtures); the
    request is received today unless `request_received_on` says otherwise.

    A refusal (a case open, support under way, a linked referral holding them) is raised as the
    approval raises it, and the request stays awaiting, as on the officer's page; called again,
    once whatever held it has gone, the request still awaiting is approved, not recorded twice
    (one request awaits at a time per person)."""
    from django.utils import timezone

    from opennrm.privacy import services as privacy
    from opennrm.privacy.models import ErasureRequest, ErasureRequestStatus

    if recorded_by is None:
        recorded_by = user(
            organisation=organisation(kind=OrganisationKind.SERVICE_OPERATOR),
            role=Role.DATA_PROTECTION_OFFICER,
            full_name="Dee Recorder",
        )
    if approved_by is None:
        membership = Membership.objects.filter(
            user=recorded_by, role=Role.DATA_PROTECTION_OFFICER
        ).first()
        approved_by = user(
            organisation=(
                membership.organisation
                if membership is not None
                else organisation(kind=OrganisationKind.SERVICE_OPERATOR)
            ),
            role=Role.DATA_PROTECTION_OFFICER,
            full_name="Ed Approver",
        )
    request = ErasureRequest.objects.filter(
        person=person, status=ErasureRequestStatus.AWAITING_APPROVAL
    ).first() or privacy.erasure_request_record(
        by=recorded_by,
        person=person,
        request_reference=request_reference,
        request_received_on=request_received_on or timezone.localdate(),
    )
    return privacy.erasure_request_approve(by=approved_by, erasure_request=request)


def erasure_requested(
    person: Person,
    *,
    by: User,
    request_reference: str = "DPR-TEST-1",
    request_received_on: date | None = None,
) -> ErasureRequest:
    """`person`'s request to have their details erased, recorded by the data-protection officer
    `by` (`erasure_request_record`) and awaiting a second officer's approval; received today
    unless `request_received_on` says otherwise."""
    from opennrm.privacy import services as privacy

    return privacy.erasure_request_record(
        by=by,
        person=person,
        request_reference=request_reference,
        request_received_on=request_received_on or timezone.localdate(),
    )


def analysts_and_referrals() -> tuple[User, User]:
    """Ada, who prepares a statistics release, and Ben, who approves it: analysts of one
    monitoring organisation. Thirty adults referred in May 2024 (the second quarter) by one
    police force to one competent authority."""
    from zoneinfo import ZoneInfo

    from opennrm.cases.choices import AgeGroup

    from . import case_factories

    monitoring = organisation("Syn Monitoring", OrganisationKind.ANALYSIS_MONITORING)
    ada = user(organisation=monitoring, role=Role.ANALYST, full_name="Ada")
    ben = user(organisation=monitoring, role=Role.ANALYST, full_name="Ben")
    police = organisation("Syn Police", OrganisationKind.STATUTORY_FIRST_RESPONDER)
    authority = organisation("Syn Authority", OrganisationKind.COMPETENT_AUTHORITY)
    referrer = user(organisation=police)
    london = ZoneInfo("Europe/London")
    for n in range(30):
        case_factories.case(
            referred_by=referrer,
            referring_organisation=police,
            authority=authority,
            age_group=AgeGroup.ADULT,
            submitted_at=datetime(2024, 5, 1 + n % 28, 12, tzinfo=london),
        )
    return ada, ben


def rows_containing(text: str) -> list[str]:
    """Every table and column, in the whole database, whose value contains `text`.

    Each column is searched as stored (cast to text), and every encrypted column is also
    searched as the application reads it, decrypted: so "nothing found" means the text is
    neither stored in the clear nor recoverable with the keys, not merely that it is encrypted.
    Encrypted matches are reported as `table.column (decrypted)`.
    """
    import json

    from django.apps import apps
    from django.db import models
    from django.db.models.functions import Cast

    from opennrm.lib.fields import EncryptedMixin, row_field

    found = []
    needle = text.casefold()
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedMixin):
                # Read through instances: a value is decrypted with its row (values_list()
                # would give it still sealed).
                bound = row_field(model)
                assert bound is not None
                rows = model._default_manager.only(field.attname, bound.attname)
                for value in (getattr(row, field.attname) for row in rows.iterator()):
                    if value is None:
                        continue
                    plain = (
                        value
                        if isinstance(value, str)
                        else json.dumps(value, default=str, ensure_ascii=False)
                    )
                    if needle in plain.casefold():
                        found.append(f"{model._meta.db_table}.{field.column} (decrypted)")
                        break
            stored_as_text = models.CharField | models.TextField | models.JSONField | EncryptedMixin
            if not isinstance(field, stored_as_text):
                continue
            as_text = Cast(field.name, models.TextField())
            rows = model._default_manager.annotate(_as_text=as_text).filter(
                _as_text__icontains=text
            )
            if rows.exists():
                found.append(f"{model._meta.db_table}.{field.column}")
    return found
