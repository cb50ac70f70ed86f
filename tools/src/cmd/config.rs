//! `foxtrot config`: check a configuration file, print the schema, render the
//! reference page.

use anyhow::Result;
use clap::{Args, Subcommand};
use foxtrot_engine::config::{docs, schema};
use foxtrot_engine::Config;
use std::path::PathBuf;

/// Arguments of `foxtrot config`.
#[derive(Args, Debug)]
pub struct ConfigArgs {
    #[command(subcommand)]
    what: ConfigCommand,
}

#[derive(Subcommand, Debug)]
enum ConfigCommand {
    /// Load and validate each FILE; print its config hash, or every error
    /// (file:line:column: key: message, one per line) and exit non-zero.
    Check {
        /// Configuration files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print the effective configuration (defaults filled in, secrets redacted).
        #[arg(long)]
        effective: bool,
    },
    /// Print the configuration's JSON Schema (draft 2020-12).
    Schema,
    /// Print the Markdown reference of every key (docs/config.md).
    Docs,
}

/// Runs `foxtrot config`.
pub fn run(a: ConfigArgs) -> Result<()> {
    match a.what {
        ConfigCommand::Check { files, effective } => {
            let mut failed = 0;
            for f in &files {
                match Config::load(f).and_then(|c| c.check_paths(f).map(|()| c)) {
                    Ok(c) => {
                        println!("{}: ok (config hash {})", f.display(), c.config_hash());
                        if effective {
                            print!("{}", c.canonical_text());
                        }
                    }
                    Err(e) if foxtrot_tools::logging::is_json() => {
                        tracing::error!(file = %f.display(), error = %e, "invalid configuration");
                        failed += 1;
                    }
                    Err(e) => {
                        eprintln!("{e}");
                        failed += 1;
                    }
                }
            }
            anyhow::ensure!(
                failed == 0,
                "{failed} of {} configuration files are not valid",
                files.len()
            );
        }
        ConfigCommand::Schema => {
            println!("{}", serde_json::to_string_pretty(&schema::json_schema())?);
        }
        ConfigCommand::Docs => print!("{}", docs::markdown()),
    }
    Ok(())
}
