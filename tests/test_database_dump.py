"""A database dump alone reveals no identifying data (issue 5, acceptance).

People are referred through the real referral services with distinctive synthetic details, a
draft is left half written, and evidence is uploaded; then the whole database is dumped, as a
thief with a backup or a copy of the disk would have it, and searched. On PostgreSQL the dump is
`pg_dump`'s; on SQLite it is SQLite's own dump of every table (`iterdump`). Either way the
details must not appear, while the decrypted reads (the control) show they were stored.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.db import connection

from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.cases.models import Case, CaseNarrative, PersonIdentity
from opennrm.decisions import services as decisions
from opennrm.decisions.models import Decision, ReconsiderationRequest
from opennrm.referrals import services
from opennrm.referrals.models import EvidenceFile, ReferralDraft

from . import factories
from . import referral_helpers as r

PG_DUMP = shutil.which("pg_dump") or "/usr/bin/pg_dump"

# Invented to be unmistakable: none of these strings can occur in a dump by chance.
GIVEN, FAMILY, ALIAS = "Quillonexa", "Varadimovska", "Pellumbrix"
BORN = ("23", "9", "1987")
DATES_OF_BIRTH = ("1987-09-23", "23/09/1987", "23 September 1987", "19870923")
SAFE_CONTACT = "Ring the vicarage on Thornbury Lane twice"
PERSONS_ACCOUNT = "Kept in the cellar of the laundrette by the gasworks"
RESPONDERS_ACCOUNT = "Welfare check at the laundrette found eleven bunks"
PLACES = "Laundrette behind Mossgiel gasworks"
NEEDS = "Keep away from Mossgiel Road"
DRAFT_NAME = "Ysoldetrix Brannagova"
DRAFT_ACCOUNT = "Left at the lorry park near Quarrington"
FILE_NAME = "Quillonexa passport scan.pdf"
FILE_TEXT = b"Passport number QX-77-ZETA of Quillonexa"
# Decision makers and referrers write about the person in free text too.
REASONS = "Zenthoria's account of the Brackwater quarry is inconsistent"
APPROVAL_NOTE = "Agreed: Zenthoria gave two dates for Brackwater"
GROUNDS = "New statement from Zenthoria's employer at Brackwater quarry"
SECRETS = [
    GIVEN,
    FAMILY,
    ALIAS,
    *DATES_OF_BIRTH,
    SAFE_CONTACT,
    PERSONS_ACCOUNT,
    RESPONDERS_ACCOUNT,
    PLACES,
    NEEDS,
    DRAFT_NAME,
    DRAFT_ACCOUNT,
    FILE_NAME,
    FILE_TEXT.decode(),
    REASONS,
    APPROVAL_NOTE,
    GROUNDS,
    "Zenthoria",
    "Brackwater",
]


def ensure_indicator_catalogue() -> None:
    """Transactional tests run on a database emptied between tests, which also empties the
    catalogue a migration loads; load it again as a deployment would have it."""
    from opennrm.screening import catalogue
    from opennrm.screening import services as screening_services
    from opennrm.screening.models import IndicatorCatalogue

    if not IndicatorCatalogue.objects.exists():
        screening_services.catalogue_load(
            by=None, data=json.loads(catalogue.BUNDLED_PATH.read_text())
        )


def dump() -> str:
    """Everything the database holds, as text, as its own dump tool writes it."""
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        command = [PG_DUMP, "--no-owner", "--dbname", db["NAME"]]
        for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
            if db.get(key):
                command += [option, str(db[key])]
        environment = {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or "")}
        result = subprocess.run(  # noqa: S603 - a fixed binary, our own arguments
            command, capture_output=True, text=True, env=environment, timeout=120, check=False
        )
        assert result.returncode == 0, result.stderr
        return result.stdout
    connection.ensure_connection()
    return "\n".join(connection.connection.iterdump())


def found_in(text: str) -> list[str]:
    folded = text.casefold()
    return [secret for secret in SECRETS if secret.casefold() in folded]


@pytest.mark.django_db(transaction=True)
def test_a_dump_of_the_database_reveals_no_identifying_data(
    alice: User,
    dmitri: User,
    northmoor_police: Organisation,
    routing: Organisation,
    settings,
    tmp_path: Path,
) -> None:
    settings.PRIVATE_FILES_DIR = tmp_path
    ensure_indicator_catalogue()
    person = {
        **r.PERSON,
        "given_names": GIVEN,
        "family_name": FAMILY,
        "aliases": ALIAS,
        "date_of_birth_day": BORN[0],
        "date_of_birth_month": BORN[1],
        "date_of_birth_year": BORN[2],
        "safe_contact": SAFE_CONTACT,
    }
    pages = {
        **r.ADULT_REFERRAL,
        "person": person,
        "exploitation": {**r.EXPLOITATION, "places": PLACES},
        "account": {"persons_account": PERSONS_ACCOUNT, "responders_account": RESPONDERS_ACCOUNT},
        "needs": {**r.NEEDS, "details": NEEDS},
    }
    draft = r.draft_through_services(
        alice, northmoor_police, pages, evidence=[(FILE_NAME, b"%PDF-1.7\n" + FILE_TEXT)]
    )
    case = services.referral_submit(by=alice, draft=draft).case
    # A negative decision, its second approval and a request to reconsider it, each in words
    # that name the person.
    decision = decisions.decision_record_reasonable_grounds(
        by=dmitri,
        case=case,
        outcome="negative",
        negative_reason="insufficient_information",
        reasons=REASONS,
        expected_version=case.version,
    )
    senior = factories.user("senior@example.org", organisation=routing, role=Role.DECISION_MAKER)
    decisions.decision_approve(by=senior, decision=decision, approve=True, note=APPROVAL_NOTE)
    case.refresh_from_db()
    decisions.reconsideration_request(
        by=alice, case=case, grounds=GROUNDS, expected_version=case.version
    )
    # A second referral, still being written: its answers live in the draft.
    r.draft_through_services(
        alice,
        northmoor_police,
        {
            "age": r.ADULT,
            "person": {**r.PERSON, "given_names": DRAFT_NAME},
            "account": {**r.ACCOUNT, "persons_account": DRAFT_ACCOUNT},
        },
    )

    # The control: everything was stored, and the application reads it back.
    identity = PersonIdentity.objects.get(person=case.person)
    assert (identity.given_names, identity.family_name, identity.aliases) == (
        GIVEN,
        FAMILY,
        [ALIAS],
    )
    assert identity.date_of_birth.isoformat() == DATES_OF_BIRTH[0]
    assert CaseNarrative.objects.get(case=case).persons_account == PERSONS_ACCOUNT
    assert ReferralDraft.objects.get(status="draft").answers["person"]["given_names"] == DRAFT_NAME
    evidence = EvidenceFile.objects.get()
    assert evidence.original_name == FILE_NAME
    assert FILE_TEXT in evidence.file.open("rb").read()
    assert (Decision.objects.get().reasons, Decision.objects.get().approval_note) == (
        REASONS,
        APPROVAL_NOTE,
    )
    assert ReconsiderationRequest.objects.get().grounds == GROUNDS

    text = dump()
    if connection.vendor == "postgresql":
        assert "PostgreSQL database dump" in text
    else:
        assert text.startswith("BEGIN TRANSACTION;")
    assert Case.objects.get().reference in text, "the dump holds the data rows"
    assert "enc2$" in text, "the dump holds the encrypted values, bound to their rows"
    assert found_in(text) == []

    # Nor do the files: not their names (stored ones are random), not their content.
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert len(files) == 1
    assert found_in(files[0].name) == []
    assert found_in(files[0].read_bytes().decode("latin-1")) == []
