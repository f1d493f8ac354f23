//! Recall and precision of a run against a known truth (the simulator's planted misuse).

use crate::finding::{Finding, Rule};
use std::collections::HashSet;

/// One expected finding: rule name, staff id, key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Expected {
    pub rule: String,
    pub staff_id: String,
    pub key: String,
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
    pub unexpected: Vec<Finding>,
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
    let missed: Vec<Expected> = truth
        .iter()
        .filter(|e| !found.contains(&(e.rule.as_str(), e.staff_id.as_str(), e.key.as_str())))
        .cloned()
        .collect();
    let unexpected: Vec<Finding> = suspicions
        .iter()
        .filter(|f| !planted.contains(&(f.rule.as_str(), f.staff_id.as_str(), f.key.as_str())))
        .map(|f| (*f).clone())
        .collect();
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
    }
}
