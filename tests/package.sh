#!/usr/bin/env bash
# The Debian package, installed and removed for real on this machine (as root, with dpkg):
# `cargo deb` builds it; `dpkg -i` must install the binary, the unit, the udev rule, the kiosk
# user and group, the configuration (a conffile, group kiosk) and the state directory, also
# where systemd does not run (a CI container); `dpkg -r` must leave the configuration and the
# journal; a reinstall must keep an edited configuration; `dpkg -P` must keep the journal.
# Skips loudly without root, dpkg or cargo-deb. Leaves the machine as it found it.
set -euo pipefail
cd "$(dirname "$0")/.."

skip() { echo "SKIPPED: the package test: $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root (dpkg -i)"
command -v dpkg >/dev/null || skip "no dpkg on this machine"
cargo deb --version >/dev/null 2>&1 || skip "cargo-deb is not installed (cargo install cargo-deb --locked)"
if dpkg -s vipps-kiosk >/dev/null 2>&1; then skip "vipps-kiosk is installed here already; not touching it"; fi

had_user=$(getent passwd kiosk >/dev/null && echo yes || echo no)
had_group=$(getent group kiosk >/dev/null && echo yes || echo no)
had_state=$([ -e /var/lib/vipps-kiosk ] && echo yes || echo no)
had_etc=$([ -e /etc/vipps-kiosk ] && echo yes || echo no)
cleanup() {
    dpkg -P vipps-kiosk >/dev/null 2>&1 || true
    [ "$had_state" = yes ] || rm -rf /var/lib/vipps-kiosk
    [ "$had_etc" = yes ] || rm -rf /etc/vipps-kiosk
    [ "$had_user" = yes ] || userdel kiosk 2>/dev/null || true
    [ "$had_group" = yes ] || groupdel kiosk 2>/dev/null || true
}
trap cleanup EXIT

fail() { echo "FAILED: the package: $*"; exit 1; }
check() { local what=$1; shift; "$@" || fail "$what"; echo "  ok: $what"; }

echo "== cargo deb"
start=$(date +%s)
cargo deb --locked --fast
echo "  built in $(( $(date +%s) - start )) s"
deb=$(ls -t target/debian/vipps-kiosk_*.deb | head -1)
echo "  $deb: $(du -h "$deb" | cut -f1)"

echo "== dpkg -i"
dpkg -i "$deb"
check "the binary runs" bash -c "/usr/bin/vipps-kiosk --help >/dev/null"
check "the systemd unit" test -f /usr/lib/systemd/system/vipps-kiosk.service
check "the unit is Type=notify with a watchdog" bash -c "grep -qx Type=notify /usr/lib/systemd/system/vipps-kiosk.service && grep -q '^WatchdogSec=' /usr/lib/systemd/system/vipps-kiosk.service"
check "the udev rule" test -f /usr/lib/udev/rules.d/70-vipps-kiosk-scanner.rules
check "the sysusers entry" test -f /usr/lib/sysusers.d/vipps-kiosk.conf
check "the kiosk user" bash -c "getent passwd kiosk >/dev/null"
check "the kiosk group" bash -c "getent group kiosk >/dev/null"
check "the configuration" test -f /etc/vipps-kiosk/kiosk.toml
check "the configuration is a conffile" grep -qx /etc/vipps-kiosk/kiosk.toml /var/lib/dpkg/info/vipps-kiosk.conffiles
check "the kiosk user reads the configuration" test "$(stat -c %G:%a /etc/vipps-kiosk/kiosk.toml)" = kiosk:640
check "the state directory belongs to kiosk" test "$(stat -c %U:%G:%a /var/lib/vipps-kiosk)" = kiosk:kiosk:700
if command -v systemd-analyze >/dev/null; then
    check "systemd-analyze verify accepts the unit" systemd-analyze verify /usr/lib/systemd/system/vipps-kiosk.service
fi
# The installed configuration is a valid lane configuration, with a journal in the state dir.
cat >> /etc/vipps-kiosk/kiosk.toml <<'TOML'

# (edited by the package test)
TOML
sed -i 's|^# path = "/var/lib/vipps-kiosk/journal.jsonl"|path = "/var/lib/vipps-kiosk/journal.jsonl"|' /etc/vipps-kiosk/kiosk.toml
# `check` exits 2 for a configuration error (1 for what it cannot reach from here).
set +e
/usr/bin/vipps-kiosk check --config /etc/vipps-kiosk/kiosk.toml >/tmp/vipps-kiosk-check.$$ 2>&1
rc=$?
set -e
check "check accepts the installed configuration (exit $rc)" test "$rc" != 2
rm -f /tmp/vipps-kiosk-check.$$
echo '{"kind":"order"}' > /var/lib/vipps-kiosk/journal.jsonl

echo "== dpkg -r"
dpkg -r vipps-kiosk
check "the binary is gone" test ! -e /usr/bin/vipps-kiosk
check "the unit is gone" test ! -e /usr/lib/systemd/system/vipps-kiosk.service
check "the configuration stays" grep -q "edited by the package test" /etc/vipps-kiosk/kiosk.toml
check "the journal stays" test -s /var/lib/vipps-kiosk/journal.jsonl

echo "== dpkg -i again"
dpkg -i "$deb"
check "the edited configuration is kept" grep -q "edited by the package test" /etc/vipps-kiosk/kiosk.toml
check "the journal is untouched" grep -q '"kind":"order"' /var/lib/vipps-kiosk/journal.jsonl

echo "== dpkg -P"
dpkg -P vipps-kiosk
check "the configuration is purged" test ! -e /etc/vipps-kiosk/kiosk.toml
check "the journal survives a purge" test -s /var/lib/vipps-kiosk/journal.jsonl
echo "package: all checks passed"
