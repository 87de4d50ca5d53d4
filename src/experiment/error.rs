//! What can go wrong with an experiment file or a weights file. Every message names the
//! file, the line/column or field (or tensor), and says what to do.

use std::path::{Path, PathBuf};

/// An experiment or weights file that cannot be read, written or used.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// The text is not RON.
    ///
    /// `exp.ron:3:15: RON syntax error: expected a `,` between fields (inside
    /// `training`); add the missing `,` before this position`
    #[error(
        "{}:{line}:{column}: RON syntax error: {message}; {hint}",
        .file.display()
    )]
    Syntax {
        file: PathBuf,
        line: usize,
        column: usize,
        message: String,
        /// What to do.
        hint: String,
    },

    /// A field is unknown, has the wrong type or an out-of-range value, or does not fit
    /// the rest of the experiment. `field` is a path like `training.tbptt.backward` or
    /// `model.layers[1].size`; `position` is set when the problem was found while reading
    /// the text.
    ///
    /// `exp.ron: training.updater.Adam.lr: is -0.1; a learning rate must be a finite
    /// number greater than 0`
    #[error("{}: {field}: {problem}; {allowed}", location(.file, *.position))]
    Field {
        file: PathBuf,
        field: String,
        /// `(line, column)` in the file, 1-based.
        position: Option<(usize, usize)>,
        problem: String,
        /// What is allowed instead (or what to do).
        allowed: String,
    },

    /// The file was written by a newer seqlab.
    ///
    /// `exp.ron: written in experiment format version 3; this seqlab reads versions up to
    /// 1; update seqlab`
    #[error(
        "{}: written in experiment format version {found}; this seqlab reads versions up \
         to {supported}; update seqlab",
        .file.display()
    )]
    NewerVersion {
        file: PathBuf,
        found: u32,
        supported: u32,
    },

    /// Reading, writing or renaming a file failed.
    ///
    /// `could not write /runs/exp.ron: Permission denied (os error 13); check that the
    /// folder exists and is writable`
    #[error("could not {action} {}: {source}; {hint}", .path.display())]
    Io {
        /// `read`, `write`, `replace`, ...
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
        /// What to do.
        hint: String,
    },

    /// A weights (safetensors) file that cannot be read or written, or one of its
    /// tensors that cannot be used.
    ///
    /// `w.safetensors: tensor layers.0.weight_ih: has dtype I64; seqlab reads F32, F64,
    /// F16 and BF16 tensors; convert it (e.g. `t.float()`) before saving`
    #[error("{}: {}{problem}", .file.display(), tensor_prefix(.tensor))]
    Weights {
        file: PathBuf,
        /// The tensor concerned, if the problem is with one tensor.
        tensor: Option<String>,
        /// What is wrong and what to do.
        problem: String,
    },
}

impl ExperimentError {
    /// A field problem found outside the parser (validation).
    pub fn field(
        file: &Path,
        field: impl Into<String>,
        problem: impl Into<String>,
        allowed: impl Into<String>,
    ) -> Self {
        ExperimentError::Field {
            file: file.to_path_buf(),
            field: field.into(),
            position: None,
            problem: problem.into(),
            allowed: allowed.into(),
        }
    }

    /// The field path, for field problems.
    pub fn field_path(&self) -> Option<&str> {
        match self {
            ExperimentError::Field { field, .. } => Some(field),
            _ => None,
        }
    }

    pub(crate) fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        use std::io::ErrorKind;
        let hint = match (action, source.kind()) {
            (_, ErrorKind::StorageFull | ErrorKind::QuotaExceeded) => format!(
                "the disk holding {} ({}) is full: free space on it, or write elsewhere",
                path.parent().unwrap_or(path).display(),
                mount_point(path)
                    .map(|m| format!("mounted at {}", m.display()))
                    .unwrap_or_else(|| "its mount point is unknown".into())
            ),
            (_, ErrorKind::InvalidInput) if source.to_string().contains("not a regular file") => {
                "give a regular file".into()
            }
            (_, ErrorKind::InvalidInput) if source.to_string().contains("is a directory") => {
                "give a file inside it".into()
            }
            ("read", ErrorKind::NotFound) => "check the path".into(),
            ("read", _) => "check that the file exists and is readable".into(),
            _ => "check that the folder exists and is writable".into(),
        };
        ExperimentError::Io {
            action,
            path: path.to_path_buf(),
            source,
            hint,
        }
    }

    pub(crate) fn weights(file: &Path, tensor: Option<&str>, problem: impl Into<String>) -> Self {
        ExperimentError::Weights {
            file: file.to_path_buf(),
            tensor: tensor.map(str::to_string),
            problem: problem.into(),
        }
    }
}

fn location(file: &Path, position: Option<(usize, usize)>) -> String {
    match position {
        Some((line, column)) => format!("{}:{line}:{column}", file.display()),
        None => file.display().to_string(),
    }
}

fn tensor_prefix(tensor: &Option<String>) -> String {
    match tensor {
        Some(name) => format!("tensor {name}: "),
        None => String::new(),
    }
}

/// The mount point of the filesystem holding `path` (the longest mount in
/// `/proc/self/mounts` that contains it; Linux), for "disk full" messages.
pub(crate) fn mount_point(path: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mounts").ok()?;
    let dir = path.parent().unwrap_or(path);
    let absolute = std::fs::canonicalize(dir).ok()?;
    text.lines()
        .filter_map(|line| line.split_whitespace().nth(1))
        // the kernel escapes spaces in mount points as \040
        .map(|m| PathBuf::from(m.replace("\\040", " ")))
        .filter(|m| absolute.starts_with(m))
        .max_by_key(|m| m.as_os_str().len())
}
