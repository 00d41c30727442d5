"""Load ``themes/*.toml`` into Textual themes; themes are data, not code."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from textual.theme import Theme

__all__ = [
    "DEFAULT_THEME",
    "THEME_VARIABLE_DEFAULTS",
    "ThemeError",
    "choose_theme",
    "load_theme",
    "load_themes",
    "themes_dir",
]

DEFAULT_THEME: Final = "dark"
_COLOR_KEYS: Final = (
    "primary",
    "secondary",
    "accent",
    "warning",
    "error",
    "success",
    "foreground",
    "background",
    "surface",
    "panel",
)
THEME_VARIABLE_DEFAULTS: Final[Mapping[str, str]] = {
    "level-trace": "#6c6c6c",
    "level-debug": "#8a8a8a",
    "level-info": "#5fafff",
    "level-notice": "#87d7d7",
    "level-warning": "#ffaf00",
    "level-error": "#ff5f5f",
    "level-critical": "#ff5fff",
    "row-error": "#3a1414",
    "row-critical": "#4a0f3a",
    "raw-line": "#767676",
    "time": "#8a8a8a",
    "agent": "#afafd7",
    "key": "#87afaf",
    "match": "#d7af5f",
    "cursor": "#1f4f7f",
}
"""Fallbacks for the variables our CSS uses, so Textual's built-in themes work too."""


class ThemeError(ValueError):
    """A theme file is missing, unreadable or malformed."""


def themes_dir() -> Path:
    """Where theme files live: ``$AGENT_TUI_THEMES``, the checkout's ``themes/``, or the installed copy.

    A wheel carries the top-level ``themes/`` folder as ``agent_tui/themes`` (see pyproject.toml); an
    editable install or a checkout reads the top-level folder itself.
    """
    env = os.environ.get("AGENT_TUI_THEMES")
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parents[3] / "themes"
    if checkout.is_dir():
        return checkout
    return Path(__file__).resolve().parents[1] / "themes"


def load_theme(path: Path) -> Theme:
    """Read one theme file.

    Raises:
        ThemeError: if the file cannot be read or lacks a name or primary colour.
    """
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ThemeError(f"{path}: {exc}") from exc
    colors = data.get("colors", {})
    if not isinstance(colors, dict) or "primary" not in colors:
        raise ThemeError(f"{path}: [colors] needs at least primary")
    variables = {str(k): str(v) for k, v in dict(data.get("variables", {})).items()}
    palette: dict[str, str | None] = {key: None for key in _COLOR_KEYS}
    palette.update({key: str(colors[key]) for key in _COLOR_KEYS if key in colors})
    return Theme(
        name=str(data.get("name", path.stem)),
        primary=str(colors["primary"]),
        secondary=palette["secondary"],
        accent=palette["accent"],
        warning=palette["warning"],
        error=palette["error"],
        success=palette["success"],
        foreground=palette["foreground"],
        background=palette["background"],
        surface=palette["surface"],
        panel=palette["panel"],
        dark=bool(data.get("dark", True)),
        variables={**THEME_VARIABLE_DEFAULTS, **variables},
    )


def load_themes(directory: Path | None = None) -> dict[str, Theme]:
    """Every ``*.toml`` theme in ``directory`` (default :func:`themes_dir`), by name; skips none silently."""
    root = themes_dir() if directory is None else directory
    themes: dict[str, Theme] = {}
    if root.is_dir():
        for path in sorted(root.glob("*.toml")):
            theme = load_theme(path)
            themes[theme.name] = theme
    if DEFAULT_THEME not in themes:
        themes[DEFAULT_THEME] = Theme(
            name=DEFAULT_THEME, primary="#5fafff", dark=True, variables=dict(THEME_VARIABLE_DEFAULTS)
        )
    return themes


def choose_theme(requested: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The theme to start with: an explicit ``--theme`` wins, then ``NO_COLOR`` picks mono, else dark."""
    env = os.environ if environ is None else environ
    if requested:
        return requested
    if env.get("NO_COLOR"):
        return "mono"
    return DEFAULT_THEME
