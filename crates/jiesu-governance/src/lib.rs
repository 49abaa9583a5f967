//! 主动治理 — proactive governance on top of the data platform's facts: early warning of spikes
//! by place × category ([`warn`]) and its evaluation against CDC EARS ([`warn_eval`]), and the
//! reply-quality audit ([`audit`]), and 每月一题 ([`topics`]: the concrete problems inside a category
//! and their coherence; [`monthly`]: candidates, adopted topics and their outcome). Pure: series, texts and policies in, scores and lists out; the
//! store, the server and the command line do the IO.

pub mod alert;
pub mod audit;
pub mod cells;
pub mod foresight;
pub mod incident;
pub mod monthly;
pub mod reply_audit;
pub mod risk;
pub mod street_work;
pub mod streets;
pub mod topics;
pub mod warn;
pub mod warn_eval;
