//! `[target] dns_refresh`, `resolve` and `hosts_file` (and `--dns-refresh`, `--resolve`):
//! how often the target's name is looked up again, and the addresses the user gives it
//! in place of the system resolver's — curl's `HOST:PORT:ADDR[,ADDR...]`, or a hosts-style
//! file read again at each refresh. The forms are parsed here, purely; the transport's
//! resolver uses them (docs/connections.md, "Every address").

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::{Spanned, Value};

use super::Target;
use crate::error::Result;
use crate::located::{read_user_text, Source};

/// How long an answer is used before the name is looked up again, by default: about as
/// long as browsers and HTTP clients keep one.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(60);

/// The most a hosts file may hold.
pub const HOSTS_FILE_MAX: u64 = 1024 * 1024;

/// What `--resolve` and `resolve` entries look like.
pub const PINNED_FORM: &str =
    "HOST:PORT:ADDR[,ADDR...], such as \"api.example.com:443:10.0.0.1,10.0.0.2\" \
     (an IPv6 address in brackets or bare)";

/// What `dns_refresh` takes.
pub const REFRESH_FORM: &str =
    "a duration above zero, such as \"60s\" or \"500ms\", or \"off\" to look the name up once";

/// Where the target's addresses come from, and how often they are asked for again.
#[derive(Clone, Debug, PartialEq)]
pub struct Dns {
    /// `None`: looked up once, for the whole run (`dns_refresh = "off"`).
    pub refresh: Option<Duration>,
    /// `resolve` and `--resolve`: these addresses for this host and port, no lookup.
    pub pinned: Vec<Pinned>,
    /// `hosts_file`: read again at each refresh; names it does not list go to the system
    /// resolver, as with /etc/hosts.
    pub hosts_file: Option<PathBuf>,
}

impl Default for Dns {
    fn default() -> Self {
        Dns {
            refresh: Some(DEFAULT_REFRESH),
            pinned: Vec::new(),
            hosts_file: None,
        }
    }
}

/// One `HOST:PORT:ADDR[,ADDR...]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Pinned {
    /// Lower case, an IPv6 literal without brackets.
    pub host: String,
    pub port: u16,
    pub addresses: Vec<IpAddr>,
}

impl Pinned {
    pub fn is_for(&self, host: &str, port: u16) -> bool {
        self.port == port && self.host.eq_ignore_ascii_case(host)
    }
}

/// Parses curl's `--resolve` form.
pub fn parse_pinned(text: &str) -> std::result::Result<Pinned, String> {
    let text = text.trim();
    let bad = |why: &str| Err(format!("bad resolve entry `{text}`: {why}"));
    // A host that is an IPv6 literal is bracketed; any other has no colon.
    let (host, rest) = match text.strip_prefix('[') {
        Some(v6) => match v6.split_once("]:") {
            Some((host, rest)) => (host, rest),
            None => return bad("an IPv6 host needs its closing bracket and a port"),
        },
        None => match text.split_once(':') {
            Some(parts) => parts,
            None => return bad("no port"),
        },
    };
    if host.is_empty() {
        return bad("no host");
    }
    let Some((port, addresses)) = rest.split_once(':') else {
        return bad("no addresses after the port");
    };
    let Ok(port) = port.parse::<u16>() else {
        return bad(&format!("`{port}` is not a port"));
    };
    let mut parsed = Vec::new();
    for a in addresses.split(',') {
        let a = a.trim();
        let bare = a
            .strip_prefix('[')
            .and_then(|a| a.strip_suffix(']'))
            .unwrap_or(a);
        match bare.parse::<IpAddr>() {
            Ok(ip) => parsed.push(ip),
            Err(_) if a.is_empty() => return bad("an empty address"),
            Err(_) => return bad(&format!("`{a}` is not an IP address")),
        }
    }
    Ok(Pinned {
        host: host.to_ascii_lowercase(),
        port,
        addresses: parsed,
    })
}

/// `dns_refresh`: a duration above zero, or "off". Zero is refused: curl and k6 read a
/// time to live of 0 as "look up for every connection", which stampede does not do (a
/// lookup per connect cost a quarter of the rate of new connections, measured).
pub fn parse_refresh(text: &str) -> std::result::Result<Option<Duration>, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    match humantime::parse_duration(text) {
        Ok(d) if d.is_zero() => Err(format!(
            "dns_refresh `{text}` is ambiguous: zero means a lookup for every connection \
             elsewhere, and stampede looks up at most once per refresh"
        )),
        Ok(d) => Ok(Some(d)),
        Err(_) => Err(format!("bad dns_refresh `{text}`")),
    }
}

/// The addresses a hosts-style file gives `host`: lines of `ADDRESS NAME [NAME...]`, `#`
/// comments, names matched without regard to case; in the file's order, without repeats.
/// Err: the first line that is not of that form, by its number.
pub fn hosts_entries(text: &str, host: &str) -> std::result::Result<Vec<IpAddr>, String> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default();
        let mut fields = line.split_whitespace();
        let Some(address) = fields.next() else {
            continue;
        };
        let Ok(ip) = address.parse::<IpAddr>() else {
            return Err(format!(
                "line {}: `{address}` is not an IP address (each line: ADDRESS NAME [NAME...])",
                i + 1
            ));
        };
        let mut names = fields.peekable();
        if names.peek().is_none() {
            return Err(format!("line {}: {address} names no host", i + 1));
        }
        if names.any(|n| n.eq_ignore_ascii_case(host)) && !found.contains(&ip) {
            found.push(ip);
        }
    }
    Ok(found)
}

/// Reads a hosts file and the addresses it gives `host`.
pub fn read_hosts_file(path: &Path, host: &str) -> std::result::Result<Vec<IpAddr>, String> {
    let text = read_user_text(path, HOSTS_FILE_MAX)?;
    hosts_entries(&text, host)
}

/// The target's host (an IPv6 literal without brackets) and port.
pub fn host_and_port(target: &Target) -> (String, u16) {
    let url = &target.url;
    let https = url.scheme_str() == Some("https");
    let authority = url.authority();
    let host = authority.map_or("", |a| a.host());
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = authority
        .and_then(|a| a.port_u16())
        .unwrap_or(if https { 443 } else { 80 });
    (host.to_string(), port)
}

/// Why no pinned entry would be used: none is for the target's host and port.
pub fn unused_pinned(target: &Target) -> Option<String> {
    let pinned = &target.dns.pinned;
    let (host, port) = host_and_port(target);
    (!pinned.is_empty() && !pinned.iter().any(|p| p.is_for(&host, port)))
        .then(|| format!("no resolve entry is for the target's {host}:{port}"))
}

/// The `[target]` keys as written.
pub(super) struct RawDns<'r> {
    pub refresh: Option<&'r Spanned<Value>>,
    pub resolve: &'r [Spanned<String>],
    pub hosts_file: Option<&'r Spanned<String>>,
}

/// Sets the target's DNS keys from `[target]`, checked: a hosts file is read once now (a
/// missing or malformed one is the scenario's error, not the run's).
pub(super) fn apply(src: &Source, raw: RawDns, target: &mut Target) -> Result<()> {
    if let Some(v) = raw.refresh {
        let Value::String(text) = v.get_ref() else {
            return Err(src.error(
                v.span(),
                &format!(
                    "`dns_refresh` is a {}, not a duration",
                    v.get_ref().type_str()
                ),
                REFRESH_FORM,
            ));
        };
        target.dns.refresh =
            parse_refresh(text).map_err(|why| src.error(v.span(), &why, REFRESH_FORM))?;
    }
    for entry in raw.resolve {
        let pinned = parse_pinned(entry.get_ref())
            .map_err(|why| src.error(entry.span(), &why, PINNED_FORM))?;
        target.dns.pinned.push(pinned);
    }
    if let (Some(why), Some(first)) = (unused_pinned(target), raw.resolve.first()) {
        return Err(src.error(first.span(), &why, "HOST:PORT of the target's URL"));
    }
    if let Some(f) = raw.hosts_file {
        let dir = src.name.parent().unwrap_or(Path::new("."));
        let path = dir.join(f.get_ref());
        let (host, _) = host_and_port(target);
        read_hosts_file(&path, &host).map_err(|why| {
            src.error(
                f.span(),
                &format!("hosts_file {}: {why}", path.display()),
                "a hosts-style file (ADDRESS NAME per line), relative to the scenario file",
            )
        })?;
        target.dns.hosts_file = Some(path);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_resolve_forms_parse() {
        let p = parse_pinned("API.test:443:127.0.0.1,127.0.0.2").unwrap();
        assert_eq!(p.host, "api.test");
        assert_eq!(p.port, 443);
        assert_eq!(
            p.addresses,
            vec![
                "127.0.0.1".parse::<IpAddr>().unwrap(),
                "127.0.0.2".parse().unwrap()
            ]
        );
        assert!(p.is_for("api.TEST", 443) && !p.is_for("api.test", 80));
        let v6 = parse_pinned("api.test:80:[::1],::2,10.0.0.1").unwrap();
        assert_eq!(v6.addresses.len(), 3);
        assert_eq!(v6.addresses[1], "::2".parse::<IpAddr>().unwrap());
        let host_v6 = parse_pinned("[::1]:8080:127.0.0.1").unwrap();
        assert_eq!((host_v6.host.as_str(), host_v6.port), ("::1", 8080));
    }

    #[test]
    fn bad_resolve_forms_say_what_is_wrong() {
        let why = |t: &str| parse_pinned(t).unwrap_err();
        assert!(why("api.test").contains("no port"));
        assert!(why("api.test:443").contains("no addresses"));
        assert!(why("api.test:https:1.2.3.4").contains("not a port"));
        assert!(why("api.test:443:1.2.3.4,,").contains("empty address"));
        assert!(why("api.test:443:example.com").contains("not an IP address"));
        assert!(why(":443:1.2.3.4").contains("no host"));
        assert!(why("[::1:443:1.2.3.4").contains("closing bracket"));
    }

    #[test]
    fn refresh_is_a_duration_or_off_never_zero() {
        assert_eq!(parse_refresh("1s"), Ok(Some(Duration::from_secs(1))));
        assert_eq!(parse_refresh(" OFF "), Ok(None));
        assert!(parse_refresh("0s").unwrap_err().contains("ambiguous"));
        assert!(parse_refresh("soon").is_err());
        assert_eq!(Dns::default().refresh, Some(DEFAULT_REFRESH));
    }

    #[test]
    fn a_hosts_file_gives_every_line_naming_the_host() {
        let text = "# test hosts\n127.0.0.1 api.test other\n\n::1\tlocalhost\n\
                    127.0.0.2 API.TEST # the second\n127.0.0.1 api.test\n";
        let found = hosts_entries(text, "api.test").unwrap();
        assert_eq!(
            found,
            vec![
                "127.0.0.1".parse::<IpAddr>().unwrap(),
                "127.0.0.2".parse().unwrap()
            ]
        );
        assert_eq!(
            hosts_entries(text, "nowhere.test").unwrap(),
            Vec::<IpAddr>::new()
        );
        assert!(hosts_entries("api.test 127.0.0.1\n", "api.test")
            .unwrap_err()
            .starts_with("line 1: `api.test` is not an IP address"));
        assert!(hosts_entries("# x\n127.0.0.1\n", "api.test")
            .unwrap_err()
            .starts_with("line 2:"));
    }
}
