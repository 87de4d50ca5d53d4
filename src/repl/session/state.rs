//! The state group: `note`, and `step`/`state`, which feed the selected model keeping its
//! state and keep or restore that state (their work is in `stepping`).

use super::row::{mismatch, CommandRow, Handler};
use super::*;
use crate::repl::command::{unquote, Call, Complete};

/// The state group's rows.
pub(super) const ROWS: &[CommandRow] = &[
    CommandRow {
        name: "note",
        aliases: &[],
        usage: "note TEXT",
        summary: "add a Markdown note to the notebook",
        window: "the notebook",
        complete: Complete::Nothing,
        parse: parse_note,
        run: Handler::Edit(|_, cmd| match cmd {
            Command::Note(t) => Ok(vec![Output::Markdown(t)]),
            _ => mismatch("note"),
        }),
    },
    CommandRow {
        name: "step",
        aliases: &[],
        usage: "step TEXT | step v1,v2,...[; v1,v2,...]",
        summary: "feed steps to the selected model keeping its state (rnnTimeStep): characters for text models (prints the top next-character probabilities), one feature vector per step otherwise (prints the outputs)",
        window: "the notebook",
        complete: Complete::Nothing,
        parse: parse_step,
        run: Handler::Session(step),
    },
    CommandRow {
        name: "state",
        aliases: &[],
        usage: "state reset|show|save NAME|load NAME",
        summary: "forget, show (norms of h and c per layer), keep or restore the stepping state (named states are saved with the notebook)",
        window: "the notebook",
        complete: Complete::State,
        parse: parse_state,
        run: Handler::Session(state),
    },
];

fn parse_note(call: &Call) -> Result<Command, String> {
    if call.rest.is_empty() {
        return Err(format!("give the note's text; {}", call.usage()));
    }
    Ok(Command::Note(call.rest.clone()))
}

fn parse_step(call: &Call) -> Result<Command, String> {
    let text = unquote(&call.rest)?;
    if text.is_empty() {
        return Err(format!("give the steps to feed; {}", call.usage()));
    }
    Ok(Command::Step(text))
}

fn step(s: &mut Session, cmd: Command, _: usize) -> Result<Vec<Output>, String> {
    let Command::Step(t) = cmd else {
        mismatch("step")
    };
    s.step(&t)
}

fn parse_state(call: &Call) -> Result<Command, String> {
    let a = call.args()?;
    let state = match a.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["reset"] => StateCommand::Reset,
        ["show"] | [] => StateCommand::Show,
        ["save", n] => StateCommand::Save(n.to_string()),
        ["load", n] => StateCommand::Load(n.to_string()),
        _ => return Err(call.usage()),
    };
    Ok(Command::State(state))
}

fn state(s: &mut Session, cmd: Command, _: usize) -> Result<Vec<Output>, String> {
    let Command::State(c) = cmd else {
        mismatch("state")
    };
    s.state(c)
}
