"""Write deterministic, realistic agent-fleet JSONL logs in the ``agent_tui.log`` wire schema.

Usage: ``python benchmarks/gen.py OUT N [--seed S] [--agents A]``. Lines average about 305 bytes
(1 M lines ≈ 305 MB); the level mix is mostly debug/info with some warnings, ≈0.5 % errors with
tracebacks and rare criticals; every trace has ``trace.start``/``trace.complete``/``trace.failed`` span
lines with nested spans. Lines are built from precomputed byte templates, so 1 M lines take seconds.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson

EPOCH = 1772582400.0  # 2026-03-04T00:00:00Z, the seed post's day
GAMES = (b"dice", b"coinflip", b"crash", b"roulette", b"blackjack")
MODELS = (b"claude-sonnet-4-5", b"gpt-4.1-mini", b"claude-haiku-4-5")
SERVICES = (b"casino-agent", b"escrow-agent", b"trading-agent")
ERRORS = (
    ("TimeoutError", "casino API did not answer within 5.0 s", "casino/client.py", "place_bet"),
    ("ConnectionResetError", "[Errno 104] Connection reset by peer", "casino/http.py", "_send"),
    ("InsufficientFundsError", "balance 3.20 USDC below stake", "casino/wallet.py", "reserve"),
    ("RateLimitError", "429 Too Many Requests after 3 retries", "llm/client.py", "complete"),
    ("KeyError", "'payout_usdc'", "casino/parse.py", "parse_result"),
)

_HEAD = b'{"ts":"%s","level":"%s","event":"%s","agent_id":"%s","service":"%s","logger":"%s","trace_id":"%s"'


def _error_json(kind: int, rng: random.Random) -> bytes:
    etype, message, path, func = ERRORS[kind]
    line = rng.randint(40, 400)
    frames = [
        "Traceback (most recent call last):",
        f'  File "/srv/agent/agent/loop.py", line {line // 2}, in tick',
        "    result = await self.casino.place_bet(decision)",
        f'  File "/srv/agent/{path}", line {line}, in {func}',
        "    raise " + etype + "(msg)",
        f"{etype}: {message}",
    ]
    return orjson.dumps({"type": etype, "message": message, "traceback": frames})


class Fleet:
    """Plans traces as lists of line tails and interleaves them across agents by time."""

    def __init__(self, seed: int, agents: int) -> None:
        self.rng = random.Random(seed)
        self.agents = [
            (b"%s-%03d" % (SERVICES[i % 3].split(b"-")[0], i + 1), SERVICES[i % 3]) for i in range(agents)
        ]
        # A small pool of error payloads keeps generation fast while varying line numbers.
        self.error_pool = [_error_json(k, self.rng) for k in range(len(ERRORS)) for _ in range(8)]

    def plan(self) -> list[tuple[bytes, bytes, bytes, bytes]]:
        """One trace: (level, event, logger, tail) tuples; tail starts with ``,"span_id"``."""
        rng = self.rng
        root = b"%016x" % rng.getrandbits(64)
        span_llm = b"%016x" % rng.getrandbits(64)
        span_bet = b"%016x" % rng.getrandbits(64)
        fail = rng.random() < 0.04
        lines: list[tuple[bytes, bytes, bytes, bytes]] = []
        add = lines.append
        add(
            (
                b"info",
                b"trace.start",
                b"agent.loop",
                b',"span_id":"%s","op":"agent.tick"' % root,
            )
        )
        for _ in range(rng.randint(2, 5)):
            add(
                (
                    b"debug",
                    b"http.request",
                    b"agent.http",
                    b',"span_id":"%s","method":"GET","url":"/v1/markets?page=%d",'
                    b'"status":200,"api_latency_ms":%d' % (root, rng.randint(1, 9), rng.randint(20, 400)),
                )
            )
        model = MODELS[rng.randrange(3)]
        tin, tout = rng.randint(400, 6000), rng.randint(50, 900)
        llm_ms = rng.randint(300, 4000)
        sp = b',"span_id":"%s","parent_span_id":"%s"' % (span_llm, root)
        add(
            (
                b"info",
                b"trace.start",
                b"agent.llm",
                sp + b',"op":"llm.decide","gen_ai.request.model":"%s"' % model,
            )
        )
        add((b"debug", b"llm.prompt", b"agent.llm", sp + b',"prompt_chars":%d,"tools":3' % (tin * 4)))
        add(
            (
                b"info",
                b"llm.response",
                b"agent.llm",
                sp + b',"gen_ai.request.model":"%s","gen_ai.usage.input_tokens":%d,'
                b'"gen_ai.usage.output_tokens":%d,"cost_usd":%.5f'
                % (model, tin, tout, tin * 3e-6 + tout * 1.5e-5),
            )
        )
        add((b"info", b"trace.complete", b"agent.llm", sp + b',"op":"llm.decide","duration_ms":%d' % llm_ms))
        game = GAMES[rng.randrange(5)]
        bet_id = b"bet_%08x" % rng.getrandbits(32)
        amount = rng.choice((1, 2, 5, 10, 20, 25, 50, 75, 100))
        sp = b',"span_id":"%s","parent_span_id":"%s"' % (span_bet, root)
        bet = b',"bet_id":"%s","game":"%s","amount_usdc":%d.0' % (bet_id, game, amount)
        add((b"info", b"trace.start", b"casino.client", sp + b',"op":"casino.place_bet"'))
        add((b"debug", b"bet.placed", b"casino.client", sp + bet + b',"prediction":"over","target":50'))
        if rng.random() < 0.08:
            add(
                (
                    b"warning",
                    b"rate_limit.retry",
                    b"casino.client",
                    sp + b',"attempt":%d,"retry_after":%.1f' % (rng.randint(1, 3), rng.random() * 4),
                )
            )
        bet_ms = rng.randint(40, 1500)
        if fail:
            err = self.error_pool[rng.randrange(len(self.error_pool))]
            add(
                (
                    b"error",
                    b"trace.failed",
                    b"casino.client",
                    sp + b',"op":"casino.place_bet","duration_ms":%d,"error":%s' % (bet_ms, err) + bet,
                )
            )
            add(
                (
                    b"error",
                    b"trace.failed",
                    b"agent.loop",
                    b',"span_id":"%s","op":"agent.tick","duration_ms":%d,'
                    b'"error":%s' % (root, llm_ms + bet_ms + 30, err),
                )
            )
            return lines
        roll = rng.randint(1, 100)
        win = roll > 50
        payout = amount * 1.98 if win else 0.0
        add(
            (
                b"info",
                b"bet.complete",
                b"casino.client",
                sp + bet + b',"roll":%d,"outcome":"%s","payout_usdc":%.2f,'
                b'"balance_after":%.2f' % (roll, b"win" if win else b"loss", payout, rng.uniform(10, 900)),
            )
        )
        add(
            (
                b"info",
                b"trace.complete",
                b"casino.client",
                sp + b',"op":"casino.place_bet","duration_ms":%d' % bet_ms,
            )
        )
        if rng.random() < 0.0004:
            add(
                (
                    b"critical",
                    b"balance.anomaly",
                    b"agent.wallet",
                    b',"span_id":"%s","expected_usdc":%.2f,'
                    b'"actual_usdc":%.2f' % (root, rng.uniform(100, 900), rng.uniform(0, 50)),
                )
            )
        add(
            (
                b"info",
                b"trace.complete",
                b"agent.loop",
                b',"span_id":"%s","op":"agent.tick","duration_ms":%d'
                % (root, llm_ms + bet_ms + rng.randint(5, 60)),
            )
        )
        return lines

    def lines(self, n: int) -> Iterator[bytes]:
        """Yield ``n`` complete lines (with ``\\n``), traces of all agents interleaved in time order."""
        rng = self.rng
        active: list[list[tuple[bytes, bytes, bytes, bytes]]] = [[] for _ in self.agents]
        trace_ids: list[bytes] = [b""] * len(self.agents)
        now = EPOCH
        second = -1
        prefix = b""
        for _ in range(n):
            agent = rng.randrange(len(self.agents))
            if not active[agent]:
                trace_ids[agent] = b"%032x" % rng.getrandbits(128)
                active[agent] = self.plan()[::-1]
            level, event, logger, tail = active[agent].pop()
            now += rng.random() * 0.004
            if int(now) != second:
                second = int(now)
                prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)).encode()
            ts = b"%s.%03dZ" % (prefix, int((now - second) * 1000))
            name, service = self.agents[agent]
            yield _HEAD % (ts, level, event, name, service, logger, trace_ids[agent]) + tail + b"}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("n", type=int)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--agents", type=int, default=12)
    args = parser.parse_args(argv)
    fleet = Fleet(args.seed, args.agents)
    with args.out.open("wb") as fh:
        buf: list[bytes] = []
        for line in fleet.lines(args.n):
            buf.append(line)
            if len(buf) >= 20000:
                fh.write(b"".join(buf))
                buf.clear()
        fh.write(b"".join(buf))
    return 0


if __name__ == "__main__":
    sys.exit(main())
