//! Evaluation with provenance. A deployment's score is either
//! *self-reported* (typed by its publisher, shown as such, never a ranking
//! input) or *verified*: referees publish one evaluation set per industry
//! (JSON Lines of prompts and expected answers, versioned, public), and an
//! evaluation run sends the set's prompts to a deployment's model server
//! through the platform, scores each answer with the set's rule, and
//! records the score, the set version, the date and each item's outcome.
//! The ranking uses only verified scores that are not stale: a run is
//! stale once the deployment's revision or endpoint changed after it, or
//! once its industry's set has a newer version.

pub mod api;
#[cfg(feature = "ssr")]
pub mod service;
pub mod views;

use crate::ui::fields::Choice;
use serde::{Deserialize, Serialize};

/// Whether the deployment's latest run (`r`) no longer counts: the
/// deployment (`d`) changed after it, or its listing's (`l`) industry has
/// a newer set version. SQL, true when stale.
pub const STALE: &str = "(d.verified_stale = 1 OR r.set_version_id <> \
     (SELECT MAX(v2.id) FROM evaluation_set_versions v2 \
      JOIN evaluation_sets s2 ON s2.id = v2.set_id WHERE s2.industry = l.industry))";

/// Most items a set version may hold.
pub const MAX_ITEMS: usize = 200;
/// Longest prompt and expected answer, in characters.
pub const MAX_PROMPT: usize = 4_000;
pub const MAX_EXPECTED: usize = 500;

/// How an answer is scored against the expected one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rule {
    /// The answer, trimmed, equals the expected text.
    Exact,
    /// The answer contains the expected text, letter case ignored.
    Contains,
    /// The first number in the answer is within the tolerance of the
    /// expected number.
    Numeric,
}

impl Rule {
    pub fn parse(s: &str) -> Option<Rule> {
        match s {
            "exact" => Some(Rule::Exact),
            "contains" => Some(Rule::Contains),
            "numeric" => Some(Rule::Numeric),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Exact => "exact",
            Rule::Contains => "contains",
            Rule::Numeric => "numeric",
        }
    }

    /// In a sentence, with the tolerance (thousandths) for numeric.
    pub fn describe(self, tolerance_milli: i64) -> String {
        match self {
            Rule::Exact => "exact: the answer, trimmed, equals the expected answer".into(),
            Rule::Contains => {
                "contains: the answer contains the expected answer (letter case ignored)".into()
            }
            Rule::Numeric => format!(
                "numeric: the first number in the answer is within ±{} of the expected number",
                format_milli(tolerance_milli)
            ),
        }
    }
}

/// 1500 → "1.5".
pub fn format_milli(m: i64) -> String {
    let whole = m / 1000;
    let frac = m % 1000;
    if frac == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{frac:03}")
            .trim_end_matches('0')
            .to_string()
    }
}

/// "0.25" → 250 thousandths; None unless a number ≥ 0 with at most three
/// decimals.
pub fn parse_milli(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return Some(0);
    }
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() && frac.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || frac.len() > 3
        || whole.len() > 9
    {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac: i64 = format!("{frac:0<3}").parse().ok()?;
    Some(whole * 1000 + frac)
}

/// One item of a set: a prompt and the answer expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub prompt: String,
    pub expected: String,
}

/// Reads a set's JSON Lines: one `{"prompt": "...", "expected": "..."}`
/// per line (blank lines skipped; `expected` may be a number). The error
/// names the first line that is wrong.
#[cfg(feature = "ssr")]
pub fn parse_items(text: &str, rule: Rule) -> Result<Vec<Item>, String> {
    let mut items = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let n = i + 1;
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|_| format!("Line {n} is not a JSON object."))?;
        let Some(obj) = v.as_object() else {
            return Err(format!("Line {n} is not a JSON object."));
        };
        let prompt = obj
            .get("prompt")
            .and_then(|p| p.as_str())
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .ok_or_else(|| format!("Line {n} needs a \"prompt\" (text)."))?;
        let expected = match obj.get("expected") {
            Some(serde_json::Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            Some(serde_json::Value::Number(x)) => x.to_string(),
            _ => {
                return Err(format!(
                    "Line {n} needs an \"expected\" answer (text or number)."
                ))
            }
        };
        if obj.keys().any(|k| k != "prompt" && k != "expected") {
            return Err(format!(
                "Line {n} has a field other than \"prompt\" and \"expected\"."
            ));
        }
        if prompt.chars().count() > MAX_PROMPT || expected.chars().count() > MAX_EXPECTED {
            return Err(format!(
                "Line {n} is too long: a prompt may have {MAX_PROMPT} characters, an expected answer {MAX_EXPECTED}."
            ));
        }
        if rule == Rule::Numeric && first_number(&expected).is_none() {
            return Err(format!("Line {n}: a numeric set expects a number."));
        }
        items.push(Item {
            prompt: prompt.to_string(),
            expected,
        });
        if items.len() > MAX_ITEMS {
            return Err(format!("A set holds at most {MAX_ITEMS} items."));
        }
    }
    if items.is_empty() {
        return Err("Give at least one item.".into());
    }
    Ok(items)
}

/// The set's items as JSON Lines (what is published and downloaded).
#[cfg(feature = "ssr")]
pub fn to_jsonl(items: &[Item]) -> String {
    items
        .iter()
        .map(|i| serde_json::json!({"prompt": i.prompt, "expected": i.expected}).to_string() + "\n")
        .collect()
}

/// The first decimal number in `s`, as thousandths (rounded toward zero).
#[cfg(feature = "ssr")]
fn first_number(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let neg = b[i] == b'-' && i + 1 < b.len() && b[i + 1].is_ascii_digit();
        if b[i].is_ascii_digit() || neg {
            let start = if neg { i + 1 } else { i };
            let mut j = start;
            while j < b.len() && (b[j].is_ascii_digit() || b[j] == b',') {
                j += 1;
            }
            let whole: String = s[start..j].chars().filter(|c| *c != ',').collect();
            let mut frac = String::new();
            if j + 1 < b.len() && b[j] == b'.' && b[j + 1].is_ascii_digit() {
                let mut k = j + 1;
                while k < b.len() && b[k].is_ascii_digit() {
                    k += 1;
                }
                frac = s[j + 1..k].chars().take(3).collect();
            }
            let whole: i128 = whole.get(..whole.len().min(30))?.parse().ok()?;
            let frac: i128 = format!("{frac:0<3}").parse().ok()?;
            let v = whole * 1000 + frac;
            return Some(if neg { -v } else { v });
        }
        i += 1;
    }
    None
}

/// Whether `answer` passes against `expected` under `rule`.
#[cfg(feature = "ssr")]
pub fn passes(rule: Rule, tolerance_milli: i64, expected: &str, answer: &str) -> bool {
    match rule {
        Rule::Exact => answer.trim() == expected.trim(),
        Rule::Contains => answer
            .to_lowercase()
            .contains(&expected.trim().to_lowercase()),
        Rule::Numeric => match (first_number(expected), first_number(answer)) {
            (Some(e), Some(a)) => (a - e).abs() <= tolerance_milli as i128,
            _ => false,
        },
    }
}

/// A run's score: the share of items passed, in whole percent, rounded
/// down (an item that failed to answer counts as failed).
#[cfg(feature = "ssr")]
pub fn score(passed: i64, total: i64) -> i64 {
    if total <= 0 {
        0
    } else {
        (passed.clamp(0, total) * 100) / total
    }
}

/// One version of an industry's set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetVersion {
    pub version: i64,
    pub rule: String,
    pub item_count: i64,
    pub reason: String,
    pub published_at: i64,
}

/// An industry's evaluation set with its versions (newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvaluationSet {
    pub id: i64,
    pub industry: String,
    pub industry_name: String,
    pub name: String,
    pub versions: Vec<SetVersion>,
}

/// One evaluation run, as anyone sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunView {
    pub id: i64,
    pub listing_name: String,
    pub listing_slug: String,
    /// `slug@base-model`.
    pub deployment: String,
    pub revision: String,
    pub set_name: String,
    pub set_version: i64,
    pub passed: i64,
    pub total: i64,
    pub errors: i64,
    pub score: i64,
    pub finished_at: i64,
    /// No longer counts: the deployment changed since, or the set has a
    /// newer version.
    pub stale: bool,
    /// The deployment's latest run (earlier runs are history).
    pub current: bool,
}

/// One item's outcome in a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemOutcome {
    pub no: i64,
    pub prompt: String,
    pub expected: String,
    /// "pass", "fail" or "error" (no usable answer).
    pub outcome: String,
}

/// A run with its items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunDetail {
    pub run: RunView,
    pub rule: String,
    pub items: Vec<ItemOutcome>,
}

/// The evaluations page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvaluationsPage {
    pub sets: Vec<EvaluationSet>,
    pub runs: Vec<RunView>,
    /// The viewer is a referee: may publish sets and start runs.
    pub referee: bool,
    pub industries: Vec<Choice>,
    /// Published listings' active deployments with an endpoint.
    pub deployments: Vec<Choice>,
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn rules_score_answers() {
        assert!(passes(Rule::Exact, 0, "B", "  B\n"));
        assert!(!passes(Rule::Exact, 0, "B", "b"));
        assert!(passes(
            Rule::Contains,
            0,
            "sepsis",
            "Likely SEPSIS, escalate."
        ));
        assert!(!passes(Rule::Contains, 0, "sepsis", "Likely sinusitis."));
        assert!(passes(Rule::Numeric, 500, "42", "About 42.4 mg"));
        assert!(!passes(Rule::Numeric, 500, "42", "About 42.6 mg"));
        assert!(passes(Rule::Numeric, 0, "-3", "It is -3."));
        assert!(passes(Rule::Numeric, 0, "1200", "1,200 units"));
        assert!(!passes(Rule::Numeric, 0, "7", "no number here"));
    }

    #[test]
    fn scores_round_down() {
        assert_eq!(score(2, 3), 66);
        assert_eq!(score(3, 3), 100);
        assert_eq!(score(0, 0), 0);
    }

    #[test]
    fn tolerance_reads_and_prints() {
        assert_eq!(parse_milli("0.5"), Some(500));
        assert_eq!(parse_milli("2"), Some(2000));
        assert_eq!(parse_milli(""), Some(0));
        assert_eq!(parse_milli("1.2345"), None);
        assert_eq!(parse_milli("-1"), None);
        assert_eq!(parse_milli("."), None);
        assert_eq!(format_milli(1500), "1.5");
        assert_eq!(format_milli(2000), "2");
    }

    #[test]
    fn jsonl_errors_name_the_line() {
        let ok = "{\"prompt\": \"a\", \"expected\": \"b\"}\n\n{\"prompt\": \"c\", \"expected\": 4}";
        let items = parse_items(ok, Rule::Exact).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].expected, "4");
        assert_eq!(parse_items(&to_jsonl(&items), Rule::Exact).unwrap(), items);
        let bad = "{\"prompt\": \"a\", \"expected\": \"b\"}\nnot json";
        assert_eq!(
            parse_items(bad, Rule::Exact).unwrap_err(),
            "Line 2 is not a JSON object."
        );
        assert!(
            parse_items("{\"prompt\": \"a\", \"expected\": \"x\"}", Rule::Numeric)
                .unwrap_err()
                .contains("Line 1")
        );
        assert!(parse_items("", Rule::Exact).is_err());
    }
}
