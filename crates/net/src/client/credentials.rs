//! Static credential stores and their credentials (docs/wire-contract.md §1.8), brokered into
//! sessions once attached to a target with
//! [`ControllerClient::add_target_credential_sources`].

use super::{ControllerClient, Result};
use boundary_wire::api::credential::{
    CreateCredentialRequest, CreateCredentialStoreRequest, Credential, CredentialStore,
};
use boundary_wire::api::{ListQuery, ListResponse};

impl ControllerClient {
    /// `POST /v1/credential-stores` (type `static`, in a project).
    pub async fn create_credential_store(
        &self,
        request: &CreateCredentialStoreRequest,
    ) -> Result<CredentialStore> {
        self.post(&["credential-stores"], request, "credential-stores create")
            .await
    }

    /// `GET /v1/credential-stores?scope_id=…`, all pages.
    pub async fn list_credential_stores(
        &self,
        query: &ListQuery,
    ) -> Result<ListResponse<CredentialStore>> {
        self.list_all(&["credential-stores"], query, "credential-stores list")
            .await
    }

    /// `POST /v1/credentials`; the secret attributes are write-only.
    pub async fn create_credential(&self, request: &CreateCredentialRequest) -> Result<Credential> {
        self.post(&["credentials"], request, "credentials create")
            .await
    }

    /// `GET /v1/credentials?credential_store_id=…`, all pages.
    pub async fn list_credentials(
        &self,
        credential_store_id: &str,
    ) -> Result<ListResponse<Credential>> {
        let query = CredentialsQuery {
            credential_store_id: credential_store_id.to_owned(),
        };
        self.list_to_end(&["credentials"], &query, None, "credentials list")
            .await
    }
}

#[derive(serde::Serialize)]
struct CredentialsQuery {
    credential_store_id: String,
}
