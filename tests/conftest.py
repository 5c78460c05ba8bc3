"""The people tests are about. Each works somewhere, in one role:

- Alice is a first responder at Northmoor Police; Bob is her colleague there.
- Olivia administers Northmoor Police's accounts; Oscar administers Southvale Police's.
- Charlie is a first responder at Southvale Police: an outsider to everything of Northmoor's.
- Sysadmin runs the service; Dee (`dpo`) is its data-protection officer.
- Cora coordinates support placements (at Test Refuge, the `provider`); Maya manages Test
  Refuge's safe houses; Omar manages another provider's, so is an outsider to Test Refuge's.
- Dmitri decides cases at the Test Competent Authority; Sally, a senior decision maker there,
  approves what he decides.
- `case` is Zorica Testova's case, referred by Alice and decided by the Test Competent
  Authority, awaiting its reasonable grounds decision.
- `people_in_every_role` gives one person per role, for tests that walk through all of them
  (the data-protection officer works at the service operator, the immigration enforcement
  officer at `border_enforcement`).
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import pytest

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind as Kind
from opennrm.accounts.roles import Role
from opennrm.cases.models import Case

from . import case_factories, factories

# The test database (migrated once, copied per process) and Hypothesis's profiles.
pytest_plugins = ["tests._database", "tests._hypothesis"]

DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "live_server"}


def _flush_past_the_audit_trails_truncate_trigger() -> None:
    """Between transactional tests Django empties every table with one TRUNCATE on PostgreSQL,
    which the audit trail's trigger refuses (audit/0004). The test database's owner switches
    that trigger off for the flush, in the flush's own transaction, as only an owner can."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(
        self: DatabaseOperations,
        style: Any,
        tables: Sequence[str],
        *,
        reset_sequences: bool = False,
        allow_cascade: bool = False,
    ) -> list[str]:
        statements = original(
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        if "audit_auditevent" not in tables or not statements:
            return statements
        toggle = "ALTER TABLE audit_auditevent {} TRIGGER audit_event_no_truncate"
        return [toggle.format("DISABLE"), *statements, toggle.format("ENABLE")]

    DatabaseOperations.sql_flush = sql_flush  # type: ignore[assignment,method-assign]


_flush_past_the_audit_trails_truncate_trigger()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """After every test that used the database, the audit trail's hash chain must be whole:
    whatever the services wrote, hashed as written, reads back with the same hashes, on SQLite
    and on PostgreSQL. Tests that break it on purpose are marked `audit_tampered`."""
    result = yield
    uses_database = bool(DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))) or bool(
        item.get_closest_marker("django_db")
    )
    if uses_database and not item.get_closest_marker("audit_tampered"):
        from opennrm.audit import chain

        verification = chain.verify()
        assert verification.intact, f"the audit chain is broken: {verification.broken}"
    return result


@pytest.fixture
def northmoor_police(db: None) -> Organisation:
    return factories.organisation("Northmoor Police", Kind.STATUTORY_FIRST_RESPONDER)


@pytest.fixture
def southvale_police(db: None) -> Organisation:
    return factories.organisation("Southvale Police", Kind.STATUTORY_FIRST_RESPONDER)


@pytest.fixture
def authority(db: None) -> Organisation:
    return factories.organisation("Test Competent Authority", Kind.COMPETENT_AUTHORITY)


@pytest.fixture
def provider(db: None) -> Organisation:
    return factories.organisation("Test Refuge", Kind.SUPPORT_PROVIDER)


@pytest.fixture
def council(db: None) -> Organisation:
    return factories.organisation("Test Council", Kind.LOCAL_AUTHORITY)


@pytest.fixture
def monitoring(db: None) -> Organisation:
    return factories.organisation("Test Monitoring Unit", Kind.ANALYSIS_MONITORING)


@pytest.fixture
def operator(db: None) -> Organisation:
    return factories.organisation("Test Service Desk", Kind.SERVICE_OPERATOR)


@pytest.fixture
def border_enforcement(db: None) -> Organisation:
    return factories.organisation("Test Immigration Enforcement", Kind.IMMIGRATION_ENFORCEMENT)


@pytest.fixture
def alice(northmoor_police: Organisation) -> User:
    return factories.user(
        "alice@example.org",
        organisation=northmoor_police,
        role=Role.FIRST_RESPONDER,
        full_name="Alice Adams",
    )


@pytest.fixture
def bob(northmoor_police: Organisation) -> User:
    return factories.user(
        "bob@example.org",
        organisation=northmoor_police,
        role=Role.FIRST_RESPONDER,
        full_name="Bob Brown",
    )


@pytest.fixture
def olivia(northmoor_police: Organisation) -> User:
    return factories.user(
        "olivia@example.org",
        organisation=northmoor_police,
        role=Role.ORGANISATION_ADMIN,
        full_name="Olivia Owen",
    )


@pytest.fixture
def oscar(southvale_police: Organisation) -> User:
    return factories.user(
        "oscar@example.org",
        organisation=southvale_police,
        role=Role.ORGANISATION_ADMIN,
        full_name="Oscar Ortiz",
    )


@pytest.fixture
def charlie(southvale_police: Organisation) -> User:
    return factories.user(
        "charlie@example.org",
        organisation=southvale_police,
        role=Role.FIRST_RESPONDER,
        full_name="Charlie Cole",
    )


@pytest.fixture
def sysadmin(operator: Organisation) -> User:
    return factories.user(
        "sysadmin@example.org",
        organisation=operator,
        role=Role.SYSTEM_ADMIN,
        full_name="Sam Sysadmin",
    )


@pytest.fixture
def people_in_every_role(
    northmoor_police: Organisation,
    authority: Organisation,
    provider: Organisation,
    council: Organisation,
    monitoring: Organisation,
    operator: Organisation,
    border_enforcement: Organisation,
) -> dict[Role, User]:
    """One user per role, each in an organisation where that role belongs."""
    where = {
        Role.FIRST_RESPONDER: northmoor_police,
        Role.DECISION_MAKER: authority,
        Role.SENIOR_DECISION_MAKER: authority,
        Role.SUPPORT_COORDINATOR: provider,
        Role.SAFE_HOUSE_MANAGER: provider,
        Role.SAFEGUARDING_LEAD: council,
        Role.ANALYST: monitoring,
        Role.ORGANISATION_ADMIN: northmoor_police,
        Role.SYSTEM_ADMIN: operator,
        Role.DATA_PROTECTION_OFFICER: operator,
        Role.IMMIGRATION_ENFORCEMENT: border_enforcement,
    }
    return {
        role: factories.user(f"{role.value}@example.org", organisation=org, role=role)
        for role, org in where.items()
    }


@pytest.fixture
def dpo(operator: Organisation) -> User:
    """The service's data-protection officer."""
    return factories.user(
        "dpo@example.org",
        organisation=operator,
        role=Role.DATA_PROTECTION_OFFICER,
        full_name="Dee Protector",
    )


@pytest.fixture
def second_dpo(operator: Organisation) -> User:
    """A second data-protection officer, who approves what the first one prepared."""
    return factories.user(
        "dpo2@example.org",
        organisation=operator,
        role=Role.DATA_PROTECTION_OFFICER,
        full_name="Ed Second",
    )


@pytest.fixture
def cora(provider: Organisation) -> User:
    """Support coordinator: places people anywhere in the country."""
    return factories.user(
        "cora@example.org",
        organisation=provider,
        role=Role.SUPPORT_COORDINATOR,
        full_name="Cora Coordinator",
    )


@pytest.fixture
def maya(provider: Organisation) -> User:
    """Safe-house manager at Test Refuge."""
    return factories.user(
        "maya@example.org",
        organisation=provider,
        role=Role.SAFE_HOUSE_MANAGER,
        full_name="Maya Manager",
    )


@pytest.fixture
def omar(db: None) -> User:
    """Safe-house manager at another provider: an outsider to Test Refuge's sites."""
    other = factories.organisation("Other Shelter", Kind.SUPPORT_PROVIDER)
    return factories.user(
        "omar@example.org",
        organisation=other,
        role=Role.SAFE_HOUSE_MANAGER,
        full_name="Omar Other",
    )


@pytest.fixture
def dmitri(authority: Organisation) -> User:
    """Decision maker at the competent authority."""
    return factories.user(
        "dmitri@example.org",
        organisation=authority,
        role=Role.DECISION_MAKER,
        full_name="Dmitri Dane",
    )


@pytest.fixture
def sally(authority: Organisation) -> User:
    """Senior decision maker at the same competent authority as Dmitri."""
    return factories.user(
        "sally@example.org",
        organisation=authority,
        role=Role.SENIOR_DECISION_MAKER,
        full_name="Sally Senior",
    )


@pytest.fixture
def case(alice: User, northmoor_police: Organisation, authority: Organisation) -> Case:
    """Zorica Testova's case: referred by Alice, awaiting reasonable grounds."""
    return case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        given_names="Zorica Testova",
    )


@pytest.fixture
def routing(authority: Organisation, council: Organisation) -> Organisation:
    """One routing rule: everything goes to the test competent authority."""
    from opennrm.referrals.models import RoutingRule

    RoutingRule.objects.create(priority=100, description="Default", competent_authority=authority)
    return authority


@pytest.fixture
def lena(council: Organisation) -> User:
    """Safeguarding lead at the local authority for Testshire."""
    return factories.user(
        "lena@example.org", organisation=council, role=Role.SAFEGUARDING_LEAD, full_name="Lena Lowe"
    )


@pytest.fixture
def gail(db: None) -> User:
    """Child trafficking guardian for Testshire."""
    guardians = factories.organisation(
        "Testshire Guardians", Kind.CHILD_GUARDIAN_SERVICE, area="Testshire"
    )
    return factories.user(
        "gail@example.org",
        organisation=guardians,
        role=Role.SAFEGUARDING_LEAD,
        full_name="Gail Grant",
    )
