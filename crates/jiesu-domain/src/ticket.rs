//! Ticket vocabulary: channels, request types, special handling, deadline tiers, callback answers,
//! and the intake record (what the citizen told us).

use serde::{Deserialize, Serialize};

/// Generates `as_str`, `parse`, `ALL` and a Chinese label for a wire enum, so the wire names live
/// in one place (serde uses the same snake_case names).
macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = $wire:literal / $zh:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
        pub enum $name { $($(#[$vm])* #[serde(rename = $wire)] $var),+ }
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$var),+];
            /// The wire name (as in JSON and the database).
            pub fn as_str(self) -> &'static str { match self { $($name::$var => $wire),+ } }
            /// Parse a wire name.
            pub fn parse(s: &str) -> Option<Self> { match s { $($wire => Some($name::$var),)+ _ => None } }
            /// The Chinese label shown to users.
            pub fn label_zh(self) -> &'static str { match self { $($name::$var => $zh),+ } }
            /// All wire names, for error messages.
            pub fn names() -> String { [$($wire),+].join(", ") }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}
pub(crate) use wire_enum;

wire_enum! {
    /// 受理渠道 — how the request reached the centre (一号受理: one number, every channel).
    Channel {
        /// 电话 — 92.1 % of Beijing's volume.
        Phone = "phone" / "电话",
        /// 网站
        Web = "web" / "网站",
        /// 微信
        Wechat = "wechat" / "微信",
        /// 北京通等 app
        App = "app" / "手机应用",
        /// 微博
        Weibo = "weibo" / "微博",
        /// 人民网领导留言板等
        MessageBoard = "message_board" / "留言板",
        /// 网格员上报
        Grid = "grid" / "网格",
        /// 其他热线转来
        PartnerHotline = "partner_hotline" / "合作热线",
    }
}

wire_enum! {
    /// 诉求类型 — the kind of request.
    RequestType {
        /// 咨询
        Consultation = "consultation" / "咨询",
        /// 求助
        Help = "help" / "求助",
        /// 投诉
        Complaint = "complaint" / "投诉",
        /// 举报
        Report = "report" / "举报",
        /// 建议
        Suggestion = "suggestion" / "建议",
        /// 表扬
        Praise = "praise" / "表扬",
    }
}

wire_enum! {
    /// 特殊处置 — requests handled by telling the citizen the right route instead of dispatching.
    SpecialHandling {
        /// 紧急 — transferred at once to 110/119/120/122.
        EmergencyTransfer = "emergency_transfer" / "紧急转接",
        /// 涉法涉诉 / 信访 — the citizen is told the legal route; telling them is the handling.
        LegalRoute = "legal_route" / "告知法定途径",
        /// 涉密涉私 — explained to the citizen.
        PrivateOrSecret = "private_or_secret" / "涉密涉私解释",
        /// 违法或违背公序良俗 — the citizen is persuaded.
        Persuade = "persuade" / "劝导",
    }
}

wire_enum! {
    /// 办理时限档位 — the four response tiers (分级响应).
    DeadlineTier {
        /// 2 小时
        H2 = "2h" / "2小时",
        /// 24 小时
        H24 = "24h" / "24小时",
        /// 7 天
        D7 = "7d" / "7天",
        /// 15 天
        D15 = "15d" / "15天",
    }
}

impl DeadlineTier {
    /// The tier's length in minutes.
    pub fn minutes(self) -> i64 {
        match self {
            DeadlineTier::H2 => 120,
            DeadlineTier::H24 => 24 * 60,
            DeadlineTier::D7 => 7 * 24 * 60,
            DeadlineTier::D15 => 15 * 24 * 60,
        }
    }
}

wire_enum! {
    /// 主办 / 协办 — an assignment's role.
    AssignmentRole {
        /// 主办 — leads and answers for the ticket.
        Lead = "lead" / "主办",
        /// 协办 — assists the lead.
        Assist = "assist" / "协办",
    }
}

wire_enum! {
    /// 回访: is it resolved?
    Resolution {
        /// 已解决
        Resolved = "resolved" / "已解决",
        /// 部分解决
        Partly = "partly" / "部分解决",
        /// 未解决
        Unresolved = "unresolved" / "未解决",
    }
}

wire_enum! {
    /// 回访: is the citizen satisfied?
    Satisfaction {
        /// 满意
        Satisfied = "satisfied" / "满意",
        /// 基本满意
        Basic = "basic" / "基本满意",
        /// 不满意
        Unsatisfied = "unsatisfied" / "不满意",
    }
}

wire_enum! {
    /// 回访: the handler's attitude as the citizen saw it.
    Attitude {
        /// 好
        Good = "good" / "好",
        /// 一般
        Fair = "fair" / "一般",
        /// 差
        Poor = "poor" / "差",
    }
}

wire_enum! {
    /// 退单原因 — why a unit returns a ticket.
    ReturnReason {
        /// 非本单位职责
        NotOurDuty = "not_our_duty" / "非本单位职责",
        /// 地址不在辖区
        OutsideArea = "outside_area" / "不在本辖区",
        /// 信息不全无法办理
        MissingInformation = "missing_information" / "信息不全",
        /// 应由其他层级办理
        WrongLevel = "wrong_level" / "层级不符",
        /// 其他
        Other = "other" / "其他",
    }
}

wire_enum! {
    /// 提级 — the level a ticket is escalated to.
    EscalationLevel {
        /// 区级统筹
        District = "district" / "区级统筹",
        /// 市级协调
        City = "city" / "市级协调",
        /// 行业主管部门
        Industry = "industry" / "行业主管部门",
    }
}

wire_enum! {
    /// 紧急部门 — the emergency services a request is transferred to (转接) and their numbers.
    EmergencyService {
        /// 110 公安 — the police (and the 110 linkage, 110联动).
        Police = "110" / "公安110",
        /// 119 消防救援 — fire and rescue.
        Fire = "119" / "消防119",
        /// 120 急救 — the ambulance.
        Ambulance = "120" / "急救120",
        /// 122 交警 — the traffic police.
        Traffic = "122" / "交警122",
    }
}

wire_enum! {
    /// 转接回复 — what the emergency service answered about a transfer.
    TransferOutcome {
        /// 已接收 — it took the case over (a handled reply may follow).
        Accepted = "accepted" / "已接收",
        /// 不予接收 — it declined: the case stays with the hotline.
        Declined = "declined" / "不予接收",
        /// 已处置 — it handled the case.
        Handled = "handled" / "已处置",
    }
}

wire_enum! {
    /// 考核豁免原因 — why a ticket is excluded from a unit's scores (listed, never silently dropped).
    ExemptReason {
        /// 经核实的不合理诉求
        Unreasonable = "unreasonable" / "经核实的不合理诉求",
        /// 失管弃管小区
        UnmanagedEstate = "unmanaged_estate" / "失管弃管小区",
        /// 重复诉求已合并
        DuplicateMerged = "duplicate_merged" / "重复诉求已合并",
        /// 紧急转接
        EmergencyTransfer = "emergency_transfer" / "紧急转接",
        /// 其他政策豁免
        OtherPolicy = "other_policy" / "其他政策豁免",
    }
}

/// The requester (诉求人). Name and phone are personal data: masked for units unless their role
/// needs them, never exported, every unmasked read audited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    /// The name.
    pub name: String,
    /// The phone number.
    pub phone: String,
}

impl Requester {
    /// 138****5678 — the masked form shown to those who may not see the number.
    pub fn masked_phone(&self) -> String {
        mask_phone(&self.phone)
    }
}

/// Masks all but the first three and last four digits of a phone number.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 7 {
        return "*".repeat(chars.len());
    }
    let n = chars.len();
    chars[..3]
        .iter()
        .chain(std::iter::repeat_n(&'*', n - 7))
        .chain(chars[n - 4..].iter())
        .collect()
}

/// Masks a name to its first character (张**).
pub fn mask_name(name: &str) -> String {
    let mut it = name.chars();
    match it.next() {
        Some(first) => std::iter::once(first)
            .chain(it.map(|_| '*'))
            .collect::<String>(),
        None => String::new(),
    }
}

/// Where the problem is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Place {
    /// The district code.
    pub district_code: String,
    /// The street or town (街乡镇) code.
    pub street_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The community (社区) code.
    pub community_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The street address.
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Latitude.
    pub lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Longitude.
    pub lng: Option<f64>,
}

/// Everything taken in at creation: the content of the 诉求 as the agent (or the citizen) recorded it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intake {
    /// How the request reached the centre.
    pub channel: Channel,
    #[serde(rename = "type")]
    /// The request type (诉求类型).
    pub request_type: RequestType,
    /// The category code.
    pub category_code: String,
    /// The title.
    pub title: String,
    /// The text in words.
    pub text: String,
    /// Where the request is about.
    pub place: Place,
    /// Who asked.
    pub requester: Requester,
    /// 企业诉求 — filed by an enterprise.
    #[serde(default)]
    pub enterprise: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The deadline tier (时限).
    pub tier: Option<DeadlineTier>,
    /// The unit a 表扬 (praise) request praises, credited on callback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub praised_unit: Option<String>,
    /// 风险标记 — signs of an emergency found in the request at intake and the emergency
    /// numbers it is marked for transfer to; recorded with the intake (set only through
    /// [`crate::intake::ParsedIntake::with_risk`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<RiskMark>,
}

/// 风险标记 — an emergency found in a request at intake (by `jiesu_governance::risk`): its
/// kind, the numbers to transfer it to (转接 110 police, 119 fire and rescue, 120 ambulance,
/// 122 traffic police) and the signs, as the text says them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RiskMark {
    /// The kind's wire name (`gas`, `fire`, `collapse`, `person_in_danger`, `violence`,
    /// `flood`, `traffic`).
    pub kind: String,
    /// The emergency numbers, of 110, 119, 120 and 122.
    pub transfer_to: Vec<String>,
    /// The signs found (each a phrase with the clause it stands in).
    pub signs: Vec<String>,
}

/// The emergency numbers a request can be marked for transfer to.
pub const EMERGENCY_NUMBERS: [&str; 4] = ["110", "119", "120", "122"];

impl Intake {
    /// A consultation (咨询) taken in without a place: it can be answered directly (直接答复)
    /// but not dispatched until a place is given.
    pub fn is_placeless(&self) -> bool {
        self.place.district_code.trim().is_empty() && self.place.street_code.trim().is_empty()
    }
}

/// The longest request text accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;
/// The longest title accepted, in characters.
pub const MAX_TITLE_CHARS: usize = 200;

/// Whether a string is a plausible mainland phone number: a mobile (11 digits starting 1[3-9]) or a
/// fixed line with area code (e.g. 010-12345678 / 01012345678), digits and one optional dash.
pub fn valid_phone(phone: &str) -> bool {
    let digits: String = phone.chars().filter(|c| *c != '-').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) || phone.matches('-').count() > 1 {
        return false;
    }
    let b = digits.as_bytes();
    (b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]))
        || (b.len() >= 10 && b.len() <= 12 && b[0] == b'0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_phone_keeps_first_three_and_last_four() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("123"), "***");
        assert_eq!(mask_name("张三丰"), "张**");
    }

    #[test]
    fn phone_validation_accepts_mobiles_and_landlines_only() {
        assert!(valid_phone("13812345678"));
        assert!(valid_phone("010-65123456"));
        assert!(!valid_phone("12812345678"));
        assert!(!valid_phone("1381234567"));
        assert!(!valid_phone("138abc45678"));
        assert!(!valid_phone(""));
    }

    #[test]
    fn wire_names_round_trip() {
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(*c));
            assert_eq!(
                serde_json::to_string(c).unwrap(),
                format!("\"{}\"", c.as_str())
            );
        }
        for t in DeadlineTier::ALL {
            assert_eq!(DeadlineTier::parse(t.as_str()), Some(*t));
        }
    }
}
