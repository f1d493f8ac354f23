//! The decode budget: how much memory the images being decoded in this process may hold at
//! once, whichever request or command decodes them.
//!
//! A 40-kilobyte PNG can describe 40 megapixels of one grey: decoding it holds 160 MB. Each
//! image's cost is read from its header ([`anpr_recognition::decode::decode_cost`]) and
//! admitted against the budget before a pixel is decoded, so a burst of such images waits, or
//! is turned away with `decode_busy` (503, `Retry-After`), instead of taking the process's
//! memory. An image costing more than the whole budget is refused outright (413). The permit
//! travels with the image to the thread that decodes it and is returned when that thread is
//! done with it, however it ends.

use crate::error::{AppError, AppResult};
use anpr_recognition::decode::{DecodeCost, MAX_PIXELS};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The bytes of the costliest photo the recogniser accepts: [`MAX_PIXELS`] of 8-bit RGB
/// turned a quarter by its EXIF orientation (two RGB copies).
pub const LARGEST_PHOTO_COST: u64 = MAX_PIXELS * 6;

/// Seconds a refused camera is told to wait before it sends the read again.
pub const RETRY_AFTER_S: u64 = 2;

/// The budget is counted in permits of one KiB, so that a budget of terabytes still fits the
/// semaphore's `u32` requests.
const PERMIT_BYTES: u64 = 1024;

/// How much decoding may hold at once, and how many images decode at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeConfig {
    /// Bytes that the images admitted for decoding may hold at once, as
    /// [`anpr_recognition::decode::decode_cost`] counts them.
    pub budget_bytes: u64,
    /// Images decoded and recognised at once (the recognition threads).
    pub concurrency: usize,
    /// The longest an image waits for room in the budget before its request is refused.
    pub wait: Duration,
}

impl DecodeConfig {
    /// One recognition thread per core; room for each of them to decode the largest photo
    /// accepted, but never more than a quarter of the machine's memory (the cgroup's limit
    /// where it is lower).
    pub fn for_this_machine() -> DecodeConfig {
        DecodeConfig::for_threads(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// The defaults for `concurrency` recognition threads on this machine.
    pub fn for_threads(concurrency: usize) -> DecodeConfig {
        let concurrency = concurrency.max(1);
        DecodeConfig {
            budget_bytes: default_budget(concurrency, machine_memory_bytes()),
            concurrency,
            wait: Duration::from_secs(1),
        }
    }
}

impl Default for DecodeConfig {
    fn default() -> Self {
        DecodeConfig::for_this_machine()
    }
}

/// `concurrency` largest photos, within a quarter of `memory` when it is known.
pub fn default_budget(concurrency: usize, memory: Option<u64>) -> u64 {
    let wanted = LARGEST_PHOTO_COST.saturating_mul(concurrency.max(1) as u64);
    match memory {
        Some(memory) => wanted.min(memory / 4),
        None => wanted,
    }
}

/// The memory this process may use: the machine's, or its cgroup's limit where that is lower.
fn machine_memory_bytes() -> Option<u64> {
    let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        m.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kib| kib * 1024)
    });
    // cgroup v2 says `max` when unlimited, which does not parse.
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok());
    match (total, cgroup) {
        (Some(t), Some(c)) => Some(t.min(c)),
        (t, c) => t.or(c),
    }
}

/// The budget of one process, shared by every request and command in it.
#[derive(Debug)]
pub struct DecodeBudget {
    permits: Arc<Semaphore>,
    capacity: u32,
    wait: Duration,
}

/// Room in the budget for one image, returned when dropped.
#[derive(Debug)]
pub struct DecodePermit {
    _permit: OwnedSemaphorePermit,
}

impl DecodeBudget {
    pub fn new(config: &DecodeConfig) -> DecodeBudget {
        let capacity = u32::try_from(config.budget_bytes.div_ceil(PERMIT_BYTES))
            .unwrap_or(u32::MAX)
            .max(1);
        DecodeBudget {
            permits: Arc::new(Semaphore::new(capacity as usize)),
            capacity,
            wait: config.wait,
        }
    }

    /// The whole budget, in bytes.
    pub fn capacity_bytes(&self) -> u64 {
        u64::from(self.capacity) * PERMIT_BYTES
    }

    /// Bytes admitted and not yet returned.
    pub fn in_flight_bytes(&self) -> u64 {
        let free = self.permits.available_permits() as u64;
        (u64::from(self.capacity) - free.min(u64::from(self.capacity))) * PERMIT_BYTES
    }

    /// Room for decoding an image of `cost`, which came in the request's `field`: at once when
    /// there is room, after a short wait for images in flight to finish, or a refusal —
    /// `decode_busy` when the budget stayed full, `TooLarge` when the image alone is more than
    /// the whole budget.
    pub async fn admit(&self, cost: &DecodeCost, field: &str) -> AppResult<DecodePermit> {
        let needed = cost.bytes.div_ceil(PERMIT_BYTES).max(1);
        let needed = match u32::try_from(needed) {
            Ok(n) if n <= self.capacity => n,
            _ => return Err(self.too_large(cost, field)),
        };
        let acquire = self.permits.clone().acquire_many_owned(needed);
        match tokio::time::timeout(self.wait, acquire).await {
            Ok(Ok(permit)) => Ok(DecodePermit { _permit: permit }),
            Ok(Err(closed)) => Err(AppError::internal(closed)),
            Err(_) => Err(AppError::DecodeBusy {
                retry_after_s: RETRY_AFTER_S,
            }),
        }
    }

    fn too_large(&self, cost: &DecodeCost, field: &str) -> AppError {
        AppError::TooLarge {
            field: Some(field.to_string()),
            message: format!(
                "{field} is {}x{} pixels, which takes {} MiB to decode; this server decodes at \
                 most {} MiB of images at once: send a smaller image",
                cost.width,
                cost.height,
                cost.bytes.div_ceil(1 << 20),
                self.capacity_bytes() >> 20,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(bytes: u64, wait_ms: u64) -> DecodeBudget {
        DecodeBudget::new(&DecodeConfig {
            budget_bytes: bytes,
            concurrency: 2,
            wait: Duration::from_millis(wait_ms),
        })
    }

    fn cost(bytes: u64) -> DecodeCost {
        DecodeCost {
            width: 100,
            height: 100,
            bytes,
        }
    }

    #[tokio::test]
    async fn admits_within_the_budget_and_refuses_beyond_it() {
        let budget = budget(10 << 20, 20);
        let first = budget
            .admit(&cost(6 << 20), "overview_image")
            .await
            .unwrap();
        assert_eq!(budget.in_flight_bytes(), 6 << 20);
        let busy = budget.admit(&cost(6 << 20), "overview_image").await;
        assert!(matches!(busy, Err(AppError::DecodeBusy { .. })), "{busy:?}");
        drop(first);
        assert_eq!(budget.in_flight_bytes(), 0);
        let again = budget.admit(&cost(6 << 20), "overview_image").await;
        assert!(again.is_ok());
    }

    #[tokio::test]
    async fn a_waiting_image_is_admitted_when_room_is_returned() {
        let budget = Arc::new(budget(10 << 20, 5_000));
        let first = budget.admit(&cost(8 << 20), "a").await.unwrap();
        let waiting = tokio::spawn({
            let budget = budget.clone();
            async move { budget.admit(&cost(8 << 20), "b").await.map(|_| ()) }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(first);
        assert!(waiting.await.unwrap().is_ok());
    }

    #[tokio::test]
    async fn an_image_over_the_whole_budget_is_too_large_and_named() {
        let budget = budget(10 << 20, 20);
        match budget
            .admit(&cost(11 << 20), "reads[2].overview_image")
            .await
        {
            Err(e @ AppError::TooLarge { .. }) => {
                assert_eq!(e.field(), Some("reads[2].overview_image"));
                assert!(e.to_string().contains("smaller image"), "{e}");
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
        assert_eq!(budget.in_flight_bytes(), 0);
    }

    #[test]
    fn the_default_fits_each_core_a_largest_photo_within_a_quarter_of_memory() {
        assert_eq!(default_budget(2, None), 2 * LARGEST_PHOTO_COST);
        assert_eq!(default_budget(16, Some(128 << 30)), 16 * LARGEST_PHOTO_COST);
        assert_eq!(default_budget(16, Some(2 << 30)), 512 << 20);
        let here = DecodeConfig::for_this_machine();
        assert!(here.concurrency >= 1 && here.budget_bytes > 0);
    }
}
