//! The night's load, for bench/night.sh and bench/chaos.sh: what a market's evening sends, against
//! a server seeded by `nightmarket bench-chaos-seed`, on schedule (open loop: a slow server is not
//! flattered by the generator waiting for it; latencies count from when a request was due).
//! Acknowledged writes are written down for the script to look for in the database afterwards:
//!
//! - claims (RATE_CLAIMS/s): each shopper once, under its own Idempotency-Key; an answer that is
//!   not a decision (5xx, no answer) is retried a second later with the same key, as the app does.
//!   Acknowledged (200/201): `request_id seq` in `$OUT/acked-claims.txt`.
//! - check-ins (RATE_CHECKINS/s): each stall once, in order, from the market's centre with the
//!   vendor's token; retried like claims. 201: the code id in `$OUT/acked-checkins.txt`.
//! - ratings (RATE_RATINGS/s): a new device opens the rating form of a stall that has checked in
//!   (which hands it its ticket), then posts five stars and a unique comment, from a client
//!   address of its own (the server trusts X-Forwarded-For in these runs). Redirected as rated or
//!   held for screening (both are kept): the comment in `$OUT/acked-ratings.txt`.
//! - complaints (RATE_COMPLAINTS/s): an anonymous complaint from the scan page of a stall that has
//!   checked in. Redirected to its tracking page: the tracking number in `acked-complaints.txt`.
//! - redemptions (RATE_REDEMPTIONS/s): a shopper whose claim was acknowledged pays a 60-yuan bill
//!   with the voucher at one of the first REDEEM_STALLS stalls (default 1,000) that have checked
//!   in; retried like claims. 201: the Idempotency-Key in `acked-redemptions.txt`.
//! - scans (RATE_SCANS/s): a stall's scan page, from a new device each time.
//!
//! STEPS (default "1") multiplies every rate in turn, each for STEP_SECS (default DURATION / the
//! number of steps): `STEPS="1 2 4 8" STEP_SECS=20` ramps the whole night's load up, after
//! WARMUP_SECS (default 0) at the first step's rates that are not measured. Per step and
//! kind it prints what was sent, acknowledged, refused and unavailable, and p50/p99 over every
//! answer; then the first step at which a write's p99 passed 100 ms.
//!
//! Every second a line of `$OUT/timeline.txt`: per kind, acknowledged / refused (4xx) /
//! unavailable (5xx) / no answer, and the slowest answer. At the end a summary and one `FIGURES`
//! line; answers slower than SLOW_MS (default 5,000) are counted as hanging.
//!
//!     SEED=chaos.json BASE=http://127.0.0.1:8080 OUT=dir DURATION=100 cargo bench --bench night_load

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
    Complaint,
    Redemption,
    Scan,
}

const KINDS: [Kind; 6] = [
    Kind::Claim,
    Kind::CheckIn,
    Kind::Rating,
    Kind::Complaint,
    Kind::Redemption,
    Kind::Scan,
];

impl Kind {
    fn index(self) -> usize {
        self as usize
    }
    fn name(self) -> &'static str {
        match self {
            Kind::Claim => "claims",
            Kind::CheckIn => "check-ins",
            Kind::Rating => "ratings",
            Kind::Complaint => "complaints",
            Kind::Redemption => "redemptions",
            Kind::Scan => "scans",
        }
    }
    /// The name in the FIGURES line and the acknowledgement file.
    fn key(self) -> &'static str {
        match self {
            Kind::CheckIn => "checkins",
            k => k.name(),
        }
    }
    /// Requests a second at step factor 1 (the chaos script's load unless told otherwise).
    fn rate(self) -> f64 {
        let (var, default) = match self {
            Kind::Claim => ("RATE_CLAIMS", 100.0),
            Kind::CheckIn => ("RATE_CHECKINS", 10.0),
            Kind::Rating => ("RATE_RATINGS", 30.0),
            Kind::Complaint => ("RATE_COMPLAINTS", 0.0),
            Kind::Redemption => ("RATE_REDEMPTIONS", 0.0),
            Kind::Scan => ("RATE_SCANS", 0.0),
        };
        number(var, default)
    }
    /// A write whose failure the client retries with the same key.
    fn retried(self) -> bool {
        matches!(self, Kind::Claim | Kind::CheckIn | Kind::Redemption)
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

/// One step's answers of one kind: counts and every answer's time (µs).
#[derive(Default)]
struct StepTally {
    counts: Counts,
    micros: Vec<u32>,
}

struct Shared {
    second: Mutex<[Counts; 6]>,
    total: Mutex<[Counts; 6]>,
    steps: Mutex<Vec<[StepTally; 6]>>,
    acked: [Mutex<std::fs::File>; 6],
    checked_in: Mutex<Vec<usize>>,
    /// Shoppers whose claim was acknowledged and who have not paid with it yet.
    holding: Mutex<VecDeque<usize>>,
    retries: Mutex<[VecDeque<(usize, Instant)>; 6]>,
    slow: Duration,
}

impl Shared {
    fn record(&self, kind: Kind, step: usize, outcome: &Outcome, took: Duration) {
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
        if let Ok(mut s) = self.steps.lock()
            && let Some(tally) = s.get_mut(step)
        {
            let t = &mut tally[kind.index()];
            t.counts.add(&c);
            t.micros.push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
        }
        // (A scan's acknowledgement is empty: scans are counted, not kept one by one.)
        if let Outcome::Acked(line) = outcome
            && !line.is_empty()
            && let Ok(mut f) = self.acked[kind.index()].lock()
        {
            let _ = writeln!(f, "{line}");
        }
    }

    /// The next index to retry for `kind`, once its second has passed.
    fn retry(&self, kind: Kind) -> Option<usize> {
        let mut q = self.retries.lock().ok()?;
        let q = &mut q[kind.index()];
        if q.front().is_some_and(|(_, at)| at.elapsed() >= Duration::from_secs(1)) {
            q.pop_front().map(|(i, _)| i)
        } else {
            None
        }
    }

    /// A stall that has checked in, among the first `within` (spread by `n`).
    fn open_stall(&self, n: u64, within: usize) -> Option<usize> {
        let v = self.checked_in.lock().ok()?;
        let open: Vec<usize> = v.iter().copied().filter(|&i| i < within).collect();
        (!open.is_empty()).then(|| open[(n as usize).wrapping_mul(7919) % open.len()])
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn number(name: &str, default: f64) -> f64 {
    env(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn percentile_ms(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    f64::from(sorted[i]) / 1000.0
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

/// A client address of its own for the n-th request of a kind (through the city's proxy).
fn address(kind: Kind, n: u64) -> String {
    format!(
        "10.{}.{}.{}",
        1 + kind.index() * 40 + (n / 63_001 % 40) as usize,
        n / 251 % 251,
        n % 251
    )
}

/// A new device opens a stall's rating form: its device cookie and the ticket the form carries.
async fn rating_form(client: &reqwest::Client, url: &str, from: &str) -> Option<(String, String)> {
    let r = client.get(url).header("X-Forwarded-For", from).send().await.ok()?;
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("nm_device="))?
        .split(';')
        .next()?
        .to_string();
    let body = r.text().await.ok()?;
    let start = body.find("name=\"ticket\" value=\"")? + "name=\"ticket\" value=\"".len();
    let ticket = &body[start..][..body[start..].find('"')?];
    (!ticket.is_empty()).then(|| (cookie, ticket.to_string()))
}

struct Load {
    client: reqwest::Client,
    shared: Arc<Shared>,
    stalls: Arc<Vec<Value>>,
    shoppers: Arc<Vec<String>>,
    base: String,
    tenant: String,
    campaign: String,
    lat: f64,
    lng: f64,
}

impl Load {
    /// Sends the n-th request of `kind` for index `i` (a shopper or a stall); what it answered.
    async fn send(&self, kind: Kind, i: usize, n: u64, step: usize) {
        let Load {
            client,
            shared,
            stalls,
            shoppers,
            base,
            tenant,
            campaign,
            ..
        } = self;
        let path = stalls.get(i).and_then(|s| s["path"].as_str()).unwrap_or_default();
        let (page, query) = path.split_once('?').unwrap_or((path, ""));
        let mut asked = Instant::now();
        let outcome = match kind {
            Kind::Claim => {
                let key = format!("chaos-{i}");
                let r = client
                    .post(format!("{base}/api/v1/t/{tenant}/campaigns/{campaign}/claims"))
                    .bearer_auth(&shoppers[i])
                    .header("Idempotency-Key", &key)
                    .send()
                    .await;
                let outcome = classify(r, |v| {
                    let seq = find(v, "seq")?.as_i64()?;
                    let id = find(v, "request_id")?.as_str()?.to_string();
                    Some(format!("{id} {seq}"))
                })
                .await;
                if matches!(outcome, Outcome::Acked(_))
                    && let Ok(mut h) = shared.holding.lock()
                {
                    h.push_back(i);
                }
                outcome
            }
            Kind::CheckIn => {
                let code = stalls[i]["code"].as_str().unwrap_or_default().to_string();
                let r = client
                    .post(format!("{base}/api/v1/t/{tenant}/codes/{code}/check-in"))
                    .bearer_auth(stalls[i]["vendor_token"].as_str().unwrap_or_default())
                    .json(&serde_json::json!({"lat": self.lat, "lng": self.lng, "accuracy_m": 10.0}))
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
                let from = address(kind, n);
                let url = format!("{base}{page}/rate?{query}");
                match rating_form(client, &url, &from).await {
                    None => Outcome::Refused,
                    Some((cookie, ticket)) => {
                        let comment = format!("chaos-rating-{i}-{n}");
                        // The write is what is timed: the form is a read.
                        asked = Instant::now();
                        let r = client
                            .post(&url)
                            .header("X-Forwarded-For", &from)
                            .header("Cookie", cookie)
                            .form(&[
                                ("ticket", ticket.as_str()),
                                ("stars", "5"),
                                ("comment", comment.as_str()),
                            ])
                            .send()
                            .await;
                        classify(r, |v| {
                            v["location"]
                                .as_str()
                                .filter(|l| l.contains("done=rated") || l.contains("done=held"))
                                .map(|_| comment.clone())
                        })
                        .await
                    }
                }
            }
            Kind::Complaint => {
                let form = reqwest::multipart::Form::new()
                    .text("category", "price_fraud")
                    .text("description", format!("夜市压测投诉 {i}-{n}：价格与标价不符"));
                let r = client
                    .post(format!("{base}{page}/complain?{query}"))
                    .header("X-Forwarded-For", address(kind, n))
                    .multipart(form)
                    .send()
                    .await;
                classify(r, |v| {
                    let l = v["location"].as_str()?.strip_prefix("/complaints/")?;
                    Some(l.split('?').next()?.to_string())
                })
                .await
            }
            Kind::Redemption => {
                // i is the shopper; the stall is one of the first that have checked in.
                let within = number("REDEEM_STALLS", 1000.0) as usize;
                let Some(stall) = shared.open_stall(n, within) else {
                    // No stall open yet: the shopper waits for the next turn.
                    if let Ok(mut h) = shared.holding.lock() {
                        h.push_front(i);
                    }
                    return;
                };
                let code = stalls[stall]["path"]
                    .as_str()
                    .and_then(|p| p.strip_prefix("/c/"))
                    .and_then(|p| p.split('?').next())
                    .unwrap_or_default();
                let key = format!("night-redeem-{i}");
                let r = client
                    .post(format!("{base}/api/v1/t/{tenant}/redemptions"))
                    .bearer_auth(&shoppers[i])
                    .header("Idempotency-Key", &key)
                    .json(&serde_json::json!({"code": code, "bill_fen": 6000}))
                    .send()
                    .await;
                classify(r, |v| find(v, "id").map(|_| key.clone())).await
            }
            Kind::Scan => {
                let r = client
                    .get(format!("{base}{path}"))
                    .header("X-Forwarded-For", address(kind, n))
                    .send()
                    .await;
                classify(r, |_| Some(String::new())).await
            }
        };
        let took = asked.elapsed();
        if matches!(outcome, Outcome::Unavailable { .. } | Outcome::NoAnswer)
            && kind.retried()
            && let Ok(mut q) = shared.retries.lock()
        {
            q[kind.index()].push_back((i, Instant::now()));
        }
        shared.record(kind, step, &outcome, took);
    }

    /// The index the n-th request of `kind` is for, or None when there is nothing to send.
    fn pick(&self, kind: Kind, next_new: &mut usize, n: u64) -> Option<usize> {
        if let Some(i) = kind.retried().then(|| self.shared.retry(kind)).flatten() {
            return Some(i);
        }
        let fresh = |limit: usize, next: &mut usize| {
            (*next < limit).then(|| {
                *next += 1;
                *next - 1
            })
        };
        match kind {
            Kind::Claim => fresh(self.shoppers.len(), next_new),
            Kind::CheckIn => fresh(self.stalls.len(), next_new),
            Kind::Rating | Kind::Complaint => self.shared.open_stall(n, usize::MAX),
            Kind::Redemption => self.shared.holding.lock().ok()?.pop_front(),
            Kind::Scan => (!self.stalls.is_empty()).then(|| (n as usize).wrapping_mul(7919) % self.stalls.len()),
        }
    }
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (Some(seed_path), Some(out)) = (env("SEED"), env("OUT")) else {
        eprintln!("SEED (from nightmarket bench-chaos-seed) and OUT (a directory) are required; see bench/night.sh");
        std::process::exit(2);
    };
    let seed: Value = match std::fs::read(&seed_path).map(|b| serde_json::from_slice(&b)) {
        Ok(Ok(v)) => v,
        _ => {
            eprintln!("cannot read {seed_path}");
            std::process::exit(2);
        }
    };
    let factors: Vec<f64> = env("STEPS")
        .unwrap_or_else(|| "1".into())
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .filter(|f: &f64| *f > 0.0)
        .collect();
    let factors = if factors.is_empty() { vec![1.0] } else { factors };
    let step_len = Duration::from_secs_f64(number("STEP_SECS", number("DURATION", 100.0) / factors.len() as f64));
    // A warm-up at the first step's rates, not measured (its writes are still checked): a server
    // just started and tables just loaded are not what a market's evening meets.
    let warmup = Duration::from_secs_f64(number("WARMUP_SECS", 0.0));
    let duration = step_len * factors.len() as u32;
    let open = |name: &str| match std::fs::File::create(format!("{out}/{name}")) {
        Ok(f) => Mutex::new(f),
        Err(e) => {
            eprintln!("cannot write in {out}: {e}");
            std::process::exit(2);
        }
    };
    let shared = Arc::new(Shared {
        second: Mutex::new([Counts::default(); 6]),
        total: Mutex::new([Counts::default(); 6]),
        steps: Mutex::new(factors.iter().map(|_| Default::default()).collect()),
        acked: KINDS.map(|k| open(&format!("acked-{}.txt", k.key()))),
        checked_in: Mutex::new(Vec::new()),
        holding: Mutex::new(VecDeque::new()),
        retries: Mutex::new(Default::default()),
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
    let load = Arc::new(Load {
        client,
        shared: shared.clone(),
        stalls: Arc::new(seed["stalls"].as_array().cloned().unwrap_or_default()),
        shoppers: Arc::new(
            seed["shoppers"]
                .as_array()
                .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
        ),
        base: env("BASE").unwrap_or_else(|| "http://127.0.0.1:8080".into()),
        tenant: seed["tenant"].as_str().unwrap_or("chaos").to_string(),
        campaign: seed["campaign"].as_str().unwrap_or_default().to_string(),
        lat: seed["lat"].as_f64().unwrap_or(0.0),
        lng: seed["lng"].as_f64().unwrap_or(0.0),
    });
    let started = Instant::now();
    let measured = started + warmup;
    let end = measured + duration;
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
                    .filter(|k| k.rate() > 0.0)
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
        let rate = kind.rate();
        if rate <= 0.0 {
            continue;
        }
        let (load, factors) = (load.clone(), factors.clone());
        tasks.spawn(async move {
            let mut next_new = 0usize;
            let mut sent = 0u64;
            let mut due = started;
            let mut inflight = tokio::task::JoinSet::new();
            loop {
                // Steps are counted from the end of the warm-up; the warm-up is step usize::MAX.
                let step = match due.checked_duration_since(measured) {
                    Some(d) => (d.as_secs_f64() / step_len.as_secs_f64()) as usize,
                    None => usize::MAX,
                };
                let Some(factor) = factors.get(step).or(factors.first().filter(|_| step == usize::MAX)) else {
                    break;
                };
                due += Duration::from_secs_f64(1.0 / (rate * factor));
                if due >= end {
                    break;
                }
                tokio::time::sleep_until(due.into()).await;
                sent += 1;
                while inflight.try_join_next().is_some() {}
                let Some(i) = load.pick(kind, &mut next_new, sent) else {
                    continue;
                };
                let load = load.clone();
                inflight.spawn(async move { load.send(kind, i, sent, step).await });
            }
            while inflight.join_next().await.is_some() {}
        });
    }
    while tasks.join_next().await.is_some() {}
    tokio::time::sleep(Duration::from_millis(1100)).await;
    timeline.abort();

    let total = shared.total.lock().map(|t| *t).unwrap_or_default();
    let mut all = Counts::default();
    println!(
        "{:.0} s of load after {:.0} s of warm-up",
        duration.as_secs_f64(),
        warmup.as_secs_f64()
    );
    for k in KINDS {
        let c = total[k.index()];
        all.add(&c);
        if k.rate() <= 0.0 {
            continue;
        }
        println!(
            "  {:<11} acknowledged {:>6}  refused {:>5}  unavailable (5xx) {:>5}  no answer {:>5}  slowest {:>6} ms  hanging (≥ {} ms) {}",
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
    // Per step: each kind's answers a second and its p50/p99; the first step a write passed 100 ms.
    let mut figures = Vec::new();
    let mut gave_way = String::from("none");
    let mut steps = shared
        .steps
        .lock()
        .map(|mut s| std::mem::take(&mut *s))
        .unwrap_or_default();
    println!(
        "per step ({} s each): answers/s, acknowledged, refused, 5xx, p50/p99 ms",
        step_len.as_secs_f64()
    );
    for (s, (factor, tallies)) in factors.iter().zip(steps.iter_mut()).enumerate() {
        println!("  × {factor}");
        let mut worst: Option<(f64, &str)> = None;
        for k in KINDS {
            let t = &mut tallies[k.index()];
            if k.rate() <= 0.0 {
                continue;
            }
            t.micros.sort_unstable();
            let (p50, p99) = (percentile_ms(&t.micros, 0.50), percentile_ms(&t.micros, 0.99));
            println!(
                "    {:<11} {:>7.1}/s  {:>6}  {:>5}  {:>4}  {:>7.1} / {:>7.1}",
                k.name(),
                t.micros.len() as f64 / step_len.as_secs_f64(),
                t.counts.acked,
                t.counts.refused,
                t.counts.unavailable,
                p50,
                p99
            );
            figures.push(format!(
                "s{}_{}_p50={p50:.1} s{}_{}_p99={p99:.1}",
                s + 1,
                k.key(),
                s + 1,
                k.key()
            ));
            if k != Kind::Scan && !t.micros.is_empty() && worst.is_none_or(|(w, _)| p99 > w) {
                worst = Some((p99, k.key()));
            }
        }
        if let Some((p99, kind)) = worst {
            figures.push(format!("s{}_write_p99={p99:.1} s{}_slowest_write={kind}", s + 1, s + 1));
            if p99 > 100.0 && gave_way == "none" {
                gave_way = format!("{factor}:{kind}");
            }
        }
    }
    println!("first step where a write's p99 passed 100 ms (factor:kind): {gave_way}");
    println!(
        "FIGURES claims_acked={} checkins_acked={} ratings_acked={} complaints_acked={} redemptions_acked={} scans_acked={} unavailable={} unavailable_no_retry_after={} no_answer={} slowest_ms={} hanging={} gave_way={gave_way} {}",
        total[0].acked,
        total[1].acked,
        total[2].acked,
        total[3].acked,
        total[4].acked,
        total[5].acked,
        all.unavailable,
        all.unavailable_without_retry_after,
        all.no_answer,
        all.slowest_ms,
        all.hanging,
        figures.join(" ")
    );
}
