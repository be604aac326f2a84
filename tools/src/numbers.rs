//! Numbers as a person reads them in an answer's text (its markdown and its `summary`): three
//! significant digits, thousands separators, money as `$18,000`, "now" for month 0, and never
//! `NaN`, `inf` or `1.79769e308`. One module, so that every tool writes a figure alike.
//!
//! Only the text a person reads goes through here: the structured result keeps every number
//! exact, and a working (`calculator::show`, the forecast's book) shows the values it
//! substituted at full precision, since it is there to be checked.

use knowledge::grouped;

/// How many significant digits a figure in prose carries: enough to act on, few enough to read.
const DIGITS: usize = 3;

/// From this magnitude up (and below [`SMALLEST_PLAIN`]) a figure is written as a power of ten:
/// `1.8 × 10³⁰⁸`, not three hundred digits.
const LARGEST_PLAIN: i32 = 15;
const SMALLEST_PLAIN: i32 = -4;

/// A computed amount to three significant digits with separators: `7,340`, `9.59`, `0.0441`,
/// `0.000123`, `1.8 × 10¹⁹`; `−` for a negative.
pub(crate) fn quantity(x: f64) -> String {
    significant(x, DIGITS)
}

/// A figure as the caller gave it, every digit kept, with separators: `70,001`, `1,234.5678`.
/// For an input echoed beside the threshold it was compared with, where rounding could show
/// `70,000 > 70,000`. Outside the plain range it is a [`quantity`] (`1.84 × 10¹⁹`).
pub(crate) fn exact(x: f64) -> String {
    if let Some(words) = not_finite(x) {
        return words;
    }
    if x == 0.0 {
        return "0".into();
    }
    let sign = if x < 0.0 { "−" } else { "" };
    if x.abs() >= 10f64.powi(LARGEST_PLAIN) || x.abs() < 10f64.powi(SMALLEST_PLAIN) {
        // Beyond what anyone types or compares digit by digit: a power of ten reads better.
        return quantity(x);
    }
    let text = format!("{}", x.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    with_fraction(sign, whole, fraction)
}

/// A whole count with separators: `208,962,425`.
pub(crate) fn count(n: u64) -> String {
    grouped(n)
}

/// A percentage (the value already in percent) to three significant digits: `9.59%`, `38.4%`.
/// A value short of 100 never reads `100%` (99.96 is `99.96%`), nor a positive one `0%`.
pub(crate) fn percent(pct: f64) -> String {
    let mut digits = DIGITS;
    let mut text = significant(pct, digits);
    while pct.is_finite() && pct < 100.0 && text == "100" && digits < 12 {
        digits += 1;
        text = significant(pct, digits);
    }
    format!("{text}%")
}

/// A fraction (0.2) as a percentage (`20%`).
pub(crate) fn share(fraction: f64) -> String {
    percent(fraction * 100.0)
}

/// A probability (0 to 1) to three significant digits: `0.0573`.
pub(crate) fn probability(p: f64) -> String {
    significant(p, DIGITS)
}

/// Dollars: three significant digits from $100 up (`$18,000`, `$47,100`), cents below
/// (`$2.50`, `$0.04`), `−$3.20` for a negative.
pub(crate) fn money(amount: f64) -> String {
    if let Some(words) = not_finite(amount) {
        return words;
    }
    let sign = if amount < 0.0 { "−" } else { "" };
    let dollars = amount.abs();
    let cents = (dollars * 100.0).round();
    if cents == 0.0 {
        return "$0".into();
    }
    if dollars >= 99.995 {
        return format!("{sign}${}", significant(dollars, DIGITS));
    }
    let text = format!("{:.2}", cents / 100.0);
    format!("{sign}${}", text.strip_suffix(".00").unwrap_or(&text))
}

/// A month of a forecast: "now" for a month that rounds to 0, else "month 2.1".
pub(crate) fn month(m: f64) -> String {
    if m < 0.05 {
        "now".into()
    } else if m.is_finite() {
        let text = format!("{m:.1}");
        let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
        format!("month {}", with_fraction("", whole, fraction))
    } else {
        "never".into()
    }
}

/// [`month`], or "never" for a crossing that does not come.
pub(crate) fn month_or_never(m: Option<f64>) -> String {
    m.map_or_else(|| "never".into(), month)
}

/// [`month`] as the end of a sentence: "now" or "in month 2.1".
pub(crate) fn in_month(m: f64) -> String {
    let text = month(m);
    if text.starts_with("month") {
        format!("in {text}")
    } else {
        text
    }
}

/// Hours as a person reads them: `25 minutes`, `10.3 hours`, `534 days (12,820 hours)`.
pub(crate) fn hours(hours: f64) -> String {
    if hours <= 0.0 {
        return "no time".to_string();
    }
    if hours < 1.0 {
        let minutes = (hours * 60.0).ceil().max(1.0);
        return format!(
            "{} minute{}",
            quantity(minutes),
            if minutes == 1.0 { "" } else { "s" }
        );
    }
    if hours < 48.0 {
        return format!("{} hours", quantity(hours));
    }
    format!(
        "{} days ({} hours)",
        quantity((hours / 24.0).round()),
        quantity(hours.round())
    )
}

/// `x` to `digits` significant digits, as text.
fn significant(x: f64, digits: usize) -> String {
    if let Some(words) = not_finite(x) {
        return words;
    }
    if x == 0.0 {
        return "0".into();
    }
    let sign = if x < 0.0 { "−" } else { "" };
    // The scientific form rounds once, exactly, and says where the point goes (999.5 is
    // `1.00e3`), so the digits below come from one rounding.
    let text = format!("{:.*e}", digits - 1, x.abs());
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if !(SMALLEST_PLAIN..LARGEST_PLAIN).contains(&exponent) {
        return format!(
            "{sign}{} × 10{}",
            trim_fraction(mantissa),
            superscript(&exponent.to_string())
        );
    }
    let figures: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    // The point sits after `exponent + 1` of the figures (before them, padded, when negative).
    let point = exponent + 1;
    let (whole, fraction) = if point <= 0 {
        (
            "0".to_string(),
            format!("{}{figures}", "0".repeat(point.unsigned_abs() as usize)),
        )
    } else {
        let point = point as usize;
        if point >= figures.len() {
            (
                format!("{figures}{}", "0".repeat(point - figures.len())),
                String::new(),
            )
        } else {
            (figures[..point].to_string(), figures[point..].to_string())
        }
    };
    with_fraction(sign, &whole, fraction.trim_end_matches('0'))
}

/// `sign`, the whole part with separators and the fraction, if any.
fn with_fraction(sign: &str, whole: &str, fraction: &str) -> String {
    let whole = whole
        .parse::<u64>()
        .map_or_else(|_| whole.to_string(), grouped);
    if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    }
}

/// What a person reads for a number that is not finite.
fn not_finite(x: f64) -> Option<String> {
    if x.is_nan() {
        Some("not a number".into())
    } else if x.is_infinite() {
        Some(if x > 0.0 { "unbounded" } else { "−unbounded" }.into())
    } else {
        None
    }
}

fn trim_fraction(mantissa: &str) -> &str {
    if mantissa.contains('.') {
        mantissa.trim_end_matches('0').trim_end_matches('.')
    } else {
        mantissa
    }
}

/// An exponent in superscript figures: `-8` is `⁻⁸`.
fn superscript(exponent: &str) -> String {
    exponent
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            '9' => '⁹',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_read_to_three_significant_digits() {
        assert_eq!(quantity(0.0), "0");
        assert_eq!(quantity(-0.0), "0");
        assert_eq!(quantity(9.587_27), "9.59");
        assert_eq!(quantity(7344.07), "7,340");
        assert_eq!(quantity(1567.82), "1,570");
        assert_eq!(quantity(0.044_067_8), "0.0441");
        assert_eq!(quantity(0.000_123), "0.000123");
        assert_eq!(quantity(999.5), "1,000");
        assert_eq!(quantity(999.4), "999");
        assert_eq!(quantity(2.5), "2.5");
        assert_eq!(quantity(120.0), "120");
        assert_eq!(quantity(208_962_425.0), "209,000,000");
        assert_eq!(quantity(-3.2), "−3.2");
        assert_eq!(quantity(-1234.0), "−1,230");
        assert_eq!(quantity(999_499_999_999_999.0), "999,000,000,000,000");
        assert_eq!(quantity(1e15), "1 × 10¹⁵");
        assert_eq!(quantity(f64::MAX), "1.8 × 10³⁰⁸");
        assert_eq!(quantity(1.719_14e-8), "1.72 × 10⁻⁸");
        assert_eq!(quantity(5e-324), "4.94 × 10⁻³²⁴");
    }

    #[test]
    fn what_is_not_finite_is_said_in_words() {
        for text in [
            quantity(f64::NAN),
            quantity(f64::INFINITY),
            quantity(f64::NEG_INFINITY),
            exact(f64::NAN),
            exact(f64::INFINITY),
            percent(f64::NAN),
            money(f64::INFINITY),
            probability(f64::NAN),
            month(f64::INFINITY),
            month(f64::NAN),
        ] {
            assert!(
                !text.contains("NaN") && !text.contains("inf"),
                "{text} is printed as such"
            );
        }
        assert_eq!(quantity(f64::INFINITY), "unbounded");
        assert_eq!(quantity(f64::NAN), "not a number");
    }

    #[test]
    fn exact_figures_keep_every_digit() {
        assert_eq!(exact(70_001.0), "70,001");
        assert_eq!(exact(70_000.0), "70,000");
        assert_eq!(exact(1234.5678), "1,234.5678");
        assert_eq!(exact(0.5), "0.5");
        assert_eq!(exact(-3.0), "−3");
        assert_eq!(exact(0.0), "0");
        assert_eq!(exact(18_446_744_073_709_552_000.0), "1.84 × 10¹⁹");
        assert_eq!(exact(999_999_999_999_999.0), "999,999,999,999,999");
    }

    #[test]
    fn counts_have_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(208_962_425), "208,962,425");
        assert_eq!(count(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn percentages_never_round_to_a_bound_they_did_not_reach() {
        assert_eq!(percent(9.587_27), "9.59%");
        assert_eq!(percent(38.4041), "38.4%");
        assert_eq!(percent(100.0), "100%");
        assert_eq!(percent(99.96), "99.96%");
        assert_eq!(percent(99.9999), "99.9999%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(0.000_123), "0.000123%");
        assert_eq!(percent(-5.0), "−5%");
        assert_eq!(share(0.199_2), "19.9%");
        assert_eq!(share(2.0 / 3.0), "66.7%");
    }

    #[test]
    fn probabilities_and_money() {
        assert_eq!(probability(0.008_963_66), "0.00896");
        assert_eq!(probability(1.0), "1");
        assert_eq!(money(18_000.0), "$18,000");
        assert_eq!(money(47_123.45), "$47,100");
        assert_eq!(money(2499.996), "$2,500");
        assert_eq!(money(999.5), "$1,000");
        assert_eq!(money(2.5), "$2.50");
        assert_eq!(money(0.04), "$0.04");
        assert_eq!(money(99.999), "$100");
        assert_eq!(money(-3.2), "−$3.20");
        assert_eq!(money(-0.001), "$0");
        assert_eq!(money(0.0), "$0");
        assert_eq!(money(1e18), "$1 × 10¹⁸");
    }

    #[test]
    fn months_read_now_at_zero() {
        assert_eq!(month(0.0), "now");
        assert_eq!(month(0.04), "now");
        assert_eq!(month(-1.0), "now");
        assert_eq!(month(2.06), "month 2.1");
        assert_eq!(month(24.0), "month 24.0");
        assert_eq!(month(1234.5), "month 1,234.5");
        assert_eq!(in_month(0.0), "now");
        assert_eq!(in_month(3.3), "in month 3.3");
    }
}
