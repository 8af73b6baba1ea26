//! Aliases and the per-user resolvable-alias listing (docs/wire-contract.md §1.3, §1.4).

use super::{ControllerClient, Result};
use boundary_wire::api::alias::{Alias, CreateAliasRequest, ResolvableAlias, UpdateAliasRequest};
use boundary_wire::api::{ListQuery, ListResponse};

impl ControllerClient {
    /// `POST /v1/aliases`.
    pub async fn create_alias(&self, request: &CreateAliasRequest) -> Result<Alias> {
        self.post(&["aliases"], request, "aliases create").await
    }

    /// `GET /v1/aliases/{id}`.
    pub async fn read_alias(&self, id: &str) -> Result<Alias> {
        self.get(&["aliases", id], "aliases read").await
    }

    /// `GET /v1/aliases?scope_id=global…`, all pages.
    pub async fn list_aliases(&self, query: &ListQuery) -> Result<ListResponse<Alias>> {
        self.list_all(&["aliases"], query, "aliases list").await
    }

    /// `PATCH /v1/aliases/{id}`; `request.version` must be the current version.
    pub async fn update_alias(&self, id: &str, request: &UpdateAliasRequest) -> Result<Alias> {
        self.patch(&["aliases", id], request, "aliases update")
            .await
    }

    /// `DELETE /v1/aliases/{id}`.
    pub async fn delete_alias(&self, id: &str) -> Result<()> {
        self.delete(&["aliases", id]).await
    }

    /// One page of `GET /v1/users/{user_id}:list-resolvable-aliases`.
    ///
    /// Without `list_token` this starts a full listing; with the token of a `complete`
    /// answer it returns only what changed since (items plus `removed_ids`). A stale token
    /// fails with [`super::ClientError::is_invalid_list_token`]: start again without one.
    pub async fn list_resolvable_aliases(
        &self,
        user_id: &str,
        list_token: Option<&str>,
        page_size: Option<u32>,
    ) -> Result<ListResponse<ResolvableAlias>> {
        let action = format!("{user_id}:list-resolvable-aliases");
        self.list_page(
            &["users", &action],
            &PageSize { page_size },
            list_token,
            "list-resolvable-aliases",
        )
        .await
    }

    /// [`ControllerClient::list_resolvable_aliases`] followed through every `delta` page:
    /// the items and `removed_ids` of all pages, and the final page's `list_token` (keep it
    /// for the next incremental refresh).
    pub async fn list_resolvable_aliases_to_end(
        &self,
        user_id: &str,
        list_token: Option<&str>,
        page_size: Option<u32>,
    ) -> Result<ListResponse<ResolvableAlias>> {
        let action = format!("{user_id}:list-resolvable-aliases");
        self.list_to_end(
            &["users", &action],
            &PageSize { page_size },
            list_token,
            "list-resolvable-aliases",
        )
        .await
    }
}

#[derive(serde::Serialize)]
struct PageSize {
    #[serde(skip_serializing_if = "Option::is_none")]
    page_size: Option<u32>,
}
