//! The catalogue's search index: every published listing, held in this
//! node's memory with word lists for search. It carries the catalogue
//! version it was built from; each search compares that with the database's
//! (one small read), so a change made through any node is seen by all of
//! them on their next request. A query's scored matches are remembered for
//! the current minute (scores use the time rounded down to the minute, so a
//! remembered list is exactly what would be computed again); each page is
//! cut out of them.

use super::ranking::{self, RankInput};
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
/// Every listing a query matches, scored, in no particular order: a page
/// is cut out of it by partial selection, so a query that matches
/// thousands of listings sorts only the twenty it shows.
type Ranked = Arc<Vec<Scored>>;

/// A matching listing as results are ordered: by `primary` (0 for
/// relevance, the cheapest fee for price, the publication time reversed for
/// newest), then in the ranking order (`ranking::by_key_and_tie`), then by
/// entry so that the order is total.
#[derive(Debug, Clone, Copy)]
struct Scored {
    primary: i64,
    key: i64,
    tie: u64,
    entry: u32,
    relevance: f64,
}

impl Scored {
    fn order(a: &Scored, b: &Scored) -> std::cmp::Ordering {
        a.primary
            .cmp(&b.primary)
            .then(ranking::by_key_and_tie((a.key, a.tie), (b.key, b.tie)))
            .then(a.entry.cmp(&b.entry))
    }
}

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
    /// Every entry's standing points at one minute, in entry order.
    standing: Mutex<Option<(i64, Arc<Vec<Standing>>)>>,
}

/// What ranking reads of an entry besides its relevance, packed together so
/// that scoring thousands of matches reads one small record each.
#[derive(Debug, Clone, Copy)]
struct Standing {
    points: ranking::StandingPoints,
    listing_id: i64,
    min_fee: Option<i64>,
    published_at: i64,
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
        // In entry order, so lists merge without a lookup table.
        for postings in words.values_mut() {
            postings.sort_unstable_by_key(|&(i, _)| i);
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
            standing: Mutex::new(None),
        }
    }

    /// Every entry's standing at `now_ms` (a minute: computed once for it).
    fn standing(&self, now_ms: i64) -> Arc<Vec<Standing>> {
        if let Some((at, all)) = self
            .standing
            .lock()
            .ok()
            .as_deref()
            .and_then(Option::as_ref)
        {
            if *at == now_ms {
                return all.clone();
            }
        }
        let all: Arc<Vec<Standing>> = Arc::new(
            self.entries
                .iter()
                .map(|e| Standing {
                    points: ranking::standing_points(&e.rank_input(0.0), now_ms, &self.weights),
                    listing_id: e.card.id,
                    min_fee: e.min_fee,
                    published_at: e.published_at,
                })
                .collect(),
        );
        if let Ok(mut slot) = self.standing.lock() {
            *slot = Some((now_ms, all.clone()));
        }
        all
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

    /// The entries that match every term, in entry order, with their
    /// relevance: the same values `ranking::relevance` gives, found through
    /// the word lists. Only the postings of the query's words are visited,
    /// never the whole catalogue (but for the empty query, which matches all).
    fn relevances(&self, terms: &[String]) -> Vec<(u32, f64)> {
        if terms.is_empty() {
            return (0..self.entries.len() as u32).map(|i| (i, 1.0)).collect();
        }
        // Per matching entry, the sum of each term's best field weight so far
        // (summed in term order, as the definition does).
        let mut matched: Option<Vec<(u32, f64)>> = None;
        for t in terms {
            // Every word starting with the term: the best weight per entry.
            let mut best: Vec<(u32, f32)> = Vec::new();
            let mut lists = 0;
            for (_, postings) in self
                .words
                .range(t.clone()..)
                .take_while(|(w, _)| w.starts_with(t.as_str()))
            {
                best.extend_from_slice(postings);
                lists += 1;
            }
            if lists > 1 {
                best.sort_unstable_by_key(|&(i, _)| i);
                best.dedup_by(|later, kept| {
                    let same = later.0 == kept.0;
                    if same {
                        kept.1 = kept.1.max(later.1);
                    }
                    same
                });
            }
            let next = match matched {
                None => best.into_iter().map(|(i, w)| (i, f64::from(w))).collect(),
                Some(so_far) => intersect(so_far, &best),
            };
            if next.is_empty() {
                return next;
            }
            matched = Some(next);
        }
        let n = terms.len() as f64;
        matched
            .unwrap_or_default()
            .into_iter()
            .map(|(i, sum)| (i, round_weight(sum / n)))
            .collect()
    }
}

/// The entries in both lists (each in entry order), each sum increased by
/// the weight `best` has for it.
fn intersect(so_far: Vec<(u32, f64)>, best: &[(u32, f32)]) -> Vec<(u32, f64)> {
    let mut out = Vec::with_capacity(so_far.len().min(best.len()));
    let mut rest = best.iter().peekable();
    for (i, sum) in so_far {
        while rest.next_if(|(j, _)| *j < i).is_some() {}
        if let Some((_, w)) = rest.next_if(|(j, _)| *j == i) {
            out.push((i, sum + f64::from(*w)));
        }
    }
    out
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
    let start = (q.page - 1).saturating_mul(page_size).min(total);
    let end = start.saturating_add(page_size).min(total);
    let hits = page_of(&ranked, start, end)
        .into_iter()
        .enumerate()
        .map(|(k, s)| {
            let entry = &ix.entries[s.entry as usize];
            SearchHit {
                position: start + k + 1,
                card: entry.card.clone(),
                // The same function of the same inputs as when it was ranked.
                score: ranking::score_with(
                    &entry.rank_input(s.relevance),
                    &q.terms,
                    minute,
                    &ix.weights,
                ),
            }
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

/// Positions `start..end` of the result order, in order: selected in
/// linear time, then only those sorted.
fn page_of(ranked: &[Scored], start: usize, end: usize) -> Vec<Scored> {
    if start >= end {
        return Vec::new();
    }
    let mut top = ranked.to_vec();
    if end < top.len() {
        top.select_nth_unstable_by(end, Scored::order);
        top.truncate(end);
    }
    if start > 0 {
        top.select_nth_unstable_by(start, Scored::order);
    }
    let mut page = top.split_off(start);
    page.sort_unstable_by(Scored::order);
    page
}

/// Every matching entry that passes the filters, scored.
fn rank(ix: &Index, q: &ParsedQuery, now_ms: i64) -> Vec<Scored> {
    let cert = q.certification.to_lowercase();
    let standing = ix.standing(now_ms);
    ix.relevances(&q.terms)
        .into_iter()
        .filter_map(|(i, rel)| {
            let s = &standing[i as usize];
            // The entry itself is read only when a filter asks for it.
            let e = || &ix.entries[i as usize];
            let keep = (q.industry.is_empty() || e().industry_slug == q.industry)
                && (q.base_model.is_empty() || e().base_model_slugs.contains(&q.base_model))
                && q.price
                    .is_none_or(|band| s.min_fee.is_some_and(|fee| band.contains(fee)))
                && (cert.is_empty()
                    || e()
                        .card
                        .certifications
                        .iter()
                        .any(|c| c.to_lowercase() == cert));
            keep.then(|| {
                // The key `score_with` would give, from the same parts.
                let (_, _, key) = ranking::combine(rel, &s.points, &ix.weights);
                Scored {
                    primary: match q.sort {
                        SortOrder::Relevance => 0,
                        SortOrder::Price => s.min_fee.unwrap_or(i64::MAX),
                        SortOrder::Newest => s.published_at.saturating_neg(),
                    },
                    key,
                    tie: ranking::tie_hash(s.listing_id, &q.terms),
                    entry: i,
                    relevance: rel,
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::ranking::{ScoreBreakdown, TextDoc};

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

    fn index_of(entries: &[Entry]) -> Index {
        let facets = Facets {
            industries: vec![],
            base_models: vec![],
        };
        Index::new(1, 0, ranking::Weights::OPENING, entries.to_vec(), facets)
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
        let ix = index_of(&entries);
        for query in ["card", "claims risk", "x-ray", "tri", "zebra", "", "c r"] {
            let terms = ranking::terms(query);
            let mut fast = vec![None; entries.len()];
            for (i, rel) in ix.relevances(&terms) {
                fast[i as usize] = Some(rel);
            }
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

    /// Cutting pages out by partial selection gives exactly the pages of a
    /// full sort by the definition, for every sort order, page by page.
    #[test]
    fn pages_are_the_full_order_cut_in_pieces() {
        let words = ["claims", "card", "cardiology", "risk", "loan", "triage"];
        let mut seed = 11u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        let mut entries = Vec::new();
        for id in 0..300 {
            let mut pick = || words[next() % words.len()];
            let name = format!("{} {}", pick(), pick());
            let tagline = pick().to_string();
            let description = pick().to_string();
            let tag = pick().to_string();
            let mut e = entry(id, &name, &tagline, &description, &[&tag]);
            // Few distinct values, so that many listings tie on every key.
            e.min_fee = (next() % 5 != 0).then(|| (next() % 4) as i64 * 1000);
            e.published_at = (next() % 3) as i64 * 86_400_000;
            e.adopters = (next() % 3) as i64 * 10;
            e.evaluation = (next() % 2 == 0).then_some(80);
            entries.push(e);
        }
        let ix = index_of(&entries);
        let now = 40 * 86_400_000;
        for query in ["", "card", "claims risk", "tri loan", "zebra"] {
            for sort in SortOrder::ALL {
                let terms = ranking::terms(query);
                let mut want: Vec<(i64, i64, ScoreBreakdown)> = entries
                    .iter()
                    .filter_map(|e| {
                        let doc = TextDoc {
                            name: &e.name,
                            tagline: &e.tagline,
                            description: &e.description,
                            tags: &e.tags,
                        };
                        let rel = round_weight(ranking::relevance(&doc, &terms)?);
                        let primary = match sort {
                            SortOrder::Relevance => 0,
                            SortOrder::Price => e.min_fee.unwrap_or(i64::MAX),
                            SortOrder::Newest => -e.published_at,
                        };
                        let score =
                            ranking::score_with(&e.rank_input(rel), &terms, now, &ix.weights);
                        Some((primary, e.card.id, score))
                    })
                    .collect();
                want.sort_by(|a, b| {
                    a.0.cmp(&b.0)
                        .then_with(|| ranking::by_rank(&a.2, &b.2))
                        .then(a.1.cmp(&b.1))
                });
                let parsed = |page: usize| ParsedQuery {
                    terms: terms.clone(),
                    industry: String::new(),
                    base_model: String::new(),
                    price: None,
                    certification: String::new(),
                    sort,
                    page,
                };
                let first = search(&ix, &parsed(1), now, 7);
                assert_eq!(first.total, want.len(), "{query:?} {sort:?}");
                let mut got = Vec::new();
                for page in 1..=first.pages + 1 {
                    let r = search(&ix, &parsed(page), now, 7);
                    if page > first.pages {
                        assert!(r.hits.is_empty(), "a page past the last is empty");
                    }
                    for h in r.hits {
                        assert_eq!(h.position, got.len() + 1);
                        got.push((h.card.id, h.score));
                    }
                }
                let want: Vec<(i64, ScoreBreakdown)> =
                    want.into_iter().map(|(_, id, s)| (id, s)).collect();
                assert_eq!(got, want, "{query:?} {sort:?}");
            }
        }
    }
}
