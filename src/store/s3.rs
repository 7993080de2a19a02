//! The S3 side of a store: `s3://bucket/prefix/`, through aws-sdk-s3 with the standard
//! credential chain and region, `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_S3`) honoured, as
//! the AWS CLI does.

use std::future::Future;
use std::sync::OnceLock;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;

/// A bucket and a key prefix ending in `/` (or empty: the bucket's top).
#[derive(Clone, Debug, PartialEq)]
pub struct S3Location {
    pub bucket: String,
    pub prefix: String,
}

impl S3Location {
    /// What follows `s3://`: `bucket/prefix/` (the trailing slash says it is a prefix).
    pub fn parse(rest: &str) -> Result<S3Location, String> {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err("s3://: no bucket".into());
        }
        if !prefix.is_empty() && !prefix.ends_with('/') {
            return Err(format!(
                "s3://{rest}: a store is a prefix, written with a trailing slash (s3://{rest}/)"
            ));
        }
        Ok(S3Location {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }

    pub fn url(&self, name: &str) -> String {
        format!("s3://{}/{}{name}", self.bucket, self.prefix)
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }
}

/// A client for the store's calls.
pub struct S3 {
    client: Client,
}

fn io(what: &str, e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("{what}: {e}"))
}

/// The SDK error with its service message (DisplayErrorContext), not just "service error".
fn sdk(what: &str, e: impl std::error::Error) -> std::io::Error {
    io(what, aws_sdk_s3::error::DisplayErrorContext(e))
}

impl S3 {
    async fn connect(aws: &crate::aws::Aws) -> S3 {
        use crate::aws::{Calls, Endpoint};
        let config = aws.unchecked(None, &Endpoint::Aws, Calls::Store).await;
        // A local stand-in (moto, MinIO) answers on one host: buckets go in the path.
        let path_style = std::env::var_os("AWS_ENDPOINT_URL").is_some()
            || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
        let s3 = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(path_style)
            .build();
        S3 {
            client: Client::from_conf(s3),
        }
    }

    /// The prefix can be listed (the bucket exists, the credentials may read it).
    pub async fn check(&self, at: &S3Location) -> std::io::Result<()> {
        self.list(at).await.map(|_| ())
    }

    pub async fn put(&self, at: &S3Location, name: &str, bytes: Vec<u8>) -> std::io::Result<()> {
        self.client
            .put_object()
            .bucket(&at.bucket)
            .key(at.key(name))
            .content_type("application/json")
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk(&format!("PutObject {}", at.url(name)), e))
    }

    pub async fn get(&self, at: &S3Location, name: &str) -> std::io::Result<Option<Vec<u8>>> {
        match self
            .client
            .get_object()
            .bucket(&at.bucket)
            .key(at.key(name))
            .send()
            .await
        {
            Ok(out) => {
                let body = out
                    .body
                    .collect()
                    .await
                    .map_err(|e| io(&format!("GetObject {}", at.url(name)), e))?;
                Ok(Some(body.into_bytes().to_vec()))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(sdk(&format!("GetObject {}", at.url(name)), e)),
        }
    }

    pub async fn list(&self, at: &S3Location) -> std::io::Result<Vec<String>> {
        let mut names = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&at.bucket)
            .prefix(&at.prefix)
            .delimiter("/")
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk(&format!("ListObjectsV2 {}", at.url("")), e))?;
            for object in page.contents() {
                if let Some(name) = object.key().and_then(|k| k.strip_prefix(&at.prefix)) {
                    names.push(name.to_string());
                }
            }
        }
        Ok(names)
    }
}

/// Runs one S3 call, for the synchronous callers (the commands, the abort watcher's thread),
/// on the command's AWS context and one client for the whole process: the credential chain
/// is read once. Never called from inside the engine's runtimes.
pub fn blocking<'a, T, F, Fut>(call: F) -> std::io::Result<T>
where
    F: FnOnce(&'a S3) -> Fut,
    Fut: Future<Output = std::io::Result<T>>,
{
    static SHARED: OnceLock<Result<(&crate::aws::Aws, S3), String>> = OnceLock::new();
    let shared = SHARED.get_or_init(|| {
        let aws = crate::aws::Aws::shared().map_err(|e| e.to_string())?;
        Ok((aws, aws.block_on(S3::connect(aws))))
    });
    match shared {
        Ok((aws, client)) => aws.block_on(call(client)),
        Err(why) => Err(std::io::Error::other(why.clone())),
    }
}
