//! JSON plumbing shared by the formats: typed parsing whose errors name the field, a borrowed
//! string type, and field paths built only when something is wrong.

use crate::IngestError;
use serde::de::{Deserialize, Deserializer, Visitor};
use serde_json::error::Category;
use std::borrow::Cow;
use std::fmt;

/// A JSON string borrowed from the body when it has no escapes (the common case), owned when
/// it has. `Option<Cow<str>>` cannot borrow through serde's derive; this newtype can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Str<'a>(pub Cow<'a, str>);

impl Str<'_> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Parses `body` into `T`. Syntax errors are `Malformed` with serde's line and column; type
/// errors and missing fields are `Invalid` against the JSON path of the field
/// (`reads[3].confidence`).
///
/// Tracking the path costs an allocation per object key, so the body is parsed without it
/// and, only when that fails, parsed again with it to say where.
pub(crate) fn parse<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, IngestError> {
    serde_json::from_slice(body).map_err(|fast| explain::<T>(body, &fast))
}

fn explain<'a, T: Deserialize<'a>>(body: &'a [u8], fast: &serde_json::Error) -> IngestError {
    let mut de = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(e) => path_error(e),
        Ok(_) => match de.end() {
            Err(e) => syntax_error(&e),
            // Both parses see the same bytes, so this is not expected; keep the first answer.
            Ok(()) => match fast.classify() {
                Category::Data => IngestError::invalid("body", fast.to_string()),
                _ => syntax_error(fast),
            },
        },
    }
}

fn syntax_error(e: &serde_json::Error) -> IngestError {
    IngestError::malformed("body", format!("is not valid JSON: {e}"))
}

fn path_error(e: serde_path_to_error::Error<serde_json::Error>) -> IngestError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => syntax_error(&inner),
        Category::Data => {
            let message = shorten(inner.to_string());
            let base = if path == "." { "" } else { path.as_str() };
            // serde reports a missing field against the object that lacks it; the client
            // wants to hear the name of the field itself.
            if let Some(name) = message
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split('`').next())
            {
                return IngestError::invalid(join(base, name), "is required");
            }
            let field = if base.is_empty() { "body" } else { base };
            IngestError::invalid(field, message)
        }
    }
}

/// serde quotes the offending value in full; keep the start and the line/column at the end.
fn shorten(message: String) -> String {
    const HEAD: usize = 160;
    const TAIL: usize = 40;
    if message.chars().count() <= HEAD + TAIL + 1 {
        return message;
    }
    let head: String = message.chars().take(HEAD).collect();
    let tail: String = message
        .chars()
        .skip(message.chars().count() - TAIL)
        .collect();
    format!("{head}…{tail}")
}

fn join(base: &str, name: &str) -> String {
    if base.is_empty() {
        name.to_string()
    } else {
        format!("{base}.{name}")
    }
}

/// Where in the request a value sits: `""`, `reads[3]`, `data.results[0]`, `best_plate`.
/// Copyable and allocation-free; the path string is built only for an error.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At<'a> {
    base: &'a str,
    index: Option<usize>,
}

impl<'a> At<'a> {
    pub const ROOT: At<'static> = At {
        base: "",
        index: None,
    };

    pub fn new(base: &'a str) -> Self {
        At { base, index: None }
    }

    pub fn item(base: &'a str, index: usize) -> Self {
        At {
            base,
            index: Some(index),
        }
    }

    /// The full path of the field `name` here.
    pub fn field(&self, name: &str) -> String {
        match (self.base.is_empty(), self.index) {
            (true, None) => name.to_string(),
            (false, None) => format!("{}.{name}", self.base),
            (_, Some(i)) => format!("{}[{i}].{name}", self.base),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct T<'a> {
        #[serde(borrow)]
        s: Str<'a>,
        n: f64,
        #[serde(borrow, default)]
        items: Vec<U<'a>>,
    }

    #[derive(Deserialize)]
    struct U<'a> {
        #[serde(borrow)]
        name: Option<Str<'a>>,
        size: u32,
    }

    #[test]
    fn borrows_unless_escaped() {
        let t: T = parse(br#"{"s":"plain","n":1,"items":[{"name":"x","size":1}]}"#).unwrap();
        assert!(matches!(t.s.0, Cow::Borrowed("plain")));
        assert!(matches!(
            t.items[0].name.as_ref().unwrap().0,
            Cow::Borrowed("x")
        ));
        assert_eq!(t.n, 1.0);
        assert_eq!(t.items[0].size, 1);
        let t: T = parse(br#"{"s":"a\/b","n":1}"#).unwrap();
        assert_eq!(t.s.as_str(), "a/b");
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse::<T>(br#"{"s":"x","n":"one"}"#).err().unwrap();
        assert_eq!(e.field(), "n");
        assert_eq!(e.http_status(), 422);
        let e = parse::<T>(br#"{"s":"x","n":1,"items":[{"size":1},{"size":-2}]}"#)
            .err()
            .unwrap();
        assert_eq!(e.field(), "items[1].size");
        let e = parse::<T>(br#"{"s":"x","n":1,"items":[{"name":"y"}]}"#)
            .err()
            .unwrap();
        assert_eq!(e.field(), "items[0].size");
        assert_eq!(e.message(), "is required");
        let e = parse::<T>(br#"{"n":1}"#).err().unwrap();
        assert_eq!(e.field(), "s");
    }

    #[test]
    fn long_values_are_not_echoed_whole() {
        let body = format!(r#"{{"s":"x","n":"{}"}}"#, "9".repeat(100_000));
        let e = parse::<T>(body.as_bytes()).err().unwrap();
        assert_eq!(e.field(), "n");
        assert!(e.message().len() < 300, "{}", e.message().len());
        assert!(e.message().contains("column"), "{e}");
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let e = parse::<T>(b"{\"s\":\"x\",\n\"n\": 1,}").err().unwrap();
        assert_eq!(e.http_status(), 400);
        assert!(e.message().contains("line 2 column"), "{e}");
        let e = parse::<T>(br#"{"s":"x","n":1} trailing"#).err().unwrap();
        assert_eq!(e.http_status(), 400);
    }

    #[test]
    fn paths() {
        assert_eq!(At::ROOT.field("plate"), "plate");
        assert_eq!(
            At::new("best_plate").field("coordinates"),
            "best_plate.coordinates"
        );
        assert_eq!(
            At::item("data.results", 2).field("box"),
            "data.results[2].box"
        );
    }
}
