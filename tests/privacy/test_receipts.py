"""Receipt codes: format, entropy, normalisation, keyed hashing."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from service.privacy.receipts import (
    CROCKFORD_ALPHABET,
    format_receipt,
    hash_receipt,
    new_receipt_code,
    normalise_receipt,
)

CODE_SHAPE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}(?:-[0-9A-HJKMNP-TV-Z]{4}){4}")


def test_the_alphabet_is_crockford_base32() -> None:
    assert len(CROCKFORD_ALPHABET) == 32 == len(set(CROCKFORD_ALPHABET))
    assert not set("ILOU") & set(CROCKFORD_ALPHABET)


def test_a_code_is_five_groups_of_four_crockford_characters() -> None:
    for _ in range(200):
        code = new_receipt_code()
        assert CODE_SHAPE.fullmatch(code), code
        assert len(code.replace("-", "")) == 20  # 20 x 5 bits = 100 bits


def test_codes_are_unique_and_use_the_whole_alphabet_evenly() -> None:
    codes = [new_receipt_code() for _ in range(20_000)]
    assert len(set(codes)) == len(codes)
    counts = Counter("".join(code.replace("-", "") for code in codes))
    assert set(counts) == set(CROCKFORD_ALPHABET)
    expected = 20 * len(codes) / 32  # 12,500 per character
    # A fair draw stays within a few percent; a biased one (e.g. modulo bias) does not.
    assert all(abs(count - expected) < 0.05 * expected for count in counts.values())


def test_every_position_varies() -> None:
    codes = [new_receipt_code().replace("-", "") for _ in range(500)]
    for position in range(20):
        assert len({code[position] for code in codes}) > 16


@pytest.mark.parametrize(
    "typed",
    [
        "7KQ2-M9XD-4TRW-B8NC-3PHF",
        "7kq2-m9xd-4trw-b8nc-3phf",
        "7KQ2M9XD4TRWB8NC3PHF",
        " 7KQ2 M9XD 4TRW B8NC 3PHF ",
        "7KQ2--M9XD - 4TRW\tB8NC\n3PHF",
    ],
)
def test_normalisation_ignores_case_spaces_and_hyphens(typed: str) -> None:
    assert normalise_receipt(typed) == "7KQ2M9XD4TRWB8NC3PHF"


def test_read_alike_letters_map_to_digits() -> None:
    assert normalise_receipt("OOOO-IIII-LLLL-oiil-1234") == "00001111111101111234"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "7KQ2-M9XD-4TRW-B8NC",  # too short
        "7KQ2-M9XD-4TRW-B8NC-3PHF-A",  # too long
        "7KQ2-M9XD-4TRW-B8NC-3PHU",  # U is not in the alphabet
        "7KQ2-M9XD-4TRW-B8NC-3PH!",
        "7KQ2_M9XD_4TRW_B8NC_3PHF",  # underscores are not separators
        "７KQ2-M9XD-4TRW-B8NC-3PHF",  # full-width digit
    ],
)
def test_invalid_codes_normalise_to_none(typed: str) -> None:
    assert normalise_receipt(typed) is None


def test_a_new_code_round_trips() -> None:
    code = new_receipt_code()
    assert normalise_receipt(code) == code.replace("-", "")
    assert format_receipt(code.lower().replace("-", " ")) == code
    assert format_receipt("nope") is None


def test_the_hash_is_stable_across_spellings_of_one_code() -> None:
    key = b"k" * 32
    reference = hash_receipt("7KQ2-M9XD-4TRW-B8NC-3PHF", key)
    assert re.fullmatch(r"[0-9a-f]{64}", reference)
    assert hash_receipt("7kq2 m9xd 4trw b8nc 3phf", key) == reference
    assert hash_receipt("7KQ2-M9XD-4TRW-B8NC-3PHF", key) == reference


def test_the_hash_is_keyed_and_differs_per_code() -> None:
    code = "7KQ2-M9XD-4TRW-B8NC-3PHF"
    assert hash_receipt(code, b"key one") != hash_receipt(code, b"key two")
    assert hash_receipt(code, b"key one") != hash_receipt("7KQ2-M9XD-4TRW-B8NC-3PHG", b"key one")


def test_the_hash_is_hmac_sha256_of_the_normalised_code() -> None:
    import hashlib
    import hmac

    expected = hmac.new(b"key", b"7KQ2M9XD4TRWB8NC3PHF", hashlib.sha256).hexdigest()
    assert hash_receipt("7kq2-m9xd-4trw-b8nc-3phf", b"key") == expected


def test_hashing_an_invalid_code_raises_without_echoing_it() -> None:
    with pytest.raises(ValueError) as caught:
        hash_receipt("SECRET-ISH", b"key")
    assert "SECRET" not in str(caught.value)
