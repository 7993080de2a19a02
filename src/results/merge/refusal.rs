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
    if runs.len() < 2 {
        return Err(Refusal::TooFew(runs.len()));
    }
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
