//! Recall and precision of a run against a known truth (the simulator's planted misuse), per
//! planted class and per rule.

use crate::finding::{Finding, Rule};
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write;

/// One expected finding: rule name, staff id, key, and the class of misuse it was planted as.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Expected {
    pub rule: String,
    pub staff_id: String,
    pub key: String,
    pub class: String,
}

/// One planted class: how many cases, how many found.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassScore {
    pub class: String,
    pub planted: usize,
    pub found: usize,
}

/// One rule's findings: how many, and how many about honest work (no planted case).
#[derive(Debug, Clone, PartialEq)]
pub struct RuleScore {
    pub rule: Rule,
    pub findings: usize,
    pub honest: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// Planted cases found / planted cases.
    pub recall: f64,
    /// Findings that are planted cases / findings (routine samples are not suspicions and are
    /// left out).
    pub precision: f64,
    pub planted: usize,
    pub findings: usize,
    pub missed: Vec<Expected>,
    /// Findings about honest work.
    pub unexpected: Vec<Finding>,
    pub by_class: Vec<ClassScore>,
    pub by_rule: Vec<RuleScore>,
}

pub fn score(findings: &[Finding], truth: &[Expected]) -> Score {
    let suspicions: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.rule != Rule::RoutineSample)
        .collect();
    let found: HashSet<(&str, &str, &str)> = suspicions
        .iter()
        .map(|f| (f.rule.as_str(), f.staff_id.as_str(), f.key.as_str()))
        .collect();
    let planted: HashSet<(&str, &str, &str)> = truth
        .iter()
        .map(|e| (e.rule.as_str(), e.staff_id.as_str(), e.key.as_str()))
        .collect();
    let is_found =
        |e: &Expected| found.contains(&(e.rule.as_str(), e.staff_id.as_str(), e.key.as_str()));
    let missed: Vec<Expected> = truth.iter().filter(|e| !is_found(e)).cloned().collect();
    let unexpected: Vec<Finding> = suspicions
        .iter()
        .filter(|f| !planted.contains(&(f.rule.as_str(), f.staff_id.as_str(), f.key.as_str())))
        .map(|f| (*f).clone())
        .collect();
    let mut classes: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for e in truth {
        let c = classes.entry(e.class.as_str()).or_default();
        c.0 += 1;
        c.1 += usize::from(is_found(e));
    }
    let mut rules: BTreeMap<Rule, (usize, usize)> = BTreeMap::new();
    for f in &suspicions {
        rules.entry(f.rule).or_default().0 += 1;
    }
    for f in &unexpected {
        rules.entry(f.rule).or_default().1 += 1;
    }
    let ratio = |num: usize, den: usize| {
        if den == 0 {
            1.0
        } else {
            num as f64 / den as f64
        }
    };
    Score {
        recall: ratio(
            planted.len() - missed.len().min(planted.len()),
            planted.len(),
        ),
        precision: ratio(suspicions.len() - unexpected.len(), suspicions.len()),
        planted: planted.len(),
        findings: suspicions.len(),
        missed,
        unexpected,
        by_class: classes
            .into_iter()
            .map(|(class, (planted, found))| ClassScore {
                class: class.to_string(),
                planted,
                found,
            })
            .collect(),
        by_rule: rules
            .into_iter()
            .map(|(rule, (findings, honest))| RuleScore {
                rule,
                findings,
                honest,
            })
            .collect(),
    }
}

impl Score {
    /// Recall per planted class and findings per rule (true: a planted case; false: about
    /// honest work), as text tables.
    pub fn tables(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<40} {:>7} {:>6} {:>7}",
            "planted class", "planted", "found", "recall"
        );
        for c in &self.by_class {
            let _ = writeln!(
                out,
                "{:<40} {:>7} {:>6} {:>7.2}",
                c.class,
                c.planted,
                c.found,
                c.found as f64 / c.planted.max(1) as f64
            );
        }
        let _ = writeln!(
            out,
            "{:<28} {:>8} {:>5} {:>6}",
            "rule", "findings", "true", "false"
        );
        for r in &self.by_rule {
            let _ = writeln!(
                out,
                "{:<28} {:>8} {:>5} {:>6}",
                r.rule.as_str(),
                r.findings,
                r.findings - r.honest,
                r.honest
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;
    use chrono::Utc;

    fn finding(rule: Rule, staff: &str, key: &str) -> Finding {
        Finding {
            rule,
            severity: Severity::High,
            staff_id: staff.into(),
            key: key.into(),
            evidence: vec![1],
            uses: 1,
            explanation: String::new(),
            first_at: Utc::now(),
            last_at: Utc::now(),
        }
    }

    fn expected(rule: &str, staff: &str, key: &str, class: &str) -> Expected {
        Expected {
            rule: rule.into(),
            staff_id: staff.into(),
            key: key.into(),
            class: class.into(),
        }
    }

    #[test]
    fn recall_per_class_and_findings_per_rule_are_counted() {
        let findings = [
            finding(Rule::OwnVehicle, "S1", "ABC123"),
            finding(Rule::StolenReport, "S2", "stolen:4"),
            finding(Rule::StolenReport, "S3", "stolen:5"),
            finding(Rule::RoutineSample, "S3", "entry:9"),
        ];
        let truth = [
            expected("own_vehicle", "S1", "ABC123", "own vehicle"),
            expected("own_vehicle", "S7", "XYZ999", "own vehicle"),
            expected("stolen_report", "S2", "stolen:4", "false stolen report"),
        ];
        let s = score(&findings, &truth);
        assert_eq!((s.planted, s.findings), (3, 3));
        assert!((s.recall - 2.0 / 3.0).abs() < 1e-9);
        assert!((s.precision - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(
            s.by_class[1],
            ClassScore {
                class: "own vehicle".into(),
                planted: 2,
                found: 1
            }
        );
        assert_eq!(
            s.by_rule[1],
            RuleScore {
                rule: Rule::StolenReport,
                findings: 2,
                honest: 1
            }
        );
        let t = s.tables();
        assert!(t.contains("false stolen report"), "{t}");
        assert!(t.contains("stolen_report"), "{t}");
    }
}
