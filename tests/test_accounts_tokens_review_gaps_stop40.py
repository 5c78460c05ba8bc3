"""Found in review of stop 40's change: API tokens of members removed before the change, and the
subject access export's audit event."""

from __future__ import annotations

from datetime import date
from importlib import import_module

from django.apps import apps as django_apps
from django.utils import timezone

from opennrm.accounts import services as accounts
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup
from opennrm.referrals.models import InformationRequest, ReferralAddition
from opennrm.safeguarding.models import (
    AgeAssessment,
    AgeOutcome,
    ChildrenServicesTask,
    TaskKind,
    TaskStatus,
)

from . import api_helpers as a
from . import case_factories, factories


def test_a_token_left_working_by_a_removal_before_the_change_does_not_come_back_with_the_access(
    alice: User, olivia: User, northmoor_police: Organisation
) -> None:
    """Who is hurt: the people whose records an API token reaches (threat 15).

    Now: tokens are revoked only by the new `MEMBERSHIP_CHANGED` ender when a membership is
    removed. Every member removed before this change (when removal only left the token
    refused while inactive) still has a working, unrevoked token, and no migration revokes it;
    giving the access back (`membership_set_active(active=True)`, or an accepted invitation
    through `_join`) revives that secret, exactly what the change meant to stop.

    Should: a token does not outlive a removal, whenever it happened: revoke the member's tokens
    there when the access is given back too (or a data migration revoking every unrevoked
    token whose member has no membership in force in its organisation)."""
    token, secret = a.token(alice, northmoor_police)
    membership = Membership.objects.get(user=alice, organisation=northmoor_police)
    # Removed before this change: the service then only set the membership inactive.
    Membership.objects.filter(pk=membership.pk).update(is_active=False)
    assert a.client_with(secret).get(a.REFERRALS_URL).status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is None  # as every such token in a deployment was
    kept, _ = a.token(olivia, northmoor_police)  # a member still in force keeps hers

    # The upgrade's data migration ends it once, as the removal now would have.
    migration = import_module("opennrm.api.migrations.0003_revoke_tokens_of_removed_members")
    migration.revoke_tokens_of_removed_members(django_apps, None)
    token.refresh_from_db()
    kept.refresh_from_db()
    assert token.revoked_at is not None
    assert kept.revoked_at is None

    second_admin = factories.user(
        "second.admin@example.org", organisation=northmoor_police, role=Role.ORGANISATION_ADMIN
    )
    membership.refresh_from_db()
    accounts.membership_set_active(by=second_admin, membership=membership, active=True)
    assert a.client_with(secret).get(a.REFERRALS_URL).status_code == 401, (
        "the token of a member removed before the change works again once the access is given back"
    )


def test_the_export_audit_event_names_every_kind_of_identifying_text_it_gave_out(
    dpo: User,
    alice: User,
    dmitri: User,
    lena: User,
    council: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """Who is hurt: the person, and the data-protection officer answering "who was given
    what" about them.

    Now: the subject access export (JSON and the printable page, which now prints every
    section) gives out the information added after submission, the decision maker's
    questions, the age assessment's reasons and what children's services did; elsewhere each
    of these is recorded as an identifying field when shown ("additions",
    "information_request", "age_assessment_reasons", "task_outcome"), but the export's
    `person.exported` event names none of them (`privacy.selectors.EXPORTED_FIELDS`).

    Should: `EXPORTED_FIELDS` lists them, so the event records what the copy holds."""
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.PRESUMED_CHILD,
    )
    now = timezone.now()
    asked = InformationRequest.objects.create(
        case=case, asked_by=dmitri, asked_at=now, respond_by=date(2030, 1, 1), question="Q?"
    )
    ReferralAddition.objects.create(
        case=case, added_by=alice, added_at=now, answers=asked, text="T"
    )
    AgeAssessment.objects.create(
        case=case,
        outcome=AgeOutcome.NOT_POSSIBLE,
        assessed_on=timezone.localdate(),
        organisation=council,
        age_group_before=AgeGroup.PRESUMED_CHILD,
        age_group_after=AgeGroup.PRESUMED_CHILD,
        recorded_at=now,
        recorded_by=lena,
        reasons="Her account of school was consistent",
    )
    ChildrenServicesTask.objects.create(
        case=case,
        kind=TaskKind.ACCOMMODATION,
        owner=council,
        area=case.area,
        needs=["Accommodation"],
        due_on=timezone.localdate(),
        status=TaskStatus.DONE,
        raised_at=now,
        done_at=now,
        done_by=lena,
        outcome="Placed with foster carers",
    )
    response = factories.signed_in_client(dpo).post(
        f"/privacy/people/{case.person.pk}/export/",
        {"request_reference": "DPR-9", "format": "html"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Her account of school was consistent" in page
    assert "Placed with foster carers" in page
    (event,) = AuditEvent.objects.filter(action="person.exported")
    recorded = set(event.detail["fields"])
    missing = {"additions", "information_request", "age_assessment_reasons", "task_outcome"}
    assert missing - recorded == set(), "the export event does not name what it gave out"
