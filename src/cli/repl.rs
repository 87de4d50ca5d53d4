//! `seqlab repl [FILE.ron]`: the session's command language in a terminal, with line
//! editing, history kept across sessions and tab completion (rustyline), or run as a
//! script (`--script FILE`, or commands piped on standard input).

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use rustyline::completion::Completer;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Editor, Helper};

use crate::repl::render::render;
use crate::repl::{Cell, Session};
use crate::train::Event;

/// Options of `seqlab repl`.
#[derive(clap::Args, Debug)]
pub struct ReplArgs {
    /// The experiment (notebook) file to open.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Run the commands in this file (one per line; `#` starts a comment line), then exit.
    /// Commands piped on standard input run the same way.
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
    /// In a script, go on after a failing command (the exit code is still 1).
    #[arg(long)]
    pub keep_going: bool,
    /// Run the notebook's transcript again, from the experiment as it was before its
    /// first cell, and exit. `save`, `open` and `new` are left out, so the file is not
    /// written; the runs it starts go to the notebook's runs folder.
    #[arg(long, requires = "file", conflicts_with = "script")]
    pub replay: bool,
}

/// Runs the REPL; the exit code is 1 when a scripted command failed.
pub fn run(args: &ReplArgs) -> anyhow::Result<ExitCode> {
    let session = match &args.file {
        Some(f) => Session::open(f).map_err(anyhow::Error::msg)?,
        None => Session::new(),
    };
    // what `open` would say of the file's problems, said before the first prompt
    if !session.load_problems().is_empty() {
        eprintln!(
            "{}: {} problem(s); fix them with `set` before training:",
            args.file.as_deref().unwrap_or(Path::new("")).display(),
            session.load_problems().len()
        );
        for p in session.load_problems() {
            eprintln!("  {p}");
        }
    }
    // Ctrl-C: a run being waited for stops after its current iteration (it stays
    // resumable) and a script stops; a second Ctrl-C quits at once. At the interactive
    // prompt the line editor reads Ctrl-C itself.
    let flag = session.interrupt_handle();
    let _ = ctrlc::set_handler(move || {
        use crate::repl::session::{INTERRUPT_NONE, INTERRUPT_PENDING};
        use std::sync::atomic::Ordering;
        match flag.compare_exchange(
            INTERRUPT_NONE,
            INTERRUPT_PENDING,
            Ordering::SeqCst,
            Ordering::SeqCst,
        ) {
            Ok(_) => eprintln!(
                "\nCtrl-C: stopping (a run after its current iteration, so it stays \
                 resumable); press it again to quit at once"
            ),
            Err(_) => super::exit_now(130),
        }
    });
    if args.replay {
        let mut session = session;
        let (lines, recorded) = session.begin_replay();
        if !recorded {
            eprintln!("seqlab repl: this notebook does not record how its experiment was before the first command (it was written by an older seqlab); replaying from a new experiment");
        }
        println!("# replaying {} command(s)", lines.len());
        return run_lines(session, lines.into_iter().map(Ok), args.keep_going, true);
    }
    if let Some(script) = &args.script {
        if script.is_dir() {
            bail!(
                "{}: is a folder; give --script a text file of commands, one per line",
                script.display()
            );
        }
        let file = std::fs::File::open(script).with_context(|| {
            format!(
                "{}: cannot open the script; check the path",
                script.display()
            )
        })?;
        return run_script(session, std::io::BufReader::new(file), args.keep_going);
    }
    if !std::io::stdin().is_terminal() {
        return run_script(session, std::io::stdin().lock(), args.keep_going);
    }
    interactive(session)
}

/// Prints a cell's outputs (errors to standard error).
fn print_cell(cell: &Cell) {
    for out in &cell.outputs {
        let text = render(out);
        if matches!(out, crate::repl::Output::Error(_)) {
            eprintln!("{text}");
        } else {
            println!("{text}");
        }
    }
}

/// Runs commands from `input`, echoing each one and its outputs.
pub fn run_script(
    session: Session,
    input: impl BufRead,
    keep_going: bool,
) -> anyhow::Result<ExitCode> {
    run_lines(session, input.lines(), keep_going, false)
}

/// Runs command lines in order, echoing each one and its outputs; `#` lines are comments.
/// Runs command lines as a script. A replay (`replay`) lets each run it starts train
/// before the next command that is not one of the run's own controls (`pause`, `stop`,
/// `lr`, ...: those act on it while it trains, as they did when the notebook was made),
/// and lets the last one finish, so a replayed run trains as its original did.
fn run_lines(
    mut session: Session,
    lines: impl Iterator<Item = std::io::Result<String>>,
    keep_going: bool,
    replay: bool,
) -> anyhow::Result<ExitCode> {
    let mut failed = 0usize;
    for (n, line) in lines.enumerate() {
        let line = line.with_context(|| {
            format!("line {}: cannot read the script (is it UTF-8 text?)", n + 1)
        })?;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if replay && session.is_running() && !is_run_control(trimmed) {
            session.wait(&mut |_| {});
        }
        println!("> {trimmed}");
        let cell = session.execute(trimmed);
        print_cell(&cell);
        let _ = std::io::stdout().flush();
        if session.take_interrupt() {
            eprintln!("seqlab repl: interrupted at line {} (`{trimmed}`)", n + 1);
            finish_run(&mut session);
            return Ok(ExitCode::from(130));
        }
        if !cell.ok {
            failed += 1;
            if !keep_going {
                eprintln!("seqlab repl: stopped at line {} (`{trimmed}` failed); --keep-going runs the rest", n + 1);
                finish_run(&mut session);
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    if replay {
        session.wait(&mut |_| {});
    }
    finish_run(&mut session);
    if failed > 0 {
        eprintln!("seqlab repl: {failed} command(s) failed");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether `line` controls the run under way (and so is replayed while it trains).
fn is_run_control(line: &str) -> bool {
    use crate::repl::Command;
    matches!(
        crate::repl::parse(line),
        Ok(Command::Pause
            | Command::Resume
            | Command::Stop
            | Command::Lr(_)
            | Command::Checkpoint
            | Command::Wait
            | Command::RunNow(_))
    )
}

/// A run still going when the input ends is stopped (its folder stays resumable).
fn finish_run(session: &mut Session) {
    if session.is_running() {
        eprintln!("the input ended while a run was under way: stopping it (add `wait` after `train` to let it finish)");
        session.execute("stop");
        session.wait(&mut |_| {});
    }
}

/// Tab completion from the session.
struct SessionHelper {
    session: Arc<Mutex<Session>>,
}

impl Completer for SessionHelper {
    type Candidate = String;
    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let s = self.session.lock().unwrap_or_else(|p| p.into_inner());
        Ok(s.complete(line, pos))
    }
}
impl Hinter for SessionHelper {
    type Hint = String;
}
impl Highlighter for SessionHelper {}
impl Validator for SessionHelper {}
impl Helper for SessionHelper {}

/// Where the terminal history is kept across sessions.
fn history_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".local/state")))?;
    Some(base.join("seqlab").join("history"))
}

fn interactive(session: Session) -> anyhow::Result<ExitCode> {
    let session = Arc::new(Mutex::new(session));
    let mut rl: Editor<SessionHelper, DefaultHistory> =
        Editor::new().context("cannot set up line editing on this terminal")?;
    rl.set_helper(Some(SessionHelper {
        session: session.clone(),
    }));
    let history = history_file();
    if let Some(h) = &history {
        let _ = rl.load_history(h);
    }
    println!(
        "seqlab {} — `help` lists the commands; Tab completes commands, fields and files; Ctrl-D quits",
        env!("CARGO_PKG_VERSION")
    );
    // `wait` shows a progress line in place
    {
        let mut s = session.lock().unwrap_or_else(|p| p.into_inner());
        let mut last = Instant::now();
        s.set_progress_hook(Box::new(move |e: &Event| {
            if let Event::Iteration {
                metrics,
                tokens_per_s,
                ..
            } = e
            {
                if last.elapsed() > Duration::from_secs(1) {
                    eprint!(
                        "\r  iteration {} score {:.4} {:.0} tokens/s   ",
                        metrics.iteration, metrics.score, tokens_per_s
                    );
                    last = Instant::now();
                }
            }
        }));
    }
    let mut warned_unsaved = false;
    loop {
        // what the background run did since the last prompt, and its progress in the
        // prompt (rustyline's external printer drops typed-ahead input: issue #976)
        let prompt = {
            let mut s = session.lock().unwrap_or_else(|p| p.into_inner());
            for line in event_lines(&mut s) {
                println!("{line}");
            }
            match s.progress() {
                Some(p) if p.max_iterations == 0 => format!("seqlab [run {} loading]> ", p.run),
                Some(p) => format!(
                    "seqlab [run {} {}/{}{}]> ",
                    p.run,
                    p.iteration,
                    p.max_iterations,
                    if p.paused { " paused" } else { "" }
                ),
                None => "seqlab> ".to_string(),
            }
        };
        match rl.readline(&prompt) {
            Ok(line) => {
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                let _ = rl.add_history_entry(line);
                if matches!(line, "quit" | "exit") {
                    if confirm_quit(&session, &mut warned_unsaved) {
                        break;
                    }
                    continue;
                }
                let mut s = session.lock().unwrap_or_else(|p| p.into_inner());
                let cell = s.execute(line);
                // a Ctrl-C during the command has been answered (a waited-for run stops)
                let _ = s.take_interrupt();
                if line == "wait" {
                    eprintln!();
                }
                print_cell(&cell);
                warned_unsaved = false;
            }
            Err(ReadlineError::Interrupted) => {
                let running = session.lock().map(|s| s.is_running()).unwrap_or(false);
                if running {
                    println!("(a run is under way: `pause` or `stop` it; Ctrl-D quits)");
                }
            }
            Err(ReadlineError::Eof) => {
                if confirm_quit(&session, &mut warned_unsaved) {
                    break;
                }
            }
            Err(e) => return Err(e).context("reading the command line"),
        }
    }
    if let Some(h) = &history {
        if let Some(dir) = h.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = rl.save_history(h);
    }
    let mut s = session.lock().unwrap_or_else(|p| p.into_inner());
    finish_run(&mut s);
    Ok(ExitCode::SUCCESS)
}

/// Lines for the runner events since the last call: validations, samples, problems,
/// and the run's record when it ends.
fn event_lines(s: &mut Session) -> Vec<String> {
    let mut lines = Vec::new();
    for e in s.poll() {
        match e {
            Event::Validation(ev) => lines.push(format!(
                "  validation after iteration {}: score {:.4}",
                ev.iteration, ev.score
            )),
            Event::Sample { iteration, text } => {
                lines.push(format!("  sample at iteration {iteration}:\n{text}"))
            }
            Event::Failed { iteration, message } | Event::Warning { iteration, message } => {
                lines.push(format!("  problem at iteration {iteration}: {message}"))
            }
            Event::Finished(_) => {
                // the run's record went into its `train` cell
                if let Some(cell) = s
                    .experiment
                    .notebook
                    .cells
                    .iter()
                    .rev()
                    .find(|c| c.command.starts_with("train"))
                {
                    lines.extend(cell.outputs.iter().skip(1).map(render));
                }
            }
            _ => {}
        }
    }
    lines
}

/// Quitting with unsaved changes asks once (the second Ctrl-D or `quit` quits).
fn confirm_quit(session: &Arc<Mutex<Session>>, warned: &mut bool) -> bool {
    let dirty = session.lock().map(|s| s.is_dirty()).unwrap_or(false);
    if dirty && !*warned {
        println!("there are unsaved changes: `save [FILE]` keeps them; Ctrl-D (or quit) again discards them");
        *warned = true;
        return false;
    }
    true
}
