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
    /// Per stateful layer, its carried state tensors `(name, B, width)`, stored as
    /// `carried.{k}.{name}` (`k` counts the stateful layers).
    #[serde(default)]
    pub carried_tensors: Vec<Vec<(String, usize, usize)>>,
    /// Checkpoints written before states were named: `(B, H, has a cell)` per stateful
    /// layer, for the tensors `h` and (with a cell) `c`. Read, never written.
    #[serde(default, skip_serializing)]
    pub carried_shapes: Vec<(usize, usize, bool)>,
}

impl CheckpointInfo {
    /// The carried tensors' names and shapes, from [`Self::carried_tensors`] or, in an
    /// older checkpoint, [`Self::carried_shapes`].
    pub fn carried_layout(&self) -> Vec<Vec<(String, usize, usize)>> {
        if !self.carried_tensors.is_empty() {
            return self.carried_tensors.clone();
        }
        self.carried_shapes
            .iter()
            .map(|&(b, h, cell)| {
                let mut v = vec![("h".to_string(), b, h)];
                if cell {
                    v.push(("c".to_string(), b, h));
                }
                v
            })
            .collect()
    }
}

/// A whole checkpoint.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Checkpoint {
    pub info: CheckpointInfo,
    pub params: Vec<f32>,
    pub updater_state: Vec<Vec<f32>>,
    /// Per stateful layer its named state tensors, flattened, in the layer's order.
    pub carried: Vec<Vec<(String, Vec<f32>)>>,
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
    for (k, tensors) in ck.carried.iter().enumerate() {
        for (name, v) in tensors {
            named.push((format!("carried.{k}.{name}"), bytes(v), v.len()));
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
    for (k, tensors) in info.carried_layout().iter().enumerate() {
        let mut layer = Vec::with_capacity(tensors.len());
        for (name, _, _) in tensors {
            layer.push((name.clone(), get(&format!("carried.{k}.{name}"))?));
        }
        carried.push(layer);
    }
    Ok(Checkpoint {
        info,
        params,
        updater_state,
        carried,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A checkpoint written before states were named (`carried_shapes`, tensors
    /// `carried.{k}.h` / `.c`) resumes: its tensors read back as `h` and `c`.
    #[test]
    fn a_checkpoint_from_before_named_states_reads() {
        let dir = std::env::temp_dir().join(format!("seqlab-ck-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("old.safetensors");
        let h = [0.5f32, -1.0, 2.0, 0.25, 0.0, 1.5];
        let c: Vec<f32> = h.iter().map(|v| v * 3.0).collect();
        let params = [1.0f32, 2.0];
        let tensors = [
            ("params", bytes(&params), params.len()),
            ("carried.0.h", bytes(&h), h.len()),
            ("carried.0.c", bytes(&c), c.len()),
            ("carried.1.h", bytes(&h), h.len()),
        ];
        let views: Vec<(String, TensorView)> = tensors
            .iter()
            .map(|(n, b, len)| {
                let v = TensorView::new(Dtype::F32, vec![*len], b).unwrap();
                (n.to_string(), v)
            })
            .collect();
        let info = r#"{"iteration":3,"epoch":0,"batch":3,"lr_base":0.1,"updater_steps":3,
            "nadam_mu_product":1.0,"best_score":null,"best_iteration":0,"bad_evaluations":0,
            "carried_shapes":[[2,3,true],[2,3,false]]}"#;
        let meta = HashMap::from([(METADATA_KEY.to_string(), info.to_string())]);
        std::fs::write(&path, safetensors::serialize(views, Some(meta)).unwrap()).unwrap();
        let ck = load(&path).unwrap();
        let named = |n: &str, v: &[f32]| (n.to_string(), v.to_vec());
        assert_eq!(
            ck.carried,
            vec![vec![named("h", &h), named("c", &c)], vec![named("h", &h)]]
        );
        assert_eq!(
            ck.info.carried_layout(),
            vec![
                vec![("h".to_string(), 2, 3), ("c".to_string(), 2, 3)],
                vec![("h".to_string(), 2, 3)]
            ]
        );
        // written again, it is in the named form and reads the same
        let again = dir.join("new.safetensors");
        let mut ck2 = ck.clone();
        ck2.info.carried_tensors = ck.info.carried_layout();
        save(&again, &ck2).unwrap();
        let back = load(&again).unwrap();
        assert_eq!(back.carried, ck.carried);
        assert!(back.info.carried_shapes.is_empty());
        std::fs::remove_dir_all(&dir).ok();
    }
}
