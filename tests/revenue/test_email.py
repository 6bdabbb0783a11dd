import pytest

from revsync.revenue import normalize_email


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Jane.Doe@Example.COM ", "jane.doe@example.com"),
        ("STRASSE@example.de", "strasse@example.de"),
        ("Straße@example.de", "strasse@example.de"),  # casefold: ß -> ss (lower() keeps ß)
        ("\u0130stanbul@example.com", "i\u0307stanbul@example.com"),  # Turkish dotted capital I
        ("ISTANBUL@example.com", "istanbul@example.com"),
        ("\tjenny@example.com\n", "jenny@example.com"),
    ],
)
def test_normalize_email(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


def test_german_sharp_s_variants_match() -> None:
    assert normalize_email("Straße@x.de") == normalize_email("STRASSE@X.DE")


@pytest.mark.parametrize("blank", [None, "", "   ", "\n\t"])
def test_blank_email_is_none(blank: str | None) -> None:
    assert normalize_email(blank) is None
