//! Where remote write pushes and as whom: the URL checked (http or https, a host), its
//! password if it has one taken out, and the credentials — a bearer token or a user and
//! password from the environment (or the URL), or SigV4 for Amazon Managed Service for
//! Prometheus. Pure but for [`resolve`], which asks the AWS chain for SigV4's identity.
//! Secrets are never shown: messages quote the URL redacted.

use base64::Engine;
use http::header::AUTHORIZATION;
use http::{HeaderValue, Uri};

use crate::transport::auth::Auth;

pub const BEARER_ENV: &str = "STAMPEDE_REMOTE_WRITE_BEARER_TOKEN";
pub const USERNAME_ENV: &str = "STAMPEDE_REMOTE_WRITE_USERNAME";
pub const PASSWORD_ENV: &str = "STAMPEDE_REMOTE_WRITE_PASSWORD";

/// The remote-write URL, checked: what requests go to (no user or password in it) and
/// how messages show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub uri: Uri,
    /// The URL as given, its password redacted.
    pub shown: String,
    /// A user and password written in the URL (`https://user:pass@host/…`).
    pub userinfo: Option<(String, String)>,
}

/// Checks `url`: an absolute http or https URL with a host. The error says what is wrong
/// and what was expected, quoting the URL redacted.
pub fn endpoint(url: &str) -> Result<Endpoint, String> {
    let shown = crate::located::redact_userinfo(url);
    let bad = |why: &str| {
        format!(
            "--prometheus-remote-write {shown}: {why}\n  expected: an http:// or https:// URL such as \
             http://prometheus:9090/api/v1/write or \
             https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-…/api/v1/remote_write"
        )
    };
    let uri: Uri = url.trim().parse().map_err(|_| bad("not a URL"))?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        Some(other) => return Err(bad(&format!("the scheme {other} is not http or https"))),
        None => return Err(bad("no scheme")),
    }
    let authority = uri.authority().ok_or_else(|| bad("no host"))?;
    if uri.host().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    let (userinfo, host) = match authority.as_str().rsplit_once('@') {
        Some((info, host)) => {
            let (user, pass) = info.split_once(':').unwrap_or((info, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (Some((decode(user), decode(pass))), host.to_string())
        }
        None => (None, authority.as_str().to_string()),
    };
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let uri = Uri::builder()
        .scheme(uri.scheme_str().unwrap_or("http"))
        .authority(host)
        .path_and_query(path)
        .build()
        .map_err(|_| bad("not a URL"))?;
    Ok(Endpoint {
        uri,
        shown,
        userinfo,
    })
}

/// How the pushes authenticate, chosen from the environment (`env` looks a variable up),
/// the URL's user and password, and `--remote-write-sigv4`. One way at most: two given at
/// once is bad input, naming them, never their values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Method {
    None,
    /// The `Authorization` header's value (`Bearer …` or `Basic …`), marked sensitive.
    Header(HeaderValue),
    SigV4,
}

pub fn method(
    at: &Endpoint,
    sigv4: bool,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Method, String> {
    let set = |name: &str| env(name).filter(|v| !v.is_empty());
    let bearer = set(BEARER_ENV);
    let basic = match (set(USERNAME_ENV), set(PASSWORD_ENV)) {
        (Some(user), pass) => Some((user, pass.unwrap_or_default())),
        (None, Some(_)) => {
            return Err(format!(
                "{PASSWORD_ENV} is set but {USERNAME_ENV} is not\n  expected: both, for basic auth"
            ))
        }
        (None, None) => None,
    };
    let mut given = Vec::new();
    if bearer.is_some() {
        given.push(BEARER_ENV.to_string());
    }
    if basic.is_some() {
        given.push(format!("{USERNAME_ENV}/{PASSWORD_ENV}"));
    }
    if at.userinfo.is_some() {
        given.push("a user and password in the URL".to_string());
    }
    if sigv4 {
        given.push("--remote-write-sigv4".to_string());
    }
    if given.len() > 1 {
        return Err(format!(
            "--prometheus-remote-write: more than one way to authenticate: {}\n  expected: one of them",
            given.join(", ")
        ));
    }
    let header = |value: String| {
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            "--prometheus-remote-write: the credentials are not a valid header value".to_string()
        })?;
        value.set_sensitive(true);
        Ok::<_, String>(Method::Header(value))
    };
    if let Some(token) = bearer {
        return header(format!("Bearer {token}"));
    }
    if let Some((user, pass)) = basic.or_else(|| at.userinfo.clone()) {
        let pair = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        return header(format!("Basic {pair}"));
    }
    Ok(if sigv4 { Method::SigV4 } else { Method::None })
}

/// The region of an Amazon Managed Service for Prometheus workspace's URL,
/// `aps-workspaces.REGION.amazonaws.com`.
pub fn region_of(uri: &Uri) -> Option<String> {
    let labels: Vec<&str> = uri.host()?.split('.').collect();
    let at = labels.iter().position(|l| *l == "aps-workspaces")?;
    labels
        .get(at + 1)
        .filter(|r| !r.is_empty())
        .map(|r| r.to_string())
}

/// The method made ready: SigV4's credentials and region from the AWS chain (the URL's
/// region first), fetched now so a missing identity is bad input before any traffic.
pub fn resolve(at: &Endpoint, method: Method) -> crate::error::Result<Auth> {
    Ok(match method {
        Method::None => Auth::None,
        Method::Header(value) => Auth::Header(AUTHORIZATION, value),
        Method::SigV4 => {
            let aws = crate::aws::Aws::shared()?;
            let region = region_of(&at.uri);
            aws.block_on(crate::aws::sigv4_auth(aws, "aps", region.as_deref(), &at.uri))
                .map_err(|why| {
                    crate::error::Error::input(format!(
                        "--remote-write-sigv4: {why}\n  expected: AWS credentials from the standard chain, and a region (the workspace URL's, AWS_REGION or a profile's)"
                    ))
                })?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn a_url_must_be_http_or_https_with_a_host() {
        for bad in [
            "prometheus:9090/api/v1/write",
            "ftp://h/x",
            "http://",
            "not a url",
            "/api/v1/write",
        ] {
            let why = endpoint(bad).unwrap_err();
            assert!(why.starts_with("--prometheus-remote-write "), "{why}");
            assert!(
                why.contains("expected: an http:// or https:// URL"),
                "{why}"
            );
        }
        let ok = endpoint("https://h.example:8443/api/v1/write").unwrap();
        assert_eq!(ok.uri.to_string(), "https://h.example:8443/api/v1/write");
        assert_eq!(ok.userinfo, None);
    }

    #[test]
    fn a_password_in_the_url_is_taken_out_and_never_shown() {
        let at = endpoint("https://ann:s%40cret@h.example/push").unwrap();
        assert_eq!(at.uri.to_string(), "https://h.example/push");
        assert_eq!(at.userinfo, Some(("ann".into(), "s@cret".into())));
        assert!(!at.shown.contains("cret"));
        let why = endpoint("gopher://ann:s3cret@h/").unwrap_err();
        assert!(!why.contains("s3cret"), "{why}");
    }

    #[test]
    fn bearer_basic_and_url_credentials_become_an_authorization_header() {
        let at = endpoint("http://h/w").unwrap();
        let bearer = method(&at, false, env(&[(BEARER_ENV, "tok")])).unwrap();
        assert_eq!(
            bearer,
            Method::Header(HeaderValue::from_static("Bearer tok"))
        );
        let basic = method(&at, false, env(&[(USERNAME_ENV, "u"), (PASSWORD_ENV, "p")])).unwrap();
        assert_eq!(
            basic,
            Method::Header(HeaderValue::from_static("Basic dTpw"))
        );
        let in_url = endpoint("http://u:p@h/w").unwrap();
        assert_eq!(method(&in_url, false, env(&[])).unwrap(), basic);
        let Method::Header(value) = basic else {
            unreachable!()
        };
        assert!(value.is_sensitive());
        assert_eq!(method(&at, false, env(&[])).unwrap(), Method::None);
        assert_eq!(method(&at, true, env(&[])).unwrap(), Method::SigV4);
    }

    #[test]
    fn two_ways_at_once_or_a_password_alone_is_bad_input_naming_no_secret() {
        let at = endpoint("http://h/w").unwrap();
        let why = method(&at, true, env(&[(BEARER_ENV, "tok")])).unwrap_err();
        assert!(
            why.contains(BEARER_ENV) && why.contains("--remote-write-sigv4"),
            "{why}"
        );
        assert!(!why.contains("tok\n") && !why.contains(": tok"), "{why}");
        let why = method(&at, false, env(&[(PASSWORD_ENV, "pw")])).unwrap_err();
        assert!(why.contains(USERNAME_ENV) && !why.contains("pw\n"), "{why}");
    }

    #[test]
    fn the_region_comes_from_a_workspace_url() {
        let uri: Uri =
            "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write"
                .parse()
                .unwrap();
        assert_eq!(region_of(&uri).as_deref(), Some("eu-west-1"));
        assert_eq!(region_of(&"http://127.0.0.1:9/w".parse().unwrap()), None);
    }
}
