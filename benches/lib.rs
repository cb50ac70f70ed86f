//! Fixtures shared by the benches: realistic inputs recorded from a simulated
//! session, never synthetic zeros.
#![deny(missing_docs)]

use foxtrot_engine::records::{InputSlot, InputView, MarketData};
use foxtrot_engine::runtime::{FusedRun, RunObserver};
use foxtrot_engine::Config;
use foxtrot_gateway::SimWorld;

/// The default sim config with `events` market-data events.
pub fn sim_config(events: u64) -> Config {
    let mut c = Config::default_sim();
    c.gen.events = events;
    c
}

#[derive(Default)]
struct Recorder(Vec<InputSlot>);

impl RunObserver for Recorder {
    fn on_input(&mut self, slot: &InputSlot) {
        self.0.push(*slot);
    }
}

/// Every sequenced input of a fused sim run (market data, execution reports,
/// timers). Fed in order to a fresh `Core` with the same config, it reproduces the
/// run's decisions exactly — the replay property.
pub fn recorded_inputs(cfg: &Config) -> Vec<InputSlot> {
    let mut run = FusedRun::with_observer(cfg, SimWorld::new(cfg), Recorder::default());
    run.run_to_end();
    run.observer().0.clone()
}

/// The market data of one instrument from a sim run, in order, starting from an
/// empty book.
pub fn md_stream(cfg: &Config, instrument: u32) -> Vec<MarketData> {
    recorded_inputs(cfg)
        .iter()
        .filter_map(|s| match s.view() {
            Some(InputView::Md(m)) if m.header.instrument == instrument => Some(*m),
            _ => None,
        })
        .collect()
}
