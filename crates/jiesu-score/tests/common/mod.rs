//! Fixtures: a small organisation and assignment facts built by hand.
#![allow(dead_code)]

use jiesu_domain::org::{OrgTree, Unit, UnitKind};
use jiesu_store::AssignmentFact;

pub fn unit(
    code: &str,
    name: &str,
    kind: UnitKind,
    parent: Option<&str>,
    population: Option<u64>,
) -> Unit {
    Unit {
        code: code.into(),
        name: name.into(),
        kind,
        parent: parent.map(Into::into),
        population,
        zone: None,
        active: true,
    }
}

/// Centre; districts D1 (population 200 000) and D2 (unknown); streets S1, S2 in D1 and S3 in D2;
/// district department D1X in D1; city departments CD1, CD2; enterprise SE1; e-commerce EC1.
pub fn org() -> OrgTree {
    OrgTree::new(vec![
        unit("C", "中心", UnitKind::Centre, None, None),
        unit("D1", "东区", UnitKind::District, Some("C"), Some(200_000)),
        unit("D2", "西区", UnitKind::District, Some("C"), None),
        unit("S1", "一街道", UnitKind::StreetTown, Some("D1"), None),
        unit(
            "S2",
            "二街道",
            UnitKind::StreetTown,
            Some("D1"),
            Some(50_000),
        ),
        unit("S3", "三街道", UnitKind::StreetTown, Some("D2"), None),
        unit(
            "D1X",
            "东区住建委",
            UnitKind::DistrictDepartment,
            Some("D1"),
            None,
        ),
        unit("CD1", "市交管局", UnitKind::CityDepartment, Some("C"), None),
        unit("CD2", "市住建委", UnitKind::CityDepartment, Some("C"), None),
        unit(
            "SE1",
            "热力集团",
            UnitKind::StateEnterprise,
            Some("C"),
            None,
        ),
        unit("EC1", "京东", UnitKind::Ecommerce, Some("C"), None),
    ])
}

/// A lead assignment first dispatched on 2026-11-10, responded on time, finished, callback
/// contacted / resolved / satisfied, category 030101, tier 7d, in street S1 of D1.
pub fn fact(ticket: i64, unit: &str) -> AssignmentFact {
    AssignmentFact {
        ticket_id: ticket,
        number: format!("20261110{ticket:08}"),
        unit_code: unit.into(),
        role: "lead".into(),
        request_type: "complaint".into(),
        category_code: "030101".into(),
        district_code: "D1".into(),
        street_code: "S1".into(),
        tier: "7d".into(),
        state: "finished".into(),
        round: 0,
        first_dispatched_at: Some("2026-11-10T02:00:00.000Z".into()),
        dispatched_at: "2026-11-10T02:00:00.000Z".into(),
        responded_at: Some("2026-11-10T05:00:00.000Z".into()),
        respond_deadline: "2026-11-11T02:00:00.000Z".into(),
        finished_at: Some("2026-11-12T02:00:00.000Z".into()),
        finish_deadline: "2026-11-17T02:00:00.000Z".into(),
        contacted: Some(true),
        resolution: Some("resolved".into()),
        satisfaction: Some("satisfied".into()),
        exempt_reason: None,
    }
}

/// Builder-style tweaks.
pub trait Tweak {
    fn res(self, r: &str) -> Self;
    fn sat(self, s: &str) -> Self;
    fn not_contacted(self) -> Self;
    fn no_callback(self) -> Self;
    fn late(self) -> Self;
    fn unresponded(self) -> Self;
    fn exempt(self, reason: &str) -> Self;
    fn assist(self) -> Self;
    fn cat(self, c: &str) -> Self;
    fn tier(self, t: &str) -> Self;
    fn at(self, first_dispatch: &str) -> Self;
    fn round(self, r: u32) -> Self;
    fn returned(self) -> Self;
    fn place(self, district: &str, street: &str) -> Self;
    fn kind(self, t: &str) -> Self;
}

impl Tweak for AssignmentFact {
    fn res(mut self, r: &str) -> Self {
        self.resolution = Some(r.into());
        self
    }
    fn sat(mut self, s: &str) -> Self {
        self.satisfaction = Some(s.into());
        self
    }
    fn not_contacted(mut self) -> Self {
        self.contacted = Some(false);
        self
    }
    fn no_callback(mut self) -> Self {
        self.contacted = None;
        self.resolution = None;
        self.satisfaction = None;
        self
    }
    fn late(mut self) -> Self {
        // 1 ms after the deadline
        self.responded_at = Some("2026-11-11T02:00:00.001Z".into());
        self
    }
    fn unresponded(mut self) -> Self {
        self.responded_at = None;
        self
    }
    fn exempt(mut self, reason: &str) -> Self {
        self.exempt_reason = Some(reason.into());
        self
    }
    fn assist(mut self) -> Self {
        self.role = "assist".into();
        self
    }
    fn cat(mut self, c: &str) -> Self {
        self.category_code = c.into();
        self
    }
    fn tier(mut self, t: &str) -> Self {
        self.tier = t.into();
        self
    }
    fn at(mut self, first_dispatch: &str) -> Self {
        self.first_dispatched_at = Some(first_dispatch.into());
        self
    }
    fn round(mut self, r: u32) -> Self {
        self.round = r;
        self
    }
    fn returned(mut self) -> Self {
        self.state = "returned".into();
        self
    }
    fn place(mut self, district: &str, street: &str) -> Self {
        self.district_code = district.into();
        self.street_code = street.into();
        self
    }
    fn kind(mut self, t: &str) -> Self {
        self.request_type = t.into();
        self
    }
}

pub fn approx(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[macro_export]
macro_rules! assert_close {
    ($a:expr, $b:expr) => {{
        let (a, b): (Option<f64>, f64) = ($a, $b);
        assert!(
            a.is_some_and(|a| (a - b).abs() < 1e-9),
            "{} = {:?}, expected {}",
            stringify!($a),
            a,
            b
        );
    }};
}
