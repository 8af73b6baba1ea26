//! The scale rows (issue 12): many aliases for one user. Its own end-to-end scenario,
//! because it needs what the shared one does not have: `boundary dev` on a SQLite file
//! (so the harness can add the aliases in bulk) and an agent with no token yet (so the
//! first listing can be timed from the registration on).
//!
//! The aliases are written straight into the dev controller's database, in one
//! transaction, while it runs: the same rows `create_alias` writes (an id, a value, the
//! seeded target, a `change_seq` each) and the change counter moved past them, so the
//! listing and its refresh see them exactly as aliases created through the API. Creating
//! 100 000 through the API would take minutes and measure something else. Everything
//! after that goes through the real programs:
//! - learn: alice registers her token; the time until the agent answers a bulk alias
//!   (the cache applies a listing only when it is complete, so that is the whole listing);
//! - the controller alone: the same listing as alice with the controller client, pages
//!   and time, then a refresh with its list token after renaming a few aliases through
//!   the API (the delta), and the time until the agent answers a renamed one;
//! - the agent's RSS (`VmRSS`) after learning, and after warming sessions;
//! - warm answers: dnsperf as alice over random aliases of the listing, each with a live
//!   session.

use std::time::{Duration, Instant};

use boundary_net::client::{ClientOptions, ControllerClient};
use boundary_wire::api::Secret;
use boundary_wire::api::alias::UpdateAliasRequest;
use rand::seq::IndexedRandom;

use crate::Load;
use crate::admin::{Login, log_in};
use crate::agent::{DNS_V4, sessions_json};
use crate::controller::{CONTROLLER_URL, TARGET_ID};
use crate::dnsperf::{dnsperf, query_file};
use crate::report::{Row, Table};
use crate::scenario::Scenario;
use crate::support::dig::dig;
use crate::support::runtime::block_on_thread;
use crate::support::wait::poll_until;

/// How many aliases, warm names and renamed aliases each mode uses.
#[derive(Clone, Copy, Debug)]
pub struct Scale {
    pub aliases: usize,
    /// Random aliases given a session before the warm run (each is one authorization).
    pub warm: usize,
    pub renamed: usize,
}

impl Scale {
    pub fn new(smoke: bool) -> Scale {
        if smoke {
            Scale {
                aliases: 1_000,
                warm: 20,
                renamed: 3,
            }
        } else {
            Scale {
                aliases: 100_000,
                warm: warm_sessions(),
                renamed: 10,
            }
        }
    }
}

/// `BENCH_SCALE_SESSIONS`: how many random aliases get a session before the RSS and warm
/// rows (default 1 000; the 20 000 takes minutes, one authorization each).
fn warm_sessions() -> usize {
    match std::env::var("BENCH_SCALE_SESSIONS") {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("BENCH_SCALE_SESSIONS={value:?} is not a count")),
        Err(_) => 1_000,
    }
}

/// Bounds a learn or refresh wait; not a speed expectation.
const LEARN_TIMEOUT: Duration = Duration::from_secs(600);
/// The agent's refresh interval in this scenario (the shortest the config allows).
const REFRESH: &str = "1s";

pub fn aliases(scale: Scale, load: Load, table: &mut Table) {
    let scenario = start(&format!("alias_refresh_interval = \"{REFRESH}\"\n"));
    let topology = &scenario.topology;
    let alice = &topology.alice;
    let names = bulk_insert(scale.aliases);
    let probe = names.last().expect("aliases").clone();

    let started = Instant::now();
    let login = scenario.register_alice_with_curl();
    wait_answered(&scenario, &probe);
    let learned = started.elapsed();
    let rss_learned = rss_mib(scenario.agent().pid);

    let controller = controller_listing(&scenario, &login);
    let admin = log_in(topology, "admin", "password");
    let renamed = rename(&scenario, &admin, &names[..scale.renamed]);
    let renamed_at = Instant::now();
    let delta = controller_refresh(&scenario, &login, &controller.list_token);
    assert_eq!(
        delta.items, scale.renamed,
        "the refresh after renaming {} aliases",
        scale.renamed
    );
    wait_answered(&scenario, renamed.last().expect("renamed"));
    let agent_delta = renamed_at.elapsed();

    let mut rng = rand::rng();
    let warm: Vec<&String> = names[scale.renamed..]
        .choose_multiple(&mut rng, scale.warm)
        .collect();
    let lines: Vec<String> = warm.iter().map(|name| format!("{name} A")).collect();
    let file = query_file(topology.dir(), "scale-queries.txt", lines);
    for name in &warm {
        wait_answered(&scenario, name);
    }
    let sessions = sessions_json(topology, Some(alice)).len();
    let rss_warm = rss_mib(scenario.agent().pid);
    let run = dnsperf(&topology.client, alice, (DNS_V4, 53).into(), &file, load);

    let count = scale.aliases;
    table.push(Row {
        what: "many aliases: first complete listing learned by the agent",
        ours: format!(
            "{count} aliases: {:.2} s (the controller alone: {:.2} s for {} pages)",
            learned.as_secs_f64(),
            controller.elapsed.as_secs_f64(),
            controller.pages
        ),
        peer: "—".to_owned(),
        ratio: None,
        target: "≤ 3 s for 100 000",
    });
    table.push(Row {
        what: "many aliases: refresh after renaming a few",
        ours: format!(
            "{} renamed: controller {:.1} ms; the agent answers a new name after {:.2} s \
             (refresh every {REFRESH})",
            scale.renamed,
            delta.elapsed.as_secs_f64() * 1000.0,
            agent_delta.as_secs_f64()
        ),
        peer: "—".to_owned(),
        ratio: None,
        target: "one refresh interval",
    });
    table.push(Row {
        what: "many aliases: agent RSS",
        ours: format!(
            "{count} aliases: {rss_learned:.1} MiB listed, {rss_warm:.1} MiB with {sessions} \
             sessions"
        ),
        peer: "—".to_owned(),
        ratio: None,
        target: "≤ 100 MB for 100 000",
    });
    table.push(Row {
        what: "many aliases: warm answers over random aliases",
        ours: format!("{} of {count}: {}", scale.warm, run.summary()),
        peer: "—".to_owned(),
        ratio: None,
        target: "as the two-alias row",
    });
}

/// The dev controller's database file: root's, under /run (nothing in a world-writable
/// directory), at a fixed path because `boundary dev` must be started with it before the
/// topology's own directory exists.
const DATABASE: &str = "/run/boundary-bench-scale.db";

/// The scenario with `boundary dev` on [`DATABASE`] (removed first), no token registered.
fn start(extra_config: &str) -> Scenario {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{DATABASE}{suffix}"));
    }
    let url = format!("sqlite://{DATABASE}");
    Scenario::start_unregistered_with_controller(&["-database-url", &url], extra_config)
}

/// Adds `count` aliases of the seeded target (`a{i}.scale.test`) in one transaction;
/// returns their values, oldest first.
fn bulk_insert(count: usize) -> Vec<String> {
    let started = Instant::now();
    let count_i64 = i64::try_from(count).expect("count");
    block_on_thread(async move {
        use sqlx::Connection;
        let mut db = sqlx::SqliteConnection::connect(&format!("sqlite://{DATABASE}"))
            .await
            .expect("open the dev database");
        let mut tx = db.begin().await.expect("begin");
        let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1_000_000;
        // One row per number; `created` one microsecond apart so the listing's order is
        // the insertion order.
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
             INSERT INTO aliases (id, scope_id, value, destination_id, host_id, name, \
             description, created, updated, version, change_seq) \
             SELECT printf('alt_s%09d', i), 'global', printf('a%d.scale.test', i), $2, NULL, \
             '', '', $3 + i, $3 + i, 1, \
             (SELECT last_seq FROM alias_change_counter WHERE id = 1) + i FROM n",
        )
        .bind(count_i64)
        .bind(TARGET_ID)
        .bind(now)
        .execute(&mut *tx)
        .await
        .expect("insert the aliases");
        sqlx::query("UPDATE alias_change_counter SET last_seq = last_seq + $1 WHERE id = 1")
            .bind(count_i64)
            .execute(&mut *tx)
            .await
            .expect("move the change counter");
        tx.commit().await.expect("commit");
    });
    eprintln!(
        "harness: {count} aliases inserted in {:?}",
        started.elapsed()
    );
    (1..=count).map(|i| format!("a{i}.scale.test")).collect()
}

/// Polls the agent as alice until it answers `name` with an address.
fn wait_answered(scenario: &Scenario, name: &str) {
    let topology = &scenario.topology;
    let server = format!("@{DNS_V4}");
    poll_until(
        &format!("the agent to answer {name}"),
        LEARN_TIMEOUT,
        || {
            scenario.agent().fail_if_exited(topology);
            let reply = dig(
                &topology.client,
                Some(&topology.alice),
                &[&server, name, "A", "+tries=1", "+time=5"],
            )?;
            if reply.addresses().is_empty() {
                Err(format!("no address yet: {}", reply.status()))
            } else {
                Ok(())
            }
        },
    );
}

fn client(token: &str) -> ControllerClient {
    ControllerClient::new(
        CONTROLLER_URL,
        ClientOptions {
            token: Some(Secret::new(token.to_owned())),
            ..ClientOptions::default()
        },
    )
    .expect("controller client")
}

struct Listing {
    elapsed: Duration,
    pages: usize,
    list_token: String,
}

/// alice's full listing with the controller client, page by page, from the client.
fn controller_listing(scenario: &Scenario, login: &Login) -> Listing {
    let user_id = scenario.alice.user_id.clone();
    scenario.topology.client.run_on_thread(|| {
        block_on_thread(async {
            let client = client(&login.token);
            let started = Instant::now();
            let mut pages = 0;
            let mut token: Option<String> = None;
            loop {
                let page = client
                    .list_resolvable_aliases(&user_id, token.as_deref(), None)
                    .await
                    .expect("list-resolvable-aliases");
                pages += 1;
                let complete = page.response_type == boundary_wire::api::ResponseType::Complete;
                token = Some(page.list_token);
                if complete {
                    break;
                }
            }
            Listing {
                elapsed: started.elapsed(),
                pages,
                list_token: token.expect("a token"),
            }
        })
    })
}

struct Delta {
    elapsed: Duration,
    items: usize,
}

/// One refresh with the token of a complete listing (followed to its end).
fn controller_refresh(scenario: &Scenario, login: &Login, list_token: &str) -> Delta {
    let user_id = scenario.alice.user_id.clone();
    scenario.topology.client.run_on_thread(|| {
        block_on_thread(async {
            let client = client(&login.token);
            let started = Instant::now();
            let all = client
                .list_resolvable_aliases_to_end(&user_id, Some(list_token), None)
                .await
                .expect("refresh");
            Delta {
                elapsed: started.elapsed(),
                items: all.items.len(),
            }
        })
    })
}

/// Renames `values` through the API as the admin (`r-` prefixed); returns the new values.
fn rename(scenario: &Scenario, admin: &Login, values: &[String]) -> Vec<String> {
    scenario.topology.infra.run_on_thread(|| {
        block_on_thread(async {
            let client = client(&admin.token);
            let mut renamed = Vec::new();
            for value in values {
                let id = format!(
                    "alt_s{:09}",
                    value
                        .trim_start_matches('a')
                        .split('.')
                        .next()
                        .and_then(|n| n.parse::<u64>().ok())
                        .expect("a bulk alias value")
                );
                let alias = client.read_alias(&id).await.expect("read the alias");
                let new_value = format!("r-{value}");
                client
                    .update_alias(
                        &id,
                        &UpdateAliasRequest {
                            version: Some(alias.version),
                            value: Some(new_value.clone()),
                            ..UpdateAliasRequest::default()
                        },
                    )
                    .await
                    .expect("rename the alias");
                renamed.push(new_value);
            }
            renamed
        })
    })
}

/// `VmRSS` of `pid` in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("VmRSS");
    kib / 1024.0
}
