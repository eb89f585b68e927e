//! Organisations, members, roles and invitations; the platform's referee /
//! player split; and tenant isolation between organisations.

use crate::helpers::{
    api_post_as, audit_actions, run_cli, run_ok, App, Backend, TestDb, Visitor, PASSWORD,
};
use reqwest::header::LOCATION;

crate::on_both_backends!(
    creating_an_organisation_makes_its_creator_owner,
    an_invitation_is_single_use_for_the_invited_email_and_expires,
    switching_organisation_rotates_the_session_and_needs_membership,
    roles_limit_who_manages_members_and_the_last_owner_stays,
    another_organisations_members_and_invitations_are_not_found,
    the_platform_is_bootstrapped_and_nobody_is_both_referee_and_player,
    the_database_refuses_a_second_staff_role_and_staff_roles_outside_the_platform,
    only_referees_manage_platform_staff_and_only_referee_owners_make_referees,
    addresses_are_proven_by_a_single_use_link_and_staff_need_a_proven_one,
    signing_up_or_in_from_an_invitation_link_returns_to_the_invitation,
);

async fn create_org(v: &Visitor<'_>, name: &str, kind: &str) -> i64 {
    let (status, body) = v
        .call("/api/fn/create_org", &[("name", name), ("kind", kind)])
        .await;
    assert_eq!(status, 200, "{body}");
    body.as_i64().expect("org id")
}

/// Invites `email` to the inviter's current organisation; returns the token.
async fn invite(v: &Visitor<'_>, email: &str, role: &str, staff: &str) -> String {
    let fields = [("email", email), ("role", role), ("staff_role", staff)];
    let (status, body) = v.call("/api/fn/invite_member", &fields).await;
    assert_eq!(status, 200, "{body}");
    let link = body.as_str().expect("link").to_string();
    assert!(
        link.starts_with(&format!("{}/invitations/", v.app.base_url)),
        "{link}"
    );
    link.rsplit('/').next().expect("token").to_string()
}

async fn members(v: &Visitor<'_>) -> serde_json::Value {
    let (status, body) = v.call("/api/fn/members_page", &[]).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn member_emails(page: &serde_json::Value) -> Vec<String> {
    page["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["email"].as_str().unwrap_or("").to_string())
        .collect()
}

async fn user_id(db: &TestDb, email: &str) -> String {
    db.count(&format!("SELECT id FROM users WHERE email = '{email}'"))
        .await
        .to_string()
}

async fn creating_an_organisation_makes_its_creator_owner(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let ada = Visitor::signed_up(&app, "ada@example.org", "Ada").await;
    let (status, body) = ada.call("/api/fn/members_page", &[]).await;
    assert_eq!(status, 403, "no organisation yet: {body}");
    let (status, body) = ada
        .call("/api/fn/create_org", &[("name", " "), ("kind", "platform")])
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["fields"]["name"][0], "Enter the organisation's name.");
    assert_eq!(body["fields"]["kind"][0], "Choose partner or client.");

    let org = create_org(&ada, "Meridian Health AI", "partner").await;
    let (_, orgs) = ada.call("/api/fn/my_orgs", &[]).await;
    assert_eq!(orgs[0]["id"], org);
    assert_eq!(orgs[0]["role"], "owner");
    assert_eq!(orgs[0]["kind"], "partner");
    assert_eq!(orgs[0]["current"], true);
    let page = members(&ada).await;
    assert_eq!(page["org_name"], "Meridian Health AI");
    assert_eq!(page["can_manage"], true);
    assert_eq!(member_emails(&page), ["ada@example.org"]);
    // A different name that slugs alike: a new organisation, its own slug.
    create_org(&ada, "Meridian Health A.I. Labs", "client").await;
    assert_eq!(
        db.count("SELECT COUNT(DISTINCT slug) FROM organisations")
            .await,
        2
    );
    // Names that read as another organisation's, or as the platform's, or
    // that hide characters, are refused next to the field; nothing written.
    let before = db.count("SELECT COUNT(*) FROM organisations").await;
    for (name, says) in [
        ("Meridian Health AI", "already exists"),
        ("meridian health a1", "already exists"),
        ("Meridiаn Health AI", "already exists"), // Cyrillic a
        ("Fairground", "platform"),
        ("Fairgr0und Health Partners", "platform"),
        ("Ｆａｉｒｇｒｏｕｎｄ", "platform"),
        ("Acme\u{202E}latot", "invisible"),
        ("Ac\u{200B}me", "invisible"),
    ] {
        let (status, body) = ada
            .call("/api/fn/create_org", &[("name", name), ("kind", "partner")])
            .await;
        assert_eq!(status, 422, "{name:?}: {body}");
        let message = body["fields"]["name"][0].as_str().unwrap_or("");
        assert!(message.contains(says), "{name:?}: {body}");
    }
    assert_eq!(db.count("SELECT COUNT(*) FROM organisations").await, before);
    let actions = audit_actions(&db).await;
    assert_eq!(actions.iter().filter(|a| *a == "org.created").count(), 2);
    // Without JavaScript: the form redirects to the members page.
    let res = ada
        .form(
            "/api/fn/create_org",
            "/orgs",
            &[("name", "Ledgerline"), ("kind", "partner")],
        )
        .await;
    assert_eq!(res.headers()[LOCATION], "/org/members");
    assert_eq!(members(&ada).await["org_name"], "Ledgerline");
}

async fn an_invitation_is_single_use_for_the_invited_email_and_expires(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let ada = Visitor::signed_up(&app, "ada@example.org", "Ada").await;
    create_org(&ada, "Meridian", "partner").await;
    let token = invite(&ada, "Bob@Example.org", "admin", "").await;
    // The link is in the outbox, addressed to the normalised email.
    let mut conn = db.connect().await;
    let (to, body): (String, String) = sqlx::query_as(
        "SELECT to_email, body FROM outbox WHERE subject <> 'Confirm your email address'",
    )
    .fetch_one(&mut conn)
    .await
    .expect("outbox");
    assert_eq!(to, "bob@example.org");
    assert!(body.contains(&token));
    // Only a hash of the token is stored with the invitation.
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM invitations WHERE token_hash = $1")
        .bind(&token)
        .fetch_one(&mut conn)
        .await
        .expect("count");
    assert_eq!(stored, 0);
    assert_eq!(
        members(&ada).await["invitations"][0]["email"],
        "bob@example.org"
    );

    // Anyone may look at the offer; only bob may accept it.
    let carol = Visitor::signed_up(&app, "carol@example.org", "Carol").await;
    let (status, offer) = carol
        .call("/api/fn/invitation_offer", &[("token", &token)])
        .await;
    assert_eq!(status, 200);
    assert_eq!(offer["org_name"], "Meridian");
    assert_eq!(offer["for_you"], false);
    assert_eq!(
        carol
            .call("/api/fn/accept_invitation", &[("token", &token)])
            .await
            .0,
        403
    );

    let bob = Visitor::signed_up(&app, "bob@example.org", "Bob").await;
    let (_, offer) = bob
        .call("/api/fn/invitation_offer", &[("token", &token)])
        .await;
    assert_eq!(offer["for_you"], true);
    let before = bob.cookie();
    let res = bob
        .form(
            "/api/fn/accept_invitation",
            &format!("/invitations/{token}"),
            &[("token", &token)],
        )
        .await;
    assert_eq!(res.headers()[LOCATION], "/org/members");
    assert_ne!(bob.cookie(), before, "new session id on joining");
    let page = members(&bob).await;
    assert_eq!(member_emails(&page), ["ada@example.org", "bob@example.org"]);
    assert_eq!(page["members"][1]["role"], "admin");
    // Used once: the link is dead now, for everyone.
    assert_eq!(
        bob.call("/api/fn/accept_invitation", &[("token", &token)])
            .await
            .0,
        404
    );
    assert_eq!(
        bob.call("/api/fn/invitation_offer", &[("token", &token)])
            .await
            .0,
        404
    );
    assert!(members(&ada).await["invitations"]
        .as_array()
        .expect("list")
        .is_empty());

    // Expired and revoked links are refused alike.
    let late = invite(&ada, "dan@example.org", "member", "").await;
    sqlx::raw_sql("UPDATE invitations SET expires_at = 1 WHERE email = 'dan@example.org'")
        .execute(&mut conn)
        .await
        .expect("expire");
    let dan = Visitor::signed_up(&app, "dan@example.org", "Dan").await;
    assert_eq!(
        dan.call("/api/fn/accept_invitation", &[("token", &late)])
            .await
            .0,
        404
    );
    let revoked = invite(&ada, "dan@example.org", "member", "").await;
    let id = db
        .count("SELECT MAX(id) FROM invitations")
        .await
        .to_string();
    assert_eq!(
        ada.call("/api/fn/revoke_invitation", &[("invitation_id", &id)])
            .await
            .0,
        200
    );
    assert_eq!(
        dan.call("/api/fn/accept_invitation", &[("token", &revoked)])
            .await
            .0,
        404
    );
    // The invitation page says so, with a 404.
    let res = dan.get(&format!("/invitations/{revoked}")).await;
    assert_eq!(res.status(), 404);
    assert!(res
        .text()
        .await
        .expect("body")
        .contains("This invitation link is not valid"));

    for t in [&token, &late, &revoked] {
        assert!(
            !app.stderr().contains(t.as_str()),
            "invitation token in the log"
        );
    }
    let actions = audit_actions(&db).await;
    for a in [
        "invitation.created",
        "invitation.accepted",
        "invitation.revoked",
    ] {
        assert!(
            actions.iter().any(|x| x == a),
            "{a} missing from {actions:?}"
        );
    }
}

async fn switching_organisation_rotates_the_session_and_needs_membership(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let ada = Visitor::signed_up(&app, "ada@example.org", "Ada").await;
    let first = create_org(&ada, "First", "partner").await;
    let second = create_org(&ada, "Second", "client").await;
    assert_eq!(members(&ada).await["org_name"], "Second");
    let before = ada.cookie();
    let res = ada
        .form(
            "/api/fn/switch_org",
            "/orgs",
            &[("org_id", &first.to_string())],
        )
        .await;
    assert_eq!(res.headers()[LOCATION], "/orgs");
    assert_ne!(ada.cookie(), before, "new session id on switching");
    let stale = api_post_as(&app, "/api/fn/my_orgs", before.as_deref(), &[]).await;
    assert_eq!(stale.0, 401, "the previous id is worth nothing");
    assert_eq!(members(&ada).await["org_name"], "First");
    let (_, orgs) = ada.call("/api/fn/my_orgs", &[]).await;
    let current: Vec<_> = orgs
        .as_array()
        .expect("list")
        .iter()
        .filter(|o| o["current"] == true)
        .map(|o| o["id"].clone())
        .collect();
    assert_eq!(current, [serde_json::json!(first)]);

    let eve = Visitor::signed_up(&app, "eve@example.org", "Eve").await;
    let (status, _) = eve
        .call("/api/fn/switch_org", &[("org_id", &second.to_string())])
        .await;
    assert_eq!(status, 404, "not a member: as if it did not exist");
}

async fn roles_limit_who_manages_members_and_the_last_owner_stays(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let ada = Visitor::signed_up(&app, "ada@example.org", "Ada").await;
    create_org(&ada, "Meridian", "partner").await;
    let bob = Visitor::signed_up(&app, "bob@example.org", "Bob").await;
    let t = invite(&ada, "bob@example.org", "member", "").await;
    assert_eq!(
        bob.call("/api/fn/accept_invitation", &[("token", &t)])
            .await
            .0,
        200
    );
    let bob_id = user_id(&db, "bob@example.org").await;
    let ada_id = user_id(&db, "ada@example.org").await;

    // A member sees the members but manages nothing.
    let page = members(&bob).await;
    assert_eq!(page["can_manage"], false);
    assert!(page["invitations"].as_array().expect("list").is_empty());
    let invite_x = [("email", "x@example.org"), ("role", "member")];
    assert_eq!(bob.call("/api/fn/invite_member", &invite_x).await.0, 403);
    assert_eq!(
        bob.call(
            "/api/fn/change_role",
            &[("user_id", &ada_id), ("role", "member")]
        )
        .await
        .0,
        403
    );
    assert_eq!(
        bob.call("/api/fn/remove_member", &[("user_id", &ada_id)])
            .await
            .0,
        403
    );

    // The last owner can neither leave nor be demoted.
    let (status, body) = ada.call("/api/fn/leave_org", &[]).await;
    assert_eq!(status, 409);
    assert_eq!(
        body["message"],
        "You are the last owner: make someone else an owner before leaving."
    );
    // An admin cannot touch owners or make new ones.
    assert_eq!(
        ada.call(
            "/api/fn/change_role",
            &[("user_id", &bob_id), ("role", "admin")]
        )
        .await
        .0,
        200
    );
    assert_eq!(
        bob.call(
            "/api/fn/change_role",
            &[("user_id", &ada_id), ("role", "member")]
        )
        .await
        .0,
        403
    );
    assert_eq!(
        bob.call("/api/fn/remove_member", &[("user_id", &ada_id)])
            .await
            .0,
        403
    );
    let (status, body) = bob
        .call(
            "/api/fn/invite_member",
            &[("email", "x@example.org"), ("role", "owner")],
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        body["fields"]["role"][0],
        "Only an owner can invite another owner."
    );

    // Managers remove members; the removed person no longer sees the organisation.
    let carol = Visitor::signed_up(&app, "carol@example.org", "Carol").await;
    let t = invite(&ada, "carol@example.org", "member", "").await;
    assert_eq!(
        carol
            .call("/api/fn/accept_invitation", &[("token", &t)])
            .await
            .0,
        200
    );
    let carol_id = user_id(&db, "carol@example.org").await;
    assert_eq!(
        bob.call("/api/fn/remove_member", &[("user_id", &carol_id)])
            .await
            .0,
        200
    );
    assert_eq!(carol.call("/api/fn/members_page", &[]).await.0, 403);
    let (_, orgs) = carol.call("/api/fn/my_orgs", &[]).await;
    assert_eq!(orgs, serde_json::json!([]));

    // With a second owner, the first may leave; the last one may not step down.
    assert_eq!(
        ada.call(
            "/api/fn/change_role",
            &[("user_id", &bob_id), ("role", "owner")]
        )
        .await
        .0,
        200
    );
    assert_eq!(ada.call("/api/fn/leave_org", &[]).await.0, 200);
    assert_eq!(member_emails(&members(&bob).await), ["bob@example.org"]);
    let (status, body) = bob
        .call(
            "/api/fn/change_role",
            &[("user_id", &bob_id), ("role", "admin")],
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let actions = audit_actions(&db).await;
    for a in ["member.role_changed", "member.removed", "member.left"] {
        assert!(
            actions.iter().any(|x| x == a),
            "{a} missing from {actions:?}"
        );
    }
    run_ok(&db, &["audit", "verify"]).await;
}

async fn another_organisations_members_and_invitations_are_not_found(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let ada = Visitor::signed_up(&app, "ada@example.org", "Ada").await;
    create_org(&ada, "Meridian", "partner").await;
    let bob = Visitor::signed_up(&app, "bob@example.org", "Bob").await;
    create_org(&bob, "Ledgerline", "partner").await;
    invite(&bob, "carol@example.org", "member", "").await;
    let bob_id = user_id(&db, "bob@example.org").await;
    let invitation = db
        .count("SELECT MAX(id) FROM invitations")
        .await
        .to_string();
    // Ada owns her organisation, but Bob and his invitation are elsewhere.
    assert_eq!(
        ada.call("/api/fn/remove_member", &[("user_id", &bob_id)])
            .await
            .0,
        404
    );
    assert_eq!(
        ada.call(
            "/api/fn/change_role",
            &[("user_id", &bob_id), ("role", "member")]
        )
        .await
        .0,
        404
    );
    assert_eq!(
        ada.call(
            "/api/fn/revoke_invitation",
            &[("invitation_id", &invitation)]
        )
        .await
        .0,
        404
    );
    assert_eq!(member_emails(&members(&ada).await), ["ada@example.org"]);
    assert_eq!(member_emails(&members(&bob).await), ["bob@example.org"]);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM invitations WHERE revoked_at IS NULL")
            .await,
        1
    );
}

async fn the_platform_is_bootstrapped_and_nobody_is_both_referee_and_player(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let out = run_ok(&db, &["admin", "bootstrap", "--email", "Ref@Example.org"]).await;
    assert!(out.contains("ref@example.org has no account yet"), "{out}");
    let token = out.trim().rsplit('/').next().expect("token").to_string();
    let referee = Visitor::signed_up(&app, "ref@example.org", "Rita Referee").await;
    app.confirm_email("ref@example.org").await;
    let (status, body) = referee
        .call("/api/fn/accept_invitation", &[("token", &token)])
        .await;
    assert_eq!(status, 200, "{body}");
    referee.enable_two_step().await;
    let (_, orgs) = referee.call("/api/fn/my_orgs", &[]).await;
    assert_eq!(orgs[0]["kind"], "platform");
    assert_eq!(orgs[0]["role"], "owner");
    assert_eq!(orgs[0]["staff_role"], "referee");
    let again = run_ok(&db, &["admin", "bootstrap", "--email", "ref@example.org"]).await;
    assert!(
        again.contains("already belongs to the platform organisation"),
        "{again}"
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM organisations WHERE kind = 'platform'")
            .await,
        1
    );

    // Platform invitations must say which staff role.
    let no_staff = [
        ("email", "pat@example.org"),
        ("role", "member"),
        ("staff_role", ""),
    ];
    let (status, body) = referee.call("/api/fn/invite_member", &no_staff).await;
    assert_eq!(status, 422);
    let msg = body["fields"]["staff_role"][0].as_str().unwrap_or("");
    assert!(msg.starts_with("Choose referee or player"), "{body}");
    let as_player = invite(&referee, "pat@example.org", "member", "player").await;
    let as_referee = invite(&referee, "pat@example.org", "member", "referee").await;
    let pat = Visitor::signed_up(&app, "pat@example.org", "Pat Player").await;
    app.confirm_email("pat@example.org").await;
    assert_eq!(
        pat.call("/api/fn/accept_invitation", &[("token", &as_player)])
            .await
            .0,
        200
    );
    let (status, body) = pat
        .call("/api/fn/accept_invitation", &[("token", &as_referee)])
        .await;
    assert_eq!(status, 409);
    assert_eq!(
        body["message"],
        "You are already a player of the platform; one person cannot be both referee and player."
    );
    let page = members(&referee).await;
    let staff: Vec<_> = page["members"]
        .as_array()
        .expect("list")
        .iter()
        .map(|m| m["staff_role"].clone())
        .collect();
    assert_eq!(
        staff,
        [serde_json::json!("referee"), serde_json::json!("player")]
    );
}

async fn the_database_refuses_a_second_staff_role_and_staff_roles_outside_the_platform(
    backend: Backend,
) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    Visitor::signed_up(&app, "pat@example.org", "Pat").await;
    app.confirm_email("pat@example.org").await;
    run_ok(&db, &["admin", "bootstrap", "--email", "pat@example.org"]).await;
    run_ok(&db, &["seed", "--demo"]).await;
    let mut conn = db.connect().await;
    let refused = |sql: &'static str| {
        let db = &db;
        async move {
            let mut conn = db.connect().await;
            sqlx::raw_sql(sql).execute(&mut conn).await.is_err()
        }
    };
    assert!(
        refused(
            "INSERT INTO memberships (org_id, org_kind, user_id, role, staff_role, created_at) \
             SELECT o.id, 'platform', u.id, 'member', 'player', 1 FROM organisations o, users u \
             WHERE o.kind = 'platform' AND u.email = 'pat@example.org'"
        )
        .await,
        "a referee cannot also be a player"
    );
    assert!(
        refused(
            "INSERT INTO memberships (org_id, org_kind, user_id, role, staff_role, created_at) \
             SELECT o.id, 'partner', u.id, 'member', 'referee', 1 FROM organisations o, users u \
             WHERE o.slug = 'meridian-health' AND u.email = 'pat@example.org'"
        )
        .await,
        "staff roles exist only in the platform organisation"
    );
    assert!(
        refused(
            "INSERT INTO memberships (org_id, org_kind, user_id, role, staff_role, created_at) \
             SELECT o.id, 'client', u.id, 'member', NULL, 1 FROM organisations o, users u \
             WHERE o.slug = 'meridian-health' AND u.email = 'pat@example.org'"
        )
        .await,
        "a membership's kind is its organisation's"
    );
    sqlx::raw_sql(
        "INSERT INTO users (email, display_name, password_hash, created_at, updated_at) \
         VALUES ('x@example.org', 'X', 'h', 1, 1)",
    )
    .execute(&mut conn)
    .await
    .expect("user");
    let no_staff = sqlx::raw_sql(
        "INSERT INTO memberships (org_id, org_kind, user_id, role, staff_role, created_at) \
         SELECT o.id, 'platform', u.id, 'member', NULL, 1 FROM organisations o, users u \
         WHERE o.kind = 'platform' AND u.email = 'x@example.org'",
    )
    .execute(&mut conn)
    .await;
    assert!(no_staff.is_err(), "platform members are referee or player");
}

/// Separation of duties in the platform organisation, as a whole grid:
/// every kind of staff member (referee or player, as owner, admin or member)
/// tries to invite every staff role with every organisation role. Only
/// referees invite; only a referee who is an owner makes a referee or an
/// owner. Players cannot change roles, remove staff or revoke invitations
/// either, whatever their organisation role. A refused invitation writes
/// nothing.
async fn only_referees_manage_platform_staff_and_only_referee_owners_make_referees(
    backend: Backend,
) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let out = run_ok(&db, &["admin", "bootstrap", "--email", "root@example.org"]).await;
    let token = out.trim().rsplit('/').next().expect("token").to_string();
    let root = Visitor::signed_up(&app, "root@example.org", "Rita Root").await;
    app.confirm_email("root@example.org").await;
    let (status, body) = root
        .call("/api/fn/accept_invitation", &[("token", &token)])
        .await;
    assert_eq!(status, 200, "{body}");
    root.enable_two_step().await;
    let staff = [
        ("referee", "admin"),
        ("referee", "member"),
        ("player", "owner"),
        ("player", "admin"),
        ("player", "member"),
    ];
    let mut people = vec![(("referee", "owner"), root)];
    for (kind, role) in staff {
        let email = format!("{kind}-{role}@example.org");
        let token = invite(&people[0].1, &email, role, kind).await;
        let v = Visitor::signed_up(&app, &email, "Staff").await;
        app.confirm_email(&email).await;
        let (status, body) = v
            .call("/api/fn/accept_invitation", &[("token", &token)])
            .await;
        assert_eq!(status, 200, "{body}");
        v.enable_two_step().await;
        people.push(((kind, role), v));
    }

    let invitations = || async { db.count("SELECT COUNT(*) FROM invitations").await };
    let mut refused_grid = Vec::new();
    let mut expected_grid = Vec::new();
    for ((kind, role), granter) in &people {
        for grant_kind in ["referee", "player"] {
            for grant_role in ["member", "admin", "owner"] {
                let email = format!("new-{kind}-{role}-{grant_kind}-{grant_role}@example.org");
                let before = invitations().await;
                let (status, body) = granter
                    .call(
                        "/api/fn/invite_member",
                        &[
                            ("email", email.as_str()),
                            ("role", grant_role),
                            ("staff_role", grant_kind),
                        ],
                    )
                    .await;
                let allowed = *kind == "referee"
                    && matches!(*role, "owner" | "admin")
                    && (grant_kind != "referee" || *role == "owner")
                    && (grant_role != "owner" || *role == "owner");
                let cell = format!("{kind} {role} grants {grant_kind} {grant_role}");
                assert!(
                    status == 200 || status == 403 || status == 422,
                    "{cell}: {status} {body}"
                );
                if status != 200 {
                    assert_eq!(invitations().await, before, "{cell}: refused but written");
                }
                refused_grid.push(format!("{cell}: {}", status == 200));
                expected_grid.push(format!("{cell}: {allowed}"));
            }
        }
    }
    assert_eq!(refused_grid, expected_grid);

    // Players manage no one, whatever their organisation role.
    let target = user_id(&db, "referee-member@example.org").await;
    let pending = db
        .count("SELECT MAX(id) FROM invitations")
        .await
        .to_string();
    for ((kind, role), v) in &people {
        if *kind != "player" {
            continue;
        }
        for (path, fields) in [
            (
                "/api/fn/change_role",
                vec![("user_id", target.as_str()), ("role", "admin")],
            ),
            ("/api/fn/remove_member", vec![("user_id", target.as_str())]),
            (
                "/api/fn/revoke_invitation",
                vec![("invitation_id", pending.as_str())],
            ),
        ] {
            let (status, body) = v.call(path, &fields).await;
            assert_eq!(status, 403, "a player {role}: {path} {body}");
        }
    }
    let page = members(&people[0].1).await;
    assert_eq!(member_emails(&page).len(), 6, "nobody was removed");
    // A referee admin may still promote a member (not to owner).
    let (status, body) = people[1]
        .1
        .call(
            "/api/fn/change_role",
            &[("user_id", &target), ("role", "admin")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Sign-up sends a single-use, expiring link to the address (the outbox);
/// opening it changes nothing until its button is pressed. The platform's
/// first referee and every staff member must have proven their address:
/// someone who signed up in advance with another person's address can
/// neither be bootstrapped as referee nor accept a staff invitation.
async fn addresses_are_proven_by_a_single_use_link_and_staff_need_a_proven_one(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let ada = Visitor::signed_up(&app, "ada@example.org", "Ada").await;
    assert_eq!(verified(&ada).await, false);
    assert!(ada.page("/account").await.contains("not confirmed yet"));
    let token = app.confirmation_token("ada@example.org").await;
    assert_eq!(
        db.count("SELECT COUNT(*) FROM outbox WHERE to_email = 'ada@example.org' AND subject = 'Confirm your email address'")
            .await,
        1
    );
    // Opening the link is not confirming.
    let page = ada.page(&format!("/verify-email/{token}")).await;
    assert!(page.contains("Confirm my address"), "{page}");
    assert_eq!(verified(&ada).await, false, "a GET changes nothing");
    let (status, body) = ada
        .call("/api/fn/verify_email", &[("token", "not-a-token")])
        .await;
    assert_eq!(status, 409, "{body}");
    // The button, signed out even: the link is the proof.
    let (status, body) = Visitor::new(&app)
        .call("/api/fn/verify_email", &[("token", &token)])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(verified(&ada).await, true);
    assert!(ada.page("/account").await.contains("(confirmed)"));
    assert!(audit_actions(&db)
        .await
        .iter()
        .any(|a| a == "user.email_verified"));
    let (status, body) = ada.call("/api/fn/verify_email", &[("token", &token)]).await;
    assert_eq!(status, 409, "single use: {body}");
    let (status, _) = ada.call("/api/fn/resend_verification", &[]).await;
    assert_eq!(status, 409, "nothing to confirm");

    // An account with the future referee's address, not proven: it may be
    // someone who signed up with another person's address in advance.
    let boss = Visitor::signed_up(&app, "boss@example.org", "Not The Boss").await;
    let out = run_cli(&db, &["admin", "bootstrap", "--email", "boss@example.org"]).await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("has not confirmed its address"), "{err}");
    assert_eq!(
        db.count("SELECT COUNT(*) FROM organisations WHERE kind = 'platform'")
            .await,
        0
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM memberships").await, 0);
    // An expired link does not prove it either; a new one is sent at most
    // once a minute.
    sqlx::query("UPDATE email_verifications SET expires_at = 0")
        .execute(&mut db.connect().await)
        .await
        .expect("expire");
    let stale = app.confirmation_token("boss@example.org").await;
    let (status, _) = boss
        .call("/api/fn/verify_email", &[("token", &stale)])
        .await;
    assert_eq!(status, 409, "expired");
    let (status, _) = boss.call("/api/fn/resend_verification", &[]).await;
    assert_eq!(status, 429, "a link was sent less than a minute ago");
    sqlx::query("UPDATE email_verifications SET created_at = created_at - 120000")
        .execute(&mut db.connect().await)
        .await
        .expect("age");
    let (status, body) = boss.call("/api/fn/resend_verification", &[]).await;
    assert_eq!(status, 200, "{body}");
    let fresh = app.confirmation_token("boss@example.org").await;
    assert_ne!(fresh, stale);
    // Once the mailbox's holder has confirmed it, bootstrap proceeds.
    app.confirm_email("boss@example.org").await;
    let out = run_ok(&db, &["admin", "bootstrap", "--email", "boss@example.org"]).await;
    assert!(out.contains("is now owner and referee"), "{out}");
    boss.enable_two_step().await;

    // A staff invitation needs a proven address too.
    let token = invite(&boss, "pat@example.org", "member", "player").await;
    let pat = Visitor::signed_up(&app, "pat@example.org", "Pat").await;
    let (status, body) = pat
        .call("/api/fn/accept_invitation", &[("token", &token)])
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body.to_string()
            .contains("Confirm your email address first"),
        "{body}"
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM memberships").await, 1);
    app.confirm_email("pat@example.org").await;
    let (status, body) = pat
        .call("/api/fn/accept_invitation", &[("token", &token)])
        .await;
    assert_eq!(status, 200, "{body}");
    // Partner and client invitations do not ask for it.
    create_org(&ada, "Ledgerline Partners", "partner").await;
    let token = invite(&ada, "dan@example.org", "member", "").await;
    let dan = Visitor::signed_up(&app, "dan@example.org", "Dan").await;
    let (status, body) = dan
        .call("/api/fn/accept_invitation", &[("token", &token)])
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn verified(v: &Visitor<'_>) -> serde_json::Value {
    v.call("/api/fn/current_user", &[]).await.1["email_verified"].clone()
}

/// Someone who follows an invitation link and has to sign up or sign in
/// first comes back to the invitation afterwards, not to the account page
/// (forms posted without JavaScript here). A `next` that names anything but
/// an invitation page is ignored: the sign-in form redirects nowhere else.
async fn signing_up_or_in_from_an_invitation_link_returns_to_the_invitation(backend: Backend) {
    let db = TestDb::new(backend).await;
    // Several sign-ins of one account within the minute.
    let app = App::spawn_with(&db, &[("FAIRGROUND_AUTH_ATTEMPTS_PER_ACCOUNT", "50")]).await;
    let owner = Visitor::signed_up(&app, "owner@example.org", "Olive Owner").await;
    create_org(&owner, "Harbour Health", "client").await;
    let token = invite(&owner, "new@example.org", "member", "").await;
    let here = format!("/invitations/{token}");

    // Signed out, the invitation page links both forms with the way back.
    let newcomer = Visitor::new(&app);
    let page = newcomer.page(&here).await;
    for form in ["/sign-up", "/sign-in"] {
        assert!(
            page.contains(&format!("href=\"{form}?next={here}\"")),
            "{form} link carries the invitation:\n{page}"
        );
    }
    // The sign-up page keeps it in its form and in its link to sign-in.
    let sign_up_page = format!("/sign-up?next={here}");
    let html = newcomer.page(&sign_up_page).await;
    assert!(
        html.contains(&format!("name=\"next\" value=\"{here}\"")),
        "{html}"
    );
    assert!(
        html.contains(&format!("href=\"/sign-in?next={here}\"")),
        "{html}"
    );
    let res = newcomer
        .form(
            "/api/fn/sign_up",
            &sign_up_page,
            &[
                ("email", "new@example.org"),
                ("display_name", "Nia New"),
                ("password", PASSWORD),
                ("next", &here),
            ],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(
        res.headers()[LOCATION],
        here.as_str(),
        "back to the invitation"
    );
    let page = newcomer.page(&here).await;
    assert!(page.contains("Accept invitation"), "{page}");

    // An account that exists signs in from its invitation and comes back.
    let known = Visitor::signed_up(&app, "known@example.org", "Kim Known").await;
    drop(known);
    let token = invite(&owner, "known@example.org", "member", "").await;
    let there = format!("/invitations/{token}");
    let sign_in_page = format!("/sign-in?next={there}");
    let html = Visitor::new(&app).page(&sign_in_page).await;
    assert!(
        html.contains(&format!("name=\"next\" value=\"{there}\"")),
        "{html}"
    );
    let sign_in = |next: String| {
        let app = &app;
        let page = sign_in_page.clone();
        async move {
            Visitor::new(app)
                .form(
                    "/api/fn/sign_in",
                    &page,
                    &[
                        ("email", "known@example.org"),
                        ("password", PASSWORD),
                        ("next", &next),
                    ],
                )
                .await
        }
    };
    let res = sign_in(there.clone()).await;
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(res.headers()[LOCATION], there.as_str());
    // With two-step sign-in, through the code page and back.
    let careful = Visitor::signed_up(&app, "careful@example.org", "Cy Careful").await;
    let (_, recovery) = careful.enable_two_step().await;
    drop(careful);
    let token = invite(&owner, "careful@example.org", "member", "").await;
    let back_to = format!("/invitations/{token}");
    let careful = Visitor::new(&app);
    let from = format!("/sign-in?next={back_to}");
    let res = careful
        .form(
            "/api/fn/sign_in",
            &from,
            &[
                ("email", "careful@example.org"),
                ("password", PASSWORD),
                ("next", &back_to),
            ],
        )
        .await;
    let code_page = format!("/sign-in/code?next={back_to}");
    assert_eq!(res.headers()[LOCATION], code_page.as_str());
    let html = careful.page(&code_page).await;
    assert!(
        html.contains(&format!("name=\"next\" value=\"{back_to}\"")),
        "{html}"
    );
    let res = careful
        .form(
            "/api/fn/sign_in_code",
            &code_page,
            &[("code", &recovery[0]), ("next", &back_to)],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(res.headers()[LOCATION], back_to.as_str());
    assert!(careful.page(&back_to).await.contains("Accept invitation"));

    // Anywhere else: the account page, as without `next`.
    for elsewhere in [
        "https://evil.example/",
        "//evil.example/invitations/abc",
        "/orgs",
        "/invitations/abc/../../orgs",
    ] {
        let res = sign_in(elsewhere.to_string()).await;
        assert!(res.status().is_redirection(), "{}", res.status());
        assert_eq!(res.headers()[LOCATION], "/account", "{elsewhere}");
    }
    // And a page asked for with such a `next` does not carry it.
    let html = Visitor::new(&app)
        .page("/sign-in?next=https://evil.example/")
        .await;
    assert!(!html.contains("evil.example"), "{html}");
}
