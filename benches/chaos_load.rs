//! The steady load of bench/chaos.sh: voucher claims, check-ins and ratings against a server
//! seeded by `nightmarket bench-chaos-seed`, sent on schedule (open loop) while the script kills
//! and freezes things. Acknowledged writes are written down for the script to look for in the
//! database afterwards:
//!
//! - claims (RATE_CLAIMS/s): each shopper once, under its own Idempotency-Key; an answer that is
//!   not a decision (5xx, no answer) is retried a second later with the same key, as the app does.
//!   Acknowledged (200/201): `request_id seq` in `$OUT/acked-claims.txt`.
//! - check-ins (RATE_CHECKINS/s): each stall once, from the market's centre with the vendor's
//!   token; retried like claims. 201: the code id in `$OUT/acked-checkins.txt`.
//! - ratings (RATE_RATINGS/s): the rating form of a stall that has checked in, five stars and a
//!   unique comment, from a new device and a client address of its own (the server trusts
//!   X-Forwarded-For in this run). Redirected as rated: the comment in `$OUT/acked-ratings.txt`.
//!
//! Every second a line of `$OUT/timeline.txt`: per kind, acknowledged / refused (4xx) /
//! unavailable (5xx) / no answer, and the slowest answer. At the end a summary and one `FIGURES`
//! line; answers slower than SLOW_MS (default 5,000) are counted as hanging.
//!
//!     SEED=chaos.json BASE=http://127.0.0.1:8080 OUT=dir DURATION=100 cargo bench --bench chaos_load

use serde_json::Value;
use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Claim,
    CheckIn,
    Rating,
}

const KINDS: [Kind; 3] = [Kind::Claim, Kind::CheckIn, Kind::Rating];

impl Kind {
    fn index(self) -> usize {
        self as usize
    }
    fn name(self) -> &'static str {
        match self {
            Kind::Claim => "claims",
            Kind::CheckIn => "check-ins",
            Kind::Rating => "ratings",
        }
    }
}

#[derive(Clone, Copy, Default)]
struct Counts {
    acked: u64,
    refused: u64,
    unavailable: u64,
    unavailable_without_retry_after: u64,
    no_answer: u64,
    slowest_ms: u64,
    hanging: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.acked += o.acked;
        self.refused += o.refused;
        self.unavailable += o.unavailable;
        self.unavailable_without_retry_after += o.unavailable_without_retry_after;
        self.no_answer += o.no_answer;
        self.slowest_ms = self.slowest_ms.max(o.slowest_ms);
        self.hanging += o.hanging;
    }
}

enum Outcome {
    Acked(String),
    Refused,
    Unavailable { retry_after: bool },
    NoAnswer,
}

struct Shared {
    second: Mutex<[Counts; 3]>,
    total: Mutex<[Counts; 3]>,
    acked: [Mutex<std::fs::File>; 3],
    checked_in: Mutex<Vec<usize>>,
    retries: Mutex<[VecDeque<(usize, Instant)>; 2]>,
    slow: Duration,
}

impl Shared {
    fn record(&self, kind: Kind, outcome: &Outcome, took: Duration) {
        let mut c = Counts::default();
        match outcome {
            Outcome::Acked(_) => c.acked = 1,
            Outcome::Refused => c.refused = 1,
            Outcome::Unavailable { retry_after } => {
                c.unavailable = 1;
                c.unavailable_without_retry_after = u64::from(!retry_after);
            }
            Outcome::NoAnswer => c.no_answer = 1,
        }
        c.slowest_ms = took.as_millis() as u64;
        c.hanging = u64::from(took >= self.slow);
        if let Ok(mut s) = self.second.lock() {
            s[kind.index()].add(&c);
        }
        if let Ok(mut t) = self.total.lock() {
            t[kind.index()].add(&c);
        }
        if let Outcome::Acked(line) = outcome
            && let Ok(mut f) = self.acked[kind.index()].lock()
        {
            let _ = writeln!(f, "{line}");
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn number(name: &str, default: f64) -> f64 {
    env(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn classify(r: Result<reqwest::Response, reqwest::Error>, ack: impl FnOnce(&Value) -> Option<String>) -> Outcome {
    let Ok(r) = r else { return Outcome::NoAnswer };
    let status = r.status().as_u16();
    let retry_after = r.headers().contains_key("retry-after");
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let Ok(body) = r.bytes().await else {
        return Outcome::NoAnswer;
    };
    match status {
        200..=399 => {
            let mut v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            if let Some(l) = location {
                v = serde_json::json!({ "location": l });
            }
            ack(&v).map(Outcome::Acked).unwrap_or(Outcome::Refused)
        }
        500.. => Outcome::Unavailable { retry_after },
        _ => Outcome::Refused,
    }
}

fn find<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Object(m) => m.get(key).or_else(|| m.values().find_map(|x| find(x, key))),
        _ => None,
    }
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (Some(seed_path), Some(out)) = (env("SEED"), env("OUT")) else {
        eprintln!("SEED (from nightmarket bench-chaos-seed) and OUT (a directory) are required; see bench/chaos.sh");
        std::process::exit(2);
    };
    let seed: Value = match std::fs::read(&seed_path).map(|b| serde_json::from_slice(&b)) {
        Ok(Ok(v)) => v,
        _ => {
            eprintln!("cannot read {seed_path}");
            std::process::exit(2);
        }
    };
    let base = env("BASE").unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let duration = Duration::from_secs_f64(number("DURATION", 100.0));
    let tenant = seed["tenant"].as_str().unwrap_or("chaos").to_string();
    let campaign = seed["campaign"].as_str().unwrap_or_default().to_string();
    let (lat, lng) = (seed["lat"].as_f64().unwrap_or(0.0), seed["lng"].as_f64().unwrap_or(0.0));
    let stalls: Arc<Vec<Value>> = Arc::new(seed["stalls"].as_array().cloned().unwrap_or_default());
    let shoppers: Arc<Vec<String>> = Arc::new(
        seed["shoppers"]
            .as_array()
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
            .unwrap_or_default(),
    );
    let open = |name: &str| match std::fs::File::create(format!("{out}/{name}")) {
        Ok(f) => Mutex::new(f),
        Err(e) => {
            eprintln!("cannot write in {out}: {e}");
            std::process::exit(2);
        }
    };
    let shared = Arc::new(Shared {
        second: Mutex::new([Counts::default(); 3]),
        total: Mutex::new([Counts::default(); 3]),
        acked: [
            open("acked-claims.txt"),
            open("acked-checkins.txt"),
            open("acked-ratings.txt"),
        ],
        checked_in: Mutex::new(Vec::new()),
        retries: Mutex::new([VecDeque::new(), VecDeque::new()]),
        slow: Duration::from_millis(number("SLOW_MS", 5000.0) as u64),
    });
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs_f64(number("TIMEOUT", 30.0)))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("an HTTP client: {e}");
            std::process::exit(2);
        }
    };
    let started = Instant::now();
    let end = started + duration;
    let mut tasks = tokio::task::JoinSet::new();

    // The timeline, once a second.
    let timeline = {
        let shared = shared.clone();
        let out = out.clone();
        tokio::spawn(async move {
            let mut f = std::fs::File::create(format!("{out}/timeline.txt")).ok();
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.tick().await;
            loop {
                tick.tick().await;
                let s = shared
                    .second
                    .lock()
                    .map(|mut s| std::mem::take(&mut *s))
                    .unwrap_or_default();
                let line = KINDS
                    .iter()
                    .map(|k| {
                        let c = s[k.index()];
                        format!(
                            "{} {}/{}/{}/{} max {} ms",
                            k.name(),
                            c.acked,
                            c.refused,
                            c.unavailable,
                            c.no_answer,
                            c.slowest_ms
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" | ");
                if let Some(f) = f.as_mut() {
                    let _ = writeln!(f, "{:>4} s  {line}", started.elapsed().as_secs());
                }
            }
        })
    };

    for kind in KINDS {
        let rate = match kind {
            Kind::Claim => number("RATE_CLAIMS", 100.0),
            Kind::CheckIn => number("RATE_CHECKINS", 10.0),
            Kind::Rating => number("RATE_RATINGS", 30.0),
        };
        if rate <= 0.0 {
            continue;
        }
        let (client, shared, stalls, shoppers) = (client.clone(), shared.clone(), stalls.clone(), shoppers.clone());
        let (base, tenant, campaign) = (base.clone(), tenant.clone(), campaign.clone());
        tasks.spawn(async move {
            let mut next_new = 0usize;
            let mut sent = 0u64;
            let mut inflight = tokio::task::JoinSet::new();
            loop {
                let due = started + Duration::from_secs_f64(sent as f64 / rate);
                if due >= end {
                    break;
                }
                tokio::time::sleep_until(due.into()).await;
                sent += 1;
                while inflight.try_join_next().is_some() {}
                // A failed claim or check-in is retried (same key) once its second has passed.
                let retry = match kind {
                    Kind::Claim | Kind::CheckIn => shared.retries.lock().ok().and_then(|mut q| {
                        let q = &mut q[kind.index()];
                        (q.front().is_some_and(|(_, at)| at.elapsed() >= Duration::from_secs(1)))
                            .then(|| q.pop_front().map(|(i, _)| i))
                            .flatten()
                    }),
                    Kind::Rating => None,
                };
                let i = match (retry, kind) {
                    (Some(i), _) => i,
                    (None, Kind::Claim) if next_new < shoppers.len() => {
                        next_new += 1;
                        next_new - 1
                    }
                    (None, Kind::CheckIn) if next_new < stalls.len() => {
                        next_new += 1;
                        next_new - 1
                    }
                    (None, Kind::Rating) => {
                        let pick = shared
                            .checked_in
                            .lock()
                            .ok()
                            .and_then(|v| (!v.is_empty()).then(|| v[(sent as usize * 7919) % v.len()]));
                        match pick {
                            Some(i) => i,
                            None => continue,
                        }
                    }
                    _ => continue,
                };
                let (client, shared, stalls, shoppers) =
                    (client.clone(), shared.clone(), stalls.clone(), shoppers.clone());
                let (base, tenant, campaign) = (base.clone(), tenant.clone(), campaign.clone());
                inflight.spawn(async move {
                    let asked = Instant::now();
                    let outcome = match kind {
                        Kind::Claim => {
                            let key = format!("chaos-{i}");
                            let r = client
                                .post(format!("{base}/api/v1/t/{tenant}/campaigns/{campaign}/claims"))
                                .bearer_auth(&shoppers[i])
                                .header("Idempotency-Key", &key)
                                .send()
                                .await;
                            classify(r, |v| {
                                let seq = find(v, "seq")?.as_i64()?;
                                let id = find(v, "request_id")?.as_str()?.to_string();
                                Some(format!("{id} {seq}"))
                            })
                            .await
                        }
                        Kind::CheckIn => {
                            let code = stalls[i]["code"].as_str().unwrap_or_default().to_string();
                            let r = client
                                .post(format!("{base}/api/v1/t/{tenant}/codes/{code}/check-in"))
                                .bearer_auth(stalls[i]["vendor_token"].as_str().unwrap_or_default())
                                .json(&serde_json::json!({"lat": lat, "lng": lng, "accuracy_m": 10.0}))
                                .send()
                                .await;
                            let outcome = classify(r, |_| Some(code.clone())).await;
                            if matches!(outcome, Outcome::Acked(_))
                                && let Ok(mut v) = shared.checked_in.lock()
                            {
                                v.push(i);
                            }
                            outcome
                        }
                        Kind::Rating => {
                            let path = stalls[i]["path"].as_str().unwrap_or_default();
                            let (page, query) = path.split_once('?').unwrap_or((path, ""));
                            let comment = format!("chaos-rating-{i}-{sent}");
                            let r = client
                                .post(format!("{base}{page}/rate?{query}"))
                                .header("Origin", &base)
                                .header(
                                    "X-Forwarded-For",
                                    format!("10.{}.{}.{}", sent % 251, (sent / 251) % 251, i % 251),
                                )
                                .form(&[("stars", "5"), ("comment", comment.as_str())])
                                .send()
                                .await;
                            classify(r, |v| {
                                v["location"]
                                    .as_str()
                                    .filter(|l| l.contains("done=rated"))
                                    .map(|_| comment.clone())
                            })
                            .await
                        }
                    };
                    let took = asked.elapsed();
                    if matches!(outcome, Outcome::Unavailable { .. } | Outcome::NoAnswer)
                        && kind != Kind::Rating
                        && let Ok(mut q) = shared.retries.lock()
                    {
                        q[kind.index()].push_back((i, Instant::now()));
                    }
                    shared.record(kind, &outcome, took);
                });
            }
            while inflight.join_next().await.is_some() {}
        });
    }
    while tasks.join_next().await.is_some() {}
    tokio::time::sleep(Duration::from_millis(1100)).await;
    timeline.abort();

    let total = shared.total.lock().map(|t| *t).unwrap_or_default();
    let mut all = Counts::default();
    println!("{:.0} s of load", duration.as_secs_f64());
    for k in KINDS {
        let c = total[k.index()];
        all.add(&c);
        println!(
            "  {:<10} acknowledged {:>6}  refused {:>5}  unavailable (5xx) {:>5}  no answer {:>5}  slowest {:>6} ms  hanging (≥ {} ms) {}",
            k.name(),
            c.acked,
            c.refused,
            c.unavailable,
            c.no_answer,
            c.slowest_ms,
            shared.slow.as_millis(),
            c.hanging
        );
    }
    println!(
        "FIGURES claims_acked={} checkins_acked={} ratings_acked={} unavailable={} unavailable_no_retry_after={} no_answer={} slowest_ms={} hanging={}",
        total[0].acked,
        total[1].acked,
        total[2].acked,
        all.unavailable,
        all.unavailable_without_retry_after,
        all.no_answer,
        all.slowest_ms,
        all.hanging
    );
}
