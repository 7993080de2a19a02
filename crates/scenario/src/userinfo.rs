//! `user:password@` in a target URL: sent as HTTP Basic auth (as curl does), never in the
//! Host header, and shown everywhere as `user:***@`.

use std::fmt;

use base64::Engine as _;
use http::uri::{Authority, Uri};
use http::HeaderValue;

/// The `Authorization: Basic …` a URL's userinfo stands for. The password is never shown.
#[derive(Clone, PartialEq)]
pub struct BasicAuth {
    /// The user name as written in the URL (percent-encoded), for display.
    pub user: String,
    /// `Basic base64(user:password)`, marked sensitive.
    pub header: HeaderValue,
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BasicAuth({}:***)", self.user)
    }
}

/// Splits `url` into the URL without its userinfo and the Basic auth it stands for.
pub fn split(url: Uri) -> (Uri, Option<BasicAuth>) {
    let Some((userinfo, host)) = url
        .authority()
        .and_then(|a| a.as_str().rsplit_once('@'))
        .map(|(u, h)| (u.to_string(), h.to_string()))
    else {
        return (url, None);
    };
    let (userinfo, host) = (userinfo.as_str(), host.as_str());
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let credentials = format!("{}:{}", percent_decode(user), percent_decode(password));
    let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
    let mut header =
        HeaderValue::from_str(&format!("Basic {encoded}")).expect("base64 is a valid header");
    header.set_sensitive(true);
    let auth = BasicAuth {
        user: user.to_string(),
        header,
    };
    let mut parts = url.into_parts();
    parts.authority = Some(
        host.parse::<Authority>()
            .expect("the host part of an authority"),
    );
    let stripped = Uri::from_parts(parts).expect("a valid URI without its userinfo");
    (stripped, Some(auth))
}

/// `%XX` escapes decoded, as userinfo is written in URLs; bad escapes stay as they are.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap() * 16 + hex(l).unwrap()) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_becomes_basic_auth_and_leaves_the_url() {
        let (url, auth) = split("http://alice:s3cret@127.0.0.1:8080/x?y=1".parse().unwrap());
        assert_eq!(url.to_string(), "http://127.0.0.1:8080/x?y=1");
        let auth = auth.unwrap();
        // base64("alice:s3cret")
        assert_eq!(auth.header, "Basic YWxpY2U6czNjcmV0");
        assert!(auth.header.is_sensitive());
        assert!(!format!("{auth:?}").contains("s3cret"));
    }

    #[test]
    fn escapes_are_decoded_and_plain_urls_pass_through() {
        let (_, auth) = split("https://a%40b:p%3Aw@example.com/".parse().unwrap());
        // base64("a@b:p:w")
        assert_eq!(auth.unwrap().header, "Basic YUBiOnA6dw==");
        let (url, auth) = split("https://example.com/".parse().unwrap());
        assert!(auth.is_none());
        assert_eq!(url.to_string(), "https://example.com/");
    }
}
