//! The audit log's hash chain: concurrent appends form one chain, and any
//! change to a stored entry is found by `fairground audit verify`.

use crate::helpers::{run_cli, Backend, TestDb};
use app::audit::db::{append, verify, NewEntry};
use app::db::{Db, DbOptions};

crate::on_both_backends!(
    concurrent_appends_form_one_sound_chain,
    altering_any_field_of_any_entry_is_detected,
    removed_entries_are_detected,
);

async fn open(db: &TestDb) -> Db {
    let handle = Db::connect(&db.url, &DbOptions::default())
        .await
        .expect("connect");
    fairground::db::migrate(&handle).await.expect("migrate");
    handle
}

async fn fill(db: &Db, n: usize) {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                let mut tx = db.begin_write().await?;
                let entry = NewEntry {
                    actor_user_id: Some(i as i64 % 3 + 1),
                    org_id: Some(7),
                    action: "test.event".into(),
                    target: format!("thing:{i}"),
                    client_ip: "127.0.0.1".into(),
                    details: serde_json::json!({ "i": i }),
                };
                let seq = append(&mut tx, &entry, 1_700_000_000_000 + i as i64).await?;
                tx.commit().await?;
                Ok::<i64, sqlx::Error>(seq)
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await.expect("task").expect("append"));
    }
    seqs.sort();
    assert_eq!(
        seqs,
        (1..=n as i64).collect::<Vec<_>>(),
        "one position per entry, no gaps"
    );
}

async fn verify_cli(db: &TestDb) -> (bool, String) {
    let out = run_cli(db, &["audit", "verify"]).await;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

async fn concurrent_appends_form_one_sound_chain(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = open(&test_db).await;
    let empty = verify(&db).await.expect("verify");
    assert_eq!((empty.entries, empty.broken), (0, None));
    fill(&db, 40).await;
    let v = verify(&db).await.expect("verify");
    assert_eq!(v.broken, None);
    assert_eq!(v.entries, 40);
    assert_eq!(v.head_hash.len(), 64);
    let (ok, text) = verify_cli(&test_db).await;
    assert!(ok, "{text}");
    assert!(
        text.contains(&format!("audit log OK: 40 entries, head {}", v.head_hash)),
        "{text}"
    );
    db.close().await;
}

async fn altering_any_field_of_any_entry_is_detected(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = open(&test_db).await;
    fill(&db, 12).await;
    let edits = [
        ("action", "'test.innocent'"),
        ("target", "'thing:other'"),
        ("client_ip", "'10.9.9.9'"),
        ("details", "'{\"i\":999}'"),
        ("actor_user_id", "99"),
        ("org_id", "NULL"),
        ("occurred_at", "occurred_at + 1"),
        ("prev_hash", "hash"),
        ("hash", "prev_hash"),
    ];
    for (column, value) in edits {
        for seq in [1_i64, 6, 12] {
            let mut conn = test_db.connect().await;
            let original: String = sqlx::query_scalar(&format!(
                "SELECT CAST({column} AS TEXT) FROM audit_log WHERE seq = {seq}"
            ))
            .fetch_one(&mut conn)
            .await
            .unwrap_or_default();
            sqlx::raw_sql(&format!(
                "UPDATE audit_log SET {column} = {value} WHERE seq = {seq}"
            ))
            .execute(&mut conn)
            .await
            .expect("tamper");
            let v = verify(&db).await.expect("verify");
            let broken = v
                .broken
                .unwrap_or_else(|| panic!("editing {column} of entry {seq} went unnoticed"));
            assert_eq!(broken.seq, seq, "{column}: {}", broken.reason);
            assert_eq!(v.entries, seq - 1);
            if seq == 6 && column == "action" {
                let (ok, text) = verify_cli(&test_db).await;
                assert!(!ok, "verify must fail: {text}");
                assert!(
                    text.contains("audit log BROKEN at entry 6: entry 6 was altered"),
                    "{text}"
                );
            }
            // Put it back exactly, and the chain is sound again.
            let restore = match column {
                "actor_user_id" | "org_id" | "occurred_at" if original.is_empty() => {
                    "NULL".to_string()
                }
                "actor_user_id" | "org_id" | "occurred_at" => original.clone(),
                _ => format!("'{}'", original.replace('\'', "''")),
            };
            sqlx::raw_sql(&format!(
                "UPDATE audit_log SET {column} = {restore} WHERE seq = {seq}"
            ))
            .execute(&mut conn)
            .await
            .expect("restore");
            assert_eq!(
                verify(&db).await.expect("verify").broken,
                None,
                "{column} restored"
            );
        }
    }
    db.close().await;
}

async fn removed_entries_are_detected(backend: Backend) {
    let test_db = TestDb::new(backend).await;
    let db = open(&test_db).await;
    fill(&db, 10).await;
    let mut conn = test_db.connect().await;
    sqlx::raw_sql("DELETE FROM audit_log WHERE seq = 10")
        .execute(&mut conn)
        .await
        .expect("delete last");
    let v = verify(&db).await.expect("verify");
    assert_eq!(v.broken.as_ref().map(|b| b.seq), Some(10), "{v:?}");
    sqlx::raw_sql("DELETE FROM audit_log WHERE seq = 4")
        .execute(&mut conn)
        .await
        .expect("delete middle");
    let v = verify(&db).await.expect("verify");
    let broken = v.broken.expect("gap found");
    assert_eq!(broken.seq, 4);
    assert!(
        broken.reason.contains("entry 4 is missing"),
        "{}",
        broken.reason
    );
    db.close().await;
}
