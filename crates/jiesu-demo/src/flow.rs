//! One ticket's life, driven through the real domain transitions (`command::execute`): intake,
//! then answered directly / special handling / praise, or dispatch → sign → respond → result →
//! callback (→ reopen → … → second callback) → close, with returns, re-dispatches, assisting
//! units, whistles, extensions and escalations at their calibrated rates. Every step happens at
//! a time after the previous one; steps that would fall after the end of the history are not
//! taken, so the newest tickets stay open where they are.
//!
//! A ticket is a pure function of (seed, id, creation time): its random stream is keyed by its
//! id, so the city is the same however the work is split over threads.

use crate::calendar::local;
use crate::model::{flow_p::*, sigmoid, target, City, LeadTarget, Leaf};
use crate::rng::{purpose, Rng};
use crate::text::{self, PlaceWords};
use chrono::{DateTime, Duration, Timelike, Utc};
use jiesu_domain::command::{execute, AssignmentRequest, Command};
use jiesu_domain::ticket::*;
use jiesu_domain::{ActorRef, CallbackOutcome, Event, Role, TicketState};

/// Why a ticket's simulation stopped early.
enum Halt {
    /// The next step would happen after the end of the history.
    End,
    Err(anyhow::Error),
}

type Step<T = ()> = Result<T, Halt>;

/// The running simulation of one ticket.
struct Sim<'a> {
    st: TicketState,
    events: Vec<Event>,
    now: DateTime<Utc>,
    end: DateTime<Utc>,
    engine: &'a jiesu_routing::DeadlineEngine,
}

impl Sim<'_> {
    /// Runs a command at `t` (moved to at least a second after the previous step).
    fn run(&mut self, t: DateTime<Utc>, actor: &ActorRef, cmd: Command) -> Step {
        let t = t.max(self.now + Duration::seconds(1));
        if t > self.end {
            return Err(Halt::End);
        }
        let evs = execute(&mut self.st, &cmd, actor, t).map_err(|e| {
            Halt::Err(anyhow::anyhow!(
                "demo ticket {} ({}): {} at {} refused: {e}",
                self.st.id,
                self.st.status.as_str(),
                cmd.action(),
                t
            ))
        })?;
        self.events.extend(evs);
        self.now = t;
        Ok(())
    }

    /// The clocks of `unit`'s assignment from `start`, exactly as the server's dispatch and
    /// reopen compute them (the routing policy for the ticket's category on the city's calendar).
    fn deadlines(
        &self,
        tier: DeadlineTier,
        unit: &str,
        start: DateTime<Utc>,
    ) -> jiesu_domain::Deadlines {
        self.engine
            .deadlines(tier, unit, &self.st.intake.category_code, start)
    }
}

fn mins(m: f64) -> Duration {
    Duration::seconds((m * 60.0).round().max(1.0) as i64)
}

/// Moves a time into the call centre's callback hours (08:00–21:00 Beijing time).
fn callback_hours(t: DateTime<Utc>, rng: &mut Rng) -> DateTime<Utc> {
    let h = local(t).hour();
    if (8..21).contains(&h) {
        return t;
    }
    let to_eight = if h >= 21 {
        24 + 8 - h as i64
    } else {
        8 - h as i64
    };
    t - Duration::minutes(local(t).minute() as i64)
        + Duration::hours(to_eight)
        + Duration::minutes(rng.range(0, 150))
}

/// Probability `p` nudged in log-odds by a unit's quality.
fn adj(p: f64, quality: f64, k: f64) -> f64 {
    let x = (p / (1.0 - p)).ln() + k * quality;
    sigmoid(x)
}

/// A time inside `[from, deadline]` skewed early with probability `p_on_time`, else after the
/// deadline by a log-normal delay.
fn timed(
    rng: &mut Rng,
    from: DateTime<Utc>,
    deadline: DateTime<Utc>,
    p_on_time: f64,
    skew: f64,
    late_median_min: f64,
) -> DateTime<Utc> {
    if deadline > from && rng.chance(p_on_time) {
        let span = (deadline - from).num_seconds() as f64;
        let f = rng.f64().powf(skew);
        from + Duration::seconds((span * f).max(30.0).min(span) as i64)
    } else {
        deadline.max(from) + mins(rng.lognormal(late_median_min, 0.8).max(1.0))
    }
}

/// The generator of tickets for one city, seed and history end.
pub struct TicketGen<'a> {
    pub city: &'a City,
    /// The duty catalogue and its router: the first dispatch follows the catalogue when it names
    /// the responsible unit (the rule is recorded), otherwise the dispatcher corrects it by hand.
    pub routing: Option<(&'a jiesu_routing::Catalogue, &'a jiesu_routing::Router<'a>)>,
    pub seed: u64,
    pub end: DateTime<Utc>,
    /// Size of the pool of repeat callers.
    pub pool: u64,
    /// The deadline engine the server runs (policy and calendar in the city's zone).
    pub engine: jiesu_routing::DeadlineEngine,
    pub extra: text::ExtraPools,
}

/// A caller (诉求人) with a home place.
struct Caller {
    name: String,
    phone: String,
    home: Option<(usize, usize, Option<usize>)>,
}

/// Share of tickets from the pool of repeat callers.
const POOL_SHARE: f64 = 0.55;
/// Share of a repeat caller's tickets about their home place.
const HOME_SHARE: f64 = 0.7;

impl<'a> TicketGen<'a> {
    fn actor(&self, role: Role, user: String, unit: Option<&str>) -> ActorRef {
        ActorRef {
            user,
            role,
            unit: unit.map(str::to_string),
        }
    }
    fn agent(&self, rng: &mut Rng) -> ActorRef {
        self.actor(Role::Agent, format!("agent{:03}", rng.range(1, 320)), None)
    }
    fn dispatcher(&self, rng: &mut Rng) -> ActorRef {
        self.actor(
            Role::Dispatcher,
            format!("dispatch{:02}", rng.range(1, 60)),
            None,
        )
    }
    fn callback_agent(&self, rng: &mut Rng) -> ActorRef {
        self.actor(
            Role::CallbackAgent,
            format!("callback{:03}", rng.range(1, 150)),
            None,
        )
    }
    fn supervisor(&self, rng: &mut Rng) -> ActorRef {
        self.actor(
            Role::Supervisor,
            format!("supervisor{:02}", rng.range(1, 20)),
            None,
        )
    }
    fn handler(&self, unit: &str, rng: &mut Rng) -> ActorRef {
        self.actor(
            Role::UnitHandler,
            format!("{unit}-h{}", rng.range(1, 3)),
            Some(unit),
        )
    }

    fn place_draw(&self, rng: &mut Rng, top: usize) -> (usize, usize, Option<usize>) {
        let d = self.city.tops[top].district_pick.sample(rng);
        self.street_draw(rng, d)
    }

    fn street_draw(&self, rng: &mut Rng, d: usize) -> (usize, usize, Option<usize>) {
        let dist = &self.city.districts[d];
        let s = dist.street_pick.sample(rng);
        let st = &dist.streets[s];
        let c = (!st.communities.is_empty()).then(|| st.community_pick.sample(rng));
        (d, s, c)
    }

    fn caller(&self, rng: &mut Rng) -> Caller {
        if rng.chance(POOL_SHARE) && self.pool > 0 {
            // skewed: a few callers call very often (老刘 called 95 times in a year)
            let k = ((self.pool as f64) * rng.f64().powf(1.3)) as u64;
            let mut r = Rng::new(self.seed, purpose::CALLER, k);
            let name = text::person_name(&self.city.pools, &mut r);
            let phone = text::mobile(&mut r);
            let d = self.city.district_pick.sample(&mut r);
            let home = self.street_draw(&mut r, d);
            return Caller {
                name,
                phone,
                home: Some(home),
            };
        }
        Caller {
            name: text::person_name(&self.city.pools, rng),
            phone: text::mobile(rng),
            home: None,
        }
    }

    fn unit_name<'b>(&'b self, code: &'b str) -> &'b str {
        self.city
            .unit(code)
            .map(|u| u.name.as_str())
            .unwrap_or(code)
    }

    /// Resolves a lead option to a real unit at the place.
    fn resolve(&self, t: &LeadTarget, d: usize, s: usize, rng: &mut Rng) -> String {
        let street = &self.city.districts[d].streets[s].code;
        match t.resolve(street) {
            Some(code) if self.city.unit(&code).is_some() => code,
            _ => {
                if self.city.ecommerce.is_empty() {
                    street.clone()
                } else {
                    self.city.ecommerce[self.city.ecommerce_pick.sample(rng)].clone()
                }
            }
        }
    }

    /// Another plausible unit for a re-dispatch after an approved return, and the reason the
    /// first unit gave.
    fn alternative(
        &self,
        leaf: &Leaf,
        first: &str,
        d: usize,
        s: usize,
        rng: &mut Rng,
    ) -> (String, ReturnReason) {
        let dist = &self.city.districts[d];
        // another option of the leaf, resolved at the place
        let others: Vec<String> = leaf
            .leads
            .iter()
            .map(|t| self.resolve(t, d, s, rng))
            .filter(|u| u != first)
            .collect();
        if !others.is_empty() && rng.chance(0.75) {
            let alt = rng.pick(&others).clone();
            let reason = if self.city.unit_type(first) == 1 && self.city.unit_type(&alt) != 1 {
                ReturnReason::WrongLevel
            } else if rng.chance(0.1) {
                ReturnReason::MissingInformation
            } else {
                ReturnReason::NotOurDuty
            };
            return (alt, reason);
        }
        // same kind elsewhere: the neighbouring street, another department …
        match self.city.unit_type(first) {
            1 if dist.streets.len() > 1 => {
                let i = dist
                    .streets
                    .iter()
                    .position(|x| x.code == first)
                    .unwrap_or(s);
                let j = (i + 1 + rng.below(dist.streets.len() - 1)) % dist.streets.len();
                (dist.streets[j].code.clone(), ReturnReason::OutsideArea)
            }
            0 => {
                let c: Vec<&String> = dist.dept_codes.iter().filter(|c| *c != first).collect();
                if c.is_empty() {
                    (dist.streets[s].code.clone(), ReturnReason::NotOurDuty)
                } else {
                    ((*rng.pick(&c)).clone(), ReturnReason::NotOurDuty)
                }
            }
            k => {
                let pool = match k {
                    2 => &self.city.city_depts,
                    3 => &self.city.state_firms,
                    _ => &self.city.ecommerce,
                };
                let c: Vec<&String> = pool.iter().filter(|c| *c != first).collect();
                if c.is_empty() || rng.chance(0.5) {
                    (dist.streets[s].code.clone(), ReturnReason::WrongLevel)
                } else {
                    ((*rng.pick(&c)).clone(), ReturnReason::NotOurDuty)
                }
            }
        }
    }

    /// An assisting unit for a lead.
    fn assist(&self, lead: &str, d: usize, s: usize, rng: &mut Rng) -> Option<String> {
        let dist = &self.city.districts[d];
        let street = &dist.streets[s].code;
        let a = match self.city.unit_type(lead) {
            1 => {
                if dist.dept_codes.is_empty() {
                    return None;
                }
                rng.pick(&dist.dept_codes).clone()
            }
            _ => street.clone(),
        };
        (a != lead).then_some(a)
    }

    /// Generates ticket `id`, created at `at`.
    pub fn ticket(&self, id: i64, at: DateTime<Utc>) -> anyhow::Result<(TicketState, Vec<Event>)> {
        let city = self.city;
        let mut rng = Rng::new(self.seed, purpose::TICKET, id as u64);
        let month = local(at).date();
        let month0 = chrono::Datelike::month0(&month) as usize;

        // route and category
        let u = rng.f64();
        #[derive(PartialEq)]
        enum Route {
            Praise,
            Special,
            Direct,
            Dispatch,
        }
        let (route, leaf_i, praise_tpl) = if u < target::PRAISE && !city.praise.is_empty() {
            let (li, t) = &city.praise[rng.below(city.praise.len())];
            (Route::Praise, *li, Some(t))
        } else {
            let li = city.leaf_by_month[month0].sample(&mut rng);
            let r = if u < target::PRAISE + target::SPECIAL {
                Route::Special
            } else if rng.chance(city.leaves[li].direct) {
                Route::Direct
            } else {
                Route::Dispatch
            };
            (r, li, None)
        };
        let leaf = &city.leaves[leaf_i];
        let top = leaf.top;

        // requester and place
        let caller = self.caller(&mut rng);
        let (d, s, c) = match caller.home {
            Some(h) if rng.chance(HOME_SHARE) => h,
            _ => self.place_draw(&mut rng, top),
        };
        let dist = &city.districts[d];
        let street = &dist.streets[s];
        let community = c.map(|i| &street.communities[i]);
        // a dispatched ticket's lead is chosen now, so that the text can name the firm
        let lead = (route == Route::Dispatch)
            .then(|| self.resolve(&leaf.leads[leaf.lead_pick.sample(&mut rng)], d, s, &mut rng));
        let mut words = PlaceWords::new(
            &city.pools,
            &mut rng,
            &dist.name,
            &street.name,
            community.map(|c| c.1.as_str()),
        );
        words.firm = lead
            .as_deref()
            .filter(|u| matches!(city.unit_type(u), 3 | 4))
            .map(|u| self.unit_name(u));
        let address = words.address(&mut rng);

        // channel
        let channel = {
            let x = rng.f64();
            let others = [
                (Channel::Web, 0.022),
                (Channel::Wechat, 0.020),
                (Channel::App, 0.016),
                (Channel::MessageBoard, 0.006),
                (Channel::Grid, 0.008),
                (Channel::Weibo, 0.003),
                (Channel::PartnerHotline, 0.004),
            ];
            let mut acc = target::PHONE;
            let mut ch = Channel::Phone;
            if x >= acc {
                ch = Channel::Web;
                for (c, p) in others {
                    acc += p / 0.079 * (1.0 - target::PHONE);
                    if x < acc {
                        ch = c;
                        break;
                    }
                }
            }
            ch
        };

        // type, title and text
        let (request_type, title, body) = {
            let tpl = match route {
                Route::Praise => praise_tpl.cloned(),
                Route::Direct => {
                    let cons: Vec<&crate::model::Template> = leaf
                        .templates
                        .iter()
                        .filter(|t| t.request_type == RequestType::Consultation)
                        .collect();
                    if !cons.is_empty() && rng.chance(0.7) {
                        Some((*rng.pick(&cons)).clone())
                    } else {
                        None
                    }
                }
                _ => {
                    let usable: Vec<&crate::model::Template> = leaf
                        .templates
                        .iter()
                        .filter(|t| t.request_type != RequestType::Praise)
                        .collect();
                    (!usable.is_empty()).then(|| (*rng.pick(&usable)).clone())
                }
            };
            let (ty, title_t, text_t) = match tpl {
                Some(t) => (t.request_type, t.title, t.text),
                None => {
                    let (a, b) =
                        text::CONSULTATION_TEMPLATES[rng.below(text::CONSULTATION_TEMPLATES.len())];
                    (
                        RequestType::Consultation,
                        text::sub(a, "{leaf}", &leaf.name),
                        text::sub(b, "{leaf}", &leaf.name),
                    )
                }
            };
            let ty = match (&route, ty) {
                (Route::Praise, _) => RequestType::Praise,
                (Route::Direct, RequestType::Consultation) => {
                    let x = rng.f64();
                    if x < 0.9 {
                        RequestType::Consultation
                    } else if x < 0.96 {
                        RequestType::Help
                    } else {
                        RequestType::Suggestion
                    }
                }
                (Route::Direct, t) => t,
                (_, RequestType::Complaint) => {
                    let x = rng.f64();
                    if x < 0.70 {
                        RequestType::Complaint
                    } else if x < 0.88 {
                        RequestType::Help
                    } else if x < 0.96 {
                        RequestType::Report
                    } else {
                        RequestType::Suggestion
                    }
                }
                (_, t) => t,
            };
            let title = text::fill(&title_t, &words, &self.extra, &mut rng);
            let body = text::fill(&text_t, &words, &self.extra, &mut rng);
            (ty, title, body)
        };

        let enterprise = if city.tops[top].name == "企业服务" {
            rng.chance(0.6)
        } else {
            rng.chance(0.012)
        };
        let praised_unit = if route == Route::Praise {
            let t = &leaf.leads[leaf.lead_pick.sample(&mut rng)];
            Some(self.resolve(t, d, s, &mut rng))
        } else {
            None
        };
        let requester_name = if enterprise {
            format!("{}经理", text::surname(&city.pools, &mut rng))
        } else {
            caller.name
        };
        let intake = Intake {
            channel,
            request_type,
            category_code: leaf.code.clone(),
            title,
            text: body,
            place: Place {
                district_code: dist.code.clone(),
                street_code: street.code.clone(),
                community_code: community.map(|c| c.0.clone()),
                address: Some(address),
                lat: None,
                lng: None,
            },
            requester: Requester {
                name: requester_name,
                phone: caller.phone,
            },
            enterprise,
            tier: Some(leaf.tier),
            praised_unit,
            risk: None,
        };

        // intake
        let creator = match channel {
            Channel::Phone | Channel::PartnerHotline | Channel::Grid => self.agent(&mut rng),
            _ => self.actor(Role::Citizen, "public".into(), None),
        };
        let number = jiesu_domain::zone::public_number(id, at, crate::calendar::demo_zone());
        let intake = intake
            .check()
            .map_err(|e| anyhow::anyhow!("demo ticket {id}: intake refused: {e}"))?;
        let kind = jiesu_domain::command::create(number, intake);
        let first = Event {
            seq: 1,
            at,
            actor: creator,
            kind,
        };
        let st = TicketState::created(id, &first)?;
        let mut sim = Sim {
            st,
            events: vec![first],
            now: at,
            end: self.end,
            engine: &self.engine,
        };
        let r = match route {
            Route::Praise => self.praise(&mut sim, &mut rng),
            Route::Special => self.special(&mut sim, &mut rng),
            Route::Direct => self.direct(&mut sim, &mut rng, leaf, &dist.name),
            Route::Dispatch => {
                let lead = lead.unwrap_or_else(|| dist.streets[s].code.clone());
                self.dispatch(&mut sim, &mut rng, leaf, lead, d, s)
            }
        };
        match r {
            Ok(()) | Err(Halt::End) => Ok((sim.st, sim.events)),
            Err(Halt::Err(e)) => Err(e),
        }
    }

    fn praise(&self, sim: &mut Sim, rng: &mut Rng) -> Step {
        let agent = self.agent(rng);
        let unit = sim
            .st
            .intake
            .praised_unit
            .as_deref()
            .map(|u| self.unit_name(u).to_string())
            .unwrap_or_default();
        let t = sim.now + mins(rng.lognormal(3.0, 0.4));
        sim.run(
            t,
            &agent,
            Command::Answer {
                answer: format!("感谢您对{unit}工作的肯定，已记录表扬并转达被表扬单位。"),
                article_id: None,
            },
        )?;
        let t = sim.now + Duration::seconds(rng.range(5, 120));
        sim.run(t, &agent, Command::Close { note: None })
    }

    fn special(&self, sim: &mut Sim, rng: &mut Rng) -> Step {
        let agent = self.agent(rng);
        let x = rng.f64();
        let (handling, note) = if x < 0.3 {
            let n = *rng.pick(&["110", "119", "120", "122"]);
            (
                SpecialHandling::EmergencyTransfer,
                format!("诉求涉及紧急情况，已即时转接{n}处置。"),
            )
        } else if x < 0.8 {
            (
                SpecialHandling::LegalRoute,
                "该事项已进入诉讼（信访）程序，已告知诉求人通过法定途径解决。".to_string(),
            )
        } else if x < 0.9 {
            (
                SpecialHandling::PrivateOrSecret,
                "诉求涉及他人隐私，已向诉求人解释不予公开的依据。".to_string(),
            )
        } else {
            (
                SpecialHandling::Persuade,
                "诉求内容违背公序良俗，已对诉求人进行劝导。".to_string(),
            )
        };
        let t = sim.now + mins(rng.lognormal(2.0, 0.5));
        sim.run(t, &agent, Command::SpecialHandle { handling, note })?;
        let t = sim.now + Duration::seconds(rng.range(5, 300));
        sim.run(t, &agent, Command::Close { note: None })
    }

    fn direct(&self, sim: &mut Sim, rng: &mut Rng, leaf: &Leaf, district: &str) -> Step {
        let agent = self.agent(rng);
        let answer = text::sub(
            &text::sub(
                text::ANSWERS[rng.below(text::ANSWERS.len())],
                "{leaf}",
                &leaf.name,
            ),
            "{district}",
            district,
        );
        let t = sim.now + mins(rng.lognormal(4.0, 0.5));
        // the cited article is a shipped one of the leaf's topic (the draw keeps the stream)
        let pick = rng.range(1, 12) as usize;
        sim.run(
            t,
            &agent,
            Command::Answer {
                answer,
                article_id: crate::kb_refs::article_for(&leaf.code, pick),
            },
        )?;
        let t = sim.now + Duration::seconds(rng.range(5, 120));
        sim.run(t, &agent, Command::Close { note: None })
    }

    fn dispatch(
        &self,
        sim: &mut Sim,
        rng: &mut Rng,
        leaf: &Leaf,
        mut lead: String,
        d: usize,
        s: usize,
    ) -> Step {
        let tier = leaf.tier;
        let dispatcher = self.dispatcher(rng);
        let will_return = rng.chance(RETURN_REQUEST);
        let approved = will_return && rng.chance(RETURN_APPROVED);
        let assist = if !will_return && rng.chance(ASSIST) {
            self.assist(&lead, d, s, rng)
        } else {
            None
        };
        // the centre dispatches within minutes (longer at night)
        let night = !(7..22).contains(&local(sim.now).hour());
        let t = sim.now
            + mins(
                rng.lognormal(if night { 25.0 } else { 8.0 }, 0.7)
                    .min(360.0),
            );
        let t = t.max(sim.now + Duration::seconds(1));
        let mut assignments = vec![AssignmentRequest {
            unit: lead.clone(),
            role: AssignmentRole::Lead,
            tier,
            deadlines: sim.deadlines(tier, &lead, t),
        }];
        if let Some(a) = &assist {
            assignments.push(AssignmentRequest {
                unit: a.clone(),
                role: AssignmentRole::Assist,
                tier,
                deadlines: sim.deadlines(tier, a, t),
            });
        }
        let (rule, note) = match self.routing {
            Some((cat, router)) => {
                let facts = jiesu_routing::RouteFacts::from_intake(&sim.st.intake);
                match router.quick_lead(&facts, t) {
                    Some(q) if q.lead == lead => {
                        (cat.rules().get(q.rule_index).map(|r| r.id.clone()), None)
                    }
                    Some(_) => (None, Some("人工改派：按实际职责调整目录建议".to_string())),
                    None => (None, Some("目录无匹配规则，人工派单".to_string())),
                }
            }
            None => (None, None),
        };
        sim.run(
            t,
            &dispatcher,
            Command::Dispatch {
                assignments,
                note,
                rule,
            },
        )?;
        let mut signed = false;
        if will_return {
            let handler = self.handler(&lead, rng);
            if rng.chance(0.6) {
                self.sign(sim, rng, &lead)?;
                signed = true;
            }
            let (alt, reason) = self.alternative(leaf, &lead, d, s, rng);
            let text = match reason {
                ReturnReason::OutsideArea => {
                    format!(
                        "经核实，诉求地址不在本单位辖区，应由{}办理。",
                        self.unit_name(&alt)
                    )
                }
                ReturnReason::MissingInformation => {
                    "诉求人提供的地址信息不全，无法确定具体点位，请核实后重新派单。".to_string()
                }
                ReturnReason::WrongLevel => {
                    format!(
                        "该事项需由行业主管部门处理，建议派至{}。",
                        self.unit_name(&alt)
                    )
                }
                _ => format!(
                    "该事项不属于本单位职责，建议派至{}办理。",
                    self.unit_name(&alt)
                ),
            };
            let t = sim.now + mins(rng.lognormal(90.0, 0.8));
            sim.run(
                t,
                &handler,
                Command::RequestReturn {
                    unit: lead.clone(),
                    reason,
                    text,
                },
            )?;
            let t = sim.now + mins(rng.lognormal(120.0, 0.7));
            let reviewer = self.dispatcher(rng);
            sim.run(
                t,
                &reviewer,
                Command::ReviewReturn {
                    unit: lead.clone(),
                    approve: approved,
                    note: Some(
                        if approved {
                            "退单理由成立，同意退回并改派。"
                        } else {
                            "经审核，该事项属于本单位职责范围，退单理由不成立，请继续办理。"
                        }
                        .to_string(),
                    ),
                },
            )?;
            if approved {
                let t = sim.now + mins(rng.lognormal(15.0, 0.7));
                let t = t.max(sim.now + Duration::seconds(1));
                let dl = sim.deadlines(tier, &alt, t);
                sim.run(
                    t,
                    &reviewer,
                    Command::Dispatch {
                        assignments: vec![AssignmentRequest {
                            unit: alt.clone(),
                            role: AssignmentRole::Lead,
                            tier,
                            deadlines: dl,
                        }],
                        note: Some("退单后改派".to_string()),
                        rule: None,
                    },
                )?;
                lead = alt;
                signed = false;
            }
        }
        self.work(sim, rng, &lead, assist.as_deref(), signed, d, true)?;
        self.callbacks(sim, rng, leaf, &lead)
    }

    fn sign(&self, sim: &mut Sim, rng: &mut Rng, unit: &str) -> Step {
        let a = sim
            .st
            .active_assignment(unit)
            .ok_or_else(|| Halt::Err(anyhow::anyhow!("no assignment for {unit}")))?;
        let q = crate::model::unit_quality(self.seed, unit);
        let t = timed(
            rng,
            a.dispatched_at,
            a.deadlines.sign,
            adj(SIGN_ON_TIME, q, 0.5),
            2.0,
            40.0,
        );
        let h = self.handler(unit, rng);
        sim.run(
            t,
            &h,
            Command::Sign {
                unit: unit.to_string(),
            },
        )
    }

    fn respond(&self, sim: &mut Sim, rng: &mut Rng, unit: &str) -> Step {
        let a = sim
            .st
            .active_assignment(unit)
            .ok_or_else(|| Halt::Err(anyhow::anyhow!("no assignment for {unit}")))?;
        let q = crate::model::unit_quality(self.seed, unit);
        let from = a.signed_at.unwrap_or(sim.now).max(sim.now);
        let t = timed(
            rng,
            from,
            a.deadlines.respond,
            adj(RESPOND_ON_TIME, q, 0.5),
            1.5,
            180.0,
        );
        let h = self.handler(unit, rng);
        sim.run(
            t,
            &h,
            Command::Respond {
                unit: unit.to_string(),
                note: Some("已电话联系诉求人，了解具体情况。".to_string()),
            },
        )
    }

    /// The handling of the lead (and its assist): sign, respond, extras, result.
    #[allow(clippy::too_many_arguments)]
    fn work(
        &self,
        sim: &mut Sim,
        rng: &mut Rng,
        lead: &str,
        assist: Option<&str>,
        signed: bool,
        d: usize,
        extras: bool,
    ) -> Step {
        let q = crate::model::unit_quality(self.seed, lead);
        if !signed {
            self.sign(sim, rng, lead)?;
        }
        if let Some(a) = assist {
            self.sign(sim, rng, a)?;
        }
        let h = self.handler(lead, rng);
        let dist = &self.city.districts[d];
        if extras
            && self.city.unit_type(lead) == 1
            && rng.chance(WHISTLE)
            && !dist.dept_codes.is_empty()
        {
            let n = 1 + rng.below(2);
            let mut summoned: Vec<String> = Vec::new();
            for _ in 0..n {
                let c = rng.pick(&dist.dept_codes).clone();
                if !summoned.contains(&c) {
                    summoned.push(c);
                }
            }
            let t = sim.now + mins(rng.lognormal(30.0, 0.6));
            let deadline = t.max(sim.now + Duration::seconds(1)) + Duration::hours(2);
            sim.run(
                t,
                &h,
                Command::Whistle {
                    unit: lead.to_string(),
                    summoned: summoned.clone(),
                    reason: "问题涉及多个部门职责，需相关部门到场共同处置。".to_string(),
                    report_deadline: deadline,
                },
            )?;
            for u in summoned {
                let t =
                    (sim.now + mins(rng.lognormal(35.0, 0.5))).min(deadline - Duration::seconds(1));
                let hh = self.handler(&u, rng);
                sim.run(t, &hh, Command::Report { unit: u })?;
            }
        }
        self.respond(sim, rng, lead)?;
        if let Some(a) = assist {
            self.respond(sim, rng, a)?;
        }
        if extras && rng.chance(NOTE) {
            let t = sim.now + mins(rng.lognormal(240.0, 1.0));
            sim.run(
                t,
                &h,
                Command::Note {
                    unit: Some(lead.to_string()),
                    text: "已与诉求人取得联系，正在协调相关方处理，请耐心等待。".to_string(),
                    public: true,
                },
            )?;
        }
        if extras && rng.chance(ESCALATE) {
            let t = sim.now + mins(rng.lognormal(600.0, 0.8));
            let level = if rng.chance(0.7) {
                EscalationLevel::District
            } else {
                EscalationLevel::City
            };
            let m = self.handler(lead, rng);
            sim.run(
                t,
                &m,
                Command::Escalate {
                    level,
                    to_unit: None,
                    reason: "问题涉及跨部门、跨区域协调，本级难以解决，提请上级统筹。".to_string(),
                },
            )?;
        }
        let a = sim
            .st
            .active_assignment(lead)
            .ok_or_else(|| Halt::Err(anyhow::anyhow!("no assignment for {lead}")))?;
        let mut finish = a.deadlines.finish;
        let tier = a.tier;
        let mut on_time = adj(FINISH_ON_TIME, q, 0.6);
        if extras && rng.chance(EXTENSION) {
            let span = (finish - sim.now).num_seconds().max(60) as f64;
            let t = sim.now + Duration::seconds((span * (0.4 + 0.5 * rng.f64())) as i64);
            let extra = match tier {
                DeadlineTier::H2 => Duration::hours(6),
                DeadlineTier::H24 => Duration::days(2),
                DeadlineTier::D7 => Duration::days(7),
                DeadlineTier::D15 => Duration::days(15),
            };
            let until = finish.max(t) + extra;
            sim.run(
                t,
                &h,
                Command::RequestExtension {
                    unit: lead.to_string(),
                    until,
                    reason: "问题涉及多方协调，需要更多时间办理。".to_string(),
                },
            )?;
            let approve = rng.chance(EXTENSION_APPROVED);
            let t = sim.now + mins(rng.lognormal(180.0, 0.7));
            let rev = self.dispatcher(rng);
            sim.run(
                t,
                &rev,
                Command::ReviewExtension {
                    unit: lead.to_string(),
                    approve,
                    note: None,
                },
            )?;
            if approve {
                finish = until;
                on_time = on_time.max(0.9);
            } else {
                on_time *= 0.6;
            }
        }
        if let Some(a) = assist {
            let t = timed(rng, sim.now, finish, 0.97, 1.5, 600.0);
            let ha = self.handler(a, rng);
            sim.run(
                t,
                &ha,
                Command::SubmitResult {
                    unit: a.to_string(),
                    text: "已配合主办单位完成相关工作。".to_string(),
                    evidence: vec![],
                },
            )?;
        }
        let t = timed(rng, sim.now, finish, on_time, 2.0, 1440.0);
        let unit_name = self.unit_name(lead);
        let text = text::sub(
            text::RESULTS[rng.below(text::RESULTS.len())],
            "{unit}",
            unit_name,
        );
        sim.run(
            t,
            &h,
            Command::SubmitResult {
                unit: lead.to_string(),
                text,
                evidence: vec![],
            },
        )
    }

    /// Callback(s), reopen and close.
    fn callbacks(&self, sim: &mut Sim, rng: &mut Rng, leaf: &Leaf, lead: &str) -> Step {
        let q = crate::model::unit_quality(self.seed, lead);
        for round in 0..2 {
            let urgent = matches!(leaf.tier, DeadlineTier::H2 | DeadlineTier::H24);
            let delay = rng.lognormal(if urgent { 240.0 } else { 1200.0 }, 0.6);
            let mut t = callback_hours(sim.now + mins(delay.clamp(20.0, 8640.0)), rng);
            let cb = self.callback_agent(rng);
            let mut attempts = 0;
            loop {
                let p = if attempts == 0 { UNREACHABLE } else { 0.3 };
                if !rng.chance(p) {
                    break;
                }
                sim.run(
                    t,
                    &cb,
                    Command::Callback {
                        outcome: CallbackOutcome::Unreachable {
                            note: Some("电话无人接听".to_string()),
                        },
                    },
                )?;
                attempts += 1;
                if attempts >= jiesu_domain::command::MAX_CALLBACK_ATTEMPTS {
                    let t = sim.now + mins(rng.lognormal(30.0, 0.5));
                    return sim.run(
                        t,
                        &cb,
                        Command::Close {
                            note: Some("三次回访未接通，按规定结案。".to_string()),
                        },
                    );
                }
                t = callback_hours(sim.now + mins(rng.lognormal(300.0, 0.6)), rng);
            }
            let contacted = rng.chance(adj(CONTACTED, q, 0.5));
            let p_res = if round == 0 {
                sigmoid(leaf.resolution_logit + UNIT_SPREAD * q)
            } else {
                REOPEN_RESOLVED
            };
            let p_res = if contacted { p_res } else { p_res * 0.4 };
            let resolution = if rng.chance(p_res) {
                Resolution::Resolved
            } else if rng.chance(PARTLY) {
                Resolution::Partly
            } else {
                Resolution::Unresolved
            };
            let p_sat = match resolution {
                Resolution::Resolved => leaf.satisfied_if_resolved,
                Resolution::Partly => (leaf.satisfied_if_not_resolved * 1.25).min(1.0),
                Resolution::Unresolved => leaf.satisfied_if_not_resolved * 0.8,
            };
            let satisfaction = if rng.chance(p_sat) {
                Satisfaction::Satisfied
            } else if rng.chance(0.6) {
                Satisfaction::Basic
            } else {
                Satisfaction::Unsatisfied
            };
            let x = rng.f64();
            let attitude = match satisfaction {
                Satisfaction::Satisfied if x < 0.95 => Attitude::Good,
                Satisfaction::Satisfied => Attitude::Fair,
                Satisfaction::Basic if x < 0.7 => Attitude::Good,
                Satisfaction::Basic if x < 0.95 => Attitude::Fair,
                Satisfaction::Basic => Attitude::Poor,
                _ if x < 0.4 => Attitude::Good,
                _ if x < 0.8 => Attitude::Fair,
                _ => Attitude::Poor,
            };
            let comment = if rng.chance(0.15) {
                Some(
                    if satisfaction == Satisfaction::Satisfied {
                        *rng.pick(&text::COMMENTS_GOOD)
                    } else {
                        *rng.pick(&text::COMMENTS_BAD)
                    }
                    .to_string(),
                )
            } else {
                None
            };
            sim.run(
                t,
                &cb,
                Command::Callback {
                    outcome: CallbackOutcome::Reached {
                        contacted,
                        resolution,
                        satisfaction,
                        attitude: Some(attitude),
                        comment,
                    },
                },
            )?;
            if round == 0
                && contacted
                && resolution == Resolution::Unresolved
                && rng.chance(REOPEN_IF_UNRESOLVED)
            {
                let sup = self.supervisor(rng);
                let t = sim.now + mins(rng.lognormal(180.0, 0.7));
                let t = t.max(sim.now + Duration::seconds(1));
                let dl = sim.deadlines(leaf.tier, lead, t);
                sim.run(
                    t,
                    &sup,
                    Command::Reopen {
                        reason: "回访诉求人反映问题未解决，退回重办。".to_string(),
                        deadlines: vec![(lead.to_string(), dl)],
                    },
                )?;
                self.work(sim, rng, lead, None, false, 0, false)?;
                continue;
            }
            let t = sim.now + mins(rng.lognormal(8.0, 0.8));
            return sim.run(t, &cb, Command::Close { note: None });
        }
        Ok(())
    }
}
