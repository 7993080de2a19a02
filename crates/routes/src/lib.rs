//! Routes as API Gateway writes them (`POST /orders`, `GET /orders/{id}`, `ANY /{proxy+}`)
//! and the one a request selects, by API Gateway's precedence: at each path segment a
//! literal beats a `{param}`, which beats a greedy `{proxy+}`; then a method beats `ANY`.
//! Pure.

use std::collections::BTreeMap;
use std::fmt;

/// The methods a route may name (`ANY`: every one).
pub const METHODS: [&str; 8] = [
    "ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    Literal(String),
    Param(String),
    /// `{name+}`: the rest of the path, one segment or more. Last only.
    Greedy(String),
}

/// A route: `METHOD /path`, as the API defines it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutePattern {
    /// `None`: `ANY`.
    pub method: Option<String>,
    pub segments: Vec<Segment>,
}

impl fmt::Display for RoutePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            self.method.as_deref().unwrap_or("ANY"),
            self.path()
        )
    }
}

impl RoutePattern {
    /// `"POST /orders/{id}"`; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<RoutePattern, String> {
        let Some((method, path)) = text.trim().split_once(' ') else {
            return Err(format!("`{text}` is not `METHOD /path`"));
        };
        let method = method.trim().to_ascii_uppercase();
        if !METHODS.contains(&method.as_str()) {
            return Err(format!("unknown method `{method}`"));
        }
        let path = path.trim();
        if !path.starts_with('/') {
            return Err(format!("the path `{path}` does not start with /"));
        }
        let mut segments = Vec::new();
        let parts: Vec<&str> = path[1..].split('/').filter(|s| !s.is_empty()).collect();
        let mut names = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let segment = match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(inner) => {
                    let (name, greedy) = match inner.strip_suffix('+') {
                        Some(n) => (n, true),
                        None => (inner, false),
                    };
                    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                        return Err(format!("bad path parameter `{part}`"));
                    }
                    if names.contains(&name) {
                        return Err(format!("path parameter `{name}` appears twice"));
                    }
                    names.push(name);
                    if greedy && i + 1 != parts.len() {
                        return Err(format!("`{part}` is greedy: it must be the last segment"));
                    }
                    if greedy {
                        Segment::Greedy(name.to_string())
                    } else {
                        Segment::Param(name.to_string())
                    }
                }
                None if part.contains(['{', '}']) => {
                    return Err(format!("bad path segment `{part}`"))
                }
                None => Segment::Literal(part.to_string()),
            };
            segments.push(segment);
        }
        Ok(RoutePattern {
            method: (method != "ANY").then_some(method),
            segments,
        })
    }

    /// The path as the API writes it: `/orders/{id}`.
    pub fn path(&self) -> String {
        let parts: Vec<String> = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Literal(l) => l.clone(),
                Segment::Param(p) => format!("{{{p}}}"),
                Segment::Greedy(p) => format!("{{{p}+}}"),
            })
            .collect();
        format!("/{}", parts.join("/"))
    }

    /// The method as the API writes it (`ANY` included).
    pub fn method_name(&self) -> &str {
        self.method.as_deref().unwrap_or("ANY")
    }

    /// The path parameters when `method path` selects this route.
    pub fn matches(&self, method: &str, path: &str) -> Option<BTreeMap<String, String>> {
        if self
            .method
            .as_deref()
            .is_some_and(|m| !m.eq_ignore_ascii_case(method))
        {
            return None;
        }
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut params = BTreeMap::new();
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Literal(l) if parts.get(i) == Some(&l.as_str()) => {}
                Segment::Literal(_) => return None,
                Segment::Param(name) => {
                    params.insert(name.clone(), decode(parts.get(i)?));
                }
                Segment::Greedy(name) => {
                    if parts.len() <= i {
                        return None;
                    }
                    params.insert(name.clone(), decode(&parts[i..].join("/")));
                    return Some(params);
                }
            }
        }
        (parts.len() == self.segments.len()).then_some(params)
    }

    /// How specific the route is: compared segment by segment (literal > param >
    /// greedy), a longer path before a shorter, then a method before `ANY`.
    fn specificity(&self) -> (Vec<u8>, bool) {
        let ranks = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Literal(_) => 3,
                Segment::Param(_) => 2,
                Segment::Greedy(_) => 1,
            })
            .collect();
        (ranks, self.method.is_some())
    }
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// The route `method path` selects among `routes` (its index) and its path parameters.
pub fn select(
    routes: &[RoutePattern],
    method: &str,
    path: &str,
) -> Option<(usize, BTreeMap<String, String>)> {
    routes
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.matches(method, path).map(|p| (i, p)))
        .max_by(|(a, _), (b, _)| routes[*a].specificity().cmp(&routes[*b].specificity()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(texts: &[&str]) -> Vec<RoutePattern> {
        texts
            .iter()
            .map(|t| RoutePattern::parse(t).unwrap())
            .collect()
    }

    fn chosen(rs: &[RoutePattern], method: &str, path: &str) -> Option<String> {
        select(rs, method, path).map(|(i, _)| rs[i].to_string())
    }

    #[test]
    fn routes_parse_and_print_as_written() {
        let r = RoutePattern::parse("post /orders/{id}/items/{rest+}").unwrap();
        assert_eq!(r.to_string(), "POST /orders/{id}/items/{rest+}");
        assert_eq!(RoutePattern::parse("ANY /").unwrap().to_string(), "ANY /");
        for bad in [
            "/orders",
            "FETCH /orders",
            "GET orders",
            "GET /{proxy+}/x",
            "GET /{}",
            "GET /{a}/{a}",
            "GET /a{b}",
        ] {
            assert!(RoutePattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn exact_beats_param_beats_greedy_and_method_beats_any() {
        let rs = routes(&[
            "ANY /{proxy+}",
            "GET /orders/{id}",
            "GET /orders/special",
            "ANY /orders/special",
            "POST /orders",
        ]);
        assert_eq!(
            chosen(&rs, "GET", "/orders/special").as_deref(),
            Some("GET /orders/special")
        );
        assert_eq!(
            chosen(&rs, "DELETE", "/orders/special").as_deref(),
            Some("ANY /orders/special")
        );
        assert_eq!(
            chosen(&rs, "GET", "/orders/42").as_deref(),
            Some("GET /orders/{id}")
        );
        assert_eq!(
            chosen(&rs, "GET", "/orders/42/x").as_deref(),
            Some("ANY /{proxy+}")
        );
        assert_eq!(
            chosen(&rs, "POST", "/orders").as_deref(),
            Some("POST /orders")
        );
        assert_eq!(
            chosen(&rs, "GET", "/").as_deref(),
            None,
            "greedy needs a segment"
        );
        let (_, params) = select(&rs, "GET", "/orders/a%20b").unwrap();
        assert_eq!(params["id"], "a b");
        let (_, params) = select(&rs, "PUT", "/x/y/z").unwrap();
        assert_eq!(params["proxy"], "x/y/z");
        assert_eq!(chosen(&routes(&["GET /orders"]), "POST", "/orders"), None);
    }
}
