//! One registered token's resolvable aliases (`:list-resolvable-aliases`, docs/wire-contract.md §1.3).
//!
//! Pages are staged and applied only when the listing is `complete`, so a lookup never
//! sees half a listing: during a full reload (first listing, or after `invalid list
//! token`) the previous cache keeps answering until the new one replaces it whole. The
//! list token is kept only once its listing is complete; a refresh that fails half-way
//! starts again from the last complete token.
//!
//! Lookup is one hash-map probe keyed by the normalised value (lower case, no final dot);
//! a name that is already normal is looked up without allocating.

use super::dns_decision::normalized_name;
use super::hashing::FixedHashMap;
use boundary_wire::api::alias::{ResolvableAlias, TARGET_ALIAS_TYPE};
use boundary_wire::api::{ListResponse, ResponseType};
use std::collections::BTreeSet;

/// What an alias resolves to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AliasTarget {
    pub alias_id: String,
    /// The value as the controller lists it (stored case kept).
    pub value: String,
    pub destination_id: String,
}

/// The outcome of one page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageOutcome {
    /// More pages follow: request again with this list token.
    NextPage(String),
    /// The listing is complete and now applied.
    Applied(CacheUpdate),
}

/// What a completed listing changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CacheUpdate {
    /// Normalised values this cache held before and no longer holds.
    pub removed: BTreeSet<String>,
    /// True when the listing replaced the whole cache.
    pub full: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("received an alias page although no listing was requested")]
    Unexpected,
    #[error(
        "the controller sent a 'delta' alias page without a list token, so the listing cannot continue"
    )]
    MissingListToken,
}

#[derive(Debug, Clone, Default)]
pub struct AliasCache {
    /// Normalised value → target.
    by_value: FixedHashMap<String, AliasTarget>,
    /// Alias id → normalised value, to apply `removed_ids` and renames.
    value_of_id: FixedHashMap<String, String>,
    /// Token of the last complete listing.
    list_token: Option<String>,
    fetch: Option<Fetch>,
    completed: bool,
    /// Moves whenever the set of held values may have changed.
    generation: u64,
}

/// A listing in progress.
#[derive(Debug, Clone, Default)]
struct Fetch {
    full: bool,
    items: Vec<ResolvableAlias>,
    removed_ids: Vec<String>,
}

impl AliasCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// The alias `name` names, compared case-insensitively and ignoring a final dot.
    pub fn get(&self, name: &str) -> Option<&AliasTarget> {
        self.by_value.get(normalized_name(name).as_ref())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn len(&self) -> usize {
        self.by_value.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_value.is_empty()
    }

    /// Every normalised value held, in no particular order.
    pub fn values(&self) -> impl Iterator<Item = &str> + '_ {
        self.by_value.keys().map(String::as_str)
    }

    /// A counter that moves whenever the held values may have changed, so a derived view
    /// (the DNS fast path's name set) knows when to rebuild; a refresh that changed
    /// nothing leaves it.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The token of the last complete listing.
    pub fn list_token(&self) -> Option<&str> {
        self.list_token.as_deref()
    }

    /// True once a listing has completed (an empty cache before that means "not known
    /// yet", not "no aliases").
    pub fn has_completed(&self) -> bool {
        self.completed
    }

    pub fn is_fetching(&self) -> bool {
        self.fetch.is_some()
    }

    /// Starts a refresh and returns the list token to send with it (`None`: a full
    /// listing). Anything staged by an unfinished earlier refresh is dropped.
    pub fn begin_refresh(&mut self) -> Option<String> {
        self.fetch = Some(Fetch {
            full: self.list_token.is_none(),
            ..Fetch::default()
        });
        self.list_token.clone()
    }

    /// Forgets the list token and starts a full listing (after `invalid list token`).
    /// The current entries keep answering until that listing completes.
    pub fn begin_full_reload(&mut self) {
        self.list_token = None;
        self.fetch = Some(Fetch {
            full: true,
            ..Fetch::default()
        });
    }

    /// Drops a refresh that failed; the next one starts from the last complete token.
    pub fn abandon_refresh(&mut self) {
        self.fetch = None;
    }

    /// Stages one page; applies the listing when the page says `complete`.
    pub fn apply_page(
        &mut self,
        page: ListResponse<ResolvableAlias>,
    ) -> Result<PageOutcome, PageError> {
        let fetch = self.fetch.as_mut().ok_or(PageError::Unexpected)?;
        fetch.items.extend(page.items);
        fetch.removed_ids.extend(page.removed_ids);
        match page.response_type {
            ResponseType::Delta if page.list_token.is_empty() => {
                self.fetch = None;
                Err(PageError::MissingListToken)
            }
            ResponseType::Delta => Ok(PageOutcome::NextPage(page.list_token)),
            ResponseType::Complete => {
                let fetch = self.fetch.take().unwrap_or_default();
                self.list_token = (!page.list_token.is_empty()).then_some(page.list_token);
                self.completed = true;
                Ok(PageOutcome::Applied(self.apply(fetch)))
            }
        }
    }

    fn apply(&mut self, mut fetch: Fetch) -> CacheUpdate {
        // A refresh that brings nothing (the usual one) keeps the generation: views
        // derived from the values (the DNS fast path's name set) are rebuilt in
        // proportion to the alias count, so they must not be on every refresh.
        let mut changed = fetch.full || !fetch.items.is_empty();
        let mut before = BTreeSet::new();
        if fetch.full {
            before.extend(self.by_value.drain().map(|(value, _)| value));
            self.value_of_id.clear();
        }
        // Oldest change first, so the newest wins when two items claim one value.
        fetch.items.sort_by_key(|item| item.updated_time);
        for item in fetch.items {
            if let Some(old) = self.remove_id(&item.id) {
                before.insert(old);
            }
            let usable = item.kind == TARGET_ALIAS_TYPE
                && item.destination_id.as_ref().is_some_and(|d| !d.is_empty());
            if let (true, Some(destination_id)) = (usable, item.destination_id) {
                self.insert(AliasTarget {
                    alias_id: item.id,
                    value: item.value,
                    destination_id,
                });
            }
        }
        for id in fetch.removed_ids {
            if let Some(old) = self.remove_id(&id) {
                before.insert(old);
                changed = true;
            }
        }
        if changed {
            self.generation += 1;
        }
        before.retain(|value| !self.by_value.contains_key(value));
        CacheUpdate {
            removed: before,
            full: fetch.full,
        }
    }

    fn insert(&mut self, target: AliasTarget) {
        let value = normalized_name(&target.value).into_owned();
        if let Some(previous) = self.by_value.get(&value) {
            self.value_of_id.remove(&previous.alias_id);
        }
        self.value_of_id
            .insert(target.alias_id.clone(), value.clone());
        self.by_value.insert(value, target);
    }

    fn remove_id(&mut self, id: &str) -> Option<String> {
        let value = self.value_of_id.remove(id)?;
        self.by_value.remove(&value);
        Some(value)
    }
}

#[cfg(test)]
#[path = "alias_cache_tests.rs"]
mod tests;
