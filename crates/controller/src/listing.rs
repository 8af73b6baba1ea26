//! List endpoints: query parameters, opaque list tokens, and Boundary's envelope (§1.3).
//!
//! Ordinary lists page by `created_time` descending (then id). Their `delta` pages carry a
//! token naming the last item seen; the `complete` page carries no token, since these
//! collections keep no change log to refresh from (the client lists again). The
//! resolvable-alias list has real refresh tokens (see `routes::resolvable_aliases`).
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
    others: HashMap<String, String>,
}

impl ListParams {
    pub fn from_query(query: Option<&str>) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = url_decode_pairs(query.unwrap_or(""));
        let mut p = ListParams {
            page_size: DEFAULT_PAGE_SIZE,
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

/// The next-page token of an ordinary list.
#[derive(Serialize, serde::Deserialize)]
struct PageToken {
    /// Which list (collection and scope) the token belongs to.
    list: String,
    /// Sort key of the last item returned.
    created: i64,
    id: String,
}

/// Something an ordinary list returns: sortable by creation.
pub trait Listed {
    fn created_micros(&self) -> i64;
    fn list_id(&self) -> &str;
}

/// Every resource of an ordinary list sorts by its `created_time`, then its `id`.
macro_rules! listed_by_creation {
    ($($resource:ty),* $(,)?) => {$(
        impl Listed for $resource {
            fn created_micros(&self) -> i64 {
                micros(self.created_time)
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
    AuthMethod,
    AuthToken,
    Credential,
    CredentialStore,
    Role,
    Scope,
    Session,
    Target,
    User,
);

/// Pages `items` (any order) for the list identified by `list_key` (for example
/// `"targets:p_1234567890:false"`): sorted by creation descending, `page_size` per page.
pub fn paginate<T: Listed + Serialize>(
    mut items: Vec<T>,
    params: &ListParams,
    list_key: &str,
) -> Result<ListResponse<T>, ApiError> {
    items.sort_by(|a, b| (b.created_micros(), b.list_id()).cmp(&(a.created_micros(), a.list_id())));
    let est_item_count = items.len() as u64;
    if let Some(token) = &params.list_token {
        let t: PageToken = decode_token(token)?;
        if t.list != list_key {
            return Err(ApiError::invalid_list_token(
                "The list token belongs to another list.",
            ));
        }
        items.retain(|i| (i.created_micros(), i.list_id()) < (t.created, t.id.as_str()));
    }
    let more = items.len() > params.page_size;
    items.truncate(params.page_size);
    let list_token = match (more, items.last()) {
        (true, Some(last)) => encode_token(&PageToken {
            list: list_key.to_owned(),
            created: last.created_micros(),
            id: last.list_id().to_owned(),
        }),
        _ => String::new(),
    };
    Ok(ListResponse {
        items,
        response_type: if more {
            ResponseType::Delta
        } else {
            ResponseType::Complete
        },
        list_token,
        sort_by: sort::CREATED_TIME.to_owned(),
        sort_dir: sort::DESC.to_owned(),
        removed_ids: vec![],
        est_item_count,
    })
}

/// Microseconds of a resource timestamp, for sort keys.
pub fn micros(t: boundary_wire::api::Timestamp) -> i64 {
    time_format::to_micros(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Debug, PartialEq)]
    struct Item(i64, String);
    impl Listed for Item {
        fn created_micros(&self) -> i64 {
            self.0
        }
        fn list_id(&self) -> &str {
            &self.1
        }
    }

    fn items() -> Vec<Item> {
        (0..5).map(|i| Item(i / 2, format!("x_{i}"))).collect()
    }

    #[test]
    fn pages_walk_every_item_once_newest_first() {
        let mut params = ListParams::from_query(Some("page_size=2")).unwrap();
        let mut seen = vec![];
        loop {
            let page = paginate(items(), &params, "k").unwrap();
            seen.extend(page.items.iter().map(|i| i.1.clone()));
            if page.response_type == ResponseType::Complete {
                assert!(page.list_token.is_empty());
                break;
            }
            params.list_token = Some(page.list_token);
        }
        assert_eq!(seen, ["x_4", "x_3", "x_2", "x_1", "x_0"]);
    }

    #[test]
    fn bad_tokens_and_params() {
        let mut params = params_with(2, Some("!!!".into()));
        assert_eq!(
            paginate(items(), &params, "k").unwrap_err().body().kind,
            "invalid list token"
        );
        let first = paginate(items(), &params_with(2, None), "k").unwrap();
        params.list_token = Some(first.list_token);
        assert_eq!(
            paginate(items(), &params, "other").unwrap_err().body().kind,
            "invalid list token"
        );
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
    }

    fn params_with(n: usize, token: Option<String>) -> ListParams {
        ListParams {
            page_size: n,
            list_token: token,
            ..Default::default()
        }
    }

    #[test]
    fn percent_decoding_never_panics_on_odd_input() {
        for q in ["%", "%4", "%zz", "a=%E2%82", "%%%", "é%41", "a=%41é"] {
            let _ = ListParams::from_query(Some(q));
        }
        assert_eq!(percent_decode("a%41+b"), "aA b");
    }
}
