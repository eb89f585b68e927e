//! Email and password rules, and password hashing.
//!
//! Passwords are taken exactly as typed: never trimmed, never truncated, no
//! composition rules. They must be at least 12 characters and not easy to
//! guess (judged by zxcvbn, which knows common passwords, names, keyboard
//! patterns and the user's own email and name). Hashes are argon2id with
//! m = 19 MiB, t = 2, p = 1, computed off the async runtime.

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::error::FieldErrors;

pub const MIN_PASSWORD_CHARS: usize = 12;
/// Well above the 128 people may use; a bound keeps hashing cost predictable.
pub const MAX_PASSWORD_CHARS: usize = 1024;
/// zxcvbn's score from 0 (trivial) to 4; 3 means "safely unguessable".
#[cfg(feature = "ssr")]
const MIN_STRENGTH: u8 = 3;

/// A normalised email address: trimmed and lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Email, AppError> {
        let email = input.trim().to_lowercase();
        let valid = email.len() <= 254
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !email.contains(char::is_whitespace)
                    && email.matches('@').count() == 1
            });
        if valid {
            Ok(Email(email))
        } else {
            Err(AppError::field(
                "email",
                "Enter an email address like name@example.com.",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password that meets the rules, ready to be hashed.
#[cfg(feature = "ssr")]
pub struct NewPassword(String);

#[cfg(feature = "ssr")]
impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

#[cfg(feature = "ssr")]
impl NewPassword {
    /// Checks `input` for `field`; `user_inputs` (email, display name) count
    /// against the password when it contains them.
    pub fn parse(field: &str, input: &str, user_inputs: &[&str]) -> Result<NewPassword, AppError> {
        let chars = input.chars().count();
        let message = if chars < MIN_PASSWORD_CHARS {
            Some(format!(
                "Use at least {MIN_PASSWORD_CHARS} characters (this one has {chars}). A few unrelated words make a strong one."
            ))
        } else if chars > MAX_PASSWORD_CHARS {
            Some(format!("Use at most {MAX_PASSWORD_CHARS} characters."))
        } else {
            weakness(input, user_inputs)
        };
        match message {
            Some(m) => {
                let mut fields = FieldErrors::new();
                fields.insert(field.to_string(), vec![m]);
                Err(AppError::Validation { fields })
            }
            None => Ok(NewPassword(input.to_string())),
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Why a password is too easy to guess, or None when it is strong enough.
#[cfg(feature = "ssr")]
fn weakness(input: &str, user_inputs: &[&str]) -> Option<String> {
    let estimate = zxcvbn::zxcvbn(input, user_inputs);
    if u8::from(estimate.score()) >= MIN_STRENGTH {
        return None;
    }
    let mut message = String::from("This password is too easy to guess");
    match estimate.feedback().and_then(|f| f.warning()) {
        Some(w) => {
            message.push_str(": ");
            message.push_str(&w.to_string());
        }
        None => message.push('.'),
    }
    if let Some(s) = estimate.feedback().and_then(|f| f.suggestions().first()) {
        message.push(' ');
        message.push_str(&s.to_string());
    }
    Some(message)
}

#[cfg(feature = "ssr")]
mod hashing {
    use super::NewPassword;
    use crate::error::AppError;
    use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
    use argon2::{Algorithm, Argon2, Params, Version};

    /// OWASP's minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
    pub const M_COST_KIB: u32 = 19_456;
    pub const T_COST: u32 = 2;
    pub const P_COST: u32 = 1;

    fn argon2() -> Result<Argon2<'static>, AppError> {
        let params = Params::new(M_COST_KIB, T_COST, P_COST, None)
            .map_err(|e| AppError::internal("argon2 parameters", e))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// Hashes on a blocking thread: argon2 takes tens of milliseconds of CPU.
    pub async fn hash(password: NewPassword) -> Result<String, AppError> {
        let reference = crate::error::current_request_id();
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
            argon2()?
                .hash_password(password.expose().as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| AppError::internal("hashing a password", e))
        })
        .await
        .map_err(|e| {
            tracing::error!(reference = %reference, error = %e, "password hashing task failed");
            AppError::Internal { reference }
        })?
    }

    /// True when `password` matches `stored`. A malformed stored hash is an
    /// internal error, never a match.
    pub async fn verify(password: String, stored: String) -> Result<bool, AppError> {
        let reference = crate::error::current_request_id();
        tokio::task::spawn_blocking(move || {
            let parsed = PasswordHash::new(&stored).map_err(|e| AppError::internal("stored password hash", e))?;
            Ok(argon2()?.verify_password(password.as_bytes(), &parsed).is_ok())
        })
        .await
        .map_err(|e| {
            tracing::error!(reference = %reference, error = %e, "password verification task failed");
            AppError::Internal { reference }
        })?
    }
}

#[cfg(feature = "ssr")]
pub use hashing::{hash, verify, M_COST_KIB, P_COST, T_COST};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Ada.Lovelace@Example.ORG ")
                .unwrap()
                .as_str(),
            "ada.lovelace@example.org"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.org",
            "ada@example",
            "a b@example.org",
            "a@b@example.org",
            "ada@.org",
        ] {
            let err = Email::parse(bad).unwrap_err();
            assert_eq!(
                err.messages_for("email").len(),
                1,
                "{bad:?} should be refused"
            );
        }
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn short_password_says_how_long_it_must_be() {
        let err = NewPassword::parse("password", "short pw", &[]).unwrap_err();
        assert!(err.messages_for("password")[0]
            .starts_with("Use at least 12 characters (this one has 8)"));
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn common_password_is_refused_with_a_reason() {
        let err = NewPassword::parse("password", "password1234", &[]).unwrap_err();
        let msg = &err.messages_for("password")[0];
        assert!(
            msg.starts_with("This password is too easy to guess"),
            "{msg}"
        );
        let err = NewPassword::parse("password", "qwertyuiopasdf", &[]).unwrap_err();
        assert!(err.messages_for("password")[0].starts_with("This password is too easy to guess"));
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_users_own_email_counts_against_the_password() {
        let with_email = "ada.lovelace@example.org";
        assert!(NewPassword::parse("password", with_email, &[]).is_ok());
        assert!(NewPassword::parse("password", with_email, &[with_email]).is_err());
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn long_passwords_are_kept_whole_and_untrimmed() {
        let long: String = "correct horse battery staple "
            .repeat(5)
            .chars()
            .take(128)
            .collect();
        assert_eq!(long.chars().count(), 128);
        assert!(long.ends_with(' ') || long.starts_with("correct"));
        let p = NewPassword::parse("password", &long, &[]).expect("128 characters are fine");
        assert_eq!(p.expose(), long);
        let padded = format!("  {long}  ");
        assert_eq!(
            NewPassword::parse("password", &padded, &[])
                .unwrap()
                .expose(),
            padded
        );
        let too_long = "x".repeat(MAX_PASSWORD_CHARS + 1);
        assert!(NewPassword::parse("password", &too_long, &[]).is_err());
    }

    #[cfg(feature = "ssr")]
    #[tokio::test]
    async fn hashes_are_argon2id_with_at_least_the_owasp_parameters() {
        use argon2::password_hash::PasswordHash;
        let pw = "tangerine orbit cathedral 93";
        let hashed = hash(NewPassword::parse("password", pw, &[]).unwrap())
            .await
            .unwrap();
        let parsed = PasswordHash::new(&hashed).unwrap();
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        let param = |name: &str| parsed.params.get_decimal(name).unwrap();
        assert!(
            param("m") >= 19_456 && param("t") >= 2 && param("p") >= 1,
            "{hashed}"
        );
        assert!(verify(pw.to_string(), hashed.clone()).await.unwrap());
        assert!(
            !verify(format!(" {pw}"), hashed.clone()).await.unwrap(),
            "never trimmed"
        );
        assert!(
            !verify("tangerine orbit cathedral 9".into(), hashed.clone())
                .await
                .unwrap()
        );
        // Same password, fresh salt: a different hash.
        let again = hash(NewPassword::parse("password", pw, &[]).unwrap())
            .await
            .unwrap();
        assert_ne!(hashed, again);
    }
}
