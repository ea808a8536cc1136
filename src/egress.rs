//! The one guarded outgoing HTTP client.
//!
//! Every request the server makes on behalf of a user-configured integration (script `fetch`/`HTTP`, and
//! outgoing webhooks) goes through [`GuardedClient`]. Integrations are configured by admins, but an admin
//! account is exactly what attackers go after (see the Rocket.Chat incidents in USERS.md), so egress must not
//! become a way to reach the server's own network: loopback, private, link-local and other non-public ranges
//! are refused unless the operator explicitly allows them.
//!
//! The check happens *after* DNS resolution, inside a custom resolver, and the checked addresses are the only
//! ones handed to the connector. That pins the connection to what was checked, so DNS rebinding cannot swap
//! the address between check and connect. Literal-IP URLs never reach a resolver, so they are checked before
//! each hop. Redirects are followed by hand (if at all), so every hop is checked again. Proxies from the
//! environment are ignored because a proxy would do its own resolution behind our back.
//!
//! Nothing else in the crate may build a `reqwest::Client` (enforced by `clippy.toml`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};

/// An IP network in CIDR notation (`10.1.0.0/16`, `fd00::/8`, or a bare address meaning a single host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Builds a network, rejecting a prefix longer than the address.
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Self, String> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(format!("prefix /{prefix} is too long for {addr}"));
        }
        Ok(Self { addr, prefix })
    }

    /// Whether `ip` lies in this network. An IPv4 network also matches the IPv4-mapped IPv6 form of its
    /// addresses, so allowing `10.0.0.0/8` also allows `::ffff:10.0.0.1`.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => return false,
            },
            _ => ip,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    if a[..full] != b[..full] {
        return false;
    }
    let rest = prefix % 8;
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    (a[full] & mask) == (b[full] & mask)
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| format!("`{s}` is not an IP address or CIDR network"))?;
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .map_err(|_| format!("`{s}` has an invalid prefix length"))?,
            None if addr.is_ipv4() => 32,
            None => 128,
        };
        Cidr::new(addr, prefix)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Which non-public destinations outgoing requests may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    /// `SWITCHBOARD_ALLOW_PRIVATE_NETWORKS=true`: every address is allowed (only sane on a trusted network).
    pub allow_private: bool,
    /// Networks allowed even though they are non-public, e.g. an internal CI server's subnet.
    pub allowed_cidrs: Vec<Cidr>,
}

impl EgressPolicy {
    /// The policy from its two configuration knobs.
    pub fn from_parts(allow_private: bool, allowed_cidrs: Vec<Cidr>) -> Self {
        Self {
            allow_private,
            allowed_cidrs,
        }
    }

    /// Parses a comma-separated CIDR list such as `"10.1.0.0/16, 192.168.5.7, fd00::/8"`. Empty items are
    /// ignored so that an empty environment variable means "none".
    pub fn parse_cidr_list(list: &str) -> Result<Vec<Cidr>, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Cidr::from_str)
            .collect()
    }

    /// `Ok` when `ip` may be contacted, otherwise why not.
    pub fn check(&self, ip: IpAddr) -> Result<(), &'static str> {
        if self.allow_private || self.allowed_cidrs.iter().any(|c| c.contains(ip)) {
            return Ok(());
        }
        match non_public_reason(ip) {
            Some(reason) => Err(reason),
            None => Ok(()),
        }
    }
}

/// Why an address is not a public unicast address, or `None` when it is.
pub fn non_public_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    let reason = match o {
        [0, 0, 0, 0] => "unspecified address",
        [0, ..] => "\"this network\" range 0.0.0.0/8",
        [127, ..] => "loopback",
        [10, ..] | [192, 168, ..] => "private range",
        [172, b, ..] if (16..32).contains(&b) => "private range",
        [100, b, ..] if (64..128).contains(&b) => "carrier-grade NAT range 100.64.0.0/10",
        [169, 254, ..] => "link-local range",
        [192, 0, 0, _] => "IETF protocol assignment range 192.0.0.0/24",
        [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _] => "documentation range",
        [192, 88, 99, _] => "reserved 6to4 relay range",
        [198, b, ..] if b == 18 || b == 19 => "benchmarking range 198.18.0.0/15",
        [255, 255, 255, 255] => "broadcast address",
        [a, ..] if (224..240).contains(&a) => "multicast range",
        [a, ..] if a >= 240 => "reserved range 240.0.0.0/4",
        _ => return None,
    };
    Some(reason)
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    let seg = ip.segments();
    if ip.is_unspecified() {
        return Some("unspecified address");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    // Forms that embed an IPv4 address are judged by the embedded address, so `::ffff:127.0.0.1`,
    // `::127.0.0.1`, `64:ff9b::a00:1` or `2002:a00:1::` cannot smuggle a private IPv4 target through.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_reason(v4).map(|_| "IPv4-mapped form of a non-public IPv4 address");
    }
    if seg[..6] == [0, 0, 0, 0, 0, 0] {
        return Some("deprecated IPv4-compatible IPv6 address");
    }
    if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let v4 = Ipv4Addr::new(
            (seg[6] >> 8) as u8,
            seg[6] as u8,
            (seg[7] >> 8) as u8,
            seg[7] as u8,
        );
        return v4_reason(v4).map(|_| "NAT64 form of a non-public IPv4 address");
    }
    if seg[0] == 0x2002 {
        let v4 = Ipv4Addr::new(
            (seg[1] >> 8) as u8,
            seg[1] as u8,
            (seg[2] >> 8) as u8,
            seg[2] as u8,
        );
        return v4_reason(v4).map(|_| "6to4 form of a non-public IPv4 address");
    }
    let reason = match seg[0] {
        0x0064 if seg[1] == 0xff9b && seg[2] == 1 => "local-use NAT64 range 64:ff9b:1::/48",
        0x0100 if seg[1..4] == [0, 0, 0] => "discard-only range 100::/64",
        0x2001 if seg[1] < 0x0200 => "IETF protocol assignment range 2001::/23",
        0x2001 if seg[1] == 0x0db8 => "documentation range",
        s if s & 0xfff0 == 0x3ff0 => "documentation range 3fff::/20",
        s if s & 0xfe00 == 0xfc00 => "unique local range fc00::/7",
        s if s & 0xffc0 == 0xfe80 => "link-local range",
        s if s & 0xffc0 == 0xfec0 => "deprecated site-local range",
        s if s & 0xff00 == 0xff00 => "multicast range",
        _ => return None,
    };
    Some(reason)
}

/// Why an outgoing request did not produce a response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EgressError {
    /// The destination resolved to (or is) an address the policy refuses.
    #[error("refused: {host} resolved to {addr} ({reason}); allow it with SWITCHBOARD_ALLOW_PRIVATE_NETWORKS or an allowed CIDR")]
    Blocked {
        host: String,
        addr: IpAddr,
        reason: String,
    },
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("the request timed out after {0:?}")]
    Timeout(Duration),
    #[error("could not resolve host {0}")]
    Dns(String),
    #[error("too many redirects (more than {0})")]
    TooManyRedirects(usize),
    #[error("the response body exceeds the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("network error: {0}")]
    Io(String),
}

/// Client-wide defaults; each request may override the per-request ones.
#[derive(Debug, Clone)]
pub struct EgressDefaults {
    /// Whole-request timeout (connect, send, and reading the body): Rocket.Chat's server-fetch default.
    pub timeout: Duration,
    /// Largest response body read into memory.
    pub max_body: usize,
    /// Redirects followed when a request doesn't say; 0 returns the 3xx response itself.
    pub max_redirects: usize,
    pub user_agent: String,
}

impl Default for EgressDefaults {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(20),
            max_body: 1024 * 1024,
            max_redirects: 0,
            user_agent: concat!("Switchboard/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// What to do with a body larger than the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Oversize {
    /// Fail with [`EgressError::TooLarge`]: a half JSON document is worse than none.
    #[default]
    Refuse,
    /// Keep the first `limit` bytes and set [`EgressResponse::truncated`] (for history records).
    Truncate,
}

/// One outgoing request.
#[derive(Debug, Clone)]
pub struct EgressRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Bytes>,
    /// Overrides [`EgressDefaults::timeout`].
    pub timeout: Option<Duration>,
    /// Overrides [`EgressDefaults::max_redirects`].
    pub max_redirects: Option<usize>,
    /// Overrides [`EgressDefaults::max_body`].
    pub max_body: Option<usize>,
    pub oversize: Oversize,
}

impl EgressRequest {
    /// A request with no headers or body and every limit at the client's default.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Self {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            timeout: None,
            max_redirects: None,
            max_body: None,
            oversize: Oversize::Refuse,
        }
    }
}

#[derive(Debug, Clone)]
pub struct EgressResponse {
    pub status: u16,
    pub status_text: String,
    /// The URL that produced this response, after redirects.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub truncated: bool,
}

impl EgressResponse {
    /// The first header with that (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Carries the refusal out of reqwest's connector, which only knows boxed errors; `send` digs it out of the
/// error's source chain to report it precisely.
#[derive(Debug)]
struct BlockedByPolicy {
    host: String,
    addr: IpAddr,
    reason: &'static str,
}

impl fmt::Display for BlockedByPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} resolved to {} ({})",
            self.host, self.addr, self.reason
        )
    }
}

impl std::error::Error for BlockedByPolicy {}

/// Resolves with the system resolver, then hands the connector only the addresses the policy allows.
struct CheckingResolver {
    policy: Arc<EgressPolicy>,
}

impl Resolve for CheckingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?
                .collect();
            let mut allowed = Vec::new();
            let mut first_refusal = None;
            for a in addrs {
                match policy.check(a.ip()) {
                    Ok(()) => allowed.push(a),
                    Err(reason) => {
                        first_refusal.get_or_insert(BlockedByPolicy {
                            host: host.clone(),
                            addr: a.ip(),
                            reason,
                        });
                    }
                }
            }
            // A name that resolves to both a public and a private address is refused as a whole: mixing is the
            // classic way to make a checker see one address while the connector tries another.
            if let Some(refusal) = first_refusal {
                return Err(Box::new(refusal) as Box<dyn std::error::Error + Send + Sync>);
            }
            if allowed.is_empty() {
                return Err(format!("no addresses found for {host}").into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// The guarded client. Cheap to share behind an `Arc`; holds one connection pool.
pub struct GuardedClient {
    client: reqwest::Client,
    policy: Arc<EgressPolicy>,
    defaults: EgressDefaults,
}

impl fmt::Debug for GuardedClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardedClient")
            .field("policy", &self.policy)
            .field("defaults", &self.defaults)
            .finish()
    }
}

impl GuardedClient {
    /// Builds the client. Fails only if the TLS backend cannot initialise.
    #[allow(clippy::disallowed_methods)] // the one sanctioned place that builds a reqwest client
    pub fn new(policy: EgressPolicy, defaults: EgressDefaults) -> Result<Self, EgressError> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(CheckingResolver {
                policy: policy.clone(),
            }))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(defaults.user_agent.clone())
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| EgressError::Io(format!("cannot build HTTP client: {e}")))?;
        Ok(Self {
            client,
            policy,
            defaults,
        })
    }

    pub fn policy(&self) -> &EgressPolicy {
        &self.policy
    }

    pub fn defaults(&self) -> &EgressDefaults {
        &self.defaults
    }

    /// Sends a request, following redirects up to the request's limit and checking every hop.
    pub async fn send(&self, req: EgressRequest) -> Result<EgressResponse, EgressError> {
        let timeout = req.timeout.unwrap_or(self.defaults.timeout);
        match tokio::time::timeout(timeout, self.send_inner(req)).await {
            Ok(r) => r,
            Err(_) => Err(EgressError::Timeout(timeout)),
        }
    }

    async fn send_inner(&self, req: EgressRequest) -> Result<EgressResponse, EgressError> {
        let max_redirects = req.max_redirects.unwrap_or(self.defaults.max_redirects);
        let max_body = req.max_body.unwrap_or(self.defaults.max_body);
        let mut headers = HeaderMap::new();
        for (k, v) in &req.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| EgressError::InvalidRequest(format!("invalid header name `{k}`")))?;
            let value = HeaderValue::from_str(v).map_err(|_| {
                EgressError::InvalidRequest(format!("invalid value for header `{k}`"))
            })?;
            headers.append(name, value);
        }
        let mut url = self.check_url(&req.url)?;
        let mut method = req.method.clone();
        let mut body = req.body.clone();
        let mut hops = 0;
        loop {
            let mut builder = self
                .client
                .request(method.clone(), url.clone())
                .headers(headers.clone());
            if let Some(b) = &body {
                builder = builder.body(b.clone());
            }
            let resp = builder
                .send()
                .await
                .map_err(|e| map_reqwest_error(&url, e))?;
            let status = resp.status();
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok());
            if status.is_redirection() && max_redirects > 0 {
                if let Some(location) = location {
                    if hops >= max_redirects {
                        return Err(EgressError::TooManyRedirects(max_redirects));
                    }
                    hops += 1;
                    let next = url.join(location).map_err(|e| {
                        EgressError::InvalidUrl(format!("bad redirect target: {e}"))
                    })?;
                    url = self.check_url(next.as_str())?;
                    // Same rules as browsers: 303 (and 301/302 after POST) become a body-less GET.
                    let code = status.as_u16();
                    if code == 303 || ((code == 301 || code == 302) && method == Method::POST) {
                        method = Method::GET;
                        body = None;
                        headers.remove(reqwest::header::CONTENT_TYPE);
                        headers.remove(reqwest::header::CONTENT_LENGTH);
                    }
                    continue;
                }
            }
            return read_response(resp, max_body, req.oversize).await;
        }
    }

    /// Scheme allow-list plus the literal-IP check (names are checked by the resolver).
    fn check_url(&self, raw: &str) -> Result<Url, EgressError> {
        let url = Url::parse(raw).map_err(|e| EgressError::InvalidUrl(format!("`{raw}`: {e}")))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(EgressError::InvalidUrl(format!(
                "`{raw}`: only http and https URLs are allowed"
            )));
        }
        let ip = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => None,
            None => return Err(EgressError::InvalidUrl(format!("`{raw}` has no host"))),
        };
        if let Some(ip) = ip {
            self.policy
                .check(ip)
                .map_err(|reason| EgressError::Blocked {
                    host: url.host_str().unwrap_or_default().to_string(),
                    addr: ip,
                    reason: reason.to_string(),
                })?;
        }
        Ok(url)
    }
}

async fn read_response(
    mut resp: reqwest::Response,
    max_body: usize,
    oversize: Oversize,
) -> Result<EgressResponse, EgressError> {
    let status = resp.status();
    let url = resp.url().to_string();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    if oversize == Oversize::Refuse && resp.content_length().is_some_and(|l| l > max_body as u64) {
        return Err(EgressError::TooLarge { limit: max_body });
    }
    let mut body = BytesMut::new();
    let mut truncated = false;
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| map_reqwest_error_plain(&e))?
    {
        if body.len() + chunk.len() > max_body {
            if oversize == Oversize::Refuse {
                return Err(EgressError::TooLarge { limit: max_body });
            }
            body.extend_from_slice(&chunk[..max_body - body.len()]);
            truncated = true;
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(EgressResponse {
        status: status.as_u16(),
        status_text: status.canonical_reason().unwrap_or("").to_string(),
        url,
        headers,
        body: body.freeze(),
        truncated,
    })
}

fn map_reqwest_error(url: &Url, e: reqwest::Error) -> EgressError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(err) = source {
        if let Some(b) = err.downcast_ref::<BlockedByPolicy>() {
            return EgressError::Blocked {
                host: b.host.clone(),
                addr: b.addr,
                reason: b.reason.to_string(),
            };
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::NotFound
                || io.to_string().contains("failed to lookup address")
            {
                return EgressError::Dns(url.host_str().unwrap_or_default().to_string());
            }
        }
        source = err.source();
    }
    map_reqwest_error_plain(&e)
}

fn map_reqwest_error_plain(e: &reqwest::Error) -> EgressError {
    // reqwest's Display hides the cause ("error sending request"), so the chain is spelled out for the user.
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    EgressError::Io(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn refuses_non_public_ranges() {
        let p = EgressPolicy::default();
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.2.5",
            "198.51.100.1",
            "203.0.113.9",
            "198.18.0.1",
            "::",
            "::1",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:a00:1::1",
            "2001:db8::1",
            "fec0::1",
        ] {
            assert!(p.check(ip(a)).is_err(), "{a} should be refused");
        }
        for a in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(p.check(ip(a)).is_ok(), "{a} should be allowed");
        }
    }

    #[test]
    fn allow_lists() {
        let p = EgressPolicy::from_parts(
            false,
            EgressPolicy::parse_cidr_list(" 10.1.0.0/16, 192.168.5.7 ,fd00::/8,").unwrap(),
        );
        assert!(p.check(ip("10.1.200.3")).is_ok());
        assert!(p.check(ip("::ffff:10.1.200.3")).is_ok());
        assert!(p.check(ip("10.2.0.1")).is_err());
        assert!(p.check(ip("192.168.5.7")).is_ok());
        assert!(p.check(ip("192.168.5.8")).is_err());
        assert!(p.check(ip("fd00::5")).is_ok());
        assert!(EgressPolicy::from_parts(true, vec![])
            .check(ip("127.0.0.1"))
            .is_ok());
        assert!(EgressPolicy::parse_cidr_list("10.0.0.0/33").is_err());
        assert!(EgressPolicy::parse_cidr_list("nonsense").is_err());
        assert!(EgressPolicy::parse_cidr_list("").unwrap().is_empty());
        assert_eq!(
            "172.16.0.0/12".parse::<Cidr>().unwrap().to_string(),
            "172.16.0.0/12"
        );
        assert!("172.16.0.0/12"
            .parse::<Cidr>()
            .unwrap()
            .contains(ip("172.20.1.1")));
    }

    #[tokio::test]
    async fn literal_and_scheme_checks() {
        let c = GuardedClient::new(EgressPolicy::default(), EgressDefaults::default()).unwrap();
        let err = c
            .send(EgressRequest::new(Method::GET, "http://127.0.0.1:9/"))
            .await
            .unwrap_err();
        assert!(matches!(err, EgressError::Blocked { .. }), "{err:?}");
        assert!(err
            .to_string()
            .contains("SWITCHBOARD_ALLOW_PRIVATE_NETWORKS"));
        let err = c
            .send(EgressRequest::new(Method::GET, "http://[::ffff:7f00:1]/"))
            .await
            .unwrap_err();
        assert!(matches!(err, EgressError::Blocked { .. }), "{err:?}");
        let err = c
            .send(EgressRequest::new(Method::GET, "http://2130706433/"))
            .await
            .unwrap_err();
        assert!(matches!(err, EgressError::Blocked { .. }), "{err:?}");
        let err = c
            .send(EgressRequest::new(Method::GET, "file:///etc/passwd"))
            .await
            .unwrap_err();
        assert!(matches!(err, EgressError::InvalidUrl(_)), "{err:?}");
        let err = c
            .send(EgressRequest::new(Method::GET, "http://localhost:9/"))
            .await
            .unwrap_err();
        assert!(matches!(err, EgressError::Blocked { .. }), "{err:?}");
    }
}
