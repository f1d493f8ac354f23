//! An overview frame: a road, a car seen from behind in its colour, and its plate on the
//! bumper. Crude on purpose; what matters is that the plate is where the box says it is.

use super::plate::PlateRenderer;
use crate::mix::Noise;
use crate::SynthError;
use anpr_domain::BoundingBox;
use image::{Rgb, RgbImage};

/// The RGB of a vehicle colour name as cameras report it (unknown names are silver).
pub fn colour_rgb(name: &str) -> [u8; 3] {
    match name.to_ascii_lowercase().as_str() {
        "white" => [236, 236, 234],
        "black" => [24, 24, 28],
        "grey" | "gray" | "silver-gray" => [118, 120, 126],
        "red" => [168, 26, 30],
        "blue" => [32, 62, 150],
        "green" => [34, 108, 58],
        "yellow" => [222, 190, 40],
        "orange" => [222, 112, 32],
        "brown" => [108, 70, 42],
        "gold" | "beige" => [204, 176, 112],
        "purple" => [92, 42, 120],
        _ => [190, 192, 196],
    }
}

pub(super) fn draw(
    plate: &str,
    colour: [u8; 3],
    width: u32,
    height: u32,
    seed: u64,
) -> Result<(RgbImage, BoundingBox), SynthError> {
    if width < 160 || height < 120 || width > 8000 || height > 6000 {
        return Err(SynthError::InvalidArgument(format!(
            "overview {width}x{height} is outside 160x120..=8000x6000"
        )));
    }
    let (w, h) = (width as i64, height as i64);
    let horizon = h * 2 / 5;
    let mut img = RgbImage::from_fn(width, height, |_, y| {
        let y = i64::from(y);
        if y < horizon {
            // A shop front behind the forecourt, lighter towards the top.
            let t = (y * 40 / horizon) as u8;
            Rgb([196 - t, 200 - t, 206 - t / 2])
        } else {
            let t = ((y - horizon) * 30 / (h - horizon)) as u8;
            Rgb([70 + t, 70 + t, 74 + t])
        }
    });
    lane_markings(&mut img, horizon);

    let body_w = w / 2;
    let body_h = h * 22 / 100;
    let cx = w / 2 + (seed % 21) as i64 * w / 200 - w / 20;
    let body_bottom = h * 88 / 100;
    let body = (
        cx - body_w / 2,
        body_bottom - body_h,
        cx + body_w / 2,
        body_bottom,
    );
    let cabin_h = h * 16 / 100;

    // Wheels, then the body over them.
    let wheel_w = body_w / 7;
    for x in [body.0 + body_w / 12, body.2 - body_w / 12 - wheel_w] {
        fill(
            &mut img,
            x,
            body.3 - h / 50,
            x + wheel_w,
            body.3 + h / 20,
            [18, 18, 20],
        );
    }
    for y in body.1..body.3 {
        let shade = ((body.3 - y) * 30 / body_h) as i32;
        let c = colour.map(|v| (i32::from(v) + shade - 10).clamp(0, 255) as u8);
        fill(&mut img, body.0, y, body.2, y + 1, c);
    }
    // Cabin: a trapezoid of body colour with a dark rear window.
    for dy in 0..cabin_h {
        let y = body.1 - cabin_h + dy;
        let half = body_w * 35 / 100 + (body_w * 15 / 100) * dy / cabin_h;
        fill(&mut img, cx - half, y, cx + half, y + 1, colour);
        let glass = half - body_w / 25;
        if dy > cabin_h / 8 && dy < cabin_h * 9 / 10 {
            fill(&mut img, cx - glass, y, cx + glass, y + 1, [38, 44, 54]);
        }
    }
    // Tail lights and bumper.
    let light_w = body_w / 6;
    let light_h = body_h / 5;
    fill(
        &mut img,
        body.0 + body_w / 30,
        body.1 + body_h / 8,
        body.0 + body_w / 30 + light_w,
        body.1 + body_h / 8 + light_h,
        [190, 20, 24],
    );
    fill(
        &mut img,
        body.2 - body_w / 30 - light_w,
        body.1 + body_h / 8,
        body.2 - body_w / 30,
        body.1 + body_h / 8 + light_h,
        [190, 20, 24],
    );
    fill(
        &mut img,
        body.0,
        body.3 - body_h / 6,
        body.2,
        body.3,
        [40, 40, 44],
    );

    // The plate, centred below the lights.
    let renderer = PlateRenderer::new(((body_w * 30 / 100) as u32).max(super::plate::MIN_WIDTH))?;
    let crop = renderer.render(plate, 3, seed ^ 0x5EED)?;
    let px = cx - i64::from(renderer.width()) / 2;
    let py = body.3 - body_h / 6 - i64::from(renderer.height()) - body_h / 20;
    for (x, y, p) in crop.enumerate_pixels() {
        let (tx, ty) = (px + i64::from(x), py + i64::from(y));
        if (0..w).contains(&tx) && (0..h).contains(&ty) {
            img.put_pixel(
                tx as u32,
                ty as u32,
                Rgb([p[0], p[0], p[0].saturating_sub(4)]),
            );
        }
    }
    let plate_box = clip_box(
        px,
        py,
        i64::from(renderer.width()),
        i64::from(renderer.height()),
        w,
        h,
    );

    let mut noise = Noise::new(seed);
    for p in img.pixels_mut() {
        let n = noise.next(5);
        p.0 = p.0.map(|v| (i32::from(v) + n).clamp(0, 255) as u8);
    }
    Ok((img, plate_box))
}

/// Two dashed lines running to the vanishing point.
fn lane_markings(img: &mut RgbImage, horizon: i64) {
    let (w, h) = (i64::from(img.width()), i64::from(img.height()));
    for side in [-1i64, 1] {
        for y in horizon + 4..h {
            let depth = y - horizon;
            if (depth / (4 + depth / 6)) % 2 == 1 {
                continue;
            }
            let x = w / 2 + side * depth * w * 45 / 100 / (h - horizon);
            let half = 1 + depth / 60;
            fill(img, x - half, y, x + half, y + 1, [220, 220, 210]);
        }
    }
}

/// Fills `[x0, x1) x [y0, y1)`, clipped to the image.
fn fill(img: &mut RgbImage, x0: i64, y0: i64, x1: i64, y1: i64, c: [u8; 3]) {
    let (w, h) = (i64::from(img.width()), i64::from(img.height()));
    for y in y0.max(0)..y1.min(h) {
        for x in x0.max(0)..x1.min(w) {
            img.put_pixel(x as u32, y as u32, Rgb(c));
        }
    }
}

fn clip_box(x: i64, y: i64, bw: i64, bh: i64, w: i64, h: i64) -> BoundingBox {
    let (x0, y0) = (x.clamp(0, w), y.clamp(0, h));
    let (x1, y1) = ((x + bw).clamp(0, w), (y + bh).clamp(0, h));
    BoundingBox {
        x: x0 as u32,
        y: y0 as u32,
        width: (x1 - x0) as u32,
        height: (y1 - y0) as u32,
    }
}
