//! A synthetic city month for scoring work before the demo-city generator exists: N dispatched
//! tickets over Beijing's real units and category tree, built through the domain's transitions
//! (returns, assists, late and missing responses, callbacks, reopens, exemptions) and imported
//! into a new SQLite database.
//!
//! cargo run --release -p jiesu-score --example synth_city -- --db /tmp/city.db --tickets 600000 --month 2026-11

#[path = "../tests/common/city.rs"]
mod city;

use anyhow::Context;
use chrono::{Duration, TimeZone, Utc};
use city::{build, Respond, Spec};
use jiesu_domain::org::UnitKind;
use jiesu_domain::ticket::{ExemptReason, Resolution, Satisfaction};
use jiesu_store::{prelude::*, SqliteStore, StoreOptions};
use rand::{Rng, SeedableRng};
use std::time::Instant;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn pick(cum: &[f64], u: f64) -> usize {
    cum.partition_point(|&c| c <= u * cum.last().copied().unwrap_or(0.0))
        .min(cum.len() - 1)
}

fn main() -> anyhow::Result<()> {
    let db = arg("--db").context("--db PATH is required")?;
    let n: i64 = arg("--tickets")
        .map_or(Ok(600_000), |s| s.parse())
        .context("--tickets must be a whole number")?;
    let month = arg("--month").unwrap_or_else(|| "2026-11".into());
    let seed: u64 = arg("--seed")
        .map_or(Ok(1), |s| s.parse())
        .context("--seed must be a whole number")?;
    let m = jiesu_score::Month::parse(&month)
        .with_context(|| format!("--month '{month}' is not YYYY-MM"))?;
    // (UTC month boundaries: this synthetic month only needs a span of a month)
    let utc_start = |m: jiesu_score::Month| {
        Utc.with_ymd_and_hms(m.year, m.month, 1, 0, 0, 0)
            .single()
            .context("month out of range")
    };
    let (start, end) = (utc_start(m)?, utc_start(m.plus(1))?);
    let seconds = (end - start).num_seconds() - 3600;
    anyhow::ensure!(!std::path::Path::new(&db).exists(), "{db} exists");
    let store = SqliteStore::open_with(
        &db,
        StoreOptions {
            durable: false,
            ..Default::default()
        },
    )?;
    let units = jiesu_refdata::units();
    let cats = jiesu_refdata::category_tree();
    store.replace_reference(&units, cats.all())?;
    store.begin_bulk()?;
    let profiles = jiesu_refdata::profiles();
    let leaves = &profiles.leaves;
    let mut cum = 0.0;
    let leaf_cum: Vec<f64> = leaves
        .iter()
        .map(|l| {
            cum += l.dispatched_share();
            cum
        })
        .collect();
    let streets: Vec<&jiesu_domain::org::Unit> = units
        .iter()
        .filter(|u| u.kind == UnitKind::StreetTown)
        .collect();
    let district_share = |d: &str| {
        profiles
            .districts
            .iter()
            .find(|x| x.code == d)
            .map_or(0.01, |x| x.handled_share)
    };
    let per_district = |d: &str| {
        streets
            .iter()
            .filter(|s| s.parent.as_deref() == Some(d))
            .count() as f64
    };
    let mut cum = 0.0;
    let street_cum: Vec<f64> = streets
        .iter()
        .map(|s| {
            let d = s.parent.as_deref().expect("every street has a district");
            cum += district_share(d) / per_district(d);
            cum
        })
        .collect();
    let ecommerce: Vec<&str> = units
        .iter()
        .filter(|u| u.kind == UnitKind::Ecommerce)
        .map(|u| u.code.as_str())
        .collect();
    let t0 = Instant::now();
    let threads = 2;
    let batch = 20_000i64;
    let mut next = 1i64;
    while next <= n {
        let hi = (next + batch * threads - 1).min(n);
        let chunks: Vec<(i64, i64)> = (0..threads)
            .map(|k| (next + k * batch, (next + (k + 1) * batch - 1).min(hi)))
            .filter(|(a, b)| a <= b)
            .collect();
        let built: Vec<Vec<_>> = std::thread::scope(|sc| {
            let hs: Vec<_> = chunks
                .iter()
                .map(|&(a, b)| {
                    let (leaf_cum, street_cum, streets, ecommerce) =
                        (&leaf_cum, &street_cum, &streets, &ecommerce);
                    sc.spawn(move || {
                        let mut out = Vec::with_capacity((b - a + 1) as usize);
                        for id in a..=b {
                            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(
                                seed.wrapping_mul(1_000_003) ^ id as u64,
                            );
                            let leaf = &leaves[pick(leaf_cum, rng.gen())];
                            let street = streets[pick(street_cum, rng.gen())];
                            let district =
                                street.parent.clone().expect("every street has a district");
                            let lead = leaf
                                .pick_lead(rng.gen())
                                .target
                                .resolve(&street.code)
                                .unwrap_or_else(|| {
                                    ecommerce[rng.gen_range(0..ecommerce.len())].to_string()
                                });
                            let created = start + Duration::seconds(rng.gen_range(0..seconds));
                            let mut s = Spec::new(id, created, &lead, &district, &street.code);
                            s.category = leaf.code.clone();
                            s.tier = leaf.tier;
                            s.respond = match rng.gen_range(0..100) {
                                0..=92 => Respond::OnTime,
                                93..=97 => Respond::Late,
                                _ => Respond::Never,
                            };
                            let resolved = rng.gen_bool(leaf.resolution.clamp(0.05, 0.99));
                            let res = if resolved {
                                Resolution::Resolved
                            } else if rng.gen_bool(0.45) {
                                Resolution::Partly
                            } else {
                                Resolution::Unresolved
                            };
                            let sat = if rng.gen_bool(if resolved { 0.97 } else { 0.45 }) {
                                Satisfaction::Satisfied
                            } else if rng.gen_bool(0.6) {
                                Satisfaction::Basic
                            } else {
                                Satisfaction::Unsatisfied
                            };
                            s.callback = match rng.gen_range(0..100) {
                                0..=2 => None,
                                3..=5 => Some((false, res, sat)),
                                _ => Some((true, res, sat)),
                            };
                            if rng.gen_bool(0.078) {
                                let other = streets[pick(street_cum, rng.gen())];
                                if other.code != lead {
                                    s.returned_by = Some(other.code.clone());
                                }
                            }
                            if lead == street.code && rng.gen_bool(0.08) {
                                s.assist = Some(format!("{district}D02"));
                            }
                            if s.callback
                                .is_some_and(|c| c.0 && c.1 == Resolution::Unresolved)
                                && rng.gen_bool(0.25)
                            {
                                s.reopen = Some(if rng.gen_bool(0.55) {
                                    (Resolution::Resolved, Satisfaction::Satisfied)
                                } else {
                                    (Resolution::Unresolved, Satisfaction::Unsatisfied)
                                });
                            }
                            if rng.gen_bool(0.01) {
                                s.exempt = Some(
                                    ExemptReason::ALL[rng.gen_range(0..ExemptReason::ALL.len())],
                                );
                            }
                            out.push(build(&s));
                        }
                        out
                    })
                })
                .collect();
            hs.into_iter()
                .map(|h| h.join().expect("a ticket-building thread panicked"))
                .collect()
        });
        for b in built {
            store.import(b)?;
        }
        next = hi + 1;
        eprintln!("{} / {n} tickets, {:.0} s", hi, t0.elapsed().as_secs_f64());
    }
    store.end_bulk(false)?;
    println!(
        "{n} tickets of {month} into {db} in {:.0} s",
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
