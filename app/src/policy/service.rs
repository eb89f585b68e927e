//! Policy workflows: the public page's data, a referee's change (each
//! setting's before and after recorded, one audit entry, one transaction).

use super::{format_rate, parse_rate, Policy, PolicyChange, PolicyData};
use crate::audit::db::{append, NewEntry};
use crate::auth::actor::{Actor, Permission};
use crate::error::{AppError, FieldErrors};
use crate::state::AppState;

/// The public policy page; referees also get the form.
pub async fn page(state: &AppState, viewer: Option<&Actor>) -> Result<PolicyData, AppError> {
    let can_manage = viewer.is_some_and(|a| a.require(Permission::Referee).is_ok());
    let (audit_entries, audit_head) = super::db::audit_head(&state.db).await?;
    Ok(PolicyData {
        policy: super::db::current(&state.db).await?,
        changes: super::db::changes(&state.db).await?,
        audit_entries,
        audit_head,
        can_manage,
        affiliations: crate::orgs::affiliation::public_list(&state.db).await?,
        partner_choices: if can_manage {
            crate::orgs::affiliation::partner_choices(&state.db).await?
        } else {
            Vec::new()
        },
    })
}

fn on_off(b: bool) -> String {
    if b { "on" } else { "off" }.to_string()
}

/// The policy form as typed; the notice and the anomaly threshold may be
/// left empty (unchanged).
pub struct PolicyForm<'a> {
    pub non_compete: &'a str,
    pub take_rate: &'a str,
    pub featured_slots: &'a str,
    pub ranking_notice_days: &'a str,
    pub anomaly_ratio: &'a str,
    pub reason: &'a str,
}

/// A referee sets the policy; `reason` is published with the change.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    form: &PolicyForm<'_>,
) -> Result<(), AppError> {
    let PolicyForm {
        non_compete,
        take_rate,
        featured_slots,
        ranking_notice_days,
        anomaly_ratio,
        reason,
    } = *form;
    let m = actor.require(Permission::Referee)?;
    let mut fields = FieldErrors::new();
    let mut switch = |name: &str, value: &str| match value.trim() {
        "on" => true,
        "off" => false,
        _ => {
            fields.insert(name.into(), vec!["Choose on or off.".into()]);
            false
        }
    };
    let non_compete = switch("non_compete", non_compete);
    let featured_slots = switch("featured_slots", featured_slots);
    let take_rate_bp = parse_rate(take_rate).unwrap_or_else(|| {
        fields.insert(
            "take_rate".into(),
            vec![
                "Give a percentage from 0 to 100 with at most two decimals, e.g. 20 or 12.5."
                    .into(),
            ],
        );
        0
    });
    // Left out (older forms, API callers): unchanged.
    let notice = ranking_notice_days.trim();
    let notice_days = if notice.is_empty() {
        None
    } else {
        match notice.parse::<i64>() {
            Ok(d) if (15..=365).contains(&d) => Some(d),
            _ => {
                fields.insert(
                    "ranking_notice_days".into(),
                    vec!["Give a whole number of days from 15 to 365.".into()],
                );
                None
            }
        }
    };
    let ratio = anomaly_ratio.trim();
    let anomaly_ratio_pct =
        if ratio.is_empty() {
            None
        } else {
            match super::parse_ratio(ratio) {
                Some(pct) => Some(pct),
                None => {
                    fields.insert(
                    "anomaly_ratio".into(),
                    vec!["Give a ratio above 1 and at most 10, with at most two decimals, e.g. 1.5."
                        .into()],
                );
                    None
                }
            }
        };
    let reason = reason.trim();
    if !(5..=500).contains(&reason.chars().count()) {
        fields.insert(
            "reason".into(),
            vec![
                "Say why, in 5 to 500 characters: the reason is published with the change.".into(),
            ],
        );
    }
    if !fields.is_empty() {
        return Err(AppError::Validation { fields });
    }
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let before = super::db::current_in(&mut tx).await?;
    let wanted = Policy {
        non_compete,
        take_rate_bp,
        featured_slots,
        ranking_notice_days: notice_days.unwrap_or(before.ranking_notice_days),
        anomaly_ratio_pct: anomaly_ratio_pct.unwrap_or(before.anomaly_ratio_pct),
    };
    let mut changes = Vec::new();
    let mut change = |setting: &str, b: String, a: String| {
        if b != a {
            changes.push(PolicyChange {
                setting: setting.into(),
                before: b,
                after: a,
                reason: reason.into(),
                at: now,
            });
        }
    };
    change(
        "non_compete",
        on_off(before.non_compete),
        on_off(wanted.non_compete),
    );
    change(
        "take_rate_bp",
        before.take_rate_bp.to_string(),
        wanted.take_rate_bp.to_string(),
    );
    change(
        "featured_slots",
        on_off(before.featured_slots),
        on_off(wanted.featured_slots),
    );
    change(
        "ranking_notice_days",
        before.ranking_notice_days.to_string(),
        wanted.ranking_notice_days.to_string(),
    );
    change(
        "anomaly_ratio_pct",
        super::format_ratio(before.anomaly_ratio_pct),
        super::format_ratio(wanted.anomaly_ratio_pct),
    );
    if changes.is_empty() {
        return Err(AppError::Conflict(
            "Nothing changed: the policy already has these settings.".into(),
        ));
    }
    super::db::save(&mut tx, &wanted, now).await?;
    if before.non_compete != wanted.non_compete {
        crate::cases::service::policy_flag_changed(&mut tx, wanted.non_compete, actor.user_id, now)
            .await?;
    }
    for c in &changes {
        super::db::record_change(&mut tx, actor.user_id, c).await?;
    }
    let details: serde_json::Map<String, serde_json::Value> = changes
        .iter()
        .map(|c| {
            (
                c.setting.clone(),
                serde_json::json!({ "before": c.before, "after": c.after }),
            )
        })
        .chain([("reason".to_string(), serde_json::json!(reason))])
        .collect();
    append(
        &mut tx,
        &NewEntry::by(
            actor,
            "policy.changed",
            Some(m.org_id),
            "policy".into(),
            serde_json::Value::Object(details),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(take_rate = %format_rate(wanted.take_rate_bp), non_compete = wanted.non_compete, "policy changed");
    Ok(())
}

/// The current organisation's "Who accessed our data" log.
pub async fn data_access_log(
    state: &AppState,
    actor: &Actor,
) -> Result<Vec<super::DataAccess>, AppError> {
    let m = actor.require(Permission::ViewMembers)?;
    super::firewall::log_of(&state.db, m.org_id).await
}
