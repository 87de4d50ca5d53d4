//! Reading input files: the one place that refuses what is not a regular file and
//! recognises text encodings. Every reader of user files (CSV sequences, text corpora,
//! experiment files, weights, checkpoints, run records) goes through here, so a FIFO
//! never blocks, `/dev/zero` is never read until memory runs out, and a UTF-8
//! byte-order mark is stripped the same way everywhere.

use std::io::{Error, ErrorKind};
use std::path::Path;

/// The UTF-8 byte-order mark (`EF BB BF`), which some editors put at the start of a file.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads a whole file after checking that it is a regular file (not a directory, FIFO,
/// socket or device). The error's text says what the path is instead; the caller names
/// the path.
pub fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    check_regular(path)?;
    std::fs::read(path)
}

/// Checks that `path` is a regular file (following symbolic links).
pub fn check_regular(path: &Path) -> std::io::Result<()> {
    let meta = std::fs::metadata(path)?;
    let ft = meta.file_type();
    if ft.is_file() {
        return Ok(());
    }
    let what = if ft.is_dir() {
        "is a directory, not a file"
    } else {
        "is not a regular file (a pipe, socket or device)"
    };
    Err(Error::new(ErrorKind::InvalidInput, what))
}

/// `bytes` without a leading UTF-8 byte-order mark.
pub fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes)
}

/// The name of a UTF-16 or UTF-32 encoding `bytes` starts with (by its byte-order mark,
/// or by the NUL bytes of UTF-16 ASCII text), if any: such text must be saved as UTF-8.
pub fn wide_encoding(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xFF, 0xFE, 0, 0, ..] => Some("UTF-32 (little-endian)"),
        [0, 0, 0xFE, 0xFF, ..] => Some("UTF-32 (big-endian)"),
        [0xFF, 0xFE, ..] => Some("UTF-16 (little-endian)"),
        [0xFE, 0xFF, ..] => Some("UTF-16 (big-endian)"),
        // ASCII written as UTF-16 without a mark: every other byte is 0
        [a, 0, b, 0, ..] if *a != 0 && *b != 0 => Some("UTF-16 (little-endian)"),
        [0, a, 0, b, ..] if *a != 0 && *b != 0 => Some("UTF-16 (big-endian)"),
        _ => None,
    }
}

/// Why bytes are not usable UTF-8 text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TextProblem {
    /// The text is in a wide encoding (named).
    Wide(&'static str),
    /// Invalid UTF-8 at this byte offset of the file.
    InvalidUtf8 { offset: usize },
}

impl TextProblem {
    /// What is wrong and what to do, for a message that names the file first.
    pub fn describe(&self) -> String {
        match self {
            TextProblem::Wide(enc) => {
                format!("the file is {enc} text; save it as UTF-8")
            }
            TextProblem::InvalidUtf8 { offset } => {
                format!("invalid UTF-8 at byte offset {offset}; save the text as UTF-8")
            }
        }
    }
}

/// Decodes a file's bytes as UTF-8 text, without its byte-order mark if it has one.
pub fn decode_text(bytes: &[u8]) -> Result<&str, TextProblem> {
    if let Some(enc) = wide_encoding(bytes) {
        return Err(TextProblem::Wide(enc));
    }
    let body = strip_bom(bytes);
    let skipped = bytes.len() - body.len();
    std::str::from_utf8(body).map_err(|e| TextProblem::InvalidUtf8 {
        offset: skipped + e.valid_up_to(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_is_stripped_once() {
        assert_eq!(decode_text(b"\xEF\xBB\xBFab"), Ok("ab"));
        assert_eq!(strip_bom(b"ab"), b"ab");
    }

    #[test]
    fn utf16_text_is_named_with_and_without_a_mark() {
        assert_eq!(
            decode_text(b"\xFF\xFE1\x00,\x002\x00"),
            Err(TextProblem::Wide("UTF-16 (little-endian)"))
        );
        assert_eq!(
            decode_text(b"1\x00,\x002\x00"),
            Err(TextProblem::Wide("UTF-16 (little-endian)"))
        );
        assert_eq!(
            decode_text(b"\xFE\xFF\x001"),
            Err(TextProblem::Wide("UTF-16 (big-endian)"))
        );
    }

    #[test]
    fn invalid_utf8_reports_the_offset() {
        assert_eq!(
            decode_text(b"ab\xFFc"),
            Err(TextProblem::InvalidUtf8 { offset: 2 })
        );
    }

    #[test]
    fn a_directory_is_not_read_as_a_file() {
        let err = read_regular(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap_err();
        assert!(err.to_string().contains("is a directory"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_device_is_refused_before_reading() {
        let err = read_regular(Path::new("/dev/zero")).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }
}
