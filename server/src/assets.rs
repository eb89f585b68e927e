//! The built site's assets: the app's JavaScript, its WebAssembly and the
//! stylesheet in `SITE_ROOT/pkg/`. They are read once when the server
//! starts and served from memory under names that carry a hash of their
//! content, with a year's `immutable` cache lifetime: a new build has new
//! names, so a browser never keeps an old file and never asks again for
//! one it has.
//!
//! Each is served as written at build time: `fairground precompress` (run
//! by `server/scripts/build-release.sh`) writes a brotli (quality 11) and a
//! gzip (level 9) copy beside it. Where a copy is missing or older than its
//! file (a debug build, a build by hand), the server compresses the file
//! once as it starts, at a quicker level. Nothing is compressed per request.

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The app's name in `pkg/` (cargo-leptos's `output-name`).
const OUTPUT: &str = "fairground";
/// The cache lifetime of a hashed asset.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Files in `pkg/` that are not hashed (none are linked by a page; a page
/// of an older build may still ask): checked with the server each time.
pub const UNHASHED: &str = "no-cache";

/// Compression quality of the copies written at build time.
const BUILD_BROTLI: u32 = 11;
const BUILD_GZIP: u32 = 9;
/// Compression quality used when a build left no copy.
const START_BROTLI: u32 = 5;
const START_GZIP: u32 = 6;

/// The site's hashed assets, by the path a page links them with.
#[derive(Default)]
pub struct Assets {
    by_path: HashMap<String, Asset>,
    output_name: Option<String>,
}

struct Asset {
    content_type: &'static str,
    etag: HeaderValue,
    raw: Bytes,
    br: Bytes,
    gz: Bytes,
}

/// The files of one build: (file name in `pkg/`, extension, content type).
fn files(pkg: &Path) -> Option<Vec<(PathBuf, &'static str, &'static str)>> {
    // cargo-leptos names the wasm `fairground.wasm`; wasm-bindgen alone
    // names it `fairground_bg.wasm`.
    let wasm = [format!("{OUTPUT}.wasm"), format!("{OUTPUT}_bg.wasm")]
        .into_iter()
        .map(|name| pkg.join(name))
        .find(|p| p.is_file())?;
    let js = pkg.join(format!("{OUTPUT}.js"));
    let css = pkg.join(format!("{OUTPUT}.css"));
    (js.is_file() && css.is_file()).then(|| {
        vec![
            (js, "js", "text/javascript"),
            (wasm, "wasm", "application/wasm"),
            (css, "css", "text/css; charset=utf-8"),
        ]
    })
}

impl Assets {
    /// Reads the build in `site_root/pkg`. A site without a complete build
    /// (no JS, wasm or stylesheet) has no hashed assets: pages then link
    /// the plain names, as a server without a site always did.
    pub fn load(site_root: &Path) -> std::io::Result<Assets> {
        let pkg = site_root.join("pkg");
        let Some(files) = files(&pkg) else {
            tracing::warn!(pkg = %pkg.display(), "no built site (JS, wasm and CSS) found: pages will not hydrate");
            return Ok(Assets::default());
        };
        let mut contents = Vec::with_capacity(files.len());
        let mut hasher = Sha256::new();
        for (path, ext, content_type) in files {
            let raw = std::fs::read(&path)?;
            hasher.update((raw.len() as u64).to_le_bytes());
            hasher.update(&raw);
            contents.push((path, ext, content_type, raw));
        }
        // One hash for the three: the JS names its wasm, and a page names
        // all three through one output name.
        let hash = hex::encode(&hasher.finalize()[..8]);
        let output_name = format!("{OUTPUT}.{hash}");
        let mut by_path = HashMap::new();
        for (path, ext, content_type, raw) in contents {
            let br = copy(&path, "br", &raw, |raw| brotli(raw, START_BROTLI))?;
            let gz = copy(&path, "gz", &raw, |raw| gzip(raw, START_GZIP))?;
            let asset = Asset {
                content_type,
                etag: HeaderValue::from_str(&format!("\"{hash}\""))
                    .expect("a hex hash is a header value"),
                raw: Bytes::from(raw),
                br: Bytes::from(br),
                gz: Bytes::from(gz),
            };
            // Leptos names the wasm `<output>.wasm` (`LEPTOS_OUTPUT_NAME`
            // is set at compile time, .cargo/config.toml).
            by_path.insert(format!("/pkg/{output_name}.{ext}"), asset);
        }
        tracing::info!(output = %output_name, "site assets loaded");
        Ok(Assets {
            by_path,
            output_name: Some(output_name),
        })
    }

    /// The name pages link the assets with: `fairground.<hash>`, or
    /// `fairground` without a build.
    pub fn output_name(&self) -> &str {
        self.output_name.as_deref().unwrap_or(OUTPUT)
    }

    /// The answer for a request to `path`, when it names a hashed asset.
    fn answer(&self, method: &Method, path: &str, headers: &HeaderMap) -> Option<Response> {
        let asset = self.by_path.get(path)?;
        let mut res = if headers
            .get(header::IF_NONE_MATCH)
            .is_some_and(|v| v.as_bytes() == asset.etag.as_bytes())
        {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let (body, encoding) = match preferred(headers) {
                Encoding::Brotli => (asset.br.clone(), Some("br")),
                Encoding::Gzip => (asset.gz.clone(), Some("gzip")),
                Encoding::Identity => (asset.raw.clone(), None),
            };
            let length = body.len();
            let body = if method == Method::HEAD {
                Body::empty()
            } else {
                Body::from(body)
            };
            let mut res = Response::new(body);
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            );
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
            if let Some(encoding) = encoding {
                h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
            }
            res
        };
        let h = res.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
        h.insert(header::ETAG, asset.etag.clone());
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        res.extensions_mut().insert(Precompressed);
        Some(res)
    }
}

/// Marks an answer whose body is already as compressed as it will be:
/// the compression layers leave it alone.
#[derive(Clone, Copy)]
pub struct Precompressed;

/// The answer to a request for a hashed asset (GET and HEAD); `None` for
/// everything else, which passes on.
pub fn serve(assets: &Assets, req: &Request) -> Option<Response> {
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        assets.answer(req.method(), req.uri().path(), req.headers())
    } else {
        None
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

/// The best encoding the request accepts: brotli, then gzip, else none.
/// A coding given `q=0` is refused; `*` accepts both.
pub(crate) fn preferred(headers: &HeaderMap) -> Encoding {
    let (mut br, mut gz) = (false, false);
    let (mut br_said, mut gz_said, mut any) = (false, false, false);
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let ok = q > 0.0;
            match name.as_str() {
                "br" => (br, br_said) = (ok, true),
                "gzip" | "x-gzip" => (gz, gz_said) = (ok, true),
                "*" => any = ok,
                _ => {}
            }
        }
    }
    if br || (any && !br_said) {
        Encoding::Brotli
    } else if gz || (any && !gz_said) {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

/// The compressed copy of `path` with extension `ext` written at build
/// time, or, when there is none newer than the file, `make(raw)`.
fn copy(
    path: &Path,
    ext: &str,
    raw: &[u8],
    make: impl Fn(&[u8]) -> std::io::Result<Vec<u8>>,
) -> std::io::Result<Vec<u8>> {
    let copy = with_extension(path, ext);
    let fresh = match (std::fs::metadata(&copy), std::fs::metadata(path)) {
        (Ok(c), Ok(f)) => match (c.modified(), f.modified()) {
            (Ok(c), Ok(f)) => c >= f,
            _ => false,
        },
        _ => false,
    };
    if fresh {
        return std::fs::read(&copy);
    }
    tracing::info!(file = %path.display(), ext, "no compressed copy from the build: compressing once at start");
    make(raw)
}

fn with_extension(path: &Path, ext: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(ext);
    PathBuf::from(name)
}

pub(crate) fn brotli(raw: &[u8], quality: u32) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len() / 3);
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 64 * 1024, quality, 24);
        w.write_all(raw)?;
        w.flush()?;
    }
    Ok(out)
}

/// A brotli stream of `raw` made to be joined to others by `brotli_join`:
/// the first part of a whole is `appendable`; every later part `catable`
/// (byte-aligned at its start, never referring to data before itself).
pub(crate) fn brotli_part(raw: &[u8], first: bool, quality: i32) -> std::io::Result<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams {
        quality,
        // One window size for every part: a part may not have a larger
        // window than the part before it.
        lgwin: 22,
        appendable: true,
        catable: !first,
        ..Default::default()
    };
    let mut out = Vec::with_capacity(raw.len() / 3 + 16);
    brotli::BrotliCompress(&mut &raw[..], &mut out, &params)?;
    Ok(out)
}

/// One brotli stream of the parts' contents in order, from parts made by
/// `brotli_part` (the first with `first`): their streams are spliced
/// where they meet, nothing is compressed again. None if a part was not
/// made to be joined.
pub(crate) fn brotli_join(parts: &[&[u8]]) -> Option<Vec<u8>> {
    use brotli::concat::{BroCatli, BroCatliResult};
    let mut joined = BroCatli::new();
    let mut out = vec![0u8; parts.iter().map(|p| p.len()).sum::<usize>() + 64];
    let mut written = 0;
    for part in parts {
        joined.new_brotli_file();
        let mut read = 0;
        loop {
            match joined.stream(part, &mut read, &mut out, &mut written) {
                BroCatliResult::NeedsMoreInput => break,
                BroCatliResult::NeedsMoreOutput => out.resize(out.len() * 2, 0),
                _ => return None,
            }
        }
    }
    loop {
        match joined.finish(&mut out, &mut written) {
            BroCatliResult::Success => break,
            BroCatliResult::NeedsMoreOutput => out.resize(out.len() * 2, 0),
            _ => return None,
        }
    }
    out.truncate(written);
    Some(out)
}

pub(crate) fn gzip(raw: &[u8], level: u32) -> std::io::Result<Vec<u8>> {
    let mut w = flate2::write::GzEncoder::new(
        Vec::with_capacity(raw.len() / 3),
        flate2::Compression::new(level),
    );
    w.write_all(raw)?;
    w.finish()
}

/// `fairground precompress`: writes the build-time brotli and gzip copies
/// of the site's JS, wasm and CSS. Returns the files written.
pub fn precompress(site_root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let pkg = site_root.join("pkg");
    let Some(files) = files(&pkg) else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!(
                "{} has no built site (JS, wasm and CSS): build it first",
                pkg.display()
            ),
        ));
    };
    let mut written = Vec::new();
    for (path, _, _) in files {
        let raw = std::fs::read(&path)?;
        for (ext, bytes) in [
            ("br", brotli(&raw, BUILD_BROTLI)?),
            ("gz", gzip(&raw, BUILD_GZIP)?),
        ] {
            let out = with_extension(&path, ext);
            std::fs::write(&out, bytes)?;
            written.push(out);
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn accepting(value: &str) -> Encoding {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        preferred(&h)
    }

    #[test]
    fn the_best_accepted_encoding_is_chosen() {
        assert_eq!(accepting("gzip, deflate, br, zstd"), Encoding::Brotli);
        assert_eq!(accepting("gzip"), Encoding::Gzip);
        assert_eq!(accepting("br;q=0, gzip;q=0.5"), Encoding::Gzip);
        assert_eq!(accepting("deflate"), Encoding::Identity);
        assert_eq!(accepting("*"), Encoding::Brotli);
        assert_eq!(accepting("*, br;q=0"), Encoding::Gzip);
        assert_eq!(accepting("gzip;q=0, br; q=0"), Encoding::Identity);
        assert_eq!(preferred(&HeaderMap::new()), Encoding::Identity);
    }

    #[test]
    fn both_copies_decompress_to_the_file() {
        let raw: Vec<u8> = (0..50_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let br = brotli(&raw, BUILD_BROTLI).unwrap();
        let mut back = Vec::new();
        brotli::Decompressor::new(br.as_slice(), 4096)
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, raw);
        let gz = gzip(&raw, BUILD_GZIP).unwrap();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(gz.as_slice())
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, raw);
        assert!(br.len() < raw.len() / 4 && gz.len() < raw.len() / 4);
    }

    #[test]
    fn parts_joined_decompress_to_the_whole() {
        let page = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|i| format!("<li class=\"card\">listing {i} &amp; more</li>"))
                .collect::<String>()
                .into_bytes()
        };
        let (head, tail) = (page(80), page(900));
        for quality in [0, 1, 4] {
            let first = brotli_part(&head, true, quality).unwrap();
            let last = brotli_part(&tail, false, quality).unwrap();
            for middle in [&b""[..], b"<a href=\"/account\">R&amp;D \xc3\xa9</a>"] {
                let part = brotli_part(middle, false, quality).unwrap();
                let joined = brotli_join(&[&first, &part, &last]).expect("joined");
                let mut back = Vec::new();
                brotli::Decompressor::new(joined.as_slice(), 4096)
                    .read_to_end(&mut back)
                    .unwrap();
                assert_eq!(
                    back,
                    [&head[..], middle, &tail[..]].concat(),
                    "quality {quality}"
                );
            }
        }
        // A stream not made to be joined is refused, not spliced wrongly.
        let plain = brotli(&tail, 5).unwrap();
        let first = brotli_part(&head, true, 1).unwrap();
        assert!(brotli_join(&[&first, &plain]).is_none());
    }
}
