//! Grant evaluation: may this caller do this action on this resource?
//!
//! A role applies to a caller when its principals hold the caller's user id, `u_anon`
//! (everyone) or, for an authenticated caller, `u_auth`. Its grants cover a resource when
//! one of the role's grant scopes reaches the resource's scope: `this` (the role's own
//! scope), `children` (scopes directly under it), `descendants` (every scope under it) or an
//! explicit scope id. A grant then matches on ids and type, and allows an action it lists,
//! `*`, or `<action>:self` when the resource belongs to the caller.

use super::parse::{COLLECTION_ACTIONS, Grant, GrantIds, IdPattern, parse_grant};
use crate::store::RoleRecord;
use boundary_wire::api::ids::{ANONYMOUS_USER, AUTHENTICATED_USER};
use sha2::{Digest, Sha256};

/// Who is asking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The user id, or `u_anon` for an anonymous caller.
    pub user_id: String,
    /// The account used to log in, when authenticated.
    pub account_id: Option<String>,
    pub authenticated: bool,
}

impl Principal {
    pub fn anonymous() -> Self {
        Self {
            user_id: ANONYMOUS_USER.to_owned(),
            account_id: None,
            authenticated: false,
        }
    }

    pub fn user(user_id: &str, account_id: Option<&str>) -> Self {
        Self {
            user_id: user_id.to_owned(),
            account_id: account_id.map(str::to_owned),
            authenticated: true,
        }
    }
}

/// A scope and its ancestors, nearest first: `[p_…, o_…, global]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopePath(pub Vec<String>);

impl ScopePath {
    pub fn own(&self) -> Option<&str> {
        self.0.first().map(String::as_str)
    }
}

/// What an action is asked about.
#[derive(Clone, Copy, Debug)]
pub struct Resource<'a> {
    /// Grant type name (`target`, `auth-token`, ...).
    pub kind: &'a str,
    /// `None` for a collection action (`list`/`create` on the type in `scope`).
    pub id: Option<&'a str>,
    /// The container for child collections (credential store of a credential, auth method
    /// of an account): a grant `ids=<parent>;type=<kind>` covers them.
    pub parent_id: Option<&'a str>,
    /// The user the resource belongs to (auth tokens, sessions), for `:self` actions.
    pub owner: Option<&'a str>,
    /// Where the resource lives.
    pub scope: &'a ScopePath,
}

/// A role's grants ready for evaluation.
#[derive(Clone, Debug)]
pub struct RoleGrants {
    pub role_id: String,
    pub version: u32,
    pub scope_id: String,
    pub grant_scope_ids: Vec<String>,
    pub principal_ids: Vec<String>,
    pub grants: Vec<Grant>,
}

impl RoleGrants {
    /// Grant strings are validated when written; one that no longer parses (written by a
    /// newer version) is skipped rather than failing every request.
    pub fn from_record(role: &RoleRecord) -> Self {
        let grants = role
            .grant_strings
            .iter()
            .filter_map(|g| match parse_grant(g) {
                Ok(grant) => Some(grant),
                Err(e) => {
                    tracing::warn!(role_id = %role.id, grant = %g, error = %e, "skipping a grant that does not parse");
                    None
                }
            })
            .collect();
        Self {
            role_id: role.id.clone(),
            version: role.version,
            scope_id: role.scope_id.clone(),
            grant_scope_ids: role.grant_scope_ids.clone(),
            principal_ids: role.principal_ids.clone(),
            grants,
        }
    }

    fn applies_to(&self, p: &Principal) -> bool {
        self.principal_ids.iter().any(|id| {
            id == ANONYMOUS_USER
                || (p.authenticated && (id == AUTHENTICATED_USER || *id == p.user_id))
        })
    }

    fn covers(&self, scope: &ScopePath) -> bool {
        let path = &scope.0;
        let Some(own) = path.first() else {
            return false;
        };
        self.grant_scope_ids.iter().any(|gs| match gs.as_str() {
            "this" => *own == self.scope_id,
            "children" => path.get(1) == Some(&self.scope_id),
            "descendants" => path.iter().skip(1).any(|s| *s == self.scope_id),
            explicit => own == explicit,
        })
    }
}

/// The roles that apply to one principal, with the evaluation rules.
#[derive(Clone, Debug)]
pub struct Acl {
    principal: Principal,
    roles: Vec<RoleGrants>,
}

impl Acl {
    pub fn new(principal: Principal, roles: impl IntoIterator<Item = RoleGrants>) -> Self {
        let roles = roles
            .into_iter()
            .filter(|r| r.applies_to(&principal))
            .collect();
        Self { principal, roles }
    }

    pub fn from_records(principal: Principal, roles: &[RoleRecord]) -> Self {
        Self::new(principal, roles.iter().map(RoleGrants::from_record))
    }

    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// True when some applying grant allows `action` on `resource`.
    pub fn allows(&self, action: &str, resource: &Resource<'_>) -> bool {
        self.matching_grants(resource)
            .any(|g| self.grant_allows_action(g, action, resource))
    }

    /// The subset of `actions` allowed on `resource`, in the given order.
    pub fn allowed_actions(&self, actions: &[&str], resource: &Resource<'_>) -> Vec<String> {
        actions
            .iter()
            .filter(|a| self.allows(a, resource))
            .map(|a| (*a).to_owned())
            .collect()
    }

    /// True when the principal holds at least one action on the resource itself (not a
    /// collection action): what makes an alias resolvable for a user.
    pub fn has_any_id_action(&self, resource: &Resource<'_>) -> bool {
        self.matching_grants(resource).any(|g| {
            !matches!(g.ids, GrantIds::None)
                && g.actions.iter().any(|a| {
                    a == "*"
                        || (!COLLECTION_ACTIONS.contains(&a.as_str()) && !a.ends_with(":self"))
                        || (a.ends_with(":self") && self.owns(resource))
                })
        })
    }

    /// A digest of the ids and versions of every role that applies: it changes whenever
    /// a grant, grant scope or principal of an applying role changes, or a role starts or
    /// stops applying.
    pub fn fingerprint(&self) -> String {
        let mut parts: Vec<String> = self
            .roles
            .iter()
            .map(|r| format!("{}:{}", r.role_id, r.version))
            .collect();
        parts.sort();
        let digest = Sha256::digest(parts.join(",").as_bytes());
        hex::encode(&digest[..16])
    }

    fn matching_grants<'s>(
        &'s self,
        resource: &'s Resource<'_>,
    ) -> impl Iterator<Item = &'s Grant> + 's {
        self.roles
            .iter()
            .filter(|r| r.covers(resource.scope))
            .flat_map(|r| r.grants.iter())
            .filter(|g| self.grant_matches(g, resource))
    }

    fn grant_matches(&self, grant: &Grant, resource: &Resource<'_>) -> bool {
        let type_ok = |kind: &Option<String>| match kind.as_deref() {
            None => true,
            Some("*") => true,
            Some(k) => k == resource.kind,
        };
        match &grant.ids {
            GrantIds::None => type_ok(&grant.kind),
            GrantIds::Any => type_ok(&grant.kind),
            GrantIds::Some(patterns) => {
                let hit = |candidate: Option<&str>| {
                    candidate.is_some_and(|c| patterns.iter().any(|p| self.id_matches(p, c)))
                };
                if hit(resource.id) {
                    type_ok(&grant.kind)
                } else {
                    // `ids=<store>;type=credential` covers the store's credentials.
                    grant.kind.as_deref().is_some_and(|k| k == resource.kind)
                        && hit(resource.parent_id)
                }
            }
        }
    }

    fn grant_allows_action(&self, grant: &Grant, action: &str, resource: &Resource<'_>) -> bool {
        if matches!(grant.ids, GrantIds::None) && !COLLECTION_ACTIONS.contains(&action) {
            return false;
        }
        grant.actions.iter().any(|a| {
            a == "*"
                || a == action
                || a.strip_suffix(":self")
                    .is_some_and(|base| base == action && self.owns(resource))
        })
    }

    fn owns(&self, resource: &Resource<'_>) -> bool {
        self.principal.authenticated && resource.owner == Some(self.principal.user_id.as_str())
    }

    fn id_matches(&self, pattern: &IdPattern, id: &str) -> bool {
        match pattern {
            IdPattern::Literal(l) => l == id,
            IdPattern::UserId => self.principal.authenticated && self.principal.user_id == id,
            IdPattern::AccountId => self.principal.account_id.as_deref() == Some(id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn role(
        id: &str,
        scope: &str,
        gs: &[&str],
        principals: &[&str],
        grants: &[&str],
    ) -> RoleGrants {
        RoleGrants {
            role_id: id.into(),
            version: 1,
            scope_id: scope.into(),
            grant_scope_ids: gs.iter().map(|s| s.to_string()).collect(),
            principal_ids: principals.iter().map(|s| s.to_string()).collect(),
            grants: grants.iter().map(|g| parse_grant(g).unwrap()).collect(),
        }
    }

    fn project() -> ScopePath {
        ScopePath(vec!["p_1".into(), "o_1".into(), "global".into()])
    }
    fn org() -> ScopePath {
        ScopePath(vec!["o_1".into(), "global".into()])
    }
    fn global() -> ScopePath {
        ScopePath(vec!["global".into()])
    }

    fn target<'a>(id: &'a str, scope: &'a ScopePath) -> Resource<'a> {
        Resource {
            kind: "target",
            id: Some(id),
            parent_id: None,
            owner: None,
            scope,
        }
    }

    const ALICE: &str = "u_alice00000";

    fn alice() -> Principal {
        Principal::user(ALICE, Some("acctpw_alice0000"))
    }

    #[test]
    fn principals_decide_which_roles_apply() {
        let roles = vec![
            role(
                "r_anon",
                "global",
                &["descendants"],
                &["u_anon"],
                &["ids=*;type=target;actions=read"],
            ),
            role(
                "r_auth",
                "global",
                &["descendants"],
                &["u_auth"],
                &["ids=*;type=target;actions=update"],
            ),
            role(
                "r_alice",
                "global",
                &["descendants"],
                &[ALICE],
                &["ids=*;type=target;actions=delete"],
            ),
        ];
        let p = project();
        let t = target("ttcp_1", &p);
        let anon = Acl::new(Principal::anonymous(), roles.clone());
        assert!(anon.allows("read", &t));
        assert!(!anon.allows("update", &t));
        let bob = Acl::new(Principal::user("u_bob", None), roles.clone());
        assert!(bob.allows("read", &t) && bob.allows("update", &t) && !bob.allows("delete", &t));
        let alice = Acl::new(alice(), roles);
        assert!(alice.allows("delete", &t));
    }

    #[test]
    fn grant_scopes_this_children_descendants_and_ids() {
        let g = &["ids=*;type=target;actions=read"];
        let (p, o, gl) = (project(), org(), global());
        let cases = [
            (
                role("r", "global", &["this"], &["u_anon"], g),
                [false, false, true],
            ),
            (
                role("r", "global", &["children"], &["u_anon"], g),
                [false, true, false],
            ),
            (
                role("r", "global", &["descendants"], &["u_anon"], g),
                [true, true, false],
            ),
            (
                role("r", "o_1", &["this"], &["u_anon"], g),
                [false, true, false],
            ),
            (
                role("r", "o_1", &["children"], &["u_anon"], g),
                [true, false, false],
            ),
            (
                role("r", "global", &["p_1"], &["u_anon"], g),
                [true, false, false],
            ),
            (
                role("r", "global", &[], &["u_anon"], g),
                [false, false, false],
            ),
        ];
        for (r, expect) in cases {
            let acl = Acl::new(Principal::anonymous(), [r.clone()]);
            let got = [&p, &o, &gl].map(|s| acl.allows("read", &target("x_1", s)));
            assert_eq!(got, expect, "{:?} {:?}", r.scope_id, r.grant_scope_ids);
        }
    }

    #[test]
    fn ids_types_and_templates() {
        let p = project();
        let acl = Acl::new(
            alice(),
            [role(
                "r",
                "global",
                &["this", "descendants"],
                &["u_auth"],
                &[
                    "ids=ttcp_1;actions=authorize-session",
                    "ids={{.User.Id}};actions=list-resolvable-aliases",
                    "ids=*;type=alias;actions=read",
                ],
            )],
        );
        assert!(acl.allows("authorize-session", &target("ttcp_1", &p)));
        assert!(!acl.allows("authorize-session", &target("ttcp_2", &p)));
        assert!(!acl.allows("read", &target("ttcp_1", &p)));
        let gl = global();
        let user = |id| Resource {
            kind: "user",
            id: Some(id),
            parent_id: None,
            owner: None,
            scope: &gl,
        };
        assert!(acl.allows("list-resolvable-aliases", &user(ALICE)));
        assert!(!acl.allows("list-resolvable-aliases", &user("u_bob")));
        let alias = Resource {
            kind: "alias",
            id: Some("alt_1"),
            parent_id: None,
            owner: None,
            scope: &gl,
        };
        assert!(acl.allows("read", &alias));
        assert!(!acl.allows(
            "read",
            &Resource {
                kind: "target",
                ..alias
            }
        ));
        // An anonymous caller's template never matches a user.
        let anon = Acl::new(
            Principal::anonymous(),
            [role(
                "r",
                "global",
                &["this"],
                &["u_anon"],
                &["ids={{.User.Id}};actions=read"],
            )],
        );
        assert!(!anon.allows("read", &user("u_anon")));
    }

    #[test]
    fn self_actions_need_ownership() {
        let gl = global();
        let acl = Acl::new(
            alice(),
            [role(
                "r",
                "global",
                &["this"],
                &["u_auth"],
                &["ids=*;type=auth-token;actions=list,read:self,delete:self"],
            )],
        );
        let token = |owner| Resource {
            kind: "auth-token",
            id: Some("at_1"),
            parent_id: None,
            owner: Some(owner),
            scope: &gl,
        };
        assert!(acl.allows("read", &token(ALICE)));
        assert!(acl.allows("delete", &token(ALICE)));
        assert!(!acl.allows("read", &token("u_bob")));
        assert!(acl.allows("list", &token("u_bob")));
        let anon = Acl::new(
            Principal::anonymous(),
            [role(
                "r",
                "global",
                &["this"],
                &["u_anon"],
                &["ids=*;type=auth-token;actions=read:self"],
            )],
        );
        assert!(!anon.allows("read", &token("u_anon")));
    }

    #[test]
    fn collection_actions() {
        let p = project();
        let coll = Resource {
            kind: "target",
            id: None,
            parent_id: None,
            owner: None,
            scope: &p,
        };
        let only_type = Acl::new(
            alice(),
            [role(
                "r",
                "global",
                &["descendants"],
                &["u_auth"],
                &["type=target;actions=list"],
            )],
        );
        assert!(only_type.allows("list", &coll));
        assert!(only_type.allows("list", &target("ttcp_9", &p)));
        assert!(!only_type.allows("create", &coll));
        assert!(!only_type.has_any_id_action(&target("ttcp_9", &p)));
        let by_id = Acl::new(
            alice(),
            [role(
                "r",
                "global",
                &["descendants"],
                &["u_auth"],
                &["ids=ttcp_1;actions=list,read"],
            )],
        );
        assert!(
            !by_id.allows("list", &coll),
            "specific ids do not grant the collection"
        );
        assert!(by_id.allows("list", &target("ttcp_1", &p)));
        let star = Acl::new(
            alice(),
            [role(
                "r",
                "global",
                &["descendants"],
                &["u_auth"],
                &["ids=*;type=*;actions=*"],
            )],
        );
        assert!(star.allows("create", &coll) && star.allows("anything", &target("t", &p)));
    }

    #[test]
    fn child_collections_by_parent_id() {
        let p = project();
        let acl = Acl::new(
            alice(),
            [role(
                "r",
                "global",
                &["descendants"],
                &["u_auth"],
                &["ids=csst_1;type=credential;actions=create,list"],
            )],
        );
        let cred = |parent| Resource {
            kind: "credential",
            id: None,
            parent_id: Some(parent),
            owner: None,
            scope: &p,
        };
        assert!(acl.allows("create", &cred("csst_1")));
        assert!(!acl.allows("create", &cred("csst_2")));
    }

    #[test]
    fn any_id_action_for_resolvable_aliases() {
        let p = project();
        let t = target("ttcp_1", &p);
        let with = |g: &str| {
            Acl::new(
                alice(),
                [role("r", "global", &["descendants"], &["u_auth"], &[g])],
            )
        };
        assert!(with("ids=*;type=target;actions=authorize-session").has_any_id_action(&t));
        assert!(with("ids=ttcp_1;actions=read").has_any_id_action(&t));
        assert!(with("ids=*;type=*;actions=*").has_any_id_action(&t));
        assert!(!with("ids=*;type=target;actions=list").has_any_id_action(&t));
        assert!(!with("ids=ttcp_2;actions=read").has_any_id_action(&t));
        assert!(!with("ids=*;type=alias;actions=read").has_any_id_action(&t));
    }

    #[test]
    fn fingerprint_follows_applying_roles_only() {
        let a = role(
            "r_a",
            "global",
            &["this"],
            &[ALICE],
            &["ids=*;type=*;actions=*"],
        );
        let other = role(
            "r_b",
            "global",
            &["this"],
            &["u_bob"],
            &["ids=*;type=*;actions=*"],
        );
        let base = Acl::new(alice(), [a.clone(), other.clone()]).fingerprint();
        let mut other2 = other.clone();
        other2.version = 7;
        assert_eq!(Acl::new(alice(), [a.clone(), other2]).fingerprint(), base);
        let mut a2 = a.clone();
        a2.version = 2;
        assert_ne!(Acl::new(alice(), [a2, other.clone()]).fingerprint(), base);
        assert_ne!(Acl::new(alice(), [other]).fingerprint(), base);
    }

    proptest! {
        /// Adding a role never takes a permission away.
        #[test]
        fn more_roles_never_allow_less(
            extra in proptest::sample::select(vec![
                "ids=*;type=target;actions=read",
                "ids={{.User.Id}};actions=*",
                "type=session;actions=list",
                "ids=ttcp_1;actions=delete",
            ]),
            action in proptest::sample::select(vec!["read", "delete", "list", "authorize-session"]),
            id in proptest::sample::select(vec!["ttcp_1", "ttcp_2", ALICE]),
        ) {
            let p = project();
            let base = vec![role("r", "global", &["descendants"], &["u_auth"], &["ids=ttcp_2;actions=read"])];
            let mut more = base.clone();
            more.push(role("r2", "o_1", &["children"], &[ALICE], &[extra]));
            let r = target(id, &p);
            if Acl::new(alice(), base).allows(action, &r) {
                prop_assert!(Acl::new(alice(), more).allows(action, &r));
            }
        }
    }
}
