//! Training checkpoints: everything needed to continue a run exactly (parameters,
//! updater state, position in the data, carried recurrent state, early-stopping
//! state), as one safetensors file whose metadata holds the scalars.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, TensorView};
use serde::{Deserialize, Serialize};

use super::ExperimentError;

/// The metadata key that marks a safetensors file as a seqlab checkpoint.
pub const METADATA_KEY: &str = "seqlab_checkpoint";

/// Scalars of a checkpoint (stored as JSON in the safetensors metadata).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckpointInfo {
    /// Iterations completed.
    pub iteration: u64,
    pub epoch: u64,
    /// Minibatch index within the epoch of the next iteration.
    pub batch: usize,
    /// Current base learning rate (it may have been changed during the run).
    pub lr_base: f64,
    pub updater_steps: u64,
    pub nadam_mu_product: f64,
    pub best_score: Option<f64>,
    pub best_iteration: u64,
    pub bad_evaluations: u32,
    /// Shapes `(B, H)` of the carried state tensors `carried.{k}.h` / `.c`.
    pub carried_shapes: Vec<(usize, usize, bool)>,
}

/// A whole checkpoint.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Checkpoint {
    pub info: CheckpointInfo,
    pub params: Vec<f32>,
    pub updater_state: Vec<Vec<f32>>,
    /// Per recurrent layer `(h, c)` flattened; `c` empty for non-LSTM.
    pub carried: Vec<(Vec<f32>, Vec<f32>)>,
}

fn bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn floats(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Writes the checkpoint atomically (temp file + rename). A checkpoint whose parameters
/// are not all finite is refused: it is never published.
pub fn save(path: &Path, ck: &Checkpoint) -> Result<(), ExperimentError> {
    if let Some(i) = ck.params.iter().position(|v| !v.is_finite()) {
        return Err(ExperimentError::weights(
            path,
            None,
            format!(
                "not written: parameter {i} is {}; a checkpoint keeps only finite parameters",
                ck.params[i]
            ),
        ));
    }
    let mut named: Vec<(String, Vec<u8>, usize)> =
        vec![("params".into(), bytes(&ck.params), ck.params.len())];
    for (i, s) in ck.updater_state.iter().enumerate() {
        named.push((format!("updater.{i}"), bytes(s), s.len()));
    }
    for (k, (h, c)) in ck.carried.iter().enumerate() {
        named.push((format!("carried.{k}.h"), bytes(h), h.len()));
        if !c.is_empty() {
            named.push((format!("carried.{k}.c"), bytes(c), c.len()));
        }
    }
    let views: Vec<(String, TensorView)> = named
        .iter()
        .map(|(n, b, len)| {
            (
                n.clone(),
                TensorView::new(Dtype::F32, vec![*len], b).expect("consistent tensor"),
            )
        })
        .collect();
    let mut meta = HashMap::new();
    meta.insert(
        METADATA_KEY.to_string(),
        serde_json::to_string(&ck.info).expect("plain data"),
    );
    let data = safetensors::serialize(views, Some(meta))
        .map_err(|e| ExperimentError::io("write", path, std::io::Error::other(e.to_string())))?;
    super::io::write_atomic(path, &data)
}

/// Reads a checkpoint written by [`save`].
pub fn load(path: &Path) -> Result<Checkpoint, ExperimentError> {
    let io = |e: std::io::Error| ExperimentError::io("read", path, e);
    let raw = crate::data::read::read_regular(path).map_err(io)?;
    let bad = |what: String| ExperimentError::Weights {
        file: path.to_path_buf(),
        tensor: None,
        problem: format!(
            "not a seqlab checkpoint ({what}); resume from a run folder written by `seqlab --run`"
        ),
    };
    let (_, meta) =
        safetensors::SafeTensors::read_metadata(&raw).map_err(|e| bad(e.to_string()))?;
    let info_text = meta
        .metadata()
        .as_ref()
        .and_then(|m| m.get(METADATA_KEY))
        .ok_or_else(|| bad("no checkpoint metadata".into()))?;
    let info: CheckpointInfo = serde_json::from_str(info_text).map_err(|e| bad(e.to_string()))?;
    let st = safetensors::SafeTensors::deserialize(&raw).map_err(|e| bad(e.to_string()))?;
    let get = |name: &str| -> Result<Vec<f32>, ExperimentError> {
        Ok(floats(
            st.tensor(name)
                .map_err(|e| bad(format!("{name}: {e}")))?
                .data(),
        ))
    };
    let params = get("params")?;
    if let Some(i) = params.iter().position(|v| !v.is_finite()) {
        return Err(bad(format!("parameter {i} is {}", params[i])));
    }
    let mut updater_state = Vec::new();
    while let Ok(t) = st.tensor(&format!("updater.{}", updater_state.len())) {
        updater_state.push(floats(t.data()));
    }
    let mut carried = Vec::new();
    for (k, &(_, _, cell)) in info.carried_shapes.iter().enumerate() {
        let h = get(&format!("carried.{k}.h"))?;
        let c = if cell {
            get(&format!("carried.{k}.c"))?
        } else {
            Vec::new()
        };
        carried.push((h, c));
    }
    Ok(Checkpoint {
        info,
        params,
        updater_state,
        carried,
    })
}
