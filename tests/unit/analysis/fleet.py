"""A generated agent fleet with known storms, loops, slow, costly and stuck traces, and healthy ones."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

T0 = 1_772_582_400.0


def stamp(t: float) -> str:
    """RFC 3339 with milliseconds, as ``agent_tui.log`` writes it."""
    moment = datetime.fromtimestamp(T0 + t, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Fleet:
    """Lines in time order and the ids of the traces each flag must land on."""

    rng: random.Random = field(default_factory=lambda: random.Random(5))
    lines: list[bytes] = field(default_factory=list)
    expected: dict[str, set[str]] = field(default_factory=dict)
    t: float = 0.0
    n: int = 0

    def emit(self, event: str, tid: str, level: str = "info", agent: str = "agent-1", **extra: Any) -> None:
        self.lines.append(
            orjson.dumps(
                {
                    "ts": stamp(self.t),
                    "level": level,
                    "event": event,
                    "agent_id": agent,
                    "trace_id": tid,
                    **extra,
                }
            )
        )

    def trace(self, op: str, duration: float, body: list[tuple[str, dict[str, Any]]], **kw: Any) -> str:
        """One trace: root start, the body records spread over ``duration`` seconds, root complete."""
        self.n += 1
        tid = f"{self.n:032x}"
        root = f"{self.n:016x}"
        start = self.t
        self.emit("trace.start", tid, span_id=root, op=op, **kw)
        for i, (event, extra) in enumerate(body):
            self.t = start + duration * (i + 1) / (len(body) + 1)
            level = extra.pop("level", "info")
            self.emit(event, tid, level, span_id=f"{self.n:08x}{i:08x}", parent_span_id=root, **kw, **extra)
        self.t = start + duration
        self.emit("trace.complete", tid, span_id=root, op=op, duration_ms=duration * 1000, **kw)
        self.t += 0.5
        return tid

    def tokens(self) -> int:
        return self.rng.randint(200, 400)

    def healthy(self, op: str = "agent.step", cost: float = 0.001) -> str:
        """An LLM call and two different tool calls; durations and costs vary a little."""
        model = self.rng.choice(("gpt-4o-mini", "claude-3-5-haiku"))
        body = [
            ("llm.call", {"gen_ai.request.model": model, "gen_ai.usage.input_tokens": self.tokens(),
                          "gen_ai.usage.output_tokens": 50, "cost_usd": cost * self.rng.uniform(1, 1.3)}),
            ("tool.invoked", {"tool": "web_search", "args": {"q": f"query {self.rng.random()}"}}),
            ("tool.invoked", {"tool": "web_search", "args": {"q": f"query {self.rng.random()}"}}),
            ("tool.invoked", {"tool": "read_file", "args": {"path": "/same"}}),
        ]  # fmt: skip
        return self.trace(op, self.rng.uniform(0.1, 0.2), body)

    def flagged(self, name: str, tid: str) -> str:
        self.expected.setdefault(name, set()).add(tid)
        return tid


def build() -> Fleet:
    """The fleet: 60 healthy traces per op first (so quantiles are known), then each kind of trouble."""
    f = Fleet()
    for _ in range(60):
        f.healthy()
        f.trace("job.run", 0.1, [("job.tick", {})])
    retries = [("api.retry", {"level": "warning", "reason": "timeout", "attempt": a}) for a in (1, 2, 3)]
    f.flagged("retry_storm", f.trace("casino.place_bet", 0.2, [*retries, ("bet.complete", {})]))
    http = [("http.response", {"http_status": 503}) for _ in range(3)]
    f.flagged("retry_storm", f.trace("casino.place_bet", 0.2, http))
    f.flagged("retry_storm", f.trace("casino.place_bet", 0.2, [("charge.sent", {"attempt": 4})]))
    f.trace(
        "casino.place_bet", 0.2, [("rate_limit_hit", {"level": "warning", "http_status": 429, "attempt": 1})]
    )
    loop = [("tool.invoked", {"tool": "web_search", "args": {"q": "same"}, "request_id": f"r{i}",
                              "duration_ms": i * 7.5}) for i in range(3)]  # fmt: skip
    f.flagged("agent_loop", f.trace("agent.step", 0.15, loop))
    f.trace(
        "agent.step",
        0.15,
        [("tool.invoked", {"tool": "web_search", "args": {"q": f"q{i}"}}) for i in range(3)],
    )
    for _ in range(10):
        hit = [("rate_limit_hit", {"level": "warning", "http_status": 429, "attempt": 1})]
        f.flagged("retry_storm", f.trace("casino.place_bet", 0.2, hit, service="noisy"))
        f.lines[-2] = f.lines[-2].replace(b'"agent-1"', b'"noisy-agent"')
    for i in range(10):
        hit = [("rate_limit_hit", {"level": "warning", "http_status": 429})]
        f.trace("casino.place_bet", 0.2, hit)
        f.lines[-2] = f.lines[-2].replace(b'"agent-1"', b'"calm-agent"')
        f.t += 61.0 if i == 8 else 0.0
    f.flagged("slow", f.trace("agent.step", 3.0, [("llm.call", {"gen_ai.request.model": "m"})]))
    f.flagged("costly", f.healthy(cost=0.5))
    stuck_tid = f"{f.n + 1:032x}"
    f.n += 1
    f.emit("trace.start", stuck_tid, span_id="ffff000000000001", op="job.run")
    f.flagged("stuck", stuck_tid)
    f.t += 5.0
    for _ in range(3):
        f.healthy()
    return f
