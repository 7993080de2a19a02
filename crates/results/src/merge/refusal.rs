//! Which runs may be merged, and why not: the refusal names the files. Each run counts
//! once (a file given twice, or a copy of one, would add its requests twice), the runs are
//! of one scenario with the same stages, and shards make one whole test.

use crate::Results;

/// Why runs cannot be merged; file numbers are indices into the input.
#[derive(Clone, Debug, PartialEq)]
pub enum Refusal {
    TooFew(usize),
    /// Groups of files by scenario: (what identifies it, the files).
    DifferentScenarios(Vec<(String, Vec<usize>)>),
    /// The first file's stages, a file with other stages, and those.
    DifferentStages {
        first: Vec<String>,
        file: usize,
        stages: Vec<String>,
    },
    /// A histogram that does not decode, a start time or threshold that does not parse.
    Unreadable {
        file: usize,
        why: String,
    },
    /// Shards of a split test that do not make a whole: what is wrong, in words.
    Shards(String),
    /// Files that are one file on disk (the same path, a link to it).
    SameFile(Vec<usize>),
    /// Files that hold the same run (a copy of a file, or a merged file and a run in it):
    /// what identifies the run, and the files.
    SameRun {
        run: String,
        files: Vec<usize>,
    },
    /// Shards started at different instants: different tests. Each `--start-at` (or
    /// "no --start-at") and the files.
    DifferentStarts(Vec<(String, Vec<usize>)>),
    /// `--out` is this input file.
    OutIsInput(usize),
}

impl Refusal {
    /// The one-line error (and expected form), naming the files by `names`.
    pub fn describe(&self, names: &[String]) -> String {
        let name = |i: &usize| names.get(*i).cloned().unwrap_or_else(|| format!("#{i}"));
        match self {
            Refusal::TooFew(n) => format!(
                "merge: {n} results file{} given\n  expected: 2 or more results files of one scenario",
                if *n == 1 { "" } else { "s" }
            ),
            Refusal::DifferentScenarios(groups) => {
                let said: Vec<String> = groups
                    .iter()
                    .map(|(id, files)| {
                        let files: Vec<String> = files.iter().map(name).collect();
                        format!("{} ran scenario {id}", files.join(", "))
                    })
                    .collect();
                format!(
                    "merge: the files ran different scenarios: {}\n  expected: runs of one scenario (the same scenario_id: name, target, method, stage names and kinds; rates may differ)",
                    said.join("; ")
                )
            }
            Refusal::DifferentStages {
                first,
                file,
                stages,
            } => format!(
                "merge: {} has stages [{}], {} has [{}]\n  expected: the same stages, in the same order, in every file",
                name(&0),
                first.join(", "),
                name(file),
                stages.join(", ")
            ),
            Refusal::Shards(why) => format!(
                "merge: {why}\n  expected: every shard of the test once (shard-0-of-N.json … shard-(N−1)-of-N.json), each run with the same --shard count"
            ),
            Refusal::SameFile(files) => format!(
                "merge: {} are one file: its requests would be counted {} times\n  expected: each results file once",
                files.iter().map(name).collect::<Vec<_>>().join(" and "),
                files.len()
            ),
            Refusal::SameRun { run, files } => format!(
                "merge: {} hold the same run ({run}): its requests would be counted {} times\n  expected: each run once (a merged file already holds the runs it was merged from)",
                files.iter().map(name).collect::<Vec<_>>().join(" and "),
                files.len()
            ),
            Refusal::DifferentStarts(groups) => {
                let said: Vec<String> = groups
                    .iter()
                    .map(|(start, files)| {
                        let files: Vec<String> = files.iter().map(name).collect();
                        format!("{} {start}", files.join(", "))
                    })
                    .collect();
                format!(
                    "merge: the shards were started at different instants, so they are shards of different tests: {}\n  expected: the shards of one test, each run with the same --start-at",
                    said.join("; ")
                )
            }
            Refusal::OutIsInput(file) => format!(
                "merge: --out {} is one of the files to merge: writing it would destroy an input\n  expected: --out a new file",
                name(file)
            ),
            Refusal::Unreadable { file, why } => format!(
                "merge: {}: {why}\n  expected: a results file as `stampede run --out` writes it",
                name(file)
            ),
        }
    }
}

/// What identifies a run's scenario: its `scenario_id`, or for files written before there
/// was one, its name, method and target.
fn scenario_key(r: &Results) -> String {
    match &r.scenario_id {
        Some(id) => id.clone(),
        None => format!(
            "{:?} ({} {})",
            r.name.as_deref().unwrap_or(""),
            r.target.method,
            r.target.url
        ),
    }
}

fn stage_list(r: &Results) -> Vec<String> {
    r.stages
        .iter()
        .map(|s| format!("{} ({})", s.name, s.kind))
        .collect()
}

/// Files by `key`, in the order first seen.
fn group_by<K: PartialEq>(keys: impl IntoIterator<Item = K>) -> Vec<(K, Vec<usize>)> {
    let mut groups: Vec<(K, Vec<usize>)> = Vec::new();
    for (i, key) in keys.into_iter().enumerate() {
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, files)) => files.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    groups
}

/// Where the files are on disk, one identity per file (device and inode, say: what a link
/// or another spelling of a path cannot change; `None` for a file not on disk), and where
/// `--out` is when it exists: no file may be given twice, nor be written over.
pub fn check_files<F: PartialEq + Copy>(
    inputs: &[Option<F>],
    out: Option<F>,
) -> Result<(), Refusal> {
    if let Some(i) = out.and_then(|o| inputs.iter().position(|f| *f == Some(o))) {
        return Err(Refusal::OutIsInput(i));
    }
    let on_disk = inputs
        .iter()
        .enumerate()
        .filter_map(|(i, f)| f.map(|f| (i, f)));
    for (i, f) in on_disk {
        let same: Vec<usize> = (i..inputs.len())
            .filter(|j| inputs[*j] == Some(f))
            .collect();
        if same.len() > 1 {
            return Err(Refusal::SameFile(same));
        }
    }
    Ok(())
}

/// What identifies each run a file holds: its `run_id`, or a merged file's `merged.runs`.
/// A file from before run ids is known by its start, its shard and its counts — two runs
/// alike in all of those are one run read twice.
fn run_keys(r: &Results) -> Vec<String> {
    if let Some(id) = &r.run_id {
        return vec![format!("run_id {id}")];
    }
    if let Some(m) = r.merged.as_ref().filter(|m| !m.runs.is_empty()) {
        return m.runs.iter().map(|id| format!("run_id {id}")).collect();
    }
    let shard = r
        .shard
        .as_ref()
        .map(|s| format!(", shard {}/{}", s.index, s.count))
        .unwrap_or_default();
    vec![format!(
        "started {}{shard}, {} requests, {} attempts",
        r.started_at, r.totals.requests, r.attempts.sent
    )]
}

/// No run in two files.
fn check_runs(runs: &[Results]) -> Result<(), Refusal> {
    let mut seen: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        for key in run_keys(r) {
            match seen.iter_mut().find(|(k, _)| *k == key) {
                Some((_, files)) if !files.contains(&i) => files.push(i),
                Some(_) => {}
                None => seen.push((key, vec![i])),
            }
        }
    }
    match seen.into_iter().find(|(_, files)| files.len() > 1) {
        Some((run, files)) => Err(Refusal::SameRun { run, files }),
        None => Ok(()),
    }
}

/// Checks that `runs` may be merged: two or more, each run once, of one scenario, with the
/// same stages.
pub fn check(runs: &[Results]) -> Result<(), Refusal> {
    let one_whole_shard = runs.len() == 1 && runs[0].shard.as_ref().is_some_and(|s| s.count == 1);
    if runs.len() < 2 && !one_whole_shard {
        return Err(Refusal::TooFew(runs.len()));
    }
    check_runs(runs)?;
    check_shards(runs)?;
    let groups = group_by(runs.iter().map(scenario_key));
    if groups.len() > 1 {
        return Err(Refusal::DifferentScenarios(groups));
    }
    let first = stage_list(&runs[0]);
    for (i, r) in runs.iter().enumerate().skip(1) {
        let stages = stage_list(r);
        if stages != first {
            return Err(Refusal::DifferentStages {
                first,
                file: i,
                stages,
            });
        }
    }
    Ok(())
}

/// Shards (results with `shard`) must be a whole: one count, every index once. Runs without
/// `shard` merge as before; the two kinds do not mix.
fn check_shards(runs: &[Results]) -> Result<(), Refusal> {
    let shards: Vec<_> = runs.iter().map(|r| r.shard.as_ref()).collect();
    if shards.iter().all(Option::is_none) {
        return Ok(());
    }
    if let Some(i) = shards.iter().position(Option::is_none) {
        return Err(Refusal::Shards(format!(
            "file #{} is not a shard (no `shard` in it) while the others are",
            i + 1
        )));
    }
    let shards: Vec<_> = shards.into_iter().flatten().collect();
    // One test's shards share its --start-at; without one, nothing tells tests apart.
    let starts = group_by(shards.iter().map(|s| s.start_at.as_deref()));
    if starts.len() > 1 {
        return Err(Refusal::DifferentStarts(
            starts
                .into_iter()
                .map(|(at, files)| {
                    let at =
                        at.map_or("without --start-at".into(), |at| format!("--start-at {at}"));
                    (at, files)
                })
                .collect(),
        ));
    }
    let count = shards[0].count;
    if let Some(other) = shards.iter().find(|s| s.count != count) {
        return Err(Refusal::Shards(format!(
            "shards of different splits: {}/{count} and {}/{}",
            shards[0].index, other.index, other.count
        )));
    }
    let mut seen = vec![0u32; count as usize];
    for s in &shards {
        seen[s.index as usize] += 1;
    }
    let twice: Vec<String> = (0..count)
        .filter(|i| seen[*i as usize] > 1)
        .map(|i| i.to_string())
        .collect();
    if !twice.is_empty() {
        return Err(Refusal::Shards(format!(
            "shard {} of {count} given more than once",
            twice.join(", ")
        )));
    }
    let missing: Vec<String> = (0..count)
        .filter(|i| seen[*i as usize] == 0)
        .map(|i| format!("shard-{i}-of-{count}.json"))
        .collect();
    if !missing.is_empty() {
        return Err(Refusal::Shards(format!(
            "{} of {count} shards missing: {}",
            missing.len(),
            missing.join(", ")
        )));
    }
    Ok(())
}
