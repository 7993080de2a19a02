//! What the live page's `/events` stream says each second (docs/live.md, "The live page"):
//! the final seconds new since the last event, as the results' timeline has them, and the
//! run's state. Pure: fed the run's names, state and counters; the framing is
//! server-sent events' (`id:`, `event:`, `data:` lines, a blank line after each event).

use serde::Serialize;

use crate::live::metrics::About;
use crate::record::live::{CellTotals, LiveState, RequestOutcome};
use crate::record::TimelinePoint;
use crate::report::html::data::Span;
use crate::scenario::Shard;
use crate::schedule::StagePlan;

/// One second's event: the new final seconds and the state now.
#[derive(Debug, Serialize)]
pub struct Update {
    pub points: Vec<TimelinePoint>,
    pub state: Status,
}

/// The run as it is at the event.
#[derive(Debug, Serialize, PartialEq)]
pub struct Status {
    /// The stage running: its name, its place (1-based) and how many there are.
    pub stage: String,
    pub stage_number: usize,
    pub stages: usize,
    pub elapsed_s: f64,
    /// The schedule's planned length, and what is left of it (never below 0).
    pub planned_s: f64,
    pub left_s: f64,
    pub in_flight: u64,
    /// The run is stopping (a signal, an abort, the schedule's end), or its traffic has
    /// ended (the results are being written).
    pub stopping: bool,
    pub ended: bool,
    /// Logical requests ended so far, by outcome, and attempts made.
    pub totals: Totals,
    /// Each stage begun so far, from its start to the next one's (the running one to its
    /// planned end), seconds from the start.
    pub stage_spans: Vec<Span>,
}

#[derive(Debug, Default, Serialize, PartialEq)]
pub struct Totals {
    pub requests: u64,
    pub ok: u64,
    pub throttled: u64,
    pub errors: u64,
    pub attempts: u64,
    pub retries: u64,
}

/// The run's schedule, as the page needs it: the planned sends of each second.
pub struct Schedule<'a> {
    pub plans: &'a [StagePlan],
    pub shard: Shard,
}

/// The event for the seconds from `from` on (an index into `state.points`).
pub fn update(
    about: &About,
    schedule: &Schedule,
    state: &LiveState,
    cells: &[CellTotals],
    from: usize,
) -> Update {
    let points = state
        .points
        .get(from..)
        .unwrap_or_default()
        .iter()
        .map(|p| {
            let mut p = p.clone();
            // The results fill in what the schedule planned at the end; the page needs it now.
            if p.planned.is_none() {
                p.planned = crate::results::planned_in_second(
                    schedule.plans,
                    &state.stage_starts_s,
                    schedule.shard,
                    p.t_s,
                );
            }
            p
        })
        .collect();
    Update {
        points,
        state: status(about, schedule, state, cells),
    }
}

fn status(about: &About, schedule: &Schedule, state: &LiveState, cells: &[CellTotals]) -> Status {
    let elapsed_s = state.elapsed.as_secs_f64();
    let mut totals = Totals::default();
    for c in cells {
        let by = |o: RequestOutcome| c.requests[o as usize];
        totals.ok += by(RequestOutcome::Ok);
        totals.throttled += by(RequestOutcome::Throttled);
        totals.errors += by(RequestOutcome::Error);
        totals.attempts += c.attempts.iter().sum::<u64>();
        totals.retries += c.retries;
    }
    totals.requests = totals.ok + totals.throttled + totals.errors;
    Status {
        stage: about.stages.get(state.stage).cloned().unwrap_or_default(),
        stage_number: state.stage + 1,
        stages: about.stages.len(),
        elapsed_s: round3(elapsed_s),
        planned_s: round3(about.planned_s),
        left_s: round3((about.planned_s - elapsed_s).max(0.0)),
        in_flight: state.in_flight,
        stopping: state.stopping,
        ended: state.ended,
        totals,
        stage_spans: spans(about, schedule, state, elapsed_s),
    }
}

/// Each begun stage's span: to the next stage's start, or (the last begun) to its planned
/// end, at least to now.
fn spans(about: &About, schedule: &Schedule, state: &LiveState, now_s: f64) -> Vec<Span> {
    let begun: Vec<(usize, f64)> = state
        .stage_starts_s
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.map(|at| (i, at)))
        .collect();
    begun
        .iter()
        .enumerate()
        .map(|(k, &(i, start))| {
            let end = begun.get(k + 1).map_or_else(
                || {
                    let planned = schedule
                        .plans
                        .get(i)
                        .and_then(StagePlan::duration)
                        .map_or(start, |d| start + d.as_secs_f64());
                    planned.max(now_s)
                },
                |next| next.1,
            );
            Span {
                name: about.stages.get(i).cloned().unwrap_or_default(),
                start: round3(start),
                end: round3(end),
            }
        })
        .collect()
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// An update as one server-sent event; `id` is the number of seconds sent so far, which a
/// reconnecting client hands back as `Last-Event-ID`.
pub fn frame(id: usize, update: &Update) -> String {
    let json = serde_json::to_string(update).expect("an update serialises");
    format!("id: {id}\ndata: {json}\n\n")
}

/// The last event: the run is over and its report is at `/report`.
pub fn end_frame(id: usize) -> String {
    format!("id: {id}\nevent: end\ndata: {{\"report\":\"/report\"}}\n\n")
}

/// Where a client's stream starts: after the seconds its `Last-Event-ID` says it has (0,
/// all of them, without one or with one that is not ours).
pub fn resume_from(last_event_id: Option<&str>, known: usize) -> usize {
    last_event_id
        .and_then(|v| v.trim().parse::<usize>().ok())
        .map_or(0, |n| n.min(known))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn about() -> About {
        About {
            scenario: "s".into(),
            run_id: "0000abcd".into(),
            stages: vec!["warm".into(), "peak".into()],
            planned_s: 10.0,
            ..About::default()
        }
    }

    fn point(t_s: u64) -> TimelinePoint {
        TimelinePoint {
            t_s,
            sent: 5,
            ok: 5,
            ..TimelinePoint::default()
        }
    }

    fn state() -> LiveState {
        LiveState {
            stage: 1,
            elapsed: Duration::from_millis(6_500),
            in_flight: 3,
            stage_starts_s: vec![Some(0.0), Some(4.0)],
            points: (0..6).map(point).collect(),
            ..LiveState::default()
        }
    }

    #[test]
    fn an_update_has_the_new_seconds_and_the_state() {
        let mut cell = CellTotals {
            requests: [20, 2, 1, 0],
            retries: 1,
            ..CellTotals::default()
        };
        cell.attempts[0] = 20;
        cell.attempts[1] = 3;
        let cells = vec![cell];
        let schedule = Schedule {
            plans: &[],
            shard: Shard::WHOLE,
        };
        let u = update(&about(), &schedule, &state(), &cells, 4);
        assert_eq!(
            u.points.iter().map(|p| p.t_s).collect::<Vec<_>>(),
            vec![4, 5]
        );
        let s = &u.state;
        assert_eq!((s.stage.as_str(), s.stage_number, s.stages), ("peak", 2, 2));
        assert_eq!((s.elapsed_s, s.left_s, s.in_flight), (6.5, 3.5, 3));
        assert_eq!(
            s.totals,
            Totals {
                requests: 23,
                ok: 20,
                throttled: 2,
                errors: 1,
                attempts: 23,
                retries: 1
            }
        );
        // Without plans the running stage's span ends now.
        let spans: Vec<(f64, f64)> = s.stage_spans.iter().map(|s| (s.start, s.end)).collect();
        assert_eq!(spans, vec![(0.0, 4.0), (4.0, 6.5)]);
        assert_eq!(s.stage_spans[1].name, "peak");
    }

    #[test]
    fn time_left_stops_at_zero() {
        let mut st = state();
        st.elapsed = Duration::from_secs(12);
        let schedule = Schedule {
            plans: &[],
            shard: Shard::WHOLE,
        };
        assert_eq!(status(&about(), &schedule, &st, &[]).left_s, 0.0);
    }

    #[test]
    fn frames_are_server_sent_events() {
        let u = Update {
            points: vec![point(3)],
            state: status(
                &about(),
                &Schedule {
                    plans: &[],
                    shard: Shard::WHOLE,
                },
                &state(),
                &[],
            ),
        };
        let f = frame(4, &u);
        assert!(f.starts_with("id: 4\ndata: {"), "{f}");
        assert!(f.ends_with("}\n\n"), "{f}");
        assert_eq!(f.matches('\n').count(), 3, "one data line: {f}");
        let json: serde_json::Value = serde_json::from_str(&f[f.find('{').unwrap()..]).unwrap();
        assert_eq!(json["points"][0]["t_s"], 3);
        assert_eq!(json["state"]["stage"], "peak");
        assert!(end_frame(6).contains("event: end\n"));
    }

    #[test]
    fn a_reconnecting_client_resumes_after_what_it_has() {
        assert_eq!(resume_from(None, 9), 0);
        assert_eq!(resume_from(Some("4"), 9), 4);
        assert_eq!(resume_from(Some("40"), 9), 9);
        assert_eq!(resume_from(Some("x"), 9), 0);
    }
}
