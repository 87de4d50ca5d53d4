//! Weights files: safetensors with PyTorch's names and shapes (see `docs/weights.md`).
//!
//! Tensors are written as little-endian F32, row-major, in the order given; names are
//! free-form (network parameters are `layers.{k}.weight_ih` etc., checkpoints add names
//! such as `updater.m.0`), except for safetensors' reserved `__metadata__`. String
//! metadata goes into the header's `__metadata__`. The header is written with sorted keys,
//! so the same tensors and metadata always give the same bytes.
//!
//! Reading accepts F32, F64, F16 and BF16 tensors (converted to `f32`), so files saved
//! from PyTorch in any float precision load.

use std::collections::BTreeMap;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors};
use serde_json::{json, Map, Value};

use super::error::ExperimentError;
use super::io::write_atomic;
use crate::nn::network::NamedTensor;

/// String metadata of a weights file: `(key, value)` pairs, sorted by key when read.
pub type Metadata = Vec<(String, String)>;

/// Writes `tensors` (F32) and `metadata` to a safetensors file, atomically.
///
/// Panics if a tensor's data length does not match its shape (a programmer error).
pub fn save_weights(
    path: &Path,
    tensors: &[NamedTensor<f32>],
    metadata: &[(String, String)],
) -> Result<(), ExperimentError> {
    let bytes = to_safetensors_bytes(path, tensors, metadata)?;
    write_atomic(path, &bytes)
}

/// The bytes of a safetensors file holding `tensors` (F32) and `metadata`. `path` is only
/// used in messages.
pub fn to_safetensors_bytes(
    path: &Path,
    tensors: &[NamedTensor<f32>],
    metadata: &[(String, String)],
) -> Result<Vec<u8>, ExperimentError> {
    let mut header = Map::new();
    if !metadata.is_empty() {
        let mut meta = BTreeMap::new();
        for (key, value) in metadata {
            if meta.insert(key.clone(), value.clone()).is_some() {
                return Err(ExperimentError::weights(
                    path,
                    None,
                    format!("metadata key {key:?} is given twice; give each key once"),
                ));
            }
        }
        header.insert("__metadata__".into(), json!(meta));
    }
    let mut offset = 0usize;
    for t in tensors {
        let n: usize = t.shape.iter().product();
        assert_eq!(
            n,
            t.data.len(),
            "tensor {} has shape {:?} but {} values",
            t.name,
            t.shape,
            t.data.len()
        );
        if t.name == "__metadata__" {
            return Err(ExperimentError::weights(
                path,
                Some(&t.name),
                "is a reserved name in safetensors; rename the tensor",
            ));
        }
        let end = offset + 4 * n;
        let info = json!({ "dtype": "F32", "shape": t.shape, "data_offsets": [offset, end] });
        if header.insert(t.name.clone(), info).is_some() {
            return Err(ExperimentError::weights(
                path,
                Some(&t.name),
                "is given twice; every tensor needs its own name",
            ));
        }
        offset = end;
    }
    // sorted keys whatever serde_json's map type is, so the bytes are stable
    let sorted: BTreeMap<&String, &Value> = header.iter().collect();
    let mut head = serde_json::to_vec(&sorted).expect("a JSON header always serialises");
    // the data starts 8-byte aligned, as safetensors writes it
    head.resize(head.len().next_multiple_of(8), b' ');
    let mut bytes = Vec::with_capacity(8 + head.len() + offset);
    bytes.extend_from_slice(&(head.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&head);
    for t in tensors {
        for v in &t.data {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
    }
    Ok(bytes)
}

/// Reads every tensor of a safetensors file as `f32`, in the order they are stored
/// (seqlab writes them in the order given to [`save_weights`]).
pub fn load_weights(path: &Path) -> Result<Vec<NamedTensor<f32>>, ExperimentError> {
    load_weights_with_metadata(path).map(|(tensors, _)| tensors)
}

/// Reads every tensor (as `f32`, in storage order) and the string metadata (sorted by
/// key) of a safetensors file.
pub fn load_weights_with_metadata(
    path: &Path,
) -> Result<(Vec<NamedTensor<f32>>, Metadata), ExperimentError> {
    let bytes =
        crate::data::read::read_regular(path).map_err(|e| ExperimentError::io("read", path, e))?;
    from_safetensors_bytes(&bytes, path)
}

/// Parses the bytes of a safetensors file. `path` is only used in messages.
pub fn from_safetensors_bytes(
    bytes: &[u8],
    path: &Path,
) -> Result<(Vec<NamedTensor<f32>>, Metadata), ExperimentError> {
    let not_safetensors = |e: safetensors::SafeTensorError| {
        ExperimentError::weights(
            path,
            None,
            format!(
                "is not a readable safetensors file ({e}); save weights with \
                 `safetensors.torch.save_file` or seqlab"
            ),
        )
    };
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(not_safetensors)?;
    if header
        .metadata()
        .as_ref()
        .is_some_and(|m| m.contains_key(super::checkpoint::METADATA_KEY))
    {
        return Err(ExperimentError::weights(
            path,
            None,
            "is a seqlab training checkpoint (parameters and updater state in one buffer), \
             not a weights file; give the run's weights.safetensors (or best.safetensors), \
             or continue that run with `seqlab --run --resume RUN_DIR`",
        ));
    }
    let file = SafeTensors::deserialize(bytes).map_err(not_safetensors)?;
    let mut metadata: Metadata = header
        .metadata()
        .as_ref()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    metadata.sort();
    // storage order (empty tensors that share an offset by name), whatever the header's
    // key order
    let mut order: Vec<(&str, (usize, usize))> = file
        .names()
        .into_iter()
        .map(|name| (name, header.info(name).expect("listed tensor").data_offsets))
        .collect();
    order.sort_by(|(a, oa), (b, ob)| oa.cmp(ob).then(a.cmp(b)));
    let mut tensors = Vec::with_capacity(file.len());
    for (name, _) in order {
        let view = file.tensor(name).map_err(not_safetensors)?;
        let raw = view.data();
        let data: Vec<f32> = match view.dtype() {
            Dtype::F32 => raw
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            Dtype::F64 => raw
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")) as f32)
                .collect(),
            Dtype::BF16 => raw
                .chunks_exact(2)
                .map(|c| f32::from_bits(u32::from(u16::from_le_bytes([c[0], c[1]])) << 16))
                .collect(),
            Dtype::F16 => raw
                .chunks_exact(2)
                .map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])))
                .collect(),
            other => {
                return Err(ExperimentError::weights(
                    path,
                    Some(name),
                    format!(
                        "has dtype {other:?}; seqlab reads F32, F64, F16 and BF16 tensors; \
                         convert it (e.g. `t.float()`) before saving"
                    ),
                ))
            }
        };
        tensors.push(NamedTensor {
            name: name.to_string(),
            shape: view.shape().to_vec(),
            data,
        });
    }
    Ok((tensors, metadata))
}

/// IEEE half precision to single (exact).
fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let frac = u32::from(h & 0x3ff);
    let bits = match (exp, frac) {
        (0, 0) => sign,
        // subnormal: value = frac * 2^-24
        (0, _) => {
            let magnitude = frac as f32 * 2f32.powi(-24);
            return if sign != 0 { -magnitude } else { magnitude };
        }
        (0x1f, 0) => sign | 0x7f80_0000,
        (0x1f, _) => sign | 0x7fc0_0000 | (frac << 13),
        _ => sign | ((exp + 112) << 23) | (frac << 13),
    };
    f32::from_bits(bits)
}

/// Checks that every value of every tensor is a finite number: weights with NaN or
/// infinite values are refused before training or prediction starts, naming the tensor
/// and the first bad position.
pub fn check_finite(path: &Path, tensors: &[NamedTensor<f32>]) -> Result<(), ExperimentError> {
    for t in tensors {
        if let Some(i) = t.data.iter().position(|v| !v.is_finite()) {
            return Err(ExperimentError::weights(
                path,
                Some(&t.name),
                format!(
                    "holds {} at flat index {i} (of {}); weights must be finite numbers: \
                     export them again from a model that trained without diverging",
                    t.data[i],
                    t.data.len()
                ),
            ));
        }
    }
    Ok(())
}

/// How the training sequences were shaped: what `seqlab predict` outputs by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SequenceShape {
    /// Labels on the feature steps (or of mixed lengths): one output per feature step.
    #[default]
    ManyToMany,
    /// One label per sequence: one output, where training put the label.
    ManyToOne,
    /// One feature step and `steps` label steps: `steps` outputs.
    OneToMany { steps: usize },
}

impl SequenceShape {
    /// The shape of a training set: many-to-one when every sequence has one label step
    /// (and some more than one feature step), one-to-many when every sequence has one
    /// feature step and some more than one label step (`steps` = the longest).
    pub fn of(data: &crate::data::SequenceDataset) -> Self {
        let ex = data.examples();
        let longest =
            |f: fn(&crate::data::SequenceExample) -> usize| ex.iter().map(f).max().unwrap_or(0);
        let (max_f, max_l) = (longest(|e| e.feature_steps()), longest(|e| e.label_steps()));
        if max_l == 1 && max_f > 1 {
            SequenceShape::ManyToOne
        } else if max_f == 1 && max_l > 1 {
            SequenceShape::OneToMany { steps: max_l }
        } else {
            SequenceShape::ManyToMany
        }
    }

    /// Output steps per sequence when the user gives none (`None`: one per feature step).
    pub fn default_output_steps(self) -> Option<usize> {
        match self {
            SequenceShape::ManyToMany => None,
            SequenceShape::ManyToOne => Some(1),
            SequenceShape::OneToMany { steps } => Some(steps),
        }
    }
}

/// What a trained model's weights file records besides the tensors (its `__metadata__`),
/// so that `seqlab sample`, `predict` and `eval` rebuild the model without the training
/// data. Keys are `seqlab.{name}`; [`Self::to_pairs`] writes them and [`Self::parse`]
/// reads them strictly.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightsMetadata {
    /// Input features per step (`seqlab.input_size`).
    pub input_size: usize,
    /// Output width (`seqlab.output_size`).
    pub output_size: usize,
    /// One-hot targets (`seqlab.classification`).
    pub classification: bool,
    /// The loss the network was trained with (`seqlab.loss`: `CrossEntropy`, `Mse` or
    /// `BinaryCrossEntropy`).
    pub loss: super::schema::LossSpec,
    /// A text model's vocabulary (`seqlab.vocab`, JSON).
    pub vocab: Option<crate::data::Vocabulary>,
    /// A sequence model's feature normaliser (`seqlab.normalizer`, JSON).
    pub normalizer: Option<crate::data::FeatureNormalizer>,
    /// A sequence model's training shape (`seqlab.sequence_shape`, JSON).
    pub sequence_shape: Option<SequenceShape>,
}

impl WeightsMetadata {
    /// The `(key, value)` pairs written into a weights file.
    pub fn to_pairs(&self) -> Metadata {
        use super::schema::LossSpec;
        let loss = match self.loss {
            LossSpec::CrossEntropy => "CrossEntropy",
            LossSpec::Mse => "Mse",
            LossSpec::BinaryCrossEntropy => "BinaryCrossEntropy",
        };
        let mut m = vec![
            ("seqlab.input_size".into(), self.input_size.to_string()),
            ("seqlab.output_size".into(), self.output_size.to_string()),
            (
                "seqlab.classification".into(),
                self.classification.to_string(),
            ),
            ("seqlab.loss".into(), loss.into()),
        ];
        if let Some(v) = &self.vocab {
            m.push((
                "seqlab.vocab".into(),
                serde_json::to_string(v).expect("vocabulary json"),
            ));
        }
        if let Some(n) = &self.normalizer {
            m.push((
                "seqlab.normalizer".into(),
                serde_json::to_string(n).expect("normaliser json"),
            ));
        }
        if let Some(s) = &self.sequence_shape {
            m.push((
                "seqlab.sequence_shape".into(),
                serde_json::to_string(s).expect("shape json"),
            ));
        }
        m
    }

    /// Reads the metadata of weights file `file`. Sizes must be present; a missing loss
    /// is cross-entropy (weights written before it was recorded); anything present but
    /// not understood (an unknown loss name, bad JSON) is an error naming the key.
    pub fn parse(file: &Path, meta: &[(String, String)]) -> Result<Self, ExperimentError> {
        use super::schema::LossSpec;
        let get = |k: &str| {
            meta.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        let bad = |k: &str, problem: String, allowed: &str| ExperimentError::Field {
            file: file.to_path_buf(),
            field: format!("metadata {k}"),
            position: None,
            problem,
            allowed: allowed.to_string(),
        };
        let size = |k: &str| -> Result<usize, ExperimentError> {
            let v = get(k).ok_or_else(|| {
                bad(
                    k,
                    "is missing".into(),
                    "use weights written by `seqlab --run`",
                )
            })?;
            v.trim().parse().map_err(|_| {
                bad(
                    k,
                    format!("is {v:?}"),
                    "a whole number; use weights written by `seqlab --run`",
                )
            })
        };
        let loss = match get("seqlab.loss") {
            None | Some("CrossEntropy") => LossSpec::CrossEntropy,
            Some("Mse") => LossSpec::Mse,
            Some("BinaryCrossEntropy") => LossSpec::BinaryCrossEntropy,
            Some(other) => {
                return Err(bad(
                    "seqlab.loss",
                    format!("is {other:?}"),
                    "one of CrossEntropy, Mse, BinaryCrossEntropy",
                ))
            }
        };
        fn json<T: serde::de::DeserializeOwned>(
            v: Option<&str>,
        ) -> Result<Option<T>, serde_json::Error> {
            v.map(serde_json::from_str).transpose()
        }
        let classification = match get("seqlab.classification") {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(bad(
                    "seqlab.classification",
                    format!("is {other:?}"),
                    "true or false",
                ))
            }
        };
        Ok(WeightsMetadata {
            input_size: size("seqlab.input_size")?,
            output_size: size("seqlab.output_size")?,
            classification,
            loss,
            vocab: json(get("seqlab.vocab")).map_err(|e| {
                bad(
                    "seqlab.vocab",
                    format!("is not a vocabulary: {e}"),
                    "use weights written by `seqlab --run`",
                )
            })?,
            normalizer: json(get("seqlab.normalizer")).map_err(|e| {
                bad(
                    "seqlab.normalizer",
                    format!("is not a normaliser: {e}"),
                    "use weights written by `seqlab --run`",
                )
            })?,
            sequence_shape: json(get("seqlab.sequence_shape")).map_err(|e| {
                bad(
                    "seqlab.sequence_shape",
                    format!("is not a sequence shape: {e}"),
                    "use weights written by `seqlab --run`",
                )
            })?,
        })
    }
}
