//! A load generator for bench/overload.sh: GETs random paths from a file against a running
//! server, either closed-loop (CONNECTIONS clients, each sending its next request when the last
//! is answered: what the server can serve) or open-loop (RATE requests a second sent on schedule
//! whatever the answers: an offered load, as a crowd of phones makes it). Open-loop latencies are
//! counted from when each request was due, so a server that falls behind is not flattered by the
//! generator waiting for it.
//!
//! Prints one line of `key=value` figures (for the script) after a readable summary: answers by
//! kind (admitted = 2xx; shed = 503 `overloaded` with Retry-After; other statuses; transport
//! errors), admitted per second, and latency percentiles of the admitted and of the shed.
//!
//!     BASE=http://127.0.0.1:8080 PATHS=paths.txt MODE=closed CONNECTIONS=64 DURATION=20 \
//!         cargo bench --bench overload
//!     BASE=… PATHS=… MODE=open RATE=5000 DURATION=20 cargo bench --bench overload

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Tally {
    admitted: Vec<u32>,
    shed: Vec<u32>,
    shed_without_retry_after: usize,
    other: std::collections::BTreeMap<u16, usize>,
    errors: usize,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn number(name: &str, default: f64) -> f64 {
    env(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    f64::from(sorted[i]) / 1000.0
}

async fn one(client: &reqwest::Client, url: String, due: Instant, tally: &Mutex<Tally>) {
    let result = client.get(url).send().await;
    let answer = match result {
        Ok(r) => {
            let status = r.status().as_u16();
            let retry_after = r.headers().contains_key("retry-after");
            match r.bytes().await {
                Ok(body) => Ok((status, retry_after, body)),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    };
    let micros = u32::try_from(due.elapsed().as_micros()).unwrap_or(u32::MAX);
    let Ok(mut t) = tally.lock() else { return };
    match answer {
        Ok((status, _, _)) if (200..300).contains(&status) => t.admitted.push(micros),
        Ok((503, retry_after, body)) if body.windows(10).any(|w| w == b"overloaded") => {
            t.shed.push(micros);
            if !retry_after {
                t.shed_without_retry_after += 1;
            }
        }
        Ok((status, _, _)) => *t.other.entry(status).or_default() += 1,
        Err(_) => t.errors += 1,
    }
}

#[tokio::main]
async fn main() {
    let base = env("BASE").unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let Some(paths_file) = env("PATHS") else {
        eprintln!("PATHS (a file of paths, one a line) is required; see bench/overload.sh");
        std::process::exit(2);
    };
    let paths: Vec<String> = match std::fs::read_to_string(&paths_file) {
        Ok(text) => text
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| format!("{base}{l}"))
            .collect(),
        Err(e) => {
            eprintln!("cannot read {paths_file}: {e}");
            std::process::exit(2);
        }
    };
    if paths.is_empty() {
        eprintln!("{paths_file} has no paths");
        std::process::exit(2);
    }
    let paths = Arc::new(paths);
    let mode = env("MODE").unwrap_or_else(|| "closed".into());
    let duration = Duration::from_secs_f64(number("DURATION", 20.0));
    let timeout = Duration::from_secs_f64(number("TIMEOUT", 10.0));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .pool_max_idle_per_host(4096)
        .build()
        .unwrap_or_else(|e| panic!("an HTTP client: {e}"));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let started = Instant::now();
    let end = started + duration;
    let mut dropped = 0usize;
    let label;

    if mode == "open" {
        let rate = number("RATE", 1000.0).max(1.0);
        // More outstanding than this means the generator itself cannot keep up: counted, not sent.
        let max_outstanding = number("MAX_OUTSTANDING", 8192.0) as usize;
        label = format!("open loop, {rate:.0} requests/s offered");
        let outstanding = Arc::new(AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        let mut i = 0u64;
        loop {
            let due = started + Duration::from_secs_f64(i as f64 / rate);
            if due >= end {
                break;
            }
            tokio::time::sleep_until(due.into()).await;
            i += 1;
            if outstanding.load(Ordering::Relaxed) >= max_outstanding {
                dropped += 1;
                continue;
            }
            outstanding.fetch_add(1, Ordering::Relaxed);
            let url = paths[(i as usize).wrapping_mul(2_654_435_761) % paths.len()].clone();
            let (client, tally, outstanding) = (client.clone(), tally.clone(), outstanding.clone());
            tasks.spawn(async move {
                one(&client, url, due, &tally).await;
                outstanding.fetch_sub(1, Ordering::Relaxed);
            });
            while tasks.try_join_next().is_some() {}
        }
        while tasks.join_next().await.is_some() {}
    } else {
        let connections = number("CONNECTIONS", 64.0).max(1.0) as usize;
        label = format!("closed loop, {connections} connections");
        let mut tasks = tokio::task::JoinSet::new();
        for c in 0..connections {
            let (client, tally, paths) = (client.clone(), tally.clone(), paths.clone());
            tasks.spawn(async move {
                let mut k = c;
                while Instant::now() < end {
                    k = k
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    let url = paths[(k >> 33) % paths.len()].clone();
                    one(&client, url, Instant::now(), &tally).await;
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    }

    let elapsed = started.elapsed().as_secs_f64();
    let mut t = match Arc::try_unwrap(tally) {
        Ok(m) => m.into_inner().unwrap_or_default(),
        Err(shared) => std::mem::take(&mut *shared.lock().unwrap_or_else(|e| e.into_inner())),
    };
    t.admitted.sort_unstable();
    t.shed.sort_unstable();
    let other: usize = t.other.values().sum();
    let total = t.admitted.len() + t.shed.len() + other + t.errors;
    let admitted_rate = t.admitted.len() as f64 / duration.as_secs_f64();
    println!(
        "{label}, {:.0} s (all answered after {elapsed:.1} s)",
        duration.as_secs_f64()
    );
    println!(
        "  answers: {total}; admitted (2xx) {} = {admitted_rate:.0}/s; shed (503 overloaded) {} ({:.1}%, {} without Retry-After); other {:?}; transport errors {}; not sent (generator behind) {dropped}",
        t.admitted.len(),
        t.shed.len(),
        100.0 * t.shed.len() as f64 / total.max(1) as f64,
        t.shed_without_retry_after,
        t.other,
        t.errors,
    );
    println!(
        "  admitted latency ms: p50 {:.1}  p90 {:.1}  p99 {:.1}  max {:.1};  shed p99 {:.1}",
        percentile(&t.admitted, 0.50),
        percentile(&t.admitted, 0.90),
        percentile(&t.admitted, 0.99),
        percentile(&t.admitted, 1.0),
        percentile(&t.shed, 0.99),
    );
    println!(
        "FIGURES admitted_per_s={admitted_rate:.0} p50_ms={:.1} p99_ms={:.1} max_ms={:.1} shed={} shed_share={:.3} shed_p99_ms={:.1} shed_no_retry_after={} other={} errors={} dropped={dropped}",
        percentile(&t.admitted, 0.50),
        percentile(&t.admitted, 0.99),
        percentile(&t.admitted, 1.0),
        t.shed.len(),
        t.shed.len() as f64 / total.max(1) as f64,
        percentile(&t.shed, 0.99),
        t.shed_without_retry_after,
        other,
        t.errors,
    );
}
