"""A lint finding: where it is (file:line) and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    check: str
    path: str
    line: int
    message: str
    col: int | None = None

    def format(self) -> str:
        where = f"{self.path}:{self.line}" + (f":{self.col}" if self.col else "")
        return f"{where}: [{self.check}] {self.message}"


@dataclass
class CheckResult:
    """What one class of check looked at (for the summary) and what it found."""

    check: str
    summary: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems
