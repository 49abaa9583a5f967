//! The shipped data against Beijing's figures (DOMAIN.md §3) and against itself.

use jiesu_domain::org::UnitKind;
use jiesu_domain::ticket::RequestType;
use jiesu_refdata::profiles::LEAD_KINDS;
use jiesu_refdata::{categories, org, profiles, LeadTarget, PLACEHOLDERS};
use std::collections::HashSet;

#[test]
fn level_one_shares_sum_to_one_and_follow_the_report() {
    let p = profiles();
    assert_eq!(p.categories.len(), 28);
    let sum: f64 = p.categories.iter().map(|c| c.share).sum();
    assert!((sum - 1.0).abs() < 1e-6, "{sum}");
    // the report's top ten, in order, are our ten largest
    let mut by_size = p.categories.clone();
    by_size.sort_by(|a, b| b.volume_wan.total_cmp(&a.volume_wan));
    let top: Vec<&str> = by_size[..10].iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        top,
        [
            "疫情防控",
            "市场管理",
            "住房",
            "城乡建设",
            "交通管理",
            "公共服务",
            "社会秩序",
            "卫生健康",
            "教育",
            "劳动和社会保障"
        ]
    );
    // three-year total as in the report
    let total: f64 = p.categories.iter().map(|c| c.volume_wan).sum();
    assert!((total - 3134.0).abs() < 0.5, "{total}");
    assert!((p.category("01").unwrap().share - 424.0 / 3134.0).abs() < 1e-9);
    // leaf shares and level-2 shares also sum to 1
    let leaves: f64 = p.leaves.iter().map(|l| l.share).sum();
    assert!((leaves - 1.0).abs() < 1e-6, "{leaves}");
    let l2: f64 = categories()
        .all()
        .iter()
        .filter(|c| c.level == 2)
        .map(|c| p.share(&c.code).unwrap())
        .sum();
    assert!((l2 - 1.0).abs() < 1e-6);
}

#[test]
fn sub_category_weights_are_the_reports_counts() {
    let p = profiles();
    let t = categories();
    let weight = |l1: &str, l2: &str| {
        let c = t
            .children(l1)
            .find(|c| c.name == l2)
            .unwrap_or_else(|| panic!("{l2}"));
        p.weight(&c.code).unwrap()
    };
    assert_eq!(weight("02", "网络交易"), 172.0);
    assert_eq!(weight("02", "市场环境秩序"), 50.0);
    assert_eq!(weight("02", "预付式消费"), 25.0);
    assert_eq!(weight("03", "小区配套"), 48.0);
    assert_eq!(weight("04", "拆迁腾退"), 48.0);
    assert_eq!(weight("05", "停车管理"), 64.0);
    assert_eq!(weight("06", "公交"), 32.0);
    assert_eq!(weight("07", "经济纠纷"), 65.0);
    assert_eq!(weight("08", "医疗服务"), 41.0);
    assert_eq!(weight("09", "社会办学"), 72.0);
    assert_eq!(weight("10", "薪酬纠纷"), 54.0);
}

#[test]
fn seasonality_is_normalised_and_shaped_as_reported() {
    let p = profiles();
    for c in &p.categories {
        let mean = c.seasonal.iter().sum::<f64>() / 12.0;
        assert!((mean - 1.0).abs() < 1e-9, "{}", c.name);
    }
    let by = |name: &str| p.categories.iter().find(|c| c.name == name).unwrap();
    let peak = |name: &str| {
        let s = by(name).seasonal;
        (0..12).max_by(|&a, &b| s[a].total_cmp(&s[b])).unwrap() + 1
    };
    assert!([11, 12].contains(&peak("市场管理")));
    assert!([7, 8, 9].contains(&peak("住房")));
    assert!((6..=11).contains(&peak("城乡建设")));
    assert_eq!(peak("劳动和社会保障"), 12);
    assert_eq!(peak("供暖"), 11);
    assert!([7, 8].contains(&peak("水务防汛")));
    let market = by("市场管理").seasonal;
    assert!(market[10] > market[4] && market[11] > market[1]);
    let mean_month = p.overall.monthly.iter().sum::<f64>() / 12.0;
    assert!((mean_month - 1.0).abs() < 1e-9);
    assert_eq!(
        (0..12)
            .min_by(|&a, &b| p.overall.monthly[a].total_cmp(&p.overall.monthly[b]))
            .unwrap(),
        1,
        "February is the low month"
    );
}

#[test]
fn weighted_figures_match_beijing() {
    let cal = profiles().calibration();
    assert!(
        (cal.direct_share - 0.585).abs() <= 0.01,
        "direct {}",
        cal.direct_share
    );
    assert!(
        (cal.resolution - 0.85).abs() <= 0.01,
        "resolution {}",
        cal.resolution
    );
    assert!(
        (cal.satisfaction - 0.90).abs() <= 0.01,
        "satisfaction {}",
        cal.satisfaction
    );
}

/// Dispatched volume by lead kind: weight of an option = level-1 share × (1 − direct share) ×
/// leaf weight (normalised down the tree) × option weight. Beijing: 37.8 / 36.0 / 16.1 / 7.4 / 2.7.
#[test]
fn lead_unit_kinds_match_beijing_within_two_points() {
    let p = profiles();
    // recompute from the raw structures rather than trusting `calibration()`
    let mut kinds = [0.0f64; 5];
    let mut total = 0.0;
    for c in &p.categories {
        for l in p.leaves_under(&c.code) {
            let leaf_weight = l.share / c.share; // normalised leaf weight within the category
            let w = c.share * (1.0 - l.direct_share) * leaf_weight;
            total += w;
            for o in &l.leads {
                let k = LEAD_KINDS
                    .iter()
                    .position(|&k| k == o.target.kind())
                    .unwrap();
                kinds[k] += w * o.weight;
            }
        }
    }
    let want = [0.378, 0.360, 0.161, 0.074, 0.027];
    for i in 0..5 {
        let got = kinds[i] / total;
        assert!(
            (got - want[i]).abs() <= 0.02,
            "{:?}: {got:.4} vs {}",
            LEAD_KINDS[i],
            want[i]
        );
    }
    let cal = p.calibration();
    for (i, (k, v)) in cal.lead_kind_shares.iter().enumerate() {
        assert_eq!(*k, LEAD_KINDS[i]);
        assert!((v - kinds[i] / total).abs() < 1e-12);
    }
    // and the file states Beijing's figures
    for ((k, v), w) in p.overall.lead_kind_shares.iter().zip(want) {
        assert!((v - w).abs() < 1e-9, "{k:?}");
    }
}

#[test]
fn every_lead_option_resolves_in_every_district() {
    let p = profiles();
    let t = org();
    let streets: Vec<_> = t.of_kind(UnitKind::StreetTown).collect();
    let mut used_kinds = HashSet::new();
    for l in &p.leaves {
        let sum: f64 = l.leads.iter().map(|o| o.weight).sum();
        assert!((sum - 1.0).abs() < 1e-9, "{}", l.code);
        for o in &l.leads {
            used_kinds.insert(o.target.kind());
            match &o.target {
                LeadTarget::AnyEcommerce => {
                    assert!(t.of_kind(UnitKind::Ecommerce).count() == 60);
                }
                target => {
                    for s in &streets {
                        let code = target
                            .resolve(&s.code)
                            .unwrap_or_else(|| panic!("{target} at {}", s.code));
                        let u = t
                            .get(&code)
                            .unwrap_or_else(|| panic!("{target} → {code} missing"));
                        assert!(u.kind.dispatchable());
                        if let LeadTarget::DistrictDepartment(_) | LeadTarget::StreetTown = target {
                            if u.kind != UnitKind::CityDepartment {
                                assert_eq!(
                                    t.district_of(&code).unwrap().code,
                                    s.code[..6],
                                    "{target} at {}",
                                    s.code
                                );
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(used_kinds.len(), 5);
}

#[test]
fn every_leaf_has_domain_profile_templates_and_leads() {
    let p = profiles();
    let t = categories();
    assert_eq!(p.leaves.len(), t.leaves().count());
    for c in t.leaves() {
        assert!(c.domain.is_some(), "{}", c.code);
        let l = p.leaf(&c.code).unwrap_or_else(|| panic!("{}", c.code));
        assert!((3..=6).contains(&l.templates.len()), "{}", c.code);
        assert!(!l.leads.is_empty());
        assert!(l.share > 0.0);
        assert!((0.0..=1.0).contains(&l.direct_share));
    }
    // the seed's 拆迁补偿 figures
    let demolition = p.leaves.iter().find(|l| l.name == "拆迁补偿").unwrap();
    assert!((demolition.resolution - 0.176).abs() < 1e-9);
    assert!((demolition.satisfaction - 0.60).abs() < 1e-9);
}

/// The shortest realistic values (so the length floor holds for any fill).
fn sample(name: &str) -> Option<String> {
    Some(
        match name {
            "district" => "东城区",
            "street" => "宋庄镇",
            "community" => "上庄村",
            "road" => "牛街",
            "estate" => "金台里",
            "shop" => "百味烧烤",
            "company" => "北京瑞丰科技有限公司",
            "n" => "3",
            "time" => "昨晚",
            _ => return None,
        }
        .to_string(),
    )
}

#[test]
fn templates_are_well_formed() {
    let p = profiles();
    let mut texts = HashSet::new();
    let mut used = HashSet::new();
    for l in &p.leaves {
        for t in &l.templates {
            let (title, text) = t.render(sample);
            assert!(!title.contains('{') && !text.contains('{'), "{}", t.text);
            let n = text.chars().count();
            assert!((30..=150).contains(&n), "{n} chars: {text}");
            assert!((2..=24).contains(&title.chars().count()), "{title}");
            assert!(texts.insert(t.text.clone()), "duplicate text {}", t.text);
            used.extend(t.placeholders().into_iter().map(str::to_string));
        }
    }
    assert!(texts.len() >= 1200);
    // direct answers are consultations: every leaf but praise offers one
    for l in &p.leaves {
        let praise_only = l
            .templates
            .iter()
            .all(|t| t.request_type == RequestType::Praise);
        assert!(
            praise_only
                || l.templates
                    .iter()
                    .any(|t| t.request_type == RequestType::Consultation),
            "{} has no consultation template",
            l.code
        );
    }
    for ph in PLACEHOLDERS {
        assert!(used.contains(ph), "{{{ph}}} never used");
    }
}

#[test]
fn district_profiles_match_the_report() {
    let p = profiles();
    assert_eq!(p.districts.len(), 16);
    let sum: f64 = p.districts.iter().map(|d| d.handled_share).sum();
    assert!((sum - 1.0).abs() < 1e-9);
    let chaoyang = p.district("110105").unwrap();
    assert!((chaoyang.handled_share - 0.172).abs() < 0.001);
    // department share weighted by volume ≈ 37.8 / (37.8 + 36.0)
    let dept: f64 = p
        .districts
        .iter()
        .map(|d| d.handled_share * d.department_share)
        .sum();
    assert!((dept - 0.378 / 0.738).abs() < 0.01, "{dept}");
}

#[test]
fn tiers_and_rates_are_sane() {
    let p = profiles();
    for c in &p.categories {
        assert!(c.resolution <= c.satisfaction + 0.1, "{}", c.name);
        assert!(c.zone_factors.iter().all(|&z| z > 0.0));
    }
    let rural = p.categories.iter().find(|c| c.name == "农村管理").unwrap();
    assert!(rural.zone_factors[2] > 2.0 * rural.zone_factors[0]);
    let tiers: HashSet<_> = p.leaves.iter().map(|l| l.tier).collect();
    assert_eq!(tiers.len(), 4, "all four tiers are used");
}

#[test]
fn parsing_everything_is_fast() {
    // Parse from scratch (not the caches) and time it. The budget is 50 ms in release builds;
    // debug builds get a generous bound so the test is not flaky on a loaded CI machine.
    let start = std::time::Instant::now();
    let div = jiesu_refdata::divisions::parse().unwrap();
    assert_eq!(div.communities.len(), 7535);
    let units = jiesu_refdata::units::build_units().unwrap();
    let tree = jiesu_domain::org::OrgTree::new(units);
    let cats = jiesu_refdata::categories::parse().unwrap();
    let prof = jiesu_refdata::profiles::parse().unwrap();
    let elapsed = start.elapsed();
    assert!(tree.units().len() > 8000 && cats.len() > 500 && prof.leaves.len() == 350);
    let budget = if cfg!(debug_assertions) { 2000 } else { 50 };
    assert!(
        elapsed.as_millis() < budget,
        "parsing took {elapsed:?} (budget {budget} ms)"
    );
}
