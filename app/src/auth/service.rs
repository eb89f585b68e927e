//! Sign-up, sign-in and sign-out: the checks, the writes and the audit
//! entries, in that order, each write in one transaction.

use super::password::{self, Email, NewPassword};
use super::{db, session};
use crate::audit::db::{append, NewEntry};
use crate::auth::visit::Visit;
use crate::error::{AppError, FieldErrors};
use std::sync::OnceLock;

const MAX_DISPLAY_NAME_CHARS: usize = 80;

fn display_name(input: &str) -> Result<String, AppError> {
    let name = input.trim();
    if name.is_empty() {
        Err(AppError::field(
            "display_name",
            "Enter the name others will see.",
        ))
    } else if name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        Err(AppError::field(
            "display_name",
            format!("Use at most {MAX_DISPLAY_NAME_CHARS} characters."),
        ))
    } else if name.chars().any(char::is_control) {
        Err(AppError::field(
            "display_name",
            "Use letters, digits, spaces and punctuation only.",
        ))
    } else {
        Ok(name.to_string())
    }
}

/// Collects every field's error, so the form shows them all at once.
fn merge(results: Vec<Result<(), AppError>>) -> Result<(), AppError> {
    let mut fields = FieldErrors::new();
    for r in results {
        match r {
            Ok(()) => {}
            Err(AppError::Validation { fields: f }) => {
                for (k, v) in f {
                    fields.entry(k).or_default().extend(v);
                }
            }
            Err(other) => return Err(other),
        }
    }
    if fields.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation { fields })
    }
}

fn entry(action: &str, actor: Option<i64>, target: String, ip: &str) -> NewEntry {
    NewEntry {
        actor_user_id: actor,
        org_id: None,
        action: action.into(),
        target,
        client_ip: ip.into(),
        details: serde_json::json!({}),
    }
}

pub async fn sign_up(
    visit: &Visit,
    email: &str,
    name: &str,
    password: &str,
) -> Result<(), AppError> {
    let state = &visit.state;
    let ip = &visit.origin.client_ip;
    state.rate_limits.check(ip, None).await?;
    let email_r = Email::parse(email);
    let name_r = display_name(name);
    let inputs: Vec<&str> = [email.trim(), name.trim()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    let password_r = NewPassword::parse("password", password, &inputs);
    merge(vec![
        email_r.as_ref().map(|_| ()).map_err(Clone::clone),
        name_r.as_ref().map(|_| ()).map_err(Clone::clone),
        password_r.as_ref().map(|_| ()).map_err(Clone::clone),
    ])?;
    let (email, name, password) = (email_r?, name_r?, password_r?);
    let hash = password::hash(password).await?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let user_id = db::insert_user(&mut tx, email.as_str(), &name, &hash, now).await?;
    super::verification::send_link(
        &mut tx,
        &visit.origin.site_url,
        user_id,
        email.as_str(),
        now,
    )
    .await?;
    append(
        &mut tx,
        &entry(
            "user.signed_up",
            Some(user_id),
            format!("user:{user_id}"),
            ip,
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    session::start(&visit.state, &visit.session, &visit.origin, user_id).await
}

/// A hash to verify against when the email is unknown, so that answer takes
/// as long as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        let params = argon2::Params::new(
            password::M_COST_KIB,
            password::T_COST,
            password::P_COST,
            None,
        )
        .unwrap_or_default();
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password(uuid::Uuid::new_v4().to_string().as_bytes(), &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

pub fn wrong_credentials() -> AppError {
    AppError::field(
        "credentials",
        "That email and password do not match an account.",
    )
}

/// Signs in with email and password: true when the account has two-step
/// sign-in and the session now waits for the code (nobody is signed in
/// until it is given).
pub async fn sign_in(visit: &Visit, email: &str, password: &str) -> Result<bool, AppError> {
    let state = &visit.state;
    let ip = &visit.origin.client_ip;
    let normalised = email.trim().to_lowercase();
    state.rate_limits.check(ip, Some(&normalised)).await?;
    let user = match Email::parse(email) {
        Ok(e) => db::user_by_email(&state.db, e.as_str()).await?,
        Err(_) => None,
    };
    let (stored, user_id) = match &user {
        Some(u) => (u.password_hash.clone(), Some(u.id)),
        None => (
            tokio::task::spawn_blocking(|| dummy_hash().to_string())
                .await
                .map_err(|e| AppError::internal("dummy hash", e))?,
            None,
        ),
    };
    let matches = password::verify(password.to_string(), stored).await?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    // Read with the user: no second query while the write is open.
    let second_step = matches && user.as_ref().is_some_and(|u| u.totp_enabled_at.is_some());
    let outcome = match (user_id, matches) {
        (Some(id), true) => {
            let action = if second_step {
                "user.password_accepted"
            } else {
                "user.signed_in"
            };
            append(
                &mut tx,
                &entry(action, Some(id), format!("user:{id}"), ip),
                now,
            )
            .await?;
            Ok(id)
        }
        (id, _) => {
            let target = match id {
                Some(id) => format!("user:{id}"),
                None => format!("email:{normalised}"),
            };
            append(
                &mut tx,
                &entry("user.sign_in_failed", None, target, ip),
                now,
            )
            .await?;
            Err(wrong_credentials())
        }
    };
    tx.commit().await?;
    let user_id = outcome?;
    if second_step {
        super::two_step::await_code(state, &visit.session, user_id).await?;
    } else {
        session::start(&visit.state, &visit.session, &visit.origin, user_id).await?;
    }
    Ok(second_step)
}

/// Changes the password after checking the current one, and signs out every
/// other session of the user; this one continues under a new id.
pub async fn change_password(visit: &Visit, current: &str, new: &str) -> Result<(), AppError> {
    let state = &visit.state;
    let ip = &visit.origin.client_ip;
    let user = session::require_user(&visit.state, &visit.session).await?;
    state.rate_limits.check(ip, Some(&user.email)).await?;
    let new = NewPassword::parse("new_password", new, &[&user.email, &user.display_name])?;
    if !password::verify(current.to_string(), user.password_hash.clone()).await? {
        return Err(AppError::field(
            "current_password",
            "That is not your current password.",
        ));
    }
    let hash = password::hash(new).await?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    db::set_password_hash(&mut tx, user.id, &hash, now).await?;
    let ended = db::delete_sessions_of(&mut tx, user.id).await?;
    let mut e = entry(
        "user.password_changed",
        Some(user.id),
        format!("user:{}", user.id),
        ip,
    );
    e.details = serde_json::json!({ "sessions_ended": ended });
    append(&mut tx, &e, now).await?;
    tx.commit().await?;
    session::start(&visit.state, &visit.session, &visit.origin, user.id).await
}

pub async fn change_display_name(visit: &Visit, name: &str) -> Result<(), AppError> {
    let state = &visit.state;
    let user = session::require_user(&visit.state, &visit.session).await?;
    let name = display_name(name)?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    db::set_display_name(&mut tx, user.id, &name, now).await?;
    append(
        &mut tx,
        &entry(
            "user.display_name_changed",
            Some(user.id),
            format!("user:{}", user.id),
            &visit.origin.client_ip,
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn sign_out(visit: &Visit) -> Result<(), AppError> {
    let state = &visit.state;
    let session = &visit.session;
    if let Some(user_id) = session::signed_in_user(state, session).await? {
        let now = state.clock.now_ms();
        let mut tx = state.db.begin_write().await?;
        append(
            &mut tx,
            &entry(
                "user.signed_out",
                Some(user_id),
                format!("user:{user_id}"),
                &visit.origin.client_ip,
            ),
            now,
        )
        .await?;
        tx.commit().await?;
    }
    session::end(session).await
}

/// The signed-in person's live sessions, the current one marked.
pub async fn my_sessions(visit: &Visit) -> Result<Vec<super::SessionView>, AppError> {
    let state = &visit.state;
    let user = session::require_user(&visit.state, &visit.session).await?;
    let current = visit.session.id().map(|id| super::session_store::key(&id));
    let rows = db::sessions_of(&state.db, user.id, state.clock.now_ms()).await?;
    let mut out: Vec<super::SessionView> = rows
        .into_iter()
        .map(|(id, data, created_at)| {
            let data: serde_json::Value = serde_json::from_str(&data).unwrap_or_default();
            let at = |k: &str| data.get(k).and_then(serde_json::Value::as_i64);
            super::SessionView {
                current: current.as_deref() == Some(id.as_str()),
                handle: id,
                signed_in_at: at(session::SIGNED_IN_AT_KEY).unwrap_or(created_at),
                last_seen_at: at(session::LAST_SEEN_KEY).unwrap_or(created_at),
                device: data
                    .get(session::DEVICE_KEY)
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.current
            .cmp(&a.current)
            .then(b.last_seen_at.cmp(&a.last_seen_at))
    });
    Ok(out)
}

/// Ends one of the signed-in person's sessions; true when it was the
/// current one (then this browser is signed out too). Another person's
/// session, or none, is NotFound.
pub async fn end_session(visit: &Visit, handle: &str) -> Result<bool, AppError> {
    let state = &visit.state;
    let user = session::require_user(&visit.state, &visit.session).await?;
    let user_id = user.id;
    let current = visit.session.id().map(|id| super::session_store::key(&id));
    let handle = handle.trim();
    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    if !db::delete_session_of(&mut tx, user_id, handle).await? {
        return Err(AppError::NotFound);
    }
    let mut e = entry(
        "user.session_ended",
        Some(user_id),
        format!("user:{user_id}"),
        &visit.origin.client_ip,
    );
    let is_current = current.as_deref() == Some(handle);
    e.details = serde_json::json!({ "current": is_current });
    append(&mut tx, &e, now).await?;
    tx.commit().await?;
    if is_current {
        session::end(&visit.session).await?;
    }
    Ok(is_current)
}
