//! The order gateway's REST fallback: Binance's `/api/v3/order` endpoints on a worker thread
//! beside the hot path. The gateway uses it when its WebSocket API session is down, for the
//! requests that cannot wait for the reconnect: cancels and status queries. (New orders are
//! refused while the session is down: without the user data stream their fills would go
//! unseen until the reconnect.)
//!
//! Calls and replies are fixed-size and cross SPSC rings: the hot thread formats and signs a
//! call into a [`RestCall`], the worker makes the blocking HTTP request with the
//! `X-MBX-APIKEY` header and pushes back a [`RestReply`] holding the status, the limit headers
//! and the body. Nothing allocates on the hot thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use pulse_feeds::rest::{header_value, request, status_and_head, RestError};
use pulse_feeds::ws::endpoint::Endpoint;

use crate::secret::Secret;

/// Longest request target (path and signed query): an order's parameters and an Ed25519
/// signature fit with room to spare.
pub const MAX_TARGET: usize = 768;
/// Longest body kept: one order's JSON is about 500 bytes.
pub const MAX_BODY: usize = 2048;
const RING: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestMethod {
    Get,
    Delete,
}

/// Hot thread → worker.
#[derive(Clone, Copy, Debug)]
pub struct RestCall {
    /// Opaque to the worker: the gateway's request kind, order and sequence.
    pub tag: u8,
    pub client_id: u64,
    pub seq: u64,
    pub method: RestMethod,
    target: [u8; MAX_TARGET],
    len: u16,
}

impl RestCall {
    /// `None` when `target` is longer than [`MAX_TARGET`].
    pub fn new(
        tag: u8,
        client_id: u64,
        seq: u64,
        method: RestMethod,
        target: &[u8],
    ) -> Option<RestCall> {
        if target.len() > MAX_TARGET {
            return None;
        }
        let mut buf = [0u8; MAX_TARGET];
        buf[..target.len()].copy_from_slice(target);
        Some(RestCall {
            tag,
            client_id,
            seq,
            method,
            target: buf,
            len: target.len() as u16,
        })
    }

    pub fn target(&self) -> &[u8] {
        &self.target[..self.len as usize]
    }
}

/// Worker → hot thread.
#[derive(Clone, Copy, Debug)]
pub struct RestReply {
    pub tag: u8,
    pub client_id: u64,
    pub seq: u64,
    /// The HTTP status; 0 when no response came (connect, TLS or I/O failure, timeout): the
    /// outcome is unknown.
    pub status: u16,
    /// `X-MBX-USED-WEIGHT-1M`, `X-MBX-ORDER-COUNT-10S`.
    pub weight: Option<u32>,
    pub orders_10s: Option<u32>,
    /// `Retry-After`, seconds (429 and 418).
    pub retry_after_s: Option<u32>,
    body: [u8; MAX_BODY],
    body_len: u16,
}

impl RestReply {
    /// The body (cut at [`MAX_BODY`]: a longer one is not an order and will not parse).
    pub fn body(&self) -> &[u8] {
        &self.body[..self.body_len as usize]
    }
}

/// The worker thread; stops when dropped.
pub struct RestFallback {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

/// The hot thread's ends of the rings.
pub struct RestLink {
    pub calls: rtrb::Producer<RestCall>,
    pub replies: rtrb::Consumer<RestReply>,
}

impl RestFallback {
    /// `base` is the REST host (`https://api.binance.com`).
    pub fn spawn(
        base: Endpoint,
        tls: Option<Arc<rustls::ClientConfig>>,
        api_key: &Secret,
        timeout: Duration,
    ) -> std::io::Result<(RestFallback, RestLink)> {
        let (calls_tx, mut calls) = rtrb::RingBuffer::<RestCall>::new(RING);
        let (mut replies, replies_rx) = rtrb::RingBuffer::<RestReply>::new(RING);
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = Arc::clone(&stop);
        // The header line with the key, built once; wiped when the thread ends.
        let mut key_header = zeroize::Zeroizing::new(Vec::with_capacity(64));
        key_header.extend_from_slice(b"X-MBX-APIKEY: ");
        key_header.extend_from_slice(api_key.expose().as_bytes());
        key_header.extend_from_slice(b"\r\n");
        let handle = std::thread::Builder::new()
            .name("pulse-rest-orders".into())
            .spawn(move || {
                let mut raw = Vec::with_capacity(16 << 10);
                let mut body = Vec::with_capacity(MAX_BODY);
                // Acquire: pairs with the Release in `drop`.
                while !stop_flag.load(Ordering::Acquire) {
                    let Ok(call) = calls.pop() else {
                        std::thread::sleep(Duration::from_micros(200));
                        continue;
                    };
                    let method: &[u8] = match call.method {
                        RestMethod::Get => b"GET",
                        RestMethod::Delete => b"DELETE",
                    };
                    let result = request(
                        &base,
                        tls.as_ref(),
                        method,
                        call.target(),
                        &key_header,
                        timeout,
                        &mut raw,
                    );
                    let reply = reply_of(&call, result, &raw, &mut body);
                    // The gateway drains replies every pass: wait rather than lose one.
                    let mut pending = reply;
                    loop {
                        match replies.push(pending) {
                            Ok(()) => break,
                            Err(rtrb::PushError::Full(back)) => {
                                // Acquire: as above; a full ring must not outlive `drop`.
                                if stop_flag.load(Ordering::Acquire) {
                                    return;
                                }
                                pending = back;
                                std::thread::sleep(Duration::from_millis(1));
                            }
                        }
                    }
                }
            })?;
        Ok((
            RestFallback {
                stop,
                handle: Some(handle),
            },
            RestLink {
                calls: calls_tx,
                replies: replies_rx,
            },
        ))
    }
}

/// The reply to `call` from its raw response; `body` is scratch, reused call after call.
fn reply_of(
    call: &RestCall,
    result: Result<(), RestError>,
    raw: &[u8],
    body: &mut Vec<u8>,
) -> RestReply {
    let mut reply = RestReply {
        tag: call.tag,
        client_id: call.client_id,
        seq: call.seq,
        status: 0,
        weight: None,
        orders_10s: None,
        retry_after_s: None,
        body: [0; MAX_BODY],
        body_len: 0,
    };
    if result.is_err() {
        return reply;
    }
    let Some((status, head)) = status_and_head(raw) else {
        return reply;
    };
    let number = |name: &[u8]| {
        header_value(head, name)
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|v| v.trim().parse::<u32>().ok())
    };
    reply.status = status;
    reply.weight = number(b"x-mbx-used-weight-1m");
    reply.orders_10s = number(b"x-mbx-order-count-10s");
    reply.retry_after_s = number(b"retry-after");
    // The body by Content-Length or to the end (the venue and Binance send one or the other
    // for these small answers; a chunked one is dechunked by `parse_response`).
    let _ = pulse_feeds::rest::parse_response(raw, body);
    let n = body.len().min(MAX_BODY);
    reply.body[..n].copy_from_slice(&body[..n]);
    reply.body_len = n as u16;
    reply
}

impl Drop for RestFallback {
    fn drop(&mut self) {
        // Release: the worker polls with Acquire.
        self.stop.store(true, Ordering::Release);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
