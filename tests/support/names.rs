//! Unique names for what a test creates, so tests sharing a controller or a machine
//! never collide.

/// A unique DNS-like alias value for this run, `<prefix>-<random>.test`.
pub fn unique_alias(prefix: &str) -> String {
    format!(
        "{prefix}-{}.test",
        boundary_wire::api::ids::random_base62(8).to_lowercase()
    )
}
