//! Run-time settings of the HTTP application (the command line and environment fill them in).

use std::time::Duration;
use url::Url;

use nightmarket_services::access::throttle::ThrottleSettings;
use nightmarket_services::clock::Clock;
use nightmarket_services::sms::Gateway;

#[derive(Clone, Debug)]
pub struct Config {
    /// The address people use to reach the server; decides Secure cookies and HSTS, and is the
    /// origin that state-changing requests must come from.
    pub public_url: Url,
    /// Take the client address from the last X-Forwarded-For entry (only behind a proxy you run).
    pub trust_proxy: bool,
    pub session_ttl: chrono::Duration,
    pub login_throttle: ThrottleSettings,
    pub otp_throttle: ThrottleSettings,
    /// Ratings and complaints: per shopper device, and per client address.
    pub shopper_throttle: ThrottleSettings,
    /// Where text messages go.
    pub sms: Gateway,
    /// The time (the system's, except in tests).
    pub clock: Clock,
    /// Requests that take longer are answered 503.
    pub request_timeout: Duration,
    /// Largest request body accepted, in bytes (413 beyond).
    pub body_limit: usize,
    /// A CJK font file for PDFs; None looks in the usual system places (services::pdf).
    pub pdf_font: Option<std::path::PathBuf>,
    /// How much work is taken on at once; the excess is answered 503 (http::admission).
    pub admission: AdmissionSettings,
}

impl Config {
    pub fn new(public_url: Url) -> Config {
        Config {
            public_url,
            trust_proxy: false,
            session_ttl: chrono::Duration::hours(12),
            login_throttle: ThrottleSettings::default(),
            otp_throttle: ThrottleSettings::sms_codes(),
            shopper_throttle: ThrottleSettings::shoppers(),
            sms: Gateway::default(),
            clock: Clock::system(),
            request_timeout: Duration::from_secs(30),
            body_limit: 1024 * 1024,
            pdf_font: None,
            admission: AdmissionSettings::default(),
        }
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// `__Host-` binds the cookie to this exact origin, which browsers allow only with Secure.
    pub fn session_cookie_name(&self) -> &'static str {
        if self.secure_cookies() {
            "__Host-nm_session"
        } else {
            "nm_session"
        }
    }

    /// "scheme://host[:port]" of the public URL, as browsers send it in Origin.
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }
}

/// How much work the server takes on (see `http::admission`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdmissionSettings {
    /// Requests handled at once.
    pub max_in_flight: usize,
    /// Requests waiting for a turn; beyond this, new ones are refused at once.
    pub max_queue: usize,
    /// The longest a request waits for its turn before it is refused.
    pub max_wait: Duration,
}

impl AdmissionSettings {
    /// The settings for a database pool of `pool` connections, unless given: twice as many
    /// requests in hand as connections (requests that need no database — a cached scan page —
    /// keep the processor busy while others wait for the database), half that many waiting.
    pub fn for_pool(pool: u32, max_in_flight: Option<usize>, max_queue: Option<usize>, max_wait: Duration) -> Self {
        let max_in_flight = max_in_flight.unwrap_or(2 * pool as usize).max(1);
        AdmissionSettings {
            max_in_flight,
            max_queue: max_queue.unwrap_or(max_in_flight / 2),
            max_wait,
        }
    }
}

impl Default for AdmissionSettings {
    fn default() -> Self {
        AdmissionSettings::for_pool(
            nightmarket_services::PoolSettings::default().max_connections,
            None,
            None,
            Duration::from_secs(1),
        )
    }
}
