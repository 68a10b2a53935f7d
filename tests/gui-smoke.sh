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
cleanup() { kill "${app:-}" "${sim:-}" "${xvfb:-}" 2>/dev/null; exec 3>&- 2>/dev/null; rm -rf "$work"; }
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
kill "$app" 2>/dev/null; wait "$app" 2>/dev/null; exec 3>&-

# Part 2: a real lane. A standalone simulator, the kiosk with a lane config and the POS API;
# the POS posts an order, the customer scans (stdin), the phone approves, the POS sees
# 'captured' by GET and by server-sent events.
sim_port=$((20000 + RANDOM % 20000)); pos_port=$((sim_port + 1))
"$bin" sim --listen "127.0.0.1:$sim_port" --currency NOK >"$work/sim.log" 2>&1 & sim=$!
cat >"$work/lane.toml" <<TOML
market = "NO"
[vipps]
base_url = "http://127.0.0.1:$sim_port"
[pos]
listen = "127.0.0.1:$pos_port"
[journal]
path = "$work/journal.jsonl"
TOML
mkfifo "$work/lane-scans"
DISPLAY=$display XDG_RUNTIME_DIR="$work/xdg" NO_COLOR=1 KIOSK_LOG=info KIOSK_POS_TOKEN=smoke-token-0123456789 \
  "$bin" --config "$work/lane.toml" --windowed --scanner stdin <"$work/lane-scans" >"$work/log" 2>&1 & app=$!
exec 3>"$work/lane-scans"
wait_for "POS API listening" 30
python3 - "$pos_port" <<'PY' || fail "the POS order was not accepted"
import json, sys, urllib.request
auth = {"Authorization": "Bearer smoke-token-0123456789", "Content-Type": "application/json"}
lines = [{"id": "1", "name": "Kaffe", "quantity": "2", "unitPrice": 5000, "totalAmount": 10000,
          "totalAmountExcludingTax": 8000, "totalTaxAmount": 2000, "taxRate": 2500}]
order = {"orderId": "smoke-order-0001", "currency": "NOK", "lines": lines, "totalAmount": 10000,
         "receiptNumber": "S-1", "posId": "lane-1"}
req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/v1/orders", method="POST", headers=auth,
                             data=json.dumps(order).encode())
with urllib.request.urlopen(req, timeout=5) as r:
    record = json.loads(r.read())
    assert r.status == 201 and record["status"] == "waiting", (r.status, record)
PY
wait_for "payment created reference=lane-1-smoke-order-0001-1" 10
echo "https://qr.vipps.no/p/SMOKE-5678?v=2" >&3
wait_for "payment created reference=lane-1-smoke-order-0001-2" 10
python3 - "$pos_port" "$sim_port" <<'PY' || fail "the POS never saw 'captured'"
import json, sys, threading, time, urllib.request
pos, sim = sys.argv[1], sys.argv[2]
auth = {"Authorization": "Bearer smoke-token-0123456789"}
events = []
def listen():
    req = urllib.request.Request(f"http://127.0.0.1:{pos}/v1/events", headers=auth)
    with urllib.request.urlopen(req, timeout=15) as r:
        for raw in r:
            line = raw.decode().strip()
            if line.startswith("data:"):
                events.append(json.loads(line[5:])["status"])
                if events[-1] == "captured":
                    return
listener = threading.Thread(target=listen, daemon=True)
listener.start()
time.sleep(0.3)
req = urllib.request.Request(f"http://127.0.0.1:{sim}/_sim/payments/lane-1-smoke-order-0001-2/approve", method="POST")
assert urllib.request.urlopen(req, timeout=5).status == 200
for _ in range(100):
    req = urllib.request.Request(f"http://127.0.0.1:{pos}/v1/orders/smoke-order-0001", headers=auth)
    record = json.loads(urllib.request.urlopen(req, timeout=5).read())
    if record["status"] == "captured":
        break
    time.sleep(0.1)
assert record["status"] == "captured" and record["capturedAmount"] == 10000, record
assert record["method"] == "personalQr", record
listener.join(timeout=5)
assert events[-2:] == ["approved", "captured"], f"server-sent events: {events}"
payments = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{sim}/_sim/payments", timeout=5).read())
captured = [p["reference"] for p in payments if p["aggregate"]["capturedAmount"]["value"] > 0]
assert captured == ["lane-1-smoke-order-0001-2"], payments
PY
wait_for "status=Captured" 5
echo "gui-smoke: lane paid a POS order by personal QR; the POS saw it captured by GET and SSE"

# Part 3: a crash mid-payment. The next order's QR payment exists, the window is killed
# (SIGKILL), the customer approves while it is down, and the restarted window finishes it.
sleep 7 # the thank-you screen, then the lane takes orders again
python3 - "$pos_port" <<'PY' || fail "the second POS order was not accepted"
import json, sys, urllib.request
auth = {"Authorization": "Bearer smoke-token-0123456789", "Content-Type": "application/json"}
lines = [{"id": "2", "name": "Te", "quantity": "1", "unitPrice": 3000, "totalAmount": 3000,
          "totalAmountExcludingTax": 2400, "totalTaxAmount": 600, "taxRate": 2500}]
order = {"orderId": "smoke-order-0002", "currency": "NOK", "lines": lines, "totalAmount": 3000}
req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/v1/orders", method="POST", headers=auth,
                             data=json.dumps(order).encode())
assert urllib.request.urlopen(req, timeout=5).status == 201
PY
wait_for "payment created reference=lane-1-smoke-order-0002-1" 10
kill -9 "$app"; wait "$app" 2>/dev/null; exec 3>&-
python3 - "$sim_port" <<'PY' || fail "the simulator did not approve"
import sys, urllib.request
req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/_sim/payments/lane-1-smoke-order-0002-1/approve", method="POST")
assert urllib.request.urlopen(req, timeout=5).status == 200
PY
mv "$work/log" "$work/log-before-crash"
DISPLAY=$display XDG_RUNTIME_DIR="$work/xdg" NO_COLOR=1 KIOSK_LOG=info KIOSK_POS_TOKEN=smoke-token-0123456789 \
  "$bin" --config "$work/lane.toml" --windowed --scanner stdin <"$work/lane-scans" >"$work/log" 2>&1 & app=$!
exec 3>"$work/lane-scans"
wait_for "resuming a payment from the journal" 30
wait_for "payment captured reference=lane-1-smoke-order-0002-1" 10
sleep 0.5
DISPLAY=$display import -window root "$work/resumed.png" || fail "no screenshot"
python3 - "$pos_port" "$sim_port" <<'PY' || fail "the POS or the simulator disagree after the crash"
import json, sys, time, urllib.request
pos, sim = sys.argv[1], sys.argv[2]
auth = {"Authorization": "Bearer smoke-token-0123456789"}
for order, amount in (("smoke-order-0001", 10000), ("smoke-order-0002", 3000)):
    req = urllib.request.Request(f"http://127.0.0.1:{pos}/v1/orders/{order}", headers=auth)
    record = json.loads(urllib.request.urlopen(req, timeout=5).read())
    assert record["status"] == "captured" and record["capturedAmount"] == amount, record
req = urllib.request.Request(f"http://127.0.0.1:{pos}/v1/health", headers=auth)
health = json.loads(urllib.request.urlopen(req, timeout=5).read())
assert health["journal"] == "ok", health
payments = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{sim}/_sim/payments", timeout=5).read())
captured = sorted(p["reference"] for p in payments if p["aggregate"]["capturedAmount"]["value"] > 0)
assert captured == ["lane-1-smoke-order-0001-2", "lane-1-smoke-order-0002-1"], payments
PY
if [ -n "${KIOSK_SHOTS:-}" ]; then cp "$work/resumed.png" "$KIOSK_SHOTS"/; fi
kill "$sim" 2>/dev/null
echo "gui-smoke: killed mid-payment, the restarted window captured it once; the POS saw both orders"
kill "$app" 2>/dev/null; wait "$app" 2>/dev/null; exec 3>&-

# Part 4: the eCom demo with the QR image Vipps renders. The window fetches the PNG and shows
# it; the phone opens the QR, the screen asks to approve in the app; the approval is captured.
mv "$work/log" "$work/log-lane"
DISPLAY=$display XDG_RUNTIME_DIR="$work/xdg" NO_COLOR=1 KIOSK_LOG=info \
  "$bin" --config assets/demo-ecom.toml --windowed --scanner none >"$work/log" 2>&1 & app=$!
wait_for "payment created" 60
sleep 1.5
DISPLAY=$display import -window root "$work/ecom-waiting.png" || fail "no screenshot"
if grep -q "could not fetch the QR image" "$work/log"; then fail "the QR image was not fetched"; fi
sim=$(sed 's/\x1b\[[0-9;]*m//g' "$work/log" | grep -o 'addr=127.0.0.1:[0-9]*' | head -1 | cut -d= -f2)
reference=$(sed 's/\x1b\[[0-9;]*m//g' "$work/log" | grep -o 'payment created reference=[^ ]*' | head -1 | sed 's/.*reference=//')
python3 - "$sim" "$reference" open <<'PY' || fail "the phone could not open the QR"
import sys, urllib.request
req = urllib.request.Request(f"http://{sys.argv[1]}/_sim/payments/{sys.argv[2]}/{sys.argv[3]}", method="POST")
assert urllib.request.urlopen(req, timeout=5).status == 200
PY
wait_for "the customer opened the QR in the app" 10
sleep 0.5
DISPLAY=$display import -window root "$work/ecom-opened.png" || fail "no screenshot"
python3 - "$sim" "$reference" approve <<'PY' || fail "the simulator did not approve"
import sys, urllib.request
req = urllib.request.Request(f"http://{sys.argv[1]}/_sim/payments/{sys.argv[2]}/{sys.argv[3]}", method="POST")
assert urllib.request.urlopen(req, timeout=5).status == 200
PY
wait_for "payment captured reference=$reference" 10
python3 - "$sim" "$reference" <<'PY' || fail "the eCom payment is not captured once"
import json, sys, urllib.request
payments = json.loads(urllib.request.urlopen(f"http://{sys.argv[1]}/_sim/payments", timeout=5).read())
paid = [p for p in payments if p["aggregate"]["capturedAmount"]["value"] > 0]
assert [(p["reference"], p["api"]) for p in paid] == [(sys.argv[2], "ecom")], payments
PY
# The QR shows on the first screen and not on the second: dark pixels per mille of the window's
# upper part (above the access bar and developer panel), where the QR is.
dark() { convert "$1" -crop 540x700+0+0 +repage -colorspace gray -threshold 50% -format '%[fx:round(1000*(1-mean))]' info:; }
qr_dark=$(dark "$work/ecom-waiting.png"); opened_dark=$(dark "$work/ecom-opened.png")
[ "$qr_dark" -gt $((opened_dark + 20)) ] || fail "no QR image on the waiting screen, or still one after opening ($qr_dark vs $opened_dark)"
if [ -n "${KIOSK_SHOTS:-}" ]; then cp "$work"/ecom-*.png "$KIOSK_SHOTS"/; fi
echo "gui-smoke: eCom QR from Vipps' image, opened in the app, captured once"
echo "gui-smoke: 4 passed, 0 failed"
