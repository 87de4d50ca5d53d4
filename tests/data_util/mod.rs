//! Shared helpers for the `data_*` integration tests: a scratch directory with files
//! written from string literals, so each test's input sits next to its expectations.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use seqlab::data::{CsvDataConfig, DataError, LabelSource, SequenceDataset, SequenceSource, Task};

/// A fresh directory under the system temp dir, removed on drop.
pub struct Scratch {
    pub dir: PathBuf,
}

impl Scratch {
    pub fn new(name: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "seqlab-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch { dir }
    }

    /// Writes `content` to `dir/rel` (creating folders) and returns the path.
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// `features/0.csv ..` and `labels/0.csv ..` from the given contents.
    pub fn pairs(&self, pairs: &[(&str, &str)]) -> CsvDataConfig {
        for (i, (features, labels)) in pairs.iter().enumerate() {
            self.write(&format!("features/{i}.csv"), features);
            self.write(&format!("labels/{i}.csv"), labels);
        }
        CsvDataConfig {
            features: SequenceSource::Directory(self.path("features")),
            labels: LabelSource::Files(SequenceSource::Directory(self.path("labels"))),
            ..CsvDataConfig::default()
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn classification(classes: usize) -> Task {
    Task::Classification { classes }
}

pub fn load(config: &CsvDataConfig) -> Result<SequenceDataset, DataError> {
    seqlab::data::load_csv(config, &mut |_| {})
}

/// Loads, expecting an error, and returns its message.
pub fn load_err(config: &CsvDataConfig) -> String {
    match load(config) {
        Ok(_) => panic!("expected an error for {config:?}"),
        Err(e) => e.to_string(),
    }
}

/// Asserts that `message` contains every fragment, printing the message otherwise.
pub fn assert_mentions(message: &str, fragments: &[&str]) {
    for fragment in fragments {
        assert!(
            message.contains(fragment),
            "message {message:?}\n  lacks {fragment:?}"
        );
    }
}

pub fn name(path: &Path) -> String {
    path.display().to_string()
}
