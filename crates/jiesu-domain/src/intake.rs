//! Parse at the edge (受理): the raw intake form of every intake route (staff `POST /tickets`,
//! public `POST /public/tickets`) becomes a validated [`Intake`] in one place — wire names
//! parsed, codes checked against the org and category trees, content checked
//! ([`crate::command::validate_intake`]: lengths, phone, place).

use crate::category::CategoryTree;
use crate::command::validate_intake;
use crate::error::parse_wire as parse_enum;
use crate::error::DomainError;
use crate::org::{OrgTree, UnitKind};
use crate::ticket::*;
use serde::{Deserialize, Serialize};

/// The requester as typed in the form.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RequesterForm {
    /// May be empty for a consultation answered directly.
    #[serde(default)]
    pub name: String,
    /// A mobile or a landline with area code.
    pub phone: String,
}

/// The raw intake body, as the JSON of `POST /api/v1/tickets` and `/public/tickets`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct IntakeForm {
    /// A [`Channel`] wire name; the route's default when left out.
    #[serde(default)]
    pub channel: Option<String>,
    /// A [`RequestType`] wire name.
    #[serde(rename = "type")]
    pub request_type: String,
    /// A category code of the category tree.
    pub category_code: String,
    /// The title.
    pub title: String,
    /// The request in the citizen's words.
    pub text: String,
    /// Both may be left out (empty) for a consultation taken by staff, which then can be
    /// answered directly but not dispatched (the domain decides).
    #[serde(default)]
    pub district_code: String,
    /// The street or town (街乡镇) in the district.
    #[serde(default)]
    pub street_code: String,
    /// A community (社区) of the street.
    #[serde(default)]
    pub community_code: Option<String>,
    /// The address.
    #[serde(default)]
    pub address: Option<String>,
    /// Latitude.
    #[serde(default)]
    pub lat: Option<f64>,
    /// Longitude.
    #[serde(default)]
    pub lng: Option<f64>,
    /// Who asks.
    pub requester: RequesterForm,
    /// 企业诉求.
    #[serde(default)]
    pub enterprise: bool,
    /// A [`DeadlineTier`] wire name set at intake.
    #[serde(default)]
    pub tier: Option<String>,
    /// The unit a praise (表扬) praises.
    #[serde(default)]
    pub praised_unit: Option<String>,
}

/// Who files the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filer {
    /// 座席 — staff take it in (by phone unless a channel is named); a place-less consultation
    /// is allowed (answered on the spot).
    Staff,
    /// 市民 — the public form (web channel); a place is always needed.
    Public,
}

/// What parsing checks the form against.
pub struct IntakeContext<'a> {
    /// The org tree (district, street, community and praised unit codes).
    pub org: &'a OrgTree,
    /// The category tree.
    pub categories: &'a CategoryTree,
    /// Who files it.
    pub filer: Filer,
}

impl Intake {
    /// Parses and validates an intake form: the one check every intake route runs.
    pub fn parse(b: IntakeForm, ctx: &IntakeContext) -> Result<ParsedIntake, DomainError> {
        let mut channel = match b.channel.as_deref() {
            Some(c) => parse_enum("channel", c, Channel::parse, Channel::names())?,
            None if ctx.filer == Filer::Public => Channel::Web,
            None => Channel::Phone,
        };
        if ctx.filer == Filer::Public && channel == Channel::Phone {
            channel = Channel::Web;
        }
        let request_type = parse_enum(
            "type",
            &b.request_type,
            RequestType::parse,
            RequestType::names(),
        )?;
        let tier = b
            .tier
            .as_deref()
            .map(|t| parse_enum("tier", t, DeadlineTier::parse, DeadlineTier::names()))
            .transpose()?;
        if ctx.categories.get(&b.category_code).is_none() {
            return Err(DomainError::invalid(
                "category_code",
                format!("unknown category code '{}'", b.category_code),
                format!("分类代码“{}”不存在", b.category_code),
            ));
        }
        let placeless_consultation = ctx.filer == Filer::Staff
            && request_type == RequestType::Consultation
            && b.district_code.trim().is_empty()
            && b.street_code.trim().is_empty()
            && b.community_code
                .as_deref()
                .is_none_or(|c| c.trim().is_empty());
        if !placeless_consultation {
            check_place(ctx.org, &b)?;
        }
        if let Some(p) = &b.praised_unit {
            if ctx.org.get(p).is_none() {
                return Err(DomainError::invalid(
                    "praised_unit",
                    format!("unknown unit '{p}'"),
                    format!("单位“{p}”不存在"),
                ));
            }
        }
        let intake = Intake {
            channel,
            request_type,
            category_code: b.category_code,
            title: unify_line_breaks(b.title),
            text: unify_line_breaks(b.text),
            place: Place {
                district_code: b.district_code,
                street_code: b.street_code,
                community_code: b.community_code.filter(|c| !c.is_empty()),
                address: b.address.filter(|a| !a.is_empty()).map(unify_line_breaks),
                lat: b.lat,
                lng: b.lng,
            },
            requester: Requester {
                name: unify_line_breaks(b.requester.name.trim().to_string()),
                phone: b.requester.phone.trim().to_string(),
            },
            enterprise: b.enterprise,
            tier,
            praised_unit: b.praised_unit,
            risk: None,
        };
        intake.check()
    }

    /// Checks an intake built in code (the demo generator, imports, tests) with the same content
    /// rules as [`Intake::parse`] (lengths, phone, tier, praise); the reference codes are the
    /// builder's to get right.
    pub fn check(self) -> Result<ParsedIntake, DomainError> {
        validate_intake(&self)?;
        Ok(ParsedIntake(self))
    }
}

/// `\r\n` and a lone `\r` as `\n` (the one line break kept; see
/// [`crate::command::no_control_chars`]).
fn unify_line_breaks(s: String) -> String {
    if s.contains('\r') {
        s.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        s
    }
}

/// 已校验的受理信息 — an intake that passed [`Intake::parse`] or [`Intake::check`]. Only these two
/// make one, so what takes a `ParsedIntake` (a new ticket's first event, the store's create) need
/// not check again.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedIntake(Intake);

impl ParsedIntake {
    /// The checked intake.
    pub fn get(&self) -> &Intake {
        &self.0
    }

    /// The intake itself.
    pub fn into_inner(self) -> Intake {
        self.0
    }

    /// The intake with the emergency found in it at intake (`None` clears it). A mark needs a
    /// kind, at least one transfer number of 110 / 119 / 120 / 122 and at most 20 signs.
    pub fn with_risk(mut self, risk: Option<crate::ticket::RiskMark>) -> Result<Self, DomainError> {
        if let Some(r) = &risk {
            let ok = !r.kind.trim().is_empty()
                && !r.transfer_to.is_empty()
                && r.transfer_to
                    .iter()
                    .all(|n| crate::ticket::EMERGENCY_NUMBERS.contains(&n.as_str()))
                && r.signs.len() <= 20;
            if !ok {
                return Err(DomainError::invalid(
                    "risk",
                    "a risk mark needs a kind and transfer numbers of 110, 119, 120, 122",
                    "风险标记须有类型和转接号码（110、119、120、122）",
                ));
            }
        }
        self.0.risk = risk;
        Ok(self)
    }
}

impl std::ops::Deref for ParsedIntake {
    type Target = Intake;
    fn deref(&self) -> &Intake {
        &self.0
    }
}

/// The place of a request against the org tree: a district, one of its streets/towns, and
/// optionally one of that street's communities.
fn check_place(org: &OrgTree, b: &IntakeForm) -> Result<(), DomainError> {
    if org
        .get(&b.district_code)
        .filter(|u| u.kind == UnitKind::District)
        .is_none()
    {
        return Err(DomainError::invalid(
            "district_code",
            format!("unknown district code '{}'", b.district_code),
            format!("区代码“{}”不存在", b.district_code),
        ));
    }
    match org
        .get(&b.street_code)
        .filter(|u| u.kind == UnitKind::StreetTown)
    {
        None => {
            return Err(DomainError::invalid(
                "street_code",
                format!("unknown street/town code '{}'", b.street_code),
                format!("街乡镇代码“{}”不存在", b.street_code),
            ))
        }
        Some(s) if s.parent.as_deref() != Some(b.district_code.as_str()) => {
            return Err(DomainError::invalid(
                "street_code",
                format!(
                    "street/town {} is not in district {}",
                    b.street_code, b.district_code
                ),
                format!("街乡镇 {} 不属于区 {}", b.street_code, b.district_code),
            ))
        }
        _ => {}
    }
    if let Some(c) = b.community_code.as_deref().filter(|c| !c.is_empty()) {
        let ok = org.get(c).is_some_and(|u| {
            u.kind == UnitKind::Community && u.parent.as_deref() == Some(b.street_code.as_str())
        });
        if !ok {
            return Err(DomainError::invalid(
                "community_code",
                format!(
                    "community {c} does not exist in street/town {}",
                    b.street_code
                ),
                format!("社区 {c} 不在街乡镇 {} 内", b.street_code),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod risk_tests {
    use crate::ticket::*;

    fn intake() -> Intake {
        Intake {
            channel: Channel::Phone,
            request_type: RequestType::Complaint,
            category_code: "0101".into(),
            title: "楼道煤气味".into(),
            text: "楼道里有很浓的煤气味".into(),
            place: Place {
                district_code: "110105".into(),
                street_code: "110105001".into(),
                ..Place::default()
            },
            requester: Requester {
                name: "王先生".into(),
                phone: "13800002222".into(),
            },
            enterprise: false,
            tier: None,
            praised_unit: None,
            risk: None,
        }
    }

    fn mark(to: &[&str]) -> RiskMark {
        RiskMark {
            kind: "gas".into(),
            transfer_to: to.iter().map(|s| s.to_string()).collect(),
            signs: vec!["煤气味：楼道里有很浓的煤气味".into()],
        }
    }

    #[test]
    fn a_risk_mark_needs_a_kind_and_emergency_numbers() {
        let p = intake().check().unwrap();
        let marked = p.clone().with_risk(Some(mark(&["119"]))).unwrap();
        assert_eq!(marked.risk.as_ref().unwrap().transfer_to, vec!["119"]);
        assert!(p.clone().with_risk(Some(mark(&[]))).is_err());
        assert!(p.clone().with_risk(Some(mark(&["12345"]))).is_err());
        assert!(p.with_risk(None).unwrap().risk.is_none());
    }

    #[test]
    fn an_intake_without_a_mark_serializes_as_before() {
        let v = serde_json::to_value(intake()).unwrap();
        assert!(v.get("risk").is_none());
        let mut i = intake();
        i.risk = Some(mark(&["119"]));
        let back: Intake = serde_json::from_value(serde_json::to_value(&i).unwrap()).unwrap();
        assert_eq!(back, i);
    }
}
