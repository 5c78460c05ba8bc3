"""Identifying fields and evidence files are encrypted at rest, and read back exactly as before.

What the ORM reads is what was written; what the database (and the disk) holds is ciphertext
that is refused if anyone alters it, moves it to another column, or swaps files.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import FieldError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import Case, CaseNarrative, PersonIdentity
from opennrm.lib import crypto, fields
from opennrm.referrals import services
from opennrm.referrals.models import EvidenceFile, ReferralDraft

from . import factories
from . import referral_helpers as r

PDF = b"%PDF-1.7\n% a statement by Zorica\n%%EOF"
IDENTITY_COLUMNS = ("given_names", "family_name", "aliases", "date_of_birth", "safe_contact")
NARRATIVE_COLUMNS = (
    "persons_account",
    "responders_account",
    "exploitation_places",
    "immediate_needs_details",
)


def stored(model, pk: int, column: str):
    """A column's value as the database holds it, read past the ORM's fields."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(column)} FROM {quote(model._meta.db_table)} WHERE id = %s",  # noqa: S608
            [pk],
        )
        return cursor.fetchone()[0]


def store(model, pk: int, column: str, value) -> None:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(model._meta.db_table)} SET {quote(column)} = %s WHERE id = %s",  # noqa: S608
            [value, pk],
        )


@pytest.fixture
def submitted_case(
    alice: User, northmoor_police: Organisation, routing: Organisation, settings, tmp_path
) -> Case:
    settings.PRIVATE_FILES_DIR = tmp_path
    draft = r.draft_through_services(
        alice, northmoor_police, r.ADULT_REFERRAL, evidence=[("Zorica statement.pdf", PDF)]
    )
    submitted = services.referral_submit(by=alice, draft=draft)
    assert submitted.case is not None
    return submitted.case


def test_identity_and_accounts_read_back_as_written_and_are_stored_encrypted(
    submitted_case: Case,
) -> None:
    identity = PersonIdentity.objects.get(person=submitted_case.person)
    assert identity.given_names == "Zorica Testova"
    assert identity.family_name == "Fictitious"
    assert identity.aliases == ["Zee", "Zori"]
    assert identity.date_of_birth.isoformat() == "1999-03-14"
    assert identity.safe_contact == "Through the outreach worker only"
    narrative = CaseNarrative.objects.get(case=submitted_case)
    assert narrative.persons_account == r.ACCOUNT["persons_account"]
    assert narrative.exploitation_places == "A car wash on the ring road"
    for column in IDENTITY_COLUMNS:
        value = stored(PersonIdentity, identity.pk, column)
        assert crypto.is_token(value), column
        assert crypto.token_key_id(value) == "test-a"
    for column in NARRATIVE_COLUMNS:
        assert crypto.is_token(stored(CaseNarrative, narrative.pk, column)), column
    assert "1999" not in stored(PersonIdentity, identity.pk, "date_of_birth")


def test_the_case_page_shows_the_decrypted_details(submitted_case: Case, dmitri: User) -> None:
    page = factories.signed_in_client(dmitri).get(
        reverse("cases:detail", args=[submitted_case.reference])
    )
    html = page.content.decode()
    assert "Zorica Testova Fictitious" in html
    assert "14 March 1999" in html
    assert "Zee, Zori" in html
    assert "They took my passport" in html
    assert "Zorica statement.pdf" in html


@pytest.mark.page("cases:evidence_download")
def test_evidence_is_encrypted_on_disk_and_downloads_as_uploaded(
    submitted_case: Case, dmitri: User, tmp_path: Path
) -> None:
    evidence = EvidenceFile.objects.get()
    assert evidence.original_name == "Zorica statement.pdf"
    assert crypto.is_token(stored(EvidenceFile, evidence.pk, "original_name"))
    on_disk = (tmp_path / "evidence" / evidence.file.name).read_bytes()
    assert b"Zorica" not in on_disk
    assert not on_disk.startswith(b"%PDF")
    assert on_disk.startswith(crypto.FILE_MAGIC)
    assert evidence.file.size == len(PDF) == evidence.size
    download = factories.signed_in_client(dmitri).get(
        reverse("cases:evidence_download", args=[submitted_case.reference, evidence.pk])
    )
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == PDF
    with pytest.raises(ValueError, match="never served by URL"):
        _ = evidence.file.url


def test_draft_answers_are_encrypted_while_the_draft_is_written(
    alice: User, northmoor_police: Organisation
) -> None:
    draft = r.draft_through_services(alice, northmoor_police, {"age": r.ADULT, "person": r.PERSON})
    raw = stored(ReferralDraft, draft.pk, "answers")
    assert crypto.is_token(raw)
    assert "Zorica" not in raw
    draft = ReferralDraft.objects.get(pk=draft.pk)
    assert draft.answers["person"]["given_names"] == "Zorica Testova"
    assert draft.answers["age"] == r.ADULT


def test_searching_or_filtering_an_encrypted_column_is_refused(submitted_case: Case) -> None:
    """A lookup on ciphertext would silently find nothing: it is an error instead."""
    for lookup in (
        {"given_names": "Zorica Testova"},
        {"family_name__icontains": "Fict"},
        {"aliases__contains": ["Zee"]},
        {"aliases__0": "Zee"},
        {"date_of_birth__year": 1999},
    ):
        with pytest.raises(FieldError):
            list(PersonIdentity.objects.filter(**lookup))
    assert PersonIdentity.objects.filter(date_of_birth__isnull=False).count() == 1


def test_a_value_altered_in_the_database_is_refused(submitted_case: Case) -> None:
    identity = PersonIdentity.objects.get(person=submitted_case.person)
    token = stored(PersonIdentity, identity.pk, "given_names")
    store(
        PersonIdentity,
        identity.pk,
        "given_names",
        token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB"),
    )
    with pytest.raises(crypto.DecryptionError, match="failed authentication"):
        PersonIdentity.objects.get(pk=identity.pk)


def test_a_value_moved_from_another_column_is_refused(submitted_case: Case) -> None:
    """Copying the safe contact's ciphertext over the name cannot make the name show it."""
    identity = PersonIdentity.objects.get(person=submitted_case.person)
    store(
        PersonIdentity,
        identity.pk,
        "given_names",
        stored(PersonIdentity, identity.pk, "safe_contact"),
    )
    with pytest.raises(crypto.DecryptionError, match=r"cases\.personidentity\.given_names"):
        PersonIdentity.objects.get(pk=identity.pk)


def test_plaintext_put_back_into_an_encrypted_column_is_refused(submitted_case: Case) -> None:
    narrative = CaseNarrative.objects.get(case=submitted_case)
    store(CaseNarrative, narrative.pk, "persons_account", "Something else entirely")
    with pytest.raises(crypto.DecryptionError, match="not an encrypted value"):
        CaseNarrative.objects.get(pk=narrative.pk)


def test_evidence_files_swapped_or_altered_on_disk_are_refused(
    alice: User, northmoor_police: Organisation, settings, tmp_path: Path
) -> None:
    settings.PRIVATE_FILES_DIR = tmp_path
    r.draft_through_services(
        alice,
        northmoor_police,
        {"age": r.ADULT, "consent": r.CONSENTS},
        evidence=[("one.pdf", PDF), ("two.pdf", PDF + b" second")],
    )
    one, two = EvidenceFile.objects.order_by("pk")
    path_one = tmp_path / "evidence" / one.file.name
    path_two = tmp_path / "evidence" / two.file.name
    blob_one, blob_two = path_one.read_bytes(), path_two.read_bytes()
    path_one.write_bytes(blob_two)
    with pytest.raises(crypto.DecryptionError):
        one.file.open("rb")
    path_one.write_bytes(blob_one[:-1] + bytes([blob_one[-1] ^ 1]))
    with pytest.raises(crypto.DecryptionError):
        EvidenceFile.objects.get(pk=one.pk).file.open("rb")
    assert EvidenceFile.objects.get(pk=two.pk).file.open("rb").read() == PDF + b" second"


def test_the_database_search_helper_sees_through_encryption(submitted_case: Case) -> None:
    """`factories.rows_containing` searches every column as stored and every encrypted column
    decrypted, so other tests can prove that a value is gone, not merely encrypted."""
    assert factories.rows_containing("Zorica Testova") == [
        "cases_personidentity.given_names (decrypted)"
    ]
    assert factories.rows_containing("said I owed them money") == [
        "cases_casenarrative.persons_account (decrypted)"
    ]
    assert factories.rows_containing("Zorica statement") == [
        "referrals_evidencefile.original_name (decrypted)"
    ]


def test_the_keyring_follows_the_settings(settings) -> None:
    first = fields.keyring()
    assert fields.keyring() is first
    settings.ENCRYPTION_KEYS = [crypto.Key("other", b"o" * 32)]
    assert fields.keyring().primary.id == "other"


@pytest.mark.django_db(transaction=True)
def test_the_migrations_encrypt_then_bind_what_was_stored_in_the_clear_and_can_undo_it(
    alice: User, northmoor_police: Organisation, routing: Organisation, settings, tmp_path: Path
) -> None:
    """Rows and files written before encryption existed, taken through the migrations one way
    and back. Migrating back to before encryption unbinds and decrypts them; forward to the
    first encrypting migrations encrypts them in place bound to their column only (`enc1`),
    where a swap between two rows went unnoticed; forward to the end binds each value to a uuid
    of its own row (`enc2`), and the same swap is refused. One round trip rather than one per
    step: each walk through the migrations is the slowest thing in the suite."""
    settings.PRIVATE_FILES_DIR = tmp_path
    from tests.test_database_dump import ensure_indicator_catalogue

    ensure_indicator_catalogue()
    draft = r.draft_through_services(
        alice, northmoor_police, r.ADULT_REFERRAL, evidence=[("Zorica statement.pdf", PDF)]
    )
    submitted_case = services.referral_submit(by=alice, draft=draft).case
    other = {**r.ADULT_REFERRAL, "person": {**r.PERSON, "given_names": "Other Person"}}
    second = services.referral_submit(
        by=alice, draft=r.draft_through_services(alice, northmoor_police, other)
    ).case
    in_progress = r.draft_through_services(alice, northmoor_police, {"person": r.PERSON})
    identity = PersonIdentity.objects.get(person=submitted_case.person)
    ids = [identity.pk, PersonIdentity.objects.get(person=second.person).pk]
    narrative = CaseNarrative.objects.get(case=submitted_case)
    evidence = EvidenceFile.objects.get()
    on_disk = tmp_path / "evidence" / evidence.file.name

    executor = MigrationExecutor(connection)
    executor.migrate([("cases", "0005_case_assignment_queues"), ("referrals", "0001_initial")])
    assert stored(PersonIdentity, identity.pk, "given_names") == "Zorica Testova"
    assert str(stored(PersonIdentity, identity.pk, "date_of_birth")) == "1999-03-14"
    assert "Zee" in str(stored(PersonIdentity, identity.pk, "aliases"))
    assert stored(CaseNarrative, narrative.pk, "persons_account") == r.ACCOUNT["persons_account"]
    assert "Zorica" in str(stored(ReferralDraft, in_progress.pk, "answers"))
    assert stored(EvidenceFile, evidence.pk, "original_name") == "Zorica statement.pdf"
    assert on_disk.read_bytes() == PDF

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(
        [
            ("cases", "0009_queue_age_index"),
            ("referrals", "0003_encrypt_answers_and_evidence"),
            ("support", "0004_address_permission_per_membership"),
            ("decisions", "0003_encrypt_free_text"),
        ]
    )
    for pk in ids:
        assert stored(PersonIdentity, pk, "given_names").startswith("enc1$")
    # Unbound, a swap went unnoticed: the very thing binding prevents.
    _swap(PersonIdentity, ids[0], ids[1], "given_names")
    _swap(PersonIdentity, ids[0], ids[1], "given_names")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    rows = {stored(PersonIdentity, pk, "row_uuid") for pk in ids}
    assert len(rows) == 2
    assert None not in rows
    for pk in ids:
        for column in IDENTITY_COLUMNS:
            value = stored(PersonIdentity, pk, column)
            assert value is None or value.startswith("enc2$"), column
    assert crypto.is_token(stored(ReferralDraft, in_progress.pk, "answers"))
    assert on_disk.read_bytes().startswith(crypto.FILE_MAGIC)
    identity = PersonIdentity.objects.get(pk=identity.pk)
    assert (identity.given_names, identity.aliases) == ("Zorica Testova", ["Zee", "Zori"])
    assert identity.name_index == fields.blind_index().of_name("Zorica Testova Fictitious")
    assert PersonIdentity.objects.get(pk=ids[1]).given_names == "Other Person"
    assert (
        CaseNarrative.objects.get(pk=narrative.pk).persons_account == r.ACCOUNT["persons_account"]
    )
    assert ReferralDraft.objects.get(pk=in_progress.pk).answers["person"] == r.PERSON
    assert EvidenceFile.objects.get().file.open("rb").read() == PDF
    _swap(PersonIdentity, ids[0], ids[1], "given_names")
    with pytest.raises(crypto.DecryptionError, match="moved from another row"):
        PersonIdentity.objects.get(pk=ids[0])


def _swap(model, first: int, second: int, column: str) -> None:
    one, two = stored(model, first, column), stored(model, second, column)
    store(model, first, column, two)
    store(model, second, column, one)


@pytest.fixture
def two_cases(
    submitted_case: Case, alice: User, northmoor_police: Organisation
) -> tuple[Case, Case]:
    other = {
        **r.ADULT_REFERRAL,
        "person": {**r.PERSON, "given_names": "Other Person", "safe_contact": "Never by phone"},
    }
    draft = r.draft_through_services(alice, northmoor_police, other)
    second = services.referral_submit(by=alice, draft=draft).case
    assert second is not None
    return submitted_case, second


@pytest.mark.parametrize("column", IDENTITY_COLUMNS)
def test_values_swapped_between_two_peoples_rows_are_refused_not_shown(
    two_cases: tuple[Case, Case], column: str
) -> None:
    """Ciphertext swapped between two rows with SQL, each in its right column, must not show
    one person's details as the other's: each value is bound to its row."""
    first, second = (PersonIdentity.objects.get(person=c.person) for c in two_cases)
    _swap(PersonIdentity, first.pk, second.pk, column)
    for identity in (first, second):
        with pytest.raises(crypto.DecryptionError, match="failed authentication") as refused:
            PersonIdentity.objects.get(pk=identity.pk)
        assert f"cases.personidentity.{column} in row {identity.row_uuid}" in str(refused.value)
        assert "moved from another row" in str(refused.value)
    _swap(PersonIdentity, first.pk, second.pk, column)
    assert PersonIdentity.objects.get(pk=first.pk).given_names == "Zorica Testova"
    assert PersonIdentity.objects.get(pk=second.pk).given_names == "Other Person"


def test_accounts_swapped_between_two_cases_are_refused(two_cases: tuple[Case, Case]) -> None:
    first, second = (CaseNarrative.objects.get(case=c) for c in two_cases)
    _swap(CaseNarrative, first.pk, second.pk, "persons_account")
    with pytest.raises(crypto.DecryptionError, match="moved from another row"):
        CaseNarrative.objects.get(pk=first.pk)


def test_a_row_given_another_rows_uuid_does_not_read_the_other_rows_values(
    two_cases: tuple[Case, Case],
) -> None:
    """Row uuids are unique: two rows cannot share one to make a copied value read."""
    from django.db import IntegrityError, transaction

    first, second = (PersonIdentity.objects.get(person=c.person) for c in two_cases)
    with pytest.raises(IntegrityError), transaction.atomic():
        store(PersonIdentity, first.pk, "row_uuid", stored(PersonIdentity, second.pk, "row_uuid"))


def test_every_model_with_an_encrypted_field_binds_its_values_to_rows() -> None:
    from django.apps import apps
    from django.core import checks

    bound = [m for m in apps.get_models() if fields.encrypted_fields(m)]
    assert len(bound) >= 12
    assert all(fields.row_field(m) is not None for m in bound)
    # No database: with none named, Django runs the model checks against every connection,
    # and a JSON field's check opens one, which a test without the database mark may not.
    assert [e for e in checks.run_checks(databases=[]) if e.id == "opennrm.E001"] == []


def test_writing_an_encrypted_value_without_its_row_is_refused(submitted_case: Case) -> None:
    """QuerySet.update() has no row to bind to: it may only empty a value (as erasure does)."""
    from django.db import transaction

    with pytest.raises(FieldError, match="bound to its row"), transaction.atomic():
        CaseNarrative.objects.filter(case=submitted_case).update(persons_account="Something else")
    CaseNarrative.objects.filter(case=submitted_case).update(persons_account="")
    assert CaseNarrative.objects.get(case=submitted_case).persons_account == ""


def test_the_person_row_keeps_no_clear_copy_of_the_year_of_birth(submitted_case: Case) -> None:
    """The year of birth is a quasi-identifier nothing needs in the clear: the date of birth is
    in the identity, encrypted, and the figures use the age at referral."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM cases_person WHERE id = %s", [submitted_case.person_id])
        row = cursor.fetchone()
    assert "1999" not in [str(value) for value in row]
