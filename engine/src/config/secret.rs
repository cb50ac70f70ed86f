//! Secrets in the configuration (FIX passwords, API keys): values that are never
//! printed, logged or journalled.
//!
//! A [`Secret`] is written in YAML as the value itself or as `env:NAME`, which
//! reads environment variable `NAME` when the file is loaded (so the file can be
//! committed without the secret). Its `Debug` and `Display` print `<redacted>`,
//! and it serialises as `<redacted>`: the effective configuration journalled with
//! a run, its hash and every log line carry the placeholder, never the value.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a secret prints and serialises as.
pub const REDACTED: &str = "<redacted>";

/// A secret string; only [`Secret::expose`] reveals it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// A secret holding `value`.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    /// The value, for the one place that must send it (the FIX Logon).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(REDACTED)
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        let raw = String::deserialize(d)?;
        match raw.strip_prefix("env:") {
            Some(name) => std::env::var(name)
                .map(Secret)
                .map_err(|_| serde::de::Error::custom(format!("environment variable {name} is not set"))),
            None => Ok(Secret(raw)),
        }
    }
}

impl JsonSchema for Secret {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Secret".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A secret: the value, or `env:NAME` to read environment variable NAME at load. Never printed, logged or journalled (shown as `<redacted>`).",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shows_its_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "<redacted> <redacted>");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"<redacted>\"");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn env_reference_reads_the_environment() {
        std::env::set_var("FOXTROT_TEST_SECRET_X", "s3cret");
        let s: Secret = serde_yaml_ng::from_str("env:FOXTROT_TEST_SECRET_X").unwrap();
        assert_eq!(s.expose(), "s3cret");
        let e = serde_yaml_ng::from_str::<Secret>("env:FOXTROT_TEST_SECRET_UNSET").unwrap_err();
        assert!(e.to_string().contains("FOXTROT_TEST_SECRET_UNSET is not set"), "{e}");
    }
}
