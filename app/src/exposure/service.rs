//! The exposure dashboard's data: public shares, referees' counts.

use super::audit::{checked_between, Checked};
use super::db::{published_by_industry, totals_since, DayTotals};
use super::{day_of, share_bp, week_of, ExposureData, ExposureRow, Split, DAY_MS, WEEKS};
use crate::auth::actor::{Actor, Permission};
use crate::catalogue::db::industry_choices;
use crate::error::AppError;
use crate::state::AppState;
use std::collections::{BTreeMap, HashMap};

/// (first-party, partner) impressions and views.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub impressions: (i64, i64),
    pub top: (i64, i64),
    pub views: (i64, i64),
    pub subscriptions: (i64, i64),
}

impl Counts {
    pub(crate) fn add(&mut self, t: &DayTotals) {
        let side = |pair: &mut (i64, i64), n: i64| {
            if t.platform {
                pair.0 += n;
            } else {
                pair.1 += n;
            }
        };
        side(&mut self.impressions, t.impressions);
        side(&mut self.top, t.top);
        side(&mut self.views, t.views);
        side(&mut self.subscriptions, t.subscriptions);
    }

    pub(crate) fn row(
        &self,
        week: i64,
        industry: &str,
        name: &str,
        detailed: bool,
        audit: &Audits,
    ) -> ExposureRow {
        let checked = audit.checked.get(&(week, industry.to_string()));
        let listed = match checked {
            Some(c) => c.listed,
            None => audit.now.get(industry).copied().unwrap_or_default(),
        };
        ExposureRow {
            week: week * DAY_MS,
            industry: industry.to_string(),
            industry_name: name.to_string(),
            impressions: Split::new(self.impressions.0, self.impressions.1, detailed),
            top: Split::new(self.top.0, self.top.1, detailed),
            views: Split::new(self.views.0, self.views.1, detailed),
            subscriptions: Split::new(self.subscriptions.0, self.subscriptions.1, detailed),
            listing_share_bp: share_bp(listed.0, listed.1),
            anomaly: checked.is_some_and(|c| c.case_id.is_some()),
        }
    }
}

/// What the weekly audits found, and the published listings now (for
/// weeks not yet audited); industry `""` is all industries together.
#[derive(Debug, Default)]
pub(crate) struct Audits {
    pub checked: HashMap<(i64, String), Checked>,
    pub now: BTreeMap<String, (i64, i64)>,
}

impl Audits {
    pub(crate) fn new(checked: Vec<Checked>, now: BTreeMap<String, (i64, i64)>) -> Audits {
        let now = super::db::with_total(now);
        Audits {
            checked: checked
                .into_iter()
                .map(|c| ((c.week, c.industry.clone()), c))
                .collect(),
            now,
        }
    }
}

/// Folds daily totals into weeks: the chosen industry's (or all
/// industries') series, one row for each of the `weeks` ending with
/// `this_week`, oldest first; and the table, per industry and week with
/// anything counted, newest week first, industries by name.
fn fold(
    totals: &[DayTotals],
    this_week: i64,
    industry: &str,
    names: &BTreeMap<String, String>,
    detailed: bool,
    audits: &Audits,
) -> (Vec<ExposureRow>, Vec<ExposureRow>) {
    let first_week = this_week - 7 * (WEEKS - 1);
    let mut series: BTreeMap<i64, Counts> = (0..WEEKS)
        .map(|w| (first_week + 7 * w, Counts::default()))
        .collect();
    let mut table: BTreeMap<(i64, String), Counts> = BTreeMap::new();
    for t in totals {
        let week = week_of(t.day);
        if week < first_week || week > this_week {
            continue;
        }
        if industry.is_empty() || t.industry == industry {
            series.entry(week).or_default().add(t);
        }
        table.entry((week, t.industry.clone())).or_default().add(t);
    }
    let name_of = |slug: &str| names.get(slug).cloned().unwrap_or_else(|| slug.to_string());
    let series_name = if industry.is_empty() {
        "All industries".to_string()
    } else {
        name_of(industry)
    };
    let series = series
        .iter()
        .map(|(week, c)| c.row(*week, industry, &series_name, detailed, audits))
        .collect();
    let mut rows: Vec<ExposureRow> = table
        .iter()
        .filter(|((_, slug), _)| industry.is_empty() || slug == industry)
        .map(|((week, slug), c)| c.row(*week, slug, &name_of(slug), detailed, audits))
        .collect();
    rows.sort_by(|a, b| {
        b.week
            .cmp(&a.week)
            .then_with(|| a.industry_name.cmp(&b.industry_name))
    });
    (series, rows)
}

/// The dashboard (public; referees also get counts). `industry`: a slug,
/// or empty for all industries.
pub async fn report(
    state: &AppState,
    viewer: Option<&Actor>,
    industry: &str,
) -> Result<ExposureData, AppError> {
    let detailed = viewer.is_some_and(|a| a.require(Permission::Referee).is_ok());
    let industries = industry_choices(&state.db).await?;
    let industry = industry.trim();
    if !industry.is_empty() && !industries.iter().any(|c| c.value == industry) {
        return Err(AppError::field(
            "industry",
            "Choose an industry from the list.",
        ));
    }
    // This node's latest counts first; other nodes' arrive within their
    // flush interval.
    if let Err(err) = state.exposure.flush(&state.db).await {
        tracing::warn!(error = %err, "flushing exposure counts failed");
    }
    let this_week = week_of(day_of(state.clock.now_ms()));
    let totals = totals_since(&state.db, this_week - 7 * (WEEKS - 1)).await?;
    let names: BTreeMap<String, String> = industries
        .iter()
        .map(|c| (c.value.clone(), c.label.clone()))
        .collect();
    let published = published_by_industry(state.db.pool()).await?;
    let from_week = this_week - 7 * (WEEKS - 1);
    let audits = Audits::new(
        checked_between(&state.db, from_week, this_week + 7).await?,
        published.clone(),
    );
    let (series, rows) = fold(&totals, this_week, industry, &names, detailed, &audits);
    let (fp, partner) = published
        .iter()
        .filter(|(slug, _)| industry.is_empty() || slug.as_str() == industry)
        .fold((0, 0), |acc, (_, n)| (acc.0 + n.0, acc.1 + n.1));
    let from = this_week - 7 * (WEEKS - 1);
    let mut weeks: BTreeMap<i64, [Vec<(i64, i64)>; 2]> = BTreeMap::new();
    for (week, platform, bucket, calls) in
        crate::exposure::db::overhead_histogram(&state.db, from).await?
    {
        weeks.entry(week).or_default()[usize::from(platform)].push((bucket, calls));
    }
    let count = |h: &[(i64, i64)]| detailed.then(|| h.iter().map(|(_, n)| n).sum());
    let overhead = weeks
        .into_iter()
        .rev()
        .map(
            |(week, [partner, first_party])| crate::exposure::OverheadRow {
                week: week * DAY_MS,
                first_party: crate::exposure::histogram_percentiles(&first_party),
                partner: crate::exposure::histogram_percentiles(&partner),
                first_party_calls: count(&first_party),
                partner_calls: count(&partner),
            },
        )
        .collect();
    Ok(ExposureData {
        overhead,
        industry: industry.to_string(),
        industries,
        series,
        rows,
        listing_share_bp: share_bp(fp, partner),
        detailed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(day: i64, industry: &str, platform: bool, impressions: i64, views: i64) -> DayTotals {
        DayTotals {
            day,
            industry: industry.into(),
            platform,
            impressions,
            views,
            top: 0,
            subscriptions: 0,
        }
    }

    #[test]
    fn days_fold_into_weeks_per_industry_and_publisher_kind() {
        let monday = week_of(20_000);
        let names: BTreeMap<String, String> = [
            ("finance".to_string(), "Finance".to_string()),
            ("legal".to_string(), "Legal".to_string()),
        ]
        .into_iter()
        .collect();
        let totals = vec![
            t(monday, "finance", true, 10, 1),
            t(monday + 6, "finance", false, 30, 3),
            t(monday - 1, "finance", false, 5, 0),
            t(monday, "legal", false, 7, 2),
            DayTotals {
                subscriptions: 3,
                ..t(monday + 2, "finance", true, 0, 0)
            },
            // Before the period: ignored.
            t(monday - 7 * WEEKS, "legal", true, 1_000, 1_000),
        ];
        let (series, rows) = fold(&totals, monday, "", &names, true, &Audits::default());
        assert_eq!(series.len() as i64, WEEKS);
        let last = series.last().unwrap();
        assert_eq!(last.week, monday * DAY_MS);
        assert_eq!(last.impressions.first_party, Some(10));
        assert_eq!(last.impressions.partner, Some(37));
        assert_eq!(last.impressions.share_bp, Some(2_128));
        assert_eq!(last.views.share_bp, Some(1_667));
        assert_eq!(last.subscriptions.first_party, Some(3));
        assert_eq!(last.subscriptions.share_bp, Some(10_000));
        let before = &series[series.len() - 2];
        assert_eq!(before.impressions.partner, Some(5));
        assert_eq!(
            series[0].impressions.share_bp, None,
            "nothing counted that week"
        );
        let labels: Vec<(i64, &str)> = rows
            .iter()
            .map(|r| (r.week / DAY_MS, r.industry_name.as_str()))
            .collect();
        assert_eq!(
            labels,
            vec![
                (monday, "Finance"),
                (monday, "Legal"),
                (monday - 7, "Finance")
            ]
        );
        assert_eq!(rows[0].impressions.share_bp, Some(2_500));

        let (series, rows) = fold(&totals, monday, "legal", &names, false, &Audits::default());
        let last = series.last().unwrap().impressions;
        assert_eq!(
            (last.share_bp, last.partner, last.suppressed),
            (None, None, true),
            "public: 7 events are too few for a share"
        );
        let (series, _) = fold(&totals, monday, "", &names, false, &Audits::default());
        let last = series.last().unwrap().impressions;
        assert_eq!(
            (
                last.share_bp,
                last.first_party,
                last.partner,
                last.suppressed
            ),
            (None, None, None, true),
            "public: 10 first-party beside 30–39 partner events (34.5) are under 50"
        );
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].industry_name, "Legal");
    }
}
