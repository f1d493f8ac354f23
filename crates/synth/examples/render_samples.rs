//! Writes sample images to a directory, to look at them: `cargo run -p anpr-synth --example
//! render_samples -- /tmp/samples`.

use anpr_synth::render::{
    render_overview_jpeg, render_plate_crop_sized, render_plate_jpeg, render_plate_png,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "samples".into());
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        format!("{dir}/glyphs.png"),
        render_plate_png("ABCDEFGHIJKLM", 1200, 1)?,
    )?;
    std::fs::write(
        format!("{dir}/glyphs2.png"),
        render_plate_png("NOPQRSTUVWXYZ", 1200, 1)?,
    )?;
    std::fs::write(
        format!("{dir}/digits.png"),
        render_plate_png("0123456789", 1000, 1)?,
    )?;
    std::fs::write(
        format!("{dir}/confusable.png"),
        render_plate_png("0OD8B5S", 700, 1)?,
    )?;
    std::fs::write(
        format!("{dir}/confusable2.png"),
        render_plate_png("1I2Z6GQ", 700, 1)?,
    )?;
    std::fs::write(
        format!("{dir}/plate.jpg"),
        render_plate_jpeg("FJM493", 372, 85, 7)?,
    )?;
    let crop = render_plate_crop_sized("KIWI1", 30_000, 3)?;
    println!("30 KB crop: {} bytes", crop.len());
    std::fs::write(format!("{dir}/crop30k.jpg"), crop)?;
    let overview = render_overview_jpeg("ABC123", Some("red"), 800, 600, 85, 9)?;
    println!("overview plate box: {:?}", overview.plate_box);
    std::fs::write(format!("{dir}/overview.jpg"), &overview.jpeg)?;
    // PNG copies of the JPEGs, for viewers that only show PNG.
    for name in ["plate", "crop30k", "overview"] {
        let jpeg = std::fs::read(format!("{dir}/{name}.jpg"))?;
        image::load_from_memory(&jpeg)?.save(format!("{dir}/{name}.png"))?;
    }
    Ok(())
}
