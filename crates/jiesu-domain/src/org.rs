//! The organisation: a typed tree of units (单位) — the hotline centre, districts, streets/towns,
//! communities, city departments, state-owned enterprises and e-commerce firms.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The kind of a unit in the organisation tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// 市民热线服务中心 — the city hotline centre (intake, dispatch, callback, scoring).
    Centre,
    /// 区 — a district (its 12345 sub-centre / command centre).
    District,
    /// 区级部门 — a district department (区住建委, 区城管执法局 …).
    DistrictDepartment,
    /// 街道 / 乡镇 — a street office or town.
    StreetTown,
    /// 社区 / 村 — a community or village committee.
    Community,
    /// 市级部门 — a city department (市交管局 …).
    CityDepartment,
    /// 国有企业 — a state-owned utility or enterprise (热力集团 …).
    StateEnterprise,
    /// 电商企业 — an e-commerce firm receiving consumer disputes directly.
    Ecommerce,
    /// 其他 — any other unit.
    Other,
}

impl UnitKind {
    /// Every value, in declaration order.
    pub const ALL: [UnitKind; 9] = [
        UnitKind::Centre,
        UnitKind::District,
        UnitKind::DistrictDepartment,
        UnitKind::StreetTown,
        UnitKind::Community,
        UnitKind::CityDepartment,
        UnitKind::StateEnterprise,
        UnitKind::Ecommerce,
        UnitKind::Other,
    ];
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Centre => "centre",
            UnitKind::District => "district",
            UnitKind::DistrictDepartment => "district_department",
            UnitKind::StreetTown => "street_town",
            UnitKind::Community => "community",
            UnitKind::CityDepartment => "city_department",
            UnitKind::StateEnterprise => "state_enterprise",
            UnitKind::Ecommerce => "ecommerce",
            UnitKind::Other => "other",
        }
    }
    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// Chinese label for UI and reports.
    pub fn label_zh(self) -> &'static str {
        match self {
            UnitKind::Centre => "热线中心",
            UnitKind::District => "区",
            UnitKind::DistrictDepartment => "区级部门",
            UnitKind::StreetTown => "街道乡镇",
            UnitKind::Community => "社区村",
            UnitKind::CityDepartment => "市级部门",
            UnitKind::StateEnterprise => "国有企业",
            UnitKind::Ecommerce => "电商企业",
            UnitKind::Other => "其他",
        }
    }
    /// Whether tickets can be dispatched to this kind of unit (the centre and communities cannot:
    /// communities work through their street).
    pub fn dispatchable(self) -> bool {
        !matches!(self, UnitKind::Centre | UnitKind::Community)
    }
}

/// 功能区 — Beijing's functional zones, used to group districts in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FunctionalZone {
    /// 中心城区及副中心
    CoreAndSubCentre,
    /// 平原新城
    PlainNewTowns,
    /// 生态涵养区
    EcologicalConservation,
}

impl FunctionalZone {
    /// The Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            FunctionalZone::CoreAndSubCentre => "中心城区及副中心",
            FunctionalZone::PlainNewTowns => "平原新城",
            FunctionalZone::EcologicalConservation => "生态涵养区",
        }
    }
}

/// One unit of the organisation tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    /// Official code (统计用区划代码 for places; our own codes for departments and firms).
    pub code: String,
    /// The name.
    pub name: String,
    /// The kind.
    pub kind: UnitKind,
    /// Parent unit code; `None` only for the centre.
    pub parent: Option<String>,
    /// Resident population where known (万人诉求比 needs it).
    pub population: Option<u64>,
    /// The functional zone, if any.
    pub zone: Option<FunctionalZone>,
    /// Retired units stay in the tree (history refers to them) but receive no new tickets.
    pub active: bool,
}

/// The organisation tree with fast look-ups by code.
#[derive(Debug, Clone, Default)]
pub struct OrgTree {
    units: Vec<Unit>,
    by_code: HashMap<String, usize>,
    children: HashMap<String, Vec<usize>>,
}

impl OrgTree {
    /// Builds it from its items.
    pub fn new(units: Vec<Unit>) -> Self {
        let mut by_code = HashMap::with_capacity(units.len());
        let mut children: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, u) in units.iter().enumerate() {
            by_code.insert(u.code.clone(), i);
            if let Some(p) = &u.parent {
                children.entry(p.clone()).or_default().push(i);
            }
        }
        OrgTree {
            units,
            by_code,
            children,
        }
    }
    /// Every unit.
    pub fn units(&self) -> &[Unit] {
        &self.units
    }
    /// Looks a code up.
    pub fn get(&self, code: &str) -> Option<&Unit> {
        self.by_code.get(code).map(|&i| &self.units[i])
    }
    /// The direct children of a code.
    pub fn children(&self, code: &str) -> impl Iterator<Item = &Unit> {
        self.children
            .get(code)
            .into_iter()
            .flatten()
            .map(|&i| &self.units[i])
    }
    /// The unit and its ancestors, nearest first.
    pub fn ancestors<'a>(&'a self, code: &str) -> impl Iterator<Item = &'a Unit> + 'a {
        let mut next = self.get(code);
        std::iter::from_fn(move || {
            let cur = next?;
            next = cur.parent.as_deref().and_then(|p| self.get(p));
            Some(cur)
        })
    }
    /// Whether `code` is `scope` or lies below it.
    pub fn is_within(&self, code: &str, scope: &str) -> bool {
        self.ancestors(code).any(|u| u.code == scope)
    }
    /// The district a unit belongs to (itself if it is one).
    pub fn district_of(&self, code: &str) -> Option<&Unit> {
        self.ancestors(code).find(|u| u.kind == UnitKind::District)
    }
    /// Every unit of a kind.
    pub fn of_kind(&self, kind: UnitKind) -> impl Iterator<Item = &Unit> {
        self.units.iter().filter(move |u| u.kind == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(code: &str, kind: UnitKind, parent: Option<&str>) -> Unit {
        Unit {
            code: code.into(),
            name: code.into(),
            kind,
            parent: parent.map(Into::into),
            population: None,
            zone: None,
            active: true,
        }
    }

    #[test]
    fn a_street_is_within_its_district_but_not_another() {
        let t = OrgTree::new(vec![
            unit("C", UnitKind::Centre, None),
            unit("110105", UnitKind::District, Some("C")),
            unit("110108", UnitKind::District, Some("C")),
            unit("110105001", UnitKind::StreetTown, Some("110105")),
            unit("110105001001", UnitKind::Community, Some("110105001")),
        ]);
        assert!(t.is_within("110105001001", "110105"));
        assert!(t.is_within("110105001", "110105001"));
        assert!(!t.is_within("110105001", "110108"));
        assert_eq!(t.district_of("110105001001").unwrap().code, "110105");
        assert_eq!(t.children("110105").count(), 1);
    }
}
