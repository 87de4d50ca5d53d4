//! PyTorch's own module names for a network's tensors, both ways.
//!
//! seqlab names hidden layer `k`'s tensors `layers.{k}.weight_ih` etc. and the output
//! layer `layers.{L}.weight` / `.bias` (see the README's weights table). A `state_dict`
//! saved from PyTorch names a multi-layer `nn.LSTM` / `nn.GRU` / `nn.RNN` under some
//! prefix `P` (`""`, `"rnn."`, `"encoder.lstm."`, ...) as `P weight_ih_l{k}`,
//! `P weight_hh_l{k}`, `P bias_ih_l{k}`, `P bias_hh_l{k}`, and a `nn.Linear` head under
//! another prefix `Q` as `Q weight`, `Q bias`. [`to_seqlab_names`] accepts those for a
//! network whose hidden layers are one recurrent kind (the only networks such a
//! `state_dict` can describe), and a per-layer module list's `layers.{k}.weight_ih_l0`.
//! [`torch_module`] gives the names and module the other way (`seqlab export --torch`).

use std::collections::BTreeSet;

use super::config::{LayerKind, NamedTensor, NetworkConfig, NetworkError};

/// The per-layer tensors of PyTorch's recurrent modules.
const RECURRENT: [&str; 4] = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"];

/// PyTorch's module for a network: how `seqlab export --torch` writes it.
#[derive(Clone, Debug, PartialEq)]
pub enum TorchModule {
    /// Hidden layers of one recurrent kind and one size: one multi-layer module named
    /// `rnn` (`rnn.weight_ih_l{k}`, ...) and the `nn.Linear` head `head`.
    Stack {
        /// `LSTM`, `GRU` or `RNN`.
        class: &'static str,
        /// `tanh` or `relu` for `RNN`.
        nonlinearity: Option<&'static str>,
        /// Hidden units per layer.
        hidden: usize,
        /// Stacked layers.
        layers: usize,
    },
    /// Anything else PyTorch has modules for: an `nn.ModuleList` `layers` with one
    /// module per hidden layer (`layers.{k}.weight_ih_l0`, dense `layers.{k}.weight`),
    /// then the head.
    List(Vec<TorchLayer>),
}

/// One entry of [`TorchModule::List`].
#[derive(Clone, Debug, PartialEq)]
pub struct TorchLayer {
    /// `LSTM`, `GRU`, `RNN` or `Linear`.
    pub class: &'static str,
    /// Input width.
    pub input: usize,
    /// Hidden units or outputs.
    pub size: usize,
    /// `RNN`: `tanh`/`relu`; `Linear`: the activation applied after it (`identity`,
    /// `tanh`, `sigmoid`, `relu`, `softsign`, `leaky_relu:{slope}`).
    pub activation: String,
}

/// The PyTorch module for `config`, or why PyTorch has none (peepholes, hard-sigmoid or
/// non-tanh LSTM activations).
pub fn torch_module(config: &NetworkConfig) -> Result<TorchModule, String> {
    let mut list = Vec::new();
    let mut width = config.input_size;
    for (k, lc) in config.layers.iter().enumerate() {
        let class = lc.kind.torch_class();
        let activation = lc
            .kind
            .torch_activation()
            .map_err(|why| format!("layer {k} {why}"))?;
        list.push(TorchLayer {
            class,
            input: width,
            size: lc.size,
            activation,
        });
        width = lc.size;
    }
    let first = list.first();
    let one_stack = first.is_some_and(|f| {
        f.class != "Linear"
            && list
                .iter()
                .all(|l| l.class == f.class && l.size == f.size && l.activation == f.activation)
    });
    match first {
        Some(f) if one_stack => Ok(TorchModule::Stack {
            class: f.class,
            nonlinearity: (f.class == "RNN").then_some(if f.activation == "relu" {
                "relu"
            } else {
                "tanh"
            }),
            hidden: f.size,
            layers: list.len(),
        }),
        _ => Ok(TorchModule::List(list)),
    }
}

/// The PyTorch name of seqlab's `layers.{k}.{name}` in `module`'s `state_dict`.
pub fn torch_name(module: &TorchModule, n_hidden: usize, seqlab: &str) -> String {
    let rest = seqlab.strip_prefix("layers.").unwrap_or(seqlab);
    let (k, local) = rest.split_once('.').unwrap_or(("", rest));
    let k: usize = k.parse().unwrap_or(usize::MAX);
    if k == n_hidden {
        return format!("head.{local}");
    }
    let recurrent = RECURRENT.contains(&local);
    match module {
        TorchModule::Stack { .. } => format!("rnn.{local}_l{k}"),
        TorchModule::List(_) if recurrent => format!("layers.{k}.{local}_l0"),
        TorchModule::List(_) => format!("layers.{k}.{local}"),
    }
}

/// Renames a `state_dict` in PyTorch's own names (see the module docs) to seqlab's
/// `layers.{k}.*` names for `config`; tensors already in seqlab's names pass unchanged.
/// Errors name the tensor that does not fit and list the names that were expected.
pub fn to_seqlab_names<F: Clone>(
    config: &NetworkConfig,
    tensors: &[NamedTensor<F>],
) -> Result<Vec<NamedTensor<F>>, NetworkError> {
    let n_hidden = config.layers.len();
    let mut out = Vec::with_capacity(tensors.len());
    let mut stack_prefixes = BTreeSet::new();
    let mut head_prefixes = BTreeSet::new();
    for t in tensors {
        let name = t.name.as_str();
        let renamed = if let Some(local) = seqlab_layer_name(name) {
            local
        } else if let Some((prefix, base, k)) = split_recurrent(name) {
            if name.ends_with("_reverse") {
                return Err(tensor_err(
                    name,
                    "belongs to a bidirectional module; seqlab's layers run forward only",
                ));
            }
            stack_prefixes.insert(prefix.to_string());
            format!("layers.{k}.{base}")
        } else if let Some((prefix, local)) = split_linear(name) {
            head_prefixes.insert(prefix.to_string());
            format!("layers.{n_hidden}.{local}")
        } else {
            return Err(tensor_err(
                name,
                &format!(
                    "is neither seqlab's name (layers.{{k}}.weight_ih, ...) nor PyTorch's for this network; expected {}",
                    expected_names(config, None, None)
                ),
            ));
        };
        out.push(NamedTensor {
            name: renamed,
            shape: t.shape.clone(),
            data: t.data.clone(),
        });
    }
    if stack_prefixes.is_empty() && head_prefixes.is_empty() {
        return Ok(out);
    }
    let p = stack_prefixes.iter().next().cloned();
    let q = head_prefixes.iter().next().cloned();
    let expected = expected_names(config, p.as_deref(), q.as_deref());
    let many = |set: &BTreeSet<String>, what: &str| {
        let list: Vec<String> = set.iter().map(|s| format!("`{s}`")).collect();
        NetworkError::Tensor {
            name: "state_dict".into(),
            problem: format!(
                "has {what} under {} prefixes ({}), which is ambiguous; expected {expected}",
                set.len(),
                list.join(", ")
            ),
        }
    };
    if stack_prefixes.len() > 1 {
        return Err(many(
            &stack_prefixes,
            "recurrent tensors (weight_ih_l0, ...)",
        ));
    }
    if head_prefixes.len() > 1 {
        return Err(many(&head_prefixes, "Linear tensors (weight, bias)"));
    }
    if !stack_prefixes.is_empty() {
        let kinds: BTreeSet<&str> = config.layers.iter().map(|l| kind_name(&l.kind)).collect();
        if kinds.len() != 1 || kinds.contains("Dense") {
            return Err(NetworkError::Tensor {
                name: "state_dict".into(),
                problem: format!(
                    "uses PyTorch's multi-layer names (weight_ih_l0, ...), which describe a stack of one recurrent kind, but this network's hidden layers are {}; name the tensors layers.{{k}}.weight_ih, ... (seqlab's names)",
                    config
                        .layers
                        .iter()
                        .map(|l| kind_name(&l.kind))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    }
    // every tensor this network needs, and nothing else
    let have: BTreeSet<&str> = out.iter().map(|t| t.name.as_str()).collect();
    let bad = out.iter().zip(tensors).find(|(t, _)| {
        let Some((k, local)) = t.name["layers.".len()..].split_once('.') else {
            return true;
        };
        let k: usize = k.parse().unwrap_or(usize::MAX);
        !(k < n_hidden && RECURRENT.contains(&local)
            || k == n_hidden && ["weight", "bias"].contains(&local)
            || k < n_hidden && !config.layers[k].kind.is_recurrent()
            || k < n_hidden && local.starts_with("weight_c"))
    });
    if let Some((_, orig)) = bad {
        return Err(tensor_err(
            &orig.name,
            &format!("is not a tensor of this network; expected {expected}"),
        ));
    }
    let missing: Vec<String> = (0..n_hidden)
        .filter(|&k| config.layers[k].kind.is_recurrent())
        .flat_map(|k| RECURRENT.iter().map(move |b| (k, b)))
        .filter(|(k, b)| !have.contains(format!("layers.{k}.{b}").as_str()))
        .map(|(k, b)| format!("{}{b}_l{k}", p.as_deref().unwrap_or("")))
        .chain(
            ["weight", "bias"]
                .iter()
                .filter(|b| !have.contains(format!("layers.{n_hidden}.{b}").as_str()))
                .map(|b| format!("{}{b}", q.as_deref().unwrap_or("{Q}"))),
        )
        .collect();
    if !missing.is_empty() {
        return Err(NetworkError::Tensor {
            name: "state_dict".into(),
            problem: format!(
                "lacks {}; expected {expected}",
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    Ok(out)
}

fn tensor_err(name: &str, problem: &str) -> NetworkError {
    NetworkError::Tensor {
        name: name.to_string(),
        problem: problem.to_string(),
    }
}

fn kind_name(kind: &LayerKind) -> &'static str {
    kind.name()
}

/// `layers.{k}.{local}` (seqlab's name, or a module list's `layers.{k}.weight_ih_l0`)
/// as seqlab's name.
fn seqlab_layer_name(name: &str) -> Option<String> {
    let rest = name.strip_prefix("layers.")?;
    let (k, local) = rest.split_once('.')?;
    k.parse::<usize>().ok()?;
    let local = match local.strip_suffix("_l0") {
        Some(base) if RECURRENT.contains(&base) => base,
        _ => local,
    };
    Some(format!("layers.{k}.{local}"))
}

/// `{prefix}{base}_l{k}[_reverse]` with `base` one of [`RECURRENT`].
fn split_recurrent(name: &str) -> Option<(&str, &'static str, usize)> {
    let core = name.strip_suffix("_reverse").unwrap_or(name);
    let (head, k) = core.rsplit_once("_l")?;
    let k: usize = k.parse().ok()?;
    RECURRENT.iter().find_map(|&base| {
        let prefix = head.strip_suffix(base)?;
        (prefix.is_empty() || prefix.ends_with('.')).then_some((prefix, base, k))
    })
}

/// `{prefix}weight` or `{prefix}bias` (a Linear head).
fn split_linear(name: &str) -> Option<(&str, &'static str)> {
    ["weight", "bias"].iter().find_map(|&local| {
        let prefix = name.strip_suffix(local)?;
        (prefix.is_empty() || prefix.ends_with('.')).then_some((prefix, local))
    })
}

/// The PyTorch names a `state_dict` for `config` holds, with the prefixes found (or
/// placeholders `{P}`, `{Q}`), or seqlab's names when PyTorch's cannot describe it.
fn expected_names(config: &NetworkConfig, p: Option<&str>, q: Option<&str>) -> String {
    let n = config.layers.len();
    let one_kind = config
        .layers
        .iter()
        .map(|l| kind_name(&l.kind))
        .collect::<BTreeSet<_>>()
        .len()
        == 1
        && config.layers.iter().all(|l| l.kind.is_recurrent());
    let (p, q) = (p.unwrap_or("{P}"), q.unwrap_or("{Q}"));
    let mut names: Vec<String> = Vec::new();
    if one_kind {
        for k in 0..n {
            names.extend(RECURRENT.iter().map(|b| format!("{p}{b}_l{k}")));
        }
        names.push(format!("{q}weight"));
        names.push(format!("{q}bias"));
        format!(
            "{} ({{P}} one prefix for the {}-layer recurrent module, e.g. `lstm.` or none; {{Q}} one prefix for the Linear head, e.g. `head.`), or seqlab's layers.{{k}}.* names",
            names.join(", "),
            n
        )
    } else {
        "seqlab's names layers.{k}.weight_ih, layers.{k}.weight_hh, layers.{k}.bias_ih, layers.{k}.bias_hh (recurrent), layers.{k}.weight, layers.{k}.bias (dense, and the output layer k = number of hidden layers); PyTorch's multi-layer names only describe a stack of one recurrent kind".to_string()
    }
}
