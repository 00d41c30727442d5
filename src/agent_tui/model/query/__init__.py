"""The filter language: lexer, Pratt parser, typed AST, compiled predicate."""

from __future__ import annotations

from agent_tui.model.query.errors import FilterError
from agent_tui.model.query.filter import Filter, compile_ast, compile_filter
from agent_tui.model.query.nodes import Node
from agent_tui.model.query.parser import parse
from agent_tui.model.query.subject import StaticSubject, Subject

__all__ = [
    "Filter",
    "FilterError",
    "Node",
    "StaticSubject",
    "Subject",
    "compile_ast",
    "compile_filter",
    "parse",
]
