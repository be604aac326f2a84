//! The scanner of numbers a person should not have to read (issue 28, point 9): read by
//! `readable_numbers.rs` over every fixture answer and by `observe_system.rs` over the
//! answers composed from a live reading.

#![allow(dead_code)]

/// A number in `text` that a person should not have to read, with why; `None` when it reads well.
pub fn unreadable(token: &str) -> Option<&'static str> {
    let digits: String = token.chars().filter(char::is_ascii_digit).collect();
    if let Some((whole, fraction)) = token.split_once('.') {
        let significant = digits.trim_start_matches('0').len();
        if significant > 4 && !fraction.is_empty() {
            return Some("more than 4 significant digits");
        }
        if whole.len() >= 5 && !whole.contains(',') {
            return Some("5 or more whole digits without separators");
        }
        None
    } else if token.len() >= 5 && !token.contains(',') {
        Some("5 or more digits without separators")
    } else {
        None
    }
}

/// The numbers of `text` outside code, as (token, the character before it).
pub fn numbers(text: &str) -> Vec<(String, Option<char>)> {
    let mut found = Vec::new();
    let mut in_code = false;
    let mut before: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '`' {
            in_code = !in_code;
        } else if !in_code && c.is_ascii_digit() {
            let mut token = String::from(c);
            while let Some(&next) = chars.peek() {
                // A separator or a decimal point belongs to the number when a digit follows it.
                let joins = (next == ',' || next == '.') && {
                    let mut ahead = chars.clone();
                    ahead.next();
                    ahead.peek().is_some_and(char::is_ascii_digit)
                };
                if next.is_ascii_digit() || joins {
                    token.push(next);
                    chars.next();
                } else {
                    break;
                }
            }
            let last = token.chars().last();
            found.push((token, before));
            before = last;
            continue;
        }
        before = Some(c);
    }
    found
}

/// Whether the number after `before` is part of a name, an id, a port or a path
/// (`stage_2`, `v1.2`, `host:9187`, `#12345`), which keeps its digits as they are.
pub fn part_of_a_name(before: Option<char>) -> bool {
    before.is_some_and(|b| b.is_alphanumeric() || "_.:/#-@".contains(b))
}

/// The lines of a markdown answer a person reads as prose: without the `Workings` section, an
/// inline `Working:` line (a working keeps full precision wherever it is shown) and fenced code
/// blocks.
pub fn prose_lines(markdown: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut in_workings = false;
    let mut in_fence = false;
    for line in markdown.lines() {
        if line.starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if line.starts_with('#') {
            in_workings = line.contains("Workings");
        }
        if !in_fence && !in_workings && !line.starts_with("Working:") {
            lines.push(line);
        }
    }
    lines
}

pub fn offences(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (token, before) in numbers(text) {
        if part_of_a_name(before) {
            continue;
        }
        if let Some(why) = unreadable(&token) {
            found.push(format!("`{token}` ({why})"));
        }
    }
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        if matches!(word, "NaN" | "inf" | "Infinity") {
            found.push(format!("`{word}` (not a number a person reads)"));
        }
    }
    found
}
