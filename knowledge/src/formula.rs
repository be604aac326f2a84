//! The formula language of calculator tables (`memory_gb = working_set_gb × overhead_factor`,
//! `nodes = ceil(memory_gb / (node_memory_gb × max_memory_utilization_pct / 100))`). A formula
//! is parsed once, at start-up, against the quantities the calculator can supply, so a document
//! that names an unknown quantity or does not parse is refused there; the tool then evaluates
//! the very text it shows in its working, and a team that edits the formula gets the new result.
//!
//! The language is arithmetic and nothing else: numbers, named quantities, `+ − × ÷` (also
//! written `- * /`), `^` (power, right-associative), parentheses and the functions of
//! [`FUNCTIONS`]. Iterative methods (Erlang C, Che's approximation, least-squares fits) are no
//! formulas; they stay in Rust and their documents say so.

use std::fmt;
use std::ops::Range;

use crate::closest;

/// The functions a formula may call, with their number of arguments.
pub const FUNCTIONS: [(&str, usize); 9] = [
    ("ln", 1),
    ("exp", 1),
    ("sqrt", 1),
    ("abs", 1),
    ("ceil", 1),
    ("floor", 1),
    ("min", 2),
    ("max", 2),
    ("gcd", 2),
];

/// How deeply parentheses and function calls may nest: far more than any formula needs, and
/// small enough that a hostile document cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Number(f64),
    Name(String),
    Negate(Box<Node>),
    Binary(Operator, Box<Node>, Box<Node>),
    Call(&'static str, Vec<Node>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Add,
    Subtract,
    Multiply,
    Divide,
    Power,
}

/// An arithmetic expression over named quantities, checked against the names it may use.
///
/// Evaluation is plain `f64` arithmetic in the order written, with two deliberate exceptions
/// that keep a count from growing by floating-point noise: `ceil` and `floor` treat a value
/// within one part in 10⁹ of a whole number as that number (so `ceil(4500 / 1500)` is 3 even
/// when the quotient is computed as 3.0000000000000004). `gcd` takes whole numbers; on any other
/// value it gives NaN, like `sqrt(−1)` and `ln(0)` give NaN and −∞: a caller checks that the
/// value is finite before it uses it.
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    text: String,
    root: Node,
    /// Where each named quantity stands in `text`, in order, for [`Expression::substituted`].
    names: Vec<Range<usize>>,
}

/// A formula cell: `quantity = expression`.
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    text: String,
    quantity: String,
    expression: Expression,
}

/// Why an evaluation did not give a number: a quantity the expression names had no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the formula needs a value for `{0}`")]
pub struct MissingValue(pub String);

impl Expression {
    /// Parses `text`; every name must be one of `known` (else the error names it and suggests
    /// the closest known one). The error is a sentence for a document's author.
    pub fn parse(text: &str, known: &[&str]) -> Result<Self, String> {
        let tokens = lex(text)?;
        let mut parser = Parser {
            tokens: &tokens,
            at: 0,
            depth: 0,
            text,
            known,
            names: Vec::new(),
        };
        let root = parser.sum()?;
        if let Some(token) = parser.tokens.get(parser.at) {
            return Err(format!(
                "unexpected `{}` at character {}; an operator (+ − × ÷ ^) or the end was expected",
                &text[token.span.clone()],
                token.span.start + 1
            ));
        }
        let names = parser.names;
        Ok(Self {
            text: text.to_string(),
            root,
            names,
        })
    }

    /// The expression as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The quantities the expression names, each once, in the order they first appear.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for span in &self.names {
            let name = &self.text[span.clone()];
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// The value for these quantities. A value that is not finite (a division by zero, an
    /// overflow) is returned as it is; only a missing quantity is an error.
    pub fn evaluate(&self, values: &[(&str, f64)]) -> Result<f64, MissingValue> {
        evaluate(&self.root, values)
    }

    /// The expression with each quantity replaced by `show(name)`, everything else as written:
    /// `ceil(memory_gb / 12)` for `ceil(memory_gb / node_memory_gb)` when `show` gives `12`
    /// for `node_memory_gb` and the name itself for `memory_gb`.
    pub fn substituted(&self, show: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        let mut done = 0;
        for span in &self.names {
            out.push_str(&self.text[done..span.start]);
            out.push_str(&show(&self.text[span.clone()]));
            done = span.end;
        }
        out.push_str(&self.text[done..]);
        out
    }
}

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Formula {
    /// Parses `quantity = expression`. The right-hand side may name any of `known`; the
    /// quantity itself is whatever the left-hand side says (the caller checks it is one it
    /// computes).
    pub fn parse(text: &str, known: &[&str]) -> Result<Self, String> {
        let text = text.trim();
        let Some((left, right)) = text.split_once('=') else {
            return Err(format!(
                "`{text}` is no formula: write `quantity = expression`"
            ));
        };
        let quantity = left.trim();
        if !is_name(quantity) {
            return Err(format!(
                "the left-hand side `{quantity}` must be the name of the quantity computed"
            ));
        }
        let expression = Expression::parse(right.trim(), known)?;
        Ok(Self {
            text: text.to_string(),
            quantity: quantity.to_string(),
            expression,
        })
    }

    /// The formula as written, `quantity = expression`.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The quantity on the left-hand side.
    pub fn quantity(&self) -> &str {
        &self.quantity
    }

    /// The right-hand side.
    pub fn expression(&self) -> &Expression {
        &self.expression
    }
}

impl fmt::Display for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn is_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

// ---------------------------------------------------------------------------------------------
// Reading.

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Number(f64),
    Name,
    Operator(Operator),
    Minus,
    Open,
    Close,
    Comma,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    span: Range<usize>,
}

fn lex(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let single = |kind| Token {
            kind,
            span: start..start + c.len_utf8(),
        };
        match c {
            c if c.is_whitespace() => {}
            '+' => tokens.push(single(Kind::Operator(Operator::Add))),
            '-' | '−' => tokens.push(single(Kind::Minus)),
            '*' | '×' | '·' => tokens.push(single(Kind::Operator(Operator::Multiply))),
            '/' | '÷' => tokens.push(single(Kind::Operator(Operator::Divide))),
            '^' => tokens.push(single(Kind::Operator(Operator::Power))),
            '(' => tokens.push(single(Kind::Open)),
            ')' => tokens.push(single(Kind::Close)),
            ',' => tokens.push(single(Kind::Comma)),
            c if c.is_ascii_digit() || c == '.' => {
                let mut end = start + 1;
                let mut previous = c;
                while let Some(&(i, next)) = chars.peek() {
                    let exponent = (next == 'e' || next == 'E') && previous.is_ascii_digit();
                    let sign = (next == '+' || next == '-') && (previous == 'e' || previous == 'E');
                    if next.is_ascii_digit() || next == '.' || exponent || sign {
                        end = i + 1;
                        previous = next;
                        chars.next();
                    } else {
                        break;
                    }
                }
                let written = &text[start..end];
                let value = written
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        format!("`{written}` at character {} is no number", start + 1)
                    })?;
                tokens.push(Token {
                    kind: Kind::Number(value),
                    span: start..end,
                });
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut end = start + 1;
                while let Some(&(i, next)) = chars.peek() {
                    if next.is_ascii_alphanumeric() || next == '_' {
                        end = i + 1;
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push(Token {
                    kind: Kind::Name,
                    span: start..end,
                });
            }
            other => {
                return Err(format!(
                    "`{other}` at character {} is not part of the formula language (numbers, names, + − × ÷ ^, parentheses, {})",
                    start + 1,
                    function_list()
                ));
            }
        }
    }
    Ok(tokens)
}

fn function_list() -> String {
    FUNCTIONS
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
    depth: usize,
    text: &'a str,
    known: &'a [&'a str],
    names: Vec<Range<usize>>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Kind> {
        self.tokens.get(self.at).map(|t| &t.kind)
    }

    fn where_now(&self) -> String {
        match self.tokens.get(self.at) {
            Some(token) => format!(
                "`{}` at character {}",
                &self.text[token.span.clone()],
                token.span.start + 1
            ),
            None => "the end of the formula".to_string(),
        }
    }

    fn deeper(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!(
                "the formula nests more than {MAX_DEPTH} levels deep"
            ));
        }
        Ok(())
    }

    /// sum := product (("+" | "−") product)*
    fn sum(&mut self) -> Result<Node, String> {
        let mut left = self.product()?;
        loop {
            let operator = match self.peek() {
                Some(Kind::Operator(Operator::Add)) => Operator::Add,
                Some(Kind::Minus) => Operator::Subtract,
                _ => return Ok(left),
            };
            self.at += 1;
            let right = self.product()?;
            left = Node::Binary(operator, Box::new(left), Box::new(right));
        }
    }

    /// product := unary (("×" | "÷") unary)*
    fn product(&mut self) -> Result<Node, String> {
        let mut left = self.unary()?;
        loop {
            let operator = match self.peek() {
                Some(Kind::Operator(op @ (Operator::Multiply | Operator::Divide))) => *op,
                _ => return Ok(left),
            };
            self.at += 1;
            let right = self.unary()?;
            left = Node::Binary(operator, Box::new(left), Box::new(right));
        }
    }

    /// unary := "−" unary | power; so `−2^2` is −4, as in mathematics.
    fn unary(&mut self) -> Result<Node, String> {
        if self.peek() == Some(&Kind::Minus) {
            self.at += 1;
            self.deeper()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Node::Negate(Box::new(inner)));
        }
        self.power()
    }

    /// power := atom ("^" unary)?; right-associative.
    fn power(&mut self) -> Result<Node, String> {
        let base = self.atom()?;
        if self.peek() == Some(&Kind::Operator(Operator::Power)) {
            self.at += 1;
            self.deeper()?;
            let exponent = self.unary()?;
            self.depth -= 1;
            return Ok(Node::Binary(
                Operator::Power,
                Box::new(base),
                Box::new(exponent),
            ));
        }
        Ok(base)
    }

    fn expect_close(&mut self, what: &str) -> Result<(), String> {
        if self.peek() == Some(&Kind::Close) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!(
                "`)` expected to close {what}, found {}",
                self.where_now()
            ))
        }
    }

    /// atom := number | name | function "(" sum ("," sum)* ")" | "(" sum ")"
    fn atom(&mut self) -> Result<Node, String> {
        let Some(token) = self.tokens.get(self.at) else {
            return Err("the formula ends where a number, a name or `(` was expected".to_string());
        };
        let span = token.span.clone();
        match token.kind {
            Kind::Number(value) => {
                self.at += 1;
                Ok(Node::Number(value))
            }
            Kind::Open => {
                self.at += 1;
                self.deeper()?;
                let inner = self.sum()?;
                self.expect_close(&format!("the `(` at character {}", span.start + 1))?;
                self.depth -= 1;
                Ok(inner)
            }
            Kind::Name => {
                self.at += 1;
                let name = &self.text[span.clone()];
                if self.peek() == Some(&Kind::Open) {
                    return self.call(name, span);
                }
                if let Some((function, _)) = FUNCTIONS.iter().find(|(f, _)| *f == name) {
                    return Err(format!(
                        "`{function}` at character {} is a function: write `{function}(…)`",
                        span.start + 1
                    ));
                }
                if !self.known.contains(&name) {
                    return Err(unknown_quantity(name, self.known));
                }
                self.names.push(span);
                Ok(Node::Name(name.to_string()))
            }
            _ => Err(format!(
                "a number, a name or `(` was expected, found {}",
                self.where_now()
            )),
        }
    }

    fn call(&mut self, name: &str, span: Range<usize>) -> Result<Node, String> {
        let Some(&(function, arity)) = FUNCTIONS.iter().find(|(f, _)| *f == name) else {
            let hint = closest(name, FUNCTIONS.iter().map(|(f, _)| *f))
                .map(|f| format!("did you mean `{f}`? "))
                .unwrap_or_default();
            return Err(format!(
                "unknown function `{name}` at character {}; {hint}the functions are {}",
                span.start + 1,
                function_list()
            ));
        };
        self.at += 1; // the `(`
        self.deeper()?;
        let mut arguments = vec![self.sum()?];
        while self.peek() == Some(&Kind::Comma) {
            self.at += 1;
            arguments.push(self.sum()?);
        }
        self.expect_close(&format!("the arguments of `{function}`"))?;
        self.depth -= 1;
        if arguments.len() != arity {
            return Err(format!(
                "`{function}` takes {arity} argument{}, found {}",
                if arity == 1 { "" } else { "s" },
                arguments.len()
            ));
        }
        Ok(Node::Call(function, arguments))
    }
}

fn unknown_quantity(name: &str, known: &[&str]) -> String {
    match closest(name, known.iter().copied()) {
        Some(near) => format!("unknown quantity `{name}`; did you mean `{near}`?"),
        None if known.is_empty() => {
            format!("unknown quantity `{name}`; this formula may name no quantity")
        }
        None => format!("unknown quantity `{name}`; known: {}", known.join(", ")),
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluating.

/// A value within one part in 10⁹ of a whole number counts as that number, so that noise of
/// the last bits never adds a node.
fn snap_to_whole(x: f64) -> f64 {
    let nearest = x.round();
    if (x - nearest).abs() <= 1e-9 * nearest.abs().max(1.0) {
        nearest
    } else {
        x
    }
}

fn gcd(a: f64, b: f64) -> f64 {
    let whole = |x: f64| x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x < 2f64.powi(64);
    if !whole(a) || !whole(b) {
        return f64::NAN;
    }
    // Both are whole numbers below 2^64 (checked above), so the conversions are exact.
    let (mut a, mut b) = (a as u64, b as u64);
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a as f64
}

fn evaluate(node: &Node, values: &[(&str, f64)]) -> Result<f64, MissingValue> {
    Ok(match node {
        Node::Number(value) => *value,
        Node::Name(name) => values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| MissingValue(name.clone()))?,
        Node::Negate(inner) => -evaluate(inner, values)?,
        Node::Binary(operator, left, right) => {
            let (a, b) = (evaluate(left, values)?, evaluate(right, values)?);
            match operator {
                Operator::Add => a + b,
                Operator::Subtract => a - b,
                Operator::Multiply => a * b,
                Operator::Divide => a / b,
                Operator::Power => a.powf(b),
            }
        }
        Node::Call(function, arguments) => {
            let x = evaluate(&arguments[0], values)?;
            let y = match arguments.get(1) {
                Some(argument) => evaluate(argument, values)?,
                None => f64::NAN,
            };
            match *function {
                "ln" => x.ln(),
                "exp" => x.exp(),
                "sqrt" => x.sqrt(),
                "abs" => x.abs(),
                "ceil" => snap_to_whole(x).ceil(),
                "floor" => snap_to_whole(x).floor(),
                "min" => x.min(y),
                "max" => x.max(y),
                "gcd" => gcd(x, y),
                // `FUNCTIONS` lists exactly the names matched above; the parser admits no other.
                _ => f64::NAN,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: [&str; 4] = ["a", "b", "threshold", "current"];

    fn value(text: &str, values: &[(&str, f64)]) -> f64 {
        Expression::parse(text, &KNOWN)
            .unwrap()
            .evaluate(values)
            .unwrap()
    }

    #[test]
    fn precedence_and_associativity() {
        assert_eq!(value("1 + 2 × 3", &[]), 7.0);
        assert_eq!(value("(1 + 2) * 3", &[]), 9.0);
        assert_eq!(value("2 ^ 3 ^ 2", &[]), 512.0);
        assert_eq!(value("−2 ^ 2", &[]), -4.0);
        assert_eq!(value("2 ^ −1", &[]), 0.5);
        assert_eq!(value("8 ÷ 4 / 2", &[]), 1.0);
        assert_eq!(value("10 − 3 - 2", &[]), 5.0);
        assert_eq!(value("a · b", &[("a", 3.0), ("b", 4.0)]), 12.0);
        assert_eq!(value("1.5e3 + 2E-1", &[]), 1500.2);
    }

    #[test]
    fn functions() {
        let months = value(
            "ln(threshold / current) / ln(1 + a)",
            &[("threshold", 80.0), ("current", 40.0), ("a", 0.1)],
        );
        assert!((months - 2f64.ln() / 1.1f64.ln()).abs() < 1e-12);
        assert_eq!(value("ceil(4500 / 1500)", &[]), 3.0);
        assert_eq!(value("ceil(0.1 × 3 × 10)", &[]), 3.0);
        assert_eq!(value("ceil(4.5)", &[]), 5.0);
        assert_eq!(value("floor(2.9999999999999996)", &[]), 3.0);
        assert_eq!(
            value("min(a, b) + max(a, b)", &[("a", 1.0), ("b", 5.0)]),
            6.0
        );
        assert_eq!(value("gcd(12, 18)", &[]), 6.0);
        assert!(value("gcd(1.5, 3)", &[]).is_nan());
        assert_eq!(value("sqrt(16) + abs(−2) + exp(0)", &[]), 7.0);
        assert_eq!(value("1 / 0", &[]), f64::INFINITY);
    }

    #[test]
    fn formulas_show_what_they_compute() {
        let formula =
            Formula::parse("x = ceil(a / (b × 75 / 100)) + a", &["a", "b", "unused"]).unwrap();
        assert_eq!(formula.quantity(), "x");
        assert_eq!(formula.expression().names(), ["a", "b"]);
        let shown = formula
            .expression()
            .substituted(|name| if name == "a" { "15".into() } else { "8".into() });
        assert_eq!(shown, "ceil(15 / (8 × 75 / 100)) + 15");
        assert_eq!(
            formula
                .expression()
                .evaluate(&[("a", 15.0), ("b", 8.0)])
                .unwrap(),
            18.0
        );
        assert_eq!(
            formula.expression().evaluate(&[("a", 1.0)]),
            Err(MissingValue("b".into()))
        );
    }

    #[test]
    fn refusals_say_what_is_wrong() {
        let error = |text: &str| Expression::parse(text, &KNOWN).unwrap_err();
        assert!(error("treshold / 2").contains("did you mean `threshold`"));
        assert!(error("zzz").contains("known: a, b, threshold, current"));
        assert!(error("log(a)").contains("unknown function `log`"));
        assert!(error("ln(a, b)").contains("takes 1 argument, found 2"));
        assert!(error("max(a)").contains("takes 2 arguments, found 1"));
        assert!(error("(a + b").contains("`)` expected"));
        assert!(error("a +").contains("ends where"));
        assert!(error("a b").contains("unexpected `b` at character 3"));
        assert!(error("a % b").contains("`%` at character 3"));
        assert!(error("ceil + 1").contains("is a function"));
        assert!(error("1.2.3").contains("no number"));
        assert!(error(&"(".repeat(100)).contains("nests more than"));
        assert!(
            Formula::parse("a + b", &KNOWN)
                .unwrap_err()
                .contains("quantity = expression")
        );
        assert!(
            Formula::parse("2a = b", &KNOWN)
                .unwrap_err()
                .contains("left-hand side")
        );
    }
}
