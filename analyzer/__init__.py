"""AI Logs Analyzer: a log-analysis companion for Grafana and Loki."""

__version__ = "0.1.0"
