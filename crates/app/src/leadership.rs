//! Background tasks that run on one server at a time when several share the store: each
//! task's loop asks, every tick, whether this process leads it (see `Store::lease`).

use crate::App;
use anpr_store::{BackgroundTask, TaskLease};

/// The lease of one background task across ticks: taken when free, kept while it holds.
pub struct Leadership {
    task: BackgroundTask,
    lease: Option<TaskLease>,
}

impl Leadership {
    pub fn new(task: BackgroundTask) -> Self {
        Leadership { task, lease: None }
    }

    /// Whether this process runs the task now. A lease whose connection was lost is given up
    /// and sought again, so that the task moves to another process rather than run twice.
    pub async fn holds(&mut self, state: &App) -> bool {
        if self.lease.as_ref().is_some_and(TaskLease::is_held) {
            return true;
        }
        self.lease = match state.store.lease(self.task).await {
            Ok(lease) => lease,
            Err(e) => {
                tracing::warn!(error = %e, task = ?self.task, "cannot take the task's lease");
                None
            }
        };
        if self.lease.is_some() {
            tracing::info!(task = ?self.task, "this process now runs the task");
        }
        self.lease.is_some()
    }
}
