//! Character corpora: vocabulary, encoding, UTF-8 errors, splits, and batching as
//! parallel streams or random windows.

mod data_util;

use data_util::{assert_mentions, Scratch};
use ndarray::{s, Array2, Axis};
use rand::SeedableRng;
use seqlab::data::{CharCorpus, SeqBatch, TextOptions, Vocabulary};

fn corpus(text: &str) -> CharCorpus {
    CharCorpus::from_text(text, &TextOptions::default())
}

/// The id at each (t, b) of a one-hot `(T, B, V)` array.
fn ids(one_hot: &ndarray::Array3<f32>) -> Array2<u32> {
    one_hot.map_axis(Axis(2), |row| {
        assert_eq!(row.sum(), 1.0, "exactly one hot entry");
        row.iter().position(|&v| v == 1.0).unwrap() as u32
    })
}

#[test]
fn vocabulary_is_sorted_and_stable() {
    let c = corpus("hello, world");
    assert_eq!(
        c.vocab().chars(),
        &[' ', ',', 'd', 'e', 'h', 'l', 'o', 'r', 'w']
    );
    assert_eq!(c.vocab(), corpus("world, hello").vocab());
    assert_eq!(c.ids()[..5], [4, 3, 5, 5, 6]);
    assert_eq!(c.text(), "hello, world");
}

#[test]
fn vocabulary_serialises_as_its_characters_and_resorts_on_load() {
    let vocab = Vocabulary::from_text("ba");
    assert_eq!(serde_json::to_string(&vocab).unwrap(), r#"["a","b"]"#);
    let loaded: Vocabulary = serde_json::from_str(r#"["z","a","a"]"#).unwrap();
    assert_eq!(loaded.chars(), &['a', 'z']);
}

#[test]
fn encode_rejects_unknown_characters_and_decode_unknown_ids() {
    let vocab = Vocabulary::from_text("abc");
    assert_eq!(vocab.encode("cab").unwrap(), vec![2, 0, 1]);
    assert_eq!(vocab.decode(&[2, 0, 1]).unwrap(), "cab");
    let err = vocab.encode("abd").unwrap_err();
    assert_mentions(&err.to_string(), &["'d'", "position 2", "3 characters"]);
    let err = vocab.decode(&[3]).unwrap_err();
    assert_mentions(&err.to_string(), &["token id 3", "3 characters"]);
    let err = CharCorpus::with_vocabulary("abz", vocab, &TextOptions::default()).unwrap_err();
    assert_mentions(&err.to_string(), &["'z'"]);
}

#[test]
fn lowercasing_happens_before_the_vocabulary_is_built() {
    let options = TextOptions {
        lowercase: true,
        ..TextOptions::default()
    };
    let c = CharCorpus::from_text("AbÄ", &options);
    assert_eq!(c.vocab().chars(), &['a', 'b', 'ä']);
}

#[test]
fn utf8_text_is_read_by_characters_not_bytes() {
    let scratch = Scratch::new("utf8");
    let path = scratch.write("t.txt", "né→€");
    let c = CharCorpus::from_file(&path, &TextOptions::default()).unwrap();
    assert_eq!(c.len(), 4);
    assert_eq!(c.text(), "né→€");
}

#[test]
fn invalid_utf8_names_the_byte_offset() {
    let scratch = Scratch::new("bad-utf8");
    let path = scratch.write("t.txt", b"ab\xC3(cd");
    let err = CharCorpus::from_file(&path, &TextOptions::default()).unwrap_err();
    assert_mentions(
        &err.to_string(),
        &[
            &path.display().to_string(),
            "invalid UTF-8 at byte offset 2",
        ],
    );
}

#[test]
fn split_takes_validation_and_test_from_the_end_in_order() {
    let c = corpus("abcdefghij");
    let split = c.split(0.2, 0.1).unwrap();
    assert_eq!(split.train.text(), "abcdefg");
    assert_eq!(split.validation.text(), "hi");
    assert_eq!(split.test.text(), "j");
    assert_eq!(
        split.validation.vocab(),
        c.vocab(),
        "one vocabulary for all parts"
    );
    let err = c.split(0.6, 0.5).unwrap_err();
    assert_mentions(&err.to_string(), &["leave some text for training"]);
}

#[test]
fn next_char_targets_are_inputs_shifted_by_one() {
    let c = corpus("abcab");
    let data = c.next_char_data();
    assert_eq!(data.len(), 4);
    let batch = data.batcher(1, 4).unwrap().batch(0);
    assert_eq!(batch.features.dim(), (4, 1, 3));
    assert_eq!(ids(&batch.features).column(0).to_vec(), vec![0, 1, 2, 0]);
    assert_eq!(ids(&batch.labels).column(0).to_vec(), vec![1, 2, 0, 1]);
    assert_eq!((batch.feature_mask, batch.label_mask), (None, None));
}

#[test]
fn parallel_streams_continue_across_minibatches() {
    // 26 letters -> 25 (input, target) steps; 3 streams of 8 steps (1 dropped), T = 3
    let c = corpus("abcdefghijklmnopqrstuvwxyz");
    let data = c.next_char_data();
    let batcher = data.batcher(3, 3).unwrap();
    assert_eq!(batcher.stream_len(), 8);
    assert_eq!(batcher.batches_per_epoch(), 3);
    let batches: Vec<SeqBatch> = batcher.epoch().collect();
    let steps: Vec<usize> = batches.iter().map(|b| b.steps()).collect();
    assert_eq!(steps, vec![3, 3, 2], "the last minibatch is shorter");
    // glue each stream back together across minibatches: it must be contiguous text
    for b in 0..3 {
        let stream: Vec<u32> = batches
            .iter()
            .flat_map(|batch| ids(&batch.features).column(b).to_vec())
            .collect();
        let expected: Vec<u32> = (b as u32 * 8..b as u32 * 8 + 8).collect();
        assert_eq!(stream, expected, "stream {b}");
        let targets: Vec<u32> = batches
            .iter()
            .flat_map(|batch| ids(&batch.labels).column(b).to_vec())
            .collect();
        let expected: Vec<u32> = (b as u32 * 8 + 1..b as u32 * 8 + 9).collect();
        assert_eq!(targets, expected, "targets of stream {b}");
    }
    // epochs repeat the same minibatches
    assert_eq!(batcher.epoch().collect::<Vec<_>>(), batches);
}

#[test]
fn too_many_streams_for_the_text_is_an_error() {
    let c = corpus("abc");
    let err = c.next_char_data().batcher(5, 2).unwrap_err();
    assert_mentions(
        &err.to_string(),
        &["text corpus", "2 steps available", "at least 5"],
    );
    let err = c.next_char_data().batcher(0, 2).unwrap_err();
    assert_mentions(&err.to_string(), &["streams", "at least 1"]);
}

#[test]
fn random_windows_are_contiguous_seeded_slices() {
    let text: String = ('a'..='z').collect();
    let c = corpus(&text);
    let data = c.next_char_data();
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    let batch = data.sample_windows(4, 5, &mut rng).unwrap();
    assert_eq!(batch.features.dim(), (5, 4, 26));
    let inputs = ids(&batch.features);
    let targets = ids(&batch.labels);
    for b in 0..4 {
        let window = inputs.column(b).to_vec();
        let start = window[0];
        assert!(start <= 20, "window fits: starts at {start}");
        assert_eq!(window, (start..start + 5).collect::<Vec<_>>());
        assert_eq!(
            targets.column(b).to_vec(),
            (start + 1..start + 6).collect::<Vec<_>>()
        );
    }
    let first: Vec<SeqBatch> = data.windows(2, 3, 1).unwrap().take(3).collect();
    let again: Vec<SeqBatch> = data.windows(2, 3, 1).unwrap().take(3).collect();
    assert_eq!(first, again, "same seed, same windows");
    let other: Vec<SeqBatch> = data.windows(2, 3, 2).unwrap().take(3).collect();
    assert_ne!(first, other, "another seed, other windows");
    assert!(
        data.sample_windows(1, 26, &mut rng).is_err(),
        "longer than the data"
    );
    let last = data.sample_windows(1, 25, &mut rng).unwrap();
    assert_eq!(
        ids(&last.features).slice(s![.., 0]).to_vec(),
        (0..25).collect::<Vec<_>>()
    );
}
