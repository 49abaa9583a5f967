//! Jiesu's Chinese text analysis and classification.
//!
//! * [`Analyzer`]: jieba segmentation + stop words + domain dictionary, for raw or
//!   space-segmented text; shared by classification, search and duplicate detection.
//! * [`Classifier`]: word and character n-gram TF-IDF features, one-vs-rest linear SVM (dual
//!   coordinate descent), temperature-calibrated confidences and the words that drove them.
//! * [`intake_model`]: the intake models (type, category, kind of lead unit) trained from
//!   examples the caller reads from its store, and their files.
//! * [`cli`]: `jiesu classify eval|cv` and `jiesu bench classify`.
//!
//! See `docs/TEXT.md` for how it works and what it measures.

pub mod analyzer;
pub mod bench;
pub mod cli;
pub mod data;
pub mod error;
pub mod eval;
pub mod features;
pub mod intake_model;
pub mod model;
pub mod rawtext;
pub mod svm;
mod table;

pub use analyzer::{Analysis, Analyzer};
pub use error::{Result, TextError};
pub use eval::{ClassMetrics, Metrics};
pub use features::FeatureConfig;
pub use model::{
    cross_validate, cross_validate_with, Classifier, CvPlan, CvReport, ModelInfo, Prediction,
    TrainOptions, MAX_TEXT_BYTES, MODEL_FORMAT_VERSION, OLDEST_READABLE_FORMAT,
};
