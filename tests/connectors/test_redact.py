"""The one redaction rule: configured secrets and card numbers go, ids and amounts stay."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.redact import REDACTED, Secrets, luhn, one_line, redact, redact_value

KEY = "ae9ae3f5ad284ef4836de18aa3d41c47"
VISA = "4111111111111111"  # Luhn-valid


def test_a_secret_is_redacted_whole_cut_or_in_another_case() -> None:
    secrets = Secrets(KEY)
    assert redact(f"invalid key {KEY} for customer 10001001", secrets) == (
        f"invalid key {REDACTED} for customer 10001001"
    )
    assert KEY[:20] not in redact(f"key starts {KEY[:20]}...", secrets)
    assert KEY.upper()[4:24] not in redact(f"KEY={KEY.upper()}", secrets)
    # Fewer than 16 characters of a secret say nothing about it: left alone.
    assert redact(f"prefix {KEY[:8]}", secrets) == f"prefix {KEY[:8]}"


def test_a_pem_body_is_caught_line_by_line_and_rewrapped() -> None:
    body = "".join(chr(65 + (i * 7) % 26) + chr(97 + (i * 11) % 26) for i in range(96))
    secrets = Secrets(body)
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    assert all(len(line) >= 16 for line in lines)
    echoed = (
        "key:\n"
        + "\n".join(lines)
        + "\nrewrapped: "
        + " ".join(body[i : i + 76] for i in range(0, len(body), 76))
    )
    cleaned = redact(echoed, secrets)
    assert not any(body[i : i + 16] in cleaned for i in range(len(body) - 15))


def test_short_secrets_are_matched_whole() -> None:
    assert redact("token abc123XYZ expired", Secrets("abc123XYZ")) == f"token {REDACTED} expired"
    assert redact("abc", Secrets("ab")) == "abc"  # too short to mean anything


@pytest.mark.parametrize(
    "text",
    [
        f"card {VISA} declined",
        "card 4111 1111 1111 1111 declined",
        "card 4111-1111-1111-1111 declined",
        "amex 3782 822463 10005 declined",
        "card=5500000000000004.",
    ],
)
def test_card_numbers_become_their_last_four(text: str) -> None:
    cleaned = redact(text)
    assert "[card ****" in cleaned
    digits = "".join(ch for ch in cleaned if ch.isdigit())
    assert len(digits) == 4


@pytest.mark.parametrize(
    "text",
    [
        "timestamp 1790000000000 expired",  # epoch milliseconds start with 1
        "customer 0000000000000000",  # zero-padded ids start with 0
        f"mchUuid JT{VISA}",  # a prefixed id, not a card
        f"order ord_{VISA}",
        f"amount {VISA}.25",  # a decimal amount
        f"rate 0.{VISA}",
        "4111111111111112 fails Luhn",
        "12 digits 411111111111 too short",
        "20 digits 41111111111111111111 too long",
        "2026-11-10 12:00:00, 2026 11 10 1200 4111 1111 11, groups not of four",
    ],
)
def test_ids_amounts_and_times_that_are_not_card_shaped_stay(text: str) -> None:
    assert redact(text) == text


def test_luhn() -> None:
    assert luhn(VISA) and luhn("378282246310005") and not luhn("4111111111111112")


def test_one_line_flattens_and_bounds_provider_text() -> None:
    assert one_line("bad\n  request\tnow") == "bad request now"
    long = one_line("x" * 1000)
    assert len(long) == 300 and long.endswith("...")


def test_redact_value_keeps_json_shapes_and_numbers() -> None:
    row = {"amount": Decimal("12.30"), "card": int(VISA), "note": f"pan {VISA}", "n": [1, True]}
    assert redact_value(row) == {
        "amount": Decimal("12.30"),
        "card": "[card ****1111]",
        "note": "pan [card ****1111]",
        "n": [1, True],
    }
