//! The numerical methods of `forecast_growth` against exact answers: the Zipf cache hit rates
//! (static and Che's LRU) against sums over every item, Erlang C against its textbook sum, and
//! the closed-form USL fit against points generated from known coefficients. The largest
//! errors measured here are written in `growth-models#numerical-accuracy`.

use tools::growth_models::{
    Zipf, erlang, exact_lru_hit, exact_static_hit, fit_usl, usl_nodes_for, usl_throughput,
};

/// The largest relative error of the hit rates over a grid, and the largest reported bound.
fn worst_errors(catalog: u64, caches: &[u64], alphas: &[f64]) -> (f64, f64) {
    let (mut worst, mut bound) = (0.0_f64, 0.0_f64);
    for &alpha in alphas {
        let zipf = Zipf::new(alpha);
        for &cache in caches {
            let exact = exact_static_hit(alpha, cache, catalog);
            let approx = zipf.static_hit(cache as f64, catalog as f64);
            let error = (approx.value - exact).abs() / exact;
            worst = worst.max(error);
            bound = bound.max(approx.error_bound / exact);
            assert!(
                error < 1e-3,
                "static α {alpha} C {cache} N {catalog}: {} vs exact {exact}",
                approx.value
            );
            let exact = exact_lru_hit(alpha, cache, catalog);
            let approx = zipf.lru_hit(cache as f64, catalog as f64);
            let error = (approx.value - exact).abs() / exact;
            worst = worst.max(error);
            bound = bound.max(approx.error_bound / exact);
            assert!(
                error < 1e-3,
                "lru α {alpha} C {cache} N {catalog}: {} vs exact {exact}",
                approx.value
            );
        }
    }
    (worst, bound)
}

#[test]
fn cache_hit_rates_match_exact_sums_at_a_hundred_thousand_items() {
    let (worst, bound) = worst_errors(
        100_000,
        &[1_000, 5_000, 20_000, 50_000],
        &[0.6, 0.8, 0.999, 1.0, 1.001, 1.2],
    );
    eprintln!("N = 1e5: largest relative error {worst:e}, largest bound {bound:e}");
    assert!(worst < 1e-6, "largest relative error {worst:e}");
}

/// Slow in a debug build: `cargo test --release -p scale-advisor-tools --test forecast_numerics -- --ignored`.
#[test]
#[ignore]
fn cache_hit_rates_match_exact_sums_at_ten_million_items() {
    let (worst, bound) = worst_errors(
        10_000_000,
        &[10_000, 100_000, 1_000_000],
        &[0.6, 0.8, 1.0, 1.2],
    );
    eprintln!("N = 1e7: largest relative error {worst:e}, largest bound {bound:e}");
    assert!(worst < 1e-6, "largest relative error {worst:e}");
}

#[test]
fn a_hundred_million_items_answer_well_under_fifty_milliseconds() {
    let start = std::time::Instant::now();
    for alpha in [0.7, 1.0] {
        let zipf = Zipf::new(alpha);
        let lru = zipf.lru_hit(1e6, 1e8);
        let top = zipf.static_hit(1e6, 1e8);
        assert!(lru.value > 0.0 && lru.value < top.value && top.value < 1.0);
        assert!(lru.error_bound < 1e-6 && top.error_bound < 1e-6);
    }
    let elapsed = start.elapsed();
    eprintln!("two α, static and LRU at N = 1e8: {elapsed:?}");
    // Generous for a debug build on a shared machine; the criterion bench times the release.
    assert!(elapsed.as_millis() < 2000, "{elapsed:?}");
}

#[test]
fn inverse_cache_sizes_reach_the_target() {
    for alpha in [0.8, 1.0] {
        let zipf = Zipf::new(alpha);
        for catalog in [50_000.0, 1e7] {
            let items = zipf.static_items_for(0.8, catalog);
            assert!(zipf.static_hit(items, catalog).value >= 0.8);
            assert!(zipf.static_hit(items - 1.0, catalog).value < 0.8);
            let items = zipf.lru_items_for(0.8, catalog);
            let hit = zipf.lru_hit(items, catalog).value;
            assert!((hit - 0.8).abs() < 1e-3, "α {alpha} N {catalog}: {hit}");
        }
    }
}

/// Erlang C from its defining sum, for small server counts where the sum is exact enough:
/// C = (a^c / c!) (c / (c − a)) / (Σ_{k<c} a^k / k! + (a^c / c!) (c / (c − a))).
fn erlang_c_by_sum(servers: u32, offered: f64) -> f64 {
    let mut term = 1.0;
    let mut sum = 0.0;
    for k in 0..servers {
        sum += term;
        term *= offered / f64::from(k + 1);
    }
    let last = term * f64::from(servers) / (f64::from(servers) - offered);
    last / (sum + last)
}

#[test]
fn erlang_c_matches_the_sum_and_the_hand_values() {
    // 1 server: C = ρ. 2 servers, a = 1: B = 1/5, C = 2 × 0.2 / (2 − 1 × 0.8) = 1/3.
    let (_, c1) = erlang(1, 0.7).expect("stable");
    assert!((c1 - 0.7).abs() < 1e-12);
    let (b2, c2) = erlang(2, 1.0).expect("stable");
    assert!((b2 - 0.2).abs() < 1e-12 && (c2 - 1.0 / 3.0).abs() < 1e-12);
    // 10 servers at a = 8: B(10, 8) = 0.121661, C = 10 × B / (10 − 8 (1 − B)) = 0.409180.
    let (b, c) = erlang(10, 8.0).expect("stable");
    assert!((b - 0.121_661_064).abs() < 1e-8, "{b}");
    assert!((c - 0.409_180_151).abs() < 1e-8, "{c}");
    for servers in [1_u32, 3, 17, 60] {
        for load in [0.1, 0.5, 0.9, 0.99] {
            let offered = load * f64::from(servers);
            let (_, c) = erlang(u64::from(servers), offered).expect("stable");
            let by_sum = erlang_c_by_sum(servers, offered);
            assert!(
                (c - by_sum).abs() < 1e-10,
                "c {servers} a {offered}: {c} vs {by_sum}"
            );
        }
    }
    // Thousands of servers, where a^c / c! overflows: still a probability.
    let (_, c) = erlang(5000, 4900.0).expect("stable");
    assert!(c.is_finite() && c > 0.0 && c < 1.0);
    assert!(erlang(4, 4.0).is_none());
}

#[test]
fn usl_fit_recovers_known_coefficients_exactly() {
    for (sigma, kappa, lambda) in [(0.05, 0.001, 1000.0), (0.2, 0.0, 50.0), (0.0, 0.02, 7.5)] {
        let points: Vec<(f64, f64)> = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]
            .iter()
            .map(|&n| (n, usl_throughput(sigma, kappa, lambda, n)))
            .collect();
        let (s, k, l) = fit_usl(&points).expect("a regular fit");
        assert!((s - sigma).abs() < 1e-9, "σ {s} vs {sigma}");
        assert!((k - kappa).abs() < 1e-9, "κ {k} vs {kappa}");
        assert!((l - lambda).abs() < 1e-9, "λ {l} vs {lambda}");
    }
    assert!(fit_usl(&[(1.0, 10.0), (2.0, 19.0), (2.0, 18.0)]).is_none());
    assert!(fit_usl(&[(2.0, 10.0), (3.0, 19.0), (4.0, 18.0)]).is_none());
}

#[test]
fn usl_nodes_needed_by_hand() {
    // σ 0.05, κ 0.001, λ 1000: X(8) = 8000 / (1 + 0.35 + 0.056) = 5689.9; X(7) = 7000 / (1 + 0.3
    // + 0.042) = 5216.1. So 5500 per second needs 8 nodes.
    assert_eq!(usl_nodes_for(0.05, 0.001, 1000.0, 5500.0), Some(8.0));
    assert_eq!(usl_nodes_for(0.05, 0.001, 1000.0, 900.0), Some(1.0));
    // The peak is X(30.8) = 9038: 9100 per second is beyond every node count.
    assert_eq!(usl_nodes_for(0.05, 0.001, 1000.0, 9100.0), None);
    // κ = 0 (Amdahl): X → λ/σ = 5000; 4000 needs N with 1000N / (1 + 0.2(N−1)) ≥ 4000: N = 16.
    assert_eq!(usl_nodes_for(0.2, 0.0, 1000.0, 4000.0), Some(16.0));
}
