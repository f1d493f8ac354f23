//! Alert fan-out to connected clients.

use anpr_domain::Alert;
use std::sync::Arc;
use tokio::sync::broadcast;

/// Why a subscription yields no alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    /// The client fell more than its buffer behind and alerts were dropped for it: end its
    /// connection; it resumes from the store with `Last-Event-ID`.
    Lagged,
    /// The bus is gone (server shutting down).
    Closed,
}

/// Publishes stored alerts to every subscriber. `publish` never blocks or waits for a slow
/// subscriber: each has a bounded buffer, and one that falls behind loses its subscription.
pub trait AlertBus: Send + Sync + 'static {
    fn publish(&self, alert: Arc<Alert>);
    /// A subscription to every alert published from now on; the caller filters what its user
    /// may see.
    fn subscribe(&self) -> AlertReceiver;
}

/// One client's subscription.
pub struct AlertReceiver {
    rx: broadcast::Receiver<Arc<Alert>>,
}

impl AlertReceiver {
    pub fn new(rx: broadcast::Receiver<Arc<Alert>>) -> Self {
        AlertReceiver { rx }
    }

    pub async fn recv(&mut self) -> Result<Arc<Alert>, RecvError> {
        match self.rx.recv().await {
            Ok(a) => Ok(a),
            Err(broadcast::error::RecvError::Lagged(_)) => Err(RecvError::Lagged),
            Err(broadcast::error::RecvError::Closed) => Err(RecvError::Closed),
        }
    }
}

/// The embedded bus: a broadcast ring of `capacity` alerts shared by all subscribers (each
/// alert is stored once, whatever the number of clients), each subscriber with its own
/// position in it.
pub struct LocalAlertBus {
    tx: broadcast::Sender<Arc<Alert>>,
}

impl LocalAlertBus {
    pub fn new(capacity: usize) -> Self {
        LocalAlertBus {
            tx: broadcast::channel(capacity.max(1)).0,
        }
    }
}

impl AlertBus for LocalAlertBus {
    fn publish(&self, alert: Arc<Alert>) {
        // No subscriber is not an error: the alert is stored and will be read on resume.
        let _ = self.tx.send(alert);
    }

    fn subscribe(&self) -> AlertReceiver {
        AlertReceiver::new(self.tx.subscribe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anpr_domain::GeoPoint;
    use chrono::Utc;

    fn alert(id: i64) -> Arc<Alert> {
        Arc::new(Alert {
            id,
            kind: anpr_domain::AlertKind::Watch,
            authorisation_id: 1,
            requester_user_id: 1,
            district: "Waikato".into(),
            plate: "ABC123".into(),
            read_id: id,
            read_plate: "ABC123".into(),
            captured_at: Utc::now(),
            camera_id: 1,
            site_id: 1,
            site_name: "x".into(),
            site_address: String::new(),
            police_contact: None,
            network_id: 1,
            location: GeoPoint { lat: 0.0, lon: 0.0 },
            images: vec![],
            created_at: Utc::now(),
            acked_at: None,
            acked_by_staff_id: None,
        })
    }

    #[tokio::test]
    async fn subscribers_get_alerts_published_after_they_subscribed() {
        let bus = LocalAlertBus::new(8);
        bus.publish(alert(1));
        let mut rx = bus.subscribe();
        bus.publish(alert(2));
        assert_eq!(rx.recv().await.unwrap().id, 2);
    }

    #[tokio::test]
    async fn a_slow_subscriber_lags_and_publishing_never_blocks() {
        let bus = LocalAlertBus::new(4);
        let mut slow = bus.subscribe();
        for i in 0..100 {
            bus.publish(alert(i));
        }
        assert_eq!(slow.recv().await.unwrap_err(), RecvError::Lagged);
    }
}
