//! Boundary's `add-…`, `set-…` and `remove-…` custom actions on a list field of a resource
//! (a role's principals, grants and grant scopes; a target's credential sources).

/// How one of those actions changes the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListOp {
    Add,
    Set,
    Remove,
}

impl ListOp {
    /// Splits an action such as `add-grant-scopes` into its operation and the list it
    /// names (`grant-scopes`); `None` when it starts with none of the three.
    pub fn parse(action: &str) -> Option<(Self, &str)> {
        match action.split_once('-')? {
            ("add", list) => Some((ListOp::Add, list)),
            ("set", list) => Some((ListOp::Set, list)),
            ("remove", list) => Some((ListOp::Remove, list)),
            _ => None,
        }
    }

    /// Applies the operation to `list`, keeping its order and adding no duplicates.
    pub fn apply(self, list: &mut Vec<String>, given: Vec<String>) {
        match self {
            ListOp::Add => {
                for g in given {
                    if !list.contains(&g) {
                        list.push(g);
                    }
                }
            }
            ListOp::Set => {
                list.clear();
                ListOp::Add.apply(list, given);
            }
            ListOp::Remove => list.retain(|x| !given.contains(x)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_split_into_operation_and_list() {
        assert_eq!(
            ListOp::parse("add-grant-scopes"),
            Some((ListOp::Add, "grant-scopes"))
        );
        assert_eq!(
            ListOp::parse("set-principals"),
            Some((ListOp::Set, "principals"))
        );
        assert_eq!(
            ListOp::parse("remove-credential-sources"),
            Some((ListOp::Remove, "credential-sources"))
        );
        assert_eq!(ListOp::parse("authorize-session"), None);
        assert_eq!(ListOp::parse("add"), None);
    }

    #[test]
    fn add_set_remove_keep_order_without_duplicates() {
        let mut l = vec!["a".to_owned(), "b".to_owned()];
        ListOp::Add.apply(&mut l, vec!["b".into(), "c".into()]);
        assert_eq!(l, ["a", "b", "c"]);
        ListOp::Remove.apply(&mut l, vec!["a".into()]);
        assert_eq!(l, ["b", "c"]);
        ListOp::Set.apply(&mut l, vec!["x".into(), "x".into()]);
        assert_eq!(l, ["x"]);
    }
}
