//! Real-time tracking: active watches, matching every ingested read against them, and the
//! fan-out of the resulting alerts.
//!
//! An approved tracking authorisation becomes a [`Watch`]. The [`WatchSet`] answers "which
//! watches does this read match?" in O(1) per read for exact plates (a hash lookup) and at a
//! bounded cost for OCR-fuzzy watches (a hash lookup by confusion-class key, the same classes
//! search uses). The [`AlertBus`] fans stored alerts out to connected clients with a bounded
//! buffer per client, so a slow client is dropped (and resumes from the store) rather than ever
//! slowing ingestion.
//!
//! Both are traits so that several server processes can share them: a PostgreSQL
//! implementation keeps the same in-memory index per process, updated from `LISTEN`
//! notifications of authorisation changes, and publishes alerts with `NOTIFY`. The embedded
//! implementations here ([`LocalWatchSet`], [`LocalAlertBus`]) serve one process.
//! The [`HotList`] holds the plates of the admin-loaded stolen-vehicle hot list, whose hits
//! raise "vehicle of interest" alerts for a network's own staff where its agreement allows.
//! No HTTP, no SQL, no clock: times are passed in.

mod bus;
mod hot_list;
pub mod synthetic;
mod watch;

pub use bus::{AlertBus, AlertReceiver, LocalAlertBus, RecvError};
pub use hot_list::HotList;
pub use watch::{LocalWatchSet, Watch, WatchSet};
