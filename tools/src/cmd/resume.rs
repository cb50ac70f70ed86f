//! Which run a restart resumes from, wherever the last kill landed.
//!
//! A resumed run records its predecessor in `<run-dir>/resumed-from` before its
//! journal exists, and replays that predecessor's inputs before its own. So the
//! runs of a restart chain are prefixes of one another, and the one holding the
//! most inputs holds everything every earlier run decided on. `--resume DIR`
//! walks the chain back from DIR and takes that run: a run killed before it
//! journalled anything (no config record yet), or killed while replaying its
//! predecessor (a shorter prefix), is passed over instead of starting the core
//! from too little state — which would decide orders again under ClOrdIDs
//! already sent.
//!
//! A link also records how many inputs the run it names held (the highest
//! sequence number of its chain when the restart chose), with a check word.
//! So a predecessor whose directory is gone (deleted, moved, or named by a
//! damaged link) is judged, not taken for a run killed at its start: if a run
//! walked already holds those inputs the walk ends there; if not, the restart
//! is refused, naming the link — the missing run may hold orders and fills no
//! remaining run knows of.

use anyhow::{Context, Result};
use foxtrot_engine::journal::JournalInputs;
use std::path::{Path, PathBuf};

/// The file in a run directory naming the run it resumed from.
pub const RESUMED_FROM: &str = "resumed-from";
/// The file in a run directory holding its FIX ClOrdID epoch.
pub const EPOCH: &str = "clordid-epoch";
/// The file in a run directory naming the FIX session store it traded on.
pub const STORE: &str = "session-store";

/// A longer chain than this is taken as a loop of links.
const MAX_CHAIN: usize = 100_000;

/// The run a restart takes its state from.
pub struct Chosen {
    /// Its directory.
    pub dir: PathBuf,
    /// Its journalled configuration text.
    pub yaml: String,
    /// Its inputs.
    pub inputs: JournalInputs,
    /// The highest input sequence number it holds.
    pub last_seq: u64,
    /// Runs of the chain walked (the chosen one included).
    pub walked: usize,
    /// The ClOrdID epoch its chain traded under (`None`: none recorded, so
    /// none of its runs sent an order).
    pub epoch: Option<u64>,
}

/// The text of the file `name` in `dir` or, failing that, in the nearest run
/// before it in its chain, with the file's path (none: no run has one).
fn nearest(dir: &Path, name: &str) -> Result<Option<(PathBuf, String)>> {
    let mut d = Some(dir.to_path_buf());
    let mut n = 0;
    while let Some(x) = d {
        n += 1;
        anyhow::ensure!(n <= MAX_CHAIN, "{}: the resumed-from links form a loop", dir.display());
        let p = x.join(name);
        match std::fs::read_to_string(&p) {
            Ok(s) => return Ok(Some((p, s))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => d = predecessor(&x)?.map(|l| l.dir),
            Err(e) => return Err(e).with_context(|| format!("reading {}", p.display())),
        }
    }
    Ok(None)
}

/// The ClOrdID epoch recorded by `dir` or, failing that, by the nearest run
/// before it in its chain.
fn epoch_of(dir: &Path) -> Result<Option<u64>> {
    match nearest(dir, EPOCH)? {
        Some((p, s)) => parse_epoch(&s).map(Some).with_context(|| format!("{}", p.display())),
        None => Ok(None),
    }
}

/// Where `store` is: its canonical path, or (not made yet) its absolute one.
fn resolved(store: &Path) -> PathBuf {
    store
        .canonicalize()
        .or_else(|_| std::path::absolute(store))
        .unwrap_or_else(|_| store.to_path_buf())
}

/// Records the FIX session store a run trades on (its canonical path, one
/// line), before it sends anything.
pub fn record_store(record: &Path, store: &Path) -> Result<()> {
    let tmp = record.join(format!("{STORE}.tmp"));
    let text = format!("{}\n", resolved(store).display());
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, record.join(STORE)).with_context(|| format!("writing {}", record.display()))
}

/// Refuses a restart of `dir`'s chain on another session store than the one
/// its runs recorded trading on: that store holds neither the ClOrdIDs they
/// sent (every order of theirs would read as never sent: reported back
/// rejected while it works at the venue) nor the venue's sequence numbers. A
/// chain that recorded none (an older foxtrot's) is not checked.
pub fn check_store(dir: &Path, store: &Path) -> Result<()> {
    let Some((p, text)) = nearest(dir, STORE)? else {
        return Ok(());
    };
    let recorded = match text.strip_suffix('\n') {
        Some(line) if !line.is_empty() && !line.contains('\n') => PathBuf::from(line),
        _ => anyhow::bail!(
            "--resume: {} is damaged ({:?}): the session store the run traded on cannot be known from it; restore \
             it, or write the store's path in it",
            p.display(),
            text.chars().take(60).collect::<String>()
        ),
    };
    let given = resolved(store);
    anyhow::ensure!(
        given == recorded,
        "--resume: run {} traded on the session store {} ({}); this restart was given {}, which holds neither the \
         ClOrdIDs it sent nor the venue's sequence numbers. Restart with --session-store {} (without the option the \
         store is fix-store/SENDER-TARGET under the working directory)",
        dir.display(),
        recorded.display(),
        p.display(),
        given.display(),
        recorded.display()
    );
    Ok(())
}

/// The check word of epoch `e` in its file: a changed digit of the epoch would
/// otherwise read as another valid epoch, and a restart would trade, cancel and
/// reconcile under ClOrdIDs the venue never saw, leaving the real orders
/// working out of its control.
fn epoch_check(e: u64) -> u64 {
    xxhash_rust::xxh3::xxh3_64(format!("clordid-epoch {e}").as_bytes())
}

/// An epoch file's text, `EPOCH CHECK` (decimal, then 16 hex digits).
fn epoch_text(e: u64) -> String {
    format!("{e} {:016x}\n", epoch_check(e))
}

/// Reads [`epoch_text`]; anything else is damage (the text must be exactly
/// what its epoch's [`epoch_text`] is, so its check word is checked with it).
fn parse_epoch(text: &str) -> Result<u64> {
    match text.split(' ').next().and_then(|e| e.parse::<u64>().ok()) {
        Some(e) if text == epoch_text(e) => Ok(e),
        _ => anyhow::bail!(
            "damaged: not an epoch and its check ({:?}); the ClOrdIDs this run sent cannot be known from it. Resume \
             from another run of the chain, or start afresh without --resume (a new ClOrdID epoch) and reconcile \
             positions and open orders with the venue",
            text.chars().take(60).collect::<String>()
        ),
    }
}

/// Records the ClOrdID epoch a run trades under, before it sends anything.
pub fn record_epoch(record: &Path, epoch: u64) -> Result<()> {
    let tmp = record.join(format!("{EPOCH}.tmp"));
    std::fs::write(&tmp, epoch_text(epoch)).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, record.join(EPOCH)).with_context(|| format!("writing {}", record.display()))
}

fn orders_damaged(dir: &Path, e: &dyn std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!(
        "--resume: run {} has no ClOrdID epoch file, and its orders journal, which would say whether it traded, is \
         damaged ({e})",
        dir.display()
    )
}

/// Whether the run in `dir` recorded an order it decided (kind 19 in its
/// `orders` journal): a run records its epoch before it trades, so such a run
/// without an epoch file lost it.
fn decided_orders(dir: &Path) -> Result<bool> {
    let mut r = match foxtrot_shm::JournalReader::open(&dir.join("orders")) {
        Ok(r) => r,
        Err(foxtrot_shm::ShmError::NotAJournal(_)) => return Ok(false),
        Err(e) => return Err(orders_damaged(dir, &e)),
    };
    while let Some(rec) = r.next().map_err(|e| orders_damaged(dir, &e))? {
        if rec.kind == foxtrot_engine::records::Kind::Order as u16 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A run's link to the run it resumed from.
#[derive(Debug, PartialEq, Eq)]
pub struct Link {
    /// The predecessor's directory (as `--resume` named it).
    pub dir: PathBuf,
    /// The highest input sequence number of the predecessor's chain when the
    /// restart chose from it: what a run after it must hold for the
    /// predecessor to be missed without loss.
    pub holds: u64,
}

/// The check word of a link's text (its first two lines).
fn link_check(body: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(format!("resumed-from {body}").as_bytes())
}

/// A link's file text: the path, `holds N`, `check HEX`, a line each.
fn link_text(dir: &Path, holds: u64) -> String {
    let body = format!("{}\nholds {holds}\n", dir.display());
    format!("{body}check {:016x}\n", link_check(&body))
}

/// Reads [`link_text`]; anything else (a changed character, a link written
/// by a foxtrot before links carried their check) is damage.
fn parse_link(text: &str) -> Result<Link> {
    // The text must be exactly what its path and count write, check word
    // included: one comparison checks it all.
    let parsed = (|| {
        let (path, holds) = text.strip_suffix('\n')?.rsplit_once('\n')?.0.rsplit_once('\n')?;
        let holds = holds.strip_prefix("holds ")?.parse().ok()?;
        (text == link_text(Path::new(path), holds)).then(|| Link {
            dir: PathBuf::from(path),
            holds,
        })
    })();
    parsed.with_context(|| {
        format!(
            "damaged: not a link and its check ({:?}{}): which run this one resumed from, and how much it held, \
             cannot be known. Resume from a run of the chain whose link is sound, or start afresh without --resume \
             (a new ClOrdID epoch) and reconcile positions and open orders with the venue",
            text.chars().take(80).collect::<String>(),
            if text.lines().count() == 1 {
                "; a bare path is also what a foxtrot before links carried their count and check wrote"
            } else {
                ""
            }
        )
    })
}

/// The run's predecessor, if it recorded one.
fn predecessor(dir: &Path) -> Result<Option<Link>> {
    let p = dir.join(RESUMED_FROM);
    match std::fs::read_to_string(&p) {
        Ok(s) => parse_link(&s).map(Some).with_context(|| format!("{}", p.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", p.display())),
    }
}

/// The sequence number of a run's last journalled input (read from its last
/// segment only: restarts stay quick however long the chain); `None` when it has
/// no journal or no config record (killed before it wrote one). A damaged
/// journal is an error, not a run killed at its start: passed over, its
/// inputs — orders decided, fills received — would be missing from the
/// restart's state without a word.
fn measure(dir: &Path) -> Result<Option<u64>> {
    let inputs = dir.join("inputs");
    let last = match foxtrot_shm::JournalReader::open(&inputs).and_then(|mut r| r.last_seq()) {
        Ok(last) => last,
        Err(e) if is_damage(&e) => return Err(damaged(dir, &e)),
        Err(_) => return Ok(None),
    };
    match JournalInputs::open(dir) {
        Ok(_) => Ok(last),
        Err(foxtrot_engine::Error::Journal(e)) if is_damage(&e) => Err(damaged(dir, &e)),
        Err(_) => Ok(None),
    }
}

/// Whether `e` is damage to journalled records (not a journal that is absent,
/// not yet begun, or in use).
fn is_damage(e: &foxtrot_shm::ShmError) -> bool {
    matches!(
        e,
        foxtrot_shm::ShmError::Corrupt { .. } | foxtrot_shm::ShmError::Truncated { .. }
    )
}

fn damaged(dir: &Path, e: &dyn std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!(
        "--resume: run {} cannot be resumed from: its input journal is damaged ({e}). A restart must replay every \
         input it traded on; `foxtrot journal verify {}` shows the damage. Resume from an earlier run of the chain \
         that holds every order the FIX store shows, or start afresh without --resume (a new ClOrdID epoch) and \
         reconcile positions with the venue",
        dir.display(),
        dir.join("inputs").display()
    )
}

/// Reads every record of the chosen run's input journal, as `foxtrot journal
/// verify` does: the replay that follows must not stop short at damage in a
/// segment before its last (which [`measure`] does not read), trading on from
/// a state that missed the rest.
fn verify_inputs(dir: &Path) -> Result<()> {
    super::journal::check(&dir.join("inputs"))
        .map(|_| ())
        .map_err(|e| damaged(dir, &e))
}

/// Walks the chain back from `start` and opens the run with the most inputs (the
/// highest last sequence number; the latest of equals).
pub fn choose(start: &Path) -> Result<Chosen> {
    anyhow::ensure!(
        start.is_dir(),
        "--resume {}: no such run directory (a run killed before it started leaves none: resume from the one before it)",
        start.display()
    );
    let mut best: Option<(PathBuf, u64)> = None;
    let mut dir = Some(start.to_path_buf());
    let mut walked = 0;
    while let Some(d) = dir {
        walked += 1;
        anyhow::ensure!(
            walked <= MAX_CHAIN,
            "--resume {}: the resumed-from links form a loop",
            start.display()
        );
        match measure(&d)? {
            Some(last) if best.as_ref().is_none_or(|b| last > b.1) => best = Some((d.clone(), last)),
            Some(_) => {}
            None => {
                tracing::warn!(run = %d.display(), "run holds no journalled configuration (killed at its start); its predecessor is used")
            }
        }
        let link = predecessor(&d).map_err(|e| anyhow::anyhow!("--resume {}: {e:#}", start.display()))?;
        dir = match link {
            Some(l) if !l.dir.is_dir() => {
                let held = best.as_ref().map_or(0, |b| b.1);
                anyhow::ensure!(
                    held >= l.holds,
                    "--resume {}: run {} resumed from {}, which is missing, and no run after it holds the {} inputs that \
                     run's chain held ({held} at most): the missing run may hold orders and fills no other knows of. \
                     Restore it, or start afresh without --resume (a new ClOrdID epoch) and reconcile positions and \
                     open orders with the venue",
                    start.display(),
                    d.display(),
                    l.dir.display(),
                    l.holds
                );
                tracing::info!(run = %d.display(), missing = %l.dir.display(), inputs = l.holds, "the run it resumed from is missing; a later run holds every input it held");
                None
            }
            l => l.map(|l| l.dir),
        };
    }
    let (dir, last_seq) = best.with_context(|| {
        format!(
            "--resume {}: no run of its chain holds a journalled configuration",
            start.display()
        )
    })?;
    verify_inputs(&dir)?;
    let (yaml, inputs) = JournalInputs::open(&dir).with_context(|| format!("opening {}", dir.display()))?;
    let epoch = epoch_of(&dir)?;
    if epoch.is_none() && decided_orders(&dir)? {
        anyhow::bail!(
            "--resume: run {} decided orders but no run of its chain holds its ClOrdID epoch ({EPOCH} is missing): \
             the ClOrdIDs it sent cannot be known. Restore the file, or start afresh without --resume (a new ClOrdID \
             epoch) and reconcile positions and open orders with the venue",
            dir.display()
        );
    }
    Ok(Chosen {
        epoch,
        dir,
        yaml,
        inputs,
        last_seq,
        walked,
    })
}

/// Records in `record` (created if need be) that it resumes from `from`, whose
/// chain held inputs up to sequence number `holds` ([`Chosen::last_seq`]), before
/// its journal exists: a kill at any moment after leaves a chain [`choose`] can walk.
///
/// A new `record` directory appears with its link already inside: it is made
/// under a temporary name beside it and renamed into place (atomic), so a kill
/// between making the directory and writing the link cannot leave a run
/// directory that belongs to no chain (found by the kill loop: a run killed
/// there left `runN/` empty, and `--resume runN` had nothing to walk).
pub fn link(record: &Path, from: &Path, holds: u64) -> Result<()> {
    let from = from
        .canonicalize()
        .with_context(|| format!("resolving {}", from.display()))?;
    let text = link_text(&from, holds);
    if record.is_dir() {
        let tmp = record.join(format!("{RESUMED_FROM}.tmp"));
        std::fs::write(&tmp, &text).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, record.join(RESUMED_FROM)).with_context(|| format!("writing {}", record.display()))?;
        return Ok(());
    }
    let name = record
        .file_name()
        .with_context(|| format!("{}: not a directory name", record.display()))?;
    let parent = match record.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
    let tmp = parent.join(format!(".{}.linking-{}", name.to_string_lossy(), std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    std::fs::write(tmp.join(RESUMED_FROM), &text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, record).with_context(|| format!("creating {}", record.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every text one bit away from `text` (the changes that leave it UTF-8).
    fn one_bit_changes(text: &str) -> impl Iterator<Item = String> + '_ {
        (0..text.len() * 8).filter_map(|k| {
            let mut c = text.as_bytes().to_vec();
            c[k / 8] ^= 1 << (k % 8);
            String::from_utf8(c).ok()
        })
    }

    /// Every one-bit change of an epoch file is refused: none reads as an
    /// epoch (a digit changed by one bit used to read as another epoch: 4 of
    /// the 16 flips of `1\n`).
    #[test]
    fn no_bit_flip_of_an_epoch_file_reads_as_an_epoch() {
        for e in [0u64, 1, 7, 12, 255, 1 << 15] {
            let text = epoch_text(e);
            assert_eq!(parse_epoch(&text).unwrap(), e);
            for t in one_bit_changes(&text) {
                assert!(parse_epoch(&t).is_err(), "{text:?} → {t:?} read as an epoch");
            }
        }
        assert!(parse_epoch("1\n").is_err(), "a bare number carries no check");
        assert!(parse_epoch("").is_err());
    }

    /// Every one-bit change of a link is refused (a changed path would name
    /// another run, or none; a changed count would excuse a missing run).
    #[test]
    fn no_bit_flip_of_a_link_reads_as_a_link() {
        let text = link_text(Path::new("/runs/day-1"), 12_345);
        assert_eq!(
            parse_link(&text).unwrap(),
            Link {
                dir: "/runs/day-1".into(),
                holds: 12_345
            }
        );
        for t in one_bit_changes(&text) {
            assert!(parse_link(&t).is_err(), "{text:?} → {t:?} read as a link");
        }
        assert!(parse_link("/runs/day-1\n").is_err(), "a bare path carries no check");
    }

    /// A run directory holding a recorded `foxtrot sim` of `events` events,
    /// linked to `from` (whose chain held `holds` inputs) when given; returns
    /// its last input sequence number.
    fn recorded(dir: &Path, events: u64, from: Option<(&Path, u64)>) -> u64 {
        use foxtrot_engine::runtime::FusedRun;
        if let Some((f, holds)) = from {
            link(dir, f, holds).unwrap();
        }
        let mut cfg = foxtrot_engine::Config::default_sim();
        cfg.gen.events = events;
        let j = super::super::sim::new_journals(dir, &cfg).unwrap();
        let mut run = FusedRun::with_observer(&cfg, foxtrot_venue::SimWorld::new(&cfg), j);
        run.run_to_end();
        run.observer_mut().sync().unwrap();
        drop(run);
        record_epoch(dir, 0).unwrap();
        measure(dir).unwrap().expect("a recorded run has inputs")
    }

    /// A chain whose middle run is gone: the walk is refused when no later run
    /// holds what the gone run's chain held (a restart killed while replaying
    /// it), and ends at the gap when one does. Before links said how much
    /// their predecessor held, a missing run was taken for one killed at its
    /// start and the walk ended there without a word of loss.
    #[test]
    fn a_missing_predecessor_is_judged_by_what_its_chain_held() {
        let root = std::env::temp_dir().join(format!("foxtrot-resume-missing-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let (a, b, c) = (root.join("a"), root.join("b"), root.join("c"));
        let held = recorded(&a, 4_000, None);
        // b: killed while replaying a (fewer inputs); c: resumed from b,
        // choosing a (the longest of b's chain), and went past it.
        let short = recorded(&b, 1_000, Some((&a, held)));
        assert!(short < held);
        let long = recorded(&c, 8_000, Some((&b, held)));
        assert!(long > held);
        assert_eq!(choose(&b).unwrap().dir, a, "the longest run of the chain");
        std::fs::rename(&a, root.join("a-moved")).unwrap();
        let e = format!("{:#}", choose(&b).err().expect("b alone does not hold what a held"));
        assert!(
            e.contains("which is missing") && e.contains(&a.display().to_string()) && e.contains(&held.to_string()),
            "{e}"
        );
        let got = choose(&c).unwrap();
        assert_eq!((got.dir, got.last_seq), (c.clone(), long), "c holds everything a held");
        // A damaged link is refused, naming its file.
        let l = b.join(RESUMED_FROM);
        let text = std::fs::read_to_string(&l).unwrap();
        std::fs::write(&l, text.replacen("holds ", "holds 1", 1)).unwrap();
        let e = format!("{:#}", choose(&c).err().expect("a damaged link is refused"));
        assert!(e.contains("damaged") && e.contains(&l.display().to_string()), "{e}");
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// The store a chain traded on is found in the nearest run that recorded
    /// it; the same store (by any path to it) passes, another is refused
    /// naming both, a damaged record is refused naming its file, and a chain
    /// with no record (an older foxtrot's) is not checked.
    #[test]
    fn a_chain_resumes_only_on_the_store_it_recorded() {
        let root = std::env::temp_dir().join(format!("foxtrot-resume-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let (a, b, store) = (root.join("a"), root.join("b"), root.join("store"));
        for d in [&a, &store] {
            std::fs::create_dir_all(d).unwrap();
        }
        assert!(
            check_store(&a, &root.join("elsewhere")).is_ok(),
            "no record: not checked"
        );
        record_store(&a, &store).unwrap();
        link(&b, &a, 10).unwrap();
        check_store(&b, &store).unwrap();
        check_store(&b, &root.join("a").join("..").join("store")).unwrap();
        let e = format!("{:#}", check_store(&b, &root.join("other")).unwrap_err());
        assert!(
            e.contains(&store.canonicalize().unwrap().display().to_string()) && e.contains("other"),
            "{e}"
        );
        std::fs::write(a.join(STORE), "no newline").unwrap();
        let e = format!("{:#}", check_store(&b, &store).unwrap_err());
        assert!(
            e.contains("damaged") && e.contains(&a.join(STORE).display().to_string()),
            "{e}"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
