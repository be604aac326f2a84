//! Suggesting the name that was meant when a name is not known.

/// The candidate closest to `name` by edit distance, if any is close enough to be a plausible
/// typo (at most a third of the longer name's length, and at least 1 edit allowed).
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    let name_chars = name.chars().count();
    for candidate in candidates {
        // The distance costs len(name) × len(candidate): seconds for a name a megabyte long.
        // A name more than twice as long as the candidate is no typo of it; it can only be the
        // candidate with a suffix added, and then the distance is the difference in length.
        let candidate_chars = candidate.chars().count();
        let distance = if name_chars > 2 * candidate_chars + 16 {
            if !name.starts_with(candidate) {
                continue;
            }
            name_chars - candidate_chars
        } else {
            edit_distance(name, candidate)
        };
        if best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    let (distance, candidate) = best?;
    let allowed = (name.len().max(candidate.len()) / 3).max(1);
    // A name that merely lacks or adds a unit suffix (`db_cpu` for `db_cpu_pct`) is also close.
    let prefix = candidate.starts_with(name) || name.starts_with(candidate);
    (distance <= allowed || prefix).then_some(candidate)
}

/// The candidate a renamed `name` most likely became: the shortest candidate that starts with
/// `name` (`stages` → `stages-v2`), else the shortest that contains it or is contained in it,
/// else the [`closest`] one.
pub fn resembling<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str> + Clone,
) -> Option<&'a str> {
    let shortest = |keep: &dyn Fn(&str) -> bool| {
        candidates
            .clone()
            .into_iter()
            .filter(|c| !name.is_empty() && !c.is_empty() && keep(c))
            .min_by_key(|c| c.len())
    };
    shortest(&|c| c.starts_with(name))
        .or_else(|| shortest(&|c| c.contains(name) || name.contains(c)))
        .or_else(|| closest(name, candidates))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_intended_name() {
        let names = ["db_cpu_pct", "app_cpu_pct", "p95_latency_ms"];
        assert_eq!(closest("db_cpu_pc", names), Some("db_cpu_pct"));
        assert_eq!(closest("db_cpu", names), Some("db_cpu_pct"));
        assert_eq!(closest("p95_latency", names), Some("p95_latency_ms"));
        assert_eq!(closest("zzzzzzzz", names), None);
    }

    #[test]
    fn a_huge_name_is_answered_at_once() {
        let names = ["db_cpu_pct", "app_cpu_pct"];
        let huge = "x".repeat(10_000_000);
        let started = std::time::Instant::now();
        assert_eq!(closest(&huge, names), None);
        assert_eq!(
            closest(&format!("db_cpu_pct{huge}"), names),
            Some("db_cpu_pct")
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
}
