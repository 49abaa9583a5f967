//! 主办单位标签 — the place-independent labels of lead units that the intake unit model learns
//! (`jiesu_text::intake_model`), and back from a label to the unit at a request's place.

use jiesu_domain::org::{OrgTree, UnitKind};

/// The place-independent label of a lead unit (主办单位), which the unit model learns: a street or
/// town is `street` and a community `community` (the request's place decides which one), a district
/// department is `dd:` + its code after the district's (`110105D11` → `dd:D11`, the same
/// department in whichever district the request is), a district `district`; any other unit
/// (city departments, utilities, firms) is `unit:` + its code.
pub fn unit_label(org: &OrgTree, code: &str) -> Option<String> {
    let u = org.get(code)?;
    Some(match u.kind {
        UnitKind::StreetTown => "street".into(),
        UnitKind::Community => "community".into(),
        UnitKind::District => "district".into(),
        UnitKind::DistrictDepartment => {
            let parent = u.parent.as_deref().unwrap_or("");
            match code.strip_prefix(parent) {
                Some(suffix) if !parent.is_empty() && !suffix.is_empty() => format!("dd:{suffix}"),
                _ => format!("unit:{code}"),
            }
        }
        _ => format!("unit:{code}"),
    })
}

/// The unit a [`unit_label`] stands for at a place (district, street, community), if it exists
/// and is active.
pub fn resolve_unit_label(
    org: &OrgTree,
    label: &str,
    district: &str,
    street: &str,
    community: &str,
) -> Option<String> {
    let code = match label {
        "street" => street.to_string(),
        "community" if !community.is_empty() => community.to_string(),
        "community" => street.to_string(),
        "district" => district.to_string(),
        l => match (l.strip_prefix("dd:"), l.strip_prefix("unit:")) {
            (Some(suffix), _) if !district.is_empty() => format!("{district}{suffix}"),
            (_, Some(code)) => code.to_string(),
            _ => return None,
        },
    };
    org.get(&code).filter(|u| u.active).map(|u| u.code.clone())
}
