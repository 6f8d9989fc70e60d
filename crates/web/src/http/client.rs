//! The client's address, for rate limits: the socket peer, or, only when the server is told it
//! sits behind a proxy it trusts, the address that proxy appended to X-Forwarded-For. A client
//! cannot choose its own address by sending the header.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::state::AppState;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The last (rightmost) address of X-Forwarded-For: the one our own proxy added.
pub fn forwarded_for(parts: &Parts) -> Option<IpAddr> {
    let value = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .next_back()?;
    value.rsplit(',').next().and_then(|last| last.trim().parse().ok())
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ci| ci.0.ip());
        let ip = if state.config.trust_proxy {
            forwarded_for(parts).or(peer)
        } else {
            peer
        };
        Ok(ClientIp(ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))))
    }
}
