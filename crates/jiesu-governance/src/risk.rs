//! 风险推送 — signs of an emergency in a request at intake, the kind of emergency and the
//! emergency number it belongs to (110 police, 119 fire and rescue, 120 ambulance, 122 traffic
//! police), and the rule that merges similar reports in one place within an hour into one
//! incident (突发事件). Rules, not a trained model: every sign is a phrase a reader can check, and
//! the evaluation on real messages (`evaluate`) says how far they can be trusted.
//!
//! A sign counts only where the text says the danger is there now. Each sign is looked for in
//! one clause (split at punctuation) and is blocked when that clause
//! - negates it just before (没有/未/不/无 … 起火),
//! - is hypothetical or about a hazard (一旦/万一/如果/隐患/可能/容易/担心 …),
//! - is about the past or recurs (2014年/去年/曾经/以前/上次; 经常/每次/下雨就/多次 …),
//! - is a simile or news from elsewhere (像/如同; 报道/新闻/网上),
//! - (fire and gas) is followed by it being put out (扑灭/灭了/已修好) in the same or the next clause;
//!
//! and false friends are masked before anything is matched (煤气费, 燃气公司, 消防通道, 火灾隐患,
//! 110kV, 门打架, 玩失踪 …). Pure: text in, finding out.

use serde::{Deserialize, Serialize};

/// 风险类型 — the kind of emergency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskKind {
    /// 燃气泄漏 — a gas smell or leak.
    Gas,
    /// 火情 — fire, smoke, an explosion.
    Fire,
    /// 坍塌 — a building, wall, slope or road collapsing or about to.
    Collapse,
    /// 人员危险 — a person in danger: suicide, drowning, trapped, unconscious, missing.
    PersonInDanger,
    /// 暴力 — violence in progress or continuing threats of it.
    Violence,
    /// 水淹 — flooding now.
    Flood,
    /// 交通事故 — a road accident.
    Traffic,
}

impl RiskKind {
    /// Every kind, most severe first (the order a finding's kind is chosen in).
    pub const ALL: [RiskKind; 7] = [
        RiskKind::Gas,
        RiskKind::Fire,
        RiskKind::Collapse,
        RiskKind::PersonInDanger,
        RiskKind::Violence,
        RiskKind::Flood,
        RiskKind::Traffic,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskKind::Gas => "gas",
            RiskKind::Fire => "fire",
            RiskKind::Collapse => "collapse",
            RiskKind::PersonInDanger => "person_in_danger",
            RiskKind::Violence => "violence",
            RiskKind::Flood => "flood",
            RiskKind::Traffic => "traffic",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<RiskKind> {
        RiskKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The Chinese name.
    pub fn label_zh(self) -> &'static str {
        match self {
            RiskKind::Gas => "燃气泄漏",
            RiskKind::Fire => "火情",
            RiskKind::Collapse => "坍塌",
            RiskKind::PersonInDanger => "人员危险",
            RiskKind::Violence => "暴力",
            RiskKind::Flood => "水淹",
            RiskKind::Traffic => "交通事故",
        }
    }

    /// The English name.
    pub fn label_en(self) -> &'static str {
        match self {
            RiskKind::Gas => "gas leak",
            RiskKind::Fire => "fire",
            RiskKind::Collapse => "collapse",
            RiskKind::PersonInDanger => "person in danger",
            RiskKind::Violence => "violence",
            RiskKind::Flood => "flooding",
            RiskKind::Traffic => "road accident",
        }
    }
}

/// 转接 — the emergency number a request is marked for transfer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Transfer {
    /// 110 — police.
    #[serde(rename = "110")]
    Police,
    /// 119 — fire and rescue (also gas leaks, collapses, people trapped, floods).
    #[serde(rename = "119")]
    Fire,
    /// 120 — ambulance.
    #[serde(rename = "120")]
    Ambulance,
    /// 122 — traffic police.
    #[serde(rename = "122")]
    Traffic,
}

impl Transfer {
    /// The number.
    pub fn number(self) -> &'static str {
        match self {
            Transfer::Police => "110",
            Transfer::Fire => "119",
            Transfer::Ambulance => "120",
            Transfer::Traffic => "122",
        }
    }

    /// Parses a number.
    pub fn parse(s: &str) -> Option<Transfer> {
        [
            Transfer::Police,
            Transfer::Fire,
            Transfer::Ambulance,
            Transfer::Traffic,
        ]
        .into_iter()
        .find(|t| t.number() == s)
    }
}

use Transfer::{Ambulance as T120, Fire as T119, Police as T110, Traffic as T122};

/// One sign: a phrase (`A…B`: A then B in the same clause), its kind and where it goes.
struct Sign {
    phrase: &'static str,
    kind: RiskKind,
    to: &'static [Transfer],
}

const fn s(phrase: &'static str, kind: RiskKind, to: &'static [Transfer]) -> Sign {
    Sign { phrase, kind, to }
}

use RiskKind::{
    Collapse as C, Fire as F, Flood as W, Gas as G, PersonInDanger as P, Traffic as R,
    Violence as V,
};

/// The signs. A gas leak goes to 119 (in China the fire brigade answers gas leaks; the gas
/// company is told by the unit), a flood to 119 (rescue), a road accident to 122.
const SIGNS: &[Sign] = &[
    s("煤气味", G, &[T119]),
    s("燃气味", G, &[T119]),
    s("天然气味", G, &[T119]),
    s("液化气味", G, &[T119]),
    s("闻到…煤气", G, &[T119]),
    s("闻到…燃气", G, &[T119]),
    s("闻到…天然气", G, &[T119]),
    s("闻到…液化气", G, &[T119]),
    s("煤气泄漏", G, &[T119]),
    s("燃气泄漏", G, &[T119]),
    s("天然气泄漏", G, &[T119]),
    s("液化气泄漏", G, &[T119]),
    s("气罐…泄漏", G, &[T119]),
    s("燃气管…破", G, &[T119]),
    s("燃气管…断", G, &[T119]),
    s("煤气中毒", G, &[T119, T120]),
    s("漏气", G, &[T119]),
    s("着火", F, &[T119]),
    s("起火", F, &[T119]),
    s("失火", F, &[T119]),
    s("火势", F, &[T119]),
    s("烧起来", F, &[T119]),
    s("火苗", F, &[T119]),
    s("明火", F, &[T119]),
    s("冒烟", F, &[T119]),
    s("浓烟", F, &[T119]),
    s("爆炸", F, &[T119, T120]),
    s("爆燃", F, &[T119, T120]),
    s("倒塌", C, &[T119]),
    s("坍塌", C, &[T119]),
    s("塌陷", C, &[T119]),
    s("垮塌", C, &[T119]),
    s("塌方", C, &[T119]),
    s("塌了", C, &[T119]),
    s("梁…断", C, &[T119]),
    s("要塌", C, &[T119]),
    s("跳楼", P, &[T110, T120]),
    s("轻生", P, &[T110, T120]),
    s("自杀", P, &[T110, T120]),
    s("割腕", P, &[T110, T120]),
    s("溺水", P, &[T110, T120]),
    s("落水", P, &[T110, T120]),
    s("被困", P, &[T119]),
    s("困在", P, &[T119]),
    s("走失", P, &[T110]),
    s("失联", P, &[T110]),
    s("失踪", P, &[T110]),
    s("昏倒", P, &[T120]),
    s("晕倒", P, &[T120]),
    s("昏迷", P, &[T120]),
    s("不省人事", P, &[T120]),
    s("呼吸困难", P, &[T120]),
    s("触电", P, &[T120]),
    s("打人", V, &[T110]),
    s("殴打", V, &[T110]),
    s("斗殴", V, &[T110]),
    s("群殴", V, &[T110]),
    s("打架", V, &[T110]),
    s("追打", V, &[T110]),
    s("拳打脚踢", V, &[T110]),
    s("持刀", V, &[T110]),
    s("砍人", V, &[T110]),
    s("捅伤", V, &[T110, T120]),
    s("捅成", V, &[T110, T120]),
    s("捅了", V, &[T110, T120]),
    s("刀捅", V, &[T110, T120]),
    s("行凶", V, &[T110]),
    s("家暴", V, &[T110]),
    s("抢劫", V, &[T110]),
    s("绑架", V, &[T110]),
    s("扬言…杀", V, &[T110]),
    s("扬言…伤害", V, &[T110]),
    s("被淹", W, &[T119]),
    s("淹没", W, &[T119]),
    s("水淹", W, &[T119]),
    s("内涝", W, &[T119]),
    s("倒灌", W, &[T119]),
    s("洪水", W, &[T119]),
    s("齐腰", W, &[T119]),
    s("水漫", W, &[T119]),
    s("车祸", R, &[T122, T120]),
    s("撞车", R, &[T122]),
    s("追尾", R, &[T122]),
    s("翻车", R, &[T122]),
    s("被车撞", R, &[T122, T120]),
    s("交通事故", R, &[T122]),
];

/// Phrases masked before matching: they contain a sign's characters and are not emergencies.
const FALSE_FRIENDS: &[&str] = &[
    "煤气费",
    "燃气费",
    "燃气公司",
    "燃气有限公司",
    "燃气表",
    "燃气灶",
    "燃气开户",
    "燃气管道铺设",
    "天然气价格",
    "火灾隐患",
    "消防通道",
    "消防车道",
    "消防设施",
    "灭火器",
    "水深火热",
    "火车",
    "随着火",
    "塌方式",
    "隔岸观火",
    "如火如荼",
    "门打架",
    "门和邻居的入户门打架",
    "玩失踪",
    "捅破",
    "捅娄子",
    "轮胎漏气",
    "车胎漏气",
    "油烟",
    "抽烟",
    "吸烟",
    "防汛",
    "抗洪",
    "防洪",
    "危房改造",
    "打人不",
    "严禁打架",
];

/// Words that make a clause hypothetical, a hazard, past, recurring, a simile or news.
const BLOCKERS: &[&str] = &[
    // hypothetical or a hazard
    "一旦",
    "万一",
    "如果",
    "假如",
    "若是",
    "倘若",
    "防止",
    "以防",
    "以免",
    "避免",
    "预防",
    "防范",
    "隐患",
    "可能",
    "容易",
    "会不会",
    "担心",
    "生怕",
    "害怕",
    "随时",
    "迟早",
    "难免",
    "杜绝",
    "风险",
    "危险性",
    "会发生",
    "会引发",
    "引发",
    "导致火",
    "发生火灾",
    "消防",
    // pollution, not fire
    "烟囱",
    "焚烧",
    "污染",
    "排放",
    // past
    "去年",
    "前年",
    "曾经",
    "曾",
    "以前",
    "之前",
    "当年",
    "上次",
    "那次",
    "往年",
    "历年",
    "年前",
    "发生过",
    "过火灾",
    // recurring
    "经常",
    "常常",
    "时常",
    "每次",
    "每逢",
    "每当",
    "一下雨",
    "下雨就",
    "下大雨就",
    "一到",
    "动不动",
    "常年",
    "长期",
    "多年",
    "多次",
    "屡次",
    "频发",
    "频繁",
    "不断",
    "接二连三",
    "三天两头",
    "时有",
    "有时",
    "数次",
    "几次",
    "时不时",
    "一再",
    "再三",
    "每天",
    "天天",
    "每年",
    "每月",
    "每晚",
    "现象",
    "近几年",
    "个月",
    "半年",
    "年时间",
    // a narrated case followed up: a complaint, its handling, its evidence
    "举报",
    "投诉",
    "控告",
    "状告",
    "追究",
    "立案",
    "报案",
    "不了了之",
    "事件",
    "何时",
    "为何",
    "为什么",
    "谁来",
    "妥善",
    "视频",
    "证明",
    "涉黑",
    "黑恶",
    "扫黑",
    "身故",
    // a question or a thought experiment
    "是否",
    "难道",
    "试想",
    "设想",
    "将会",
    // hearsay
    "听说",
    "据说",
    "群内",
    "国内",
    // a simile, news, elsewhere
    "好像",
    "像",
    "如同",
    "仿佛",
    "犹如",
    "报道",
    "新闻",
    "网上",
    "全国",
    "各地",
    "教训",
    "事故频",
];

/// Words that negate a sign when they come just before it: two-character ones within 6
/// characters, one-character ones within 2 (so 不知道谁家着火了 still counts).
const NEGATIONS: &[&str] = &[
    "没有", "并未", "从未", "没", "未", "不", "无", "非", "别", "防",
];

/// Words saying a fire or a leak is over (in the sign's clause or the next).
const OVER: &[&str] = &[
    "扑灭",
    "灭了",
    "已灭",
    "熄灭",
    "修好",
    "已修复",
    "已处理",
    "排除了",
];

/// One sign found: the phrase and the clause it stands in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignFound {
    /// The sign's phrase (`闻到…煤气`).
    pub phrase: String,
    /// Its kind.
    pub kind: RiskKind,
    /// The clause of the request it was found in (at most 40 characters).
    pub clause: String,
}

/// 风险识别结果 — what the detector found in a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskFinding {
    /// The kind (the most severe of the signs found, in [`RiskKind::ALL`]'s order).
    pub kind: RiskKind,
    /// The numbers to transfer to, in order 110, 119, 120, 122 (those of every sign found).
    pub transfer_to: Vec<Transfer>,
    /// Every sign found, in the order of the text.
    pub signs: Vec<SignFound>,
}

/// The clauses of a text: split at punctuation and line breaks, blanks dropped.
fn clauses(text: &str) -> Vec<String> {
    text.split(|c: char| {
        matches!(
            c,
            '，' | '。'
                | '！'
                | '？'
                | '；'
                | '：'
                | ','
                | '.'
                | '!'
                | '?'
                | ';'
                | ':'
                | '\n'
                | '\r'
                | '、'
                | '…'
        )
    })
    .map(str::trim)
    .filter(|c| !c.is_empty())
    .map(str::to_string)
    .collect()
}

/// The text with every false friend replaced by as many `□` (positions kept).
fn mask(text: &str) -> String {
    let mut t = text.to_string();
    for f in FALSE_FRIENDS {
        if t.contains(f) {
            t = t.replace(f, &"□".repeat(f.chars().count()));
        }
    }
    // 110 kV lines, 120 yuan, 119 in a number: digits next to the emergency numbers are amounts
    t
}

/// Where a phrase (`A` or `A…B`) matches in a clause: the byte offset of its start.
fn find_phrase(clause: &str, phrase: &str) -> Option<usize> {
    match phrase.split_once('…') {
        None => clause.find(phrase),
        Some((a, b)) => {
            let i = clause.find(a)?;
            clause[i + a.len()..].contains(b).then_some(i)
        }
    }
}

fn negated_before(clause: &str, at: usize) -> bool {
    let chars: Vec<char> = clause[..at].chars().collect();
    let within = |n: usize| -> String { chars[chars.len().saturating_sub(n)..].iter().collect() };
    let (near, wide) = (within(2), within(6));
    NEGATIONS.iter().any(|n| {
        if n.chars().count() > 1 {
            wide.contains(n)
        } else {
            near.contains(n)
        }
    })
}

fn short(clause: &str) -> String {
    clause.chars().take(40).collect()
}

/// 风险识别 — the signs of an emergency in a request's title and text; `None` when there are none.
pub fn detect(title: &str, text: &str) -> Option<RiskFinding> {
    let full = mask(&format!("{title}。{text}"));
    let cl = clauses(&full);
    let mut found: Vec<SignFound> = Vec::new();
    let mut to: Vec<Transfer> = Vec::new();
    for (i, c) in cl.iter().enumerate() {
        if BLOCKERS.iter().any(|b| c.contains(b)) || has_past_year(c) {
            continue;
        }
        for sign in SIGNS {
            let Some(at) = find_phrase(c, sign.phrase) else {
                continue;
            };
            if negated_before(c, at) {
                continue;
            }
            if matches!(sign.kind, RiskKind::Fire | RiskKind::Gas) {
                let next = cl.get(i + 1).map(String::as_str).unwrap_or("");
                if OVER.iter().any(|o| c.contains(o) || next.contains(o)) {
                    continue;
                }
            }
            if found
                .iter()
                .any(|f| f.kind == sign.kind && f.clause == short(c))
            {
                continue;
            }
            found.push(SignFound {
                phrase: sign.phrase.to_string(),
                kind: sign.kind,
                clause: short(c),
            });
            to.extend_from_slice(sign.to);
        }
    }
    let kind = RiskKind::ALL
        .into_iter()
        .find(|k| found.iter().any(|f| f.kind == *k))?;
    to.sort();
    to.dedup();
    Some(RiskFinding {
        kind,
        transfer_to: to,
        signs: found,
    })
}

/// A clause naming a year (`2014年`) or a date (`6月19日`): about the past, or at least not
/// about now.
fn has_past_year(clause: &str) -> bool {
    let chars: Vec<char> = clause.chars().collect();
    let year = chars
        .windows(5)
        .any(|w| w[..4].iter().all(|c| c.is_ascii_digit()) && w[4] == '年');
    // a date (`6月19日`): a caller does not date what happens now
    let date = chars.windows(3).enumerate().any(|(i, w)| {
        w[0].is_ascii_digit()
            && w[1] == '月'
            && (w[2].is_ascii_digit() || "一二三四五六七八九十".contains(w[2]))
            && chars[i + 2..]
                .iter()
                .take(3)
                .any(|c| *c == '日' || *c == '号')
    });
    year || date
}

/// The labelled evaluation set: `message_id,label,sample` of real messages of
/// `tipdm2020_gov_messages_votes_replies` (our reading; the texts are not shipped, the caller
/// reads them from the shared data). `label` is a [`RiskKind`] wire name or `none`.
pub const EVAL_LABELS: &str = include_str!("../data/risk_eval_labels.csv");

/// The labels of [`EVAL_LABELS`]: message id, label, sample.
pub fn eval_labels() -> Vec<(String, Option<RiskKind>, String)> {
    EVAL_LABELS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("message_id") && !l.trim().is_empty())
        .filter_map(|l| {
            let mut f = l.split(',');
            let id = f.next()?.trim().to_string();
            let label = RiskKind::parse(f.next()?.trim());
            let sample = f.next().unwrap_or("").trim().to_string();
            Some((id, label, sample))
        })
        .collect()
}

/// Precision and recall of one class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PrecisionRecall {
    /// Messages of the class found as it.
    pub true_positives: u32,
    /// Messages found as the class but labelled otherwise.
    pub false_positives: u32,
    /// Messages of the class not found as it.
    pub false_negatives: u32,
    /// TP / (TP + FP); null when nothing was found as the class.
    pub precision: Option<f64>,
    /// TP / (TP + FN); null when no message has the class.
    pub recall: Option<f64>,
}

impl PrecisionRecall {
    fn of(tp: u32, fp: u32, fn_: u32) -> PrecisionRecall {
        let ratio = |a: u32, b: u32| (b > 0).then(|| f64::from(a) / f64::from(b));
        PrecisionRecall {
            true_positives: tp,
            false_positives: fp,
            false_negatives: fn_,
            precision: ratio(tp, tp + fp),
            recall: ratio(tp, tp + fn_),
        }
    }
}

/// The evaluation of the detector on labelled messages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskEval {
    /// Messages evaluated.
    pub messages: u32,
    /// Messages labelled as an emergency.
    pub emergencies: u32,
    /// Any emergency against none (the push itself).
    pub overall: PrecisionRecall,
    /// Per kind (the kind must match), in [`RiskKind::ALL`]'s order; kinds with neither a label
    /// nor a finding are left out.
    pub per_kind: Vec<(RiskKind, PrecisionRecall)>,
    /// Non-emergencies pushed, as a share of the non-emergencies.
    pub false_alarm_rate: Option<f64>,
}

/// A message's label and what the detector found (`None`: no emergency / nothing found).
pub type LabelAndFound = (Option<RiskKind>, Option<RiskKind>);

/// Evaluates labelled messages: each pairs its label (`None`: no emergency) with the detector's
/// kind (`None`: nothing found).
pub fn evaluate(pairs: &[LabelAndFound]) -> RiskEval {
    let count = |f: &dyn Fn(&LabelAndFound) -> bool| pairs.iter().filter(|p| f(p)).count() as u32;
    let overall = PrecisionRecall::of(
        count(&|p| p.0.is_some() && p.1.is_some()),
        count(&|p| p.0.is_none() && p.1.is_some()),
        count(&|p| p.0.is_some() && p.1.is_none()),
    );
    let per_kind = RiskKind::ALL
        .into_iter()
        .map(|k| {
            (
                k,
                PrecisionRecall::of(
                    count(&|p| p.0 == Some(k) && p.1 == Some(k)),
                    count(&|p| p.0 != Some(k) && p.1 == Some(k)),
                    count(&|p| p.0 == Some(k) && p.1 != Some(k)),
                ),
            )
        })
        .filter(|(_, pr)| pr.true_positives + pr.false_positives + pr.false_negatives > 0)
        .collect();
    let negatives = count(&|p| p.0.is_none());
    RiskEval {
        messages: pairs.len() as u32,
        emergencies: count(&|p| p.0.is_some()),
        overall,
        per_kind,
        false_alarm_rate: (negatives > 0)
            .then(|| f64::from(overall.false_positives) / f64::from(negatives)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> Option<RiskKind> {
        detect("", text).map(|f| f.kind)
    }

    #[test]
    fn each_kind_is_found_with_its_number() {
        let cases = [
            ("楼道里一股很浓的煤气味，邻居家没人", RiskKind::Gas, "119"),
            ("我家厨房燃气泄漏了，嘶嘶响", RiskKind::Gas, "119"),
            ("对面楼三层着火了，火很大", RiskKind::Fire, "119"),
            ("小区配电房在冒烟", RiskKind::Fire, "119"),
            ("工地围墙倒塌了，压住了路边的车", RiskKind::Collapse, "119"),
            ("路面突然塌陷出一个大坑", RiskKind::Collapse, "119"),
            ("有个人站在楼顶要跳楼", RiskKind::PersonInDanger, "110"),
            ("我们被困在电梯里出不来", RiskKind::PersonInDanger, "119"),
            ("老人在路边晕倒了", RiskKind::PersonInDanger, "120"),
            ("楼下有人持刀追砍", RiskKind::Violence, "110"),
            ("门口两伙人正在斗殴", RiskKind::Violence, "110"),
            ("暴雨后地下室被淹，水已经齐腰", RiskKind::Flood, "119"),
            ("十字路口发生车祸，有人受伤", RiskKind::Traffic, "122"),
        ];
        for (text, k, number) in cases {
            let f = detect("", text).unwrap_or_else(|| panic!("nothing found in {text}"));
            assert_eq!(f.kind, k, "{text}");
            assert!(
                f.transfer_to.iter().any(|t| t.number() == number),
                "{text}: {:?}",
                f.transfer_to
            );
            assert!(!f.signs.is_empty());
        }
    }

    #[test]
    fn false_friends_are_not_emergencies() {
        for text in [
            "咨询煤气费怎么在网上缴纳",
            "燃气公司多收了燃气费",
            "小区消防通道被占，车辆乱停",
            "楼下餐馆有火灾隐患，请检查",
            "反对在小区旁建110kv变电站",
            "补课费每月1200元",
            "我们的入户门和邻居的入户门打架",
            "平台恶性退出玩失踪",
            "工厂烟囱浓烟滚滚，污染环境",
            "夜宵摊油烟很大",
            "防汛抗洪要提前准备",
            "咨询农村危房改造补贴",
            "天然气价格太贵了",
            "请问什么时候开通天然气",
        ] {
            assert_eq!(kind(text), None, "{text}");
        }
    }

    #[test]
    fn negations_hazards_the_past_and_recurrence_block_a_sign() {
        for text in [
            "没有闻到煤气味，只是想咨询",
            "房子漏水但没有发生电路起火",
            "一旦发生火灾，消防车进不来",
            "万一着火后果不堪设想",
            "存在倒塌的风险",
            "护栏锈迹斑斑，随时可能倒塌",
            "2014年这栋楼起过火",
            "去年小区发生过火灾",
            "一下雨就被淹，路上都是水",
            "这个路口经常发生车祸",
            "噪音像爆炸一样",
            "看到新闻报道重庆居民楼着火",
            "厨房起火，保安及时扑灭了",
            "刚才着火，已经灭了",
        ] {
            assert_eq!(kind(text), None, "{text}");
        }
    }

    #[test]
    fn a_present_danger_next_to_a_blocked_clause_still_counts() {
        let f = detect("", "以前也发生过火灾。现在楼下又着火了，浓烟很大，请快来").unwrap();
        assert_eq!(f.kind, RiskKind::Fire);
        assert_eq!(f.transfer_to, vec![Transfer::Fire]);
    }

    #[test]
    fn several_kinds_take_the_most_severe_and_every_number() {
        let f = detect("", "有人打架，一人倒地昏迷").unwrap();
        assert_eq!(f.kind, RiskKind::PersonInDanger);
        assert_eq!(f.transfer_to, vec![Transfer::Police, Transfer::Ambulance]);
        assert_eq!(f.signs.len(), 2);
    }

    #[test]
    fn the_title_counts_too() {
        assert_eq!(
            detect("楼道有煤气味", "请尽快派人").map(|f| f.kind),
            Some(RiskKind::Gas)
        );
    }

    #[test]
    fn evaluation_counts_per_kind_and_overall() {
        use RiskKind::*;
        let e = evaluate(&[
            (Some(Gas), Some(Gas)),
            (Some(Fire), Some(Gas)),
            (None, Some(Flood)),
            (Some(Violence), None),
            (None, None),
            (None, None),
        ]);
        assert_eq!(e.messages, 6);
        assert_eq!(e.emergencies, 3);
        assert_eq!(e.overall.true_positives, 2);
        assert_eq!(e.overall.false_positives, 1);
        assert_eq!(e.overall.false_negatives, 1);
        assert_eq!(e.overall.precision, Some(2.0 / 3.0));
        let gas = e.per_kind.iter().find(|k| k.0 == Gas).unwrap().1;
        assert_eq!((gas.true_positives, gas.false_positives), (1, 1));
        assert_eq!(e.false_alarm_rate, Some(1.0 / 3.0));
        assert!(e.per_kind.iter().all(|k| k.0 != Collapse));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Any text: no panic, and a finding always has a sign and a number.
            #[test]
            fn any_text_is_safe(text in "\\PC{0,300}") {
                if let Some(f) = detect("", &text) {
                    prop_assert!(!f.signs.is_empty());
                    prop_assert!(!f.transfer_to.is_empty());
                }
            }

            /// A sign in a clause made hypothetical or dated stays silent, whatever surrounds it
            /// in that clause.
            #[test]
            fn a_hedged_or_dated_sign_is_silent(
                sign in proptest::sample::select(vec!["着火", "煤气味", "倒塌", "殴打", "被淹", "车祸", "跳楼"]),
                hedge in proptest::sample::select(vec!["万一", "如果", "一旦", "2015年", "去年", "经常"]),
                pad in "[的了在楼小区]{0,6}",
            ) {
                let text = format!("{hedge}{pad}{sign}{pad}");
                prop_assert_eq!(detect("", &text), None, "{}", text);
            }
        }
    }
}
