//! Resampling photos and crops to the sizes the networks take.
//!
//! Every detection pass resamples the whole photo: `image`'s resize took a median 15 ms of a
//! US benchmark photo's 300, SIMD convolution (`fast_image_resize`) takes 9 ms. The filter is
//! the same tent (bilinear) filter, widened when shrinking, computed in `f32` and rounded once
//! at the end as `image` does, so the benchmark photos read exactly as before. Resampling in
//! 8-bit fixed point was faster still (2 ms), but its off-by-one pixel values moved detected
//! boxes by a pixel, and two US photos read right before were read wrong.
//!
//! That precision costs time in proportion to the photo: a 40-megapixel photo spent seconds
//! turning into `f32` and filtering twice (once per detection pass). [`detection_source`]
//! shrinks such a photo once, in 8-bit fixed point, to twice the largest detection side;
//! the passes resample that copy. Photos up to that size (every benchmark photo) are resampled
//! exactly as before.

use fast_image_resize::images::{Image, ImageRef, TypedImage};
use fast_image_resize::pixels::F32x3;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::RgbImage;
use std::borrow::Cow;

/// The photo to resample detection canvases of up to `largest_side` from: the photo itself,
/// or, when its longer side is more than twice `largest_side`, a copy shrunk by area averaging
/// to a longer side of twice `largest_side` (the canvas is then still resampled from at least
/// twice its size, so the tent filter smooths as it did from the full photo).
pub fn detection_source(photo: &RgbImage, largest_side: u32) -> Cow<'_, RgbImage> {
    let (w, h) = photo.dimensions();
    let target = largest_side.saturating_mul(2).max(1);
    let longest = w.max(h);
    if longest <= target {
        return Cow::Borrowed(photo);
    }
    let scale = f64::from(target) / f64::from(longest);
    let sw = ((f64::from(w) * scale).round() as u32).max(1);
    let sh = ((f64::from(h) * scale).round() as u32).max(1);
    Cow::Owned(area_average(photo, sw, sh))
}

/// `image` shrunk to `width` x `height` by a box filter in 8-bit fixed point (SIMD).
fn area_average(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    // An RgbImage holds exactly width x height x 3 bytes and U8x3 needs no alignment: the
    // views cannot be refused, nor can resampling U8x3 into U8x3.
    let source = ImageRef::new(
        image.width(),
        image.height(),
        image.as_raw(),
        PixelType::U8x3,
    )
    .expect("an RGB buffer of its own size");
    let mut target = Image::new(width, height, PixelType::U8x3);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Box));
    Resizer::new()
        .resize(&source, &mut target, &options)
        .expect("U8x3 to U8x3 resampling");
    RgbImage::from_raw(width, height, target.into_vec()).expect("a buffer of the asked size")
}

/// `image` resampled to `width` x `height` (each at least 1) with a bilinear filter.
pub fn resampled(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    let (width, height) = (width.max(1), height.max(1));
    if image.dimensions() == (width, height) {
        return image.clone();
    }
    let mut source = TypedImage::<F32x3>::new(image.width(), image.height());
    for (pixel, rgb) in source.pixels_mut().iter_mut().zip(image.pixels()) {
        pixel.0 = rgb.0.map(f32::from);
    }
    let mut target = TypedImage::<F32x3>::new(width, height);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
    // Both images are typed F32x3 of non-zero sizes: resampling one into the other cannot fail.
    Resizer::new()
        .resize_typed(&source, &mut target, &options)
        .expect("F32x3 to F32x3 resampling");
    let bytes = target
        .pixels()
        .iter()
        .flat_map(|pixel| pixel.0.map(|v| v.round().clamp(0.0, 255.0) as u8))
        .collect();
    RgbImage::from_raw(width, height, bytes).expect("a buffer of the asked size")
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::imageops;

    #[test]
    fn halving_keeps_flat_colour_and_blurs_stripes() {
        let flat = RgbImage::from_pixel(64, 32, image::Rgb([10, 200, 90]));
        let half = resampled(&flat, 32, 16);
        assert_eq!(half.dimensions(), (32, 16));
        assert!(half.pixels().all(|p| p.0 == [10, 200, 90]));
        let stripes = RgbImage::from_fn(64, 4, |x, _| image::Rgb([(x % 2 * 255) as u8; 3]));
        let grey = resampled(&stripes, 32, 2);
        assert!(
            grey.pixels().all(|p| (100..=155).contains(&p.0[0])),
            "{grey:?}"
        );
    }

    #[test]
    fn only_a_photo_over_twice_the_largest_side_is_shrunk_first() {
        let photo = RgbImage::from_pixel(1920, 1080, image::Rgb([1, 2, 3]));
        assert!(matches!(detection_source(&photo, 960), Cow::Borrowed(_)));
        let big = RgbImage::from_fn(7000, 5700, |x, y| {
            image::Rgb([(x % 7) as u8 * 30, (y % 5) as u8 * 50, 90])
        });
        let source = detection_source(&big, 960);
        assert_eq!(source.dimensions(), (1920, 1563));
        // Area averaging keeps a flat colour flat and averages fine stripes.
        let flat = RgbImage::from_pixel(5000, 100, image::Rgb([10, 200, 90]));
        assert!(detection_source(&flat, 960)
            .pixels()
            .all(|p| p.0 == [10, 200, 90]));
        let mean = |img: &RgbImage, c: usize| {
            img.pixels().map(|p| f64::from(p.0[c])).sum::<f64>()
                / (img.width() * img.height()) as f64
        };
        assert!((mean(&source, 0) - mean(&big, 0)).abs() < 2.0);
        assert!((mean(&source, 1) - mean(&big, 1)).abs() < 2.0);
    }

    #[test]
    fn matches_image_triangle_filter_within_one_level() {
        let photo = RgbImage::from_fn(301, 203, |x, y| {
            image::Rgb([(x * 7 + y * 3) as u8, (x * y % 251) as u8, (x ^ y) as u8])
        });
        for (w, h) in [(150, 101), (97, 48), (640, 431)] {
            let ours = resampled(&photo, w, h);
            let reference = imageops::resize(&photo, w, h, imageops::FilterType::Triangle);
            let worst = ours
                .as_raw()
                .iter()
                .zip(reference.as_raw())
                .map(|(a, b)| a.abs_diff(*b))
                .max();
            assert!(worst <= Some(1), "{w}x{h}: off by {worst:?}");
        }
    }
}
