//! `--scanner stdin`: one scan per line on standard input (for scripts and tests).

use tokio::io::{AsyncBufReadExt, BufReader, Lines, Stdin};

/// Longest line taken as a scan; longer input is dropped (with a log line, without content).
pub const MAX_LINE_BYTES: usize = 4096;

pub struct StdinScanner {
    lines: Lines<BufReader<Stdin>>,
}

impl Default for StdinScanner {
    fn default() -> Self {
        Self::new()
    }
}

impl StdinScanner {
    pub fn new() -> Self {
        StdinScanner {
            lines: BufReader::new(tokio::io::stdin()).lines(),
        }
    }

    /// The next non-empty scan; `None` when standard input is closed or unreadable.
    pub async fn next_scan(&mut self) -> Option<String> {
        loop {
            match self.lines.next_line().await {
                Ok(Some(line)) => {
                    let line = line.trim_end_matches('\r');
                    if line.is_empty() {
                        continue;
                    }
                    if line.len() > MAX_LINE_BYTES {
                        tracing::warn!(bytes = line.len(), "dropped an oversized scan");
                        continue;
                    }
                    return Some(line.to_string());
                }
                Ok(None) => {
                    tracing::info!("scanner stdin closed");
                    return None;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "scanner stdin unreadable");
                    return None;
                }
            }
        }
    }
}
