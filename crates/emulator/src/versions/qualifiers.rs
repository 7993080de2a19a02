//! Aliases and provisioned concurrency: the qualifiers beside version numbers.

use std::time::{Instant, SystemTime};

use super::{is_version_number, Alias, FunctionVersions, Provisioned, Refused};

impl FunctionVersions {
    pub fn alias(&self, name: &str) -> Result<&Alias, Refused> {
        self.aliases
            .get(name)
            .ok_or_else(|| Refused::NotFound(format!("Alias not found: {}", self.qualified(name))))
    }

    /// The aliases, by name; those of `version` only when given.
    pub fn aliases(&self, version: Option<&str>) -> Vec<(&str, &Alias)> {
        self.aliases
            .iter()
            .filter(|(_, a)| version.is_none_or(|v| a.version == v))
            .map(|(n, a)| (n.as_str(), a))
            .collect()
    }

    /// `$LATEST` or an existing version number, for an alias to name.
    fn aliasable(&self, version: &str) -> Result<(), Refused> {
        if version != "$LATEST" && !is_version_number(version) {
            return Err(Refused::Invalid(format!(
                "1 validation error detected: Value '{version}' at 'functionVersion' failed to satisfy constraint: Member must be $LATEST or a version number"
            )));
        }
        self.version(Some(version)).map(|_| ())
    }

    pub fn create_alias(
        &mut self,
        name: &str,
        version: &str,
        description: Option<&str>,
    ) -> Result<&Alias, Refused> {
        if name.is_empty()
            || is_version_number(name)
            || name == "$LATEST"
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(Refused::Invalid(format!(
                "1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)"
            )));
        }
        if self.aliases.contains_key(name) {
            return Err(Refused::Conflict(format!(
                "Alias already exists: {}",
                self.qualified(name)
            )));
        }
        self.aliasable(version)?;
        let alias = Alias {
            version: version.to_string(),
            description: description.unwrap_or_default().to_string(),
            revision: self.revision(),
        };
        self.aliases.insert(name.to_string(), alias);
        Ok(&self.aliases[name])
    }

    pub fn update_alias(
        &mut self,
        name: &str,
        version: Option<&str>,
        description: Option<&str>,
        revision: Option<&str>,
    ) -> Result<&Alias, Refused> {
        let current = self.alias(name)?.revision;
        self.check_revision(revision, current)?;
        if let Some(v) = version {
            self.aliasable(v)?;
        }
        let revision = self.revision();
        let alias = self.aliases.get_mut(name).expect("checked above");
        if let Some(v) = version {
            alias.version = v.to_string();
        }
        if let Some(d) = description {
            alias.description = d.to_string();
        }
        alias.revision = revision;
        Ok(alias)
    }

    /// DeleteAlias; its provisioned concurrency goes with it.
    pub fn delete_alias(&mut self, name: &str) -> Result<(), Refused> {
        self.alias(name)?;
        self.aliases.remove(name);
        self.provisioned.remove(name);
        Ok(())
    }

    /// PutProvisionedConcurrencyConfig on a version or an alias: that many environments of
    /// its version kept warm, `IN_PROGRESS` for the update delay.
    pub fn put_provisioned(
        &mut self,
        qualifier: Option<&str>,
        n: u64,
        now: (Instant, SystemTime),
    ) -> Result<&Provisioned, Refused> {
        let q = match qualifier {
            None | Some("$LATEST") => {
                return Err(Refused::Invalid(
                    "Provisioned Concurrency Configs cannot be applied to unpublished function versions.".into(),
                ))
            }
            Some(q) => q,
        };
        if n == 0 {
            return Err(Refused::Invalid(
                "1 validation error detected: Value '0' at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 1".into(),
            ));
        }
        let pool = self.target(Some(q))?.pool;
        let config = Provisioned {
            requested: n,
            ready_at: now.0 + self.update_delay,
            modified: now.1,
            pool: Some(pool),
        };
        self.provisioned.insert(q.to_string(), config);
        Ok(&self.provisioned[q])
    }

    pub fn provisioned(&self, qualifier: Option<&str>) -> Result<&Provisioned, Refused> {
        let q = qualifier.unwrap_or("$LATEST");
        self.provisioned.get(q).ok_or_else(|| {
            Refused::NoProvisioned(format!(
                "No Provisioned Concurrency Config found for this function: {}",
                self.qualified(q)
            ))
        })
    }

    pub fn delete_provisioned(&mut self, qualifier: Option<&str>) -> Result<(), Refused> {
        self.provisioned(qualifier)?;
        self.provisioned.remove(qualifier.unwrap_or("$LATEST"));
        Ok(())
    }
}
