//! The one ranking function. Every list of listings the catalogue shows is
//! ordered here. Its input, `RankInput`, carries text relevance and signals
//! published about the listing itself; it has no field from which the
//! publisher (or the publisher's kind) can be read, so the platform's own
//! listings cannot be favoured by it. The "How ranking works" page prints
//! the constants below, so the published formula is the one in use.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// The weights the marketplace opened with; they add up to 1, so a score
/// is 0..=1000 points. The weights in force are policy (`Weights`, from the
/// database): a change is announced and applies after a notice period.
pub const W_RELEVANCE: f64 = 0.55;
pub const W_ADOPTION: f64 = 0.20;
pub const W_EVALUATION: f64 = 0.15;
pub const W_FRESHNESS: f64 = 0.10;
/// Adopting client organisations at which the adoption component reaches
/// one half.
pub const ADOPTION_HALF_AT: f64 = 50.0;
/// Days of calls that make a subscription count towards adoption.
pub const ADOPTION_WINDOW_DAYS: i64 = 30;
/// Age in days at which the freshness component has halved.
pub const FRESHNESS_HALF_LIFE_DAYS: f64 = 90.0;
/// How much a query term found in each field counts towards relevance.
pub const FIELD_NAME: f64 = 1.0;
pub const FIELD_TAG: f64 = 0.8;
pub const FIELD_TAGLINE: f64 = 0.6;
pub const FIELD_DESCRIPTION: f64 = 0.4;
/// Query terms beyond this many are ignored.
pub const MAX_TERMS: usize = 8;

const DAY_MS: f64 = 86_400_000.0;

/// The searchable text of a listing, lower-cased.
pub struct TextDoc<'a> {
    pub name: &'a str,
    pub tagline: &'a str,
    pub description: &'a str,
    pub tags: &'a [String],
}

/// The normalised terms of a query: lower-case words of letters and digits,
/// each once, at most `MAX_TERMS`.
pub fn terms(query: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in query
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.iter().any(|t| t == word) {
            out.push(word.to_string());
        }
        if out.len() == MAX_TERMS {
            break;
        }
    }
    out
}

/// Whether some word of `text` (split on anything but letters and digits)
/// starts with `term`.
pub fn has_word_starting(text: &str, term: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric())
        .any(|w| w.starts_with(term))
}

/// Text relevance in 0..=1: for each term, the weight of the best field
/// with a word starting with it, averaged over the terms. None when some
/// term is found in no field (the listing does not match). No terms: every
/// listing is equally relevant (1). The catalogue's index computes the same
/// values through its word lists; this is the definition.
pub fn relevance(doc: &TextDoc<'_>, terms: &[String]) -> Option<f64> {
    if terms.is_empty() {
        return Some(1.0);
    }
    let mut sum = 0.0;
    for t in terms {
        let t = t.as_str();
        let best = if has_word_starting(doc.name, t) {
            FIELD_NAME
        } else if doc.tags.iter().any(|tag| has_word_starting(tag, t)) {
            FIELD_TAG
        } else if has_word_starting(doc.tagline, t) {
            FIELD_TAGLINE
        } else if has_word_starting(doc.description, t) {
            FIELD_DESCRIPTION
        } else {
            return None;
        };
        sum += best;
    }
    Some(sum / terms.len() as f64)
}

/// Everything the ranking may look at. Deliberately nothing about who
/// publishes the listing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankInput {
    pub listing_id: i64,
    /// From `relevance`, 0..=1.
    pub relevance: f64,
    /// Client organisations using it: see `catalogue::db::adopters`.
    pub adopters: i64,
    /// Best evaluation score (0..=100) among the listing's active deployments.
    pub evaluation: Option<u8>,
    pub published_at_ms: i64,
}

/// The published band of an adoption count: its lower and upper bound
/// (None: open-ended). Bands follow 1, 2.5, 5 per power of ten: 0, 1–4,
/// 5–9, 10–24, 25–49, 50–99, 100–249... The ranking scores the band's
/// lower bound, so neither the points shown nor the order reveal a count
/// more precisely than its band: a subscriber count is the partner's own
/// figure.
pub fn adoption_band(n: i64) -> (i64, Option<i64>) {
    if n <= 0 {
        return (0, Some(0));
    }
    // Band floors: 1, 5, then 10, 25, 50 times each power of ten.
    let floor = |i: u32| -> Option<i64> {
        match i {
            0 => Some(1),
            1 => Some(5),
            _ => {
                let power = 10_i64.checked_pow((i - 2) / 3 + 1)?;
                match (i - 2) % 3 {
                    0 => Some(power),
                    1 => power.checked_mul(5).map(|x| x / 2),
                    _ => power.checked_mul(5),
                }
            }
        }
    };
    let mut i = 0;
    loop {
        let lower = floor(i).unwrap_or(i64::MAX);
        match floor(i + 1) {
            Some(next) if n >= next => i += 1,
            Some(next) => return (lower, Some(next - 1)),
            None => return (lower, None),
        }
    }
}

/// A band as people read it: "none", "1–4", "10–24".
pub fn band_label((from, to): (i64, Option<i64>)) -> String {
    match to {
        Some(0) => "none".to_string(),
        Some(to) => format!("{from}–{to}"),
        None => format!("{from} or more"),
    }
}

/// A score and how it was made, in points (0..=1000 in total).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreBreakdown {
    pub relevance: f64,
    pub adoption: f64,
    pub evaluation: f64,
    pub freshness: f64,
    pub total: f64,
    /// The band of adopting client organisations the adoption points come
    /// from (the exact count is not published).
    pub adoption_band: (i64, Option<i64>),
    /// The total in thousandths of a point: what results are compared by, so
    /// equal scores are exactly equal.
    pub key: i64,
    /// The tie-break: a stable hash of (listing id, query).
    pub tie: u64,
}

/// The weight of each component, in basis points adding up to 10,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weights {
    pub relevance_bp: i64,
    pub adoption_bp: i64,
    pub evaluation_bp: i64,
    pub freshness_bp: i64,
}

impl Weights {
    /// The formula the marketplace opened with.
    pub const OPENING: Weights = Weights {
        relevance_bp: 5_500,
        adoption_bp: 2_000,
        evaluation_bp: 1_500,
        freshness_bp: 1_000,
    };

    /// Four weights, each 0..=10,000 basis points, adding up to 10,000.
    pub fn new(
        relevance_bp: i64,
        adoption_bp: i64,
        evaluation_bp: i64,
        freshness_bp: i64,
    ) -> Option<Weights> {
        let all = [relevance_bp, adoption_bp, evaluation_bp, freshness_bp];
        (all.iter().all(|w| (0..=10_000).contains(w)) && all.iter().sum::<i64>() == 10_000)
            .then_some(Weights {
                relevance_bp,
                adoption_bp,
                evaluation_bp,
                freshness_bp,
            })
    }
}

/// Scores one listing at time `now_ms` for the normalised `terms`, with the
/// weights the marketplace opened with.
pub fn score(input: &RankInput, terms: &[String], now_ms: i64) -> ScoreBreakdown {
    score_with(input, terms, now_ms, &Weights::OPENING)
}

/// Scores one listing with the given weights.
pub fn score_with(
    input: &RankInput,
    terms: &[String],
    now_ms: i64,
    weights: &Weights,
) -> ScoreBreakdown {
    let standing = standing_points(input, now_ms, weights);
    let (relevance, total, key) = combine(input.relevance, &standing, weights);
    ScoreBreakdown {
        relevance,
        adoption: standing.adoption,
        evaluation: standing.evaluation,
        freshness: standing.freshness,
        total,
        adoption_band: standing.adoption_band,
        key,
        tie: tie_hash(input.listing_id, terms),
    }
}

/// The points of a listing that do not depend on the query: the same for
/// every search within a minute, so the catalogue's index computes them
/// once a minute for every listing and `combine`s them with each query's
/// relevance, exactly as `score_with` does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StandingPoints {
    pub adoption: f64,
    pub evaluation: f64,
    pub freshness: f64,
    pub adoption_band: (i64, Option<i64>),
}

/// The query-independent points of `input` at `now_ms` (its relevance and
/// id are not read).
pub fn standing_points(input: &RankInput, now_ms: i64, weights: &Weights) -> StandingPoints {
    let band = adoption_band(input.adopters);
    let adoption = {
        let n = band.0 as f64;
        n / (n + ADOPTION_HALF_AT)
    };
    let evaluation = input
        .evaluation
        .map_or(0.0, |e| f64::from(e.min(100)) / 100.0);
    let freshness = {
        let age_days = ((now_ms - input.published_at_ms).max(0) as f64) / DAY_MS;
        (-age_days / FRESHNESS_HALF_LIFE_DAYS).exp2()
    };
    StandingPoints {
        adoption: points(weights.adoption_bp, adoption),
        evaluation: points(weights.evaluation_bp, evaluation),
        freshness: points(weights.freshness_bp, freshness),
        adoption_band: band,
    }
}

/// Relevance points, the total and the comparison key (the total in
/// thousandths of a point) from a relevance in 0..=1 and standing points.
pub fn combine(relevance: f64, standing: &StandingPoints, weights: &Weights) -> (f64, f64, i64) {
    let relevance = points(weights.relevance_bp, relevance.clamp(0.0, 1.0));
    let total = relevance + standing.adoption + standing.evaluation + standing.freshness;
    (relevance, total, (total * 1000.0).round() as i64)
}

/// A component in 0..=1 as points: basis points over 10,000, times 1,000.
fn points(w_bp: i64, c: f64) -> f64 {
    w_bp as f64 / 10.0 * c
}

/// FNV-1a over the listing id and the query's terms: the same for the same
/// (listing, query) on every call and every node, unrelated to id order.
pub fn tie_hash(listing_id: i64, terms: &[String]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(PRIME);
        }
    };
    eat(&listing_id.to_le_bytes());
    for t in terms {
        eat(&[0]);
        eat(t.as_bytes());
    }
    // A final mix so neighbouring ids do not give neighbouring hashes.
    let mut x = h;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x
}

/// The ranking order: higher score first, then the tie hash.
pub fn by_rank(a: &ScoreBreakdown, b: &ScoreBreakdown) -> Ordering {
    by_key_and_tie((a.key, a.tie), (b.key, b.tie))
}

/// The ranking order on a score's comparison key and tie hash alone.
pub fn by_key_and_tie((a_key, a_tie): (i64, u64), (b_key, b_tie): (i64, u64)) -> Ordering {
    b_key.cmp(&a_key).then(a_tie.cmp(&b_tie))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adoption_bands_follow_one_two_and_a_half_five() {
        let lowers: Vec<i64> = [
            0, 1, 4, 5, 9, 10, 24, 25, 49, 50, 99, 100, 249, 250, 999, 1000,
        ]
        .iter()
        .map(|n| adoption_band(*n).0)
        .collect();
        assert_eq!(
            lowers,
            [0, 1, 1, 5, 5, 10, 10, 25, 25, 50, 50, 100, 100, 250, 500, 1000]
        );
        assert_eq!(band_label(adoption_band(0)), "none");
        assert_eq!(band_label(adoption_band(3)), "1–4");
        assert_eq!(band_label(adoption_band(30)), "25–49");
        assert_eq!(band_label(adoption_band(260)), "250–499");
        // Every count is inside its band, and bands do not overlap.
        for n in 0..20_000 {
            let (lo, hi) = adoption_band(n);
            assert!(lo <= n && hi.is_none_or(|h| n <= h), "{n}: {lo}..{hi:?}");
            if let Some(h) = hi {
                assert_eq!(adoption_band(h + 1).0, h + 1, "{n}");
            }
        }
    }

    /// What an outsider reads off a result (the adoption points, and the
    /// total less the components anyone can compute) gives at most the
    /// band: inverting the published formula, n = 50·p / (200 − p), yields
    /// the band's lower bound, never the count when it lies inside a band.
    #[test]
    fn the_published_points_reveal_the_band_not_the_count() {
        let mut hidden = 0;
        for n in 0..3_000_i64 {
            let input = RankInput {
                listing_id: 1,
                relevance: 1.0,
                adopters: n,
                evaluation: None,
                published_at_ms: 0,
            };
            let s = score(&input, &[], 0);
            let p = s.total - s.relevance - s.evaluation - s.freshness;
            let derived = (ADOPTION_HALF_AT * p / (1000.0 * W_ADOPTION - p)).round() as i64;
            assert_eq!(derived, adoption_band(n).0, "{n}");
            if derived != n {
                hidden += 1;
            }
        }
        assert!(hidden > 2_900, "almost every count is hidden: {hidden}");
    }

    /// A small deterministic generator, so failures can be replayed.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn order(inputs: &[RankInput], terms: &[String], now: i64) -> Vec<i64> {
        let mut scored: Vec<(i64, ScoreBreakdown)> = inputs
            .iter()
            .map(|i| (i.listing_id, score(i, terms, now)))
            .collect();
        scored.sort_by(|a, b| by_rank(&a.1, &b.1));
        scored.into_iter().map(|(id, _)| id).collect()
    }

    #[test]
    fn weights_add_up_to_one() {
        let sum = W_RELEVANCE + W_ADOPTION + W_EVALUATION + W_FRESHNESS;
        assert!((sum - 1.0).abs() < 1e-12, "{sum}");
    }

    #[test]
    fn ties_break_by_hash_not_by_id_and_are_stable() {
        let now = 1_000 * DAY_MS as i64;
        let inputs: Vec<RankInput> = (1..=200)
            .map(|id| RankInput {
                listing_id: id,
                relevance: 1.0,
                adopters: 3,
                evaluation: Some(70),
                published_at_ms: now - 5,
            })
            .collect();
        let terms = terms("cardiology triage");
        let first = order(&inputs, &terms, now);
        assert_eq!(first, order(&inputs, &terms, now), "same call, same order");
        let mut reversed = inputs.clone();
        reversed.reverse();
        assert_eq!(
            first,
            order(&reversed, &terms, now),
            "input order is irrelevant"
        );
        let by_id: Vec<i64> = (1..=200).collect();
        assert_ne!(first, by_id, "ties are not broken by id order");
        // Another query shuffles the ties differently.
        assert_ne!(first, order(&inputs, &super::terms("claims"), now));
    }

    #[test]
    fn random_catalogues_have_a_total_stable_order() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..300 {
            let n = 1 + rng.below(40) as usize;
            let now = 2_000_000_000_000 + rng.below(1_000_000) as i64;
            let inputs: Vec<RankInput> = (0..n)
                .map(|i| RankInput {
                    listing_id: i as i64 + 1 + rng.below(5) as i64 * 1000,
                    relevance: [0.4, 0.6, 1.0][rng.below(3) as usize],
                    adopters: rng.below(4) as i64,
                    evaluation: [None, Some(50), Some(90)][rng.below(3) as usize],
                    published_at_ms: now - rng.below(3) as i64 * 86_400_000,
                })
                .collect();
            let terms = terms(["", "loan risk", "icd-10"][rng.below(3) as usize]);
            let a = order(&inputs, &terms, now);
            let mut shuffled = inputs.clone();
            for i in (1..shuffled.len()).rev() {
                shuffled.swap(i, rng.below(i as u64 + 1) as usize);
            }
            assert_eq!(a, order(&shuffled, &terms, now));
            // Higher relevance never ranks below lower relevance when the
            // other signals are equal.
            let scores: Vec<ScoreBreakdown> =
                inputs.iter().map(|i| score(i, &terms, now)).collect();
            for s in &scores {
                assert!(s.total >= 0.0 && s.total <= 1000.0 + 1e-9, "{s:?}");
            }
        }
    }

    #[test]
    fn relevance_prefers_the_name_and_requires_every_term() {
        let tags = vec!["radiology".to_string()];
        let doc = TextDoc {
            name: "chest x-ray triage",
            tagline: "for emergency departments",
            description: "reads dicom studies",
            tags: &tags,
        };
        assert_eq!(relevance(&doc, &terms("triage")), Some(FIELD_NAME));
        assert_eq!(relevance(&doc, &terms("radiology")), Some(FIELD_TAG));
        assert_eq!(relevance(&doc, &terms("EMERGENCY")), Some(FIELD_TAGLINE));
        assert_eq!(relevance(&doc, &terms("dicom")), Some(FIELD_DESCRIPTION));
        assert_eq!(relevance(&doc, &terms("triage invoices")), None);
        // Terms match the start of words, not their middle.
        assert_eq!(relevance(&doc, &terms("radio")), Some(FIELD_TAG));
        assert_eq!(relevance(&doc, &terms("iage")), None);
        assert_eq!(
            relevance(&doc, &terms("triage dicom")),
            Some((FIELD_NAME + FIELD_DESCRIPTION) / 2.0)
        );
    }
}
