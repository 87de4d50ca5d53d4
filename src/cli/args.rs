//! Value parsers shared by the subcommands' options (whole numbers and counts with
//! messages that say what to give).

/// Parses a whole number of 0 or more for an option (clap's own message for `-1` says
/// only "invalid digit").
pub fn whole_number(text: &str) -> Result<u64, String> {
    let t = text.trim();
    if t.starts_with('-') && t[1..].parse::<f64>().is_ok() {
        return Err(format!("{t} is negative; give a whole number, 0 or more"));
    }
    t.parse().map_err(|_| {
        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            format!("{t} is too large (at most {})", u64::MAX)
        } else {
            format!("{t:?} is not a whole number; give one such as 100")
        }
    })
}

/// [`whole_number`] as a count.
pub fn whole_usize(text: &str) -> Result<usize, String> {
    whole_number(text)
        .and_then(|n| usize::try_from(n).map_err(|_| format!("{n} is too large for this machine")))
}
