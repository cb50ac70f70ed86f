//! The wiring of a threaded run, built in the order data flows:
//!
//! ```text
//!  Topology::build
//!    groups     [ingest, sensory] ──ring 1──► [belief] ──ring 2──► [decide, encode]
//!    back ring   ◄──────────────── orders, Done(seq), Finish ─────────────┘
//!    cores       group k → runtime.cores[k] (unpinned if none)
//!    histograms  exit.<last stage of group k>, tick_to_order (last group)
//! ```
//!
//! Each group gets the stages it names (taken once from one set built from the
//! core's parameters), an end (the ring to the next group, or the encode stage
//! and the output observer), and its own counters and histogram.

use super::group::Wake;
use super::group::{End, Group, LastEnd, Local, MidStage, Outbox, ThreadCounters};
use super::hist::{hist_pair, HistFeed};
use crate::config::{Config, StageName, WaitStrategy};
use crate::core::live::LiveBoard;
use crate::core::stage::{BeliefStage, DecideStage, EncodeStage, Msg, SensoryStage};
use crate::error::Error;
use crate::runtime::link::RunObserver;
use crate::runtime::stats::thread;
use crate::runtime::StreamDigest;
use rtrb::{Consumer, Producer, RingBuffer};
use std::sync::{Arc, OnceLock};

/// A threaded run's groups, rings, wake-ups, pins and histogram feeds.
pub(super) struct Topology<OO: RunObserver> {
    /// The groups; group 0 is ingest's and runs on the calling thread.
    pub groups: Vec<Group<OO>>,
    /// The ring into group k, at index k (none into group 0).
    pub inbound: Vec<Option<Consumer<Msg>>>,
    /// The back ring from the last group to ingest (closed-loop runs only).
    pub back: Option<Consumer<Msg>>,
    /// Each group's thread, once it has started (for unparking it).
    pub wake: Vec<Arc<OnceLock<Wake>>>,
    /// The core each group is pinned to.
    pub cores: Vec<Option<usize>>,
    /// Each group's stages, `+`-joined, for the stats file.
    pub names: Vec<String>,
    /// The stats thread's end of each group's exit histogram.
    pub feeds: Vec<HistFeed>,
    /// The stats thread's end of the tick-to-order histogram.
    pub t2o: HistFeed,
    /// Each group's counters.
    pub counters: Vec<Arc<ThreadCounters>>,
    /// The live board the decide stage publishes to.
    pub board: Arc<LiveBoard>,
}

/// The stages of one core, handed out to groups once each.
struct StagePool {
    sensory: Option<SensoryStage>,
    belief: Option<BeliefStage>,
    decide: Option<DecideStage>,
    encode: Option<EncodeStage>,
}

impl StagePool {
    fn take(&mut self, names: &[StageName]) -> Vec<MidStage> {
        names
            .iter()
            .filter_map(|s| match s {
                StageName::Sensory => self.sensory.take().map(MidStage::Sensory),
                StageName::Belief => self.belief.take().map(MidStage::Belief),
                StageName::Decide => self.decide.take().map(MidStage::Decide),
                StageName::Ingest | StageName::Encode => None,
            })
            .collect()
    }
}

/// Checks that every pinned core exists on this host and is in this
/// process's affinity mask (a run checks it before it records anything).
pub fn check_cores(cores: &[usize]) -> Result<(), Error> {
    let available: Vec<usize> = core_affinity::get_core_ids()
        .unwrap_or_default()
        .iter()
        .map(|c| c.id)
        .collect();
    match cores.iter().find(|c| !available.contains(c)) {
        Some(c) => Err(Error::Core(
            *c,
            available.iter().map(usize::to_string).collect::<Vec<_>>().join(","),
        )),
        None => Ok(()),
    }
}

/// The name of a group's exit histogram: `exit.<its last stage>`, or
/// `exit.pipeline` for the group that ends with encode.
fn exit_name(group: &[StageName]) -> String {
    match group.last() {
        Some(StageName::Encode) | None => "exit.pipeline".to_string(),
        Some(s) => format!("exit.{}", s.name()),
    }
}

impl<OO: RunObserver> Topology<OO> {
    /// Wires `cfg.runtime`'s layout; `closed_loop` adds the back ring (a venue
    /// that answers orders); the last group's outputs go to `output`.
    pub fn build(cfg: &Config, closed_loop: bool, output: OO) -> Result<Self, Error> {
        let rt = &cfg.runtime;
        let layout = rt.layout.groups().map_err(Error::Layout)?;
        check_cores(&rt.cores)?;
        let n = layout.len();
        let wake: Vec<Arc<OnceLock<Wake>>> = (0..n).map(|_| Arc::new(OnceLock::new())).collect();

        // Ring k joins group k-1 to group k.
        let mut outbound: Vec<Option<Producer<Msg>>> = Vec::with_capacity(n);
        let mut inbound: Vec<Option<Consumer<Msg>>> = vec![None];
        for _ in 1..n {
            let (tx, rx) = RingBuffer::new(rt.ring_capacity);
            outbound.push(Some(tx));
            inbound.push(Some(rx));
        }
        outbound.push(None);
        let (mut back_tx, back) = if closed_loop {
            let (tx, rx) = RingBuffer::new(rt.ring_capacity.max(1 << 14));
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };

        let counters: Vec<Arc<ThreadCounters>> = (0..n).map(|_| Arc::new(ThreadCounters::default())).collect();
        let (slots, feeds): (Vec<_>, Vec<_>) = layout.iter().map(|g| hist_pair(exit_name(g))).unzip();
        let mut slots = slots.into_iter();
        let (t2o_slot, t2o) = hist_pair("tick_to_order".into());
        let params = cfg.core_params();
        let board = Arc::new(LiveBoard::new(
            cfg.instruments.iter().map(|i| i.symbol.clone()).collect(),
        ));
        let mut pool = StagePool {
            sensory: Some(SensoryStage::new(&params)),
            belief: Some(BeliefStage::new(&params)),
            decide: Some(DecideStage::new(&params).with_board(board.clone())),
            encode: Some(EncodeStage::new(&params)),
        };
        let unpark = rt.wait == WaitStrategy::Park;
        let mut last_end = Some((t2o_slot, output));
        let mut groups = Vec::with_capacity(n);
        for (k, stage_names) in layout.iter().enumerate() {
            let is_last = k + 1 == n;
            let end = match (is_last, outbound[k].take()) {
                (false, Some(tx)) => End::Ring(Outbox::new(tx, rt.batch, wake[k + 1].clone(), unpark, true)),
                _ => {
                    let (t2o_slot, obs) = last_end.take().expect("one last group");
                    End::Last(Box::new(LastEnd {
                        encode: pool.encode.take().expect("one encode stage"),
                        obs,
                        orders: StreamDigest::default(),
                        diary: StreamDigest::default(),
                        t2o: t2o_slot,
                        back_staged: Vec::with_capacity(rt.batch * 64),
                        done_stamps: Vec::with_capacity(rt.batch * 4),
                        finished: false,
                    }))
                }
            };
            let back_out = if is_last {
                back_tx
                    .take()
                    .map(|tx| Outbox::new(tx, rt.batch * 64, wake[0].clone(), unpark, false))
            } else {
                None
            };
            let mut local = Local::default();
            let ring = match &end {
                End::Ring(o) => Some(o),
                End::Last(_) => back_out.as_ref(),
            };
            if let Some(o) = ring {
                local.thread[thread::RING_CAPACITY] = o.capacity as u64;
            }
            groups.push(Group {
                stages: pool.take(stage_names),
                end,
                back: back_out,
                hist: slots.next().expect("one histogram per group"),
                local,
                counters: counters[k].clone(),
                clock: quanta::Clock::new(),
                wait: rt.wait,
                flushed_at: 0,
            });
        }
        Ok(Topology {
            groups,
            inbound,
            back,
            wake,
            cores: (0..n).map(|k| rt.cores.get(k).copied()).collect(),
            names: layout
                .iter()
                .map(|g| g.iter().map(|s| s.name()).collect::<Vec<_>>().join("+"))
                .collect(),
            feeds,
            t2o,
            counters,
            board,
        })
    }
}
