#![allow(dead_code)]
//! A small city for the tests.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use jiesu_domain::category::{Category, CategoryTree};
use jiesu_domain::org::{OrgTree, Unit, UnitKind};
use jiesu_domain::ticket::{AssignmentRole, DeadlineTier};
use jiesu_routing::{PlaceScope, RouteFacts, Rule, RuleAssignment, UnitRef};

fn u(code: &str, name: &str, kind: UnitKind, parent: Option<&str>, active: bool) -> Unit {
    Unit {
        code: code.into(),
        name: name.into(),
        kind,
        parent: parent.map(Into::into),
        population: None,
        zone: None,
        active,
    }
}

pub fn org() -> OrgTree {
    use UnitKind::*;
    OrgTree::new(vec![
        u("C", "市民热线服务中心", Centre, None, true),
        u("110108", "海淀区", District, Some("C"), true),
        u("110108010", "学院路街道", StreetTown, Some("110108"), true),
        u("110108011", "中关村街道", StreetTown, Some("110108"), true),
        u("110108099", "已撤销街道", StreetTown, Some("110108"), false),
        u("110108010001", "某社区", Community, Some("110108010"), true),
        u(
            "110108D02",
            "海淀区城管执法局",
            DistrictDepartment,
            Some("110108"),
            true,
        ),
        u(
            "110108D03",
            "海淀区市场监管局",
            DistrictDepartment,
            Some("110108"),
            true,
        ),
        u(
            "110108D13",
            "海淀区水务局",
            DistrictDepartment,
            Some("110108"),
            true,
        ),
        u("110105", "朝阳区", District, Some("C"), true),
        u("110105001", "建外街道", StreetTown, Some("110105"), true),
        u(
            "110105D02",
            "朝阳区城管执法局",
            DistrictDepartment,
            Some("110105"),
            true,
        ),
        u(
            "110105D03",
            "朝阳区市场监管局",
            DistrictDepartment,
            Some("110105"),
            true,
        ),
        u(
            "110105D13",
            "朝阳区水务局",
            DistrictDepartment,
            Some("110105"),
            false,
        ),
        u("CD001", "市交管局", CityDepartment, Some("C"), true),
        u("CD099", "已撤销市级部门", CityDepartment, Some("C"), false),
        u("SE003", "自来水集团", StateEnterprise, Some("C"), true),
        u("EC001", "京东", Ecommerce, Some("C"), true),
        u("EC002", "淘宝/天猫", Ecommerce, Some("C"), true),
    ])
}

fn c(code: &str, name: &str, level: u8, parent: Option<&str>) -> Category {
    Category {
        code: code.into(),
        name: name.into(),
        level,
        parent: parent.map(Into::into),
        domain: None,
        active: true,
    }
}

pub fn cats() -> CategoryTree {
    CategoryTree::new(vec![
        c("14", "市政", 1, None),
        c("1402", "路灯", 2, Some("14")),
        c("140201", "路灯不亮", 3, Some("1402")),
        c("140202", "路灯损坏", 3, Some("1402")),
        c("02", "市场管理", 1, None),
        c("0201", "网络交易", 2, Some("02")),
        c("020101", "退换货", 3, Some("0201")),
        c("27", "水务防汛", 1, None),
        c("2701", "防汛排涝", 2, Some("27")),
        c("270101", "道路积水", 3, Some("2701")),
    ])
}

pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Beijing local time.
pub fn bj(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap() - Duration::hours(8)
}

pub fn at() -> DateTime<Utc> {
    bj(2026, 3, 2, 10, 0)
}

pub fn rule(id: &str, prefix: &str, place: PlaceScope, lead: UnitRef) -> Rule {
    Rule {
        id: id.into(),
        effective_from: day(2025, 1, 1),
        effective_to: None,
        priority: 0,
        category_prefix: prefix.into(),
        place,
        keywords: vec![],
        enterprise: None,
        assignments: vec![RuleAssignment {
            unit: lead,
            role: AssignmentRole::Lead,
        }],
        tier: DeadlineTier::D7,
        note: String::new(),
    }
}

pub fn with_assist(mut r: Rule, u: UnitRef) -> Rule {
    r.assignments.push(RuleAssignment {
        unit: u,
        role: AssignmentRole::Assist,
    });
    r
}

pub fn unit(c: &str) -> UnitRef {
    UnitRef::Unit(c.into())
}
pub fn district(c: &str) -> PlaceScope {
    PlaceScope::District(c.into())
}
pub fn street(c: &str) -> PlaceScope {
    PlaceScope::Street(c.into())
}

/// The acceptance scenario's request: street lamp out in 学院路街道, 海淀区.
pub fn facts(category: &str) -> RouteFacts {
    RouteFacts {
        category_code: category.into(),
        district_code: "110108".into(),
        street_code: "110108010".into(),
        community_code: Some("110108010001".into()),
        title: "路灯不亮".into(),
        text: "海淀区学院路街道某小区门口路灯连续一周不亮，晚上出行很不安全，请尽快修复。".into(),
        enterprise: false,
        tier: None,
    }
}
