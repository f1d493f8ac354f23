//! Rule 3: weak or reused justification. A file number that is not the user's (not in the
//! incident register, or neither assigned to them nor in their district — refused attempts
//! included); one file number used by one user for many different plates; and near-identical
//! justification text repeated across many requests under different files (boilerplate, found
//! by MinHash keys, see [`crate::text`]).
//!
//! Evidence models:
//! - **file not theirs** (a finding at 2 × `justification.outside_file_uses`, i.e. 4): each
//!   distinct file of another district not assigned to them +2, each distinct file number not in
//!   the incident register +1, counting the files used within
//!   `justification.outside_window_days` of each other. Help to another district on one of its
//!   files now and then, or a mistyped number, is one file; borrowing several at once is a
//!   pattern.
//! - **one file, many plates** (a finding at 4): more than `justification.max_plates_per_file`
//!   plates under one file +2; the file's incident is not of a kind that involves many vehicles
//!   (`justification.many_vehicle_incidents`: series and operations) +2; the file is assigned
//!   to them alone +1. An operation's investigator queries dozens of plates under a team's
//!   series file; an officer who puts forty plates under a single minor incident of their own
//!   is using the file as cover.
//! - **boilerplate** (a finding at 3): `justification.boilerplate_min_repeats` requests over
//!   `justification.boilerplate_min_files` files sharing near-identical text +3; the text names
//!   each file's incident type (a template filled in per case) −2.

use crate::engine::{push_bounded, Cluster, Engine, OutsideFile, StaffIx};
use crate::error::Result;
use crate::evidence::Evidence;
use crate::facts::Facts;
use crate::finding::{Rule, Severity, MAX_EVIDENCE};
use crate::usage::{Use, UseKeys};
use crate::window::cutoff;

/// Threshold of "one file, many plates".
const MANY_PLATES_AT: i32 = 4;
/// Threshold of boilerplate.
const BOILERPLATE_AT: i32 = 3;
/// Distinct outside files held per member of staff.
const OUTSIDE_HELD: usize = 16;

impl Engine {
    pub(crate) fn check_justification(
        &mut self,
        facts: &dyn Facts,
        s: StaffIx,
        u: &Use,
        k: &UseKeys,
    ) -> Result<()> {
        let Some(file) = u.file_number.as_deref() else {
            return Ok(());
        };
        self.check_file_owner(facts, s, u, file, k.file)?;
        if u.granted {
            self.check_file_plates(s, u, file, k);
            self.check_boilerplate(s, u, k);
        }
        Ok(())
    }

    fn check_file_owner(
        &mut self,
        facts: &dyn Facts,
        s: StaffIx,
        u: &Use,
        file: &str,
        file_hash: u64,
    ) -> Result<()> {
        // Looked up (or found prefetched) once per file; read in place, not cloned per use.
        self.incident_of(facts, u, file_hash)?;
        let incident = self.incidents.get(&file_hash).and_then(Option::as_ref);
        let me = &self.staff[s as usize];
        let (weight, why) = match incident {
            None => (1, "is not in the incident register".to_string()),
            Some(i) => {
                let assigned = i.assigned_staff.contains(&u.staff_id);
                let in_district = me
                    .profile
                    .district
                    .as_deref()
                    .is_some_and(|d| d.eq_ignore_ascii_case(&i.district));
                if assigned || in_district {
                    return Ok(());
                }
                (
                    2,
                    format!(
                        "belongs to {} district and is not assigned to them",
                        i.district
                    ),
                )
            }
        };
        let window = chrono::Duration::days(self.cfg.justification.outside_window_days as i64);
        let me = &mut self.staff[s as usize];
        me.outside_files.retain(|f| u.at - f.last_at <= window);
        if let Some(f) = me.outside_files.iter_mut().find(|f| f.file == file_hash) {
            f.last_at = u.at;
            push_bounded(&mut f.entries, u.index, MAX_EVIDENCE);
        } else if me.outside_files.len() < OUTSIDE_HELD {
            me.outside_files.push(OutsideFile {
                file: file_hash,
                weight,
                why: format!("file {file} {why}"),
                entries: vec![u.index],
                last_at: u.at,
            });
        }
        let mut e = Evidence::new();
        for f in &me.outside_files {
            e.add(f.weight, f.why.clone());
        }
        let threshold = 2 * self.cfg.justification.outside_file_uses as i32;
        if !e.reaches(threshold) {
            return Ok(());
        }
        let entries: Vec<u64> = me
            .outside_files
            .iter()
            .flat_map(|f| f.entries.iter().copied())
            .collect();
        let explanation = format!(
            "Uses under file numbers that are not theirs, the latest file {file}{}. {}",
            if u.granted {
                ""
            } else {
                " (refused by the policy)"
            },
            e.summary(threshold)
        );
        let severity = if e.score() >= 2 * threshold {
            Severity::High
        } else {
            Severity::Medium
        };
        self.report(
            Rule::FileNotTheirs,
            severity,
            s,
            "files",
            &entries,
            u.at,
            explanation,
        );
        Ok(())
    }

    fn check_file_plates(&mut self, s: StaffIx, u: &Use, file: &str, k: &UseKeys) {
        let Some(plate) = &u.plate else { return };
        let limit = self.cfg.justification.max_plates_per_file as usize;
        let (day, _) = self.local(u.at);
        let window = self.cfg.justification.window_days;
        let file_plates = self.file_plates.entry((s, k.file)).or_default();
        if file_plates.last_day < cutoff(day, window) {
            file_plates.plates.clear(); // lapsed
        }
        file_plates.last_day = day;
        let plates = &mut file_plates.plates;
        if plates.len() <= limit {
            plates.insert(k.plate);
        }
        if plates.len() <= limit {
            return;
        }
        let mut e = Evidence::new();
        e.add(
            2,
            format!("they queried more than {limit} different plates under it"),
        );
        if let Some(Some(i)) = self.incidents.get(&k.file) {
            let many = self
                .cfg
                .justification
                .many_vehicle_incidents
                .iter()
                .any(|t| t.eq_ignore_ascii_case(&i.incident_type));
            if !many {
                e.add(
                    2,
                    format!(
                        "its incident, a {}, is not one that involves many vehicles",
                        i.incident_type
                    ),
                );
            }
            if i.assigned_staff.len() <= 1 {
                e.add(1, "the file is assigned to them alone");
            }
        }
        if !e.reaches(MANY_PLATES_AT) {
            return;
        }
        let explanation = format!(
            "File {file} has been used by them for many different plates, the latest {plate}: \
             one file number standing in for unrelated queries. {}",
            e.summary(MANY_PLATES_AT)
        );
        self.report(
            Rule::FileManyPlates,
            Severity::Medium,
            s,
            file,
            &[u.index],
            u.at,
            explanation,
        );
    }

    fn check_boilerplate(&mut self, s: StaffIx, u: &Use, k: &UseKeys) {
        let (Some(text), Some(bands)) = (u.justification.as_deref(), k.bands) else {
            return;
        };
        let cfg = self.cfg.justification.clone();
        let (day, _) = self.local(u.at);
        let file_hash = k.file;
        // Whether the text names this file's incident type: a template filled in per case.
        let names_incident = match self.incidents.get(&file_hash) {
            Some(Some(i)) => text
                .to_lowercase()
                .contains(&i.incident_type.to_lowercase()),
            _ => false,
        };
        let mut hit: Option<(Vec<u64>, u32, usize, String, u32)> = None;
        for key in bands {
            let c: &mut Cluster = self.staff[s as usize].boilerplate.entry(key).or_default();
            if c.count > 0 && c.last_day < cutoff(day, cfg.window_days) {
                *c = Cluster::default(); // lapsed
            }
            c.last_day = day;
            c.count += 1;
            c.naming += u32::from(names_incident);
            // The example is kept from the first repeat: a text seen once (most) costs no copy.
            if c.count >= 2 && c.example.is_empty() {
                c.example = text.chars().take(120).collect();
            }
            if c.files.len() < cfg.boilerplate_min_files as usize && !c.files.contains(&file_hash) {
                c.files.push(file_hash);
            }
            push_bounded(&mut c.evidence, u.index, MAX_EVIDENCE);
            if hit.is_none()
                && c.count >= cfg.boilerplate_min_repeats
                && c.files.len() >= cfg.boilerplate_min_files as usize
            {
                hit = Some((
                    c.evidence.clone(),
                    c.count,
                    c.files.len(),
                    if c.example.is_empty() {
                        text.chars().take(120).collect()
                    } else {
                        c.example.clone()
                    },
                    c.naming,
                ));
            }
        }
        let Some((evidence, count, files, example, naming)) = hit else {
            return;
        };
        let mut e = Evidence::new();
        e.add(
            3,
            format!("{count} requests over {files}+ files share near-identical text"),
        );
        if naming * 5 >= count * 4 {
            e.add(
                -2,
                "the text names each file's incident: a template filled in per case",
            );
        }
        if !e.reaches(BOILERPLATE_AT) {
            return;
        }
        let explanation = format!(
            "Near-identical justification text across different files, e.g. \"{example}\": a \
             justification copied, not written for the case. {}",
            e.summary(BOILERPLATE_AT)
        );
        self.report(
            Rule::BoilerplateJustification,
            Severity::Low,
            s,
            "justification",
            &evidence,
            u.at,
            explanation,
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::testing::*;
    use crate::finding::Rule;
    use crate::usage::Use;

    fn cfg() -> crate::IntegrityConfig {
        only(|c| c.justification.enabled = true)
    }

    fn with_file(mut u: Use, file: &str) -> Use {
        u.file_number = Some(file.into());
        u
    }

    #[test]
    fn files_outside_the_district_are_found_after_the_threshold() {
        let m = facts();
        // F8 and F9 are Otago's and Canterbury's, not assigned to S1: 2 + 2.
        let uses = [
            with_file(search(1, t(1, 10, 0), "S1", "XYZ999"), "F9"),
            with_file(search(2, t(1, 11, 0), "S1", "XYZ999"), "F8"),
        ];
        let f = run(cfg(), &m, &uses, Rule::FileNotTheirs);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence, vec![1, 2]);
        assert!(f[0].explanation.contains("belongs to Otago district"));
        // Help on one other district's file, however often, and a mistyped number: 2 + 1.
        let help = [
            with_file(search(1, t(1, 10, 0), "S1", "XYZ999"), "F9"),
            with_file(search(2, t(1, 11, 0), "S1", "XYZ999"), "F9"),
            with_file(search(3, t(1, 12, 0), "S1", "XYZ999"), "F404"),
        ];
        assert!(run(cfg(), &m, &help, Rule::FileNotTheirs).is_empty());
        // Own district (F2 is S2's but in Waikato) is fine.
        let fine = [
            with_file(search(1, t(1, 10, 0), "S1", "XYZ999"), "F2"),
            with_file(search(2, t(1, 11, 0), "S1", "XYZ999"), "F1"),
        ];
        assert!(run(cfg(), &m, &fine, Rule::FileNotTheirs).is_empty());
    }

    #[test]
    fn one_file_for_many_plates() {
        let m = facts();
        let many: Vec<Use> = (0..31)
            .map(|i| search(i, t(1, 10, 0), "S1", &format!("PLT{i:03}")))
            .collect();
        // F1 is a wilful damage of S1's alone: 2 + 2 + 1.
        let f = run(cfg(), &m, &many, Rule::FileManyPlates);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].key, "F1");
        assert!(f[0].explanation.contains("Score 5"), "{}", f[0].explanation);
        assert!(run(cfg(), &m, &many[..30], Rule::FileManyPlates).is_empty());
        // An operation: a burglary series file with many vehicles: 2 + 1.
        let operation: Vec<Use> = many.iter().cloned().map(|u| with_file(u, "B1")).collect();
        assert!(run(cfg(), &m, &operation, Rule::FileManyPlates).is_empty());
        // The same plate many times is not many plates.
        let same: Vec<Use> = (0..40)
            .map(|i| search(i, t(1, 10, 0), "S1", "XYZ999"))
            .collect();
        assert!(run(cfg(), &m, &same, Rule::FileManyPlates).is_empty());
    }

    #[test]
    fn boilerplate_across_files_is_found_but_varied_or_single_case_text_is_not() {
        let m = facts();
        let boiler: Vec<Use> = (0..15)
            .map(|i| {
                let mut u = search(i, t(1, 10, 0), "S1", "XYZ999");
                u.file_number = Some(["F1", "F2", "F3", "F4", "F5"][i as usize % 5].into());
                u.justification = Some(format!(
                    "Routine check on vehicle of interest ref {i}/26 as per enquiry"
                ));
                u
            })
            .collect();
        let f = run(cfg(), &m, &boiler, Rule::BoilerplateJustification);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].explanation.contains("Routine check"));
        // The same text under one file (one case) is not boilerplate.
        let one_case: Vec<Use> = boiler.iter().cloned().map(|u| with_file(u, "F1")).collect();
        assert!(run(cfg(), &m, &one_case, Rule::BoilerplateJustification).is_empty());
        // Texts written for each case are not.
        let words = [
            "burglary",
            "dairy",
            "ramraid",
            "assault",
            "fraud",
            "arson",
            "theft",
            "robbery",
            "hamilton",
            "taupo",
            "rotorua",
            "tauranga",
            "napier",
            "nelson",
            "invercargill",
        ];
        let varied: Vec<Use> = boiler
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let mut u = u.clone();
                u.justification = Some(format!(
                    "{} suspect vehicle seen near {} {} scene",
                    words[i % 8],
                    words[8 + i % 7],
                    words[(i + 3) % 8]
                ));
                u
            })
            .collect();
        assert!(run(cfg(), &m, &varied, Rule::BoilerplateJustification).is_empty());
    }
}
