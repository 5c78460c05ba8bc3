"""The operations API (issue 14, item 8): the operations a token's member may see, one of them,
and planning one, with the pages' rules (ADR 0039)."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.operations import services
from opennrm.operations.models import Operation, PartnerRole, ReceptionRecord

from . import api_helpers as a
from . import factories
from . import operation_helpers as op

URL = "/api/v1/operations"
READ = (a.OPERATIONS_READ,)
WRITE = (a.OPERATIONS_READ, a.OPERATIONS_WRITE)


def _plan(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Operation Larkspur",
        "confidential": True,
        "starts_on": "2027-03-10",
        "ends_on": "2027-03-16",
        "region": "north_east",
        "expected": [
            {"sex": "female", "age_group": "adult", "exploitation_type": "sexual", "number": 30},
            {"sex": "female", "age_group": "child", "exploitation_type": "sexual", "number": 3},
        ],
        "languages": ["ro"],
    }
    body.update(changes)
    return body


@pytest.fixture
def larkspur(alice: User, northmoor_police: Organisation, provider: Organisation) -> Operation:
    with time_machine.travel(op.BEFORE, tick=False):
        operation = op.operation(alice, northmoor_police)
        services.operation_partner_invite(
            by=alice, operation=operation, organisation=provider, role="support_provider"
        )
    return operation


def test_a_police_token_plans_an_operation(alice: User, northmoor_police: Organisation) -> None:
    with time_machine.travel(op.BEFORE, tick=False):
        _, secret = a.token(alice, northmoor_police, scopes=WRITE)
        response = a.post_json(a.client_with(secret), URL, _plan())
    assert response.status_code == 201, response.content
    body = response.json()
    operation = Operation.objects.get()
    assert body["id"] == operation.id
    assert body["lead_organisation"] == "Northmoor Police"
    assert body["expected_total"] == 33
    assert body["status"] == "planned"
    assert operation.languages == ["ro"]
    assert AuditEvent.objects.filter(action="operation.planned", actor=alice).count() == 1


def test_a_plan_with_mistakes_is_refused_naming_the_fields(
    alice: User, northmoor_police: Organisation
) -> None:
    with time_machine.travel(op.BEFORE, tick=False):
        _, secret = a.token(alice, northmoor_police, scopes=WRITE)
        client = a.client_with(secret)
        wrong = a.errors(
            a.post_json(client, URL, _plan(ends_on="2027-03-01", languages=["zz"], region="x"))
        )
        nobody = a.errors(a.post_json(client, URL, _plan(expected=[])))
    assert {e["field"] for e in wrong} == {"ends_on", "languages", "region"}
    assert nobody == [
        {
            "step": None,
            "field": "expected",
            "message": "Enter how many people you expect to find in at least one group",
        }
    ]
    assert not Operation.objects.exists()


def test_an_organisation_that_cannot_lead_gets_404(db: None) -> None:
    charity = factories.organisation(
        "Helping Hands", OrganisationKind.NON_STATUTORY_FIRST_RESPONDER
    )
    sam = factories.user(organisation=charity, role=Role.FIRST_RESPONDER)
    _, secret = a.token(sam, charity, scopes=WRITE)
    response = a.post_json(a.client_with(secret), URL, _plan())
    assert response.json() == a.NOT_FOUND
    assert not Operation.objects.exists()


def test_the_lead_and_partners_read_it_and_no_one_else_does(
    larkspur: Operation, provider: Organisation, northmoor_police: Organisation, alice: User
) -> None:
    grace = factories.user(organisation=provider, role=Role.SUPPORT_COORDINATOR)
    elsewhere = factories.organisation("Other Refuge", OrganisationKind.SUPPORT_PROVIDER)
    ursula = factories.user(organisation=elsewhere, role=Role.SUPPORT_COORDINATOR)
    one = f"{URL}/{larkspur.id}"
    for member, organisation in ((alice, northmoor_police), (grace, provider)):
        _, secret = a.token(member, organisation, scopes=READ)
        client = a.client_with(secret)
        listing = client.get(URL).json()
        assert listing["count"] == 1
        assert listing["items"][0]["name"] == "Operation Larkspur"
        got = client.get(one).json()
        assert got["partners"] == [{"organisation": "Test Refuge", "role": "support_provider"}]
        assert got["expected_total"] == 38
    _, secret = a.token(ursula, elsewhere, scopes=READ)
    outsider = a.client_with(secret)
    assert outsider.get(URL).json() == {"items": [], "count": 0}
    assert outsider.get(one).json() == a.NOT_FOUND
    assert outsider.get(f"{URL}/999999").json() == a.NOT_FOUND


# --- Reception (ADR 0043) ---------------------------------------------------------------------


def _reception_url(operation: Operation) -> str:
    return f"{URL}/{operation.id}/reception"


def _person(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name_or_description": "Ana Testova",
        "sex": "female",
        "age_group": "adult",
        "language": "ro",
        "urgent_needs": ["bed_tonight"],
        "interpreter_needed": True,
    }
    body.update(changes)
    return body


def _take_in(user: User, organisation: Organisation, operation: Operation, **changes: Any) -> Any:
    with time_machine.travel(op.DURING, tick=False):
        _, secret = a.token(user, organisation, scopes=WRITE)
        return a.post_json(a.client_with(secret), _reception_url(operation), _person(**changes))


def _reception(user: User, organisation: Organisation, operation: Operation, query: str = ""):
    with time_machine.travel(op.DURING, tick=False):
        _, secret = a.token(user, organisation, scopes=READ)
        return a.client_with(secret).get(_reception_url(operation) + query)


def test_a_responder_takes_a_person_in_through_the_api(
    larkspur: Operation, alice: User, northmoor_police: Organisation
) -> None:
    response = _take_in(alice, northmoor_police, larkspur)

    assert response.status_code == 201, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    record = ReceptionRecord.objects.get()
    assert body["sequence"] == record.sequence == 1
    assert body["reference"] == record.reference
    assert record.reference.startswith("OPR-")
    assert body["name_or_description"] == "Ana Testova"
    assert body["urgent_needs"] == ["bed_tonight"]
    assert body["interpreter_needed"] is True
    # An adult who needs a bed tonight, before the draft is submitted (the board's rule).
    assert body["standing"] == "waiting_for_bed"
    assert body["message"] == "Person 1 taken in"
    assert record.taken_in_by == alice
    assert record.draft is not None
    assert record.draft.organisation == northmoor_police
    assert record.draft.operation_id == larkspur.pk
    assert AuditEvent.objects.filter(action="operations.person_taken_in", actor=alice).count() == 1


def test_a_child_taken_in_with_no_local_authority_invited_is_said_so(
    larkspur: Operation, alice: User, northmoor_police: Organisation
) -> None:
    body = _take_in(alice, northmoor_police, larkspur, age_group="age_disputed").json()
    assert body["age_group"] == "age_disputed"
    assert body["standing"] == "draft"  # a child never waits for an adult's bed
    assert "No local authority or child guardian service is invited" in body["message"]


def test_taking_in_is_refused_naming_the_fields_and_outside_the_operations_days(
    larkspur: Operation, alice: User, northmoor_police: Organisation
) -> None:
    wrong = a.errors(_take_in(alice, northmoor_police, larkspur, name_or_description=" "))
    assert wrong == [
        {
            "step": None,
            "field": "name_or_description",
            "message": "Enter their name, or describe them",
        }
    ]
    language = a.errors(_take_in(alice, northmoor_police, larkspur, language="zz"))
    assert language == [
        {"step": None, "field": "language", "message": "Select their language from the list"}
    ]
    shape = a.errors(_take_in(alice, northmoor_police, larkspur, sex="x", colour="red"))
    assert {e["field"] for e in shape} == {"sex", "colour"}
    with time_machine.travel(op.BEFORE, tick=False):
        _, secret = a.token(alice, northmoor_police, scopes=WRITE)
        early = a.post_json(a.client_with(secret), _reception_url(larkspur), _person())
    assert early.status_code == 422
    assert a.errors(early) == [
        {
            "step": None,
            "field": None,
            "message": "People can be taken in only while the operation is under way",
        }
    ]
    assert not ReceptionRecord.objects.exists()


def test_only_the_leads_and_invited_police_or_councils_responders_take_in(
    larkspur: Operation,
    alice: User,
    charlie: User,
    southvale_police: Organisation,
    council: Organisation,
    gail: User,
) -> None:
    """As the reception page: anyone else who may use the operation gets 404, as for an
    operation that does not exist."""
    with time_machine.travel(op.BEFORE, tick=False):
        services.operation_partner_invite(
            by=alice,
            operation=larkspur,
            organisation=gail.memberships.get().organisation,
            role=PartnerRole.CHILD_GUARDIAN_SERVICE,
        )
    guardians = gail.memberships.get().organisation
    # Not invited: Southvale Police. Invited, but not as police or local authority: Gail's
    # guardian service.
    assert _take_in(charlie, southvale_police, larkspur).json() == a.NOT_FOUND
    assert _take_in(gail, guardians, larkspur).json() == a.NOT_FOUND
    with time_machine.travel(op.BEFORE, tick=False):
        services.operation_partner_invite(
            by=alice, operation=larkspur, organisation=southvale_police, role=PartnerRole.POLICE
        )
    assert _take_in(charlie, southvale_police, larkspur).status_code == 201
    assert not ReceptionRecord.objects.exclude(taken_in_by=charlie).exists()


def test_a_token_takes_in_only_through_its_own_organisation(
    larkspur: Operation, alice: User, council: Organisation, gail: User
) -> None:
    """Alice, a first responder of the lead, is also a safeguarding lead at the guardian service
    and at the council: a token of either acts there only, and her roles at the lead's police
    force do not come with it."""
    guardians = gail.memberships.get().organisation
    with time_machine.travel(op.BEFORE, tick=False):
        for organisation, role in (
            (guardians, PartnerRole.CHILD_GUARDIAN_SERVICE),
            (council, PartnerRole.LOCAL_AUTHORITY),
        ):
            Membership.objects.create(
                user=alice, organisation=organisation, role=Role.SAFEGUARDING_LEAD
            )
            services.operation_partner_invite(
                by=alice, operation=larkspur, organisation=organisation, role=role
            )
    # The guardian service reads the operation's people but takes nobody in.
    assert _reception(alice, guardians, larkspur).json()["count"] == 0
    assert _take_in(alice, guardians, larkspur).json() == a.NOT_FOUND
    # Through the council's token, the person is taken in for the council, not the police.
    assert _take_in(alice, council, larkspur).status_code == 201
    record = ReceptionRecord.objects.get()
    assert record.organisation == council
    assert record.draft is not None
    assert record.draft.organisation == council


def test_the_people_taken_in_are_read_as_the_board_shows_them(
    larkspur: Operation,
    alice: User,
    bob: User,
    northmoor_police: Organisation,
    provider: Organisation,
    council: Organisation,
    lena: User,
) -> None:
    with time_machine.travel(op.BEFORE, tick=False):
        services.operation_partner_invite(
            by=alice, operation=larkspur, organisation=council, role=PartnerRole.LOCAL_AUTHORITY
        )
    assert _take_in(lena, council, larkspur, name_or_description="Lidia Testova").status_code == 201
    assert (
        _take_in(alice, northmoor_police, larkspur, name_or_description="Anca Testova").status_code
        == 201
    )
    grace = factories.user(organisation=provider, role=Role.SUPPORT_COORDINATOR)
    AuditEvent.objects.filter(action="person.viewed").delete()

    def names(user: User, organisation: Organisation) -> list[str | None]:
        body = _reception(user, organisation, larkspur).json()
        assert body["count"] == 2
        assert [p["sequence"] for p in body["items"]] == [1, 2]
        return [p["name_or_description"] for p in body["items"]]

    # The lead's first responder who took nobody in sees both; the council's lead the one she
    # took in; the refuge's coordinator numbers and standings only.
    assert names(bob, northmoor_police) == ["Lidia Testova", "Anca Testova"]
    assert names(lena, council) == ["Lidia Testova", None]
    assert names(grace, provider) == [None, None]
    reads = AuditEvent.objects.filter(action="person.viewed", object_type="operations.operation")
    assert {(e.actor_id, tuple(e.detail["reception_sequences"])) for e in reads} == {
        (bob.pk, (1, 2)),
        (lena.pk, (1,)),
    }
    # Paged as the operations list; a page shows, and records reading, its own people only.
    second = _reception(bob, northmoor_police, larkspur, "?limit=1&offset=1")
    assert second["Cache-Control"] == "no-store"
    assert second.json()["count"] == 2
    assert [p["name_or_description"] for p in second.json()["items"]] == ["Anca Testova"]
    assert reads.filter(actor=bob).latest("id").detail["reception_sequences"] == [2]


def test_the_people_taken_in_are_404_to_outsiders(
    larkspur: Operation, alice: User, northmoor_police: Organisation
) -> None:
    assert _take_in(alice, northmoor_police, larkspur).status_code == 201
    elsewhere = factories.organisation("Other Refuge", OrganisationKind.SUPPORT_PROVIDER)
    ursula = factories.user(organisation=elsewhere, role=Role.SUPPORT_COORDINATOR)
    assert _reception(ursula, elsewhere, larkspur).json() == a.NOT_FOUND
    _, secret = a.token(alice, northmoor_police, scopes=READ)
    assert a.client_with(secret).get(f"{URL}/999999/reception").json() == a.NOT_FOUND


def test_the_urgent_needs_the_api_takes_are_the_reception_forms() -> None:
    from typing import get_args

    from opennrm.operations.api import Need
    from opennrm.operations.forms import ReceptionForm

    assert set(get_args(Need)) == {
        value for value, _ in ReceptionForm.base_fields["urgent_needs"].choices
    }
