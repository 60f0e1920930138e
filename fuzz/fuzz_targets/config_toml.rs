//! The strict TOML config over arbitrary text: a `Config` or one `ConfigError`, never a panic,
//! and an error's line is a line of the text.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(err) = pulse_engine::config::parse(text, Path::new("/fuzz")) {
        let _ = err.to_string();
        if let Some(line) = err.line {
            let lines = text.lines().count().max(1);
            assert!(
                (1..=lines + 1).contains(&line),
                "line {line} of {lines}: {err}"
            );
        }
    }
});
