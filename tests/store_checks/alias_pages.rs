//! The keyset pages the resolvable-alias listing reads (`aliases_page`) and where a
//! listing starts (`alias_listing_start`).

use super::fixtures::*;
use boundary_controller::store::*;
use boundary_wire::api::time_format::to_micros;
use std::sync::Arc;

/// Pages follow `created` desc then `id` desc, ties on `created` included, each after the
/// last item of the one before, and end with an empty page.
pub async fn alias_pages(store: Arc<dyn Store>) {
    seed_scopes(&store).await;
    store
        .create_target(&target("ttcp_t1", "p_proj1", "t1", 1))
        .await
        .unwrap();
    let start = store.alias_listing_start().await.unwrap();
    assert_eq!(start, AliasListingStart::default());
    for (id, value, destination, created) in [
        ("alt_1", "one.example", Some("ttcp_t1"), 10),
        ("alt_2", "two.example", Some("ttcp_t1"), 20),
        ("alt_3", "three.example", Some("ttcp_t1"), 20),
        ("alt_4", "four.example", None, 30),
    ] {
        store
            .create_alias(&alias(id, value, destination, created))
            .await
            .unwrap();
    }
    let start = store.alias_listing_start().await.unwrap();
    assert_eq!(start.with_destination, 3, "alt_4 has no destination");
    assert_eq!(
        start.high_water,
        store.alias_changes_since(0).await.unwrap().high_water
    );

    let first = store.aliases_page(None, 2).await.unwrap();
    assert_eq!(ids(&first, |a| &a.id), ["alt_4", "alt_3"]);
    let cursor = |a: &AliasRecord| (to_micros(a.created), a.id.clone());
    let (c, id) = cursor(&first[1]);
    let second = store.aliases_page(Some((c, &id)), 2).await.unwrap();
    assert_eq!(ids(&second, |a| &a.id), ["alt_2", "alt_1"]);
    let (c, id) = cursor(&second[1]);
    assert!(
        store
            .aliases_page(Some((c, &id)), 2)
            .await
            .unwrap()
            .is_empty()
    );
    // A limit above what is left returns the rest; the whole table in one page equals
    // `list_aliases`.
    let (c, id) = cursor(&first[0]);
    let rest = store.aliases_page(Some((c, &id)), 10).await.unwrap();
    assert_eq!(ids(&rest, |a| &a.id), ["alt_3", "alt_2", "alt_1"]);
    assert_eq!(
        store.aliases_page(None, 10).await.unwrap(),
        store.list_aliases().await.unwrap()
    );
}
