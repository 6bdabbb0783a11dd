"""`revsync.signatures.verify`: Stripe's HMAC check plus a two-sided tolerance, several
secrets, and strict header parsing. Pure: the clock is passed as `now=`."""

from __future__ import annotations

import pytest
import stripe

from revsync.gateway.signatures import MAX_HEADER_LENGTH, SignatureError, verify
from tests.helpers.webhooks import OTHER_SECRET, SECRET

T = 1_750_000_000  # the signed timestamp in every test
BODY = b'{"id": "evt_1", "object": "event", "type": "customer.updated"}'

NO_MATCH = "no signature matches the expected signature for the payload"
NO_TIMESTAMP = "Stripe-Signature header has no valid timestamp (t=...)"
NO_V1 = "Stripe-Signature header has no v1 signature"
TOO_OLD = "timestamp is outside the tolerance zone"
TOO_NEW = "timestamp is in the future, outside the tolerance zone"


def v1(body: bytes, secret: str, timestamp: int = T) -> str:
    """The hex HMAC Stripe puts after `v1=`."""
    header = stripe.WebhookSignature.generate_signature_header(
        body.decode(), secret, timestamp=timestamp
    )
    return str(header).split(",v1=", 1)[1]


def header(body: bytes = BODY, secret: str = SECRET, timestamp: int = T) -> str:
    return f"t={timestamp},v1={v1(body, secret, timestamp)}"


def rejected(body: bytes, sig: str | None, secrets: list[str], now: float = T,
             tolerance: int = 300) -> str:
    """The message of the `SignatureError` that `verify` raises."""
    with pytest.raises(SignatureError) as caught:
        verify(body, sig, secrets, tolerance=tolerance, now=now)
    return str(caught.value)


def test_a_valid_signature_returns_the_signed_timestamp() -> None:
    assert verify(BODY, header(), [SECRET], now=T) == T


def test_signature_error_is_a_value_error() -> None:
    assert issubclass(SignatureError, ValueError)


# --- tolerance, both ways --------------------------------------------------------------


@pytest.mark.parametrize("now", [T - 300, T - 1, T, T + 1, T + 300])
def test_timestamps_within_the_tolerance_are_accepted(now: int) -> None:
    """Exactly 300 s old and exactly 300 s ahead are still inside the window."""
    assert verify(BODY, header(), [SECRET], tolerance=300, now=now) == T


def test_one_second_too_old_is_rejected() -> None:
    assert rejected(BODY, header(), [SECRET], now=T + 301) == TOO_OLD


def test_a_fraction_of_a_second_too_old_is_rejected() -> None:
    assert rejected(BODY, header(), [SECRET], now=T + 300.5) == TOO_OLD


def test_one_second_too_far_in_the_future_is_rejected() -> None:
    """The SDK alone would accept it (it only checks the past): a replay risk."""
    assert rejected(BODY, header(), [SECRET], now=T - 301) == TOO_NEW


def test_far_future_timestamp_is_rejected() -> None:
    far = T + 10 * 365 * 24 * 3600
    assert rejected(BODY, header(timestamp=far), [SECRET], now=T) == TOO_NEW


def test_the_tolerance_argument_is_used() -> None:
    assert verify(BODY, header(), [SECRET], tolerance=10, now=T + 10) == T
    assert rejected(BODY, header(), [SECRET], now=T + 11, tolerance=10) == TOO_OLD
    assert rejected(BODY, header(), [SECRET], now=T - 11, tolerance=10) == TOO_NEW


def test_without_now_the_wall_clock_is_used() -> None:
    """A header signed in 2025 is far outside the tolerance of today's clock."""
    with pytest.raises(SignatureError, match="outside the tolerance zone"):
        verify(BODY, header(), [SECRET])


def test_a_stale_header_is_rejected_even_with_a_wrong_signature() -> None:
    """The timestamp is checked first; either way the request is refused."""
    assert rejected(BODY, header(secret=OTHER_SECRET), [SECRET], now=T + 301) == TOO_OLD


# --- rotation: several signatures, several secrets -----------------------------------


def test_second_v1_in_the_header_matches() -> None:
    """During Stripe's secret roll the header carries one `v1=` per secret."""
    both = f"t={T},v1={v1(BODY, OTHER_SECRET)},v1={v1(BODY, SECRET)}"
    assert verify(BODY, both, [SECRET], now=T) == T


def test_no_v1_of_several_matches() -> None:
    others = f"t={T},v1={v1(BODY, OTHER_SECRET)},v1={'0' * 64}"
    assert rejected(BODY, others, [SECRET]) == NO_MATCH


def test_second_configured_secret_matches() -> None:
    """While a secret is rotated the workspace holds the old and the new one."""
    assert verify(BODY, header(secret=SECRET), [OTHER_SECRET, SECRET], now=T) == T


def test_first_configured_secret_matches() -> None:
    assert verify(BODY, header(secret=SECRET), [SECRET, OTHER_SECRET], now=T) == T


def test_an_empty_secret_in_the_list_is_skipped() -> None:
    assert verify(BODY, header(), ["", SECRET], now=T) == T
    assert rejected(BODY, header(), [""]) == NO_MATCH


# --- what the signature covers ---------------------------------------------------------


def test_wrong_secret_is_rejected() -> None:
    assert rejected(BODY, header(secret=OTHER_SECRET), [SECRET]) == NO_MATCH


def test_one_changed_byte_of_the_body_is_rejected() -> None:
    tampered = BODY.replace(b"evt_1", b"evt_2")
    assert len(tampered) == len(BODY) and tampered != BODY
    assert rejected(tampered, header(BODY), [SECRET]) == NO_MATCH


def test_one_appended_byte_of_the_body_is_rejected() -> None:
    assert rejected(BODY + b" ", header(BODY), [SECRET]) == NO_MATCH


def test_a_changed_timestamp_is_rejected() -> None:
    """The timestamp is signed too: a captured request cannot be re-dated."""
    redated = f"t={T + 60},v1={v1(BODY, SECRET, T)}"
    assert rejected(BODY, redated, [SECRET], now=T + 60) == NO_MATCH


def test_an_uppercased_signature_is_rejected() -> None:
    upper = f"t={T},v1={v1(BODY, SECRET).upper()}"
    assert rejected(BODY, upper, [SECRET]) == NO_MATCH


# --- missing pieces ----------------------------------------------------------------------


@pytest.mark.parametrize("missing", [None, ""])
def test_missing_header_is_rejected(missing: str | None) -> None:
    assert rejected(BODY, missing, [SECRET]) == "missing Stripe-Signature header"


def test_no_configured_secret_is_rejected() -> None:
    message = rejected(BODY, header(), [])
    assert message == "no webhook signing secret is configured for this workspace"


# --- malformed headers -------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param("v1={sig}", id="no-t"),
        pytest.param("t={t},t={t},v1={sig}", id="two-t-equal"),
        pytest.param("t={t},t=1,v1={sig}", id="two-t-different"),
        pytest.param("t=abc,v1={sig}", id="t-letters"),
        pytest.param("t=,v1={sig}", id="t-empty"),
        pytest.param("t=-5,v1={sig}", id="t-negative"),
        pytest.param("t={t}.5,v1={sig}", id="t-decimal"),
        pytest.param("t=0x10,v1={sig}", id="t-hex"),
        pytest.param("t,v1={sig}", id="t-without-equals"),
        pytest.param("time={t},v1={sig}", id="other-key"),
    ],
)
def test_header_without_one_numeric_timestamp_is_rejected(bad: str) -> None:
    sig = bad.format(t=T, sig=v1(BODY, SECRET))
    assert rejected(BODY, sig, [SECRET]) == NO_TIMESTAMP


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param("t={t}", id="t-only"),
        pytest.param("t={t},v0={sig}", id="only-v0"),
        pytest.param("t={t},v2={sig}", id="only-v2"),
        pytest.param("t={t},v1{sig}", id="v1-without-equals"),
    ],
)
def test_header_without_v1_is_rejected(bad: str) -> None:
    sig = bad.format(t=T, sig=v1(BODY, SECRET))
    assert rejected(BODY, sig, [SECRET]) == NO_V1


def test_v1_next_to_v0_is_used() -> None:
    """Stripe also sends a `v0=` signature in test mode; the `v1=` decides."""
    mixed = f"t={T},v1={v1(BODY, SECRET)},v0={'0' * 64}"
    assert verify(BODY, mixed, [SECRET], now=T) == T


def test_header_at_the_length_limit_is_accepted() -> None:
    valid = header()
    padded = valid + ",v0=" + "a" * (MAX_HEADER_LENGTH - len(valid) - len(",v0="))
    assert len(padded) == MAX_HEADER_LENGTH == 4096
    assert verify(BODY, padded, [SECRET], now=T) == T


def test_oversized_header_is_rejected() -> None:
    valid = header()
    padded = valid + ",v0=" + "a" * (MAX_HEADER_LENGTH + 1 - len(valid) - len(",v0="))
    assert len(padded) == 4097
    assert rejected(BODY, padded, [SECRET]) == "Stripe-Signature header is too long"


def test_huge_header_is_rejected_before_parsing() -> None:
    """A million-entry header costs no parsing: refused on its length."""
    huge = "t=1," * 250_000
    assert rejected(BODY, huge, [SECRET]) == "Stripe-Signature header is too long"


def test_superscript_digit_timestamp_is_a_signature_error() -> None:
    sig = f"t=\u00b2,v1={v1(BODY, SECRET)}"
    assert rejected(BODY, sig, [SECRET]) == NO_TIMESTAMP


# --- body ----------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"\xff\xfe", b'{"id": "evt_\xe9"}', b"\xc3"])
def test_non_utf8_body_is_rejected(body: bytes) -> None:
    sig = f"t={T},v1={'0' * 64}"
    assert rejected(body, sig, [SECRET]) == "body is not UTF-8 text"


def test_utf8_body_with_non_ascii_text_is_accepted() -> None:
    body = '{"name": "Zoë Ørsted"}'.encode()
    assert verify(body, header(body), [SECRET], now=T) == T


def test_empty_body_signed_is_accepted() -> None:
    """An empty body is a signature matter only; the event parser refuses it later."""
    assert verify(b"", header(b""), [SECRET], now=T) == T
