"""The cipher, the keyring, the key configuration and the blind index (opennrm.lib.crypto, pure)."""

from __future__ import annotations

import base64
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opennrm.lib import crypto

A = crypto.Key("A", b"a" * 32)
B = crypto.Key("B", b"b" * 32)
CONTEXT = "cases.personidentity.given_names"
ROW = "0b6f3c1e-2a49-4f0e-9a55-3f1e1c2d4b7a"
OTHER_ROW = "5d1a9e0c-7b3f-4c22-8e61-a0f4b2c39d18"


def flip(token: str, position: int) -> str:
    """The token with one character of its body changed."""
    replacement = "A" if token[position] != "A" else "B"
    return token[:position] + replacement + token[position + 1 :]


@given(st.text())
def test_any_text_comes_back_as_it_went_in(text: str) -> None:
    ring = crypto.Keyring([A])
    assert ring.decrypt_text(ring.encrypt_text(text, CONTEXT, ROW), CONTEXT, ROW) == text


def test_a_token_names_its_key_and_shows_nothing_of_the_value() -> None:
    ring = crypto.Keyring([A])
    token = ring.encrypt_text("Zorica Testova", CONTEXT, ROW)
    assert token.startswith("enc2$A$")
    assert ROW not in token
    assert "Zorica" not in token
    assert base64.b64encode(b"Zorica").decode()[:6] not in token
    assert crypto.token_key_id(token) == "A"
    assert crypto.is_token(token)
    assert not crypto.is_token("Zorica Testova")


def test_the_same_value_encrypts_differently_every_time() -> None:
    ring = crypto.Keyring([A])
    assert ring.encrypt_text("Ana", CONTEXT) != ring.encrypt_text("Ana", CONTEXT)


def test_lengths_are_padded_so_short_and_long_names_look_alike() -> None:
    ring = crypto.Keyring([A])
    assert len(ring.encrypt_text("Al", CONTEXT)) == len(
        ring.encrypt_text("Alexandrina Po", CONTEXT)
    )
    assert len(ring.encrypt_text("", CONTEXT)) == len(ring.encrypt_text("Bo", CONTEXT))


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda t: flip(t, len(t) - 5), id="ciphertext changed"),
        pytest.param(lambda t: flip(t, len("enc2$A$") + 2), id="nonce changed"),
        pytest.param(lambda t: t[:-4], id="truncated"),
        pytest.param(lambda t: t.replace("enc2$A$", "enc2$B$"), id="key id changed"),
        pytest.param(lambda t: t.replace("enc2$", "enc1$"), id="binding to the row stripped"),
        pytest.param(lambda t: t.replace("enc2$", "enc3$"), id="unknown version"),
        pytest.param(lambda t: "enc2$A$", id="emptied"),
        pytest.param(lambda t: "Zorica Testova", id="plaintext put back"),
    ],
)
def test_a_tampered_token_is_refused(tamper) -> None:
    ring = crypto.Keyring([A, B])
    token = ring.encrypt_text("Zorica Testova", CONTEXT, ROW)
    with pytest.raises(crypto.DecryptionError) as refused:
        ring.decrypt_text(tamper(token), CONTEXT, ROW)
    assert "Zorica" not in str(refused.value)


def test_a_token_moved_to_another_column_is_refused() -> None:
    ring = crypto.Keyring([A])
    token = ring.encrypt_text(
        "Through the outreach worker only", "cases.personidentity.safe_contact", ROW
    )
    with pytest.raises(crypto.DecryptionError, match="failed authentication"):
        ring.decrypt_text(token, CONTEXT, ROW)


def test_a_token_moved_to_another_row_is_refused() -> None:
    """Ciphertext swapped between two people's rows names neither of them."""
    ring = crypto.Keyring([A])
    token = ring.encrypt_text("Zorica Testova", CONTEXT, ROW)
    with pytest.raises(crypto.DecryptionError, match=f"{CONTEXT} in row {OTHER_ROW}") as refused:
        ring.decrypt_text(token, CONTEXT, OTHER_ROW)
    assert "moved from another row" in str(refused.value)
    with pytest.raises(crypto.DecryptionError, match="bound to a row"):
        ring.decrypt_text(token, CONTEXT)


def test_a_token_from_before_rows_were_bound_still_reads_and_rotates_to_bound() -> None:
    ring = crypto.Keyring([A])
    unbound = ring.encrypt_text("Ana", CONTEXT)
    assert unbound.startswith("enc1$A$")
    assert not crypto.is_bound(unbound)
    assert crypto.is_token(unbound)
    assert ring.decrypt_text(unbound, CONTEXT, ROW) == "Ana"
    assert not ring.is_current(unbound), "same key, but not bound: rotation rewrites it"
    bound = ring.rotate(unbound, CONTEXT, ROW)
    assert crypto.is_bound(bound)
    assert ring.decrypt_text(bound, CONTEXT, ROW) == "Ana"
    assert ring.rotate(bound, CONTEXT, ROW) is bound


def test_several_keys_at_once_new_values_under_the_first() -> None:
    old = crypto.Keyring([A]).encrypt_text("Ana", CONTEXT, ROW)
    ring = crypto.Keyring([B, A])
    assert ring.decrypt_text(old, CONTEXT, ROW) == "Ana"
    assert not ring.is_current(old)
    new = ring.encrypt_text("Ana", CONTEXT, ROW)
    assert crypto.token_key_id(new) == "B"
    assert ring.is_current(new)
    rotated = ring.rotate(old, CONTEXT, ROW)
    assert crypto.token_key_id(rotated) == "B"
    assert ring.rotate(rotated, CONTEXT, ROW) is rotated
    assert crypto.Keyring([B]).decrypt_text(rotated, CONTEXT, ROW) == "Ana"


def test_a_removed_key_is_named_when_its_values_are_read() -> None:
    old = crypto.Keyring([A]).encrypt_text("Ana", CONTEXT, ROW)
    with pytest.raises(crypto.DecryptionError, match="no configured key has the id 'A'"):
        crypto.Keyring([B]).decrypt_text(old, CONTEXT, ROW)


def test_files_round_trip_and_are_bound_to_their_name() -> None:
    ring = crypto.Keyring([B, A])
    data = b"%PDF-1.7 statement of Zorica"
    blob = crypto.Keyring([A]).encrypt_file(data, "file:evidence/EV-1.pdf")
    assert b"Zorica" not in blob
    assert crypto.file_key_id(blob)[0] == "A"
    assert ring.decrypt_file(blob, "file:evidence/EV-1.pdf") == data
    assert len(blob) == len(data) + crypto.file_overhead("A")
    with pytest.raises(crypto.DecryptionError):
        ring.decrypt_file(blob, "file:evidence/EV-2.pdf")
    with pytest.raises(crypto.DecryptionError):
        ring.decrypt_file(blob[:-1] + bytes([blob[-1] ^ 1]), "file:evidence/EV-1.pdf")
    with pytest.raises(crypto.DecryptionError, match="not an encrypted file"):
        ring.decrypt_file(data, "file:evidence/EV-1.pdf")


def test_keys_are_read_from_text_with_the_first_as_primary() -> None:
    a = base64.b64encode(A.secret).decode()
    b = base64.urlsafe_b64encode(B.secret).decode()
    keys = crypto.parse_keys(f"B:{b}, A:{a}\n# a comment\n\n", source="TEST")
    assert [k.id for k in keys] == ["B", "A"]
    assert keys[0].secret == B.secret
    assert "secret" not in repr(keys[0])
    assert "bbbb" not in repr(keys[0])


def test_keys_given_twice_must_agree(tmp_path) -> None:
    a = base64.b64encode(A.secret).decode()
    other = base64.b64encode(b"c" * 32).decode()
    key_file = tmp_path / "keys"
    key_file.write_text(f"A:{other}\n")
    with pytest.raises(crypto.KeyConfigError, match="given twice with different secrets"):
        crypto.load_keys(f"A:{a}", str(key_file), names=("KEYS", "KEY_FILE"))
    key_file.write_text(f"A:{a}\n")
    assert len(crypto.load_keys(f"A:{a}", str(key_file), names=("KEYS", "KEY_FILE"))) == 1


def test_a_generated_key_line_is_a_usable_key() -> None:
    line = crypto.new_key_line("k2026")
    (key,) = crypto.parse_keys(line, source="generated")
    assert key.id == "k2026"
    assert len(key.secret) == 32
    assert crypto.parse_keys(crypto.new_key_line("k2026"), source="again")[0].secret != key.secret


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("zorica testova", "Zorica Testova"),
        ("  ZORICA   TESTOVA ", "Zorica Testova"),
        ("Zoë Ångström", "Zoe Angstrom"),
        ("STRASSE", "straße"),
        ("Şükrü Çelik", "sukru celik"),
    ],
)
def test_names_match_ignoring_case_accents_and_spacing(typed: str, stored: str) -> None:
    index = crypto.BlindIndex([A])
    assert index.of_name(typed) == index.of_name(stored)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Zorica Testov", "Zorica Testova"),
        ("Testova Zorica", "Zorica Testova"),
        ("Zorica", "Zorica Testova"),
    ],
)
def test_only_whole_names_match(typed: str, stored: str) -> None:
    index = crypto.BlindIndex([A])
    assert index.of_name(typed) != index.of_name(stored)


def test_a_blind_index_depends_on_its_key_and_keeps_names_and_dates_apart() -> None:
    by_a, by_b = crypto.BlindIndex([A]), crypto.BlindIndex([B, A])
    assert by_a.of_name("Ana") != by_b.of_name("Ana")
    assert by_b.name_candidates("Ana") == [by_b.of_name("Ana"), by_a.of_name("Ana")]
    assert by_a.of_date(date(1999, 3, 14)) in by_b.date_candidates(date(1999, 3, 14))
    assert by_a.of_name("1999-03-14") != by_a.of_date(date(1999, 3, 14))
    assert len(by_a.of_name("Ana")) == 32
    assert by_a.of_name("   ") == ""
    assert by_a.of_date(None) == ""
    assert by_a.name_candidates(" ") == []


def test_an_encryption_key_reused_as_an_index_key_is_noticed() -> None:
    assert crypto.shared_secrets([A, B], [crypto.Key("bi", B.secret)])
    assert not crypto.shared_secrets([A], [B])
