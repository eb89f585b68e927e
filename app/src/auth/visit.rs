//! The visit: the state, the browser's session and the request's origin,
//! read once by a server function ([`Visit::current`], or [`current`] /
//! [`viewer`] for the state and the actor alone) and handed to the service
//! it calls. A test builds one by hand ([`Visit::new`]) and calls services
//! without a server.

use super::actor::{resolve_in, Actor};
use crate::error::AppError;
use crate::request::Origin;
use crate::state::AppState;
use tower_sessions::Session;

/// Everything a service that works the session gets: the state, the
/// browser's session, and the request's origin.
#[derive(Clone)]
pub struct Visit {
    pub state: AppState,
    pub session: Session,
    pub origin: Origin,
}

impl Visit {
    pub fn new(state: AppState, session: Session, origin: Origin) -> Visit {
        Visit {
            state,
            session,
            origin,
        }
    }

    /// The request being served by the current server function.
    pub async fn current() -> Result<Visit, AppError> {
        let state = crate::state::app_state()?;
        let session = super::session::from_request().await?;
        let origin = Origin::current(&state);
        Ok(Visit::new(state, session, origin))
    }

    /// The signed-in actor, or None.
    pub async fn viewer(&self) -> Result<Option<Actor>, AppError> {
        resolve_in(&self.state, &self.session, &self.origin).await
    }

    /// The signed-in actor, or Unauthorized.
    pub async fn actor(&self) -> Result<Actor, AppError> {
        self.viewer().await?.ok_or(AppError::Unauthorized)
    }
}

/// The state and the signed-in actor of the current request: a server
/// function resolves them once and hands them to the service it calls, so
/// services read nothing from the request themselves.
pub async fn current() -> Result<(AppState, Actor), AppError> {
    let visit = Visit::current().await?;
    let actor = visit.actor().await?;
    Ok((visit.state, actor))
}

/// As [`current`], for what anyone may see: the actor only when someone is
/// signed in.
pub async fn viewer() -> Result<(AppState, Option<Actor>), AppError> {
    let visit = Visit::current().await?;
    let actor = visit.viewer().await?;
    Ok((visit.state, actor))
}
