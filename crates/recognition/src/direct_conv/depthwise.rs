//! Depthwise convolutions: one filter per channel, each output channel reading only its own
//! input channel.
//!
//! Each channel's plane is laid out padded and column-deinterleaved (as for the dense
//! convolution, [`padded_phases`]), small enough to stay in L2 while it is convolved, then
//! walked a block of [`ROW_BLOCK`] rows by [`POINT_BLOCK`] points at a time. A depthwise
//! convolution has no channels to sum over, so a block's independent sums come from rows:
//! with only the two vectors of one row, each multiply-add would wait for the one before.

use super::{padded_phases, Geometry, POINT_BLOCK};

/// Output rows computed together: 4 rows of two 8-lane vectors are eight independent sums,
/// enough to keep both FMA units busy through their latency.
const ROW_BLOCK: usize = 4;

/// The sums of one block of output: `ROW_BLOCK` rows by `POINT_BLOCK` points.
type Sums = [[f32; POINT_BLOCK]; ROW_BLOCK];

/// Where one block's inputs are in a laid-out plane: its first row's start, the distance
/// from one output row's inputs to the next's, and where each tap reads from there.
struct BlockInputs<'a> {
    plane: &'a [f32],
    start: usize,
    row_stride: usize,
    offsets: &'a [usize],
    /// The largest of `offsets`, found once a run rather than once a block.
    furthest: usize,
    weights: &'a [f32],
}

impl BlockInputs<'_> {
    /// Whether every value the block reads is in `plane`, and a weight is there for each tap.
    fn in_bounds(&self) -> bool {
        let last_row = self.start + (ROW_BLOCK - 1) * self.row_stride;
        last_row + self.furthest + POINT_BLOCK <= self.plane.len()
            && self.weights.len() >= self.offsets.len()
    }
}

/// Convolves each of `channels` with its own filter (`weights`: per channel, its taps) into
/// `out`, channel after channel.
pub(super) fn convolve(
    g: &Geometry,
    channels: &[&[f32]],
    weights: &[f32],
    bias: &[f32],
    out: &mut [f32],
) {
    let one = Geometry {
        channels_in: 1,
        channels_out: 1,
        groups: 1,
        ..g.clone()
    };
    let taps = one.taps();
    let offsets = one.tap_offsets();
    let furthest = offsets.iter().max().copied().unwrap_or(0);
    // Rows past the last are laid out too (as zeros), so that every block reads whole rows.
    let rows = g.height_out.div_ceil(ROW_BLOCK) * ROW_BLOCK;
    let row_stride = g.stride_h * g.stride_w * g.phase_len();
    let plane_out = g.height_out * g.width_out;
    #[cfg(target_arch = "x86_64")]
    let fast = super::avx2_fma();
    let mut plane = Vec::new();
    for (c, channel) in channels.iter().enumerate().take(g.channels_out) {
        padded_phases(&one, &[*channel], 0..rows, &mut plane);
        let out = &mut out[c * plane_out..][..plane_out];
        for y0 in (0..g.height_out).step_by(ROW_BLOCK) {
            for x0 in (0..g.width_out).step_by(POINT_BLOCK) {
                let inputs = BlockInputs {
                    plane: &plane,
                    start: y0 * row_stride + x0,
                    row_stride,
                    offsets: &offsets,
                    furthest,
                    weights: &weights[c * taps..][..taps],
                };
                assert!(inputs.in_bounds(), "a depthwise block reads past its plane");
                #[cfg(target_arch = "x86_64")]
                let sums = if fast {
                    // SAFETY: the CPU has both features; the block reads in bounds (above).
                    unsafe { block_sums_avx2_fma(&inputs, bias[c]) }
                } else {
                    block_sums(&inputs, bias[c])
                };
                #[cfg(not(target_arch = "x86_64"))]
                let sums = block_sums(&inputs, bias[c]);
                let points = POINT_BLOCK.min(g.width_out - x0);
                for (dy, values) in sums.iter().enumerate().take(g.height_out - y0) {
                    let at = (y0 + dy) * g.width_out + x0;
                    out[at..at + points].copy_from_slice(&values[..points]);
                }
            }
        }
    }
}

/// One block's sums in plain Rust, for CPUs without AVX2 and FMA.
fn block_sums(inputs: &BlockInputs, bias: f32) -> Sums {
    let mut acc = [[bias; POINT_BLOCK]; ROW_BLOCK];
    for (dy, sums) in acc.iter_mut().enumerate() {
        let row = inputs.start + dy * inputs.row_stride;
        for (offset, &w) in inputs.offsets.iter().zip(inputs.weights) {
            let src = &inputs.plane[row + offset..][..POINT_BLOCK];
            for (sum, &s) in sums.iter_mut().zip(src) {
                *sum += s * w;
            }
        }
    }
    acc
}

/// [`block_sums`] in AVX registers: per tap one broadcast weight, eight loads and eight fused
/// multiply-adds.
///
/// # Safety
/// The CPU has AVX2 and FMA, and `inputs.in_bounds()`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn block_sums_avx2_fma(inputs: &BlockInputs, bias: f32) -> Sums {
    use std::arch::x86_64::{
        _mm256_broadcast_ss, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_set1_ps, _mm256_storeu_ps,
    };
    const VECTORS: usize = POINT_BLOCK / 8;
    let mut acc = [[_mm256_set1_ps(bias); VECTORS]; ROW_BLOCK];
    let first = inputs.plane.as_ptr().add(inputs.start);
    for (&offset, weight) in inputs.offsets.iter().zip(inputs.weights) {
        let weight = _mm256_broadcast_ss(weight);
        for (dy, sums) in acc.iter_mut().enumerate() {
            let src = first.add(dy * inputs.row_stride + offset);
            for (v, sum) in sums.iter_mut().enumerate() {
                *sum = _mm256_fmadd_ps(_mm256_loadu_ps(src.add(8 * v)), weight, *sum);
            }
        }
    }
    let mut sums = [[0f32; POINT_BLOCK]; ROW_BLOCK];
    for (values, vectors) in sums.iter_mut().zip(&acc) {
        for (v, vector) in vectors.iter().enumerate() {
            _mm256_storeu_ps(values.as_mut_ptr().add(8 * v), *vector);
        }
    }
    sums
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_matches_textbook, geometry, values};
    use super::super::DirectConv;
    use super::*;

    fn depthwise(
        channels: usize,
        k: usize,
        stride: usize,
        pad: usize,
        hw: (usize, usize),
    ) -> Geometry {
        Geometry {
            groups: channels,
            ..geometry(channels, channels, (k, k), stride, (pad, pad, pad, pad), hw)
        }
    }

    #[test]
    fn matches_the_textbook_depthwise_convolution() {
        let cases = [
            // The detector's: 3 x 3 and 7 x 7, SAME padding, strides 1 and 2.
            depthwise(5, 3, 1, 1, (9, 70)),
            depthwise(3, 7, 1, 3, (13, 81)),
            depthwise(4, 3, 2, 1, (11, 67)),
            depthwise(2, 5, 2, 2, (6, 33)),
            // Heights and widths that are not multiples of the block; no padding.
            depthwise(3, 3, 1, 0, (7, 19)),
            depthwise(1, 1, 1, 0, (1, 1)),
        ];
        assert_matches_textbook(&cases, 11);
    }

    #[test]
    fn the_plain_and_the_vector_sums_agree() {
        let g = depthwise(1, 3, 1, 1, (8, 20));
        let one = Geometry {
            groups: 1,
            ..g.clone()
        };
        let input = values(g.height_in * g.width_in, 5);
        let mut plane = Vec::new();
        padded_phases(&one, &[input.as_slice()], 0..8, &mut plane);
        let offsets = one.tap_offsets();
        let weights = values(9, 6);
        let inputs = BlockInputs {
            plane: &plane,
            start: g.phase_len() + 3,
            row_stride: g.phase_len(),
            furthest: offsets.iter().max().copied().unwrap_or(0),
            offsets: &offsets,
            weights: &weights,
        };
        assert!(inputs.in_bounds());
        let plain = block_sums(&inputs, 0.5);
        #[cfg(target_arch = "x86_64")]
        if super::super::avx2_fma() {
            // SAFETY: checked just above.
            let vector = unsafe { block_sums_avx2_fma(&inputs, 0.5) };
            for (p, v) in plain.iter().flatten().zip(vector.iter().flatten()) {
                assert!((p - v).abs() < 1e-5, "{p} against {v}");
            }
        }
        assert!(plain.iter().flatten().any(|&s| s != 0.5));
    }

    #[test]
    fn grouped_convolutions_other_than_depthwise_are_refused() {
        let g = Geometry {
            groups: 2,
            ..geometry(4, 4, (3, 3), 1, (1, 1, 1, 1), (8, 8))
        };
        assert!(DirectConv::new(g.clone(), &values(4 * 2 * 9, 1), &[0.0]).is_none());
        let g = Geometry {
            groups: 4,
            ..geometry(4, 8, (3, 3), 1, (1, 1, 1, 1), (8, 8))
        };
        assert!(DirectConv::new(g, &values(8 * 9, 1), &[0.0]).is_none());
    }
}
