//! The catalogue's search index: every published listing, held in this
//! node's memory with word lists for search. It carries the catalogue
//! version it was built from; each search compares that with the database's
//! (one small read), so a change made through any node is seen by all of
//! them on their next request. Ranked result lists are remembered per query
//! for the current minute (scores use the time rounded down to the minute,
//! so a remembered list is exactly what would be computed again).

use super::ranking::{self, RankInput, ScoreBreakdown};
use super::{CatalogueQuery, PriceBand, SearchHit, SearchResults, SortOrder};
use crate::error::{AppError, FieldErrors};
use crate::listings::ListingCard;
use crate::ui::fields::Choice;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// Longest search text accepted.
pub const MAX_QUERY_CHARS: usize = 200;
/// Ranked lists remembered per index and minute.
const RESULT_CACHE_ENTRIES: usize = 256;
const MINUTE_MS: i64 = 60_000;

/// A published listing as the index holds it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub card: ListingCard,
    pub industry_slug: String,
    /// Slugs of the base models it has a deployment on.
    pub base_model_slugs: Vec<String>,
    /// The cheapest active plan's monthly fee, in minor units.
    pub min_fee: Option<i64>,
    pub name: String,
    pub tagline: String,
    pub description: String,
    pub tags: Vec<String>,
    pub evaluation: Option<u8>,
    pub adopters: i64,
    pub published_at: i64,
}

impl Entry {
    fn rank_input(&self, relevance: f64) -> RankInput {
        RankInput {
            listing_id: self.card.id,
            relevance,
            adopters: self.adopters,
            evaluation: self.evaluation,
            published_at_ms: self.published_at,
        }
    }
}

/// What a search needs besides the listings.
pub struct Facets {
    pub industries: Vec<Choice>,
    pub base_models: Vec<Choice>,
}

type ResultKey = (
    Vec<String>,
    String,
    String,
    Option<PriceBand>,
    String,
    SortOrder,
    i64,
);
/// A ranked result list: (entry, score) in order.
type Ranked = Arc<Vec<(u32, ScoreBreakdown)>>;

pub struct Index {
    pub version: i64,
    /// The UTC day (days since the epoch) whose adoption figures it holds.
    pub day: i64,
    /// The ranking weights in force that day.
    pub weights: ranking::Weights,
    entries: Vec<Entry>,
    /// Lower-cased word → (entry, best field weight of that word in it).
    words: BTreeMap<String, Vec<(u32, f32)>>,
    facets: Facets,
    certifications: Vec<String>,
    results: Mutex<HashMap<ResultKey, Ranked>>,
}

fn words_of(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

impl Index {
    pub fn new(
        version: i64,
        day: i64,
        weights: ranking::Weights,
        entries: Vec<Entry>,
        facets: Facets,
    ) -> Index {
        let mut best: HashMap<(String, u32), f32> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            let i = i as u32;
            let mut add = |text: &str, weight: f64| {
                for w in words_of(text) {
                    let slot = best.entry((w.to_string(), i)).or_insert(0.0);
                    *slot = slot.max(weight as f32);
                }
            };
            add(&e.name, ranking::FIELD_NAME);
            for t in &e.tags {
                add(t, ranking::FIELD_TAG);
            }
            add(&e.tagline, ranking::FIELD_TAGLINE);
            add(&e.description, ranking::FIELD_DESCRIPTION);
        }
        let mut words: BTreeMap<String, Vec<(u32, f32)>> = BTreeMap::new();
        for ((w, i), weight) in best {
            words.entry(w).or_default().push((i, weight));
        }
        let mut certifications: Vec<String> = entries
            .iter()
            .flat_map(|e| e.card.certifications.iter().cloned())
            .collect();
        certifications.sort();
        certifications.dedup();
        Index {
            version,
            day,
            weights,
            entries,
            words,
            facets,
            certifications,
            results: Mutex::new(HashMap::new()),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The card of a published listing.
    pub fn card(&self, listing_id: i64) -> Option<ListingCard> {
        self.entries
            .iter()
            .find(|e| e.card.id == listing_id)
            .map(|e| e.card.clone())
    }

    /// Published listings with a (not paused) deployment on the base model.
    pub fn deploying_on(&self, base_model_slug: &str) -> i64 {
        self.entries
            .iter()
            .filter(|e| e.base_model_slugs.iter().any(|s| s == base_model_slug))
            .count() as i64
    }

    /// Relevance of every entry for `terms` (None: not a match), the same
    /// values `ranking::relevance` gives, found through the word lists.
    fn relevances(&self, terms: &[String]) -> Vec<Option<f64>> {
        if terms.is_empty() {
            return vec![Some(1.0); self.entries.len()];
        }
        let n = self.entries.len();
        let mut sum = vec![0.0f64; n];
        let mut hits = vec![0usize; n];
        for t in terms {
            let mut best = vec![0.0f32; n];
            for (_, postings) in self
                .words
                .range(t.clone()..)
                .take_while(|(w, _)| w.starts_with(t.as_str()))
            {
                for &(i, weight) in postings {
                    let b = &mut best[i as usize];
                    *b = b.max(weight);
                }
            }
            for (i, b) in best.into_iter().enumerate() {
                if b > 0.0 {
                    sum[i] += f64::from(b);
                    hits[i] += 1;
                }
            }
        }
        (0..n)
            .map(|i| (hits[i] == terms.len()).then(|| round_weight(sum[i] / terms.len() as f64)))
            .collect()
    }
}

/// The field weights pass through f32 in the word lists; rounding to 1e-6
/// makes both paths give bit-identical relevance.
pub fn round_weight(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// A query whose every field has been checked.
pub struct ParsedQuery {
    pub terms: Vec<String>,
    pub industry: String,
    pub base_model: String,
    pub price: Option<PriceBand>,
    pub certification: String,
    pub sort: SortOrder,
    pub page: usize,
}

pub fn parse_query(q: &CatalogueQuery) -> Result<ParsedQuery, AppError> {
    let mut fields = FieldErrors::new();
    let mut fail = |f: &str, m: &str| {
        fields.entry(f.to_string()).or_default().push(m.to_string());
    };
    if q.q.chars().count() > MAX_QUERY_CHARS {
        fail("q", "Use at most 200 characters.");
    }
    let price = match q.price.trim() {
        "" => None,
        p => {
            let band = PriceBand::parse(p);
            if band.is_none() {
                fail("price", "Choose one of the listed price bands.");
            }
            band
        }
    };
    let sort = match q.sort.trim() {
        "" => SortOrder::Relevance,
        s => SortOrder::parse(s).unwrap_or_else(|| {
            fail("sort", "Sort by relevance, price or newest.");
            SortOrder::Relevance
        }),
    };
    let page = match q.page.trim() {
        "" => 1,
        p => match p.parse::<usize>() {
            Ok(n) if (1..=100_000).contains(&n) => n,
            _ => {
                fail("page", "Pages are numbered from 1.");
                1
            }
        },
    };
    if !fields.is_empty() {
        return Err(AppError::Validation { fields });
    }
    Ok(ParsedQuery {
        terms: ranking::terms(&q.q),
        industry: q.industry.trim().to_string(),
        base_model: q.base_model.trim().to_string(),
        price,
        certification: q.certification.trim().to_string(),
        sort,
        page,
    })
}

/// Searches the index: filters, ranks with the one ranking function, and
/// cuts out the requested page of `page_size`.
pub fn search(ix: &Index, q: &ParsedQuery, now_ms: i64, page_size: usize) -> SearchResults {
    let minute = now_ms - now_ms.rem_euclid(MINUTE_MS);
    let key: ResultKey = (
        q.terms.clone(),
        q.industry.clone(),
        q.base_model.clone(),
        q.price,
        q.certification.to_lowercase(),
        q.sort,
        minute,
    );
    let remembered = ix.results.lock().ok().and_then(|m| m.get(&key).cloned());
    let ranked = match remembered {
        Some(r) => r,
        None => {
            let r = Arc::new(rank(ix, q, minute));
            if let Ok(mut m) = ix.results.lock() {
                // Entries of a past minute are never asked for again.
                if m.len() >= RESULT_CACHE_ENTRIES || m.keys().any(|k| k.6 != minute) {
                    m.clear();
                }
                m.insert(key, r.clone());
            }
            r
        }
    };
    let total = ranked.len();
    let pages = total.div_ceil(page_size).max(1);
    let start = (q.page - 1).saturating_mul(page_size);
    let hits = ranked
        .iter()
        .enumerate()
        .skip(start)
        .take(page_size)
        .map(|(pos, (i, score))| SearchHit {
            position: pos + 1,
            card: ix.entries[*i as usize].card.clone(),
            score: *score,
        })
        .collect();
    SearchResults {
        hits,
        total,
        page: q.page,
        pages,
        sort: q.sort,
        industries: ix.facets.industries.clone(),
        base_models: ix.facets.base_models.clone(),
        certifications: ix.certifications.clone(),
    }
}

/// Every matching entry, in result order.
fn rank(ix: &Index, q: &ParsedQuery, now_ms: i64) -> Vec<(u32, ScoreBreakdown)> {
    let relevances = ix.relevances(&q.terms);
    let cert = q.certification.to_lowercase();
    let mut out: Vec<(u32, ScoreBreakdown)> = ix
        .entries
        .iter()
        .zip(relevances)
        .enumerate()
        .filter_map(|(i, (e, rel))| {
            let rel = rel?;
            let keep = (q.industry.is_empty() || e.industry_slug == q.industry)
                && (q.base_model.is_empty() || e.base_model_slugs.contains(&q.base_model))
                && q.price
                    .is_none_or(|band| e.min_fee.is_some_and(|fee| band.contains(fee)))
                && (cert.is_empty()
                    || e.card
                        .certifications
                        .iter()
                        .any(|c| c.to_lowercase() == cert));
            keep.then(|| {
                (
                    i as u32,
                    ranking::score_with(&e.rank_input(rel), &q.terms, now_ms, &ix.weights),
                )
            })
        })
        .collect();
    let entry = |i: u32| &ix.entries[i as usize];
    match q.sort {
        SortOrder::Relevance => out.sort_unstable_by(|a, b| ranking::by_rank(&a.1, &b.1)),
        SortOrder::Price => out.sort_unstable_by(|a, b| {
            let fee = |i: u32| entry(i).min_fee.unwrap_or(i64::MAX);
            fee(a.0)
                .cmp(&fee(b.0))
                .then_with(|| ranking::by_rank(&a.1, &b.1))
        }),
        SortOrder::Newest => out.sort_unstable_by(|a, b| {
            entry(b.0)
                .published_at
                .cmp(&entry(a.0).published_at)
                .then_with(|| ranking::by_rank(&a.1, &b.1))
        }),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::ranking::TextDoc;

    fn entry(id: i64, name: &str, tagline: &str, description: &str, tags: &[&str]) -> Entry {
        Entry {
            card: ListingCard {
                id,
                slug: format!("l{id}"),
                name: name.into(),
                tagline: tagline.into(),
                industry: "Healthcare".into(),
                base_model: "M 1".into(),
                deployments: 1,
                publisher: "P".into(),
                platform_owned: false,
                affiliated: false,
                from_price: None,
                certifications: vec![],
            },
            industry_slug: "healthcare".into(),
            base_model_slugs: vec!["m-1".into()],
            min_fee: Some(0),
            name: name.to_lowercase(),
            tagline: tagline.to_lowercase(),
            description: description.to_lowercase(),
            tags: tags.iter().map(|t| t.to_lowercase()).collect(),
            evaluation: None,
            adopters: 0,
            published_at: 0,
        }
    }

    #[test]
    fn index_relevance_equals_the_definition() {
        let words = [
            "claims",
            "cardiology",
            "card",
            "risk",
            "loan",
            "triage",
            "x",
            "ray",
        ];
        let mut entries = Vec::new();
        let mut seed = 7u64;
        let mut pick = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            words[(seed >> 33) as usize % words.len()]
        };
        for id in 0..60 {
            let name = format!("{} {}", pick(), pick());
            let tagline = pick().to_string();
            let description = format!("{} {} {}", pick(), pick(), pick());
            let tag = pick().to_string();
            entries.push(entry(id, &name, &tagline, &description, &[&tag]));
        }
        let ix = Index::new(
            1,
            0,
            ranking::Weights::OPENING,
            entries.clone(),
            Facets {
                industries: vec![],
                base_models: vec![],
            },
        );
        for query in ["card", "claims risk", "x-ray", "tri", "zebra", "", "c r"] {
            let terms = ranking::terms(query);
            let fast = ix.relevances(&terms);
            for (e, got) in entries.iter().zip(fast) {
                let want = ranking::relevance(
                    &TextDoc {
                        name: &e.name,
                        tagline: &e.tagline,
                        description: &e.description,
                        tags: &e.tags,
                    },
                    &terms,
                )
                .map(round_weight);
                assert_eq!(got, want, "{query:?} on {}", e.name);
            }
        }
    }
}
