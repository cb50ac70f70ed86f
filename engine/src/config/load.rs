//! Loading a configuration: the file, its belief weights file, the embedded
//! defaults, and parse errors placed at their file, line, column and key.

use super::{BeliefModel, Config};
use crate::error::Error;
use std::path::{Path, PathBuf};

/// The default configuration shipped with foxtrot (`configs/sim.yaml`), embedded so
/// `foxtrot sim` runs anywhere.
pub const DEFAULT_SIM_YAML: &str = include_str!("../../../configs/sim.yaml");

/// The default belief weights (`configs/belief_weights.yaml`), embedded for the
/// embedded default config.
pub const DEFAULT_WEIGHTS_YAML: &str = include_str!("../../../configs/belief_weights.yaml");

/// Origin name of the embedded default config.
pub const EMBEDDED_ORIGIN: &str = "<embedded configs/sim.yaml>";

/// The embedded backtest template (`configs/backtest.yaml`), what `foxtrot import`
/// writes unless given another.
pub const BACKTEST_YAML: &str = include_str!("../../../configs/backtest.yaml");

/// Origin name of the embedded backtest template.
pub const BACKTEST_ORIGIN: &str = "<embedded configs/backtest.yaml>";

impl Config {
    /// Loads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path).map_err(|cause| Error::ConfigIo {
            path: path.to_path_buf(),
            cause,
        })?;
        Self::from_yaml(&text, path)
    }

    /// The embedded default configuration.
    pub fn default_sim() -> Config {
        Self::from_yaml(DEFAULT_SIM_YAML, Path::new(EMBEDDED_ORIGIN))
            .expect("the embedded default config is valid (tested)")
    }

    /// The embedded backtest template.
    pub fn default_backtest() -> Config {
        Self::from_yaml(BACKTEST_YAML, Path::new(BACKTEST_ORIGIN))
            .expect("the embedded backtest config is valid (tested)")
    }

    /// Parses and validates YAML text; `origin` names it in errors and anchors the
    /// weights file (relative to its folder). The embedded origin uses the embedded
    /// weights.
    pub fn from_yaml(text: &str, origin: &Path) -> Result<Config, Error> {
        let mut cfg: Config = parse_yaml(text, origin)?;
        if cfg.belief.model.is_none() {
            let wf = &cfg.belief.weights_file;
            let embedded = origin == Path::new(EMBEDDED_ORIGIN) || origin == Path::new(BACKTEST_ORIGIN);
            let (wtext, wpath) = if embedded && wf == "belief_weights.yaml" {
                (
                    DEFAULT_WEIGHTS_YAML.to_string(),
                    PathBuf::from("<embedded configs/belief_weights.yaml>"),
                )
            } else {
                let p = origin.parent().unwrap_or(Path::new(".")).join(wf);
                let t = std::fs::read_to_string(&p).map_err(|e| {
                    let m = format!("cannot read {}: {e}", p.display());
                    located(Error::invalid(origin, "belief.weights_file", m), text)
                })?;
                (t, p)
            };
            let model: BeliefModel = parse_yaml(&wtext, &wpath)?;
            super::validate::model(&model, &wpath).map_err(|e| located(e, &wtext))?;
            cfg.belief.model = Some(model);
        }
        // Recorded latencies named by file are read into the configuration
        // (and so journalled with it), unless given inline.
        let fm = &mut cfg.venue.fill_model;
        if fm.latency_table.is_empty() {
            let key = "venue.fill_model.latency_file";
            if let Some(rows) = read_rows(
                origin,
                text,
                &fm.latency_file,
                key,
                super::fill_model::parse_latency_csv,
            )? {
                fm.latency_table = rows;
            }
        }
        if fm.feed_latency_table.is_empty() {
            let key = "venue.fill_model.feed_latency_file";
            let parse = super::fill_model::parse_feed_latency_csv;
            if let Some(rows) = read_rows(origin, text, &fm.feed_latency_file, key, parse)? {
                fm.feed_latency_table = rows;
            }
        }
        cfg.check(origin).map_err(|e| located(e, text))?;
        Ok(cfg)
    }
}

/// The rows `parse` reads from `file` (relative to the configuration at
/// `origin`, whose `text` locates an error at `key`); `None` without a file.
fn read_rows<T>(
    origin: &Path,
    text: &str,
    file: &Option<String>,
    key: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>, Error> {
    let Some(f) = file else { return Ok(None) };
    let p = origin.parent().unwrap_or(Path::new(".")).join(f);
    std::fs::read_to_string(&p)
        .map_err(|e| format!("cannot read {}: {e}", p.display()))
        .and_then(|t| parse(&t).map_err(|e| format!("{}: {e}", p.display())))
        .map(Some)
        .map_err(|m| located(Error::invalid(origin, key, m), text))
}

/// Fills in the line and column of a [`Error::ConfigInvalid`]'s key from the
/// text it was loaded from.
pub(crate) fn located(e: Error, text: &str) -> Error {
    match e {
        Error::ConfigInvalid {
            path,
            line: 0,
            key,
            message,
            ..
        } => {
            let (line, column) = super::locate::Locations::index(text).find(&key).unwrap_or((0, 0));
            Error::ConfigInvalid {
                path,
                line,
                column,
                key,
                message,
            }
        }
        Error::ConfigInvalidMany(all) => Error::ConfigInvalidMany(all.into_iter().map(|e| located(e, text)).collect()),
        e => e,
    }
}

fn parse_yaml<T: serde::de::DeserializeOwned>(text: &str, origin: &Path) -> Result<T, Error> {
    serde_yaml_ng::from_str(text).map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        // The position leads the error already; drop the parser's own copy of it.
        let message = e.to_string();
        let suffix = format!(" at line {line} column {column}");
        let message = message.strip_suffix(&suffix).unwrap_or(&message).to_string();
        // A syntax error names no key: name the last key read before it.
        let names_key = message.split_once(": ").is_some_and(|(k, _)| !k.contains(' '));
        let message = match super::locate::Locations::index(text).last_key_before(line, column) {
            Some(k) if !names_key => format!("after key `{k}`: {message}"),
            _ => message,
        };
        Error::ConfigParse {
            path: origin.to_path_buf(),
            line,
            column,
            message,
        }
    })
}
