//! The arguments of the verbs every resource command group has in the same form: `read`
//! (and `delete`, `cancel`) of one resource by `-id`, and `list` with `-scope-id`,
//! `-recursive` and `-filter`.

use super::flags::ClientFlags;
use boundary_wire::api::ListQuery;
use boundary_wire::api::ids::GLOBAL_SCOPE;
use clap::Args;

/// A verb acting on one resource.
#[derive(Debug, Args)]
pub struct IdArgs {
    #[command(flatten)]
    pub client: ClientFlags,
    /// The resource's id.
    #[arg(long)]
    pub id: String,
}

/// `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub client: ClientFlags,
    /// The scope to list from.
    #[arg(long, default_value = GLOBAL_SCOPE)]
    pub scope_id: String,
    /// Include the scope's sub-scopes.
    #[arg(long)]
    pub recursive: bool,
    /// A Boundary filter expression on the items.
    #[arg(long)]
    pub filter: Option<String>,
}

impl ListArgs {
    /// The list query, carrying only what was asked for.
    pub fn query(&self) -> ListQuery {
        ListQuery {
            scope_id: Some(self.scope_id.clone()),
            recursive: self.recursive.then_some(true),
            filter: self.filter.clone(),
            ..ListQuery::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct List {
        #[command(flatten)]
        args: ListArgs,
    }

    fn query(argv: &[&str]) -> serde_json::Value {
        let list = List::try_parse_from([&["list"], argv].concat()).unwrap();
        serde_json::to_value(list.args.query()).unwrap()
    }

    #[test]
    fn list_queries_only_carry_what_was_asked() {
        assert_eq!(query(&[]), serde_json::json!({"scope_id":"global"}));
        let v = query(&[
            "--scope-id",
            "o_1",
            "--recursive",
            "--filter",
            "\"/item/name\" == \"x\"",
        ]);
        assert_eq!(v["scope_id"], "o_1");
        assert_eq!(v["recursive"], true);
        assert!(v["filter"].is_string());
    }
}
