//! A throwaway PostgreSQL cluster for tests: `initdb` into a temporary directory, a server
//! on 127.0.0.1 with a free port (its unix socket inside the same directory), stopped and
//! removed on drop.
//!
//! The binaries come from `pg_config --bindir`, `/usr/lib/postgresql/*/bin` or `PATH`.
//! Missing binaries are an error telling how to install them, never a silent skip: a test
//! that needs PostgreSQL must fail where PostgreSQL is absent. As root, the server runs as
//! the `postgres` user (`initdb` refuses root) via `runuser`; otherwise as the caller.
//!
//! ```ignore
//! let cluster = PostgresCluster::start()?;
//! let store = open_store(&cluster.url()).await?;                 // database `boundary_test`
//! let other = open_store(&cluster.create_database("second")?).await?;
//! ```

use anyhow::{Context, Result, anyhow, bail};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The database [`PostgresCluster::url`] points at, created by `start`.
pub const DEFAULT_DATABASE: &str = "boundary_test";
const SUPERUSER: &str = "postgres";
/// Tries with a fresh port when the server fails to start (the port may have been taken
/// between probing and binding).
const START_ATTEMPTS: u32 = 3;

pub struct PostgresCluster {
    /// Removed on drop (after the server stopped).
    dir: tempfile::TempDir,
    bindir: PathBuf,
    run_as: Option<String>,
    port: u16,
}

impl PostgresCluster {
    /// Initialises and starts a cluster, and creates [`DEFAULT_DATABASE`].
    pub fn start() -> Result<Self> {
        let bindir = find_bindir()?;
        let run_as = if nix::unistd::geteuid().is_root() {
            Some(SUPERUSER.to_string())
        } else {
            None
        };
        let dir = tempfile::Builder::new()
            .prefix("boundary-pg-")
            .tempdir()
            .context("creating the cluster's temporary directory")?;
        if let Some(user) = &run_as {
            let account = nix::unistd::User::from_name(user)
                .context("looking up the postgres user")?
                .ok_or_else(|| {
                    anyhow!("no '{user}' OS user: install the postgresql package (it creates it)")
                })?;
            nix::unistd::chown(dir.path(), Some(account.uid), Some(account.gid))
                .context("giving the cluster directory to the postgres user")?;
        }
        let mut cluster = PostgresCluster {
            dir,
            bindir,
            run_as,
            port: 0,
        };
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data_dir(),
                "--auth=trust",
                "-U",
                SUPERUSER,
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
        )?;
        let mut last_error = None;
        for _ in 0..START_ATTEMPTS {
            cluster.port = free_port()?;
            match cluster.start_server() {
                Ok(()) => {
                    last_error = None;
                    break;
                }
                Err(e) => last_error = Some(e),
            }
        }
        if let Some(e) = last_error {
            return Err(e.context(format!("server log:\n{}", cluster.log())));
        }
        cluster.create_database(DEFAULT_DATABASE)?;
        Ok(cluster)
    }

    /// URL of [`DEFAULT_DATABASE`].
    pub fn url(&self) -> String {
        self.database_url(DEFAULT_DATABASE)
    }

    /// URL of database `name` on this cluster (it may not exist yet).
    pub fn database_url(&self, name: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates database `name` (letters, digits, `_`) and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            bail!("database name {name:?} must be letters, digits and '_'");
        }
        let port = self.port.to_string();
        self.run(
            "createdb",
            &["-h", "127.0.0.1", "-p", &port, "-U", SUPERUSER, name],
        )?;
        Ok(self.database_url(name))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn data_dir(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn start_server(&self) -> Result<()> {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c max_connections=200",
            self.port,
            self.dir.path().display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data_dir(),
                "-l",
                &self.log_path().display().to_string(),
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
        .map(drop)
    }

    /// Runs `program` from the PostgreSQL bindir (as the postgres user when we are root).
    fn run(&self, program: &str, args: &[&str]) -> Result<Output> {
        let binary = self.bindir.join(program);
        let mut command = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&binary);
                c
            }
            None => Command::new(&binary),
        };
        // The server inherits the working directory: one every user can enter.
        command.args(args).current_dir(self.dir.path());
        let output = command
            .output()
            .with_context(|| format!("running {}", binary.display()))?;
        if !output.status.success() {
            bail!(
                "{program} {} failed ({}):\n{}{}",
                args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(output)
    }
}

impl Drop for PostgresCluster {
    fn drop(&mut self) {
        if self.port != 0 {
            let data_dir = self.data_dir();
            if let Err(e) = self.run(
                "pg_ctl",
                &["-D", &data_dir, "-m", "immediate", "-w", "stop"],
            ) {
                eprintln!("stopping the test PostgreSQL cluster: {e:#}");
            }
        }
        // The TempDir field removes the directory after this.
    }
}

/// The directory holding `initdb`, `pg_ctl` and `createdb`.
fn find_bindir() -> Result<PathBuf> {
    let has_tools = |dir: &Path| {
        ["initdb", "pg_ctl", "createdb"]
            .iter()
            .all(|t| dir.join(t).is_file())
    };
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if has_tools(&dir) {
            return Ok(dir);
        }
    }
    let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, dir)| has_tools(dir))
        .collect();
    versioned.sort();
    if let Some((_, dir)) = versioned.pop() {
        return Ok(dir);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_tools(&dir) {
                return Ok(dir);
            }
        }
    }
    bail!(
        "PostgreSQL server binaries (initdb, pg_ctl, createdb) not found via pg_config, \
         /usr/lib/postgresql/*/bin or PATH: install the `postgresql` package \
         (apt-get install postgresql) to run the PostgreSQL tests"
    )
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("probing for a free port")?;
    Ok(listener.local_addr()?.port())
}
