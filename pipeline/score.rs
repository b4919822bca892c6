//! Scoring rules and the statistics behind every published number.
//!
//! This module owns the definitions: which responses count (self-evaluations
//! do not pool with resident ratings), when a response has a subscale score
//! (the half rule), the two-year cycles, and the formulas — the t-based 95%
//! confidence interval, the POMP transform, Cronbach's alpha, Welch's t-test
//! and Hedges' g. They are plain functions on numbers, tested against values
//! computed by hand or by an independent tool; `aggregate` applies them to
//! the dataset. No Polars here.

use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::instrument::{Catalogue, ItemKind};

/// The id of the score over all items of a response.
pub use crate::domain::TOTAL;

/// Whether ratings by this role enter the aggregates. Supervisors'
/// self-evaluations are a different perspective and are never pooled with
/// residents' ratings of them.
pub fn counts_in_aggregates(role: &str) -> bool {
    role != "supervisor_self"
}

/// What `aggregate` needs to know about one subscale (or the total) of an
/// instrument version.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleSpec {
    /// Instrument id.
    pub instrument: String,
    /// Instrument version.
    pub version: String,
    /// Subscale id, or `total`.
    pub scale_id: String,
    /// Construct it measures (links versions).
    pub construct: String,
    /// Number of scored items in it.
    pub n_items: u32,
    /// Minimum answered items for a score (the half rule).
    pub min_answered: u32,
    /// Minimum distinct respondents for a reliable score.
    pub reliability_min: u32,
    /// Minimum distinct respondents to publish.
    pub privacy_floor: u32,
    /// The total itself, or a subscale whose items count towards it: the
    /// total is (near) the item-weighted mean of these.
    pub in_total: bool,
}

/// The scale specs of every instrument version: each subscale with scored
/// (non-text) items, and the total over the scored items of subscales that
/// count towards it.
pub fn scale_specs(
    catalogue: &Catalogue,
    min_answered_fraction: f64,
    default_floor: u32,
) -> Vec<ScaleSpec> {
    let mut out = Vec::new();
    for inst in catalogue.iter() {
        // An instrument's own floor can raise the region's, never lower it.
        let floor = crate::domain::privacy_floor(default_floor, inst.privacy_floor);
        let scored = |sub: &str| {
            inst.items
                .iter()
                .filter(|i| i.subscale == sub && i.kind != ItemKind::Text)
                .count() as u32
        };
        let mut total = 0;
        for s in &inst.subscales {
            let n = scored(&s.id);
            if n == 0 {
                continue;
            }
            if s.in_total {
                total += n;
            }
            out.push(ScaleSpec {
                instrument: inst.id.clone(),
                version: inst.version.clone(),
                scale_id: s.id.clone(),
                construct: s.construct.clone(),
                n_items: n,
                min_answered: min_answered(n, min_answered_fraction),
                reliability_min: s.reliability_min,
                privacy_floor: floor,
                in_total: s.in_total,
            });
        }
        if total > 0 {
            out.push(ScaleSpec {
                instrument: inst.id.clone(),
                version: inst.version.clone(),
                scale_id: TOTAL.into(),
                construct: TOTAL.into(),
                n_items: total,
                min_answered: min_answered(total, min_answered_fraction),
                reliability_min: inst.reliability_min,
                privacy_floor: floor,
                in_total: true,
            });
        }
    }
    out
}

/// The scale ends of a subscale (or `total`): the instrument's scale, or a
/// grade's own scale when the subscale holds only grades.
pub fn scale_range(
    catalogue: &Catalogue,
    instrument: &str,
    version: &str,
    scale_id: &str,
) -> (f64, f64) {
    let Some(inst) = catalogue.get(instrument, version) else {
        return (0.0, 1.0);
    };
    let items: Vec<_> = inst
        .items
        .iter()
        .filter(|i| i.subscale == scale_id && i.kind != ItemKind::Text)
        .collect();
    match items.first() {
        Some(first) if items.iter().all(|i| i.kind == ItemKind::Grade) => inst.item_scale(first),
        _ => (inst.scale.min, inst.scale.max),
    }
}

/// The smallest number of answered items that is at least `fraction` of
/// `n_items` (half of 5 items is 3; never below 1).
pub fn min_answered(n_items: u32, fraction: f64) -> u32 {
    ((n_items as f64 * fraction) - 1e-9).ceil().max(1.0) as u32
}

/// The two-year cycle a year belongs to, e.g. 2024 -> "2023-2024" when the
/// first cycle starts in 2019 (`Period::cycle_of`).
pub fn cycle_of(year: i32, first_cycle_year: i32) -> String {
    crate::domain::Period::cycle_of(year, first_cycle_year).to_string()
}

/// The years of a period ("2024" or "2023-2024"; none for other text).
pub fn years_of(period: &str) -> Vec<i32> {
    crate::domain::Period::parse(period).map_or_else(Vec::new, |p| p.years())
}

/// The 97.5th percentile of Student's t with `df` degrees of freedom.
pub fn t_975(df: f64) -> Option<f64> {
    if df.is_nan() || df <= 0.0 {
        return None;
    }
    StudentsT::new(0.0, 1.0, df)
        .ok()
        .map(|t| t.inverse_cdf(0.975))
}

/// `t_975` of a whole number of degrees of freedom, each computed once:
/// the national aggregation needs it for hundreds of thousands of cells,
/// which share a few thousand values of n.
fn t_975_of(df: u64) -> Option<f64> {
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    const CACHED: usize = 1 << 13;
    // The value's bits; 0 for not yet computed (t is never +0.0).
    static CACHE: [AtomicU64; CACHED] = [const { AtomicU64::new(0) }; CACHED];
    let Some(slot) = usize::try_from(df).ok().and_then(|i| CACHE.get(i)) else {
        return t_975(df as f64);
    };
    match slot.load(Relaxed) {
        0 => {
            let t = t_975(df as f64)?;
            slot.store(t.to_bits(), Relaxed);
            Some(t)
        }
        bits => Some(f64::from_bits(bits)),
    }
}

/// The 95% confidence interval of a mean: mean ± t(0.975, n-1)·sd/√n.
/// None for fewer than 2 values.
pub fn mean_ci(mean: f64, sd: f64, n: u64) -> Option<(f64, f64)> {
    if n < 2 || !sd.is_finite() {
        return None;
    }
    let half = t_975_of(n - 1)? * sd / (n as f64).sqrt();
    Some((mean - half, mean + half))
}

/// The percentage of maximum possible: (mean − min) / (max − min) · 100.
pub fn pomp(value: f64, min: f64, max: f64) -> f64 {
    (value - min) / (max - min) * 100.0
}

/// Cronbach's alpha from the number of items, the sum of the items' sample
/// variances and the sample variance of the summed score. None when fewer
/// than 2 items or the total variance is zero.
pub fn cronbach_alpha(k: u32, sum_item_variances: f64, total_variance: f64) -> Option<f64> {
    if k < 2 || total_variance.is_nan() || total_variance <= 0.0 || !sum_item_variances.is_finite()
    {
        return None;
    }
    let k = k as f64;
    Some(k / (k - 1.0) * (1.0 - sum_item_variances / total_variance))
}

/// Cronbach's alpha of complete responses (rows) over items (columns), with
/// sample variances. None with fewer than 3 rows or 2 items.
pub fn cronbach_alpha_of(rows: &[Vec<f64>]) -> Option<f64> {
    let k = rows.first()?.len();
    if rows.len() < 3 || k < 2 {
        return None;
    }
    let var = |xs: &[f64]| {
        let n = xs.len() as f64;
        let m = xs.iter().sum::<f64>() / n;
        xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)
    };
    let item_vars: f64 = (0..k)
        .map(|j| var(&rows.iter().map(|r| r[j]).collect::<Vec<_>>()))
        .sum();
    let totals: Vec<f64> = rows.iter().map(|r| r.iter().sum()).collect();
    cronbach_alpha(k as u32, item_vars, var(&totals))
}

/// Summary statistics of one group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1).
    pub sd: f64,
    /// Number of values.
    pub n: u64,
}

/// Welch's t-test of `after` against `before`: (t, degrees of freedom,
/// two-sided p). None when a group has fewer than 2 values or both have no
/// variance.
pub fn welch(before: Summary, after: Summary) -> Option<(f64, f64, f64)> {
    if before.n < 2 || after.n < 2 {
        return None;
    }
    let (v1, v2) = (
        before.sd.powi(2) / before.n as f64,
        after.sd.powi(2) / after.n as f64,
    );
    let se2 = v1 + v2;
    if se2.is_nan() || se2 <= 0.0 {
        return None;
    }
    let t = (after.mean - before.mean) / se2.sqrt();
    let df = se2.powi(2) / (v1.powi(2) / (before.n - 1) as f64 + v2.powi(2) / (after.n - 1) as f64);
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    let p = 2.0 * (1.0 - dist.cdf(t.abs()));
    Some((t, df, p.clamp(0.0, 1.0)))
}

/// Hedges' g of `after` against `before`: the difference of means over the
/// pooled standard deviation, times the small-sample correction
/// J = 1 − 3 / (4(n1 + n2) − 9).
pub fn hedges_g(before: Summary, after: Summary) -> Option<f64> {
    let (n1, n2) = (before.n as f64, after.n as f64);
    if before.n < 2 || after.n < 2 {
        return None;
    }
    let pooled =
        (((n1 - 1.0) * before.sd.powi(2) + (n2 - 1.0) * after.sd.powi(2)) / (n1 + n2 - 2.0)).sqrt();
    if pooled.is_nan() || pooled <= 0.0 {
        return None;
    }
    let j = 1.0 - 3.0 / (4.0 * (n1 + n2) - 9.0);
    Some((after.mean - before.mean) / pooled * j)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(xs: &[f64]) -> Summary {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        Summary {
            mean,
            sd,
            n: xs.len() as u64,
        }
    }

    const A: [f64; 5] = [3.2, 3.8, 4.1, 4.4, 3.9];
    const B: [f64; 6] = [2.9, 3.1, 3.6, 3.3, 3.0, 3.4];

    #[test]
    fn welch_p_and_hedges_g_match_scipy() {
        // Reference: scipy 1.x, stats.ttest_ind(B, A, equal_var=False):
        // t = -2.9369694564848627, df = 6.2693916656305575,
        // p = 0.024748046446252548; Hedges' g by numpy from the textbook
        // formula: -1.7067980465193249. Tolerance 1e-9 (p: 1e-7, statrs'
        // incomplete beta).
        let (t, df, p) = welch(summary(&A), summary(&B)).unwrap();
        assert!((t - -2.9369694564848627).abs() < 1e-9, "{t}");
        assert!((df - 6.2693916656305575).abs() < 1e-9, "{df}");
        assert!((p - 0.024748046446252548).abs() < 1e-7, "{p}");
        let g = hedges_g(summary(&A), summary(&B)).unwrap();
        assert!((g - -1.7067980465193249).abs() < 1e-9, "{g}");
    }

    #[test]
    fn confidence_interval_by_hand() {
        // A: mean 3.88, sd 0.44384682 (by hand: squared deviations 0.4624,
        // 0.0064, 0.0484, 0.2704, 0.0004 sum to 0.788; /4 = 0.197).
        // t(0.975, 4) = 2.7764451051977934 (scipy.stats.t.ppf).
        let s = summary(&A);
        assert!((s.mean - 3.88).abs() < 1e-12);
        assert!((s.sd - 0.197f64.sqrt()).abs() < 1e-12);
        assert!((t_975(4.0).unwrap() - 2.7764451051977934).abs() < 1e-9);
        let (lo, hi) = mean_ci(s.mean, s.sd, s.n).unwrap();
        // 3.88 ± 2.7764451 · 0.4438468 / √5 = 3.88 ± 0.5511086
        assert!((lo - 3.3288913823629995).abs() < 1e-9, "{lo}");
        assert!((hi - 4.431108617637).abs() < 1e-9, "{hi}");
        assert_eq!(mean_ci(4.0, 0.0, 1), None);
    }

    #[test]
    fn cached_t_quantiles_are_the_computed_ones() {
        // Twice each (computed, then from the cache), inside and beyond the
        // cache; bit for bit what statrs gives.
        for df in [1u64, 4, 29, 500, 8191, 8192, 100_000] {
            for _ in 0..2 {
                assert_eq!(
                    t_975_of(df).map(f64::to_bits),
                    t_975(df as f64).map(f64::to_bits),
                    "{df}"
                );
            }
        }
        assert_eq!(t_975_of(0), None);
        // t(0.975, 29) = 2.045229642132703 (scipy.stats.t.ppf).
        assert!((t_975_of(29).unwrap() - 2.045229642132703).abs() < 1e-9);
    }

    #[test]
    fn cronbach_alpha_by_hand() {
        // Items 4,3,5,2,4 / 5,4,5,3,4 / 4,3,4,3,5: item variances 1.3, 0.7,
        // 0.7 (sum 2.7); totals 13,10,14,8,13 have variance 6.3;
        // alpha = 3/2 · (1 − 2.7/6.3) = 0.857142857 (= 6/7).
        let rows = vec![
            vec![4.0, 5.0, 4.0],
            vec![3.0, 4.0, 3.0],
            vec![5.0, 5.0, 4.0],
            vec![2.0, 3.0, 3.0],
            vec![4.0, 4.0, 5.0],
        ];
        let a = cronbach_alpha_of(&rows).unwrap();
        assert!((a - 6.0 / 7.0).abs() < 1e-12, "{a}");
        assert_eq!(cronbach_alpha_of(&rows[..2]), None);
        assert_eq!(cronbach_alpha(1, 1.0, 2.0), None);
        assert_eq!(cronbach_alpha(3, 0.0, 0.0), None);
    }

    #[test]
    fn half_rule_cycles_and_pomp() {
        assert_eq!(min_answered(5, 0.5), 3);
        assert_eq!(min_answered(4, 0.5), 2);
        assert_eq!(min_answered(1, 0.5), 1);
        assert_eq!(min_answered(35, 0.5), 18);
        assert_eq!(cycle_of(2019, 2019), "2019-2020");
        assert_eq!(cycle_of(2024, 2019), "2023-2024");
        assert_eq!(cycle_of(2018, 2019), "2017-2018");
        assert_eq!(years_of("2023-2024"), vec![2023, 2024]);
        assert_eq!(years_of("2024"), vec![2024]);
        assert_eq!(pomp(4.0, 1.0, 5.0), 75.0);
        assert_eq!(pomp(4.0, 1.0, 7.0), 50.0);
        assert!(!counts_in_aggregates("supervisor_self"));
        assert!(counts_in_aggregates("aios"));
    }

    #[test]
    fn specs_cover_subscales_and_total() {
        let cat = Catalogue::load(None).unwrap();
        let specs = scale_specs(&cat, 0.5, 4);
        let total = specs
            .iter()
            .find(|s| s.instrument == "d-rect" && s.version == "2016" && s.scale_id == TOTAL)
            .unwrap();
        assert_eq!(total.n_items, 35);
        assert_eq!(total.min_answered, 18);
        assert_eq!(total.reliability_min, 3);
        // The exit survey's grade is its own scale, not part of the total;
        // open answers are not scored at all.
        let exit_total = specs
            .iter()
            .find(|s| s.instrument == "exit" && s.scale_id == TOTAL)
            .unwrap();
        assert_eq!(exit_total.n_items, 8);
        assert!(!specs
            .iter()
            .any(|s| s.instrument == "exit" && s.scale_id == "comments"));
    }
}
