//! `vipps-kiosk webhooks register|list|delete`: this sales unit's webhook registrations
//! (Webhooks API).

use super::{Cli, WebhookAction, parts};
use crate::{config::Config, vipps};
use std::process::ExitCode;

/// `vipps-kiosk webhooks register|list|delete`.
pub fn run(cli: &Cli, action: &WebhookAction, runtime: &tokio::runtime::Runtime) -> ExitCode {
    let Some(path) = &cli.config else {
        eprintln!("vipps-kiosk webhooks: give the lane's configuration with --config FILE");
        return ExitCode::from(2);
    };
    let config = match Config::load(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("vipps-kiosk webhooks: configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let mut sim = None;
    let client = match parts::connect(&config, runtime, &mut sim) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("vipps-kiosk webhooks: {e}");
            return ExitCode::FAILURE;
        }
    };
    let public_url = match config.webhook_public_url() {
        Ok(u) => u.map(String::from),
        Err(e) => {
            eprintln!("vipps-kiosk webhooks: configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(act(&client, action, public_url.as_deref()));
    drop(sim);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vipps-kiosk webhooks: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The URL to register: `--url`, else `[webhooks] public_url` (the receiver checks signatures
/// against the latter, so a different `--url` is pointed out).
fn url_to_register<'a>(
    given: Option<&'a str>,
    public_url: Option<&'a str>,
) -> Result<&'a str, String> {
    match (given, public_url) {
        (Some(u), Some(p)) if u != p => {
            eprintln!(
                "vipps-kiosk webhooks: note: registering {u}, but [webhooks] public_url is {p}; \
                 the receiver checks signatures against public_url"
            );
            Ok(u)
        }
        (Some(u), _) | (None, Some(u)) => Ok(u),
        (None, None) => Err("give --url, or set [webhooks] public_url in the configuration".into()),
    }
}

async fn act(
    client: &vipps::Client,
    action: &WebhookAction,
    public_url: Option<&str>,
) -> Result<(), String> {
    match action {
        WebhookAction::Register { url, secret_file } => {
            let url = url_to_register(url.as_deref(), public_url)?;
            // Refuse before registering: a secret with nowhere to go would be lost.
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(secret_file).map_err(|e| {
                format!(
                    "cannot create {} (it must not exist yet): {e}",
                    secret_file.display()
                )
            })?;
            let registered = client
                .register_webhook(url, &crate::webhooks::EPAYMENT_EVENTS)
                .await;
            let (id, secret) = match registered {
                Ok(r) => r,
                Err(e) => {
                    let _ = std::fs::remove_file(secret_file);
                    return Err(format!("Vipps refused the registration: {e}"));
                }
            };
            use std::io::Write;
            file.write_all(secret.expose().as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| format!("registered {id}, but writing the secret failed: {e}; delete it and register again"))?;
            println!("registered {id} for {url}");
            println!(
                "the secret is in {} (mode 0600); point [webhooks] secret_file at it",
                secret_file.display()
            );
            Ok(())
        }
        WebhookAction::List => {
            let hooks = client.list_webhooks().await.map_err(|e| e.to_string())?;
            if hooks.is_empty() {
                println!("no webhooks registered");
            }
            for h in hooks {
                println!("{} {} {}", h.id, h.url, h.events.join(","));
            }
            Ok(())
        }
        WebhookAction::Delete { id } => {
            client.delete_webhook(id).await.map_err(|e| e.to_string())?;
            println!("deleted {id}");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::url_to_register;

    #[test]
    fn register_uses_public_url_unless_told_otherwise() {
        let url = "https://lane3.store.example/vipps/webhooks";
        let public = Some(url);
        assert_eq!(url_to_register(None, public), Ok(url));
        assert_eq!(
            url_to_register(Some("https://relay.example/v"), public),
            Ok("https://relay.example/v")
        );
        assert_eq!(
            url_to_register(Some("https://relay.example/v"), None),
            Ok("https://relay.example/v")
        );
        assert!(url_to_register(None, None).is_err());
    }
}
