//! Rule 4c: walking read ids. A read can be opened by id only when it was shown to the user
//! (in their search results, alerts or sightings, under the same purpose and file); the policy
//! refuses any other with `read_not_available`. Someone stepping through ids to see reads they
//! were never shown leaves a run of such refusals.
//!
//! Evidence model (a finding at 6), over one walk (refusals at most
//! `enumeration.walk_gap_minutes` apart): +1 for each refused view, and +1 more for each whose
//! id is within `enumeration.step` of the one before (stepping through ids). An old link or a
//! read purged since it was shown costs one or two refusals at random ids: 1 to 3.

use crate::engine::{push_bounded, when, Engine, StaffIx};
use crate::evidence::{count, Evidence};
use crate::finding::{Rule, Severity, MAX_EVIDENCE};
use crate::usage::{Use, UseKind};
use chrono::{DateTime, Duration, Utc};

/// Threshold of the evidence model above.
const FINDING_AT: i32 = 6;

/// One member of staff's current walk of refused read views.
#[derive(Default)]
pub(crate) struct Walk {
    pub first_at: Option<DateTime<Utc>>,
    pub last_at: Option<DateTime<Utc>>,
    pub last_read: Option<i64>,
    pub refused: u32,
    pub steps: u32,
    pub entries: Vec<u64>,
}

impl Engine {
    pub(crate) fn check_read_enumeration(&mut self, s: StaffIx, u: &Use) {
        if !matches!(u.kind, UseKind::ReadView | UseKind::ImageView)
            || !u.refused_as("read_not_available")
        {
            return;
        }
        let cfg = self.cfg.enumeration.clone();
        let w = self.unshown_reads.entry(s).or_default();
        if w.last_at
            .is_none_or(|last| u.at - last > Duration::minutes(cfg.walk_gap_minutes as i64))
        {
            *w = Walk {
                first_at: Some(u.at),
                ..Default::default()
            };
        }
        w.refused += 1;
        if let (Some(prev), Some(id)) = (w.last_read, u.read_id) {
            if (id - prev).abs() <= cfg.step {
                w.steps += 1;
            }
        }
        w.last_at = Some(u.at);
        w.last_read = u.read_id.or(w.last_read);
        push_bounded(&mut w.entries, u.index, MAX_EVIDENCE);
        let mut e = Evidence::new();
        e.add(
            w.refused as i32,
            format!(
                "{} of reads never shown to them, refused",
                count(w.refused, "view", "views")
            ),
        );
        if w.steps > 0 {
            e.add(
                w.steps as i32,
                format!(
                    "{} to a read id next to the one before",
                    count(w.steps, "step", "steps")
                ),
            );
        }
        if !e.reaches(FINDING_AT) {
            return;
        }
        let explanation = format!(
            "Reads asked for by id that were never shown to them, the latest on {}: the \
             pattern of walking read ids to see sightings no search of theirs returned. {}",
            when(u.at),
            e.summary(FINDING_AT)
        );
        // Keyed by the local day the walk began, as a day's volume is.
        let offset = Duration::hours(self.cfg.hours.utc_offset_hours as i64);
        let began = (w.first_at.unwrap_or(u.at) + offset).date_naive();
        let (key, entries) = (format!("reads:{began}"), w.entries.clone());
        self.report(
            Rule::ReadEnumeration,
            Severity::High,
            s,
            &key,
            &entries,
            u.at,
            explanation,
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::testing::*;
    use crate::finding::Rule;
    use crate::usage::{Use, UseKind};

    fn refused_view(index: u64, minute: u32, read: i64) -> Use {
        let mut u = Use::new(index, t(2, 10, minute), "S1", UseKind::ReadView);
        u.read_id = Some(read);
        u.granted = false;
        u.refusal_code = Some("read_not_available".into());
        u
    }

    fn cfg() -> crate::IntegrityConfig {
        only(|c| c.enumeration.enabled = true)
    }

    #[test]
    fn stepping_through_ids_is_a_finding() {
        let uses: Vec<Use> = (0..6)
            .map(|k| refused_view(k, k as u32, 500 + k as i64))
            .collect();
        let f = run(cfg(), &facts(), &uses, Rule::ReadEnumeration);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].key, "reads:2026-03-03");
        assert!(f[0].explanation.contains("never shown"));
    }

    #[test]
    fn a_stale_link_or_two_is_not() {
        let uses = [refused_view(1, 0, 91_000), refused_view(2, 3, 12)];
        assert!(run(cfg(), &facts(), &uses, Rule::ReadEnumeration).is_empty());
        // Granted views are what search results are for.
        let mut ok = refused_view(3, 5, 13);
        ok.granted = true;
        ok.refusal_code = None;
        assert!(run(cfg(), &facts(), &[ok], Rule::ReadEnumeration).is_empty());
    }
}
