//! The requests' wire form: each request's `id` names its kind and sequence number
//! (`{tag}{seq}`), and the text is written and signed into buffers reserved at start.

use std::fmt::Write as _;

use super::sign::{percent_encode, Signer, SIGNATURE_CAPACITY};

const REQUEST_BUFFER: usize = 1024;

/// What a request asks, as its `id`'s tag tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Place,
    Cancel,
    /// `order.cancelReplace`: a cancel and the new order that replaces it, atomically.
    Replace,
    /// Risk's query: answered with a status report.
    Query,
    /// The gateway's own status check (reconnect, cancel in doubt): reports only changes.
    Check,
    /// `account.status`: balances, compared with the positions reported.
    Account,
    Time,
    Subscribe,
}

impl Kind {
    pub(super) fn tag(self) -> u8 {
        match self {
            Kind::Place => b'p',
            Kind::Cancel => b'c',
            Kind::Replace => b'r',
            Kind::Query => b'q',
            Kind::Check => b'k',
            Kind::Account => b'a',
            Kind::Time => b't',
            Kind::Subscribe => b's',
        }
    }

    pub(super) fn from_tag(tag: u8) -> Option<Kind> {
        Some(match tag {
            b'p' => Kind::Place,
            b'c' => Kind::Cancel,
            b'r' => Kind::Replace,
            b'q' => Kind::Query,
            b'k' => Kind::Check,
            b'a' => Kind::Account,
            b't' => Kind::Time,
            b's' => Kind::Subscribe,
            _ => return None,
        })
    }
}

/// A request written into buffers reserved at start: the JSON text sent (`out`) and the
/// payload that is signed (`payload`: `name=value` pairs joined by `&`, in name order).
pub(super) struct RequestWriter {
    pub(super) out: String,
    payload: String,
    /// A REST call's signature, before it is percent-encoded into the query.
    signature: String,
}

impl RequestWriter {
    pub(super) fn new() -> RequestWriter {
        RequestWriter {
            out: String::with_capacity(REQUEST_BUFFER),
            payload: String::with_capacity(REQUEST_BUFFER),
            signature: String::with_capacity(SIGNATURE_CAPACITY),
        }
    }

    /// `{"id":"<tag><seq>","method":"<method>","params":{`, then the API key of a signed
    /// request (the first parameter in name order).
    pub(super) fn begin(&mut self, kind: Kind, seq: u64, method: &str, api_key: Option<&str>) {
        self.out.clear();
        self.payload.clear();
        let _ = write!(
            self.out,
            "{{\"id\":\"{}{seq}\",\"method\":\"{method}\",\"params\":{{",
            kind.tag() as char
        );
        if let Some(key) = api_key {
            // The key cannot hold a quote: it was checked when the gateway was built.
            self.param("apiKey", format_args!("{key}"), true);
        }
    }

    /// One parameter, in the payload and in the JSON. Values are ASCII without quotes or
    /// escapes (symbols, decimals, enums, ids, the key), so neither needs encoding.
    pub(super) fn param(&mut self, name: &str, value: std::fmt::Arguments<'_>, quoted: bool) {
        if !self.payload.is_empty() {
            self.payload.push('&');
            self.out.push(',');
        }
        let _ = write!(self.payload, "{name}={value}");
        if quoted {
            let _ = write!(self.out, "\"{name}\":\"{value}\"");
        } else {
            let _ = write!(self.out, "\"{name}\":{value}");
        }
    }

    /// The signature of the payload, as the last parameter.
    pub(super) fn sign(&mut self, signer: &Signer) {
        let sep = if self.payload.is_empty() { "" } else { "," };
        let _ = write!(self.out, "{sep}\"signature\":\"");
        signer.sign_into(&self.payload, &mut self.out);
        self.out.push('"');
    }

    /// Closes the parameters and the request.
    pub(super) fn close(&mut self) {
        self.out.push_str("}}");
    }

    /// A REST target, `/api/v3/order?<query>&signature=<signature>`: REST signs the query
    /// string exactly as sent, and the signature goes percent-encoded (an Ed25519 signature is
    /// base64: `+`, `/` and `=`; an HMAC one is hex and passes unchanged).
    pub(super) fn rest_query(&mut self, signer: &Signer, query: std::fmt::Arguments<'_>) {
        self.payload.clear();
        let _ = write!(self.payload, "{query}");
        self.out.clear();
        let _ = write!(self.out, "/api/v3/order?{}&signature=", self.payload);
        self.signature.clear();
        signer.sign_into(&self.payload, &mut self.signature);
        percent_encode(&self.signature, &mut self.out);
    }
}
