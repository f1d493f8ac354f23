//! The data owners' side: each camera network's own controls over police use of its data, set
//! by the network's `network_auditor` and held by every decision that reaches its data.
//!
//! * **suspend sharing** — no new search reaches its reads and no watch alerts on its cameras
//!   while suspended (its reads are still received and kept: they are the network's own);
//! * **purposes withheld** — purpose codes it does not share for (e.g. `road_policing`): a
//!   search or watch under one of them does not reach its data;
//! * **maximum look-back** — a search over its reads is narrowed to reads no older than that
//!   many days, whatever look-back the police side approved.
//!
//! The rules are applied where the networks of a use are chosen
//! ([`crate::Policy::permitted_networks`] for searches, views and tracking requests, and
//! [`NetworkControls::withholds`] for a running watch's match), so every entry point obeys them
//! and every decision says which network withheld what and why.

use crate::decision::{Decision, DecisionAction, DecisionOutcome, Evaluation};
use crate::error::{PolicyError as E, RefusalKind as K};
use crate::permissions::{self, Permission};
use crate::{Policy, Subject};
use anpr_domain::{DomainError, NetworkId};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Longest maximum look-back a network may state (ten years): beyond it, no limit is meant.
pub const MAX_LOOKBACK_DAYS_LIMIT: u32 = 3650;

/// Most purpose codes one network may withhold.
pub const MAX_WITHHELD_PURPOSES: usize = 64;

/// One network's controls. A network that never set any has the default: sharing, every
/// purpose, no look-back limit of its own.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NetworkControls {
    pub network_id: NetworkId,
    /// Sharing suspended: no search or watch reaches the network's data.
    #[serde(default)]
    pub suspended: bool,
    /// Purpose codes the network does not share its data for.
    #[serde(default)]
    pub withheld_purposes: Vec<String>,
    /// Reads older than this many days are not served from the network; `None`: no limit of
    /// its own (the police policy's look-back applies).
    #[serde(default)]
    pub max_lookback_days: Option<u32>,
    /// When the controls were last changed (`None`: never).
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    /// The staff id of the network auditor who last changed them.
    #[serde(default)]
    pub updated_by: Option<String>,
}

/// Why a network's data is withheld from a use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Withholding {
    /// The network suspended sharing.
    Suspended,
    /// The network does not share for this purpose code.
    Purpose(String),
}

impl Withholding {
    /// The code a notice carries.
    pub fn code(&self) -> &'static str {
        match self {
            Withholding::Suspended => "network_suspended",
            Withholding::Purpose(_) => "network_purpose_withheld",
        }
    }

    /// Why, in words, for network `n` (a sentence's end: "it has suspended sharing").
    pub fn reason(&self) -> String {
        match self {
            Withholding::Suspended => "its owner has suspended sharing its data".into(),
            Withholding::Purpose(p) => format!(
                "its owner does not share its data for the purpose {}",
                p.replace('_', " ")
            ),
        }
    }
}

impl NetworkControls {
    /// The controls with their purpose codes trimmed, sorted and deduplicated, refused with the
    /// field at fault when out of bounds.
    pub fn validated(mut self) -> std::result::Result<Self, DomainError> {
        let mut codes = Vec::with_capacity(self.withheld_purposes.len());
        for c in &self.withheld_purposes {
            let c = c.trim();
            if c.is_empty()
                || c.chars().count() > 64
                || !c
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
            {
                return Err(DomainError::invalid(
                    "withheld_purposes",
                    "each purpose code is 1 to 64 letters, digits, `_` or `-` (e.g. \
                     road_policing)",
                ));
            }
            codes.push(c.to_string());
        }
        codes.sort();
        codes.dedup();
        if codes.len() > MAX_WITHHELD_PURPOSES {
            return Err(DomainError::invalid(
                "withheld_purposes",
                format!("at most {MAX_WITHHELD_PURPOSES} purpose codes"),
            ));
        }
        self.withheld_purposes = codes;
        if let Some(d) = self.max_lookback_days {
            if d == 0 || d > MAX_LOOKBACK_DAYS_LIMIT {
                return Err(DomainError::invalid(
                    "max_lookback_days",
                    format!(
                        "1 to {MAX_LOOKBACK_DAYS_LIMIT} days, or none for no limit of the \
                         network's own"
                    ),
                ));
            }
        }
        Ok(self)
    }

    /// Whether (and why) the network withholds its data from a use under `purpose_code`.
    pub fn withholds(&self, purpose_code: &str) -> Option<Withholding> {
        if self.suspended {
            return Some(Withholding::Suspended);
        }
        let code = purpose_code.trim();
        self.withheld_purposes
            .iter()
            .any(|p| p == code)
            .then(|| Withholding::Purpose(code.to_string()))
    }

    /// The oldest capture time the network serves at `now`, when it limits its look-back.
    pub fn earliest(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.max_lookback_days
            .map(|d| now - Duration::days(i64::from(d)))
    }
}

/// The controls of `network` among `all` (the default when it set none).
pub fn controls_of(all: &[NetworkControls], network: NetworkId) -> NetworkControls {
    all.iter()
        .find(|c| c.network_id == network)
        .cloned()
        .unwrap_or(NetworkControls {
            network_id: network,
            ..Default::default()
        })
}

/// Whether (and why) `network` withholds its data from a use under `purpose_code`.
pub fn withholding(
    all: &[NetworkControls],
    network: NetworkId,
    purpose_code: &str,
) -> Option<Withholding> {
    all.iter()
        .find(|c| c.network_id == network)
        .and_then(|c| c.withholds(purpose_code))
}

/// What a network auditor asks to do with their network's controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlsAction {
    /// Read the controls.
    View,
    /// Change them.
    Change,
    /// Read the notices of watches that cover the network's cameras.
    Notices,
    /// Read the police uses that touched the network's data.
    Uses,
    /// Fetch the network's ledger slice or signed monthly statement.
    Ledger,
}

impl Policy {
    /// Decides whether `s` may see or change the controls (or read the watch notices) of
    /// `network`: only a `network_auditor` bound to that very network may. Police roles,
    /// administrators included, may not: the controls are the data owner's.
    pub fn evaluate_network_controls(
        &self,
        s: &Subject,
        own_network: Option<NetworkId>,
        network: NetworkId,
        action: ControlsAction,
        request_id: &str,
        now: DateTime<Utc>,
    ) -> Evaluation<()> {
        let mut d = Decision::new(&s.actor(), DecisionAction::NetworkControls, request_id, now);
        d.target = Some(format!(
            "{} of network {network}",
            match action {
                ControlsAction::View => "the sharing controls",
                ControlsAction::Change => "a change of the sharing controls",
                ControlsAction::Notices => "the watch notices",
                ControlsAction::Uses => "the police uses of the data",
                ControlsAction::Ledger => "the ledger slice",
            }
        ));
        d.networks = vec![network];
        let outcome = self.check_active(s).and_then(|()| {
            permissions::require(&s.roles, Permission::ControlNetworkSharing)?;
            if own_network != Some(network) {
                return Err(E::refused(
                    K::MissingPermission,
                    format!(
                        "you are the network auditor of {}, not of network {network}: a network's \
                         controls, notices and record of use are its own auditor's alone",
                        match own_network {
                            Some(n) => format!("network {n}"),
                            None => "no network".into(),
                        }
                    ),
                ));
            }
            Ok(())
        });
        if outcome.is_ok() {
            d.outcome = DecisionOutcome::Allowed;
            d.basis = Some(format!("network auditor of network {network}"));
        }
        Evaluation::new(d, outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anpr_domain::Role;

    fn subject(roles: &[Role]) -> Subject {
        Subject {
            user_id: 1,
            staff_id: "N1".into(),
            district: "Waikato".into(),
            roles: roles.to_vec(),
            active: true,
        }
    }

    #[test]
    fn controls_validate_and_withhold() {
        let c = NetworkControls {
            network_id: 2,
            withheld_purposes: vec![" road_policing ".into(), "road_policing".into()],
            max_lookback_days: Some(7),
            ..Default::default()
        }
        .validated()
        .unwrap();
        assert_eq!(c.withheld_purposes, vec!["road_policing".to_string()]);
        assert_eq!(
            c.withholds("road_policing"),
            Some(Withholding::Purpose("road_policing".into()))
        );
        assert_eq!(c.withholds("stolen_vehicle"), None);
        let s = NetworkControls {
            suspended: true,
            ..c.clone()
        };
        assert_eq!(s.withholds("stolen_vehicle"), Some(Withholding::Suspended));
        let bad = NetworkControls {
            max_lookback_days: Some(0),
            ..c.clone()
        };
        assert_eq!(bad.validated().unwrap_err().field(), "max_lookback_days");
        let bad = NetworkControls {
            withheld_purposes: vec!["no spaces".into()],
            ..c
        };
        assert_eq!(bad.validated().unwrap_err().field(), "withheld_purposes");
    }

    #[test]
    fn only_the_networks_own_auditor_decides_its_controls() {
        let p = Policy::default();
        let now = Utc::now();
        let own = subject(&[Role::NetworkAuditor]);
        assert!(p
            .evaluate_network_controls(&own, Some(2), 2, ControlsAction::Change, "r", now)
            .peek()
            .is_ok());
        assert!(p
            .evaluate_network_controls(&own, Some(1), 2, ControlsAction::View, "r", now)
            .peek()
            .is_err());
        for r in Role::ALL.into_iter().filter(|r| *r != Role::NetworkAuditor) {
            let e = p.evaluate_network_controls(
                &subject(&[r]),
                Some(2),
                2,
                ControlsAction::Change,
                "r",
                now,
            );
            assert!(e.peek().is_err(), "{r:?}");
        }
    }
}
