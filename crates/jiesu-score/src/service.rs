//! Scorecards straight from a database: the one entry point the CLI and the HTTP layer share.

use crate::drill::{drill, Drill, Measure, Scope};
use crate::facts::{load_facts, CacheMode, Columns, FactSource, FactTable};
use crate::month::Month;
use crate::policy::{PolicyError, PolicySet};
use crate::score::{score_levels, Level, ScoreOptions, Scorecard};
use anyhow::{Context, Result};
use jiesu_domain::category::CategoryTree;
use jiesu_domain::org::OrgTree;
use jiesu_store::prelude::*;
use std::path::Path;
use std::sync::Arc;

/// Reads and validates a policy file (category codes checked against `categories`), or returns
/// the shipped default when `path` is `None`.
pub fn load_policies(path: Option<&Path>, categories: Option<&CategoryTree>) -> Result<PolicySet> {
    match path {
        None => Ok(PolicySet::shipped_default()),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the policy file {}", p.display()))?;
            PolicySet::from_toml(&text, categories)
                .map_err(|e: PolicyError| anyhow::anyhow!("{}: {e}", p.display()))
        }
    }
}

/// How [`monthly_scorecards`] reads facts.
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    pub cache: CacheMode,
    /// Load ticket numbers (for the exemption list) and the other clocks.
    pub columns: Columns,
    /// Load the base period too (基数诉求比); otherwise it is "not available".
    pub base_period: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            cache: CacheMode::Use,
            columns: Columns {
                number: true,
                other_times: false,
            },
            base_period: true,
        }
    }
}

/// What a scoring run read.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub rows: usize,
    pub source: FactSource,
}

/// The month's scorecards of `levels` under the policy that governs `period` in `policies`.
pub fn monthly_scorecards(
    store: &dyn Store,
    period: Month,
    levels: &[Level],
    policies: &PolicySet,
    opts: LoadOptions,
) -> Result<(Vec<Scorecard>, Loaded)> {
    let policy = &policies
        .for_month(period)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .clone()
        .in_zone(store.city_zone()?);
    let org = OrgTree::new(store.units()?);
    let (start, end) = policy.period_bounds(period);
    let (facts, source) = load_facts(store, start, end, opts.columns, opts.cache)?;
    let base: Option<FactTable> = if opts.base_period {
        let bm = policy.observation.base_period.for_month(period);
        let (bs, be) = policy.period_bounds(bm);
        Some(load_facts(store, bs, be, Columns::scoring(), opts.cache)?.0)
    } else {
        None
    };
    let cards = score_levels(
        &facts,
        period,
        policy,
        &org,
        levels,
        &ScoreOptions {
            base: base.as_ref(),
        },
    )?;
    Ok((
        cards,
        Loaded {
            rows: facts.len(),
            source,
        },
    ))
}

/// The assignments behind one figure of a unit's line on the month's scorecard, under the policy
/// that governs the month (see [`drill`]). Facts are read with every column (ticket numbers and
/// all clocks), from the cache file when it is current.
#[allow(clippy::too_many_arguments)]
pub fn monthly_drill(
    store: &dyn Store,
    period: Month,
    level: Level,
    unit: Option<&str>,
    scope: Scope,
    measure: Measure,
    policies: &PolicySet,
    cache: CacheMode,
) -> Result<std::result::Result<Drill, crate::drill::DrillError>> {
    let policy = &policies
        .for_month(period)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .clone()
        .in_zone(store.city_zone()?);
    let org = OrgTree::new(store.units()?);
    let (start, end) = policy.period_bounds(period);
    let (facts, _) = load_facts(store, start, end, Columns::full(), cache)?;
    Ok(drill(
        &facts, period, policy, &org, level, unit, scope, measure,
    ))
}

/// Opens a database that must already exist (a typo must not create an empty city).
pub fn open_existing(db: &Path) -> Result<Arc<dyn Store>> {
    if !jiesu_store::city_exists(db)? {
        anyhow::bail!(
            "database {} does not exist or holds no city; create one with `jiesu generate --db {}` or `jiesu init --db {}`",
            db.display(),
            db.display(),
            db.display()
        );
    }
    jiesu_store::open_store(db, jiesu_store::StoreOptions::default())
        .with_context(|| format!("cannot open {}", db.display()))
}

/// The database's category tree.
pub fn category_tree(store: &dyn Store) -> Result<CategoryTree> {
    Ok(CategoryTree::new(store.categories()?))
}
