//! Our wire types against bodies the real HashiCorp Boundary v0.21.3 controller sent
//! (tests/fixtures/boundary-0.21.3/, see its README): we must read every one of them, and
//! what we write for the same data must be what Boundary's own clients read.

use boundary_wire::api::ListResponse;
use boundary_wire::api::ResponseType;
use boundary_wire::api::alias::ResolvableAlias;
use boundary_wire::api::auth::AuthMethod;
use boundary_wire::api::session::{Session, SessionConnection};
use boundary_wire::api::target::Target;
use serde_json::{Value, json};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/boundary-0.21.3/",
            $name
        ))
    };
}

fn value(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture is JSON")
}

/// Asserts two JSON values say the same, naming the paths where they do not. Two
/// spellings count as the same because every reader treats them so: a timestamp with
/// or without trailing zeros in its fraction (Boundary always writes 3, 6 or 9 digits),
/// and an empty string or no field at all (Boundary sends `"address":""` on targets that
/// have host sources).
fn assert_same(ours: &Value, theirs: &Value) {
    fn instant(v: &Value) -> Option<time::OffsetDateTime> {
        let s = v.as_str()?;
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
    }
    fn walk(a: &Value, b: &Value, path: String, out: &mut Vec<String>) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let empty = Value::String(String::new());
                for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                    let (l, r) = (x.get(k).unwrap_or(&empty), y.get(k).unwrap_or(&empty));
                    walk(l, r, format!("{path}.{k}"), out);
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (l, r)) in x.iter().zip(y).enumerate() {
                    walk(l, r, format!("{path}[{i}]"), out);
                }
            }
            _ if a == b => {}
            _ if instant(a).is_some() && instant(a) == instant(b) => {}
            _ => out.push(format!("{path}: ours {a}, Boundary's {b}")),
        }
    }
    let mut out = vec![];
    walk(ours, theirs, String::new(), &mut out);
    assert!(out.is_empty(), "differences:\n{}", out.join("\n"));
}

/// A session read of a session with one connection: the counters are strings. We read
/// them, and write the connection exactly as Boundary did (Boundary's Go client refuses a
/// bare number there: "invalid use of ,string struct tag").
#[test]
fn session_connection_counters_are_strings_both_ways() {
    let text = fixture!("sessions-read-with-connection.json");
    let session: Session = serde_json::from_str(text).expect("our CLI reads the session");
    assert_eq!(session.connections.len(), 1);
    let c = &session.connections[0];
    assert_eq!((c.bytes_up, c.bytes_down), (17, 17));
    assert_eq!(c.closed_reason, "unknown");

    let theirs = &value(text)["connections"][0];
    assert_same(&serde_json::to_value(c).unwrap(), theirs);
    assert_eq!(serde_json::to_value(c).unwrap()["bytes_up"], json!("17"));

    // Zero counters are left out, as Boundary does; absent ones read as zero.
    let idle = SessionConnection {
        bytes_up: 0,
        bytes_down: 0,
        ..c.clone()
    };
    let written = serde_json::to_value(&idle).unwrap();
    assert!(written.get("bytes_up").is_none() && written.get("bytes_down").is_none());
    let back: SessionConnection = serde_json::from_value(written).unwrap();
    assert_eq!((back.bytes_up, back.bytes_down), (0, 0));
    // Numbers (what older versions of ours wrote) are still read.
    let numbers: SessionConnection =
        serde_json::from_value(json!({"bytes_up": 5, "bytes_down": 6})).unwrap();
    assert_eq!((numbers.bytes_up, numbers.bytes_down), (5, 6));
}

/// Every field of Boundary's session read survives our type: the certificate included.
#[test]
fn session_reads_round_trip_exactly() {
    for text in [
        fixture!("sessions-read-with-connection.json"),
        fixture!("sessions-read-pending.json"),
    ] {
        let session: Session = serde_json::from_str(text).unwrap();
        assert!(!session.certificate.is_empty());
        assert_same(&serde_json::to_value(&session).unwrap(), &value(text));
    }
}

/// A session list: no connections, sessions of deleted targets without `target_id` and
/// `type`, a token on the complete page, no `removed_ids`.
#[test]
fn session_list_reads_and_round_trips() {
    let text = fixture!("sessions-list-after-connections.json");
    let list: ListResponse<Session> = serde_json::from_str(text).expect("our CLI reads the list");
    assert_eq!(list.items.len(), 20);
    assert_eq!(list.response_type, ResponseType::Complete);
    assert!(!list.list_token.is_empty());
    assert!(list.removed_ids.is_empty());
    assert!(list.items.iter().all(|s| s.connections.is_empty()));
    assert!(
        list.items
            .iter()
            .any(|s| s.target_id.is_empty() && s.kind.is_empty())
    );
    assert_same(&serde_json::to_value(&list).unwrap(), &value(text));
}

/// Without a token, Boundary lists auth methods with neither times, version nor
/// attributes; our CLI finds the primary one there (`boundary authenticate password`
/// without `-auth-method-id`).
#[test]
fn anonymous_auth_method_list_reads() {
    let text = fixture!("auth-methods-list-anonymous.json");
    let list: ListResponse<AuthMethod> = serde_json::from_str(text).expect("reads");
    assert_eq!(list.items.len(), 3);
    let primary: Vec<&str> = list
        .items
        .iter()
        .filter(|m| m.is_primary)
        .map(|m| m.id.as_str())
        .collect();
    assert_eq!(primary, ["ampw_1234567890"]);
    assert!(list.items.iter().all(|m| m.created_time.is_none()));
    assert_same(&serde_json::to_value(&list).unwrap(), &value(text));
}

/// A complete target list carries a token and no `removed_ids`; we write the envelope
/// the same way.
#[test]
fn target_list_envelope_round_trips() {
    let text = fixture!("targets-list-project.json");
    let list: ListResponse<Target> = serde_json::from_str(text).unwrap();
    assert_eq!(list.response_type, ResponseType::Complete);
    assert!(!list.list_token.is_empty());
    let ours = serde_json::to_value(&list).unwrap();
    assert!(ours.get("removed_ids").is_none());
    assert_same(&ours, &value(text));

    // An empty list has neither `items` nor `removed_ids`, and reads back.
    let empty = ListResponse::<Target> {
        items: vec![],
        removed_ids: vec![],
        ..list
    };
    let written = serde_json::to_value(&empty).unwrap();
    assert!(written.get("items").is_none() && written.get("removed_ids").is_none());
    let back: ListResponse<Target> = serde_json::from_value(written).unwrap();
    assert!(back.items.is_empty());
}

/// Paged and refresh responses estimate 4294967295 items; a refresh names removed ids.
#[test]
fn resolvable_alias_pages_read() {
    let page: ListResponse<ResolvableAlias> =
        serde_json::from_str(fixture!("resolvable-aliases-page-size-1.json")).unwrap();
    assert_eq!(page.est_item_count, 4_294_967_295);
    assert_eq!(page.response_type, ResponseType::Delta);
    let refresh: ListResponse<ResolvableAlias> =
        serde_json::from_str(fixture!("resolvable-aliases-refresh.json")).unwrap();
    assert_eq!(refresh.removed_ids, ["alt_RBXnHIWSYR"]);
    assert_eq!(refresh.sort_by, "updated_time");
    assert_eq!(refresh.items.len(), 3);
}
