//! HTTP client for a Boundary controller's REST API (docs/wire-contract.md §1).
//!
//! One [`ControllerClient`] per controller address; it is cheap to clone (the connection
//! pool is shared) and [`ControllerClient::with_token`] gives a copy that acts as another
//! user. Every endpoint method returns the typed resources of [`boundary_wire::api`] or a
//! [`ClientError`]. The client never prints and never logs the token: it is held as a
//! [`Secret`] and sent only as the `Authorization: Bearer` header, which reqwest marks
//! sensitive.
//!
//! List methods follow Boundary's pagination to the end and return every item; only
//! [`ControllerClient::list_resolvable_aliases`] exposes single pages, because the client
//! agent keeps the `list_token` to ask for changes later.

mod aliases;
mod auth;
mod credentials;
mod error;
mod iam;
mod sessions;
mod targets;
mod tls;

pub use error::ClientError;
pub use sessions::SessionTarget;
pub use tls::{CaSource, TlsOptions, build_client_config};

use boundary_wire::api::{ListQuery, ListResponse, ResponseType, Secret};
use reqwest::{Method, RequestBuilder, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// The address `boundary` uses when none is given (`-addr`, `BOUNDARY_ADDR`).
pub const DEFAULT_ADDRESS: &str = "http://127.0.0.1:9200";

/// Connection settings beyond the address.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Sent as `Authorization: Bearer`; `None` makes anonymous requests.
    pub token: Option<Secret>,
    pub tls: TlsOptions,
    /// Bound on establishing the TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Bound on a whole request, answer included.
    pub request_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            token: None,
            tls: TlsOptions::default(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// A client for one controller. See the module docs.
#[derive(Clone)]
pub struct ControllerClient {
    http: reqwest::Client,
    /// The address as the user wrote it (without a trailing `/`), for messages.
    addr: String,
    base: Url,
    token: Option<Secret>,
}

impl std::fmt::Debug for ControllerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControllerClient")
            .field("addr", &self.addr)
            .field("has_token", &self.token.is_some())
            .finish_non_exhaustive()
    }
}

impl ControllerClient {
    /// A client for the controller at `addr` (`http://host:port` or `https://host:port`,
    /// optionally with a path prefix under which `/v1` lives).
    pub fn new(addr: &str, options: ClientOptions) -> Result<Self> {
        let base = parse_address(addr)?;
        let tls = build_client_config(&options.tls)?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("boundary-rs/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Tls(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            http,
            addr: addr.trim_end_matches('/').to_owned(),
            base,
            token: options.token,
        })
    }

    /// The same controller and connection pool, acting with `token` (or anonymously).
    pub fn with_token(&self, token: Option<Secret>) -> Self {
        Self {
            token,
            ..self.clone()
        }
    }

    /// The controller address, as given to [`ControllerClient::new`] minus a trailing `/`.
    pub fn address(&self) -> &str {
        &self.addr
    }

    pub fn token(&self) -> Option<&Secret> {
        self.token.as_ref()
    }

    /// `{base}/v1/{segments...}`, each segment percent-encoded (so an id can never add
    /// path components).
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push("v1").extend(segments);
        }
        url
    }

    fn request(&self, method: Method, segments: &[&str]) -> RequestBuilder {
        let req = self.http.request(method, self.url(segments));
        match &self.token {
            Some(token) => req.bearer_auth(token.expose()),
            None => req,
        }
    }

    /// Sends and decodes a 2xx JSON answer; maps error statuses to [`ClientError::Api`].
    async fn send<T: DeserializeOwned>(
        &self,
        req: RequestBuilder,
        what: &'static str,
    ) -> Result<T> {
        let body = self.send_raw(req).await?;
        serde_json::from_slice(&body).map_err(|source| ClientError::Decode {
            what,
            addr: self.addr.clone(),
            source,
        })
    }

    /// Sends and ignores the body of a 2xx answer (DELETE's 204).
    async fn send_no_content(&self, req: RequestBuilder) -> Result<()> {
        self.send_raw(req).await.map(drop)
    }

    async fn send_raw(&self, req: RequestBuilder) -> Result<bytes::Bytes> {
        let response = req.send().await.map_err(|e| self.transport(e))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| self.transport(e))?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(error::api_error(status.as_u16(), &body))
        }
    }

    fn transport(&self, source: reqwest::Error) -> ClientError {
        ClientError::Transport {
            addr: self.addr.clone(),
            source: source.without_url(),
        }
    }

    async fn get<T: DeserializeOwned>(&self, segments: &[&str], what: &'static str) -> Result<T> {
        self.send(self.request(Method::GET, segments), what).await
    }

    async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &B,
        what: &'static str,
    ) -> Result<T> {
        self.send(self.request(Method::POST, segments).json(body), what)
            .await
    }

    async fn patch<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &B,
        what: &'static str,
    ) -> Result<T> {
        self.send(self.request(Method::PATCH, segments).json(body), what)
            .await
    }

    async fn delete(&self, segments: &[&str]) -> Result<()> {
        self.send_no_content(self.request(Method::DELETE, segments))
            .await
    }

    /// One page of a list endpoint, tolerating controllers that omit the pagination
    /// fields (older Boundary versions, unpaginated collections): no `response_type`
    /// means the list is complete.
    async fn list_page<T: DeserializeOwned, Q: Serialize + ?Sized>(
        &self,
        segments: &[&str],
        query: &Q,
        list_token: Option<&str>,
        what: &'static str,
    ) -> Result<ListResponse<T>> {
        let mut req = self.request(Method::GET, segments).query(query);
        if let Some(token) = list_token {
            req = req.query(&[("list_token", token)]);
        }
        let page: Page<T> = self.send(req, what).await?;
        Ok(page.into())
    }

    /// Every page of a list endpoint, concatenated: while the controller answers `delta`,
    /// ask again with its `list_token`. The result holds the items and `removed_ids` of
    /// all pages, the last page's token and `response_type: complete`.
    async fn list_to_end<T: DeserializeOwned, Q: Serialize + ?Sized>(
        &self,
        segments: &[&str],
        query: &Q,
        first_token: Option<&str>,
        what: &'static str,
    ) -> Result<ListResponse<T>> {
        let mut all = self
            .list_page::<T, Q>(segments, query, first_token, what)
            .await?;
        while all.response_type == ResponseType::Delta {
            if all.list_token.is_empty() {
                return Err(ClientError::Pagination {
                    what,
                    addr: self.addr.clone(),
                    reason: "the controller said more pages follow but sent no list_token".into(),
                });
            }
            let token = all.list_token.clone();
            let page = self
                .list_page::<T, Q>(segments, query, Some(&token), what)
                .await?;
            merge_page(&mut all, page);
        }
        Ok(all)
    }

    /// [`Self::list_to_end`] for the common scope/filter query; a `list_token` in it
    /// applies to the first page.
    async fn list_all<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &ListQuery,
        what: &'static str,
    ) -> Result<ListResponse<T>> {
        let mut query = query.clone();
        let first_token = query.list_token.take();
        self.list_to_end(segments, &query, first_token.as_deref(), what)
            .await
    }
}

/// Appends a following page to what was gathered so far.
fn merge_page<T>(all: &mut ListResponse<T>, page: ListResponse<T>) {
    all.items.extend(page.items);
    all.removed_ids.extend(page.removed_ids);
    all.response_type = page.response_type;
    all.list_token = page.list_token;
    all.sort_by = page.sort_by;
    all.sort_dir = page.sort_dir;
    all.est_item_count = page.est_item_count;
}

/// A list answer as it may arrive: every pagination field optional.
#[derive(serde::Deserialize)]
struct Page<T> {
    #[serde(default = "Vec::new")]
    items: Vec<T>,
    #[serde(default)]
    response_type: Option<ResponseType>,
    #[serde(default)]
    list_token: String,
    #[serde(default)]
    sort_by: String,
    #[serde(default)]
    sort_dir: String,
    #[serde(default)]
    removed_ids: Vec<String>,
    #[serde(default)]
    est_item_count: u64,
}

impl<T> From<Page<T>> for ListResponse<T> {
    fn from(p: Page<T>) -> Self {
        ListResponse {
            items: p.items,
            response_type: p.response_type.unwrap_or(ResponseType::Complete),
            list_token: p.list_token,
            sort_by: p.sort_by,
            sort_dir: p.sort_dir,
            removed_ids: p.removed_ids,
            est_item_count: p.est_item_count,
        }
    }
}

fn parse_address(addr: &str) -> Result<Url> {
    let invalid = |reason: &str| ClientError::InvalidAddress {
        addr: addr.to_owned(),
        reason: reason.to_owned(),
    };
    let url = Url::parse(addr.trim()).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http:// or https://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have a query or fragment"));
    }
    if url.cannot_be_a_base() {
        return Err(invalid("not a base URL"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(addr: &str) -> ControllerClient {
        ControllerClient::new(addr, ClientOptions::default()).unwrap()
    }

    #[test]
    fn urls_are_built_under_v1_with_encoded_segments() {
        let c = client("http://127.0.0.1:9200/");
        assert_eq!(
            c.url(&["targets", "ttcp_1234567890:authorize-session"])
                .as_str(),
            "http://127.0.0.1:9200/v1/targets/ttcp_1234567890:authorize-session"
        );
        assert_eq!(
            c.url(&["targets", "../scopes"]).as_str(),
            "http://127.0.0.1:9200/v1/targets/..%2Fscopes"
        );
        assert_eq!(
            c.url(&["targets", "my target:authorize-session"]).as_str(),
            "http://127.0.0.1:9200/v1/targets/my%20target:authorize-session"
        );
        let c = client("https://ctl.example/boundary");
        assert_eq!(
            c.url(&["aliases"]).as_str(),
            "https://ctl.example/boundary/v1/aliases"
        );
        assert_eq!(c.address(), "https://ctl.example/boundary");
    }

    #[test]
    fn bad_addresses_are_rejected_with_the_reason() {
        for bad in ["127.0.0.1:9200", "ftp://x", "http://", "http://x/?a=b", ""] {
            let err = ControllerClient::new(bad, ClientOptions::default()).unwrap_err();
            assert!(
                matches!(err, ClientError::InvalidAddress { .. }),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn debug_never_shows_the_token() {
        let c = client("http://127.0.0.1:9200").with_token(Some(Secret::new("at_x_s1SECRET")));
        assert!(!format!("{c:?}").contains("SECRET"));
        assert!(c.token().is_some());
    }

    #[test]
    fn pages_without_pagination_fields_are_complete() {
        let p: Page<serde_json::Value> = serde_json::from_str("{}").unwrap();
        let l: ListResponse<serde_json::Value> = p.into();
        assert_eq!(l.response_type, ResponseType::Complete);
        assert!(l.items.is_empty());
    }

    #[test]
    fn merged_pages_keep_every_item_and_the_last_token() {
        let page = |items: Vec<u32>, rt, token: &str, removed: Vec<&str>| ListResponse {
            items,
            response_type: rt,
            list_token: token.into(),
            sort_by: "created_time".into(),
            sort_dir: "desc".into(),
            removed_ids: removed.into_iter().map(String::from).collect(),
            est_item_count: 3,
        };
        let mut all = page(vec![1, 2], ResponseType::Delta, "t1", vec!["a"]);
        merge_page(
            &mut all,
            page(vec![3], ResponseType::Complete, "t2", vec!["b"]),
        );
        assert_eq!(all.items, [1, 2, 3]);
        assert_eq!(all.removed_ids, ["a", "b"]);
        assert_eq!(all.list_token, "t2");
        assert_eq!(all.response_type, ResponseType::Complete);
    }
}
