//! The table the harness prints: one row per scenario, ours against the peer.

use std::fmt;

/// Where the numbers were measured.
pub struct Machine {
    cores: usize,
    kernel: String,
    date: String,
}

impl Machine {
    pub fn this() -> Machine {
        let cores = std::thread::available_parallelism().map_or(0, usize::from);
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| "unknown".to_owned(), |k| k.trim().to_owned());
        let date = time::OffsetDateTime::now_utc().date().to_string();
        Machine {
            cores,
            kernel,
            date,
        }
    }
}

impl fmt::Display for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, {} cores, Linux {}",
            self.date, self.cores, self.kernel
        )
    }
}

/// One scenario's result.
pub struct Row {
    pub what: &'static str,
    pub ours: String,
    pub peer: String,
    /// Ours over the peer, in the direction where more is better.
    pub ratio: Option<f64>,
    pub target: &'static str,
}

pub struct Table {
    machine: Machine,
    smoke: bool,
    rows: Vec<Row>,
}

impl Table {
    pub fn new(machine: Machine, smoke: bool) -> Table {
        Table {
            machine,
            smoke,
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Row) {
        eprintln!(
            "harness: {}: ours {}, peer {}",
            row.what, row.ours, row.peer
        );
        self.rows.push(row);
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Measured {}", self.machine)?;
        if self.smoke {
            writeln!(
                f,
                "(--smoke: one-second runs with one client; not a measurement)"
            )?;
        }
        writeln!(f)?;
        writeln!(f, "| what | ours | peer | ratio | target |")?;
        writeln!(f, "|---|---|---|---|---|")?;
        for row in &self.rows {
            let ratio = row
                .ratio
                .map_or_else(|| "—".to_owned(), |r| format!("{r:.2}×"));
            writeln!(
                f,
                "| {} | {} | {} | {ratio} | {} |",
                row.what, row.ours, row.peer, row.target
            )?;
        }
        Ok(())
    }
}
