//! The authorisation matrix: every route the server answers × six actors
//! (anonymous, client member, partner member, partner admin, platform
//! referee, platform player) × a target in the actor's own organisation or
//! in another one → the expected status. The route list comes from
//! `fairground routes`: a route missing from `expected` fails the test.

use crate::helpers::{
    api_post_as, run_ok, session_cookie, sign_up, App, Backend, TestDb, PASSWORD,
};
use std::collections::{BTreeMap, BTreeSet};

crate::on_both_backends!(every_route_answers_every_actor_as_expected);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Actor {
    Anonymous,
    ClientMember,
    PartnerMember,
    PartnerAdmin,
    Referee,
    Player,
}

const ACTORS: [Actor; 6] = [
    Actor::Anonymous,
    Actor::ClientMember,
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
            Actor::PartnerMember => Some("partner-member@example.org"),
            Actor::PartnerAdmin => Some("partner-admin@example.org"),
            Actor::Referee => Some("referee@example.org"),
            Actor::Player => Some("player@example.org"),
        }
    }

    /// The organisation the actor works in ('C'lient, 'P'artner, 'F' platform).
    fn org(self) -> char {
        match self {
            Actor::ClientMember => 'C',
            Actor::PartnerMember | Actor::PartnerAdmin | Actor::Anonymous => 'P',
            Actor::Referee | Actor::Player => 'F',
        }
    }

    fn manages_members(self) -> bool {
        matches!(self, Actor::PartnerAdmin | Actor::Referee)
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

struct World {
    orgs: BTreeMap<char, OrgFixture>,
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
    match (method, path) {
        (
            "GET",
            "/" | "/healthz" | "/readyz" | "/sign-in" | "/sign-up" | "/invitations/{token}",
        ) => 200,
        ("GET", "/account" | "/orgs" | "/org/members") => signed_in(200),
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
    let f = |pairs: &[(&str, String)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<Vec<_>>()
    };
    if method == "GET" {
        return (path.replace("{token}", &org.token), Vec::new());
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
        "/api/fn/invitation_offer" | "/api/fn/accept_invitation" => {
            f(&[("token", org.token.clone())])
        }
        "/api/fn/change_role" => f(&[
            ("user_id", org.target_user.to_string()),
            ("role", "admin".into()),
        ]),
        "/api/fn/remove_member" => f(&[("user_id", org.target_user.to_string())]),
        _ => Vec::new(),
    };
    (path.to_string(), fields)
}

async fn signed_in(app: &App, email: &str) -> String {
    let (status, _, headers) = api_post_as(
        app,
        "/api/fn/sign_in",
        None,
        &[("email", email), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(status, 200, "sign in {email}");
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
         DELETE FROM sessions;"
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
    let (status, _, headers) = api_post_as(
        &app,
        "/api/fn/accept_invitation",
        Some(&referee),
        &[("token", &token)],
    )
    .await;
    assert_eq!(status, 200);
    let referee = session_cookie(&headers).expect("cookie");
    add_members(
        &app,
        &referee,
        &[
            ("player@example.org", "member", "player"),
            ("target-fairground@example.org", "member", "player"),
        ],
    )
    .await;
    let platform_id = db
        .count("SELECT id FROM organisations WHERE kind = 'platform'")
        .await;
    orgs.insert(
        'F',
        finish_fixture(&app, &db, &referee, platform_id, "Fairground").await,
    );
    let world = World { orgs };
    {
        let mut conn = db.connect().await;
        sqlx::raw_sql(
            "CREATE TABLE matrix_memberships AS SELECT * FROM memberships; \
             CREATE TABLE matrix_invitations AS SELECT * FROM invitations;",
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
    assert!(seen.len() >= 27, "{seen:?}");

    let mut cells = 0;
    let mut wrong = Vec::new();
    for (method, path) in &routes {
        for actor in ACTORS {
            for target in [Target::OwnOrg, Target::OtherOrg] {
                let want = expected(method, path, actor, target);
                restore(&db).await;
                let cookie = match actor.email() {
                    Some(email) => Some(signed_in(&app, email).await),
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
