//! The growth fit of a metric's history (contract §8 `trends`) against exact answers: Student's
//! t quantiles and a small regression computed to 30 digits (mpmath), an exact exponential
//! whose rate is known, and the cases that must not pass a rate on as a fact.

use knowledge::Knowledge;
use tools::growth_models::{fit_log_linear, student_t_quantile};
use tools::trend::TrendRules;

fn rules() -> TrendRules {
    TrendRules::load(&Knowledge::embedded().unwrap()).unwrap()
}

fn close(actual: f64, expected: f64, relative: f64) -> bool {
    (actual - expected).abs() <= relative * expected.abs().max(1e-300)
}

#[test]
fn student_t_quantiles_match_the_exact_values() {
    // The 0.975 quantile (two-sided 95%), computed with mpmath's regularized incomplete beta.
    for (df, exact) in [
        (1.0, 12.706_204_736_174_705),
        (2.0, 4.302_652_729_749_464),
        (5.0, 2.570_581_835_636_315_5),
        (12.0, 2.178_812_829_667_229),
        (28.0, 2.048_407_141_795_245),
        (88.0, 1.987_289_864_831_17),
        (1000.0, 1.962_339_080_826_408_5),
    ] {
        let t = student_t_quantile(0.975, df);
        assert!(close(t, exact, 1e-9), "df {df}: {t} vs {exact}");
        assert!(close(student_t_quantile(0.025, df), -exact, 1e-9));
    }
    assert!(student_t_quantile(0.975, 0.5).is_nan());
    assert!(student_t_quantile(1.0, 3.0).is_nan());
}

#[test]
fn a_small_regression_matches_the_exact_fit() {
    // ln(peak) = 0, 0.1, 0.3, 0.2, 0.5 on days 0..4: slope 0.11, intercept 0, SE 0.03,
    // R² 0.8175675…, t(0.975, 3) = 3.18244630528371 (exact values from mpmath, 30 digits).
    let points: Vec<(f64, f64)> = [0.0, 0.1, 0.3, 0.2, 0.5]
        .iter()
        .enumerate()
        .map(|(day, ln)| (day as f64, f64::exp(*ln)))
        .collect();
    let line = fit_log_linear(&points).unwrap();
    assert!(close(line.slope_per_day, 0.11, 1e-12));
    assert!(line.intercept.abs() < 1e-12);
    assert!(close(line.slope_standard_error, 0.03, 1e-10));
    assert!(close(line.r_squared, 0.817_567_567_567_567_6, 1e-12));
    let fit = rules().fit(&points).unwrap();
    assert!(close(fit.t_quantile, 3.182_446_305_283_709_6, 1e-9));
    assert!(close(fit.monthly_growth_pct, 2_744.934_108_934_733, 1e-9));
    assert!(close(fit.ci95_pct[0], 55.605_491_490_340_49, 1e-8));
    assert!(close(fit.ci95_pct[1], 51_913.910_348_933_24, 1e-8));
    assert_eq!(fit.points, 5);
    // Five days are fewer than two weeks: the rate is shown, never passed on as a fact.
    assert!(!fit.significant);
    assert!(
        fit.why_not_significant
            .as_deref()
            .unwrap()
            .contains("only 5 daily peaks")
    );
    // The working shows the formula row that computed the value.
    assert!(fit.workings[0].formula.starts_with(
        "fitted_monthly_growth_pct = (exp(days_per_month × slope_per_day) − 1) × 100"
    ));
}

#[test]
fn an_exact_exponential_gives_its_own_rate() {
    // 10% a month, sampled once a day for 90 days (a month is 30.4375 days).
    let points: Vec<(f64, f64)> = (0..90)
        .map(|day| {
            (
                f64::from(day),
                250.0 * 1.1_f64.powf(f64::from(day) / 30.4375),
            )
        })
        .collect();
    let fit = rules().fit(&points).unwrap();
    assert!(
        close(fit.monthly_growth_pct, 10.0, 1e-9),
        "{}",
        fit.monthly_growth_pct
    );
    assert!(close(fit.ci95_pct[0], 10.0, 1e-6) && close(fit.ci95_pct[1], 10.0, 1e-6));
    assert!(close(fit.r_squared, 1.0, 1e-12));
    assert!(fit.significant);
    assert!(close(fit.fitted(89.0), points[89].1, 1e-9));
}

#[test]
fn a_flat_noisy_history_is_not_significant() {
    // A weekly rhythm around a constant level: no trend, and the interval says so.
    let points: Vec<(f64, f64)> = (0..60)
        .map(|day| {
            let weekday = f64::from(day % 7);
            (f64::from(day), 100.0 * (1.0 + 0.2 * (weekday - 3.0) / 3.0))
        })
        .collect();
    let fit = rules().fit(&points).unwrap();
    assert!(
        fit.ci95_pct[0] < 0.0 && fit.ci95_pct[1] > 0.0,
        "{:?}",
        fit.ci95_pct
    );
    assert!(!fit.significant);
    assert!(fit.why_not_significant.unwrap().contains("holds 0"));
    // Peaks equal but for the rounding of the arithmetic behind them are constant: no
    // interval that excludes 0 by a hair.
    let rounding: Vec<(f64, f64)> = (0..30)
        .map(|d| (f64::from(d), 0.2375 * (1.0 + 1e-15 * f64::from(d % 3))))
        .collect();
    let fit = rules().fit(&rounding).unwrap();
    assert_eq!((fit.monthly_growth_pct, fit.ci95_pct), (0.0, [0.0, 0.0]));
    assert!(!fit.significant);
    // A constant series has nothing to explain.
    let constant: Vec<(f64, f64)> = (0..30).map(|d| (f64::from(d), 42.0)).collect();
    let fit = rules().fit(&constant).unwrap();
    assert_eq!((fit.monthly_growth_pct, fit.r_squared), (0.0, 0.0));
    assert!(!fit.significant);
}

#[test]
fn peaks_without_a_logarithm_are_left_out_and_too_few_give_no_fit() {
    let mut points: Vec<(f64, f64)> = (0..20)
        .map(|day| (f64::from(day), 10.0 * 1.05_f64.powf(f64::from(day))))
        .collect();
    points[3].1 = 0.0;
    points[4].1 = f64::NAN;
    let fit = rules().fit(&points).unwrap();
    assert_eq!((fit.points, fit.dropped_points), (18, 2));
    assert!(fit.significant);
    assert!(rules().fit(&[(0.0, 1.0), (1.0, 2.0)]).is_none());
    assert!(rules().fit(&[(1.0, 1.0), (1.0, 2.0), (1.0, 3.0)]).is_none());
}
