//! The texts the live feed parses besides market data: REST responses (status line, headers,
//! Content-Length and chunked bodies) and endpoint URLs. Never a panic; an accepted body is
//! never longer than the response and never above the cap.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pulse_feeds::rest::{parse_response, MAX_BODY_BYTES};
use pulse_feeds::ws::endpoint::Endpoint;

fuzz_target!(|data: &[u8]| {
    let mut body = Vec::new();
    if parse_response(data, &mut body).is_ok() {
        assert!(body.len() <= data.len());
        assert!(body.len() <= MAX_BODY_BYTES);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(endpoint) = Endpoint::parse(text) {
            assert!(!endpoint.host.is_empty());
            assert!(endpoint.path.starts_with('/'));
            let _ = endpoint.host_header();
            let _ = endpoint.server_name();
        }
    }
});
