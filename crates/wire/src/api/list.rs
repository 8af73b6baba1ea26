//! List responses and Boundary's pagination envelope (docs/wire-contract.md §1.3).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResponseType {
    /// More pages follow: call again with the returned `list_token`.
    Delta,
    /// Listing finished; keep the token to ask for changes later.
    Complete,
}

/// Boundary leaves `items` and `removed_ids` out when they are empty, and sends a
/// `list_token` on every page, `complete` ones included (§1.3). Readers accept the
/// fields absent or empty. `est_item_count` is only an estimate: Boundary answers
/// 4294967295 (u32::MAX) on paged and refresh responses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ListResponse<T> {
    #[serde(default = "Vec::new", skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<T>,
    pub response_type: ResponseType,
    #[serde(default)]
    pub list_token: String,
    #[serde(default)]
    pub sort_by: String,
    #[serde(default)]
    pub sort_dir: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed_ids: Vec<String>,
    #[serde(default)]
    pub est_item_count: u64,
}

/// Query parameters common to list endpoints.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ListQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recursive: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
}

pub mod sort {
    pub const CREATED_TIME: &str = "created_time";
    pub const UPDATED_TIME: &str = "updated_time";
    pub const DESC: &str = "desc";
}
