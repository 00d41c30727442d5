"""The examples in docs/filter.md are real: good ones compile, shown mistakes render as shown."""

from __future__ import annotations

import re
from pathlib import Path

from agent_tui.model.query import FilterError, compile_filter

DOC = Path(__file__).resolve().parents[3] / "docs" / "filter.md"


def test_every_documented_filter_compiles_or_fails_exactly_as_shown() -> None:
    """Each line of the text examples compiles; a line followed by a caret line fails with that caret."""
    blocks = re.findall(r"```text\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 4
    checked = 0
    for block in blocks:
        lines = block.splitlines()
        for index, line in enumerate(lines):
            if line.startswith(" "):
                continue
            following = lines[index + 1] if index + 1 < len(lines) else ""
            if following.lstrip().startswith("^"):
                try:
                    compile_filter(line)
                except FilterError as err:
                    assert err.caret() == f"{line}\n{following}"
                else:
                    raise AssertionError(f"documented mistake compiled: {line}")
            else:
                compile_filter(line)
            checked += 1
    assert checked >= 15
