//! Classification suggestions for intake: the request type and the category (every level, via the
//! leaf's path), trained from the store's own history (`jiesu train`), with calibrated confidences
//! and the words that drove them. The unit comes from the duty catalogue first (see `routing`).

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use jiesu_store::TicketStore;
use jiesu_text::{Classifier, TrainOptions};
use serde::Deserialize;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The classifiers in use.
pub struct Models {
    pub category: Classifier,
    pub request_type: Classifier,
    pub trained_on: usize,
    pub version: String,
}

/// Where a database keeps its models: `<db>.models/`.
pub fn model_dir(db: &Path) -> PathBuf {
    db.with_extension("models")
}

/// How many recent tickets train the models.
pub const TRAIN_LIMIT: u32 = 30_000;

/// Trains both models from the newest tickets of the store.
pub fn train(store: &dyn TicketStore) -> anyhow::Result<Models> {
    let intakes = store.recent_intakes(TRAIN_LIMIT)?;
    if intakes.len() < 50 {
        anyhow::bail!(
            "only {} tickets in the database: at least 50 are needed to train",
            intakes.len()
        );
    }
    let text = |i: &jiesu_domain::ticket::Intake| format!("{} {}", i.title, i.text);
    let cat: Vec<(String, String)> = intakes
        .iter()
        .map(|i| (text(i), i.category_code.clone()))
        .collect();
    let typ: Vec<(String, String)> = intakes
        .iter()
        .map(|i| (text(i), i.request_type.as_str().to_string()))
        .collect();
    let opts = TrainOptions::default();
    let category = Classifier::train(&cat, &opts)?;
    let request_type = Classifier::train(&typ, &opts)?;
    Ok(Models {
        category,
        request_type,
        trained_on: intakes.len(),
        version: chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string(),
    })
}

/// Saves the models (each file carries its format version; a mismatched file is refused on load).
pub fn save(m: &Models, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    m.category.save(dir.join("category.model"))?;
    m.request_type.save(dir.join("type.model"))?;
    std::fs::write(
        dir.join("VERSION"),
        format!("{}\n{}\n", m.version, m.trained_on),
    )?;
    Ok(())
}

/// Loads saved models, if any.
pub fn load(dir: &Path) -> anyhow::Result<Option<Models>> {
    if !dir.join("category.model").exists() {
        return Ok(None);
    }
    let meta = std::fs::read_to_string(dir.join("VERSION")).unwrap_or_default();
    let mut lines = meta.lines();
    Ok(Some(Models {
        category: Classifier::load(dir.join("category.model"))?,
        request_type: Classifier::load(dir.join("type.model"))?,
        version: lines.next().unwrap_or("unknown").to_string(),
        trained_on: lines.next().and_then(|l| l.parse().ok()).unwrap_or(0),
    }))
}

/// Loads the saved models or, if there are none, trains them in the background.
pub fn start(st: &AppState) {
    let st = st.clone();
    std::thread::spawn(move || {
        let dir = model_dir(st.store.path());
        let models = match load(&dir) {
            Ok(Some(m)) => Ok(m),
            Ok(None) => train(st.store.as_ref()).inspect(|m| {
                if let Err(e) = save(m, &dir) {
                    tracing::warn!("cannot save the models: {e}");
                }
            }),
            Err(e) => {
                tracing::warn!("saved models refused ({e}); retraining");
                train(st.store.as_ref())
            }
        };
        match models {
            Ok(m) => {
                tracing::info!(
                    "classifier ready: version {}, {} examples",
                    m.version,
                    m.trained_on
                );
                if let Ok(mut g) = st.models.write() {
                    *g = Some(Arc::new(m));
                }
            }
            Err(e) => tracing::warn!("no classifier: {e}"),
        }
    });
}

#[derive(Deserialize)]
pub struct ClassifyBody {
    #[serde(default)]
    title: Option<String>,
    text: String,
}

/// `POST /api/v1/classify {title?, text}` — top-3 types and categories with confidence and drivers.
pub async fn classify(
    State(st): State<AppState>,
    Caller(actor): Caller,
    crate::json::Json(b): crate::json::Json<ClassifyBody>,
) -> ApiResult<axum::Json<Value>> {
    if !actor.role.is_centre() {
        return Err(jiesu_domain::auth::Denied::Role {
            role: actor.role,
            action: "classify".into(),
        }
        .into());
    }
    let text = format!("{} {}", b.title.unwrap_or_default(), b.text);
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
        json!({"category": cats, "type": types, "model_version": models.version, "trained_on": models.trained_on})
    })
    .await?;
    Ok(axum::Json(v))
}
