//! `[pos]`: where the POS API listens, its bearer token, and TLS. Beyond this machine the API
//! is served only over TLS (the token and every order would otherwise cross the store's
//! network in clear), unless the file says `allow_plain_http_beyond_loopback = true`.

use super::{Config, ConfigError, Env, bad, secret_files::read_private};
use crate::vipps::Secret;
use serde::Deserialize;
use std::{net::SocketAddr, path::PathBuf, sync::Arc};

/// The POS API: where it listens, the bearer token the POS must send, and its TLS.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PosSection {
    pub listen: String,
    /// Better from the environment (`KIOSK_POS_TOKEN`) than in the file.
    pub token: Option<String>,
    /// The certificate chain (PEM) the POS API serves over TLS, with `tls_key`.
    pub tls_cert: Option<PathBuf>,
    /// Its private key (PEM), in a file only its owner can read.
    pub tls_key: Option<PathBuf>,
    /// CA certificates (PEM): with it, a POS must show a client certificate one of them signed.
    pub client_ca: Option<PathBuf>,
    /// Serve plain HTTP on an address beyond this machine all the same (the token and the
    /// orders then cross the network in clear).
    pub allow_plain_http_beyond_loopback: bool,
}

impl Default for PosSection {
    fn default() -> Self {
        PosSection {
            listen: "127.0.0.1:7878".into(),
            token: None,
            tls_cert: None,
            tls_key: None,
            client_ca: None,
            allow_plain_http_beyond_loopback: false,
        }
    }
}

/// How the POS API is reached, as `check` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PosTransport {
    Tls {
        client_certificates: bool,
    },
    /// Plain HTTP on this machine only.
    Loopback,
    /// Plain HTTP beyond this machine, allowed in as many words.
    PlainBeyondLoopback,
}

impl Config {
    pub(super) fn pos_checks(&self) -> Result<(), ConfigError> {
        let p = &self.pos;
        let listen = self.pos_listen()?;
        if p.token.as_deref().is_some_and(|t| t.len() < 16) {
            return Err(bad("pos.token", "at least 16 characters"));
        }
        match (&p.tls_cert, &p.tls_key) {
            (Some(_), None) => return Err(bad("pos.tls_key", "needed with pos.tls_cert")),
            (None, Some(_)) => return Err(bad("pos.tls_cert", "needed with pos.tls_key")),
            _ => {}
        }
        if p.client_ca.is_some() && p.tls_cert.is_none() {
            return Err(bad(
                "pos.client_ca",
                "client certificates need TLS: set pos.tls_cert and pos.tls_key",
            ));
        }
        if p.tls_cert.is_none() && !listen.ip().is_loopback() && !p.allow_plain_http_beyond_loopback
        {
            return Err(bad(
                "pos.listen",
                format!(
                    "{listen} is reachable beyond this machine: serve it over TLS (pos.tls_cert and pos.tls_key), or say allow_plain_http_beyond_loopback = true"
                ),
            ));
        }
        Ok(())
    }

    pub fn pos_listen(&self) -> Result<SocketAddr, ConfigError> {
        self.pos
            .listen
            .parse()
            .map_err(|_| bad("pos.listen", "an address and port, such as 127.0.0.1:7878"))
    }

    /// The POS token: `KIOSK_POS_TOKEN`, else `[pos] token`. None: the POS API stays off.
    pub fn pos_token(&self, env: Env<'_>) -> Option<Secret> {
        env("KIOSK_POS_TOKEN")
            .or_else(|| self.pos.token.clone())
            .map(Secret::new)
    }

    /// How the POS API is served.
    pub fn pos_transport(&self) -> PosTransport {
        let loopback = self.pos_listen().is_ok_and(|l| l.ip().is_loopback());
        match (&self.pos.tls_cert, loopback) {
            (Some(_), _) => PosTransport::Tls {
                client_certificates: self.pos.client_ca.is_some(),
            },
            (None, true) => PosTransport::Loopback,
            (None, false) => PosTransport::PlainBeyondLoopback,
        }
    }

    /// The POS API's TLS, read from `[pos] tls_cert`, `tls_key` and `client_ca`; `None` for
    /// plain HTTP. `Err` names the key whose file is missing, unreadable, open to others (the
    /// key) or not what it should be.
    pub fn pos_tls(&self) -> Result<Option<Arc<rustls::ServerConfig>>, ConfigError> {
        let p = &self.pos;
        let (Some(cert), Some(key)) = (&p.tls_cert, &p.tls_key) else {
            return Ok(None);
        };
        let read = |k: &str, path: &PathBuf| {
            std::fs::read(path).map_err(|e| bad(k, format!("cannot read {}: {e}", path.display())))
        };
        let cert_pem = read("pos.tls_cert", cert)?;
        let key_pem = read_private(key).map_err(|e| bad("pos.tls_key", e))?;
        let ca_pem = match &p.client_ca {
            Some(ca) => Some(read("pos.client_ca", ca)?),
            None => None,
        };
        crate::pos::tls::server_config(&cert_pem, key_pem.as_bytes(), ca_pem.as_deref())
            .map(|c| Some(Arc::new(c)))
            .map_err(|e| bad(e.key, e.reason))
    }
}
