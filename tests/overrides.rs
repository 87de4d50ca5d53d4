//! `seqlab --run FILE --set FIELD=VALUE`: any setting changed for one run, by the field
//! paths of validation errors and the REPL's `set`, checked before training and recorded
//! in `run.ron`.

mod common;

use common::temp_dir;

use std::path::Path;
use std::process::Command;

fn example() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/learn_string.ron")
}

#[test]
fn overrides_change_the_run_and_are_recorded() {
    let dir = temp_dir("overrides");
    let out_dir = dir.join("run");
    let out = Command::new(env!("CARGO_BIN_EXE_seqlab"))
        .args([
            "--run",
            example().to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
            "--quiet",
        ])
        .args([
            "--set",
            "training.iterations=3",
            "--set",
            "model.layers[0].size=8",
        ])
        .args(["--set", "training.updater=Adam(lr: 0.003)"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let record = seqlab::experiment::rundir::RunDir::read_record(&out_dir).unwrap();
    assert_eq!(record.experiment.training.iterations, Some(3));
    assert_eq!(record.experiment.model.layers[0].size, 8);
    assert_eq!(
        seqlab::experiment::fields::get(&record.experiment, "training.updater.Adam.lr").unwrap(),
        "0.003"
    );
    assert_eq!(
        record.overrides,
        vec![
            "training.iterations=3",
            "model.layers[0].size=8",
            "training.updater=Adam(lr: 0.003)"
        ]
    );
    let summary = std::fs::read_to_string(out_dir.join("summary.json")).unwrap();
    assert!(summary.contains("\"iterations\": 3"), "{summary}");
}

#[test]
fn a_bad_override_is_refused_before_training() {
    let dir = temp_dir("overrides-bad");
    for (set, says) in [
        ("training.batch_size=0", "training.batch_size"),
        ("training.batch_sise=4", "did you mean `batch_size`"),
        ("model.layers[9].size=4", "index 9"),
        ("training.batch_size", "FIELD=VALUE"),
        ("training.updater.Sgd.lr=0.1", "not Sgd"),
        // a zero limit beside another limit still trains nothing (the first one reached
        // stops training)
        ("training.iterations=0", "nothing would be trained"),
        ("training.epochs=0", "nothing would be trained"),
        // a value of the wrong type names the field, not a place in a rewritten text
        (
            "training.batch_size=abc",
            "training.batch_size: has the wrong type",
        ),
        ("model.layers[0].size=-3", "model.layers[0].size: "),
        (
            "training.updater.RmsProp.lr=fast",
            "training.updater.RmsProp.lr: ",
        ),
        // a size whose parameter count would overflow
        (
            "model.layers[0].size=1000000000000",
            "at most 1000000 units",
        ),
    ] {
        let out_dir = dir.join("never");
        let out = Command::new(env!("CARGO_BIN_EXE_seqlab"))
            .args([
                "--run",
                example().to_str().unwrap(),
                "--out",
                out_dir.to_str().unwrap(),
                "--quiet",
                "--set",
                set,
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{set}");
        assert!(err.contains(says), "{set}: {err}");
        assert!(err.contains(&format!("--set {set}")), "{set}: {err}");
        // no line:column: the file's own lines are not where the new value is
        assert!(
            !err.split("learn_string.ron:")
                .skip(1)
                .any(|rest| rest.starts_with(|c: char| c.is_ascii_digit())),
            "{set}: {err}"
        );
        assert!(!out_dir.exists(), "{set}: a refused run leaves no folder");
    }
}
