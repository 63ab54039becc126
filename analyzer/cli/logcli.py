"""logcli's options, with its names and environment variables, so a shell set up for logcli
(`LOKI_ADDR`, `LOKI_ORG_ID`, `LOKI_USERNAME`/`LOKI_PASSWORD`, `LOKI_BEARER_TOKEN`, TLS files)
reads the same Loki here, and `--since`/`--from`/`--to` mean what they mean there. Flags win
over the environment (the variables are read by `config.load_settings`).
"""

from __future__ import annotations

import argparse
from typing import Any

# flag destination -> Settings field
_CONNECTION_FLAGS = {
    "username": "loki_username",
    "password": "loki_password",
    "bearer_token": "loki_bearer_token",
    "bearer_token_file": "loki_bearer_token_file",
    "auth_header": "loki_auth_header",
    "ca_cert": "loki_ca_cert",
    "cert": "loki_client_cert",
    "key": "loki_client_key",
}


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Loki behind a gateway (logcli's options)")
    group.add_argument("--username", help="basic auth user ($LOKI_USERNAME)")
    group.add_argument("--password", help="basic auth password ($LOKI_PASSWORD)")
    group.add_argument("--bearer-token", help="bearer token ($LOKI_BEARER_TOKEN)")
    group.add_argument(
        "--bearer-token-file", help="file holding the bearer token ($LOKI_BEARER_TOKEN_FILE)"
    )
    group.add_argument("--auth-header", help="header the token goes in ($LOKI_AUTH_HEADER)")
    group.add_argument("--ca-cert", help="CA certificate of the server ($LOKI_CA_CERT_PATH)")
    group.add_argument("--cert", help="client certificate ($LOKI_CLIENT_CERT_PATH)")
    group.add_argument("--key", help="client certificate key ($LOKI_CLIENT_KEY_PATH)")
    group.add_argument(
        "--tls-skip-verify", action="store_true", default=None,
        help="do not verify the server certificate ($LOKI_TLS_SKIP_VERIFY)",
    )  # fmt: skip


def connection_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Settings the connection flags set (None where a flag was not given)."""
    overrides = {setting: getattr(args, flag, None) for flag, setting in _CONNECTION_FLAGS.items()}
    if getattr(args, "tls_skip_verify", None):
        overrides["loki_tls_skip_verify"] = True
    if getattr(args, "tenant", None):
        overrides["default_tenant"] = args.tenant
    return overrides


def add_window_options(parser: argparse.ArgumentParser, *, default_range: str = "1h") -> None:
    """`--time-range`/`--since` (a lookback) and `--start`/`--from`, `--end`/`--to`."""
    parser.add_argument(
        "--time-range", dest="time_range", default=default_range,
        help=f"window ending now or at --end, e.g. 15m, 2h, 7d (default {default_range})",
    )  # fmt: skip
    parser.add_argument(
        "--since", help="lookback window as a Go duration, e.g. 1h30m (logcli's --since)"
    )
    parser.add_argument(
        "--start", "--from", dest="start",
        help="start: RFC 3339, epoch, or Grafana's relative now-2h, now-1d/d",
    )  # fmt: skip
    parser.add_argument(
        "--end", "--to", dest="end", help="end: RFC 3339, epoch, or Grafana's relative now-1h"
    )


def lookback(args: argparse.Namespace, default: str | None = None) -> str:
    """The window length as the API's duration: `--since` (a Go duration) wins over
    `--time-range` (or `default`)."""
    since = getattr(args, "since", None)
    if not since:
        return str(default if default is not None else args.time_range)
    from analyzer.errors import InvalidParameter
    from analyzer.model import parse_go_duration

    try:
        seconds = parse_go_duration(since)
    except ValueError as exc:
        raise InvalidParameter(
            f"invalid value for '--since': {exc}",
            suggestion="Use a Go duration such as 30m, 1h30m or 2.5h.",
            details={"parameter": "since"},
        ) from None
    return f"{max(round(seconds), 1)}s"
