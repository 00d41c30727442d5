"""The serve wire: one JSON object per record carrying its source, cursor and original line (NDJSON or SSE).

Record (NDJSON, one per line; SSE puts the same object in ``data:`` and the whole-stream cursor in ``id:``)::

    {"source":"agent-1.jsonl","cursor":"agent-1.jsonl:803.1f2a.9c0e51d2:1234","line":{...original object...}}

``line`` is the original line embedded verbatim when it is a JSON object or array (so slicing the wire line
between ``"line":`` and the final ``}`` gives back the original bytes), a JSON string when it is other UTF-8
text, and ``line_b64`` (base64) replaces it when the bytes are not UTF-8. Control objects have a ``type``:
``start`` (the full starting cursor and the heartbeat interval), ``heartbeat``, ``warning`` and ``end``
(with a ``reason``: ``complete``, ``stalled``, ``server shutting down``…).
"""

from __future__ import annotations

import base64
import time
from typing import Any

import orjson

from agent_tui.serve.reader import Chunk
from agent_tui.sources.cursor import quote_source

__all__ = ["control", "encode_chunk", "sse_comment"]

_OPENERS = (b"{", b"[")
loads = orjson.loads
JSONDecodeError = orjson.JSONDecodeError


def control(kind: str, sse: bool, **fields: Any) -> bytes:
    """A control object (``start``, ``heartbeat``, ``warning``, ``end``) in the stream's framing."""
    body = orjson.dumps({"type": kind, **fields})
    if sse:
        return b"event: " + kind.encode() + b"\ndata: " + body + b"\n\n"
    return body + b"\n"


def sse_comment(text: str) -> bytes:
    """An SSE comment line (ignored by clients; keeps idle connections alive)."""
    return b": " + text.encode() + b" " + str(int(time.time())).encode() + b"\n\n"


def _payload(line: bytes, sse: bool) -> bytes:
    """The ``"line":…`` member: verbatim JSON when safe, else a JSON string, else base64."""
    if line[:1] in _OPENERS and not (sse and b"\r" in line):
        try:
            loads(line)
        except JSONDecodeError:
            pass
        else:
            return b',"line":' + line
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return b',"line_b64":"' + base64.b64encode(line) + b'"'
    return b',"line":' + orjson.dumps(text)


def encode_chunk(chunk: Chunk, sse: bool, others: str = "") -> bytes:
    """Encode a chunk of lines as wire records.

    Args:
        chunk: lines of one source with their end offsets.
        sse: frame as Server-Sent Events (``id:`` = whole-stream cursor, ``data:`` = the record).
        others: for SSE, the encoded positions of every other source, appended to each ``id``.
    """
    head = b'{"source":' + orjson.dumps(chunk.source) + b',"cursor":"'
    prefix = f"{quote_source(chunk.source)}:{chunk.file_id}:".encode()
    if sse:
        tail_ids = ("," + others).encode() if others else b""
        parts: list[bytes] = []
        for line, end in zip(chunk.lines, chunk.ends, strict=True):
            position = prefix + b"%d" % end
            record = head + position + b'"' + _payload(line, sse) + b"}"
            parts.append(b"id: " + position + tail_ids + b"\ndata: " + record + b"\n\n")
        return b"".join(parts)
    template = (head + prefix).replace(b"%", b"%%") + b'%d",%s}\n'
    out: list[bytes] = []
    append = out.append
    for line, end in zip(chunk.lines, chunk.ends, strict=True):
        if line[:1] == b"{":
            try:
                loads(line)
            except JSONDecodeError:
                pass
            else:
                append(template % (end, b'"line":' + line))
                continue
        append(template % (end, _payload(line, False)[1:]))
    return b"".join(out)
