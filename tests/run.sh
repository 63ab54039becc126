#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what the tests need (redis-server,
# Chromium, openssl and promtool from apt, the LogQL grammar from npm, the package into .venv),
# then lints the repository's config-as-code and runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

need_apt=()
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v chromium >/dev/null || need_apt+=(chromium)
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
command -v node >/dev/null || need_apt+=(nodejs npm)
command -v openssl >/dev/null || need_apt+=(openssl)
# promtool (Debian's prometheus package) checks and unit-tests the Prometheus rules
need_lean=()
command -v promtool >/dev/null || need_lean+=(prometheus)
if [ ${#need_apt[@]} -gt 0 ] || [ ${#need_lean[@]} -gt 0 ]; then
  echo "installing from apt: ${need_apt[*]} ${need_lean[*]}"
  as_root apt-get update -qq
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if [ ${#need_lean[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
    "${need_lean[@]}" >/dev/null
fi

if [ -f analyzer/lint/logql_grammar/package-lock.json ]; then
  npm ci --silent --no-audit --no-fund --prefix analyzer/lint/logql_grammar >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[test,ml]'

.venv/bin/ruff check -q analyzer tests bench provisioning
.venv/bin/ai-logs lint
if [ $# -gt 0 ]; then
  exec .venv/bin/python -m pytest -q "$@"
fi
# Two processes, split before the Loki tests: the whole suite in one interpreter died with a
# segmentation fault in about one run in four on the CI machine, always past the middle and at
# a different line each time (never under gdb; the Loki and MCP tests alone passed ten runs of
# ten). Each half starts with a fresh interpreter and its own redis-server.
first=() second=()
for dir in tests/*/; do
  case "$(basename "$dir")" in
    fixtures | __pycache__) ;;
    [a-k]*) first+=("$dir") ;;
    *) second+=("$dir") ;;
  esac
done
.venv/bin/python -m pytest -q "${first[@]}"
.venv/bin/python -m pytest -q "${second[@]}"
