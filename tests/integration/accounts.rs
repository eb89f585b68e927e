//! Accounts: sign-up, sign-in, sign-out, sessions, rate limits and the audit
//! entries they leave. Requests are made the way a browser without
//! JavaScript makes them (form posts that are redirected) and the way a
//! script does (JSON answers with the error's own status).

use crate::helpers::{
    api_post, api_post_as, audit_actions, form_post, session_cookie, sign_up, App, Backend, TestDb,
    PASSWORD,
};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

crate::on_both_backends!(
    sign_up_stores_an_argon2id_hash_and_signs_in,
    sign_up_reports_every_bad_field_and_writes_nothing,
    sign_in_issues_a_new_session_id_and_the_old_one_is_useless,
    sign_out_ends_the_session_on_the_server,
    unknown_email_and_wrong_password_answer_alike,
    sign_in_attempts_are_rate_limited_per_account_and_per_ip,
    changing_the_password_signs_out_every_other_session,
    a_128_character_password_with_spaces_is_kept_exactly,
    display_name_can_be_changed_by_its_owner_only,
    people_see_their_own_sessions_and_end_any_of_them,
);

async fn account_page(app: &App, cookie: Option<&str>) -> (u16, String) {
    let mut req = app.client.get(app.url("/account"));
    if let Some(c) = cookie {
        req = req.header(COOKIE, c);
    }
    let res = req.send().await.expect("get");
    (res.status().as_u16(), res.text().await.expect("body"))
}

async fn sign_in(
    app: &App,
    email: &str,
    password: &str,
    cookie: Option<&str>,
) -> reqwest::Response {
    form_post(
        app,
        "/api/fn/sign_in",
        "/sign-in",
        cookie,
        &[("email", email), ("password", password)],
    )
    .await
}

async fn sign_up_stores_an_argon2id_hash_and_signs_in(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let res = form_post(
        &app,
        "/api/fn/sign_up",
        "/sign-up",
        None,
        &[
            ("email", "  Ada@Example.org "),
            ("display_name", " Ada Lovelace "),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()[LOCATION], "/account");
    let set_cookie = res.headers()[SET_COOKIE]
        .to_str()
        .expect("ascii")
        .to_string();
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set_cookie.contains(flag), "{set_cookie}");
    }
    assert!(
        !set_cookie.contains("Domain="),
        "host-only cookie: {set_cookie}"
    );
    let cookie = session_cookie(res.headers()).expect("cookie");
    let (status, html) = account_page(&app, Some(&cookie)).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Ada Lovelace") && html.contains("ada@example.org"),
        "{html}"
    );
    // The header shows who is signed in, with a sign-out button.
    assert!(html.contains("Sign out"), "{html}");

    let mut conn = db.connect().await;
    let (email, hash): (String, String) = sqlx::query_as("SELECT email, password_hash FROM users")
        .fetch_one(&mut conn)
        .await
        .expect("user");
    assert_eq!(email, "ada@example.org");
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(PASSWORD));
    // Only a hash of the session id is stored.
    let cookie_value = cookie.split_once('=').expect("name=value").1.to_string();
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE id = $1")
        .bind(&cookie_value)
        .fetch_one(&mut conn)
        .await
        .expect("count");
    assert_eq!(stored, 0, "the raw session id must not be stored");
    assert_eq!(audit_actions(&db).await, ["user.signed_up"]);
    // Passwords never reach the logs.
    assert!(!app.stderr().contains(PASSWORD));
}

async fn sign_up_reports_every_bad_field_and_writes_nothing(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let (status, body, _) = api_post(
        &app,
        "/api/fn/sign_up",
        &[
            ("email", "not-an-email"),
            ("display_name", "   "),
            ("password", "password1234"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    let fields = &body["fields"];
    assert_eq!(
        fields["email"][0],
        "Enter an email address like name@example.com."
    );
    assert_eq!(fields["display_name"][0], "Enter the name others will see.");
    assert!(
        fields["password"][0]
            .as_str()
            .unwrap_or("")
            .starts_with("This password is too easy to guess"),
        "{body}"
    );

    // Without JavaScript the same errors come back on the page, next to the fields.
    let res = form_post(
        &app,
        "/api/fn/sign_up",
        "/sign-up",
        None,
        &[
            ("email", "ada@example.org"),
            ("display_name", "Ada"),
            ("password", "short"),
        ],
    )
    .await;
    assert_eq!(res.status(), 302);
    let back = res.headers()[LOCATION].to_str().expect("ascii").to_string();
    assert!(back.starts_with(&app.url("/sign-up?")), "{back}");
    let html = app
        .client
        .get(&back)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    let doc = scraper::Html::parse_document(&html);
    let sel = scraper::Selector::parse("#password-error").expect("selector");
    let msg: String = doc
        .select(&sel)
        .next()
        .expect("password error element")
        .text()
        .collect();
    assert_eq!(
        msg,
        "Use at least 12 characters (this one has 5). A few unrelated words make a strong one."
    );
    let sel = scraper::Selector::parse("input#password[aria-invalid='true']").expect("selector");
    assert_eq!(doc.select(&sel).count(), 1);

    sign_up(&app, "ada@example.org", "Ada").await;
    let (status, body, _) = api_post(
        &app,
        "/api/fn/sign_up",
        &[
            ("email", "ADA@example.org"),
            ("display_name", "Other"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        body["fields"]["email"][0],
        "An account with this email already exists. Sign in instead?"
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM users").await, 1);
    assert_eq!(
        audit_actions(&db).await,
        ["user.signed_up"],
        "a refused sign-up leaves no trace"
    );
}

async fn sign_in_issues_a_new_session_id_and_the_old_one_is_useless(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let first = sign_up(&app, "ada@example.org", "Ada").await;
    let res = sign_in(&app, "ada@example.org", PASSWORD, Some(&first)).await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()[LOCATION], "/account");
    let second = session_cookie(res.headers()).expect("new cookie at sign-in");
    assert_ne!(first, second, "a new session id at sign-in");
    assert_eq!(account_page(&app, Some(&second)).await.0, 200);
    assert_eq!(
        account_page(&app, Some(&first)).await.0,
        401,
        "the pre-sign-in id is worthless"
    );
    assert_eq!(account_page(&app, None).await.0, 401);
    assert_eq!(
        audit_actions(&db).await,
        ["user.signed_up", "user.signed_in"]
    );
    // Each entry names the actor, the target, the time and the client's address.
    let mut conn = db.connect().await;
    let (actor, target, ip, at): (Option<i64>, String, String, i64) = sqlx::query_as(
        "SELECT actor_user_id, target, client_ip, occurred_at FROM audit_log WHERE action = 'user.signed_in'",
    )
    .fetch_one(&mut conn)
    .await
    .expect("entry");
    assert_eq!(target, format!("user:{}", actor.expect("actor")));
    assert_eq!(ip, "127.0.0.1");
    assert!(at > 1_700_000_000_000, "UTC milliseconds: {at}");
    // Neither the password nor any session id reaches the logs.
    let log = app.stderr();
    for secret in [
        PASSWORD,
        first.split_once('=').expect("cookie").1,
        second.split_once('=').expect("cookie").1,
    ] {
        assert!(!log.contains(secret), "secret in log");
    }
}

async fn sign_out_ends_the_session_on_the_server(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let cookie = sign_up(&app, "ada@example.org", "Ada").await;
    assert_eq!(
        db.count("SELECT COUNT(*) FROM sessions WHERE user_id IS NOT NULL")
            .await,
        1
    );
    let res = form_post(&app, "/api/fn/sign_out", "/account", Some(&cookie), &[]).await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()[LOCATION], "/");
    // Replaying the old cookie gets nothing: the session is gone server-side.
    assert_eq!(account_page(&app, Some(&cookie)).await.0, 401);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM sessions WHERE user_id IS NOT NULL")
            .await,
        0
    );
    assert_eq!(
        audit_actions(&db).await,
        ["user.signed_up", "user.signed_out"]
    );
}

async fn unknown_email_and_wrong_password_answer_alike(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    sign_up(&app, "ada@example.org", "Ada").await;
    let wrong = api_post(
        &app,
        "/api/fn/sign_in",
        &[
            ("email", "ada@example.org"),
            ("password", "not the password"),
        ],
    )
    .await;
    let unknown = api_post(
        &app,
        "/api/fn/sign_in",
        &[
            ("email", "nobody@example.org"),
            ("password", "not the password"),
        ],
    )
    .await;
    assert_eq!(wrong.0, 422);
    assert_eq!(
        (wrong.0, &wrong.1),
        (unknown.0, &unknown.1),
        "same status and body"
    );
    assert_eq!(
        wrong.1["fields"]["credentials"][0],
        "That email and password do not match an account."
    );
    assert!(session_cookie(&wrong.2).is_none() && session_cookie(&unknown.2).is_none());
    assert_eq!(
        audit_actions(&db).await,
        [
            "user.signed_up",
            "user.sign_in_failed",
            "user.sign_in_failed"
        ]
    );
}

async fn sign_in_attempts_are_rate_limited_per_account_and_per_ip(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn_with(
        &db,
        &[
            ("FAIRGROUND_AUTH_ATTEMPTS_PER_ACCOUNT", "3"),
            ("FAIRGROUND_AUTH_ATTEMPTS_PER_IP", "6"),
        ],
    )
    .await;
    sign_up(&app, "ada@example.org", "Ada").await;
    for _ in 0..3 {
        let (status, _, _) = api_post(
            &app,
            "/api/fn/sign_in",
            &[("email", "ada@example.org"), ("password", "nope nope nope")],
        )
        .await;
        assert_eq!(status, 422);
    }
    // Even the right password is refused while the account is limited.
    let (status, body, headers) = api_post(
        &app,
        "/api/fn/sign_in",
        &[("email", "ADA@example.org"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(status, 429, "{body}");
    let retry: u64 = headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(body["retry_after_secs"].as_u64().is_some(), "{body}");
    // Other accounts from the same address run into the per-IP limit
    // (sign-up + 4 attempts so far; the limit is 6).
    let (status, _, _) = api_post(
        &app,
        "/api/fn/sign_in",
        &[("email", "bob@example.org"), ("password", "whatever pass")],
    )
    .await;
    assert_eq!(status, 422);
    let (status, _, _) = api_post(
        &app,
        "/api/fn/sign_in",
        &[("email", "eve@example.org"), ("password", "whatever pass")],
    )
    .await;
    assert_eq!(status, 429);
}

/// Over HTTPS the cookie is Secure and host-locked by the __Host- prefix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secure_cookies_use_the_host_prefix() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = App::spawn_with(&db, &[("FAIRGROUND_COOKIE_SECURE", "true")]).await;
    let res = form_post(
        &app,
        "/api/fn/sign_up",
        "/sign-up",
        None,
        &[
            ("email", "ada@example.org"),
            ("display_name", "Ada"),
            ("password", PASSWORD),
        ],
    )
    .await;
    let set_cookie = res.headers()[SET_COOKIE]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(set_cookie.starts_with("__Host-fg_session="), "{set_cookie}");
    for flag in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set_cookie.contains(flag), "{set_cookie}");
    }
}

async fn changing_the_password_signs_out_every_other_session(backend: Backend) {
    let db = TestDb::new(backend).await;
    // Changing a password checks one, so it counts against the account's
    // attempt limit; this test makes more than the default five.
    let app = App::spawn_with(&db, &[("FAIRGROUND_AUTH_ATTEMPTS_PER_ACCOUNT", "20")]).await;
    let laptop = sign_up(&app, "ada@example.org", "Ada").await;
    let phone = session_cookie(
        sign_in(&app, "ada@example.org", PASSWORD, None)
            .await
            .headers(),
    )
    .expect("phone");
    let change = |cookie: String, current: &'static str, new: &'static str| {
        let app = &app;
        async move {
            form_post(
                app,
                "/api/fn/change_password",
                "/account",
                Some(&cookie),
                &[("current_password", current), ("new_password", new)],
            )
            .await
        }
    };
    // Wrong current password, then a weak new one: refused, nothing changes.
    let res = change(
        laptop.clone(),
        "not my password",
        "violet harbour lantern 58",
    )
    .await;
    let back = res.headers()[LOCATION].to_str().expect("ascii").to_string();
    assert!(back.contains("__err="), "{back}");
    let (status, body, _) = api_post_as(
        &app,
        "/api/fn/change_password",
        Some(&laptop),
        &[
            ("current_password", PASSWORD),
            ("new_password", "password1234"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(body["fields"]["new_password"][0]
        .as_str()
        .unwrap_or("")
        .contains("too easy to guess"));
    assert_eq!(
        account_page(&app, Some(&phone)).await.0,
        200,
        "nothing changed yet"
    );

    let res = change(laptop.clone(), PASSWORD, "violet harbour lantern 58").await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()[LOCATION], "/account?updated=password");
    let renewed = session_cookie(res.headers()).expect("this device continues under a new id");
    assert_ne!(renewed, laptop);
    assert_eq!(account_page(&app, Some(&renewed)).await.0, 200);
    assert_eq!(
        account_page(&app, Some(&phone)).await.0,
        401,
        "other devices are signed out"
    );
    assert_eq!(
        account_page(&app, Some(&laptop)).await.0,
        401,
        "the old id is gone too"
    );
    let old = sign_in(&app, "ada@example.org", PASSWORD, None).await;
    assert!(
        old.headers()[LOCATION]
            .to_str()
            .expect("ascii")
            .contains("__err="),
        "the old password no longer works"
    );
    assert_eq!(
        sign_in(&app, "ada@example.org", "violet harbour lantern 58", None)
            .await
            .headers()[LOCATION],
        "/account"
    );
    let actions = audit_actions(&db).await;
    assert!(
        actions.contains(&"user.password_changed".to_string()),
        "{actions:?}"
    );
    // Anonymous callers cannot change anything.
    let (status, _, _) = api_post(
        &app,
        "/api/fn/change_password",
        &[("current_password", "x"), ("new_password", "y")],
    )
    .await;
    assert_eq!(status, 401);
}

async fn display_name_can_be_changed_by_its_owner_only(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let cookie = sign_up(&app, "ada@example.org", "Ada").await;
    let res = form_post(
        &app,
        "/api/fn/change_display_name",
        "/account",
        Some(&cookie),
        &[("display_name", "  Countess Lovelace ")],
    )
    .await;
    assert_eq!(res.headers()[LOCATION], "/account?updated=name");
    let res = app
        .client
        .get(app.url("/account?updated=name"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);
    let html = res.text().await.expect("body");
    assert!(
        html.contains("Countess Lovelace") && html.contains("Your name was saved."),
        "{html}"
    );
    let res = form_post(
        &app,
        "/api/fn/change_display_name",
        "/account",
        Some(&cookie),
        &[("display_name", "   ")],
    )
    .await;
    assert!(res.headers()[LOCATION]
        .to_str()
        .expect("ascii")
        .contains("__err="));
    let (status, _, _) = api_post(
        &app,
        "/api/fn/change_display_name",
        &[("display_name", "Mallory")],
    )
    .await;
    assert_eq!(status, 401);
    let mut conn = db.connect().await;
    let name: String = sqlx::query_scalar("SELECT display_name FROM users")
        .fetch_one(&mut conn)
        .await
        .expect("name");
    assert_eq!(name, "Countess Lovelace");
}

async fn a_128_character_password_with_spaces_is_kept_exactly(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    let long: String = format!(" {}", "quiet meadow copper lantern ".repeat(5))
        .chars()
        .take(128)
        .collect();
    assert_eq!(long.chars().count(), 128);
    let res = form_post(
        &app,
        "/api/fn/sign_up",
        "/sign-up",
        None,
        &[
            ("email", "ada@example.org"),
            ("display_name", "Ada"),
            ("password", &long),
        ],
    )
    .await;
    assert_eq!(res.headers()[LOCATION], "/account");
    let ok = sign_in(&app, "ada@example.org", &long, None).await;
    assert_eq!(
        ok.headers()[LOCATION],
        "/account",
        "the whole password, leading space included"
    );
    let trimmed = sign_in(&app, "ada@example.org", long.trim(), None).await;
    assert!(
        trimmed.headers()[LOCATION]
            .to_str()
            .expect("ascii")
            .contains("__err="),
        "never trimmed"
    );
    let cut = sign_in(&app, "ada@example.org", &long[..72], None).await;
    assert!(
        cut.headers()[LOCATION]
            .to_str()
            .expect("ascii")
            .contains("__err="),
        "never truncated"
    );
}

/// Signs in from a browser that calls itself `agent`; the session cookie.
async fn sign_in_from(app: &App, email: &str, agent: &str) -> String {
    let res = app
        .client
        .post(app.url("/api/fn/sign_in"))
        .header("origin", &app.base_url)
        .header(reqwest::header::USER_AGENT, agent)
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .expect("sign in");
    assert!(
        res.status().is_success() || res.status().is_redirection(),
        "{}",
        res.status()
    );
    session_cookie(res.headers()).expect("a session")
}

/// The account page lists where one is signed in — only one's own
/// sessions, the current one marked, each browser as it named itself
/// (shown as text) — and any of them can be ended: that browser is signed
/// out at once; ending the current one signs out here. Nobody can end
/// another person's session.
async fn people_see_their_own_sessions_and_end_any_of_them(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = App::spawn(&db).await;
    sign_up(&app, "ada@example.org", "Ada").await;
    sign_up(&app, "bob@example.org", "Bob").await;
    let hostile = r#"Phone</td><form action="/x"><script>alert(1)</script>"#;
    let laptop = sign_in_from(&app, "ada@example.org", "Laptop Browser 1.0").await;
    let phone = sign_in_from(&app, "ada@example.org", hostile).await;
    let bob = sign_in_from(&app, "bob@example.org", "Bob's Browser").await;

    let (status, list, _) = api_post_as(&app, "/api/fn/my_sessions", Some(&laptop), &[]).await;
    assert_eq!(status, 200, "{list}");
    let list = list.as_array().expect("sessions").clone();
    // Ada's three: the sign-up's and the two sign-ins; none of Bob's.
    assert_eq!(list.len(), 3, "{list:?}");
    assert!(
        list.iter().all(|s| s["device"] != "Bob's Browser"),
        "{list:?}"
    );
    assert_eq!(list[0]["current"], true, "the current one first: {list:?}");
    assert_eq!(list[0]["device"], "Laptop Browser 1.0");
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
    let phone_handle = list
        .iter()
        .find(|s| s["device"] == hostile)
        .and_then(|s| s["handle"].as_str())
        .expect("the phone's session")
        .to_string();
    // The page shows the list, the hostile name as text.
    let (status, page) = account_page(&app, Some(&laptop)).await;
    assert_eq!(status, 200);
    assert!(page.contains("Where you are signed in"), "{page}");
    assert!(page.contains("Laptop Browser 1.0"));
    assert!(!page.contains("<script>alert(1)"), "escaped: {page}");
    assert!(!page.contains(r#"<form action="/x">"#), "escaped");
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "shown as text"
    );

    // Bob cannot end Ada's session, nor can nobody.
    let (status, _, _) = api_post_as(
        &app,
        "/api/fn/end_session",
        Some(&bob),
        &[("handle", &phone_handle)],
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _) = api_post(&app, "/api/fn/end_session", &[("handle", &phone_handle)]).await;
    assert_eq!(status, 401);
    assert_eq!(
        account_page(&app, Some(&phone)).await.0,
        200,
        "still signed in"
    );

    // Ada ends the phone's from the laptop, with a plain form.
    let res = form_post(
        &app,
        "/api/fn/end_session",
        "/account",
        Some(&laptop),
        &[("handle", &phone_handle)],
    )
    .await;
    assert_eq!(res.headers()[LOCATION], "/account?updated=session");
    assert_eq!(
        account_page(&app, Some(&phone)).await.0,
        401,
        "the phone is signed out"
    );
    assert_eq!(
        account_page(&app, Some(&laptop)).await.0,
        200,
        "the laptop is not"
    );
    assert!(audit_actions(&db)
        .await
        .iter()
        .any(|a| a == "user.session_ended"));

    // Ending the current one signs out here.
    let (_, list, _) = api_post_as(&app, "/api/fn/my_sessions", Some(&laptop), &[]).await;
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");
    let own = list[0]["handle"].as_str().expect("handle").to_string();
    let res = form_post(
        &app,
        "/api/fn/end_session",
        "/account",
        Some(&laptop),
        &[("handle", &own)],
    )
    .await;
    assert_eq!(res.headers()[LOCATION], "/sign-in");
    assert_eq!(account_page(&app, Some(&laptop)).await.0, 401);
    let (status, _, _) = api_post_as(&app, "/api/fn/my_sessions", Some(&bob), &[]).await;
    assert_eq!(status, 200, "Bob's own session is untouched");
}
