//! systemd's notify protocol, for `Type=notify` with `WatchdogSec`: `READY=1` once the lane
//! runs, then `WATCHDOG=1` at half the watchdog interval. The pings come from the loop that
//! drives the lane (the window's tick, or the headless loop's), never from a thread of their
//! own: a lane that hangs stops pinging, and systemd restarts it; the journal does the rest.
//!
//! Datagrams to `$NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace), as
//! `sd_notify(3)` describes. Without the variable (tests, a terminal) everything is a no-op.

use std::{
    os::unix::net::{SocketAddr, UnixDatagram},
    time::{Duration, Instant},
};

/// The environment systemd sets for a `Type=notify` service.
pub const NOTIFY_SOCKET: &str = "NOTIFY_SOCKET";
pub const WATCHDOG_USEC: &str = "WATCHDOG_USEC";
pub const WATCHDOG_PID: &str = "WATCHDOG_PID";

#[derive(Debug)]
pub struct Watchdog {
    socket: Option<(UnixDatagram, SocketAddr)>,
    /// How often to ping: half of `WatchdogSec`; `None` when no watchdog is asked for.
    every: Option<Duration>,
    last_ping: Option<Instant>,
    ready: bool,
}

fn address(name: &str) -> std::io::Result<SocketAddr> {
    match name.strip_prefix('@') {
        Some(abstract_name) => {
            use std::os::linux::net::SocketAddrExt;
            SocketAddr::from_abstract_name(abstract_name.as_bytes())
        }
        None => SocketAddr::from_pathname(name),
    }
}

impl Watchdog {
    /// From the environment systemd sets; inert without it.
    pub fn from_env() -> Watchdog {
        let var = |name| std::env::var(name).ok().filter(|v| !v.is_empty());
        let for_us =
            var(WATCHDOG_PID).is_none_or(|pid| pid.trim().parse() == Ok(std::process::id()));
        let every = var(WATCHDOG_USEC)
            .and_then(|usec| usec.trim().parse::<u64>().ok())
            .filter(|usec| *usec > 0 && for_us)
            .map(|usec| Duration::from_micros(usec) / 2);
        Watchdog::new(var(NOTIFY_SOCKET).as_deref(), every)
    }

    /// Notifies `socket` (as `$NOTIFY_SOCKET` names it), pinging `every` so often.
    pub fn new(socket: Option<&str>, every: Option<Duration>) -> Watchdog {
        let socket = socket.and_then(|name| {
            let opened = address(name).and_then(|a| UnixDatagram::unbound().map(|s| (s, a)));
            opened
                .inspect_err(|e| tracing::warn!(socket = name, error = %e, "cannot notify systemd"))
                .ok()
        });
        Watchdog {
            every: every.filter(|_| socket.is_some()),
            socket,
            last_ping: None,
            ready: false,
        }
    }

    /// Whether systemd listens at all.
    pub fn active(&self) -> bool {
        self.socket.is_some()
    }

    /// Called from the lane's loop on every tick: says READY the first time (with `status`),
    /// then pings the watchdog when it is due.
    pub fn tick(&mut self, now: Instant, status: impl FnOnce() -> String) {
        if self.socket.is_none() {
            return;
        }
        if !self.ready {
            self.ready = true;
            self.send(&format!("READY=1\nSTATUS={}", one_line(&status())));
        }
        let Some(every) = self.every else { return };
        if self
            .last_ping
            .is_none_or(|at| now.duration_since(at) >= every)
        {
            self.last_ping = Some(now);
            self.send("WATCHDOG=1");
        }
    }

    /// What `systemctl status` shows for the lane.
    pub fn status(&self, status: &str) {
        if self.ready {
            self.send(&format!("STATUS={}", one_line(status)));
        }
    }

    fn send(&self, message: &str) {
        if let Some((socket, addr)) = &self.socket
            && let Err(e) = socket.send_to_addr(message.as_bytes(), addr)
        {
            tracing::warn!(error = %e, "systemd notification not sent");
        }
    }
}

/// The status said with READY: taking orders, or out of service and why.
pub fn ready_status(out_of_service: Option<&str>) -> String {
    match out_of_service {
        None => "taking orders".into(),
        Some(reason) => format!("out of service: {reason}"),
    }
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn socket(name: &str) -> (UnixDatagram, String) {
        let path = std::env::temp_dir().join(format!("kiosk-notify-{name}-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let server = UnixDatagram::bind(&path).expect("bind");
        server.set_nonblocking(true).expect("nonblocking");
        (server, path.display().to_string())
    }

    fn received(server: &UnixDatagram) -> Vec<String> {
        let mut out = Vec::new();
        let mut buf = [0u8; 512];
        while let Ok(n) = server.recv(&mut buf) {
            out.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        out
    }

    #[test]
    fn ready_once_then_pings_at_the_interval() {
        let (server, path) = socket("ready");
        let mut w = Watchdog::new(Some(&path), Some(Duration::from_secs(5)));
        let t0 = Instant::now();
        w.tick(t0, || "taking orders".into());
        w.tick(t0 + Duration::from_secs(1), || {
            unreachable!("ready is said once")
        });
        w.tick(t0 + Duration::from_secs(5), String::new);
        w.tick(t0 + Duration::from_secs(6), String::new);
        assert_eq!(
            received(&server),
            ["READY=1\nSTATUS=taking orders", "WATCHDOG=1", "WATCHDOG=1"]
        );
    }

    #[test]
    fn without_a_watchdog_interval_only_ready_and_status_go_out() {
        let (server, path) = socket("no-interval");
        let mut w = Watchdog::new(Some(&path), None);
        let t0 = Instant::now();
        w.tick(t0, || "out of service: journal\nlocked".into());
        w.tick(t0 + Duration::from_secs(60), String::new);
        w.status("taking orders");
        assert_eq!(
            received(&server),
            [
                "READY=1\nSTATUS=out of service: journal locked",
                "STATUS=taking orders"
            ]
        );
    }

    #[test]
    fn without_systemd_nothing_happens() {
        let mut w = Watchdog::new(None, Some(Duration::from_secs(1)));
        assert!(!w.active());
        w.tick(Instant::now(), || unreachable!("no one to tell"));
    }
}
