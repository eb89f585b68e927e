//! What a publisher submits, as typed forms, and their parsing into checked
//! values. Parsing is pure: every problem lands in the [`Form`] under its
//! field, and the service adds what only the database can tell (does the
//! industry exist, is the base model active) before anything is written.

use crate::domain::{parse_count, Currency, Minor, Slug};
use crate::form::Form;
use crate::orgs::names::{is_hidden, skeleton, PLATFORM_NAME};
use crate::orgs::OrgKind;

pub const MAX_DESCRIPTION: usize = 20_000;
const MAX_TAGS: usize = 12;
const MAX_CERTIFICATIONS: usize = 10;

/// A new draft as typed.
#[derive(Debug, Clone, Default)]
pub struct DraftForm {
    pub name: String,
    pub slug: String,
    pub tagline: String,
    pub industry: String,
    pub base_model_id: String,
}

/// A new draft, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub name: String,
    pub slug: Slug,
    pub tagline: String,
    pub industry: String,
    pub base_model_id: i64,
}

impl DraftForm {
    /// The draft `publisher` may create; problems go to `f`.
    pub fn check(&self, publisher: OrgKind, f: &mut Form) -> Draft {
        let name = f.text("name", &self.name, 3, 80, false);
        let slug = slug(f, &self.slug, &name);
        check_listing_name(f, publisher, &name, &slug);
        Draft {
            tagline: f.text("tagline", &self.tagline, 1, 140, false),
            industry: self.industry.trim().to_string(),
            base_model_id: f.id("base_model_id", &self.base_model_id, "Choose a base model."),
            name,
            slug,
        }
    }
}

/// A listing's details as typed in the editor.
#[derive(Debug, Clone, Default)]
pub struct DetailsForm {
    pub name: String,
    pub slug: String,
    pub tagline: String,
    pub description: String,
    pub industry: String,
    pub tags: String,
    pub data_residency: String,
    pub certifications: String,
    pub documentation_url: String,
}

/// A listing's details, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ListingDetails {
    pub name: String,
    pub slug: Slug,
    pub tagline: String,
    pub description: String,
    pub industry: String,
    pub tags: Vec<String>,
    pub data_residency: String,
    pub certifications: Vec<String>,
    pub documentation_url: String,
}

impl DetailsForm {
    pub fn check(&self, publisher: OrgKind, f: &mut Form) -> ListingDetails {
        let name = f.text("name", &self.name, 3, 80, false);
        let slug = slug(f, &self.slug, &name);
        check_listing_name(f, publisher, &name, &slug);
        let documentation_url = web_address(f, "documentation_url", &self.documentation_url);
        ListingDetails {
            tagline: f.text("tagline", &self.tagline, 1, 140, false),
            description: f.text("description", &self.description, 0, MAX_DESCRIPTION, true),
            industry: self.industry.trim().to_string(),
            tags: f.list("tags", &self.tags, MAX_TAGS, 30, true),
            data_residency: f.text("data_residency", &self.data_residency, 0, 80, false),
            certifications: f.list(
                "certifications",
                &self.certifications,
                MAX_CERTIFICATIONS,
                40,
                false,
            ),
            documentation_url,
            name,
            slug,
        }
    }
}

/// The slug typed (or made from the name); a placeholder after a failure,
/// which is never written since the form then fails.
fn slug(f: &mut Form, typed: &str, name: &str) -> Slug {
    let parsed = Slug::parse_or_from(typed, name);
    f.take("slug", parsed).unwrap_or_else(Slug::failed)
}

/// A listing name people cannot be fooled by: no invisible or
/// direction-changing characters, and a name or address (slug) that reads
/// as the platform's ("Fairground …", "Fairgr0und …", `/listings/fairground-…`)
/// only on the platform's own listings.
fn check_listing_name(f: &mut Form, publisher: OrgKind, name: &str, slug: &Slug) {
    let platform = publisher == OrgKind::Platform;
    if name.chars().any(is_hidden) {
        f.fail(
            "name",
            "Use letters, digits, spaces and punctuation only: no invisible or direction-changing characters.",
        );
    } else if !platform && skeleton(name).contains(&skeleton(PLATFORM_NAME)) {
        f.fail(
            "name",
            format!("Only the platform's own listings may use a name that reads as \"{PLATFORM_NAME}\"."),
        );
    }
    if !platform && skeleton(slug.as_str()).contains(&skeleton(PLATFORM_NAME)) {
        f.fail(
            "slug",
            format!("Only the platform's own listings may use an address that reads as \"{PLATFORM_NAME}\"."),
        );
    }
}

/// Where a deployment is in its own life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeploymentStatus {
    Active,
    Preview,
    Paused,
}

impl DeploymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentStatus::Active => "active",
            DeploymentStatus::Preview => "preview",
            DeploymentStatus::Paused => "paused",
        }
    }

    fn parse(s: &str) -> Result<DeploymentStatus, String> {
        match s.trim() {
            "active" => Ok(DeploymentStatus::Active),
            "preview" => Ok(DeploymentStatus::Preview),
            "paused" => Ok(DeploymentStatus::Paused),
            _ => Err("Choose active, preview or paused.".into()),
        }
    }
}

/// An optional web address (http or https, at most 300 characters).
pub fn web_address(f: &mut Form, field: &str, raw: &str) -> String {
    let url = f.text(field, raw, 0, 300, false);
    let web = url.starts_with("https://") || url.starts_with("http://");
    if !(url.is_empty() || web) || url.contains(char::is_whitespace) {
        f.fail(
            field,
            "Give a web address starting with https:// (or leave it empty).",
        );
    }
    url
}

/// A self-reported evaluation score: 0–100, or none when left empty.
pub fn self_reported_score(f: &mut Form, raw: &str) -> Option<i64> {
    match raw.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(n) if (0..=100).contains(&n) => Some(n),
            _ => {
                f.fail(
                    "eval_score",
                    "Give a whole number from 0 to 100, or leave it empty.",
                );
                None
            }
        },
    }
}

/// A new deployment as typed.
#[derive(Debug, Clone, Default)]
pub struct DeploymentForm {
    pub base_model_id: String,
    pub revision: String,
    pub status: String,
    pub eval_score: String,
    pub make_default: bool,
}

/// A new deployment, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDeployment {
    pub base_model_id: i64,
    pub revision: String,
    pub status: DeploymentStatus,
    /// 0–100, when given.
    pub eval_score: Option<i64>,
    pub make_default: bool,
}

impl DeploymentForm {
    pub fn check(&self, f: &mut Form) -> NewDeployment {
        let base_model_id = f.id("base_model_id", &self.base_model_id, "Choose a base model.");
        let revision = f.text("revision", &self.revision, 1, 40, false);
        let status = f
            .take("status", DeploymentStatus::parse(&self.status))
            .unwrap_or(DeploymentStatus::Paused);
        let eval_score = self_reported_score(f, &self.eval_score);
        NewDeployment {
            base_model_id,
            revision,
            status,
            eval_score,
            make_default: self.make_default,
        }
    }
}

/// A new plan as typed.
#[derive(Debug, Clone, Default)]
pub struct PlanForm {
    pub name: String,
    pub monthly_fee: String,
    pub currency: String,
    pub included_calls: String,
    pub overage_per_1000: String,
}

/// A new plan, checked: amounts in minor units of its currency.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPlanInput {
    pub name: String,
    pub monthly_fee: Minor,
    pub currency: Currency,
    pub included_calls: i64,
    pub overage_per_1000: Minor,
}

impl PlanForm {
    /// The plan, or None when a field failed (each failure is in `f`).
    pub fn check(&self, f: &mut Form) -> Option<NewPlanInput> {
        let name = f.text("plan_name", &self.name, 1, 60, false);
        let monthly_fee = f.take("monthly_fee", Minor::parse(&self.monthly_fee));
        let currency = f.take("currency", Currency::parse(&self.currency));
        let included_calls = f.take("included_calls", parse_count(&self.included_calls));
        let overage_per_1000 = f.take("overage_per_1000", Minor::parse(&self.overage_per_1000));
        Some(NewPlanInput {
            name,
            monthly_fee: monthly_fee?,
            currency: currency?,
            included_calls: included_calls?,
            overage_per_1000: overage_per_1000?,
        })
    }
}

/// A referee's reason for rejecting or suspending: 5 to 1,000 characters.
pub fn reason(f: &mut Form, raw: &str) -> String {
    f.text("reason", raw, 5, 1000, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(check: impl FnOnce(&mut Form)) -> Vec<String> {
        let mut f = Form::new();
        check(&mut f);
        f.errors().keys().cloned().collect()
    }

    #[test]
    fn a_draft_is_checked_field_by_field() {
        let form = DraftForm {
            name: " Chest X-Ray Triage ".into(),
            slug: String::new(),
            tagline: "Reads chest X-rays".into(),
            industry: " medical ".into(),
            base_model_id: "3".into(),
        };
        let mut f = Form::new();
        let draft = form.check(OrgKind::Partner, &mut f);
        assert!(f.errors().is_empty(), "{:?}", f.errors());
        assert_eq!(draft.name, "Chest X-Ray Triage");
        assert_eq!(draft.slug.as_str(), "chest-x-ray-triage");
        assert_eq!(draft.industry, "medical");
        assert_eq!(draft.base_model_id, 3);

        let bad = DraftForm {
            name: "ab".into(),
            slug: "Not A Slug".into(),
            tagline: String::new(),
            industry: String::new(),
            base_model_id: "none".into(),
        };
        assert_eq!(
            errors_of(|f| {
                bad.check(OrgKind::Partner, f);
            }),
            ["base_model_id", "name", "slug", "tagline"]
        );
    }

    #[test]
    fn only_the_platform_may_read_as_the_platform() {
        let form = DraftForm {
            name: "Fairgr0und Radiology".into(),
            slug: "fairground-radiology".into(),
            tagline: "x".into(),
            industry: "medical".into(),
            base_model_id: "1".into(),
        };
        assert_eq!(
            errors_of(|f| {
                form.check(OrgKind::Partner, f);
            }),
            ["name", "slug"]
        );
        assert!(errors_of(|f| {
            form.check(OrgKind::Platform, f);
        })
        .is_empty());
        let hidden = DraftForm {
            name: "Radio\u{202e}logy".into(),
            ..form
        };
        assert_eq!(
            errors_of(|f| {
                hidden.check(OrgKind::Platform, f);
            }),
            ["name"]
        );
    }

    #[test]
    fn details_keep_labels_tidy_and_links_on_the_web() {
        let form = DetailsForm {
            name: "Contract Review".into(),
            slug: "contract-review".into(),
            tagline: "Reads contracts".into(),
            description: "Line one\nLine two".into(),
            industry: "legal".into(),
            tags: "NDA, nda, Leases".into(),
            data_residency: "EU".into(),
            certifications: "ISO 27001".into(),
            documentation_url: "https://docs.example.org".into(),
        };
        let mut f = Form::new();
        let d = form.check(OrgKind::Partner, &mut f);
        assert!(f.errors().is_empty(), "{:?}", f.errors());
        assert_eq!(d.tags, ["nda", "leases"]);
        assert_eq!(d.description, "Line one\nLine two");
        for url in ["javascript:alert(1)", "https://a b", "ftp://x"] {
            let bad = DetailsForm {
                documentation_url: url.into(),
                ..form.clone()
            };
            assert_eq!(
                errors_of(|f| {
                    bad.check(OrgKind::Partner, f);
                }),
                ["documentation_url"],
                "{url}"
            );
        }
    }

    #[test]
    fn deployments_and_plans_parse_into_typed_values() {
        let mut f = Form::new();
        let d = DeploymentForm {
            base_model_id: "2".into(),
            revision: "v2".into(),
            status: "preview".into(),
            eval_score: "87".into(),
            make_default: true,
        }
        .check(&mut f);
        assert!(f.errors().is_empty());
        assert_eq!(d.status, DeploymentStatus::Preview);
        assert_eq!(d.eval_score, Some(87));
        assert_eq!(
            errors_of(|f| {
                DeploymentForm {
                    base_model_id: "2".into(),
                    revision: "v2".into(),
                    status: "live".into(),
                    eval_score: "101".into(),
                    make_default: false,
                }
                .check(f);
            }),
            ["eval_score", "status"]
        );

        let mut f = Form::new();
        let plan = PlanForm {
            name: "Team".into(),
            monthly_fee: "1,234.5".into(),
            currency: "eur".into(),
            included_calls: "10,000".into(),
            overage_per_1000: "0.75".into(),
        }
        .check(&mut f)
        .expect("a valid plan");
        assert_eq!(plan.monthly_fee.get(), 123_450);
        assert_eq!(plan.currency.code(), "EUR");
        assert_eq!(plan.included_calls, 10_000);
        assert_eq!(plan.overage_per_1000.get(), 75);
        let mut f = Form::new();
        let none = PlanForm {
            name: String::new(),
            monthly_fee: "-1".into(),
            currency: "BTC".into(),
            included_calls: "many".into(),
            overage_per_1000: "1.234".into(),
        }
        .check(&mut f);
        assert!(none.is_none());
        assert_eq!(
            f.errors().keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "currency",
                "included_calls",
                "monthly_fee",
                "overage_per_1000",
                "plan_name"
            ]
        );
    }
}
