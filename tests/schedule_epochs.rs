//! Step and cosine schedules take their period in iterations or in epochs (passes over
//! the training data), converted with the data's batches per epoch.

use std::path::Path;

use seqlab::experiment::file::from_ron_str;
use seqlab::experiment::schema::ScheduleSpec;
use seqlab::nn::updater::Schedule;
use seqlab::train::Trainer;

fn schedule(text: &str) -> Result<ScheduleSpec, String> {
    from_ron_str(
        &format!("(training: (schedule: {text}))"),
        Path::new("exp.ron"),
    )
    .map(|e| e.training.schedule)
    .map_err(|e| e.to_string())
}

#[test]
fn periods_in_epochs_become_iterations_of_the_data() {
    let cos = schedule("Cosine(period_epochs: 2.5, min_lr: 0.001)").unwrap();
    assert_eq!(
        cos.to_nn(40),
        Schedule::Cosine {
            period: 100,
            min_lr: 0.001
        }
    );
    let step = schedule("Step(every_epochs: 3, gamma: 0.5)").unwrap();
    assert_eq!(
        step.to_nn(17),
        Schedule::Step {
            every: 51,
            gamma: 0.5
        }
    );
    // a fraction of an epoch rounds, never to 0
    let step = schedule("Step(every_epochs: 0.01, gamma: 0.5)").unwrap();
    assert_eq!(
        step.to_nn(17),
        Schedule::Step {
            every: 1,
            gamma: 0.5
        }
    );
    // inside a warm-up too; iterations stay iterations
    let warm = schedule("Warmup(steps: 5, then: Cosine(period_epochs: 1, min_lr: 0.0))").unwrap();
    assert_eq!(
        warm.to_nn(30),
        Schedule::Warmup {
            steps: 5,
            then: Box::new(Schedule::Cosine {
                period: 30,
                min_lr: 0.0
            })
        }
    );
    let it = schedule("Cosine(period: 2000, min_lr: 0.0001)").unwrap();
    assert_eq!(
        it.to_nn(30),
        Schedule::Cosine {
            period: 2000,
            min_lr: 0.0001
        }
    );
}

#[test]
fn a_period_must_be_given_exactly_once() {
    let msg = schedule("Cosine(period: 10, period_epochs: 2, min_lr: 0.0)").unwrap_err();
    assert!(
        msg.contains("training.schedule.Cosine.period_epochs: is given together with period"),
        "{msg}"
    );
    let msg = schedule("Step(gamma: 0.5)").unwrap_err();
    assert!(
        msg.contains("training.schedule.Step.every: is missing"),
        "{msg}"
    );
    assert!(msg.contains("every_epochs"), "{msg}");
    let msg = schedule("Step(every_epochs: 0, gamma: 0.5)").unwrap_err();
    assert!(
        msg.contains("training.schedule.Step.every_epochs: is 0"),
        "{msg}"
    );
    let msg = schedule("Cosine(period: 0, min_lr: 0.0)").unwrap_err();
    assert!(
        msg.contains("training.schedule.Cosine.period: is 0"),
        "{msg}"
    );
}

/// A cosine over one epoch reaches `min_lr` at the end of the first pass over the data.
#[test]
fn trainer_runs_a_cosine_of_one_epoch_over_one_pass() {
    let exp = from_ron_str(
        "(data: Sentence(), model: (layers: [(kind: Gru, size: 8)]), training: (updater: Sgd(lr: 0.1), \
         schedule: Cosine(period_epochs: 1, min_lr: 0.01), batch_size: 4, sequence_length: 10, epochs: 2))",
        Path::new("exp.ron"),
    )
    .unwrap();
    let mut trainer = Trainer::new(exp, &mut |_| {}).unwrap();
    let per_epoch = trainer.batches_per_epoch() as u64;
    assert!(per_epoch >= 2, "{per_epoch}");
    let mut lrs = Vec::new();
    while !trainer.is_complete() {
        lrs.push(trainer.step().unwrap().lr);
    }
    assert_eq!(lrs.len() as u64, 2 * per_epoch);
    assert!((lrs[0] - 0.1).abs() < 1e-12, "{lrs:?}");
    assert!(lrs[per_epoch as usize - 1] > 0.01, "{lrs:?}");
    assert!((lrs[per_epoch as usize] - 0.01).abs() < 1e-12, "{lrs:?}");
}
