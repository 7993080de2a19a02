//! GetMetricData with aws-sdk-cloudwatch (and the REST API's name with API Gateway's
//! GetRestApi), on the command's AWS context: the same credential chain, region and
//! endpoint override as the quotas.

use aws_sdk_apigateway as apigateway;
use aws_sdk_cloudwatch as cloudwatch;
use aws_smithy_types::DateTime;
use cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};

use super::minutes::Datapoints;
use super::query::{ApiKind, ApiRef, Asked, Window};
use crate::aws::{Aws, Calls, Endpoint};
use crate::quotas::failure::{of_sdk_error, Failure};

/// Why nothing could be read: the results' `status` and a sentence.
#[derive(Clone, Debug, PartialEq)]
pub struct Unread {
    pub status: &'static str,
    pub message: String,
}

/// The clients, on one SDK configuration.
pub struct Fetcher {
    cloudwatch: cloudwatch::Client,
    apigateway: apigateway::Client,
    pub region: Option<String>,
}

/// GetMetricData answers at most this many datapoints a page; more come with a token.
const MAX_PAGES: usize = 20;

/// GetMetricData takes at most this many queries a call.
const MAX_QUERIES: usize = 500;

impl Fetcher {
    /// The clients for `region` (`None`: the chain's) at `at`.
    pub async fn connect(
        aws: &Aws,
        region: Option<&str>,
        at: &Endpoint,
    ) -> Result<Fetcher, Unread> {
        let config = aws
            .config(region, at, Calls::Quick)
            .await
            .map_err(|why| Unread {
                status: "unavailable",
                message: format!("CloudWatch not read: {}", why.reason),
            })?;
        Ok(Fetcher {
            cloudwatch: cloudwatch::Client::new(&config),
            apigateway: apigateway::Client::new(&config),
            region: config.region().map(|r| r.to_string()),
        })
    }

    /// The API whose metrics to read: a REST API by its name (GetRestApi), or, when API
    /// Gateway's v1 API does not know the id, an HTTP API by its id. The note says what
    /// could not be told.
    pub async fn api(&self, id: &str, stage: &str) -> (ApiRef, Option<String>) {
        let http = || ApiRef {
            kind: ApiKind::Http,
            id: id.to_string(),
            name: None,
            stage: stage.to_string(),
        };
        match self.apigateway.get_rest_api().rest_api_id(id).send().await {
            Ok(api) => (
                ApiRef {
                    kind: ApiKind::Rest,
                    id: id.to_string(),
                    name: api.name().map(str::to_string),
                    stage: stage.to_string(),
                },
                None,
            ),
            Err(e) => match of_sdk_error(&e, &["NotFoundException"]) {
                Failure::Code(_) => (http(), None),
                Failure::Reason(why) => (
                    http(),
                    Some(format!(
                        "apigateway:GetRestApi {id}: {why}; read as an HTTP API (ApiId), so a REST API's metrics (ApiName) are missed"
                    )),
                ),
                Failure::NoSuchResource => (http(), None),
            },
        }
    }

    /// Every query's datapoints over `window`, oldest first: up to [`MAX_QUERIES`] a call.
    pub async fn read(&self, window: &Window, queries: &[Asked<'_>]) -> Result<Datapoints, Unread> {
        let mut points = Datapoints::new();
        let built: Vec<MetricDataQuery> = queries.iter().map(|q| data_query(q, window)).collect();
        for batch in built.chunks(MAX_QUERIES) {
            self.read_batch(window, batch, &mut points).await?;
        }
        for series in points.values_mut() {
            series.sort_by_key(|p| p.0);
        }
        Ok(points)
    }

    /// One call's queries, page by page, into `points`.
    async fn read_batch(
        &self,
        window: &Window,
        batch: &[MetricDataQuery],
        points: &mut Datapoints,
    ) -> Result<(), Unread> {
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .cloudwatch
                .get_metric_data()
                .set_metric_data_queries(Some(batch.to_vec()))
                .start_time(DateTime::from_secs(window.start))
                .end_time(DateTime::from_secs(window.end))
                .scan_by(ScanBy::TimestampAscending)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| {
                    let why = match of_sdk_error(&e, &[]) {
                        Failure::Reason(r) | Failure::Code(r) => r,
                        Failure::NoSuchResource => "not found".into(),
                    };
                    Unread {
                        status: if why == "access denied" {
                            "denied"
                        } else {
                            "unavailable"
                        },
                        message: format!("cloudwatch:GetMetricData: {why}"),
                    }
                })?;
            for r in page.metric_data_results() {
                let Some(id) = r.id() else { continue };
                let into = points.entry(id.to_string()).or_default();
                for (t, v) in r.timestamps().iter().zip(r.values()) {
                    into.push((t.secs(), *v));
                }
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(())
    }
}

fn data_query(q: &Asked, window: &Window) -> MetricDataQuery {
    let dimensions = q
        .dimensions
        .iter()
        .map(|(name, value)| Dimension::builder().name(name).value(value).build())
        .collect();
    let period = if q.whole {
        window.len_s()
    } else {
        window.period_s
    };
    MetricDataQuery::builder()
        .id(q.id)
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace(q.namespace)
                        .metric_name(q.metric)
                        .set_dimensions(Some(dimensions))
                        .build(),
                )
                .period(period.min(i32::MAX as u64) as i32)
                .stat(q.stat)
                .build(),
        )
        .return_data(true)
        .build()
}
