//! The demo city's duty catalogue (派单目录), built from the reference data's per-leaf lead options.

use chrono::NaiveDate;
use jiesu_domain::category::CategoryTree;
use jiesu_domain::org::OrgTree;
use jiesu_domain::ticket::DeadlineTier;
use jiesu_routing::{default_catalogue, Catalogue, DefaultInputs};

/// The published catalogue of the demo city (> 900 rules: one per leaf, district overrides,
/// keyword rules naming utilities, the economic zone's authority).
pub fn demo_catalogue(org: &OrgTree, cats: &CategoryTree) -> Catalogue {
    let p = jiesu_refdata::profiles();
    let lead_options: Vec<(String, Vec<(String, f64)>)> = p
        .leaves
        .iter()
        .map(|l| {
            (
                l.code.clone(),
                l.leads
                    .iter()
                    .map(|o| (o.target.to_string(), o.weight))
                    .collect(),
            )
        })
        .collect();
    let tiers: Vec<(String, DeadlineTier)> = p
        .categories
        .iter()
        .map(|c| (c.code.clone(), c.tier))
        .chain(p.leaves.iter().map(|l| (l.code.clone(), l.tier)))
        .collect();
    let authorities = vec![(
        jiesu_refdata::profiles::ECONOMIC_ZONE_STREET.to_string(),
        jiesu_refdata::profiles::ECONOMIC_ZONE_AUTHORITY.to_string(),
    )];
    default_catalogue(
        org,
        cats,
        &DefaultInputs {
            lead_options: &lead_options,
            tiers: &tiers,
            street_authorities: &authorities,
            effective_from: NaiveDate::from_ymd_opt(2019, 1, 1).unwrap_or_default(),
        },
    )
}
