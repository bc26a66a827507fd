//! Any bytes as a profile: loading must never panic, and whatever validation accepts must render
//! to one well-formed YAML document per chart.
#![no_main]

use eksmon::settings::Chart;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(loaded) = eksmon::profile::check_text("fuzz.yaml", text, &Chart::ALL) else {
        return;
    };
    for chart in Chart::ALL {
        let document = eksmon::render::values_document(&loaded.settings, chart)
            .expect("an accepted profile renders");
        let parsed = eksmon::yaml::parse_all(&document).expect("rendered values are YAML");
        assert_eq!(parsed.len(), 1, "one document per chart");
    }
});
