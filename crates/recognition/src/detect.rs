//! Text detection: the DB (differentiable binarisation) detector run on a downscaled copy of
//! the photo, and its post-processing into boxes in photo coordinates.
//!
//! The detector's probability map is thresholded, split into connected regions, and each region
//! with a high enough mean probability becomes a box, grown by the DB "unclip" margin because
//! the network is trained to mark a shrunk core of each text line.

use image::{imageops, RgbImage};

/// Pixels at or above this probability belong to text.
const PIXEL_THRESHOLD: f32 = 0.3;
/// A region whose mean probability is below this is not text.
const REGION_THRESHOLD: f32 = 0.5;
/// How far the shrunk core is grown back (area * ratio / perimeter), as trained.
const UNCLIP_RATIO: f32 = 1.6;
/// Input sides must be multiples of 32 for the network; rounding up to 64 keeps the number
/// of distinct optimised plans small.
const CANVAS_STEP: u32 = 64;

/// A text box in photo pixels (x0, y0 inclusive; x1, y1 exclusive) with its detector score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextBox {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
    pub score: f32,
}

impl TextBox {
    pub fn width(&self) -> f32 {
        self.x1 - self.x0
    }
    pub fn height(&self) -> f32 {
        self.y1 - self.y0
    }
}

/// The photo scaled so that its longer side is at most `max_side`, placed top-left on a canvas
/// whose sides are multiples of [`CANVAS_STEP`].
pub struct Canvas {
    pub width: u32,
    pub height: u32,
    /// Photo pixels per canvas pixel.
    pub scale: f32,
    /// Normalised BGR planes, as the network was trained (`(x / 255 - 0.5) / 0.5`).
    pub data: Vec<f32>,
}

pub fn canvas(photo: &RgbImage, max_side: u32) -> Canvas {
    let (w, h) = photo.dimensions();
    let scale = (max_side as f32 / w.max(h) as f32).min(1.0);
    let sw = ((w as f32 * scale).round() as u32).max(1);
    let sh = ((h as f32 * scale).round() as u32).max(1);
    let resized;
    let small = if (sw, sh) == (w, h) {
        photo
    } else {
        resized = imageops::resize(photo, sw, sh, imageops::FilterType::Triangle);
        &resized
    };
    let width = sw.div_ceil(CANVAS_STEP) * CANVAS_STEP;
    let height = sh.div_ceil(CANVAS_STEP) * CANVAS_STEP;
    let data = normalise_bgr(small, width, height);
    Canvas {
        width,
        height,
        scale: w as f32 / sw as f32,
        data,
    }
}

/// CHW planes in B, G, R order, zero (mid grey) outside the image.
pub fn normalise_bgr(image: &RgbImage, width: u32, height: u32) -> Vec<f32> {
    let plane = (width * height) as usize;
    let mut data = vec![0f32; 3 * plane];
    for (x, y, pixel) in image.enumerate_pixels() {
        if x >= width || y >= height {
            continue;
        }
        let i = (y * width + x) as usize;
        for (c, &value) in pixel.0.iter().rev().enumerate() {
            data[c * plane + i] = value as f32 / 127.5 - 1.0;
        }
    }
    data
}

/// Turns the detector's probability map into boxes in photo coordinates.
pub fn boxes_from_map(
    map: &[f32],
    width: usize,
    height: usize,
    scale: f32,
    photo: (u32, u32),
) -> Vec<TextBox> {
    let mut label = vec![0u32; map.len()];
    let mut stack = Vec::new();
    let mut boxes = Vec::new();
    let mut next = 0u32;
    for start in 0..map.len() {
        if label[start] != 0 || map[start] < PIXEL_THRESHOLD {
            continue;
        }
        next += 1;
        label[start] = next;
        stack.push(start);
        let (mut x0, mut y0, mut x1, mut y1) = (width, height, 0, 0);
        let (mut sum, mut count) = (0f32, 0usize);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % width, i / width);
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
            sum += map[i];
            count += 1;
            let mut visit = |j: usize| {
                if label[j] == 0 && map[j] >= PIXEL_THRESHOLD {
                    label[j] = next;
                    stack.push(j);
                }
            };
            if x > 0 {
                visit(i - 1);
            }
            if x + 1 < width {
                visit(i + 1);
            }
            if y > 0 {
                visit(i - width);
            }
            if y + 1 < height {
                visit(i + width);
            }
        }
        let (bw, bh) = ((x1 - x0 + 1) as f32, (y1 - y0 + 1) as f32);
        if bw < 3.0 || bh < 3.0 {
            continue;
        }
        let score = sum / count as f32;
        if score < REGION_THRESHOLD {
            continue;
        }
        let grow = bw * bh * UNCLIP_RATIO / (2.0 * (bw + bh));
        let (pw, ph) = (photo.0 as f32, photo.1 as f32);
        boxes.push(TextBox {
            x0: ((x0 as f32 - grow) * scale).max(0.0),
            y0: ((y0 as f32 - grow) * scale).max(0.0),
            x1: ((x0 as f32 + bw + grow) * scale).min(pw),
            y1: ((y0 as f32 + bh + grow) * scale).min(ph),
            score,
        });
    }
    boxes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separate_regions_become_separate_grown_boxes() {
        let (w, h) = (40, 20);
        let mut map = vec![0f32; w * h];
        for y in 5..10 {
            for x in 2..12 {
                map[y * w + x] = 0.9;
            }
            for x in 20..35 {
                map[y * w + x] = 0.4; // above the pixel threshold, below the region score
            }
        }
        let boxes = boxes_from_map(&map, w, h, 2.0, (80, 40));
        assert_eq!(boxes.len(), 1, "{boxes:?}");
        let b = boxes[0];
        assert!((b.score - 0.9).abs() < 1e-6);
        // 10x5 core grown by 10*5*1.6/30 = 2.67 on each side, then scaled by 2.
        assert!((b.x0 - (2.0 - 2.6667) * 2.0).abs() < 0.01 || b.x0 == 0.0);
        assert!((b.x1 - (12.0 + 2.6667) * 2.0).abs() < 0.01, "{b:?}");
        assert!((b.y1 - (10.0 + 2.6667) * 2.0).abs() < 0.01, "{b:?}");
    }

    #[test]
    fn canvas_is_bounded_and_aligned() {
        let photo = RgbImage::from_pixel(1280, 720, image::Rgb([255, 0, 0]));
        let c = canvas(&photo, 640);
        assert_eq!((c.width, c.height), (640, 384));
        assert!((c.scale - 2.0).abs() < 1e-6);
        // Blue plane first: a red photo is -1 there, +1 in the red plane, 0 in the padding.
        let plane = (c.width * c.height) as usize;
        assert_eq!(c.data[0], -1.0);
        assert_eq!(c.data[2 * plane], 1.0);
        assert_eq!(c.data[plane - 1], 0.0);
    }
}
