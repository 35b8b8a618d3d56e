//! A fake Recruiterflow API on 127.0.0.1:0 (axum), built from the reference payloads in
//! `tests/fixtures/recruiterflow/`: the open-job list in pages (both `include_count`
//! body shapes), single jobs with company and stages, pipelines, stage movements,
//! placements, users (changeable) and counts; the job custom-field list (changeable) and
//! job updates, each recorded (job, fields, headers) and applied to what the job reports
//! as Recruiterflow shows it (a select by its choice's name). Faults can be queued per
//! path: 429 with `Retry-After`, 500s, slow answers, answers held until the test lets
//! them go, malformed bodies, HTML error pages, wrong shapes, 401, redirects; a deleted
//! job answers 404, to updates too.
//! Shared by the integration tests and the benchmark (`#[path]`).

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

/// The API key the fake accepts.
pub const API_KEY: &str = "rf-test-key-5b1f0c9e7d";

const JOB_LIST: &str = include_str!("../fixtures/recruiterflow/job-list.json");
const JOB: &str = include_str!("../fixtures/recruiterflow/job.json");
const PIPELINE: &str = include_str!("../fixtures/recruiterflow/job-pipeline.json");
const MOVEMENTS: &str = include_str!("../fixtures/recruiterflow/stage-movements.json");
const PLACEMENTS: &str = include_str!("../fixtures/recruiterflow/placement-records.json");
const USERS: &str = include_str!("../fixtures/recruiterflow/users.json");
const STAGE_NAMES: &str = include_str!("../fixtures/recruiterflow/stage-names.json");
const CUSTOM_FIELDS: &str = include_str!("../fixtures/recruiterflow/job-custom-fields.json");
const JOB_UPDATE: &str = include_str!("../fixtures/recruiterflow/job-update.json");

/// Where jobs are updated.
pub const UPDATE_PATH: &str = "/api/external/job/update";
/// Where the job custom fields are listed.
pub const CUSTOM_FIELD_PATH: &str = "/api/external/job/custom-field/list";

/// A reference payload, parsed once.
fn template(which: &'static str) -> &'static Value {
    static CACHE: OnceLock<Mutex<HashMap<&'static str, &'static Value>>> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap();
    cache.entry(which).or_insert_with(|| {
        let text = match which {
            "job-list" => JOB_LIST,
            "job" => JOB,
            "pipeline" => PIPELINE,
            "movements" => MOVEMENTS,
            "placements" => PLACEMENTS,
            "users" => USERS,
            "custom-fields" => CUSTOM_FIELDS,
            "job-update" => JOB_UPDATE,
            _ => STAGE_NAMES,
        };
        Box::leak(Box::new(serde_json::from_str(text).unwrap()))
    })
}

/// A misbehaviour for the next request to a given path.
#[derive(Debug, Clone)]
pub enum Fault {
    /// 429 with `Retry-After: secs`.
    RateLimited { retry_after_secs: u64 },
    /// 500 with a JSON error.
    ServerError,
    /// 502 with an HTML page, as a proxy in front of the API would send.
    HtmlBadGateway,
    /// 200 with an HTML page (a login or maintenance page).
    Html,
    /// 200 with a body that is not JSON.
    Malformed,
    /// 200 with JSON of the wrong shape.
    WrongShape,
    /// 401 as for a bad key.
    Unauthorized,
    /// Answers normally after this long.
    Slow(Duration),
    /// 307 Temporary Redirect to this URL (the query kept).
    Redirect(String),
    /// Answers normally once the test notifies (the request is recorded as seen first):
    /// a request held in flight.
    Held(Arc<tokio::sync::Notify>),
}

/// One job of the fake agency.
#[derive(Debug, Clone)]
pub struct FakeJob {
    pub id: i64,
    pub title: String,
    pub company: String,
    pub is_open: bool,
    pub fee: Option<(&'static str, Value)>,
    pub last_opened: Option<String>,
    pub status: String,
    /// Candidates per stage name: (candidate id, days in the stage).
    pub candidates: Vec<(i64, &'static str, i64)>,
    /// Appended to every stage name and hiring-team member's name this job's answers
    /// carry (for tests of text Recruiterflow sends with control characters).
    pub name_noise: String,
    /// Custom field values this job reports beside the reference job's, by field id,
    /// each as `{"id", "name", "value"}`; a null value leaves the field out (as
    /// Recruiterflow does for a field without a value), the reference's too.
    pub custom_values: BTreeMap<i64, Value>,
}

/// Everything the fake serves, changeable by tests while it runs.
pub struct FakeState {
    pub jobs: BTreeMap<i64, FakeJob>,
    /// Honour `include_count` (the counted body shape); otherwise always bare arrays.
    pub counted: bool,
    /// Added to the reported `total_items` (simulates a list changing while paged).
    pub total_skew: i64,
    /// Answer every page as page 1 (a server that ignores `current_page`).
    pub ignore_paging: bool,
    faults: VecDeque<(String, Fault)>,
    /// Delay per path, taken after the answer's content is fixed (a stale answer).
    pub delays: HashMap<String, Duration>,
    /// Every request, as path?query.
    pub requests: Vec<String>,
    pub placements: Vec<Value>,
    /// The account's users (`/api/external/user/list`), the reference ones at start.
    pub users: Vec<Value>,
    /// The job custom fields (`/api/external/job/custom-field/list`), the reference ones
    /// at start.
    pub custom_fields: Vec<Value>,
    /// Every request to the job update endpoint, faulted ones included, in order.
    pub updates: Vec<RecordedUpdate>,
}

/// One request to `POST /api/external/job/update` as the fake received it.
#[derive(Debug, Clone)]
pub struct RecordedUpdate {
    pub method: Method,
    /// `job_id` from the body, when readable.
    pub job_id: Option<i64>,
    /// `custom_fields` from the body: (field id, value) in order.
    pub fields: Vec<(i64, Value)>,
    pub headers: HeaderMap,
    /// The body as JSON (null when it was not JSON).
    pub body: Value,
    /// The status the fake answered.
    pub status: u16,
    /// When it arrived.
    pub at: Instant,
}

/// A running fake Recruiterflow.
#[derive(Clone)]
pub struct FakeRecruiterflow {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<FakeState>>,
}

const STAGES: [&str; 7] = [
    "Sourced",
    "Applied",
    "Company Submission",
    "On-site Interview",
    "Disqualified",
    "Offer",
    "Hired",
];

impl FakeJob {
    /// A job like the reference one, with its own id, title and client.
    pub fn new(id: i64, title: &str, company: &str) -> FakeJob {
        FakeJob {
            id,
            title: title.to_string(),
            company: company.to_string(),
            is_open: true,
            fee: Some(("GBP", json!(25_000 + (id % 7) * 5_000))),
            last_opened: Some(
                (Utc::now() - chrono::Duration::days(10 + id % 50))
                    .format("%Y-%m-%dT%H:%M:%S+05:30")
                    .to_string(),
            ),
            status: "Active search".into(),
            candidates: vec![
                (id * 10 + 1, "Sourced", 12),
                (id * 10 + 2, "Sourced", 4),
                (id * 10 + 3, "Company Submission", 9),
            ],
            name_noise: String::new(),
            custom_values: BTreeMap::new(),
        }
    }

    fn single(&self) -> Value {
        let mut v = template("job").clone();
        self.fill(&mut v);
        v["company"] = json!({"id": self.id + 1000, "name": self.company, "img_link": null});
        v["stages"] = Value::Array(
            STAGES
                .iter()
                .enumerate()
                .map(|(i, s)| json!({"id": i + 1, "name": format!("{s}{}", self.name_noise), "rank": i}))
                .collect(),
        );
        if let Some(team) = v["hiring_team"].as_array_mut() {
            for m in team {
                if let Some(name) = m["name"].as_str() {
                    m["name"] = json!(format!("{name}{}", self.name_noise));
                }
            }
        }
        v
    }

    fn listed(&self) -> Value {
        let mut v = template("job-list")[0].clone();
        self.fill(&mut v);
        v
    }

    fn fill(&self, v: &mut Value) {
        v["id"] = json!(self.id);
        v["title"] = json!(self.title);
        v["name"] = json!(self.title);
        v["is_open"] = json!(self.is_open);
        v["job_status"] = json!({"id": 1, "name": self.status, "color": "#FF0000"});
        v["last_opened"] = match &self.last_opened {
            Some(t) => json!(t),
            None => Value::Null,
        };
        match &self.fee {
            Some((cur, n)) => v["expected_fee"] = json!({"currency": cur, "number": n}),
            None => {
                if let Some(o) = v.as_object_mut() {
                    o.remove("expected_fee");
                }
            }
        }
        v["about_position"] = json!(format!("<p>{} at {}</p>", self.title, self.company));
        if let Some(fields) = v["custom_fields"].as_array_mut() {
            fields.retain(|f| {
                f["id"]
                    .as_i64()
                    .is_none_or(|id| !self.custom_values.contains_key(&id))
            });
            fields.extend(
                self.custom_values
                    .values()
                    .filter(|f| !f["value"].is_null())
                    .cloned(),
            );
        }
    }

    fn pipeline(&self) -> Value {
        let mut v = template("pipeline").clone();
        let summary = v["summary"].as_array_mut().unwrap();
        for s in summary.iter_mut() {
            let name = s["name"].as_str().unwrap().to_string();
            let n = self.candidates.iter().filter(|c| c.1 == name).count();
            // Counts arrive as strings now and then.
            s["count"] = if n == 1 {
                json!(n.to_string())
            } else {
                json!(n)
            };
        }
        v["detail"] = Value::Array(
            STAGES
                .iter()
                .enumerate()
                .map(|(i, stage)| {
                    let cands: Vec<Value> = self
                        .candidates
                        .iter()
                        .filter(|c| c.1 == *stage)
                        .map(|c| {
                            let mut v = json!({"id": c.0, "name": format!("Candidate {}", c.0)});
                            // Candidate ids ending in 1 come without `stage_moved`:
                            // jobrank reads their stage movements instead.
                            if c.0 % 10 != 1 {
                                v["stage_moved"] = json!(
                                    (Utc::now() - chrono::Duration::days(c.2))
                                        .format("%Y-%m-%dT%H:%M:%S+0000")
                                        .to_string()
                                );
                            }
                            v
                        })
                        .collect();
                    json!({"id": i + 1, "name": format!("{stage}{}", self.name_noise), "candidates": cands})
                })
                .collect(),
        );
        if !self.name_noise.is_empty() {
            for s in summary_names_mut(&mut v) {
                *s = json!(format!(
                    "{}{}",
                    s.as_str().unwrap_or_default(),
                    self.name_noise
                ));
            }
        }
        v
    }
}

/// The `name` of each stage in a pipeline's summary.
fn summary_names_mut(v: &mut Value) -> Vec<&mut Value> {
    v["summary"]
        .as_array_mut()
        .map(|a| a.iter_mut().map(|s| &mut s["name"]).collect())
        .unwrap_or_default()
}

fn movements_for(state: &FakeState, candidate: i64) -> Option<Value> {
    let mut v = template("movements").clone();
    let template = v["data"]["jobs"][1].clone();
    let mut jobs = Vec::new();
    for j in state.jobs.values() {
        for (cid, stage, days) in &j.candidates {
            if *cid != candidate {
                continue;
            }
            let entered = (Utc::now() - chrono::Duration::days(*days))
                .format("%Y-%m-%dT%H:%M:%S+0000")
                .to_string();
            let earlier = (Utc::now() - chrono::Duration::days(*days + 3))
                .format("%Y-%m-%dT%H:%M:%S+0000")
                .to_string();
            let mut jv = template.clone();
            jv["id"] = json!(j.id);
            jv["name"] = json!(j.title);
            let mut first = template["transitions"][0].clone();
            first["to"] = json!("Sourced");
            first["entered"] = json!(earlier);
            first["left"] = json!(entered);
            let mut now = template["transitions"][3].clone();
            now["from"] = json!("Sourced");
            now["to"] = json!(stage);
            now["entered"] = json!(entered);
            now["left"] = Value::Null;
            jv["transitions"] = if *stage == "Sourced" {
                now["from"] = Value::Null;
                json!([now])
            } else {
                json!([first, now])
            };
            jobs.push(jv);
        }
    }
    if jobs.is_empty() {
        return None;
    }
    v["data"]["id"] = json!(candidate.to_string());
    v["data"]["name"] = json!(format!("Candidate {candidate}"));
    v["data"]["jobs"] = Value::Array(jobs);
    Some(v)
}

impl FakeRecruiterflow {
    /// Starts an empty fake agency on 127.0.0.1:0.
    pub async fn start() -> FakeRecruiterflow {
        let placements = template("placements");
        let state = Arc::new(Mutex::new(FakeState {
            jobs: BTreeMap::new(),
            counted: true,
            total_skew: 0,
            ignore_paging: false,
            faults: VecDeque::new(),
            delays: HashMap::new(),
            requests: Vec::new(),
            placements: placements["data"].as_array().unwrap().clone(),
            users: template("users")["data"].as_array().unwrap().clone(),
            custom_fields: template("custom-fields")["data"]
                .as_array()
                .unwrap()
                .clone(),
            updates: Vec::new(),
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().fallback(handle).with_state(state.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeRecruiterflow { addr, state }
    }

    /// Starts a fake agency with `n` open jobs (ids 1..=n) at a dozen clients.
    pub async fn with_jobs(n: i64) -> FakeRecruiterflow {
        let fake = FakeRecruiterflow::start().await;
        {
            let mut s = fake.state.lock().unwrap();
            for id in 1..=n {
                let job = FakeJob::new(
                    id,
                    &format!("Role {id}"),
                    &format!("Client {}", (id - 1) % 12 + 1),
                );
                s.jobs.insert(id, job);
            }
            // The reference placement, moved onto job 1.
            if let Some(p) = s.placements.first_mut() {
                p["job"]["id"] = json!(1);
            }
        }
        fake
    }

    /// The base URL to give jobrank (RECRUITERFLOW_BASE_URL).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Changes a job in place.
    pub fn edit_job(&self, id: i64, f: impl FnOnce(&mut FakeJob)) {
        let mut s = self.state.lock().unwrap();
        f(s.jobs.get_mut(&id).expect("no such fake job"));
    }

    /// Adds or replaces a job.
    pub fn put_job(&self, job: FakeJob) {
        self.state.lock().unwrap().jobs.insert(job.id, job);
    }

    /// Deletes a job (the API answers 404 for it afterwards).
    pub fn remove_job(&self, id: i64) {
        self.state.lock().unwrap().jobs.remove(&id);
    }

    /// Queues a fault for the next request to `path` (exactly, without the query).
    pub fn push_fault(&self, path: &str, fault: Fault) {
        self.state
            .lock()
            .unwrap()
            .faults
            .push_back((path.to_string(), fault));
    }

    /// Queues the same fault `n` times.
    pub fn push_faults(&self, path: &str, fault: Fault, n: usize) {
        for _ in 0..n {
            self.push_fault(path, fault.clone());
        }
    }

    /// Forgets queued faults.
    pub fn clear_faults(&self) {
        self.state.lock().unwrap().faults.clear();
    }

    /// Requests seen so far (path?query).
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().requests.clone()
    }

    /// How many requests fetched the single job `id`.
    pub fn job_fetches(&self, id: i64) -> usize {
        let want = format!("/api/external/job?job_id={id}&");
        self.requests()
            .iter()
            .filter(|r| r.starts_with(&want))
            .count()
    }

    /// Delays answers to `path` by `d`, after their content is fixed.
    pub fn set_delay(&self, path: &str, d: Duration) {
        self.state
            .lock()
            .unwrap()
            .delays
            .insert(path.to_string(), d);
    }

    /// Adds or replaces a user, shaped like the reference ones.
    pub fn put_user(&self, id: i64, name: &str, email: &str) {
        let mut u = template("users")["data"][0].clone();
        let (first, last) = name.split_once(' ').unwrap_or((name, ""));
        u["id"] = json!(id);
        u["name"] = json!(name);
        u["first_name"] = json!(first);
        u["last_name"] = json!(last);
        u["email"] = json!(email);
        let mut s = self.state.lock().unwrap();
        s.users.retain(|v| v["id"].as_i64() != Some(id));
        s.users.push(u);
    }

    /// Removes a user from the account.
    pub fn remove_user(&self, id: i64) {
        self.state
            .lock()
            .unwrap()
            .users
            .retain(|v| v["id"].as_i64() != Some(id));
    }

    /// The reference job's hiring-team member (name, email, user id).
    pub fn hiring_team_member() -> (String, String, i64) {
        let m = &template("job")["hiring_team"][0];
        (
            m["name"].as_str().unwrap().to_string(),
            m["email"].as_str().unwrap().to_string(),
            m["user_id"].as_i64().unwrap(),
        )
    }

    pub fn set_counted(&self, counted: bool) {
        self.state.lock().unwrap().counted = counted;
    }

    /// Replaces the job custom-field list.
    pub fn set_custom_fields(&self, fields: Vec<Value>) {
        self.state.lock().unwrap().custom_fields = fields;
    }

    /// Adds a job custom field, or replaces the one with its id.
    pub fn put_custom_field(&self, field: Value) {
        let mut s = self.state.lock().unwrap();
        s.custom_fields.retain(|f| f["id"] != field["id"]);
        s.custom_fields.push(field);
    }

    /// Every update request so far.
    pub fn updates(&self) -> Vec<RecordedUpdate> {
        self.state.lock().unwrap().updates.clone()
    }

    /// What job `job_id` reports for field `field_id` (None: no value shown).
    pub fn reported_field(&self, job_id: i64, field_id: i64) -> Option<Value> {
        let s = self.state.lock().unwrap();
        let job = s.jobs.get(&job_id)?.single();
        job["custom_fields"]
            .as_array()?
            .iter()
            .find(|f| f["id"].as_i64() == Some(field_id))
            .map(|f| f["value"].clone())
    }

    /// Sets what job `job_id` reports for a field, as someone editing the job in
    /// Recruiterflow would (null: no value).
    pub fn set_reported_field(&self, job_id: i64, field_id: i64, value: Value) {
        let mut s = self.state.lock().unwrap();
        let name = s
            .custom_fields
            .iter()
            .find(|f| f["id"].as_i64() == Some(field_id))
            .and_then(|f| f["name"].as_str())
            .unwrap_or("Field")
            .to_string();
        let job = s.jobs.get_mut(&job_id).expect("no such fake job");
        job.custom_values.insert(
            field_id,
            json!({"id": field_id, "name": name, "value": value}),
        );
    }
}

/// A single-select job custom field shaped like the reference "Status" field, with
/// these choices (id, name).
pub fn select_field(id: i64, name: &str, choices: &[(i64, &str)]) -> Value {
    let mut f = reference_field("single_select");
    f["id"] = json!(id);
    f["name"] = json!(name);
    f["choices"] = Value::Array(
        choices
            .iter()
            .map(|(id, name)| {
                let mut c = f["choices"][0].clone();
                c["id"] = json!(id);
                c["name"] = json!(name);
                c
            })
            .collect(),
    );
    f
}

/// A job custom field of `field_type` (`number`, `long_text`, `date`, `yes_no`, or any
/// other type name) shaped like the reference ones.
pub fn typed_field(id: i64, name: &str, field_type: &str) -> Value {
    let mut f = reference_field(match field_type {
        "number" | "date" | "yes_no" => field_type,
        _ => "long_text",
    });
    f["id"] = json!(id);
    f["name"] = json!(name);
    f["type"] = json!(field_type);
    f
}

/// The reference list's field of this type.
fn reference_field(field_type: &str) -> Value {
    template("custom-fields")["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["type"] == field_type)
        .cloned()
        .unwrap()
}

fn json_response(status: StatusCode, v: Value) -> Response {
    (status, axum::Json(v)).into_response()
}

fn not_found(what: &str) -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        json!({"error": format!("{what} not found")}),
    )
}

fn html(status: StatusCode) -> Response {
    (
        status,
        [("content-type", "text/html; charset=utf-8")],
        "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>",
    )
        .into_response()
}

fn num(q: &HashMap<String, String>, k: &str, default: usize) -> usize {
    q.get(k).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn truthy(q: &HashMap<String, String>, k: &str) -> bool {
    q.get(k)
        .is_some_and(|v| matches!(v.as_str(), "1" | "true" | "True"))
}

async fn handle(
    State(state): State<Arc<Mutex<FakeState>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    if uri.path() != UPDATE_PATH {
        return respond(state, method, uri, headers, q, body).await;
    }
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut update = RecordedUpdate {
        method: method.clone(),
        job_id: json.get("job_id").and_then(Value::as_i64),
        fields: json["custom_fields"]
            .as_array()
            .map(|fields| {
                fields
                    .iter()
                    .map(|f| (f["id"].as_i64().unwrap_or(-1), f["value"].clone()))
                    .collect()
            })
            .unwrap_or_default(),
        headers: headers.clone(),
        body: json,
        status: 0,
        at: Instant::now(),
    };
    let resp = respond(state.clone(), method, uri, headers, q, body).await;
    update.status = resp.status().as_u16();
    state.lock().unwrap().updates.push(update);
    resp
}

async fn respond(
    state: Arc<Mutex<FakeState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    q: HashMap<String, String>,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let fault = {
        let mut s = state.lock().unwrap();
        s.requests
            .push(format!("{}?{}", path, uri.query().unwrap_or_default()));
        let pos = s.faults.iter().position(|(p, _)| path == *p);
        pos.and_then(|i| s.faults.remove(i)).map(|(_, f)| f)
    };
    match fault {
        Some(Fault::RateLimited { retry_after_secs }) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", retry_after_secs.to_string())],
                axum::Json(json!({"error": "Too many requests"})),
            )
                .into_response();
        }
        Some(Fault::ServerError) => {
            return json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "Internal Server Error"}),
            );
        }
        Some(Fault::HtmlBadGateway) => return html(StatusCode::BAD_GATEWAY),
        Some(Fault::Html) => return html(StatusCode::OK),
        Some(Fault::Malformed) => {
            return (
                StatusCode::OK,
                [("content-type", "application/json")],
                "{\"data\": [{\"id\": 1, \"title\": ",
            )
                .into_response();
        }
        Some(Fault::WrongShape) => {
            return json_response(StatusCode::OK, json!({"result": "ok", "items": 3}));
        }
        Some(Fault::Unauthorized) => {
            return json_response(
                StatusCode::UNAUTHORIZED,
                json!({"error": "Invalid API key"}),
            );
        }
        Some(Fault::Slow(d)) => tokio::time::sleep(d).await,
        Some(Fault::Held(release)) => release.notified().await,
        Some(Fault::Redirect(to)) => {
            let location = match uri.query() {
                Some(q) => format!("{to}?{q}"),
                None => to,
            };
            return (StatusCode::TEMPORARY_REDIRECT, [("location", location)], "").into_response();
        }
        None => {}
    }
    if headers.get("rf-api-key").and_then(|v| v.to_str().ok()) != Some(API_KEY) {
        return json_response(
            StatusCode::UNAUTHORIZED,
            json!({"error": "Invalid API key"}),
        );
    }
    if path == UPDATE_PATH {
        if method != Method::POST {
            return json_response(
                StatusCode::METHOD_NOT_ALLOWED,
                json!({"error": "Method Not Allowed"}),
            );
        }
        return update_job(&mut state.lock().unwrap(), &body);
    }
    let (body, delay) = {
        let s = state.lock().unwrap();
        let body = answer(&s, &path, &q);
        let delay = s.delays.get(&path).copied().unwrap_or_default();
        (body, delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    body
}

fn paged(s: &FakeState, items: Vec<Value>, q: &HashMap<String, String>, extra: Value) -> Response {
    let per = num(q, "items_per_page", 10).max(1);
    let page = num(q, "current_page", 1).max(1);
    let total = items.len();
    let slice: Vec<Value> = items.into_iter().skip((page - 1) * per).take(per).collect();
    paged_slice(s, slice, total, q, extra)
}

/// A page already cut from a list of `total` items.
fn paged_slice(
    s: &FakeState,
    slice: Vec<Value>,
    total: usize,
    q: &HashMap<String, String>,
    extra: Value,
) -> Response {
    if s.counted && truthy(q, "include_count") {
        let mut body = json!({"data": slice, "total_items": total as i64 + s.total_skew});
        if let (Some(o), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        json_response(StatusCode::OK, body)
    } else {
        json_response(StatusCode::OK, Value::Array(slice))
    }
}

fn answer(s: &FakeState, path: &str, q: &HashMap<String, String>) -> Response {
    let job_param = || q.get("job_id").and_then(|v| v.parse::<i64>().ok());
    match path {
        "/api/external/job/list" => {
            let only_open = truthy(q, "only_open");
            let listed: Vec<&FakeJob> = s
                .jobs
                .values()
                .filter(|j| !only_open || j.is_open)
                .collect();
            let openings = listed.len();
            let per = num(q, "items_per_page", 10).max(1);
            let page = if s.ignore_paging {
                1
            } else {
                num(q, "current_page", 1).max(1)
            };
            let items: Vec<Value> = listed
                .iter()
                .skip((page - 1) * per)
                .take(per)
                .map(|j| j.listed())
                .collect();
            paged_slice(
                s,
                items,
                openings,
                q,
                json!({"total_current_openings": openings}),
            )
        }
        "/api/external/job" => match job_param().and_then(|id| s.jobs.get(&id)) {
            Some(j) => json_response(StatusCode::OK, j.single()),
            None => not_found("job"),
        },
        "/api/external/job/pipeline" => match job_param().and_then(|id| s.jobs.get(&id)) {
            Some(j) => json_response(StatusCode::OK, j.pipeline()),
            None => not_found("job"),
        },
        "/api/external/job/count" => {
            let n = s.jobs.values().filter(|j| j.is_open).count();
            json_response(StatusCode::OK, json!({"count": n}))
        }
        "/api/external/job/stage_names" => {
            json_response(StatusCode::OK, template("stage-names").clone())
        }
        "/api/external/user/list" => paged(s, s.users.clone(), q, json!({})),
        "/api/external/candidate/activities/stage-movement/list" => {
            match q
                .get("id")
                .and_then(|v| v.parse::<i64>().ok())
                .and_then(|c| movements_for(s, c))
            {
                Some(v) => json_response(StatusCode::OK, v),
                None => not_found("candidate"),
            }
        }
        "/api/external/placement-record/list" => paged(s, s.placements.clone(), q, json!({})),
        CUSTOM_FIELD_PATH => paged(s, s.custom_fields.clone(), q, json!({})),
        "/api/external/job/placement-record/list" => {
            let id = job_param();
            let items = s
                .placements
                .iter()
                .filter(|p| p["job"]["id"].as_i64() == id)
                .cloned()
                .collect();
            paged(s, items, q, json!({}))
        }
        _ => not_found("endpoint"),
    }
}

fn bad_request(why: String) -> Response {
    json_response(StatusCode::BAD_REQUEST, json!({"error": why}))
}

/// `POST /api/external/job/update` with custom fields: checks each value against its
/// field's type (a select takes a choice id, a number a number, a text field a string,
/// any of them null to clear it), then shows the values on the job as Recruiterflow
/// reports them (a select by the choice's name, a cleared field not at all). Nothing
/// changes unless every value is acceptable.
fn update_job(s: &mut FakeState, body: &[u8]) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return bad_request("the body is not JSON".into());
    };
    let Some(job_id) = body.get("job_id").and_then(Value::as_i64) else {
        return bad_request("job_id is required".into());
    };
    if !s.jobs.contains_key(&job_id) {
        return not_found("job");
    }
    let Some(values) = body.get("custom_fields").and_then(Value::as_array) else {
        return bad_request("custom_fields must be a list".into());
    };
    let mut shown = Vec::new();
    for v in values {
        let id = v["id"].as_i64();
        let Some(field) = s
            .custom_fields
            .iter()
            .find(|f| id.is_some() && f["id"].as_i64() == id)
        else {
            return bad_request(format!("custom field {} not found", v["id"]));
        };
        let value = &v["value"];
        let reported = match field["type"].as_str().unwrap_or_default() {
            // null clears a field of any type: the job then leaves it out.
            _ if value.is_null() => Value::Null,
            "single_select" => {
                let choice = field["choices"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|c| value.as_i64().is_some() && c["id"].as_i64() == value.as_i64());
                match choice {
                    Some(c) => c["name"].clone(),
                    None => {
                        return bad_request(format!(
                            "{value} is not a choice of field {}",
                            field["id"]
                        ));
                    }
                }
            }
            "number" if !value.is_number() => {
                return bad_request(format!("field {} takes a number", field["id"]));
            }
            t if t.contains("text") && !value.is_string() => {
                return bad_request(format!("field {} takes text", field["id"]));
            }
            _ => value.clone(),
        };
        shown.push(json!({"id": field["id"], "name": field["name"], "value": reported}));
    }
    let job = s.jobs.get_mut(&job_id).expect("checked above");
    for f in shown {
        job.custom_values
            .insert(f["id"].as_i64().unwrap_or_default(), f);
    }
    json_response(StatusCode::OK, template("job-update").clone())
}

/// Now as Recruiterflow writes it with a colon offset (for edits in tests).
pub fn rf_now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, false)
}
