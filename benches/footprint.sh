#!/usr/bin/env bash
# Footprint of the kiosk idling on the Waiting screen (live QR, ticking countdown) at 1080x1920,
# with the simulator in a separate process so it is not counted. Prints PSS and CPU use.
# Needs Xvfb. Usage: benches/footprint.sh [path/to/vipps-kiosk] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/vipps-kiosk}
secs=${2:-30}
[ -x "$bin" ] || { echo "build it first: cargo build --release"; exit 1; }
command -v Xvfb >/dev/null || { echo "footprint: needs Xvfb (apt-get install xvfb)"; exit 1; }
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
display=":$((80 + RANDOM % 9))"
cleanup() { kill "${app:-}" "${sim:-}" "${xvfb:-}" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
Xvfb "$display" -screen 0 1080x1920x24 -nolisten tcp >/dev/null 2>&1 & xvfb=$!
"$bin" sim --listen "127.0.0.1:$port" >/dev/null 2>&1 & sim=$!
printf '[vipps]\nbase_url = "http://127.0.0.1:%s"\n[demo]\norders = true\n' "$port" >"$work/kiosk.toml"
sleep 1
mkdir -m 700 "$work/xdg"
DISPLAY=$display XDG_RUNTIME_DIR="$work/xdg" "$bin" --config "$work/kiosk.toml" --fullscreen >"$work/log" 2>&1 & app=$!
sleep 5 # start-up, first order, QR shown
grep -q "payment created" "$work/log" || { echo "footprint: the kiosk did not reach Waiting"; cat "$work/log"; exit 1; }
ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$app/stat"; }
c0=$(cpu); t0=$(date +%s.%N)
sleep "$secs"
c1=$(cpu); t1=$(date +%s.%N)
pss_kb=$(awk '/^Pss:/ {print $2}' "/proc/$app/smaps_rollup")
rss_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$app/status")
cpu_pct=$(echo "($c1 - $c0) / $ticks / ($t1 - $t0) * 100" | bc -l)
printf 'footprint (Waiting, 1080x1920, %ss): PSS %.1f MB, RSS %.1f MB, CPU %.2f %% of one core\n' \
  "$secs" "$(echo "$pss_kb/1024" | bc -l)" "$(echo "$rss_kb/1024" | bc -l)" "$cpu_pct"
