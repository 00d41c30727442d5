"""Secret redaction: sensitive key names and token-looking values become ``"[REDACTED]"``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

__all__ = ["DEFAULT_KEY_PATTERN", "DEFAULT_VALUE_PATTERNS", "REDACTED", "Redactor"]

REDACTED: Final = "[REDACTED]"

DEFAULT_KEY_PATTERN: Final = (
    r"(?:^|_)(?:passwords?|passwd|secrets?|token|access_token|refresh_token|api_?key|apikey|"
    r"authorization|cookies?|set_cookie|private_?key|client_secret|credentials?)(?:$|_)"
)
"""Matched against a key normalised to snake_case (``apiKey`` → ``api_key``, ``X-Api-Key`` → ``x_api_key``).

Whole segments only, so ``gen_ai.usage.input_tokens`` and ``max_tokens`` are never redacted."""

DEFAULT_VALUE_PATTERNS: Final = (
    r"(?i:\bbearer\s+[a-z0-9\-._~+/]{8,}=*)",
    r"eyJ[A-Za-z0-9_\-]{4,}\.eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*",
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----",
)
"""Bearer tokens, JWTs and PEM private keys."""

_PRECHECK: Final = ("earer", "EARER", "eyJ", "PRIVATE KEY")
_MIN_SECRET_LEN: Final = 16
_SCALARS: Final = frozenset((int, float, bool, type(None)))
_CAMEL: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS: Final = re.compile(r"[^A-Za-z0-9]+")
_KEY_CACHE_LIMIT: Final = 4096


class Redactor:
    """Decides which keys and values are secrets; cheap on the hot path.

    Key verdicts are cached per key; string values are regex-scanned only when long enough and when a
    cheap substring precheck (``earer``, ``eyJ``, ``PRIVATE KEY`` or a custom pattern's literal) hits.
    """

    def __init__(
        self,
        key_pattern: str = DEFAULT_KEY_PATTERN,
        value_patterns: Iterable[str] = DEFAULT_VALUE_PATTERNS,
        *,
        extra_keys: Iterable[str] = (),
    ) -> None:
        """Build a redactor.

        Args:
            key_pattern: regex searched in the snake_case form of each key.
            value_patterns: regexes; a string value containing a match is replaced entirely.
            extra_keys: additional exact key names (case-insensitive) to redact.
        """
        self._key_re = re.compile(key_pattern)
        patterns = tuple(value_patterns)
        self._value_re = re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None
        self._custom_values = patterns != DEFAULT_VALUE_PATTERNS
        self._extra_keys = frozenset(k.lower() for k in extra_keys)
        self._keys: dict[str, bool] = {}
        self._sigs: dict[tuple[str, ...], bool] = {}

    def key_is_secret(self, key: str) -> bool:
        """True when values under ``key`` must never be written."""
        verdict = self._keys.get(key)
        if verdict is None:
            normal = _SEPARATORS.sub("_", _CAMEL.sub("_", key)).lower().strip("_")
            verdict = bool(self._key_re.search(normal)) or key.lower() in self._extra_keys
            if len(self._keys) >= _KEY_CACHE_LIMIT:
                self._keys.clear()
            self._keys[key] = verdict
        return verdict

    def value_is_secret(self, value: str) -> bool:
        """True when a string value looks like a bearer token, a JWT or a private key."""
        if self._value_re is None:
            return False
        if not self._custom_values and (
            len(value) < _MIN_SECRET_LEN or not any(p in value for p in _PRECHECK)
        ):
            return False
        return self._value_re.search(value) is not None

    def record_needs_scrub(self, event: str, extra: Mapping[str, Any] | None) -> bool:
        """Cheap test for one record: could its event or ``extra`` fields hold a secret?

        Key verdicts are cached per key tuple, so a call site logging the same fields pays one lookup.
        """
        if self.value_is_secret(event):
            return True
        if not extra:
            return False
        sig = tuple(extra)
        verdict = self._sigs.get(sig)
        if verdict is None:
            verdict = self.keys_need_scrub(sig)
            if len(self._sigs) >= _KEY_CACHE_LIMIT:
                self._sigs.clear()
            self._sigs[sig] = verdict
        if verdict:
            return True
        custom = self._custom_values
        for value in extra.values():
            kind = type(value)
            if kind is str:
                if (len(value) >= _MIN_SECRET_LEN or custom) and self.value_is_secret(value):
                    return True
            elif kind not in _SCALARS:
                return True
        return False

    def keys_need_scrub(self, keys: Iterable[str]) -> bool:
        """True when any of ``keys`` is a secret key name."""
        key_is_secret = self.key_is_secret
        return any(key_is_secret(k) for k in keys)

    def scrub(self, value: Any) -> Any:
        """Return ``value`` with secrets replaced; containers are copied, never mutated."""
        if isinstance(value, str):
            return REDACTED if self.value_is_secret(value) else value
        if isinstance(value, Mapping):
            return {k: REDACTED if self.key_is_secret(str(k)) else self.scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub(v) for v in value]
        return value
