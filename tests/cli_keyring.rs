//! The keyutils token store across processes, without a controller: a token saved by one
//! process is found by a later `boundary` process (which then fails only because nothing
//! listens at the address), and a missing entry is reported as such.

mod support;

use boundary_wire::api::Secret;
use boundary_wire::api::auth::AuthToken;
use boundary_wire::api::ids::{AuthTokenString, random_base62};
use support::cli::Cli;
use support::dev::free_port;
use support::keyring::KeyringEntry;
use support::runtime::runtime;

fn token(t: &AuthTokenString) -> AuthToken {
    let now = boundary_wire::api::time_format::now();
    AuthToken {
        id: t.id.clone(),
        scope_id: "global".into(),
        scope: None,
        token: Some(Secret::new(t.to_token_string())),
        user_id: "u_1234567890".into(),
        auth_method_id: "ampw_1234567890".into(),
        account_id: "acctpw_1234567890".into(),
        created_time: now,
        updated_time: now,
        approximate_last_used_time: now,
        expiration_time: now,
        authorized_actions: vec![],
    }
}

#[test]
fn a_token_saved_by_one_process_is_used_by_the_next() {
    let name = format!("cli-keyring-{}", random_base62(10).to_lowercase());
    let _cleanup = KeyringEntry(name.clone());
    let generated = AuthTokenString::generate();
    runtime()
        .block_on(boundary::cli::token_store::save(&name, &token(&generated)))
        .expect("save to the kernel keyring");

    let addr = format!("http://127.0.0.1:{}", free_port());
    let run = Cli::new(&addr).run(&["auth-tokens", "read", "-token-name", &name]);
    assert_eq!(run.code(), Some(2), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("could not connect to the controller at {addr}")),
        "the stored token was found and used: {}",
        run.stderr
    );

    // `-keyring-type none` never reads it.
    let run = Cli::new(&addr).run(&[
        "auth-tokens",
        "read",
        "-token-name",
        &name,
        "-keyring-type",
        "none",
    ]);
    assert_eq!(run.code(), Some(2));
    assert!(run.stderr.contains("no -id given"), "{}", run.stderr);

    // Gone from the keyring → not found by the next process either.
    assert!(
        runtime()
            .block_on(boundary::cli::token_store::remove(&name))
            .expect("remove")
    );
    let run = Cli::new(&addr).run(&["auth-tokens", "read", "-token-name", &name]);
    assert_eq!(run.code(), Some(2));
    assert!(run.stderr.contains("no -id given"), "{}", run.stderr);
}
