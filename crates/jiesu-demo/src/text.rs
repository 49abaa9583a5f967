//! Chinese text: requester names and phones, addresses, and request texts filled from the
//! reference templates with real place names.

use crate::model::Pools;
use crate::rng::Rng;

/// An 11-digit mainland mobile number.
pub fn mobile(rng: &mut Rng) -> String {
    const SECOND: [(u8, f64); 5] = [
        (b'3', 0.32),
        (b'5', 0.24),
        (b'7', 0.08),
        (b'8', 0.31),
        (b'9', 0.05),
    ];
    let u = rng.f64();
    let mut acc = 0.0;
    let mut second = b'3';
    for (d, p) in SECOND {
        acc += p;
        if u < acc {
            second = d;
            break;
        }
    }
    let mut s = String::with_capacity(11);
    s.push('1');
    s.push(second as char);
    for _ in 0..9 {
        s.push((b'0' + rng.below(10) as u8) as char);
    }
    s
}

/// A surname drawn by frequency.
pub fn surname<'a>(pools: &'a Pools, rng: &mut Rng) -> &'a str {
    match &pools.surname_pick {
        Some(a) if !pools.surnames.is_empty() => &pools.surnames[a.sample(rng)],
        _ if !pools.surnames.is_empty() => rng.pick::<String>(&pools.surnames).as_str(),
        _ => "王",
    }
}

/// A requester's name: a full name, or "王女士"-style as agents often record it.
pub fn person_name(pools: &Pools, rng: &mut Rng) -> String {
    let mut s = surname(pools, rng).to_string();
    if rng.chance(0.3) || pools.given.is_empty() {
        s.push_str(if rng.chance(0.5) { "先生" } else { "女士" });
        return s;
    }
    s.push_str(rng.pick::<String>(&pools.given).as_str());
    if rng.chance(0.6) {
        s.push_str(rng.pick::<String>(&pools.given).as_str());
    }
    s
}

/// Strips the committee suffix of a community/village name: 多福巷社区居委会 → 多福巷社区,
/// 东坝村委会 → 东坝村.
pub fn community_short(name: &str) -> String {
    for (suffix, keep) in [
        ("社区居民委员会", "社区"),
        ("社区居委会", "社区"),
        ("居民委员会", "社区"),
        ("居委会", "社区"),
        ("村民委员会", "村"),
        ("村委会", "村"),
    ] {
        if let Some(stem) = name.strip_suffix(suffix) {
            if stem.ends_with(keep) {
                return stem.to_string();
            }
            return format!("{stem}{keep}");
        }
    }
    name.to_string()
}

/// The estate (小区) a community is named after, if it looks like one: 团结湖北里社区 → 团结湖北里.
fn estate_of(community: &str) -> Option<&str> {
    let stem = community.strip_suffix("社区")?;
    (stem.chars().count() >= 2).then_some(stem)
}

/// Where the text's placeholders come from.
pub struct PlaceWords<'a> {
    pub district: &'a str,
    pub street: &'a str,
    /// Short community name (社区 / 村), if any.
    pub community: Option<&'a str>,
    /// The estate used for this ticket (chosen once so the text and the address agree).
    pub estate: String,
    pub road: String,
    /// The firm that will lead the ticket (an e-commerce platform or a state-owned firm), named
    /// by `{company}`.
    pub firm: Option<&'a str>,
}

impl<'a> PlaceWords<'a> {
    pub fn new(
        pools: &Pools,
        rng: &mut Rng,
        district: &'a str,
        street: &'a str,
        community: Option<&'a str>,
    ) -> Self {
        let estate = match community {
            Some(c) if c.ends_with('村') => c.to_string(),
            Some(c) if rng.chance(0.5) => estate_of(c)
                .map(str::to_string)
                .unwrap_or_else(|| pick_or(&pools.estates, rng, "幸福家园")),
            _ => pick_or(&pools.estates, rng, "幸福家园"),
        };
        let road = pick_or(&pools.roads, rng, "建设路");
        PlaceWords {
            district,
            street,
            community,
            estate,
            road,
            firm: None,
        }
    }

    /// A street address inside the place.
    pub fn address(&self, rng: &mut Rng) -> String {
        if self.estate.ends_with('村') {
            format!("{}{}号", self.estate, rng.range(1, 260))
        } else if rng.chance(0.7) {
            format!(
                "{}{}号楼{}单元",
                self.estate,
                rng.range(1, 30),
                rng.range(1, 6)
            )
        } else {
            format!("{}{}号", self.road, rng.range(1, 200))
        }
    }
}

fn pick_or(xs: &[String], rng: &mut Rng, default: &str) -> String {
    if xs.is_empty() {
        default.to_string()
    } else {
        rng.pick(xs).clone()
    }
}

const TIMES: [&str; 12] = [
    "今天上午",
    "今天下午",
    "昨天晚上",
    "昨天",
    "前天",
    "近一周",
    "这几天",
    "本周一",
    "上周末",
    "近一个月",
    "今天凌晨",
    "最近",
];

/// Fills `{district} {street} {community} {estate} {road} {n} {time} {shop} {company}`.
pub fn fill(template: &str, w: &PlaceWords, extra: &ExtraPools, rng: &mut Rng) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after.find('}') {
            Some(j) => {
                let key = &after[..j];
                match key {
                    "district" => out.push_str(w.district),
                    "street" => out.push_str(w.street),
                    "community" => out.push_str(w.community.unwrap_or(w.street)),
                    "estate" => out.push_str(&w.estate),
                    "road" => out.push_str(&w.road),
                    "n" => out.push_str(&rng.range(2, 30).to_string()),
                    "time" => out.push_str(rng.pick::<&str>(&TIMES)),
                    "shop" => out.push_str(&pick_or(&extra.shops, rng, "一家商铺")),
                    "company" => match w.firm {
                        Some(f) => out.push_str(f),
                        None => out.push_str(&pick_or(&extra.companies, rng, "一家公司")),
                    },
                    _ => out.push_str(key),
                }
                rest = &after[j + 1..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Shop and company name pools.
#[derive(Debug, Clone, Default)]
pub struct ExtraPools {
    pub shops: Vec<String>,
    pub companies: Vec<String>,
}

/// Generic consultation texts for leaves without a consultation template (`{leaf}` is the leaf).
pub const CONSULTATION_TEMPLATES: [(&str, &str); 6] = [
    (
        "咨询{leaf}相关政策",
        "市民来电咨询{leaf}方面的相关政策规定，希望工作人员给予解答。",
    ),
    (
        "咨询{leaf}办理流程",
        "来电人咨询{leaf}的办理流程、所需材料和办理地点，本人居住在{district}{street}。",
    ),
    (
        "咨询{leaf}问题",
        "市民咨询{leaf}的有关问题，不清楚应向哪个部门反映，希望得到指引。",
    ),
    (
        "{leaf}政策咨询",
        "来电人表示{time}了解到{leaf}相关规定有调整，咨询具体变化及对本人的影响。",
    ),
    (
        "咨询{leaf}办理时限",
        "市民咨询{leaf}事项一般需要多长时间办结，能否在网上办理。",
    ),
    (
        "咨询{leaf}收费标准",
        "来电人咨询{leaf}是否收费、收费标准是什么，居住地在{district}{community}。",
    ),
];

/// Answers given directly from the knowledge base.
pub const ANSWERS: [&str; 5] = [
    "已依据知识库向市民解答{leaf}相关政策及办理流程，市民表示清楚。",
    "已告知市民{leaf}的办理渠道、所需材料和咨询电话，市民表示认可。",
    "已按知识库口径答复{leaf}相关规定，并告知可通过北京通App查询办理进度。",
    "已向来电人解释{leaf}的政策依据和适用条件，来电人表示理解。",
    "已为市民查询并解答{leaf}相关问题，建议其携带有效证件到{district}政务服务中心办理。",
];

/// Results submitted by the handling unit (`{unit}`).
pub const RESULTS: [&str; 8] = [
    "{unit}已联系诉求人并到现场核实，问题已处理完毕，已向诉求人反馈办理结果。",
    "经{unit}调查核实，已督促相关责任方限期整改，并将整改情况告知诉求人。",
    "{unit}已与诉求人电话沟通，详细解释了相关政策规定，诉求人表示理解。",
    "{unit}已协调相关单位现场处置，问题得到解决，后续将持续跟进。",
    "经{unit}核实，诉求人反映情况属实，已依法责令整改，并已向诉求人反馈。",
    "{unit}工作人员已上门了解情况，已制定解决方案并正在落实，已向诉求人说明进度。",
    "{unit}已约谈相关责任主体，双方达成一致意见，诉求人表示认可。",
    "经{unit}核查，该问题涉及历史遗留因素，已向诉求人做好政策解释，将纳入后续治理计划。",
];

/// Callback comments by the citizen.
pub const COMMENTS_GOOD: [&str; 4] = [
    "工作人员很负责，问题已经解决了，谢谢。",
    "反馈很及时，态度也好。",
    "办得挺快的，满意。",
    "已经处理好了，感谢12345。",
];
pub const COMMENTS_BAD: [&str; 4] = [
    "没有人到现场看，问题还在。",
    "只是电话解释了一下，实际问题没有解决。",
    "说会处理但一直没有动静。",
    "解释不能接受，希望再派人处理。",
];

/// Replaces `{key}` with `value` (simple, for the generator's own phrases).
pub fn sub(template: &str, key: &str, value: &str) -> String {
    template.replace(key, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn community_names_are_shortened() {
        assert_eq!(community_short("多福巷社区居委会"), "多福巷社区");
        assert_eq!(community_short("东坝村委会"), "东坝村");
        assert_eq!(community_short("新村社区居民委员会"), "新村社区");
        assert_eq!(community_short("机场工作区"), "机场工作区");
    }

    #[test]
    fn mobiles_are_valid() {
        let mut r = Rng::new(1, 1, 1);
        for _ in 0..1000 {
            assert!(jiesu_domain::ticket::valid_phone(&mobile(&mut r)));
        }
    }

    #[test]
    fn templates_fill_every_placeholder() {
        let pools = Pools::default();
        let extra = ExtraPools::default();
        let mut r = Rng::new(1, 1, 1);
        let w = PlaceWords::new(&pools, &mut r, "朝阳区", "建外街道", Some("永安里社区"));
        let s = fill(
            "市民反映{district}{street}{community}{estate}{n}号楼{road}{time}{shop}{company}",
            &w,
            &extra,
            &mut r,
        );
        assert!(!s.contains('{'), "{s}");
        assert!(s.starts_with("市民反映朝阳区建外街道永安里社区"));
    }
}
