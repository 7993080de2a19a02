//! A function's versions, aliases and provisioned concurrency, as Lambda's control plane
//! changes them: `$LATEST` (its configuration changed by UpdateFunctionConfiguration,
//! `InProgress` for `update_delay`, then `Successful`), numbered versions (PublishVersion:
//! a snapshot of `$LATEST`), aliases naming a version, and provisioned concurrency on a
//! version or an alias. Each version runs in execution environments of its own (its
//! [`Pool`]): a fresh version starts cold. Pure: the caller passes the clock; [`api`]
//! answers Lambda's REST calls from it.

pub mod api;
mod qualifiers;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

/// What UpdateFunctionConfiguration changes, and a version keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionConfig {
    pub memory_mb: u64,
    /// Seconds; reported only (the emulator has no function timeout).
    pub timeout_s: u64,
}

/// A version's execution environments.
pub type Pool = u64;

/// `$LATEST` or a published version.
#[derive(Clone, Debug, PartialEq)]
pub struct Version {
    pub config: VersionConfig,
    pub pool: Pool,
    /// Its RevisionId's number.
    pub revision: u64,
    pub modified: SystemTime,
    pub description: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Alias {
    /// `$LATEST` or a version number.
    pub version: String,
    pub description: String,
    pub revision: u64,
}

/// A provisioned concurrency config on a version or an alias.
#[derive(Clone, Debug, PartialEq)]
pub struct Provisioned {
    pub requested: u64,
    /// `IN_PROGRESS` until then, `READY` after.
    pub ready_at: Instant,
    pub modified: SystemTime,
    /// The environments it keeps warm; `None` for the settings' `provisioned_concurrency`,
    /// which is reported only.
    pub pool: Option<Pool>,
}

/// What an invocation runs: the executed version, its memory, its environments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub version: String,
    pub memory_mb: u64,
    pub pool: Pool,
}

/// Why a call is refused, as Lambda says it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    /// 404 `ResourceNotFoundException`.
    NotFound(String),
    /// 409 `ResourceConflictException`.
    Conflict(String),
    /// 400 `InvalidParameterValueException`.
    Invalid(String),
    /// 412 `PreconditionFailedException`: a stale RevisionId.
    Stale(String),
    /// 404 `ProvisionedConcurrencyConfigNotFoundException`.
    NoProvisioned(String),
}

/// `LastUpdateStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateStatus {
    InProgress,
    Successful,
}

/// The function's versions, aliases and provisioned concurrency.
pub struct FunctionVersions {
    /// The function's unqualified ARN, for messages and answers.
    pub arn: String,
    pub latest: Version,
    /// An update of `$LATEST` is in progress until then.
    updating_until: Option<Instant>,
    published: BTreeMap<u64, Version>,
    /// The highest version number given (numbers are never reused).
    last_number: u64,
    /// The version `$LATEST` is unchanged since, if any: PublishVersion returns it again.
    latest_published_as: Option<u64>,
    aliases: BTreeMap<String, Alias>,
    provisioned: BTreeMap<String, Provisioned>,
    update_delay: Duration,
    next_pool: Pool,
    next_revision: u64,
}

fn is_version_number(q: &str) -> bool {
    !q.is_empty() && q.bytes().all(|b| b.is_ascii_digit())
}

impl FunctionVersions {
    /// A function as configured: `$LATEST`, version 1 with the same configuration (sharing
    /// its environments until `$LATEST` changes), and `alias` naming version 1, with the
    /// settings' provisioned concurrency on it (reported only).
    pub fn new(
        arn: String,
        config: VersionConfig,
        alias: &str,
        reported_provisioned: Option<u64>,
        update_delay: Duration,
        now: (Instant, SystemTime),
    ) -> FunctionVersions {
        let latest = Version {
            config,
            pool: 0,
            revision: 1,
            modified: now.1,
            description: String::new(),
        };
        let mut v = FunctionVersions {
            arn,
            published: BTreeMap::from([(1, latest.clone())]),
            latest,
            updating_until: None,
            last_number: 1,
            latest_published_as: Some(1),
            aliases: BTreeMap::new(),
            provisioned: BTreeMap::new(),
            update_delay,
            next_pool: 1,
            next_revision: 2,
        };
        let revision = v.revision();
        v.aliases.insert(
            alias.to_string(),
            Alias {
                version: "1".into(),
                description: String::new(),
                revision,
            },
        );
        if let Some(n) = reported_provisioned {
            v.provisioned.insert(
                alias.to_string(),
                Provisioned {
                    requested: n,
                    ready_at: now.0,
                    modified: now.1,
                    pool: None,
                },
            );
        }
        v
    }

    fn revision(&mut self) -> u64 {
        self.next_revision += 1;
        self.next_revision - 1
    }

    fn pool(&mut self) -> Pool {
        self.next_pool += 1;
        self.next_pool - 1
    }

    fn qualified(&self, q: &str) -> String {
        format!("{}:{q}", self.arn)
    }

    fn not_found(&self, q: &str) -> Refused {
        Refused::NotFound(format!("Function not found: {}", self.qualified(q)))
    }

    fn in_progress(&self) -> Refused {
        Refused::Conflict(format!(
            "The operation cannot be performed at this time. An update is in progress for resource: {}",
            self.arn
        ))
    }

    pub fn update_status(&self, now: Instant) -> UpdateStatus {
        match self.updating_until {
            Some(until) if now < until => UpdateStatus::InProgress,
            _ => UpdateStatus::Successful,
        }
    }

    /// The version `qualifier` names (none: `$LATEST`), an alias followed to its version:
    /// its number (or `$LATEST`) and what it runs.
    pub fn version(&self, qualifier: Option<&str>) -> Result<(String, &Version), Refused> {
        let q = qualifier.unwrap_or("$LATEST");
        if q == "$LATEST" {
            return Ok(("$LATEST".into(), &self.latest));
        }
        if is_version_number(q) {
            let n: u64 = q.parse().map_err(|_| self.not_found(q))?;
            return match self.published.get(&n) {
                Some(v) => Ok((n.to_string(), v)),
                None => Err(self.not_found(q)),
            };
        }
        match self.aliases.get(q) {
            Some(a) => self.version(Some(&a.version.clone())),
            None => Err(self.not_found(q)),
        }
    }

    /// What an invocation of `qualifier` runs.
    pub fn target(&self, qualifier: Option<&str>) -> Result<Target, Refused> {
        let (version, v) = self.version(qualifier)?;
        Ok(Target {
            version,
            memory_mb: v.config.memory_mb,
            pool: v.pool,
        })
    }

    /// UpdateFunctionConfiguration of `$LATEST`: `InProgress` for the update delay, in
    /// fresh environments (Lambda restarts them on a change).
    pub fn update(
        &mut self,
        memory_mb: Option<u64>,
        timeout_s: Option<u64>,
        revision: Option<&str>,
        now: (Instant, SystemTime),
    ) -> Result<&Version, Refused> {
        if self.update_status(now.0) == UpdateStatus::InProgress {
            return Err(self.in_progress());
        }
        self.check_revision(revision, self.latest.revision)?;
        if let Some(m) = memory_mb.filter(|m| !(128..=10240).contains(m)) {
            return Err(Refused::Invalid(format!(
                "1 validation error detected: Value '{m}' at 'memorySize' failed to satisfy constraint: Member must have value between 128 and 10240"
            )));
        }
        if let Some(t) = timeout_s.filter(|t| !(1..=900).contains(t)) {
            return Err(Refused::Invalid(format!(
                "1 validation error detected: Value '{t}' at 'timeout' failed to satisfy constraint: Member must have value between 1 and 900"
            )));
        }
        let config = VersionConfig {
            memory_mb: memory_mb.unwrap_or(self.latest.config.memory_mb),
            timeout_s: timeout_s.unwrap_or(self.latest.config.timeout_s),
        };
        self.latest.config = config;
        self.latest.pool = self.pool();
        self.latest.revision = self.revision();
        self.latest.modified = now.1;
        self.latest_published_as = None;
        self.updating_until = Some(now.0 + self.update_delay);
        Ok(&self.latest)
    }

    fn check_revision(&self, given: Option<&str>, current: u64) -> Result<(), Refused> {
        match given {
            Some(r) if r != revision_id(current) => Err(Refused::Stale(
                "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id".into(),
            )),
            _ => Ok(()),
        }
    }

    /// PublishVersion: a numbered snapshot of `$LATEST`, in environments of its own; the
    /// last version again when `$LATEST` has not changed since it was published.
    pub fn publish(
        &mut self,
        description: Option<&str>,
        revision: Option<&str>,
        now: (Instant, SystemTime),
    ) -> Result<(u64, &Version), Refused> {
        if self.update_status(now.0) == UpdateStatus::InProgress {
            return Err(self.in_progress());
        }
        self.check_revision(revision, self.latest.revision)?;
        if let Some(n) = self
            .latest_published_as
            .filter(|n| self.published.contains_key(n))
        {
            return Ok((n, &self.published[&n]));
        }
        self.last_number += 1;
        let n = self.last_number;
        let version = Version {
            config: self.latest.config.clone(),
            pool: self.pool(),
            revision: self.revision(),
            modified: now.1,
            description: description.unwrap_or_default().to_string(),
        };
        self.published.insert(n, version);
        self.latest_published_as = Some(n);
        Ok((n, &self.published[&n]))
    }

    /// `$LATEST` then every published version, oldest first.
    pub fn versions(&self) -> Vec<(String, &Version)> {
        let mut all = vec![("$LATEST".to_string(), &self.latest)];
        all.extend(self.published.iter().map(|(n, v)| (n.to_string(), v)));
        all
    }

    /// DeleteFunction with a version number: that version goes, unless an alias names it.
    /// The function itself (and `$LATEST`) is never deleted.
    pub fn delete_version(&mut self, qualifier: Option<&str>) -> Result<(), Refused> {
        let q = match qualifier {
            None => {
                return Err(Refused::Invalid(
                    "the emulator does not delete its functions: give a version number as Qualifier to delete that version".into(),
                ))
            }
            Some("$LATEST") => {
                return Err(Refused::Invalid(
                    "$LATEST version cannot be deleted without deleting the function.".into(),
                ))
            }
            Some(q) if !is_version_number(q) => {
                return Err(Refused::Invalid(format!(
                    "Deletion of aliases is not supported. Use DeleteAlias to delete alias {q}."
                )))
            }
            Some(q) => q,
        };
        let n: u64 = q.parse().map_err(|_| self.not_found(q))?;
        if !self.published.contains_key(&n) {
            return Err(self.not_found(q));
        }
        let naming: Vec<&str> = self
            .aliases
            .iter()
            .filter(|(_, a)| a.version == q)
            .map(|(name, _)| name.as_str())
            .collect();
        if !naming.is_empty() {
            return Err(Refused::Conflict(format!(
                "Unable to delete version because the following aliases reference it: [{}]",
                naming.join(", ")
            )));
        }
        self.published.remove(&n);
        self.provisioned.remove(q);
        if self.latest_published_as == Some(n) {
            self.latest_published_as = None;
        }
        Ok(())
    }

    /// The pools some version still runs in.
    pub fn pools(&self) -> Vec<Pool> {
        let mut pools: Vec<Pool> = self.versions().iter().map(|(_, v)| v.pool).collect();
        pools.sort_unstable();
        pools.dedup();
        pools
    }

    /// How many environments each pool keeps warm for provisioned concurrency.
    pub fn kept_warm(&self) -> BTreeMap<Pool, u64> {
        let mut kept = BTreeMap::new();
        for p in self.provisioned.values() {
            if let Some(pool) = p.pool {
                *kept.entry(pool).or_insert(0) += p.requested;
            }
        }
        kept
    }
}

/// A RevisionId for revision number `n`, shaped as Lambda's (a UUID).
pub fn revision_id(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}
