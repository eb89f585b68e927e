//! The two migration folders describe one schema: after migrating a fresh
//! SQLite and a fresh PostgreSQL database, both have the same tables, the
//! same columns with the same nullability, and the same indexes (columns,
//! uniqueness, partial or not), primary keys included.

use crate::helpers::{Backend, TestDb};
use app::db::{Db, DbOptions};
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};

/// A column: its name and whether it may be NULL.
type Column = (String, bool);

/// An index: unique, partial, and its columns in order ("<expr>" for an
/// expression).
type Index = (bool, bool, Vec<String>);

#[derive(Debug, Default, PartialEq, Eq)]
struct Schema {
    tables: BTreeMap<String, (BTreeSet<Column>, BTreeSet<Index>)>,
}

async fn migrated(backend: Backend) -> (TestDb, Db) {
    let test_db = TestDb::new(backend).await;
    let db = Db::connect(&test_db.url, &DbOptions::default())
        .await
        .expect("connect");
    fairground::db::migrate(&db).await.expect("migrate");
    (test_db, db)
}

fn is_ours(table: &str) -> bool {
    !table.starts_with("sqlite_") && table != "_sqlx_migrations"
}

async fn sqlite_schema(db: &Db) -> Schema {
    let pool = db.pool();
    let mut schema = Schema::default();
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(pool)
            .await
            .expect("tables");
    for table in tables.into_iter().filter(|t| is_ours(t)) {
        let mut columns = BTreeSet::new();
        let mut pk: Vec<(i64, String)> = Vec::new();
        for r in sqlx::query(&format!("PRAGMA table_info(\"{table}\")"))
            .fetch_all(pool)
            .await
            .expect("table_info")
        {
            let name: String = r.try_get("name").expect("name");
            let notnull: i64 = r.try_get("notnull").expect("notnull");
            let key: i64 = r.try_get("pk").expect("pk");
            if key > 0 {
                pk.push((key, name.clone()));
            }
            // A primary key column is never NULL, whatever the flag says.
            columns.insert((name, notnull == 0 && key == 0));
        }
        pk.sort();
        let mut indexes = BTreeSet::new();
        let mut pk_indexed = false;
        for r in sqlx::query(&format!("PRAGMA index_list(\"{table}\")"))
            .fetch_all(pool)
            .await
            .expect("index_list")
        {
            let name: String = r.try_get("name").expect("name");
            let unique: i64 = r.try_get("unique").expect("unique");
            let partial: i64 = r.try_get("partial").expect("partial");
            let origin: String = r.try_get("origin").expect("origin");
            pk_indexed |= origin == "pk";
            let mut cols: Vec<(i64, String)> = Vec::new();
            for c in sqlx::query(&format!("PRAGMA index_xinfo(\"{name}\")"))
                .fetch_all(pool)
                .await
                .expect("index_xinfo")
            {
                let key: i64 = c.try_get("key").expect("key");
                if key == 0 {
                    continue;
                }
                let seq: i64 = c.try_get("seqno").expect("seqno");
                let col: Option<String> = c.try_get("name").expect("name");
                cols.push((seq, col.unwrap_or_else(|| "<expr>".into())));
            }
            cols.sort();
            indexes.insert((
                unique == 1,
                partial == 1,
                cols.into_iter().map(|(_, c)| c).collect(),
            ));
        }
        // An INTEGER PRIMARY KEY is the rowid: SQLite lists no index for it.
        if !pk_indexed && !pk.is_empty() {
            indexes.insert((true, false, pk.into_iter().map(|(_, c)| c).collect()));
        }
        schema.tables.insert(table, (columns, indexes));
    }
    schema
}

async fn postgres_schema(db: &Db) -> Schema {
    let pool = db.pool();
    let mut schema = Schema::default();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .expect("tables");
    for table in tables.into_iter().filter(|t| is_ours(t)) {
        let columns = sqlx::query(
            "SELECT column_name::text AS name, (is_nullable = 'YES') AS nullable \
             FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1",
        )
        .bind(&table)
        .fetch_all(pool)
        .await
        .expect("columns")
        .iter()
        .map(|r| {
            (
                r.try_get::<String, _>("name").expect("name"),
                r.try_get::<bool, _>("nullable").expect("nullable"),
            )
        })
        .collect();
        let mut indexes = BTreeSet::new();
        for r in sqlx::query(
            "SELECT i.indisunique AS is_unique, (i.indpred IS NOT NULL) AS partial, \
                    array_to_string(ARRAY( \
                        SELECT COALESCE(a.attname::text, '<expr>') \
                        FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) \
                        LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
                        ORDER BY k.ord), ',') AS cols \
             FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE n.nspname = 'public' AND t.relname = $1",
        )
        .bind(&table)
        .fetch_all(pool)
        .await
        .expect("indexes")
        {
            let cols: String = r.try_get("cols").expect("cols");
            indexes.insert((
                r.try_get::<bool, _>("is_unique").expect("unique"),
                r.try_get::<bool, _>("partial").expect("partial"),
                cols.split(',').map(str::to_string).collect(),
            ));
        }
        schema.tables.insert(table, (columns, indexes));
    }
    schema
}

/// What one schema has that the other lacks, table by table.
fn differences(sqlite: &Schema, postgres: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    let names: BTreeSet<&String> = sqlite.tables.keys().chain(postgres.tables.keys()).collect();
    for name in names {
        match (sqlite.tables.get(name), postgres.tables.get(name)) {
            (Some(_), None) => out.push(format!("table {name}: only on SQLite")),
            (None, Some(_)) => out.push(format!("table {name}: only on PostgreSQL")),
            (Some((sc, si)), Some((pc, pi))) => {
                for c in sc.difference(pc) {
                    out.push(format!("{name}: column {c:?} only on SQLite"));
                }
                for c in pc.difference(sc) {
                    out.push(format!("{name}: column {c:?} only on PostgreSQL"));
                }
                for i in si.difference(pi) {
                    out.push(format!("{name}: index {i:?} only on SQLite"));
                }
                for i in pi.difference(si) {
                    out.push(format!("{name}: index {i:?} only on PostgreSQL"));
                }
            }
            (None, None) => {}
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_backends_migrate_to_the_same_schema() {
    let (_sqlite_db, sqlite) = migrated(Backend::Sqlite).await;
    let (_postgres_db, postgres) = migrated(Backend::Postgres).await;
    let s = sqlite_schema(&sqlite).await;
    let p = postgres_schema(&postgres).await;
    assert!(
        s.tables.len() >= 20 && s.tables.contains_key("listings") && s.tables.contains_key("users"),
        "the SQLite schema was read: {:?}",
        s.tables.keys().collect::<Vec<_>>()
    );
    let listings = &s.tables["listings"];
    assert!(
        listings.0.contains(&("slug".to_string(), false))
            && listings
                .1
                .contains(&(true, false, vec!["public_slug".to_string()])),
        "columns and unique keys are read: {listings:?}"
    );
    assert_eq!(differences(&s, &p), Vec::<String>::new());
}

#[test]
fn a_difference_in_any_part_is_reported() {
    let table = |cols: &[(&str, bool)], idx: &[(bool, bool, &[&str])]| {
        (
            cols.iter().map(|(c, n)| (c.to_string(), *n)).collect(),
            idx.iter()
                .map(|(u, p, c)| (*u, *p, c.iter().map(|s| s.to_string()).collect()))
                .collect(),
        )
    };
    let a = Schema {
        tables: [
            (
                "t".to_string(),
                table(&[("id", false), ("x", true)], &[(true, false, &["id"])]),
            ),
            ("only_a".to_string(), table(&[], &[])),
        ]
        .into(),
    };
    let b = Schema {
        tables: [(
            "t".to_string(),
            table(&[("id", false), ("x", false)], &[(true, true, &["id"])]),
        )]
        .into(),
    };
    assert_eq!(
        differences(&a, &b),
        [
            "table only_a: only on SQLite",
            "t: column (\"x\", true) only on SQLite",
            "t: column (\"x\", false) only on PostgreSQL",
            "t: index (true, false, [\"id\"]) only on SQLite",
            "t: index (true, true, [\"id\"]) only on PostgreSQL",
        ]
    );
}
