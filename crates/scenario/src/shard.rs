//! One machine's part of a test split across N (`--shard I/N`, or the index an engine sets
//! in the environment), and the instant every part starts (`--start-at`). Pure: the
//! environment is read through a function the caller passes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Shard `index` of `count` (0 ≤ index < count): the global requests, workers and burst
/// members whose number ≡ index (mod count). The union of the shards is the whole schedule,
/// each request in exactly one shard, whatever the count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Default for Shard {
    fn default() -> Shard {
        Shard::WHOLE
    }
}

/// Where a shard came from, for messages and the results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardSource {
    Flag,
    /// Kubernetes Indexed Job: `JOB_COMPLETION_INDEX` with `STAMPEDE_SHARDS`.
    Kubernetes,
    /// AWS Batch array job: `AWS_BATCH_JOB_ARRAY_INDEX`, `AWS_BATCH_JOB_ARRAY_SIZE`.
    AwsBatch,
    /// `STAMPEDE_SHARD=I/N` (ECS RunTask overrides, anything else).
    Environment,
}

impl ShardSource {
    pub fn describe(self) -> &'static str {
        match self {
            ShardSource::Flag => "--shard",
            ShardSource::Kubernetes => "JOB_COMPLETION_INDEX and STAMPEDE_SHARDS",
            ShardSource::AwsBatch => "AWS_BATCH_JOB_ARRAY_INDEX and AWS_BATCH_JOB_ARRAY_SIZE",
            ShardSource::Environment => "STAMPEDE_SHARD",
        }
    }
}

/// The most shards a test may be split into.
pub const MAX_SHARDS: u64 = 10_000;

pub const SHARD_FORM: &str =
    "I/N with 0 ≤ I < N ≤ 10000, such as 0/3, 1/3 and 2/3 for three shards (I counts from 0, as Kubernetes and AWS Batch do)";

impl Shard {
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    pub fn new(index: u64, count: u64) -> Result<Shard, String> {
        if count == 0 || count > MAX_SHARDS {
            return Err(format!("{count} shards: between 1 and {MAX_SHARDS}"));
        }
        if index >= count {
            return Err(format!(
                "shard {index} of {count}: shards are numbered 0 to {}",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// "I/N".
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (i, n) = text
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not I/N"))?;
        let num = |s: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| format!("`{text}`: `{}` is not a whole number", s.trim()))
        };
        Shard::new(num(i)?, num(n)?)
    }

    pub fn is_whole(self) -> bool {
        self.count == 1
    }

    /// Lane `lane` of this shard's `lanes`: its first global item and the stride between its
    /// items. Lanes of all shards together deal items round-robin, as `count · lanes` lanes
    /// of one machine would.
    pub fn lane_part(self, lane: u64, lanes: u64) -> (u64, u64) {
        (self.index + self.count * lane, self.count * lanes)
    }

    /// How many of items `0..total` are this shard's.
    pub fn share(self, total: u64) -> u64 {
        share_of(total, self.index, self.count)
    }

    /// The file a shard's results go to in a shared store.
    pub fn file_name(self) -> String {
        format!("shard-{}-of-{}.json", self.index, self.count)
    }

    /// Reads a shard file's name back: (index, count).
    pub fn from_file_name(name: &str) -> Option<Shard> {
        let rest = name.strip_prefix("shard-")?.strip_suffix(".json")?;
        let (i, n) = rest.split_once("-of-")?;
        Shard::new(i.parse().ok()?, n.parse().ok()?).ok()
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Item `id`'s part of `total` items dealt round-robin to `parts`: how many of `0..total`
/// are ≡ id (mod parts).
pub fn share_of(total: u64, id: u64, parts: u64) -> u64 {
    total / parts + u64::from(id < total % parts)
}

/// The shard this process runs: `--shard` (parsed already) first, then the engines'
/// variables. `env` reads one variable. Err: what is wrong, naming the variables.
pub fn resolve(
    flag: Option<Shard>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<(Shard, ShardSource)>, String> {
    let bad = |source: ShardSource, why: String| format!("{}: {why}", source.describe());
    if let Some(shard) = flag {
        return Ok(Some((shard, ShardSource::Flag)));
    }
    let number = |name: &str, source: ShardSource| -> Result<Option<u64>, String> {
        match env(name).filter(|v| !v.trim().is_empty()) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .map(Some)
                .map_err(|_| bad(source, format!("{name}={v:?} is not a whole number"))),
        }
    };
    if let Some(index) = number("JOB_COMPLETION_INDEX", ShardSource::Kubernetes)? {
        let Some(count) = number("STAMPEDE_SHARDS", ShardSource::Kubernetes)? else {
            return Err(bad(
                ShardSource::Kubernetes,
                format!("JOB_COMPLETION_INDEX={index} is set but STAMPEDE_SHARDS is not: set it to the Job's completions"),
            ));
        };
        return Shard::new(index, count)
            .map(|s| Some((s, ShardSource::Kubernetes)))
            .map_err(|why| bad(ShardSource::Kubernetes, why));
    }
    if let Some(index) = number("AWS_BATCH_JOB_ARRAY_INDEX", ShardSource::AwsBatch)? {
        let Some(count) = number("AWS_BATCH_JOB_ARRAY_SIZE", ShardSource::AwsBatch)? else {
            return Err(bad(
                ShardSource::AwsBatch,
                format!("AWS_BATCH_JOB_ARRAY_INDEX={index} is set but AWS_BATCH_JOB_ARRAY_SIZE is not: set it to the array size"),
            ));
        };
        return Shard::new(index, count)
            .map(|s| Some((s, ShardSource::AwsBatch)))
            .map_err(|why| bad(ShardSource::AwsBatch, why));
    }
    match env("STAMPEDE_SHARD").filter(|v| !v.trim().is_empty()) {
        Some(v) => Shard::parse(&v)
            .map(|s| Some((s, ShardSource::Environment)))
            .map_err(|why| bad(ShardSource::Environment, why)),
        None => Ok(None),
    }
}

/// `--start-at`: RFC 3339 with its offset ("2026-11-27T21:00:00Z", "…+01:00") or seconds
/// since the Unix epoch ("1795813200", "1795813200.5").
pub fn parse_start_at(text: &str) -> Result<SystemTime, String> {
    let t = text.trim();
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(t) {
        return Ok(at.into());
    }
    match t.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 => {
            Ok(UNIX_EPOCH + Duration::from_secs_f64(secs))
        }
        _ => Err(format!(
            "`{text}` is neither an RFC 3339 time with its offset nor Unix seconds"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn every_item_is_in_exactly_one_shard_and_lane() {
        for count in [1u64, 2, 3, 7] {
            for total in [0u64, 1, 5, 100, 101, 1000] {
                let mut seen = vec![0u32; total as usize];
                let mut shares = 0;
                for index in 0..count {
                    let shard = Shard::new(index, count).unwrap();
                    shares += shard.share(total);
                    // Shards on machines with different lane counts.
                    let lanes = 1 + index % 3;
                    let mut in_shard = 0;
                    for lane in 0..lanes {
                        let (first, stride) = shard.lane_part(lane, lanes);
                        let mut i = first;
                        while i < total {
                            seen[i as usize] += 1;
                            in_shard += 1;
                            i += stride;
                        }
                        assert_eq!(
                            share_of(total, first, stride),
                            (first..total).step_by(stride as usize).count() as u64
                        );
                    }
                    assert_eq!(in_shard, shard.share(total));
                }
                assert_eq!(shares, total);
                assert!(seen.iter().all(|n| *n == 1), "{count} shards of {total}");
            }
        }
    }

    #[test]
    fn the_flag_wins_then_kubernetes_then_batch_then_stampede_shard() {
        let k8s = [("JOB_COMPLETION_INDEX", "2"), ("STAMPEDE_SHARDS", "5")];
        assert_eq!(
            resolve(Some(Shard::new(1, 3).unwrap()), env(&k8s)).unwrap(),
            Some((Shard::new(1, 3).unwrap(), ShardSource::Flag))
        );
        assert_eq!(
            resolve(None, env(&k8s)).unwrap(),
            Some((Shard::new(2, 5).unwrap(), ShardSource::Kubernetes))
        );
        let batch = [
            ("AWS_BATCH_JOB_ARRAY_INDEX", "0"),
            ("AWS_BATCH_JOB_ARRAY_SIZE", "4"),
        ];
        assert_eq!(
            resolve(None, env(&batch)).unwrap(),
            Some((Shard::new(0, 4).unwrap(), ShardSource::AwsBatch))
        );
        assert_eq!(
            resolve(None, env(&[("STAMPEDE_SHARD", "6/7")])).unwrap(),
            Some((Shard::new(6, 7).unwrap(), ShardSource::Environment))
        );
        assert_eq!(resolve(None, env(&[])).unwrap(), None);
    }

    #[test]
    fn bad_shards_name_their_source_and_what_is_wrong() {
        for (text, says) in [
            ("3/3", "shard 3 of 3: shards are numbered 0 to 2"),
            ("1-3", "`1-3` is not I/N"),
            ("0/0", "0 shards"),
        ] {
            let e = Shard::parse(text).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
        for (vars, says) in [
            (
                vec![("JOB_COMPLETION_INDEX", "1")],
                "STAMPEDE_SHARDS is not",
            ),
            (
                vec![("JOB_COMPLETION_INDEX", "x"), ("STAMPEDE_SHARDS", "2")],
                "\"x\" is not a whole number",
            ),
            (
                vec![("AWS_BATCH_JOB_ARRAY_INDEX", "1")],
                "AWS_BATCH_JOB_ARRAY_SIZE is not",
            ),
            (
                vec![("STAMPEDE_SHARD", "2/2")],
                "STAMPEDE_SHARD: shard 2 of 2",
            ),
        ] {
            let e = resolve(None, env(&vars)).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
    }

    #[test]
    fn file_names_read_back_and_start_times_parse() {
        let s = Shard::new(2, 7).unwrap();
        assert_eq!(s.file_name(), "shard-2-of-7.json");
        assert_eq!(Shard::from_file_name("shard-2-of-7.json"), Some(s));
        assert_eq!(Shard::from_file_name("shard-7-of-7.json"), None);
        assert_eq!(Shard::from_file_name("abort.json"), None);
        let at = parse_start_at("2026-11-27T21:00:00Z").unwrap();
        assert_eq!(at, UNIX_EPOCH + Duration::from_secs(1_795_813_200));
        assert_eq!(parse_start_at("1795813200").unwrap(), at);
        assert_eq!(
            parse_start_at("1795813200.5").unwrap(),
            at + Duration::from_millis(500)
        );
        assert_eq!(parse_start_at("2026-11-27T22:00:00+01:00").unwrap(), at);
        assert!(parse_start_at("tomorrow").is_err());
    }
}
