"""Keys rotate: `rotate_keys` moves every value, file and blind index to the new keys, resumably,
after which the old keys can be removed and everything still reads (issue 5, acceptance)."""

from __future__ import annotations

import base64
import importlib
import io
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.cases import key_rotation as rotation
from opennrm.cases.models import CaseNarrative, KeyRotation, PersonIdentity
from opennrm.cases.selectors import people_matching
from opennrm.lib import crypto, fields
from opennrm.referrals import services
from opennrm.referrals.models import EvidenceFile, ReferralDraft

from . import case_factories
from . import referral_helpers as r

PDF = b"%PDF-1.7\n% evidence for the rotation test\n%%EOF"


def key(key_id: str, fill: bytes) -> str:
    return f"{key_id}:{base64.b64encode(fill * 32).decode()}"


A, B = key("A", b"a"), key("B", b"b")
INDEX_1, INDEX_2 = key("index-1", b"1"), key("index-2", b"2")

Restart = Callable[..., None]


@pytest.fixture
def restart(monkeypatch: pytest.MonkeyPatch, settings) -> Iterator[Restart]:
    """Start OpenNRM again with these key variables: the real settings module is read again
    from the environment, and its keys replace the running ones (the keyring is rebuilt)."""
    import opennrm.settings

    def start(*, keys: str, index_keys: str) -> None:
        monkeypatch.setenv("OPENNRM_ENCRYPTION_KEYS", keys)
        monkeypatch.setenv("OPENNRM_BLIND_INDEX_KEY", index_keys)
        reread = importlib.reload(opennrm.settings)
        settings.ENCRYPTION_KEYS = reread.ENCRYPTION_KEYS
        settings.BLIND_INDEX_KEYS = reread.BLIND_INDEX_KEYS

    yield start
    monkeypatch.undo()
    importlib.reload(opennrm.settings)


def stored_tokens() -> list[str]:
    """Every encrypted value as the database holds it."""
    quote = connection.ops.quote_name
    tokens = []
    with connection.cursor() as cursor:
        for model in (PersonIdentity, CaseNarrative, ReferralDraft, EvidenceFile):
            for field in fields.encrypted_fields(model):
                cursor.execute(
                    f"SELECT {quote(field.column)} FROM {quote(model._meta.db_table)}"  # noqa: S608
                )
                tokens += [row[0] for row in cursor.fetchall() if row[0] is not None]
    return tokens


def key_ids_on_disk(folder: Path) -> set[str]:
    return {crypto.file_key_id(p.read_bytes())[0] for p in folder.rglob("*") if p.is_file()}


def everything_reads(case_person_id: int, draft_pk: int) -> None:
    identity = PersonIdentity.objects.get(person_id=case_person_id)
    assert identity.given_names == "Zorica Testova"
    assert identity.aliases == ["Zee", "Zori"]
    assert identity.date_of_birth == date(1999, 3, 14)
    assert identity.safe_contact == "Through the outreach worker only"
    narrative = CaseNarrative.objects.get(case__person_id=case_person_id)
    assert narrative.persons_account == r.ACCOUNT["persons_account"]
    assert ReferralDraft.objects.get(pk=draft_pk).answers["person"]["given_names"] == (
        "Zorica Testova"
    )
    for evidence in EvidenceFile.objects.all():
        assert evidence.original_name.endswith(".pdf")
        assert evidence.file.open("rb").read() == PDF
    for item in PersonIdentity.objects.all():
        assert item.given_names


@pytest.fixture
def written_under_a(
    restart: Restart,
    alice: User,
    northmoor_police: Organisation,
    routing: Organisation,
    settings,
    tmp_path: Path,
) -> tuple[int, int]:
    """A case and a draft in progress, each with evidence, and more people, all under key A."""
    settings.PRIVATE_FILES_DIR = tmp_path
    restart(keys=A, index_keys=INDEX_1)
    draft = r.draft_through_services(
        alice, northmoor_police, r.ADULT_REFERRAL, evidence=[("statement.pdf", PDF)]
    )
    case = services.referral_submit(by=alice, draft=draft).case
    in_progress = r.draft_through_services(
        alice, northmoor_police, {"person": r.PERSON}, evidence=[("photo.pdf", PDF)]
    )
    for n in range(5):
        case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=routing,
            given_names=f"Person {n}",
        )
    assert {crypto.token_key_id(t) for t in stored_tokens()} == {"A"}
    assert key_ids_on_disk(tmp_path) == {"A"}
    return case.person_id, in_progress.pk


def test_rotate_then_restart_without_the_old_key_and_everything_reads(
    written_under_a: tuple[int, int], restart: Restart, dmitri: User, tmp_path: Path
) -> None:
    person_id, draft_pk = written_under_a
    # Without key A, nothing written under it can be read: the old key is needed until rotated.
    restart(keys=B, index_keys=INDEX_2)
    with pytest.raises(crypto.DecryptionError, match="'A'"):
        PersonIdentity.objects.get(person_id=person_id)

    # The new key goes first; the old one stays until rotate_keys has run.
    restart(keys=f"{B},{A}", index_keys=f"{INDEX_2},{INDEX_1}")
    everything_reads(person_id, draft_pk)
    assert [
        p.pk for p in people_matching(Actor.of_session(dmitri), name="zorica testova fictitious")
    ] == [person_id]
    out = io.StringIO()
    call_command("rotate_keys", stdout=out, stderr=io.StringIO())
    report = out.getvalue()
    assert "cases.personidentity: 6 checked, 6 rewritten" in report
    assert "cases.casenarrative: 6 checked, 6 rewritten" in report
    assert "referrals.referraldraft: 2 checked, 2 rewritten" in report
    assert "referrals.evidencefile: 2 checked, 2 rewritten" in report
    assert "referrals.evidencefile.file:files: 2 checked, 2 rewritten" in report
    assert "Keys no longer needed: A, index-1." in report
    event = AuditEvent.objects.filter(action="encryption.keys_rotated").get()
    assert event.detail["key_id"] == "B"
    assert event.detail["targets"]["cases.personidentity"]["rewritten"] == 6

    # Restart with the old keys removed: everything still reads, and search still finds.
    restart(keys=B, index_keys=INDEX_2)
    everything_reads(person_id, draft_pk)
    assert {crypto.token_key_id(t) for t in stored_tokens()} == {"B"}
    assert key_ids_on_disk(tmp_path) == {"B"}
    assert [
        p.pk for p in people_matching(Actor.of_session(dmitri), name="ZORICA TESTOVA Fictitious")
    ] == [person_id]
    assert [
        p.pk for p in people_matching(Actor.of_session(dmitri), date_of_birth=date(1999, 3, 14))
    ] == [person_id]


def test_an_interrupted_rotation_continues_where_it_stopped(
    written_under_a: tuple[int, int], restart: Restart
) -> None:
    restart(keys=f"{B},{A}", index_keys=INDEX_1)
    batches: list[str] = []

    def interrupt_after_two_batches(target: str, tally: rotation.Tally) -> None:
        batches.append(target)
        if len(batches) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rotation.keys_rotate(batch_size=2, report=interrupt_after_two_batches)
    progress = KeyRotation.objects.get(target="cases.casenarrative")
    assert (progress.checked, progress.rewritten, progress.finished_at) == (4, 4, None)
    first_four = list(CaseNarrative.objects.order_by("pk").values_list("pk", flat=True))[:4]
    assert progress.last_pk == first_four[-1]

    # Run again: it continues after the fourth row, and finishes every table.
    seen: list[tuple[str, int]] = []
    summary = rotation.keys_rotate(
        batch_size=2, report=lambda target, tally: seen.append((target, tally.checked))
    )
    assert seen[0] == ("cases.casenarrative", 2)  # only the last two narratives were left
    assert summary["cases.casenarrative"].checked == 6
    assert summary["cases.casenarrative"].rewritten == 6
    assert summary["cases.personidentity"].rewritten == 6
    assert {crypto.token_key_id(t) for t in stored_tokens()} == {"B"}

    # And again: nothing left to do, nothing rewritten.
    again = rotation.keys_rotate(batch_size=2)
    assert all(tally.already_done for tally in again.values())
    before = stored_tokens()
    restarted = rotation.keys_rotate(batch_size=2, restart=True)
    assert sum(tally.rewritten for tally in restarted.values()) == 0
    assert stored_tokens() == before


def test_rows_written_during_a_rotation_are_already_under_the_new_key(
    written_under_a: tuple[int, int],
    restart: Restart,
    alice: User,
    northmoor_police: Organisation,
    routing: Organisation,
) -> None:
    restart(keys=f"{B},{A}", index_keys=INDEX_1)

    written: list[int] = []

    def meanwhile(target: str, tally: rotation.Tally) -> None:
        if target == "cases.casenarrative" and not written:
            written.append(
                case_factories.case(
                    referred_by=alice,
                    referring_organisation=northmoor_police,
                    authority=routing,
                    given_names="Written meanwhile",
                ).pk
            )

    summary = rotation.keys_rotate(batch_size=4, report=meanwhile)
    assert summary["cases.casenarrative"].checked == 7
    assert summary["cases.casenarrative"].rewritten == 6  # the seventh was written under B
    assert {crypto.token_key_id(t) for t in stored_tokens()} == {"B"}


def test_a_rotation_that_meets_an_unknown_key_stops_and_says_where(
    written_under_a: tuple[int, int], restart: Restart
) -> None:
    restart(keys=B, index_keys=INDEX_1)
    with pytest.raises(CommandError, match=r"cases\.casenarrative row \d+: no configured key"):
        call_command("rotate_keys", stdout=io.StringIO(), stderr=io.StringIO())
    # Nothing is lost: with the old key back, the rotation finishes.
    restart(keys=f"{B},{A}", index_keys=INDEX_1)
    call_command("rotate_keys", stdout=io.StringIO(), stderr=io.StringIO())
    restart(keys=B, index_keys=INDEX_1)
    everything_reads(*written_under_a)


def test_a_new_blind_index_key_alone_recomputes_every_index(
    written_under_a: tuple[int, int], restart: Restart, dmitri: User
) -> None:
    person_id, _ = written_under_a
    restart(keys=A, index_keys=f"{INDEX_2},{INDEX_1}")
    summary = rotation.keys_rotate()
    assert summary["cases.personidentity"].rewritten == 6
    assert summary["cases.casenarrative"].rewritten == 0  # the encryption key did not change
    restart(keys=A, index_keys=INDEX_2)
    assert [
        p.pk for p in people_matching(Actor.of_session(dmitri), name="Zorica Testova Fictitious")
    ] == [person_id]


def test_values_bound_to_their_column_only_are_rebound_to_their_row_by_rotation(
    written_under_a: tuple[int, int],
) -> None:
    """A value written before rows were bound (`enc1`), even under the current key, is not
    current: rotation rewrites it bound to its row, after which a swap is refused."""
    person_id, draft_pk = written_under_a
    identity = PersonIdentity.objects.get(person_id=person_id)
    context = PersonIdentity._meta.get_field("given_names").encryption_context
    unbound = fields.keyring().encrypt_text("Zorica Testova", context)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(PersonIdentity._meta.db_table)} SET given_names = %s WHERE id = %s",  # noqa: S608
            [unbound, identity.pk],
        )
    assert PersonIdentity.objects.get(pk=identity.pk).given_names == "Zorica Testova"
    assert not all(crypto.is_bound(t) for t in stored_tokens())

    summary = rotation.keys_rotate()

    assert summary["cases.personidentity"].rewritten == 1
    assert all(crypto.is_bound(t) for t in stored_tokens())
    everything_reads(person_id, draft_pk)
    assert rotation.keys_rotate()["cases.personidentity"].already_done
