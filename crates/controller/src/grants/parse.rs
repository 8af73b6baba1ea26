//! Grant strings as Boundary writes them: `ids=*;type=target;actions=authorize-session`.
//!
//! Segments are `key=value` joined by `;` in any order. Keys: `ids` (comma list; `*` alone
//! means every id), `id` (older single-id form), `type`, `actions` (comma list),
//! `output_fields` (accepted and ignored: we always return every field). A string starting
//! with `{` is the JSON form `{"ids":[..],"type":"..","actions":[..]}`.
//!
//! Rules, as Boundary enforces them:
//! - `ids=*` needs a `type` (which may be `*`);
//! - a grant without ids names a type and only grants the collection actions `list`/`create`;
//! - ids may be the templates `{{.User.Id}}` / `{{.Account.Id}}` (spaces inside the braces
//!   allowed), which stand for the caller's user or account;
//! - every type and action must be one Boundary knows.

use serde::Deserialize;

/// A parsed grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub ids: GrantIds,
    /// `None` when the grant names no type (specific ids imply theirs); `Some("*")` for all.
    pub kind: Option<String>,
    /// As written; `*` means every action. `read:self` style entries keep their suffix.
    pub actions: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GrantIds {
    /// No `ids`: a type-only grant for collection actions.
    None,
    /// `ids=*`.
    Any,
    Some(Vec<IdPattern>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdPattern {
    Literal(String),
    /// `{{.User.Id}}`: the caller's user id.
    UserId,
    /// `{{.Account.Id}}`: the caller's account id.
    AccountId,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    #[error("grant string is empty")]
    Empty,
    #[error("segment {0:?} is not of the form key=value")]
    BadSegment(String),
    #[error("segment key {0:?} is not one of ids, id, type, actions, output_fields")]
    UnknownKey(String),
    #[error("segment {0:?} appears more than once")]
    DuplicateKey(String),
    #[error("a grant cannot have both id and ids")]
    IdAndIds,
    #[error("ids contains an empty entry")]
    EmptyId,
    #[error("'*' must be the only entry of ids")]
    WildcardNotAlone,
    #[error("unknown template {0:?}; only {{{{.User.Id}}}} and {{{{.Account.Id}}}} exist")]
    UnknownTemplate(String),
    #[error("unknown resource type {0:?}")]
    UnknownType(String),
    #[error("unknown action {0:?}")]
    UnknownAction(String),
    #[error("actions contains an empty entry")]
    EmptyAction,
    #[error("the grant authorizes no action (add actions=...)")]
    NoActions,
    #[error("ids=* needs a type (use type=* for every type)")]
    WildcardIdWithoutType,
    #[error("a grant needs ids or a type")]
    NoIdsOrType,
    #[error("a grant without ids can only grant list and create, not {0:?}")]
    NonCollectionActionWithoutIds(String),
    #[error("grant JSON is not valid: {0}")]
    Json(String),
}

/// Resource types Boundary knows (grants naming others are rejected).
pub const RESOURCE_TYPES: &[&str] = &[
    "*",
    "scope",
    "user",
    "group",
    "role",
    "auth-method",
    "account",
    "auth-token",
    "target",
    "session",
    "alias",
    "credential-store",
    "credential-library",
    "credential",
    "host-catalog",
    "host-set",
    "host",
    "managed-group",
    "worker",
    "storage-bucket",
    "policy",
    "session-recording",
    "billing",
];

/// Actions Boundary knows. `:self` variants only match the caller's own resources.
pub const ACTIONS: &[&str] = &[
    "*",
    "no-op",
    "read",
    "update",
    "delete",
    "list",
    "create",
    "read:self",
    "delete:self",
    "cancel:self",
    "authenticate",
    "authorize-session",
    "cancel",
    "change-password",
    "set-password",
    "add-accounts",
    "set-accounts",
    "remove-accounts",
    "add-members",
    "set-members",
    "remove-members",
    "add-principals",
    "set-principals",
    "remove-principals",
    "add-grants",
    "set-grants",
    "remove-grants",
    "add-grant-scopes",
    "set-grant-scopes",
    "remove-grant-scopes",
    "add-host-sources",
    "set-host-sources",
    "remove-host-sources",
    "add-credential-sources",
    "set-credential-sources",
    "remove-credential-sources",
    "add-hosts",
    "set-hosts",
    "remove-hosts",
    "list-resolvable-aliases",
    "list-keys",
    "rotate-keys",
    "list-key-version-destruction-jobs",
    "destroy-key-version",
    "attach-storage-policy",
    "detach-storage-policy",
    "reapply-storage-policy",
    "download",
    "add-worker-tags",
    "set-worker-tags",
    "remove-worker-tags",
    "create:controller-led",
    "create:worker-led",
    "read-certificate-authority",
    "reinitialize-certificate-authority",
];

/// Actions that act on a collection rather than one resource.
pub const COLLECTION_ACTIONS: &[&str] = &["list", "create"];

/// Parses and validates one grant string.
pub fn parse_grant(raw: &str) -> Result<Grant, GrantError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(GrantError::Empty);
    }
    let segments = if raw.starts_with('{') {
        json_segments(raw)?
    } else {
        text_segments(raw)?
    };
    build(segments)
}

impl Grant {
    /// Boundary's canonical text form: `ids=...;type=...;actions=...`.
    pub fn canonical(&self) -> String {
        let mut parts = vec![];
        match &self.ids {
            GrantIds::None => {}
            GrantIds::Any => parts.push("ids=*".to_owned()),
            GrantIds::Some(ids) => parts.push(format!(
                "ids={}",
                ids.iter()
                    .map(IdPattern::as_text)
                    .collect::<Vec<_>>()
                    .join(",")
            )),
        }
        if let Some(kind) = &self.kind {
            parts.push(format!("type={kind}"));
        }
        if !self.actions.is_empty() {
            parts.push(format!("actions={}", self.actions.join(",")));
        }
        parts.join(";")
    }

    /// The ids as text (templates as written canonically).
    pub fn id_strings(&self) -> Vec<String> {
        match &self.ids {
            GrantIds::None => vec![],
            GrantIds::Any => vec!["*".to_owned()],
            GrantIds::Some(ids) => ids.iter().map(IdPattern::as_text).collect(),
        }
    }
}

impl IdPattern {
    pub fn as_text(&self) -> String {
        match self {
            IdPattern::Literal(s) => s.clone(),
            IdPattern::UserId => "{{.User.Id}}".to_owned(),
            IdPattern::AccountId => "{{.Account.Id}}".to_owned(),
        }
    }
}

/// The raw key/value parts of a grant before validation.
#[derive(Default)]
struct Segments {
    id: Option<String>,
    ids: Option<Vec<String>>,
    kind: Option<String>,
    actions: Option<Vec<String>>,
    output_fields: bool,
}

fn text_segments(raw: &str) -> Result<Segments, GrantError> {
    let mut seg = Segments::default();
    for part in raw.split(';') {
        let (key, value) = part
            .split_once('=')
            .filter(|(k, v)| !k.is_empty() && !v.contains('='))
            .ok_or_else(|| GrantError::BadSegment(part.to_owned()))?;
        let key = key.trim();
        let value = value.trim();
        let list = || value.split(',').map(|s| s.trim().to_owned()).collect();
        let duplicate = match key {
            "id" => seg.id.replace(value.to_owned()).is_some(),
            "ids" => seg.ids.replace(list()).is_some(),
            "type" => seg.kind.replace(value.to_owned()).is_some(),
            "actions" => seg.actions.replace(list()).is_some(),
            "output_fields" => std::mem::replace(&mut seg.output_fields, true),
            other => return Err(GrantError::UnknownKey(other.to_owned())),
        };
        if duplicate {
            return Err(GrantError::DuplicateKey(key.to_owned()));
        }
    }
    Ok(seg)
}

fn json_segments(raw: &str) -> Result<Segments, GrantError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct JsonGrant {
        id: Option<String>,
        ids: Option<Vec<String>>,
        #[serde(rename = "type")]
        kind: Option<String>,
        actions: Option<Vec<String>>,
        output_fields: Option<Vec<String>>,
    }
    let g: JsonGrant = serde_json::from_str(raw).map_err(|e| GrantError::Json(e.to_string()))?;
    Ok(Segments {
        id: g.id,
        ids: g.ids,
        kind: g.kind,
        actions: g.actions,
        output_fields: g.output_fields.is_some(),
    })
}

fn build(seg: Segments) -> Result<Grant, GrantError> {
    let ids = match (seg.id, seg.ids) {
        (Some(_), Some(_)) => return Err(GrantError::IdAndIds),
        (Some(id), None) => Some(vec![id]),
        (None, ids) => ids,
    };
    let ids = match ids {
        None => GrantIds::None,
        Some(list) => parse_ids(list)?,
    };
    if let Some(kind) = &seg.kind
        && !RESOURCE_TYPES.contains(&kind.as_str())
    {
        return Err(GrantError::UnknownType(kind.clone()));
    }
    let actions = seg.actions.unwrap_or_default();
    for action in &actions {
        if action.is_empty() {
            return Err(GrantError::EmptyAction);
        }
        if !ACTIONS.contains(&action.as_str()) {
            return Err(GrantError::UnknownAction(action.clone()));
        }
    }
    if actions.is_empty() && !seg.output_fields {
        return Err(GrantError::NoActions);
    }
    match (&ids, &seg.kind) {
        (GrantIds::Any, None) => return Err(GrantError::WildcardIdWithoutType),
        (GrantIds::None, None) => return Err(GrantError::NoIdsOrType),
        (GrantIds::None, Some(_)) => {
            if let Some(a) = actions
                .iter()
                .find(|a| *a != "*" && !COLLECTION_ACTIONS.contains(&a.as_str()))
            {
                return Err(GrantError::NonCollectionActionWithoutIds(a.clone()));
            }
        }
        _ => {}
    }
    Ok(Grant {
        ids,
        kind: seg.kind,
        actions,
    })
}

fn parse_ids(list: Vec<String>) -> Result<GrantIds, GrantError> {
    if list.iter().any(|s| s == "*") {
        return if list.len() == 1 {
            Ok(GrantIds::Any)
        } else {
            Err(GrantError::WildcardNotAlone)
        };
    }
    let mut out = Vec::with_capacity(list.len());
    for id in list {
        if id.is_empty() {
            return Err(GrantError::EmptyId);
        }
        out.push(parse_id(&id)?);
    }
    Ok(GrantIds::Some(out))
}

fn parse_id(id: &str) -> Result<IdPattern, GrantError> {
    let Some(inner) = id.strip_prefix("{{").and_then(|s| s.strip_suffix("}}")) else {
        if id.contains("{{") || id.contains("}}") {
            return Err(GrantError::UnknownTemplate(id.to_owned()));
        }
        return Ok(IdPattern::Literal(id.to_owned()));
    };
    let name = inner.trim();
    let name = name.strip_prefix('.').unwrap_or(name).to_ascii_lowercase();
    match name.as_str() {
        "user.id" => Ok(IdPattern::UserId),
        "account.id" => Ok(IdPattern::AccountId),
        _ => Err(GrantError::UnknownTemplate(id.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(s: &str) -> Grant {
        parse_grant(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn segments_in_any_order_give_the_same_grant() {
        let a = ok("ids=*;type=target;actions=authorize-session,read");
        let b = ok("actions=authorize-session,read;type=target;ids=*");
        let c = ok("type=target;actions=authorize-session,read;ids=*;output_fields=id,name");
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.ids, GrantIds::Any);
        assert_eq!(a.kind.as_deref(), Some("target"));
        assert_eq!(
            a.canonical(),
            "ids=*;type=target;actions=authorize-session,read"
        );
    }

    #[test]
    fn templates_with_and_without_spaces() {
        for s in [
            "ids={{.User.Id}};actions=list-resolvable-aliases",
            "ids={{ .User.Id }};actions=list-resolvable-aliases",
            "ids={{user.id}};actions=list-resolvable-aliases",
        ] {
            assert_eq!(ok(s).ids, GrantIds::Some(vec![IdPattern::UserId]), "{s}");
        }
        assert_eq!(
            ok("ids={{ .Account.Id }};actions=read,change-password").ids,
            GrantIds::Some(vec![IdPattern::AccountId])
        );
        assert_eq!(
            parse_grant("ids={{.User.Name}};actions=read"),
            Err(GrantError::UnknownTemplate("{{.User.Name}}".into()))
        );
        assert_eq!(
            parse_grant("ids=u_{{.User.Id}};actions=read"),
            Err(GrantError::UnknownTemplate("u_{{.User.Id}}".into()))
        );
    }

    #[test]
    fn legacy_id_and_json_forms() {
        assert_eq!(
            ok("id=ttcp_1234567890;actions=read").ids,
            GrantIds::Some(vec![IdPattern::Literal("ttcp_1234567890".into())])
        );
        let j = ok(r#"{"ids":["*"],"type":"target","actions":["read"]}"#);
        assert_eq!(j, ok("ids=*;type=target;actions=read"));
        assert!(matches!(
            parse_grant(r#"{"ids":["*"],"bogus":1}"#),
            Err(GrantError::Json(_))
        ));
    }

    #[test]
    fn type_only_grants_are_for_collection_actions() {
        let g = ok("type=target;actions=list,create");
        assert_eq!(g.ids, GrantIds::None);
        assert_eq!(
            parse_grant("type=target;actions=read"),
            Err(GrantError::NonCollectionActionWithoutIds("read".into()))
        );
    }

    #[test]
    fn each_rule_has_its_error() {
        let cases: &[(&str, GrantError)] = &[
            ("", GrantError::Empty),
            ("ids=*", GrantError::NoActions),
            ("ids=*;actions=read", GrantError::WildcardIdWithoutType),
            ("actions=read", GrantError::NoIdsOrType),
            (
                "ids=*;type=target;actions=read;",
                GrantError::BadSegment("".into()),
            ),
            ("ids", GrantError::BadSegment("ids".into())),
            (
                "ids=a=b;actions=read",
                GrantError::BadSegment("ids=a=b".into()),
            ),
            ("idz=*;actions=read", GrantError::UnknownKey("idz".into())),
            (
                "ids=*;ids=*;type=*;actions=read",
                GrantError::DuplicateKey("ids".into()),
            ),
            ("id=a_1;ids=b_2;actions=read", GrantError::IdAndIds),
            ("ids=a_1,,b_2;actions=read", GrantError::EmptyId),
            (
                "ids=*,a_1;type=*;actions=read",
                GrantError::WildcardNotAlone,
            ),
            (
                "ids=*;type=tagret;actions=read",
                GrantError::UnknownType("tagret".into()),
            ),
            (
                "ids=*;type=target;actions=raed",
                GrantError::UnknownAction("raed".into()),
            ),
            ("ids=*;type=target;actions=read,", GrantError::EmptyAction),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_grant(input).as_ref(), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn output_fields_alone_is_a_grant_without_actions() {
        let g = ok("ids=*;type=target;output_fields=id");
        assert!(g.actions.is_empty());
    }

    fn arb_grant() -> impl Strategy<Value = Grant> {
        let id = prop_oneof![
            "[a-z]{1,4}_[A-Za-z0-9]{10}".prop_map(IdPattern::Literal),
            Just(IdPattern::UserId),
            Just(IdPattern::AccountId),
        ];
        let ids = prop_oneof![
            Just(GrantIds::Any),
            proptest::collection::vec(id, 1..4).prop_map(GrantIds::Some),
        ];
        let kind =
            proptest::option::of(proptest::sample::select(RESOURCE_TYPES).prop_map(String::from));
        let actions = proptest::collection::vec(
            proptest::sample::select(ACTIONS).prop_map(String::from),
            1..5,
        );
        (ids, kind, actions)
            .prop_filter("ids=* needs a type", |(ids, kind, _)| {
                !(matches!(ids, GrantIds::Any) && kind.is_none())
            })
            .prop_map(|(ids, kind, actions)| Grant { ids, kind, actions })
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,120}") {
            let _ = parse_grant(&s);
        }

        #[test]
        fn parse_never_panics_on_grant_like_text(
            s in "(ids?|type|actions|output_fields)=[a-z*{}. ,_:-]{0,20}(;(ids?|type|actions)=[a-z*{}. ,_:-]{0,20}){0,4}"
        ) {
            let _ = parse_grant(&s);
        }

        #[test]
        fn canonical_form_parses_back_to_the_same_grant(g in arb_grant()) {
            prop_assert_eq!(parse_grant(&g.canonical()), Ok(g));
        }
    }
}
