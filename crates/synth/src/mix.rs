//! Stateless hashing for per-entity attributes (a plate's make, its home camera): derived
//! from (seed, index) so they are the same whenever and in whatever order they are asked for.

/// SplitMix64's finaliser: a fast, well-mixed 64-bit hash.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A hash of `seed`, a purpose tag and an index.
pub(crate) fn hash(seed: u64, tag: u64, index: u64) -> u64 {
    mix(mix(seed ^ tag.wrapping_mul(0xA24B_AED4_963E_E407)) ^ index)
}

/// A uniform number in `[0, 1)` from a hash.
pub(crate) fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// A fast deterministic stream for per-pixel noise, where a cryptographic RNG would dominate
/// the cost of rendering.
pub(crate) struct Noise(u64);

impl Noise {
    pub fn new(seed: u64) -> Self {
        Noise(mix(seed))
    }

    /// The next value in `[-amplitude, amplitude]`.
    pub fn next(&mut self, amplitude: i32) -> i32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let h = mix(self.0);
        if amplitude <= 0 {
            return 0;
        }
        (h % (2 * amplitude as u64 + 1)) as i32 - amplitude
    }
}

/// Picks from `(item, weight)` pairs with `u` in `[0, 1)`.
pub(crate) fn weighted<T: Copy>(items: &[(T, u32)], u: f64) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut target = (u * f64::from(total)) as u32;
    for &(item, w) in items {
        if target < w {
            return item;
        }
        target -= w;
    }
    items[items.len() - 1].0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_stable_and_spread() {
        assert_eq!(hash(1, 2, 3), hash(1, 2, 3));
        assert_ne!(hash(1, 2, 3), hash(1, 2, 4));
        assert_ne!(hash(1, 2, 3), hash(1, 3, 3));
        let mean = (0..10_000).map(|i| unit(hash(7, 0, i))).sum::<f64>() / 10_000.0;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
        let mut n = Noise::new(1);
        assert!((0..1000).map(|_| n.next(5)).all(|v| (-5..=5).contains(&v)));
        assert_eq!(weighted(&[("a", 1), ("b", 3)], 0.0), "a");
        assert_eq!(weighted(&[("a", 1), ("b", 3)], 0.3), "b");
        assert_eq!(weighted(&[("a", 1), ("b", 3)], 0.9999), "b");
    }
}
