//! The sweep section: reading it (in an experiment and as a separate sweep file), its
//! static checks, and its expansion into trials (grid counts, seeded random draws,
//! log-uniform ranges, overrides validated with the field path named).

mod common;

use std::path::Path;

use seqlab::experiment::file::{from_ron_str, load, to_ron_string};
use seqlab::experiment::sweep::{self, expand, Goal, SweepSpec};

const BASE: &str = r#"(
    name: "echo",
    data: Echo(echo: 3, length: 2000, validation_length: 500, seed: 0),
    model: (layers: [(kind: Rnn, size: 4)], output: (loss: CrossEntropy)),
    training: (updater: AdaGrad(lr: 0.3), batch_size: 5, sequence_length: 15, iterations: 10),
"#;

fn experiment_with(sweep: &str) -> Result<seqlab::experiment::Experiment, String> {
    let text = format!("{BASE}    sweep: {sweep},\n)");
    from_ron_str(&text, Path::new("exp.ron")).map_err(|e| e.to_string())
}

fn trials_of(sweep: &str) -> Result<Vec<sweep::Trial>, String> {
    let mut exp = experiment_with(sweep)?;
    let spec = exp.sweep.take().expect("the section was read");
    expand(&exp, &spec, Path::new("exp.ron")).map_err(|e| e.to_string())
}

#[test]
fn grid_gives_every_combination_with_the_first_field_slowest() {
    let trials = trials_of(
        r#"(grid: {"training.updater.AdaGrad.lr": [0.1, 0.3, 1.0], "model.layers[0].size": [4, 8]})"#,
    )
    .unwrap();
    assert_eq!(trials.len(), 6);
    let first: Vec<_> = trials.iter().map(|t| t.settings[0].1.as_str()).collect();
    assert_eq!(first, ["0.1", "0.1", "0.3", "0.3", "1.0", "1.0"]);
    let second: Vec<_> = trials.iter().map(|t| t.settings[1].1.as_str()).collect();
    assert_eq!(second, ["4", "8", "4", "8", "4", "8"]);
    assert_eq!(trials[5].name(), "005");
    assert_eq!(
        trials[3].set_args(),
        ["training.updater.AdaGrad.lr=0.3", "model.layers[0].size=8"]
    );
}

#[test]
fn seeds_repeat_every_trial_with_consecutive_seeds() {
    let trials = trials_of(r#"(grid: {"model.layers[0].size": [4, 8]}, seeds: 3)"#).unwrap();
    assert_eq!(trials.len(), 6);
    let seeds: Vec<_> = trials
        .iter()
        .map(|t| {
            let (p, v) = t.settings.last().unwrap();
            assert_eq!(p, "training.seed");
            v.parse::<u64>().unwrap()
        })
        .collect();
    // the experiment's default seed, then +1, +2, for each grid point
    assert_eq!(seeds, [12345, 12346, 12347, 12345, 12346, 12347]);
}

#[test]
fn random_draws_are_reproducible_by_seed_and_stay_in_their_ranges() {
    let spec = |seed: u64| {
        format!(
            r#"(random: (trials: 40, seed: {seed}, fields: {{
                "training.updater.AdaGrad.lr": LogUniform(1e-4, 1e-1),
                "model.layers[0].size": IntUniform(2, 9),
                "data.Echo.echo": Choice([1, 2, 3]),
            }}))"#
        )
    };
    let a = trials_of(&spec(7)).unwrap();
    let b = trials_of(&spec(7)).unwrap();
    let c = trials_of(&spec(8)).unwrap();
    assert_eq!(a.len(), 40);
    assert_eq!(a, b, "same seed, same trials");
    assert_ne!(a, c, "another seed, other trials");
    let lrs: Vec<f64> = a.iter().map(|t| t.settings[0].1.parse().unwrap()).collect();
    assert!(lrs.iter().all(|&lr| (1e-4..=1e-1).contains(&lr)), "{lrs:?}");
    // log-uniform: about as many draws in each decade (10 expected in each of 3)
    for decade in [(1e-4, 1e-3), (1e-3, 1e-2), (1e-2, 1e-1)] {
        let n = lrs
            .iter()
            .filter(|&&v| v >= decade.0 && v < decade.1)
            .count();
        assert!(
            (4..=24).contains(&n),
            "{n} of 40 draws in {decade:?}: {lrs:?}"
        );
    }
    let sizes: Vec<i64> = a.iter().map(|t| t.settings[1].1.parse().unwrap()).collect();
    assert!(sizes.iter().all(|s| (2..=9).contains(s)), "{sizes:?}");
    assert!(
        sizes.contains(&2) && sizes.contains(&9),
        "both ends reachable: {sizes:?}"
    );
    let echoes: Vec<&str> = a.iter().map(|t| t.settings[2].1.as_str()).collect();
    assert!(echoes.iter().all(|e| ["1", "2", "3"].contains(e)));
}

#[test]
fn random_draws_combine_with_every_grid_point() {
    let trials = trials_of(
        r#"(grid: {"model.layers[0].size": [4, 8]},
            random: (trials: 3, seed: 1, fields: {"training.updater.AdaGrad.lr": Uniform(0.1, 0.5)}))"#,
    )
    .unwrap();
    assert_eq!(trials.len(), 6);
    // the same three draws for each grid point
    let lr = |i: usize| trials[i].settings[1].1.clone();
    assert_eq!((lr(0), lr(1), lr(2)), (lr(3), lr(4), lr(5)));
}

#[test]
fn an_unknown_field_path_is_refused_naming_the_sweep_field_and_the_trial() {
    let err = trials_of(r#"(grid: {"training.updater.AdaGrad.lrr": [0.1]})"#).unwrap_err();
    assert!(
        err.contains(r#"sweep.grid."training.updater.AdaGrad.lrr""#),
        "{err}"
    );
    assert!(err.contains("trial 000"), "{err}");
    assert!(err.contains("lrr"), "{err}");
}

#[test]
fn a_value_the_file_would_refuse_is_refused_with_its_path() {
    // a negative learning rate in the second trial
    let err = trials_of(r#"(grid: {"training.updater.AdaGrad.lr": [0.1, -0.5]})"#).unwrap_err();
    assert!(
        err.contains(r#"sweep.grid."training.updater.AdaGrad.lr""#),
        "{err}"
    );
    assert!(err.contains("trial 001"), "{err}");
    assert!(err.contains("-0.5"), "{err}");
    let err =
        trials_of(r#"(random: (trials: 2, fields: {"model.layers[0].size": IntUniform(-3, -1)}))"#)
            .unwrap_err();
    assert!(
        err.contains(r#"sweep.random.fields."model.layers[0].size""#),
        "{err}"
    );
}

#[test]
fn static_problems_name_their_sweep_field() {
    let cases = [
        (
            r#"(grid: {"model.layers[0].size": []})"#,
            r#"sweep.grid."model.layers[0].size""#,
        ),
        (
            r#"(seeds: 0, grid: {"model.layers[0].size": [4]})"#,
            "sweep.seeds",
        ),
        (
            r#"(random: (trials: 0, fields: {"training.updater.AdaGrad.lr": Uniform(0.1, 0.2)}))"#,
            "sweep.random.trials",
        ),
        (
            r#"(random: (trials: 1000000000, fields: {"training.updater.AdaGrad.lr": Uniform(0.1, 0.2)}))"#,
            "sweep.random.trials: is 1000000000; a sweep runs at most 100000 trials",
        ),
        (
            r#"(random: (fields: {"training.updater.AdaGrad.lr": LogUniform(0.0, 0.2)}))"#,
            r#"sweep.random.fields."training.updater.AdaGrad.lr""#,
        ),
        (
            r#"(grid: {"model.layers[0].size": [4]}, objective: (metric: "acc"))"#,
            "sweep.objective.metric",
        ),
        ("()", "sweep: sweeps nothing"),
    ];
    for (sweep, field) in cases {
        let err = experiment_with(sweep).unwrap_err();
        assert!(err.contains(field), "{sweep}: {err}");
    }
}

#[test]
fn the_objective_goal_follows_the_metric_unless_given() {
    let goal = |s: &str| experiment_with(s).unwrap().sweep.unwrap().objective.goal();
    let grid = r#"grid: {"model.layers[0].size": [4]}"#;
    assert_eq!(goal(&format!("({grid})")), Goal::Min);
    assert_eq!(
        goal(&format!(r#"({grid}, objective: (metric: "accuracy"))"#)),
        Goal::Max
    );
    assert_eq!(
        goal(&format!(
            r#"({grid}, objective: (metric: "accuracy", goal: Min))"#
        )),
        Goal::Min
    );
}

#[test]
fn the_section_round_trips_and_an_experiment_without_one_writes_none() {
    let exp = experiment_with(
        r#"(grid: {"training.updater.AdaGrad.lr": [0.1, 0.3], "training.updater": ["Sgd(lr: 0.1)"]},
            random: (trials: 2, seed: 3, fields: {"model.layers[0].size": Choice([4, 8])}),
            seeds: 2, objective: (metric: "accuracy"), median_stopping: (min_trials: 2))"#,
    )
    .unwrap();
    let text = to_ron_string(&exp);
    let back = from_ron_str(&text, Path::new("exp.ron")).unwrap();
    assert_eq!(back.sweep, exp.sweep);
    let plain = from_ron_str(&format!("{BASE})"), Path::new("exp.ron")).unwrap();
    assert_eq!(plain.sweep, None);
    assert!(!to_ron_string(&plain).contains("sweep"));
}

#[test]
fn a_sweep_file_names_its_experiment_relative_to_itself() {
    let dir = common::temp_dir("sweep_file");
    std::fs::write(dir.join("exp.ron"), format!("{BASE})")).unwrap();
    std::fs::write(
        dir.join("lr.sweep.ron"),
        r#"(experiment: "exp.ron", grid: {"training.updater.AdaGrad.lr": [0.1, 0.3]})"#,
    )
    .unwrap();
    let (file, exp, spec) = sweep::load(&dir.join("lr.sweep.ron")).unwrap();
    assert_eq!(file, dir.join("exp.ron"));
    assert_eq!(exp, load(&dir.join("exp.ron")).unwrap());
    assert_eq!(expand(&exp, &spec, &file).unwrap().len(), 2);
    // an experiment without a section says how to add one
    let err = sweep::load(&dir.join("exp.ron")).unwrap_err().to_string();
    assert!(err.contains("sweep: is missing"), "{err}");
    let _ = SweepSpec::default();
}
