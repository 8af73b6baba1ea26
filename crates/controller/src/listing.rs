//! List endpoints: query parameters, opaque list tokens, and Boundary's envelope (§1.3).
//!
//! Ordinary lists page by `created_time` descending (then id), and every page carries a
//! token, the `complete` one included: Boundary's client cache keeps nothing from a list
//! that ends without one. Presented again, the token of a `complete` page asks for what
//! changed since that listing: the items updated after it (`sort_by` `updated_time`,
//! looking 30 seconds further back so that a change committed late is not missed), paged
//! the same way.
//!
//! Deletions: these collections keep no record of deleted rows, so a token instead carries
//! a snapshot of the listing — how many of the listed ids were created up to its time and
//! a digest of them. If that set is not the same at refresh time (something was deleted,
//! fell out of the list, or was committed after the listing read with an older creation
//! time), the refresh is refused with 400 `invalid list token` and the client lists again
//! from scratch, as Boundary's clients do on that error. So `removed_ids` stays empty
//! here; the resolvable-alias list has a change log and real `removed_ids` (see
//! `routes::resolvable_aliases`).
//!
//! A token is bound to its list (collection, scope, options), to the caller and to the
//! caller's grants, and lives 30 days from the listing without a token.
//!
//! Tokens are base64url JSON: opaque to clients, and every way of garbling one (bad
//! base64, bad JSON, a token for another list, too old) is the same 400
//! `invalid list token`.

use crate::error::ApiError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use boundary_wire::api::alias::Alias;
use boundary_wire::api::auth::{AuthMethod, AuthToken};
use boundary_wire::api::credential::{Credential, CredentialStore};
use boundary_wire::api::list::{ResponseType, sort};
use boundary_wire::api::role::Role;
use boundary_wire::api::scope::Scope;
use boundary_wire::api::session::Session;
use boundary_wire::api::target::Target;
use boundary_wire::api::user::{Account, User};
use boundary_wire::api::{ListResponse, time_format};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

pub const DEFAULT_PAGE_SIZE: usize = 1000;
pub const MAX_PAGE_SIZE: usize = 1000;

/// The query string of a list request. Unknown parameters are ignored.
#[derive(Clone, Debug, Default)]
pub struct ListParams {
    pub scope_id: Option<String>,
    pub recursive: bool,
    pub filter: Option<String>,
    pub list_token: Option<String>,
    pub page_size: usize,
    /// When the request was parsed (µs since the epoch), before the list is read: the
    /// time a list token's snapshot stands for.
    pub started_micros: i64,
    others: HashMap<String, String>,
}

impl ListParams {
    pub fn from_query(query: Option<&str>) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = url_decode_pairs(query.unwrap_or(""));
        let mut p = ListParams {
            page_size: DEFAULT_PAGE_SIZE,
            started_micros: micros(time_format::now()),
            ..Default::default()
        };
        for (k, v) in pairs {
            match k.as_str() {
                "scope_id" => p.scope_id = Some(v).filter(|s| !s.is_empty()),
                "recursive" => {
                    p.recursive = match v.as_str() {
                        "" | "true" | "1" => true,
                        "false" | "0" => false,
                        _ => {
                            return Err(ApiError::invalid_field(
                                "recursive",
                                "must be true or false",
                            ));
                        }
                    }
                }
                "filter" => p.filter = Some(v).filter(|s| !s.is_empty()),
                "list_token" => p.list_token = Some(v).filter(|s| !s.is_empty()),
                "page_size" => {
                    let n: usize = v.parse().map_err(|_| {
                        ApiError::invalid_field("page_size", "must be a whole number")
                    })?;
                    if n > MAX_PAGE_SIZE {
                        return Err(ApiError::invalid_field(
                            "page_size",
                            format!("must be at most {MAX_PAGE_SIZE}"),
                        ));
                    }
                    p.page_size = if n == 0 { DEFAULT_PAGE_SIZE } else { n };
                }
                _ => {
                    p.others.insert(k, v);
                }
            }
        }
        Ok(p)
    }

    /// Another parameter (`auth_method_id`, `credential_store_id`, ...).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.others
            .get(name)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    /// Boundary filters are go-bexpr expressions, which are not implemented here.
    pub fn reject_filter(&self) -> Result<(), ApiError> {
        match &self.filter {
            Some(_) => Err(ApiError::invalid_field(
                "filter",
                "list filters are not supported by this controller yet; list without a filter",
            )),
            None => Ok(()),
        }
    }
}

fn url_decode_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encodes a token payload.
pub fn encode_token<T: Serialize>(payload: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(payload).unwrap_or_default())
}

/// Decodes a token payload; anything unreadable is `invalid list token`.
pub fn decode_token<T: DeserializeOwned>(token: &str) -> Result<T, ApiError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim().trim_end_matches('='))
        .map_err(|_| {
            ApiError::invalid_list_token("The list token is not one this controller issued.")
        })?;
    serde_json::from_slice(&bytes).map_err(|_| {
        ApiError::invalid_list_token("The list token is not one this controller issued.")
    })
}

/// A refresh also returns what was updated up to this long before the previous listing.
const REFRESH_LOOKBACK_MICROS: i64 = 30_000_000;
/// A token is good this long after the listing without a token that started its chain.
const TOKEN_LIFETIME_SECS: i64 = 30 * 86_400;

/// The list token of an ordinary list.
#[derive(Serialize, serde::Deserialize)]
struct ListToken {
    /// Digest of the list key: which list, for which caller and grants.
    k: String,
    /// Unix seconds of the listing without a token that began this chain.
    t: i64,
    /// The snapshot: the listing's time (µs), and the number and digest of the listed ids
    /// created up to then.
    at: i64,
    n: u64,
    d: String,
    phase: Phase,
}

#[derive(Serialize, serde::Deserialize)]
#[serde(tag = "p")]
enum Phase {
    /// The listing goes on after the item sorted at (created `c`, `id`).
    Page { c: i64, id: String },
    /// The listing is complete; the next call asks for changes since `at`.
    Refresh,
    /// A refresh of the items updated after `since` goes on after the item sorted at
    /// (updated `u`, `id`).
    RefreshPage { since: i64, u: i64, id: String },
}

/// Something an ordinary list returns: sortable by creation and by update.
pub trait Listed {
    fn created_micros(&self) -> i64;
    fn updated_micros(&self) -> i64;
    fn list_id(&self) -> &str;
}

/// Every resource of an ordinary list sorts by its `created_time` (then `id`), and a
/// refresh by its `updated_time`.
macro_rules! listed_by_creation {
    ($($resource:ty),* $(,)?) => {$(
        impl Listed for $resource {
            fn created_micros(&self) -> i64 {
                micros(self.created_time)
            }
            fn updated_micros(&self) -> i64 {
                micros(self.updated_time)
            }
            fn list_id(&self) -> &str {
                &self.id
            }
        }
    )*};
}

listed_by_creation!(
    Account,
    Alias,
    AuthToken,
    Credential,
    CredentialStore,
    Role,
    Scope,
    Session,
    Target,
    User,
);

/// Our auth methods always carry their times; Boundary leaves them out for some callers.
impl Listed for AuthMethod {
    fn created_micros(&self) -> i64 {
        self.created_time.map_or(0, micros)
    }
    fn updated_micros(&self) -> i64 {
        self.updated_time.map_or(0, micros)
    }
    fn list_id(&self) -> &str {
        &self.id
    }
}

/// Pages `items` (every item of the list, any order) for the list identified by
/// `list_key`, which names the collection, its scope and options, the caller and the
/// caller's grants (see `Authz::list_key`): `page_size` per page, with the token that
/// continues the listing or, on the `complete` page, asks for changes later.
pub fn paginate<T: Listed + Serialize>(
    mut items: Vec<T>,
    params: &ListParams,
    list_key: &str,
) -> Result<ListResponse<T>, ApiError> {
    let key = key_digest(list_key);
    let now = params.started_micros;
    let est_item_count = items.len() as u64;
    let token = match &params.list_token {
        None => None,
        Some(t) => {
            let t: ListToken = decode_token(t)?;
            check_token(&t, &key, now)?;
            Some(t)
        }
    };
    let Some(token) = token else {
        let (n, d) = snapshot(&items, now);
        let token = ListToken {
            k: key,
            t: now.div_euclid(1_000_000),
            at: now,
            n,
            d,
            phase: Phase::Refresh,
        };
        return Ok(page_by_creation(
            items,
            params.page_size,
            token,
            est_item_count,
        ));
    };
    match token.phase {
        Phase::Page { c, ref id } => {
            let after = (c, id.clone());
            items.retain(|i| (i.created_micros(), i.list_id()) < (after.0, after.1.as_str()));
            Ok(page_by_creation(
                items,
                params.page_size,
                token,
                est_item_count,
            ))
        }
        Phase::Refresh => {
            if snapshot(&items, token.at) != (token.n, token.d.clone()) {
                return Err(ApiError::invalid_list_token(
                    "Some of what was listed has been deleted since the list token was \
                     issued; list again without it.",
                ));
            }
            let since = token.at - REFRESH_LOOKBACK_MICROS;
            let (n, d) = snapshot(&items, now);
            let next = ListToken {
                at: now,
                n,
                d,
                phase: Phase::Refresh,
                ..token
            };
            items.retain(|i| i.updated_micros() > since);
            Ok(page_by_update(
                items,
                params.page_size,
                since,
                next,
                est_item_count,
            ))
        }
        Phase::RefreshPage { since, u, ref id } => {
            let after = (u, id.clone());
            items.retain(|i| {
                i.updated_micros() > since
                    && (i.updated_micros(), i.list_id()) < (after.0, after.1.as_str())
            });
            Ok(page_by_update(
                items,
                params.page_size,
                since,
                token,
                est_item_count,
            ))
        }
    }
}

/// True when the request carries a list token issued for `list_key` (a route that must
/// recover an option the client does not repeat on later pages).
pub fn token_is_for(params: &ListParams, list_key: &str) -> bool {
    params
        .list_token
        .as_deref()
        .and_then(|t| decode_token::<ListToken>(t).ok())
        .is_some_and(|t| t.k == key_digest(list_key))
}

/// A token is good for its own list, caller and grants, for 30 days.
fn check_token(t: &ListToken, key: &str, now_micros: i64) -> Result<(), ApiError> {
    if t.k != key {
        return Err(ApiError::invalid_list_token(
            "The list token belongs to another list, another caller, or grants that have \
             changed since it was issued.",
        ));
    }
    let now = now_micros.div_euclid(1_000_000);
    if now - t.t > TOKEN_LIFETIME_SECS || t.t > now + 60 {
        return Err(ApiError::invalid_list_token("The list token has expired."));
    }
    Ok(())
}

/// A page of the listing without a token (or its continuation), newest first.
fn page_by_creation<T: Listed>(
    mut items: Vec<T>,
    page_size: usize,
    mut token: ListToken,
    est_item_count: u64,
) -> ListResponse<T> {
    items.sort_by(|a, b| (b.created_micros(), b.list_id()).cmp(&(a.created_micros(), a.list_id())));
    let more = items.len() > page_size;
    items.truncate(page_size);
    token.phase = match (more, items.last()) {
        (true, Some(last)) => Phase::Page {
            c: last.created_micros(),
            id: last.list_id().to_owned(),
        },
        _ => Phase::Refresh,
    };
    envelope(items, more, token, sort::CREATED_TIME, est_item_count)
}

/// A page of a refresh (or its continuation), most recently updated first.
fn page_by_update<T: Listed>(
    mut items: Vec<T>,
    page_size: usize,
    since: i64,
    mut token: ListToken,
    est_item_count: u64,
) -> ListResponse<T> {
    items.sort_by(|a, b| (b.updated_micros(), b.list_id()).cmp(&(a.updated_micros(), a.list_id())));
    let more = items.len() > page_size;
    items.truncate(page_size);
    token.phase = match (more, items.last()) {
        (true, Some(last)) => Phase::RefreshPage {
            since,
            u: last.updated_micros(),
            id: last.list_id().to_owned(),
        },
        _ => Phase::Refresh,
    };
    envelope(items, more, token, sort::UPDATED_TIME, est_item_count)
}

fn envelope<T>(
    items: Vec<T>,
    more: bool,
    token: ListToken,
    sort_by: &str,
    est_item_count: u64,
) -> ListResponse<T> {
    ListResponse {
        items,
        response_type: if more {
            ResponseType::Delta
        } else {
            ResponseType::Complete
        },
        list_token: encode_token(&token),
        sort_by: sort_by.to_owned(),
        sort_dir: sort::DESC.to_owned(),
        removed_ids: vec![],
        est_item_count,
    }
}

/// The number of items created up to `at` and an order-free digest of their ids (the
/// wrapping sum of a hash of each), hex.
fn snapshot<T: Listed>(items: &[T], at: i64) -> (u64, String) {
    let mut n = 0u64;
    let mut sum = 0u64;
    for i in items.iter().filter(|i| i.created_micros() <= at) {
        n += 1;
        let h = Sha256::digest(i.list_id().as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&h[..8]);
        sum = sum.wrapping_add(u64::from_be_bytes(first));
    }
    (n, format!("{sum:016x}"))
}

fn key_digest(list_key: &str) -> String {
    hex::encode(&Sha256::digest(list_key.as_bytes())[..12])
}

/// Microseconds of a resource timestamp, for sort keys.
pub fn micros(t: boundary_wire::api::Timestamp) -> i64 {
    time_format::to_micros(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (created µs, updated µs, id)
    #[derive(Serialize, Debug, PartialEq, Clone)]
    struct Item(i64, i64, String);
    impl Listed for Item {
        fn created_micros(&self) -> i64 {
            self.0
        }
        fn updated_micros(&self) -> i64 {
            self.1
        }
        fn list_id(&self) -> &str {
            &self.2
        }
    }

    const T0: i64 = 1_800_000_000_000_000;
    const MINUTE: i64 = 60_000_000;

    fn items() -> Vec<Item> {
        (0..5)
            .map(|i| Item(T0 + i / 2, T0 + i / 2, format!("x_{i}")))
            .collect()
    }

    fn params_at(at: i64, n: usize, token: Option<String>) -> ListParams {
        ListParams {
            page_size: n,
            list_token: token,
            started_micros: at,
            ..Default::default()
        }
    }

    fn ids(page: &ListResponse<Item>) -> Vec<&str> {
        page.items.iter().map(|i| i.2.as_str()).collect()
    }

    #[test]
    fn pages_walk_every_item_once_newest_first_and_the_last_has_a_token() {
        let mut params = params_at(T0 + MINUTE, 2, None);
        let mut seen = vec![];
        loop {
            let page = paginate(items(), &params, "k").unwrap();
            seen.extend(page.items.iter().map(|i| i.2.clone()));
            assert!(!page.list_token.is_empty());
            assert_eq!(page.sort_by, "created_time");
            if page.response_type == ResponseType::Complete {
                break;
            }
            params.list_token = Some(page.list_token);
        }
        assert_eq!(seen, ["x_4", "x_3", "x_2", "x_1", "x_0"]);
    }

    #[test]
    fn a_refresh_returns_what_was_created_or_updated_since() {
        let first = paginate(items(), &params_at(T0 + MINUTE, 10, None), "k").unwrap();
        assert_eq!(first.response_type, ResponseType::Complete);
        // Nothing changed: nothing listed, a new token.
        let later = T0 + 2 * MINUTE;
        let same = paginate(
            items(),
            &params_at(later, 10, Some(first.list_token.clone())),
            "k",
        )
        .unwrap();
        assert!(same.items.is_empty() && same.removed_ids.is_empty());
        assert_eq!(same.response_type, ResponseType::Complete);
        assert_eq!(same.sort_by, "updated_time");
        // One new, one updated, paged one at a time, most recently updated first.
        let mut now = items();
        now[1].1 = T0 + MINUTE + 5;
        now.push(Item(T0 + MINUTE + 10, T0 + MINUTE + 10, "x_new".into()));
        let p1 = paginate(
            now.clone(),
            &params_at(later, 1, Some(first.list_token.clone())),
            "k",
        )
        .unwrap();
        assert_eq!(
            (ids(&p1), p1.response_type),
            (vec!["x_new"], ResponseType::Delta)
        );
        let p2 = paginate(now.clone(), &params_at(later, 1, Some(p1.list_token)), "k").unwrap();
        assert_eq!(
            (ids(&p2), p2.response_type),
            (vec!["x_1"], ResponseType::Complete)
        );
        // The token of that refresh sees the new item as listed: nothing more.
        let p3 = paginate(
            now.clone(),
            &params_at(later + MINUTE, 5, Some(p2.list_token)),
            "k",
        )
        .unwrap();
        assert!(p3.items.is_empty(), "{:?}", ids(&p3));
        assert_eq!(p3.est_item_count, 6);
    }

    #[test]
    fn a_change_within_the_lookback_is_returned_again() {
        let first = paginate(items(), &params_at(T0 + 10, 10, None), "k").unwrap();
        let again = paginate(
            items(),
            &params_at(T0 + MINUTE, 10, Some(first.list_token)),
            "k",
        )
        .unwrap();
        assert_eq!(again.items.len(), 5);
    }

    #[test]
    fn a_deletion_or_a_late_commit_makes_the_refresh_token_invalid() {
        let first = paginate(items(), &params_at(T0 + MINUTE, 10, None), "k").unwrap();
        let later = T0 + 2 * MINUTE;
        let mut fewer = items();
        fewer.remove(2);
        let e = paginate(
            fewer,
            &params_at(later, 10, Some(first.list_token.clone())),
            "k",
        )
        .unwrap_err();
        assert_eq!(e.body().kind, "invalid list token");
        let mut late = items();
        late.push(Item(T0 + 3, T0 + 3, "x_late".into()));
        let e = paginate(late, &params_at(later, 10, Some(first.list_token)), "k").unwrap_err();
        assert_eq!(e.body().kind, "invalid list token");
    }

    #[test]
    fn bad_tokens_and_params() {
        let e = paginate(items(), &params_at(T0, 2, Some("!!!".into())), "k").unwrap_err();
        assert_eq!(e.body().kind, "invalid list token");
        let first = paginate(items(), &params_at(T0, 2, None), "k").unwrap();
        for (key, at) in [("other", T0), ("k", T0 + 31 * 86_400 * 1_000_000)] {
            let e = paginate(
                items(),
                &params_at(at, 2, Some(first.list_token.clone())),
                key,
            )
            .unwrap_err();
            assert_eq!(e.body().kind, "invalid list token", "{key}");
        }
        assert!(ListParams::from_query(Some("page_size=x")).is_err());
        assert!(ListParams::from_query(Some("page_size=100000")).is_err());
        assert!(ListParams::from_query(Some("recursive=maybe")).is_err());
        let p = ListParams::from_query(Some(
            "scope_id=p_1&recursive=true&auth_method_id=ampw%5F1&x",
        ))
        .unwrap();
        assert_eq!(p.scope_id.as_deref(), Some("p_1"));
        assert!(p.recursive);
        assert_eq!(p.get("auth_method_id"), Some("ampw_1"));
        assert!(p.started_micros > 0);
    }

    #[test]
    fn percent_decoding_never_panics_on_odd_input() {
        for q in ["%", "%4", "%zz", "a=%E2%82", "%%%", "é%41", "a=%41é"] {
            let _ = ListParams::from_query(Some(q));
        }
        assert_eq!(percent_decode("a%41+b"), "aA b");
    }
}
