//! The stand-in upstream the demo and the gateway tests call: it answers
//! only requests signed with its deployment's secret, once per request id,
//! and each behaviour does what its name says.

use app::gateway::signing::{sign, Forged, REQUEST_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use fairground::standin::{Behaviour, StandIn};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SECRET: &str = "fgs_stand-in-test-secret";

struct Call {
    status: u16,
    content_type: String,
    /// The body's chunks as they arrived; Err when the body broke off.
    chunks: Result<Vec<String>, String>,
    took: Duration,
}

async fn send(base: &str, path: &str, body: &Value, secret: &str, id: &str, at: i64) -> Call {
    let raw = serde_json::to_vec(body).expect("json");
    let started = Instant::now();
    let mut res = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .header(REQUEST_ID_HEADER, id)
        .header(TIMESTAMP_HEADER, at.to_string())
        .header(SIGNATURE_HEADER, sign(secret, at, id, &raw))
        .body(raw)
        .send()
        .await
        .expect("send");
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut chunks = Vec::new();
    let chunks = loop {
        match res.chunk().await {
            Ok(Some(c)) => chunks.push(String::from_utf8_lossy(&c).into_owned()),
            Ok(None) => break Ok(chunks),
            Err(e) => break Err(format!("{e} after {chunks:?}")),
        }
    };
    Call {
        status,
        content_type,
        chunks,
        took: started.elapsed(),
    }
}

fn now() -> i64 {
    app::db::Clock::system().now_ms() / 1000
}

fn chat(stream: bool) -> Value {
    json!({
        "model": "triage-7b",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Is this urgent?"}
        ],
        "stream": stream,
        "stream_options": {"include_usage": true}
    })
}

/// The SSE events of a streamed body, `data:` prefixes removed.
fn events(chunks: &[String]) -> Vec<String> {
    chunks
        .concat()
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn the_stand_in_answers_signed_requests_once_and_behaves_as_named() {
    let s = StandIn::default();
    for (name, b) in [
        ("fixed", Behaviour::Fixed),
        ("slow", Behaviour::SlowStream),
        ("fails", Behaviour::ServerError),
        ("hangs", Behaviour::Hang),
        ("drops", Behaviour::DropMidStream),
        ("quiet", Behaviour::NoUsage),
    ] {
        s.register(name, SECRET, b);
    }
    let addr = s
        .spawn("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("spawn");
    let base = format!("http://{addr}");
    let path = "/u/fixed/chat/completions";

    // Signed: the answer repeats the last user message, with word counts.
    let ok = send(&base, path, &chat(false), SECRET, "r1", now()).await;
    assert_eq!(ok.status, 200);
    let body: Value = serde_json::from_str(&ok.chunks.expect("body").concat()).expect("json");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Echo: Is this urgent?"
    );
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9})
    );

    // The same request id again (a replay), another secret, an old
    // timestamp, a body changed after signing: refused.
    assert_eq!(
        send(&base, path, &chat(false), SECRET, "r1", now())
            .await
            .status,
        401
    );
    assert_eq!(
        send(&base, path, &chat(false), "fgs_forger", "r2", now())
            .await
            .status,
        401
    );
    assert_eq!(
        send(&base, path, &chat(false), SECRET, "r3", now() - 3_600)
            .await
            .status,
        401
    );
    let raw = serde_json::to_vec(&chat(false)).expect("json");
    let at = now();
    let altered = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header(REQUEST_ID_HEADER, "r4")
        .header(TIMESTAMP_HEADER, at.to_string())
        .header(SIGNATURE_HEADER, sign(SECRET, at, "r4", &raw))
        .body(serde_json::to_vec(&json!({"model": "other"})).expect("json"))
        .send()
        .await
        .expect("send");
    assert_eq!(altered.status().as_u16(), 401);
    let (served, refused) = s.tally();
    assert_eq!(served, 1);
    assert_eq!(
        refused,
        [
            Some(Forged::BadSignature),
            Some(Forged::Stale),
            Some(Forged::BadSignature),
            None
        ]
    );

    // Streamed: SSE chunks, the usage chunk when asked, then [DONE].
    let streamed = send(&base, path, &chat(true), SECRET, "r5", now()).await;
    assert_eq!(streamed.status, 200);
    assert_eq!(streamed.content_type, "text/event-stream");
    let ev = events(&streamed.chunks.expect("stream"));
    assert_eq!(ev.last().map(String::as_str), Some("[DONE]"));
    let usage: Value = serde_json::from_str(&ev[ev.len() - 2]).expect("usage chunk");
    assert_eq!(usage["usage"]["total_tokens"], 9);
    let text: String = ev[..ev.len() - 2]
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(e).ok())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert_eq!(text, "Echo: Is this urgent?");

    // No usage chunk from the quiet one, even when asked.
    let quiet = send(
        &base,
        "/u/quiet/chat/completions",
        &chat(true),
        SECRET,
        "r6",
        now(),
    )
    .await;
    let ev = events(&quiet.chunks.expect("stream"));
    assert_eq!(ev.last().map(String::as_str), Some("[DONE]"));
    assert!(ev.iter().all(|e| !e.contains("\"usage\"")), "{ev:?}");

    // The slow one takes a step per word; its first bytes come at once.
    let slow = send(
        &base,
        "/u/slow/chat/completions",
        &chat(true),
        SECRET,
        "r7",
        now(),
    )
    .await;
    let chunks = slow.chunks.expect("stream");
    assert!(chunks.len() >= 5, "arrives in pieces: {chunks:?}");
    assert!(
        slow.took >= fairground::standin::SLOW_STEP * 5,
        "{:?}",
        slow.took
    );

    // 500, a broken-off stream, and no answer at all.
    let fails = send(
        &base,
        "/u/fails/chat/completions",
        &chat(false),
        SECRET,
        "r8",
        now(),
    )
    .await;
    assert_eq!(fails.status, 500);
    let drops = send(
        &base,
        "/u/drops/chat/completions",
        &chat(true),
        SECRET,
        "r9",
        now(),
    )
    .await;
    assert_eq!(drops.status, 200);
    assert!(drops.chunks.is_err(), "the stream breaks off");
    let hang = tokio::time::timeout(
        Duration::from_millis(500),
        send(
            &base,
            "/u/hangs/chat/completions",
            &chat(false),
            SECRET,
            "r10",
            now(),
        ),
    )
    .await;
    assert!(hang.is_err(), "no answer within half a second");
}
