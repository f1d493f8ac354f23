//! The one error type of ingestion.
//!
//! Every error names the field it is about (`reads[3].captured_at`, `best_plate_number`,
//! `plate_image`) so that a camera integrator can fix the sender without reading our logs, and
//! each variant maps to exactly one HTTP status so the server never has to guess.

use thiserror::Error;

/// Why a body, part, image or import line was refused.
///
/// | variant         | HTTP status                    | meaning                                         |
/// |-----------------|--------------------------------|-------------------------------------------------|
/// | `Malformed`     | 400 Bad Request                | not parseable at all (JSON syntax, CSV syntax, multipart without its JSON part) |
/// | `UnknownFormat` | 400 Bad Request                | well-formed JSON that is none of the formats we accept |
/// | `Invalid`       | 422 Unprocessable Entity       | parseable, but a value is of the wrong type or breaks a rule |
/// | `TooLarge`      | 413 Payload Too Large          | too many reads in a batch, an image over the byte or pixel limit |
/// | `Io`            | 500 (never produced by HTTP parsing) | reading an import file failed           |
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IngestError {
    #[error("{field}: {message}")]
    Malformed { field: String, message: String },
    #[error("{field}: {message}")]
    UnknownFormat { field: String, message: String },
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{field}: {message}")]
    TooLarge { field: String, message: String },
    #[error("{field}: {message}")]
    Io { field: String, message: String },
}

impl IngestError {
    pub fn malformed(field: impl Into<String>, message: impl Into<String>) -> Self {
        IngestError::Malformed {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn unknown_format(message: impl Into<String>) -> Self {
        IngestError::UnknownFormat {
            field: "body".into(),
            message: message.into(),
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        IngestError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn too_large(field: impl Into<String>, message: impl Into<String>) -> Self {
        IngestError::TooLarge {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn io(field: impl Into<String>, message: impl Into<String>) -> Self {
        IngestError::Io {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The field the error is about, as a path into the request (`reads[3].plate`); `body`
    /// when it is about the request as a whole.
    pub fn field(&self) -> &str {
        self.parts().0
    }

    /// What is wrong, for a human, without the field.
    pub fn message(&self) -> &str {
        self.parts().1
    }

    /// The HTTP status the server answers with (see the table on the type).
    pub fn http_status(&self) -> u16 {
        match self {
            IngestError::Malformed { .. } | IngestError::UnknownFormat { .. } => 400,
            IngestError::Invalid { .. } => 422,
            IngestError::TooLarge { .. } => 413,
            IngestError::Io { .. } => 500,
        }
    }

    /// The same error reported against another field; used when a helper that knows only
    /// "the image" is called for `reads[2].plate_image`.
    pub fn with_field(mut self, new_field: impl Into<String>) -> Self {
        *self.field_mut() = new_field.into();
        self
    }

    /// The same error reported against a field nested inside `prefix`.
    pub fn within(mut self, prefix: &str) -> Self {
        let field = self.field_mut();
        *field = if field == "body" || field.is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        self
    }

    fn parts(&self) -> (&str, &str) {
        match self {
            IngestError::Malformed { field, message }
            | IngestError::UnknownFormat { field, message }
            | IngestError::Invalid { field, message }
            | IngestError::TooLarge { field, message }
            | IngestError::Io { field, message } => (field, message),
        }
    }

    fn field_mut(&mut self) -> &mut String {
        match self {
            IngestError::Malformed { field, .. }
            | IngestError::UnknownFormat { field, .. }
            | IngestError::Invalid { field, .. }
            | IngestError::TooLarge { field, .. }
            | IngestError::Io { field, .. } => field,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_fields() {
        let e = IngestError::invalid("captured_at", "is 2 days in the future").within("reads[3]");
        assert_eq!(e.field(), "reads[3].captured_at");
        assert_eq!(
            e.to_string(),
            "reads[3].captured_at: is 2 days in the future"
        );
        assert_eq!(e.http_status(), 422);
        assert_eq!(IngestError::too_large("reads", "x").http_status(), 413);
        assert_eq!(IngestError::malformed("body", "x").http_status(), 400);
        assert_eq!(IngestError::unknown_format("x").field(), "body");
        assert_eq!(
            IngestError::invalid("image", "x")
                .with_field("plate_image")
                .field(),
            "plate_image"
        );
    }
}
