use super::*;
use proptest::prelude::*;
use time::macros::datetime;

fn item(id: &str, value: &str, destination: Option<&str>, minute: u8) -> ResolvableAlias {
    let t = datetime!(2030-01-01 00:00 UTC) + time::Duration::minutes(i64::from(minute));
    ResolvableAlias {
        id: id.into(),
        created_time: t,
        updated_time: t,
        value: value.into(),
        destination_id: destination.map(Into::into),
        kind: TARGET_ALIAS_TYPE.into(),
    }
}

fn page(
    kind: ResponseType,
    token: &str,
    items: Vec<ResolvableAlias>,
    removed: &[&str],
) -> ListResponse<ResolvableAlias> {
    ListResponse {
        items,
        response_type: kind,
        list_token: token.into(),
        sort_by: "created_time".into(),
        sort_dir: "desc".into(),
        removed_ids: removed.iter().map(|s| s.to_string()).collect(),
        est_item_count: 0,
    }
}

fn loaded(items: Vec<ResolvableAlias>, token: &str) -> AliasCache {
    let mut c = AliasCache::new();
    assert_eq!(c.begin_refresh(), None);
    c.apply_page(page(ResponseType::Complete, token, items, &[]))
        .unwrap();
    c
}

#[test]
fn only_a_refresh_that_changes_something_moves_the_generation() {
    let mut c = loaded(vec![item("alt_1", "db.example", Some("ttcp_1"), 0)], "t1");
    let loaded_at = c.generation();
    assert!(loaded_at > 0, "the first listing moves it");
    let refresh = |c: &mut AliasCache, items, removed: &[&str]| {
        c.begin_refresh();
        c.apply_page(page(ResponseType::Complete, "t", items, removed))
            .unwrap();
        c.generation()
    };
    assert_eq!(refresh(&mut c, vec![], &[]), loaded_at, "nothing changed");
    assert_eq!(refresh(&mut c, vec![], &["alt_9"]), loaded_at, "unknown id");
    let renamed = refresh(
        &mut c,
        vec![item("alt_1", "new.example", Some("ttcp_1"), 1)],
        &[],
    );
    assert!(renamed > loaded_at);
    assert!(refresh(&mut c, vec![], &["alt_1"]) > renamed, "a removal");
    assert!(c.is_empty());
}

#[test]
fn pages_accumulate_until_complete() {
    let mut c = AliasCache::new();
    assert!(!c.has_completed());
    assert_eq!(c.begin_refresh(), None);
    let first = c
        .apply_page(page(
            ResponseType::Delta,
            "t1",
            vec![item("alt_1", "db.prod.example", Some("ttcp_1"), 0)],
            &[],
        ))
        .unwrap();
    assert_eq!(first, PageOutcome::NextPage("t1".into()));
    assert!(
        c.get("db.prod.example").is_none(),
        "nothing applied before complete"
    );
    assert_eq!(c.list_token(), None);

    let last = c
        .apply_page(page(
            ResponseType::Complete,
            "t2",
            vec![item("alt_2", "Web.Example", Some("ttcp_2"), 1)],
            &[],
        ))
        .unwrap();
    assert!(matches!(
        last,
        PageOutcome::Applied(CacheUpdate { full: true, .. })
    ));
    assert!(c.has_completed());
    assert!(!c.is_fetching());
    assert_eq!(c.list_token(), Some("t2"));
    assert_eq!(c.len(), 2);
    let web = c.get("web.example.").unwrap();
    assert_eq!(web.value, "Web.Example");
    assert_eq!(web.destination_id, "ttcp_2");
    assert_eq!(web.alias_id, "alt_2");
}

#[test]
fn incremental_refresh_applies_changes_and_removals() {
    let mut c = loaded(
        vec![
            item("alt_1", "db.example", Some("ttcp_1"), 0),
            item("alt_2", "web.example", Some("ttcp_2"), 0),
            item("alt_3", "old.example", Some("ttcp_3"), 0),
        ],
        "t1",
    );
    assert_eq!(c.begin_refresh(), Some("t1".into()));
    let out = c
        .apply_page(page(
            ResponseType::Complete,
            "t2",
            vec![
                item("alt_3", "new.example", Some("ttcp_3"), 5),
                item("alt_4", "api.example", Some("ttcp_4"), 5),
            ],
            &["alt_2"],
        ))
        .unwrap();
    let PageOutcome::Applied(update) = out else {
        panic!("expected an applied listing, got {out:?}");
    };
    assert!(!update.full);
    assert_eq!(
        update.removed,
        ["old.example", "web.example"]
            .into_iter()
            .map(String::from)
            .collect()
    );
    assert!(c.contains("db.example"));
    assert!(c.contains("new.example"));
    assert!(c.contains("api.example"));
    assert!(!c.contains("web.example"));
    assert!(!c.contains("old.example"));
    assert_eq!(c.list_token(), Some("t2"));
}

#[test]
fn full_reload_replaces_the_cache_only_when_complete() {
    let mut c = loaded(
        vec![
            item("alt_1", "db.example", Some("ttcp_1"), 0),
            item("alt_2", "web.example", Some("ttcp_2"), 0),
        ],
        "t1",
    );
    c.begin_full_reload();
    assert_eq!(c.list_token(), None);
    c.apply_page(page(
        ResponseType::Delta,
        "r1",
        vec![item("alt_1", "db.example", Some("ttcp_1"), 0)],
        &[],
    ))
    .unwrap();
    assert!(
        c.contains("web.example"),
        "old entries answer during the reload"
    );
    let out = c
        .apply_page(page(ResponseType::Complete, "r2", vec![], &[]))
        .unwrap();
    assert_eq!(
        out,
        PageOutcome::Applied(CacheUpdate {
            removed: ["web.example".to_string()].into_iter().collect(),
            full: true,
        })
    );
    assert!(c.contains("db.example"));
    assert!(!c.contains("web.example"));
    assert_eq!(c.list_token(), Some("r2"));
}

#[test]
fn aliases_without_a_target_destination_do_not_resolve() {
    let mut other = item("alt_3", "other.example", Some("x_1"), 0);
    other.kind = "something-else".into();
    let c = loaded(
        vec![
            item("alt_1", "db.example", None, 0),
            item("alt_2", "web.example", Some(""), 0),
            other,
        ],
        "t1",
    );
    assert!(c.is_empty());
}

#[test]
fn a_destination_cleared_later_removes_the_alias() {
    let mut c = loaded(vec![item("alt_1", "db.example", Some("ttcp_1"), 0)], "t1");
    c.begin_refresh();
    c.apply_page(page(
        ResponseType::Complete,
        "t2",
        vec![item("alt_1", "db.example", None, 1)],
        &[],
    ))
    .unwrap();
    assert!(!c.contains("db.example"));
}

#[test]
fn the_newest_item_wins_a_value() {
    // alt_1 gave up "db.example" and alt_2 took it, listed newest first.
    let mut c = loaded(vec![item("alt_1", "db.example", Some("ttcp_1"), 0)], "t1");
    c.begin_refresh();
    c.apply_page(page(
        ResponseType::Complete,
        "t2",
        vec![
            item("alt_2", "db.example", Some("ttcp_2"), 3),
            item("alt_1", "db-old.example", Some("ttcp_1"), 2),
        ],
        &[],
    ))
    .unwrap();
    assert_eq!(c.get("db.example").unwrap().destination_id, "ttcp_2");
    assert_eq!(c.get("db-old.example").unwrap().alias_id, "alt_1");
    c.begin_refresh();
    c.apply_page(page(ResponseType::Complete, "t3", vec![], &["alt_2"]))
        .unwrap();
    assert!(!c.contains("db.example"));
    assert!(c.contains("db-old.example"));
}

#[test]
fn unexpected_and_broken_pages_are_errors() {
    let mut c = AliasCache::new();
    assert_eq!(
        c.apply_page(page(ResponseType::Complete, "t", vec![], &[])),
        Err(PageError::Unexpected)
    );
    let mut c = loaded(vec![item("alt_1", "db.example", Some("ttcp_1"), 0)], "t1");
    c.begin_refresh();
    assert_eq!(
        c.apply_page(page(ResponseType::Delta, "", vec![], &["alt_1"])),
        Err(PageError::MissingListToken)
    );
    assert!(!c.is_fetching());
    assert_eq!(
        c.list_token(),
        Some("t1"),
        "the last complete token is kept"
    );
    assert!(c.contains("db.example"));
}

#[test]
fn an_abandoned_refresh_leaves_the_cache_alone() {
    let mut c = loaded(vec![item("alt_1", "db.example", Some("ttcp_1"), 0)], "t1");
    c.begin_refresh();
    c.apply_page(page(ResponseType::Delta, "t2", vec![], &["alt_1"]))
        .unwrap();
    c.abandon_refresh();
    assert!(c.contains("db.example"));
    assert_eq!(c.begin_refresh(), Some("t1".into()));
}

fn recase(s: &str, mask: u64) -> String {
    s.chars()
        .enumerate()
        .map(|(i, ch)| {
            if mask >> (i % 64) & 1 == 1 {
                ch.to_ascii_uppercase()
            } else {
                ch
            }
        })
        .collect()
}

proptest! {
    #[test]
    fn lookup_ignores_case_and_a_final_dot(
        value in "[a-zA-Z0-9-]{1,10}(\\.[a-zA-Z0-9-]{1,10}){0,3}",
        mask in any::<u64>(),
        dot in any::<bool>(),
    ) {
        let c = loaded(vec![item("alt_1", &value, Some("ttcp_1"), 0)], "t");
        let mut query = recase(&value.to_ascii_lowercase(), mask);
        if dot {
            query.push('.');
        }
        let hit = c.get(&query);
        prop_assert!(hit.is_some(), "{query} should find {value}");
        prop_assert_eq!(&hit.unwrap().value, &value);
        let other = format!("x{query}");
        prop_assert!(c.get(&other).is_none());
    }
}
