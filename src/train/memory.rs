//! How much memory a network and its training buffers need, checked before anything is
//! allocated, so an absurd size is refused with the estimate and the limit instead of
//! aborting the process ("memory allocation of ... bytes failed").

use crate::nn::network::NetworkConfig;

/// An estimate of what training a network needs, in bytes (as `f64`: absurd sizes
/// overflow `usize`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MemoryEstimate {
    /// Parameters of the network.
    pub parameters: f64,
    /// Bytes for parameters, gradients, updater state and the kept copies (the last
    /// finite parameters, the best ones): 8 f32 values per parameter.
    pub parameter_bytes: f64,
    /// Bytes for the activations of one minibatch (`T x B` positions, every layer's
    /// gates, states and outputs, kept for the backward pass).
    pub activation_bytes: f64,
}

impl MemoryEstimate {
    /// The total in bytes.
    pub fn total(&self) -> f64 {
        self.parameter_bytes + self.activation_bytes
    }
}

/// Estimates the memory training `config` needs with minibatches of `batch` examples of
/// `steps` steps (f32 throughout). An upper-side estimate: it counts every buffer the
/// forward and backward passes keep.
pub fn estimate(config: &NetworkConfig, batch: usize, steps: usize) -> MemoryEstimate {
    let mut params = 0.0f64;
    let mut per_position = config.input_size as f64; // the input itself
    let mut width = config.input_size as f64;
    for layer in &config.layers {
        let h = layer.size as f64;
        let gates = layer.kind.gates() as f64;
        // the kind's own count (second biases, peepholes), as the network allocates
        params += layer
            .kind
            .param_len(width as usize, layer.size, layer.single_bias) as f64;
        // pre-activations and activations of the gates, cell and hidden state, and
        // their gradients
        per_position += 2.0 * (gates + 3.0) * h;
        width = h;
    }
    let o = config.output.size as f64;
    params += o * (width + 1.0);
    per_position += 3.0 * o;
    let f32_bytes = 4.0;
    MemoryEstimate {
        parameters: params,
        parameter_bytes: 8.0 * params * f32_bytes,
        activation_bytes: per_position * batch as f64 * steps as f64 * f32_bytes,
    }
}

/// One layer's sizes as the network builds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerSize {
    /// Input features per step.
    pub input: usize,
    /// Output features per step (the layer's units; the output layer's outputs).
    pub output: usize,
    /// Trained parameters (weights and biases), each layer kind's own count.
    pub parameters: usize,
}

/// The sizes of every hidden layer of `config`, then the output layer (one entry per
/// hidden layer, plus one). Counts come from each layer kind's own `param_len` and allocate
/// nothing, so absurd sizes can be shown before they are refused. The REPL's `analyze`
/// and the window's layer editor both show these.
pub fn layer_sizes(config: &NetworkConfig) -> Vec<LayerSize> {
    use crate::nn::output::OutputLayer;
    let mut sizes = Vec::with_capacity(config.layers.len() + 1);
    let mut width = config.input_size;
    for l in &config.layers {
        let parameters = l.kind.param_len(width, l.size, l.single_bias);
        sizes.push(LayerSize {
            input: width,
            output: l.size,
            parameters,
        });
        width = l.size;
    }
    sizes.push(LayerSize {
        input: width,
        output: config.output.size,
        parameters: OutputLayer::<f32>::param_len(width, config.output.size),
    });
    sizes
}

/// The minibatch shape `(examples, steps)` training with `t` uses, the shape the memory
/// estimate is for: the longest training sequence for sequence data (`longest`, from
/// [`crate::train::TrainingData::longest_sequence`]), else the TBPTT segment or the
/// sequence length of stream data.
pub fn minibatch_shape(
    t: &crate::experiment::schema::TrainingSpec,
    longest: Option<usize>,
) -> (usize, usize) {
    let steps = match (longest, t.tbptt) {
        (Some(longest), _) => longest.max(1),
        (None, Some(tb)) => tb.forward,
        (None, None) => t.sequence_length,
    };
    (t.batch_size, steps)
}

/// Memory this process may still use: `MemAvailable` of `/proc/meminfo` (Linux), in
/// bytes; `None` where it cannot be read.
pub fn available_bytes() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

/// Bytes as a short human-readable size (`1.5 GiB`).
pub fn human_bytes(bytes: f64) -> String {
    const UNITS: [&str; 7] = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = bytes;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{v:.0} bytes")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Checks that training `config` fits: against `limit` bytes (the memory available,
/// when known) and against what the allocator will give (a reservation of the whole
/// estimate that is released at once; on Linux it touches no memory). The error names
/// the estimate, the limit and what to change.
pub fn check_fits(
    config: &NetworkConfig,
    batch: usize,
    steps: usize,
    limit: Option<f64>,
) -> Result<(), String> {
    let e = estimate(config, batch, steps);
    let describe = || {
        format!(
            "training this network needs about {} ({:.3e} parameters: {}; activations of a \
             minibatch of {batch} x {steps} steps: {})",
            human_bytes(e.total()),
            e.parameters,
            human_bytes(e.parameter_bytes),
            human_bytes(e.activation_bytes),
        )
    };
    let advice = "use smaller layers (model.layers[..].size), or a smaller \
                  training.batch_size or training.sequence_length";
    if let Some(limit) = limit {
        if e.total() > limit {
            return Err(format!(
                "{}, but only {} of memory is available; {advice}",
                describe(),
                human_bytes(limit)
            ));
        }
    }
    let bytes = e.total();
    let fits_address_space = bytes < (isize::MAX as f64) / 2.0;
    if !fits_address_space || Vec::<u8>::new().try_reserve_exact(bytes as usize).is_err() {
        return Err(format!(
            "{}, which cannot be allocated on this machine; {advice}",
            describe()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::network::{LayerConfig, LayerKind, OutputConfig};
    use crate::nn::Loss;

    fn lstm(input: usize, size: usize, output: usize) -> NetworkConfig {
        NetworkConfig {
            input_size: input,
            layers: vec![LayerConfig::new(LayerKind::lstm(), size)],
            output: OutputConfig::new(Loss::SoftmaxCrossEntropy, output),
        }
    }

    #[test]
    fn lstm_parameter_count_matches_pytorch_plus_head() {
        // torch.nn.LSTM(3, 4) has 4*4*(3+4) + 2*4*4 = 144 parameters, and so has
        // seqlab's LSTM with its two biases (the default; the estimate counted one
        // before it asked the kind); Linear(4, 5) has 25
        let e = estimate(&lstm(3, 4, 5), 1, 1);
        assert_eq!(
            e.parameters,
            (4 * 4 * (3 + 4) + 2 * 4 * 4 + 5 * (4 + 1)) as f64
        );
        let mut single = lstm(3, 4, 5);
        single.layers[0].single_bias = true;
        assert_eq!(
            estimate(&single, 1, 1).parameters,
            (4 * 4 * (3 + 4 + 1) + 5 * (4 + 1)) as f64
        );
    }

    #[test]
    fn an_absurd_layer_is_refused_with_the_estimate_and_the_limit() {
        let err = check_fits(
            &lstm(10, 100_000_000, 10),
            32,
            100,
            Some(8.0 * 1024.0 * 1024.0 * 1024.0),
        )
        .unwrap_err();
        assert!(err.contains("only 8.0 GiB of memory is available"), "{err}");
        assert!(err.contains("needs about 1.1 EiB"), "{err}");
    }

    #[test]
    fn an_absurd_layer_is_refused_without_a_known_limit() {
        let err = check_fits(&lstm(10, 100_000_000, 10), 32, 100, None).unwrap_err();
        assert!(err.contains("cannot be allocated"), "{err}");
    }

    #[test]
    fn a_small_network_fits() {
        assert_eq!(check_fits(&lstm(10, 100, 10), 32, 100, Some(1e9)), Ok(()));
    }
}
