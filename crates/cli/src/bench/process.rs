//! What the kernel says about a process (this one or a server the benchmark started): CPU time
//! and resident memory, from `/proc`.

/// A process by its `/proc` entry.
pub struct Proc(String);

impl Proc {
    pub fn current() -> Proc {
        Proc("self".into())
    }

    pub fn of(pid: u32) -> Proc {
        Proc(pid.to_string())
    }

    /// CPU seconds (user and system) the process has used so far (0 where unknown). The
    /// machine is shared: wall time alone says as much about the neighbours as about the work.
    pub fn cpu_seconds(&self) -> f64 {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", self.0)) else {
            return 0.0;
        };
        // Fields after the command name (which may hold spaces, hence the last ')'): utime and
        // stime are the 12th and 13th, in clock ticks (100 a second on Linux).
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<&str> = rest.split_whitespace().collect();
        let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        (tick(11) + tick(12)) / 100.0
    }

    /// Resident memory now, in MiB (0 where unknown).
    pub fn rss_mib(&self) -> f64 {
        self.status_mib("VmRSS:")
    }

    /// Peak resident memory since the last [`Proc::reset_peak_rss`], in MiB (0 where unknown).
    pub fn peak_rss_mib(&self) -> f64 {
        self.status_mib("VmHWM:")
    }

    /// Resets the kernel's peak-RSS mark, so that the peak measured is the next step's.
    pub fn reset_peak_rss(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.0), "5");
    }

    fn status_mib(&self, field: &str) -> f64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.0))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix(field))
                    .and_then(|v| v.split_whitespace().next())
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
            .map_or(0.0, |kb| kb / 1024.0)
    }
}
