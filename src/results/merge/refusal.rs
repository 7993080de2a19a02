//! Which runs may be merged, and why not: the refusal names the files.

use super::super::Results;

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

/// Checks that `runs` may be merged: two or more, of one scenario, with the same stages.
pub fn check(runs: &[Results]) -> Result<(), Refusal> {
    let one_whole_shard = runs.len() == 1 && runs[0].shard.as_ref().is_some_and(|s| s.count == 1);
    if runs.len() < 2 && !one_whole_shard {
        return Err(Refusal::TooFew(runs.len()));
    }
    check_shards(runs)?;
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        let key = scenario_key(r);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, files)) => files.push(i),
            None => groups.push((key, vec![i])),
        }
    }
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
