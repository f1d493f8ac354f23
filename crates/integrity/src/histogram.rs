//! A multiset of small counts (a group's uses per day) as a histogram: adding, removing and
//! changing a value is one array update, and the median and the median absolute deviation are
//! a walk over the distinct values — so the volume baseline follows every use without holding
//! a list of days to sort.

/// Counts of values `0..len`, and how many values in all.
#[derive(Debug, Default, Clone)]
pub(crate) struct CountHistogram {
    counts: Vec<u32>,
    n: u64,
}

impl CountHistogram {
    pub fn add(&mut self, v: u32) {
        let v = v as usize;
        if v >= self.counts.len() {
            self.counts.resize(v + 1, 0);
        }
        self.counts[v] += 1;
        self.n += 1;
    }

    /// Removes one `v` (which must have been added).
    pub fn remove(&mut self, v: u32) {
        if let Some(c) = self.counts.get_mut(v as usize).filter(|c| **c > 0) {
            *c -= 1;
            self.n -= 1;
        }
    }

    /// One value `from` became `to` (a day's count grew).
    pub fn replace(&mut self, from: u32, to: u32) {
        self.remove(from);
        self.add(to);
    }

    pub fn len(&self) -> u64 {
        self.n
    }

    /// The `k`-th smallest value (0-based); `k < len()`.
    fn nth(&self, k: u64) -> u32 {
        let mut seen = 0u64;
        for (v, &c) in self.counts.iter().enumerate() {
            seen += c as u64;
            if seen > k {
                return v as u32;
            }
        }
        self.counts.len().saturating_sub(1) as u32
    }

    /// The median (the mean of the middle two for an even number of values); 0 when empty.
    pub fn median(&self) -> f64 {
        match self.n {
            0 => 0.0,
            n if n % 2 == 1 => self.nth(n / 2) as f64,
            n => (self.nth(n / 2 - 1) as f64 + self.nth(n / 2) as f64) / 2.0,
        }
    }

    /// The median of the absolute deviations from `centre` (unscaled); 0 when empty.
    pub fn median_abs_deviation(&self, centre: f64) -> f64 {
        let mut devs: Vec<(f64, u64)> = self
            .counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(v, &c)| ((v as f64 - centre).abs(), c as u64))
            .collect();
        devs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let nth = |k: u64| {
            let mut seen = 0;
            for &(d, c) in &devs {
                seen += c;
                if seen > k {
                    return d;
                }
            }
            0.0
        };
        match self.n {
            0 => 0.0,
            n if n % 2 == 1 => nth(n / 2),
            n => (nth(n / 2 - 1) + nth(n / 2)) / 2.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted_median(v: &mut [f64]) -> f64 {
        v.sort_by(|a, b| a.total_cmp(b));
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    }

    /// Median and MAD agree with sorting the values, for odd and even sizes, after removals.
    #[test]
    fn median_and_mad_match_sorting() {
        let mut h = CountHistogram::default();
        let mut values: Vec<u32> = vec![];
        let mut x = 7u32;
        for i in 0..301u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let v = (x >> 16) % 60 + if i % 37 == 0 { 200 } else { 0 };
            h.add(v);
            values.push(v);
            if i % 5 == 4 {
                let gone = values.remove((i as usize * 7) % values.len());
                h.remove(gone);
            }
            let mut f: Vec<f64> = values.iter().map(|&v| v as f64).collect();
            let med = sorted_median(&mut f);
            let mut dev: Vec<f64> = f.iter().map(|v| (v - med).abs()).collect();
            assert_eq!(h.median(), med, "after {i}");
            assert_eq!(h.median_abs_deviation(med), sorted_median(&mut dev));
            assert_eq!(h.len(), values.len() as u64);
        }
        h.replace(values[0], values[0] + 1000);
        assert_eq!(h.len(), values.len() as u64);
        assert_eq!(CountHistogram::default().median(), 0.0);
    }
}
