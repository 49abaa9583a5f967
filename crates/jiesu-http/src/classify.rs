//! Classification suggestions for intake: the request type and the category (every level, via the
//! leaf's path), trained from the store's own history (`jiesu train`), with calibrated confidences
//! and the words that drove them. The unit comes from the duty catalogue first (see `routing`).

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::ops::ModelState;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use jiesu_domain::org::OrgTree;
use jiesu_store::Store;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

pub use jiesu_text::intake_model::Models;
use jiesu_text::intake_model::{self, CATEGORY_FLOOR, CORRECTION_WEIGHT, UNIT_FLOOR};

/// The training examples of a store: its newest labelled tickets ([`intake_model::TRAIN_LIMIT`])
/// with their current labels, whether a person corrected them, and their lead unit's label
/// ([`jiesu_routing::unit_label`]).
pub(crate) fn training_examples(
    store: &dyn Store,
    org: &OrgTree,
) -> anyhow::Result<Vec<intake_model::Example>> {
    Ok(store
        .labelled_examples(intake_model::TRAIN_LIMIT)?
        .into_iter()
        .map(|e| example(e, org))
        .collect())
}

/// One stored labelled ticket as a training example.
fn example(e: jiesu_store::LabelledExample, org: &OrgTree) -> intake_model::Example {
    intake_model::Example {
        corrected: e.corrected(),
        unit_label: e
            .lead_unit
            .as_deref()
            .and_then(|u| jiesu_routing::unit_label(org, u)),
        title: e.title,
        text: e.text,
        category_code: e.category_code,
        request_type: e.request_type,
    }
}

/// Trains the models from the store's examples at `now` (the server's clock).
fn train(st: &AppState) -> anyhow::Result<Models> {
    intake_model::train(&training_examples(&*st.store, &st.org)?, st.now())
}

/// Loads the saved models or, if there are none, trains them in the background; where they stand
/// is kept in `AppState::ops` (readiness, metrics).
pub fn start(st: &AppState) {
    let st = st.clone();
    st.ops.set_models(ModelState::Loading, "");
    std::thread::spawn(move || {
        let dir = intake_model::model_dir(st.store.path());
        let models = match intake_model::load(&dir) {
            Ok(Some(m)) => Ok(m),
            Ok(None) => train(&st).inspect(|m| {
                if let Err(e) = intake_model::save(m, &dir) {
                    tracing::warn!("cannot save the models: {e}");
                }
            }),
            Err(e) => {
                tracing::warn!("saved models refused ({e}); retraining");
                train(&st)
            }
        };
        match models {
            Ok(m) => {
                tracing::info!(
                    "classifier ready: version {}, {} examples",
                    m.version,
                    m.trained_on
                );
                let note = format!("version {}, {} examples", m.version, m.trained_on);
                if let Ok(mut g) = st.models.write() {
                    *g = Some(Arc::new(m));
                }
                st.ops.set_models(ModelState::Ready, note);
            }
            Err(e) => {
                tracing::warn!("no classifier: {e}");
                // a new city without enough tickets to learn from is usable all the same
                let few = matches!(
                    st.store.labelled_examples(intake_model::TRAIN_LIMIT),
                    Ok(v) if v.len() < intake_model::MIN_EXAMPLES
                );
                let state = if few {
                    ModelState::TooFewTickets
                } else {
                    ModelState::Failed
                };
                st.ops.set_models(state, e.to_string());
            }
        }
    });
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct ClassifyBody {
    #[serde(default)]
    title: Option<String>,
    text: String,
    /// The category chosen so far (else the top suggestion is used to propose units).
    #[serde(default)]
    category_code: Option<String>,
    #[serde(default)]
    district_code: Option<String>,
    #[serde(default)]
    street_code: Option<String>,
    #[serde(default)]
    community_code: Option<String>,
    #[serde(default)]
    enterprise: bool,
}

/// The request's facts for proposing units (the text and the place as far as known).
struct UnitQuery {
    category_code: String,
    title: String,
    text: String,
    district: String,
    street: String,
    community: String,
    enterprise: bool,
}

/// Up to three responsible units (主办单位建议): the duty catalogue's rules first (the winner and
/// the best runner-up, each naming its rule), then the unit model (text + category → kind of lead
/// unit, placed by the request's district/street; with its confidence and driver words), then
/// further runner-ups if the model has nothing else. A unit comes once, from its first source.
fn suggest_units(st: &AppState, models: &Models, q: &UnitQuery) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut later: Vec<Value> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let org = &st.org;
    let mut district = q.district.clone();
    if district.is_empty() && !q.street.is_empty() {
        if let Some(d) = org.district_of(&q.street) {
            district = d.code.clone();
        }
    }
    let unit_json = |code: &str| {
        let u = org.get(code);
        json!({"unit_code": code, "unit_name": u.map(|u| u.name.clone()),
               "unit_kind": u.map(|u| u.kind.as_str())})
    };
    let cat = crate::routing::current_catalogue(st);
    if !cat.is_empty() && !q.category_code.is_empty() {
        let facts = jiesu_routing::RouteFacts {
            category_code: q.category_code.clone(),
            district_code: district.clone(),
            street_code: q.street.clone(),
            community_code: (!q.community.is_empty()).then(|| q.community.clone()),
            title: q.title.clone(),
            text: q.text.clone(),
            enterprise: q.enterprise,
            tier: None,
        };
        let s = cat.suggest_in(&facts, st.now(), org, st.zone);
        if let (Some(lead), Some(rule)) = (s.lead(), s.rule_id.as_ref()) {
            let mut v = unit_json(&lead.unit_code);
            v["source"] = json!("rule");
            v["rule_id"] = json!(rule);
            v["reason_zh"] = json!(s.explanation.zh);
            v["reason_en"] = json!(s.explanation.en);
            seen.push(lead.unit_code.clone());
            out.push(v);
        }
        for alt in &s.runner_ups {
            if let Some(lead) = alt.lead() {
                if !seen.contains(&lead.unit_code) {
                    let mut v = unit_json(&lead.unit_code);
                    v["source"] = json!("rule");
                    v["rule_id"] = json!(alt.rule_id);
                    v["runner_up"] = json!(true);
                    seen.push(lead.unit_code.clone());
                    if out.len() < 2 {
                        out.push(v);
                    } else {
                        later.push(v);
                    }
                }
            }
        }
    }
    if let Some(m) = &models.unit {
        let input = intake_model::unit_text(&q.category_code, &q.title, &q.text);
        for p in m.predict_top_k(&input, 6) {
            if p.confidence < UNIT_FLOOR {
                continue;
            }
            let Some(code) = jiesu_routing::resolve_unit_label(
                org,
                &p.label,
                &district,
                &q.street,
                &q.community,
            ) else {
                continue;
            };
            if seen.contains(&code) {
                continue;
            }
            let mut v = unit_json(&code);
            v["source"] = json!("model");
            v["label"] = json!(p.label);
            v["confidence"] = json!(p.confidence);
            v["drivers"] = json!(p.drivers);
            seen.push(code);
            out.push(v);
        }
    }
    out.extend(later);
    out.truncate(3);
    out
}

/// `POST /api/v1/classify {title?, text}` — top-3 types and categories with confidence and drivers.
pub async fn classify(
    State(st): State<AppState>,
    Caller(actor): Caller,
    crate::json::Json(b): crate::json::Json<ClassifyBody>,
) -> ApiResult<axum::Json<Value>> {
    crate::auth::require(&actor, jiesu_domain::capability::Capability::Classify)?;
    let title = b.title.clone().unwrap_or_default();
    let text = format!("{} {}", title, b.text);
    if text.trim().is_empty() {
        return Err(ApiError::invalid(
            "text",
            "give the request's text",
            "请输入诉求内容",
        ));
    }
    if text.chars().count() > jiesu_domain::ticket::MAX_TEXT_CHARS + 300 {
        return Err(ApiError::invalid(
            "text",
            "the text is longer than 4,000 characters",
            "内容超过4000字",
        ));
    }
    let models = st
        .models
        .read()
        .ok()
        .and_then(|g| g.clone())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "model_not_ready",
                "the classifier is still training; try again shortly",
                "分类模型正在训练，请稍后再试",
            )
        })?;
    let st2 = st.clone();
    let v = tokio::task::spawn_blocking(move || {
        let cats: Vec<Value> = models
            .category
            .predict_top_k(&text, 3)
            .into_iter()
            .filter(|p| p.confidence >= CATEGORY_FLOOR)
            .map(|p| json!({"code": p.label, "path": st2.categories.path_label(&p.label), "confidence": p.confidence, "drivers": p.drivers}))
            .collect();
        let types: Vec<Value> = models
            .request_type
            .predict_top_k(&text, 3)
            .into_iter()
            .map(|p| {
                let zh = jiesu_domain::ticket::RequestType::parse(&p.label).map(|t| t.label_zh());
                json!({"label": p.label, "label_zh": zh, "confidence": p.confidence, "drivers": p.drivers})
            })
            .collect();
        let category_code = b
            .category_code
            .clone()
            .filter(|c| st2.categories.get(c).is_some())
            .or_else(|| cats.first().and_then(|c| c["code"].as_str()).map(str::to_string))
            .unwrap_or_default();
        let q = UnitQuery {
            category_code: category_code.clone(),
            title,
            text: b.text.clone(),
            district: b.district_code.clone().unwrap_or_default(),
            street: b.street_code.clone().unwrap_or_default(),
            community: b.community_code.clone().unwrap_or_default(),
            enterprise: b.enterprise,
        };
        let units = suggest_units(&st2, &models, &q);
        let place = suggest_places(&format!("{} {}", q.title, q.text));
        json!({"category": cats, "type": types, "unit": units, "unit_category": category_code,
               "place": place,
               "floors": {"category": CATEGORY_FLOOR, "unit": UNIT_FLOOR, "place": PLACE_FLOOR},
               "model_version": models.version, "trained_on": models.trained_on})
    })
    .await?;
    Ok(axum::Json(v))
}

/// Place suggestions are kept from this confidence on (an ambiguous community name shared by
/// many streets falls below it and is not offered).
pub const PLACE_FLOOR: f32 = 0.3;

/// Community and village names as people say them (`多福巷社区`, `…村`) and, when at least three
/// characters, their stems (`金台里` of `金台里社区`, which a text names as `金台里小区`) → the
/// communities so named (community code, street code). Built once from `jiesu_refdata`.
fn community_names() -> &'static std::collections::HashMap<String, Vec<(String, String)>> {
    static M: std::sync::OnceLock<std::collections::HashMap<String, Vec<(String, String)>>> =
        std::sync::OnceLock::new();
    M.get_or_init(|| {
        let mut m: std::collections::HashMap<String, Vec<(String, String)>> = Default::default();
        for c in jiesu_refdata::divisions::communities() {
            let short = jiesu_refdata::divisions::short_place_name(&c.name);
            let entry = (c.code.clone(), c.street_code.clone());
            let stem = short
                .strip_suffix("社区")
                .or_else(|| short.strip_suffix('村'))
                .map(str::to_string);
            for key in std::iter::once(short).chain(stem.filter(|s| s.chars().count() >= 3)) {
                let v = m.entry(key).or_default();
                if !v.contains(&entry) {
                    v.push(entry.clone());
                }
            }
        }
        m
    })
}

/// Where the text says the problem is (地点建议): streets/towns named in it (the knowledge base's
/// gazetteer and analyser, [`jiesu_kb::index::places_in`]) and communities or estates (小区) whose
/// name it contains (longest name first). Each candidate is `{district_code, street_code,
/// community_code?, matched, confidence}`; a name shared by n places gets 1/n of the confidence,
/// a community in a street the text also names gets more. At most three, best first, none below
/// [`PLACE_FLOOR`]. The agent confirms a candidate; nothing is filled in silently.
pub fn suggest_places(text: &str) -> Vec<Value> {
    let org = jiesu_refdata::org();
    let gaz = jiesu_kb::text::Gazetteer::shipped();
    let mut refs = Vec::new();
    jiesu_kb::index::places_in(&jiesu_kb::text::shared_analyzer(), gaz, text, &mut refs);
    let streets: Vec<&jiesu_kb::text::PlaceRef> =
        refs.iter().filter(|r| r.street.is_some()).collect();
    let street_codes: Vec<&str> = streets.iter().filter_map(|r| r.street.as_deref()).collect();
    let mut out: Vec<(f32, Value)> = Vec::new();
    // communities: every substring of 2..=12 characters looked up, the longest match at a position
    let chars: Vec<char> = text.chars().collect();
    let names = community_names();
    let mut i = 0;
    while i < chars.len() {
        let mut hit: Option<(usize, &Vec<(String, String)>)> = None;
        for len in (2..=12.min(chars.len() - i)).rev() {
            let w: String = chars[i..i + len].iter().collect();
            if let Some(v) = names.get(&w) {
                hit = Some((len, v));
                break;
            }
        }
        let Some((len, found)) = hit else {
            i += 1;
            continue;
        };
        let matched: String = chars[i..i + len].iter().collect();
        let in_named: Vec<&(String, String)> = found
            .iter()
            .filter(|(_, s)| street_codes.contains(&s.as_str()))
            .collect();
        let (pool, base): (Vec<&(String, String)>, f32) = if in_named.is_empty() {
            (found.iter().collect(), 0.8)
        } else {
            (in_named, 0.95)
        };
        let conf = base / pool.len() as f32;
        for (community, street) in pool.into_iter().take(3) {
            let Some(district) = org.get(street).and_then(|s| s.parent.clone()) else {
                continue;
            };
            out.push((
                conf,
                json!({"district_code": district, "street_code": street,
                       "community_code": community, "matched": matched, "confidence": conf}),
            ));
        }
        i += len;
    }
    for r in streets {
        let Some(street) = r.street.as_deref() else {
            continue;
        };
        if out.iter().any(|(_, v)| v["street_code"] == street) {
            continue;
        }
        let shared = refs
            .iter()
            .filter(|x| x.street.is_some() && gaz.name_of(x.code()) == gaz.name_of(street))
            .count()
            .max(1);
        let conf = 0.85 / shared as f32;
        out.push((
            conf,
            json!({"district_code": r.district, "street_code": street,
                   "matched": gaz.name_of(street), "confidence": conf}),
        ));
    }
    out.retain(|(c, _)| *c >= PLACE_FLOOR);
    out.sort_by(|a, b| b.0.total_cmp(&a.0));
    out.truncate(3);
    out.into_iter().map(|(_, v)| v).collect()
}

/// `GET /api/v1/classify/model` — the model in use: version, when it was trained, on how many
/// examples and how many of them were corrections; and the corrections recorded since.
pub async fn model_info(
    State(st): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Value>> {
    crate::auth::require(&actor, jiesu_domain::capability::Capability::Classify)?;
    let s2 = st.clone();
    let counts = tokio::task::spawn_blocking(move || s2.store.correction_counts()).await??;
    let models = st.models.read().ok().and_then(|g| g.clone());
    let recorded = json!({"reclassified": counts.reclassified, "intake": counts.intake});
    Ok(axum::Json(match models {
        None => json!({"ready": false, "corrections_recorded": recorded,
                       "correction_weight": CORRECTION_WEIGHT}),
        Some(m) => json!({
            "ready": true, "version": m.version, "trained_at": m.trained_at,
            "examples": m.trained_on, "corrections": m.corrections,
            "correction_weight": CORRECTION_WEIGHT,
            "categories": m.category.labels().len(), "types": m.request_type.labels().len(),
            "features": m.category.info().n_features,
            "format_version": jiesu_text::MODEL_FORMAT_VERSION,
            "corrections_recorded": recorded,
        }),
    }))
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct FeedbackBody {
    ticket_id: i64,
    #[serde(default)]
    suggested_category: Option<String>,
    #[serde(default)]
    suggested_type: Option<String>,
    #[serde(default)]
    model_version: Option<String>,
}

/// `POST /api/v1/classify/feedback {ticket_id, suggested_category?, suggested_type?,
/// model_version?}` — sent by the intake form right after it created a ticket: what the
/// classifier's top suggestion was. If the agent chose otherwise, the ticket becomes a corrected
/// example (`intake_corrections`). The chosen labels are read from the ticket itself; only the
/// agent who took the request in may report its suggestion, once.
pub async fn feedback(
    State(st): State<AppState>,
    Caller(actor): Caller,
    crate::json::Json(b): crate::json::Json<FeedbackBody>,
) -> ApiResult<axum::Json<Value>> {
    crate::auth::require(&actor, jiesu_domain::capability::Capability::Classify)?;
    if b.suggested_category.is_none() && b.suggested_type.is_none() {
        return Err(ApiError::invalid(
            "suggested_category",
            "give the suggested category or type",
            "请提供模型建议的分类或类型",
        ));
    }
    let s2 = st.clone();
    let loaded = tokio::task::spawn_blocking(move || s2.store.load_ticket(b.ticket_id)).await??;
    let Some((t, _)) = loaded else {
        return Err(ApiError::not_found());
    };
    if t.created_by != actor.user {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only the agent who took the request in can report its suggestion",
            "只有受理该诉求的座席可以报告模型建议",
        ));
    }
    let chosen_type = t.intake.request_type.as_str().to_string();
    let overrode = b
        .suggested_category
        .as_ref()
        .is_some_and(|c| *c != t.intake.category_code)
        || b.suggested_type.as_ref().is_some_and(|x| *x != chosen_type);
    if !overrode {
        return Ok(axum::Json(json!({"recorded": false, "corrected": false})));
    }
    let c = jiesu_store::IntakeCorrection {
        ticket_id: t.id,
        suggested_category: b.suggested_category,
        suggested_type: b.suggested_type,
        category_code: t.intake.category_code.clone(),
        request_type: chosen_type,
        model_version: b.model_version,
        user: actor.user.clone(),
        now: st.now(),
    };
    let s2 = st.clone();
    let recorded =
        tokio::task::spawn_blocking(move || s2.store.record_intake_correction(c)).await??;
    Ok(axum::Json(json!({"recorded": recorded, "corrected": true})))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(
        id: i64,
        cat: &str,
        reclassified: bool,
        intake_corrected: bool,
    ) -> jiesu_store::LabelledExample {
        jiesu_store::LabelledExample {
            ticket_id: id,
            title: format!("标题{id}"),
            text: "正文".into(),
            category_code: cat.into(),
            request_type: "complaint".into(),
            reclassified,
            intake_corrected,
            lead_unit: None,
        }
    }

    #[test]
    fn a_community_and_its_street_named_in_the_text_are_the_first_place() {
        let p = suggest_places("建外街道光华里小区楼下饭馆油烟扰民");
        assert_eq!(p[0]["community_code"], "110105001027", "{p:?}");
        assert_eq!(p[0]["street_code"], "110105001");
        assert!(suggest_places("咨询居住证办理").is_empty());
    }

    #[test]
    fn reclassified_and_overridden_tickets_are_corrected_examples() {
        let org = OrgTree::new(jiesu_refdata::units());
        let mut lead = ex(2, "B", false, true);
        lead.lead_unit = Some("110105D11".into());
        let got: Vec<(bool, Option<String>)> =
            [ex(1, "A", false, false), ex(3, "C", true, false), lead]
                .into_iter()
                .map(|e| example(e, &org))
                .map(|e| (e.corrected, e.unit_label))
                .collect();
        assert_eq!(
            got,
            [
                (false, None),
                (true, None),
                (true, Some("dd:D11".to_string()))
            ]
        );
    }
}
