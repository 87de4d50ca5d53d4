//! `seqlab repl` as a user drives it with piped scripts: building a model from nothing,
//! loading data, training, waiting, evaluating, sampling, stateful stepping, notes, and
//! the notebook file that reopens with its transcript, states and runs.

mod common;

use common::temp_dir;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs `seqlab repl ARGS` in `dir` with `script` on standard input.
fn repl(dir: &Path, args: &[&str], script: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_seqlab"))
        .arg("repl")
        .args(args)
        .current_dir(dir)
        .env("XDG_STATE_HOME", dir.join(".state"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("seqlab runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The lines a command printed: from its echo `> CMD` up to the next echo.
fn block<'a>(out: &'a str, cmd: &str, nth: usize) -> &'a str {
    let marker = format!("> {cmd}\n");
    let start = out
        .match_indices(&marker)
        .nth(nth)
        .unwrap_or_else(|| panic!("`{cmd}` (#{nth}) not in the output:\n{out}"))
        .0
        + marker.len();
    let end = out[start..]
        .find("\n> ")
        .map_or(out.len(), |e| start + e + 1);
    &out[start..end]
}

fn write_corpus(dir: &Path) {
    let line = "the cat sat on the mat and the dog sat on the log. ";
    std::fs::write(dir.join("corpus.txt"), line.repeat(40)).unwrap();
}

const BUILD_AND_TRAIN: &str = r#"
# a model built from nothing
set name "repl test"
load data corpus.txt
set model.layers[0].size 16
add gru 8
set training.batch_size 4
set training.sequence_length 16
set training.iterations 30
set training.threads 1
set evaluation.every 15
show model
analyze
train
wait
runs
eval
sample 20 --prime "th" --seed 1 --greedy
step "the "
state save warm
state show
state reset
step "the "
state reset
step "th"
step "e "
note # Findings\nthe model learns *spaces* first
save notebook.ron
"#;

#[test]
fn a_script_builds_trains_evaluates_samples_and_steps() {
    let dir = temp_dir("repl-script");
    write_corpus(&dir);
    let out = repl(&dir, &[], BUILD_AND_TRAIN);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}\n{}", stdout, text(&out.stderr));

    // the model table knows its sizes from the data (vocabulary of the corpus)
    let model = block(&stdout, "show model", 0);
    assert!(model.contains("Lstm") && model.contains("Gru"), "{model}");
    assert!(model.contains("total"), "{model}");
    assert!(block(&stdout, "analyze", 0).contains("training memory"));
    // the run is recorded and listed
    assert!(
        block(&stdout, "wait", 0).contains("completed after 30 iterations"),
        "{stdout}"
    );
    let runs = block(&stdout, "runs", 0);
    assert!(runs.contains("001") && runs.contains("completed"), "{runs}");
    assert!(dir.join("untitled.runs/001/weights.safetensors").is_file());
    // eval scores the validation split with a confusion matrix
    let eval = block(&stdout, "eval", 0);
    assert!(
        eval.contains("accuracy") && eval.contains("confusion matrix"),
        "{eval}"
    );
    // greedy sampling starts with the prime
    let sample = block(&stdout, "sample 20 --prime \"th\" --seed 1 --greedy", 0);
    assert!(sample.trim_start().starts_with("th"), "{sample}");
    assert_eq!(
        sample.trim_end_matches('\n').chars().count(),
        22,
        "{sample:?}"
    );

    // stepping from a reset state repeats itself, and piece by piece equals all at once
    let first = block(&stdout, "step \"the \"", 0);
    let again = block(&stdout, "step \"the \"", 1);
    assert!(first.contains("next-character probabilities"), "{first}");
    assert_eq!(
        first, again,
        "stepping after `state reset` must repeat the first pass"
    );
    let pieces = block(&stdout, "step \"e \"", 0);
    assert_eq!(
        first.lines().skip(1).collect::<Vec<_>>(),
        pieces.lines().skip(1).collect::<Vec<_>>(),
        "\"th\" then \"e \" must give what \"the \" gives"
    );
    assert!(block(&stdout, "state show", 0).contains("‖h‖"));

    // the notebook file keeps the transcript, history, named state and run
    let saved = std::fs::read_to_string(dir.join("notebook.ron")).unwrap();
    assert!(saved.contains("version: 2"), "{saved}");
    assert!(saved.contains("notebook:"), "{saved}");
    assert!(saved.contains("name: \"warm\""), "{saved}");
    assert!(saved.contains("untitled.runs/001"), "{saved}");
    assert!(saved.contains("# Findings"), "{saved}");
}

#[test]
fn a_notebook_reopens_with_its_runs_states_and_transcript() {
    let dir = temp_dir("repl-reopen");
    write_corpus(&dir);
    let first = repl(&dir, &[], BUILD_AND_TRAIN);
    assert!(first.status.success(), "{}", text(&first.stderr));
    // a second run from the reopened notebook, then everything is still there
    let out = repl(
        &dir,
        &["notebook.ron"],
        "runs\nset training.iterations 10\ntrain\nwait\nruns\ncompare 1 2\nstate load warm\nstate show\nsave\n",
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let before = block(&stdout, "runs", 0);
    assert!(
        before.contains("001") && before.contains("completed"),
        "{before}"
    );
    let after = block(&stdout, "runs", 1);
    assert!(after.contains("001") && after.contains("002"), "{after}");
    assert!(
        dir.join("notebook.runs/002/run.ron").is_file()
            || dir.join("untitled.runs/002/run.ron").is_file()
    );
    let compare = block(&stdout, "compare 1 2", 0);
    assert!(compare.contains("training.iterations"), "{compare}");
    assert!(
        compare.contains("30") && compare.contains("10"),
        "{compare}"
    );
    assert!(block(&stdout, "state load warm", 0).contains("loaded"));
    // the transcript of both sessions is in the file
    let saved = std::fs::read_to_string(dir.join("notebook.ron")).unwrap();
    assert!(saved.contains("command: \"compare 1 2\""), "{saved}");
    assert!(
        saved.contains("command: \"load data corpus.txt\""),
        "{saved}"
    );

    // `runs` prints the same after reopening; a deleted run folder is marked missing
    let listed = repl(&dir, &["notebook.ron"], "runs\n");
    let listed_out = text(&listed.stdout);
    assert!(listed.status.success());
    std::fs::remove_dir_all(dir.join("untitled.runs/001")).unwrap();
    let missing = repl(&dir, &["notebook.ron"], "runs\n");
    let missing_out = text(&missing.stdout);
    assert!(missing.status.success(), "{}", text(&missing.stderr));
    let row = missing_out
        .lines()
        .find(|l| l.contains(" 001 "))
        .unwrap_or_else(|| panic!("{missing_out}"));
    assert!(row.contains("missing"), "{row}");
    assert!(!listed_out.contains("missing"), "{listed_out}");
}

#[test]
fn a_failing_command_stops_a_script_unless_keep_going() {
    let dir = temp_dir("repl-fail");
    let script = "set training.batch_size 0\nshow training.batch_size\nfly\nshow name\n";
    let out = repl(&dir, &[], script);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    // the first bad command stops it: nothing after it runs
    assert!(stderr.contains("training.batch_size"), "{stderr}");
    assert!(!stdout.contains("> show training.batch_size"), "{stdout}");

    let out = repl(&dir, &["--keep-going"], script);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(
        !out.status.success(),
        "a failed command still fails the script"
    );
    // an invalid set changed nothing
    assert!(
        block(&stdout, "show training.batch_size", 0).contains("training.batch_size = 1"),
        "{stdout}"
    );
    assert!(stderr.contains("unknown command `fly`"), "{stderr}");
    assert!(
        block(&stdout, "show name", 0).contains("untitled"),
        "{stdout}"
    );
    assert!(stderr.contains("2 command(s) failed"), "{stderr}");
}

/// Opening what is not an experiment file says what it is: a folder, text that is not
/// UTF-8, a missing path; a folder given as the script likewise.
#[test]
fn open_names_what_is_wrong_with_the_file() {
    let dir = temp_dir("repl-open-bad");
    std::fs::create_dir_all(dir.join("folder")).unwrap();
    std::fs::write(dir.join("latin1.ron"), b"(name: \"caf\xe9\")").unwrap();
    for (line, says) in [
        ("open folder", "is a directory, not a file"),
        ("open latin1.ron", "not UTF-8 text; save it as UTF-8"),
        ("open missing.ron", "No such file"),
    ] {
        let out = repl(&dir, &[], &format!("{line}\n"));
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{line}");
        assert!(stderr.contains(says), "{line}: {stderr}");
    }
    let out = repl(&dir, &["--script", "folder"], "");
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("folder: is a folder"), "{stderr}");
}

/// A run that diverges (or fails) fails the `wait` that waited for it, so the script stops
/// there with a failure status, as `seqlab --run` exits with one.
#[test]
fn a_run_that_diverges_fails_its_wait_and_the_script() {
    let dir = temp_dir("repl-diverge");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/echo.ron");
    std::fs::copy(&example, dir.join("echo.ron")).unwrap();
    let script = "set training.updater Sgd(lr: 1e300)\ntrain\nwait\nshow name\n";
    let out = repl(&dir, &["echo.ron"], script);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("diverged"), "{stderr}");
    assert!(stderr.contains("Lower the learning rate"), "{stderr}");
    assert!(stderr.contains("`wait` failed"), "{stderr}");
    assert!(!stdout.contains("> show name"), "{stdout}");
    // a run that cannot start (too large for the memory) names the opened file
    let out = repl(
        &dir,
        &["echo.ron"],
        "set model.layers[0].size 900000\ntrain\nwait\n",
    );
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("echo.ron: training this network needs about"),
        "{stderr}"
    );
    // a run that completes passes its wait
    let out = repl(
        &dir,
        &["echo.ron"],
        "set training.iterations 20\ntrain\nwait\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("completed after 20 iterations"));
}

#[test]
fn a_version_1_file_opens_and_saves_as_version_2_with_its_notebook() {
    let dir = temp_dir("repl-v1");
    std::fs::write(
        dir.join("old.ron"),
        "(version: 1, name: \"old\", training: (batch_size: 8))\n",
    )
    .unwrap();
    let out = repl(
        &dir,
        &["old.ron"],
        "show training.batch_size\nnote kept\nsave\n",
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("training.batch_size = 8"), "{stdout}");
    let saved = std::fs::read_to_string(dir.join("old.ron")).unwrap();
    assert!(
        saved.contains("version: 2") && saved.contains("Markdown(\"kept\")"),
        "{saved}"
    );
}

#[test]
fn saving_over_a_file_with_comments_asks_first() {
    let dir = temp_dir("repl-comments");
    let original = "// my notes about this experiment\n(name: \"c\")\n";
    std::fs::write(dir.join("c.ron"), original).unwrap();
    let out = repl(&dir, &["c.ron", "--keep-going"], "set name \"d\"\nsave\n");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("has comments"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("c.ron")).unwrap(),
        original
    );
    let out = repl(&dir, &["c.ron"], "set name \"d\"\nsave!\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::read_to_string(dir.join("c.ron"))
        .unwrap()
        .contains("name: \"d\""));
}

#[test]
fn saving_into_another_folder_rebases_relative_data_paths() {
    let dir = temp_dir("repl-rebase");
    write_corpus(&dir);
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let out = repl(
        &dir,
        &[],
        "save a.ron\nload data corpus.txt\nsave sub/b.ron\nshow data.Text.path\n",
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let saved = std::fs::read_to_string(dir.join("sub/b.ron")).unwrap();
    assert!(saved.contains("path: \"../corpus.txt\""), "{saved}");
    // the copy still finds its data
    let out = repl(&dir.join("sub"), &["b.ron"], "show data\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("vocabulary"));
}

#[test]
fn completion_offers_commands_fields_runs_and_files() {
    use seqlab::repl::Session;
    let s = Session::new();
    let (start, c) = s.complete("sa", 2);
    assert_eq!(
        (start, c),
        (0, vec!["sample".to_string(), "save".to_string()])
    );
    let line = "set training.ba";
    let (start, c) = s.complete(line, line.len());
    assert_eq!(start, 4);
    assert_eq!(c, vec!["training.batch_size".to_string()]);
    let line = "show model.layers[0].siz";
    let (_, c) = s.complete(line, line.len());
    assert_eq!(c, vec!["model.layers[0].size".to_string()]);
    let line = "align e";
    assert_eq!(
        s.complete(line, line.len()).1,
        vec!["end".to_string(), "equal".to_string()]
    );
    let dir = temp_dir("repl-complete");
    std::fs::write(dir.join("corpus.txt"), "x").unwrap();
    let line = format!("load data {}/cor", dir.display());
    let (_, c) = s.complete(&line, line.len());
    assert_eq!(c, vec![format!("{}/corpus.txt", dir.display())]);
}

#[test]
fn a_set_that_fails_validation_leaves_the_session_unchanged() {
    use seqlab::repl::{Output, Session};
    let mut s = Session::new();
    let before = s.experiment.clone();
    for bad in [
        "set training.batch_size 0",
        "set training.updater Adam(lr: -1.0)",
        "set model.layers[0].kind Cnn",
        "set model.layers[4].size 3",
        "set training.nope 3",
        "set training.updater Adam(lr: ",
        "set model.layers[0].size 1000000000000",
        "add lstm 1000000000000",
        "set training.iterations 0",
        "save /",
    ] {
        let cell = s.execute(bad);
        assert!(!cell.ok, "{bad}");
        let Output::Error(e) = &cell.outputs[0] else {
            panic!("{bad}: {:?}", cell.outputs)
        };
        assert!(
            e.contains("training")
                || e.contains("model")
                || e.contains("units")
                || e.contains("is a folder"),
            "{bad}: {e}"
        );
        let mut now = s.experiment.clone();
        now.notebook = before.notebook.clone();
        assert_eq!(now, before, "{bad} changed the experiment");
    }
    let cell = s.execute("set training.updater.Adam.lr 0.01");
    assert!(cell.ok, "{:?}", cell.outputs);
    assert_eq!(
        seqlab::experiment::fields::get(&s.experiment, "training.updater.lr").unwrap(),
        "0.01"
    );
}

#[test]
fn a_notebook_replays_its_transcript_from_where_it_started() {
    let dir = temp_dir("repl-replay");
    write_corpus(&dir);
    let first = repl(&dir, &[], BUILD_AND_TRAIN);
    let first_out = text(&first.stdout);
    assert!(
        first.status.success(),
        "{first_out}\n{}",
        text(&first.stderr)
    );
    let saved = std::fs::read(dir.join("notebook.ron")).unwrap();

    let again = repl(&dir, &["notebook.ron", "--replay"], "");
    let again_out = text(&again.stdout);
    assert!(
        again.status.success(),
        "{again_out}\n{}",
        text(&again.stderr)
    );
    // every command once, from the start: the layer added by `add` is added once
    assert_eq!(again_out.matches("> add gru 8\n").count(), 1, "{again_out}");
    assert!(
        !again_out.contains("> save"),
        "a replay never saves: {again_out}"
    );
    assert_eq!(
        block(&first_out, "show model", 0),
        block(&again_out, "show model", 0)
    );
    // the same seeded single-thread training gives the same greedy sample and steps
    let sample = "sample 20 --prime \"th\" --seed 1 --greedy";
    assert_eq!(block(&first_out, sample, 0), block(&again_out, sample, 0));
    assert_eq!(
        block(&first_out, "step \"the \"", 0),
        block(&again_out, "step \"the \"", 0)
    );
    // the file is as it was
    assert_eq!(std::fs::read(dir.join("notebook.ron")).unwrap(), saved);
}

#[test]
fn eval_test_scores_a_text_corpus_held_out_part() {
    let dir = temp_dir("repl-text-test");
    write_corpus(&dir);
    let script = "load data corpus.txt
set data.Text.test 0.2
set model.layers[0].size 16
set training.batch_size 4
set training.sequence_length 16
set training.iterations 10
set training.threads 1
train
wait
eval test
eval validation
";
    let out = repl(&dir, &[], script);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let test = block(&stdout, "eval test", 0);
    assert!(test.contains("test split"), "{test}");
    // 20% of the 2080-character corpus: 416 characters, read as 4 streams of 16 steps
    let positions = |b: &str| -> usize {
        b.lines()
            .find(|l| l.trim_start().starts_with("positions"))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no positions in {b}"))
    };
    let n = positions(test);
    assert!((320..=416).contains(&n), "{test}");
    let validation = block(&stdout, "eval validation", 0);
    assert!(validation.contains("validation split"), "{validation}");
    assert_ne!(
        positions(validation),
        n,
        "test and validation are different parts"
    );
    // the run scored it once at the end as well
    let summary = std::fs::read_to_string(dir.join("untitled.runs/001/summary.json")).unwrap();
    assert!(summary.contains("\"test\""), "{summary}");
}

/// Ctrl-C while a script waits for a run stops the run after its current iteration: the
/// run writes its checkpoint and summary (so `--resume` continues it) and the script ends
/// with 130. (It used to kill the REPL and leave a run that could not be resumed.)
#[test]
fn ctrl_c_during_wait_stops_the_run_resumably() {
    let dir = temp_dir("repl-ctrlc");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/echo.ron");
    std::fs::copy(&example, dir.join("echo.ron")).unwrap();
    std::fs::write(
        dir.join("w.txt"),
        "set model.layers[0].size 64\ntrain 2000000 iterations\nwait\nshow name\n",
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_seqlab"))
        .args(["repl", "echo.ron", "--script", "w.txt"])
        .current_dir(&dir)
        .env("XDG_STATE_HOME", dir.join(".state"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let metrics = dir.join("echo.runs/001/metrics.csv");
    let start = std::time::Instant::now();
    while std::fs::read_to_string(&metrics).map_or(0, |t| t.lines().count()) < 50 {
        assert!(start.elapsed().as_secs() < 60, "the run starts");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted at line 3"), "{stderr}");
    assert!(!text(&out.stdout).contains("> show name"));
    let run = dir.join("echo.runs/001");
    assert!(run.join("summary.json").is_file(), "{stderr}");
    assert!(
        std::fs::read_dir(run.join("checkpoints")).unwrap().count() > 0,
        "a checkpoint to resume from"
    );
    let resumed = Command::new(env!("CARGO_BIN_EXE_seqlab"))
        .args([
            "--run",
            "--resume",
            "echo.runs/001",
            "--iterations",
            "3",
            "--quiet",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    // resumable: it continues (here past the 3 asked for, so it says it already finished)
    let said = format!("{}{}", text(&resumed.stdout), text(&resumed.stderr));
    assert!(!said.contains("no intact checkpoint"), "{said}");
}

/// `export` never writes over what the notebook needs (its file, its data, its run
/// folders), and keeps an existing file unless `export!` replaces it.
#[test]
fn export_never_overwrites_the_notebook_its_data_or_its_runs() {
    let dir = temp_dir("repl-export");
    write_corpus(&dir);
    let script = "save x.ron\nload data corpus.txt\nset training.iterations 3\ntrain\nwait\n\
                  export 001 x.ron\nexport 001 corpus.txt\nexport 001 x.runs/001/metrics.csv\n\
                  export 001 out.csv\nexport 001 out.csv\nexport! 001 out.csv\nexport 001\nexport 001\n";
    let out = repl(&dir, &["--keep-going"], script);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("is the notebook's own file"), "{stderr}");
    assert!(
        stderr.contains("is a file of the experiment's data"),
        "{stderr}"
    );
    assert!(stderr.contains("inside the run folder"), "{stderr}");
    assert!(
        stderr.contains("out.csv exists; `export! RUN FILE` replaces it"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("error:").count(), 4, "{stderr}");
    // the notebook, the corpus and the run's log are as they were
    let notebook = std::fs::read_to_string(dir.join("x.ron")).unwrap();
    assert!(notebook.contains("notebook"), "{notebook}");
    let corpus = std::fs::read_to_string(dir.join("corpus.txt")).unwrap();
    assert!(corpus.starts_with("the cat sat"));
    let log = std::fs::read_to_string(dir.join("x.runs/001/metrics.csv")).unwrap();
    assert!(
        !log.contains("validation_score"),
        "the run's own log is untouched"
    );
    // the exports that were allowed wrote their files
    assert!(std::fs::read_to_string(dir.join("out.csv"))
        .unwrap()
        .contains("validation_score"));
    assert!(dir.join("x-run001-metrics.csv").is_file(), "{stdout}");
}

/// A notebook made in the window has `train` with no `wait` after it (the window shows
/// the run live): a replay lets each run train to its end, as the original did.
#[test]
fn a_replayed_run_trains_to_its_end_without_a_wait_in_the_transcript() {
    let dir = temp_dir("repl-replay-train");
    write_corpus(&dir);
    // the first session's run is stopped when its input ends; its transcript has no wait
    let first = repl(
        &dir,
        &[],
        "save n.ron\nload data corpus.txt\nset training.iterations 12\ntrain\nsave\n",
    );
    assert!(first.status.success(), "{}", text(&first.stderr));
    let again = repl(&dir, &["n.ron", "--replay"], "");
    let stderr = text(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert!(!stderr.contains("stopping it"), "{stderr}");
    let runs: Vec<_> = std::fs::read_dir(dir.join("n.runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let replayed = runs
        .iter()
        .map(|r| std::fs::read_to_string(r.join("summary.json")).unwrap_or_default())
        .find(|s| s.contains("\"completed\""));
    let replayed = replayed.unwrap_or_else(|| panic!("a completed run among {runs:?}"));
    assert!(replayed.contains("\"iterations\": 12"), "{replayed}");
}

/// The command table is the one place a command is defined: every row's name and
/// aliases parse to that row, `help NAME` prints its usage, Tab offers every name, and
/// a line no row claims names the nearest command.
#[test]
fn every_command_is_one_row_that_parse_help_and_tab_read() {
    use seqlab::repl::session::table::{commands, parse_row};
    use seqlab::repl::Session;
    let mut s = Session::new();
    let names: Vec<&str> = commands().map(|r| r.name).collect();
    assert!(names.len() >= 30, "{names:?}");
    let mut seen = std::collections::HashSet::new();
    for row in commands() {
        assert!(seen.insert(row.name), "{} has two rows", row.name);
        for word in std::iter::once(row.name).chain(row.aliases.iter().copied()) {
            // the row is found whatever its arguments (they may be wrong: then the
            // error names its usage)
            match parse_row(word) {
                Ok((found, _)) => assert_eq!(found.name, row.name, "{word}"),
                Err(e) => assert!(
                    e.contains(row.usage.split(' ').next().unwrap()),
                    "{word}: {e}"
                ),
            }
        }
        let help = s.execute(&format!("help {}", row.name));
        assert!(help.ok, "help {}: {:?}", row.name, help.outputs);
        assert!(
            format!("{:?}", help.outputs).contains(row.usage.split(' ').next().unwrap()),
            "help {} shows its usage: {:?}",
            row.name,
            help.outputs
        );
    }
    let (_, offered) = s.complete("", 0);
    for name in &names {
        assert!(
            offered.iter().any(|o| o == name),
            "Tab offers {name}: {offered:?}"
        );
    }
    let typo = s.execute("analyse_this");
    assert!(!typo.ok);
}

/// `save FILE` never writes over the experiment's own data: the corpus stays as it is.
#[test]
fn save_never_replaces_the_data() {
    use seqlab::repl::Session;
    let dir = temp_dir("repl-save-data");
    let corpus = dir.join("corpus.txt");
    std::fs::write(&corpus, "hello world, hello seqlab. ".repeat(20)).unwrap();
    let before = std::fs::read_to_string(&corpus).unwrap();
    let mut s = Session::new();
    assert!(s.execute(&format!("load data {}", corpus.display())).ok);
    let cell = s.execute(&format!("save {}", corpus.display()));
    assert!(!cell.ok, "{:?}", cell.outputs);
    let said = format!("{:?}", cell.outputs);
    assert!(said.contains("a file of the experiment's data"), "{said}");
    assert_eq!(std::fs::read_to_string(&corpus).unwrap(), before);
    assert!(
        s.execute(&format!("save {}", dir.join("n.ron").display()))
            .ok
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Asking about a sweep that was never started says so and how to start one; `sample 0`
/// asks for at least one character.
#[test]
fn no_sweep_yet_and_sample_zero_say_what_to_do() {
    use seqlab::repl::Session;
    let dir = temp_dir("repl-no-sweep");
    let mut s = Session::new();
    assert!(
        s.execute(&format!("save {}", dir.join("e.ron").display()))
            .ok
    );
    for line in ["sweep status", "sweep wait", "sweep cancel"] {
        let cell = s.execute(line);
        assert!(!cell.ok, "{line}");
        let said = format!("{:?}", cell.outputs);
        assert!(
            said.contains("none has been started") && said.contains("`sweep` starts one"),
            "{line}: {said}"
        );
    }
    let cell = s.execute("sample 0");
    assert!(!cell.ok);
    assert!(format!("{:?}", cell.outputs).contains("at least 1 character"));
    let _ = std::fs::remove_dir_all(&dir);
}
