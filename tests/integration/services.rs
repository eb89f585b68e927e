//! The listing and subscription services called directly, as a unit test
//! would: a migrated database, an `AppState` built by hand and actors made
//! in the test. No HTTP, no session, no Leptos context: the services get
//! everything they act on from their arguments.

use crate::helpers::{Backend, TestDb};
use app::auth::actor::Actor;
use app::auth::session_store::DbSessionStore;
use app::auth::visit::Visit;
use app::catalogue::db::{insert_base_model, NewBaseModel};
use app::db::{Clock, Db, DbOptions};
use app::error::AppError;
use app::listings::input::{DeploymentForm, DetailsForm, DraftForm, PlanForm};
use app::listings::service as listings;
use app::listings::service::UpstreamForm;
use app::listings::ListingStatus;
use app::orgs::db::{ensure_org, Membership};
use app::orgs::{OrgKind, Role, StaffRole};
use app::request::Origin;
use app::state::{AppState, RateLimits, SessionLimits};
use app::subscriptions::service::{self as subscriptions, SubscribeForm};
use std::sync::Arc;
use std::time::Duration;

crate::on_both_backends!(
    a_listing_goes_from_draft_to_retired_through_the_service,
    the_subscription_rules_hold_in_the_service,
    the_session_services_take_the_session_and_origin_as_arguments,
    a_deployments_upstream_is_the_publishers_alone_and_its_secret_is_shown_once,
);

struct World {
    _db: TestDb,
    state: AppState,
    base_model: i64,
    partner: Actor,
    other_partner: Actor,
    client_admin: Actor,
    other_client_owner: Actor,
    referee: Actor,
}

async fn person(
    db: &Db,
    email: &str,
    org: (i64, &str, OrgKind),
    role: Role,
    staff: Option<StaffRole>,
) -> Actor {
    let mut tx = db.begin_write().await.expect("begin");
    let user: i64 = sqlx::query_scalar(
        "INSERT INTO users (email, display_name, password_hash, created_at, updated_at) \
         VALUES ($1, $1, 'not-a-hash', 0, 0) RETURNING id",
    )
    .bind(email)
    .fetch_one(&mut **tx)
    .await
    .expect("user");
    sqlx::query(
        "INSERT INTO memberships (org_id, org_kind, user_id, role, staff_role, created_at) \
         VALUES ($1, $2, $3, $4, $5, 0)",
    )
    .bind(org.0)
    .bind(org.2.as_str())
    .bind(user)
    .bind(role.as_str())
    .bind(staff.map(StaffRole::as_str))
    .execute(&mut **tx)
    .await
    .expect("membership");
    tx.commit().await.expect("commit");
    let membership = Membership {
        org_id: org.0,
        org_name: org.1.to_string(),
        kind: org.2,
        role,
        staff_role: staff,
    };
    Actor {
        user_id: user,
        email: email.to_string(),
        display_name: email.to_string(),
        email_verified: true,
        membership: Some(membership.clone()),
        staff_locked: false,
        memberships: vec![membership],
        origin: Origin::default(),
    }
}

async fn world(backend: Backend) -> World {
    let test_db = TestDb::new(backend).await;
    let db = Db::connect(&test_db.url, &DbOptions::default())
        .await
        .expect("connect");
    fairground::db::migrate(&db).await.expect("migrate");
    let state = AppState::new(app::state::StateFields {
        db: db.clone(),
        leptos_options: leptos::config::LeptosOptions::builder()
            .output_name("fairground")
            .build(),
        clock: Clock::system(),
        sessions: SessionLimits {
            idle: Duration::from_secs(3600),
            absolute: Duration::from_secs(86_400),
        },
        rate_limits: Arc::new(RateLimits::new(100, 100, None)),
        public_url: None,
        catalogue: Default::default(),
        exposure: Default::default(),
        gateway: Arc::new(app::gateway::Gateway::new(
            db.clone(),
            Default::default(),
            None,
        )),
    });
    let mut tx = db.begin_write().await.expect("begin");
    let org = |slug: &'static str, name: &'static str, kind: OrgKind| (slug, name, kind);
    let specs = [
        org("acme", "Acme Health", OrgKind::Partner),
        org("other", "Other Vendor", OrgKind::Partner),
        org("mary", "St Mary", OrgKind::Client),
        org("bank", "Bank", OrgKind::Client),
        org("platform", "Fairground", OrgKind::Platform),
    ];
    let mut ids = Vec::new();
    for (slug, name, kind) in specs {
        ids.push((
            ensure_org(&mut tx, slug, name, kind, 0).await.expect("org"),
            name,
            kind,
        ));
    }
    let base_model = insert_base_model(
        &mut tx,
        &NewBaseModel {
            slug: "terra-8b",
            provider: "OpenTerra",
            name: "Terra",
            version: "8B",
            modality: "text",
            context_length: 32_768,
            licence: "Apache-2.0",
        },
        0,
    )
    .await
    .expect("base model");
    tx.commit().await.expect("commit");
    World {
        partner: person(&db, "pat@acme.test", ids[0], Role::Member, None).await,
        other_partner: person(&db, "olga@other.test", ids[1], Role::Owner, None).await,
        client_admin: person(&db, "cara@mary.test", ids[2], Role::Admin, None).await,
        other_client_owner: person(&db, "bo@bank.test", ids[3], Role::Owner, None).await,
        referee: person(
            &db,
            "rita@platform.test",
            ids[4],
            Role::Member,
            Some(StaffRole::Referee),
        )
        .await,
        _db: test_db,
        state,
        base_model,
    }
}

fn draft(base_model: i64) -> DraftForm {
    DraftForm {
        name: "Chest X-Ray Triage".into(),
        slug: String::new(),
        tagline: "Flags urgent chest X-rays".into(),
        industry: "healthcare".into(),
        base_model_id: base_model.to_string(),
    }
}

fn details() -> DetailsForm {
    DetailsForm {
        name: "Chest X-Ray Triage".into(),
        slug: "chest-x-ray-triage".into(),
        tagline: "Flags urgent chest X-rays".into(),
        description: "Reads **frontal** chest X-rays.".into(),
        industry: "healthcare".into(),
        tags: "radiology, triage".into(),
        ..DetailsForm::default()
    }
}

fn plan() -> PlanForm {
    PlanForm {
        name: "Standard".into(),
        monthly_fee: "49".into(),
        currency: "EUR".into(),
        included_calls: "10,000".into(),
        overage_per_1000: "1.50".into(),
    }
}

/// A published listing of the partner: (listing id, plan id, default
/// deployment id, second deployment id).
async fn published(w: &World) -> (i64, i64, i64, i64) {
    let s = &w.state;
    let id = listings::create(s, &w.partner, &draft(w.base_model))
        .await
        .expect("create");
    listings::update(s, &w.partner, id, &details())
        .await
        .expect("details");
    let plan = listings::add_plan(s, &w.partner, id, &plan())
        .await
        .expect("plan");
    let second = listings::add_deployment(
        s,
        &w.partner,
        id,
        &DeploymentForm {
            base_model_id: w.base_model.to_string(),
            revision: "v2".into(),
            status: "active".into(),
            ..DeploymentForm::default()
        },
    )
    .await
    .expect("second deployment");
    listings::submit(s, &w.partner, id).await.expect("submit");
    listings::approve(s, &w.referee, id).await.expect("approve");
    let page = listings::page(s, None, None, "chest-x-ray-triage")
        .await
        .expect("public");
    let first = page
        .deployments
        .iter()
        .find(|d| d.is_default)
        .expect("a default deployment")
        .id;
    (id, plan, first, second)
}

async fn a_listing_goes_from_draft_to_retired_through_the_service(backend: Backend) {
    let w = world(backend).await;
    let s = &w.state;
    // Only a publisher drafts.
    assert_eq!(
        listings::create(s, &w.client_admin, &draft(w.base_model)).await,
        Err(AppError::Forbidden)
    );
    let bad = DraftForm {
        industry: "astrology".into(),
        ..draft(w.base_model)
    };
    let err = listings::create(s, &w.partner, &bad).await.unwrap_err();
    assert_eq!(
        err.messages_for("industry"),
        ["Choose an industry from the list."]
    );
    let id = listings::create(s, &w.partner, &draft(w.base_model))
        .await
        .expect("create");
    // The same slug again is a field error, not a failure.
    let again = listings::create(s, &w.partner, &draft(w.base_model))
        .await
        .unwrap_err();
    assert_eq!(
        again.messages_for("slug"),
        ["Another of your organisation's listings uses this slug. Choose another one."]
    );
    // Not public yet, and another partner cannot see or change it.
    assert_eq!(
        listings::page(s, None, None, "chest-x-ray-triage").await,
        Err(AppError::NotFound)
    );
    assert_eq!(
        listings::update(s, &w.other_partner, id, &details()).await,
        Err(AppError::NotFound)
    );
    let missing = listings::submit(s, &w.partner, id).await.unwrap_err();
    assert_eq!(
        missing,
        AppError::Conflict(
            "Before submitting, add at least one active plan and a description.".into()
        )
    );
    listings::update(s, &w.partner, id, &details())
        .await
        .expect("details");
    listings::add_plan(s, &w.partner, id, &plan())
        .await
        .expect("plan");
    // A referee cannot approve what was not submitted.
    assert_eq!(
        listings::approve(s, &w.referee, id).await,
        Err(AppError::Conflict(
            "A listing that is draft cannot be approved.".into()
        ))
    );
    listings::submit(s, &w.partner, id).await.expect("submit");
    // Frozen while reviewed; only a referee decides.
    assert!(matches!(
        listings::update(s, &w.partner, id, &details()).await,
        Err(AppError::Conflict(_))
    ));
    assert_eq!(
        listings::approve(s, &w.partner, id).await,
        Err(AppError::Forbidden)
    );
    listings::approve(s, &w.referee, id).await.expect("approve");
    let page = listings::page(s, None, None, "chest-x-ray-triage")
        .await
        .expect("published");
    assert_eq!(page.status, ListingStatus::Published);
    assert_eq!(page.tags, ["radiology", "triage"]);
    assert_eq!(page.plans.len(), 1);
    assert_eq!(page.plans[0].monthly_fee_minor, 4_900);
    // A suspension needs a reason of five characters or more.
    let short = listings::suspend(s, &w.referee, id, "bad")
        .await
        .unwrap_err();
    assert_eq!(short.messages_for("reason"), ["Use at least 5 characters."]);
    listings::suspend(s, &w.referee, id, "Unsafe output found in audit")
        .await
        .expect("suspend");
    assert_eq!(
        listings::page(s, None, None, "chest-x-ray-triage").await,
        Err(AppError::NotFound)
    );
    let own = listings::page(s, Some(&w.partner), None, "chest-x-ray-triage")
        .await
        .expect("the publisher still sees it");
    assert_eq!(
        own.review_reason.as_deref(),
        Some("Unsafe output found in audit")
    );
    listings::reinstate(s, &w.referee, id)
        .await
        .expect("reinstate");
    listings::retire(s, &w.partner, id).await.expect("retire");
    assert_eq!(
        listings::retire(s, &w.partner, id).await,
        Err(AppError::Conflict(
            "A retired listing cannot be changed.".into()
        ))
    );
    let queue = listings::review_queue(s, &w.referee).await.expect("queue");
    assert!(queue.published.is_empty() && queue.submitted.is_empty());
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE target = $1 ORDER BY seq")
            .bind(format!("listing:{id}"))
            .fetch_all(s.db.pool())
            .await
            .expect("audit");
    assert_eq!(
        actions,
        [
            "listing.created",
            "listing.updated",
            "listing.plan_added",
            "listing.submitted",
            "listing.approved",
            "listing.suspended",
            "listing.reinstated",
            "listing.retired"
        ]
    );
}

async fn the_subscription_rules_hold_in_the_service(backend: Backend) {
    let w = world(backend).await;
    let s = &w.state;
    let (listing, plan, first, second) = published(&w).await;
    let form = SubscribeForm {
        plan_id: plan.to_string(),
        deployment_id: first.to_string(),
    };
    // Only a client's owners and admins subscribe.
    assert_eq!(
        subscriptions::subscribe(s, &w.partner, listing, &form).await,
        Err(AppError::Forbidden)
    );
    let blank = subscriptions::subscribe(s, &w.client_admin, listing, &SubscribeForm::default())
        .await
        .unwrap_err();
    assert_eq!(blank.messages_for("plan_id"), ["Choose a plan."]);
    assert_eq!(
        blank.messages_for("deployment_id"),
        ["Choose a base model."]
    );
    let id = subscriptions::subscribe(s, &w.client_admin, listing, &form)
        .await
        .expect("subscribe");
    // The same choice again is the same subscription; another is a conflict.
    assert_eq!(
        subscriptions::subscribe(s, &w.client_admin, listing, &form).await,
        Ok(id)
    );
    let other = SubscribeForm {
        deployment_id: second.to_string(),
        ..form.clone()
    };
    assert!(matches!(
        subscriptions::subscribe(s, &w.client_admin, listing, &other).await,
        Err(AppError::Conflict(_))
    ));
    // Another client's owner finds no such subscription.
    assert_eq!(
        subscriptions::cancel(s, &w.other_client_owner, id).await,
        Err(AppError::NotFound)
    );
    assert_eq!(
        subscriptions::switch(s, &w.other_client_owner, id, &second.to_string()).await,
        Err(AppError::NotFound)
    );
    let same = subscriptions::switch(s, &w.client_admin, id, &first.to_string())
        .await
        .unwrap_err();
    assert_eq!(
        same.messages_for("deployment_id"),
        ["The subscription already runs on this base model."]
    );
    subscriptions::switch(s, &w.client_admin, id, &second.to_string())
        .await
        .expect("switch");
    let page = subscriptions::client_page(s, &w.client_admin)
        .await
        .expect("client page");
    assert_eq!(page.subscriptions.len(), 1);
    assert_eq!(page.subscriptions[0].deployment_id, second);
    subscriptions::cancel(s, &w.client_admin, id)
        .await
        .expect("cancel");
    assert_eq!(
        subscriptions::cancel(s, &w.client_admin, id).await,
        Err(AppError::Conflict("This subscription has ended.".into()))
    );
}

/// One browser's visit, built by hand: a session in the app's own store and
/// the origin a server function would read from the request.
fn visit(w: &World) -> Visit {
    let store = DbSessionStore::new(
        w.state.db.clone(),
        w.state.clock.clone(),
        Duration::from_secs(3600),
    );
    let session = tower_sessions::Session::new(None, Arc::new(store), None);
    Visit::new(
        w.state.clone(),
        session,
        Origin {
            client_ip: "203.0.113.9".into(),
            device: "Hand-built browser".into(),
            plain_form: true,
            from_own_pages: true,
            site_url: "https://market.example".into(),
        },
    )
}

/// (action, actor, client address) of the audit entries, in order.
async fn audit_of(db: &Db) -> Vec<(String, Option<i64>, String)> {
    sqlx::query_as("SELECT action, actor_user_id, client_ip FROM audit_log ORDER BY seq")
        .fetch_all(db.pool())
        .await
        .expect("audit")
}

/// Signing up, in and out, creating an organisation, inviting, and making
/// an API key work the session: they get it, and the request's origin, as
/// arguments. The audit log records the address given, the session holds
/// what the services put there, and a link is built on the site URL given.
async fn the_session_services_take_the_session_and_origin_as_arguments(backend: Backend) {
    use app::auth::service as auth;
    use app::metering::service as keys;
    use app::orgs::service::{self as orgs, InviteForm, NewOrgForm};
    let w = world(backend).await;
    let v = visit(&w);
    let db = &w.state.db;
    let password = "a long and quiet harbour at dawn";
    let taken = auth::sign_up(&v, "Pat@Acme.test", "Pat", password)
        .await
        .unwrap_err();
    assert!(
        !taken.messages_for("email").is_empty(),
        "an address already in use is refused: {taken:?}"
    );
    assert!(v.viewer().await.expect("viewer").is_none());
    auth::sign_up(&v, "dana@labs.test", "Dana", password)
        .await
        .expect("sign up");
    let dana = v.actor().await.expect("signed in on the session given");
    assert_eq!(dana.email, "dana@labs.test");
    assert!(dana.membership.is_none());
    assert_eq!(dana.origin.client_ip, "203.0.113.9");

    let org = orgs::create_org(
        &v,
        &dana,
        &NewOrgForm {
            name: "Dana Labs".into(),
            kind: "partner".into(),
        },
    )
    .await
    .expect("create org");
    let dana = v.actor().await.expect("actor");
    assert_eq!(
        dana.membership.as_ref().map(|m| m.org_id),
        Some(org),
        "the new organisation is the session's current one"
    );

    let link = orgs::invite(
        &v,
        &dana,
        &InviteForm {
            email: "erin@labs.test".into(),
            role: "member".into(),
            staff_role: String::new(),
        },
    )
    .await
    .expect("invite");
    assert!(
        link.starts_with("https://market.example/invitations/"),
        "{link}"
    );
    let page = orgs::members_page(&v, &dana).await.expect("members page");
    assert_eq!(page.new_invite_link.as_deref(), Some(link.as_str()));
    let again = orgs::members_page(&v, &dana).await.expect("members page");
    assert_eq!(again.new_invite_link, None, "the link is shown once");

    // A plain form post: the new key waits in the session for the page.
    let key = keys::create(&v, &dana, "billing").await.expect("key");
    let listed = keys::list(&v, &dana).await.expect("keys");
    assert_eq!(listed.new_key.map(|k| k.key), Some(key.key.clone()));
    assert!(keys::list(&v, &dana).await.expect("keys").new_key.is_none());
    let script = Visit::new(
        w.state.clone(),
        v.session.clone(),
        Origin {
            plain_form: false,
            ..v.origin.clone()
        },
    );
    let scripted = script.actor().await.expect("actor");
    keys::create(&script, &scripted, "ci").await.expect("key");
    assert!(
        keys::list(&script, &scripted)
            .await
            .expect("keys")
            .new_key
            .is_none(),
        "a script gets the key in the answer; nothing waits in the session"
    );

    auth::sign_out(&v).await.expect("sign out");
    assert!(v.viewer().await.expect("viewer").is_none());
    assert_eq!(
        auth::sign_in(&v, "dana@labs.test", "not the password").await,
        Err(auth::wrong_credentials())
    );
    assert_eq!(
        auth::sign_in(&v, "dana@labs.test", password).await,
        Ok(false)
    );
    v.session.save().await.expect("save session");
    let sessions = auth::my_sessions(&v).await.expect("sessions");
    assert_eq!(sessions.len(), 1);
    assert!(sessions[0].current);
    assert_eq!(sessions[0].device, "Hand-built browser");

    let audit = audit_of(db).await;
    let actions: Vec<&str> = audit.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "user.signed_up",
            "org.created",
            "invitation.created",
            "api_key.created",
            "api_key.created",
            "user.signed_out",
            "user.sign_in_failed",
            "user.signed_in",
        ]
    );
    assert!(
        audit.iter().all(|(_, _, ip)| ip == "203.0.113.9"),
        "every entry has the address the visit came from: {audit:?}"
    );
    assert!(audit
        .iter()
        .filter(|(a, _, _)| a != "user.sign_in_failed")
        .all(|(_, by, _)| *by == Some(dana.user_id)));
}

/// Where the gateway sends a deployment's calls: set by the listing's own
/// organisation only; the signing secret comes back once, when first set
/// (or replaced); a change of a published listing's endpoint is public
/// history without the URL; neither the URL nor the secret reaches the
/// audit log, the public page or another organisation.
async fn a_deployments_upstream_is_the_publishers_alone_and_its_secret_is_shown_once(
    backend: Backend,
) {
    let w = world(backend).await;
    let s = &w.state;
    let (listing, _, first, second) = published(&w).await;
    let form = |url: &str, model: &str| UpstreamForm {
        base_url: url.into(),
        model: model.into(),
    };
    let url = "https://models.acme.test/v1";
    let secret = listings::set_upstream(s, &w.partner, listing, first, &form(url, "triage-7b"))
        .await
        .expect("set")
        .expect("a new upstream gets a secret");
    assert!(secret.starts_with("fgs_"), "{secret}");
    // The same settings again change nothing and show no secret.
    assert_eq!(
        listings::set_upstream(s, &w.partner, listing, first, &form(url, "triage-7b")).await,
        Ok(None)
    );
    let moved = "https://eu.acme.test/v1/";
    assert_eq!(
        listings::set_upstream(s, &w.partner, listing, first, &form(moved, "triage-7b")).await,
        Ok(None),
        "a change keeps the secret"
    );
    let bad = listings::set_upstream(s, &w.partner, listing, second, &form("ftp://x", ""))
        .await
        .unwrap_err();
    assert_eq!(bad.messages_for("base_url"), ["Use an http or https URL."]);
    assert_eq!(bad.messages_for("model"), ["This field is required."]);
    // Nobody else sets or reads it: another partner, a client, a referee.
    for (who, expected) in [
        (&w.other_partner, AppError::NotFound),
        (&w.client_admin, AppError::Forbidden),
        (&w.referee, AppError::Forbidden),
    ] {
        assert_eq!(
            listings::set_upstream(s, who, listing, first, &form("https://evil.test", "m")).await,
            Err(expected.clone())
        );
        assert_eq!(
            listings::rotate_secret(s, who, listing, first).await,
            Err(expected.clone())
        );
        assert_eq!(listings::upstreams(s, who, listing).await, Err(expected));
    }
    // A deployment is reached only through its own listing, even another
    // listing of the same publisher.
    let other_listing = listings::create(
        s,
        &w.partner,
        &DraftForm {
            name: "Wrist Fracture Finder".into(),
            ..draft(w.base_model)
        },
    )
    .await
    .expect("second listing");
    assert_eq!(
        listings::set_upstream(s, &w.partner, other_listing, first, &form(url, "m")).await,
        Err(AppError::NotFound)
    );
    let seen = listings::upstreams(s, &w.partner, listing)
        .await
        .expect("own");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].deployment_id, first);
    assert_eq!(seen[0].base_url, "https://eu.acme.test/v1");
    assert_eq!(seen[0].model, "triage-7b");
    // A replaced secret is new and shown once; before any upstream, none.
    let replaced = listings::rotate_secret(s, &w.partner, listing, first)
        .await
        .expect("replace");
    assert!(replaced.starts_with("fgs_") && replaced != secret);
    assert!(matches!(
        listings::rotate_secret(s, &w.partner, listing, second).await,
        Err(AppError::Conflict(_))
    ));
    // The public page says the endpoint changed, twice, and nothing more.
    let page = listings::page(s, None, None, "chest-x-ray-triage")
        .await
        .expect("public");
    let endpoint: Vec<&str> = page
        .changes
        .iter()
        .filter(|c| c.summary.starts_with("Endpoint changed"))
        .map(|c| c.summary.as_str())
        .collect();
    assert_eq!(endpoint.len(), 2, "{:?}", page.changes);
    assert!(endpoint
        .iter()
        .all(|c| c == &"Endpoint changed: Terra 8B, revision v1"));
    let public = serde_json::to_string(&page).expect("json");
    let audit: Vec<String> =
        sqlx::query_scalar("SELECT action || ' ' || target || ' ' || details FROM audit_log")
            .fetch_all(s.db.pool())
            .await
            .expect("audit");
    for hidden in ["acme.test", &secret, &replaced] {
        assert!(!public.contains(hidden), "{hidden} on the public page");
        assert!(
            audit.iter().all(|e| !e.contains(hidden)),
            "{hidden} in the audit log"
        );
    }
    assert!(audit.iter().any(|e| e.starts_with("listing.upstream_set ")));
    assert!(audit
        .iter()
        .any(|e| e.starts_with("listing.upstream_secret_replaced ")));
}
