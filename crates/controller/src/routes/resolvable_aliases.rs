//! `GET /v1/users/{id}:list-resolvable-aliases` (docs/wire-contract.md §1.3).
//!
//! An alias is listed when the *path user* holds at least one action on its destination
//! target. Paging and refresh are built on the store's alias change counter:
//! - the first listing reads the counter (high-water mark) and pages every accessible
//!   alias by `created_time` desc, each page a keyset read of the store after the last
//!   item of the one before (so a listing of N aliases costs O(N), not O(N²)); its last
//!   page is `complete` and carries a refresh token;
//! - a refresh returns aliases changed after the mark (by `updated_time` desc), and in
//!   `removed_ids` the ones deleted since and the changed ones that are no longer
//!   accessible (destination cleared, or a target the user cannot reach); large refreshes
//!   page too, over the changes up to the mark they started at.
//!
//! A token is invalid for another user, after any change to the roles that apply to the
//! user (the grants fingerprint), or 30 days after the first listing: 400
//! `invalid list token`, and the client lists again from scratch.

use crate::authz::Authz;
use crate::error::{ApiError, ApiResult};
use crate::grants::{Acl, Resource};
use crate::listing::{ListParams, decode_token, encode_token};
use crate::store::{AliasRecord, StoreError, UserRecord};
use boundary_wire::api::alias::{ResolvableAlias, TARGET_ALIAS_TYPE};
use boundary_wire::api::list::{ResponseType, sort};
use boundary_wire::api::{ListResponse, time_format};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A list token lives this long after the first listing.
const TOKEN_LIFETIME: time::Duration = time::Duration::days(30);
/// Above this many distinct destinations, all targets are loaded in one query.
const BULK_TARGET_LOAD: usize = 32;
/// The fewest aliases read from the store at once while filling a page (a user who may
/// list few of many aliases would otherwise cost a query per few rows).
const MIN_STORE_PAGE: usize = 100;

#[derive(Serialize, Deserialize)]
struct AliasListToken {
    /// The path user.
    user: String,
    /// Grants fingerprint of the path user when the listing started.
    grants: String,
    /// Unix seconds of the first listing.
    created: i64,
    phase: Phase,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "p")]
enum Phase {
    /// First listing, after the item sorted at (`created`, `id`).
    Page {
        hw: i64,
        c: i64,
        id: String,
        est: u64,
    },
    /// Listing complete: next call returns changes after `hw`.
    Refresh { hw: i64, est: u64 },
    /// Refresh of changes in (`since`, `upto`], after the item sorted at (`u`, `id`).
    RefreshPage {
        since: i64,
        upto: i64,
        u: i64,
        id: String,
        est: u64,
    },
}

pub async fn list(
    authz: &mut Authz,
    user: &UserRecord,
    params: &ListParams,
) -> ApiResult<ListResponse<ResolvableAlias>> {
    authz
        .check("list-resolvable-aliases", super::users::res(user))
        .await?;
    params.reject_filter()?;
    let acl = authz.acl_for_user(&user.id);
    let fingerprint = acl.fingerprint();
    let now = time_format::now();
    let token = match &params.list_token {
        None => None,
        Some(t) => {
            let t: AliasListToken = decode_token(t)?;
            check_token(&t, &user.id, &fingerprint, now.unix_timestamp())?;
            Some(t)
        }
    };
    let created = token.as_ref().map_or(now.unix_timestamp(), |t| t.created);
    let store = authz.state.store.clone();
    let mut access = Access::new(acl);
    let page_size = params.page_size;

    let (phase_out, items, removed, est, sort_by) = match token.map(|t| t.phase) {
        None => {
            let start = store.alias_listing_start().await?;
            let items = access.page_after(authz, None, page_size).await?;
            // One page holds them all: the count is exact. Otherwise counting what the
            // user may list would read every alias; the aliases with a destination bound
            // it (`est_item_count` is an estimate, as in Boundary).
            let est = if items.len() <= page_size {
                items.len() as u64
            } else {
                start.with_destination
            };
            page_created(items, page_size, start.high_water, est)
        }
        Some(Phase::Page { hw, c, id, est }) => {
            let items = access.page_after(authz, Some((c, id)), page_size).await?;
            page_created(items, page_size, hw, est)
        }
        Some(Phase::Refresh { hw, est }) => {
            let changes = store.alias_changes_since(hw).await?;
            let upto = changes.high_water;
            let (mut items, mut removed) = access.split(authz, changes.changed).await?;
            removed.extend(changes.deleted_ids);
            sort_updated(&mut items);
            let est = (est + items.len() as u64).saturating_sub(removed.len() as u64);
            let (phase, items) = page_updated(items, page_size, hw, upto, est);
            (phase, items, removed, est, sort::UPDATED_TIME)
        }
        Some(Phase::RefreshPage {
            since,
            upto,
            u,
            id,
            est,
        }) => {
            let changes = store.alias_changes_since(since).await?;
            let changed = changes
                .changed
                .into_iter()
                .filter(|a| a.change_seq <= upto)
                .collect();
            let (mut items, _) = access.split(authz, changed).await?;
            items.retain(|a| (micros(a.updated), a.id.as_str()) < (u, id.as_str()));
            sort_updated(&mut items);
            let (phase, items) = page_updated(items, page_size, since, upto, est);
            (phase, items, vec![], est, sort::UPDATED_TIME)
        }
    };
    let response_type = match phase_out {
        Phase::Refresh { .. } => ResponseType::Complete,
        _ => ResponseType::Delta,
    };
    let list_token = encode_token(&AliasListToken {
        user: user.id.clone(),
        grants: fingerprint,
        created,
        phase: phase_out,
    });
    Ok(ListResponse {
        items: items.into_iter().map(resolvable).collect(),
        response_type,
        list_token,
        sort_by: sort_by.to_owned(),
        sort_dir: sort::DESC.to_owned(),
        removed_ids: removed,
        est_item_count: est,
    })
}

/// A token is good for its user, while the user's grants are unchanged, for 30 days.
fn check_token(
    t: &AliasListToken,
    user_id: &str,
    fingerprint: &str,
    now_unix: i64,
) -> ApiResult<()> {
    if t.user != user_id {
        return Err(ApiError::invalid_list_token(
            "The list token belongs to another user.",
        ));
    }
    if t.grants != fingerprint {
        return Err(ApiError::invalid_list_token(
            "The user's grants changed since the list token was issued.",
        ));
    }
    if now_unix - t.created > TOKEN_LIFETIME.whole_seconds() || t.created > now_unix + 60 {
        return Err(ApiError::invalid_list_token("The list token has expired."));
    }
    Ok(())
}

type Outcome = (Phase, Vec<AliasRecord>, Vec<String>, u64, &'static str);

fn page_created(mut items: Vec<AliasRecord>, n: usize, hw: i64, est: u64) -> Outcome {
    let more = items.len() > n;
    items.truncate(n);
    let phase = match (more, items.last()) {
        (true, Some(last)) => Phase::Page {
            hw,
            c: micros(last.created),
            id: last.id.clone(),
            est,
        },
        _ => Phase::Refresh { hw, est },
    };
    (phase, items, vec![], est, sort::CREATED_TIME)
}

fn page_updated(
    mut items: Vec<AliasRecord>,
    n: usize,
    since: i64,
    upto: i64,
    est: u64,
) -> (Phase, Vec<AliasRecord>) {
    let more = items.len() > n;
    items.truncate(n);
    let phase = match (more, items.last()) {
        (true, Some(last)) => Phase::RefreshPage {
            since,
            upto,
            u: micros(last.updated),
            id: last.id.clone(),
            est,
        },
        _ => Phase::Refresh { hw: upto, est },
    };
    (phase, items)
}

fn sort_updated(items: &mut [AliasRecord]) {
    items.sort_by(|a, b| (micros(b.updated), &b.id).cmp(&(micros(a.updated), &a.id)));
}

fn micros(t: boundary_wire::api::Timestamp) -> i64 {
    time_format::to_micros(t)
}

fn resolvable(a: AliasRecord) -> ResolvableAlias {
    ResolvableAlias {
        id: a.id,
        created_time: a.created,
        updated_time: a.updated,
        value: a.value,
        destination_id: a.destination_id,
        kind: TARGET_ALIAS_TYPE.to_owned(),
    }
}

/// Decides, with caches, whether the path user may reach an alias's destination.
struct Access {
    acl: Acl,
    /// Target id → its project, or `None` when the target does not exist.
    targets: HashMap<String, Option<String>>,
    /// Target id → whether the user may list aliases to it (many aliases share a target:
    /// the ACL is asked once per target and request).
    decided: HashMap<String, bool>,
}

impl Access {
    fn new(acl: Acl) -> Self {
        Self {
            acl,
            targets: HashMap::new(),
            decided: HashMap::new(),
        }
    }

    /// The accessible aliases after `cursor` in listing order, at least `n + 1` unless
    /// the store has no more (so the caller knows whether another page follows). Reads
    /// keyset pages of the store until it has them: a page costs its own size (plus
    /// the aliases the user may not list in between), never the whole table.
    async fn page_after(
        &mut self,
        authz: &mut Authz,
        cursor: Option<(i64, String)>,
        n: usize,
    ) -> ApiResult<Vec<AliasRecord>> {
        let store = authz.state.store.clone();
        let mut cursor = cursor;
        let mut out: Vec<AliasRecord> = Vec::new();
        loop {
            let limit = (n + 1 - out.len()).max(MIN_STORE_PAGE);
            let after = cursor.as_ref().map(|(c, id)| (*c, id.as_str()));
            let batch = store.aliases_page(after, limit).await?;
            let exhausted = batch.len() < limit;
            if let Some(last) = batch.last() {
                cursor = Some((micros(last.created), last.id.clone()));
            }
            out.extend(self.split(authz, batch).await?.0);
            if exhausted || out.len() > n {
                return Ok(out);
            }
        }
    }

    /// (accessible aliases, ids of the others).
    async fn split(
        &mut self,
        authz: &mut Authz,
        aliases: Vec<AliasRecord>,
    ) -> ApiResult<(Vec<AliasRecord>, Vec<String>)> {
        self.load_targets(authz, &aliases).await?;
        let (mut yes, mut no) = (vec![], vec![]);
        for a in aliases {
            if self.accessible(authz, &a).await? {
                yes.push(a);
            } else {
                no.push(a.id);
            }
        }
        Ok((yes, no))
    }

    async fn accessible(&mut self, authz: &mut Authz, a: &AliasRecord) -> ApiResult<bool> {
        let Some(dest) = &a.destination_id else {
            return Ok(false);
        };
        if let Some(&known) = self.decided.get(dest) {
            return Ok(known);
        }
        let Some(Some(scope_id)) = self.targets.get(dest).cloned() else {
            return Ok(false);
        };
        let path = authz.scope_path(&scope_id).await?;
        let allowed = self.acl.has_any_id_action(&Resource {
            kind: "target",
            id: Some(dest),
            parent_id: None,
            owner: None,
            scope: &path,
        });
        self.decided.insert(dest.clone(), allowed);
        Ok(allowed)
    }

    async fn load_targets(&mut self, authz: &Authz, aliases: &[AliasRecord]) -> ApiResult<()> {
        let mut wanted: Vec<&str> = aliases
            .iter()
            .filter_map(|a| a.destination_id.as_deref())
            .filter(|d| !self.targets.contains_key(*d))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let store = &authz.state.store;
        if wanted.len() > BULK_TARGET_LOAD {
            for t in store.list_targets(None).await? {
                self.targets.insert(t.id, Some(t.scope_id));
            }
            for d in wanted {
                self.targets.entry(d.to_owned()).or_insert(None);
            }
            return Ok(());
        }
        for d in wanted {
            let scope = match store.get_target(d).await {
                Ok(t) => Some(t.scope_id),
                Err(StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            };
            self.targets.insert(d.to_owned(), scope);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(created: i64) -> AliasListToken {
        AliasListToken {
            user: "u_1234567890".into(),
            grants: "fp".into(),
            created,
            phase: Phase::Refresh { hw: 3, est: 1 },
        }
    }

    #[test]
    fn tokens_are_bound_to_user_grants_and_age() {
        let now = 1_800_000_000;
        assert!(check_token(&token(now - 10), "u_1234567890", "fp", now).is_ok());
        assert!(check_token(&token(now - 29 * 86400), "u_1234567890", "fp", now).is_ok());
        for (t, user, fp) in [
            (token(now), "u_other00000", "fp"),
            (token(now), "u_1234567890", "changed"),
            (token(now - 31 * 86400), "u_1234567890", "fp"),
            (token(now + 3600), "u_1234567890", "fp"),
        ] {
            let e = check_token(&t, user, fp, now).unwrap_err();
            assert_eq!(e.body().kind, "invalid list token");
        }
    }

    #[test]
    fn tokens_round_trip_through_the_codec() {
        let encoded = encode_token(&token(5));
        let back: AliasListToken = decode_token(&encoded).unwrap();
        assert_eq!(back.created, 5);
        assert!(matches!(back.phase, Phase::Refresh { hw: 3, est: 1 }));
    }
}
