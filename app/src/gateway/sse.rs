//! Relays an upstream's server-sent events to the client event by event, as
//! they arrive: each chunk names the client's model (not the upstream's),
//! the usage the upstream reports is noted (and passed on only when the
//! client asked for it), and the final `data: [DONE]` is held back so the
//! call's record is committed before the client sees the end.

use serde_json::Value;

/// The longest event taken; a longer one breaks the stream.
pub const MAX_EVENT: usize = 1024 * 1024;

/// (prompt tokens, completion tokens) from a `usage` object, when both are
/// there as whole numbers of zero or more.
pub fn usage_of(v: &Value) -> Option<(i64, i64)> {
    let u = v.get("usage")?.as_object()?;
    let n = |k: &str| u.get(k)?.as_i64().filter(|n| *n >= 0);
    Some((n("prompt_tokens")?, n("completion_tokens")?))
}

/// Puts the client's model name in place of the upstream's.
pub fn rename_model(v: &mut Value, model: &str) {
    if let Some(m) = v.get_mut("model") {
        *m = Value::String(model.to_string());
    }
}

pub struct Relay {
    model: String,
    client_wants_usage: bool,
    pending: Vec<u8>,
    data: Vec<String>,
    comment: bool,
    /// The upstream sent `data: [DONE]`.
    pub done: bool,
    /// The usage the upstream reported, if it did.
    pub usage: Option<(i64, i64)>,
}

/// The stream cannot be relayed (an event longer than `MAX_EVENT`).
#[derive(Debug, PartialEq, Eq)]
pub struct Broken;

impl Relay {
    pub fn new(model: &str, client_wants_usage: bool) -> Relay {
        Relay {
            model: model.to_string(),
            client_wants_usage,
            pending: Vec::new(),
            data: Vec::new(),
            comment: false,
            done: false,
            usage: None,
        }
    }

    /// Takes the next bytes from the upstream; returns what to send the
    /// client now (whole events only).
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<u8>, Broken> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut start = 0;
        while let Some(nl) = self.pending[start..].iter().position(|b| *b == b'\n') {
            let end = start + nl;
            let line = &self.pending[start..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let line = String::from_utf8_lossy(line).into_owned();
            start = end + 1;
            if line.is_empty() {
                self.finish_event(&mut out);
            } else if let Some(d) = line.strip_prefix("data:") {
                self.data.push(d.strip_prefix(' ').unwrap_or(d).to_string());
            } else if line.starts_with(':') {
                self.comment = true;
            }
            // Other fields (event:, id:, retry:) are not part of OpenAI's
            // stream and are dropped.
        }
        self.pending.drain(..start);
        let held: usize = self.pending.len() + self.data.iter().map(String::len).sum::<usize>();
        if held > MAX_EVENT {
            return Err(Broken);
        }
        Ok(out)
    }

    fn finish_event(&mut self, out: &mut Vec<u8>) {
        let comment = std::mem::take(&mut self.comment);
        if self.data.is_empty() {
            if comment {
                out.extend_from_slice(b":\n\n");
            }
            return;
        }
        let data = std::mem::take(&mut self.data).join("\n");
        if data.trim() == "[DONE]" {
            self.done = true;
            return;
        }
        let Ok(mut v) = serde_json::from_str::<Value>(&data) else {
            for line in data.split('\n') {
                out.extend_from_slice(b"data: ");
                out.extend_from_slice(line.as_bytes());
                out.push(b'\n');
            }
            out.push(b'\n');
            return;
        };
        if let Some(u) = usage_of(&v) {
            self.usage = Some(u);
            if !self.client_wants_usage {
                let no_choices = v
                    .get("choices")
                    .and_then(Value::as_array)
                    .is_none_or(|c| c.is_empty());
                if no_choices {
                    return;
                }
                if let Some(o) = v.as_object_mut() {
                    o.remove("usage");
                }
            }
        }
        rename_model(&mut v, &self.model);
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(v.to_string().as_bytes());
        out.extend_from_slice(b"\n\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHUNK: &str = r#"{"id":"c1","object":"chat.completion.chunk","model":"up-7b","choices":[{"index":0,"delta":{"content":"Hi"}}]}"#;
    const USAGE: &str = r#"{"id":"c1","object":"chat.completion.chunk","model":"up-7b","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#;

    fn stream() -> String {
        format!("data: {CHUNK}\n\n: keep-alive\n\ndata: {USAGE}\n\ndata: [DONE]\n\n")
    }

    #[test]
    fn events_pass_renamed_in_any_split_and_done_is_held() {
        let whole = stream();
        for split in 1..whole.len() {
            let mut r = Relay::new("triage-notes", true);
            let mut out = r.push(&whole.as_bytes()[..split]).unwrap();
            out.extend(r.push(&whole.as_bytes()[split..]).unwrap());
            let text = String::from_utf8(out).unwrap();
            assert!(r.done, "split at {split}");
            assert_eq!(r.usage, Some((3, 1)));
            assert!(
                !text.contains("[DONE]") && !text.contains("up-7b"),
                "{text}"
            );
            assert_eq!(
                text.matches("\"model\":\"triage-notes\"").count(),
                2,
                "{text}"
            );
            assert!(text.contains(":\n\n"));
        }
    }

    #[test]
    fn usage_is_noted_but_not_passed_on_unless_asked() {
        let mut r = Relay::new("m", false);
        let text = String::from_utf8(r.push(stream().as_bytes()).unwrap()).unwrap();
        assert_eq!(r.usage, Some((3, 1)));
        assert!(!text.contains("usage"), "{text}");
        assert_eq!(text.matches("data: ").count(), 1);
    }

    #[test]
    fn crlf_lines_and_a_stream_without_done() {
        let mut r = Relay::new("m", true);
        let text = r.push(format!("data: {CHUNK}\r\n\r\n").as_bytes()).unwrap();
        assert!(!text.is_empty());
        assert!(!r.done && r.usage.is_none());
    }

    #[test]
    fn an_endless_event_breaks_the_stream() {
        let mut r = Relay::new("m", true);
        let big = format!("data: {}", "x".repeat(MAX_EVENT + 1));
        assert_eq!(r.push(big.as_bytes()), Err(Broken));
    }

    #[test]
    fn usage_needs_both_counts() {
        let v: Value = serde_json::from_str(r#"{"usage":{"prompt_tokens":2}}"#).unwrap();
        assert_eq!(usage_of(&v), None);
        let v: Value =
            serde_json::from_str(r#"{"usage":{"prompt_tokens":2,"completion_tokens":-1}}"#)
                .unwrap();
        assert_eq!(usage_of(&v), None);
    }
}
