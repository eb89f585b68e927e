//! The outcome audit and the monthly neutrality report. Impressions in the
//! top three places of ranked results are counted apart; once a week is
//! over (seen here by a node whose clock runs ahead), an industry whose
//! first-party share of them exceeds the policy's threshold times its
//! listing share gets an "exposure anomaly" case. Once a month is over its
//! report is published: its numbers equal a recount from the database,
//! its JSON's SHA-256 is in the audit log, and it never changes.

use crate::builders::{
    call_ok, carol_subscribes, market, now_ms, offer, platform_publishes, Market,
};
use crate::helpers::{App, Backend, TestDb, Visitor};
use app::exposure::Split;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

crate::on_both_backends!(
    top_positions_far_above_the_listing_share_open_an_anomaly_case,
    the_policy_threshold_decides_what_is_an_anomaly,
    the_published_report_equals_a_recount_and_never_changes,
);

const DAY_MS: i64 = 86_400_000;
const GRACE_MS: i64 = app::exposure::audit::GRACE_MS;

/// Alice and the platform each publish one healthcare listing (the
/// first-party share of listings is 50 %). Then 60 searches find only the
/// platform's listing and 10 find both: 70 of 80 top impressions are
/// first party (87.5 %, 1.75 times the listing share). Searches sorted by
/// price show listings outside the ranking's order: no top impressions.
async fn crowded_top(m: &Market<'_>) {
    offer(m).await;
    platform_publishes(m).await;
    let anon = Visitor::new(m.referee.app);
    for _ in 0..60 {
        call_ok(&anon, "/api/fn/catalogue_search", &[("q", "platform")]).await;
    }
    for _ in 0..10 {
        call_ok(&anon, "/api/fn/catalogue_search", &[("q", "triage")]).await;
    }
    for _ in 0..5 {
        call_ok(
            &anon,
            "/api/fn/catalogue_search",
            &[("q", "triage"), ("sort", "price")],
        )
        .await;
    }
    // The referee's dashboard writes this node's counts and shows them.
    let report = call_ok(
        &m.referee,
        "/api/fn/exposure_report",
        &[("industry", "healthcare")],
    )
    .await;
    let week = report["series"]
        .as_array()
        .and_then(|s| s.last())
        .cloned()
        .expect("week");
    assert_eq!(week["top"]["first_party"], 70, "{week}");
    assert_eq!(week["top"]["partner"], 10, "{week}");
    assert_eq!(week["impressions"]["first_party"], 75, "{week}");
    assert_eq!(week["impressions"]["partner"], 15, "{week}");
    assert_eq!(week["listing_share_bp"], 5_000);
    assert_eq!(week["anomaly"], false, "the week is not over");
}

/// A node a week and a day ahead, where this week is over: it audits it
/// within a few seconds of starting. Waits for the audit's row.
async fn a_week_later(db: &TestDb) -> App {
    let offset = (8 * DAY_MS).to_string();
    let node = App::spawn_with(db, &[("FAIRGROUND_TEST_CLOCK_OFFSET_MS", offset.as_str())]).await;
    let week = app::exposure::week_of(now_ms().div_euclid(DAY_MS));
    for _ in 0..100 {
        let checked = db
            .count(&format!(
                "SELECT COUNT(*) FROM exposure_audits WHERE week = {week} AND industry = ''"
            ))
            .await;
        if checked == 1 {
            return node;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the week was not audited: {}", node.stderr());
}

async fn top_positions_far_above_the_listing_share_open_an_anomaly_case(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    crowded_top(&m).await;
    assert_eq!(
        db.count("SELECT COUNT(*) FROM conflict_cases WHERE kind = 'exposure_anomaly'")
            .await,
        0
    );

    let later = a_week_later(&db).await;
    let week = app::exposure::week_of(now_ms().div_euclid(DAY_MS));
    let mut conn = db.connect().await;
    let row = sqlx::query(&format!(
        "SELECT top_first_party, top_partner, listed_first_party, listed_partner, ratio_pct, case_id \
         FROM exposure_audits WHERE week = {week} AND industry = 'healthcare'"
    ))
    .fetch_one(&mut conn)
    .await
    .expect("the industry's audit");
    let got: [i64; 5] = [0, 1, 2, 3, 4].map(|i| row.try_get::<i64, _>(i).expect("count"));
    assert_eq!(got, [70, 10, 1, 1, 150]);
    let case: Option<i64> = row.try_get("case_id").expect("case");
    let case = case.expect("an anomaly case").to_string();

    // The case: high severity, the partners publishing there as parties
    // (notified), in the audit log. (Read from the tables: a node whose
    // clock runs a week ahead has swept every session as expired.)
    let row = sqlx::query(&format!(
        "SELECT kind, severity, title, industry FROM conflict_cases WHERE id = {case}"
    ))
    .fetch_one(&mut conn)
    .await
    .expect("case");
    let text = |c: &str| row.try_get::<String, _>(c).expect("text");
    assert_eq!(
        (text("kind"), text("severity"), text("industry")),
        (
            "exposure_anomaly".into(),
            "high".into(),
            "healthcare".into()
        )
    );
    let title = text("title");
    assert!(
        title.contains("87.5 %") && title.contains("50 %"),
        "{title}"
    );
    let meridian = db
        .count("SELECT id FROM organisations WHERE name = 'Meridian Health'")
        .await;
    assert_eq!(
        db.count(&format!(
            "SELECT COUNT(*) FROM case_parties WHERE case_id = {case} AND org_id = {meridian}"
        ))
        .await,
        1
    );
    assert_eq!(
        db.count(&format!(
            "SELECT COUNT(*) FROM notifications WHERE org_id = {meridian} \
             AND message LIKE 'Exposure anomaly in healthcare%' AND link = '/cases/{case}'"
        ))
        .await,
        1
    );
    assert!(crate::helpers::audit_actions(&db)
        .await
        .contains(&"exposure.anomaly".to_string()));

    // The public dashboard marks the week, beside the listing share; the
    // share itself is the coarse public one.
    let anon = Visitor::new(&later);
    let public = call_ok(
        &anon,
        "/api/fn/exposure_report",
        &[("industry", "healthcare")],
    )
    .await;
    let row = public["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["week"] == week * DAY_MS)
        .cloned()
        .expect("the week's row");
    assert_eq!(row["anomaly"], true, "{row}");
    assert_eq!(row["listing_share_bp"], 5_000);
    assert_eq!(
        row["top"],
        serde_json::to_value(Split::new(70, 10, false)).expect("split")
    );
    assert_eq!(
        row["top"]["first_party"],
        Value::Null,
        "no counts in public"
    );

    // A second node ahead audits nothing twice.
    drop(later);
    let _again = a_week_later(&db).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        db.count("SELECT COUNT(*) FROM conflict_cases WHERE kind = 'exposure_anomaly'")
            .await,
        1
    );
}

async fn the_policy_threshold_decides_what_is_an_anomaly(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let change = |ratio: &'static str| {
        vec![
            ("non_compete", "on"),
            ("take_rate", "20"),
            ("featured_slots", "off"),
            ("ranking_notice_days", "15"),
            ("anomaly_ratio", ratio),
            ("reason", "Fewer false alarms in small industries."),
        ]
    };
    for bad in ["1", "0.5", "10.5", "one and a half"] {
        let (status, body) = m.referee.call("/api/fn/update_policy", &change(bad)).await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert!(body["fields"]["anomaly_ratio"].is_array(), "{body}");
    }
    // Players may not set it.
    assert_eq!(
        m.player.call("/api/fn/update_policy", &change("2")).await.0,
        403
    );
    call_ok(&m.referee, "/api/fn/update_policy", &change("2")).await;
    let policy = call_ok(&Visitor::new(&app), "/api/fn/marketplace_policy", &[]).await;
    assert_eq!(policy["policy"]["anomaly_ratio_pct"], 200);
    let change = policy["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["setting"] == "anomaly_ratio_pct")
        .cloned()
        .expect("published");
    assert_eq!(
        (change["before"].as_str(), change["after"].as_str()),
        (Some("1.5"), Some("2"))
    );
    assert!(Visitor::new(&app)
        .page("/policy")
        .await
        .contains("more than 2 times their share"));

    // 1.75 times the listing share (1.66 as the public mark reads the
    // partners' count, 10–19 as 14.5): under 2, no case.
    crowded_top(&m).await;
    let _later = a_week_later(&db).await;
    let week = app::exposure::week_of(now_ms().div_euclid(DAY_MS));
    assert_eq!(
        db.count(&format!(
            "SELECT COUNT(*) FROM exposure_audits WHERE week = {week} AND industry = 'healthcare' \
             AND top_first_party = 70 AND ratio_pct = 200 AND case_id IS NULL"
        ))
        .await,
        1
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM conflict_cases WHERE kind = 'exposure_anomaly'")
            .await,
        0
    );
}

/// A node whose clock is past the end of this month (and the grace):
/// it publishes this month's report within a few seconds of starting.
async fn next_month(db: &TestDb, month: &str) -> App {
    let (_, to_day) = app::neutrality::month_days(month).expect("month");
    let offset = (to_day * DAY_MS - now_ms() + GRACE_MS + 60_000).to_string();
    let node = App::spawn_with(db, &[("FAIRGROUND_TEST_CLOCK_OFFSET_MS", offset.as_str())]).await;
    for _ in 0..100 {
        let published = db
            .count(&format!(
                "SELECT COUNT(*) FROM neutrality_reports WHERE month = '{month}'"
            ))
            .await;
        if published == 1 {
            return node;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the report was not published: {}", node.stderr());
}

/// (first-party, partner) pairs per industry ("" for all) and measure.
type Tally = BTreeMap<(String, &'static str), (i64, i64)>;

/// An industry's audited weeks, anomalies, and the last audit's listings.
type WeekCount = (i64, i64, Option<(i64, i64)>);

/// The report's figures counted again, row by row, from the tables.
async fn recount(db: &TestDb, from: i64, to: i64) -> Value {
    let mut conn = db.connect().await;
    let rows = |sql: &'static str| sqlx::query(sql);
    let orgs: HashMap<i64, bool> = rows("SELECT id, kind, affiliated FROM organisations")
        .fetch_all(&mut conn)
        .await
        .expect("orgs")
        .iter()
        .map(|r| {
            let kind: String = r.get("kind");
            let affiliated: i64 = r.get("affiliated");
            (r.get("id"), kind == "platform" || affiliated == 1)
        })
        .collect();
    let listings: HashMap<i64, (String, bool)> = rows("SELECT id, industry, org_id FROM listings")
        .fetch_all(&mut conn)
        .await
        .expect("listings")
        .iter()
        .map(|r| {
            let org: i64 = r.get("org_id");
            (r.get("id"), (r.get("industry"), orgs[&org]))
        })
        .collect();
    let mut tally = Tally::new();
    let mut add = |industry: &str, measure: &'static str, fp: bool, n: i64| {
        for key in [String::new(), industry.to_string()] {
            let e = tally.entry((key, measure)).or_default();
            if fp {
                e.0 += n;
            } else {
                e.1 += n;
            }
        }
    };
    for r in rows("SELECT day, listing_id, impressions, views, top_impressions FROM exposure_daily")
        .fetch_all(&mut conn)
        .await
        .expect("exposure")
    {
        let day: i64 = r.get("day");
        if day * DAY_MS < from || day * DAY_MS >= to {
            continue;
        }
        let (industry, fp) = &listings[&r.get::<i64, _>("listing_id")];
        add(industry, "impressions", *fp, r.get("impressions"));
        add(industry, "views", *fp, r.get("views"));
        add(industry, "top", *fp, r.get("top_impressions"));
    }
    for r in rows("SELECT listing_id, started_at FROM subscriptions")
        .fetch_all(&mut conn)
        .await
        .expect("subscriptions")
    {
        let at: i64 = r.get("started_at");
        if (from..to).contains(&at) {
            let (industry, fp) = &listings[&r.get::<i64, _>("listing_id")];
            add(industry, "subscriptions", *fp, 1);
        }
    }
    // Weeks ending in the month.
    let mut weeks: BTreeMap<String, WeekCount> = BTreeMap::new();
    let mut audits: Vec<(i64, String, i64, i64, Option<i64>)> = rows(
        "SELECT week, industry, listed_first_party, listed_partner, case_id FROM exposure_audits",
    )
    .fetch_all(&mut conn)
    .await
    .expect("audits")
    .iter()
    .map(|r| {
        (
            r.get("week"),
            r.get("industry"),
            r.get("listed_first_party"),
            r.get("listed_partner"),
            r.get("case_id"),
        )
    })
    .collect();
    audits.sort();
    for (week, industry, lf, lp, case) in audits {
        let sunday = (week + 6) * DAY_MS;
        if sunday >= from && sunday < to {
            let e = weeks.entry(industry).or_default();
            e.0 += 1;
            e.1 += i64::from(case.is_some());
            e.2 = Some((lf, lp));
        }
    }
    let mut industries: Vec<String> = tally.keys().map(|(i, _)| i.clone()).collect();
    industries.extend(weeks.keys().cloned());
    industries.push(String::new());
    industries.sort();
    industries.dedup();
    let mut exposure = serde_json::Map::new();
    for industry in industries {
        let split = |measure| {
            let (fp, p) = tally
                .get(&(industry.clone(), measure))
                .copied()
                .unwrap_or_default();
            serde_json::to_value(Split::new(fp, p, false)).expect("split")
        };
        let (audited, anomalies, listed) = weeks.get(&industry).copied().unwrap_or_default();
        exposure.insert(
            industry.clone(),
            serde_json::json!({
                "impressions": split("impressions"),
                "top": split("top"),
                "views": split("views"),
                "subscriptions": split("subscriptions"),
                "listing_share_bp": listed.and_then(|(f, p)| app::exposure::share_bp(f, p)),
                "weeks_audited": audited,
                "anomalies": anomalies,
            }),
        );
    }

    let log: Vec<(i64, i64, String, String, String)> =
        rows("SELECT seq, occurred_at, action, target, hash FROM audit_log")
            .fetch_all(&mut conn)
            .await
            .expect("audit")
            .iter()
            .map(|r| {
                (
                    r.get("seq"),
                    r.get("occurred_at"),
                    r.get("action"),
                    r.get("target"),
                    r.get("hash"),
                )
            })
            .collect();
    let mut cases: BTreeMap<String, [i64; 4]> = BTreeMap::new();
    let mut sign_offs = Vec::new();
    for r in rows("SELECT id, kind, opened_at, signed_off_at FROM conflict_cases")
        .fetch_all(&mut conn)
        .await
        .expect("cases")
    {
        let id: i64 = r.get("id");
        let opened: i64 = r.get("opened_at");
        if let Some(signed) = r.get::<Option<i64>, _>("signed_off_at") {
            if (from..to).contains(&signed) {
                sign_offs.push(signed - opened);
            }
        }
        if !(from..to).contains(&opened) {
            continue;
        }
        let ended = |action: &str| {
            log.iter()
                .any(|(_, at, a, t, _)| a == action && *t == format!("case:{id}") && *at < to)
        };
        let c = cases.entry(r.get("kind")).or_default();
        c[0] += 1;
        if ended("case.resolve") {
            c[1] += 1;
        } else if ended("case.dismiss") {
            c[2] += 1;
        } else {
            c[3] += 1;
        }
    }
    sign_offs.sort_unstable();
    let median = match sign_offs.len() {
        0 => None,
        n if n % 2 == 1 => Some(sign_offs[n / 2]),
        n => Some((sign_offs[n / 2 - 1] + sign_offs[n / 2]).div_euclid(2)),
    };
    let (mut reads, mut refused) = (0, 0);
    for r in rows("SELECT outcome, at FROM data_access_log")
        .fetch_all(&mut conn)
        .await
        .expect("access")
    {
        let at: i64 = r.get("at");
        if (from..to).contains(&at) {
            match r.get::<String, _>("outcome").as_str() {
                "read" => reads += 1,
                _ => refused += 1,
            }
        }
    }
    let head = log
        .iter()
        .filter(|(_, at, ..)| *at < to)
        .max_by_key(|(seq, ..)| *seq)
        .map(|(seq, .., hash)| (*seq, hash.clone()))
        .expect("entries");
    serde_json::json!({
        "exposure": exposure,
        "cases": cases
            .into_iter()
            .map(|(kind, [opened, resolved, dismissed, still_open])| serde_json::json!({
                "kind": kind, "opened": opened, "resolved": resolved,
                "dismissed": dismissed, "still_open": still_open,
            }))
            .collect::<Vec<_>>(),
        "sign_offs": sign_offs.len(),
        "median_sign_off_ms": median,
        "referee_reads": reads,
        "player_refusals": refused,
        "audit_entries": head.0,
        "audit_head": head.1,
    })
}

/// The same figures, as the report gives them.
fn figures(report: &Value) -> Value {
    let exposure: serde_json::Map<String, Value> = report["industries"]
        .as_array()
        .expect("industries")
        .iter()
        .map(|i| {
            (
                i["industry"].as_str().expect("slug").to_string(),
                serde_json::json!({
                    "impressions": i["impressions"],
                    "top": i["top"],
                    "views": i["views"],
                    "subscriptions": i["subscriptions"],
                    "listing_share_bp": i["listing_share_bp"],
                    "weeks_audited": i["weeks_audited"],
                    "anomalies": i["anomalies"],
                }),
            )
        })
        .collect();
    serde_json::json!({
        "exposure": exposure,
        "cases": report["cases"],
        "sign_offs": report["sign_offs"],
        "median_sign_off_ms": report["median_sign_off_ms"],
        "referee_reads": report["referee_reads"],
        "player_refusals": report["player_refusals"],
        "audit_entries": report["audit_entries"],
        "audit_head": report["audit_head"],
    })
}

async fn the_published_report_equals_a_recount_and_never_changes(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let m = market(&app, &db).await;
    let month = app::neutrality::month_of(now_ms());
    // A month of activity: listings published (a conflict case signed
    // off, then resolved), a complaint left open, a subscription,
    // searches and views, a referee's read of partner data and a player's
    // refused try.
    let o = offer(&m).await;
    carol_subscribes(&m, &o).await;
    let (_, case) = platform_publishes(&m).await;
    call_ok(
        &m.referee,
        "/api/fn/decide_case",
        &[
            ("id", &case),
            ("action", "resolve"),
            ("words", "Audiences differ."),
        ],
    )
    .await;
    call_ok(
        &m.alice,
        "/api/fn/open_complaint",
        &[
            ("about", "ranking"),
            ("text", "Our listing sinks on Mondays."),
        ],
    )
    .await;
    let anon = Visitor::new(&app);
    for _ in 0..20 {
        call_ok(&anon, "/api/fn/catalogue_search", &[("q", "triage")]).await;
    }
    anon.page("/listings/triage-notes").await;
    assert_eq!(
        m.player
            .call("/api/fn/listing_editor", &[("id", &o.listing)])
            .await
            .0,
        404
    );
    let meridian = db
        .count("SELECT id FROM organisations WHERE name = 'Meridian Health'")
        .await
        .to_string();
    call_ok(
        &m.referee,
        "/api/fn/publisher_revenue",
        &[("org", &meridian)],
    )
    .await;

    // While the month runs: provisional.
    let provisional = call_ok(&anon, "/api/fn/neutrality_report", &[("month", &month)]).await;
    assert_eq!(provisional["published"], Value::Null);
    assert_eq!(provisional["report"]["status"], "provisional");
    // A copy of the provisional download says what it is.
    let early: Value = serde_json::from_slice(
        &anon
            .get(&format!("/neutrality-report/{month}/report.json"))
            .await
            .bytes()
            .await
            .expect("json"),
    )
    .expect("provisional json");
    assert_eq!(early["status"], "provisional");
    assert!(anon
        .page(&format!("/neutrality-report/{month}"))
        .await
        .contains("Provisional"));

    let later = next_month(&db, &month).await;
    let outsider = Visitor::new(&later);
    let res = outsider
        .get(&format!("/neutrality-report/{month}/report.json"))
        .await;
    assert_eq!(res.status(), 200);
    let body = res.bytes().await.expect("json");
    let sha = hex::encode(Sha256::digest(&body));

    // Its SHA-256 is in the audit log, and on the page.
    let mut conn = db.connect().await;
    let details: String = sqlx::query_scalar(
        "SELECT details FROM audit_log WHERE action = 'neutrality_report.published'",
    )
    .fetch_one(&mut conn)
    .await
    .expect("published entry");
    let details: Value = serde_json::from_str(&details).expect("details");
    assert_eq!(details["sha256"], sha.as_str());
    assert_eq!(details["month"], month.as_str());
    let page = outsider.page(&format!("/neutrality-report/{month}")).await;
    assert!(page.contains(&sha) && !page.contains("Provisional"));

    // Every figure equals a recount from the tables.
    let report: Value = serde_json::from_slice(&body).expect("report");
    assert_eq!(report["status"], "published");
    let (from, to) = (
        report["from"].as_i64().expect("from"),
        report["to"].as_i64().expect("to"),
    );
    let (first, next) = app::neutrality::month_days(&month).expect("month");
    assert_eq!((from, to), (first * DAY_MS, next * DAY_MS));
    let counted = recount(&db, from, to).await;
    assert_eq!(figures(&report), counted);
    // And the month had something to count.
    assert!(counted["referee_reads"].as_i64() >= Some(1), "{counted}");
    assert!(counted["player_refusals"].as_i64() >= Some(1), "{counted}");
    assert!(counted["sign_offs"].as_i64() >= Some(1), "{counted}");
    let kind = |k: &str| {
        counted["cases"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["kind"] == k))
            .map(|c| {
                ["opened", "resolved", "dismissed", "still_open"]
                    .map(|f| c[f].as_i64().unwrap_or(-1))
            })
    };
    assert_eq!(kind("complaint"), Some([1, 0, 0, 1]), "{counted}");
    assert_eq!(kind("first_party_overlap"), Some([1, 1, 0, 0]), "{counted}");
    assert_eq!(kind("player_data_access"), Some([1, 0, 0, 1]), "{counted}");
    let all = &report["industries"][0];
    assert_eq!(all["industry"], "");
    assert_eq!(
        all["impressions"]["first_party"],
        Value::Null,
        "public shares only"
    );

    // The CSV gives the same figures.
    let csv = outsider
        .get(&format!("/neutrality-report/{month}/report.csv"))
        .await
        .text()
        .await
        .expect("csv");
    for line in [
        format!("report,,month,{month}"),
        "report,,status,published".to_string(),
        format!("firewall,,player_refusals,{}", counted["player_refusals"]),
        format!("firewall,,referee_reads,{}", counted["referee_reads"]),
        format!(
            "audit,,head,{}",
            counted["audit_head"].as_str().expect("head")
        ),
        format!("report,,json_sha256,{sha}"),
        "cases,,complaint_still_open,1".to_string(),
    ] {
        assert!(csv.lines().any(|l| l == line), "{line} in\n{csv}");
    }

    // Later activity in the month (this node's clock is still in it) does
    // not change the published report: the same bytes on either node.
    for _ in 0..20 {
        call_ok(&anon, "/api/fn/catalogue_search", &[("q", "triage")]).await;
    }
    // (Anyone's look at the dashboard writes this node's counts; sessions
    // are gone, swept as expired by the node whose clock runs ahead.)
    call_ok(&anon, "/api/fn/exposure_report", &[]).await;
    assert_ne!(recount(&db, from, to).await, counted, "the counts moved on");
    for node in [&app, &later] {
        let again = Visitor::new(node)
            .get(&format!("/neutrality-report/{month}/report.json"))
            .await
            .bytes()
            .await
            .expect("json");
        assert_eq!(again, body);
    }

    // Months not begun, and what is not a month, are not found.
    let (_, after) = app::neutrality::month_days(&month).expect("month");
    let far = app::neutrality::month_of((after + 40) * DAY_MS);
    for bad in [far.as_str(), "2026-13", "latest", "1999-12"] {
        assert_eq!(
            outsider
                .get(&format!("/neutrality-report/{bad}"))
                .await
                .status(),
            404,
            "{bad}"
        );
        assert_eq!(
            outsider
                .get(&format!("/neutrality-report/{bad}/report.json"))
                .await
                .status(),
            404,
            "{bad}"
        );
    }
    let index = call_ok(&outsider, "/api/fn/neutrality_reports", &[]).await;
    assert!(
        index["months"]
            .to_string()
            .contains(&format!(r#"["{month}",true]"#)),
        "{index}"
    );
}
