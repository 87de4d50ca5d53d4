//! A corpus of bad and hostile inputs, run through the `seqlab` binary as a user would:
//! experiment files, text corpora, CSV sequence files, weights files, run folders and
//! command lines. For every one: no panic, an end within a time bound, a non-zero exit,
//! a message that names the place (file, field or option), and no clause printed twice
//! on one error line. The table is built from a few fixtures by mutation.

mod common;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use seqlab::experiment::weights::{load_weights, save_weights};

/// One bad input: the arguments, and the texts the error must contain.
struct Case {
    name: String,
    args: Vec<OsString>,
    expect: Vec<String>,
}

/// How one case ended.
struct Outcome {
    code: Option<i32>,
    stderr: String,
    seconds: f64,
    timed_out: bool,
}

const TIME_LIMIT: Duration = Duration::from_secs(60);

fn run(case: &Case, dir: &Path, i: usize) -> Outcome {
    let out_path = dir.join(format!("case{i}.out"));
    let err_path = dir.join(format!("case{i}.err"));
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_seqlab"))
        .args(&case.args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("seqlab starts");
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            timed_out = true;
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stderr = std::fs::read(&err_path).unwrap_or_default();
    Outcome {
        code: status.code(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        seconds: start.elapsed().as_secs_f64(),
        timed_out,
    }
}

/// Parts of an error line, split at `; ` and `: `, that are long enough to be a clause.
fn repeated_clause(line: &str) -> Option<String> {
    let mut seen = std::collections::HashSet::new();
    for part in line.split("; ").flat_map(|p| p.split(": ")) {
        let part = part.trim();
        if part.len() >= 12 && !seen.insert(part) {
            return Some(part.to_string());
        }
    }
    None
}

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

fn case(name: impl Into<String>, args: Vec<OsString>, expect: &[&str]) -> Case {
    Case {
        name: name.into(),
        args,
        expect: expect.iter().map(|s| s.to_string()).collect(),
    }
}

const BASE: &str = r#"(
    name: "bad",
    data: Text(path: "corpus.txt", validation: 0.1),
    model: (
        layers: [(kind: Lstm, size: 8, dropout: 0.0)],
    ),
    training: (
        updater: Adam(lr: 0.01),
        batch_size: 4,
        sequence_length: 16,
        iterations: 3,
        seed: 1,
        checkpoint_every: 1,
    ),
    evaluation: (every: 2),
    sampling: (length: 20, temperature: 1.0),
)
"#;

fn corpus() -> String {
    "the quick brown fox jumps over the lazy dog; ".repeat(30)
}

/// Writes `text` as experiment `name` and returns the `--run` case for it.
fn experiment_case(dir: &Path, name: &str, text: &[u8], expect: &[&str]) -> Case {
    let file = format!("{name}.ron");
    std::fs::write(dir.join(&file), text).unwrap();
    let out = format!("runs/{name}");
    // a problem in the file names the file; one in a file it points to names that file
    let in_file = expect.is_empty()
        || expect.iter().any(|e| {
            [
                "model",
                "training",
                "evaluation",
                "sampling",
                "version",
                "UTF",
            ]
            .iter()
            .any(|p| e.starts_with(p))
        });
    let mut e: Vec<&str> = if in_file { vec![file.as_str()] } else { vec![] };
    e.extend_from_slice(expect);
    case(
        format!("experiment {name}"),
        os(&["--run", &file, "--out", &out, "--quiet"]),
        &e,
    )
}

/// BASE with `from` replaced by `to` (which must occur).
fn mutate(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from}");
    BASE.replacen(from, to, 1)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

#[cfg(unix)]
fn make_fifo(path: &Path) -> bool {
    Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

fn build_cases(dir: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    std::fs::write(dir.join("corpus.txt"), corpus()).unwrap();

    // --- experiment files: one bad value per field (the message names the field) ---
    let field_values: &[(&str, &str, &str)] = &[
        ("size: 8", "size: 0", "model.layers[0].size"),
        ("size: 8", "size: -1", "bad_0001.ron"),
        ("size: 8", "size: 1.5", "bad_0002.ron"),
        ("size: 8", "size: \"x\"", "bad_0003.ron"),
        ("size: 8", "size: 100000000", "memory"),
        ("size: 8", "size: 3000000", "memory"),
        ("dropout: 0.0", "dropout: 1.5", "dropout"),
        ("dropout: 0.0", "dropout: -0.1", "dropout"),
        ("dropout: 0.0", "dropout: NaN", "dropout"),
        ("kind: Lstm", "kind: Lstn", "kind"),
        ("kind: Lstm", "kind: 3", "kind"),
        ("batch_size: 4", "batch_size: 0", "training.batch_size"),
        ("batch_size: 4", "batch_size: -4", "batch_size"),
        ("batch_size: 4", "batch_size: 100000", "batch_size"),
        ("sequence_length: 16", "sequence_length: 0", "training.sequence_length"),
        ("iterations: 3", "iterations: 0", "training.iterations"),
        ("iterations: 3", "epochs: 0", "training.epochs"),
        ("iterations: 3", "iterations: -3", "iterations"),
        ("lr: 0.01", "lr: -0.1", "training.updater.Adam.lr"),
        ("lr: 0.01", "lr: 0", "training.updater.Adam.lr"),
        ("lr: 0.01", "lr: inf", "training.updater.Adam.lr"),
        ("lr: 0.01", "lr: NaN", "training.updater.Adam.lr"),
        ("Adam(lr: 0.01)", "Adam(lr: 0.01, beta1: 1.5)", "beta1"),
        ("Adam(lr: 0.01)", "Adam(lr: 0.01, eps: -1)", "eps"),
        ("Adam(lr: 0.01)", "Sgd(lr: 0.01, beta1: 0.9)", "beta1"),
        ("Adam(lr: 0.01)", "Adamm(lr: 0.01)", "updater"),
        ("seed: 1", "seed: -1", "seed"),
        ("seed: 1", "seed: 1.5", "seed"),
        ("every: 2", "every: 0", "evaluation.every"),
        ("temperature: 1.0", "temperature: 0.0", "sampling.temperature"),
        ("temperature: 1.0", "temperature: -1.0", "sampling.temperature"),
        ("length: 20", "length: -20", "length"),
        ("validation: 0.1", "validation: 1.5", "validation"),
        ("validation: 0.1", "validation: -0.1", "validation"),
        ("validation: 0.1", "validation: 0.1, test: 0.95", "test"),
        ("checkpoint_every: 1", "checkpoint_every: 0", "checkpoint_every"),
        ("name: \"bad\"", "name: 5", "name"),
        ("name: \"bad\"", "name: \"bad\", colour: 1", "colour"),
        ("    model: (", "    modle: (", "modle"),
        ("path: \"corpus.txt\"", "path: \"missing.txt\"", "missing.txt"),
        ("path: \"corpus.txt\"", "path: \"\"", "bad_"),
        ("path: \"corpus.txt\"", "path: \"sub\"", "sub"),
        ("path: \"corpus.txt\"", "path: \"/dev/zero\"", "/dev/zero"),
        ("path: \"corpus.txt\"", "path: \"/dev/urandom\"", "/dev/urandom"),
        ("path: \"corpus.txt\"", "path: \"empty.txt\"", "empty.txt"),
        ("path: \"corpus.txt\"", "path: \"one.txt\"", "one.txt"),
        ("path: \"corpus.txt\"", "path: \"utf16.txt\"", "utf16.txt"),
        ("path: \"corpus.txt\"", "path: \"latin1.txt\"", "latin1.txt"),
        ("path: \"corpus.txt\"", "path: \"fifo.txt\"", "fifo.txt"),
        (
            "path: \"corpus.txt\", validation: 0.1",
            "path: \"corpus.txt\", validation: 0.999",
            "corpus.txt",
        ),
        (
            "path: \"corpus.txt\", validation: 0.1",
            "path: \"small.txt\", validation: 0.5",
            "small.txt",
        ),
        ("batch_size: 4", "batch_size: 2000", "corpus.txt"),
        ("(kind: Lstm, size: 8, dropout: 0.0)", "(kind: Lstm, size: 8, peephole: 3)", "peephole"),
        ("(kind: Lstm, size: 8, dropout: 0.0)", "(kind: Gru, size: 8, peephole: true)", "peephole"),
        ("(kind: Lstm, size: 8, dropout: 0.0)", "(kind: Dense, size: 8, forget_bias: 2.0)", "forget_bias"),
        ("evaluation: (every: 2),", "evaluation: (every: 2), initial_weights: \"nowhere.safetensors\",", "nowhere.safetensors"),
        ("sampling: (length: 20, temperature: 1.0),", "sampling: (length: 20, temperature: 1.0, prime: \"\"),", "sampling.prime"),
        ("Text(path: \"corpus.txt\", validation: 0.1)", "Csv(features: Directory(\"nodir\"))", "nodir"),
        ("Text(path: \"corpus.txt\", validation: 0.1)", "Csv(features: Pattern(pattern: \"csv/f%d.csv\", start: 0, end: 99))", "csv/f"),
        ("Text(path: \"corpus.txt\", validation: 0.1)", "Csv(features: Pattern(pattern: \"csv/f%d.csv\", start: 5, end: 1))", "range"),
        ("Text(path: \"corpus.txt\", validation: 0.1)", "Csv(features: Directory(\"csv\"), task: Classification(classes: 0))", "classes"),
        ("Text(path: \"corpus.txt\", validation: 0.1)", "Csv(features: Directory(\"csv\"), validation: Fraction(fraction: 0.99, seed: Some(1)))", "validation"),
        ("Text(path: \"corpus.txt\", validation: 0.1)", "Csv(features: Directory(\"csv\"), labels: Column(7))", "label column 7"),
        ("Text(path: \"corpus.txt\", validation: 0.1)", "Csv(features: Directory(\"csvbad\"))", "csvbad"),
        ("Text(path: \"corpus.txt\", validation: 0.1)", "Echo(length: 0)", "Echo"),
    ];
    // fixtures the mutations name
    std::fs::write(dir.join("empty.txt"), "").unwrap();
    std::fs::write(dir.join("one.txt"), "a").unwrap();
    std::fs::write(dir.join("small.txt"), "abcdef").unwrap();
    let utf16: Vec<u8> = std::iter::once([0xFFu8, 0xFE])
        .chain("hello world".encode_utf16().map(|u| u.to_le_bytes()))
        .flatten()
        .collect();
    std::fs::write(dir.join("utf16.txt"), &utf16).unwrap();
    std::fs::write(dir.join("latin1.txt"), b"caf\xe9 au lait").unwrap();
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    #[cfg(unix)]
    let fifo = make_fifo(&dir.join("fifo.txt"));
    #[cfg(not(unix))]
    let fifo = false;
    std::fs::create_dir_all(dir.join("csv")).unwrap();
    for i in 0..12 {
        std::fs::write(
            dir.join(format!("csv/f{i}.csv")),
            format!("{},0\n{},1\n0.5,{}\n", i, i + 1, i % 2),
        )
        .unwrap();
    }
    std::fs::create_dir_all(dir.join("csvbad")).unwrap();
    std::fs::write(dir.join("csvbad/0.csv"), "1,2\n3,x\n").unwrap();
    for (i, (from, to, expect)) in field_values.iter().enumerate() {
        if to.contains("fifo") && !fifo {
            eprintln!("skipping the FIFO case: mkfifo is not available");
            continue;
        }
        let name = format!("bad_{i:04}");
        let mut e = vec![*expect];
        if expect.starts_with("bad_") {
            e.clear(); // only the file name is expected
        }
        cases.push(experiment_case(dir, &name, mutate(from, to).as_bytes(), &e));
    }

    // --- experiment files: torn (truncated) at many places, and damaged encodings ---
    let base = BASE.as_bytes();
    for (k, cut) in (1..base.len() - 2).step_by(base.len() / 40).enumerate() {
        cases.push(experiment_case(
            dir,
            &format!("torn_{k:03}"),
            &base[..cut],
            &[],
        ));
    }
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(mutate("size: 8", "size: 0").as_bytes());
    cases.push(experiment_case(
        dir,
        "bom_bad_size",
        &bom,
        &["model.layers[0].size"],
    ));
    let utf16_exp: Vec<u8> = std::iter::once([0xFFu8, 0xFE])
        .chain(BASE.encode_utf16().map(|u| u.to_le_bytes()))
        .flatten()
        .collect();
    cases.push(experiment_case(dir, "utf16", &utf16_exp, &["UTF-16"]));
    let mut latin = BASE.as_bytes().to_vec();
    latin.splice(10..10, [0xE9u8]);
    cases.push(experiment_case(dir, "latin1", &latin, &["UTF-8"]));
    cases.push(experiment_case(dir, "empty", b"", &[]));
    cases.push(experiment_case(
        dir,
        "binary",
        &[0u8, 1, 2, 3, 255, 254],
        &[],
    ));
    cases.push(experiment_case(
        dir,
        "newer",
        mutate("(\n    name", "(\n    version: 99,\n    name").as_bytes(),
        &["version 99"],
    ));
    cases.push(case(
        "experiment is a directory",
        os(&["--run", "sub", "--out", "runs/dir", "--quiet"]),
        &["sub", "directory"],
    ));
    cases.push(case(
        "experiment is a device",
        os(&["--run", "/dev/zero", "--out", "runs/dev", "--quiet"]),
        &["/dev/zero", "not a regular file"],
    ));
    cases.push(case(
        "experiment missing",
        os(&["--run", "nowhere.ron", "--quiet"]),
        &["nowhere.ron"],
    ));

    // --- CSV sequence files through `seqlab data` ---
    let csv_cases: &[(&str, &[u8], &[&str], &str)] = &[
        ("nonnumeric", b"1,2\n3,x\n", &[], "2:2"),
        ("ragged", b"1,2\n3\n", &[], ":2"),
        ("empty", b"", &[], "no data rows"),
        ("blank", b"\n\n  \n", &[], "no data rows"),
        ("header", b"a,b\n1,2\n", &[], "skip_lines"),
        ("nan", b"1,NaN\n2,3\n", &[], "1:2"),
        ("inf", b"1,inf\n2,3\n", &[], "1:2"),
        (
            "label_range",
            b"1,7\n2,3\n",
            &["--classes", "3"],
            "class label",
        ),
        (
            "label_fraction",
            b"1,0.5\n2,1\n",
            &["--classes", "3"],
            "whole number",
        ),
        ("one_column", b"1\n2\n", &[], "label column"),
        (
            "utf16",
            &[0xFF, 0xFE, b'1', 0, b',', 0, b'2', 0, b'\n', 0],
            &[],
            "UTF-16",
        ),
        (
            "utf16_nobom",
            &[b'1', 0, b',', 0, b'2', 0, b'\n', 0],
            &[],
            "UTF-16",
        ),
        ("quote", b"1,\"2\n3,4\n", &[], "csv_quote"),
        ("semicolons", b"1;2\n3;4\n", &[], "csv_semicolons"),
        ("skip_all", b"1,2\n", &["--skip", "5"], "no data rows"),
        (
            "label_col",
            b"1,2\n3,4\n",
            &["--label-column", "9"],
            "label column 9",
        ),
        (
            "label_col_neg",
            b"1,2\n3,4\n",
            &["--label-column", "-9"],
            "label column -9",
        ),
        ("huge_number", b"1,1e999\n", &[], "1:2"),
        ("latin1", b"1,2\n\xe9,4\n", &[], "2:1"),
        ("nul", b"1,2\n\x00,4\n", &[], "2:1"),
    ];
    std::fs::create_dir_all(dir.join("data")).unwrap();
    for (name, bytes, extra, expect) in csv_cases {
        let file = format!("data/csv_{name}.csv");
        std::fs::write(dir.join(&file), bytes).unwrap();
        let mut args = vec!["data", file.as_str()];
        args.extend_from_slice(extra);
        cases.push(case(format!("csv {name}"), os(&args), &[&file, expect]));
        let mut json = args.clone();
        json.push("--json");
        cases.push(case(format!("csv {name} --json"), os(&json), &[&file]));
    }
    let data_cli: &[(&[&str], &[&str])] = &[
        (&["data", "data/missing.csv"], &["data/missing.csv"]),
        (&["data", "nodir/"], &["nodir"]),
        (&["data", "/dev/zero"], &["/dev/zero", "not a regular file"]),
        (
            &["data", "/dev/urandom"],
            &["/dev/urandom", "not a regular file"],
        ),
        (
            &["data", "csv/f%d.csv", "--range", "0..20"],
            &["csv/f12.csv"],
        ),
        (&["data", "csv/f%d.csv", "--range", "5..1"], &["range"]),
        (&["data", "csv/f%d.csv", "--range", "x"], &["--range"]),
        (&["data", "csv/f%d.csv"], &["csv/f%d.csv"]),
        (&["data", "csv", "--batch", "0"], &["--batch"]),
        (&["data", "csv", "--batch", "-1"], &["--batch"]),
        (&["data", "csv", "--delimiter", "pipe"], &["--delimiter"]),
        (&["data", "csv", "--align", "middle"], &["--align"]),
        (&["data", "csv", "--classes", "x"], &["--classes"]),
        (&["data", "csv", "--labels", "nowhere"], &["nowhere"]),
        (&["data", "csv", "--skip", "-1"], &["--skip"]),
        (&["data", "sub"], &["sub"]),
    ];
    for (args, expect) in data_cli {
        cases.push(case(format!("data {}", args.join(" ")), os(args), expect));
    }
    #[cfg(unix)]
    if make_fifo(&dir.join("data/fifo.csv")) {
        cases.push(case(
            "csv fifo",
            os(&["data", "data/fifo.csv"]),
            &["data/fifo.csv", "not a regular file"],
        ));
    }

    // --- command lines ---
    let cli: &[(&[&str], &[&str])] = &[
        (
            &["--run", "ok.ron", "--seed", "-1"],
            &["--seed", "negative"],
        ),
        (
            &["--run", "ok.ron", "--iterations", "-5"],
            &["--iterations", "negative"],
        ),
        (
            &["--run", "ok.ron", "--epochs", "-1"],
            &["--epochs", "negative"],
        ),
        (
            &["--run", "ok.ron", "--iterations", "0"],
            &["--iterations 0", "training.iterations"],
        ),
        (
            &["--run", "ok.ron", "--epochs", "0"],
            &["--epochs 0", "training.epochs"],
        ),
        (&["--run", "ok.ron", "--iterations", "x"], &["--iterations"]),
        (
            &["--run", "ok.ron", "--iterations", "1.5"],
            &["--iterations"],
        ),
        (
            &["--run", "ok.ron", "--seed", "99999999999999999999999"],
            &["--seed"],
        ),
        (
            &["--run", "ok.ron", "--iterations", "1", "--epochs", "1"],
            &["--epochs"],
        ),
        (
            &["--run", "--resume", "runs/good", "--out", "elsewhere"],
            &["--out", "--resume"],
        ),
        (&["--run", "ok.ron", "--resume", "runs/good"], &["--resume"]),
        (&["--run"], &["experiment"]),
        (&["--run", "ok.ron", "--bogus"], &["--bogus"]),
        (
            &["sample", "runs/good", "--temperature", "-1"],
            &["--temperature"],
        ),
        (
            &["sample", "runs/good", "--temperature", "0"],
            &["--temperature"],
        ),
        (
            &["sample", "runs/good", "--temperature", "nan"],
            &["--temperature"],
        ),
        (
            &["sample", "runs/good", "--length", "-3"],
            &["--length", "negative"],
        ),
        (
            &["sample", "runs/good", "--seed", "-1"],
            &["--seed", "negative"],
        ),
        (
            &["sample", "runs/good", "--prime", "\u{1F600}"],
            &["vocabulary"],
        ),
        (
            &["sample", "runs/good", "--temperature", "1", "--greedy"],
            &["--greedy"],
        ),
        (
            &["gradcheck", "--filter", "no-such-case"],
            &["--filter", "no-such-case"],
        ),
        (&["predict", "runs/good", "csv"], &["runs/good", "text"]),
        (&["predict", "runs/nowhere", "csv"], &["runs/nowhere"]),
        (&["sample", "runs/nowhere"], &["runs/nowhere"]),
        (&["sample", "csv"], &["csv"]),
        (&["bench", "--rounds", "-1"], &["--rounds"]),
    ];
    std::fs::write(dir.join("ok.ron"), BASE).unwrap();
    for (args, expect) in cli {
        cases.push(case(format!("cli {}", args.join(" ")), os(args), expect));
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        let mut args = os(&["sample", "runs/good", "--prime"]);
        args.push(OsString::from_vec(b"ab\xffcd".to_vec()));
        cases.push(case(
            "cli invalid UTF-8 --prime",
            args,
            &["--prime", "UTF-8"],
        ));
        let mut args = os(&["gradcheck", "--filter"]);
        args.push(OsString::from_vec(b"\xfe".to_vec()));
        cases.push(case(
            "cli invalid UTF-8 --filter",
            args,
            &["--filter", "UTF-8"],
        ));
    }
    cases
}

/// Cases on a trained run folder (made first): damaged and foreign run folders,
/// checkpoints and weights.
fn run_folder_cases(dir: &Path) -> Vec<Case> {
    let good = dir.join("runs/good");
    let mut cases = Vec::new();
    let fresh = |name: &str| -> PathBuf {
        let p = dir.join("runs").join(name);
        copy_dir(&good, &p);
        p
    };
    let rel = |p: &Path| p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
    let resume = |p: &Path| os(&["--run", "--resume", &rel(p), "--iterations", "5", "--quiet"]);

    let p = fresh("no_latest");
    std::fs::remove_file(p.join("checkpoints/latest")).unwrap();
    cases.push(case(
        "resume without latest",
        resume(&p),
        &["latest", "intact earlier checkpoints"],
    ));
    let p = fresh("latest_names_missing");
    std::fs::write(p.join("checkpoints/latest"), "iter_00000099.safetensors").unwrap();
    cases.push(case(
        "resume latest names a missing file",
        resume(&p),
        &["iter_00000099", "intact earlier"],
    ));
    let p = fresh("torn_checkpoint");
    let latest = std::fs::read_to_string(p.join("checkpoints/latest")).unwrap();
    let ck = p.join("checkpoints").join(latest.trim());
    let bytes = std::fs::read(&ck).unwrap();
    std::fs::write(&ck, &bytes[..bytes.len() / 2]).unwrap();
    cases.push(case(
        "resume torn checkpoint",
        resume(&p),
        &[latest.trim(), "intact earlier"],
    ));
    let p = fresh("garbage_checkpoint");
    std::fs::write(ck_of(&p), "garbage").unwrap();
    cases.push(case(
        "resume garbage checkpoint",
        resume(&p),
        &["intact earlier"],
    ));
    let p = fresh("no_checkpoints");
    std::fs::remove_dir_all(p.join("checkpoints")).unwrap();
    cases.push(case(
        "resume without checkpoints",
        resume(&p),
        &["checkpoints"],
    ));
    let p = fresh("no_run_ron");
    std::fs::remove_file(p.join("run.ron")).unwrap();
    cases.push(case("resume without run.ron", resume(&p), &["run.ron"]));
    let p = fresh("garbage_run_ron");
    std::fs::write(p.join("run.ron"), "(((").unwrap();
    cases.push(case("resume garbage run.ron", resume(&p), &["run.ron"]));
    let p = fresh("other_network");
    let record = std::fs::read_to_string(p.join("run.ron")).unwrap();
    std::fs::write(p.join("run.ron"), record.replacen("size: 8", "size: 9", 1)).unwrap();
    cases.push(case(
        "resume checkpoint of another network",
        resume(&p),
        &["checkpoints/iter_", "run.ron"],
    ));
    cases.push(case(
        "resume missing folder",
        resume(&dir.join("runs/nothing")),
        &["runs/nothing"],
    ));
    let p = fresh("no_weights");
    std::fs::remove_file(p.join("weights.safetensors")).unwrap();
    std::fs::remove_file(p.join("summary.json")).unwrap();
    cases.push(case(
        "sample without weights",
        os(&["sample", &rel(&p)]),
        &["weights.safetensors", "not finished"],
    ));
    let p = fresh("garbage_weights");
    std::fs::write(p.join("weights.safetensors"), "garbage").unwrap();
    cases.push(case(
        "sample garbage weights",
        os(&["sample", &rel(&p)]),
        &["weights.safetensors"],
    ));
    let p = fresh("no_best");
    cases.push(case(
        "sample --best without best",
        os(&["sample", &rel(&p), "--best"]),
        &["best.safetensors"],
    ));

    // weights given as initial_weights
    let tensors = load_weights(&good.join("weights.safetensors")).unwrap();
    let weights_case =
        |name: &str, tensors: &[seqlab::nn::network::NamedTensor<f32>], expect: &[&str]| {
            let file = format!("{name}.safetensors");
            save_weights(&dir.join(&file), tensors, &[]).unwrap();
            let text = mutate(
                "evaluation: (every: 2),",
                &format!("evaluation: (every: 2), initial_weights: \"{file}\","),
            );
            let mut e = vec![file.as_str()];
            e.extend_from_slice(expect);
            experiment_case(dir, &format!("init_{name}"), text.as_bytes(), &e)
        };
    let mut nan = tensors.clone();
    nan[0].data[3] = f32::NAN;
    cases.push(weights_case("nan", &nan, &["NaN", &nan[0].name]));
    let mut inf = tensors.clone();
    inf[1].data[0] = f32::INFINITY;
    cases.push(weights_case("inf", &inf, &["inf", &inf[1].name]));
    let mut extra = tensors.clone();
    extra.push(seqlab::nn::network::NamedTensor {
        name: "layers.7.weight".into(),
        shape: vec![1],
        data: vec![0.0],
    });
    cases.push(weights_case(
        "extra",
        &extra,
        &["layers.7.weight", "this network's tensors"],
    ));
    let missing: Vec<_> = tensors[1..].to_vec();
    cases.push(weights_case("missing", &missing, &["missing"]));
    let mut shape = tensors.clone();
    shape[0].shape = vec![shape[0].data.len()];
    cases.push(weights_case("shape", &shape, &["shape"]));
    let mut renamed = tensors.clone();
    renamed[0].name = "weight_ih_l0_typo".into();
    cases.push(weights_case("renamed", &renamed, &["weight_ih_l0_typo"]));
    cases.push(weights_case("none", &[], &["missing"]));
    let ck = ck_of(&good);
    std::fs::copy(&ck, dir.join("ck.safetensors")).unwrap();
    let text = mutate(
        "evaluation: (every: 2),",
        "evaluation: (every: 2), initial_weights: \"ck.safetensors\",",
    );
    cases.push(experiment_case(
        dir,
        "init_checkpoint",
        text.as_bytes(),
        &["ck.safetensors", "checkpoint", "--resume"],
    ));
    for (name, bytes) in [
        ("garbage", b"not weights at all".to_vec()),
        ("empty", Vec::new()),
        (
            "torn",
            std::fs::read(good.join("weights.safetensors")).unwrap()[..100].to_vec(),
        ),
        ("huge_header", {
            let mut b = (u64::MAX / 2).to_le_bytes().to_vec();
            b.extend_from_slice(b"{}");
            b
        }),
    ] {
        let file = format!("w_{name}.safetensors");
        std::fs::write(dir.join(&file), bytes).unwrap();
        let text = mutate(
            "evaluation: (every: 2),",
            &format!("evaluation: (every: 2), initial_weights: \"{file}\","),
        );
        cases.push(experiment_case(
            dir,
            &format!("init_{name}"),
            text.as_bytes(),
            &[&file],
        ));
    }
    cases
}

fn ck_of(run: &Path) -> PathBuf {
    let latest = std::fs::read_to_string(run.join("checkpoints/latest")).unwrap();
    run.join("checkpoints").join(latest.trim())
}

#[test]
fn no_bad_input_panics_hangs_or_goes_unexplained() {
    let dir = common::temp_dir("bad-inputs");
    let mut cases = build_cases(&dir);
    // the good run the run-folder cases damage copies of
    let made = run(
        &case(
            "good run",
            os(&["--run", "ok.ron", "--out", "runs/good", "--quiet"]),
            &[],
        ),
        &dir,
        9999,
    );
    assert_eq!(made.code, Some(0), "{}", made.stderr);
    cases.extend(run_folder_cases(&dir));
    assert!(cases.len() >= 200, "only {} cases", cases.len());

    let failures = std::sync::Mutex::new(Vec::<String>::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slowest = std::sync::Mutex::new((0.0f64, String::new()));
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(c) = cases.get(i) else { break };
                let o = run(c, &dir, i);
                let mut problems = Vec::new();
                if o.timed_out {
                    problems.push(format!("did not end within {TIME_LIMIT:?}"));
                }
                if o.code == Some(101) || o.stderr.contains("panicked") {
                    problems.push("panicked".into());
                }
                if o.code.is_none() && !o.timed_out {
                    problems.push("killed by a signal".into());
                }
                if o.code == Some(0) {
                    problems.push("exited 0".into());
                }
                for e in &c.expect {
                    if !o.stderr.contains(e.as_str()) {
                        problems.push(format!("message does not name {e:?}"));
                    }
                }
                for line in o.stderr.lines() {
                    if let Some(clause) = repeated_clause(line) {
                        problems.push(format!("says {clause:?} twice"));
                    }
                }
                {
                    let mut sl = slowest.lock().unwrap();
                    if o.seconds > sl.0 {
                        *sl = (o.seconds, c.name.clone());
                    }
                }
                if !problems.is_empty() {
                    failures.lock().unwrap().push(format!(
                        "{} ({:?}): {}\n    stderr: {}",
                        c.name,
                        c.args,
                        problems.join(", "),
                        o.stderr.trim()
                    ));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    let (secs, name) = slowest.into_inner().unwrap();
    eprintln!(
        "{} bad inputs, {} failed; slowest {secs:.1} s ({name})",
        cases.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_repeated_clause_is_detected() {
    assert_eq!(
        repeated_clause(
            "could not read x: No such file or directory (os error 2); check the path: No such file or directory (os error 2)"
        ),
        Some("No such file or directory (os error 2)".into())
    );
    assert_eq!(
        repeated_clause("x.csv:2:2: expected a number, found \"x\""),
        None
    );
}
