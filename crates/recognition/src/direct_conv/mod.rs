//! A direct convolution for the detector's thin, wide layers, swapped into tract's plans.
//!
//! The detector's stem convolves few channels over the largest planes of the network (3 to 48
//! input channels at 192 x 320). tract lowers these to its direct spatial convolution, which
//! walks a stride-2 input point by point and pads through a generic n-dimensional copy: at
//! 640 x 384 the four stem convolutions took about 100 ms of the detector's 300 here, for 13 %
//! of its multiply-adds. This module computes them as register-blocked dot products over
//! rows copied, a cache-sized band at a time, into a padded, column-deinterleaved layout, so
//! that every kernel tap reads contiguous memory whatever the stride.
//!
//! The detector's depthwise convolutions (one 3 x 3 to 7 x 7 filter per channel, at 96 x 160)
//! are computed here too ([`depthwise`]): tract took their padded borders through a generic
//! path that cost as much as their interior.
//!
//! The sums are the same products added in another order, so the output differs from tract's
//! by float rounding only (checked against a naive convolution in the tests).

mod depthwise;

use std::ops::Range;
use std::sync::Arc;

use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::{
    as_op, op_as_typed_op, op_out_of_plan, EvalContext, EvalOp, Op, StaticName, TractErrorContext,
    TypedOp,
};
use tract_onnx::tract_core::ops::array::TypedConcat;
use tract_onnx::tract_core::ops::cnn::{Conv, KernelFormat, PaddingSpec};
use tract_onnx::tract_core::ops::nn::DataFormat;

/// Output channels computed together: each input value loaded serves this many channels.
/// With 16 points that is 12 vector sums, of the 16 AVX registers (6 measured a little
/// faster than 4 on the detector).
const CHANNEL_BLOCK: usize = 6;
/// Output points along a row computed together: two 8-lane vectors per channel.
const POINT_BLOCK: usize = 16;
/// The largest `input channels x kernel taps` taken over: the detector's head convolution
/// (3 x 3 over 96 channels) runs in 27 ms here against tract's 40 (im2col, padding, matrix
/// product). A block's weights, `MAX_TAPS x CHANNEL_BLOCK` floats, stay within two thirds of
/// a 32 KiB L1 cache; wider convolutions were not measured and are left to tract.
const MAX_TAPS: usize = 864;
/// Rows narrower than this are left to tract: the blocking pays off over long rows.
const MIN_OUTPUT_WIDTH: usize = 64;
/// About how much of the input is laid out at a time, a band of rows across every channel:
/// small enough to stay in a core's L2 cache between being written and being read.
const BAND_BYTES: usize = 256 * 1024;

/// The shape of one convolution: NCHW, batch 1, no dilation; either dense (`groups` 1) or
/// depthwise (`groups`, `channels_in` and `channels_out` the same).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Geometry {
    pub channels_in: usize,
    pub channels_out: usize,
    pub groups: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub pad_top: usize,
    pub pad_left: usize,
    pub height_in: usize,
    pub width_in: usize,
    pub height_out: usize,
    pub width_out: usize,
}

impl Geometry {
    /// Padded input rows that `out_rows` output rows read.
    fn rows_in(&self, out_rows: usize) -> usize {
        (out_rows - 1) * self.stride_h + self.kernel_h
    }

    /// Output rows per band, so that the band's input rows take about [`BAND_BYTES`].
    fn band_rows(&self) -> usize {
        let row_bytes = self.channels_in * self.stride_w * self.phase_len() * 4;
        let rows = (BAND_BYTES / row_bytes.max(1)).saturating_sub(self.kernel_h);
        (rows / self.stride_h + 1).min(self.height_out)
    }

    /// Length of one column phase of a padded row, with room for a whole last point block.
    pub(super) fn phase_len(&self) -> usize {
        self.width_out.div_ceil(POINT_BLOCK) * POINT_BLOCK + (self.kernel_w - 1) / self.stride_w
    }

    /// The input values one output value sums over.
    fn taps(&self) -> usize {
        self.channels_in / self.groups.max(1) * self.kernel_h * self.kernel_w
    }

    fn depthwise(&self) -> bool {
        self.groups > 1
    }

    /// Where each tap of one input channel reads, from the start of the channel's first row
    /// for an output row, in [`padded_phases`]' layout (kernel row, then column).
    pub(super) fn tap_offsets(&self) -> Vec<usize> {
        let (len, sw) = (self.phase_len(), self.stride_w);
        (0..self.kernel_h)
            .flat_map(|ky| (0..self.kernel_w).map(move |kx| (ky * sw + kx % sw) * len + kx / sw))
            .collect()
    }
}

/// A convolution with its weights packed for [`convolve`]: per block of [`CHANNEL_BLOCK`]
/// output channels, per tap (channel, row, column), the block's weights side by side (zero
/// for channels past the last). A depthwise one keeps them as given, per channel its taps.
#[derive(Debug, Clone)]
pub struct DirectConv {
    geometry: Geometry,
    weights: Arc<[f32]>,
    bias: Arc<[f32]>,
}

/// Equal when they compute the same thing: bit-for-bit the same weights (tract compares ops,
/// and needs `Eq`, which float equality is not).
impl PartialEq for DirectConv {
    fn eq(&self, other: &Self) -> bool {
        let same = |a: &[f32], b: &[f32]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
        };
        self.geometry == other.geometry
            && same(&self.weights, &other.weights)
            && same(&self.bias, &other.bias)
    }
}

impl Eq for DirectConv {}

impl DirectConv {
    /// `kernel` is OIHW; `bias` has one value per output channel, or one for all. `None` when
    /// they do not fit the geometry, or it is empty.
    pub fn new(geometry: Geometry, kernel: &[f32], bias: &[f32]) -> Option<DirectConv> {
        let g = &geometry;
        let taps = g.taps();
        let sizes = [
            g.channels_in,
            g.height_in,
            g.width_in,
            g.channels_out,
            g.kernel_h,
            g.kernel_w,
            g.stride_h,
            g.stride_w,
        ];
        let grouping_known =
            g.groups == 1 || (g.groups == g.channels_in && g.groups == g.channels_out);
        if sizes.contains(&0)
            || !grouping_known
            || g.height_out == 0
            || g.width_out == 0
            || kernel.len() != g.channels_out * taps
            || !(bias.len() == 1 || bias.len() == g.channels_out)
        {
            return None;
        }
        let bias = (0..g.channels_out)
            .map(|o| bias[if bias.len() == 1 { 0 } else { o }])
            .collect();
        if g.depthwise() {
            return Some(DirectConv {
                geometry,
                weights: kernel.into(),
                bias,
            });
        }
        let blocks = g.channels_out.div_ceil(CHANNEL_BLOCK);
        let mut weights = vec![0f32; blocks * taps * CHANNEL_BLOCK];
        for o in 0..g.channels_out {
            let (block, lane) = (o / CHANNEL_BLOCK, o % CHANNEL_BLOCK);
            for t in 0..taps {
                weights[(block * taps + t) * CHANNEL_BLOCK + lane] = kernel[o * taps + t];
            }
        }
        Some(DirectConv {
            geometry,
            weights: weights.into(),
            bias,
        })
    }

    /// Convolves one NCHW image (batch 1) into a new one; `None` if `input` is not the size
    /// of the geometry's input.
    pub fn run(&self, input: &[f32]) -> Option<Vec<f32>> {
        self.run_concatenated(&[input])
    }

    /// Convolves the images in `parts` taken as one, their channels one after the other (what
    /// a concatenation along channels would give, without making it).
    pub fn run_concatenated(&self, parts: &[&[f32]]) -> Option<Vec<f32>> {
        let g = &self.geometry;
        let plane = g.height_in * g.width_in;
        let total: usize = parts.iter().map(|p| p.len()).sum();
        if total != g.channels_in * plane || parts.iter().any(|p| p.len() % plane != 0) {
            return None;
        }
        let channels: Vec<&[f32]> = parts.iter().flat_map(|p| p.chunks_exact(plane)).collect();
        let mut output = vec![0f32; g.channels_out * g.height_out * g.width_out];
        if g.depthwise() {
            depthwise::convolve(g, &channels, &self.weights, &self.bias, &mut output);
            return Some(output);
        }
        let mut planes = Vec::new();
        let offsets = g.tap_offsets();
        let furthest = offsets.iter().max().copied().unwrap_or(0);
        #[cfg(target_arch = "x86_64")]
        let fast = avx2_fma();
        let band = g.band_rows();
        for first in (0..g.height_out).step_by(band) {
            let rows = first..(first + band).min(g.height_out);
            padded_phases(g, &channels, rows.clone(), &mut planes);
            let band = Band {
                planes: &planes,
                rows,
                offsets: &offsets,
                furthest,
            };
            #[cfg(target_arch = "x86_64")]
            if fast {
                // SAFETY: the CPU has both features the function is compiled for.
                unsafe { convolve_avx2_fma(g, &band, &self.weights, &self.bias, &mut output) };
                continue;
            }
            convolve(g, &band, &self.weights, &self.bias, &mut output, block_sums);
        }
        Some(output)
    }
}

/// Whether this CPU runs [`DirectConv`] faster than tract: only with AVX2 and FMA, which
/// every x86-64 server of the last ten years has. Elsewhere tract's own kernels are kept.
pub fn fast_kernel_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    return avx2_fma();
    #[cfg(not(target_arch = "x86_64"))]
    return false;
}

#[cfg(target_arch = "x86_64")]
pub(super) fn avx2_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// The input padded with zeros and each padded row split into `stride_w` phases (phase `p`
/// holds columns `p`, `p + stride_w`, ...), so the column a tap reads for consecutive output
/// points is consecutive in memory. Layout: channel, padded row, phase, column.
/// Only the input rows that the output rows `out_rows` read are laid out, into `planes`.
/// `channels` holds each input channel's plane, `height_in x width_in`.
pub(super) fn padded_phases(
    g: &Geometry,
    channels: &[&[f32]],
    out_rows: Range<usize>,
    planes: &mut Vec<f32>,
) {
    let (rows, len, sw) = (g.rows_in(out_rows.len()), g.phase_len(), g.stride_w);
    let first_padded_row = out_rows.start * g.stride_h;
    planes.clear();
    planes.resize(g.channels_in * rows * sw * len, 0.0);
    for (c, channel) in channels.iter().enumerate().take(g.channels_in) {
        for r in 0..rows {
            let padded_row = first_padded_row + r;
            let Some(y) = padded_row
                .checked_sub(g.pad_top)
                .filter(|&y| y < g.height_in)
            else {
                continue;
            };
            let source = &channel[y * g.width_in..][..g.width_in];
            let row = &mut planes[(c * rows + r) * sw * len..][..sw * len];
            for (phase, dst) in row.chunks_exact_mut(len).enumerate() {
                // Column j of this phase is padded column j * sw + phase.
                let first = g.pad_left.saturating_sub(phase).div_ceil(sw);
                let columns = source.get(first * sw + phase - g.pad_left..).unwrap_or(&[]);
                let dst = dst.get_mut(first..).unwrap_or(&mut []);
                take_every(sw, columns, dst);
            }
        }
    }
}

/// Copies `source[0]`, `source[step]`, ... into `dst` while both last. A loop of its own for
/// each stride the detector uses, which the compiler turns into vector copies and shuffles:
/// the general one copied a value at a time and took as long as the convolution it fed.
fn take_every(step: usize, source: &[f32], dst: &mut [f32]) {
    let n = dst.len().min(source.len().div_ceil(step));
    let (source, dst) = (&source[..(n * step).min(source.len())], &mut dst[..n]);
    match step {
        1 => dst.copy_from_slice(source),
        2 => {
            let pairs = source.chunks_exact(2);
            let last = pairs.remainder().first().copied();
            for (d, pair) in dst.iter_mut().zip(pairs) {
                *d = pair[0];
            }
            if let Some(value) = last {
                dst[n - 1] = value;
            }
        }
        _ => {
            for (d, &value) in dst.iter_mut().zip(source.iter().step_by(step)) {
                *d = value;
            }
        }
    }
}

/// A band of output rows, its input rows laid out by [`padded_phases`], and where each tap
/// reads in them ([`Geometry::tap_offsets`]).
struct Band<'a> {
    planes: &'a [f32],
    rows: Range<usize>,
    offsets: &'a [usize],
    /// The largest of `offsets`, found once a run rather than once a block.
    furthest: usize,
}

/// The sums of one block of output: `CHANNEL_BLOCK` channels by `POINT_BLOCK` points.
type Sums = [[f32; POINT_BLOCK]; CHANNEL_BLOCK];

/// Where one block's inputs are: its first channel's row in the planes, the distance from one
/// channel's row to the next, the tap offsets within a channel (and their largest), and the
/// block's weights.
struct BlockInputs<'a> {
    planes: &'a [f32],
    start: usize,
    channel_stride: usize,
    channels: usize,
    offsets: &'a [usize],
    furthest: usize,
    weights: &'a [f32],
}

impl BlockInputs<'_> {
    /// Whether every value the block reads is in `planes`, and its weights are all there.
    fn in_bounds(&self) -> bool {
        let last_row = self.start + self.channels.saturating_sub(1) * self.channel_stride;
        last_row + self.furthest + POINT_BLOCK <= self.planes.len()
            && self.channels * self.offsets.len() * CHANNEL_BLOCK <= self.weights.len()
    }
}

/// Walks the output a block at a time (row, channels, points) and stores what `sums` computes
/// for each block, starting from the bias.
#[inline(always)]
fn convolve(
    g: &Geometry,
    band: &Band,
    weights: &[f32],
    bias: &[f32],
    out: &mut [f32],
    sums: impl Fn(&BlockInputs, [f32; CHANNEL_BLOCK]) -> Sums,
) {
    let (rows, len, sw) = (g.rows_in(band.rows.len()), g.phase_len(), g.stride_w);
    let plane_out = g.height_out * g.width_out;
    for oy in band.rows.clone() {
        for (block, weights) in weights.chunks_exact(g.taps() * CHANNEL_BLOCK).enumerate() {
            let first = block * CHANNEL_BLOCK;
            let lanes = CHANNEL_BLOCK.min(g.channels_out - first);
            let init = std::array::from_fn(|lane| bias.get(first + lane).copied().unwrap_or(0.0));
            for x0 in (0..g.width_out).step_by(POINT_BLOCK) {
                let inputs = BlockInputs {
                    planes: band.planes,
                    start: (oy - band.rows.start) * g.stride_h * sw * len + x0,
                    channel_stride: rows * sw * len,
                    channels: g.channels_in,
                    offsets: band.offsets,
                    furthest: band.furthest,
                    weights,
                };
                assert!(
                    inputs.in_bounds(),
                    "a block reads past its band or its weights"
                );
                let block_sums = sums(&inputs, init);
                let points = POINT_BLOCK.min(g.width_out - x0);
                for (lane, values) in block_sums.iter().enumerate().take(lanes) {
                    let at = (first + lane) * plane_out + oy * g.width_out + x0;
                    out[at..at + points].copy_from_slice(&values[..points]);
                }
            }
        }
    }
}

/// One block's sums in plain Rust, for CPUs without AVX2 and FMA.
fn block_sums(inputs: &BlockInputs, init: [f32; CHANNEL_BLOCK]) -> Sums {
    let mut acc = init.map(|b| [b; POINT_BLOCK]);
    let mut tap_weights = inputs.weights.chunks_exact(CHANNEL_BLOCK);
    for c in 0..inputs.channels {
        let row = inputs.start + c * inputs.channel_stride;
        for offset in inputs.offsets {
            let src = &inputs.planes[row + offset..][..POINT_BLOCK];
            let w = tap_weights.next().expect("weights for every tap");
            for (sums, &w) in acc.iter_mut().zip(w) {
                for (sum, &s) in sums.iter_mut().zip(src) {
                    *sum += s * w;
                }
            }
        }
    }
    acc
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn convolve_avx2_fma(g: &Geometry, band: &Band, weights: &[f32], bias: &[f32], out: &mut [f32]) {
    // SAFETY: this function's features are the CPU's, and `convolve` checks each block's
    // `in_bounds()` before computing it.
    convolve(g, band, weights, bias, out, |inputs, init| unsafe {
        block_sums_avx2_fma(inputs, init)
    })
}

/// [`block_sums`] with the sums held in AVX registers, `CHANNEL_BLOCK x POINT_BLOCK / 8` of
/// them, so that each tap costs two loads, six broadcasts and twelve fused multiply-adds.
/// (Written with intrinsics and raw pointers: from the plain loop the compiler kept the sums
/// in memory, and a bounds check per tap cost as much as the arithmetic.)
///
/// # Safety
/// The CPU has AVX2 and FMA, and `inputs.in_bounds()`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn block_sums_avx2_fma(inputs: &BlockInputs, init: [f32; CHANNEL_BLOCK]) -> Sums {
    use std::arch::x86_64::{
        __m256, _mm256_broadcast_ss, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_set1_ps,
        _mm256_storeu_ps,
    };
    const VECTORS: usize = POINT_BLOCK / 8;
    let mut acc: [[__m256; VECTORS]; CHANNEL_BLOCK] =
        std::array::from_fn(|lane| [_mm256_set1_ps(init[lane]); VECTORS]);
    let mut w = inputs.weights.as_ptr();
    for c in 0..inputs.channels {
        // SAFETY: within `planes`, by `in_bounds()` (this function's contract).
        let row = unsafe {
            inputs
                .planes
                .as_ptr()
                .add(inputs.start + c * inputs.channel_stride)
        };
        for &offset in inputs.offsets {
            // SAFETY: `row + offset` starts POINT_BLOCK = 8 * VECTORS readable values, and
            // `w` CHANNEL_BLOCK weights (`in_bounds()`).
            unsafe {
                let src = row.add(offset);
                let src: [__m256; VECTORS] =
                    std::array::from_fn(|v| _mm256_loadu_ps(src.add(8 * v)));
                for (lane, sums) in acc.iter_mut().enumerate() {
                    let weight = _mm256_broadcast_ss(&*w.add(lane));
                    for (sum, &s) in sums.iter_mut().zip(&src) {
                        *sum = _mm256_fmadd_ps(s, weight, *sum);
                    }
                }
                w = w.add(CHANNEL_BLOCK);
            }
        }
    }
    let mut sums = [[0f32; POINT_BLOCK]; CHANNEL_BLOCK];
    for (values, vectors) in sums.iter_mut().zip(&acc) {
        for (v, vector) in vectors.iter().enumerate() {
            // SAFETY: `values` has room for 8 floats at every `8 * v`.
            unsafe { _mm256_storeu_ps(values.as_mut_ptr().add(8 * v), *vector) };
        }
    }
    sums
}

impl Op for DirectConv {
    fn name(&self) -> StaticName {
        "DirectConv".into()
    }

    op_as_typed_op!();
}

impl EvalOp for DirectConv {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let g = &self.geometry;
        let views = inputs
            .iter()
            .map(|input| input.try_as_plain_ram())
            .collect::<TractResult<Vec<_>>>()?;
        let parts = views
            .iter()
            .map(|view| view.as_slice::<f32>())
            .collect::<TractResult<Vec<_>>>()?;
        let output = self
            .run_concatenated(&parts)
            .context("DirectConv: input of the wrong size")?;
        let shape = (1, g.channels_out, g.height_out, g.width_out);
        Ok(tvec!(tract_ndarray::Array4::from_shape_vec(shape, output)?
            .into_tensor()
            .into_tvalue()))
    }
}

impl TypedOp for DirectConv {
    fn output_facts(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let g = &self.geometry;
        Ok(tvec!(f32::fact([
            1,
            g.channels_out,
            g.height_out,
            g.width_out
        ])))
    }

    as_op!();
}

/// Replaces the convolutions of a typed, decluttered model that [`DirectConv`] computes
/// faster: dense and depthwise f32 NCHW convolutions with constant weights, few input taps
/// and long rows.
pub fn with_direct_convs(mut model: TypedModel) -> TractResult<TypedModel> {
    if !fast_kernel_available() {
        return Ok(model);
    }
    for id in model.eval_order()? {
        let node = model.node(id);
        let Some(conv) = node.op_as::<Conv>() else {
            continue;
        };
        let Some(op) = direct_conv_for(&model, &node.inputs, conv)? else {
            continue;
        };
        let inputs =
            concatenated_parts(&model, node.inputs[0])?.unwrap_or_else(|| vec![node.inputs[0]]);
        let patch = TypedModelPatch::replace_single_op(&model, node, &inputs, op)?;
        patch.apply(&mut model)?;
    }
    model.into_compact()
}

/// The parts of a concatenation along channels that only the convolution reads, which it can
/// read directly: the detector's stem joins a pooled and a convolved branch so, and making the
/// joined tensor cost more than a tenth of the convolution itself.
fn concatenated_parts(model: &TypedModel, input: OutletId) -> TractResult<Option<Vec<OutletId>>> {
    let producer = model.node(input.node);
    let Some(concat) = producer.op_as::<TypedConcat>() else {
        return Ok(None);
    };
    if concat.axis != 1 || model.outlet_successors(input).len() != 1 {
        return Ok(None);
    }
    for part in &producer.inputs {
        let fact = model.outlet_fact(*part)?;
        if fact.datum_type != f32::datum_type() || fact.shape.as_concrete().is_none() {
            return Ok(None);
        }
    }
    Ok(Some(producer.inputs.clone()))
}

fn direct_conv_for(
    model: &TypedModel,
    inputs: &[OutletId],
    conv: &Conv,
) -> TractResult<Option<DirectConv>> {
    let spec = &conv.pool_spec;
    if conv.q_params.is_some()
        || conv.kernel_fmt != KernelFormat::OIHW
        || spec.data_format != DataFormat::NCHW
        || spec.kernel_shape.len() != 2
        || spec.dilations().iter().any(|&d| d != 1)
        || inputs.len() != 3
    {
        return Ok(None);
    }
    let input = model.outlet_fact(inputs[0])?;
    let (Some(kernel), Some(bias)) = (
        model.outlet_fact(inputs[1])?.konst.clone(),
        model.outlet_fact(inputs[2])?.konst.clone(),
    ) else {
        return Ok(None);
    };
    let Some(shape) = input.shape.as_concrete() else {
        return Ok(None);
    };
    if input.datum_type != f32::datum_type()
        || kernel.datum_type() != f32::datum_type()
        || bias.datum_type() != f32::datum_type()
        || shape.len() != 4
        || shape[0] != 1
        || matches!(spec.padding, PaddingSpec::ExplicitOnnxPool(_, _, true))
    {
        return Ok(None);
    }
    let padding = spec.computed_padding(&shape[2..]);
    let geometry = Geometry {
        channels_in: shape[1],
        channels_out: spec.output_channels,
        groups: conv.group,
        kernel_h: spec.kernel_shape[0],
        kernel_w: spec.kernel_shape[1],
        stride_h: spec.stride(0),
        stride_w: spec.stride(1),
        pad_top: padding[0].pad_before,
        pad_left: padding[1].pad_before,
        height_in: shape[2],
        width_in: shape[3],
        height_out: padding[0].convoluted,
        width_out: padding[1].convoluted,
    };
    if geometry.taps() > MAX_TAPS
        || geometry.width_out < MIN_OUTPUT_WIDTH
        || geometry.height_out == 0
    {
        return Ok(None);
    }
    let kernel = kernel.try_as_plain_ram()?;
    let bias = bias.try_as_plain_ram()?;
    Ok(DirectConv::new(
        geometry,
        kernel.as_slice::<f32>()?,
        bias.as_slice::<f32>()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook convolution, one output at a time.
    fn naive(g: &Geometry, input: &[f32], kernel: &[f32], bias: &[f32]) -> Vec<f32> {
        let mut out = vec![0f32; g.channels_out * g.height_out * g.width_out];
        let (group_in, group_out) = (g.channels_in / g.groups, g.channels_out / g.groups);
        for o in 0..g.channels_out {
            for oy in 0..g.height_out {
                for ox in 0..g.width_out {
                    let mut sum = bias[o] as f64;
                    for g_c in 0..group_in {
                        let c = o / group_out * group_in + g_c;
                        for ky in 0..g.kernel_h {
                            for kx in 0..g.kernel_w {
                                let y = (oy * g.stride_h + ky) as isize - g.pad_top as isize;
                                let x = (ox * g.stride_w + kx) as isize - g.pad_left as isize;
                                if y < 0
                                    || x < 0
                                    || y >= g.height_in as isize
                                    || x >= g.width_in as isize
                                {
                                    continue;
                                }
                                let i = (c * g.height_in + y as usize) * g.width_in + x as usize;
                                let k = ((o * group_in + g_c) * g.kernel_h + ky) * g.kernel_w + kx;
                                sum += input[i] as f64 * kernel[k] as f64;
                            }
                        }
                    }
                    out[(o * g.height_out + oy) * g.width_out + ox] = sum as f32;
                }
            }
        }
        out
    }

    /// Deterministic values in [-1, 1).
    pub(super) fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut state = seed.wrapping_mul(2_654_435_761).max(1);
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state % 2000) as f32 / 1000.0 - 1.0
            })
            .collect()
    }

    pub(super) fn geometry(
        c: usize,
        o: usize,
        k: (usize, usize),
        stride: usize,
        pad: (usize, usize, usize, usize),
        hw: (usize, usize),
    ) -> Geometry {
        let (top, left, bottom, right) = pad;
        Geometry {
            channels_in: c,
            channels_out: o,
            groups: 1,
            kernel_h: k.0,
            kernel_w: k.1,
            stride_h: stride,
            stride_w: stride,
            pad_top: top,
            pad_left: left,
            height_in: hw.0,
            width_in: hw.1,
            height_out: (hw.0 + top + bottom - k.0) / stride + 1,
            width_out: (hw.1 + left + right - k.1) / stride + 1,
        }
    }

    #[test]
    fn matches_the_textbook_convolution() {
        let cases = [
            // The detector's stem: 3 x 3 stride 2 padded by 1, and 2 x 2 padded after only.
            geometry(3, 24, (3, 3), 2, (1, 1, 1, 1), (20, 70)),
            geometry(24, 12, (2, 2), 1, (0, 0, 1, 1), (9, 37)),
            geometry(48, 24, (3, 3), 2, (1, 1, 1, 1), (11, 33)),
            // Channels not a multiple of the block, odd sizes, no padding, a 1 x 1 kernel.
            geometry(5, 7, (3, 3), 1, (0, 0, 0, 0), (6, 19)),
            geometry(2, 3, (1, 1), 2, (0, 0, 0, 0), (5, 17)),
            geometry(4, 5, (5, 3), 2, (2, 1, 2, 1), (13, 40)),
            // Rows long enough to be laid out in bands of one and of several output rows.
            geometry(48, 8, (3, 3), 2, (1, 1, 1, 1), (12, 320)),
            geometry(12, 4, (2, 2), 1, (0, 0, 1, 1), (40, 330)),
        ];
        for g in &cases {
            assert!(g.band_rows() >= 1);
        }
        assert_matches_textbook(&cases, 1);
    }

    /// Runs each geometry on deterministic values (seeded from `seed` and its place) and
    /// compares the output with [`naive`]'s.
    pub(super) fn assert_matches_textbook(cases: &[Geometry], seed: u32) {
        for (n, g) in cases.iter().enumerate() {
            let n = n as u32 + seed;
            let input = values(g.channels_in * g.height_in * g.width_in, n);
            let kernel = values(g.channels_out * g.taps(), n + 100);
            let bias = values(g.channels_out, n + 200);
            let expected = naive(g, &input, &kernel, &bias);
            let got = DirectConv::new(g.clone(), &kernel, &bias)
                .unwrap()
                .run(&input)
                .unwrap();
            assert_eq!(got.len(), expected.len(), "{g:?}");
            for (i, (a, b)) in got.iter().zip(&expected).enumerate() {
                assert!((a - b).abs() < 1e-4, "{g:?} output {i}: {a} against {b}");
            }
        }
    }

    #[test]
    fn long_rows_are_laid_out_in_bands() {
        let stem = geometry(48, 24, (3, 3), 2, (1, 1, 1, 1), (192, 320));
        assert_eq!(stem.band_rows(), 1);
        let thin = geometry(12, 24, (2, 2), 1, (0, 0, 1, 1), (192, 320));
        assert!((2..192).contains(&thin.band_rows()), "{}", thin.band_rows());
        let small = geometry(3, 4, (3, 3), 1, (1, 1, 1, 1), (10, 20));
        assert_eq!(small.band_rows(), small.height_out);
    }

    #[test]
    fn parts_are_convolved_as_their_concatenation() {
        let g = geometry(5, 6, (3, 3), 2, (1, 1, 1, 1), (8, 21));
        let input = values(g.channels_in * g.height_in * g.width_in, 7);
        let kernel = values(g.channels_out * g.taps(), 8);
        let conv = DirectConv::new(g.clone(), &kernel, &[0.25]).unwrap();
        let (first, second) = input.split_at(2 * g.height_in * g.width_in);
        assert_eq!(conv.run_concatenated(&[first, second]), conv.run(&input));
        // A part that is not whole channels is refused.
        let (ragged, rest) = input.split_at(3);
        assert_eq!(conv.run_concatenated(&[ragged, rest]), None);
    }

    #[test]
    fn one_bias_value_serves_every_channel_and_wrong_sizes_are_refused() {
        let g = geometry(1, 2, (1, 1), 1, (0, 0, 0, 0), (1, 3));
        let conv = DirectConv::new(g.clone(), &[1.0, 2.0], &[0.5]).unwrap();
        assert_eq!(
            conv.run(&[1.0, 2.0, 3.0]),
            Some(vec![1.5, 2.5, 3.5, 2.5, 4.5, 6.5])
        );
        assert_eq!(conv.run(&[1.0, 2.0]), None);
        assert!(DirectConv::new(g.clone(), &[1.0], &[0.5]).is_none());
        let no_stride = Geometry {
            stride_w: 0,
            ..g.clone()
        };
        assert!(DirectConv::new(no_stride, &[1.0, 2.0], &[0.5]).is_none());
        let empty = Geometry { width_in: 0, ..g };
        assert!(DirectConv::new(empty, &[1.0, 2.0], &[0.5]).is_none());
    }
}
