//! The Lambda control-plane calls a tune makes (aws-sdk-lambda on the command's shared AWS
//! context): read the configuration, set the memory and wait for it, publish and delete
//! versions, read and move an alias. Each failure said in words, with the call's name.

use std::time::{Duration, Instant};

use aws_sdk_lambda as lambda;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use lambda::error::ProvideErrorMetadata;
use lambda::types::LastUpdateStatus;

use crate::aws::{Aws, Calls, Endpoint};
use crate::quotas::failure::{of_sdk_error, Failure};
use stampede_lambda::Architecture;

/// How long an update may stay `InProgress` before the tune gives up on it.
pub const UPDATE_WAIT: Duration = Duration::from_secs(120);
const POLL_EVERY: Duration = Duration::from_millis(500);
const NOT_FOUND: &str = "ResourceNotFoundException";

/// `$LATEST` as read.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    pub memory: u64,
    pub revision_id: Option<String>,
    pub architecture: Architecture,
}

/// The control plane of one function.
pub struct Control {
    aws: &'static Aws,
    client: lambda::Client,
    pub function: String,
    pub region: Option<String>,
}

impl Control {
    /// A client for `function` in `region` (`None`: the chain's) at `at`; or why no call
    /// could be made (no region, no credentials).
    pub fn new(
        aws: &'static Aws,
        function: &str,
        region: Option<&str>,
        at: &Endpoint,
    ) -> Result<Control, String> {
        let config = aws
            .block_on(aws.config(region, at, Calls::Quick))
            .map_err(|u| u.reason)?;
        Ok(Control {
            aws,
            region: config.region().map(|r| r.to_string()),
            client: lambda::Client::new(&config),
            function: function.to_string(),
        })
    }

    /// `GetFunctionConfiguration` of `$LATEST`.
    pub fn read(&self) -> Result<Found, String> {
        let out = self
            .aws
            .block_on(
                self.client
                    .get_function_configuration()
                    .function_name(&self.function)
                    .send(),
            )
            .map_err(|e| said("GetFunctionConfiguration", &of_sdk_error(&e, &[])))?;
        let arm = out.architectures().iter().any(|a| a.as_str() == "arm64");
        Ok(Found {
            memory: out.memory_size().unwrap_or(128).max(0) as u64,
            revision_id: out.revision_id().map(str::to_string),
            architecture: if arm {
                Architecture::Arm64
            } else {
                Architecture::X86_64
            },
        })
    }

    /// `UpdateFunctionConfiguration(MemorySize)`, then `GetFunctionConfiguration` until
    /// `LastUpdateStatus` is `Successful` (`Failed`, or past [`UPDATE_WAIT`], is an error).
    pub fn set_memory(&self, mb: u64) -> Result<(), String> {
        self.aws
            .block_on(
                self.client
                    .update_function_configuration()
                    .function_name(&self.function)
                    .memory_size(mb as i32)
                    .send(),
            )
            .map_err(|e| said("UpdateFunctionConfiguration", &of_sdk_error(&e, &[])))?;
        self.wait_updated(mb)
    }

    fn wait_updated(&self, mb: u64) -> Result<(), String> {
        let began = Instant::now();
        loop {
            let out = self
                .aws
                .block_on(
                    self.client
                        .get_function_configuration()
                        .function_name(&self.function)
                        .send(),
                )
                .map_err(|e| said("GetFunctionConfiguration", &of_sdk_error(&e, &[])))?;
            match out.last_update_status() {
                // No status: a stand-in that applies updates at once.
                Some(LastUpdateStatus::Successful) | None => return Ok(()),
                Some(LastUpdateStatus::Failed) => {
                    return Err(format!(
                        "setting {mb} MB failed: {}",
                        out.last_update_status_reason().unwrap_or("no reason given")
                    ))
                }
                Some(_) if began.elapsed() > UPDATE_WAIT => {
                    return Err(format!(
                        "setting {mb} MB was still in progress after {} s",
                        UPDATE_WAIT.as_secs()
                    ))
                }
                Some(_) => std::thread::sleep(POLL_EVERY),
            }
        }
    }

    /// `PublishVersion`: the new version's number.
    pub fn publish(&self, mb: u64) -> Result<String, String> {
        let out = self
            .aws
            .block_on(
                self.client
                    .publish_version()
                    .function_name(&self.function)
                    .description(format!("stampede tune: {mb} MB"))
                    .send(),
            )
            .map_err(|e| said("PublishVersion", &of_sdk_error(&e, &[])))?;
        out.version()
            .map(str::to_string)
            .ok_or_else(|| "PublishVersion: the answer named no version".into())
    }

    /// `DeleteFunction` of `version`; a version already gone is fine.
    pub fn delete_version(&self, version: &str) -> Result<(), String> {
        let answer = self.aws.block_on(
            self.client
                .delete_function()
                .function_name(&self.function)
                .qualifier(version)
                .send(),
        );
        unless_gone("DeleteFunction", answer).map(drop)
    }

    /// `GetAlias`: the version `alias` points at; `None` when there is no such alias.
    pub fn alias(&self, alias: &str) -> Result<Option<String>, String> {
        let answer = self.aws.block_on(
            self.client
                .get_alias()
                .function_name(&self.function)
                .name(alias)
                .send(),
        );
        let found = unless_gone("GetAlias", answer)?;
        Ok(found.and_then(|out| out.function_version().map(str::to_string)))
    }

    /// `UpdateAlias` to `version`, or `CreateAlias` when `exists` is false.
    pub fn point_alias(&self, alias: &str, version: &str, exists: bool) -> Result<(), String> {
        let (call, answer) = if exists {
            let a = self.aws.block_on(
                self.client
                    .update_alias()
                    .function_name(&self.function)
                    .name(alias)
                    .function_version(version)
                    .send(),
            );
            (
                "UpdateAlias",
                a.map(|_| ()).map_err(|e| of_sdk_error(&e, &[])),
            )
        } else {
            let a = self.aws.block_on(
                self.client
                    .create_alias()
                    .function_name(&self.function)
                    .name(alias)
                    .function_version(version)
                    .send(),
            );
            (
                "CreateAlias",
                a.map(|_| ()).map_err(|e| of_sdk_error(&e, &[])),
            )
        };
        answer.map_err(|f| said(call, &f))
    }

    /// `DeleteAlias` (an alias tune created and must take back); gone already is fine.
    pub fn delete_alias(&self, alias: &str) -> Result<(), String> {
        let answer = self.aws.block_on(
            self.client
                .delete_alias()
                .function_name(&self.function)
                .name(alias)
                .send(),
        );
        unless_gone("DeleteAlias", answer).map(drop)
    }
}

/// `call`'s answer, where "no such function, version or alias" is an answer too (`None`):
/// deleting what is already gone, reading an alias that is not there.
fn unless_gone<T, E>(
    call: &str,
    answer: Result<T, SdkError<E, HttpResponse>>,
) -> Result<Option<T>, String>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match answer {
        Ok(out) => Ok(Some(out)),
        Err(e) => match of_sdk_error(&e, &[NOT_FOUND]) {
            Failure::Code(_) => Ok(None),
            other => Err(said(call, &other)),
        },
    }
}

fn said(call: &str, failure: &Failure) -> String {
    match failure {
        Failure::NoSuchResource => format!("lambda:{call}: no such resource"),
        Failure::Code(c) | Failure::Reason(c) => format!("lambda:{call}: {c}"),
    }
}
