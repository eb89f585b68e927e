//! The rules of the source layout, checked on every test run:
//!
//! 1. No capability's pages import another capability's pages: shared
//!    pieces come from `ui`, and the route table (`lib.rs`, `layout.rs`)
//!    is the one place that puts pages from several capabilities together.
//! 2. `ui` imports no capability at all.
//! 3. No import cycles between files. A file naming items of a module
//!    that encloses it (a workflow file using its capability's types) is
//!    not an edge: that is how a module and its parts belong together.
//! 4. Only the boundary reads the request or the Leptos context: server
//!    functions (`api`) and pages (`views`), and the foundations that do
//!    it for them (`request`, `state`, `error`, `ui`, the route table).
//!    Services are handed the state, the session, the origin and the actor.
//!
//! The check reads `crate::…` and `super::…` paths in the sources (test
//! modules and comments left out) and resolves each to the file of the
//! longest module it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Modules that are not capabilities: shared foundations any file may use.
const FOUNDATIONS: &[&str] = &[
    "calendar", "db", "domain", "download", "error", "form", "layout", "request", "state", "ui",
];

/// What reads the request or the Leptos context (rule 4).
const READS_THE_REQUEST: &[&str] = &[
    "use_context",
    "expect_context",
    "leptos_axum::extract",
    "request::Parts",
    "app_state(",
    "from_request(",
    "Visit::current(",
    "visit::current",
    "visit::viewer",
];

/// Modules allowed to read the request: the boundary (server functions,
/// pages, and the CSV download handlers of `subscriptions::export`), the foundations that
/// read it for the boundary, the visit (what the boundary hands on) and the
/// session reader it uses, and the exposure record (a response's showings go into the
/// request's collection, which the page cache replays).
fn may_read_request(module: &str) -> bool {
    is_views(module)
        || module
            .split("::")
            .any(|s| s == "api" || s.ends_with("_api"))
        || matches!(
            capability(module),
            "" | "request" | "state" | "error" | "ui" | "layout"
        )
        || matches!(
            module,
            "subscriptions::export" | "auth::visit" | "auth::session" | "exposure::record"
        )
}

/// Files outside the boundary that read the request.
fn request_violations(sources: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    for (module, code) in sources {
        if may_read_request(module) {
            continue;
        }
        for token in READS_THE_REQUEST {
            if code.contains(token) {
                out.push(format!("{module} reads the request ({token})"));
            }
        }
    }
    out
}

/// What `ui` may import besides itself.
const UI_MAY_USE: &[&str] = &["calendar", "domain", "error"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("the source directory is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a source file: `listings/service/mod.rs` →
/// `["listings", "service"]`, `lib.rs` → `[]`.
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The source without comments and without `#[cfg(test)]` modules.
fn code_of(source: &str) -> String {
    let source = match source.find("#[cfg(test)]\nmod tests") {
        Some(at) => &source[..at],
        None => source,
    };
    source
        .lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every path the code names through `crate::` or `super::`, as module
/// segments from the crate root (groups `a::{b, c::d}` expanded one level).
fn named_paths(code: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let boundary = i == 0 || !is_ident(bytes[i - 1]);
        let rest: String = bytes[i..bytes.len().min(i + 7)].iter().collect();
        if !(boundary && (rest.starts_with("crate::") || rest.starts_with("super::"))) {
            i += 1;
            continue;
        }
        // Read `seg::seg::…` and an optional `{…}` group.
        let mut j = i;
        let mut segs: Vec<String> = Vec::new();
        let mut group = None;
        loop {
            let start = j;
            while j < bytes.len() && is_ident(bytes[j]) {
                j += 1;
            }
            if j > start {
                segs.push(bytes[start..j].iter().collect());
            }
            if bytes.get(j) == Some(&':') && bytes.get(j + 1) == Some(&':') {
                j += 2;
                if bytes.get(j) == Some(&'{') {
                    let end = (j..bytes.len()).find(|&k| bytes[k] == '}').unwrap_or(j);
                    group = Some(bytes[j + 1..end].iter().collect::<String>());
                    j = end;
                    break;
                }
            } else {
                break;
            }
        }
        let mut base: Vec<String> = Vec::new();
        let mut it = segs.into_iter().peekable();
        if it.peek().is_some_and(|s| s == "crate") {
            it.next();
        } else {
            base = module.to_vec();
            while it.peek().is_some_and(|s| s == "super") {
                it.next();
                base.pop();
            }
        }
        base.extend(it);
        match group {
            Some(g) => {
                for item in g.split(',') {
                    let item = item.split_whitespace().next().unwrap_or("");
                    let mut full = base.clone();
                    full.extend(
                        item.split("::")
                            .filter(|s| !s.is_empty() && s.chars().all(is_ident))
                            .map(str::to_string),
                    );
                    out.push(full);
                }
            }
            None => out.push(base),
        }
        i = j.max(i + 1);
    }
    out
}

/// Files (as module paths) and the modules each imports.
/// Every source file's code (see `code_of`), by module name.
fn sources() -> BTreeMap<String, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files
        .into_iter()
        // This file names modules in its own test data.
        .filter(|f| !f.ends_with("layout_rules.rs"))
        .map(|f| {
            let rel = f.strip_prefix(&src).expect("under src").to_path_buf();
            let code = code_of(&std::fs::read_to_string(&f).expect("a readable source file"));
            (module_of(&rel).join("::"), code)
        })
        .collect()
}

fn import_graph(modules: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph = BTreeMap::new();
    for (name, code) in modules {
        let module: Vec<String> = if name.is_empty() {
            Vec::new()
        } else {
            name.split("::").map(str::to_string).collect()
        };
        let mut targets = BTreeSet::new();
        for path in named_paths(code, &module) {
            let target = (1..=path.len())
                .rev()
                .map(|n| path[..n].join("::"))
                .find(|m| modules.contains_key(m));
            if let Some(t) = target {
                let encloses = name == &t || name.starts_with(&format!("{t}::")) || t.is_empty();
                if !encloses {
                    targets.insert(t);
                }
            }
        }
        graph.insert(name.clone(), targets);
    }
    graph
}

fn capability(module: &str) -> &str {
    module.split("::").next().unwrap_or("")
}

fn is_views(module: &str) -> bool {
    module
        .split("::")
        .any(|s| s == "views" || s.ends_with("_views"))
}

/// Views importing another capability's views.
fn view_violations(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut out = Vec::new();
    for (from, targets) in graph {
        let cap = capability(from);
        if cap.is_empty() || FOUNDATIONS.contains(&cap) {
            continue;
        }
        for to in targets {
            if is_views(to) && capability(to) != cap {
                out.push(format!("{from} imports {to}"));
            }
        }
    }
    out
}

/// `ui` importing a capability (or anything outside its allowed list).
fn ui_violations(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    graph
        .iter()
        .filter(|(from, _)| capability(from) == "ui")
        .flat_map(|(from, targets)| {
            targets
                .iter()
                .filter(|to| capability(to) != "ui" && !UI_MAY_USE.contains(&capability(to)))
                .map(move |to| format!("{from} imports {to}"))
        })
        .collect()
}

/// Groups of files that import one another in a circle (Tarjan's strongly
/// connected components of more than one file).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        next: usize,
        found: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a str) {
            self.index.insert(v, self.next);
            self.low.insert(v, self.next);
            self.next += 1;
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low[v];
                    self.low.insert(v, lv.min(lw));
                } else if self.on_stack.contains(w) {
                    let iw = self.index[w];
                    let lv = self.low[v];
                    self.low.insert(v, lv.min(iw));
                }
            }
            if self.low[v] == self.index[v] {
                let mut group = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    group.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if group.len() > 1 {
                    group.sort();
                    self.found.push(group);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.found
}

#[test]
fn pages_take_shared_pieces_from_ui_and_files_import_without_cycles() {
    let sources = sources();
    let graph = import_graph(&sources);
    assert!(
        graph.len() > 50 && graph.contains_key("listings::service::drafting"),
        "the check reads every source file ({} found)",
        graph.len()
    );
    assert_eq!(view_violations(&graph), Vec::<String>::new());
    assert_eq!(ui_violations(&graph), Vec::<String>::new());
    assert_eq!(cycles(&graph), Vec::<Vec<String>>::new());
    assert_eq!(request_violations(&sources), Vec::<String>::new());
}

#[test]
fn the_check_sees_each_kind_of_violation() {
    let module = |s: &str| s.split("::").map(str::to_string).collect::<Vec<_>>();
    let code = code_of(
        "use super::super::ui::fields::Field; // crate::ignored::views\n\
         use crate::catalogue::views::{ResultList, home::HomePage};\n\
         fn f() { crate::subscriptions::views::SubscribeBox(); }\n\
         #[cfg(test)]\nmod tests { use crate::orgs::views::X; }",
    );
    let paths = named_paths(&code, &module("listings::views::public"));
    assert_eq!(
        paths,
        [
            module("listings::ui::fields::Field"),
            module("catalogue::views::ResultList"),
            module("catalogue::views::home::HomePage"),
            module("subscriptions::views::SubscribeBox"),
        ]
    );
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("listings::views", vec!["catalogue::views", "ui::fields"]),
        ("catalogue::views", vec!["catalogue::api"]),
        ("ui::fields", vec!["auth::views", "error"]),
        ("auth::views", vec!["ui::fields"]),
        ("catalogue::db", vec!["catalogue::index"]),
        ("catalogue::index", vec!["catalogue::db"]),
        ("layout", vec!["auth::views"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(str::to_string).collect()))
    .collect();
    assert_eq!(
        view_violations(&graph),
        ["listings::views imports catalogue::views"]
    );
    assert_eq!(ui_violations(&graph), ["ui::fields imports auth::views"]);
    assert_eq!(
        cycles(&graph),
        [
            vec!["auth::views".to_string(), "ui::fields".to_string()],
            vec!["catalogue::db".to_string(), "catalogue::index".to_string()]
        ]
    );
    let sources: BTreeMap<String, String> = [
        ("orgs::service", "let s = crate::state::app_state()?;"),
        ("metering::service", "use_context::<http::request::Parts>()"),
        ("orgs::api", "let visit = Visit::current().await?;"),
        (
            "listings::views::public",
            "let (state, actor) = crate::auth::visit::viewer().await?;",
        ),
        ("cases::db", "use crate::auth::visit::current;"),
        (
            "cases::service",
            "pub async fn decide(state: &AppState, actor: &Actor)",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(
        request_violations(&sources),
        [
            "cases::db reads the request (visit::current)",
            "metering::service reads the request (use_context)",
            "metering::service reads the request (request::Parts)",
            "orgs::service reads the request (app_state()",
        ]
    );
}
