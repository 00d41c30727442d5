"""Make text from logs safe to draw: no terminal escapes, no bidi tricks, no markup (it is never parsed)."""

from __future__ import annotations

from typing import Final

__all__ = ["safe_text"]


def _build_table() -> dict[int, str]:
    table: dict[int, str] = {}
    # C0 controls (bar tab, which becomes a space so columns stay aligned) and DEL: visible Control Pictures.
    for code in range(0x20):
        table[code] = chr(0x2400 + code)
    table[0x09] = " "
    table[0x7F] = "\u2421"
    # C1 controls include CSI (0x9b) and OSC (0x9d) introducers that some terminals honour.
    for code in range(0x80, 0xA0):
        table[code] = f"\\x{code:02x}"
    # Bidi embeddings, overrides and isolates can reorder what the user reads ("Trojan source").
    for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C):
        table[code] = f"\\u{code:04x}"
    # Line and paragraph separators would break the one-line-per-record layout.
    table[0x2028] = "\\u2028"
    table[0x2029] = "\\u2029"
    return table


_TABLE: Final = _build_table()


def safe_text(text: str) -> str:
    """Return ``text`` with every control, escape and bidi character replaced by a visible stand-in.

    The result is meant for ``rich.text.Text``/``Segment`` (never a markup string), so square brackets
    from logs stay literal.
    """
    if text.isprintable():
        return text
    return text.translate(_TABLE)
