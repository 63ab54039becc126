"""How the Loki client authenticates to a Loki behind a gateway or Grafana Cloud Logs: basic
auth or a bearer token (logcli's options and LOKI_* variables) and a TLS context from
logcli's `--ca-cert`, `--cert`/`--key`, `--tls-skip-verify`."""

from __future__ import annotations

import base64
import ssl
from dataclasses import dataclass
from pathlib import Path

from analyzer.errors import InvalidParameter


@dataclass(frozen=True, slots=True)
class LokiAuth:
    """How requests authenticate to a Loki behind a gateway (logcli's options).

    Basic auth and a bearer token exclude each other, as in logcli. `header` is the header the
    token goes in (logcli's `--auth-header`).
    """

    username: str | None = None
    password: str | None = None
    bearer_token: str | None = None
    bearer_token_file: str | None = None
    header: str = "Authorization"

    def __post_init__(self) -> None:
        kinds = [bool(self.username or self.password), bool(self.bearer_token),
                 bool(self.bearer_token_file)]  # fmt: skip
        if sum(kinds) > 1:
            raise InvalidParameter(
                "at most one of basic auth (username/password), a bearer token and a bearer "
                "token file can be configured",
                code="INVALID_LOKI_AUTH",
                suggestion="Unset LOKI_USERNAME/LOKI_PASSWORD or LOKI_BEARER_TOKEN(_FILE).",
            )

    @property
    def kind(self) -> str:
        if self.username or self.password:
            return f"basic auth as {self.username or '(no user)'}"
        if self.bearer_token or self.bearer_token_file:
            return "bearer token"
        return "none"

    def headers(self) -> dict[str, str]:
        if self.username or self.password:
            pair = f"{self.username or ''}:{self.password or ''}".encode()
            return {self.header: "Basic " + base64.b64encode(pair).decode()}
        token = self.bearer_token
        if self.bearer_token_file:
            try:
                token = Path(self.bearer_token_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise InvalidParameter(
                    f"cannot read the bearer token file {self.bearer_token_file}: "
                    f"{exc.strerror or exc}",
                    code="INVALID_LOKI_AUTH",
                    suggestion="Point LOKI_BEARER_TOKEN_FILE at a readable file.",
                ) from None
        return {self.header: f"Bearer {token}"} if token else {}


def tls_context(
    *,
    ca_cert: str | None = None,
    cert: str | None = None,
    key: str | None = None,
    skip_verify: bool = False,
) -> ssl.SSLContext | None:
    """An SSL context for logcli's `--ca-cert`, `--cert`/`--key` and `--tls-skip-verify`;
    None when none is set (the system's trust store is used)."""
    if not (ca_cert or cert or key or skip_verify):
        return None
    try:
        context = ssl.create_default_context(cafile=ca_cert or None)
        if skip_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if cert or key:
            if not cert:
                raise InvalidParameter(
                    "a client key needs a client certificate",
                    code="INVALID_LOKI_TLS",
                    suggestion="Give --cert (LOKI_CLIENT_CERT_PATH) with --key.",
                )
            context.load_cert_chain(cert, key or None)
    except (OSError, ssl.SSLError) as exc:
        raise InvalidParameter(
            f"cannot load the TLS files for Loki: {exc}",
            code="INVALID_LOKI_TLS",
            suggestion="Check --ca-cert, --cert and --key (PEM files).",
        ) from None
    return context
