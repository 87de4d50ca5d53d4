//! The readers never panic, whatever the bytes: every problem is an error value.

mod data_util;

use std::path::Path;

use data_util::Scratch;
use proptest::prelude::*;
use seqlab::data::{
    parse_numeric_table, AlignmentMode, CharCorpus, CsvOptions, Delimiter, LabelSource, Task,
    TextOptions,
};

fn delimiter() -> impl Strategy<Value = Delimiter> {
    prop_oneof![
        Just(Delimiter::Comma),
        Just(Delimiter::Semicolon),
        Just(Delimiter::Tab),
        Just(Delimiter::Whitespace),
    ]
}

/// Bytes that look like CSV often enough to get past the first field.
fn csvish() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(b"0123456789".to_vec()),
            1 => prop::sample::select(b",;\t \n\r\".-+eE".to_vec()),
            1 => any::<u8>(),
        ],
        0..200,
    )
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn check_table(bytes: &[u8], options: &CsvOptions) {
    if let Ok(table) = parse_numeric_table(bytes, Path::new("fuzz.csv"), options) {
        assert!(table.steps() > 0);
        assert_eq!(table.lines.len(), table.steps());
        assert!(table.values.iter().all(|v| v.is_finite()));
        assert!(
            table.lines.windows(2).all(|w| w[0] < w[1]),
            "{:?}",
            table.lines
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn csv_parser_never_panics_on_arbitrary_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..300),
        skip_lines in 0usize..3,
        delimiter in delimiter(),
    ) {
        check_table(&bytes, &CsvOptions { skip_lines, delimiter });
    }

    #[test]
    fn csv_parser_never_panics_on_csv_like_bytes(
        bytes in csvish(),
        skip_lines in 0usize..3,
        delimiter in delimiter(),
    ) {
        check_table(&bytes, &CsvOptions { skip_lines, delimiter });
    }

    #[test]
    fn text_reader_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..100)) {
        match CharCorpus::from_bytes(&bytes, "fuzz", &TextOptions::default()) {
            // the text is the bytes, without a UTF-8 byte-order mark
            Ok(c) => prop_assert_eq!(
                c.text().into_bytes(),
                bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes).to_vec()
            ),
            // either invalid UTF-8 at an offset, or UTF-16/32 text (a mark, or zero bytes
            // in a wide-text pattern), each named with what to do
            Err(e) => {
                let m = e.to_string();
                prop_assert!(
                    m.contains("invalid UTF-8 at byte offset")
                        || (m.contains("UTF-") && m.contains("save it as UTF-8")),
                    "{}",
                    m
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    /// Whole pipeline: files on disk, labels, alignment, batching, preview.
    #[test]
    fn loading_and_batching_never_panic(
        features in prop::collection::vec(csvish(), 1..4),
        labels in prop::collection::vec(csvish(), 1..4),
        classes in prop::option::of(1usize..4),
        mode in prop::sample::select(AlignmentMode::ALL.to_vec()),
        column in prop::option::of(-3i64..3),
    ) {
        let scratch = Scratch::new("fuzz");
        let pairs: Vec<(String, String)> = features
            .iter()
            .zip(labels.iter().chain(std::iter::repeat(&Vec::new())))
            .map(|(f, l)| (lossy(f), lossy(l)))
            .collect();
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(f, l)| (f.as_str(), l.as_str())).collect();
        let mut config = scratch.pairs(&refs);
        if let Some(column) = column {
            config.labels = LabelSource::Column(column);
        }
        config.task = classes.map_or(Task::Regression, |classes| Task::Classification { classes });
        if let Ok(data) = data_util::load(&config) {
            let _ = data.preview(mode, 3);
            if let Ok(batches) = data.batches(mode, 2, Some(1), 0) {
                for batch in batches {
                    prop_assert_eq!(batch.feature_count(), data.feature_count());
                }
            }
        }
    }
}

/// Inputs the text property found: a UTF-16 mark and a UTF-8 mark.
#[test]
fn text_reader_names_wide_text_and_drops_a_utf8_mark() {
    let e = match CharCorpus::from_bytes(b"\xFF\xFE", "fuzz", &TextOptions::default()) {
        Ok(_) => panic!("UTF-16 must be refused"),
        Err(e) => e,
    };
    assert!(e.to_string().contains("UTF-16"), "{e}");
    let c = CharCorpus::from_bytes(b"\xEF\xBB\xBFab", "fuzz", &TextOptions::default())
        .expect("UTF-8 with a mark");
    assert_eq!(c.text(), "ab");
}
