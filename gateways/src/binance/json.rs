//! A zero-allocation reader for the small JSON objects the order gateway receives (WebSocket
//! API responses, execution reports): it walks one object's members and hands out raw value
//! slices, so the hot path needs no DOM and no allocator. Values are not unescaped: every field
//! the gateway reads (ids, symbols, decimals, enums) is plain ASCII, and a string with escapes
//! is handed out as written.
//!
//! It validates structure as it walks (balanced brackets, terminated strings, a `:` after each
//! key), so a malformed or truncated message is an error, never a wrong field.

/// One member's value, as a slice of the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// A string's content between the quotes, escapes left as written.
    Str(&'a [u8]),
    /// A number, `true`, `false` or `null`, as written.
    Atom(&'a [u8]),
    /// A nested object, braces included: walk it with [`fields`].
    Object(&'a [u8]),
    /// An array, brackets included: walk it with [`elements`].
    Array(&'a [u8]),
}

impl<'a> Value<'a> {
    /// The text of a string or an atom (a number may come either way).
    pub fn text(self) -> Option<&'a [u8]> {
        match self {
            Value::Str(s) | Value::Atom(s) => Some(s),
            _ => None,
        }
    }

    /// An unsigned integer, quoted or not.
    pub fn u64(self) -> Option<u64> {
        let t = self.text()?;
        if t.is_empty() || t.len() > 20 {
            return None;
        }
        let mut n: u64 = 0;
        for &b in t {
            if !b.is_ascii_digit() {
                return None;
            }
            n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        }
        Some(n)
    }

    /// A signed integer, quoted or not (Binance error codes are negative).
    pub fn i64(self) -> Option<i64> {
        let t = self.text()?;
        match t.split_first() {
            Some((b'-', rest)) => Value::Atom(rest)
                .u64()
                .and_then(|n| i64::try_from(n).ok())
                .map(|n| -n),
            _ => self.u64().and_then(|n| i64::try_from(n).ok()),
        }
    }

    pub fn bool(self) -> Option<bool> {
        match self {
            Value::Atom(b"true") => Some(true),
            Value::Atom(b"false") => Some(false),
            _ => None,
        }
    }
}

/// Why a message could not be walked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed;

fn skip_ws(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

/// The end (exclusive) of the string whose opening quote is at `i`.
fn string_end(s: &[u8], i: usize) -> Result<usize, Malformed> {
    let mut j = i + 1;
    while j < s.len() {
        match s[j] {
            b'\\' => j += 2,
            b'"' => return Ok(j + 1),
            _ => j += 1,
        }
    }
    Err(Malformed)
}

/// The end (exclusive) of the object or array opening at `i`, strings skipped.
fn nested_end(s: &[u8], i: usize) -> Result<usize, Malformed> {
    // Depth only: brackets of either kind must pair, which a counter per kind would miss, so
    // keep a small stack of what is open (messages nest a few levels deep at most).
    let mut stack = [0u8; 32];
    let mut depth = 0usize;
    let mut j = i;
    while j < s.len() {
        match s[j] {
            b'"' => {
                j = string_end(s, j)?;
                continue;
            }
            open @ (b'{' | b'[') => {
                if depth == stack.len() {
                    return Err(Malformed);
                }
                stack[depth] = if open == b'{' { b'}' } else { b']' };
                depth += 1;
            }
            close @ (b'}' | b']') => {
                if depth == 0 || stack[depth - 1] != close {
                    return Err(Malformed);
                }
                depth -= 1;
                if depth == 0 {
                    return Ok(j + 1);
                }
            }
            _ => {}
        }
        j += 1;
    }
    Err(Malformed)
}

/// The value starting at `i` (after whitespace) and where it ends.
fn value_at(s: &[u8], i: usize) -> Result<(Value<'_>, usize), Malformed> {
    let i = skip_ws(s, i);
    match s.get(i) {
        Some(b'"') => {
            let end = string_end(s, i)?;
            Ok((Value::Str(&s[i + 1..end - 1]), end))
        }
        Some(b'{') => {
            let end = nested_end(s, i)?;
            Ok((Value::Object(&s[i..end]), end))
        }
        Some(b'[') => {
            let end = nested_end(s, i)?;
            Ok((Value::Array(&s[i..end]), end))
        }
        Some(_) => {
            let mut j = i;
            while j < s.len() && !matches!(s[j], b',' | b'}' | b']' | b' ' | b'\r' | b'\n' | b'\t')
            {
                j += 1;
            }
            if j == i {
                return Err(Malformed);
            }
            Ok((Value::Atom(&s[i..j]), j))
        }
        None => Err(Malformed),
    }
}

/// Calls `f` with each member of the object `s` (the whole text of one object), in order.
pub fn fields<'a>(s: &'a [u8], mut f: impl FnMut(&'a [u8], Value<'a>)) -> Result<(), Malformed> {
    let mut i = skip_ws(s, 0);
    if s.get(i) != Some(&b'{') {
        return Err(Malformed);
    }
    i = skip_ws(s, i + 1);
    if s.get(i) == Some(&b'}') {
        return Ok(());
    }
    loop {
        if s.get(i) != Some(&b'"') {
            return Err(Malformed);
        }
        let key_end = string_end(s, i)?;
        let key = &s[i + 1..key_end - 1];
        i = skip_ws(s, key_end);
        if s.get(i) != Some(&b':') {
            return Err(Malformed);
        }
        let (value, end) = value_at(s, i + 1)?;
        f(key, value);
        i = skip_ws(s, end);
        match s.get(i) {
            Some(b',') => i = skip_ws(s, i + 1),
            Some(b'}') => return Ok(()),
            _ => return Err(Malformed),
        }
    }
}

/// Calls `f` with each element of the array `s`, in order.
pub fn elements<'a>(s: &'a [u8], mut f: impl FnMut(Value<'a>)) -> Result<(), Malformed> {
    let mut i = skip_ws(s, 0);
    if s.get(i) != Some(&b'[') {
        return Err(Malformed);
    }
    i = skip_ws(s, i + 1);
    if s.get(i) == Some(&b']') {
        return Ok(());
    }
    loop {
        let (value, end) = value_at(s, i)?;
        f(value);
        i = skip_ws(s, end);
        match s.get(i) {
            Some(b',') => i += 1,
            Some(b']') => return Ok(()),
            _ => return Err(Malformed),
        }
    }
}

/// The value of member `key` of object `s`, if present (the first, if repeated).
pub fn field<'a>(s: &'a [u8], key: &[u8]) -> Result<Option<Value<'a>>, Malformed> {
    let mut found = None;
    fields(s, |k, v| {
        if found.is_none() && k == key {
            found = Some(v);
        }
    })?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_a_binance_response_with_nested_members() {
        let msg = br#"{"id":"p17","status":200,"result":{"symbol":"BTCUSDT","orderId":12569099453,
            "fills":[{"price":"0.1","qty":"1"}],"isWorking":true},
            "rateLimits":[{"rateLimitType":"ORDERS","count":3}]}"#;
        let mut keys = Vec::new();
        fields(msg, |k, _| {
            keys.push(String::from_utf8_lossy(k).into_owned())
        })
        .unwrap();
        assert_eq!(keys, ["id", "status", "result", "rateLimits"]);
        assert_eq!(field(msg, b"id").unwrap(), Some(Value::Str(b"p17")));
        assert_eq!(
            field(msg, b"status").unwrap().and_then(Value::u64),
            Some(200)
        );
        let Some(Value::Object(result)) = field(msg, b"result").unwrap() else {
            panic!("result is an object");
        };
        assert_eq!(
            field(result, b"orderId").unwrap().and_then(Value::u64),
            Some(12_569_099_453)
        );
        assert_eq!(
            field(result, b"isWorking").unwrap().and_then(Value::bool),
            Some(true)
        );
        let Some(Value::Array(fills)) = field(result, b"fills").unwrap() else {
            panic!("fills is an array");
        };
        let mut n = 0;
        elements(fills, |v| {
            assert!(matches!(v, Value::Object(_)));
            n += 1;
        })
        .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn strings_hide_brackets_and_quotes() {
        let msg = br#"{"msg":"a } \" ] { [","code":-2010}"#;
        assert_eq!(
            field(msg, b"code").unwrap().and_then(Value::i64),
            Some(-2010)
        );
        assert_eq!(
            field(msg, b"msg").unwrap(),
            Some(Value::Str(br#"a } \" ] { ["#))
        );
    }

    #[test]
    fn malformed_and_truncated_messages_are_errors() {
        for bad in [
            &b""[..],
            b"[]",
            b"{",
            b"{\"a\"}",
            b"{\"a\":}",
            b"{\"a\":1",
            b"{\"a\":{\"b\":[1}}",
            b"{\"a\":\"unterminated}",
            b"{\"a\":1 \"b\":2}",
        ] {
            assert_eq!(fields(bad, |_, _| {}), Err(Malformed), "{bad:?}");
        }
        assert_eq!(field(b"{}", b"a"), Ok(None));
    }

    #[test]
    fn numbers_parse_strictly() {
        assert_eq!(Value::Str(b"18446744073709551615").u64(), Some(u64::MAX));
        assert_eq!(Value::Str(b"18446744073709551616").u64(), None);
        assert_eq!(Value::Atom(b"1.5").u64(), None);
        assert_eq!(Value::Atom(b"-1007").i64(), Some(-1007));
        assert_eq!(Value::Atom(b"-").i64(), None);
        assert_eq!(Value::Object(b"{}").u64(), None);
    }
}
