//! The command table: every command is one row (its name, usage, help, where the window
//! offers it, what Tab completes, its parser and its handler). [`parse`], `help`, Tab
//! completion and [`Session::execute`](super::Session::execute) read it; the rows ([`CommandRow`]) live with their
//! handlers in the group modules (document, data, model, train, inspect, runs, state) and
//! the table is their concatenation, in the order `help` lists them, with `help` itself.

use super::row::{mismatch, CommandRow, Edit, Handler};
use super::text;
use crate::experiment::fields::closest;
use crate::experiment::notebook::{Output, Table};
use crate::repl::command::{Call, Command, Complete};

/// The groups' rows, in the order `help` lists them.
const GROUPS: &[&[CommandRow]] = &[
    HELP,
    super::document::ROWS,
    super::data::ROWS,
    super::model::ROWS,
    super::train::ROWS,
    super::inspect::ROWS,
    super::runs::ROWS,
    super::state::ROWS,
    super::sweep::ROWS,
];

/// `help`: it reads the table.
const HELP: &[CommandRow] = &[CommandRow {
    name: "help",
    aliases: &["?"],
    usage: "help [COMMAND]",
    summary: "list the commands, or explain one",
    window: "the command line",
    complete: Complete::Commands,
    parse: parse_help,
    run: Handler::Edit(help),
}];

fn parse_help(call: &Call) -> Result<Command, String> {
    Ok(Command::Help(
        (!call.rest.is_empty()).then(|| call.rest.to_ascii_lowercase()),
    ))
}

fn help(_: &mut Edit<'_>, cmd: Command) -> Result<Vec<Output>, String> {
    let Command::Help(topic) = cmd else {
        mismatch("help")
    };
    match topic.as_deref() {
        None => {
            let t = Table {
                title: "commands (`help COMMAND` for one; field paths as in `show experiment`, values in RON)".into(),
                columns: ["command", "what it does", "in the window"].map(String::from).to_vec(),
                rows: commands()
                    .map(|c| vec![c.usage.to_string(), c.summary.to_string(), c.window.to_string()])
                    .collect(),
            };
            Ok(vec![Output::Table(t)])
        }
        Some(name) => {
            // `set!`, `open!`, ...: the command's own entry says what the `!` does
            let name = name.strip_suffix('!').unwrap_or(name);
            let c = help_for(name).ok_or_else(|| {
                let names: Vec<&str> = commands().map(|c| c.name).collect();
                let hint = closest(name, &names)
                    .map(|c| format!(" (did you mean `{c}`?)"))
                    .unwrap_or_default();
                format!("no command `{name}`{hint}; `help` lists them")
            })?;
            Ok(vec![text(format!(
                "{}\n  {}\n  in the window: {}",
                c.usage, c.summary, c.window
            ))])
        }
    }
}

/// Every command, in the order `help` lists them.
pub fn commands() -> impl Iterator<Item = &'static CommandRow> {
    GROUPS.iter().flat_map(|g| g.iter())
}

/// The row of command `name` (its own name, not an alias).
pub fn help_for(name: &str) -> Option<&'static CommandRow> {
    commands().find(|c| c.name == name)
}

/// The row `name` or one of its aliases names.
fn find(name: &str) -> Option<&'static CommandRow> {
    commands().find(|c| c.name == name || c.aliases.contains(&name))
}

/// Parses one line. Errors name what is wrong and what to type.
pub fn parse(line: &str) -> Result<Command, String> {
    parse_row(line).map(|(_, cmd)| cmd)
}

/// Parses one line into its row and the row's [`Command`].
pub fn parse_row(line: &str) -> Result<(&'static CommandRow, Command), String> {
    let mut call = Call::split(line);
    if call.name.is_empty() {
        return Err("type a command, or `help` to list them".into());
    }
    let Some(row) = find(&call.name) else {
        let names: Vec<&str> = commands().map(|c| c.name).collect();
        let hint = closest(&call.name, &names)
            .map(|c| format!("did you mean `{c}`? "))
            .unwrap_or_default();
        return Err(format!(
            "unknown command `{}`; {hint}type `help` for the list",
            call.name
        ));
    };
    call.usage = row.usage;
    (row.parse)(&call).map(|cmd| (row, cmd))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::schema::LayerType;
    use crate::repl::command::{Length, SampleArgs, Split, StateCommand};

    #[test]
    fn a_sample_too_long_to_keep_is_refused() {
        assert!(parse("sample 1000000").is_ok());
        let e = parse("sample 1000001").unwrap_err();
        assert!(e.contains("at most 1000000"), "{e}");
    }

    #[test]
    fn parses_commands_with_arguments() {
        assert_eq!(parse("train"), Ok(Command::Train(None)));
        assert_eq!(
            parse("train 50 iterations"),
            Ok(Command::Train(Some(Length::Iterations(50))))
        );
        assert_eq!(
            parse("train 2 epochs"),
            Ok(Command::Train(Some(Length::Epochs(2))))
        );
        assert_eq!(parse("  PAUSE "), Ok(Command::Pause));
        assert_eq!(parse("lr 1e-3"), Ok(Command::Lr(1e-3)));
        assert_eq!(
            parse("set training.updater Adam(lr: 0.002)"),
            Ok(Command::Set {
                path: "training.updater".into(),
                value: "Adam(lr: 0.002)".into(),
                force: false
            })
        );
        assert_eq!(
            parse("add lstm 64 at 0"),
            Ok(Command::Add {
                kind: LayerType::Lstm,
                size: 64,
                at: Some(0)
            })
        );
        assert_eq!(parse("move 1 0"), Ok(Command::Move { from: 1, to: 0 }));
        assert_eq!(
            parse(r#"sample 40 --prime "The " --temperature 0.5 --seed 3"#),
            Ok(Command::Sample(SampleArgs {
                length: Some(40),
                prime: Some("The ".into()),
                temperature: Some(0.5),
                greedy: false,
                seed: Some(3)
            }))
        );
        assert_eq!(parse("step \"ab \""), Ok(Command::Step("ab ".into())));
        assert_eq!(
            parse("save \"my file.ron\""),
            Ok(Command::Save {
                path: Some("my file.ron".into()),
                force: false
            })
        );
        assert_eq!(
            parse("save!"),
            Ok(Command::Save {
                path: None,
                force: true
            })
        );
        assert_eq!(
            parse("state save warm"),
            Ok(Command::State(StateCommand::Save("warm".into())))
        );
        assert_eq!(
            parse("eval 2 test"),
            Ok(Command::Eval {
                run: Some("2".into()),
                split: Split::Test
            })
        );
    }

    #[test]
    fn bad_lines_say_what_to_type() {
        assert!(parse("trian").unwrap_err().contains("did you mean `train`"));
        assert!(parse("lr").unwrap_err().contains("lr 0.001"));
        assert!(parse("lr -1").unwrap_err().contains("greater than 0"));
        assert!(parse("add lstm").unwrap_err().contains("usage: add"));
        assert!(parse("add cnn 3").unwrap_err().contains("not a layer kind"));
        assert!(parse("train 0 iterations").unwrap_err().contains("above 0"));
        assert!(parse("sample --temperature 0")
            .unwrap_err()
            .contains("greater than 0"));
        assert!(parse("sample --temperature x")
            .unwrap_err()
            .contains("not a number"));
        assert!(parse("set training.batch_size")
            .unwrap_err()
            .contains("give a field and a value"));
        assert!(parse("pause now").unwrap_err().contains("takes nothing"));
        assert!(parse("save \"unclosed").unwrap_err().contains("not closed"));
        assert!(parse("compare 1").unwrap_err().contains("two or more"));
    }

    #[test]
    fn every_command_has_help_and_parses_its_name() {
        for c in commands() {
            assert!(c.usage.starts_with(c.name), "{}", c.name);
            // a bare name either parses or says its usage (never "unknown command")
            if let Err(e) = parse(c.name) {
                assert!(!e.contains("unknown command"), "{}: {e}", c.name);
            }
        }
    }

    #[test]
    fn every_alias_and_name_is_one_row() {
        let mut seen = Vec::new();
        for c in commands() {
            for n in std::iter::once(&c.name).chain(c.aliases) {
                assert!(!seen.contains(n), "{n} names two rows");
                seen.push(n);
            }
        }
    }
}
