//! The authorisation matrix: every route the server answers × six actors
//! (anonymous, client member, partner member, partner admin, platform
//! referee, platform player) × a target in the actor's own organisation or
//! in another one → the expected status. The route list comes from
//! `fairground routes`: a route missing from `expected` fails the test.

use crate::helpers::{
    api_post_as, run_ok, session_cookie, sign_up, totp_code, totp_step_now, App, Backend, TestDb,
    Visitor, PASSWORD,
};
use std::collections::{BTreeMap, BTreeSet};

crate::on_both_backends!(every_route_answers_every_actor_as_expected);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Actor {
    Anonymous,
    ClientMember,
    ClientAdmin,
    PartnerMember,
    PartnerAdmin,
    Referee,
    Player,
}

const ACTORS: [Actor; 7] = [
    Actor::Anonymous,
    Actor::ClientMember,
    Actor::ClientAdmin,
    Actor::PartnerMember,
    Actor::PartnerAdmin,
    Actor::Referee,
    Actor::Player,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    OwnOrg,
    OtherOrg,
}

impl Actor {
    fn email(self) -> Option<&'static str> {
        match self {
            Actor::Anonymous => None,
            Actor::ClientMember => Some("client-member@example.org"),
            Actor::ClientAdmin => Some("client-admin@example.org"),
            Actor::PartnerMember => Some("partner-member@example.org"),
            Actor::PartnerAdmin => Some("partner-admin@example.org"),
            Actor::Referee => Some("referee@example.org"),
            Actor::Player => Some("player@example.org"),
        }
    }

    /// The organisation the actor works in ('C'lient, 'P'artner, 'F' platform).
    fn org(self) -> char {
        match self {
            Actor::ClientMember | Actor::ClientAdmin => 'C',
            Actor::PartnerMember | Actor::PartnerAdmin | Actor::Anonymous => 'P',
            Actor::Referee | Actor::Player => 'F',
        }
    }

    fn manages_members(self) -> bool {
        matches!(
            self,
            Actor::ClientAdmin | Actor::PartnerAdmin | Actor::Referee
        )
    }

    /// May create and edit its organisation's listings.
    fn edits_listings(self) -> bool {
        matches!(
            self,
            Actor::PartnerMember | Actor::PartnerAdmin | Actor::Player
        )
    }
}

/// Every organisation: its id, a plain member to act on, and a pending
/// invitation (id and token).
struct OrgFixture {
    id: i64,
    target_user: i64,
    invitation_id: i64,
    token: String,
}

/// A draft listing of an organisation (ready to submit), its second
/// (non-default) deployment and its plan.
struct ListingFixture {
    id: i64,
    slug: String,
    /// Its publisher's slug: a draft's address is `/listings/{publisher}/{slug}`.
    publisher: String,
    deployment: i64,
    plan: i64,
}

struct World {
    orgs: BTreeMap<char, OrgFixture>,
    /// Listings of P, Q and F (clients publish none).
    listings: BTreeMap<char, ListingFixture>,
    /// A complaint case of P and one of Q.
    cases: BTreeMap<char, i64>,
    base_models: [i64; 2],
    /// Subscriptions: the client's to P's and to F's listing, and Q's own
    /// (another organisation's) to Q's listing.
    subscriptions: BTreeMap<char, i64>,
    /// An API key of P, Q, F and C.
    keys: BTreeMap<char, i64>,
}

impl World {
    /// The organisation a target points at: the actor's own, or 'Q', a
    /// partner organisation none of the actors belongs to.
    fn org(&self, actor: Actor, target: Target) -> &OrgFixture {
        let key = match target {
            Target::OwnOrg => actor.org(),
            Target::OtherOrg => 'Q',
        };
        &self.orgs[&key]
    }

    /// The listing a target points at: the actor's organisation's own, or
    /// Q's (also for a client, whose organisation has none).
    /// The case a target points at: the actor's organisation's, or Q's.
    fn case(&self, actor: Actor, target: Target) -> i64 {
        match (target, self.cases.get(&actor.org())) {
            (Target::OwnOrg, Some(c)) if actor != Actor::Anonymous => *c,
            _ => self.cases[&'Q'],
        }
    }

    /// The subscription a target points at: one the actor's organisation
    /// is party to (as client or publisher), or another organisation's.
    fn subscription(&self, actor: Actor, target: Target) -> i64 {
        self.subscriptions[&Self::subscription_key(actor, target)]
    }

    /// Whose listing that subscription is to (its key in `listings`).
    fn subscription_key(actor: Actor, target: Target) -> char {
        match (target, actor.org()) {
            (Target::OwnOrg, 'F') if actor != Actor::Anonymous => 'F',
            (Target::OwnOrg, _) if actor != Actor::Anonymous => 'P',
            _ => 'Q',
        }
    }

    fn key(&self, actor: Actor, target: Target) -> i64 {
        match (target, self.keys.get(&actor.org())) {
            (Target::OwnOrg, Some(k)) if actor != Actor::Anonymous => *k,
            _ => self.keys[&'Q'],
        }
    }

    fn listing(&self, actor: Actor, target: Target) -> &ListingFixture {
        match (target, self.listings.get(&actor.org())) {
            (Target::OwnOrg, Some(l)) if actor != Actor::Anonymous => l,
            _ => &self.listings[&'Q'],
        }
    }
}

/// What each route must answer. 401: not signed in; 403: signed in, not
/// allowed; 404: the target is in another organisation (or does not exist);
/// 409/422: allowed, but the request itself is refused.
fn expected(method: &str, path: &str, actor: Actor, target: Target) -> u16 {
    use Actor::*;
    let anon = actor == Anonymous;
    let signed_in = |ok: u16| if anon { 401 } else { ok };
    let manager = |own: u16| match (anon, actor.manages_members(), target) {
        (true, _, _) => 401,
        (false, false, _) => 403,
        (false, true, Target::OwnOrg) => own,
        (false, true, Target::OtherOrg) => 404,
    };
    // Listing editing: the publisher's organisation only.
    let editor = |own: u16| match (anon, actor.edits_listings(), target) {
        (true, _, _) => 401,
        (false, false, _) => 403,
        (false, true, Target::OwnOrg) => own,
        (false, true, Target::OtherOrg) => 404,
    };
    let referee = |ok: u16| match (anon, actor == Referee) {
        (true, _) => 401,
        (false, true) => ok,
        (false, false) => 403,
    };
    // Cases: referees see all; partners and clients those they are party to;
    // players none.
    let case_viewer = |ok: u16| match actor {
        Anonymous => 401,
        Player => 403,
        Referee => ok,
        _ if target == Target::OwnOrg && actor.org() == 'P' => ok,
        _ => 404,
    };
    // The fixture listings are drafts: seen by their organisation and
    // referees at their full address, and by their organisation only at the
    // short one (which is a published listing's; a draft claims no slug).
    let own_draft = !anon && target == Target::OwnOrg && actor.org() != 'C';
    let sees_draft = !anon && (actor == Referee || own_draft);
    match (method, path) {
        (
            "GET",
            "/"
            | "/healthz"
            | "/readyz"
            | "/sign-in"
            | "/sign-up"
            | "/invitations/{token}"
            | "/catalogue"
            | "/how-ranking-works"
            | "/base-models"
            | "/compare",
        ) => 200,
        ("GET", "/notifications") | ("POST", "/api/fn/notifications") => signed_in(200),
        ("GET", "/org/data-access") | ("POST", "/api/fn/data_access_log") => signed_in(200),
        ("GET", "/listings/{slug}") => {
            if own_draft {
                200
            } else {
                404
            }
        }
        ("GET", "/listings/{publisher}/{slug}") | ("POST", "/api/fn/listing_page") => {
            if sees_draft {
                200
            } else {
                404
            }
        }
        ("GET", "/my/listings") | ("POST", "/api/fn/my_listings") => {
            match (anon, actor.edits_listings()) {
                (true, _) => 401,
                (false, true) => 200,
                (false, false) => 403,
            }
        }
        // An empty name: allowed to create, this one is invalid.
        ("POST", "/api/fn/create_listing") => match (anon, actor.edits_listings()) {
            (true, _) => 401,
            (false, true) => 422,
            (false, false) => 403,
        },
        ("GET", "/my/listings/{id}")
        | (
            "POST",
            "/api/fn/listing_editor"
            | "/api/fn/update_listing"
            | "/api/fn/add_deployment"
            | "/api/fn/edit_deployment"
            | "/api/fn/set_default_deployment"
            | "/api/fn/add_plan"
            | "/api/fn/deactivate_plan"
            | "/api/fn/submit_listing"
            | "/api/fn/retire_listing"
            | "/api/fn/set_endpoint",
        ) => editor(200),
        // The fixture deployments have no endpoint yet: nothing to replace.
        ("POST", "/api/fn/replace_signing_secret") => editor(409),
        // Nor an endpoint to send a test call to.
        ("POST", "/api/fn/test_endpoint") => editor(422),
        // The fixture client subscribes on that deployment: it can only be paused.
        ("POST", "/api/fn/remove_deployment") => match (actor, target) {
            (Player, Target::OwnOrg) | (PartnerMember | PartnerAdmin, Target::OwnOrg) => 409,
            _ => editor(200),
        },
        ("GET", "/review") | ("POST", "/api/fn/review_queue") => referee(200),
        // The fixture listings are drafts: no review decision applies.
        (
            "POST",
            "/api/fn/approve_listing"
            | "/api/fn/reject_listing"
            | "/api/fn/suspend_listing"
            | "/api/fn/reinstate_listing",
        ) => referee(409),
        ("POST", "/api/fn/add_base_model") => referee(422),
        ("GET", "/policy") | ("POST", "/api/fn/marketplace_policy") => 200,
        // Public shares; referees also get counts (checked in `exposure`).
        ("GET", "/exposure") | ("POST", "/api/fn/exposure_report") => 200,
        ("GET", "/cases") | ("POST", "/api/fn/cases_list") => match actor {
            Anonymous => 401,
            Player => 403,
            _ => 200,
        },
        ("GET", "/cases/{id}") | ("POST", "/api/fn/case_page") => case_viewer(200),
        ("POST", "/api/fn/decide_case") => referee(200),
        // Featured slots are off by default; the fixture is in none.
        ("POST", "/api/fn/feature_listing") => referee(409),
        ("POST", "/api/fn/unfeature_listing") => referee(404),
        ("POST", "/api/fn/featured_listings") => 200,
        // An empty complaint: partners may complain, this one is invalid.
        ("POST", "/api/fn/open_complaint") => match actor {
            Anonymous => 401,
            PartnerMember | PartnerAdmin => 422,
            _ => 403,
        },
        ("GET", "/audit") | ("POST", "/api/fn/audit_check") => referee(200),
        // The settings it already has: allowed, but nothing to change.
        ("POST", "/api/fn/update_policy") => referee(409),
        // No organisation chosen: a referee is told so, nobody else gets
        // that far.
        ("POST", "/api/fn/declare_affiliation" | "/api/fn/withdraw_affiliation") => referee(422),
        // Empty weights: a referee is told what is missing.
        ("POST", "/api/fn/propose_ranking_weights") => referee(422),
        ("POST", "/api/fn/ranking_formula") => 200,
        ("GET", "/evaluations") | ("POST", "/api/fn/evaluations") => 200,
        // Public: the current month's report, provisional.
        (
            "GET",
            "/neutrality-report"
            | "/neutrality-report/{month}"
            | "/neutrality-report/{month}/{file}",
        )
        | ("POST", "/api/fn/neutrality_report" | "/api/fn/neutrality_reports") => 200,
        // No run exists in the fixture world, nor a set to download.
        ("GET", "/evaluations/runs/{id}" | "/evaluation-sets/{industry}/{file}")
        | ("POST", "/api/fn/evaluation_run") => 404,
        // Empty fields, and a draft's deployment: a referee is told why.
        ("POST", "/api/fn/publish_evaluation_set" | "/api/fn/run_evaluation") => referee(422),
        ("POST", "/api/fn/deprecate_base_model") => referee(200),
        ("POST", "/api/fn/reactivate_base_model") => referee(409),
        (
            "POST",
            "/api/fn/catalogue_search" | "/api/fn/base_models" | "/api/fn/compare_listings",
        ) => 200,
        ("GET", "/account" | "/orgs" | "/org/members") => signed_in(200),
        // Opening a confirmation link shows a button; the token here is not
        // a confirmation token, so pressing it is refused for everyone.
        ("GET", "/verify-email/{token}") => 200,
        ("POST", "/api/fn/verify_email") => 409,
        // Every fixture person has confirmed their address already.
        ("POST", "/api/fn/resend_verification") => signed_in(409),
        ("POST", "/api/fn/my_sessions") => signed_in(200),
        // Two-step sign-in: staff have it on, everyone else off.
        ("GET", "/sign-in/code") => 200,
        // No session here waits for a code.
        ("POST", "/api/fn/sign_in_code") => 422,
        ("POST", "/api/fn/two_step" | "/api/fn/dismiss_recovery_codes") => signed_in(200),
        ("POST", "/api/fn/begin_two_step") => match actor {
            Referee | Player => 409,
            _ => signed_in(200),
        },
        // No set-up was begun on this session.
        ("POST", "/api/fn/confirm_two_step") => signed_in(422),
        ("POST", "/api/fn/replace_recovery_codes") => match actor {
            Referee | Player => 422,
            _ => signed_in(409),
        },
        ("POST", "/api/fn/turn_off_two_step") => signed_in(422),
        // No session has this handle (one's own are in `accounts`).
        ("POST", "/api/fn/end_session") => signed_in(404),
        ("POST", "/api/fn/home_listings" | "/api/fn/current_user" | "/api/fn/invitation_offer") => {
            200
        }
        ("POST", "/api/fn/sign_up" | "/api/fn/sign_in" | "/api/fn/sign_out") => 200,
        // Wrong current password: a field error once signed in.
        ("POST", "/api/fn/change_password") => signed_in(422),
        ("POST", "/api/fn/change_display_name" | "/api/fn/my_orgs" | "/api/fn/members_page") => {
            signed_in(200)
        }
        // An empty name: anyone signed in may create, this one is invalid.
        ("POST", "/api/fn/create_org") => signed_in(422),
        ("POST", "/api/fn/switch_org") => match target {
            Target::OwnOrg => signed_in(200),
            Target::OtherOrg => signed_in(404),
        },
        ("POST", "/api/fn/invite_member") => match (anon, actor.manages_members()) {
            (true, _) => 401,
            (false, true) => 200,
            (false, false) => 403,
        },
        ("POST", "/api/fn/revoke_invitation" | "/api/fn/change_role" | "/api/fn/remove_member") => {
            manager(200)
        }
        // Invitations are for their own address only.
        ("POST", "/api/fn/accept_invitation") => signed_in(403),
        // The referee is the platform's only owner.
        ("POST", "/api/fn/leave_org") => signed_in(if actor == Referee { 409 } else { 200 }),
        // Subscriptions: the client's own; its members are not admins.
        ("GET", "/subscriptions" | "/exports/invoices.csv")
        | ("POST", "/api/fn/my_subscriptions") => match actor {
            Anonymous => 401,
            ClientMember | ClientAdmin => 200,
            _ => 403,
        },
        // A client admin: its own organisation's subscription (to P's
        // listing), never another's (Q's, which the tenant filter hides).
        // The switch asks for the deployment it already runs on: refused
        // after the filter.
        ("POST", "/api/fn/cancel_subscription" | "/api/fn/switch_deployment") => {
            match (actor, target) {
                (ClientAdmin, Target::OwnOrg) if path.ends_with("cancel_subscription") => 200,
                (ClientAdmin, Target::OwnOrg) => 422,
                (ClientAdmin, Target::OtherOrg) => 404,
                _ => signed_in(403),
            }
        }
        // Any member of the client tries its model (the fixture deployment
        // has no endpoint: the answer says so); nobody else finds it.
        ("POST", "/api/fn/try_model") => match (actor, target) {
            (Anonymous, _) => 401,
            (ClientAdmin | ClientMember, Target::OwnOrg) => 200,
            _ => 404,
        },
        // A client admin sets its own subscription's fallback and cap.
        ("POST", "/api/fn/set_call_options") => match (actor, target) {
            (ClientAdmin, Target::OwnOrg) => 200,
            (ClientAdmin, Target::OtherOrg) => 404,
            _ => signed_in(403),
        },
        // The fixture listings are drafts: nobody can subscribe to them.
        ("POST", "/api/fn/subscribe") => match actor {
            ClientAdmin => 404,
            _ => signed_in(403),
        },
        // The fixture listings are drafts: nobody can subscribe to them.
        ("POST", "/api/fn/subscribe_options") => 404,
        // The subscriber, the publisher, referees (on the record); players
        // for first-party listings only.
        ("GET", "/subscriptions/{id}") | ("POST", "/api/fn/subscription_detail") => {
            match (actor, target) {
                (Anonymous, _) => 401,
                (Referee, _) => 200,
                (_, Target::OwnOrg) => 200,
                (_, Target::OtherOrg) => 404,
            }
        }
        // A publisher's own (partner members, players); with another's id
        // (`org`), referees only.
        ("GET", "/revenue" | "/exports/statements.csv") | ("POST", "/api/fn/publisher_revenue") => {
            match (actor, target, method) {
                (Anonymous, _, _) => 401,
                (Referee, Target::OtherOrg, "POST") => 200,
                (PartnerMember | PartnerAdmin | Player, Target::OwnOrg, _)
                | (PartnerMember | PartnerAdmin | Player, _, "GET") => 200,
                (ClientMember | ClientAdmin | Referee, _, "GET")
                | (ClientMember | ClientAdmin | Referee, Target::OwnOrg, _) => 403,
                _ => 404,
            }
        }
        ("GET", "/marketplace-totals") | ("POST", "/api/fn/marketplace_totals") => referee(200),
        // Publishers' metering keys and clients' gateway keys; referees
        // hold none.
        ("GET", "/org/api-keys") | ("POST", "/api/fn/api_keys") => match actor {
            Anonymous => 401,
            Referee => 403,
            _ => 200,
        },
        // An empty name: allowed to create, this one is invalid.
        ("POST", "/api/fn/create_api_key") => match actor {
            Anonymous => 401,
            PartnerAdmin | Player | ClientAdmin => 422,
            _ => 403,
        },
        ("POST", "/api/fn/revoke_api_key") => match (actor, target) {
            (Anonymous, _) => 401,
            (PartnerAdmin | Player | ClientAdmin, Target::OwnOrg) => 200,
            (PartnerAdmin | Player | ClientAdmin, Target::OtherOrg) => 404,
            _ => 403,
        },
        ("GET", "/api" | "/api/v1/openapi.json" | "/gateway/v1/openapi.json") => 200,
        // A session never authenticates the gateway: a client's key does.
        ("GET", "/gateway/v1/models") | ("POST", "/gateway/v1/chat/completions") => 401,
        // A session never authenticates the metering API: a key does.
        ("POST", "/api/v1/usage") => 401,
        (m, p) => panic!("{m} {p} is not in the authorisation matrix: add it to `expected`"),
    }
}

/// The request for a cell: a GET path, or a server function with fields.
fn request(
    world: &World,
    method: &str,
    path: &str,
    actor: Actor,
    target: Target,
    n: usize,
) -> (String, Vec<(String, String)>) {
    let org = world.org(actor, target);
    let l = world.listing(actor, target);
    let (id, dep, plan) = (
        l.id.to_string(),
        l.deployment.to_string(),
        l.plan.to_string(),
    );
    let f = |pairs: &[(&str, String)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<Vec<_>>()
    };
    if method == "GET" {
        let id = if path.starts_with("/cases/") {
            world.case(actor, target).to_string()
        } else if path.starts_with("/subscriptions/") {
            world.subscription(actor, target).to_string()
        } else {
            id
        };
        let mut url = path.to_string();
        if path.starts_with("/neutrality-report/") {
            url = url.replace("{file}", "report.csv");
        }
        let url = url
            .replace("{month}", &this_month())
            .replace("{token}", &org.token)
            .replace("{publisher}", &l.publisher)
            .replace("{slug}", &l.slug)
            .replace("{id}", &id);
        return (url, Vec::new());
    }
    let fields = match path {
        "/api/fn/sign_up" => f(&[
            ("email", format!("new-{n}@example.org")),
            ("display_name", "New".into()),
            ("password", PASSWORD.into()),
        ]),
        "/api/fn/sign_in" => f(&[
            (
                "email",
                actor.email().unwrap_or("partner-member@example.org").into(),
            ),
            ("password", PASSWORD.into()),
        ]),
        "/api/fn/change_password" => f(&[
            ("current_password", "not the current one".into()),
            ("new_password", "violet harbour lantern 58".into()),
        ]),
        "/api/fn/change_display_name" => f(&[("display_name", "Renamed".into())]),
        "/api/fn/create_org" => f(&[("name", "".into()), ("kind", "partner".into())]),
        "/api/fn/switch_org" => f(&[("org_id", org.id.to_string())]),
        "/api/fn/invite_member" => f(&[
            ("email", format!("invitee-{n}@example.org")),
            ("role", "member".into()),
            ("staff_role", "player".into()),
        ]),
        "/api/fn/revoke_invitation" => f(&[("invitation_id", org.invitation_id.to_string())]),
        "/api/fn/invitation_offer" | "/api/fn/accept_invitation" | "/api/fn/verify_email" => {
            f(&[("token", org.token.clone())])
        }
        "/api/fn/end_session" => f(&[("handle", "0".repeat(64))]),
        "/api/fn/sign_in_code" | "/api/fn/confirm_two_step" | "/api/fn/replace_recovery_codes" => {
            f(&[("code", "000000".into())])
        }
        "/api/fn/turn_off_two_step" => f(&[("current_password", "not the current one".into())]),
        "/api/fn/change_role" => f(&[
            ("user_id", org.target_user.to_string()),
            ("role", "admin".into()),
        ]),
        "/api/fn/remove_member" => f(&[("user_id", org.target_user.to_string())]),
        "/api/fn/listing_page" => {
            f(&[("slug", l.slug.clone()), ("publisher", l.publisher.clone())])
        }
        "/api/fn/case_page" => f(&[("id", world.case(actor, target).to_string())]),
        "/api/fn/decide_case" => f(&[
            ("id", world.case(actor, target).to_string()),
            ("action", "acknowledge".into()),
        ]),
        "/api/fn/open_complaint" => f(&[("about", "listing".into()), ("text", "".into())]),
        "/api/fn/feature_listing" | "/api/fn/unfeature_listing" => f(&[("id", id.clone())]),
        "/api/fn/propose_ranking_weights" => f(&[
            ("relevance", "".into()),
            ("adoption", "".into()),
            ("evaluation", "".into()),
            ("freshness", "".into()),
            ("reason", "".into()),
        ]),
        "/api/fn/declare_affiliation" | "/api/fn/withdraw_affiliation" => {
            f(&[("org", "".into()), ("reason", "".into())])
        }
        "/api/fn/update_policy" => f(&[
            ("non_compete", "on".into()),
            ("take_rate", "20".into()),
            ("featured_slots", "off".into()),
            ("reason", "No change intended.".into()),
        ]),
        "/api/fn/add_base_model" => f(&[
            ("provider", "".into()),
            ("name", "".into()),
            ("version", "".into()),
            ("modality", "".into()),
            ("context_length", "".into()),
            ("licence", "".into()),
        ]),
        "/api/fn/create_listing" => f(&[
            ("name", "".into()),
            ("tagline", "t".into()),
            ("industry", "legal".into()),
            ("base_model_id", world.base_models[0].to_string()),
        ]),
        "/api/fn/listing_editor"
        | "/api/fn/submit_listing"
        | "/api/fn/retire_listing"
        | "/api/fn/approve_listing"
        | "/api/fn/reinstate_listing" => f(&[("id", id)]),
        "/api/fn/reject_listing" | "/api/fn/suspend_listing" => {
            f(&[("id", id), ("reason", "Not ready yet.".into())])
        }
        "/api/fn/update_listing" => f(&[
            ("id", id),
            ("name", "Renamed fixture".into()),
            ("slug", l.slug.clone()),
            ("tagline", "t".into()),
            ("description", "Still described.".into()),
            ("industry", "legal".into()),
        ]),
        "/api/fn/add_deployment" => f(&[
            ("listing_id", id),
            ("base_model_id", world.base_models[0].to_string()),
            ("revision", format!("r{n}")),
            ("status", "active".into()),
        ]),
        "/api/fn/set_default_deployment"
        | "/api/fn/remove_deployment"
        | "/api/fn/replace_signing_secret"
        | "/api/fn/test_endpoint" => f(&[("listing_id", id), ("deployment_id", dep)]),
        "/api/fn/edit_deployment" => f(&[
            ("listing_id", id),
            ("deployment_id", dep),
            ("revision", format!("e{n}")),
            ("eval_score", "50".into()),
        ]),
        "/api/fn/evaluation_run" => f(&[("id", id)]),
        "/api/fn/neutrality_report" => f(&[("month", this_month())]),
        "/api/fn/run_evaluation" => f(&[("deployment_id", dep)]),
        "/api/fn/publish_evaluation_set" => f(&[
            ("industry", "".into()),
            ("name", "".into()),
            ("rule", "".into()),
            ("items", "".into()),
            ("reason", "".into()),
        ]),
        "/api/fn/set_endpoint" => f(&[
            ("listing_id", id),
            ("deployment_id", dep),
            ("base_url", "https://models.example.com/v1".into()),
            ("model", format!("m{n}")),
        ]),
        "/api/fn/add_plan" => f(&[
            ("listing_id", id),
            ("plan_name", format!("Plan {n}")),
            ("monthly_fee", "10".into()),
            ("currency", "EUR".into()),
            ("included_calls", "100".into()),
            ("overage_per_1000", "1".into()),
        ]),
        "/api/fn/deactivate_plan" => f(&[("listing_id", id), ("plan_id", plan)]),
        "/api/fn/subscribe_options" => f(&[("listing_id", id)]),
        "/api/fn/subscribe" => f(&[
            ("listing_id", id),
            ("plan_id", plan),
            ("deployment_id", dep),
        ]),
        "/api/fn/cancel_subscription" | "/api/fn/subscription_detail" => {
            f(&[("id", world.subscription(actor, target).to_string())])
        }
        "/api/fn/try_model" => f(&[
            ("id", world.subscription(actor, target).to_string()),
            ("prompt", "hello".into()),
        ]),
        "/api/fn/set_call_options" => f(&[
            ("id", world.subscription(actor, target).to_string()),
            ("allow_fallback", "on".into()),
            ("monthly_call_cap", "10".into()),
        ]),
        // The deployment the subscription runs on (a deployment of the
        // subscribed listing).
        "/api/fn/switch_deployment" => f(&[
            ("id", world.subscription(actor, target).to_string()),
            (
                "deployment_id",
                world.listings[&World::subscription_key(actor, target)]
                    .deployment
                    .to_string(),
            ),
        ]),
        "/api/fn/publisher_revenue" => f(&[(
            "org",
            match target {
                Target::OwnOrg => String::new(),
                Target::OtherOrg => org.id.to_string(),
            },
        )]),
        "/api/fn/create_api_key" => f(&[("name", "".into())]),
        "/api/fn/revoke_api_key" => f(&[("id", world.key(actor, target).to_string())]),
        "/api/fn/deprecate_base_model" | "/api/fn/reactivate_base_model" => {
            f(&[("id", world.base_models[1].to_string())])
        }
        _ => Vec::new(),
    };
    (path.to_string(), fields)
}

/// A session of `email`: the password, then (staff) a code of the
/// account's two-step secret. `restore` forgets used codes, so the current
/// step's code works in every cell.
async fn signed_in(app: &App, email: &str, secrets: &BTreeMap<&str, String>) -> String {
    let (status, body, headers) = api_post_as(
        app,
        "/api/fn/sign_in",
        None,
        &[("email", email), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(status, 200, "sign in {email}");
    let cookie = session_cookie(&headers).expect("cookie");
    if body["second_step"] != true {
        return cookie;
    }
    let code = totp_code(&secrets[email], totp_step_now());
    let (status, body, headers) = api_post_as(
        app,
        "/api/fn/sign_in_code",
        Some(&cookie),
        &[("code", &code)],
    )
    .await;
    assert_eq!(status, 200, "code of {email}: {body}");
    session_cookie(&headers).expect("cookie")
}

/// Creates an organisation as `owner` with `members` (email, role, staff)
/// joining by invitation, plus a pending invitation left open.
async fn org_with(
    app: &App,
    db: &TestDb,
    owner: &str,
    name: &str,
    kind: &str,
    members: &[(&str, &str, &str)],
) -> OrgFixture {
    let mut cookie = sign_up(app, owner, "Owner").await;
    app.confirm_email(owner).await;
    let (status, body, headers) = api_post_as(
        app,
        "/api/fn/create_org",
        Some(&cookie),
        &[("name", name), ("kind", kind)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    cookie = session_cookie(&headers).unwrap_or(cookie);
    let id = body.as_i64().expect("id");
    add_members(app, &cookie, members).await;
    finish_fixture(app, db, &cookie, id, name).await
}

async fn add_members(app: &App, inviter: &str, members: &[(&str, &str, &str)]) {
    for (email, role, staff) in members {
        let (status, body, _) = api_post_as(
            app,
            "/api/fn/invite_member",
            Some(inviter),
            &[("email", email), ("role", role), ("staff_role", staff)],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let token = body
            .as_str()
            .expect("link")
            .rsplit('/')
            .next()
            .expect("token")
            .to_string();
        let joiner = sign_up(app, email, "Member").await;
        app.confirm_email(email).await;
        let (status, body, _) = api_post_as(
            app,
            "/api/fn/accept_invitation",
            Some(&joiner),
            &[("token", &token)],
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
}

async fn finish_fixture(app: &App, db: &TestDb, inviter: &str, id: i64, name: &str) -> OrgFixture {
    let slug = name.to_lowercase().replace(' ', "-");
    let pending = format!("pending-{slug}@example.org");
    let (status, body, _) = api_post_as(
        app,
        "/api/fn/invite_member",
        Some(inviter),
        &[
            ("email", &pending),
            ("role", "member"),
            ("staff_role", "player"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body
        .as_str()
        .expect("link")
        .rsplit('/')
        .next()
        .expect("token")
        .to_string();
    let target_email = format!("target-{slug}@example.org");
    OrgFixture {
        id,
        target_user: db
            .count(&format!(
                "SELECT id FROM users WHERE email = '{target_email}'"
            ))
            .await,
        invitation_id: db
            .count(&format!(
                "SELECT id FROM invitations WHERE email = '{pending}'"
            ))
            .await,
        token,
    }
}

/// A complaint case with `org` as its party.
async fn case_fixture(db: &TestDb, org: i64, key: char) -> i64 {
    let mut conn = db.connect().await;
    sqlx::raw_sql(&format!(
        "INSERT INTO conflict_cases (kind, severity, title, opened_at, dedupe_key) \
         VALUES ('complaint', 'medium', 'Fixture {key}', 1, 'fixture-{key}');"
    ))
    .execute(&mut conn)
    .await
    .expect("case");
    let id = db
        .count(&format!(
            "SELECT id FROM conflict_cases WHERE dedupe_key = 'fixture-{key}'"
        ))
        .await;
    sqlx::raw_sql(&format!(
        "INSERT INTO case_parties (case_id, org_id) VALUES ({id}, {org});"
    ))
    .execute(&mut conn)
    .await
    .expect("party");
    id
}

/// An active subscription of `client` to a fixture listing.
async fn subscription_fixture(db: &TestDb, client: i64, l: &ListingFixture) -> i64 {
    let mut conn = db.connect().await;
    sqlx::raw_sql(&format!(
        "INSERT INTO subscriptions (client_org_id, listing_id, plan_id, deployment_id, status, started_at) \
         VALUES ({client}, {}, {}, {}, 'active', 1);",
        l.id, l.plan, l.deployment
    ))
    .execute(&mut conn)
    .await
    .expect("subscription");
    db.count(&format!(
        "SELECT id FROM subscriptions WHERE client_org_id = {client} AND listing_id = {}",
        l.id
    ))
    .await
}

/// A live API key of `org` (its secret is never used here): a gateway key
/// for the client, metering keys for the others.
async fn key_fixture(db: &TestDb, org: i64, key: char) -> i64 {
    let mut conn = db.connect().await;
    let purpose = if key == 'C' { "gateway" } else { "metering" };
    sqlx::raw_sql(&format!(
        "INSERT INTO api_keys (org_id, name, prefix, key_hash, created_at, purpose) \
         VALUES ({org}, 'Fixture', 'fgk_fixture{key}', 'no-such-hash', 1, '{purpose}');"
    ))
    .execute(&mut conn)
    .await
    .expect("key");
    db.count(&format!(
        "SELECT id FROM api_keys WHERE prefix = 'fgk_fixture{key}'"
    ))
    .await
}

async fn base_model_fixtures(db: &TestDb) -> [i64; 2] {
    let mut conn = db.connect().await;
    sqlx::raw_sql(
        "INSERT INTO base_models (slug, provider, name, version, modality, context_length, licence, created_at) \
         VALUES ('m-one', 'Labs', 'One', '1', 'text', 1000, 'MIT', 1), \
                ('m-two', 'Labs', 'Two', '2', 'text', 1000, 'MIT', 1);",
    )
    .execute(&mut conn)
    .await
    .expect("base models");
    [
        db.count("SELECT id FROM base_models WHERE slug = 'm-one'")
            .await,
        db.count("SELECT id FROM base_models WHERE slug = 'm-two'")
            .await,
    ]
}

/// A draft with a description, two deployments and a plan, in `org`.
async fn listing_fixture(db: &TestDb, org: i64, key: char, models: [i64; 2]) -> ListingFixture {
    let slug = format!("fixture-{}", key.to_ascii_lowercase());
    let [one, two] = models;
    let mut conn = db.connect().await;
    sqlx::raw_sql(&format!(
        "INSERT INTO listings (org_id, slug, public_slug, name, tagline, description, industry, base_model_id, status, created_at, updated_at) \
         VALUES ({org}, '{slug}', '~{org}~{slug}', 'Fixture {key}', 'A fixture', 'Described.', 'healthcare', {one}, 'draft', 1, 1);"
    ))
    .execute(&mut conn)
    .await
    .expect("listing");
    let id = db
        .count(&format!("SELECT id FROM listings WHERE slug = '{slug}'"))
        .await;
    sqlx::raw_sql(&format!(
        "INSERT INTO deployments (listing_id, base_model_id, revision, status, is_default, created_at) \
         VALUES ({id}, {one}, 'v1', 'active', 1, 1), ({id}, {two}, 'v1', 'active', 0, 1); \
         INSERT INTO plans (listing_id, name, monthly_fee_minor, currency, included_calls, overage_per_1000_minor, created_at) \
         VALUES ({id}, 'Basic', 0, 'EUR', 10, 0, 1);"
    ))
    .execute(&mut conn)
    .await
    .expect("deployments and plan");
    let publisher: String = sqlx::query_scalar("SELECT slug FROM organisations WHERE id = $1")
        .bind(org)
        .fetch_one(&mut conn)
        .await
        .expect("publisher slug");
    ListingFixture {
        id,
        slug,
        publisher,
        deployment: db
            .count(&format!(
                "SELECT id FROM deployments WHERE listing_id = {id} AND is_default = 0"
            ))
            .await,
        plan: db
            .count(&format!("SELECT id FROM plans WHERE listing_id = {id}"))
            .await,
    }
}

/// Puts memberships and invitations back as they were when the world was
/// built, so a cell that changes them (leave, remove, revoke, invite) does
/// not change the next one.
async fn restore(db: &TestDb) {
    let over = match db.backend {
        Backend::Sqlite => "",
        Backend::Postgres => "OVERRIDING SYSTEM VALUE",
    };
    let mut conn = db.connect().await;
    sqlx::raw_sql(&format!(
        "DELETE FROM memberships; INSERT INTO memberships {over} SELECT * FROM matrix_memberships; \
         DELETE FROM invitations; INSERT INTO invitations {over} SELECT * FROM matrix_invitations; \
         UPDATE users SET display_name = 'Member' WHERE display_name = 'Renamed'; \
         DELETE FROM sessions; \
         UPDATE users SET totp_last_step = NULL, totp_failures = 0, totp_failed_at = NULL; \
         DELETE FROM usage_records; DELETE FROM gateway_calls; DELETE FROM subscription_cap_use; \
         DELETE FROM subscription_switches; DELETE FROM subscriptions; \
         UPDATE api_keys SET revoked_at = NULL; \
         DELETE FROM listing_changes; DELETE FROM listing_tags; DELETE FROM listing_certifications; \
         DELETE FROM deployment_upstreams; DELETE FROM deployments; DELETE FROM plans; DELETE FROM listings; DELETE FROM notifications; \
         INSERT INTO listings {over} SELECT * FROM matrix_listings; \
         INSERT INTO deployments {over} SELECT * FROM matrix_deployments; \
         INSERT INTO plans {over} SELECT * FROM matrix_plans; \
         INSERT INTO subscriptions {over} SELECT * FROM matrix_subscriptions; \
         UPDATE base_models SET status = 'active'; \
         DELETE FROM case_events; DELETE FROM case_listings; \
         DELETE FROM case_parties WHERE case_id NOT IN (SELECT id FROM matrix_cases); \
         DELETE FROM conflict_cases WHERE id NOT IN (SELECT id FROM matrix_cases); \
         UPDATE conflict_cases SET status = 'open', note = '', sign_off = ''; \
         UPDATE catalogue_state SET version = version + 1 WHERE id = 1;"
    ))
    .execute(&mut conn)
    .await
    .expect("restore");
}

async fn every_route_answers_every_actor_as_expected(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn_with(
        &db,
        &[
            ("FAIRGROUND_AUTH_ATTEMPTS_PER_IP", "100000"),
            ("FAIRGROUND_AUTH_ATTEMPTS_PER_ACCOUNT", "100000"),
        ],
    )
    .await;

    // The world: a client, two partners and the platform.
    let mut orgs = BTreeMap::new();
    orgs.insert(
        'C',
        org_with(
            &app,
            &db,
            "owner-c@example.org",
            "Client Co",
            "client",
            &[
                ("client-member@example.org", "member", ""),
                ("client-admin@example.org", "admin", ""),
                ("target-client-co@example.org", "member", ""),
            ],
        )
        .await,
    );
    orgs.insert(
        'P',
        org_with(
            &app,
            &db,
            "owner-p@example.org",
            "Partner P",
            "partner",
            &[
                ("partner-member@example.org", "member", ""),
                ("partner-admin@example.org", "admin", ""),
                ("target-partner-p@example.org", "member", ""),
            ],
        )
        .await,
    );
    orgs.insert(
        'Q',
        org_with(
            &app,
            &db,
            "owner-q@example.org",
            "Partner Q",
            "partner",
            &[("target-partner-q@example.org", "member", "")],
        )
        .await,
    );
    let out = run_ok(
        &db,
        &["admin", "bootstrap", "--email", "referee@example.org"],
    )
    .await;
    let token = out.trim().rsplit('/').next().expect("token").to_string();
    let referee = sign_up(&app, "referee@example.org", "Referee").await;
    app.confirm_email("referee@example.org").await;
    let (status, _, headers) = api_post_as(
        &app,
        "/api/fn/accept_invitation",
        Some(&referee),
        &[("token", &token)],
    )
    .await;
    assert_eq!(status, 200);
    // Staff act only after two-step sign-in.
    let visitor = Visitor::with_cookie(&app, &session_cookie(&headers).expect("cookie"));
    let mut secrets = BTreeMap::new();
    secrets.insert("referee@example.org", visitor.enable_two_step().await.0);
    let referee = visitor.cookie().expect("cookie");
    add_members(
        &app,
        &referee,
        &[
            ("player@example.org", "member", "player"),
            ("target-fairground@example.org", "member", "player"),
        ],
    )
    .await;
    let player = Visitor::signed_in(&app, "player@example.org", None).await;
    secrets.insert("player@example.org", player.enable_two_step().await.0);
    let platform_id = db
        .count("SELECT id FROM organisations WHERE kind = 'platform'")
        .await;
    orgs.insert(
        'F',
        finish_fixture(&app, &db, &referee, platform_id, "Fairground").await,
    );
    let base_models = base_model_fixtures(&db).await;
    let mut listings = BTreeMap::new();
    for key in ['P', 'Q', 'F'] {
        listings.insert(
            key,
            listing_fixture(&db, orgs[&key].id, key, base_models).await,
        );
    }
    let mut cases = BTreeMap::new();
    for key in ['P', 'Q'] {
        cases.insert(key, case_fixture(&db, orgs[&key].id, key).await);
    }
    let mut subscriptions = BTreeMap::new();
    for (key, client) in [('P', 'C'), ('F', 'C'), ('Q', 'Q')] {
        subscriptions.insert(
            key,
            subscription_fixture(&db, orgs[&client].id, &listings[&key]).await,
        );
    }
    let mut keys = BTreeMap::new();
    for key in ['P', 'Q', 'F', 'C'] {
        keys.insert(key, key_fixture(&db, orgs[&key].id, key).await);
    }
    let world = World {
        orgs,
        listings,
        cases,
        base_models,
        subscriptions,
        keys,
    };
    {
        let mut conn = db.connect().await;
        sqlx::raw_sql(
            "CREATE TABLE matrix_memberships AS SELECT * FROM memberships; \
             CREATE TABLE matrix_invitations AS SELECT * FROM invitations; \
             CREATE TABLE matrix_listings AS SELECT * FROM listings; \
             CREATE TABLE matrix_deployments AS SELECT * FROM deployments; \
             CREATE TABLE matrix_plans AS SELECT * FROM plans; \
             CREATE TABLE matrix_cases AS SELECT id FROM conflict_cases; \
             CREATE TABLE matrix_subscriptions AS SELECT * FROM subscriptions;",
        )
        .execute(&mut conn)
        .await
        .expect("baseline");
    }

    let routes: Vec<(String, String)> = run_ok(&db, &["routes"])
        .await
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let seen: BTreeSet<_> = routes.iter().map(|(m, p)| format!("{m} {p}")).collect();
    assert!(seen.len() >= 99, "{seen:?}");

    let mut cells = 0;
    let mut wrong = Vec::new();
    for (method, path) in &routes {
        for actor in ACTORS {
            for target in [Target::OwnOrg, Target::OtherOrg] {
                let want = expected(method, path, actor, target);
                restore(&db).await;
                let cookie = match actor.email() {
                    Some(email) => Some(signed_in(&app, email, &secrets).await),
                    None => None,
                };
                let (url, fields) = request(&world, method, path, actor, target, cells);
                let got = if method == "GET" {
                    let mut req = app.client.get(app.url(&url));
                    if let Some(c) = &cookie {
                        req = req.header("cookie", c);
                    }
                    req.send().await.expect("get").status().as_u16()
                } else {
                    let fields: Vec<(&str, &str)> = fields
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect();
                    api_post_as(&app, &url, cookie.as_deref(), &fields).await.0
                };
                if got != want {
                    wrong.push(format!(
                        "{method} {path} as {actor:?} on {target:?}: got {got}, expected {want}"
                    ));
                }
                cells += 1;
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {cells} cells wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    println!(
        "authorisation matrix: {} routes × {} actors × 2 targets = {cells} cells",
        routes.len(),
        ACTORS.len()
    );
}

/// "2026-12": the month the tests run in.
fn this_month() -> String {
    app::neutrality::month_of(crate::builders::now_ms())
}
