//! Scenario tests of [`AgentCore`]: values in, commands out.

mod accept;
mod dns;
mod lifecycle;
mod properties;
mod tokens;

use super::*;
use crate::alias_cache::AliasTarget;
use crate::command::{AuthorizeRequest, CancelRequest, RefreshRequest};
pub(super) use crate::dns_decision::{DnsQuestion, rtype};
pub(super) use crate::prefix::Family;
pub(super) use crate::session_table::EndReason;
use crate::test_support::{EPOCH, at, authorization};
use crate::users::TokenRegistration;
use boundary_wire::api::alias::{ResolvableAlias, TARGET_ALIAS_TYPE};
use boundary_wire::api::{ListResponse, ResponseType, Secret};

pub(super) type Core = AgentCore<String>;
pub(super) type Cmd = Command<String>;

pub(super) const CTL: &str = "https://ctl:9200";
pub(super) const ALICE: u32 = 1000;
pub(super) const BOB: u32 = 1001;
pub(super) const DB: &str = "db.prod.example";
pub(super) const WEB: &str = "web.prod.example";

pub(super) fn core() -> Core {
    AgentCore::new(CoreConfig::default(), false).unwrap()
}

pub(super) fn registration(uid: u32, token_id: &str) -> TokenRegistration {
    TokenRegistration {
        uid,
        controller_addr: CTL.into(),
        token_id: token_id.into(),
        user_id: format!("u_{uid}"),
        token: Secret::new(format!("{token_id}_s1SECRET")),
        expiration: Some(EPOCH + time::Duration::days(7)),
    }
}

pub(super) fn token_of(uid: u32) -> String {
    format!("at_{uid}")
}

pub(super) fn page(
    kind: ResponseType,
    list_token: &str,
    values: &[&str],
    removed: &[&str],
) -> ListResponse<ResolvableAlias> {
    ListResponse {
        items: values
            .iter()
            .map(|v| ResolvableAlias {
                id: alias_id(v),
                created_time: EPOCH,
                updated_time: EPOCH,
                value: v.to_string(),
                destination_id: Some(format!("ttcp_{}", v.len())),
                kind: TARGET_ALIAS_TYPE.into(),
            })
            .collect(),
        response_type: kind,
        list_token: list_token.into(),
        sort_by: "created_time".into(),
        sort_dir: "desc".into(),
        removed_ids: removed.iter().map(|v| alias_id(v)).collect(),
        est_item_count: values.len() as u64,
    }
}

pub(super) fn alias_id(value: &str) -> String {
    format!("alt_{}", value.replace('.', "_"))
}

/// Registers `uid` with `at_<uid>` and completes its first listing with `aliases`.
pub(super) fn user_with(core: &mut Core, uid: u32, aliases: &[&str], secs: u64) {
    let cmds = core.handle_token_registered(registration(uid, &token_of(uid)), at(secs));
    assert_eq!(refreshes(&cmds).len(), 1, "{cmds:?}");
    let cmds = core.handle_alias_page(
        uid,
        &token_of(uid),
        page(ResponseType::Complete, "lt1", aliases, &[]),
        at(secs),
    );
    assert!(cmds.is_empty(), "{cmds:?}");
}

pub(super) fn ask(name: &str, qtype: u16, uid: Option<u32>) -> DnsQuestion {
    DnsQuestion {
        name: name.into(),
        qtype,
        uid,
    }
}

pub(super) fn key(alias: &str, uid: u32) -> SessionKey {
    SessionKey {
        alias: alias.into(),
        uid,
    }
}

pub(super) fn granted(uid: u32, session_id: &str, port: u32, limit: i32) -> Authorized<String> {
    Authorized {
        token_id: token_of(uid),
        authorization: authorization(session_id, port, 8 * 3600, limit),
        default_client_port: 0,
        tunnel: format!("tunnel-{session_id}"),
    }
}

/// Asks for `alias` as `uid`, authorizes it with `session_id` on `port`, and returns the
/// commands of the authorization.
pub(super) fn open_session(
    core: &mut Core,
    alias: &str,
    uid: u32,
    session_id: &str,
    port: u32,
    secs: u64,
) -> Vec<Cmd> {
    let (res, cmds) = core.handle_dns_question(&ask(alias, rtype::A, Some(uid)), at(secs));
    assert_eq!(res, DnsResolution::AwaitAuthorization(key(alias, uid)));
    assert_eq!(authorizes(&cmds).len(), 1, "{cmds:?}");
    let cmds = core.handle_authorized(
        &key(alias, uid),
        granted(uid, session_id, port, -1),
        at(secs),
    );
    assert!(
        cmds.contains(&Command::SessionSettled(key(alias, uid))),
        "{cmds:?}"
    );
    cmds
}

pub(super) fn authorizes(cmds: &[Cmd]) -> Vec<&AuthorizeRequest> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Authorize(r) => Some(r),
            _ => None,
        })
        .collect()
}

pub(super) fn refreshes(cmds: &[Cmd]) -> Vec<&RefreshRequest> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::RefreshAliases(r) => Some(r),
            _ => None,
        })
        .collect()
}

pub(super) fn cancels(cmds: &[Cmd]) -> Vec<&CancelRequest<String>> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::CancelSession(r) => Some(r),
            _ => None,
        })
        .collect()
}

pub(super) fn v4(core: &Core, alias: &str) -> std::net::IpAddr {
    std::net::IpAddr::V4(core.alias_addresses(alias).unwrap().v4)
}

pub(super) fn v6(core: &Core, alias: &str) -> std::net::IpAddr {
    std::net::IpAddr::V6(core.alias_addresses(alias).unwrap().v6)
}

#[test]
fn the_cache_target_type_is_what_authorize_uses() {
    // Guards the test helpers: the listed value and destination reach the request.
    let mut c = core();
    user_with(&mut c, ALICE, &["DB.Prod.Example"], 0);
    let (_, cmds) = c.handle_dns_question(&ask(DB, rtype::A, Some(ALICE)), at(1));
    let request = authorizes(&cmds)[0].clone();
    let expected = AliasTarget {
        alias_id: alias_id("DB.Prod.Example"),
        value: "DB.Prod.Example".into(),
        destination_id: "ttcp_15".into(),
    };
    assert_eq!(request.alias_value, expected.value);
    assert_eq!(request.destination_id, expected.destination_id);
    assert_eq!(request.token_id, token_of(ALICE));
    assert_eq!(request.token.expose(), "at_1000_s1SECRET");
    assert_eq!(request.controller_addr, CTL);
    assert!(
        !format!("{cmds:?}").contains("SECRET"),
        "commands never print the token"
    );
    let _ = c.handle_authorized(&key(DB, ALICE), granted(ALICE, "s_1", 22, -1), at(1));
    let everything = format!("{c:?}");
    assert!(everything.contains("s_1"));
    assert!(!everything.contains("SECRET") && !everything.contains("opaque-token"));
}
