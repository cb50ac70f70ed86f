//! `foxtrot ctl`: an operator's controls over a running engine — kill,
//! re-arm, reduce-only, halt and resume an instrument, status — and the control
//! server `foxtrot run` starts for them (every run but one from a recorded
//! journal, `--from`).
//!
//! The channel is a Unix stream socket at `<stats file>.ctl`, linked from
//! `<run-dir>/ctl.sock` for a recorded run. It is made mode 0600 (only the engine's user may
//! command it). One line in (`kill`, `rearm`, `reduce-only`, `halt SYMBOL`,
//! `resume SYMBOL`, `status`), the answer out. A command enters the pipeline as
//! a journalled input ([`Controlled`](foxtrot_engine::runtime::control::Controlled)),
//! and is acknowledged once the decide stage has applied it, with the engine's
//! resulting state as the live board shows it.

use super::stat::live_text;
use anyhow::{Context, Result};
use clap::Args;
use foxtrot_engine::records::CommandKind;
use foxtrot_engine::runtime::control::CommandSender;
use foxtrot_engine::runtime::stats::StatsReader;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a command may take to be applied before the answer says so.
const APPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// Arguments of `foxtrot ctl`.
#[derive(Args, Debug)]
pub struct CtlArgs {
    /// The engine: its run directory (`--record`), its stats file, or the socket.
    target: PathBuf,
    /// `kill`, `rearm`, `reduce-only`, `halt`, `resume` or `status`.
    #[arg(value_parser = ["kill", "rearm", "reduce-only", "halt", "resume", "status"])]
    command: String,
    /// The instrument, for `halt` and `resume`.
    symbol: Option<String>,
}

/// The control socket of the engine writing the stats file `stats`.
pub fn socket_path(stats: &Path) -> PathBuf {
    PathBuf::from(format!("{}.ctl", stats.display()))
}

/// Runs `foxtrot ctl`.
pub fn run(a: CtlArgs) -> Result<()> {
    let sock = if a.target.is_dir() {
        a.target.join("ctl.sock")
    } else if a.target.extension().is_some_and(|e| e == "sock" || e == "ctl") {
        a.target.clone()
    } else {
        PathBuf::from(format!("{}.ctl", a.target.display()))
    };
    let needs_symbol = matches!(a.command.as_str(), "halt" | "resume");
    anyhow::ensure!(
        needs_symbol == a.symbol.is_some(),
        "{} {}",
        a.command,
        if needs_symbol {
            "needs a SYMBOL"
        } else {
            "takes no SYMBOL"
        }
    );
    let mut s = UnixStream::connect(&sock)
        .with_context(|| format!("connecting to {} (is the engine running?)", sock.display()))?;
    s.set_read_timeout(Some(APPLY_TIMEOUT + Duration::from_secs(5)))?;
    let line = match &a.symbol {
        Some(sym) => format!("{} {sym}\n", a.command),
        None => format!("{}\n", a.command),
    };
    s.write_all(line.as_bytes())?;
    s.shutdown(std::net::Shutdown::Write)?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).context("reading the engine's answer")?;
    print!("{answer}");
    anyhow::ensure!(!answer.starts_with("error"), "the engine refused the command");
    Ok(())
}

/// The control server of a running engine; removes its socket when dropped.
pub struct ControlServer {
    path: PathBuf,
    link: Option<PathBuf>,
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.path);
        if let Some(l) = &self.link {
            let _ = std::fs::remove_file(l);
        }
    }
}

/// Serves the socket of the engine writing `stats` (linked from
/// `record/ctl.sock` when it records), sending commands through `tx`
/// (instruments by `symbols`' order).
pub fn serve(record: Option<&Path>, stats: PathBuf, symbols: Vec<String>, tx: CommandSender) -> Result<ControlServer> {
    let path = socket_path(&stats);
    // A socket left by a killed engine is stale; a live one answers.
    if UnixStream::connect(&path).is_ok() {
        anyhow::bail!("{}: another engine is serving this control socket", path.display());
    }
    let _ = std::fs::remove_file(&path);
    let listener =
        UnixListener::bind(&path).with_context(|| format!("binding the control socket {}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("making {} mode 0600", path.display()))?;
    listener.set_nonblocking(true)?;
    let link = match record {
        Some(d) => {
            let l = d.join("ctl.sock");
            let _ = std::fs::remove_file(&l);
            let target = path.canonicalize().unwrap_or_else(|_| path.clone());
            std::os::unix::fs::symlink(&target, &l).with_context(|| format!("linking {}", l.display()))?;
            Some(l)
        }
        None => None,
    };
    tracing::info!(socket = %path.display(), "operator controls (foxtrot ctl)");
    let done = Arc::new(AtomicBool::new(false));
    let d = done.clone();
    let thread = std::thread::Builder::new().name("ctl".into()).spawn(move || {
        let mut tx = tx;
        while !d.load(Ordering::Acquire) {
            match listener.accept() {
                Ok((conn, _)) => {
                    if let Err(e) = answer(conn, &stats, &symbols, &mut tx) {
                        tracing::warn!(error = %e, "control connection");
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => {
                    tracing::warn!(error = %e, "control socket");
                    std::thread::sleep(Duration::from_millis(200))
                }
            }
        }
    })?;
    Ok(ControlServer {
        path,
        link,
        done,
        thread: Some(thread),
    })
}

/// Commands applied so far, and the live board as text.
fn board(stats: &Path) -> Result<(u64, String)> {
    let s = StatsReader::open(stats)?.read()?;
    let l = s.live_figures().context("the stats file has no live board yet")?;
    Ok((l.commands, live_text(&l)))
}

/// The longest command line read from a control connection (bytes).
const MAX_LINE: u64 = 256;

fn answer(conn: UnixStream, stats: &Path, symbols: &[String], tx: &mut CommandSender) -> Result<()> {
    conn.set_nonblocking(false)?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut line = String::new();
    // One short line: a peer that sends more (or no newline) is cut off at
    // the bound, not buffered without end inside the engine.
    BufReader::new((&conn).take(MAX_LINE)).read_line(&mut line)?;
    let mut w = &conn;
    let mut words = line.split_whitespace();
    let (cmd, sym) = (words.next().unwrap_or(""), words.next());
    let kind = match cmd {
        "status" => {
            let text = match board(stats) {
                Ok((_, t)) => t,
                Err(e) => format!("error: {e:#}\n"),
            };
            return Ok(w.write_all(text.as_bytes())?);
        }
        "kill" => CommandKind::Kill,
        "rearm" => CommandKind::Rearm,
        "reduce-only" => CommandKind::ReduceOnly,
        "halt" => CommandKind::Halt,
        "resume" => CommandKind::Resume,
        other => {
            return Ok(writeln!(w, "error: unknown command {other:?}")?);
        }
    };
    let instrument = match (kind, sym) {
        (CommandKind::Halt | CommandKind::Resume, Some(s)) => match symbols.iter().position(|x| x == s) {
            Some(i) => i as u32,
            None => {
                return Ok(writeln!(
                    w,
                    "error: no instrument {s:?} (configured: {})",
                    symbols.join(" ")
                )?)
            }
        },
        (CommandKind::Halt | CommandKind::Resume, None) => {
            return Ok(writeln!(w, "error: {cmd} needs a symbol")?);
        }
        _ => 0,
    };
    let before = board(stats).map(|(n, _)| n).unwrap_or(0);
    if !tx.send(kind, instrument) {
        return Ok(writeln!(w, "error: the pipeline is not taking commands")?);
    }
    tracing::warn!(command = kind.name(), symbol = sym.unwrap_or(""), "operator command");
    let t0 = Instant::now();
    loop {
        if let Ok((n, text)) = board(stats) {
            if n > before {
                write!(
                    w,
                    "ok: {cmd}{} applied\n{text}",
                    sym.map(|s| format!(" {s}")).unwrap_or_default()
                )?;
                return Ok(());
            }
        }
        if t0.elapsed() > APPLY_TIMEOUT {
            return Ok(writeln!(
                w,
                "error: {cmd} queued but not applied within {APPLY_TIMEOUT:?}"
            )?);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A peer that sends a long line with no newline, and keeps the
    /// connection open, is answered once [`MAX_LINE`] bytes are read: not
    /// buffered until it stops (or the read times out).
    #[test]
    fn an_endless_line_is_cut_at_the_bound_and_answered() {
        let (engine_end, mut peer) = UnixStream::pair().unwrap();
        use foxtrot_engine::runtime::{control::Controlled, Sequenced};
        let (_, mut tx) = Controlled::new(Sequenced(std::iter::empty()));
        peer.write_all(&[b'x'; 10_000]).unwrap();
        let stats = std::env::temp_dir().join("foxtrot-ctl-no-stats");
        answer(engine_end, &stats, &[], &mut tx).expect("answered, not timed out");
        let mut reply = vec![0u8; 400];
        let n = peer.read(&mut reply).unwrap();
        let reply = String::from_utf8_lossy(&reply[..n]);
        assert!(reply.starts_with("error: unknown command \"xxx"), "{reply}");
        assert!(n < MAX_LINE as usize + 40, "{n} bytes: the whole line was read");
    }
}
