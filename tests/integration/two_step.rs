//! Two-step sign-in: a code after the password (RFC 6238, computed here
//! independently), used once; single-use recovery codes; waits that grow
//! after wrong codes on every node; and platform staff who cannot act on a
//! password alone.

use crate::builders::{call_ok, invite_player};
use crate::helpers::{
    audit_actions, form_post, fresh_totp_code, run_ok, totp_code, totp_step_now, App, Backend,
    TestDb, Visitor, PASSWORD,
};

crate::on_both_backends!(
    sign_in_asks_for_a_code_each_code_and_recovery_code_works_once,
    wrong_codes_make_the_account_wait_on_every_node,
    staff_act_only_after_two_step_sign_in,
);

async fn signed_in_as(v: &Visitor<'_>) -> serde_json::Value {
    v.call("/api/fn/current_user", &[]).await.1["email"].clone()
}

/// A code of `secret` that is certainly not the right one now.
fn wrong_code(secret: &str) -> String {
    let now = totp_step_now();
    let right: Vec<String> = (now - 1..=now + 2).map(|s| totp_code(secret, s)).collect();
    (0..10)
        .map(|d| format!("{d}{d}{d}{d}{d}{d}"))
        .find(|c| !right.contains(c))
        .expect("a wrong code")
}

async fn password_step(v: &Visitor<'_>, email: &str) -> serde_json::Value {
    let (status, body) = v
        .call(
            "/api/fn/sign_in",
            &[("email", email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn sign_in_asks_for_a_code_each_code_and_recovery_code_works_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    // More tries a minute than a person needs (the limits are not what is
    // tested here).
    let app = App::spawn_with(
        &db,
        &[
            ("FAIRGROUND_AUTH_ATTEMPTS_PER_IP", "1000"),
            ("FAIRGROUND_AUTH_ATTEMPTS_PER_ACCOUNT", "1000"),
        ],
    )
    .await;
    let dana = Visitor::signed_up(&app, "dana@example.org", "Dana").await;
    let elsewhere = Visitor::signed_in(&app, "dana@example.org", None).await;
    assert_eq!(signed_in_as(&elsewhere).await, "dana@example.org");

    // Set-up: a key offered as text, link and QR code; a wrong code keeps
    // it off.
    call_ok(&dana, "/api/fn/begin_two_step", &[]).await;
    let view = call_ok(&dana, "/api/fn/two_step", &[]).await;
    assert_eq!(view["enabled_at"], serde_json::Value::Null);
    let secret = view["setup"]["secret"]
        .as_str()
        .expect("secret")
        .to_string();
    assert_eq!(secret.len(), 32, "160 bits in base32");
    let uri = view["setup"]["uri"].as_str().expect("uri");
    assert!(
        uri.starts_with("otpauth://totp/Fairground:dana%40example%2Eorg?secret=")
            && uri.contains(&secret),
        "{uri}"
    );
    assert!(view["setup"]["qr_path"].as_str().expect("qr").len() > 500);
    let page = dana.page("/account").await;
    assert!(
        page.contains(&secret) && page.contains("aria-label=\"QR code of the key\""),
        "the key on the page"
    );
    let (status, body) = dana
        .call(
            "/api/fn/confirm_two_step",
            &[("code", &wrong_code(&secret))],
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        call_ok(&dana, "/api/fn/two_step", &[]).await["enabled_at"],
        serde_json::Value::Null
    );
    let code = fresh_totp_code(&secret).await;
    call_ok(&dana, "/api/fn/confirm_two_step", &[("code", &code)]).await;
    let view = call_ok(&dana, "/api/fn/two_step", &[]).await;
    assert!(view["enabled_at"].is_i64());
    assert_eq!(view["codes_left"], 10);
    let codes: Vec<String> = view["new_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("code").to_string())
        .collect();
    assert_eq!(codes.len(), 10);
    assert!(dana.page("/account").await.contains(&codes[9]));
    call_ok(&dana, "/api/fn/dismiss_recovery_codes", &[]).await;
    let page = dana.page("/account").await;
    assert!(!page.contains(&codes[9]), "shown until put away");
    // Turning it on ended the other session; this one goes on.
    assert_eq!(signed_in_as(&elsewhere).await, serde_json::Value::Null);
    assert_eq!(signed_in_as(&dana).await, "dana@example.org");
    // Only hashes are stored.
    assert_eq!(
        db.count(&format!(
            "SELECT COUNT(*) FROM recovery_codes WHERE code_hash = '{}'",
            codes[0]
        ))
        .await,
        0
    );

    // Signing in: the password alone signs nobody in.
    let v = Visitor::new(&app);
    assert_eq!(
        password_step(&v, "dana@example.org").await["second_step"],
        true
    );
    assert_eq!(signed_in_as(&v).await, serde_json::Value::Null);
    assert_eq!(v.get("/account").await.status(), 401);
    let (status, body) = v
        .call("/api/fn/sign_in_code", &[("code", &wrong_code(&secret))])
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(signed_in_as(&v).await, serde_json::Value::Null);
    let code = fresh_totp_code(&secret).await;
    call_ok(&v, "/api/fn/sign_in_code", &[("code", &code)]).await;
    assert_eq!(signed_in_as(&v).await, "dana@example.org");
    // The same code again, in another browser: refused (used once).
    let replay = Visitor::new(&app);
    password_step(&replay, "dana@example.org").await;
    let (status, body) = replay
        .call("/api/fn/sign_in_code", &[("code", &code)])
        .await;
    assert_eq!(status, 422, "a code is used once: {body}");
    assert_eq!(signed_in_as(&replay).await, serde_json::Value::Null);
    // A recovery code, typed loosely, works once.
    let typed = codes[0].to_uppercase().replace('-', " ");
    call_ok(&replay, "/api/fn/sign_in_code", &[("code", &typed)]).await;
    assert_eq!(signed_in_as(&replay).await, "dana@example.org");
    let again = Visitor::new(&app);
    password_step(&again, "dana@example.org").await;
    let (status, _) = again
        .call("/api/fn/sign_in_code", &[("code", &codes[0])])
        .await;
    assert_eq!(status, 422, "a recovery code works once");
    assert_eq!(
        call_ok(&dana, "/api/fn/two_step", &[]).await["codes_left"],
        9
    );

    // Without JavaScript: the password form leads to the code form, which
    // leads to the account.
    let res = form_post(
        &app,
        "/api/fn/sign_in",
        "/sign-in",
        None,
        &[("email", "dana@example.org"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/sign-in/code");
    let plain = Visitor::with_cookie(
        &app,
        &crate::helpers::session_cookie(res.headers()).expect("cookie"),
    );
    let page = plain.page("/sign-in/code").await;
    assert!(page.contains("autocomplete=\"one-time-code\""), "{page}");
    let code = fresh_totp_code(&secret).await;
    let res = plain
        .form("/api/fn/sign_in_code", "/sign-in/code", &[("code", &code)])
        .await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/account");
    assert_eq!(signed_in_as(&plain).await, "dana@example.org");

    // No sign-in waiting: the code form says to start again.
    let (status, body) = Visitor::new(&app)
        .call("/api/fn/sign_in_code", &[("code", "123456")])
        .await;
    assert_eq!(status, 422);
    assert!(
        body.to_string()
            .contains("Enter your email and password again"),
        "{body}"
    );

    // New recovery codes need a current code; the old ones stop working.
    let code = fresh_totp_code(&secret).await;
    call_ok(&dana, "/api/fn/replace_recovery_codes", &[("code", &code)]).await;
    let fresh = call_ok(&dana, "/api/fn/two_step", &[]).await;
    assert_eq!(fresh["codes_left"], 10);
    let last = Visitor::new(&app);
    password_step(&last, "dana@example.org").await;
    let (status, _) = last
        .call("/api/fn/sign_in_code", &[("code", &codes[1])])
        .await;
    assert_eq!(status, 422, "replaced codes stop working");

    // Off, with the password; then the password alone signs in again.
    let (status, _) = dana
        .call(
            "/api/fn/turn_off_two_step",
            &[("current_password", "not my password at all")],
        )
        .await;
    assert_eq!(status, 422);
    call_ok(
        &dana,
        "/api/fn/turn_off_two_step",
        &[("current_password", PASSWORD)],
    )
    .await;
    let plain_again = Visitor::new(&app);
    assert_eq!(
        password_step(&plain_again, "dana@example.org").await["second_step"],
        false
    );
    assert_eq!(signed_in_as(&plain_again).await, "dana@example.org");
    assert_eq!(db.count("SELECT COUNT(*) FROM recovery_codes").await, 0);

    let actions = audit_actions(&db).await;
    for a in [
        "user.two_step_enabled",
        "user.password_accepted",
        "user.second_factor_failed",
        "user.recovery_codes_replaced",
        "user.two_step_disabled",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
    let mut conn = db.connect().await;
    let kinds: Vec<String> = sqlx::query_scalar(
        "SELECT details FROM audit_log WHERE action = 'user.signed_in' ORDER BY seq",
    )
    .fetch_all(&mut conn)
    .await
    .expect("details");
    assert!(kinds.iter().any(|d| d.contains("\"app\"")), "{kinds:?}");
    assert!(
        kinds.iter().any(|d| d.contains("\"recovery_code\"")),
        "{kinds:?}"
    );
}

/// Five wrong codes in a row cost nothing more than the rate limit; then
/// the account waits, counted in the database so a second node refuses
/// too, even the right code. The in-memory limits are set high here, so
/// only the database's count can refuse.
async fn wrong_codes_make_the_account_wait_on_every_node(backend: Backend) {
    let db = TestDb::new(backend).await;
    let env = [
        ("FAIRGROUND_AUTH_ATTEMPTS_PER_IP", "10000"),
        ("FAIRGROUND_AUTH_ATTEMPTS_PER_ACCOUNT", "10000"),
    ];
    let app = App::spawn_with(&db, &env).await;
    let other_node = App::spawn_with(&db, &env).await;
    let eve = Visitor::signed_up(&app, "eve@example.org", "Eve").await;
    let (secret, _) = eve.enable_two_step().await;
    let v = Visitor::new(&app);
    password_step(&v, "eve@example.org").await;
    for _ in 0..5 {
        let (status, _) = v
            .call("/api/fn/sign_in_code", &[("code", &wrong_code(&secret))])
            .await;
        assert_eq!(status, 422);
    }
    let code = fresh_totp_code(&secret).await;
    let (status, body) = v.call("/api/fn/sign_in_code", &[("code", &code)]).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(signed_in_as(&v).await, serde_json::Value::Null);
    let w = Visitor::new(&other_node);
    password_step(&w, "eve@example.org").await;
    let (status, _) = w.call("/api/fn/sign_in_code", &[("code", &code)]).await;
    assert_eq!(status, 429, "the other node refuses too");
    // Once the wait is over (moved back here), the right code works.
    sqlx::query("UPDATE users SET totp_failed_at = totp_failed_at - 120000")
        .execute(&mut db.connect().await)
        .await
        .expect("age");
    let code = fresh_totp_code(&secret).await;
    call_ok(&w, "/api/fn/sign_in_code", &[("code", &code)]).await;
    assert_eq!(signed_in_as(&w).await, "eve@example.org");
}

/// A referee and a player can do nothing as staff until two-step sign-in
/// is on; turning it off (or the operator's reset) takes the powers away
/// again. Their other memberships are not affected.
async fn staff_act_only_after_two_step_sign_in(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let out = run_ok(&db, &["admin", "bootstrap", "--email", "rita@example.org"]).await;
    let token = out.trim().rsplit('/').next().expect("token").to_string();
    let rita = Visitor::signed_up(&app, "rita@example.org", "Rita").await;
    app.confirm_email("rita@example.org").await;
    call_ok(&rita, "/api/fn/accept_invitation", &[("token", &token)]).await;
    let base_model = [
        ("provider", "Labs"),
        ("name", "Aurora"),
        ("version", "2"),
        ("modality", "text"),
        ("context_length", "128000"),
        ("licence", "Commercial"),
    ];
    let (status, body) = rita.call("/api/fn/add_base_model", &base_model).await;
    assert_eq!(
        (status, body["code"].clone()),
        (403, serde_json::json!("second_factor_required"))
    );
    let res = rita.get("/review").await;
    assert_eq!(res.status(), 403);
    assert!(res
        .text()
        .await
        .expect("page")
        .contains("Turn on two-step sign-in"));
    let me = call_ok(&rita, "/api/fn/current_user", &[]).await;
    assert_eq!(me["referee"], false);
    assert_eq!(me["staff_locked"], true);
    assert!(rita
        .page("/account")
        .await
        .contains("You are platform staff"));
    assert_eq!(db.count("SELECT COUNT(*) FROM base_models").await, 0);

    rita.enable_two_step().await;
    call_ok(&rita, "/api/fn/add_base_model", &base_model).await;
    assert_eq!(rita.get("/review").await.status(), 200);

    // A player likewise: no first-party draft on a password alone.
    let token = invite_player(&rita, "pat@example.org").await;
    let pat = Visitor::signed_up(&app, "pat@example.org", "Pat").await;
    app.confirm_email("pat@example.org").await;
    // Joining leads a new staff member to turning it on.
    let res = pat
        .form(
            "/api/fn/accept_invitation",
            &format!("/invitations/{token}"),
            &[("token", &token)],
        )
        .await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/account?updated=staff#two-step");
    let draft = [
        ("name", "Platform Scribe"),
        ("tagline", "Notes."),
        ("industry", "healthcare"),
        ("base_model_id", "1"),
    ];
    let (status, body) = pat.call("/api/fn/create_listing", &draft).await;
    assert_eq!(
        (status, body["code"].clone()),
        (403, serde_json::json!("second_factor_required"))
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM listings").await,
        0,
        "nothing drafted"
    );
    // A partner's draft stays hidden from the locked player, and the try is
    // on the record as any player's is.
    let lena = Visitor::signed_up(&app, "lena@example.org", "Lena").await;
    call_ok(
        &lena,
        "/api/fn/create_org",
        &[("name", "Ledger Labs"), ("kind", "partner")],
    )
    .await;
    call_ok(
        &lena,
        "/api/fn/create_listing",
        &[
            ("name", "Ledger Reader"),
            ("tagline", "Reads ledgers."),
            ("industry", "finance"),
            ("base_model_id", "1"),
        ],
    )
    .await;
    assert_eq!(pat.get("/listings/ledger-reader").await.status(), 404);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM data_access_log WHERE outcome = 'refused'")
            .await,
        1
    );
    // The player's own partner side-organisation is not locked.
    call_ok(
        &pat,
        "/api/fn/create_org",
        &[("name", "Pat Labs"), ("kind", "partner")],
    )
    .await;
    call_ok(&pat, "/api/fn/create_listing", &draft).await;
    let platform = db
        .count("SELECT id FROM organisations WHERE kind = 'platform'")
        .await;
    call_ok(
        &pat,
        "/api/fn/switch_org",
        &[("org_id", &platform.to_string())],
    )
    .await;
    let (status, _) = pat.call("/api/fn/create_listing", &draft).await;
    assert_eq!(status, 403);
    pat.enable_two_step().await;
    call_ok(
        &pat,
        "/api/fn/create_listing",
        &[
            ("name", "Platform Scribe 2"),
            ("tagline", "Notes."),
            ("industry", "healthcare"),
            ("base_model_id", "1"),
        ],
    )
    .await;

    // Off again: staff powers go with it.
    call_ok(
        &rita,
        "/api/fn/turn_off_two_step",
        &[("current_password", PASSWORD)],
    )
    .await;
    let (status, _) = rita.call("/api/fn/add_base_model", &base_model).await;
    assert_eq!(status, 403);
    // The operator's reset (lost phone and codes): sessions end, and the
    // password then signs in without staff powers until it is on again.
    let rita_again = Visitor::signed_in(&app, "rita@example.org", None).await;
    rita_again.enable_two_step().await;
    let out = run_ok(
        &db,
        &["admin", "reset-two-step", "--email", "rita@example.org"],
    )
    .await;
    assert!(
        out.contains("two-step sign-in is off for rita@example.org"),
        "{out}"
    );
    assert_eq!(signed_in_as(&rita_again).await, serde_json::Value::Null);
    let back = Visitor::signed_in(&app, "rita@example.org", None).await;
    let (status, _) = back.call("/api/fn/add_base_model", &base_model).await;
    assert_eq!(status, 403);
    assert!(audit_actions(&db)
        .await
        .iter()
        .any(|a| a == "user.two_step_reset"));
}
