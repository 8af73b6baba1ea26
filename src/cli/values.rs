//! Small conversions shared by the command groups: flag values to request fields, and
//! resource fields to display text.

/// Boundary's update convention: the literal `null` clears a field, any other value sets
/// it, and an absent flag leaves it alone.
pub fn nullable(value: Option<String>) -> Option<Option<String>> {
    value.map(|v| if v == "null" { None } else { Some(v) })
}

/// An optional number as text, empty when absent.
pub fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// Values joined with `, `.
pub fn join(values: impl IntoIterator<Item = String>) -> String {
    values.into_iter().collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_clears_and_absent_leaves_alone() {
        assert_eq!(nullable(Some("null".into())), Some(None));
        assert_eq!(nullable(Some("db".into())), Some(Some("db".into())));
        assert_eq!(nullable(None), None);
    }
}
