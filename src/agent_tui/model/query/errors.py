"""The one error a filter can raise: a message and the 1-based column it is about."""

from __future__ import annotations

__all__ = ["FilterError"]


class FilterError(ValueError):
    """A filter that cannot be parsed or compiled.

    Attributes:
        message: what is wrong, in the user's words.
        column: 1-based column in ``text`` the message is about (``len(text) + 1`` for "ended too soon").
        text: the filter as typed.
    """

    def __init__(self, message: str, column: int, text: str = "") -> None:
        super().__init__(message, column, text)
        self.message = message
        self.column = column
        self.text = text

    def __str__(self) -> str:
        return f"{self.message} (column {self.column})"

    def caret(self) -> str:
        """The filter text with a ``^`` under the column and the message after it.

        Control characters in the text are shown as spaces so the caret lines up and nothing from the
        filter can drive the terminal.
        """
        shown = "".join(" " if ch < " " or ch == "\x7f" else ch for ch in self.text)
        return f"{shown}\n{' ' * (self.column - 1)}^ {self.message}"
