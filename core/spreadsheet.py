"""CSV cells a spreadsheet shows as text and never runs (CSV formula injection).

Excel, LibreOffice and Google Sheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and
a tab or carriage return in front of one) as a formula, e.g. ``=cmd|' /C calc'!A0`` or a
``=HYPERLINK(...)`` that leaks data. Any text a customer or a staff member wrote goes into a CSV
export through ``inert``: such a cell gets a leading ``'``, which the spreadsheet hides and takes
as "this is text" (OWASP's advice). ``restore`` undoes it on import, so an exported file imports
back unchanged: a text that itself starts with quotes before such a character gets one more."""

from __future__ import annotations

FORMULA_START = frozenset("=+-@\t\r")


def _looks_like_formula(text: str) -> bool:
    return text.lstrip("'")[:1] in FORMULA_START


def inert(text: str) -> str:
    """``text`` as a cell no spreadsheet runs."""
    return "'" + text if _looks_like_formula(text) else text


def restore(cell: str) -> str:
    """The text ``inert`` made ``cell`` from."""
    return cell[1:] if cell.startswith("'") and _looks_like_formula(cell) else cell


__all__ = ["FORMULA_START", "inert", "restore"]
