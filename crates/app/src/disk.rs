//! Free space where the data lives (the database, the ledger's files, stored images), watched
//! in the background: when the disk fills, every use is refused (nothing can be recorded, so
//! nothing is returned), so the operators are warned well before — by the
//! `anpr_data_disk_free_bytes` and `anpr_data_disk_low` metrics (for their alerting), by a
//! warning in the log, repeated while the disk stays low, and by a notice every administrator
//! sees in the web UI while it does ([`notices_for`]).

use crate::App;
use std::path::Path;
use std::time::Duration;

/// How often free space is looked at.
pub const CHECK_EVERY: Duration = Duration::from_secs(30);
/// How often the warning is repeated while space stays low.
const WARN_EVERY: Duration = Duration::from_secs(600);

/// The size and free space of the filesystem holding a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskSpace {
    pub total_bytes: u64,
    /// What an unprivileged process may still write.
    pub free_bytes: u64,
}

impl DiskSpace {
    pub fn of(path: &Path) -> std::io::Result<DiskSpace> {
        let s = rustix::fs::statvfs(path)?;
        Ok(DiskSpace {
            total_bytes: s.f_blocks.saturating_mul(s.f_frsize),
            free_bytes: s.f_bavail.saturating_mul(s.f_frsize),
        })
    }

    /// Low: under `min_free_percent` of the disk, or under `min_free_bytes`, free.
    pub fn is_low(&self, min_free_percent: u8, min_free_bytes: u64) -> bool {
        let percent_floor = self.total_bytes / 100 * u64::from(min_free_percent);
        self.free_bytes < percent_floor.max(min_free_bytes)
    }
}

/// Checks the data directory's disk every [`CHECK_EVERY`] until the process ends.
pub fn spawn_watchdog(app: App) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECK_EVERY);
        let mut last_warning: Option<tokio::time::Instant> = None;
        loop {
            tick.tick().await;
            let dir = app.data_dir.clone();
            let space = match tokio::task::spawn_blocking(move || DiskSpace::of(&dir)).await {
                Ok(Ok(space)) => space,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "cannot read the data directory's free space");
                    continue;
                }
                Err(_) => continue,
            };
            let low = space.is_low(
                app.config.disk_min_free_percent,
                app.config.disk_min_free_bytes,
            );
            app.metrics
                .data_disk_free_bytes
                .set(space.free_bytes.min(i64::MAX as u64) as i64);
            app.metrics.data_disk_low.set(i64::from(low));
            app.disk_low
                .store(low, std::sync::atomic::Ordering::Relaxed);
            if low && last_warning.is_none_or(|t| t.elapsed() >= WARN_EVERY) {
                tracing::warn!(
                    dir = %app.data_dir.display(),
                    free_mib = space.free_bytes >> 20,
                    total_mib = space.total_bytes >> 20,
                    "the data directory's disk is nearly full: when it is full, every request \
                     is refused because nothing can be recorded; free space or move the data"
                );
                last_warning = Some(tokio::time::Instant::now());
            } else if !low {
                last_warning = None;
            }
        }
    })
}

/// What `user` must be told about the platform itself when they sign in or reload: for an
/// administrator, a disk running low.
pub fn notices_for(app: &App, user: &anpr_domain::User) -> Vec<String> {
    let admin = anpr_policy::permissions::grants(&user.roles, anpr_policy::Permission::Administer);
    if admin && app.disk_low.load(std::sync::atomic::Ordering::Relaxed) {
        vec![
            "The data directory's disk is nearly full. When it is full, every request is refused \
             because nothing can be recorded: free space on it or move the data now."
                .into(),
        ]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn low_means_under_the_percentage_or_the_floor() {
        let gib = 1 << 30;
        let disk = |free: u64| DiskSpace {
            total_bytes: 100 * gib,
            free_bytes: free,
        };
        assert!(disk(9 * gib).is_low(10, gib));
        assert!(!disk(11 * gib).is_low(10, gib));
        assert!(disk(3 * gib).is_low(1, 4 * gib));
    }

    #[test]
    fn the_data_directory_has_a_size_and_free_space() {
        let dir = tempfile::tempdir().unwrap();
        let space = DiskSpace::of(dir.path()).unwrap();
        assert!(space.total_bytes > 0 && space.free_bytes <= space.total_bytes);
    }
}
