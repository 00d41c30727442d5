"""Simulated agents (betting, trading, LLM tool-calling) that log through ``agent_tui.log``."""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, Final

from agent_tui.log import span, trace
from agent_tui.log.dlq import DeadLetterQueue

__all__ = ["AGENT_KINDS", "Agent", "BettingAgent", "LlmAgent", "TradingAgent"]

Pace = Callable[[], Awaitable[None]]
MODELS: Final = ("gpt-4o-mini", "claude-3-5-haiku", "llama-3.1-70b")
PRICE_PER_1K: Final = {
    "gpt-4o-mini": (0.00015, 0.0006),
    "claude-3-5-haiku": (0.0008, 0.004),
    "llama-3.1-70b": (0.0009, 0.0009),
}
TOOLS: Final = ("web_search", "get_balance", "place_order", "read_file")


class DeadLetterError(RuntimeError):
    """An operation that exhausted its retries and went to the dead-letter queue."""


class Agent:
    """One simulated agent: ``step(n)`` runs its n-th operation; scripted failures come early."""

    kind = "agent"
    service = "agent"

    def __init__(self, agent_id: str, log: logging.Logger, rng: random.Random, pace: Pace) -> None:
        """Bind the agent to its logger, its private random source and the fleet's pacer."""
        self.agent_id, self.log, self.rng, self.pace = agent_id, log, rng, pace
        self.balance = 250.0
        self.dlq: DeadLetterQueue | None = None
        """Where permanently failed operations go; without one they are only logged."""

    def scripted(self, n: int) -> str | None:
        """The outcome forced for operation ``n`` (``"fail"``, ``"critical"``) or None for random."""
        return None

    def roll(self, n: int) -> str:
        """Decide operation ``n``'s fate: scripted first, then rare random failures."""
        forced = self.scripted(n)
        if forced is not None:
            return forced
        x = self.rng.random()
        return "critical" if x < 0.001 else "fail" if x < 0.04 else "ok"

    async def step(self, n: int) -> None:
        """Run one operation; failures are logged by the spans and swallowed here."""
        fate = self.roll(n)
        try:
            if fate == "critical":
                await self.revoked()
            else:
                await self.operate(fate == "fail")
        except (DeadLetterError, PermissionError, LookupError, ValueError, TimeoutError):
            pass

    async def operate(self, fail: bool) -> None:
        """One normal operation (subclasses)."""
        raise NotImplementedError

    async def revoked(self) -> None:
        """The API key was revoked: the agent cannot continue (critical), then waits for an operator."""
        async with trace("auth.refresh", trace_id=self._trace_id(), logger=self.log):
            try:
                async with span("auth.token.exchange", logger=self.log):
                    await self.pace()
                    _reject_key(self.agent_id)
            except PermissionError:
                self.log.critical(
                    "auth.revoked",
                    exc_info=True,
                    extra={
                        "cannot_continue": True,
                        "http_status": 401,
                        "action": "halting until key rotated",
                    },
                )
                raise

    async def dead_letter(
        self, operation_type: str, exc: BaseException, *, event: str, attempts: int, code: str, payload: Any
    ) -> None:
        """Move a failed operation to the dead-letter queue, which logs the ERROR record in this trace."""
        if self.dlq is not None:
            await self.dlq.aput(
                operation_type, exc, payload=payload, attempts=attempts, error_code=code, event=event
            )
            return
        extra = {"dlq": True, "attempts": attempts, "error_code": code, "operation_type": operation_type}
        self.log.error(event, exc_info=exc, extra=extra)

    def _trace_id(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    async def retrying(self, op: str, attempts: int, fail: bool, call: Callable[[int], None]) -> int:
        """Call ``call(attempt)`` inside a span per attempt; 429s are retried with warnings."""
        for attempt in range(1, attempts + 1):
            async with span(op, logger=self.log):
                await self.pace()
                if fail and attempt < attempts:
                    self.log.warning("api.retry", extra={"reason": "timeout", "attempt": attempt})
                    continue
                if not fail and attempt < attempts and self.rng.random() < 0.08:
                    retry_after = round(self.rng.uniform(0.5, 3.0), 1)
                    self.log.warning(
                        "rate_limit_hit",
                        extra={"http_status": 429, "retry_after_s": retry_after, "attempt": attempt},
                    )
                    continue
                call(attempt)
                return attempt
        raise DeadLetterError(f"{op} failed after {attempts} attempts")


def _reject_key(agent_id: str) -> None:
    raise PermissionError(f"401 Unauthorized: API key for {agent_id} was revoked")


def _timeout(url: str, seconds: float) -> None:
    raise TimeoutError(f"POST {url} timed out after {seconds:.1f}s")


class BettingAgent(Agent):
    """Places dice and coin-flip bets against a casino API."""

    kind = "betting"
    service = "casino-agent"

    def scripted(self, n: int) -> str | None:
        """The first betting agent sends its 2nd bet to the DLQ and loses its key on the 4th."""
        return {1: "fail", 3: "critical"}.get(n)

    async def operate(self, fail: bool) -> None:
        """Place one bet (nested spans, retries, maybe a DLQ'd timeout)."""
        rng, log = self.rng, self.log
        game = rng.choice(("dice", "coinflip", "crash"))
        amount = round(rng.choice((5, 10, 20, 50, 100)) * rng.uniform(0.5, 1.5), 2)
        async with trace("casino.place_bet", trace_id=self._trace_id(), logger=log):
            log.debug("sending_bet", extra={"game": game, "amount_usdc": amount})
            await self.pace()
            try:
                await self.retrying(
                    "casino.api.post", 5, fail, lambda _a: _timeout("/casino/bet", 10.0) if fail else None
                )
            except TimeoutError as exc:
                payload = {"game": game, "amount_usdc": amount, "url": "/casino/bet"}
                await self.dead_letter(
                    "bet", exc, event="bet.failed", attempts=5, code="TIMEOUT", payload=payload
                )
                raise DeadLetterError("bet moved to DLQ after 5 attempts") from exc
            roll = rng.randint(1, 100)
            target = rng.randint(20, 80)
            won = roll > target
            payout = round(amount * 100 / (100 - target) * 0.99, 2) if won else 0.0
            self.balance = round(self.balance - amount + payout, 2)
            log.info(
                "bet.complete",
                extra={
                    "bet_id": f"bet_{rng.getrandbits(32):08x}",
                    "game": game,
                    "amount_usdc": amount,
                    "prediction": "over",
                    "target": target,
                    "roll": roll,
                    "outcome": "win" if won else "loss",
                    "payout_usdc": payout,
                    "balance_after": self.balance,
                    "api_latency_ms": rng.randint(40, 400),
                },
            )
            if self.balance < 50:
                log.warning(
                    "balance_below_threshold", extra={"balance_usdc": self.balance, "threshold_usdc": 50}
                )
                self.balance += 200


class TradingAgent(Agent):
    """Places and fills orders on an exchange."""

    kind = "trading"
    service = "trading-agent"

    def scripted(self, n: int) -> str | None:
        """The first trading agent DLQs its 3rd order."""
        return {2: "fail"}.get(n)

    async def operate(self, fail: bool) -> None:
        """Place one order and wait for the fill."""
        rng, log = self.rng, self.log
        symbol = rng.choice(("ETH-USDC", "BTC-USDC", "SOL-USDC"))
        qty = round(rng.uniform(0.01, 2.0), 4)
        price = round(
            {"ETH-USDC": 3100, "BTC-USDC": 64000, "SOL-USDC": 150}[symbol] * rng.uniform(0.98, 1.02), 2
        )
        async with trace("trade.order", trace_id=self._trace_id(), logger=log):
            order_id = f"ord_{rng.getrandbits(32):08x}"
            log.info(
                "order.placed",
                extra={
                    "order_id": order_id,
                    "symbol": symbol,
                    "side": rng.choice(("buy", "sell")),
                    "qty": qty,
                    "price": price,
                },
            )
            await self.pace()
            if fail:
                async with span("exchange.fill", logger=log):
                    await self.pace()
                    try:
                        raise LookupError(
                            f"order {order_id} rejected: insufficient margin for {qty} {symbol}"
                        )
                    except LookupError as exc:
                        payload = {"order_id": order_id, "symbol": symbol, "qty": qty, "price": price}
                        await self.dead_letter(
                            "order",
                            exc,
                            event="order.dlq",
                            attempts=1,
                            code="INSUFFICIENT_MARGIN",
                            payload=payload,
                        )
                        raise
            await self.retrying("exchange.fill", 3, False, lambda _a: None)
            slip = round(rng.uniform(-8, 8), 2)
            log.info(
                "order.filled",
                extra={
                    "order_id": order_id,
                    "fill_price": round(price * (1 + slip / 10000), 2),
                    "slippage_bps": slip,
                },
            )


class LlmAgent(Agent):
    """An LLM tool-calling agent: chat completions with token usage and cost, then tool calls."""

    kind = "llm"
    service = "llm-agent"

    def scripted(self, n: int) -> str | None:
        """The first LLM agent has a tool crash on its 2nd step."""
        return {1: "fail"}.get(n)

    async def operate(self, fail: bool) -> None:
        """One reasoning step: an LLM call then a tool call (which may crash with a chained error)."""
        rng, log = self.rng, self.log
        model = rng.choice(MODELS)
        async with trace("agent.step", trace_id=self._trace_id(), logger=log):
            await self.retrying("llm.chat", 3, False, lambda _a: self._llm_call(model))
            tool = rng.choice(TOOLS)
            async with span("tool.call", logger=log):
                log.info("tool.invoked", extra={"tool": tool, "args_bytes": rng.randint(20, 800)})
                await self.pace()
                if fail:
                    _tool_crash(tool)
                log.info("tool.result", extra={"tool": tool, "result_bytes": rng.randint(10, 5000)})

    def _llm_call(self, model: str) -> None:
        rng = self.rng
        tokens_in, tokens_out = rng.randint(200, 6000), rng.randint(20, 1200)
        price_in, price_out = PRICE_PER_1K[model]
        self.log.info(
            "llm.call",
            extra={
                "gen_ai.request.model": model,
                "gen_ai.usage.input_tokens": tokens_in,
                "gen_ai.usage.output_tokens": tokens_out,
                "cost_usd": round(tokens_in / 1000 * price_in + tokens_out / 1000 * price_out, 6),
                "latency_ms": rng.randint(300, 9000),
            },
        )


def _tool_crash(tool: str) -> None:
    outputs: dict[str, dict[str, str]] = {"web_search": {}}
    try:
        outputs.get(tool, {})["results"]
    except KeyError as exc:
        raise ValueError(f"tool {tool!r} returned malformed output") from exc


AGENT_KINDS: Final = (BettingAgent, TradingAgent, LlmAgent)
"""Agent classes assigned round-robin: agent 0 bets, 1 trades, 2 calls tools, 3 bets …"""
