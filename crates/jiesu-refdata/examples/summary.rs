//! Prints what the shipped reference data contains and the calibration it implies, and how long
//! parsing everything takes: `cargo run --release -p jiesu-refdata --example summary`.

use jiesu_domain::org::UnitKind;

fn main() {
    let start = std::time::Instant::now();
    let div = jiesu_refdata::divisions::parse().expect("divisions");
    let units = jiesu_refdata::units::build_units().expect("units");
    let tree = jiesu_domain::org::OrgTree::new(units);
    let cats = jiesu_refdata::categories::parse().expect("categories");
    let prof = jiesu_refdata::profiles::parse().expect("profiles");
    let elapsed = start.elapsed();
    println!("parsed everything in {elapsed:?}");
    println!(
        "divisions: {} districts, {} streets/towns ({} special zones), {} communities",
        div.districts.len(),
        div.streets.len(),
        div.streets.iter().filter(|s| s.is_special_zone()).count(),
        div.communities.len()
    );
    for k in UnitKind::ALL {
        println!("  {:<20} {}", k.as_str(), tree.of_kind(k).count());
    }
    let lvl = |l| cats.iter().filter(|c| c.level == l).count();
    let templates: usize = prof.leaves.iter().map(|l| l.templates.len()).sum();
    println!(
        "categories: {} level-1, {} level-2, {} leaves; {} templates",
        lvl(1),
        lvl(2),
        lvl(3),
        templates
    );
    let cal = prof.calibration();
    println!(
        "calibration: direct {:.4}, resolution {:.4}, satisfaction {:.4}",
        cal.direct_share, cal.resolution, cal.satisfaction
    );
    for ((k, got), (_, want)) in cal
        .lead_kind_shares
        .iter()
        .zip(&prof.overall.lead_kind_shares)
    {
        println!("  lead {:<20} {:.4} (Beijing {:.3})", k.as_str(), got, want);
    }
    println!("level-1 categories:");
    for c in &prof.categories {
        let dispatched: f64 = prof
            .leaves_under(&c.code)
            .map(|l| l.dispatched_share())
            .sum();
        println!(
            "  {} {:<8} share {:.4} direct {:.3} dispatched-of-all {:.4} res {:.2} sat {:.2} tier {}",
            c.code,
            c.name,
            c.share,
            1.0 - dispatched / c.share,
            dispatched,
            c.resolution,
            c.satisfaction,
            c.tier
        );
    }
}
