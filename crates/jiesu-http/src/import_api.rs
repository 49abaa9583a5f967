//! 历史数据导入 — the admin's upload of a legacy export (docs/IMPORT.md): a CSV file and a
//! mapping (TOML, or one of the shipped examples) in one JSON body. A dry run answers the
//! report and writes nothing; a real run imports through `jiesu_import::run`, the very path of
//! `jiesu import csv`. A bad file is one problem+json naming its lines, and nothing is written.

use crate::auth::{require, Caller};
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use jiesu_domain::capability::Capability;
use jiesu_import::{ImportError, Report};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The largest export an upload takes (the file's bytes, before base64).
pub const MAX_CSV_BYTES: usize = 8 * 1024 * 1024;
/// The largest request body of an upload: the base64 of [`MAX_CSV_BYTES`] and a mapping.
pub const MAX_BODY_BYTES: usize = MAX_CSV_BYTES / 3 * 4 + 1024 * 1024;

/// `POST /api/v1/admin/imports` body.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportBody {
    /// The mapping file's text (TOML, docs/IMPORT.md); or leave it out and name an `example`.
    #[serde(default)]
    pub mapping: Option<String>,
    /// A shipped mapping by name (`GET /api/v1/admin/imports/examples`), e.g. `nyc311`.
    #[serde(default)]
    pub example: Option<String>,
    /// The export's bytes as they are (UTF-8 with or without BOM, or GBK), base64 (standard
    /// alphabet); at most 8 MiB before encoding.
    pub csv_base64: String,
    /// The file's name, shown in the report.
    #[serde(default)]
    pub file_name: Option<String>,
    /// Check and map only: the report, nothing written.
    #[serde(default)]
    pub dry_run: bool,
}

/// A mapping shipped with Jiesu.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ImportExampleView {
    pub name: String,
    /// The mapping file's text (TOML).
    pub mapping: String,
}

/// `GET /api/v1/admin/imports/examples`.
pub async fn examples(Caller(actor): Caller) -> ApiResult<axum::Json<Vec<ImportExampleView>>> {
    require(&actor, Capability::LegacyImport)?;
    Ok(axum::Json(
        jiesu_import::EXAMPLES
            .iter()
            .map(|(name, text)| ImportExampleView {
                name: name.to_string(),
                mapping: text.to_string(),
            })
            .collect(),
    ))
}

fn too_large(n: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "import_too_large",
        format!(
            "the file has {n} bytes; an upload takes at most {} MiB (import larger exports with `jiesu import csv`)",
            MAX_CSV_BYTES / 1024 / 1024
        ),
        format!(
            "文件过大（{n} 字节）：上传导入最多 {} MiB，更大的文件请用命令行 jiesu import csv 导入",
            MAX_CSV_BYTES / 1024 / 1024
        ),
    )
    .field("csv_base64")
}

/// `POST /api/v1/admin/imports` — a dry run's report, or the import's.
pub async fn upload(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Json(b): Json<ImportBody>,
) -> ApiResult<axum::Json<Report>> {
    require(&actor, Capability::LegacyImport)?;
    let mapping = match (b.mapping, b.example.as_deref()) {
        (Some(m), None) => m,
        (None, Some(name)) => jiesu_import::EXAMPLES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| t.to_string())
            .ok_or_else(|| {
                ApiError::invalid(
                    "example",
                    format!("no shipped mapping is called {name:?}"),
                    format!("没有名为“{name}”的示例映射"),
                )
            })?,
        _ => {
            return Err(ApiError::invalid(
                "mapping",
                "give either the mapping's text or the name of a shipped example, not both",
                "请提供映射文件内容或示例映射名称（二选一）",
            ))
        }
    };
    if b.csv_base64.len() > MAX_CSV_BYTES / 3 * 4 + 4 {
        return Err(too_large(b.csv_base64.len() / 4 * 3));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b.csv_base64.trim())
        .map_err(|e| {
            ApiError::invalid(
                "csv_base64",
                format!("the file is not valid base64: {e}"),
                "文件内容不是有效的 base64 编码",
            )
        })?;
    if bytes.len() > MAX_CSV_BYTES {
        return Err(too_large(bytes.len()));
    }
    let file = b
        .file_name
        .filter(|f| !f.trim().is_empty())
        .unwrap_or_else(|| "upload.csv".into());
    let (s2, now, dry_run) = (st.clone(), st.now(), b.dry_run);
    let user = actor.user.clone();
    let res = tokio::task::spawn_blocking(move || {
        let r = jiesu_import::run(&*s2.store, &mapping, &bytes, &file, dry_run, now);
        if let Ok(rep) = &r {
            if !dry_run {
                let detail = format!(
                    "{} ({}): {} imported, {} already imported, {} not mapped",
                    rep.file, rep.source, rep.imported, rep.already_imported, rep.not_mapped
                );
                s2.store
                    .audit(&user, "legacy_import", None, &detail, now)
                    .map_err(|e| ImportError::Failed(e.into()))?;
            }
        }
        r
    })
    .await?;
    match res {
        Ok(r) => Ok(axum::Json(r)),
        Err(ImportError::Mapping(e)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "import_mapping",
            format!("the mapping is not usable: {e}"),
            format!("映射文件有误：{e}"),
        )
        .field("mapping")),
        Err(ImportError::Rejected(rej)) => {
            let lines: Vec<String> = rej
                .errors
                .iter()
                .map(|e| {
                    if e.line > 0 {
                        format!("line {}: {}", e.line, e.message)
                    } else {
                        e.message.clone()
                    }
                })
                .collect();
            let zh: Vec<String> = rej
                .errors
                .iter()
                .map(|e| format!("第 {} 行：{}", e.line, e.message))
                .collect();
            let mut err = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "import_rejected",
                format!(
                    "the file is rejected, nothing imported: {}",
                    lines.join("; ")
                ),
                format!("文件被拒绝，未导入任何记录：{}", zh.join("；")),
            )
            .field("csv_base64");
            err.extra = Some(serde_json::json!({ "errors": rej.errors }));
            Err(err)
        }
        Err(ImportError::Failed(e)) => {
            if let Some(jiesu_store::StoreError::Conflict(_)) =
                e.downcast_ref::<jiesu_store::StoreError>()
            {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "import_conflict",
                    format!("{e:#}; nothing was written — run it again"),
                    "导入期间有其他写入（工单号或来源记录冲突），未写入任何记录，请重试",
                ));
            }
            Err(ApiError::internal(format!("{e:#}")))
        }
    }
}
