//! What the agent does with one DNS question. The core decides; `agent::dns` (the IO
//! shell) parses packets, asks, and carries the decision out.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

/// A question as the core sees it: the name already normalised (lower case, no final
/// dot) and the query type as its numeric RR type (1 = A, 28 = AAAA, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsQuestion {
    pub name: String,
    pub qtype: u16,
    /// The local user who sent the query, when the shell could attribute it.
    pub uid: Option<u32>,
}

/// The core's answer for one question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DnsDecision {
    /// An alias, A or AAAA: answer with this address (authoritative, short TTL).
    Address(AliasAddress),
    /// An alias, another type: NOERROR, no answer records, SOA in authority.
    NoData,
    /// Answer NXDOMAIN (e.g. `use-application-dns.net`).
    NxDomain,
    /// Not ours (or paused, or failing open): relay to the upstream resolvers.
    Forward,
}

/// The address the agent gives an alias, in the family that was asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AliasAddress {
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

/// DNS RR type numbers the core cares about.
pub mod rtype {
    pub const A: u16 = 1;
    pub const AAAA: u16 = 28;
}

/// Lower-cases a query name and strips one final dot, so `DB.Prod.Example.` and
/// `db.prod.example` are the same alias.
pub fn normalize_name(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// The same normalisation as [`normalize_name`], borrowing when `name` is already normal
/// (the usual case once the shell has normalised it), so hot-path lookups do not allocate.
pub fn normalized_name(name: &str) -> Cow<'_, str> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(trimmed.to_ascii_lowercase())
    } else {
        Cow::Borrowed(trimmed)
    }
}

#[cfg(test)]
mod tests {
    use super::{normalize_name, normalized_name};
    use proptest::prelude::*;
    use std::borrow::Cow;

    #[test]
    fn case_and_final_dot_do_not_matter() {
        assert_eq!(normalize_name("DB.Prod.Example."), "db.prod.example");
        assert_eq!(normalize_name("db.prod.example"), "db.prod.example");
        assert_eq!(normalize_name("."), "");
    }

    #[test]
    fn normal_names_are_borrowed() {
        assert!(matches!(
            normalized_name("db.prod.example"),
            Cow::Borrowed(_)
        ));
        assert!(matches!(
            normalized_name("db.prod.example."),
            Cow::Borrowed(_)
        ));
        assert_eq!(normalized_name("DB.prod.example."), "db.prod.example");
    }

    proptest! {
        #[test]
        fn both_normalisations_agree(name in "[a-zA-Z0-9.-]{0,40}") {
            prop_assert_eq!(normalized_name(&name).into_owned(), normalize_name(&name));
        }
    }
}
