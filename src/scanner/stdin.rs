//! `--scanner stdin`: one scan per line on standard input (for scripts and tests).

use tokio::io::{AsyncBufReadExt, BufReader};

/// Reads lines from standard input and hands each non-empty one to `deliver`. Lines longer than
/// a scan can be are dropped with a log line (without their content).
pub async fn read_lines(mut deliver: impl FnMut(String) -> bool) {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        match lines.next_line().await {
            Ok(Some(line)) => {
                let line = line.trim_end_matches('\r').to_string();
                if line.is_empty() {
                    continue;
                }
                if line.len() > 4096 {
                    tracing::warn!(bytes = line.len(), "dropped an oversized scan");
                    continue;
                }
                if !deliver(line) {
                    return;
                }
            }
            Ok(None) => {
                tracing::info!("scanner stdin closed");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "scanner stdin unreadable");
                return;
            }
        }
    }
}
