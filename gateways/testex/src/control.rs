//! Binance's WebSocket control messages: `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`,
//! `SET_PROPERTY` / `GET_PROPERTY` (`combined`), answered as Binance answers them. Anything
//! else gets Binance's error shape: `{"error":{"code":2,"msg":"Invalid request: ..."},"id":..}`.

use std::collections::BTreeSet;

use serde_json::Value;

const METHODS: &str =
    "expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`";

/// What one connection receives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Subscriptions {
    pub streams: BTreeSet<String>,
    /// Frames wrapped as `{"stream":..,"data":..}` (`/stream`) or the payload alone (`/ws`).
    pub combined: bool,
}

impl Subscriptions {
    pub fn wants(&self, stream: &str) -> bool {
        self.streams.contains(stream)
    }

    /// Handles one text message from the client and returns the reply.
    pub fn handle(&mut self, text: &str) -> String {
        let request: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => return error(3, &format!("Invalid JSON: {e}"), &Value::Null),
        };
        let Some(fields) = request.as_object() else {
            return error(2, "Invalid request: expected a JSON object", &Value::Null);
        };
        let id = match fields.get("id") {
            Some(id) if valid_id(id) => id.clone(),
            _ => {
                return error(
                    2,
                    "Invalid request: request ID must be an unsigned integer",
                    &Value::Null,
                )
            }
        };
        let Some(method) = fields.get("method") else {
            return error(2, "Invalid request: missing field `method`", &id);
        };
        let params = fields.get("params").and_then(Value::as_array);
        match method.as_str().unwrap_or("") {
            "SUBSCRIBE" | "UNSUBSCRIBE" => {
                let Some(names) = params.and_then(|p| stream_names(p)) else {
                    return error(2, "Invalid request: params must be stream names", &id);
                };
                for name in names {
                    if method == "SUBSCRIBE" {
                        self.streams.insert(name.to_string());
                    } else {
                        self.streams.remove(name);
                    }
                }
                result("null", &id)
            }
            "LIST_SUBSCRIPTIONS" => {
                let list: Vec<Value> = self
                    .streams
                    .iter()
                    .map(|s| Value::from(s.as_str()))
                    .collect();
                result(&Value::from(list).to_string(), &id)
            }
            "SET_PROPERTY" | "GET_PROPERTY" => self.property(method == "SET_PROPERTY", params, &id),
            other => {
                let name = if method.is_string() {
                    format!("`{other}`")
                } else {
                    method.to_string()
                };
                let msg = format!("Invalid request: unknown variant {name}, {METHODS}");
                error(2, &msg, &id)
            }
        }
    }

    fn property(&mut self, set: bool, params: Option<&Vec<Value>>, id: &Value) -> String {
        let params = params.map_or(&[][..], |p| p.as_slice());
        let Some(name) = params.first().and_then(Value::as_str) else {
            return error(2, "Invalid request: property name must be a string", id);
        };
        if name != "combined" {
            return error(0, "Unknown property", id);
        }
        if !set {
            return result(if self.combined { "true" } else { "false" }, id);
        }
        match params.get(1).and_then(Value::as_bool) {
            Some(combined) => {
                self.combined = combined;
                result("null", id)
            }
            None => error(1, "Invalid value type: expected Boolean", id),
        }
    }
}

/// Binance accepts a 64-bit integer, an alphanumeric string of up to 36 characters, or null.
fn valid_id(id: &Value) -> bool {
    match id {
        Value::Null => true,
        Value::Number(n) => n.is_i64() || n.is_u64(),
        Value::String(s) => s.len() <= 36 && s.bytes().all(|b| b.is_ascii_alphanumeric()),
        _ => false,
    }
}

fn stream_names(params: &[Value]) -> Option<Vec<&str>> {
    params
        .iter()
        .map(|p| p.as_str().filter(|s| !s.is_empty()))
        .collect()
}

/// `{"result":..,"id":..}`, `result` already JSON; Binance puts `result` first.
fn result(result: &str, id: &Value) -> String {
    format!("{{\"result\":{result},\"id\":{id}}}")
}

fn error(code: i32, msg: &str, id: &Value) -> String {
    let msg = Value::from(msg);
    format!("{{\"error\":{{\"code\":{code},\"msg\":{msg}}},\"id\":{id}}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribe_list_unsubscribe_as_binance_answers() {
        let mut subs = Subscriptions::default();
        assert_eq!(
            subs.handle(
                r#"{"method":"SUBSCRIBE","params":["btcusdt@trade","btcusdt@depth@100ms"],"id":1}"#
            ),
            r#"{"result":null,"id":1}"#
        );
        assert!(subs.wants("btcusdt@trade") && !subs.wants("btcusdt@bookTicker"));
        assert_eq!(
            subs.handle(r#"{"method":"LIST_SUBSCRIPTIONS","id":"a7"}"#),
            r#"{"result":["btcusdt@depth@100ms","btcusdt@trade"],"id":"a7"}"#
        );
        assert_eq!(
            subs.handle(r#"{"method":"UNSUBSCRIBE","params":["btcusdt@trade"],"id":null}"#),
            r#"{"result":null,"id":null}"#
        );
        assert!(!subs.wants("btcusdt@trade"));
    }

    #[test]
    fn the_combined_property() {
        let mut subs = Subscriptions::default();
        assert_eq!(
            subs.handle(r#"{"method":"GET_PROPERTY","params":["combined"],"id":2}"#),
            r#"{"result":false,"id":2}"#
        );
        assert_eq!(
            subs.handle(r#"{"method":"SET_PROPERTY","params":["combined",true],"id":5}"#),
            r#"{"result":null,"id":5}"#
        );
        assert!(subs.combined);
        assert_eq!(
            subs.handle(r#"{"method":"SET_PROPERTY","params":["combined","yes"],"id":5}"#),
            r#"{"error":{"code":1,"msg":"Invalid value type: expected Boolean"},"id":5}"#
        );
        assert_eq!(
            subs.handle(r#"{"method":"GET_PROPERTY","params":["colour"],"id":6}"#),
            r#"{"error":{"code":0,"msg":"Unknown property"},"id":6}"#
        );
    }

    #[test]
    fn anything_else_gets_binance_errors() {
        let mut subs = Subscriptions::default();
        for (text, code) in [
            ("hello", 3),
            ("[1,2]", 2),
            (r#"{"method":"SUBSCRIBE","params":["a"]}"#, 2),
            (r#"{"method":"SUBSCRIBE","params":["a"],"id":{"x":1}}"#, 2),
            (r#"{"params":["a"],"id":1}"#, 2),
            (r#"{"method":"SUBSCRIBEE","params":["a"],"id":1}"#, 2),
            (r#"{"method":"SUBSCRIBE","params":[3],"id":1}"#, 2),
            (r#"{"method":"SUBSCRIBE","id":1}"#, 2),
        ] {
            let reply: Value = serde_json::from_str(&subs.handle(text)).unwrap();
            assert_eq!(reply["error"]["code"], code, "{text}: {reply}");
            assert!(reply["error"]["msg"].is_string(), "{text}");
        }
        assert!(subs.streams.is_empty());
        assert_eq!(
            subs.handle(r#"{"method":"NOPE","id":9}"#),
            format!(
                r#"{{"error":{{"code":2,"msg":"Invalid request: unknown variant `NOPE`, {METHODS}"}},"id":9}}"#
            )
        );
    }
}
