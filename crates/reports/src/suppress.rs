//! Small-count suppression for published figures.
//!
//! A count from 1 to 4 is published as `"<5"` (primary suppression): a small count of, say,
//! own-vehicle blocks in a small district could point at a person. Zero is published as 0 (it
//! points at nobody), so a reader knows `"<5"` means 1 to 4.
//!
//! A column of cells is published together with its total, so one suppressed cell could be
//! worked out as the total minus the others — or pinned down when several small cells add up
//! to little (two cells whose suppressed sum is 2 are both 1). [`protect`] therefore also
//! withholds, as `"withheld"`, the smallest published cells of 5 or more (complementary
//! suppression) until no suppressed cell can be narrowed to a single value from the total, the
//! published cells, the rule itself ("<5" is 1 to 4, a withheld cell is at least 5 and at most
//! the smallest cell left published), and nothing else. If no choice of cells achieves that, the
//! whole breakdown of that measure is withheld and only its total is published.

use serde::{Serialize, Serializer};

/// Counts below this are not published.
pub const THRESHOLD: u64 = 5;

/// A published figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Count(u64),
    /// 1 to 4: published as `"<5"`.
    Small,
    /// Withheld so that a small cell cannot be worked out from the total.
    Withheld,
}

impl Cell {
    /// A figure on its own (no total published beside it): only primary suppression.
    pub fn of(v: u64) -> Cell {
        if v > 0 && v < THRESHOLD {
            Cell::Small
        } else {
            Cell::Count(v)
        }
    }

    /// The figure as printed: `15000`, `<5`, `withheld`.
    pub fn text(self) -> String {
        match self {
            Cell::Count(v) => v.to_string(),
            Cell::Small => format!("<{THRESHOLD}"),
            Cell::Withheld => "withheld".into(),
        }
    }

    pub fn count(self) -> Option<u64> {
        match self {
            Cell::Count(v) => Some(v),
            _ => None,
        }
    }
}

/// A number when published, else the string `"<5"` or `"withheld"`.
impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Count(v) => s.serialize_u64(*v),
            other => s.serialize_str(&other.text()),
        }
    }
}

/// Suppresses a column of cells published beside their total (the sum of `values`). `None`
/// when the breakdown cannot be made safe and must be withheld whole.
pub fn protect(values: &[u64]) -> Option<Vec<Cell>> {
    let mut cells: Vec<Cell> = values.iter().map(|v| Cell::of(*v)).collect();
    loop {
        if !any_pinned(values, &cells) {
            return Some(cells);
        }
        // The smallest cell still published that is at least the threshold.
        let next = (0..values.len())
            .filter(|i| matches!(cells[*i], Cell::Count(v) if v >= THRESHOLD))
            .min_by_key(|i| values[*i])?;
        cells[next] = Cell::Withheld;
    }
}

/// Whether a reader could narrow some `"<5"` cell to exactly one value. Each suppressed cell is
/// only known to lie in a range; their sum is known exactly (total minus what is published).
/// For one cell, the values consistent with that are an interval: the sum minus the others'
/// largest and smallest possible values.
fn any_pinned(values: &[u64], cells: &[Cell]) -> bool {
    // What a reader can infer a withheld cell to be at most: the smallest cell left published
    // that is at least the threshold (complements are taken smallest first).
    let cap = values
        .iter()
        .zip(cells)
        .filter_map(|(v, c)| matches!(c, Cell::Count(_)).then_some(*v))
        .filter(|v| *v >= THRESHOLD)
        .min();
    let range = |c: Cell| -> Option<(u64, Option<u64>)> {
        match c {
            Cell::Count(_) => None,
            Cell::Small => Some((1, Some(THRESHOLD - 1))),
            Cell::Withheld => Some((THRESHOLD, cap)),
        }
    };
    let hidden: Vec<usize> = (0..cells.len())
        .filter(|i| range(cells[*i]).is_some())
        .collect();
    let sum: u64 = hidden.iter().map(|i| values[*i]).sum();
    hidden.iter().any(|&i| {
        if cells[i] != Cell::Small {
            return false;
        }
        let (mut others_lo, mut others_hi) = (0u64, Some(0u64));
        for &j in hidden.iter().filter(|j| **j != i) {
            let (lo, hi) = range(cells[j]).expect("hidden");
            others_lo += lo;
            others_hi = match (others_hi, hi) {
                (Some(a), Some(b)) => Some(a + b),
                _ => None,
            };
        }
        let lowest = match others_hi {
            Some(h) => sum.saturating_sub(h).max(1),
            None => 1,
        };
        let highest = sum.saturating_sub(others_lo).min(THRESHOLD - 1);
        highest <= lowest
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Cell::*;

    #[test]
    fn small_counts_are_suppressed_and_zero_is_not() {
        assert_eq!(Cell::of(0), Count(0));
        assert_eq!(Cell::of(4), Small);
        assert_eq!(Cell::of(5), Count(5));
        assert_eq!(
            serde_json::to_string(&[Small, Count(7), Withheld]).unwrap(),
            r#"["<5",7,"withheld"]"#
        );
    }

    #[test]
    fn nothing_small_nothing_withheld() {
        assert_eq!(
            protect(&[10, 0, 250]),
            Some(vec![Count(10), Count(0), Count(250)])
        );
    }

    #[test]
    fn a_lone_small_cell_takes_the_smallest_large_cell_with_it() {
        // Total 123 with 3 hidden would give the 3 away; withholding 20 leaves 3 + x = 23, x >= 5.
        assert_eq!(
            protect(&[100, 3, 20, 0]),
            Some(vec![Count(100), Small, Withheld, Count(0)])
        );
    }

    #[test]
    fn two_small_cells_that_add_up_to_little_are_not_enough() {
        // 1 + 1 = 2 hidden: both must be 1. A complement is needed.
        assert_eq!(
            protect(&[1, 1, 50, 60]),
            Some(vec![Small, Small, Withheld, Count(60)])
        );
        // 2 + 3 = 5 hidden: each could be 1..4.
        assert_eq!(protect(&[2, 3, 50]), Some(vec![Small, Small, Count(50)]));
    }

    #[test]
    fn a_complement_too_close_to_the_small_cell_is_not_enough() {
        // 1 + 5 = 6 with the withheld cell known to be 5..5 (the only large cell): the 1 is
        // pinned whatever is withheld, so the breakdown is withheld.
        assert_eq!(protect(&[1, 5]), None);
        assert_eq!(protect(&[3]), None);
    }

    /// Brute force: every assignment of the hidden cells consistent with what is published
    /// leaves each small cell at least two possible values.
    #[test]
    fn no_small_cell_can_be_worked_out() {
        let columns: Vec<Vec<u64>> = vec![
            vec![1, 2, 0, 9, 14],
            vec![4, 4, 5],
            vec![1, 6, 7, 30],
            vec![2, 0, 0, 5, 5, 5],
            vec![3, 3, 3, 8],
            vec![1, 1, 1, 1],
        ];
        for col in columns {
            let Some(cells) = protect(&col) else { continue };
            let total: u64 = col.iter().sum();
            let published: u64 = cells.iter().filter_map(|c| c.count()).sum();
            let hidden: Vec<usize> = (0..col.len())
                .filter(|i| cells[*i].count().is_none())
                .collect();
            let cap = col
                .iter()
                .zip(&cells)
                .filter_map(|(v, c)| matches!(c, Count(_)).then_some(*v))
                .filter(|v| *v >= THRESHOLD)
                .min()
                .unwrap_or(total);
            let mut possible: Vec<std::collections::BTreeSet<u64>> =
                vec![Default::default(); col.len()];
            let mut assign = vec![0u64; col.len()];
            fn go(
                k: usize,
                hidden: &[usize],
                cells: &[Cell],
                cap: u64,
                left: u64,
                assign: &mut Vec<u64>,
                possible: &mut Vec<std::collections::BTreeSet<u64>>,
            ) {
                if k == hidden.len() {
                    if left == 0 {
                        for &i in hidden {
                            possible[i].insert(assign[i]);
                        }
                    }
                    return;
                }
                let i = hidden[k];
                let (lo, hi) = if cells[i] == Small {
                    (1, 4)
                } else {
                    (THRESHOLD, cap)
                };
                for v in lo..=hi.min(left) {
                    assign[i] = v;
                    go(k + 1, hidden, cells, cap, left - v, assign, possible);
                }
            }
            go(
                0,
                &hidden,
                &cells,
                cap,
                total - published,
                &mut assign,
                &mut possible,
            );
            for &i in &hidden {
                if cells[i] == Small {
                    assert!(
                        possible[i].len() >= 2,
                        "{col:?} -> {cells:?}: cell {i} is {:?}",
                        possible[i]
                    );
                }
            }
        }
    }
}
