#!/usr/bin/env bash
# Vipps MobilePay's official SDK (@vippsmobilepay/sdk, from the npm registry) against the
# simulator: `tests/sdk/epayment.mjs` creates, approves, reads, captures, refunds and cancels
# payments and registers a webhook through the SDK, checking each answer.
# Installs node and npm with apt-get when missing; skips loudly when it cannot, or when the
# SDK cannot be installed. Not part of `cargo test`.
set -uo pipefail
cd "$(dirname "$0")/../.."

skip() { echo "sdk-check: SKIPPED: $*"; exit 0; }

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "sdk-check: installing nodejs and npm"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      nodejs npm >/dev/null) || skip "apt-get could not install nodejs and npm"
  else
    skip "node is not installed and cannot be installed here"
  fi
fi
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' \
  || skip "node $(node --version) has no fetch (18 or later needed)"

bin=target/debug/vipps-kiosk
[ -x "$bin" ] || cargo build --quiet || { echo "sdk-check: build failed"; exit 1; }

work=$(mktemp -d)
cleanup() { kill "${sim:-}" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

(cd "$work" && npm init -y >/dev/null && timeout 300 npm install --no-audit --no-fund --silent @vippsmobilepay/sdk >/dev/null 2>&1) \
  || skip "npm could not install @vippsmobilepay/sdk"
echo "sdk-check: @vippsmobilepay/sdk $(node -p "require('$work/node_modules/@vippsmobilepay/sdk/package.json').version")"
cp tests/sdk/epayment.mjs "$work/"

port=$((20000 + RANDOM % 20000))
"$bin" sim --listen "127.0.0.1:$port" >"$work/sim.log" 2>&1 & sim=$!
for _ in $(seq 1 50); do
  curl -fs "http://127.0.0.1:$port/_sim/settings" >/dev/null 2>&1 && break
  node -e "fetch('http://127.0.0.1:$port/_sim/settings').then(()=>process.exit(0),()=>process.exit(1))" 2>/dev/null && break
  sleep 0.2
done

if (cd "$work" && SIM_URL="http://127.0.0.1:$port" node epayment.mjs); then
  echo "sdk-check: passed"
else
  echo "sdk-check: FAILED"; echo "--- simulator log"; tail -20 "$work/sim.log"; exit 1
fi
