"""`ai-logs keys create NAME --tenant T`: prints a new key once, stores only its hash."""

from __future__ import annotations

import argparse
import sys

from analyzer.config import load_settings
from analyzer.infra.keys import SCOPES, KeyStore


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("keys", help="manage API keys (stored hashed)")
    keys_sub = p.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create a key; it is printed once")
    create.add_argument("name")
    create.add_argument("--tenant", action="append", required=True, help="Loki tenant; repeatable")
    create.add_argument(
        "--scope", action="append", choices=SCOPES, help="default: query and stream"
    )
    create.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="GROUP=N",
        help="requests per hour for a limit group (query, datasource, webhook, default)",
    )
    create.add_argument("--file", help="keys file (default: $AI_LOGS_API_KEYS_FILE)")
    create.set_defaults(handler=run_create)
    listing = keys_sub.add_parser(
        "list", help="list key names, tenants and scopes (never the keys)"
    )
    listing.add_argument("--file")
    listing.set_defaults(handler=run_list)


def _store(args: argparse.Namespace) -> KeyStore:
    path = args.file or load_settings().api_keys_file
    if not path:
        raise SystemExit("error: give --file or set AI_LOGS_API_KEYS_FILE")
    return KeyStore(path)


def run_create(args: argparse.Namespace) -> int:
    limits = {}
    for item in args.limit:
        group, _, number = item.partition("=")
        if not number.isdigit():
            raise SystemExit(f"error: --limit {item!r} must look like query=500")
        limits[group] = int(number)
    try:
        key = _store(args).add(args.name, args.tenant, args.scope or ["query", "stream"], limits)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    print(key)
    print("Store this key now: only its sha256 hash was saved.", file=sys.stderr)
    return 0


def run_list(args: argparse.Namespace) -> int:
    import yaml

    store = _store(args)
    data = yaml.safe_load(store.path.read_text()) if store.path.exists() else {}
    for entry in (data or {}).get("keys", []):
        tenants = ",".join(entry.get("tenants", []))
        scopes = ",".join(entry.get("scopes", []))
        print(f"{entry['name']}\ttenants={tenants}\tscopes={scopes}")
    return 0
