"""The bodies Grafana sends, as pydantic models, and reading what panels put in them.

The plugin's OpenAPI file fixes the protocol, but Grafana sends more than it lists (`scopedVars`,
`requestId`, `timezone`, the target's `datasource`, Grafana 12's `filters` and `timeRange`) and
adds keys between versions, so every model ignores unknown keys. A target's `payload` is ours:
a key we do not know is ignored too, with a notice on the target's frame, because the plugin
keeps the options of a target picked earlier in the query editor.

Variables arrive interpolated with Grafana's `regex` format: one value regex-escaped
(`payments\\.v2`), several as `(a|b)`. `variable_values` turns them back into plain values.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from analyzer.errors import InvalidParameter
from analyzer.model import TimeRange, instant_ns

# values Grafana puts in a payload for "all" or for an empty textbox variable
_ALL_VALUES = {"", "$__all", "all", ".+", ".*", "*"}
_UNRESOLVED_VARIABLE = re.compile(r"^\$\{?\w+(:\w+)?\}?$")
_REGEX_ESCAPE = re.compile(r"\\(.)")
_UNESCAPED_SEPARATOR = re.compile(r"(?<!\\)[|,]")


class RawTimeFrame(BaseModel):
    model_config = ConfigDict(extra="ignore")
    from_: str | None = Field(None, alias="from")
    to: str | None = None


class PanelRange(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    from_: str = Field(alias="from", description="Start, RFC 3339 (Grafana sends UTC with ms).")
    to: str = Field(description="End, RFC 3339.")
    raw: RawTimeFrame | None = None


class TargetPayload(BaseModel):
    """The options a panel sets for a target (the plugin's builder mode shows them)."""

    model_config = ConfigDict(extra="ignore")
    mode: str | None = Field(None, description="Analysis mode: troubleshoot, errors, ...")
    services: str | list[str] | None = Field(None, description="Services; empty means all.")
    severity: str | None = Field(None, description="Lowest level kept: debug..fatal.")
    workspace_id: str | None = None
    correlation_id: str | None = None
    by: str | None = Field(None, description="token_usage / cost: model or workspace.")


class QueryTarget(BaseModel):
    model_config = ConfigDict(extra="ignore")
    target: str | None = None
    refId: str = "A"
    payload: dict[str, Any] | str | None = None  # a string in the plugin's code mode
    hide: bool = False


class AdhocFilter(BaseModel):
    """One ad-hoc filter; Grafana 12's multi-value operators (`=|`, `!=|`) carry `values`."""

    model_config = ConfigDict(extra="ignore")
    key: str
    operator: str = "="
    value: str = ""
    values: list[str] | None = None


class GrafanaQueryRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    panelId: int | str | None = None
    range: PanelRange
    rangeRaw: RawTimeFrame | None = None
    interval: str | None = None
    intervalMs: float | None = Field(None, ge=0)
    maxDataPoints: int | None = Field(None, ge=1)
    targets: list[QueryTarget]
    adhocFilters: list[AdhocFilter] = Field(default_factory=list)
    filters: list[AdhocFilter] = Field(default_factory=list)


class MetricsRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    metric: str | None = None
    payload: dict[str, Any] | None = None


class PayloadOptionsRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    metric: str
    payload: dict[str, Any] = Field(default_factory=dict)
    name: str


class VariablePayload(BaseModel):
    model_config = ConfigDict(extra="ignore")
    target: str


class VariableRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    payload: VariablePayload | str
    range: PanelRange | None = None


class TagValuesRequest(BaseModel):
    """Grafana 12 sends `{key, filters, timeRange}`; older versions `{key}` or `{key, range}`."""

    model_config = ConfigDict(extra="ignore")
    key: str
    timeRange: PanelRange | None = None
    range: PanelRange | None = None


@dataclass
class Notices:
    """What a panel should know about its answer: Grafana shows a frame's `meta.notices`."""

    items: list[dict[str, str]] = field(default_factory=list)

    def warn(self, text: str) -> None:
        if not any(n["text"] == text for n in self.items):
            self.items.append({"severity": "warning", "text": text})

    def attach(self, frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The notices on the first frame of a target's answer (Grafana shows each once)."""
        if self.items and frames:
            frames[0]["meta"].setdefault("notices", []).extend(self.items)
        return frames


def window(panel_range: PanelRange) -> TimeRange:
    try:
        return TimeRange(instant_ns(panel_range.from_), instant_ns(panel_range.to))
    except ValueError as exc:
        raise InvalidParameter(
            f"invalid range: {exc}",
            suggestion="Send range.from and range.to as RFC 3339 times, from before to.",
            details={"parameter": "range"},
        ) from None


def clean(value: str | None) -> str | None:
    """A payload value as typed: None for "all", an empty textbox and a variable Grafana did
    not replace; a regex-escaped single value (`payments\\.v2`) unescaped."""
    if value is None:
        return None
    text = value.strip()
    if text.lower() in _ALL_VALUES or _UNRESOLVED_VARIABLE.match(text):
        return None
    return _REGEX_ESCAPE.sub(r"\1", text)


def variable_values(value: str | list[str] | None) -> list[str]:
    """The values of a multi-value variable as Grafana interpolates it; empty means all.

    Grafana's formats: a list (JSON), `(a|b)` (regex, each value regex-escaped), `{a,b}`
    (glob) and `a,b` (csv). "All" among the picks means every value.
    """
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if clean(item) is None:
            if item and item.strip():
                return []
            continue
        text = (item or "").strip()
        if len(text) > 1 and text[0] + text[-1] in ("()", "{}"):
            text = text[1:-1]
        for part in _UNESCAPED_SEPARATOR.split(text):
            plain = _REGEX_ESCAPE.sub(r"\1", part.strip())
            if plain:
                out.append(plain)
    return sorted(set(out))


def target_payload(target: QueryTarget, notices: Notices) -> TargetPayload:
    """The target's payload, validated here so an error names the target and the option; a key
    that is not an option is ignored with a notice."""
    raw = target.payload
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else None
        except (ValueError, RecursionError):
            raw = "not JSON"
    if raw is None:
        return TargetPayload()
    if not isinstance(raw, dict):
        raise InvalidParameter(
            f"payload of target {target.refId} is not a JSON object",
            suggestion='Send payload as an object, e.g. {"services": "api"}.',
            details={"refId": target.refId},
        )
    unknown = sorted(set(raw) - set(TargetPayload.model_fields))
    if unknown:
        notices.warn(
            f"payload option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} of "
            f"{target.target} ignored: not an option of this target (options: "
            f"{', '.join(TargetPayload.model_fields)})"
        )
    try:
        return TargetPayload.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first.get("loc", ())) or "payload"
        raise InvalidParameter(
            f"payload '{name}' of target {target.refId} {first.get('msg', 'is invalid')}",
            suggestion="Payload options: " + ", ".join(TargetPayload.model_fields) + ".",
            details={"refId": target.refId, "parameter": name},
        ) from None
