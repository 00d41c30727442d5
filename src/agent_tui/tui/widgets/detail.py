"""The detail pane: the selected record as foldable pretty JSON; tracebacks readable; copy value or path."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final

import orjson
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from agent_tui.tui.sanitize import safe_text

__all__ = ["DetailPane", "json_path"]

_IDENT: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_CHILDREN: Final = 500
_SCALAR_MAX: Final = 2000


def json_path(parent: str, key: str | int) -> str:
    """jq-style path of a child: ``.error.traceback[2]``, ``."gen_ai.usage.input_tokens"``."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if _IDENT.match(key):
        return f"{parent}.{key}"
    return f"{parent}.{orjson.dumps(key).decode()}"


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return orjson.dumps(value).decode()
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return repr(value)


def _traceback_lines(value: Any) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        lines: list[str] = []
        for item in value:
            lines.extend(item.rstrip("\n").split("\n"))
        return lines
    if isinstance(value, str) and "\n" in value:
        return value.rstrip("\n").split("\n")
    return None


class DetailPane(Tree[tuple[str, Any]]):
    """A Tree whose nodes carry ``(path, value)``; ``c`` copies the value, ``p`` the path."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "copy_value", "Copy value"),
        Binding("p", "copy_path", "Copy path"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Text("detail"), id=id)
        self.show_root = False
        self.guide_depth = 2
        self.document: Any = None
        """The mapping currently shown."""
        self._title = "detail"
        self._wrap_width = 0

    def on_resize(self) -> None:
        """Re-wrap tracebacks for the new width."""
        if self.size.width != self._wrap_width and self.document is not None:
            self.show(self._title, self.document)

    def show(self, title: str, document: Mapping[str, Any] | None) -> None:
        """Replace the content with ``document`` (None shows a hint)."""
        self.clear()
        self.document = document
        self._title = title
        self.root.set_label(Text(safe_text(title)))
        if document is None:
            self.root.add_leaf(Text("nothing selected"), ("", None))
            return
        self._add_items(self.root, "", document)
        self.root.expand()

    def _add_items(self, node: TreeNode[tuple[str, Any]], path: str, value: Any) -> None:
        items: Sequence[tuple[str | int, Any]]
        items = list(value.items()) if isinstance(value, Mapping) else list(enumerate(value))
        for key, child in items[:_MAX_CHILDREN]:
            self._add(node, key, json_path(path, key), child)
        if len(items) > _MAX_CHILDREN:
            node.add_leaf(Text(f"… {len(items) - _MAX_CHILDREN} more"), (path, None))

    def _add(self, node: TreeNode[tuple[str, Any]], key: str | int, path: str, value: Any) -> None:
        label = Text()
        label.append(safe_text(str(key)), "bold")
        tb_lines = _traceback_lines(value) if key in ("traceback", "stack", "exception") else None
        if tb_lines is not None:
            label.append(f"  ({len(tb_lines)} lines)")
            branch = node.add(label, (path, value), expand=True)
            self._wrap_width = self.size.width
            depth, up = 1, branch.parent
            while up is not None and up is not self.root:
                depth, up = depth + 1, up.parent
            width = max(20, (self.size.width or 60) - self.guide_depth * depth - 2)
            for line in tb_lines:
                clean = safe_text(line)
                # Long frames wrap onto continuation leaves so the traceback reads fully in a narrow pane.
                for start in range(0, max(1, len(clean)), width):
                    branch.add_leaf(Text(clean[start : start + width]), (path, line))
            return
        if isinstance(value, Mapping | list) and value:
            label.append(f" {'{…}' if isinstance(value, Mapping) else f'[{len(value)}]'}", "dim")
            branch = node.add(label, (path, value), expand=key in ("error", "cause") or node is self.root)
            self._add_items(branch, path, value)
            return
        label.append(": ")
        shown = _scalar(value)
        if len(shown) > _SCALAR_MAX:
            # The copy (c) still takes the whole value; the label stays cheap to draw.
            shown = f"{shown[:_SCALAR_MAX]}… ({len(shown):,} chars)"
        label.append(safe_text(shown))
        node.add_leaf(label, (path, value))

    def _selected(self) -> tuple[str, Any] | None:
        node = self.cursor_node
        return None if node is None or node.data is None else node.data

    def action_copy_value(self) -> None:
        """Copy the selected value (JSON for objects and numbers, the text itself for strings)."""
        data = self._selected()
        if data is None:
            return
        value = data[1]
        text = value if isinstance(value, str) else _scalar(value)
        self.app.copy_to_clipboard(text)
        self.notify(f"copied value of {safe_text(data[0] or '.')}", timeout=2, markup=False)

    def action_copy_path(self) -> None:
        """Copy the jq-style path of the selected value."""
        data = self._selected()
        if data is None:
            return
        self.app.copy_to_clipboard(data[0] or ".")
        self.notify(f"copied path {safe_text(data[0] or '.')}", timeout=2, markup=False)
