//! The public catalogue: search and filters compared with a brute-force
//! filter over the database, neutral ranking (who publishes never changes
//! the order), stable ties, and refused queries.

use crate::builders::call_ok;
use crate::helpers::{run_ok, App, Backend, TestDb, Visitor};
use app::catalogue::ranking::{relevance, terms, TextDoc};
use app::catalogue::PriceBand;
use sqlx::Row;
use std::collections::{BTreeSet, HashMap};

crate::on_both_backends!(
    search_and_filters_return_exactly_the_matching_published_listings,
    making_listings_first_party_never_changes_the_order,
    malformed_catalogue_queries_are_refused_with_field_errors,
    anonymous_catalogue_pages_are_shared_but_never_stale_or_someone_elses,
);

/// A deterministic generator, so a failure can be replayed.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// The demo data, 240 benchmark listings, certifications on some, and a
/// few listings that are not published (which must never be found).
async fn catalogue(db: &TestDb) {
    run_ok(db, &["seed", "--demo"]).await;
    run_ok(db, &["seed", "--listings", "240"]).await;
    let mut conn = db.connect().await;
    sqlx::raw_sql(
        "INSERT INTO listing_certifications (listing_id, certification) \
           SELECT id, 'ISO 42001' FROM listings WHERE id % 4 = 0; \
         UPDATE listings SET status = 'suspended' WHERE id % 17 = 0; \
         UPDATE listings SET status = 'draft' WHERE id % 19 = 0; \
         UPDATE deployments SET status = 'paused' WHERE id % 13 = 0 AND is_default = 0; \
         UPDATE listings SET published_at = (SELECT MAX(published_at) FROM listings) WHERE id % 3 = 0; \
         UPDATE deployments SET eval_score = 50 WHERE listing_id % 3 = 0; \
         UPDATE catalogue_state SET version = version + 1 WHERE id = 1;",
    )
    .execute(&mut conn)
    .await
    .expect("catalogue");
}

struct Published {
    slug: String,
    name: String,
    tagline: String,
    description: String,
    tags: Vec<String>,
    industry: String,
    models: Vec<String>,
    fee: Option<i64>,
    certs: Vec<String>,
}

/// Every published listing straight from the database.
async fn published(db: &TestDb) -> Vec<Published> {
    let mut conn = db.connect().await;
    let mut out = Vec::new();
    let rows = sqlx::query(
        "SELECT id, slug, name, tagline, description, industry FROM listings WHERE status = 'published'",
    )
    .fetch_all(&mut conn)
    .await
    .expect("listings");
    for r in rows {
        let id: i64 = r.get("id");
        let strings = |rows: Vec<sqlx::any::AnyRow>| -> Vec<String> {
            rows.iter().map(|r| r.get::<String, _>(0)).collect()
        };
        let tags = strings(
            sqlx::query(&format!(
                "SELECT tag FROM listing_tags WHERE listing_id = {id}"
            ))
            .fetch_all(&mut conn)
            .await
            .expect("tags"),
        );
        let certs = strings(
            sqlx::query(&format!(
                "SELECT certification FROM listing_certifications WHERE listing_id = {id}"
            ))
            .fetch_all(&mut conn)
            .await
            .expect("certs"),
        );
        let models = strings(
            sqlx::query(&format!(
                "SELECT b.slug FROM deployments d JOIN base_models b ON b.id = d.base_model_id \
                 WHERE d.listing_id = {id} AND d.status <> 'paused'"
            ))
            .fetch_all(&mut conn)
            .await
            .expect("models"),
        );
        let fee: Option<i64> = sqlx::query(&format!(
            "SELECT MIN(monthly_fee_minor) AS f FROM plans WHERE listing_id = {id} AND active = 1"
        ))
        .fetch_one(&mut conn)
        .await
        .expect("fee")
        .get("f");
        out.push(Published {
            slug: r.get("slug"),
            name: r.get::<String, _>("name").to_lowercase(),
            tagline: r.get::<String, _>("tagline").to_lowercase(),
            description: r.get::<String, _>("description").to_lowercase(),
            tags: tags.iter().map(|t| t.to_lowercase()).collect(),
            industry: r.get("industry"),
            models,
            fee,
            certs,
        });
    }
    out
}

/// All pages of a search: (slugs in order, the hits' JSON).
async fn search_all(
    v: &Visitor<'_>,
    fields: &[(&str, &str)],
) -> (Vec<String>, Vec<serde_json::Value>) {
    let mut slugs = Vec::new();
    let mut hits = Vec::new();
    for page in 1.. {
        let p = page.to_string();
        let mut f = fields.to_vec();
        f.push(("page", &p));
        let body = call_ok(v, "/api/fn/catalogue_search", &f).await;
        let batch = body["hits"].as_array().cloned().unwrap_or_default();
        for h in &batch {
            slugs.push(h["card"]["slug"].as_str().unwrap_or("").to_string());
        }
        hits.extend(batch);
        if page as u64 >= body["pages"].as_u64().unwrap_or(1) {
            assert_eq!(
                body["total"].as_u64(),
                Some(slugs.len() as u64),
                "{fields:?}"
            );
            break;
        }
    }
    (slugs, hits)
}

const QUERIES: &[&str] = &[
    "",
    "triage",
    "claims fraud",
    "radio",
    "contract",
    "mainten",
    "synthetic",
    "meridian",
    "zzzz",
    "notes",
    "reports answers",
    "bench tariffs",
    "ICD-10",
    "health",
];

async fn search_and_filters_return_exactly_the_matching_published_listings(backend: Backend) {
    let db = TestDb::new(backend).await;
    catalogue(&db).await;
    let app = App::spawn(&db).await;
    let anon = Visitor::new(&app);
    let rows = published(&db).await;
    assert!(rows.len() > 200, "{}", rows.len());
    // Each filter is off about half the time, so combinations still match.
    let industries = ["", "", "", "healthcare", "finance", "energy", "legal"];
    let models = ["", "", "", "aurora-2-70b", "lumen-3", "terra-8b"];
    let prices = ["", "", "", "", "free", "under-100", "100-1000", "over-1000"];
    let certs = ["", "", "", "", "ISO 42001", "hipaa", "SOC 2"];
    let sorts = ["", "relevance", "price", "newest"];
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut nonempty = 0;
    for round in 0..60 {
        let q = QUERIES[round % QUERIES.len()];
        let industry = industries[rng.below(industries.len())];
        let model = models[rng.below(models.len())];
        let price = prices[rng.below(prices.len())];
        let cert = certs[rng.below(certs.len())];
        let sort = sorts[rng.below(sorts.len())];
        let fields = [
            ("q", q),
            ("industry", industry),
            ("base_model", model),
            ("price", price),
            ("certification", cert),
            ("sort", sort),
        ];
        let (got, hits) = search_all(&anon, &fields).await;
        let t = terms(q);
        let band = PriceBand::parse(price);
        let want: BTreeSet<String> = rows
            .iter()
            .filter(|r| {
                relevance(
                    &TextDoc {
                        name: &r.name,
                        tagline: &r.tagline,
                        description: &r.description,
                        tags: &r.tags,
                    },
                    &t,
                )
                .is_some()
                    && (industry.is_empty() || r.industry == industry)
                    && (model.is_empty() || r.models.iter().any(|m| m == model))
                    && band.is_none_or(|b| r.fee.is_some_and(|f| b.contains(f)))
                    && (cert.is_empty() || r.certs.iter().any(|c| c.eq_ignore_ascii_case(cert)))
            })
            .map(|r| r.slug.clone())
            .collect();
        let got_set: BTreeSet<String> = got.iter().cloned().collect();
        assert_eq!(got_set.len(), got.len(), "no listing twice: {fields:?}");
        assert_eq!(got_set, want, "{fields:?}");
        if !want.is_empty() {
            nonempty += 1;
        }
        // The chosen order holds across all pages.
        let fee = |h: &serde_json::Value| {
            rows.iter()
                .find(|r| r.slug == h["card"]["slug"].as_str().unwrap_or(""))
                .and_then(|r| r.fee)
                .unwrap_or(i64::MAX)
        };
        for pair in hits.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            match sort {
                "price" => assert!(fee(a) <= fee(b), "price order {fields:?}"),
                "newest" => {}
                _ => {
                    let (ka, kb) = (a["score"]["key"].as_i64(), b["score"]["key"].as_i64());
                    assert!(ka >= kb, "score order {fields:?}");
                    if ka == kb {
                        assert!(
                            a["score"]["tie"].as_u64() < b["score"]["tie"].as_u64(),
                            "tie order"
                        );
                    }
                }
            }
        }
    }
    assert!(
        nonempty >= 15,
        "too few searches matched anything ({nonempty}) to mean much"
    );
}

async fn making_listings_first_party_never_changes_the_order(backend: Backend) {
    let db = TestDb::new(backend).await;
    catalogue(&db).await;
    let app = App::spawn(&db).await;
    let anon = Visitor::new(&app);
    let platform = db
        .count("SELECT id FROM organisations WHERE kind = 'platform'")
        .await;
    let partner = db
        .count("SELECT id FROM organisations WHERE slug = 'meridian-health'")
        .await;
    let queries: Vec<Vec<(&str, &str)>> = QUERIES
        .iter()
        .map(|q| vec![("q", *q)])
        .chain([
            vec![("q", "bench"), ("sort", "price")],
            vec![("industry", "healthcare"), ("sort", "newest")],
        ])
        .collect();
    let mut before = Vec::new();
    let mut ties = 0;
    for f in &queries {
        let (slugs, hits) = search_all(&anon, f).await;
        // Ties are stable: asking again gives the same order.
        assert_eq!(search_all(&anon, f).await.0, slugs, "{f:?} twice");
        ties += hits
            .windows(2)
            .filter(|p| p[0]["score"]["key"] == p[1]["score"]["key"])
            .count();
        let owned: HashMap<String, bool> = hits
            .iter()
            .map(|h| {
                (
                    h["card"]["slug"].as_str().unwrap_or("").to_string(),
                    h["card"]["platform_owned"] == true,
                )
            })
            .collect();
        before.push((slugs, owned));
    }
    assert!(
        ties > 0,
        "the catalogue has equal scores, so tie-breaking is exercised"
    );
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..3 {
        // Swap the platform and a partner, and hand a random share of every
        // other listing to the platform.
        let modulus = 2 + rng.below(5);
        let rest = rng.below(modulus);
        let mut conn = db.connect().await;
        sqlx::raw_sql(&format!(
            "UPDATE listings SET org_id = CASE WHEN org_id = {platform} THEN {partner} \
                                               WHEN org_id = {partner} THEN {platform} ELSE org_id END; \
             UPDATE listings SET org_id = {platform} WHERE id % {modulus} = {rest}; \
             UPDATE catalogue_state SET version = version + 1 WHERE id = 1;"
        ))
        .execute(&mut conn)
        .await
        .expect("flip");
        let mut flipped = 0;
        for (f, (slugs, owned)) in queries.iter().zip(&before) {
            let (now, hits) = search_all(&anon, f).await;
            assert_eq!(&now, slugs, "round {round}: order changed for {f:?}");
            flipped += hits
                .iter()
                .filter(|h| {
                    owned.get(h["card"]["slug"].as_str().unwrap_or(""))
                        != Some(&(h["card"]["platform_owned"] == true))
                })
                .count();
        }
        assert!(flipped > 0, "round {round} changed who publishes something");
    }
}

async fn malformed_catalogue_queries_are_refused_with_field_errors(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let anon = Visitor::new(&app);
    let long = "x".repeat(201);
    for (field, value) in [
        ("sort", "cheapest"),
        ("price", "cheap"),
        ("page", "0"),
        ("page", "two"),
        ("q", long.as_str()),
    ] {
        let (status, body) = anon
            .call("/api/fn/catalogue_search", &[(field, value)])
            .await;
        assert_eq!(status, 422, "{field}={value}: {body}");
        assert!(body["fields"][field].is_array(), "{field}: {body}");
    }
    let (status, body) = anon
        .call("/api/fn/compare_listings", &[("slugs", "a,b,c,d,e")])
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = anon
        .call("/api/fn/compare_listings", &[("slugs", "no-such-listing")])
        .await;
    assert_eq!(status, 404);
    let res = app.get("/catalogue?sort=cheapest").await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.expect("body");
    assert!(
        html.contains("Sort by relevance, price or newest."),
        "the page says what is wrong"
    );
}

async fn anonymous_catalogue_pages_are_shared_but_never_stale_or_someone_elses(backend: Backend) {
    let db = TestDb::new(backend).await;
    run_ok(&db, &["seed", "--demo"]).await;
    let app = App::spawn(&db).await;
    let path = "/catalogue?q=meridian";
    // The rendering's answer and the copies after it: the same bytes for
    // every anonymous visitor, compressed once; no nonce (one shared would
    // be known to everyone): the policy names exactly the page's scripts by
    // hash (the rendering's answer was once sent with its own nonce and
    // compressed apart).
    let raw = reqwest::Client::builder()
        .no_brotli()
        .no_gzip()
        .build()
        .expect("client");
    let mut copies = Vec::new();
    for _ in 0..3 {
        let res = raw
            .get(format!("{}{path}", app.base_url))
            .header("accept-encoding", "gzip, br")
            .send()
            .await
            .expect("copy");
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-encoding"], "br");
        assert_eq!(res.headers()["vary"], "accept-encoding");
        assert_eq!(res.headers()["cache-control"], "private, no-store");
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .expect("csp")
            .to_string();
        copies.push((csp, res.bytes().await.expect("body")));
    }
    assert_eq!(copies[0], copies[1], "the rendering's answer is the copy");
    assert_eq!(copies[1], copies[2], "one compressed copy for all");
    let (csp, compressed) = &copies[0];
    let mut html = String::new();
    std::io::Read::read_to_string(
        &mut brotli::Decompressor::new(compressed.as_ref(), 4096),
        &mut html,
    )
    .expect("brotli");
    assert!(html.contains("Meridian Radiology Notes"));
    assert!(html.contains("<script"), "{html}");
    assert!(
        !csp.contains("'nonce-") && !html.contains("nonce="),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    // Each script's text exactly as it stands between its tags, as a
    // browser hashes it.
    let mut named = 0;
    for piece in html.split("<script").skip(1) {
        use base64::Engine as _;
        use sha2::Digest as _;
        let code =
            &piece[piece.find('>').expect("tag end") + 1..piece.find("</script>").expect("close")];
        let hash =
            base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(code.as_bytes()));
        assert!(csp.contains(&format!("'sha256-{hash}'")), "{code}: {csp}");
        named += 1;
    }
    assert_eq!(csp.matches("'sha256-").count(), named, "{csp}");
    // A client that takes no compression gets the page as it is.
    let res = raw
        .get(format!("{}{path}", app.base_url))
        .send()
        .await
        .expect("plain");
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("content-encoding").is_none());
    assert_eq!(res.text().await.expect("body"), html);

    // A change to the catalogue shows at once.
    let mut conn = db.connect().await;
    sqlx::raw_sql(
        "UPDATE listings SET status = 'suspended' WHERE slug = 'meridian-radiology-notes'; \
         UPDATE catalogue_state SET version = version + 1 WHERE id = 1;",
    )
    .execute(&mut conn)
    .await
    .expect("suspend");
    let (status, html) = app.get_text("/catalogue?q=meridian").await;
    assert_eq!(status, 200);
    assert!(
        !html.contains("Meridian Radiology Notes"),
        "a stale page was served"
    );

    // Someone signed in gets their own page, never the anonymous one.
    let v = Visitor::signed_up(&app, "reader@example.org", "Reader Rowe").await;
    let res = v.get("/catalogue?q=meridian").await;
    let html = res.text().await.expect("body");
    assert!(html.contains("Reader Rowe"), "the header names the person");
    let (_, anonymous) = app.get_text("/catalogue?q=meridian").await;
    assert!(
        !anonymous.contains("Reader Rowe"),
        "and nobody else sees it"
    );
}
