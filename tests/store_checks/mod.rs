//! The store contract, as async checks each taking a fresh, empty store. `store_suite.rs`
//! runs every check against every backend.

pub mod alias_pages;
pub mod aliases;
pub mod credentials;
pub mod fixtures;
pub mod identity;
pub mod sessions;
pub mod sweep;
pub mod targets;
pub mod workers;

use boundary_controller::store::Store;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub type CheckFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
pub type Check = fn(Arc<dyn Store>) -> CheckFuture;

macro_rules! checks {
    ($($module:ident::$name:ident),* $(,)?) => {
        /// Every check, by name.
        pub const ALL: &[(&str, Check)] = &[
            $((stringify!($name), |store| Box::pin($module::$name(store)))),*
        ];
    };
}

checks![
    identity::scopes_crud,
    identity::accounts_and_users,
    identity::auth_tokens,
    identity::roles,
    targets::targets,
    aliases::aliases,
    aliases::delete_target_clears_aliases,
    aliases::alias_change_feed,
    aliases::alias_feed_concurrently,
    alias_pages::alias_pages,
    credentials::credentials,
    sessions::session_lifecycle,
    sessions::cancel_session_rules,
    sessions::authorize_connection_limits,
    sessions::authorize_connection_concurrently,
    sessions::connect_and_close,
    sweep::sweep_rules,
    workers::workers,
];
