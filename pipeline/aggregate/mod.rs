//! Aggregation: response scores pooled per department, institution, RSO and
//! region, per year and per two-year cycle.
//!
//! This module owns the Polars pipeline over `dataset/responses` (with
//! `dataset`, the only door to Polars): response scores per subscale with
//! the half rule from one pass over each year partition (`pass`), pooled
//! means and standard deviations by lazy group-bys on numbered keys,
//! Cronbach's alpha from item and total variances, participation for
//! response rates; then confidence intervals, POMP and reliability from the
//! formulas in `score`. It returns plain `Cell`s: `privacy` suppresses them,
//! and only a protected table is written. It also derives the changes
//! between periods. It does not render anything.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

mod changes;
mod compute;
mod pass;

pub use changes::ChangeChain;
use compute::{
    compute_cycle, finish_cell, invited_per_unit, response_rate, Accumulated, AtomIndex,
    GroupCycles, Invited, Shared,
};
use pass::Pass;

use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::dataset::{parquet_files, partition_of};
use crate::error::{Error, Result};
use crate::score::{self, ScaleSpec};
pub use crate::table::Group;
use crate::table::{sort_cells, sort_item_counts, Table};

/// The groups of a dataset and what computing one needs.
pub struct Plan<'a> {
    config: &'a Config,
    /// The groups, by instrument and then cycle (in time order).
    pub groups: Vec<Group>,
    shared: Option<Shared>,
    specs: Vec<ScaleSpec>,
    invited: Invited,
}

/// Finds the dataset's groups and fingerprints them.
pub fn plan(config: &Config) -> Result<Plan<'_>> {
    let ds = &config.paths.dataset;
    let responses_dir = ds.join("responses");
    let files = parquet_files(&responses_dir)?;
    let mut comments = parquet_files(&ds.join("comments"))?;
    comments.sort();
    let cycles = config.cycles();
    let mut by_instrument: BTreeMap<String, BTreeMap<i32, Vec<PathBuf>>> = BTreeMap::new();
    for f in &files {
        let (instrument, year) = partition_of(f);
        by_instrument
            .entry(instrument)
            .or_default()
            .entry(year)
            .or_default()
            .push(f.clone());
    }
    let mut by_group: BTreeMap<(String, String), (Vec<i32>, Vec<PathBuf>)> = BTreeMap::new();
    for (instrument, years) in by_instrument {
        for span in linked_years(&years.keys().copied().collect::<Vec<_>>(), &cycles) {
            let g = by_group
                .entry((instrument.clone(), span_label(&span, cycles.region)))
                .or_default();
            for y in span {
                g.0.push(y);
                g.1.extend(years[&y].iter().cloned());
            }
        }
    }
    let settings = settings_fingerprint(config);
    let mut groups = Vec::with_capacity(by_group.len());
    for ((instrument, cycle), (mut years, mut files)) in by_group {
        years.sort_unstable();
        files.extend(
            comments
                .iter()
                .filter(|c| {
                    let (i, y) = partition_of(c);
                    i == instrument && years.contains(&y)
                })
                .cloned(),
        );
        files.sort();
        let mut h = Sha256::new();
        h.update(format!("{}\n{settings}\n", env!("CARGO_PKG_VERSION")).as_bytes());
        let mut bytes = 0;
        for f in &files {
            let size = std::fs::metadata(f).map_err(|e| Error::io(f, e))?.len();
            let rel = f.strip_prefix(ds).unwrap_or(f);
            h.update(format!("{} {size}\n", rel.display()).as_bytes());
            bytes += size;
        }
        groups.push(Group {
            instrument,
            cycle,
            years,
            fingerprint: hex::encode(h.finalize()),
            bytes,
        });
    }
    let specs = score::scale_specs(
        &config.catalogue,
        config.min_answered_fraction,
        config.privacy_floor,
    );
    let invited = invited_per_unit(&config.invitations, &config.registry);
    let shared = if files.is_empty() {
        None
    } else {
        // Each year of an instrument is read from its own partition's
        // files: chosen here, not found again by every query.
        let mut partitions: HashMap<(String, i32), Vec<PathBuf>> = HashMap::new();
        for f in &files {
            partitions
                .entry(partition_of(f))
                .or_default()
                .push(f.clone());
        }
        Some(Shared {
            partitions,
            path: responses_dir.clone(),
            file_names: crate::dataset::Dataset::open_read_only(ds)
                .manifest()?
                .into_iter()
                .map(|m| (m.source_sha256, m.source_file))
                .collect(),
        })
    };
    Ok(Plan {
        config,
        groups,
        shared,
        specs,
        invited,
    })
}

impl Plan<'_> {
    /// Every cell of one group (not yet protected), finished and sorted;
    /// only the group's partitions are read (partition pruning on the hive
    /// paths), so memory stays bounded by one group.
    pub fn compute(&self, group: &Group) -> Result<Table> {
        let Some(shared) = &self.shared else {
            return Ok(Table::default());
        };
        let mut acc = Accumulated::default();
        tracing::debug!(
            instrument = group.instrument,
            cycle = group.cycle,
            "aggregating"
        );
        // The subscales that count towards the instrument's total.
        let in_total = self
            .config
            .catalogue
            .iter()
            .filter(|i| i.id == group.instrument)
            .flat_map(|i| {
                i.subscales
                    .iter()
                    .filter(|s| s.in_total)
                    .map(move |s| (i.version.as_str(), s.id.as_str()))
            });
        let pass = Pass::new(&group.instrument, &self.specs, in_total);
        let cycles = self.config.cycles();
        let group_cycles = GroupCycles::new(&cycles, &group.years);
        compute_cycle(shared, pass, &group_cycles, &group.years, &mut acc)?;
        let Accumulated {
            data_until,
            data_until_by_cycle,
            item_counts,
            mut cells,
            mut atoms,
            participation,
            mut sources,
        } = acc;
        atoms.sort();
        sources.sort();
        let spec_of: HashMap<(&str, &str, &str), &ScaleSpec> = self
            .specs
            .iter()
            .map(|s| {
                (
                    (
                        s.instrument.as_str(),
                        s.version.as_str(),
                        s.scale_id.as_str(),
                    ),
                    s,
                )
            })
            .collect();
        let index = AtomIndex::new(&atoms);
        for c in cells.iter_mut() {
            let spec = spec_of
                .get(&(
                    c.instrument.as_str(),
                    c.instrument_version.as_str(),
                    c.scale_id.as_str(),
                ))
                .copied();
            finish_cell(c, spec, &self.config.registry, &index);
            c.response_rate = response_rate(c, &participation, &self.invited);
        }
        sort_cells(&mut cells);
        Ok(Table {
            data_until,
            data_until_by_cycle,
            item_counts,
            cells,
            atoms,
            sources,
            protected: false,
        })
    }
}

/// Computes every cell of the dataset (not yet protected): every group's,
/// one after the other, in one table.
pub fn compute(config: &Config) -> Result<Table> {
    let plan = plan(config)?;
    let mut all = Table::default();
    for g in &plan.groups {
        let t = plan.compute(g)?;
        let offset = all.atoms.len() as u32;
        all.atoms.extend(t.atoms);
        all.cells.extend(t.cells.into_iter().map(|mut c| {
            c.atoms.iter_mut().for_each(|a| *a += offset);
            c
        }));
        all.item_counts.extend(t.item_counts);
        all.sources.extend(t.sources);
        all.data_until_by_cycle.extend(t.data_until_by_cycle);
        if t.data_until > all.data_until {
            all.data_until = t.data_until;
        }
    }
    sort_cells(&mut all.cells);
    sort_item_counts(&mut all.item_counts);
    Ok(all)
}

/// The years of an instrument's data that one protection must see
/// together: two years with data are linked when a cycle of any grid in use
/// holds both (a cycle's cells are the sum of its years'). With every RSO
/// on the region's cycles these are the region's cycles; an RSO with cycles
/// of its own links the years of neighbouring region cycles (its cycle
/// 2020-2021 is 2020 of one and 2021 of the next), so they are computed and
/// protected as one group. Years in time order, each span too.
pub(crate) fn linked_years(years: &[i32], cycles: &crate::org::Cycles) -> Vec<Vec<i32>> {
    let grids = cycles.grids();
    let mut out: Vec<Vec<i32>> = Vec::new();
    let mut sorted = years.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    for y in sorted {
        let linked = out.last().and_then(|s| s.last()).is_some_and(|&prev| {
            grids.iter().any(|&g| {
                let c = crate::domain::Period::cycle_of(prev, g);
                c.years().contains(&y)
            })
        });
        match out.last_mut() {
            Some(span) if linked => span.push(y),
            _ => out.push(vec![y]),
        }
    }
    out
}

/// A group's name: its region cycle (`2023-2024`), or, for years linked
/// across region cycles, the first year of the first and the last of the
/// last (`2019-2024`).
pub(crate) fn span_label(years: &[i32], region_start: i32) -> String {
    let first = years.first().copied().unwrap_or(region_start);
    let last = years.last().copied().unwrap_or(first);
    let a = crate::domain::Period::cycle_of(first, region_start);
    let b = crate::domain::Period::cycle_of(last, region_start);
    if a == b {
        a.to_string()
    } else {
        format!("{}-{}", a.first_year(), b.last_year())
    }
}

/// What the aggregates depend on besides the data: the privacy floor and
/// interval width, the half rule, the cycles and every instrument's scales
/// and minimums.
pub fn settings_fingerprint(config: &Config) -> String {
    // The registry decides each department's RSO and region on the way
    // out, and the response rates: a corrected registry re-aggregates.
    let registry = std::fs::read(&config.paths.registry).unwrap_or_default();
    let specs = score::scale_specs(
        &config.catalogue,
        config.min_answered_fraction,
        config.privacy_floor,
    );
    let text = format!(
        "{:?}|{}|{}|{:?}",
        specs,
        config.first_cycle_year,
        config.min_interval_width,
        config
            .paths
            .invitations
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
    );
    let mut h = Sha256::new();
    h.update(text.as_bytes());
    h.update(&registry);
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cycles(own: Option<i32>) -> crate::org::Cycles {
        let start = own
            .map(|y| format!("cycle_start = {y}\n"))
            .unwrap_or_default();
        let text = format!(
            "[[regions]]\nid = \"r\"\nname = \"R\"\n[[institutions]]\nid = \"a\"\nname = \"A\"\nregion = \"r\"\n[[specialties]]\ncode = \"neu\"\nname = \"N\"\n[[rsos]]\nid = \"neu-r\"\nname = \"N\"\nspecialty = \"neu\"\nregion = \"r\"\n{start}members = [{{ institution = \"a\", valid_from = 2015-01-01 }}]\n"
        );
        let reg = crate::org::Registry::from_toml(&text, "r.toml").expect("registry");
        crate::org::Cycles::new(&reg, 2019)
    }

    #[test]
    fn groups_are_the_region_cycles_unless_an_rso_links_them() {
        let years = [2019, 2020, 2021, 2022, 2023, 2024];
        // Every RSO on the region's cycles: one group per cycle.
        let one = linked_years(&years, &cycles(None));
        assert_eq!(
            one,
            vec![vec![2019, 2020], vec![2021, 2022], vec![2023, 2024]]
        );
        let labels: Vec<String> = one.iter().map(|s| span_label(s, 2019)).collect();
        assert_eq!(labels, ["2019-2020", "2021-2022", "2023-2024"]);
        // A start of the same parity changes nothing.
        assert_eq!(linked_years(&years, &cycles(Some(2021))), one);
        // Cycles from 2020 link 2020 and 2021, 2022 and 2023: one group.
        let linked = linked_years(&years, &cycles(Some(2020)));
        assert_eq!(linked, vec![years.to_vec()]);
        assert_eq!(span_label(&linked[0], 2019), "2019-2024");
        // An instrument run every other year stays in groups of one year.
        let odd = linked_years(&[2019, 2021, 2023], &cycles(Some(2020)));
        assert_eq!(odd, vec![vec![2019], vec![2021], vec![2023]]);
        assert_eq!(span_label(&odd[1], 2019), "2021-2022");
    }
}
