use thiserror::Error;

/// Why synthetic data could not be made: a parameter out of range, a character the font does
/// not have, or an image encoder failure.
#[derive(Debug, Error)]
pub enum SynthError {
    #[error("{0}")]
    InvalidArgument(String),
    #[error("character {0:?} cannot be rendered (only A-Z and 0-9)")]
    UnsupportedCharacter(char),
    #[error("image encoding failed: {0}")]
    Encode(#[from] image::ImageError),
}
