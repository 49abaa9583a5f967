//! 治理类街乡镇 — every street or town classified every month as 先进 (advanced), 进步 (improved),
//! 整改 (to rectify), 治理 (governance priority) or 一般 (ordinary), from its 三率 composite rank,
//! the change of that rank and its volume, by a versioned policy (data, like the scoring
//! policies). The seed's entry rule (monthly volume among the city's top 10 with weak rates) and
//! exit rule (降量提率、排名提升 for N months running) are the shipped default's parameters; a
//! street entering the volume top 10 without being listed gets a pre-warning (未进先治); a street
//! that left the list is still tracked for the policy's period.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One street's month as the scorecard counted it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreetMonth {
    /// The street's code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its district's code.
    pub district: String,
    /// Assignments counted (the month's dispatched volume).
    pub volume: u32,
    /// The 三率 composite, 0–100 (`None`: not ranked, e.g. too few).
    pub composite: Option<f64>,
    /// Its rank by composite among the ranked (1 = best).
    pub rank: Option<u32>,
}

/// A classification policy (versioned: `id` and the first month it governs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreetPolicy {
    /// The policy's id, e.g. `streets-2021`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The first month it governs, `YYYY-MM`.
    pub effective_from: String,
    /// 先进: the best share of ranked streets by composite.
    pub advanced_share: f64,
    /// 整改: the worst share of ranked streets by composite.
    pub rectify_share: f64,
    /// 进步: rank improved by at least this many places on the previous month.
    pub progress_rank_gain: u32,
    /// 治理 entry: monthly volume among the city's top this many …
    pub entry_volume_top: u32,
    /// … and a composite rank in the worst this share of the ranked (weak rates).
    pub entry_weak_share: f64,
    /// Exit: this many months running with volume down, composite up and rank up (降量提率、排名提升).
    pub exit_months: u32,
    /// After exit, tracked this many months.
    pub track_months: u32,
}

impl StreetPolicy {
    /// The shipped default, after the seed's 专项报告三 (top 10 by volume with weak rates enter;
    /// three months of 降量提率、排名提升 exit; six months of tracking after).
    pub fn shipped_default() -> StreetPolicy {
        StreetPolicy {
            id: "streets-2021".into(),
            name:
                "治理类街乡镇（默认：月诉求量前十且三率靠后进入，连续三个月降量提率、排名提升退出）"
                    .into(),
            effective_from: "2019-01".into(),
            advanced_share: 0.1,
            rectify_share: 0.1,
            progress_rank_gain: 30,
            entry_volume_top: 10,
            entry_weak_share: 0.5,
            exit_months: 3,
            track_months: 6,
        }
    }

    /// Checks the values, naming the first bad field.
    pub fn check(&self) -> Result<(), (String, String)> {
        let share = |v: f64, f: &str| -> Result<(), (String, String)> {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err((f.into(), format!("{f} must be between 0 and 1 (got {v})")))
            }
        };
        if self.id.trim().is_empty() || self.id.chars().count() > 64 {
            return Err(("id".into(), "id must be 1–64 characters".into()));
        }
        if self.name.trim().is_empty() || self.name.chars().count() > 200 {
            return Err(("name".into(), "name must be 1–200 characters".into()));
        }
        share(self.advanced_share, "advanced_share")?;
        share(self.rectify_share, "rectify_share")?;
        share(self.entry_weak_share, "entry_weak_share")?;
        if self.entry_volume_top == 0 {
            return Err((
                "entry_volume_top".into(),
                "entry_volume_top must be at least 1".into(),
            ));
        }
        if self.exit_months == 0 {
            return Err((
                "exit_months".into(),
                "exit_months must be at least 1".into(),
            ));
        }
        if !is_month(&self.effective_from) {
            return Err((
                "effective_from".into(),
                format!("effective_from `{}` is not YYYY-MM", self.effective_from),
            ));
        }
        Ok(())
    }
}

/// Whether `s` is a month `YYYY-MM`.
pub fn is_month(s: &str) -> bool {
    s.len() == 7
        && s.is_ascii()
        && s.as_bytes()[4] == b'-'
        && s[..4]
            .parse::<u32>()
            .is_ok_and(|y| (1900..=9999).contains(&y))
        && s[5..].parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
}

/// The month's class of a street.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreetClass {
    /// 先进
    Advanced,
    /// 进步
    Improved,
    /// 整改
    Rectify,
    /// 治理 — on the governance-priority list.
    Govern,
    /// 一般
    Ordinary,
}

impl StreetClass {
    /// The Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            StreetClass::Advanced => "先进",
            StreetClass::Improved => "进步",
            StreetClass::Rectify => "整改",
            StreetClass::Govern => "治理",
            StreetClass::Ordinary => "一般",
        }
    }
}

/// A street's standing in the last month of a history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreetStanding {
    /// The street.
    pub street: StreetMonth,
    /// Its rank by volume (1 = most requests).
    pub volume_rank: u32,
    /// The rank change on the previous month (positive: better; `None` without both ranks).
    pub rank_change: Option<i64>,
    /// This month's class.
    pub class: StreetClass,
    /// On the 治理 list this month.
    pub listed: bool,
    /// The month it entered the list (this listing).
    pub listed_since: Option<String>,
    /// Months running that met the exit rule (listed streets).
    pub exit_progress: u32,
    /// Left the list and still tracked: the last month of tracking.
    pub tracked_until: Option<String>,
    /// 未进先治: entered the volume top N this month without being listed.
    pub pre_warning: bool,
    /// Why, in Chinese (the rule that classified it).
    pub reason: String,
}

fn add_months(key: &str, n: u32) -> String {
    let y: i32 = key[..4].parse().unwrap_or(2000);
    let m: i32 = key[5..].parse().unwrap_or(1);
    let t = y * 12 + (m - 1) + n as i32;
    format!("{:04}-{:02}", t / 12, t % 12 + 1)
}

/// Classifies every street of the last month of `history` (months oldest first, each with its
/// key `YYYY-MM` and the streets' figures). The list state (entry, exit, tracking) is replayed
/// over the whole history, so the same history always gives the same answer.
pub fn classify(
    policy: &StreetPolicy,
    history: &[(String, Vec<StreetMonth>)],
) -> Vec<StreetStanding> {
    classify_versions(std::slice::from_ref(policy), history)
}

/// The version of `versions` in effect in `month` (`YYYY-MM`): the one with the latest
/// `effective_from` not after it (of two from the same month, the later in the slice); the
/// earliest when every version starts after it. `None` only for an empty slice.
pub fn in_effect<'a>(versions: &'a [StreetPolicy], month: &str) -> Option<&'a StreetPolicy> {
    let mut best: Option<&StreetPolicy> = None;
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

/// As [`classify`], each month of the history under the version of `versions` in effect in it
/// ([`in_effect`]): a version added later with a later `effective_from` leaves the months
/// before it as they were classified. An empty `versions` means the shipped default.
pub fn classify_versions(
    versions: &[StreetPolicy],
    history: &[(String, Vec<StreetMonth>)],
) -> Vec<StreetStanding> {
    let shipped = [StreetPolicy::shipped_default()];
    let versions = if versions.is_empty() {
        &shipped[..]
    } else {
        versions
    };
    #[derive(Default, Clone)]
    struct State {
        listed_since: Option<String>,
        exit_progress: u32,
        tracked_until: Option<String>,
        prev: Option<StreetMonth>,
        prev_volume_rank: Option<u32>,
    }
    let mut states: HashMap<String, State> = HashMap::new();
    let mut out = Vec::new();
    for (mi, (key, streets)) in history.iter().enumerate() {
        let last = mi + 1 == history.len();
        let policy = in_effect(versions, key).unwrap_or(&shipped[0]);
        let ranked = streets.iter().filter(|s| s.rank.is_some()).count() as f64;
        let mut by_volume: Vec<&StreetMonth> = streets.iter().collect();
        by_volume.sort_by(|a, b| b.volume.cmp(&a.volume).then(a.code.cmp(&b.code)));
        let volume_rank: HashMap<&str, u32> = by_volume
            .iter()
            .enumerate()
            .map(|(i, s)| (s.code.as_str(), i as u32 + 1))
            .collect();
        for s in streets {
            let st = states.entry(s.code.clone()).or_default();
            let vr = volume_rank[s.code.as_str()];
            let weak = s
                .rank
                .is_some_and(|r| f64::from(r) > ranked * (1.0 - policy.entry_weak_share));
            let top_volume = vr <= policy.entry_volume_top;
            let rank_change = match (st.prev.as_ref().and_then(|p| p.rank), s.rank) {
                (Some(a), Some(b)) => Some(i64::from(a) - i64::from(b)),
                _ => None,
            };
            let mut reason = String::new();
            // the list: exit first (a listed street's month), then entry
            if st.listed_since.is_some() {
                let better = st.prev.as_ref().is_some_and(|p| {
                    s.volume < p.volume
                        && matches!((p.composite, s.composite), (Some(a), Some(b)) if b > a)
                        && matches!((p.rank, s.rank), (Some(a), Some(b)) if b < a)
                });
                st.exit_progress = if better { st.exit_progress + 1 } else { 0 };
                if st.exit_progress >= policy.exit_months {
                    reason = format!(
                        "连续 {} 个月降量提率、排名提升，退出治理类",
                        policy.exit_months
                    );
                    st.listed_since = None;
                    st.exit_progress = 0;
                    st.tracked_until = Some(add_months(key, policy.track_months));
                }
            } else if top_volume && weak {
                st.listed_since = Some(key.clone());
                st.exit_progress = 0;
                st.tracked_until = None;
                reason = format!(
                    "诉求量居全市第 {vr} 位（前 {}），三率排名第 {} 位，列为治理类",
                    policy.entry_volume_top,
                    s.rank.unwrap_or(0)
                );
            }
            if st
                .tracked_until
                .as_deref()
                .is_some_and(|u| u < key.as_str())
            {
                st.tracked_until = None;
            }
            let listed = st.listed_since.is_some();
            let pre_warning = !listed
                && top_volume
                && st
                    .prev_volume_rank
                    .is_none_or(|p| p > policy.entry_volume_top);
            let class = if listed {
                StreetClass::Govern
            } else if s
                .rank
                .is_some_and(|r| f64::from(r) <= (ranked * policy.advanced_share).ceil())
            {
                StreetClass::Advanced
            } else if s
                .rank
                .is_some_and(|r| f64::from(r) > ranked * (1.0 - policy.rectify_share))
            {
                StreetClass::Rectify
            } else if rank_change.is_some_and(|c| c >= i64::from(policy.progress_rank_gain)) {
                StreetClass::Improved
            } else {
                StreetClass::Ordinary
            };
            if reason.is_empty() {
                reason = match class {
                    StreetClass::Govern => format!(
                        "治理类（{} 起），退出进度 {}/{}",
                        st.listed_since.clone().unwrap_or_default(),
                        st.exit_progress,
                        policy.exit_months
                    ),
                    StreetClass::Advanced => {
                        format!("三率排名前 {:.0}%", policy.advanced_share * 100.0)
                    }
                    StreetClass::Rectify => {
                        format!("三率排名后 {:.0}%", policy.rectify_share * 100.0)
                    }
                    StreetClass::Improved => {
                        format!("排名较上月提升 {} 位", rank_change.unwrap_or(0))
                    }
                    StreetClass::Ordinary => "—".into(),
                };
            }
            if pre_warning {
                let note = format!("本月诉求量进入全市前 {}，未进先治", policy.entry_volume_top);
                reason = if reason == "—" {
                    note
                } else {
                    format!("{reason}；{note}")
                };
            }
            if last {
                out.push(StreetStanding {
                    street: s.clone(),
                    volume_rank: vr,
                    rank_change,
                    class,
                    listed,
                    listed_since: st.listed_since.clone(),
                    exit_progress: st.exit_progress,
                    tracked_until: st.tracked_until.clone(),
                    pre_warning,
                    reason,
                });
            }
            st.prev = Some(s.clone());
            st.prev_volume_rank = Some(vr);
        }
    }
    out.sort_by_key(|a| a.volume_rank);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn street(code: &str, volume: u32, rank: Option<u32>) -> StreetMonth {
        StreetMonth {
            code: code.into(),
            name: code.into(),
            district: "d".into(),
            volume,
            // composite falls as the rank worsens
            composite: rank.map(|r| 100.0 - f64::from(r)),
            rank,
        }
    }

    /// 20 streets; `big` is first by volume with the given rank, the others rank by index.
    fn month(key: &str, big_volume: u32, big_rank: u32) -> (String, Vec<StreetMonth>) {
        let mut v = vec![street("big", big_volume, Some(big_rank))];
        for i in 1..20u32 {
            let r = if i >= big_rank { i + 1 } else { i };
            v.push(street(&format!("s{i:02}"), 100 - i, Some(r)));
        }
        (key.into(), v)
    }

    #[test]
    fn a_busy_street_with_weak_rates_enters_and_leaves_after_three_better_months() {
        let p = StreetPolicy::shipped_default();
        let mut h = vec![month("2021-01", 500, 18)];
        let s = classify(&p, &h);
        let big = s.iter().find(|x| x.street.code == "big").unwrap();
        assert!(big.listed && big.class == StreetClass::Govern, "{big:?}");
        assert_eq!(big.listed_since.as_deref(), Some("2021-01"));
        // three months of 降量提率、排名提升
        for (k, vol, rank) in [
            ("2021-02", 450, 15),
            ("2021-03", 400, 12),
            ("2021-04", 350, 9),
        ] {
            h.push(month(k, vol, rank));
        }
        let s = classify(&p, &h);
        let big = s.iter().find(|x| x.street.code == "big").unwrap();
        assert!(!big.listed, "{big:?}");
        assert_eq!(big.tracked_until.as_deref(), Some("2021-10"));
        assert!(big.reason.contains("退出"), "{}", big.reason);
    }

    #[test]
    fn a_month_that_is_not_better_restarts_the_exit_count() {
        let p = StreetPolicy::shipped_default();
        let h = vec![
            month("2021-01", 500, 18),
            month("2021-02", 450, 15),
            month("2021-03", 460, 12), // volume up: not 降量
            month("2021-04", 400, 10),
        ];
        let s = classify(&p, &h);
        let big = s.iter().find(|x| x.street.code == "big").unwrap();
        assert!(big.listed);
        assert_eq!(big.exit_progress, 1);
    }

    #[test]
    fn a_busy_street_with_good_rates_gets_a_pre_warning_not_the_list() {
        let p = StreetPolicy::shipped_default();
        let h = vec![month("2021-01", 50, 2), month("2021-02", 500, 2)];
        let s = classify(&p, &h);
        let big = s.iter().find(|x| x.street.code == "big").unwrap();
        assert!(!big.listed);
        assert!(big.pre_warning, "{big:?}");
        assert_eq!(big.class, StreetClass::Advanced);
        assert!(big.reason.contains("未进先治"));
    }

    #[test]
    fn a_later_version_changes_the_classification_only_from_its_month() {
        let old = StreetPolicy::shipped_default();
        let mut strict = StreetPolicy::shipped_default();
        strict.id = "strict".into();
        strict.effective_from = "2021-03".into();
        strict.entry_weak_share = 0.0; // no rank is weak enough to enter any more
        let versions = vec![old.clone(), strict.clone()];
        assert_eq!(in_effect(&versions, "2021-02").unwrap().id, old.id);
        assert_eq!(in_effect(&versions, "2021-03").unwrap().id, "strict");
        assert_eq!(in_effect(&versions, "2018-01").unwrap().id, old.id);
        let h1 = vec![month("2021-01", 500, 18), month("2021-02", 500, 18)];
        let before = classify_versions(&versions, &h1);
        assert_eq!(
            before,
            classify(&old, &h1),
            "a month before the new version is unchanged"
        );
        let h2 = vec![month("2021-03", 500, 18)];
        let big = |s: Vec<StreetStanding>| s.into_iter().find(|x| x.street.code == "big").unwrap();
        assert!(big(classify(&old, &h2)).listed);
        assert!(
            !big(classify_versions(&versions, &h2)).listed,
            "the new version governs 2021-03"
        );
    }

    #[test]
    fn the_policy_names_a_bad_field() {
        let mut p = StreetPolicy::shipped_default();
        p.rectify_share = 1.5;
        assert_eq!(p.check().unwrap_err().0, "rectify_share");
        let mut p = StreetPolicy::shipped_default();
        p.effective_from = "2021-13".into();
        assert_eq!(p.check().unwrap_err().0, "effective_from");
        assert!(StreetPolicy::shipped_default().check().is_ok());
    }
}
