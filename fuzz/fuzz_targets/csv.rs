//! Any bytes as a CSV of quotes or trades: events or errors naming line and
//! column — never a panic, never a loop.
#![no_main]
use foxtrot_feed::csv::{CsvOptions, CsvReader, CsvShape, TsUnit};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for shape in [CsvShape::Quotes, CsvShape::Trades] {
        for unit in [TsUnit::Iso, TsUnit::Ns] {
            let mut o = CsvOptions::new(shape);
            o.ts_unit = unit;
            if let Ok(mut r) = CsvReader::new(data, o.clone()) {
                for _ in 0..=data.len() * 2 + 2 {
                    if let Ok(None) = r.next_event() {
                        break;
                    }
                }
            }
            o.header = false;
            o.columns = (0..o.columns.len()).map(|i| i.to_string()).collect();
            if let Ok(mut r) = CsvReader::new(data, o) {
                for _ in 0..=data.len() * 2 + 2 {
                    if let Ok(None) = r.next_event() {
                        break;
                    }
                }
            }
        }
    }
});
