"""Where each kind of as-code file lives in the repository, and loading them once."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from analyzer.lint.sourcemap import load_file

AS_CODE_DIRS = ("promtail", "ruler_rules", "provisioning", "grafana_app")
YAML_SUFFIXES = (".yaml", ".yml")


class Repository:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._loaded: dict[Path, Any] = {}

    @property
    def has_config(self) -> bool:
        """Whether any as-code folder exists here: linting elsewhere checks nothing."""
        return any((self.root / folder).is_dir() for folder in AS_CODE_DIRS)

    def rel(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.root))
        except ValueError:
            return str(path)

    def load(self, path: Path) -> Any:
        """Parsed content with line numbers; raises SourceError (the yaml check reports it)."""
        if path not in self._loaded:
            self._loaded[path] = load_file(path)
        return self._loaded[path]

    def _glob(self, folder: str, *patterns: str) -> list[Path]:
        base = self.root / folder
        return sorted({p for pattern in patterns for p in base.glob(pattern) if p.is_file()})

    @cached_property
    def yaml_files(self) -> list[Path]:
        found: list[Path] = []
        for folder in AS_CODE_DIRS:
            found += self._glob(folder, "**/*.yaml", "**/*.yml")
        return [p for p in found if "node_modules" not in p.parts]

    @cached_property
    def json_files(self) -> list[Path]:
        found: list[Path] = []
        for folder in ("provisioning", "grafana_app"):
            found += self._glob(folder, "**/*.json")
        return found

    @property
    def ruler_rule_files(self) -> list[Path]:
        return self._glob("ruler_rules", "*/*.yaml", "*/*.yml")

    @property
    def misplaced_ruler_files(self) -> list[Path]:
        """Rule files outside a tenant folder (or nested too deep): Loki never reads them."""
        every = self._glob("ruler_rules", "**/*.yaml", "**/*.yml")
        return [p for p in every if p not in self.ruler_rule_files]

    @property
    def promtail_configs(self) -> list[Path]:
        return self._glob("promtail", "*.yaml", "*.yml")

    @property
    def alloy_configs(self) -> list[Path]:
        return self._glob("promtail", "*.alloy")

    @property
    def datasource_files(self) -> list[Path]:
        return self._glob("provisioning/grafana/datasources", "*.yaml", "*.yml")

    @property
    def dashboard_files(self) -> list[Path]:
        return self._glob("provisioning/grafana/dashboards", "*.json") + self._glob(
            "grafana_app/dashboards", "*.json"
        )

    @property
    def alerting_files(self) -> list[Path]:
        return self._glob("provisioning/grafana/alerting", "*.yaml", "*.yml")

    @property
    def prometheus_rule_files(self) -> list[Path]:
        return self._glob("provisioning/prometheus/rules", "*.yaml", "*.yml")

    @property
    def app_manifest(self) -> Path:
        return self.root / "grafana_app" / "plugin.json"
