//! The `vipps-image` QR source: the PNG Vipps renders for a one-time payment, fetched from its
//! link and decoded here, for sales units not approved to draw their own QR. The link needs
//! no authorization and answers 404 once the QR has expired.

use super::Error;

/// A decoded QR image: RGBA pixels, row by row.
#[derive(Clone, PartialEq, Eq)]
pub struct Decoded {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

impl std::fmt::Debug for Decoded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Decoded({}x{})", self.width, self.height)
    }
}

/// The largest image accepted (bytes): Vipps' PNGs are at most 2000 px square.
const MAX_BYTES: usize = 4 << 20;

/// Decodes a PNG. Anything else (an HTML error page, an SVG) is refused with a clear reason.
pub fn decode_png(bytes: &[u8]) -> Result<Decoded, Error> {
    if bytes.len() > MAX_BYTES {
        return Err(Error::Decode(format!(
            "QR image of {} bytes is too large",
            bytes.len()
        )));
    }
    let img = image::load_from_memory_with_format(bytes, image::ImageFormat::Png)
        .map_err(|e| Error::Decode(format!("QR image is not a PNG: {e}")))?;
    let rgba = img.to_rgba8();
    let (width, height) = rgba.dimensions();
    if width < 21 || height < 21 {
        return Err(Error::Decode(format!(
            "QR image of {width}x{height} px is too small to be a QR code"
        )));
    }
    Ok(Decoded {
        width,
        height,
        rgba: rgba.into_raw(),
    })
}

/// How long a fetch of the image may take, answer and body: past it the fetch fails (and is
/// tried again shortly), so that a link that never answers cannot leave "loading" on screen.
pub const FETCH_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// Fetches and decodes the image behind a QR link. A 404 means the QR has expired.
pub async fn fetch(http: &reqwest::Client, url: &str) -> Result<Decoded, Error> {
    fetch_within(http, url, FETCH_WITHIN).await
}

/// `fetch`, given up after `within`.
pub async fn fetch_within(
    http: &reqwest::Client,
    url: &str,
    within: std::time::Duration,
) -> Result<Decoded, Error> {
    let resp = http
        .get(url)
        .header(reqwest::header::ACCEPT, "image/png")
        .timeout(within)
        .send()
        .await
        .map_err(super::http::transport_error)?;
    let status = resp.status();
    if !status.is_success() {
        return Err(Error::Api {
            status: status.as_u16(),
            problem: None,
            retry_after: None,
        });
    }
    let bytes = super::http::read_body(resp).await?;
    decode_png(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A link that takes the connection and never answers: the fetch fails in its time.
    #[tokio::test]
    async fn a_link_that_never_answers_fails_in_time() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/qr.png", listener.local_addr().expect("addr"));
        let held = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.expect("accept");
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            drop(socket);
        });
        let started = std::time::Instant::now();
        let result = fetch_within(
            &crate::vipps::plain_http_client(),
            &url,
            std::time::Duration::from_millis(300),
        )
        .await;
        let took = started.elapsed();
        held.abort();
        assert!(result.is_err(), "{result:?}");
        assert!(took < std::time::Duration::from_secs(5), "took {took:?}");
    }

    #[test]
    fn decodes_a_png_and_refuses_other_bytes() {
        let mut png = Vec::new();
        let img =
            image::GrayImage::from_fn(29, 29, |x, y| image::Luma([((x + y) % 2 * 255) as u8]));
        img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .expect("encode");
        let d = decode_png(&png).expect("decode");
        assert_eq!((d.width, d.height, d.rgba.len()), (29, 29, 29 * 29 * 4));
        assert_eq!(&d.rgba[..4], &[0, 0, 0, 255]);
        assert!(matches!(
            decode_png(b"<html>404</html>"),
            Err(Error::Decode(_))
        ));
        let tiny = image::GrayImage::new(4, 4);
        let mut small = Vec::new();
        tiny.write_to(
            &mut std::io::Cursor::new(&mut small),
            image::ImageFormat::Png,
        )
        .expect("encode");
        assert!(decode_png(&small).is_err(), "a 4 px image is no QR");
    }
}
