//! Targets (docs/wire-contract.md §1.7).

use super::{ControllerClient, Result};
use boundary_wire::api::target::{
    CreateTargetRequest, CredentialSourcesRequest, Target, UpdateTargetRequest,
};
use boundary_wire::api::{ListQuery, ListResponse};

impl ControllerClient {
    /// `POST /v1/targets`.
    pub async fn create_target(&self, request: &CreateTargetRequest) -> Result<Target> {
        self.post(&["targets"], request, "targets create").await
    }

    /// `GET /v1/targets/{id}`.
    pub async fn read_target(&self, id: &str) -> Result<Target> {
        self.get(&["targets", id], "targets read").await
    }

    /// `GET /v1/targets?scope_id=…&recursive=…&filter=…`, all pages.
    pub async fn list_targets(&self, query: &ListQuery) -> Result<ListResponse<Target>> {
        self.list_all(&["targets"], query, "targets list").await
    }

    /// `PATCH /v1/targets/{id}`; `request.version` must be the current version.
    pub async fn update_target(&self, id: &str, request: &UpdateTargetRequest) -> Result<Target> {
        self.patch(&["targets", id], request, "targets update")
            .await
    }

    /// `DELETE /v1/targets/{id}`; its aliases keep existing without a destination.
    pub async fn delete_target(&self, id: &str) -> Result<()> {
        self.delete(&["targets", id]).await
    }

    /// `POST /v1/targets/{id}:add-credential-sources` (brokered credentials).
    pub async fn add_target_credential_sources(
        &self,
        id: &str,
        version: u32,
        credential_source_ids: &[String],
    ) -> Result<Target> {
        let body = CredentialSourcesRequest {
            version: Some(version),
            brokered_credential_source_ids: credential_source_ids.to_vec(),
        };
        let action = format!("{id}:add-credential-sources");
        self.post(
            &["targets", &action],
            &body,
            "targets add-credential-sources",
        )
        .await
    }
}
