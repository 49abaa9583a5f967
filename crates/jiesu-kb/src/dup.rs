//! Duplicates (合并): "possibly the same as #…" for a new ticket, and batch clustering.
//!
//! Two tickets are candidates when they were created within the time window and (by default)
//! in the same street/town. Their score combines
//!
//! - **text similarity**: cosine of TF-IDF vectors over the knowledge-base analyser's words,
//!   their synonym groups and the character bigrams of the kept words (so `停水` and `没水`,
//!   or two segmentations of the same name, still meet); IDF comes from a background corpus
//!   (the demo city's request templates and knowledge-base questions by default, or the
//!   store's own history via [`DupModel::from_corpus`]);
//! - **place**: same community (社区/村) or a similar address; two *different* known
//!   communities make a duplicate unlikely (the same kind of problem in the next estate is a
//!   separate case);
//! - **category**: same leaf, same level-2, same level-1;
//! - **time**: closer is likelier.
//!
//! `score = 0.65·text + 0.15·place + 0.10·category + 0.10·time`, × 0.5 when the communities
//! differ; a match needs `score ≥ min_score` and `text ≥ min_text`. Each match carries its
//! reasons in Chinese and English (`同一社区 · 同一分类 · 文本相似度 0.82 · 2 小时内`).
//! The weights and thresholds were set on one synthetic labelled sample and are reported on
//! another (see [`labelled_sample`] and `docs/KB.md`).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Duration, Utc};
use jiesu_text::{Analysis, Analyzer};
use serde::{Deserialize, Serialize};

use crate::rng::Rng;
use crate::synth::swap_synonyms;
use crate::text::{
    bigram_term, for_each_kept_bigram, for_each_subword_group, group_term, shared_analyzer,
    word_term_of_key, Gazetteer, Synonyms, TermMap,
};

/// What duplicate detection needs to know about a ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketLite {
    pub id: i64,
    /// The ticket number shown to people.
    pub number: String,
    pub created_at: DateTime<Utc>,
    /// Category code (any level; may be empty when not yet classified).
    pub category_code: String,
    /// Street/town code (may be empty when unknown).
    pub street_code: String,
    pub community_code: Option<String>,
    pub address: Option<String>,
    /// Title and text of the request.
    pub text: String,
}

/// Thresholds and window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DupConfig {
    /// Tickets further apart than this are never duplicates.
    pub window_hours: i64,
    /// Least combined score of a match.
    pub min_score: f32,
    /// Least text similarity of a match.
    pub min_text: f32,
    /// Most matches returned by [`find_duplicates`].
    pub max_results: usize,
    /// Only compare tickets of the same street/town (when both are known).
    pub same_street_only: bool,
}

impl Default for DupConfig {
    fn default() -> Self {
        DupConfig {
            window_hours: 72,
            min_score: 0.65,
            min_text: 0.45,
            max_results: 5,
            same_street_only: true,
        }
    }
}

/// One reason of a match, in both languages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// Stable code: `same_community`, `same_street`, `similar_address`, `same_category`,
    /// `same_subcategory`, `same_top_category`, `text`, `time`.
    pub code: String,
    pub zh: String,
    pub en: String,
}

/// A probable duplicate of the new ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Match {
    pub id: i64,
    pub number: String,
    /// Combined score in [0, 1].
    pub score: f32,
    /// Cosine text similarity in [0, 1].
    pub text_similarity: f32,
    pub reasons: Vec<Reason>,
}

impl Match {
    /// `同一社区 · 同一分类 · 文本相似度 0.82 · 2 小时内`
    pub fn reasons_zh(&self) -> String {
        self.reasons
            .iter()
            .map(|r| r.zh.as_str())
            .collect::<Vec<_>>()
            .join(" · ")
    }
    /// `same community · same category · text similarity 0.82 · within 2 hours`
    pub fn reasons_en(&self) -> String {
        self.reasons
            .iter()
            .map(|r| r.en.as_str())
            .collect::<Vec<_>>()
            .join(" · ")
    }
}

/// A sparse L2-normalised TF-IDF vector, sorted by key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextVector(Vec<(u64, f32)>);

impl TextVector {
    /// Cosine similarity with another vector.
    pub fn cosine(&self, other: &TextVector) -> f32 {
        let (a, b) = (&self.0, &other.0);
        let (mut i, mut j, mut s) = (0, 0, 0.0f32);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    s += a[i].1 * b[j].1;
                    i += 1;
                    j += 1;
                }
            }
        }
        s.clamp(0.0, 1.0)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// IDF given to district and street names in text.
const PLACE_NAME_IDF: f32 = 0.3;

/// Text model: analyser + IDF table.
pub struct DupModel {
    analyzer: Arc<Analyzer>,
    idf: TermMap<f32>,
    default_idf: f32,
}

impl std::fmt::Debug for DupModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DupModel")
            .field("terms", &self.idf.len())
            .finish()
    }
}

/// Term counts of a text: words (weight 1), synonym groups (0.7), bigrams of kept words (0.5).
fn term_counts(analyzer: &Analyzer, text: &str, a: &mut Analysis) -> Vec<(u64, f32)> {
    let syn = Synonyms::shipped();
    analyzer.analyze_into(text, a);
    let mut v: Vec<(u64, f32)> = Vec::with_capacity(a.len() * 3);
    for (w, &k) in a.tokens().zip(a.word_keys()) {
        let key = word_term_of_key(k);
        v.push((key, 1.0));
        match syn.group_of_key(key) {
            Some(g) => v.push((group_term(g), 0.7)),
            None => for_each_subword_group(syn, w, |g| v.push((group_term(g), 0.7))),
        }
    }
    for_each_kept_bigram(a, |x, y| v.push((bigram_term(x, y), 0.5)));
    v.sort_unstable_by_key(|&(k, _)| k);
    let mut out: Vec<(u64, f32)> = Vec::with_capacity(v.len());
    for (k, w) in v {
        match out.last_mut() {
            Some(last) if last.0 == k => last.1 += w,
            _ => out.push((k, w)),
        }
    }
    out
}

/// Removes template placeholders (`{estate}`) from a text.
fn strip_placeholders(s: &str) -> String {
    jiesu_refdata::profiles::fill(s, |_| Some(String::new()))
}

impl DupModel {
    /// A model whose IDF is computed from `corpus` (e.g. the store's recent tickets).
    pub fn from_corpus<'a>(
        analyzer: Arc<Analyzer>,
        corpus: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let mut df: TermMap<u32> = TermMap::default();
        let mut n = 0u32;
        let mut a = Analysis::default();
        for t in corpus {
            n += 1;
            for (k, _) in term_counts(&analyzer, t, &mut a) {
                *df.entry(k).or_insert(0) += 1;
            }
        }
        let nf = n.max(1) as f32;
        let idf = df
            .into_iter()
            .map(|(k, d)| (k, (1.0 + nf / (d as f32 + 1.0)).ln()))
            .collect();
        DupModel {
            analyzer,
            idf,
            default_idf: (1.0 + nf).ln(),
        }
    }

    /// The default model: IDF from the demo city's request templates (placeholders removed)
    /// and the knowledge base's questions.
    pub fn shipped() -> &'static DupModel {
        static M: OnceLock<DupModel> = OnceLock::new();
        M.get_or_init(|| {
            let mut corpus: Vec<String> = Vec::new();
            for leaf in &jiesu_refdata::profiles().leaves {
                for t in &leaf.templates {
                    corpus.push(strip_placeholders(&format!("{}。{}", t.title, t.text)));
                }
            }
            for a in crate::demo::demo_articles() {
                corpus.push(a.question);
            }
            DupModel::from_corpus(shared_analyzer(), corpus.iter().map(String::as_str))
        })
    }

    /// The TF-IDF vector of a text (sub-linear TF, L2-normalised).
    pub fn vector(&self, text: &str) -> TextVector {
        let gaz = Gazetteer::shipped();
        let mut a = Analysis::default();
        let mut v: Vec<(u64, f32)> = term_counts(&self.analyzer, text, &mut a)
            .into_iter()
            .map(|(k, tf)| {
                // District and street names say where, not what: place is scored apart.
                let idf = if !gaz.lookup_key(k).is_empty() {
                    PLACE_NAME_IDF
                } else {
                    self.idf.get(&k).copied().unwrap_or(self.default_idf)
                };
                (k, (1.0 + tf.ln().max(0.0)) * idf)
            })
            .collect();
        let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            for x in &mut v {
                x.1 /= norm;
            }
        }
        TextVector(v)
    }

    /// Probable duplicates of `new` among `candidates`, best first.
    pub fn find(&self, new: &TicketLite, candidates: &[TicketLite], cfg: &DupConfig) -> Vec<Match> {
        let nv = self.vector(&new.text);
        let mut out: Vec<Match> = candidates
            .iter()
            .filter(|c| c.id != new.id && gate(new, c, cfg))
            .filter_map(|c| score_pair(new, &nv, c, &self.vector(&c.text), cfg))
            .collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
        out.truncate(cfg.max_results);
        out
    }

    /// Groups of probable duplicates (single linkage over pairs that match), each group of two
    /// or more ticket ids in creation order; groups ordered by their first ticket.
    pub fn cluster(&self, tickets: &[TicketLite], cfg: &DupConfig) -> Vec<Vec<i64>> {
        let mut order: Vec<usize> = (0..tickets.len()).collect();
        order.sort_by_key(|&i| (tickets[i].created_at, tickets[i].id));
        let vecs: Vec<TextVector> = tickets.iter().map(|t| self.vector(&t.text)).collect();
        let mut parent: Vec<usize> = (0..tickets.len()).collect();
        fn root(p: &mut [usize], mut i: usize) -> usize {
            while p[i] != i {
                p[i] = p[p[i]];
                i = p[i];
            }
            i
        }
        // Earlier tickets per street (or all, for unknown streets) within the window.
        let mut by_street: HashMap<&str, Vec<usize>> = HashMap::new();
        let window = Duration::hours(cfg.window_hours.max(0));
        for &i in &order {
            let t = &tickets[i];
            let key = if cfg.same_street_only {
                t.street_code.as_str()
            } else {
                ""
            };
            let list = by_street.entry(key).or_default();
            list.retain(|&j| t.created_at - tickets[j].created_at <= window);
            for &j in list.iter() {
                let c = &tickets[j];
                if gate(t, c, cfg) && score_pair(t, &vecs[i], c, &vecs[j], cfg).is_some() {
                    let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                    if a != b {
                        parent[a.max(b)] = a.min(b);
                    }
                }
            }
            list.push(i);
        }
        let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
        for &i in &order {
            let r = root(&mut parent, i);
            groups.entry(r).or_default().push(i);
        }
        let mut out: Vec<Vec<usize>> = groups.into_values().filter(|g| g.len() > 1).collect();
        out.sort_by_key(|g| (tickets[g[0]].created_at, tickets[g[0]].id));
        out.into_iter()
            .map(|g| g.into_iter().map(|i| tickets[i].id).collect())
            .collect()
    }
}

fn gate(a: &TicketLite, b: &TicketLite, cfg: &DupConfig) -> bool {
    let dt = (a.created_at - b.created_at).num_minutes().abs();
    if dt > cfg.window_hours.max(0) * 60 {
        return false;
    }
    if cfg.same_street_only
        && !a.street_code.is_empty()
        && !b.street_code.is_empty()
        && a.street_code != b.street_code
    {
        return false;
    }
    true
}

/// Character-bigram Jaccard similarity of two addresses.
fn address_similarity(a: &str, b: &str) -> f32 {
    let grams = |s: &str| {
        let n = jiesu_text::analyzer::normalize(s);
        let cs: Vec<char> = n.chars().collect();
        let mut g: Vec<(char, char)> = cs.windows(2).map(|w| (w[0], w[1])).collect();
        g.sort_unstable();
        g.dedup();
        g
    };
    let (x, y) = (grams(a), grams(b));
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    let inter = x.iter().filter(|g| y.binary_search(g).is_ok()).count();
    inter as f32 / (x.len() + y.len() - inter) as f32
}

fn reason(code: &str, zh: String, en: String) -> Reason {
    Reason {
        code: code.to_string(),
        zh,
        en,
    }
}

fn score_pair(
    new: &TicketLite,
    nv: &TextVector,
    c: &TicketLite,
    cv: &TextVector,
    cfg: &DupConfig,
) -> Option<Match> {
    let text = nv.cosine(cv);
    if text < cfg.min_text {
        return None;
    }
    let mut reasons = Vec::new();
    // Place.
    let addr = match (&new.address, &c.address) {
        (Some(a), Some(b)) => address_similarity(a, b),
        _ => 0.0,
    };
    let communities_differ =
        matches!((&new.community_code, &c.community_code), (Some(a), Some(b)) if a != b);
    let same_community =
        matches!((&new.community_code, &c.community_code), (Some(a), Some(b)) if a == b);
    let same_street = !new.street_code.is_empty() && new.street_code == c.street_code;
    let mut place = if same_community {
        reasons.push(reason(
            "same_community",
            "同一社区".into(),
            "same community".into(),
        ));
        1.0
    } else if same_street && !communities_differ {
        reasons.push(reason(
            "same_street",
            "同一街乡镇".into(),
            "same street/town".into(),
        ));
        0.5
    } else {
        0.0
    };
    if addr >= 0.5 {
        reasons.push(reason(
            "similar_address",
            format!("地址相近 {addr:.2}"),
            format!("similar address {addr:.2}"),
        ));
        place = f32::max(place, 0.6 + 0.4 * addr);
    }
    // Category.
    let (a, b) = (new.category_code.as_str(), c.category_code.as_str());
    let category = if a.is_empty() || b.is_empty() {
        0.3
    } else if a == b {
        reasons.push(reason(
            "same_category",
            "同一分类".into(),
            "same category".into(),
        ));
        1.0
    } else if a.len() >= 4 && b.len() >= 4 && a[..4] == b[..4] {
        reasons.push(reason(
            "same_subcategory",
            "同一二级分类".into(),
            "same sub-category".into(),
        ));
        0.6
    } else if a.len() >= 2 && b.len() >= 2 && a[..2] == b[..2] {
        reasons.push(reason(
            "same_top_category",
            "同一大类".into(),
            "same top-level category".into(),
        ));
        0.3
    } else {
        0.0
    };
    reasons.push(reason(
        "text",
        format!("文本相似度 {text:.2}"),
        format!("text similarity {text:.2}"),
    ));
    // Time.
    let minutes = (new.created_at - c.created_at).num_minutes().unsigned_abs() as f32;
    let window = (cfg.window_hours.max(1) * 60) as f32;
    let time = (1.0 - minutes / window).clamp(0.0, 1.0);
    let hours = (minutes / 60.0).ceil().max(1.0) as i64;
    if hours <= 48 {
        reasons.push(reason(
            "time",
            format!("{hours} 小时内"),
            format!("within {hours} hour{}", if hours == 1 { "" } else { "s" }),
        ));
    } else {
        let days = (hours + 23) / 24;
        reasons.push(reason(
            "time",
            format!("{days} 天内"),
            format!("within {days} days"),
        ));
    }
    let mut score = 0.65 * text + 0.15 * place + 0.10 * category + 0.10 * time;
    if communities_differ && addr < 0.5 {
        score *= 0.5;
    }
    if score < cfg.min_score {
        return None;
    }
    Some(Match {
        id: c.id,
        number: c.number.clone(),
        score,
        text_similarity: text,
        reasons,
    })
}

/// Probable duplicates of `new` among `candidates` with the shipped model, best first.
pub fn find_duplicates(new: &TicketLite, candidates: &[TicketLite], cfg: &DupConfig) -> Vec<Match> {
    DupModel::shipped().find(new, candidates, cfg)
}

/// Batch clustering with the shipped model: groups of two or more ticket ids.
pub fn cluster(tickets: &[TicketLite], cfg: &DupConfig) -> Vec<Vec<i64>> {
    DupModel::shipped().cluster(tickets, cfg)
}

// ---------------------------------------------------------------------------------------------
// Labelled sample and evaluation

const TIMES: [&str; 8] = [
    "今天上午",
    "今天下午",
    "昨天晚上",
    "昨天",
    "这几天",
    "今天凌晨",
    "最近",
    "刚才",
];
const OPENERS: [&str; 6] = [
    "",
    "市民来电反映，",
    "来电人称，",
    "有居民反映：",
    "网友留言：",
    "居民再次反映，",
];
const CLOSERS: [&str; 6] = [
    "",
    "希望尽快处理。",
    "已经反映多次了。",
    "请相关部门尽快解决。",
    "影响很大。",
    "盼回复。",
];

/// One ticket of a labelled sample and the incident it reports.
#[derive(Debug, Clone)]
pub struct LabelledTicket {
    pub ticket: TicketLite,
    /// Tickets with the same incident are true duplicates.
    pub incident: usize,
}

struct Scene {
    leaf: String,
    template: usize,
    district: String,
    street_code: String,
    street: String,
    community_code: String,
    community: String,
    estate: String,
    road: String,
    n: usize,
    shop: String,
    company: String,
}

fn render_ticket(scene: &Scene, rng: &mut Rng, paraphrase: bool) -> (String, String) {
    let leaf = jiesu_refdata::profiles()
        .leaf(&scene.leaf)
        .expect("leaf exists");
    let t = &leaf.templates[scene.template % leaf.templates.len()];
    let time = *rng.pick(&TIMES);
    let (title, text) = t.render(|k| {
        Some(match k {
            "district" => scene.district.clone(),
            "street" => scene.street.clone(),
            "community" => scene.community.clone(),
            "estate" => scene.estate.clone(),
            "road" => scene.road.clone(),
            "n" => scene.n.to_string(),
            "time" => time.to_string(),
            "shop" => scene.shop.clone(),
            "company" => scene.company.clone(),
            _ => return None,
        })
    });
    let mut body = text;
    if paraphrase {
        body = swap_synonyms(&body, rng, 0.7, 3);
        // Drop one clause other than the first, sometimes.
        let clauses: Vec<&str> = body.split('，').collect();
        if clauses.len() >= 3 && rng.chance(0.5) {
            let k = 1 + rng.below(clauses.len() - 1);
            body = clauses
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != k)
                .map(|(_, c)| *c)
                .collect::<Vec<_>>()
                .join("，");
        }
        body = format!("{}{}{}", rng.pick(&OPENERS), body, rng.pick(&CLOSERS));
    }
    let address = format!("{}{}号楼", scene.estate, scene.n % 20 + 1);
    (format!("{title}。{body}"), address)
}

/// A synthetic labelled sample in the demo city's kind of text: `incidents` incidents, each
/// reported 1–4 times (same template and place, within 6 hours, with paraphrase noise: synonym
/// swaps, a dropped clause, openers and closers, another time expression), plus near misses —
/// the same template in another community of the same street, and another template of the same
/// leaf in the same community — within hours of the incident. Deterministic for a seed.
pub fn labelled_sample(seed: u64, incidents: usize) -> Vec<LabelledTicket> {
    let mut rng = Rng::new(seed);
    let prof = jiesu_refdata::profiles();
    let div = jiesu_refdata::divisions::divisions();
    let pools = jiesu_refdata::pools();
    let leaves: Vec<&jiesu_refdata::LeafProfile> = prof
        .leaves
        .iter()
        .filter(|l| !l.code.starts_with("01") && !l.templates.is_empty())
        .collect();
    let streets: Vec<&jiesu_refdata::divisions::Street> = div
        .streets
        .iter()
        .filter(|s| !s.is_special_zone())
        .collect();
    let base = DateTime::parse_from_rfc3339("2024-03-01T08:00:00Z")
        .expect("date")
        .with_timezone(&Utc);
    let mut out: Vec<LabelledTicket> = Vec::new();
    let mut next_id = 1i64;
    let mut incident_id = 0usize;
    let push = |out: &mut Vec<LabelledTicket>,
                next_id: &mut i64,
                scene: &Scene,
                at: DateTime<Utc>,
                incident: usize,
                rng: &mut Rng| {
        let (text, address) = render_ticket(scene, rng, true);
        out.push(LabelledTicket {
            ticket: TicketLite {
                id: *next_id,
                number: format!("S{:06}", *next_id),
                created_at: at,
                category_code: scene.leaf.clone(),
                street_code: scene.street_code.clone(),
                community_code: Some(scene.community_code.clone()),
                address: Some(address),
                text,
            },
            incident,
        });
        *next_id += 1;
    };
    for _ in 0..incidents {
        let leaf = *rng.pick(&leaves);
        let street = *rng.pick(&streets);
        let comms: Vec<&jiesu_refdata::divisions::Community> =
            div.communities_of(&street.code).collect();
        if comms.len() < 2 {
            continue;
        }
        let ci = rng.below(comms.len());
        let dist = div
            .district(&street.district_code)
            .map(|d| d.name.clone())
            .unwrap_or_default();
        let scene = Scene {
            leaf: leaf.code.clone(),
            template: rng.below(leaf.templates.len()),
            district: dist.clone(),
            street_code: street.code.clone(),
            street: street.name.clone(),
            community_code: comms[ci].code.clone(),
            community: jiesu_refdata::short_place_name(&comms[ci].name),
            estate: rng.pick(&pools.estates).to_string(),
            road: rng.pick(&pools.roads).to_string(),
            n: 2 + rng.below(28),
            shop: rng.pick(&pools.shops).to_string(),
            company: rng.pick(&pools.companies).to_string(),
        };
        let t0 = base + Duration::minutes(rng.below(60 * 24 * 30) as i64);
        let reports = 1 + (rng.unit() * rng.unit() * 4.0) as usize;
        let inc = incident_id;
        incident_id += 1;
        for _ in 0..reports {
            let at = t0 + Duration::minutes(rng.below(6 * 60) as i64);
            push(&mut out, &mut next_id, &scene, at, inc, &mut rng);
        }
        // Near miss: the same template in another community of the same street.
        if rng.chance(0.5) {
            let cj = (ci + 1 + rng.below(comms.len() - 1)) % comms.len();
            let other = Scene {
                community_code: comms[cj].code.clone(),
                community: jiesu_refdata::short_place_name(&comms[cj].name),
                estate: rng.pick(&pools.estates).to_string(),
                road: rng.pick(&pools.roads).to_string(),
                n: 2 + rng.below(28),
                shop: rng.pick(&pools.shops).to_string(),
                company: rng.pick(&pools.companies).to_string(),
                ..clone_scene(&scene)
            };
            let at = t0 + Duration::minutes(rng.below(12 * 60) as i64);
            let inc = incident_id;
            incident_id += 1;
            push(&mut out, &mut next_id, &other, at, inc, &mut rng);
        }
        // Near miss: another template of the same leaf, same community and address.
        if leaf.templates.len() > 1 && rng.chance(0.5) {
            let other = Scene {
                template: (scene.template + 1 + rng.below(leaf.templates.len() - 1))
                    % leaf.templates.len(),
                ..clone_scene(&scene)
            };
            let at = t0 + Duration::minutes(rng.below(12 * 60) as i64);
            let inc = incident_id;
            incident_id += 1;
            push(&mut out, &mut next_id, &other, at, inc, &mut rng);
        }
    }
    out.sort_by_key(|t| (t.ticket.created_at, t.ticket.id));
    out
}

fn clone_scene(s: &Scene) -> Scene {
    Scene {
        leaf: s.leaf.clone(),
        template: s.template,
        district: s.district.clone(),
        street_code: s.street_code.clone(),
        street: s.street.clone(),
        community_code: s.community_code.clone(),
        community: s.community.clone(),
        estate: s.estate.clone(),
        road: s.road.clone(),
        n: s.n,
        shop: s.shop.clone(),
        company: s.company.clone(),
    }
}

/// Pairwise precision and recall.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct PairMetrics {
    pub true_pairs: usize,
    pub predicted_pairs: usize,
    pub correct_pairs: usize,
    pub precision: f64,
    pub recall: f64,
}

impl PairMetrics {
    fn new(true_pairs: usize, predicted: usize, correct: usize) -> Self {
        PairMetrics {
            true_pairs,
            predicted_pairs: predicted,
            correct_pairs: correct,
            precision: if predicted == 0 {
                1.0
            } else {
                correct as f64 / predicted as f64
            },
            recall: if true_pairs == 0 {
                1.0
            } else {
                correct as f64 / true_pairs as f64
            },
        }
    }
    /// Harmonic mean of precision and recall.
    pub fn f1(&self) -> f64 {
        if self.precision + self.recall == 0.0 {
            0.0
        } else {
            2.0 * self.precision * self.recall / (self.precision + self.recall)
        }
    }
}

/// Evaluates on a labelled sample: (a) [`find_duplicates`] of each ticket against every earlier
/// ticket of the sample — a pair is predicted when it is returned; (b) [`cluster`] — a pair is
/// predicted when both tickets are in one group. Both are pairwise precision/recall.
pub fn evaluate(
    model: &DupModel,
    sample: &[LabelledTicket],
    cfg: &DupConfig,
) -> (PairMetrics, PairMetrics) {
    let tickets: Vec<TicketLite> = sample.iter().map(|t| t.ticket.clone()).collect();
    let incident: HashMap<i64, usize> = sample.iter().map(|t| (t.ticket.id, t.incident)).collect();
    let mut per_incident: HashMap<usize, usize> = HashMap::new();
    for t in sample {
        *per_incident.entry(t.incident).or_default() += 1;
    }
    let true_pairs: usize = per_incident.values().map(|&n| n * (n - 1) / 2).sum();
    // (a) find_duplicates against earlier tickets (sample is in creation order).
    let unlimited = DupConfig {
        max_results: usize::MAX,
        ..cfg.clone()
    };
    let (mut pred, mut correct) = (0usize, 0usize);
    for i in 0..tickets.len() {
        for m in model.find(&tickets[i], &tickets[..i], &unlimited) {
            pred += 1;
            if incident[&m.id] == incident[&tickets[i].id] {
                correct += 1;
            }
        }
    }
    let find = PairMetrics::new(true_pairs, pred, correct);
    // (b) clusters.
    let (mut cpred, mut ccorrect) = (0usize, 0usize);
    for g in model.cluster(&tickets, cfg) {
        for i in 0..g.len() {
            for j in i + 1..g.len() {
                cpred += 1;
                if incident[&g[i]] == incident[&g[j]] {
                    ccorrect += 1;
                }
            }
        }
    }
    (find, PairMetrics::new(true_pairs, cpred, ccorrect))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: i64, hours: i64, street: &str, comm: &str, cat: &str, text: &str) -> TicketLite {
        TicketLite {
            id,
            number: format!("N{id}"),
            created_at: DateTime::parse_from_rfc3339("2024-05-01T08:00:00Z")
                .unwrap()
                .with_timezone(&Utc)
                + Duration::hours(hours),
            category_code: cat.into(),
            street_code: street.into(),
            community_code: (!comm.is_empty()).then(|| comm.to_string()),
            address: None,
            text: text.into(),
        }
    }

    #[test]
    fn same_problem_same_place_is_found_with_reasons() {
        let new = t(
            1,
            2,
            "110105026",
            "110105026001",
            "060201",
            "望京花园小区3号楼从早上开始停水，到现在还没有来水，家里老人做不了饭。",
        );
        let cands = vec![
            t(
                2,
                0,
                "110105026",
                "110105026001",
                "060201",
                "市民反映望京花园小区3号楼从今天早上开始断水，到现在一直没有来水，希望尽快处理。",
            ),
            t(
                3,
                0,
                "110105026",
                "110105026002",
                "060201",
                "市民反映某某小区今天早上突然断水了，一直没有恢复供水。",
            ),
            t(
                4,
                0,
                "110108011",
                "110108011001",
                "060201",
                "望京花园小区从早上开始停水，到现在还没有来水。",
            ),
            t(
                5,
                -100,
                "110105026",
                "110105026001",
                "060201",
                "望京花园小区从早上开始停水，到现在还没有来水。",
            ),
            t(
                6,
                1,
                "110105026",
                "110105026001",
                "120201",
                "小区门口有人摆摊卖水果，占用人行道。",
            ),
        ];
        let m = find_duplicates(&new, &cands, &DupConfig::default());
        assert_eq!(m.first().map(|m| m.id), Some(2), "{m:?}");
        assert!(
            m.iter().all(|x| x.id != 4 && x.id != 5 && x.id != 6),
            "{m:?}"
        );
        let zh = m[0].reasons_zh();
        assert!(
            zh.contains("同一社区")
                && zh.contains("同一分类")
                && zh.contains("文本相似度")
                && zh.contains("2 小时内"),
            "{zh}"
        );
        assert!(m[0].reasons_en().contains("same community"));
        let groups = cluster(
            &[new.clone(), cands[0].clone(), cands[4].clone()],
            &DupConfig::default(),
        );
        assert_eq!(groups, vec![vec![2, 1]]);
    }

    #[test]
    fn empty_and_odd_text_is_harmless() {
        let a = t(1, 0, "", "", "", "");
        let b = t(2, 0, "", "", "", "😀😀😀！！");
        assert!(find_duplicates(&a, std::slice::from_ref(&b), &DupConfig::default()).is_empty());
        assert!(cluster(&[a, b], &DupConfig::default()).is_empty());
        assert!(cluster(&[], &DupConfig::default()).is_empty());
    }
}
