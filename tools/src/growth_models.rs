//! The iterative models behind `forecast_growth`, kept apart from the tool so that their
//! accuracy can be tested on their own: Erlang C through the Erlang B recurrence, the Zipf
//! sums of a static top-C cache and Che's approximation of an LRU cache (exact sums for the
//! most popular items, an Euler–Maclaurin tail with a bound for the rest), and the closed-form
//! least-squares fit of the Universal Scalability Law, and the fit of a metric's growth from
//! its own history (least squares on ln(value), Student's t for its interval). `growth-models` in the knowledge base
//! explains each method; the exact reference sums at the end are what the tests measure
//! against.

use knowledge::Comparison;

/// A monthly growth rate as `ln(1 + g)`, the form every month count divides by.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rate {
    /// The growth, % a month.
    pub pct: f64,
    /// `ln(1 + pct / 100)`.
    pub log: f64,
}

impl Rate {
    pub(crate) fn from_pct(pct: f64) -> Self {
        Self {
            pct,
            log: (pct / 100.0).ln_1p(),
        }
    }

    /// The load multiple `month` months on.
    pub(crate) fn multiple(self, month: f64) -> f64 {
        (self.log * month).exp()
    }
}

/// Months until `current`, growing `monthly_growth_pct` a month, is past `line` as
/// `comparison` reads it (0 when it is now, `None` when never): what `diagnose_bottleneck`
/// reports as headroom, by the comparison its findings fire on.
pub(crate) fn months_at_growth(
    current: f64,
    comparison: Comparison,
    line: f64,
    monthly_growth_pct: f64,
) -> Option<f64> {
    months_past(
        current,
        comparison,
        line,
        Rate::from_pct(monthly_growth_pct),
    )
}

/// Months until `current`, moving at `rate`, is past `line` as `comparison` reads it (`> 85`
/// holds above 85, not at it): 0 when it holds now; ln(line / current) / ln(1 + g) when the
/// value moves towards the line (up for `>`/`>=`, down for `<`/`<=`), which is 0 for a value
/// exactly on a strict line that any growth takes past it; `None` when it never gets there
/// (moving away or flat, a zero start, or later than any finite month). The one comparison
/// both the diagnosis and the forecast apply, so that 85% is a warning in both.
pub(crate) fn months_past(
    current: f64,
    comparison: Comparison,
    line: f64,
    rate: Rate,
) -> Option<f64> {
    if comparison.holds(current, line) {
        return Some(0.0);
    }
    let rising = matches!(comparison, Comparison::Above | Comparison::AtLeast);
    let towards = if rising {
        rate.log > 0.0
    } else {
        rate.log < 0.0
    };
    if !towards || current <= 0.0 || line <= 0.0 {
        return None;
    }
    let months = (line.ln() - current.ln()) / rate.log;
    (months.is_finite() && months >= 0.0).then_some(months)
}

/// The comparison that holds exactly when `comparison` does not: `> 85` is left at `<= 85`.
/// A metric past a rising line recovers when it is back on this side of it.
pub(crate) fn left_behind(comparison: Comparison) -> Comparison {
    match comparison {
        Comparison::Above => Comparison::AtMost,
        Comparison::AtLeast => Comparison::Below,
        Comparison::Below => Comparison::AtLeast,
        Comparison::AtMost => Comparison::Above,
    }
}

/// Items summed exactly before the Euler–Maclaurin tail takes over. The tail's correction
/// terms fall like `i^(−α−1)`, so past a few thousand items they are far below 1e-9 of the
/// sums; the measured errors are in `growth-models#numerical-accuracy`.
pub const HEAD_ITEMS: usize = 4096;

/// Past this count (2^53) consecutive whole numbers are no longer distinct in f64.
const WHOLE_LIMIT: f64 = 9_007_199_254_740_992.0;

/// The most single-item steps from a solver's root to the first whole count that reaches a
/// target; the root is within a few items, so this only bounds the cost.
const MAX_STEPS: usize = 10_000;

/// The Erlang B and Erlang C probabilities of `servers` servers offered `offered` Erlangs
/// (arrival rate × service time), or `None` when the queue is unstable (offered ≥ servers).
/// The recurrence `B(k) = a B(k−1) / (k + a B(k−1))` keeps every step in (0, 1], so it neither
/// overflows nor loses digits for any number of servers; the cost is one step per server.
pub fn erlang(servers: u64, offered: f64) -> Option<(f64, f64)> {
    let c = servers as f64;
    if servers == 0 || offered.is_nan() || offered < 0.0 || offered >= c {
        return None;
    }
    let mut b = 1.0;
    for k in 1..=servers {
        b = offered * b / (k as f64 + offered * b);
    }
    let waiting = c * b / (c - offered * (1.0 - b));
    Some((b, waiting.clamp(0.0, 1.0)))
}

/// `expm1(t) / t`, 1 at t = 0, without losing digits near 0.
fn exprel(t: f64) -> f64 {
    if t.abs() < 1e-300 {
        1.0
    } else if t.abs() < 1.0 {
        t.exp_m1() / t
    } else {
        (t.exp() - 1.0) / t
    }
}

/// `∫_a^b x^(−s) dx` for 0 < a ≤ b, stable for s at and near 1 (where the textbook form
/// `(b^(1−s) − a^(1−s)) / (1 − s)` cancels).
pub fn power_integral(a: f64, b: f64, s: f64) -> f64 {
    if b <= a {
        return 0.0;
    }
    let span = (b / a).ln();
    let t = (1.0 - s) * span;
    if t.abs() < 1.0 {
        a.powf(1.0 - s) * span * exprel(t)
    } else {
        (b.powf(1.0 - s) - a.powf(1.0 - s)) / (1.0 - s)
    }
}

/// Nodes and weights of 8-point Gauss–Legendre quadrature on [−1, 1].
const GAUSS_8: [(f64, f64); 8] = [
    (-0.960_289_856_497_536_2, 0.101_228_536_290_376_26),
    (-0.796_666_477_413_626_7, 0.222_381_034_453_374_47),
    (-0.525_532_409_916_329, 0.313_706_645_877_887_3),
    (-0.183_434_642_495_649_8, 0.362_683_783_378_362),
    (0.183_434_642_495_649_8, 0.362_683_783_378_362),
    (0.525_532_409_916_329, 0.313_706_645_877_887_3),
    (0.796_666_477_413_626_7, 0.222_381_034_453_374_47),
    (0.960_289_856_497_536_2, 0.101_228_536_290_376_26),
];

/// `∫_a^b f(x) dx` by Gauss–Legendre in `u = ln x` over `panels` equal panels.
fn log_quadrature(a: f64, b: f64, panels: usize, f: impl Fn(f64) -> f64) -> f64 {
    if b <= a {
        return 0.0;
    }
    let (ua, ub) = (a.ln(), b.ln());
    let width = (ub - ua) / panels as f64;
    let mut total = 0.0;
    for p in 0..panels {
        let mid = ua + width * (p as f64 + 0.5);
        for (node, weight) in GAUSS_8 {
            let x = (mid + 0.5 * width * node).exp();
            total += weight * f(x) * x;
        }
    }
    total * 0.5 * width
}

/// A sum with the bound on its approximation error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounded {
    pub value: f64,
    pub error_bound: f64,
}

/// Zipf popularity over a catalog, with the powers of the most popular items computed once.
pub struct Zipf {
    alpha: f64,
    /// `i^(−α)` for i = 1..=HEAD_ITEMS.
    head: Vec<f64>,
    /// `Σ_{j≤i} j^(−α)`, the same indices.
    prefix: Vec<f64>,
}

impl Zipf {
    pub fn new(alpha: f64) -> Self {
        let head: Vec<f64> = (1..=HEAD_ITEMS).map(|i| (i as f64).powf(-alpha)).collect();
        let mut prefix = Vec::with_capacity(HEAD_ITEMS);
        let mut sum = 0.0;
        for w in &head {
            sum += w;
            prefix.push(sum);
        }
        Self {
            alpha,
            head,
            prefix,
        }
    }

    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// `Σ_{i≤n} i^(−α)` for a whole `n ≥ 0`: exact up to HEAD_ITEMS, then the integral, the
    /// end terms and the first derivative correction of Euler–Maclaurin. The bound is the
    /// size of that correction, which exceeds the remainder for a power law.
    pub fn partial_sum(&self, n: f64) -> Bounded {
        let n = n.floor();
        if n < 1.0 {
            return Bounded {
                value: 0.0,
                error_bound: 0.0,
            };
        }
        if n <= HEAD_ITEMS as f64 {
            return Bounded {
                value: self.prefix[n as usize - 1],
                error_bound: 0.0,
            };
        }
        let k = HEAD_ITEMS as f64;
        let a = self.alpha;
        let f = |x: f64| x.powf(-a);
        let df = |x: f64| -a * x.powf(-a - 1.0);
        let correction = (df(n) - df(k)) / 12.0;
        let value = self.prefix[HEAD_ITEMS - 1]
            + power_integral(k, n, a)
            + (f(n) - f(k)) / 2.0
            + correction;
        Bounded {
            value,
            error_bound: correction.abs(),
        }
    }

    /// The share of requests a static cache of the `cache` most popular of `catalog` items
    /// serves, with its error bound.
    pub fn static_hit(&self, cache: f64, catalog: f64) -> Bounded {
        let (cache, catalog) = (cache.floor(), catalog.floor());
        if cache >= catalog {
            return Bounded {
                value: 1.0,
                error_bound: 0.0,
            };
        }
        let top = self.partial_sum(cache);
        let all = self.partial_sum(catalog);
        let value = top.value / all.value;
        Bounded {
            value,
            error_bound: value
                * (top.error_bound / top.value.max(f64::MIN_POSITIVE)
                    + all.error_bound / all.value),
        }
    }

    /// The fewest items a static cache must hold to serve `target` (0 to 1) of the requests to
    /// `catalog` items.
    pub fn static_items_for(&self, target: f64, catalog: f64) -> f64 {
        let catalog = catalog.floor();
        let wanted = target * self.partial_sum(catalog).value;
        if wanted <= 0.0 {
            return 0.0;
        }
        if let Some(i) = self.prefix.iter().position(|&s| s >= wanted) {
            return ((i + 1) as f64).min(catalog);
        }
        // Beyond the head: the sum is increasing in n, so solve on ln n, then step to the
        // first whole n that reaches the target.
        let k = HEAD_ITEMS as f64;
        let root = solve_increasing(
            |u| self.partial_sum(u.exp().floor()).value - wanted,
            k.ln(),
            catalog.ln(),
            0.0,
        );
        let mut n = root.exp().floor().clamp(k, catalog);
        // The root lies within a few items of the answer; step to it only while a whole
        // number of items is representable (past 2^53, `n - 1 == n` and a step never ends),
        // and never more than a bounded number of steps.
        if n >= WHOLE_LIMIT {
            return n;
        }
        for _ in 0..MAX_STEPS {
            if n > k && self.partial_sum(n - 1.0).value >= wanted {
                n -= 1.0;
            } else {
                break;
            }
        }
        for _ in 0..MAX_STEPS {
            if n < catalog && self.partial_sum(n).value < wanted {
                n += 1.0;
            } else {
                break;
            }
        }
        n
    }

    /// The smallest catalog at which a static cache of `cache` items serves less than
    /// `target` of the requests, searched up to `largest`; `None` when it still serves the
    /// target there.
    pub fn static_catalog_below(&self, cache: f64, target: f64, largest: f64) -> Option<f64> {
        let top = self.partial_sum(cache).value;
        let limit = top / target;
        if self.partial_sum(largest).value <= limit {
            return None;
        }
        let lo = cache.max(1.0);
        if self.partial_sum(lo).value > limit {
            return Some(lo);
        }
        Some(
            solve_increasing(
                |u| self.partial_sum(u.exp()).value - limit,
                lo.ln(),
                largest.ln(),
                1e-12 * limit,
            )
            .exp(),
        )
    }

    /// Che's approximation at characteristic time `t` over `catalog` items: the expected
    /// number of items in the cache, `Σ (1 − e^(−qᵢ t))`, and the hit rate,
    /// `Σ qᵢ (1 − e^(−qᵢ t))`, each with its error bound.
    pub fn che(&self, t: f64, catalog: f64) -> (Bounded, Bounded) {
        let catalog = catalog.floor();
        let total = self.partial_sum(catalog);
        let norm = total.value;
        let c = t / norm; // qᵢ t = c i^(−α)
        let head_items = (HEAD_ITEMS as f64).min(catalog) as usize;
        let (mut count, mut mass) = (0.0, 0.0);
        for w in &self.head[..head_items] {
            let filled = -(-c * w).exp_m1();
            count += filled;
            mass += w * filled;
        }
        let (mut count_bound, mut mass_bound) = (0.0, 0.0);
        if catalog > HEAD_ITEMS as f64 {
            let (tail_count, tail_mass) = self.che_tail(c, HEAD_ITEMS as f64, catalog);
            count += tail_count.value;
            mass += tail_mass.value;
            count_bound = tail_count.error_bound;
            mass_bound = tail_mass.error_bound;
        }
        let hit = mass / norm;
        (
            Bounded {
                value: count,
                error_bound: count_bound,
            },
            Bounded {
                value: hit,
                error_bound: mass_bound / norm + hit * total.error_bound / norm,
            },
        )
    }

    /// `Σ_{k<i≤n}` of the count and mass terms, `1 − e^(−c i^(−α))` and
    /// `i^(−α) (1 − e^(−c i^(−α)))`, by Euler–Maclaurin. The integral splits where
    /// `y = c x^(−α)` passes 40 (above, `e^(−y)` is below 5e-18 and the term is 1 or `x^(−α)`)
    /// and 0.01 (below, five terms of the series of `1 − e^(−y)` leave less than 2e-15); only
    /// the band between, whose width in `ln x` is fixed, needs quadrature.
    fn che_tail(&self, c: f64, k: f64, n: f64) -> (Bounded, Bounded) {
        let a = self.alpha;
        let y = |x: f64| c * x.powf(-a);
        let full = (c / 40.0).powf(1.0 / a).clamp(k, n);
        let sparse = (c / 0.01).powf(1.0 / a).clamp(k, n);
        let mut count = full - k;
        let mut mass = power_integral(k, full, a);
        let panels = 48;
        count += log_quadrature(full, sparse, panels, |x| -(-y(x)).exp_m1());
        mass += log_quadrature(full, sparse, panels, |x| x.powf(-a) * -(-y(x)).exp_m1());
        // 1 − e^(−y) = y − y²/2 + y³/6 − y⁴/24 + y⁵/120 − …, and y^j = c^j x^(−jα).
        let mut coefficient = 1.0;
        for j in 1..=5 {
            coefficient *= if j == 1 { c } else { -c / j as f64 };
            let jf = j as f64;
            count += coefficient * power_integral(sparse, n, jf * a);
            mass += coefficient * power_integral(sparse, n, (jf + 1.0) * a);
        }
        let f = |x: f64| -(-y(x)).exp_m1();
        let g = |x: f64| x.powf(-a) * f(x);
        let df = |x: f64| {
            let yx = y(x);
            -(-yx).exp() * a * yx / x
        };
        let dg = |x: f64| {
            let yx = y(x);
            -(a / x) * x.powf(-a) * (-(-yx).exp_m1() + yx * (-yx).exp())
        };
        let count_correction = (df(n) - df(k)) / 12.0;
        let mass_correction = (dg(n) - dg(k)) / 12.0;
        count += (f(n) - f(k)) / 2.0 + count_correction;
        mass += (g(n) - g(k)) / 2.0 + mass_correction;
        (
            Bounded {
                value: count,
                error_bound: count_correction.abs(),
            },
            Bounded {
                value: mass,
                error_bound: mass_correction.abs(),
            },
        )
    }

    /// The characteristic time of an LRU cache of `cache` items over `catalog` items: the `t`
    /// at which Che's expected count equals `cache`. The count is increasing in `t`, at most
    /// `t` (since `1 − e^(−x) ≤ x`), so `t ≥ cache` brackets it from below.
    pub fn che_time(&self, cache: f64, catalog: f64) -> f64 {
        let lo = cache.max(f64::MIN_POSITIVE).ln();
        let count = |u: f64| self.che(u.exp(), catalog).0.value - cache;
        let mut hi = lo + 1.0;
        let mut steps = 0;
        while count(hi) < 0.0 && steps < 200 {
            hi += 4.0;
            steps += 1;
        }
        solve_increasing(count, lo, hi, 1e-11 * cache.max(1.0)).exp()
    }

    /// The LRU hit rate of `cache` items over `catalog` items by Che's approximation, with
    /// its error bound (the tail corrections of both sums, and the count's carried into `t`).
    pub fn lru_hit(&self, cache: f64, catalog: f64) -> Bounded {
        let (cache, catalog) = (cache.floor(), catalog.floor());
        if cache >= catalog {
            return Bounded {
                value: 1.0,
                error_bound: 0.0,
            };
        }
        if cache < 1.0 {
            return Bounded {
                value: 0.0,
                error_bound: 0.0,
            };
        }
        let t = self.che_time(cache, catalog);
        let (count, hit) = self.che(t, catalog);
        Bounded {
            value: hit.value,
            error_bound: hit.error_bound + hit.value * count.error_bound / cache,
        }
    }

    /// The fewest items an LRU cache over `catalog` items needs to reach the hit rate
    /// `target`: the hit rate and the count are both sums at a given `t`, so `t` is solved
    /// from the hit rate and the count read off.
    pub fn lru_items_for(&self, target: f64, catalog: f64) -> f64 {
        let catalog = catalog.floor();
        if target <= 0.0 {
            return 0.0;
        }
        let hit = |u: f64| self.che(u.exp(), catalog).1.value - target;
        let lo = 0.0_f64; // t = 1: about one item cached.
        if hit(lo) >= 0.0 {
            return 1.0;
        }
        let mut hi = 1.0;
        let mut steps = 0;
        while hit(hi) < 0.0 && steps < 200 {
            hi += 4.0;
            steps += 1;
        }
        let t = solve_increasing(hit, lo, hi, 1e-11).exp();
        self.che(t, catalog).0.value.ceil().min(catalog)
    }

    /// The smallest catalog at which an LRU cache of `cache` items hits less than `target`,
    /// searched up to `largest`; `None` when it still hits the target there.
    pub fn lru_catalog_below(&self, cache: f64, target: f64, largest: f64) -> Option<f64> {
        let shortfall = |u: f64| target - self.lru_hit(cache, u.exp()).value;
        let lo = (cache + 1.0).ln();
        if shortfall(largest.ln()) <= 0.0 {
            return None;
        }
        if shortfall(lo) > 0.0 {
            return Some(cache + 1.0);
        }
        Some(solve_increasing(shortfall, lo, largest.ln(), 1e-10).exp())
    }
}

/// The root of an increasing function on `[lo, hi]` (with `f(lo) ≤ 0 ≤ f(hi)` expected; the
/// nearer end otherwise) by the Illinois variant of regula falsi: superlinear on smooth
/// functions, never leaving the bracket. Stops once `|f| ≤ tolerance` (the sums it solves
/// carry rounding noise, below which the sign of `f` means nothing) or the bracket is as
/// narrow as the numbers allow, and after 100 steps at most.
pub fn solve_increasing(f: impl Fn(f64) -> f64, lo: f64, hi: f64, tolerance: f64) -> f64 {
    let (mut a, mut b) = (lo, hi);
    let (mut fa, mut fb) = (f(a), f(b));
    if fa >= 0.0 {
        return a;
    }
    if fb <= 0.0 {
        return b;
    }
    let mut side = 0;
    for _ in 0..100 {
        let x = if fb != fa {
            (a * fb - b * fa) / (fb - fa)
        } else {
            0.5 * (a + b)
        };
        let x = if x > a && x < b { x } else { 0.5 * (a + b) };
        let fx = f(x);
        if fx.abs() <= tolerance || (b - a).abs() <= 1e-14 * (1.0 + x.abs()) {
            return x;
        }
        if fx < 0.0 {
            a = x;
            fa = fx;
            if side == -1 {
                fb *= 0.5;
            }
            side = -1;
        } else {
            b = x;
            fb = fx;
            if side == 1 {
                fa *= 0.5;
            }
            side = 1;
        }
    }
    0.5 * (a + b)
}

/// The USL coefficients fitted to measurements `(nodes, throughput)`, one of them at one
/// node: least squares on `y = N X(1) / X(N) − 1 = κx² + (σ+κ)x`, `x = N − 1`, without an
/// intercept, solved from its 2×2 normal equations. Returns `(sigma, kappa, lambda)` as
/// fitted (negative values are left to the caller), or `None` when the equations are
/// singular (fewer than two distinct node counts above 1).
pub fn fit_usl(measurements: &[(f64, f64)]) -> Option<(f64, f64, f64)> {
    let ones: Vec<f64> = measurements
        .iter()
        .filter(|(n, _)| *n == 1.0)
        .map(|(_, x)| *x)
        .collect();
    if ones.is_empty() {
        return None;
    }
    let lambda = ones.iter().sum::<f64>() / ones.len() as f64;
    let (mut s2, mut s3, mut s4, mut sxy, mut sx2y) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(n, throughput) in measurements.iter().filter(|(n, _)| *n > 1.0) {
        let x = n - 1.0;
        let y = n * lambda / throughput - 1.0;
        s2 += x * x;
        s3 += x * x * x;
        s4 += x * x * x * x;
        sxy += x * y;
        sx2y += x * x * y;
    }
    let det = s4 * s2 - s3 * s3;
    if det.is_nan() || det.abs() <= 1e-12 * s4 * s2 {
        return None;
    }
    let kappa = (sx2y * s2 - s3 * sxy) / det;
    let linear = (s4 * sxy - s3 * sx2y) / det;
    Some((linear - kappa, kappa, lambda))
}

/// USL throughput on `nodes` nodes.
pub fn usl_throughput(sigma: f64, kappa: f64, lambda: f64, nodes: f64) -> f64 {
    lambda * nodes / (1.0 + sigma * (nodes - 1.0) + kappa * nodes * (nodes - 1.0))
}

/// The fewest whole nodes whose USL throughput reaches `load`, or `None` when no node count
/// does. Throughput is increasing up to the peak, so the answer is the first whole number at
/// or above the smaller root of `κ load N² + (σ load − κ load − λ) N + load (1 − σ) = 0`
/// (linear when κ = 0), checked against the throughput itself.
pub fn usl_nodes_for(sigma: f64, kappa: f64, lambda: f64, load: f64) -> Option<f64> {
    if load <= lambda {
        return Some(1.0);
    }
    let b = sigma * load - kappa * load - lambda;
    let c = load * (1.0 - sigma);
    let root = if kappa > 0.0 {
        let a = kappa * load;
        let disc = b * b - 4.0 * a * c;
        if disc < 0.0 {
            return None;
        }
        // The smaller root, in the form that does not cancel (b < 0 whenever roots are > 0).
        let q = -0.5 * (b - disc.sqrt());
        if q <= 0.0 {
            return None;
        }
        c / q
    } else {
        if b >= 0.0 {
            return None;
        }
        c / -b
    };
    if !root.is_finite() {
        return None;
    }
    let mut n = root.ceil().max(1.0);
    if n > 1.0 && usl_throughput(sigma, kappa, lambda, n - 1.0) >= load {
        n -= 1.0;
    }
    if usl_throughput(sigma, kappa, lambda, n) < load {
        n += 1.0;
        if usl_throughput(sigma, kappa, lambda, n) < load {
            return None;
        }
    }
    Some(n)
}

/// The least-squares line through `(day, ln value)`: the growth of a metric from its own
/// history (`growth-models#growth-from-history`). Only the numerics live here; the monthly
/// rate and its interval are the formula rows that `trend::TrendRules` evaluates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogLinearFit {
    /// The fitted slope of ln(value) per day.
    pub slope_per_day: f64,
    /// The fitted ln(value) at day 0.
    pub intercept: f64,
    /// The slope's standard error, `s / √Sxx` with `s² = SSE / (n − 2)`.
    pub slope_standard_error: f64,
    /// The share of the variance of ln(value) the line explains (0 when ln(value) never varies).
    pub r_squared: f64,
    /// The points fitted (those with a positive, finite value).
    pub points: usize,
    /// Points left out because their value was 0, negative or not finite (ln is undefined).
    pub dropped: usize,
}

impl LogLinearFit {
    /// The fitted value on `day`: `e^(intercept + slope × day)`.
    pub fn fitted(&self, day: f64) -> f64 {
        (self.intercept + self.slope_per_day * day).exp()
    }

    /// Degrees of freedom of the slope's Student's t: n − 2.
    pub fn degrees_of_freedom(&self) -> f64 {
        self.points as f64 - 2.0
    }
}

/// The spread of ln(value) below which a series counts as constant: 1e-9 is a relative
/// difference of one part in a billion, far below any measurement and far above the rounding
/// of double-precision arithmetic (1e-16).
const CONSTANT_SPREAD: f64 = 1e-9;

/// Ordinary least squares of ln(value) on day over `points` `(day, value)`, or `None` with
/// fewer than three usable points or when every point falls on one day (the slope is then
/// undefined). Sums are taken about the means, which keeps them exact enough for any window.
pub fn fit_log_linear(points: &[(f64, f64)]) -> Option<LogLinearFit> {
    let usable: Vec<(f64, f64)> = points
        .iter()
        .filter(|(day, value)| day.is_finite() && value.is_finite() && *value > 0.0)
        .map(|&(day, value)| (day, value.ln()))
        .collect();
    let n = usable.len();
    if n < 3 {
        return None;
    }
    let count = n as f64;
    let mean_x = usable.iter().map(|p| p.0).sum::<f64>() / count;
    let mean_y = usable.iter().map(|p| p.1).sum::<f64>() / count;
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for &(x, y) in &usable {
        sxx += (x - mean_x) * (x - mean_x);
        sxy += (x - mean_x) * (y - mean_y);
        syy += (y - mean_y) * (y - mean_y);
    }
    if sxx <= 0.0 {
        return None;
    }
    // Peaks equal to nine significant digits are a constant series: what is left is the
    // rounding of the arithmetic that produced them (a rate, a quantile), not growth, and a
    // line through it would have an interval narrow enough to exclude 0 by accident.
    let spread = usable
        .iter()
        .map(|&(_, y)| (y - mean_y).abs())
        .fold(0.0, f64::max);
    if spread < CONSTANT_SPREAD {
        return Some(LogLinearFit {
            slope_per_day: 0.0,
            intercept: mean_y,
            slope_standard_error: 0.0,
            r_squared: 0.0,
            points: n,
            dropped: points.len() - n,
        });
    }
    let slope = sxy / sxx;
    let intercept = mean_y - slope * mean_x;
    let sse: f64 = usable
        .iter()
        .map(|&(x, y)| {
            let residual = y - intercept - slope * x;
            residual * residual
        })
        .sum();
    let sse = sse.max(0.0);
    Some(LogLinearFit {
        slope_per_day: slope,
        intercept,
        slope_standard_error: (sse / (count - 2.0) / sxx).sqrt(),
        r_squared: if syy > 0.0 {
            (1.0 - sse / syy).clamp(0.0, 1.0)
        } else {
            0.0
        },
        points: n,
        dropped: points.len() - n,
    })
}

/// The `probability` quantile of Student's t with `degrees_of_freedom` (≥ 1) degrees of
/// freedom, for `probability` in (0, 1): the inverse of its distribution function, found by
/// bisection to 1e-12. `NaN` outside those ranges.
pub fn student_t_quantile(probability: f64, degrees_of_freedom: f64) -> f64 {
    let valid = probability > 0.0 && probability < 1.0 && degrees_of_freedom >= 1.0;
    if !valid {
        return f64::NAN;
    }
    if probability < 0.5 {
        return -student_t_quantile(1.0 - probability, degrees_of_freedom);
    }
    if probability == 0.5 {
        return 0.0;
    }
    // The upper tail P(T > t) = I_{ν/(ν+t²)}(ν/2, 1/2) / 2 falls as t grows; widen until it
    // is below the target, then halve the bracket.
    let tail = 1.0 - probability;
    let upper = |t: f64| {
        0.5 * incomplete_beta(
            degrees_of_freedom / (degrees_of_freedom + t * t),
            degrees_of_freedom / 2.0,
            0.5,
        )
    };
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    while upper(hi) > tail {
        lo = hi;
        hi *= 2.0;
        if hi > 1e12 {
            return f64::INFINITY;
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if upper(mid) > tail {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-12 * hi.max(1.0) {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// The regularized incomplete beta function I_x(a, b), by its continued fraction (modified
/// Lentz), taken on the side where it converges fast (W. H. Press et al., *Numerical
/// Recipes*, 3rd ed., §6.4).
fn incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_fraction(x, a, b) / a
    } else {
        1.0 - ln_front.exp() * beta_fraction(1.0 - x, b, a) / b
    }
}

fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=1000 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// ln Γ(x) for x > 0 by the Lanczos approximation (g = 7, nine coefficients), accurate to
/// about 1e-15 relative.
fn ln_gamma(x: f64) -> f64 {
    // The published coefficients, to the digits they are published with.
    #[allow(clippy::excessive_precision)]
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_93,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_13,
        -176.615_029_162_140_59,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_571_6e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEFFICIENTS[0];
    for (i, c) in COEFFICIENTS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// Reference: the static hit rate by exact sums over every item (O(catalog); tests only).
pub fn exact_static_hit(alpha: f64, cache: u64, catalog: u64) -> f64 {
    let (mut top, mut all) = (0.0, 0.0);
    for i in 1..=catalog {
        let w = (i as f64).powf(-alpha);
        all += w;
        if i <= cache {
            top += w;
        }
    }
    top / all
}

/// Reference: Che's LRU hit rate by exact sums over every item, `t` by bisection
/// (O(catalog × 200); tests only).
pub fn exact_lru_hit(alpha: f64, cache: u64, catalog: u64) -> f64 {
    let weights: Vec<f64> = (1..=catalog).map(|i| (i as f64).powf(-alpha)).collect();
    let norm: f64 = weights.iter().sum();
    let count = |t: f64| -> f64 { weights.iter().map(|w| -(-w / norm * t).exp_m1()).sum() };
    let target = cache as f64;
    let (mut lo, mut hi) = (target, 2.0 * target);
    while count(hi) < target {
        lo = hi;
        hi *= 2.0;
    }
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if count(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let t = 0.5 * (lo + hi);
    weights
        .iter()
        .map(|w| w / norm * -(-w / norm * t).exp_m1())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_integral_is_smooth_through_one() {
        let at_one = power_integral(10.0, 1e6, 1.0);
        assert!((at_one - (1e5_f64).ln()).abs() < 1e-12);
        let near = power_integral(10.0, 1e6, 1.0 + 1e-9);
        assert!((near - at_one).abs() < 1e-7);
        let two = power_integral(1.0, 2.0, 2.0);
        assert!((two - 0.5).abs() < 1e-15);
    }
}
