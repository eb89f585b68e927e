//! The model gateway: clients call the models they subscribe to through
//! Fairground, which forwards each call to the deployment's upstream and
//! meters it. Built so far: the signature every forwarded call carries
//! (`signing`); a deployment's upstream settings are kept with the listing's
//! offer (`listings::service::upstream`).

#[cfg(feature = "ssr")]
pub mod signing;
