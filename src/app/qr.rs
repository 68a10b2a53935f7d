//! The one-time QR on screen: drawn here from its text once per payment (never in `view`), or
//! Vipps' own image fetched from its link (`qr_source = "vipps-image"`), with the fetch's own
//! small state machine: under way, or to be tried again at an instant.

use crate::{
    payment::{Machine, Method},
    ui::qr::QrImage,
    vipps::{self, qr_image::Decoded},
};
use std::time::{Duration, Instant};

/// A failed QR image fetch is tried again after this long.
const QR_FETCH_RETRY: Duration = Duration::from_secs(2);

/// What the app does after a fetched image arrives.
#[derive(Debug, PartialEq, Eq)]
pub enum Fetched {
    /// Shown, kept for a retry, or not this payment's: nothing more to do.
    Done,
    /// The link answers 404: that QR has expired, and the machine should replace it.
    Expired,
}

#[derive(Debug)]
pub struct ShownQr {
    /// The QR bitmap on screen: drawn here, or Vipps' image (its link as `text`).
    image: Option<QrImage>,
    /// A Vipps QR image being fetched, or to be fetched again at the instant given.
    fetch: Option<(String, Option<Instant>)>,
    http: reqwest::Client,
}

impl ShownQr {
    pub fn new(http: reqwest::Client) -> ShownQr {
        ShownQr {
            image: None,
            fetch: None,
            http,
        }
    }

    pub fn image(&self) -> Option<&QrImage> {
        self.image.as_ref()
    }

    /// Follows the machine's payment: builds the bitmap when its QR changes, or hands back the
    /// fetch of Vipps' image (to run as a task) when one is due.
    pub fn refresh(
        &mut self,
        machine: &Machine,
        now: Instant,
    ) -> Option<impl Future<Output = (String, Result<Decoded, vipps::Error>)> + use<>> {
        let want = machine
            .payment()
            .filter(|p| p.method == Method::OneTimeQr)
            .and_then(|p| Some((p.qr.clone()?, p.shows_vipps_image())));
        match want {
            Some((url, true)) if self.image.as_ref().is_none_or(|q| q.text != url) => {
                let due = match &self.fetch {
                    Some((u, None)) if *u == url => false, // under way
                    Some((u, Some(at))) if *u == url => now >= *at,
                    _ => true,
                };
                if due {
                    self.fetch = Some((url.clone(), None));
                    let http = self.http.clone();
                    return Some(async move {
                        let result = vipps::qr_image::fetch(&http, &url).await;
                        (url, result)
                    });
                }
            }
            Some((text, false)) if self.image.as_ref().is_none_or(|q| q.text != text) => {
                self.image = QrImage::new(&text);
                if self.image.is_none() {
                    tracing::error!("the QR text does not fit in a QR code");
                }
            }
            Some(_) => {}
            None => {
                // While a fresh QR is being made, the one it replaces (still valid, and
                // followed) stays on screen if it is the one shown; nothing is fetched for it.
                let replaced = machine.replaced_qr().and_then(|p| p.qr.as_deref());
                let keep = self
                    .image
                    .as_ref()
                    .is_some_and(|i| replaced == Some(i.text.as_str()));
                if !keep {
                    self.image = None;
                }
                self.fetch = None;
            }
        }
        None
    }

    /// A fetched Vipps QR image: shown when it is still the one wanted; other failures than
    /// 404 are tried again shortly (the screen says the QR is loading meanwhile).
    pub fn fetched(
        &mut self,
        url: String,
        result: Result<Decoded, vipps::Error>,
        now: Instant,
    ) -> Fetched {
        if self.fetch.as_ref().is_none_or(|(u, _)| *u != url) {
            return Fetched::Done; // an image for a QR no longer shown
        }
        match result {
            Ok(image) => {
                self.fetch = None;
                self.image = Some(QrImage::from_rgba(
                    &url,
                    image.width,
                    image.height,
                    image.rgba,
                ));
                Fetched::Done
            }
            Err(e) if e.status() == Some(404) => {
                self.fetch = None;
                Fetched::Expired
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not fetch the QR image; trying again");
                self.fetch = Some((url, Some(now + QR_FETCH_RETRY)));
                Fetched::Done
            }
        }
    }
}
