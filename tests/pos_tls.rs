#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! The POS API over TLS, configured as a store would (`[pos] tls_cert`, `tls_key`, and
//! `client_ca` for client certificates), with certificates made for the test: the POS that
//! trusts the store's CA gets its answers, plain HTTP and strangers' certificates do not.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair,
};
use std::{net::SocketAddr, path::PathBuf};
use vipps_kiosk::{
    config::Config,
    pos::{self, Hub},
    vipps::{Secret, model::Currency},
};

const TOKEN: &str = "pos-secret-token";

struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        Ca {
            issuer: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap(),
        }
    }

    /// A certificate (PEM) and its key (PEM) for `names`, for a server or a client.
    fn issue(&self, names: &[&str], client: bool) -> (String, String) {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.extended_key_usages = vec![if client {
            ExtendedKeyUsagePurpose::ClientAuth
        } else {
            ExtendedKeyUsagePurpose::ServerAuth
        }];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("vipps-kiosk-tls-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }

    fn write(&self, name: &str, text: &str, mode: u32) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        p
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A configuration serving TLS with a certificate from `ca`, and client certificates from
/// `client_ca` when given.
fn config(dir: &Dir, ca: &Ca, client_ca: Option<&Ca>) -> Config {
    let (cert, key) = ca.issue(&["localhost", "127.0.0.1"], false);
    let cert = dir.write("pos.crt", &cert, 0o644);
    let key = dir.write("pos.key", &key, 0o600);
    let mut text = format!(
        "[pos]\nlisten = \"127.0.0.1:0\"\ntls_cert = \"{}\"\ntls_key = \"{}\"\n",
        cert.display(),
        key.display()
    );
    if let Some(c) = client_ca {
        let path = dir.write("clients.pem", &c.issuer.pem(), 0o644);
        text.push_str(&format!("client_ca = \"{}\"\n", path.display()));
    }
    Config::parse(&text).unwrap()
}

/// Serves the POS API with `config`'s TLS: its address.
async fn serve(config: &Config) -> SocketAddr {
    let tls = config.pos_tls().unwrap().expect("TLS configured");
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let rx = pos::serve_on(
        listener,
        Some(tls),
        Hub::new(),
        Secret::new(TOKEN),
        pos::OrderRules::new(Currency::Nok),
    )
    .unwrap();
    // Keep the server up for the test's length (it stops when the receiver goes).
    std::mem::forget(rx);
    addr
}

/// A POS that trusts `ca`, showing `identity` (certificate and key PEM) when given.
fn pos_client(ca: &Ca, identity: Option<(String, String)>) -> reqwest::Client {
    vipps_kiosk::vipps::install_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.issuer.der().clone()).unwrap();
    let builder = rustls::ClientConfig::builder().with_root_certificates(roots);
    let tls = match identity {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
            let chain = vec![CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()];
            let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
            builder.with_client_auth_cert(chain, key).unwrap()
        }
    };
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .build()
        .unwrap()
}

async fn health(client: &reqwest::Client, url: String) -> Result<u16, String> {
    client
        .get(url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| format!("{e:?}"))
}

#[tokio::test]
async fn the_pos_api_answers_over_tls_and_not_in_clear() {
    let (dir, ca) = (Dir::new("server"), Ca::new("store CA"));
    let addr = serve(&config(&dir, &ca, None)).await;
    let pos = pos_client(&ca, None);
    assert_eq!(
        health(&pos, format!("https://localhost:{}/v1/health", addr.port())).await,
        Ok(200)
    );
    // Plain HTTP to the same port gets no answer from the API.
    let plain = vipps_kiosk::vipps::plain_http_client();
    let answer = health(&plain, format!("http://{addr}/v1/health")).await;
    assert!(answer.is_err() || answer == Ok(400), "{answer:?}");
    // A POS that does not trust the kiosk's certificate does not talk to it.
    let stranger = pos_client(&Ca::new("another CA"), None);
    let answer = health(
        &stranger,
        format!("https://localhost:{}/v1/health", addr.port()),
    )
    .await;
    assert!(answer.is_err(), "{answer:?}");
}

#[tokio::test]
async fn with_a_client_ca_only_a_pos_with_its_certificate_gets_in() {
    let (dir, ca, clients) = (Dir::new("client"), Ca::new("store CA"), Ca::new("POS CA"));
    let addr = serve(&config(&dir, &ca, Some(&clients))).await;
    let url = || format!("https://localhost:{}/v1/health", addr.port());
    let with_cert = pos_client(&ca, Some(clients.issue(&["pos-1"], true)));
    assert_eq!(health(&with_cert, url()).await, Ok(200));
    let without = pos_client(&ca, None);
    let answer = health(&without, url()).await;
    assert!(answer.is_err(), "no client certificate: {answer:?}");
    let other = pos_client(
        &ca,
        Some(Ca::new("not the store's").issue(&["pos-x"], true)),
    );
    let answer = health(&other, url()).await;
    assert!(answer.is_err(), "a certificate from another CA: {answer:?}");
}

#[cfg(unix)]
#[test]
fn a_tls_key_that_others_can_read_is_refused_naming_the_key() {
    let (dir, ca) = (Dir::new("key-mode"), Ca::new("store CA"));
    let config = config(&dir, &ca, None);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        dir.0.join("pos.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let e = config.pos_tls().expect_err("refused");
    assert_eq!(e.key, "pos.tls_key");
    assert!(e.reason.contains("chmod 600"), "{e}");
}

#[test]
fn a_certificate_file_that_is_not_one_is_named() {
    let (dir, ca) = (Dir::new("bad-cert"), Ca::new("store CA"));
    let config = config(&dir, &ca, None);
    dir.write("pos.crt", "not a certificate", 0o644);
    let e = config.pos_tls().expect_err("refused");
    assert_eq!(e.key, "pos.tls_cert", "{e}");
}
