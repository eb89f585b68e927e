//! The built site's assets: linked by hashed names, cached for a year,
//! served as compressed at build time (or once at start), never per
//! request. Not a database feature: SQLite only.

use crate::helpers::{App, Backend, TestDb, BIN};
use std::io::Read;
use std::path::Path;

const JS: &str = "export default async function init() {}\nexport function hydrate() {}\n";
const CSS: &str = "body { color: #102030; }\n.card { padding: 1rem; }\n";

/// A site with a (stand-in) build: JS, wasm and stylesheet, big enough to
/// be worth compressing.
fn site(dir: &Path) {
    let pkg = dir.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("fairground.js"), JS.repeat(200)).unwrap();
    let wasm: Vec<u8> = (0..40_000u32)
        .flat_map(|i| (i % 97).to_le_bytes())
        .collect();
    std::fs::write(pkg.join("fairground_bg.wasm"), wasm).unwrap();
    std::fs::write(pkg.join("fairground.css"), CSS.repeat(300)).unwrap();
}

/// A client that shows bodies as sent (no decompression).
fn raw_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .build()
        .unwrap()
}

/// The hrefs the home page links its stylesheet, JS and wasm with.
async fn linked(app: &App) -> (String, String, String) {
    let html = app
        .client
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let doc = scraper::Html::parse_document(&html);
    let href = |sel: &str| -> String {
        let s = scraper::Selector::parse(sel).unwrap();
        doc.select(&s)
            .next()
            .unwrap_or_else(|| panic!("{sel} in the page:\n{html}"))
            .value()
            .attr("href")
            .unwrap()
            .to_string()
    };
    (
        href("link[rel=stylesheet]"),
        href("link[rel=modulepreload]"),
        href("link[rel=preload][as=fetch]"),
    )
}

fn unbrotli(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(b, 4096)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn ungzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b)
        .read_to_end(&mut out)
        .unwrap();
    out
}

async fn get(url: &str, accept: Option<&str>) -> reqwest::Response {
    let mut req = raw_client().get(url);
    if let Some(a) = accept {
        req = req.header("accept-encoding", a);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn assets_are_hashed_cached_for_a_year_and_sent_as_compressed_at_build_time() {
    let dir = tempfile_dir("built");
    site(&dir);
    let root = dir.to_str().unwrap();
    // The build step: `fairground precompress` writes both copies.
    precompress(root).await;
    let pkg = dir.join("pkg");
    for name in ["fairground.js", "fairground_bg.wasm", "fairground.css"] {
        let raw = std::fs::read(pkg.join(name)).unwrap();
        let br = std::fs::read(pkg.join(format!("{name}.br"))).unwrap();
        let gz = std::fs::read(pkg.join(format!("{name}.gz"))).unwrap();
        assert_eq!(unbrotli(&br), raw, "{name}.br");
        assert_eq!(ungzip(&gz), raw, "{name}.gz");
    }

    let db = TestDb::new(Backend::Sqlite).await;
    let app = App::spawn_with(&db, &[("FAIRGROUND_SITE_ROOT", root)]).await;
    let (css, js, wasm) = linked(&app).await;
    let hashed = |href: &str, ext: &str| {
        let name = href
            .strip_prefix("/pkg/fairground.")
            .and_then(|n| n.strip_suffix(ext))
            .unwrap_or_else(|| panic!("{href} is a hashed /pkg/ name"));
        assert!(
            name.len() == 16 && name.bytes().all(|b| b.is_ascii_hexdigit()),
            "{href} carries a content hash"
        );
        name.to_string()
    };
    let hash = hashed(&css, ".css");
    assert_eq!(hashed(&js, ".js"), hash);
    assert_eq!(hashed(&wasm, ".wasm"), hash);

    for (href, file, content_type) in [
        (&css, "fairground.css", "text/css; charset=utf-8"),
        (&js, "fairground.js", "text/javascript"),
        (&wasm, "fairground_bg.wasm", "application/wasm"),
    ] {
        let raw = std::fs::read(pkg.join(file)).unwrap();
        for (accept, encoding, expected) in [
            (
                Some("gzip, deflate, br, zstd"),
                Some("br"),
                format!("{file}.br"),
            ),
            (Some("gzip"), Some("gzip"), format!("{file}.gz")),
            (
                Some("br;q=0, gzip;q=0.8"),
                Some("gzip"),
                format!("{file}.gz"),
            ),
            // Only codings the build did not write: sent as it is, not
            // compressed for this request.
            (Some("deflate"), None, file.to_string()),
            (None, None, file.to_string()),
        ] {
            let res = get(&app.url(href), accept).await;
            assert_eq!(res.status(), 200, "{href} {accept:?}");
            let h = res.headers().clone();
            let value = |name: &str| {
                h.get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            assert_eq!(
                value("cache-control").as_deref(),
                Some("public, max-age=31536000, immutable"),
                "{href}"
            );
            assert_eq!(value("vary").as_deref(), Some("accept-encoding"), "{href}");
            assert_eq!(
                value("content-type").as_deref(),
                Some(content_type),
                "{href}"
            );
            assert_eq!(
                value("content-encoding").as_deref(),
                encoding,
                "{href} {accept:?}"
            );
            assert_eq!(value("etag"), Some(format!("\"{hash}\"")), "{href}");
            assert_eq!(value("x-content-type-options").as_deref(), Some("nosniff"));
            let body = res.bytes().await.unwrap();
            // Byte for byte the file written at build time.
            assert_eq!(
                body.as_ref(),
                std::fs::read(pkg.join(&expected)).unwrap().as_slice(),
                "{href} {accept:?} is {expected} as written"
            );
            if encoding.is_none() {
                assert_eq!(body.as_ref(), raw.as_slice());
            }
        }
        // A browser that has it asks once more at most: 304, no body.
        let res = raw_client()
            .get(app.url(href))
            .header("if-none-match", format!("\"{hash}\""))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 304, "{href}");
        let res = raw_client().head(app.url(href)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers()["content-length"].to_str().unwrap(),
            raw.len().to_string()
        );
        assert!(res.bytes().await.unwrap().is_empty(), "HEAD has no body");
    }

    // Another hash is not this build: not found (and not cached for a year).
    let res = get(&app.url("/pkg/fairground.00000000deadbeef.js"), Some("br")).await;
    assert_eq!(res.status(), 404);
    assert_ne!(
        res.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("public, max-age=31536000, immutable")
    );
    // The plain name still answers (a page of an older build may ask), and
    // is checked with the server each time.
    let res = get(&app.url("/pkg/fairground.css"), None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-cache");
    // Pages are never kept.
    let res = get(&app.url("/"), Some("br")).await;
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    drop(app);

    // A new build (one byte of the stylesheet changed) has new names.
    std::fs::write(pkg.join("fairground.css"), CSS.repeat(300) + " ").unwrap();
    precompress(root).await;
    let app = App::spawn_with(&db, &[("FAIRGROUND_SITE_ROOT", root)]).await;
    let (css2, _, _) = linked(&app).await;
    assert_ne!(css2, css, "a changed file changes the names");
    assert_eq!(get(&app.url(&css), Some("br")).await.status(), 404);
    drop(app);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_build_without_compressed_copies_is_compressed_once_at_start() {
    let dir = tempfile_dir("unpacked");
    site(&dir);
    let pkg = dir.join("pkg");
    // A stale copy (written before its file changed) is not used either.
    std::fs::write(pkg.join("fairground.css.br"), b"stale").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(pkg.join("fairground.css"), CSS.repeat(301)).unwrap();
    let db = TestDb::new(Backend::Sqlite).await;
    let app = App::spawn_with(&db, &[("FAIRGROUND_SITE_ROOT", dir.to_str().unwrap())]).await;
    let (css, js, wasm) = linked(&app).await;
    for (href, file) in [
        (&css, "fairground.css"),
        (&js, "fairground.js"),
        (&wasm, "fairground_bg.wasm"),
    ] {
        let raw = std::fs::read(pkg.join(file)).unwrap();
        let res = get(&app.url(href), Some("br")).await;
        assert_eq!(res.headers()["content-encoding"], "br", "{href}");
        let br = res.bytes().await.unwrap();
        assert!(br.len() < raw.len(), "{href} is compressed");
        assert_eq!(unbrotli(&br), raw, "{href}");
        let res = get(&app.url(href), Some("gzip")).await;
        assert_eq!(res.headers()["content-encoding"], "gzip");
        assert_eq!(ungzip(&res.bytes().await.unwrap()), raw, "{href}");
    }
    drop(app);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs the build step `fairground precompress` on the site at `root`.
async fn precompress(root: &str) {
    let out = tokio::process::Command::new(BIN)
        .args(["precompress"])
        .env("FAIRGROUND_SITE_ROOT", root)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn tempfile_dir(what: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "fairground-site-{what}-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
