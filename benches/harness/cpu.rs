//! CPU time a server spends per query: unlike a rate, it does not depend on what else
//! the machine's cores are busy with (the load generator, the upstream, other programs),
//! so it compares two servers' work per query even on a shared 2-core machine.

/// The CPU time (user + system) `pid` has used so far, from `/proc/<pid>/stat`.
#[derive(Clone, Copy)]
pub struct CpuMeter {
    pid: u32,
    start_seconds: f64,
}

impl CpuMeter {
    pub fn start(pid: u32) -> CpuMeter {
        CpuMeter {
            pid,
            start_seconds: cpu_seconds(pid),
        }
    }

    /// Microseconds of CPU per query since [`CpuMeter::start`].
    pub fn micros_per(&self, queries: u64) -> f64 {
        let used = cpu_seconds(self.pid) - self.start_seconds;
        used * 1e6 / queries.max(1) as f64
    }
}

fn cpu_seconds(pid: u32) -> f64 {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after_name = &stat[stat.rfind(')').expect("stat has a command name") + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name and state.
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    ticks as f64 / clock_ticks_per_second()
}

/// The unit of `/proc/<pid>/stat`'s times (`getconf CLK_TCK`, 100 on Linux).
fn clock_ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        let output = std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .expect("run getconf CLK_TCK");
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .expect("getconf CLK_TCK prints a number")
    })
}
