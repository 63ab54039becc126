"""What every MCP answer carries beside its result: truncation metadata and how to get more.

An agent must know what it did not see. Each answer says what was in the window (the API's
`metadata.total_logs`, and its `coverage` when the source reports one), what it returns, what
was cut to fit the token budget, and how to ask for more: a cursor for the next evidence, a
larger `max_tokens`, or a narrower window. The cursor holds the question (window pinned) and
an offset, never who asks: the tenant always comes from the caller's key.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from analyzer.errors import InvalidParameter
from analyzer.mcp.budget import TOKEN_RULE, Draft, compact_json
from analyzer.model import NS_PER_SECOND, TimeRange, instant_ns

MESSAGE_CHARS = 500  # a log message longer than this is cut in evidence lines
SAMPLE_CHARS = 240
NARROW_BEFORE_S = 5 * 60  # the narrower window suggested around the first error
NARROW_AFTER_S = 15 * 60
ALWAYS = frozenset({"returned", "source_truncated", "offset", "max_tokens"})


@dataclass
class Outcome:
    """A tool's draft answer and what its truncation metadata is made from."""

    draft: Draft
    metadata: dict[str, Any] | None = None  # the API's metadata, when the answer has one
    window: dict[str, str] | None = None
    narrower: dict[str, str] | None = None  # a smaller window that holds the first failure
    pin: dict[str, Any] = field(default_factory=dict)  # arguments that keep a cursor's window


@dataclass(frozen=True)
class Cursor:
    tool: str
    arguments: dict[str, Any]
    offset: int

    def encode(self) -> str:
        text = compact_json({"t": self.tool, "a": self.arguments, "o": self.offset})
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, tool: str) -> Cursor:
        try:
            padded = token + "=" * (-len(token) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
            cursor = cls(tool=str(data["t"]), arguments=dict(data["a"]), offset=int(data["o"]))
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
            raise InvalidParameter(
                "the cursor is not one this server issued",
                code="INVALID_CURSOR",
                suggestion="Pass `truncation.next_cursor` of a previous answer unchanged.",
                details={"parameter": "cursor"},
            ) from None
        if cursor.tool != tool or cursor.offset < 0:
            raise InvalidParameter(
                f"the cursor belongs to the tool {cursor.tool!r}, not {tool!r}",
                code="INVALID_CURSOR",
                suggestion=f"Call {cursor.tool} with this cursor.",
                details={"parameter": "cursor"},
            )
        return cursor


def truncation(
    outcome: Outcome,
    fitted_counts: dict[str, int],
    totals: dict[str, int],
    *,
    offset: int,
    short: bool,
    max_tokens: int,
    next_cursor: str | None,
    page: bool = False,
) -> dict[str, Any]:
    meta = outcome.metadata or {}
    cut = {name: totals[name] - offset * (i == 0) - kept
           for i, (name, kept) in enumerate(fitted_counts.items())}
    block: dict[str, Any] = {
        "window": outcome.window,
        "lines_in_window": meta.get("total_logs"),
        "lines_answered": meta.get("returned_logs"),
        "source_truncated": bool(meta.get("truncated")),
        "returned": dict(fitted_counts),
        "cut": {name: n for name, n in cut.items() if n > 0},
        "offset": offset,
        "conclusion": "minimal" if short else None,
        "max_tokens": max_tokens,
        "token_rule": TOKEN_RULE,
        "next_cursor": next_cursor,
        "narrower": outcome.narrower if (next_cursor or meta.get("truncated")) else None,
        # a page carries evidence only: what the numbers cover was said on the first answer
        "coverage": None if page else _coverage(meta.get("coverage")),
    }
    # what is unknown or empty is left out: every token here is one the agent pays for
    block = {k: v for k, v in block.items() if k in ALWAYS or v}
    return block


def _coverage(coverage: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the numbers cover, without the evidence's caps and reasons (tokens an agent pays
    for; `verbosity=detailed` on the HTTP API shows them)."""
    if not coverage:
        return None
    # services and line totals are said elsewhere in the answer; evidence caps are detail
    out = {k: v for k, v in coverage.items()
           if k not in ("evidence", "logs", "notes", "services_read", "lines_in_window")}
    notes = coverage.get("notes") or []
    if notes:  # the first few, shortened: the whole account is on the HTTP API
        out["notes"] = [n if len(n) <= 120 else n[:117] + "..." for n in notes[:2]]
        if len(notes) > 2:
            out["notes_left_out"] = len(notes) - 2
    evidence = coverage.get("evidence")
    if isinstance(evidence, dict):
        out["evidence_lines"] = evidence.get("lines")
    return out


def footer(tool: str, block: dict[str, Any], totals: dict[str, int]) -> str:
    """One line of text that tells a reader what was left out and how to get it."""
    cut = block.get("cut", {})
    parts = []
    for i, (name, kept) in enumerate(block["returned"].items()):
        if name in cut:
            start = block["offset"] if i == 0 else 0
            shown = f"{start + 1}-{start + kept}" if kept else "0"
            parts.append(f"{name} {shown} of {totals[name]}")
    notes = []
    if parts:
        notes.append(f"Shown to fit max_tokens={block['max_tokens']}: " + ", ".join(parts) + ".")
    if block.get("conclusion") == "minimal":
        notes.append("The narrative is the minimal one.")
    if block["source_truncated"]:
        notes.append("The lines shown are a sample of those that match; the counts are exact.")
    more = []
    if block.get("next_cursor"):
        more.append("cursor=<truncation.next_cursor> (the next evidence)")
    if parts or block.get("conclusion"):
        more.append("a larger max_tokens")
    if block.get("narrower"):
        narrow = block["narrower"]
        more.append(f"a narrower window start={narrow['start']} end={narrow['end']}")
    if more:
        notes.append(f"More: call {tool} with " + ", or ".join(more) + ".")
    return "\n\n[" + " ".join(notes) + "]" if notes else ""


def compact_line(line: dict[str, Any]) -> dict[str, Any]:
    message = line.get("message")
    if isinstance(message, str) and len(message) > MESSAGE_CHARS:
        return {**line, "message": message[:MESSAGE_CHARS] + "…"}
    return line


def compact_insight(insight: dict[str, Any], *, detailed: bool = False) -> dict[str, Any]:
    """An insight as an agent needs it: what, how sure, how much, when, where, what to do."""
    evidence = insight.get("evidence") or {}
    out: dict[str, Any] = {
        "kind": insight.get("kind"),
        "title": insight.get("title"),
        "severity": insight.get("severity"),
        "confidence": insight.get("confidence"),
    }
    if insight.get("service"):
        out["service"] = insight["service"]
    out.update(
        {
            "count": evidence.get("count"),
            "first_seen": evidence.get("first_seen"),
            "last_seen": evidence.get("last_seen"),
        }
    )
    if evidence.get("services") and evidence["services"] != [insight.get("service")]:
        out["services"] = evidence["services"]
    samples = evidence.get("samples") or []
    if samples:
        out["sample"] = str(samples[0])[:SAMPLE_CHARS]
    if detailed and evidence.get("logql"):
        out["logql"] = evidence["logql"]
    out["suggestion"] = insight.get("suggestion")
    return out


def narrower_window(window: dict[str, str] | None, first_error: str | None) -> dict[str, str] | None:
    """Minutes around the first error (where an incident is read from), inside the window."""
    if not window or not first_error:
        return None
    start, end = instant_ns(window["start"]), instant_ns(window["end"])
    onset = instant_ns(first_error)
    low = max(start, onset - NARROW_BEFORE_S * NS_PER_SECOND)
    high = min(end, onset + NARROW_AFTER_S * NS_PER_SECOND)
    if high <= low or (low, high) == (start, end):
        return None
    return TimeRange(low, high).to_dict()
