//! HID scanners through hidapi (hidraw, pure-Rust udev): one named, blocking reader thread that
//! finds the scanner, decodes its reports and reconnects by itself after an unplug.

use super::decode::{Debounce, DecodeError, HidPosDecoder, WedgeDecoder};
use std::{
    ffi::CString,
    time::{Duration, Instant},
};

/// Which device to read. Without ids, the first HID POS scanner (usage page 0x8C) is used;
/// keyboard-mode scanners are only used when their ids are given, since any keyboard would
/// otherwise match.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct DeviceFilter {
    pub vendor_id: Option<u16>,
    pub product_id: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Usage page 0x8C: reports carry the scanned data.
    HidPos,
    /// A boot keyboard: the scanner types the code.
    Wedge,
}

/// What enumeration says about one HID interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSummary {
    pub path: String,
    pub vendor_id: u16,
    pub product_id: u16,
    pub usage_page: u16,
    pub usage: u16,
    pub name: String,
}

impl DeviceSummary {
    pub fn kind(&self) -> Option<Kind> {
        match (self.usage_page, self.usage) {
            (0x8c, _) => Some(Kind::HidPos),
            (0x01, 0x06) => Some(Kind::Wedge),
            _ => None,
        }
    }
}

/// The interface to read, preferring HID POS where a device offers both (composite scanners).
pub fn choose<'a>(
    devices: &'a [DeviceSummary],
    filter: &DeviceFilter,
) -> Option<(&'a DeviceSummary, Kind)> {
    let ids_given = filter.vendor_id.is_some() || filter.product_id.is_some();
    let matches = |d: &DeviceSummary| {
        filter.vendor_id.is_none_or(|v| v == d.vendor_id)
            && filter.product_id.is_none_or(|p| p == d.product_id)
    };
    let of_kind = |kind: Kind| {
        devices
            .iter()
            .filter(|d| matches(d) && d.kind() == Some(kind))
            .min_by(|a, b| a.path.cmp(&b.path))
            .map(|d| (d, kind))
    };
    of_kind(Kind::HidPos).or_else(|| {
        if ids_given {
            of_kind(Kind::Wedge)
        } else {
            None
        }
    })
}

/// What the reader thread reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Connected {
        name: String,
    },
    /// The scanner is missing or unreadable; `reason` is for staff (never scan content).
    Disconnected {
        reason: String,
    },
    Scan(String),
    /// Input that could not be a code was dropped.
    Dropped(DecodeError),
}

/// Turns an open error into advice for whoever installs the lane.
pub fn open_error_advice(path: &str, error: &str) -> String {
    if error.contains("Permission denied") || error.contains("os error 13") {
        format!(
            "cannot open {path}: permission denied. Install assets/udev/70-vipps-kiosk-scanner.rules \
             (and add the kiosk user to its group), then replug the scanner"
        )
    } else {
        format!("cannot open {path}: {error}")
    }
}

fn enumerate(api: &mut hidapi::HidApi) -> Vec<DeviceSummary> {
    if let Err(e) = api.refresh_devices() {
        tracing::debug!(error = %e, "HID enumeration failed");
    }
    api.device_list()
        .map(|d| DeviceSummary {
            path: d.path().to_string_lossy().into_owned(),
            vendor_id: d.vendor_id(),
            product_id: d.product_id(),
            usage_page: d.usage_page(),
            usage: d.usage(),
            name: d.product_string().unwrap_or("scanner").to_string(),
        })
        .collect()
}

/// Says "disconnected" once per reason, not on every retry.
#[derive(Default)]
struct Status {
    last_reason: Option<String>,
}

impl Status {
    fn down(&mut self, reason: String, send: &mut impl FnMut(Event) -> bool) -> bool {
        if self.last_reason.as_ref() == Some(&reason) {
            return true;
        }
        tracing::warn!(%reason, "scanner unavailable");
        self.last_reason = Some(reason.clone());
        send(Event::Disconnected { reason })
    }
}

/// Runs until `send` returns false (the app is gone). Blocking: call it on its own thread.
pub fn read_loop(filter: DeviceFilter, mut send: impl FnMut(Event) -> bool) {
    let mut status = Status::default();
    let mut api = match hidapi::HidApi::new() {
        Ok(api) => api,
        Err(e) => {
            let _ = send(Event::Disconnected {
                reason: format!("HID is not available: {e}"),
            });
            return;
        }
    };
    loop {
        let devices = enumerate(&mut api);
        let Some((device, kind)) = choose(&devices, &filter) else {
            if !status.down("no scanner found".into(), &mut send) {
                return;
            }
            std::thread::sleep(Duration::from_secs(2));
            continue;
        };
        let Ok(path) = CString::new(device.path.clone()) else {
            continue;
        };
        let handle = match api.open_path(&path) {
            Ok(h) => h,
            Err(e) => {
                if !status.down(open_error_advice(&device.path, &e.to_string()), &mut send) {
                    return;
                }
                std::thread::sleep(Duration::from_secs(2));
                continue;
            }
        };
        tracing::info!(
            vendor_id = device.vendor_id,
            product_id = device.product_id,
            ?kind,
            "scanner connected"
        );
        status.last_reason = None;
        if !send(Event::Connected {
            name: device.name.clone(),
        }) {
            return;
        }
        let mut pos = HidPosDecoder::default();
        let mut wedge = WedgeDecoder::default();
        let mut debounce = Debounce::new(Duration::from_millis(1500));
        let mut buf = [0u8; 64];
        loop {
            match handle.read_timeout(&mut buf, 500) {
                Ok(0) => continue,
                Ok(n) => {
                    let decoded = match kind {
                        Kind::HidPos => pos.feed(&buf[..n]),
                        Kind::Wedge => wedge.feed(&buf[..n]),
                    };
                    let event = match decoded {
                        None => continue,
                        Some(Ok(code)) if debounce.accept(&code, Instant::now()) => {
                            Event::Scan(code)
                        }
                        Some(Ok(_)) => continue,
                        Some(Err(e)) => {
                            tracing::info!(error = %e, "dropped scanner input");
                            Event::Dropped(e)
                        }
                    };
                    if !send(event) {
                        return;
                    }
                }
                Err(e) => {
                    if !status.down(format!("scanner read failed: {e}"), &mut send) {
                        return;
                    }
                    break; // unplugged: look for it again
                }
            }
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Lists the HID interfaces that could be scanners (for `check` and logs).
pub fn list_devices() -> Result<Vec<DeviceSummary>, String> {
    let mut api = hidapi::HidApi::new().map_err(|e| e.to_string())?;
    Ok(enumerate(&mut api)
        .into_iter()
        .filter(|d| d.kind().is_some())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(path: &str, vid: u16, pid: u16, page: u16, usage: u16) -> DeviceSummary {
        DeviceSummary {
            path: path.into(),
            vendor_id: vid,
            product_id: pid,
            usage_page: page,
            usage,
            name: "x".into(),
        }
    }

    #[test]
    fn picks_hid_pos_and_never_a_plain_keyboard_by_default() {
        let keyboard = dev("/dev/hidraw0", 0x046d, 0xc31c, 0x01, 0x06);
        let honeywell_pos = dev("/dev/hidraw3", 0x0c2e, 0x1007, 0x8c, 0x02);
        assert_eq!(
            choose(std::slice::from_ref(&keyboard), &DeviceFilter::default()),
            None
        );
        let all = [keyboard, honeywell_pos.clone()];
        assert_eq!(
            choose(&all, &DeviceFilter::default()),
            Some((&honeywell_pos, Kind::HidPos))
        );
    }

    #[test]
    fn ids_select_a_wedge_scanner_and_prefer_its_pos_interface() {
        let wedge = dev("/dev/hidraw1", 0x05e0, 0x1200, 0x01, 0x06);
        let filter = DeviceFilter {
            vendor_id: Some(0x05e0),
            product_id: None,
        };
        assert_eq!(
            choose(std::slice::from_ref(&wedge), &filter),
            Some((&wedge, Kind::Wedge))
        );
        let pos = dev("/dev/hidraw2", 0x05e0, 0x1200, 0x8c, 0x02);
        assert_eq!(
            choose(&[wedge, pos.clone()], &filter),
            Some((&pos, Kind::HidPos))
        );
        let other = DeviceFilter {
            vendor_id: Some(0x1eab),
            product_id: Some(0x0d10),
        };
        assert_eq!(choose(&[pos], &other), None);
    }

    #[test]
    fn permission_errors_say_what_to_do() {
        let advice = open_error_advice(
            "/dev/hidraw3",
            "hidapi error: failed to open device: Permission denied (os error 13)",
        );
        assert!(
            advice.contains("udev") && advice.contains("replug"),
            "{advice}"
        );
        assert!(!open_error_advice("/dev/hidraw3", "No such file").contains("udev"));
    }

    #[test]
    fn enumeration_works_without_any_scanner() {
        // This machine (and CI) has no scanner: listing must still succeed.
        assert!(list_devices().is_ok());
    }
}
