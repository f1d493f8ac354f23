//! The recognition pipeline: models loaded once, optimised plans cached per input shape.

use image::RgbImage;
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tract_onnx::prelude::*;

use crate::choose::{plate_likeness, plate_shaped};
use crate::decode::decode_photo;
use crate::detect::{boxes_from_map, canvas_from, with_joined_neighbours, TextBox};
use crate::direct_conv::with_direct_convs;
use crate::formats::{fit, Fitted};
use crate::learn::{sure_layout, LearnedFormats};
use crate::read::{decode, line_input, Alphabet, LINE_HEIGHT};
use crate::resample::detection_source;
use crate::{models, RecognitionError, Result};

type Plan = Arc<TypedRunnableModel>;

/// Boxes narrower than this for their height hold one or two characters: not a plate.
const MIN_LINE_ASPECT: f32 = 1.2;
/// Boxes wider than this for their height hold more characters than a plate (timestamps,
/// slogans, shop signs) and are not read. No plate of either benchmark set was boxed wider
/// than 5.0; lines of 6 or more were 18 % of the US reads (camera timestamps mostly).
const MAX_LINE_ASPECT: f32 = 6.0;

#[derive(Debug, Clone)]
pub struct RecogniserOptions {
    /// Longer side of the detection canvas, per pass. A later pass runs only when the earlier
    /// ones found no confident plate: most photos are settled by the cheap first pass, and
    /// small, distant plates get a second look at higher resolution. A second pass at 960
    /// read as many benchmark plates as one at 1280, at about half its cost.
    pub detection_sides: Vec<u32>,
    /// Region profiles to fit reads to (`nz`, `au`, `uk`, `us`, `eu`, `br`); empty means all.
    pub profiles: Vec<String>,
    /// A plate fitting a profile with at least this score ends the search early. At 0.8 more
    /// than half the US photos took the second pass and none was read better for it.
    pub confident: f32,
    /// Characters the recogniser is less sure of than this are dropped: they are almost
    /// always a crest, a flag strip or a bolt read as a character.
    pub min_char_prob: f32,
    /// How many candidate readings to report per plate.
    pub top_n: usize,
    /// Margin added left and right of a detected box before reading it, as a share of its
    /// height: the box hugs the characters, and the recogniser often drops a character that
    /// touches the edge of its crop (the leading digit of many US plates). Measured: 0.15
    /// read more of both benchmark sets than 0, 0.1, 0.2 or 0.3; a vertical margin read fewer.
    pub read_margin: f32,
    /// A photo whose longest side is smaller than this gets a second detection pass enlarged
    /// to it when the pass at its own size read no plate surely (0: never enlarged). At its
    /// own 460 pixels the detector found only parts of plates whose characters are 20 pixels
    /// high (`633BD` of `LM633BD`, `BA30` of `BA302OZ`), and nothing of some; enlarged to 640
    /// it found them whole (EU set 88.9 % -> 93.5 %). Enlarging every small photo first read
    /// one EU plate more than this, at half as much time again (EU median 313 ms against
    /// 214 ms in one run).
    pub enlarge_small_to: u32,
    /// Once a plate is read surely, text boxes less than this share of its height are not
    /// read (0: every box is read). Reading is a third of a photo's time, and a close-up
    /// holds many small words (makes, models, dealers, country codes): at 0.7 the EU photos
    /// took about 8 % less time and neither benchmark set read a plate fewer. A second plate
    /// in the photo is still read if it is at least this share of the first's height.
    pub skip_text_under: f32,
    /// Learn plate layouts from the plates read surely and fit later reads to them too
    /// ([`crate::learn`]): what settles O/0 and I/1 on plates of formats no profile knows.
    pub learn_formats: bool,
}

impl Default for RecogniserOptions {
    fn default() -> Self {
        RecogniserOptions {
            detection_sides: vec![640, 960],
            profiles: Vec::new(),
            confident: 0.5,
            min_char_prob: 0.4,
            top_n: 5,
            read_margin: 0.15,
            enlarge_small_to: 640,
            skip_text_under: 0.7,
            learn_formats: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PlateBox {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub plate: String,
    /// 0-100, as OpenALPR reports it.
    pub confidence: f32,
    pub matches_template: bool,
}

/// One plate found in a photo, in the shape of OpenALPR's `alpr_results` entries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlateResult {
    pub plate: String,
    pub confidence: f32,
    pub matches_template: bool,
    /// The region profile whose format the plate fits, if any.
    pub region: Option<String>,
    #[serde(rename = "box")]
    pub plate_box: PlateBox,
    pub candidates: Vec<Candidate>,
}

struct Line {
    region: TextBox,
    fitted: Fitted,
    raw: String,
    raw_score: f32,
    likeness: f32,
    /// The read's letter/digit layout, if it is sure enough to learn from.
    sure_layout: Option<String>,
}

pub struct Recogniser {
    detector: InferenceModel,
    reader: InferenceModel,
    alphabet: Alphabet,
    options: RecogniserOptions,
    detector_plans: Mutex<HashMap<(u32, u32), Plan>>,
    reader_plans: Mutex<HashMap<u32, Plan>>,
    learned: RwLock<LearnedFormats>,
    learning: AtomicBool,
}

impl Recogniser {
    /// Loads the models from `dir`, checking their pinned checksums.
    pub fn load(dir: &Path, options: RecogniserOptions) -> Result<Recogniser> {
        models::verify(dir)?;
        let onnx = || {
            tract_onnx::onnx()
                .with_ignore_output_shapes(true)
                .with_ignore_value_info(true)
        };
        let detector = onnx().model_for_path(dir.join(models::DETECTOR.file_name))?;
        let reader = onnx().model_for_path(dir.join(models::RECOGNISER.file_name))?;
        let list = reader
            .properties
            .get("onnx.metadata_props.character")
            .ok_or_else(|| RecognitionError::Model("recogniser has no character list".into()))?
            .try_as_plain_ram()?
            .to_scalar::<String>()?
            .clone();
        let alphabet = Alphabet::from_character_list(&list).ok_or_else(|| {
            RecognitionError::Model("recogniser's character list lacks A-Z or 0-9".into())
        })?;
        Ok(Recogniser {
            detector,
            reader,
            alphabet,
            learning: AtomicBool::new(options.learn_formats),
            learned: RwLock::new(LearnedFormats::default()),
            options,
            detector_plans: Mutex::new(HashMap::new()),
            reader_plans: Mutex::new(HashMap::new()),
        })
    }

    pub fn options(&self) -> &RecogniserOptions {
        &self.options
    }

    /// Turns learning plate layouts from sure reads on or off; what was learned is kept and
    /// still used.
    pub fn set_learning(&self, on: bool) {
        self.learning.store(on, Ordering::Relaxed);
    }

    /// Forgets every layout learned so far.
    pub fn forget_learned(&self) {
        *self.learned.write().unwrap_or_else(|p| p.into_inner()) = LearnedFormats::default();
    }

    /// The layouts learned so far that reads are fitted to, most seen first.
    pub fn learned_formats(&self) -> Arc<[String]> {
        self.learned
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .patterns()
    }

    /// Recognises the plates in an encoded photo (JPEG or PNG), best first.
    pub fn recognise_bytes(&self, bytes: &[u8]) -> Result<Vec<PlateResult>> {
        self.recognise(&decode_photo(bytes)?)
    }

    /// Recognises the plates in a decoded photo, best first.
    pub fn recognise(&self, photo: &RgbImage) -> Result<Vec<PlateResult>> {
        let mut lines: Vec<Line> = Vec::new();
        let learned = self.learned_formats();
        let longest = photo.width().max(photo.height());
        let mut previous_side = 0;
        // Height of the tallest line read so far that fits a format well (0 if none).
        let mut sure_plate_height = 0.0f32;
        let sides = pass_sides(&self.options, longest);
        // One detection copy serves every pass: a huge photo is shrunk once, not per pass.
        let source = detection_source(photo, sides.iter().copied().max().unwrap_or(longest));
        for side in sides {
            if side <= previous_side {
                break;
            }
            previous_side = side;
            let mut regions = self.detect(photo, &source, side)?;
            // Tallest first, so that once a plate is read surely the smaller text around it
            // (badges, dealer frames, stickers) can be passed over.
            regions.sort_by(|a, b| b.height().total_cmp(&a.height()));
            // Within a pass the boxes are distinct by construction (joined lines overlap
            // their parts on purpose); an earlier pass may have read the same text already.
            let earlier = lines.len();
            for region in regions {
                if lines[..earlier]
                    .iter()
                    .any(|l| already_read(&l.region, &region))
                    || region.height() < self.options.skip_text_under * sure_plate_height
                {
                    continue;
                }
                if let Some(line) = self.read_line(photo, region, &learned)? {
                    if self.fits_well(&line) {
                        sure_plate_height = sure_plate_height.max(line.region.height());
                    }
                    lines.push(line);
                }
            }
            // At a small photo's own size, only a read fitting a format well is trusted:
            // a plate-shaped read there is as often a plate missing a character (`K891AL`
            // of `RK891AU`), which the enlarged pass reads whole.
            let small_at_own_size = side == longest && side < self.options.enlarge_small_to;
            if self.settled(&lines, !small_at_own_size) {
                break;
            }
        }
        lines.sort_by(|a, b| b.likeness.total_cmp(&a.likeness));
        if self.learning.load(Ordering::Relaxed) {
            if let Some(layout) = lines.first().and_then(|l| l.sure_layout.clone()) {
                self.learned
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .record(layout);
            }
        }
        Ok(self.results(lines))
    }

    /// Whether a line fits a format with a score that ends the search.
    fn fits_well(&self, line: &Line) -> bool {
        line.fitted.profile.is_some() && line.fitted.score >= self.options.confident
    }

    /// Whether the lines read so far hold a plate surely enough to skip the next, costlier
    /// pass: a read fitting a format well, or a plate-shaped read of a format no profile knows
    /// (six or more characters, letters and digits) leading the photo. Reads that are not
    /// settled are what a second look fixes: parts of a plate (`6MD` of `6MDU097`, `K8F5L` of
    /// `DK8F5L`) and words or numbers winning where the plate was not found (`PROPERTY`,
    /// `201450`). Before the second rule, 15 of the 43 US photos given a second pass had
    /// already been read correctly by the first.
    fn settled(&self, lines: &[Line], unfitted_settles: bool) -> bool {
        let leader_plate_shaped = || {
            lines
                .iter()
                .max_by(|a, b| a.likeness.total_cmp(&b.likeness))
                .is_some_and(|l| plate_shaped(&l.fitted.text))
        };
        lines.iter().any(|l| self.fits_well(l)) || (unfitted_settles && leader_plate_shaped())
    }

    fn results(&self, lines: Vec<Line>) -> Vec<PlateResult> {
        let Some(best) = lines.first().map(|l| l.likeness) else {
            return Vec::new();
        };
        lines
            .iter()
            .enumerate()
            .filter(|(i, l)| {
                l.likeness > 0.0
                    && (*i == 0 || (l.fitted.profile.is_some() && l.likeness >= best * 0.5))
            })
            .map(|(_, line)| {
                let mut candidates = vec![Candidate {
                    plate: line.fitted.text.clone(),
                    confidence: line.fitted.confidence * 100.0,
                    matches_template: line.fitted.profile.is_some(),
                }];
                if line.raw != line.fitted.text {
                    candidates.push(Candidate {
                        plate: line.raw.clone(),
                        confidence: line.raw_score * 100.0,
                        matches_template: false,
                    });
                }
                for other in &lines {
                    if candidates.len() >= self.options.top_n {
                        break;
                    }
                    if !candidates.iter().any(|c| c.plate == other.fitted.text) {
                        candidates.push(Candidate {
                            plate: other.fitted.text.clone(),
                            confidence: other.fitted.confidence * 100.0,
                            matches_template: other.fitted.profile.is_some(),
                        });
                    }
                }
                candidates.truncate(self.options.top_n.max(1));
                let r = &line.region;
                PlateResult {
                    plate: line.fitted.text.clone(),
                    confidence: line.fitted.confidence * 100.0,
                    matches_template: line.fitted.profile.is_some(),
                    region: line.fitted.profile.map(str::to_string),
                    plate_box: PlateBox {
                        x: r.x0 as u32,
                        y: r.y0 as u32,
                        width: r.width() as u32,
                        height: r.height() as u32,
                    },
                    candidates,
                }
            })
            .collect()
    }

    /// Text boxes in `photo`'s pixels, found on a canvas of longer side `side` resampled from
    /// `source` (the photo or its detection copy).
    fn detect(&self, photo: &RgbImage, source: &RgbImage, side: u32) -> Result<Vec<TextBox>> {
        let canvas = canvas_from(photo.dimensions(), source, side);
        let plan = self.detector_plan(canvas.width, canvas.height)?;
        let input = Tensor::from_shape(
            &[1, 3, canvas.height as usize, canvas.width as usize],
            &canvas.data,
        )?;
        let output = plan.run(tvec!(input.into()))?;
        let map = output[0].try_as_plain_ram()?;
        let map = map.as_slice::<f32>()?;
        Ok(with_joined_neighbours(boxes_from_map(
            map,
            canvas.width as usize,
            canvas.height as usize,
            canvas.scale,
            photo.dimensions(),
        )))
    }

    fn read_line(
        &self,
        photo: &RgbImage,
        region: TextBox,
        learned: &[String],
    ) -> Result<Option<Line>> {
        let aspect = region.width() / region.height().max(1.0);
        if !(MIN_LINE_ASPECT..=MAX_LINE_ASPECT).contains(&aspect) {
            return Ok(None);
        }
        let margin = self.options.read_margin * region.height();
        let crop = region.widened(margin, photo.dimensions());
        let Some((data, width)) = line_input(photo, &crop) else {
            return Ok(None);
        };
        let plan = self.reader_plan(width)?;
        let input = Tensor::from_shape(&[1, 3, LINE_HEIGHT as usize, width as usize], &data)?;
        let output = plan.run(tvec!(input.into()))?;
        let probs = output[0].try_as_plain_ram()?;
        let probs = probs.as_slice::<f32>()?;
        let chars: Vec<_> = decode(probs, &self.alphabet)
            .into_iter()
            .filter(|c| c.prob >= self.options.min_char_prob)
            .collect();
        if chars.len() < 2 {
            return Ok(None);
        }
        let profiles: Vec<&str> = self.options.profiles.iter().map(String::as_str).collect();
        let fitted = fit(&chars, &profiles, learned);
        let likeness = plate_likeness(&fitted, region.height(), photo.height() as f32);
        Ok(Some(Line {
            region,
            raw: chars.iter().map(|c| c.ch).collect(),
            raw_score: chars.iter().map(|c| c.prob).product(),
            fitted,
            likeness,
            sure_layout: if self.learning.load(Ordering::Relaxed) {
                sure_layout(&chars)
            } else {
                None
            },
        }))
    }

    fn detector_plan(&self, width: u32, height: u32) -> Result<Plan> {
        let mut plans = self
            .detector_plans
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(plan) = plans.get(&(width, height)) {
            return Ok(plan.clone());
        }
        let plan = optimised_plan(&self.detector, [1, 3, height as usize, width as usize])?;
        plans.insert((width, height), plan.clone());
        Ok(plan)
    }

    fn reader_plan(&self, width: u32) -> Result<Plan> {
        let mut plans = self.reader_plans.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(plan) = plans.get(&width) {
            return Ok(plan.clone());
        }
        let plan = optimised_plan(&self.reader, [1, 3, LINE_HEIGHT as usize, width as usize])?;
        plans.insert(width, plan.clone());
        Ok(plan)
    }
}

/// `model` optimised for one input shape, with the convolutions [`with_direct_convs`] computes
/// faster swapped in before tract lowers the rest.
fn optimised_plan(model: &InferenceModel, input: [usize; 4]) -> Result<Plan> {
    let model = model
        .clone()
        .with_input_fact(0, f32::fact(input).into())?
        .into_typed()?
        .into_decluttered()?;
    Ok(with_direct_convs(model)?
        .into_optimized()?
        .into_runnable()?)
}

/// Longer side of the detection canvas for each pass over a photo whose longer side is
/// `longest`. A photo is never detected larger than it is, except that a small one gets a
/// second pass enlarged to `enlarge_small_to` (run only when its own size settled nothing).
fn pass_sides(options: &RecogniserOptions, longest: u32) -> Vec<u32> {
    if longest < options.enlarge_small_to {
        return vec![longest, options.enlarge_small_to];
    }
    options
        .detection_sides
        .iter()
        .map(|&side| side.min(longest))
        .collect()
}

/// Whether a box found in a later pass lies within one read in an earlier pass (give or take
/// a quarter of its height), so that reading it again adds nothing. A larger box around an
/// earlier one is read: at a higher resolution the detector often finds the whole plate of
/// which the first pass found only part (`6MD` of `6MDU097`, `K8F5L` of `DK8F5L`).
fn already_read(earlier: &TextBox, later: &TextBox) -> bool {
    let slack = 0.25 * earlier.height();
    later.x0 >= earlier.x0 - slack
        && later.x1 <= earlier.x1 + slack
        && later.y0 >= earlier.y0 - slack
        && later.y1 <= earlier.y1 + slack
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::tests::tb;

    #[test]
    fn a_small_photo_is_enlarged_only_in_a_second_pass() {
        let sides = |options: RecogniserOptions, longest| pass_sides(&options, longest);
        let default = RecogniserOptions::default;
        assert_eq!(sides(default(), 1280), vec![640, 960]);
        assert_eq!(sides(default(), 800), vec![640, 800]);
        assert_eq!(sides(default(), 500), vec![500, 640]);
        let never = RecogniserOptions {
            enlarge_small_to: 0,
            ..default()
        };
        assert_eq!(sides(never, 500), vec![500, 500]);
    }

    #[test]
    fn a_later_box_within_an_earlier_one_is_not_read_again() {
        let earlier = tb(920.0, 106.0, 967.0, 135.0);
        assert!(already_read(&earlier, &tb(918.0, 104.0, 969.0, 137.0)));
        assert!(already_read(&earlier, &tb(930.0, 110.0, 960.0, 130.0)));
    }

    #[test]
    fn a_later_box_reaching_beyond_an_earlier_one_is_read() {
        // `K8F5L` first, then the whole `DK8F5L` at the higher resolution.
        let earlier = tb(920.0, 106.0, 967.0, 135.0);
        assert!(!already_read(&earlier, &tb(899.0, 95.0, 978.0, 141.0)));
    }
}
