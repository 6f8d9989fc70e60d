//! How long from an external system's credential event to the public scan page showing red.
//!
//! Starts the release `nightmarket` binary on a fresh data directory (its own PostgreSQL, the demo
//! seeded), then, 1,000 times: sends a signed `invalid` health event for the demo vendor, and reads
//! the stall's scan page until it shows red; the time from sending the event to seeing red is one
//! sample. A `valid` event then returns the code to green (not timed). Prints p50/p90/p99/max.
//!
//!     cargo bench --bench credential_event_to_red            # 1,000 events
//!     ROUNDS=200 cargo bench --bench credential_event_to_red  # fewer

use hmac::{KeyInit, Mac};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.0.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = self.0.wait();
    }
}

fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("a key");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn colour(html: &str) -> Option<&str> {
    html.split("data-colour=\"").nth(1)?.split('"').next()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let data = std::env::temp_dir().join(format!("nm-bench-{}", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_nightmarket"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starting nightmarket");
    let stdout = child.stdout.take().expect("stdout");
    let server = Server(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("nightmarket is serving at ") {
                let _ = tx.send(url.trim_end_matches('/').to_string());
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(300))
        .expect("the server printed its URL");
    let creds: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("demo-credentials.json")).expect("demo credentials"))
            .expect("json");
    let key = creds["api_keys"]
        .as_array()
        .expect("api keys")
        .iter()
        .find(|k| k["tenant"] == "nanan")
        .expect("a key");
    let (key_id, secret) = (key["key_id"].as_str().unwrap(), key["secret"].as_str().unwrap());
    let vendor = creds["samples"]["vendor_id"].as_str().expect("a sample vendor");
    let code_url = creds["samples"]["code_url"].as_str().expect("a sample code");

    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder().build().expect("client");
    let send = |status: &'static str, n: usize| {
        let body = serde_json::to_vec(&json!({
            "event_id": format!("bench-{n}-{status}"), "vendor_id": vendor, "credential": "health",
            "status": status, "reason": "benchmark", "occurred_at": chrono::Utc::now()
        }))
        .unwrap();
        let ts = chrono::Utc::now().timestamp().to_string();
        http.post(format!("{base}/api/v1/t/nanan/credential-events"))
            .header("content-type", "application/json")
            .header("x-api-key", key_id)
            .header("x-timestamp", &ts)
            .header("x-signature", sign(secret, &ts, &body))
            .body(body)
            .send()
    };
    let scan = || async {
        http.get(code_url)
            .send()
            .await
            .expect("scan")
            .text()
            .await
            .expect("html")
    };
    assert_eq!(colour(&scan().await), Some("green"), "the sample code starts green");

    let mut samples = Vec::with_capacity(rounds);
    let mut polls_beyond_first = 0usize;
    for n in 0..rounds {
        let started = Instant::now();
        let r = send("invalid", n).await.expect("event");
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
        let mut polls = 0;
        loop {
            polls += 1;
            if colour(&scan().await) == Some("red") {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the scan page never showed red"
            );
        }
        samples.push(started.elapsed());
        polls_beyond_first += polls - 1;
        let r = send("valid", n).await.expect("event");
        assert_eq!(r.status(), 200);
    }
    samples.sort();
    println!("credential event → scan page red, {rounds} events (release build, one client, local server)");
    println!("| p50 | p90 | p99 | max |");
    println!("|---|---|---|---|");
    println!(
        "| {} ms | {} ms | {} ms | {} ms |",
        ms(percentile(&samples, 0.50)),
        ms(percentile(&samples, 0.90)),
        ms(percentile(&samples, 0.99)),
        ms(samples[samples.len() - 1])
    );
    println!("scan reads that still showed the old colour: {polls_beyond_first}");
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}
