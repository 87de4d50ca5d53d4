//! The leaf every file writer of `experiment/` stands on: atomic writes (temporary
//! name, sync, rename) and the RON options experiment files are read with.

use std::io::Write;
use std::path::Path;

use ron::extensions::Extensions;

use super::error::ExperimentError;

/// The extensions every experiment file may use without enabling them.
pub(crate) const EXTENSIONS: Extensions =
    Extensions::UNWRAP_VARIANT_NEWTYPES.union(Extensions::IMPLICIT_SOME);

/// The options experiment files are read with.
pub fn ron_options() -> ron::Options {
    ron::Options::default().with_default_extension(EXTENSIONS)
}

/// Writes `bytes` to `path.tmp-<pid>` in the same folder, syncs it to disk and renames it
/// over `path`. On failure the temporary file is removed and `path` is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ExperimentError> {
    let Some(name) = path.file_name() else {
        return Err(ExperimentError::io(
            "write",
            path,
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the path has no file name",
            ),
        ));
    };
    let mut tmp_name = name.to_os_string();
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let written = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(ExperimentError::io("write", path, e));
    }
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(ExperimentError::io("replace", path, e));
    }
    // make the rename itself durable (best effort: not every platform can open a folder)
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Writes a text file atomically (temporary file, then rename).
pub fn write_text_atomic(path: &Path, text: &str) -> Result<(), ExperimentError> {
    write_atomic(path, text.as_bytes())
}
