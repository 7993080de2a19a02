//! Which source wins: every answer the calls gave, offered in the README's order (the
//! first source wins), and the calls that failed, named once each. Pure, so the
//! precedence is tested without an endpoint.

use super::failure::Failure;
use super::function::{PROVISIONED, RESERVED};
use super::{LimitKey, NotRead, QuotaSource, Quotas};

/// What one call gave: a value, or a failure to name.
pub(super) type Read<T> = std::result::Result<T, Failure>;

/// A throttle's rate and burst, each `None` when read and not set.
pub(super) type Throttle = (Option<f64>, Option<f64>);

/// A stage's throttle, and the call that read it (`apigateway:GetStage`,
/// `apigatewayv2:GetStage`).
pub(super) type StageRead = (&'static str, Read<Throttle>);

/// Service Quotas answers for one quota: the applied value, then (only when the applied
/// one was never set and nothing better is known) the AWS default.
pub(super) struct ServiceQuota {
    pub(super) key: LimitKey,
    pub(super) applied: Read<f64>,
    pub(super) default: Option<Read<f64>>,
}

/// Every answer, before deciding which source wins.
pub(super) struct Readings {
    pub(super) quotas: Vec<ServiceQuota>,
    /// `AccountLimit.ConcurrentExecutions` and `UnreservedConcurrentExecutions`.
    pub(super) account_settings: Read<(f64, Option<f64>)>,
    pub(super) reserved: Option<Read<Option<f64>>>,
    pub(super) provisioned: Option<Read<Option<f64>>>,
    /// API Gateway `throttleSettings` (rate, burst), when the account has them.
    pub(super) apigw_account: Read<Option<(f64, f64)>>,
    /// The stage's throttle (rate, burst): a REST API's `*/*` method settings, an HTTP
    /// API's default route settings; and the call that read it.
    pub(super) stage: Option<StageRead>,
}

fn api(action: &str) -> QuotaSource {
    QuotaSource::Api {
        action: action.into(),
    }
}

impl Readings {
    fn service_quota(&self, key: LimitKey) -> Option<&ServiceQuota> {
        self.quotas.iter().find(|q| q.key == key)
    }

    /// The quotas whose applied value was never set and that no other call answered.
    pub(super) fn defaults_wanted(&self) -> Vec<LimitKey> {
        let answered_elsewhere = |key| match key {
            LimitKey::LambdaConcurrentExecutions => self.account_settings.is_ok(),
            LimitKey::ApigwRate | LimitKey::ApigwBurst => {
                matches!(self.apigw_account, Ok(Some(_)))
            }
            _ => false,
        };
        self.quotas
            .iter()
            .filter(|q| q.applied == Err(Failure::NoSuchResource) && !answered_elsewhere(q.key))
            .map(|q| q.key)
            .collect()
    }

    /// Offers every reading in precedence order (the first source wins) and names what
    /// could not be read. Pure, so the precedence is tested without an endpoint.
    pub(super) fn apply(&self, quotas: &mut Quotas) {
        let mut failures = Failures::default();
        let applied_source = |key: LimitKey| {
            let (service, code) = key.quota_code().expect("a key with a quota code");
            QuotaSource::Applied {
                service: service.into(),
                code: code.into(),
            }
        };
        let default_source = |key: LimitKey| {
            let (service, code) = key.quota_code().expect("a key with a quota code");
            QuotaSource::AwsDefault {
                service: service.into(),
                code: code.into(),
            }
        };
        let offer_applied = |quotas: &mut Quotas, failures: &mut Failures, key: LimitKey| {
            if let Some(q) = self.service_quota(key) {
                match &q.applied {
                    Ok(v) => quotas.offer(key, Some(*v), applied_source(key)),
                    Err(f) => failures.add("servicequotas:GetServiceQuota", f, Some(key)),
                }
            }
        };
        let offer_default = |quotas: &mut Quotas, failures: &mut Failures, key: LimitKey| match self
            .service_quota(key)
            .and_then(|q| q.default.as_ref())
        {
            Some(Ok(v)) => quotas.offer(key, Some(*v), default_source(key)),
            Some(Err(f)) => failures.add("servicequotas:GetAWSDefaultServiceQuota", f, Some(key)),
            None => {}
        };

        // Lambda concurrent executions: applied, GetAccountSettings, AWS default.
        let account_key = LimitKey::LambdaConcurrentExecutions;
        offer_applied(quotas, &mut failures, account_key);
        const SETTINGS: &str = "lambda:GetAccountSettings";
        match &self.account_settings {
            Ok((total, unreserved)) => {
                quotas.offer(account_key, Some(*total), api(SETTINGS));
                if let Some(u) = unreserved {
                    quotas.offer(
                        LimitKey::LambdaUnreservedConcurrency,
                        Some(*u),
                        api(SETTINGS),
                    );
                }
                disagreement_note(quotas, *total);
            }
            Err(f) => failures.add(SETTINGS, f, None),
        }
        offer_default(quotas, &mut failures, account_key);

        match &self.reserved {
            Some(Ok(v)) => quotas.offer(LimitKey::FunctionReservedConcurrency, *v, api(RESERVED)),
            Some(Err(f)) => failures.add(RESERVED, f, None),
            None => {}
        }
        match &self.provisioned {
            Some(Ok(v)) => quotas.offer(
                LimitKey::FunctionProvisionedConcurrency,
                *v,
                api(PROVISIONED),
            ),
            Some(Err(f)) => failures.add(PROVISIONED, f, None),
            None => {}
        }

        // API Gateway account throttle: GetAccount is authoritative, then Service Quotas.
        const ACCOUNT: &str = "apigateway:GetAccount";
        match &self.apigw_account {
            Ok(Some((rate, burst))) => {
                quotas.offer(LimitKey::ApigwRate, Some(*rate), api(ACCOUNT));
                quotas.offer(LimitKey::ApigwBurst, Some(*burst), api(ACCOUNT));
            }
            Ok(None) => {}
            Err(f) => failures.add(ACCOUNT, f, None),
        }
        for key in [LimitKey::ApigwRate, LimitKey::ApigwBurst] {
            offer_applied(quotas, &mut failures, key);
            offer_default(quotas, &mut failures, key);
        }

        match &self.stage {
            Some((action, Ok((rate, burst)))) => {
                quotas.offer(LimitKey::StageRate, *rate, api(action));
                quotas.offer(LimitKey::StageBurst, *burst, api(action));
            }
            Some((action, Err(f))) => failures.add(action, f, None),
            None => {}
        }

        let timeout_key = LimitKey::RestIntegrationTimeoutMs;
        offer_applied(quotas, &mut failures, timeout_key);
        offer_default(quotas, &mut failures, timeout_key);

        quotas.not_read.extend(failures.into_not_read());
    }
}

/// When Service Quotas' applied value won but GetAccountSettings says otherwise, the
/// account is mid-change (or one API lags): keep both on record.
fn disagreement_note(quotas: &mut Quotas, from_settings: f64) {
    let key = LimitKey::LambdaConcurrentExecutions;
    if let Some(q) = quotas.quotas.iter_mut().find(|q| q.key == key) {
        if matches!(q.source, QuotaSource::Applied { .. }) && q.value != Some(from_settings) {
            q.note = Some(format!(
                "lambda:GetAccountSettings says {from_settings}; the applied quota is used"
            ));
        }
    }
}

/// Failed calls, one entry per action and reason, naming what each concerned (the quota
/// codes, the functions).
#[derive(Default)]
pub(super) struct Failures(Vec<(String, String, Vec<String>)>);

impl Failures {
    fn add(&mut self, action: &str, failure: &Failure, key: Option<LimitKey>) {
        let subject = key
            .and_then(LimitKey::quota_code)
            .map(|(service, code)| format!("{service} {code}"));
        self.add_about(action, failure, subject);
    }

    /// A failure of `action` about `subject` (a function, a route), when there is one.
    pub(super) fn add_about(&mut self, action: &str, failure: &Failure, subject: Option<String>) {
        let reason = match failure {
            Failure::Reason(r) => r.clone(),
            // "Never changed" is an answer, unless it came where no default exists.
            Failure::NoSuchResource => return,
            Failure::Code(c) => c.clone(),
        };
        match self
            .0
            .iter_mut()
            .find(|(a, r, _)| a == action && *r == reason)
        {
            Some((_, _, subjects)) => {
                if let Some(s) = subject.filter(|s| !subjects.contains(s)) {
                    subjects.push(s);
                }
            }
            None => self
                .0
                .push((action.to_string(), reason, subject.into_iter().collect())),
        }
    }

    /// Adds `other`'s failures to these.
    pub(super) fn extend(&mut self, other: Failures) {
        for (action, reason, subjects) in other.0 {
            let failure = Failure::Reason(reason);
            if subjects.is_empty() {
                self.add_about(&action, &failure, None);
            }
            for subject in subjects {
                self.add_about(&action, &failure, Some(subject));
            }
        }
    }

    pub(super) fn into_not_read(self) -> Vec<NotRead> {
        self.0
            .into_iter()
            .map(|(action, reason, subjects)| NotRead {
                action,
                reason: if subjects.is_empty() {
                    reason
                } else {
                    format!("{reason} ({})", subjects.join(", "))
                },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readings() -> Readings {
        Readings {
            quotas: [
                LimitKey::LambdaConcurrentExecutions,
                LimitKey::ApigwRate,
                LimitKey::ApigwBurst,
                LimitKey::RestIntegrationTimeoutMs,
            ]
            .into_iter()
            .map(|key| ServiceQuota {
                key,
                applied: Err(Failure::NoSuchResource),
                default: None,
            })
            .collect(),
            account_settings: Ok((1000.0, Some(900.0))),
            reserved: None,
            provisioned: None,
            apigw_account: Ok(Some((10_000.0, 5_000.0))),
            stage: None,
        }
    }

    fn denied() -> Failure {
        Failure::Reason("access denied".into())
    }

    #[test]
    fn applied_wins_over_account_settings_and_a_disagreement_is_noted() {
        let mut r = readings();
        r.quotas[0].applied = Ok(3000.0);
        let mut q = Quotas::default();
        r.apply(&mut q);
        let account = q.quota(LimitKey::LambdaConcurrentExecutions).unwrap();
        assert_eq!(account.value, Some(3000.0));
        assert!(matches!(account.source, QuotaSource::Applied { .. }));
        assert!(account.note.as_deref().unwrap().contains("1000"));
        assert_eq!(q.get(LimitKey::LambdaUnreservedConcurrency), Some(900.0));
        assert!(q.not_read.is_empty(), "{:?}", q.not_read);
    }

    #[test]
    fn defaults_are_asked_only_when_nothing_better_answered() {
        let mut r = readings();
        assert_eq!(r.defaults_wanted(), [LimitKey::RestIntegrationTimeoutMs]);
        r.account_settings = Err(denied());
        r.apigw_account = Err(denied());
        assert_eq!(r.defaults_wanted().len(), 4);
        r.quotas[0].default = Some(Ok(1000.0));
        r.quotas[1].default = Some(Err(denied()));
        r.quotas[2].default = Some(Err(denied()));
        let mut q = Quotas::default();
        r.apply(&mut q);
        assert!(matches!(
            q.quota(LimitKey::LambdaConcurrentExecutions)
                .unwrap()
                .source,
            QuotaSource::AwsDefault { .. }
        ));
        assert_eq!(q.get(LimitKey::ApigwRate), None);
        let actions: Vec<(&str, &str)> = q
            .not_read
            .iter()
            .map(|n| (n.action.as_str(), n.reason.as_str()))
            .collect();
        assert_eq!(
            actions,
            [
                ("lambda:GetAccountSettings", "access denied"),
                ("apigateway:GetAccount", "access denied"),
                (
                    "servicequotas:GetAWSDefaultServiceQuota",
                    "access denied (apigateway L-8A5B8E43, apigateway L-CDF5615A)"
                ),
            ]
        );
    }

    #[test]
    fn none_set_is_a_reading_not_a_gap() {
        let mut r = readings();
        r.reserved = Some(Ok(None));
        r.stage = Some(("apigateway:GetStage", Ok((Some(400.0), None))));
        let mut q = Quotas::default();
        r.apply(&mut q);
        let reserved = q.quota(LimitKey::FunctionReservedConcurrency).unwrap();
        assert_eq!(reserved.value, None);
        assert!(reserved.source.is_known());
        assert_eq!(q.get(LimitKey::StageRate), Some(400.0));
        assert!(q.quota(LimitKey::FunctionProvisionedConcurrency).is_none());
    }
}
