//! Resampling photos and crops to the sizes the networks take.
//!
//! Every detection pass resamples the whole photo: `image`'s resize took a median 15 ms of a
//! US benchmark photo's 300, SIMD convolution (`fast_image_resize`) takes 9 ms. The filter is
//! the same tent (bilinear) filter, widened when shrinking, computed in `f32` and rounded once
//! at the end as `image` does, so the benchmark photos read exactly as before. Resampling in
//! 8-bit fixed point was faster still (2 ms), but its off-by-one pixel values moved detected
//! boxes by a pixel, and two US photos read right before were read wrong.

use fast_image_resize::images::TypedImage;
use fast_image_resize::pixels::F32x3;
use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::RgbImage;

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
