//! Weighing evidence: a rule adds up the facts that raise (or lower) suspicion, each with its
//! weight and the words that say it, and makes a finding only when the total reaches the rule's
//! threshold. No single ordinary condition of police work is enough on its own; where one fact
//! is conclusive (a plate registered to the user), its weight alone reaches the threshold, and
//! the rule's module docs say so.
//!
//! A finding's explanation ends with the score and every fact that made it, in plain words, so
//! that an integrity officer sees why it was raised and what would have kept it below the line.

/// The facts a rule found for one possible finding, with their weights.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Evidence {
    facts: Vec<(i32, String)>,
}

impl Evidence {
    pub fn new() -> Self {
        Self::default()
    }

    /// A fact that raises (positive weight) or lowers (negative weight) suspicion.
    pub fn add(&mut self, weight: i32, fact: impl Into<String>) {
        self.facts.push((weight, fact.into()));
    }

    pub fn score(&self) -> i32 {
        self.facts.iter().map(|(w, _)| w).sum()
    }

    /// Whether the facts together reach `threshold`.
    pub fn reaches(&self, threshold: i32) -> bool {
        self.score() >= threshold
    }

    /// "Score 7 (a finding needs 6): they recorded the report themselves (+2); ...".
    pub fn summary(&self, threshold: i32) -> String {
        let facts: Vec<String> = self
            .facts
            .iter()
            .map(|(w, f)| format!("{f} ({w:+})"))
            .collect();
        format!(
            "Score {} (a finding needs {threshold}): {}.",
            self.score(),
            facts.join("; ")
        )
    }
}

/// "1 attempt", "3 attempts".
pub(crate) fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_add_up_and_the_summary_names_each_with_its_weight() {
        let mut e = Evidence::new();
        e.add(2, "they recorded the report themselves");
        e.add(3, "the report was cancelled a day after the tracking");
        e.add(-2, "the vehicle was recovered");
        assert_eq!(e.score(), 3);
        assert!(e.reaches(3) && !e.reaches(4));
        assert_eq!(
            e.summary(6),
            "Score 3 (a finding needs 6): they recorded the report themselves (+2); the report \
             was cancelled a day after the tracking (+3); the vehicle was recovered (-2)."
        );
        assert_eq!(count(1u32, "attempt", "attempts"), "1 attempt");
        assert_eq!(count(4u32, "attempt", "attempts"), "4 attempts");
    }
}
