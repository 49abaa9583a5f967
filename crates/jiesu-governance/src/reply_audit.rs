//! 办理质量审计 in the server — the results units filed in a period, checked for the seed's
//! 不作为 / 慢作为 / 假作为 oversight: a result that does not answer the request (答非所问: the
//! relevance score of [`crate::audit`] below the policy's floor), a boilerplate result (near
//! identical to the result of a different request: [`crate::audit::boilerplate`]), a result that
//! claims the problem solved while the citizen's callback says it is not (假办结), and a result
//! filed implausibly soon after the dispatch. Per unit: how many of its results were flagged.
//! Pure: the caller passes the texts segmented by the analyser, the times and the callbacks.

use crate::audit::{self, Doc, Pair};
use chrono::{DateTime, Utc};
use jiesu_domain::ticket::Resolution;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One result filed by a unit, as the audit reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultCase {
    /// The ticket.
    pub ticket: i64,
    /// The unit that filed the result (the lead).
    pub unit: String,
    /// The request (title, text, words).
    pub request: Doc,
    /// The result (text, words).
    pub result: Doc,
    /// When the unit received it (its dispatch).
    pub dispatched_at: DateTime<Utc>,
    /// When it filed the result.
    pub filed_at: DateTime<Utc>,
    /// The callback's resolution after the result (`None`: no callback reached the citizen yet).
    pub callback: Option<Resolution>,
}

/// The audit's thresholds (versioned data, like the other policies).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditPolicy {
    /// The policy's id.
    pub id: String,
    /// The first month it governs, `YYYY-MM` (a day is audited under the version in effect in
    /// its month).
    pub effective_from: String,
    /// 答非所问: a relevance score (0–4) below this.
    pub off_topic_below: f64,
    /// 模板化答复: 5-gram Jaccard with another request's result at least this.
    pub boilerplate_overlap: f64,
    /// 办结过快: a result filed within this many minutes of the dispatch.
    pub fast_minutes: i64,
    /// Relevance needs context: with fewer results than this in the period, no result is
    /// flagged 答非所问 (the IDF and the similar requests' replies mean little).
    pub min_results_for_relevance: usize,
}

impl AuditPolicy {
    /// The shipped default: the floor is the score below which 5 % of the true message–reply
    /// pairs of the real 问政 board fall (docs/GOVERNANCE.md); Jaccard 0.8 as measured for
    /// boilerplate; 30 minutes (no field visit, no call-back to the citizen fits in less).
    pub fn shipped_default() -> AuditPolicy {
        AuditPolicy {
            id: "reply-audit-2026".into(),
            effective_from: "2019-01".into(),
            off_topic_below: 0.3,
            boilerplate_overlap: 0.8,
            fast_minutes: 30,
            min_results_for_relevance: 20,
        }
    }
}

impl AuditPolicy {
    /// Checks the values, naming the first bad field.
    pub fn check(&self) -> Result<(), (String, String)> {
        if self.id.trim().is_empty() || self.id.chars().count() > 64 {
            return Err(("id".into(), "id must be 1–64 characters".into()));
        }
        if !crate::streets::is_month(&self.effective_from) {
            return Err((
                "effective_from".into(),
                format!("effective_from `{}` is not YYYY-MM", self.effective_from),
            ));
        }
        if !(0.0..=4.0).contains(&self.off_topic_below) {
            return Err((
                "off_topic_below".into(),
                format!(
                    "off_topic_below must be between 0 and 4 (got {})",
                    self.off_topic_below
                ),
            ));
        }
        if !(self.boilerplate_overlap > 0.0 && self.boilerplate_overlap <= 1.0) {
            return Err((
                "boilerplate_overlap".into(),
                format!(
                    "boilerplate_overlap must be above 0 and at most 1 (got {})",
                    self.boilerplate_overlap
                ),
            ));
        }
        if !(0..=7 * 24 * 60).contains(&self.fast_minutes) {
            return Err((
                "fast_minutes".into(),
                format!(
                    "fast_minutes must be between 0 and 10080 (got {})",
                    self.fast_minutes
                ),
            ));
        }
        if self.min_results_for_relevance > 1_000_000 {
            return Err((
                "min_results_for_relevance".into(),
                "min_results_for_relevance must be at most 1000000".into(),
            ));
        }
        Ok(())
    }

    /// The version of `versions` in effect in `month` (`YYYY-MM`), as for the street policies.
    pub fn in_effect<'a>(versions: &'a [AuditPolicy], month: &str) -> Option<&'a AuditPolicy> {
        let mut best: Option<&AuditPolicy> = None;
        for p in versions {
            if p.effective_from.as_str() <= month
                && best.is_none_or(|b| p.effective_from >= b.effective_from)
            {
                best = Some(p);
            }
        }
        best.or_else(|| {
            versions
                .iter()
                .min_by(|a, b| a.effective_from.cmp(&b.effective_from))
        })
    }
}

/// Why a result was flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    /// 答非所问 — the result does not answer the request.
    OffTopic,
    /// 模板化答复 — near-identical to the result of a different request.
    Boilerplate,
    /// 假办结 — the result claims the problem solved; the callback says unresolved.
    Contradicted,
    /// 办结过快 — filed implausibly soon after the dispatch.
    TooFast,
}

impl FlagKind {
    /// Every kind, in order.
    pub const ALL: [FlagKind; 4] = [
        FlagKind::OffTopic,
        FlagKind::Boilerplate,
        FlagKind::Contradicted,
        FlagKind::TooFast,
    ];
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            FlagKind::OffTopic => "off_topic",
            FlagKind::Boilerplate => "boilerplate",
            FlagKind::Contradicted => "contradicted",
            FlagKind::TooFast => "too_fast",
        }
    }
    /// The Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            FlagKind::OffTopic => "答非所问",
            FlagKind::Boilerplate => "模板化答复",
            FlagKind::Contradicted => "假办结（回访未解决）",
            FlagKind::TooFast => "办结过快",
        }
    }
}

/// A flagged result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flagged {
    /// The case's index in the input.
    pub index: usize,
    /// Why, in [`FlagKind::ALL`]'s order.
    pub kinds: Vec<FlagKind>,
    /// Its relevance score (0–4; `None` when the period had too few results to score).
    pub relevance: Option<f64>,
    /// Boilerplate: the other request's ticket whose result it nearly equals, and the overlap.
    pub like: Option<(i64, f64)>,
    /// Minutes from the dispatch to the result.
    pub minutes: i64,
}

/// One unit's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitAudit {
    /// The unit.
    pub unit: String,
    /// Results filed in the period.
    pub results: u32,
    /// Results flagged for any reason.
    pub flagged: u32,
    /// By kind, in [`FlagKind::ALL`]'s order.
    pub by_kind: [u32; 4],
    /// flagged / results.
    pub flagged_rate: f64,
}

/// Words a result uses to say the problem is solved.
const CLAIMS: &[&str] = &[
    "已解决",
    "已处理",
    "已修复",
    "已完成",
    "已办结",
    "已整改",
    "已清理",
    "已落实",
    "已恢复",
    "已维修",
    "已更换",
    "已拆除",
    "已清运",
    "处理完毕",
    "解决完毕",
    "已妥善",
];

/// Whether a result says the problem is solved (a claim a callback can contradict).
pub fn claims_resolved(text: &str) -> bool {
    CLAIMS.iter().any(|c| text.contains(c))
}

/// Flags the results of a period; the answer lists only flagged cases, in input order, and the
/// relevance of every case (`None` when too few to score).
pub fn audit(cases: &[ResultCase], policy: &AuditPolicy) -> (Vec<Flagged>, Vec<Option<f64>>) {
    let relevance: Vec<Option<f64>> = if cases.len() >= policy.min_results_for_relevance {
        let pairs: Vec<Pair> = cases
            .iter()
            .map(|c| Pair {
                id: c.ticket.to_string(),
                message: c.request.clone(),
                reply: c.result.clone(),
            })
            .collect();
        audit::score_pairs(&pairs).into_iter().map(Some).collect()
    } else {
        vec![None; cases.len()]
    };
    let replies: Vec<&str> = cases.iter().map(|c| c.result.text.as_str()).collect();
    let messages: Vec<&str> = cases.iter().map(|c| c.request.text.as_str()).collect();
    let mut like: Vec<Option<(i64, f64)>> = vec![None; cases.len()];
    for b in audit::boilerplate(&replies, &messages, policy.boilerplate_overlap) {
        let better = like[b.reply].is_none_or(|(_, o)| b.overlap > o);
        if better {
            like[b.reply] = Some((cases[b.like].ticket, b.overlap));
        }
    }
    let mut out = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let minutes = (c.filed_at - c.dispatched_at).num_minutes();
        let mut kinds = Vec::new();
        if relevance[i].is_some_and(|r| r < policy.off_topic_below) {
            kinds.push(FlagKind::OffTopic);
        }
        if like[i].is_some() {
            kinds.push(FlagKind::Boilerplate);
        }
        if c.callback == Some(Resolution::Unresolved) && claims_resolved(&c.result.text) {
            kinds.push(FlagKind::Contradicted);
        }
        if minutes < policy.fast_minutes {
            kinds.push(FlagKind::TooFast);
        }
        if !kinds.is_empty() {
            out.push(Flagged {
                index: i,
                kinds,
                relevance: relevance[i],
                like: like[i],
                minutes,
            });
        }
    }
    (out, relevance)
}

/// Per unit: results, flagged, by kind and the rate, the highest rate first (then most results).
pub fn per_unit(cases: &[ResultCase], flagged: &[Flagged]) -> Vec<UnitAudit> {
    let mut by: BTreeMap<&str, UnitAudit> = BTreeMap::new();
    for c in cases {
        by.entry(&c.unit)
            .or_insert_with(|| UnitAudit {
                unit: c.unit.clone(),
                results: 0,
                flagged: 0,
                by_kind: [0; 4],
                flagged_rate: 0.0,
            })
            .results += 1;
    }
    for f in flagged {
        if let Some(u) = by.get_mut(cases[f.index].unit.as_str()) {
            u.flagged += 1;
            for k in &f.kinds {
                u.by_kind[*k as usize] += 1;
            }
        }
    }
    let mut out: Vec<UnitAudit> = by
        .into_values()
        .map(|mut u| {
            u.flagged_rate = f64::from(u.flagged) / f64::from(u.results.max(1));
            u
        })
        .collect();
    out.sort_by(|a, b| {
        b.flagged_rate
            .total_cmp(&a.flagged_rate)
            .then(b.results.cmp(&a.results))
            .then(a.unit.cmp(&b.unit))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn words(s: &str) -> Vec<String> {
        // two-character chunks stand in for the analyser's words
        let cs: Vec<char> = s.chars().filter(|c| !c.is_ascii_punctuation()).collect();
        cs.chunks(2).map(|w| w.iter().collect()).collect()
    }

    fn doc(title: &str, text: &str) -> Doc {
        Doc {
            words: words(text),
            text: text.into(),
            title: title.into(),
        }
    }

    fn case(
        ticket: i64,
        unit: &str,
        req: &str,
        res: &str,
        minutes: i64,
        cb: Option<Resolution>,
    ) -> ResultCase {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap();
        ResultCase {
            ticket,
            unit: unit.into(),
            request: doc(req, req),
            result: doc("", res),
            dispatched_at: t0,
            filed_at: t0 + Duration::minutes(minutes),
            callback: cb,
        }
    }

    #[test]
    fn a_result_filed_quickly_or_contradicted_by_the_callback_is_flagged_with_its_reason() {
        let p = AuditPolicy::shipped_default();
        let cases = vec![
            case(
                1,
                "u1",
                "幸福里小区3号楼电梯故障",
                "经街道协调物业，幸福里小区3号楼电梯已修复。",
                5,
                None,
            ),
            case(
                2,
                "u1",
                "学校门口道路积水严重",
                "学校门口积水问题已处理，排水口已疏通。",
                600,
                Some(Resolution::Unresolved),
            ),
            case(
                3,
                "u2",
                "夜间施工噪音扰民",
                "联系施工单位，夜间停止施工，噪音问题已解决。",
                900,
                Some(Resolution::Resolved),
            ),
            case(
                4,
                "u2",
                "小区垃圾清运不及时",
                "我们正在协调，会尽快安排。",
                900,
                Some(Resolution::Unresolved),
            ),
        ];
        let (flags, rel) = audit(&cases, &p);
        assert!(
            rel.iter().all(Option::is_none),
            "4 results are too few to score"
        );
        let got: Vec<(i64, Vec<FlagKind>)> = flags
            .iter()
            .map(|f| (cases[f.index].ticket, f.kinds.clone()))
            .collect();
        // 4: unresolved, but its result claims nothing
        assert_eq!(
            got,
            vec![
                (1, vec![FlagKind::TooFast]),
                (2, vec![FlagKind::Contradicted])
            ]
        );
        assert_eq!(flags[0].minutes, 5);
        let units = per_unit(&cases, &flags);
        assert_eq!(units[0].unit, "u1");
        assert_eq!((units[0].results, units[0].flagged), (2, 2));
        assert_eq!(units[0].by_kind, [0, 0, 1, 1]);
        assert_eq!((units[1].unit.as_str(), units[1].flagged_rate), ("u2", 0.0));
    }

    #[test]
    fn the_same_result_for_different_requests_is_boilerplate_and_an_unrelated_reply_is_off_topic() {
        let mut p = AuditPolicy::shipped_default();
        p.min_results_for_relevance = 3;
        let template = "您好，您反映的问题已收悉，已转交相关部门调查处理，感谢您对我们工作的支持。";
        let mut cases = vec![
            case(
                1,
                "u1",
                "幸福里小区3号楼电梯故障一周无人维修",
                template,
                600,
                None,
            ),
            case(2, "u1", "学校门口道路积水严重影响通行", template, 600, None),
        ];
        for (i, (q, a)) in [
            (
                "朝阳路路灯不亮三天了",
                "朝阳路路灯经排查为线路老化，已更换线路，路灯恢复照明。",
            ),
            (
                "和平里小区供暖温度不达标",
                "和平里小区供暖经热力公司检测，已调整阀门，室温达到18度。",
            ),
            (
                "建国路井盖缺失存在危险",
                "建国路缺失井盖已由排水集团补装，并设置警示标志。",
            ),
            (
                "光明街菜市场占道经营",
                "光明街菜市场占道经营已由城管执法队清理，商户已入室经营。",
            ),
            (
                "东四十条公交站牌损坏",
                "东四十条公交站牌损坏情况已报公交集团，站牌已修复。",
            ),
        ]
        .iter()
        .enumerate()
        {
            cases.push(case(10 + i as i64, "u2", q, a, 600, None));
        }
        // a reply written for another request
        cases.push(case(
            20,
            "u3",
            "新华小区楼道堆物占用消防通道",
            "东四十条公交站牌损坏情况已报公交集团，站牌已修复。",
            600,
            None,
        ));
        p.off_topic_below = {
            let (_, rel) = audit(&cases, &p);
            // the floor between the unrelated reply and the weakest true one
            let wrong = rel[7].unwrap();
            let weakest_true = rel[2..7]
                .iter()
                .map(|r| r.unwrap())
                .fold(f64::MAX, f64::min);
            assert!(wrong < weakest_true, "{wrong} < {weakest_true}");
            (wrong + weakest_true) / 2.0
        };
        let (flags, _) = audit(&cases, &p);
        let kinds = |t: i64| {
            flags
                .iter()
                .find(|f| cases[f.index].ticket == t)
                .map(|f| f.kinds.clone())
                .unwrap_or_default()
        };
        assert!(kinds(1).contains(&FlagKind::Boilerplate));
        assert_eq!(
            flags
                .iter()
                .find(|f| cases[f.index].ticket == 2)
                .unwrap()
                .like
                .unwrap()
                .0,
            1
        );
        assert!(kinds(20).contains(&FlagKind::OffTopic));
        assert!(kinds(10).is_empty());
    }

    #[test]
    fn claims_of_a_solved_problem_are_recognised() {
        assert!(claims_resolved("路灯已修复，恢复照明"));
        assert!(!claims_resolved("正在协调，将尽快处理"));
    }
}
