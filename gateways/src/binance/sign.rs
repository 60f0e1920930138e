//! Signing Binance `SIGNED` requests, as Binance's API documentation describes it
//! (`rest-api.md` and `web-socket-api.md`, "SIGNED request security"):
//!
//! 1. the payload is the request's parameters as `name=value` pairs joined by `&`, in the
//!    order sent (REST) or sorted by name (WebSocket API), percent-encoded (every byte outside
//!    `A-Z a-z 0-9 - _ . ~` becomes `%XX`, so non-ASCII symbol names are signed encoded);
//! 2. HMAC keys: HMAC-SHA256 of the payload with the secret key, as lowercase hex;
//!    Ed25519 keys: the Ed25519 signature of the payload with the PKCS#8 private key, base64
//!    (which must be percent-encoded again when sent in a query string).
//!
//! Keys are [`Secret`]s; the Ed25519 key zeroizes itself when dropped. Nothing here formats a
//! key: a [`Signer`]'s `Debug` says which kind it is and nothing more.

use std::fmt;
use std::fmt::Write as _;

use base64::Engine as _;
use ed25519_dalek::pkcs8::DecodePrivateKey as _;
use ed25519_dalek::{Signer as _, SigningKey};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::secret::Secret;

/// Signs request payloads with one API key.
pub enum Signer {
    Hmac(Secret),
    Ed25519(Box<SigningKey>),
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Signer::Hmac(_) => f.write_str("Signer::Hmac(<redacted>)"),
            Signer::Ed25519(_) => f.write_str("Signer::Ed25519(<redacted>)"),
        }
    }
}

impl Signer {
    /// An HMAC key's secret.
    pub fn hmac(secret: Secret) -> Signer {
        Signer::Hmac(secret)
    }

    /// An Ed25519 private key in PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), unencrypted.
    pub fn ed25519_pem(pem: &Secret) -> Result<Signer, String> {
        SigningKey::from_pkcs8_pem(pem.expose())
            .map(|k| Signer::Ed25519(Box::new(k)))
            .map_err(|_| "the Ed25519 key is not an unencrypted PKCS#8 PEM private key".into())
    }

    /// The `signature` parameter for `payload`.
    pub fn sign(&self, payload: &str) -> String {
        let mut out = String::with_capacity(SIGNATURE_CAPACITY);
        self.sign_into(payload, &mut out);
        out
    }

    /// Appends the signature of `payload` to `out`: no allocation when `out` has room for
    /// [`SIGNATURE_CAPACITY`] more bytes (the order gateway's hot path).
    pub fn sign_into(&self, payload: &str, out: &mut String) {
        match self {
            Signer::Hmac(secret) => {
                // HMAC takes keys of any length: the error case cannot happen.
                let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()) else {
                    return;
                };
                mac.update(payload.as_bytes());
                // Lowercase hex by table: `write!` per byte costs more than the digest's last
                // block (`scripts/instructions.sh`, case sign_order).
                const HEX: &[u8; 16] = b"0123456789abcdef";
                for byte in mac.finalize().into_bytes() {
                    out.push(HEX[usize::from(byte >> 4)] as char);
                    out.push(HEX[usize::from(byte & 0x0f)] as char);
                }
            }
            Signer::Ed25519(key) => base64::engine::general_purpose::STANDARD
                .encode_string(key.sign(payload.as_bytes()).to_bytes(), out),
        }
    }
}

/// Room a signature needs: 64 hex digits (HMAC-SHA256), 88 base64 characters (Ed25519).
pub const SIGNATURE_CAPACITY: usize = 88;

/// The payload of `params`, in the order given (REST).
pub fn payload(params: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        percent_encode(name, &mut out);
        out.push('=');
        percent_encode(value, &mut out);
    }
    out
}

/// The payload of `params` sorted by name (WebSocket API).
pub fn payload_sorted(params: &[(&str, &str)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    payload(&sorted)
}

/// Appends `text` percent-encoded: unreserved characters as they are, every other byte of its
/// UTF-8 as `%XX` (upper-case hex, as in Binance's examples).
pub fn percent_encode(text: &str, out: &mut String) {
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// Binance's documented HMAC example (rest-api.md, "SIGNED Endpoint Examples for POST
/// /api/v3/order - HMAC Keys"): its key, its secret and its parameters, for the tests that
/// reproduce its signatures (here and in the test exchange's).
#[doc(hidden)]
pub mod binance_doc {
    pub const KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
    pub const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

    pub fn params(symbol: &str) -> Vec<(&str, &str)> {
        vec![
            ("symbol", symbol),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "1"),
            ("price", "0.1"),
            ("recvWindow", "5000"),
            ("timestamp", "1499827319559"),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::binance_doc::{params as doc_params, SECRET as DOC_SECRET};
    use super::*;
    use ed25519_dalek::pkcs8::EncodePrivateKey as _;
    use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};

    #[test]
    fn hmac_signatures_match_binances_documented_examples() {
        let signer = Signer::hmac(Secret::new(DOC_SECRET.into()));
        let ascii = payload(&doc_params("LTCBTC"));
        assert_eq!(
            ascii,
            "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
        );
        assert_eq!(
            signer.sign(&ascii),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
        // The non-ASCII example: the symbol is signed percent-encoded.
        let unicode = payload(&doc_params("１２３４５６"));
        assert!(
            unicode.starts_with(
                "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY"
            ),
            "{unicode}"
        );
        assert_eq!(
            signer.sign(&unicode),
            "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
        );
        assert_eq!(format!("{signer:?}"), "Signer::Hmac(<redacted>)");
    }

    fn from_hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 8032 section 7.1, TEST 1 and TEST 2: Binance publishes no private key for its
    /// Ed25519 example, so the signature primitive is checked against the standard's vectors,
    /// through the same PKCS#8 PEM loading the gateway uses.
    #[test]
    fn ed25519_signs_rfc8032_vectors_from_a_pkcs8_pem_key() {
        let vectors = [
            (
                "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
                "",
                "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
            ),
            (
                "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
                "r",
                "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
            ),
        ];
        for (secret, message, signature) in vectors {
            let seed: [u8; 32] = from_hex(secret).try_into().unwrap();
            let key = SigningKey::from_bytes(&seed);
            let pem = key.to_pkcs8_pem(Default::default()).unwrap();
            let signer = Signer::ed25519_pem(&Secret::new(pem.to_string())).unwrap();
            let got = signer.sign(message);
            let expected = base64::engine::general_purpose::STANDARD.encode(from_hex(signature));
            assert_eq!(got, expected, "RFC 8032 vector for {secret}");
        }
    }

    /// Binance's Ed25519 example request: its payload, signed and verified with the public key.
    #[test]
    fn ed25519_signs_binances_example_payload_verifiably() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let public: VerifyingKey = key.verifying_key();
        let pem = key.to_pkcs8_pem(Default::default()).unwrap();
        let signer = Signer::ed25519_pem(&Secret::new(pem.to_string())).unwrap();
        let params = [
            ("symbol", "BTCUSDT"),
            ("side", "SELL"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "1"),
            ("price", "0.2"),
            ("timestamp", "1668481559918"),
            ("recvWindow", "5000"),
        ];
        let p = payload(&params);
        assert_eq!(
            p,
            "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=1&price=0.2&timestamp=1668481559918&recvWindow=5000"
        );
        let signature = signer.sign(&p);
        assert_eq!(signature.len(), 88);
        let bytes: [u8; 64] = base64::engine::general_purpose::STANDARD
            .decode(&signature)
            .unwrap()
            .try_into()
            .unwrap();
        assert!(public
            .verify(p.as_bytes(), &Signature::from_bytes(&bytes))
            .is_ok());
        assert!(public
            .verify(b"symbol=BTCUSDT&side=BUY", &Signature::from_bytes(&bytes))
            .is_err());
        // The WebSocket API signs the parameters sorted by name.
        assert!(
            payload_sorted(&params).starts_with("price=0.2&quantity=1&recvWindow=5000&side=SELL")
        );
        assert_eq!(format!("{signer:?}"), "Signer::Ed25519(<redacted>)");
        let err = Signer::ed25519_pem(&Secret::new("not a key".into())).unwrap_err();
        assert!(!err.contains("not a key"), "{err}");
    }
}
