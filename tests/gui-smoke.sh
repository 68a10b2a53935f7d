#!/usr/bin/env bash
# Smoke test of the real window: the demo under Xvfb, paid by personal QR (a scan on stdin)
# and approved through the simulator's control API; checks the log and a screenshot.
# Installs Xvfb and ImageMagick with apt-get when missing; skips loudly when it cannot.
set -uo pipefail
cd "$(dirname "$0")/.."

skip() { echo "gui-smoke: SKIPPED: $*"; exit 0; }

if ! command -v Xvfb >/dev/null || ! command -v import >/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "gui-smoke: installing xvfb and imagemagick"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      xvfb xauth imagemagick libx11-6 libx11-xcb1 libxcursor1 libxi6 libxrandr2 libxkbcommon0 libxkbcommon-x11-0 \
      >/dev/null) || skip "apt-get could not install xvfb"
  else
    skip "Xvfb is not installed and cannot be installed here"
  fi
fi

bin=target/debug/vipps-kiosk
[ -x "$bin" ] || cargo build --quiet || { echo "gui-smoke: build failed"; exit 1; }

work=$(mktemp -d)
display=":$((90 + RANDOM % 9))"
cleanup() { kill "${app:-}" "${xvfb:-}" 2>/dev/null; exec 3>&- 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

Xvfb "$display" -screen 0 1200x1100x24 -nolisten tcp >/dev/null 2>&1 & xvfb=$!
sleep 1
mkfifo "$work/scans"
mkdir -m 700 "$work/xdg"
DISPLAY=$display XDG_RUNTIME_DIR="$work/xdg" NO_COLOR=1 KIOSK_LOG=info "$bin" --scanner stdin \
  <"$work/scans" >"$work/log" 2>&1 & app=$!
exec 3>"$work/scans"

fail() { echo "gui-smoke: FAILED: $*"; echo "--- log"; sed 's/\x1b\[[0-9;]*m//g' "$work/log" | tail -30; exit 1; }
wait_for() { # pattern, seconds
  for _ in $(seq 1 $(($2 * 10))); do
    sed 's/\x1b\[[0-9;]*m//g' "$work/log" | grep -q "$1" && return 0
    kill -0 "$app" 2>/dev/null || fail "the kiosk exited"
    sleep 0.1
  done
  fail "no '$1' within $2 s"
}

wait_for "payment created" 60
sleep 1
DISPLAY=$display import -window root "$work/waiting.png" || fail "no screenshot"
colours=$(convert "$work/waiting.png" -format %k info:)
[ "$colours" -gt 20 ] || fail "the window looks blank ($colours colours)"

echo "https://qr.vipps.no/p/SMOKE-1234?v=2" >&3
wait_for "method=PersonalQr" 10
wait_for "payment created reference=[^ ]*-2" 10
sim=$(sed 's/\x1b\[[0-9;]*m//g' "$work/log" | grep -o 'addr=127.0.0.1:[0-9]*' | head -1 | cut -d= -f2)
reference=$(sed 's/\x1b\[[0-9;]*m//g' "$work/log" | grep -o 'payment created reference=[^ ]*-2' | head -1 | sed 's/.*reference=//')
python3 - "$sim" "$reference" <<'PY' || fail "the simulator did not approve"
import sys, urllib.request
req = urllib.request.Request(f"http://{sys.argv[1]}/_sim/payments/{sys.argv[2]}/approve", method="POST")
assert urllib.request.urlopen(req, timeout=5).status == 200
PY
wait_for "payment captured reference=$reference" 10
sleep 0.5
DISPLAY=$display import -window root "$work/approved.png" || fail "no screenshot"
if sed 's/\x1b\[[0-9;]*m//g' "$work/log" | grep -q "SMOKE-1234"; then fail "a raw scan reached the log"; fi
if grep -qi "panicked" "$work/log"; then fail "panic in the log"; fi
if [ -n "${KIOSK_SHOTS:-}" ]; then mkdir -p "$KIOSK_SHOTS" && cp "$work"/*.png "$KIOSK_SHOTS"/; fi
echo "gui-smoke: window rendered $colours colours; personal QR payment $reference captured"
echo "gui-smoke: 1 passed, 0 failed"
