//! Drawing a plate: white with a black border and black characters from our bitmap font,
//! anti-aliased, with a little noise so it looks like a camera crop and not a vector drawing.

use crate::font::{index_of, ink, Glyph, GLYPHS, GLYPH_HEIGHT, GLYPH_WIDTH};
use crate::mix::Noise;
use crate::SynthError;
use image::GrayImage;

/// New Zealand plates are 372 mm by 134 mm.
const ASPECT: f64 = 134.0 / 372.0;
/// Gap between characters, as a share of a glyph's width.
const GAP: f64 = 0.22;
/// Characters that fit at full size; longer text (foreign plates) is drawn smaller.
const FULL_SIZE_CHARS: usize = 6;
const PAPER: i32 = 242;
const INK: i32 = 22;
/// Sub-samples per pixel edge when computing glyph coverage.
const SUPERSAMPLE: usize = 4;

pub const MIN_WIDTH: u32 = 40;
pub const MAX_WIDTH: u32 = 4000;

/// Anti-aliased coverage (0-255) of one glyph at one size.
struct Mask {
    width: usize,
    height: usize,
    coverage: Vec<u8>,
}

impl Mask {
    fn new(g: &Glyph, width: usize, height: usize) -> Mask {
        let mut coverage = Vec::with_capacity(width * height);
        let n = SUPERSAMPLE * SUPERSAMPLE;
        for y in 0..height {
            for x in 0..width {
                let mut hits = 0;
                for sy in 0..SUPERSAMPLE {
                    let gy = ((y * SUPERSAMPLE + sy) * GLYPH_HEIGHT) / (height * SUPERSAMPLE);
                    for sx in 0..SUPERSAMPLE {
                        let gx = ((x * SUPERSAMPLE + sx) * GLYPH_WIDTH) / (width * SUPERSAMPLE);
                        hits += usize::from(ink(g, gx, gy));
                    }
                }
                coverage.push((hits * 255 / n) as u8);
            }
        }
        Mask {
            width,
            height,
            coverage,
        }
    }
}

/// Character cell sizes for a plate width and a number of characters.
#[derive(Clone, Copy)]
struct Layout {
    glyph_w: usize,
    glyph_h: usize,
    gap: usize,
}

impl Layout {
    fn new(width: u32, height: u32, chars: usize) -> Layout {
        let chars = chars.max(FULL_SIZE_CHARS) as f64;
        let by_height = 0.60 * f64::from(height) / GLYPH_HEIGHT as f64;
        let per_char = GLYPH_WIDTH as f64 * (1.0 + GAP);
        let by_width = 0.86 * f64::from(width) / (chars * per_char - GLYPH_WIDTH as f64 * GAP);
        let scale = by_height.min(by_width);
        let glyph_w = ((GLYPH_WIDTH as f64 * scale).round() as usize).max(2);
        Layout {
            glyph_w,
            glyph_h: ((GLYPH_HEIGHT as f64 * scale).round() as usize).max(3),
            gap: ((glyph_w as f64 * GAP).round() as usize).max(1),
        }
    }
}

/// Renders plates of one width. Glyph coverage masks are computed once here, so rendering a
/// plate is a blit and a noise pass: keep one renderer per size and reuse it.
pub struct PlateRenderer {
    width: u32,
    height: u32,
    layout: Layout,
    masks: Vec<Mask>,
}

impl PlateRenderer {
    pub fn new(width: u32) -> Result<PlateRenderer, SynthError> {
        if !(MIN_WIDTH..=MAX_WIDTH).contains(&width) {
            return Err(SynthError::InvalidArgument(format!(
                "plate width {width} is outside {MIN_WIDTH}..={MAX_WIDTH}"
            )));
        }
        let height = (f64::from(width) * ASPECT).round() as u32;
        let layout = Layout::new(width, height, FULL_SIZE_CHARS);
        let masks = GLYPHS
            .iter()
            .map(|g| Mask::new(g, layout.glyph_w, layout.glyph_h))
            .collect();
        Ok(PlateRenderer {
            width,
            height,
            layout,
            masks,
        })
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// The plate `text` (A-Z, 0-9; lower case is upper-cased) with noise of up to `noise`
    /// grey levels, deterministic in `seed`.
    pub fn render(&self, text: &str, noise: u8, seed: u64) -> Result<GrayImage, SynthError> {
        let glyphs = glyphs(text)?;
        let (w, h) = (self.width as usize, self.height as usize);
        let mut px = vec![0u8; w * h];
        let mut rng = Noise::new(seed);
        let shade = |y: usize| PAPER + 4 - (8 * y / h) as i32;
        for y in 0..h {
            px[y * w..(y + 1) * w].fill(shade(y) as u8);
        }
        draw_border(&mut px, w, h);
        let fresh;
        let (layout, masks): (Layout, Vec<&Mask>) = if glyphs.len() <= FULL_SIZE_CHARS {
            (
                self.layout,
                glyphs.iter().map(|&i| &self.masks[i]).collect(),
            )
        } else {
            let layout = Layout::new(self.width, self.height, glyphs.len());
            fresh = glyphs
                .iter()
                .map(|&i| Mask::new(&GLYPHS[i], layout.glyph_w, layout.glyph_h))
                .collect::<Vec<_>>();
            (layout, fresh.iter().collect())
        };
        let n = masks.len();
        let total = n * layout.glyph_w + (n - 1) * layout.gap;
        let x0 = w.saturating_sub(total) / 2;
        let y0 = h.saturating_sub(layout.glyph_h) / 2;
        for (k, mask) in masks.iter().enumerate() {
            let left = x0 + k * (layout.glyph_w + layout.gap);
            for my in 0..mask.height {
                let y = y0 + my;
                if y >= h {
                    break;
                }
                for mx in 0..mask.width {
                    let x = left + mx;
                    let a = i32::from(mask.coverage[my * mask.width + mx]);
                    if x < w && a > 0 {
                        let bg = i32::from(px[y * w + x]);
                        px[y * w + x] = (bg + (INK - bg) * a / 255) as u8;
                    }
                }
            }
        }
        if noise > 0 {
            for p in px.iter_mut() {
                *p = (i32::from(*p) + rng.next(i32::from(noise))).clamp(0, 255) as u8;
            }
        }
        GrayImage::from_raw(self.width, self.height, px)
            .ok_or_else(|| SynthError::InvalidArgument("plate buffer size".into()))
    }
}

/// The glyph indices of `text`.
fn glyphs(text: &str) -> Result<Vec<usize>, SynthError> {
    if text.is_empty() {
        return Err(SynthError::InvalidArgument("plate text is empty".into()));
    }
    text.chars()
        .map(|c| {
            let c = c.to_ascii_uppercase();
            index_of(c).ok_or(SynthError::UnsupportedCharacter(c))
        })
        .collect()
}

/// A black frame inset from the edge, as on a real plate.
fn draw_border(px: &mut [u8], w: usize, h: usize) {
    let inset = (h / 20).max(1);
    let thick = (h / 28).max(1);
    if w <= 2 * (inset + thick) || h <= 2 * (inset + thick) {
        return;
    }
    for y in inset..h - inset {
        for x in inset..w - inset {
            let edge = y < inset + thick
                || y >= h - inset - thick
                || x < inset + thick
                || x >= w - inset - thick;
            if edge {
                px[y * w + x] = INK as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_refusals() {
        let r = PlateRenderer::new(372).unwrap();
        assert_eq!((r.width(), r.height()), (372, 134));
        let img = r.render("abc123", 0, 1).unwrap();
        assert_eq!(img.dimensions(), (372, 134));
        assert!(PlateRenderer::new(10).is_err());
        assert!(matches!(
            r.render("AB-1", 0, 1),
            Err(SynthError::UnsupportedCharacter('-'))
        ));
        assert!(r.render("", 0, 1).is_err());
        // Long foreign plates shrink to fit.
        assert!(r.render("ABCDEFGHIJ", 3, 1).is_ok());
    }

    #[test]
    fn characters_are_dark_on_light() {
        let r = PlateRenderer::new(200).unwrap();
        let img = r.render("HHHHHH", 0, 1).unwrap();
        let (w, h) = img.dimensions();
        let mean = |x0: u32, x1: u32| {
            let mut sum = 0u64;
            for y in h / 3..2 * h / 3 {
                for x in x0..x1 {
                    sum += u64::from(img.get_pixel(x, y)[0]);
                }
            }
            sum / u64::from((x1 - x0) * (h / 3))
        };
        // The middle band of six H's is about half ink; the margin beyond the text is paper.
        assert!(mean(w / 4, 3 * w / 4) < 180);
        assert!(
            mean(w / 80 + 6, w / 80 + 8) > 200,
            "{}",
            mean(w / 80 + 6, w / 80 + 8)
        );
        // Deterministic.
        assert_eq!(
            r.render("ABC123", 8, 5).unwrap(),
            r.render("ABC123", 8, 5).unwrap()
        );
        assert_ne!(
            r.render("ABC123", 8, 5).unwrap(),
            r.render("ABC123", 8, 6).unwrap()
        );
    }
}
