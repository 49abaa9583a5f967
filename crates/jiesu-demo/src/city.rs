//! Builds the calibrated Beijing model from the shipped reference data (`jiesu-refdata`).

use crate::model::{City, District, Leaf, Pools, Street, Template, Top};
use crate::rng::Alias;
use crate::text::ExtraPools;
use anyhow::{bail, Result};
use jiesu_domain::org::{FunctionalZone, UnitKind};
use jiesu_domain::ticket::RequestType;
use jiesu_refdata::divisions::CommunityKind;
use std::collections::BTreeMap;

/// The share 疫情防控 keeps (it was 13.5 % of 2019–2021, a phenomenon of 2020–2021; a demo city
/// set in the present keeps a modest remainder). The other categories are renormalised.
pub const EPIDEMIC_SHARE: f64 = 0.02;
/// Code of 疫情防控.
pub const EPIDEMIC_CODE: &str = "01";

/// Weight of a development/special zone relative to an average street of its district.
const SPECIAL_ZONE_WEIGHT: f64 = 0.08;

fn zone_index(z: FunctionalZone) -> usize {
    match z {
        FunctionalZone::CoreAndSubCentre => 0,
        FunctionalZone::PlainNewTowns => 1,
        FunctionalZone::EcologicalConservation => 2,
    }
}

/// Shop and company pools for `{shop}` / `{company}`.
pub fn extra_pools() -> ExtraPools {
    let p = jiesu_refdata::pools();
    ExtraPools {
        shops: p.shops.iter().map(|s| s.to_string()).collect(),
        companies: p.companies.iter().map(|s| s.to_string()).collect(),
    }
}

/// The calibrated Beijing model. `seed` does not change the model (only the draws do); it is
/// taken for future per-seed variation and kept in the signature for clarity.
pub fn beijing(_seed: u64) -> Result<City> {
    let units = jiesu_refdata::units();
    let categories = jiesu_refdata::category_tree().all().to_vec();
    let prof = jiesu_refdata::profiles();
    let div = jiesu_refdata::divisions::divisions();
    let unit_index: BTreeMap<String, usize> = units
        .iter()
        .enumerate()
        .map(|(i, u)| (u.code.clone(), i))
        .collect();

    // districts, in the profile's order, with §3 shares
    let mut districts = Vec::new();
    let mut district_zone = Vec::new();
    let mut district_share = Vec::new();
    for dp in &prof.districts {
        let d = match div.district(&dp.code) {
            Some(d) => d,
            None => bail!(
                "district {} of the profiles is not in the divisions",
                dp.code
            ),
        };
        let mut streets = Vec::new();
        let mut weights = Vec::new();
        for s in div.streets_of(&d.code) {
            let mut communities = Vec::new();
            let mut cw = Vec::new();
            let mut pop: f64 = 0.0;
            for c in div.communities_of(&s.code) {
                let w = match c.kind {
                    CommunityKind::Residents => 3.0,
                    CommunityKind::Village => 1.0,
                    CommunityKind::Other => 0.2,
                };
                pop += w;
                cw.push(w);
                communities.push((c.code.clone(), jiesu_refdata::short_place_name(&c.name)));
            }
            weights.push(if s.is_special_zone() {
                -1.0
            } else {
                pop.max(1.0)
            });
            streets.push(Street {
                code: s.code.clone(),
                name: s.name.clone(),
                community_pick: Alias::new(&cw),
                communities,
                special_zone: s.is_special_zone(),
            });
        }
        if streets.is_empty() {
            bail!("district {} has no streets", d.code);
        }
        let normal: Vec<f64> = weights.iter().copied().filter(|w| *w > 0.0).collect();
        let avg = normal.iter().sum::<f64>() / normal.len().max(1) as f64;
        let weights: Vec<f64> = weights
            .iter()
            .map(|w| {
                if *w < 0.0 {
                    avg * SPECIAL_ZONE_WEIGHT
                } else {
                    *w
                }
            })
            .collect();
        let mut depts = BTreeMap::new();
        for s in jiesu_refdata::units::district_department_slots() {
            let code = jiesu_refdata::units::district_department_code(&d.code, &s.slot);
            if unit_index.contains_key(&code) {
                depts.insert(s.slot.clone(), code);
            }
        }
        let dept_codes = depts.values().cloned().collect();
        districts.push(District {
            code: d.code.clone(),
            name: d.name.clone(),
            street_pick: Alias::new(&weights),
            streets,
            depts,
            dept_codes,
        });
        district_zone.push(zone_index(d.zone));
        district_share.push(dp.handled_share);
    }

    // level-1 categories, 疫情防控 down-weighted
    let raw_total: f64 = prof.categories.iter().map(|c| c.share).sum();
    let epi: f64 = prof
        .categories
        .iter()
        .filter(|c| c.code == EPIDEMIC_CODE)
        .map(|c| c.share / raw_total)
        .sum();
    let factor = |code: &str| -> f64 {
        if code == EPIDEMIC_CODE {
            if epi > 0.0 {
                EPIDEMIC_SHARE / epi
            } else {
                0.0
            }
        } else if epi < 1.0 {
            (1.0 - EPIDEMIC_SHARE) / (1.0 - epi)
        } else {
            1.0
        }
    };
    let mut tops = Vec::new();
    let mut top_index = BTreeMap::new();
    for c in &prof.categories {
        top_index.insert(c.code.clone(), tops.len());
        tops.push(Top {
            code: c.code.clone(),
            name: c.name.clone(),
            share: c.share / raw_total * factor(&c.code),
            season: c.seasonal,
            zone: c.zone_factors,
            district_pick: Alias::new(&district_share),
        });
    }

    // leaves
    let mut leaves = Vec::new();
    let mut praise = Vec::new();
    for l in &prof.leaves {
        let top = match top_index.get(l.top()) {
            Some(t) => *t,
            None => bail!("leaf {} has no level-1 profile", l.code),
        };
        let parent_name = categories
            .iter()
            .find(|c| Some(c.code.as_str()) == l.code.get(..4))
            .map(|c| c.name.clone())
            .unwrap_or_default();
        let mut templates = Vec::new();
        for t in &l.templates {
            let tpl = Template {
                request_type: t.request_type,
                title: t.title.clone(),
                text: t.text.clone(),
            };
            if t.request_type == RequestType::Praise {
                praise.push((leaves.len(), tpl.clone()));
            }
            templates.push(tpl);
        }
        if l.leads.is_empty() {
            bail!("leaf {} has no lead options", l.code);
        }
        leaves.push(Leaf {
            code: l.code.clone(),
            name: l.name.clone(),
            parent_name,
            top,
            weight: l.share / raw_total * factor(l.top()),
            tier: l.tier,
            leads: l.leads.iter().map(|o| o.target.clone()).collect(),
            lead_weights: l.leads.iter().map(|o| o.weight).collect(),
            lead_pick: Alias::new(&l.leads.iter().map(|o| o.weight).collect::<Vec<_>>()),
            templates,
            raw_direct: l.direct_share,
            raw_resolution: l.resolution,
            raw_satisfaction: l.satisfaction,
            direct: l.direct_share,
            resolution_logit: 0.0,
            satisfied_if_resolved: 0.0,
            satisfied_if_not_resolved: 0.0,
        });
    }

    let firms = |k: UnitKind| -> Vec<String> {
        units
            .iter()
            .filter(|u| u.kind == k)
            .map(|u| u.code.clone())
            .collect()
    };
    let ecommerce = firms(UnitKind::Ecommerce);
    let popularity: Vec<f64> = ecommerce
        .iter()
        .map(|c| {
            jiesu_refdata::units::organisation(c)
                .and_then(|o| o.popularity)
                .unwrap_or(1.0)
        })
        .collect();
    let names = jiesu_refdata::pools();
    // surnames are listed most frequent first: a Zipf-like weight
    let surname_w: Vec<f64> = (0..names.surnames.len())
        .map(|i| 1.0 / (i as f64 + 3.0))
        .collect();
    let centre = units
        .iter()
        .find(|u| u.kind == UnitKind::Centre)
        .map(|u| u.code.clone())
        .unwrap_or_else(|| jiesu_refdata::CENTRE_CODE.to_string());
    let mut city = City {
        city_depts: firms(UnitKind::CityDepartment),
        state_firms: firms(UnitKind::StateEnterprise),
        ecommerce_pick: Alias::new(&popularity),
        ecommerce,
        units,
        categories,
        unit_index,
        centre,
        district_pick: Alias::new(&district_share),
        districts,
        district_zone,
        district_share,
        tops,
        leaves,
        leaf_by_month: Vec::new(),
        pools: Pools {
            surname_pick: Some(Alias::new(&surname_w)),
            surnames: names.surnames.iter().map(|s| s.to_string()).collect(),
            given: names.given_chars.iter().map(|s| s.to_string()).collect(),
            roads: names.roads.iter().map(|s| s.to_string()).collect(),
            estates: names.estates.iter().map(|s| s.to_string()).collect(),
        },
        praise,
    };
    city.calibrate();
    Ok(city)
}
