//! What other processes changed, told by the database: every change that another server must
//! act on at once is announced with `pg_notify` on one channel inside the transaction that
//! makes it (so it is delivered on commit, never for a rolled-back change), and each process
//! listens on a connection of its own.

use super::PgStore;
use crate::{Result, StoreChange, StoreError};
use deadpool_postgres::GenericClient;
use futures_util::StreamExt;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_postgres::AsyncMessage;

/// The one channel every change is announced on (migration 9's triggers name it too).
pub(crate) const CHANNEL: &str = "anpr_changes";

/// Payloads (the authorisation's is followed by `:id`).
pub(crate) const ALERTS: &str = "alerts";
pub(crate) const AUTHORISATION: &str = "authorisation";
pub(crate) const WATCHES: &str = "watches";
pub(crate) const HOT_LIST: &str = "hot_list";
/// Followed by `:camera id`; sent by the `camera_keys` and `cameras` triggers (migration 9), so
/// that a change made by hand at the database is announced too.
pub(crate) const CAMERA: &str = "camera";

/// Changes announced while the consumer is busy wait here; beyond it the feed waits too
/// (nothing is dropped: a slow consumer only delays the next announcements).
const BUFFER: usize = 1024;

/// Longest pause between attempts to reconnect the listening connection.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Announces a change; delivered when the transaction (or statement) of `c` commits.
pub(crate) async fn notify(c: &impl GenericClient, payload: &str) -> Result<()> {
    c.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload])
        .await?;
    Ok(())
}

fn parse(payload: &str) -> Option<StoreChange> {
    match payload.split_once(':') {
        Some((AUTHORISATION, id)) => id.parse().ok().map(StoreChange::Authorisation),
        Some((CAMERA, id)) => id.parse().ok().map(StoreChange::CameraAccess),
        _ => match payload {
            ALERTS => Some(StoreChange::Alerts),
            WATCHES => Some(StoreChange::Watches),
            HOT_LIST => Some(StoreChange::HotList),
            _ => None,
        },
    }
}

impl PgStore {
    /// Starts listening; the feed opens with `Resync` and sends it again after every
    /// reconnection, since announcements made while it was away are lost.
    pub(crate) async fn changes_impl(&self) -> Result<mpsc::Receiver<StoreChange>> {
        let (tx, rx) = mpsc::channel(BUFFER);
        let target = self.inner().target.clone();
        // The first connection is made here, so a bad URL or a down server is an error now.
        let first = target
            .connect()
            .await
            .map_err(|e| StoreError::Connect(target.explain(&e)))?;
        tokio::spawn(async move {
            let mut connection = Some(first);
            let mut backoff = Duration::from_millis(100);
            while !tx.is_closed() {
                let (client, conn) = match connection.take() {
                    Some(c) => c,
                    None => match target.connect().await {
                        Ok(c) => c,
                        Err(e) => {
                            let error = target.explain(&e);
                            tracing::warn!(%error, "change feed: cannot reconnect");
                            tokio::time::sleep(backoff).await;
                            backoff = (backoff * 2).min(MAX_BACKOFF);
                            continue;
                        }
                    },
                };
                if listen(client, conn, &tx).await {
                    backoff = Duration::from_millis(100);
                }
            }
        });
        Ok(rx)
    }
}

/// Listens on one connection until it fails or the consumer goes away; whether it got as
/// far as listening.
async fn listen(
    client: tokio_postgres::Client,
    mut conn: anpr_postgres_tls::Connection,
    tx: &mpsc::Sender<StoreChange>,
) -> bool {
    let mut messages = futures_util::stream::poll_fn(move |cx| conn.poll_message(cx));
    let sql = format!("LISTEN {CHANNEL}");
    let listening = client.batch_execute(&sql);
    // The connection must be polled for the LISTEN to complete.
    tokio::pin!(listening);
    loop {
        tokio::select! {
            done = &mut listening => match done {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "change feed: LISTEN failed");
                    return false;
                }
            },
            m = messages.next() => if !matches!(m, Some(Ok(_))) {
                return false;
            },
        }
    }
    if tx.send(StoreChange::Resync).await.is_err() {
        return true;
    }
    while let Some(message) = messages.next().await {
        match message {
            Ok(AsyncMessage::Notification(n)) => {
                if let Some(change) = parse(n.payload()) {
                    if tx.send(change).await.is_err() {
                        return true;
                    }
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "change feed: connection lost");
                break;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_parse_and_unknown_ones_are_ignored() {
        assert_eq!(parse("alerts"), Some(StoreChange::Alerts));
        assert_eq!(
            parse("authorisation:42"),
            Some(StoreChange::Authorisation(42))
        );
        assert_eq!(parse("watches"), Some(StoreChange::Watches));
        assert_eq!(parse("hot_list"), Some(StoreChange::HotList));
        assert_eq!(parse("camera:7"), Some(StoreChange::CameraAccess(7)));
        assert_eq!(parse("camera:"), None);
        assert_eq!(parse("authorisation:x"), None);
        assert_eq!(parse("something-newer"), None);
    }
}
