//! 权限表 — what each role may use outside a ticket's own actions, in one table (role ×
//! capability). Every HTTP route that is not a ticket action checks one capability; `/me` serves
//! the caller's capabilities so the UI shows only what they may use.
//!
//! Ticket actions (受理、派单、退单 …) are not here: they stay governed by
//! [`crate::auth::authorize`], which also applies the ticket-scope rules ([`crate::auth::can_view`]).
//! This module also names the system actors that act on their own ([`Actor::system_named`]).

use crate::auth::{Actor, Role};
use serde::{Deserialize, Serialize};

/// A thing a role may use outside a ticket's actions: a page, a queue, an admin step.
/// The wire names are those of `/api/v1/me`'s `capabilities`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// 查阅工单 — list and open tickets (within the role's scope).
    TicketsRead,
    /// 受理登记 — take a request in at the staff intake form.
    Intake,
    /// 智能分类 — the classification assistant and its model (the centre's staff).
    Classify,
    /// 重复诉求查询 — look for requests about the same problem at the same place.
    Duplicates,
    /// 派单建议 — a ticket's dispatch suggestion from the duty catalogue.
    RouteSuggest,
    /// 查看派单目录 — the duty catalogue in force and its drafts (view, export, lint).
    CatalogueView,
    /// 编辑派单目录 — import a draft catalogue, edit it, preview it (what-if).
    CatalogueEdit,
    /// 发布派单目录 — put a draft catalogue in force.
    CataloguePublish,
    /// 督办看板 — the overdue board and the escalations list (a unit manager sees their units).
    SupervisionView,
    /// 批量催办 — urge many overdue assignments at once.
    RemindBulk,
    /// 审核队列 — the queue of pending returns and extensions.
    ReviewQueue,
    /// 派单准确率 — how often dispatches were returned.
    DispatchAccuracy,
    /// 工作概览 — today's overview (a unit manager sees their units).
    Overview,
    /// 回访工作台 — the callback desk: the due queue and self-rating links.
    CallbackDesk,
    /// 未解决回访处理 — the tickets whose callback says unresolved, waiting for reopen or close.
    CallbackUnresolved,
    /// 回访复核 — the supervisor's re-check of callbacks (sample, record, list).
    Recheck,
    /// 承办工作台 — a unit's workbench and inbox of reminders.
    UnitDesk,
    /// 查阅知识库 — search and read the knowledge base.
    KbRead,
    /// 编辑知识库 — write knowledge-base articles and submit them for review.
    KbEdit,
    /// 审核知识库 — approve or reject an article version.
    KbReview,
    /// 按来电号码查询 — find a caller's earlier requests by their phone (a personal-data read).
    PhoneSearch,
    /// 知识库统计 — questions asked and articles used.
    KbStats,
    /// 用户管理 — user accounts.
    UsersManage,
    /// 基础数据管理 — units, categories and other reference data.
    ReferenceManage,
    /// 数据分析 — the data platform's dashboards, queries and reports.
    Analytics,
    /// 报告模板 — edit the templates of the 日通报 / 周汇总 / 月分析.
    ReportTemplates,
    /// 预警处置 — the early-warning alerts of one's scope (the centre: all; a unit: its own and
    /// those below it): see them, acknowledge, handle or dismiss them.
    Alerts,
    /// 网格上报 — a grid worker files a report of their grid from the phone page, with a photo
    /// and the position.
    GridReport,
    /// 接口与导出管理 — partners' Open311 keys, department API keys and their use, department
    /// webhooks and every department's saved exports.
    ApiKeys,
    /// 部门定制导出 — the saved exports of one's own unit (and those below it): define, run,
    /// download.
    DeptExports,
    /// 每月一题查阅 — the adopted topics of the month (a unit: those it leads or is listed in).
    MonthlyView,
    /// 每月一题候选 — the candidate problems mined from last year's requests.
    MonthlyCandidates,
    /// 每月一题立项 — adopt a topic and edit its plan, lists and rules.
    MonthlyEdit,
    /// 每月一题任务进度 — change one task's status (and note) on the task list (三清单) of a
    /// topic one's unit leads (the admin: any topic); each change is a new version of the topic.
    MonthlyTaskUpdate,
    /// 治理类街乡镇工作 — a pre-warned or listed street's file: its interviews, problem and project
    /// lists with progress, monitoring and changes (the centre: every street; a unit manager:
    /// the streets of their unit); keeping the lists.
    StreetWork,
    /// 约谈记录 — file an interview (约谈) of a street's leaders (the centre, or the manager of the
    /// district above the street).
    StreetInterview,
    /// 办理质量审计 — the reply-quality audit: flagged results (答非所问, boilerplate, resolved but
    /// contradicted by the callback, filed implausibly fast) and the per-unit rates. Turning a
    /// flagged result into supervision (督办) is a reopen (重办): the action table's roles.
    ReplyAudit,
    /// 历史数据导入 — upload another system's export with a column mapping: a dry run's report,
    /// then the import (docs/IMPORT.md).
    LegacyImport,
    /// 部门事件订阅 — a unit's own webhook subscriptions of its tickets' events (its unit and
    /// those below it): list, subscribe, stop; a department key of the manager role may too.
    DeptWebhooks,
    /// 治理规则管理 — the city's own governance policies (治理类街乡镇 classification, the reply
    /// audit's thresholds): list and read their versions, submit a new one, preview a draft.
    GovernancePolicies,
}

/// One row of the table: the capability, its wire name, labels, and the roles granted it
/// (`System` is granted everything and is not listed).
struct Row {
    cap: Capability,
    wire: &'static str,
    zh: &'static str,
    en: &'static str,
    roles: &'static [Role],
}

use Role::{
    Admin as AD, Agent as AG, CallbackAgent as CB, Dispatcher as DI, GridWorker as GW,
    Supervisor as SU, UnitHandler as UH, UnitManager as UM,
};

/// The centre's staff (they see every ticket).
const CENTRE: &[Role] = &[AG, DI, CB, SU, AD];

/// THE table (role × capability), in the order of [`Capability::ALL`].
#[rustfmt::skip]
const TABLE: &[Row] = &[
    Row { cap: Capability::TicketsRead, wire: "tickets-read", zh: "查阅工单", en: "read tickets", roles: &[AG, DI, UH, UM, CB, SU, AD] },
    Row { cap: Capability::Intake, wire: "intake", zh: "受理登记", en: "take requests in", roles: &[AG, DI, SU, AD] },
    Row { cap: Capability::Classify, wire: "classify", zh: "智能分类", en: "classification assistant", roles: CENTRE },
    Row { cap: Capability::Duplicates, wire: "duplicates", zh: "重复诉求查询", en: "duplicate check", roles: &[AG, DI, SU, AD] },
    Row { cap: Capability::RouteSuggest, wire: "route-suggest", zh: "派单建议", en: "dispatch suggestions", roles: &[AG, DI, SU, AD] },
    Row { cap: Capability::CatalogueView, wire: "catalogue-view", zh: "查看派单目录", en: "view the duty catalogue", roles: &[AG, DI, SU, AD] },
    Row { cap: Capability::CatalogueEdit, wire: "catalogue-edit", zh: "编辑派单目录", en: "edit the duty catalogue", roles: &[DI, SU, AD] },
    Row { cap: Capability::CataloguePublish, wire: "catalogue-publish", zh: "发布派单目录", en: "publish the duty catalogue", roles: &[SU, AD] },
    Row { cap: Capability::SupervisionView, wire: "supervision-view", zh: "督办看板", en: "supervision board", roles: &[AG, DI, CB, SU, AD, UM] },
    Row { cap: Capability::RemindBulk, wire: "remind-bulk", zh: "批量催办", en: "bulk urging", roles: &[DI, SU] },
    Row { cap: Capability::ReviewQueue, wire: "review-queue", zh: "审核队列", en: "review queue", roles: &[DI, SU, AD] },
    Row { cap: Capability::DispatchAccuracy, wire: "dispatch-accuracy", zh: "派单准确率", en: "dispatch accuracy", roles: &[DI, SU, AD] },
    Row { cap: Capability::Overview, wire: "overview", zh: "工作概览", en: "overview", roles: &[DI, SU, AD, UM] },
    Row { cap: Capability::CallbackDesk, wire: "callback-desk", zh: "回访工作台", en: "callback desk", roles: &[CB, SU, AD] },
    Row { cap: Capability::CallbackUnresolved, wire: "callback-unresolved", zh: "未解决回访处理", en: "unresolved callbacks", roles: &[CB, DI, SU, AD] },
    Row { cap: Capability::Recheck, wire: "recheck", zh: "回访复核", en: "callback re-check", roles: &[SU, AD] },
    Row { cap: Capability::UnitDesk, wire: "unit-desk", zh: "承办工作台", en: "unit workbench", roles: &[UH, UM] },
    Row { cap: Capability::KbRead, wire: "kb-read", zh: "查阅知识库", en: "read the knowledge base", roles: &[AG, DI, CB, SU, AD, UH, UM] },
    Row { cap: Capability::KbEdit, wire: "kb-edit", zh: "编辑知识库", en: "edit the knowledge base", roles: &[AG, DI, SU, AD] },
    Row { cap: Capability::KbReview, wire: "kb-review", zh: "审核知识库", en: "review the knowledge base", roles: &[SU, AD] },
    Row { cap: Capability::PhoneSearch, wire: "phone-search", zh: "按来电号码查询", en: "search by the caller's phone", roles: CENTRE },
    Row { cap: Capability::KbStats, wire: "kb-stats", zh: "知识库统计", en: "knowledge-base statistics", roles: CENTRE },
    Row { cap: Capability::UsersManage, wire: "users-manage", zh: "用户管理", en: "manage users", roles: &[AD] },
    Row { cap: Capability::ReferenceManage, wire: "reference-manage", zh: "基础数据管理", en: "manage reference data", roles: &[AD] },
    Row { cap: Capability::Analytics, wire: "analytics", zh: "数据分析", en: "analytics and reports", roles: &[DI, SU, AD, UM] },
    Row { cap: Capability::ReportTemplates, wire: "report-templates", zh: "编辑报告模板", en: "edit report templates", roles: &[SU, AD] },
    Row { cap: Capability::Alerts, wire: "alerts", zh: "预警处置", en: "early-warning alerts", roles: &[DI, SU, AD, UH, UM] },
    Row { cap: Capability::GridReport, wire: "grid-report", zh: "网格上报", en: "grid reports", roles: &[GW] },
    Row { cap: Capability::ApiKeys, wire: "api-keys", zh: "接口与导出管理", en: "API keys and exports", roles: &[AD] },
    Row { cap: Capability::DeptExports, wire: "dept-exports", zh: "部门定制导出", en: "department exports", roles: &[SU, AD, UM] },
    Row { cap: Capability::MonthlyView, wire: "monthly-view", zh: "每月一题", en: "problem of the month", roles: &[DI, SU, AD, UH, UM] },
    Row { cap: Capability::MonthlyCandidates, wire: "monthly-candidates", zh: "每月一题候选", en: "problem-of-the-month candidates", roles: &[DI, SU, AD] },
    Row { cap: Capability::MonthlyEdit, wire: "monthly-edit", zh: "每月一题立项", en: "adopt and edit problems of the month", roles: &[SU, AD] },
    Row { cap: Capability::MonthlyTaskUpdate, wire: "monthly-task-update", zh: "每月一题任务进度", en: "update a problem-of-the-month task's status", roles: &[UM, AD] },
    Row { cap: Capability::StreetWork, wire: "street-work", zh: "治理类街乡镇工作", en: "governance-priority streets' work", roles: &[DI, SU, AD, UM] },
    Row { cap: Capability::StreetInterview, wire: "street-interview", zh: "约谈记录", en: "file interviews of street leaders", roles: &[SU, AD, UM] },
    Row { cap: Capability::ReplyAudit, wire: "reply-audit", zh: "办理质量审计", en: "reply-quality audit", roles: &[SU, AD] },
    Row { cap: Capability::LegacyImport, wire: "legacy-import", zh: "历史数据导入", en: "legacy imports", roles: &[AD] },
    Row { cap: Capability::DeptWebhooks, wire: "dept-webhooks", zh: "部门事件订阅", en: "own webhook subscriptions", roles: &[UM] },
    Row { cap: Capability::GovernancePolicies, wire: "governance-policies", zh: "治理规则管理", en: "governance policies", roles: &[AD] },
];

impl Capability {
    /// Every capability, in the table's order.
    pub const ALL: &'static [Capability] = &[
        Capability::TicketsRead,
        Capability::Intake,
        Capability::Classify,
        Capability::Duplicates,
        Capability::RouteSuggest,
        Capability::CatalogueView,
        Capability::CatalogueEdit,
        Capability::CataloguePublish,
        Capability::SupervisionView,
        Capability::RemindBulk,
        Capability::ReviewQueue,
        Capability::DispatchAccuracy,
        Capability::Overview,
        Capability::CallbackDesk,
        Capability::CallbackUnresolved,
        Capability::Recheck,
        Capability::UnitDesk,
        Capability::KbRead,
        Capability::KbEdit,
        Capability::KbReview,
        Capability::PhoneSearch,
        Capability::KbStats,
        Capability::UsersManage,
        Capability::ReferenceManage,
        Capability::Analytics,
        Capability::ReportTemplates,
        Capability::Alerts,
        Capability::GridReport,
        Capability::ApiKeys,
        Capability::DeptExports,
        Capability::MonthlyView,
        Capability::MonthlyCandidates,
        Capability::MonthlyEdit,
        Capability::MonthlyTaskUpdate,
        Capability::StreetWork,
        Capability::StreetInterview,
        Capability::ReplyAudit,
        Capability::LegacyImport,
        Capability::DeptWebhooks,
        Capability::GovernancePolicies,
    ];

    fn row(self) -> &'static Row {
        &TABLE[self as usize]
    }

    /// The wire name (as in `/api/v1/me`).
    pub fn as_str(self) -> &'static str {
        self.row().wire
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Capability> {
        TABLE.iter().find(|r| r.wire == s).map(|r| r.cap)
    }

    /// The Chinese label shown to users (and in refusals).
    pub fn label_zh(self) -> &'static str {
        self.row().zh
    }

    /// The English label.
    pub fn label_en(self) -> &'static str {
        self.row().en
    }

    /// Whether `role` has this capability. The system (scheduler, generator, system actors) has
    /// every capability; citizens have none.
    pub fn granted_to(self, role: Role) -> bool {
        role == Role::System || self.row().roles.contains(&role)
    }

    /// The capabilities of `role`, in the table's order.
    pub fn of(role: Role) -> Vec<Capability> {
        Capability::ALL
            .iter()
            .copied()
            .filter(|c| c.granted_to(role))
            .collect()
    }
}

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Actor {
    /// A named system actor (系统): an automatic step that acts on its own, e.g. the citizen's
    /// self-rating through a one-time link (`self-rating`). It has the `System` role, so it goes
    /// through [`crate::auth::authorize`] like everyone else and is allowed what the system is.
    pub fn system_named(name: &str) -> Actor {
        Actor {
            user: name.into(),
            role: Role::System,
            unit: None,
        }
    }

    /// Whether this actor has `cap`.
    pub fn may(&self, cap: Capability) -> bool {
        cap.granted_to(self.role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Capability::*;

    #[test]
    fn table_rows_are_in_the_order_of_all_and_wire_names_round_trip() {
        assert_eq!(TABLE.len(), Capability::ALL.len());
        for (i, c) in Capability::ALL.iter().enumerate() {
            assert_eq!(TABLE[i].cap, *c, "row {i}");
            assert_eq!(Capability::parse(c.as_str()), Some(*c));
            assert_eq!(
                serde_json::to_value(c).unwrap(),
                serde_json::json!(c.as_str())
            );
            assert!(!c.label_zh().is_empty() && !c.label_en().is_empty());
        }
        assert_eq!(Capability::parse("nope"), None);
    }

    #[test]
    fn the_system_has_every_capability_and_a_citizen_none() {
        for c in Capability::ALL {
            assert!(c.granted_to(Role::System), "{c}");
            assert!(!c.granted_to(Role::Citizen), "{c}");
        }
        assert_eq!(Capability::of(Role::System), Capability::ALL.to_vec());
        assert!(Actor::system_named("self-rating").may(Recheck));
        assert_eq!(Actor::system_named("self-rating").user, "self-rating");
    }

    /// Each role's list is what the routes enforced before the table (one deliberate change:
    /// an admin may also look up a ticket's duplicates, as they could a draft's).
    #[test]
    fn each_role_has_the_capabilities_the_routes_enforced() {
        let expect: &[(Role, &[Capability])] = &[
            (
                Role::Agent,
                &[
                    TicketsRead,
                    Intake,
                    Classify,
                    Duplicates,
                    RouteSuggest,
                    CatalogueView,
                    SupervisionView,
                    KbRead,
                    KbEdit,
                    PhoneSearch,
                    KbStats,
                ],
            ),
            (
                Role::Dispatcher,
                &[
                    TicketsRead,
                    Intake,
                    Classify,
                    Duplicates,
                    RouteSuggest,
                    CatalogueView,
                    CatalogueEdit,
                    SupervisionView,
                    RemindBulk,
                    ReviewQueue,
                    DispatchAccuracy,
                    Overview,
                    CallbackUnresolved,
                    KbRead,
                    KbEdit,
                    PhoneSearch,
                    KbStats,
                    Analytics,
                    Alerts,
                    MonthlyView,
                    MonthlyCandidates,
                    StreetWork,
                ],
            ),
            (
                Role::UnitHandler,
                &[TicketsRead, UnitDesk, KbRead, Alerts, MonthlyView],
            ),
            (
                Role::UnitManager,
                &[
                    TicketsRead,
                    SupervisionView,
                    Overview,
                    UnitDesk,
                    KbRead,
                    Analytics,
                    Alerts,
                    DeptExports,
                    MonthlyView,
                    MonthlyTaskUpdate,
                    StreetWork,
                    StreetInterview,
                    DeptWebhooks,
                ],
            ),
            (
                Role::CallbackAgent,
                &[
                    TicketsRead,
                    Classify,
                    SupervisionView,
                    CallbackDesk,
                    CallbackUnresolved,
                    KbRead,
                    PhoneSearch,
                    KbStats,
                ],
            ),
            (
                Role::Supervisor,
                &[
                    TicketsRead,
                    Intake,
                    Classify,
                    Duplicates,
                    RouteSuggest,
                    CatalogueView,
                    CatalogueEdit,
                    CataloguePublish,
                    SupervisionView,
                    RemindBulk,
                    ReviewQueue,
                    DispatchAccuracy,
                    Overview,
                    CallbackDesk,
                    CallbackUnresolved,
                    Recheck,
                    KbRead,
                    KbEdit,
                    KbReview,
                    PhoneSearch,
                    KbStats,
                    Analytics,
                    ReportTemplates,
                    Alerts,
                    DeptExports,
                    MonthlyView,
                    MonthlyCandidates,
                    MonthlyEdit,
                    StreetWork,
                    StreetInterview,
                    ReplyAudit,
                ],
            ),
            (
                Role::Admin,
                &[
                    TicketsRead,
                    Intake,
                    Classify,
                    Duplicates,
                    RouteSuggest,
                    CatalogueView,
                    CatalogueEdit,
                    CataloguePublish,
                    SupervisionView,
                    ReviewQueue,
                    DispatchAccuracy,
                    Overview,
                    CallbackDesk,
                    CallbackUnresolved,
                    Recheck,
                    KbRead,
                    KbEdit,
                    KbReview,
                    PhoneSearch,
                    KbStats,
                    UsersManage,
                    ReferenceManage,
                    Analytics,
                    ReportTemplates,
                    Alerts,
                    ApiKeys,
                    DeptExports,
                    MonthlyView,
                    MonthlyCandidates,
                    MonthlyEdit,
                    MonthlyTaskUpdate,
                    StreetWork,
                    StreetInterview,
                    ReplyAudit,
                    LegacyImport,
                    GovernancePolicies,
                ],
            ),
            (Role::GridWorker, &[GridReport]),
            (Role::Citizen, &[]),
        ];
        for (role, caps) in expect {
            assert_eq!(Capability::of(*role), caps.to_vec(), "{role}");
        }
        assert_eq!(
            expect.len() + 1,
            Role::ALL.len(),
            "every role but System is pinned"
        );
    }

    /// The capabilities that mirror a ticket-action role list agree with it.
    #[test]
    fn ticket_reading_and_bulk_urging_agree_with_the_action_roles() {
        for r in Role::ALL {
            assert_eq!(
                TicketsRead.granted_to(*r),
                crate::auth::role_may(*r, "read"),
                "{r}"
            );
            assert_eq!(
                RemindBulk.granted_to(*r),
                crate::auth::role_may(*r, "urge"),
                "{r}"
            );
        }
    }
}
