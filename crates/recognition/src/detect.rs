//! Text detection: the DB (differentiable binarisation) detector run on a downscaled copy of
//! the photo, and its post-processing into boxes in photo coordinates.
//!
//! The detector's probability map is thresholded, split into connected regions, and each region
//! with a high enough mean probability becomes a box, grown by the DB "unclip" margin because
//! the network is trained to mark a shrunk core of each text line.

use image::RgbImage;

use crate::resample::resampled;

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

    /// The box grown by `margin` on the left and right, kept inside a photo `size[0]` wide.
    pub fn widened(&self, margin: f32, size: (u32, u32)) -> TextBox {
        TextBox {
            x0: (self.x0 - margin).max(0.0),
            x1: (self.x1 + margin).min(size.0 as f32),
            ..*self
        }
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

/// The photo scaled so that its longest side is `max_side`, on a canvas padded to the next
/// multiple of the network's stride.
pub fn canvas(photo: &RgbImage, max_side: u32) -> Canvas {
    canvas_from(photo.dimensions(), photo, max_side)
}

/// [`canvas`] of a photo of `size` pixels, resampled from `source`: the photo itself or a
/// smaller copy of it ([`crate::resample::detection_source`]). Its sizes and scale are the
/// photo's, so boxes come out in the photo's pixels either way.
pub fn canvas_from(size: (u32, u32), source: &RgbImage, max_side: u32) -> Canvas {
    let (w, h) = size;
    // Down to fit, or up for a photo smaller than `max_side` (the caller decides which).
    let scale = max_side as f32 / w.max(h) as f32;
    let sw = ((w as f32 * scale).round() as u32).max(1);
    let sh = ((h as f32 * scale).round() as u32).max(1);
    let resized;
    let small = if (sw, sh) == source.dimensions() {
        source
    } else {
        resized = resampled(source, sw, sh);
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

/// Two boxes are parts of one line when their gap is at most this many times the taller one's
/// height (boxes are grown by the unclip margin, so the gap between the characters is wider).
const JOIN_MAX_GAP: f32 = 1.0;
/// ... and they overlap vertically by at least this share of the shorter one's height.
const JOIN_MIN_OVERLAP: f32 = 0.6;
/// At most this many neighbours are joined into one line.
const JOIN_MAX_PARTS: usize = 3;

/// Adds a box for each run of neighbouring boxes on one line. The detector splits a line
/// where the characters are far apart: plates with a gap, a sticker or an emblem between
/// character groups come out as two or three boxes side by side. The parts are kept, so the
/// reads of both are there to choose from.
pub fn with_joined_neighbours(mut boxes: Vec<TextBox>) -> Vec<TextBox> {
    boxes.sort_by(|a, b| a.x0.total_cmp(&b.x0));
    let parts = boxes.len();
    for first in 0..parts {
        let mut line = boxes[first];
        let mut last = first;
        for _ in 1..JOIN_MAX_PARTS {
            let next = (last + 1..parts)
                .filter(|&j| neighbours(&boxes[last], &boxes[j]))
                .min_by(|&a, &b| boxes[a].x0.total_cmp(&boxes[b].x0));
            let Some(next) = next else { break };
            let part = boxes[next];
            line = TextBox {
                x0: line.x0.min(part.x0),
                y0: line.y0.min(part.y0),
                x1: line.x1.max(part.x1),
                y1: line.y1.max(part.y1),
                score: line.score.min(part.score),
            };
            boxes.push(line);
            last = next;
        }
    }
    boxes
}

/// Whether `right` continues the line of `left`: about the same height, on the same line, and
/// starting a short gap after it.
fn neighbours(left: &TextBox, right: &TextBox) -> bool {
    let (shorter, taller) = (
        left.height().min(right.height()),
        left.height().max(right.height()),
    );
    let gap = right.x0 - left.x1;
    let overlap = left.y1.min(right.y1) - left.y0.max(right.y0);
    taller <= 1.6 * shorter
        && overlap >= JOIN_MIN_OVERLAP * shorter
        && gap <= JOIN_MAX_GAP * taller
        && gap >= -0.5 * shorter
        && right.x1 > left.x1
}

#[cfg(test)]
pub(crate) mod tests {
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

    /// A box with a detector score of 0.9.
    pub(crate) fn tb(x0: f32, y0: f32, x1: f32, y1: f32) -> TextBox {
        TextBox {
            x0,
            y0,
            x1,
            y1,
            score: 0.9,
        }
    }

    #[test]
    fn parts_of_a_line_are_joined_and_kept() {
        // "SG8L" and "7E" a short gap apart, and a line of text far below.
        let boxes = vec![
            tb(100.0, 50.0, 160.0, 70.0),
            tb(175.0, 52.0, 205.0, 71.0),
            tb(100.0, 120.0, 200.0, 140.0),
        ];
        let joined = with_joined_neighbours(boxes.clone());
        assert_eq!(joined.len(), 4, "{joined:?}");
        assert!(joined.contains(&TextBox {
            score: 0.9,
            ..tb(100.0, 50.0, 205.0, 71.0)
        }));
        for b in &boxes {
            assert!(joined.contains(b));
        }
    }

    #[test]
    fn distant_or_differently_sized_boxes_stay_apart() {
        let far = vec![tb(0.0, 0.0, 40.0, 20.0), tb(80.0, 0.0, 120.0, 20.0)];
        assert_eq!(with_joined_neighbours(far).len(), 2);
        let big_and_small = vec![tb(0.0, 0.0, 100.0, 60.0), tb(105.0, 20.0, 130.0, 35.0)];
        assert_eq!(with_joined_neighbours(big_and_small).len(), 2);
    }

    #[test]
    fn a_small_photo_is_enlarged_to_the_side_asked_for() {
        let photo = RgbImage::from_pixel(460, 300, image::Rgb([0, 0, 255]));
        let c = canvas(&photo, 640);
        assert_eq!((c.width, c.height), (640, 448));
        assert!((c.scale - 460.0 / 640.0).abs() < 1e-6);
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
