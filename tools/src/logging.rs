//! Structured logs for the command-line tools (never the hot path: the engine
//! crate does not depend on `tracing` at all).
//!
//! `--log-format human` (the default) writes readable lines to stderr;
//! `--log-format json` writes one JSON object per line with stable field names:
//! `timestamp` (RFC 3339), `level`, `target`, `message`, then the event's own
//! fields (`config_hash`, `dir`, `orders`, …) at the top level.
//!
//! Secrets are kept out twice over: config secrets are a type whose `Debug` and
//! `Display` print `<redacted>`, and every value registered with
//! [`register_secret`] is masked in the log stream itself before it is written.

use std::io::Write;
use std::sync::Mutex;

/// The log line format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Readable lines.
    #[default]
    Human,
    /// One JSON object per line.
    Json,
}

static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());
static JSON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether logs are JSON lines (so commands report errors as log events too).
pub fn is_json() -> bool {
    JSON.load(std::sync::atomic::Ordering::Relaxed)
}

/// Masks `value` wherever it would appear in a log line from now on. Values
/// shorter than four bytes are not registered (masking them would garble logs).
pub fn register_secret(value: &str) {
    if value.len() >= 4 {
        if let Ok(mut s) = SECRETS.lock() {
            if !s.iter().any(|x| x == value) {
                s.push(value.to_string());
            }
        }
    }
}

/// `x` rounded to `decimals` places, for a log field: a float is logged in its
/// shortest exact form, so `-2498.1800000000003` becomes `-2498.18`.
pub fn rounded(x: f64, decimals: i32) -> f64 {
    let k = 10f64.powi(decimals);
    let r = (x * k).round() / k;
    if r.is_finite() {
        r
    } else {
        x
    }
}

/// Masks every registered secret in `line`.
pub fn redact(line: &str) -> String {
    let mut out = line.to_string();
    if let Ok(s) = SECRETS.lock() {
        for v in s.iter() {
            out = out.replace(v.as_str(), foxtrot_engine::config::secret::REDACTED);
        }
    }
    out
}

/// Stderr, with registered secrets masked. The formatter hands over each event
/// whole, so a secret is never split across writes.
struct RedactingStderr;

impl Write for RedactingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Installs the global subscriber: `format`, events at `level` and above.
pub fn init(format: LogFormat, level: tracing::Level) {
    JSON.store(format == LogFormat::Json, std::sync::atomic::Ordering::Relaxed);
    let builder = tracing_subscriber::fmt()
        .with_writer(|| RedactingStderr)
        .with_max_level(level)
        .with_target(false);
    let _ = match format {
        LogFormat::Human => builder.with_ansi(false).try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_target(true)
            .try_init(),
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn registered_secrets_are_masked() {
        super::register_secret("correct-horse");
        assert_eq!(super::redact("pw=correct-horse;"), "pw=<redacted>;");
        super::register_secret("ab");
        assert_eq!(super::redact("ab"), "ab");
    }
}
