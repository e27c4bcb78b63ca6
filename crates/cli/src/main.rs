//! `commitlab`: run Commit Lab scenarios headless.
//!
//! ```text
//! commitlab presets
//! commitlab scenario <preset>
//! commitlab run <preset|file.json|link> [--until <ms>] [--format text|json|mermaid]
//! commitlab link <preset|file.json> [--step <n>]
//! commitlab links
//! commitlab stats <preset|file.json> [--seeds <n>] [--election-ms <min>-<max>]
//! commitlab explore <preset|file.json|link> [--bfs|--dfs] [--threads <n>] [bounds]
//! commitlab explore --spec two-phase|tcommit --rms <n> [--symmetry]
//! ```
//! Exit status: 0 when the run completes with every invariant holding, 1 when an invariant is
//! violated, 2 for invalid input.

mod explore;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use commitlab_sim::export::{mermaid, run_json, tables_text, trace_text, verdict_text};
use commitlab_sim::summary::{self, RunSummary};
use commitlab_sim::{comparison, link, preset, Scenario, Shared, Simulation, View, COMPARISONS, PRESETS};
use std::process::ExitCode;

const USAGE: &str = "usage:
  commitlab presets                       list the preset scenarios
  commitlab scenario <preset>             print a preset as scenario JSON
  commitlab run <preset|file.json|link> [--until <ms>] [--format text|json|mermaid]
                                          run a scenario (a preset, a file, or a share link: the
                                          whole URL or its #s=... fragment), print the trace, the
                                          state tables and the invariant verdicts; exit 1 if an
                                          invariant is violated
  commitlab link <preset|file.json> [--step <n>]
                                          print the share link fragment (#s=1....) of a scenario
  commitlab link <a> <b> --at <ms>        print the link of the compare view (#c=...) of two runs
  commitlab links                         every preset's share link length
  commitlab stats <preset|file.json> [--seeds <n>] [--election-ms <min>-<max>]
                                          run a scenario with seeds s, s+1, ... (n of them, 100 by
                                          default) and print distributions: time in doubt, time
                                          without a leader after a leader crash, latency, messages
  commitlab compare <a> <b> [<c> ...] [--until <ms>]
  commitlab compare <comparison|#c=link> [--until <ms>]
                                          run two or more scenarios (presets, files, or a named
                                          comparison or comparison link from the compare view) and
                                          print their costs side by side, transaction by transaction:
                                          messages by kind, message delays to the decision,
                                          durable writes, time in doubt, time blocked
  commitlab comparisons                   list the named comparisons
  commitlab explore <preset|file.json|link> [--bfs|--dfs] [--threads <n>]
                  [--lose <n>] [--duplicate <n>] [--crash <n>] [--restart <n>] [--timers <n>]
                  [--max-states <n>] [--max-depth <n>] [--first]
                                          explore every order in which the scenario's steps can
                                          happen (single-node 2PC) within the bounds (default:
                                          lose 1, duplicate 0, crash 1, restart 1, timers 2; one
                                          thread unless --threads, specs use every core),
                                          checking every invariant in every state; print each
                                          verdict and each counterexample as a share link (--first:
                                          stop at the first violation); exit 1 if one is found
  commitlab explore --spec two-phase|tcommit --rms <n> [--symmetry] [--bfs|--dfs] [--threads <n>]
                                          explore Lamport's TwoPhase or TCommit specification";

enum Format {
    Text,
    Json,
    Mermaid,
}

struct RunArgs {
    source: String,
    until_ms: Option<u64>,
    format: Format,
}

fn main() -> ExitCode {
    restore_default_sigpipe();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("commitlab: {message}");
            ExitCode::from(2)
        }
    }
}

/// Rust ignores SIGPIPE, so printing into a closed pipe (`commitlab run busy | head`) would panic;
/// a command-line tool should end quietly instead, as other Unix tools do.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn run(args: &[String]) -> Result<ExitCode, String> {
    match args.first().map(String::as_str) {
        Some("presets") => {
            for preset in PRESETS {
                println!("{:<34} {}", preset.name, preset.title);
            }
            Ok(ExitCode::SUCCESS)
        }
        Some("scenario") => {
            let name = args.get(1).ok_or_else(|| format!("which preset?\n{USAGE}"))?;
            let scenario = load_preset(name)?;
            println!("{}", scenario.to_json_pretty());
            Ok(ExitCode::SUCCESS)
        }
        Some("run") => run_scenario(parse_run_args(&args[1..])?),
        Some("link") => print_link(&args[1..]),
        Some("stats") => print_stats(&args[1..]),
        Some("compare") => print_compare(&args[1..]),
        Some("explore") => explore::run(&args[1..], load),
        Some("comparisons") => {
            for comparison in COMPARISONS {
                println!("{:<34} {}", comparison.name, comparison.title);
            }
            Ok(ExitCode::SUCCESS)
        }
        Some("links") => {
            for preset in PRESETS {
                let shared = Shared { scenario: (preset.build)(), view: View::default() };
                let link = link::encode(&shared).map_err(|error| error.to_string())?;
                println!("{:<34} {:>4} characters", preset.name, link.len() + "#s=".len());
            }
            Ok(ExitCode::SUCCESS)
        }
        Some("help" | "--help" | "-h") => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        Some(other) => Err(format!("unknown command `{other}`\n{USAGE}")),
        None => Err(USAGE.to_string()),
    }
}

fn parse_run_args(args: &[String]) -> Result<RunArgs, String> {
    let mut source = None;
    let mut until_ms = None;
    let mut format = Format::Text;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--until" => until_ms = Some(parse_until(rest.next())?),
            "--format" => {
                format = match rest.next().map(String::as_str) {
                    Some("text") => Format::Text,
                    Some("json") => Format::Json,
                    Some("mermaid") => Format::Mermaid,
                    Some(other) => return Err(format!("--format: `{other}` is not one of text, json, mermaid")),
                    None => return Err("--format needs one of text, json, mermaid".to_string()),
                }
            }
            flag if flag.starts_with("--") => return Err(format!("unknown option `{flag}`\n{USAGE}")),
            _ if source.is_some() => return Err(format!("unexpected argument `{arg}`\n{USAGE}")),
            _ => source = Some(arg.clone()),
        }
    }
    let source = source.ok_or_else(|| format!("run what? name a preset or a scenario file\n{USAGE}"))?;
    Ok(RunArgs { source, until_ms, format })
}

/// `commitlab stats`: the same scenario over many seeds, measured.
fn print_stats(args: &[String]) -> Result<ExitCode, String> {
    let mut source = None;
    let mut seeds: u64 = 100;
    let mut election = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--seeds" => {
                let value = rest.next().ok_or("--seeds needs a count")?;
                seeds = value
                    .parse()
                    .ok()
                    .filter(|count| (1..=1_000_000).contains(count))
                    .ok_or_else(|| format!("--seeds: `{value}` is not a whole number between 1 and 1000000"))?;
            }
            "--election-ms" => {
                let value = rest.next().ok_or("--election-ms needs a range such as 150-300")?;
                let range = value.split_once('-').and_then(|(min, max)| Some((min.parse().ok()?, max.parse().ok()?)));
                election =
                    Some(range.ok_or_else(|| format!("--election-ms: `{value}` is not a range such as 150-300"))?);
            }
            flag if flag.starts_with("--") => return Err(format!("unknown option `{flag}`\n{USAGE}")),
            _ if source.is_some() => return Err(format!("unexpected argument `{arg}`\n{USAGE}")),
            _ => source = Some(arg.clone()),
        }
    }
    let source = source.ok_or_else(|| format!("stats of what? name a preset or a scenario file\n{USAGE}"))?;
    let mut scenario = load(&source)?;
    if let Some((min, max)) = election {
        scenario.replication.election_timeout_ms_min = min;
        scenario.replication.election_timeout_ms_max = max;
        scenario.validate().map_err(|error| error.to_string())?;
    }
    let first = scenario.seed;
    let last = first.checked_add(seeds).ok_or("the seeds would overflow")?;
    let stats = commitlab_sim::stats::RunStats::over_seeds(&scenario, first..last);
    println!("# {source}: {seeds} runs, seeds {first} to {}", last - 1);
    if let Some((min, max)) = election {
        println!("# election timeouts {min}-{max} ms");
    }
    print!("{stats}");
    Ok(ExitCode::SUCCESS)
}

fn print_link(args: &[String]) -> Result<ExitCode, String> {
    let (source, step) = match args {
        [source] => (source, None),
        [source, flag, step] if flag == "--step" => {
            (source, Some(step.parse::<u64>().map_err(|_| format!("--step: `{step}` is not a whole number"))?))
        }
        [a, b, flag, ms] if flag == "--at" => {
            let time_ms =
                ms.parse::<u64>().map_err(|_| format!("--at: `{ms}` is not a whole number of milliseconds"))?;
            let side = |source: &str| load(source).map(|scenario| Shared { scenario, view: View::default() });
            let pair = link::SharedPair { a: side(a)?, b: side(b)?, time_ms };
            let encoded = link::encode_pair(&pair).map_err(|error| error.to_string())?;
            println!("#c={encoded}");
            eprintln!("{} characters", encoded.len() + "#c=".len());
            return Ok(ExitCode::SUCCESS);
        }
        _ => {
            return Err(format!(
                "link takes a preset or file and an optional --step <n>, or two and --at <ms>\n{USAGE}"
            ))
        }
    };
    let shared = Shared { scenario: load(source)?, view: View { step, ..View::default() } };
    let link = link::encode(&shared).map_err(|error| error.to_string())?;
    println!("#s={link}");
    eprintln!("{} characters", link.len() + "#s=".len());
    Ok(ExitCode::SUCCESS)
}

/// The value of `--until`: a time in milliseconds.
fn parse_until(value: Option<&String>) -> Result<u64, String> {
    let value = value.ok_or("--until needs a time in milliseconds")?;
    value.parse().map_err(|_| format!("--until: `{value}` is not a whole number of milliseconds"))
}

fn print_compare(args: &[String]) -> Result<ExitCode, String> {
    let mut sources = Vec::new();
    let mut until_ms = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--until" => until_ms = Some(parse_until(rest.next())?),
            other if other.starts_with("--") => return Err(format!("unknown option `{other}`\n{USAGE}")),
            other => sources.push(other.to_string()),
        }
    }
    let scenarios: Vec<(String, Scenario)> = match sources.as_slice() {
        [one] if one.trim_start_matches('#').starts_with(link::COMPARE_KEY) => {
            let pair =
                link::decode_pair(one).map_err(|error| format!("the comparison link cannot be opened: {error}"))?;
            until_ms = until_ms.or(Some(pair.time_ms));
            vec![("run A".to_string(), pair.a.scenario), ("run B".to_string(), pair.b.scenario)]
        }
        [one] => {
            let found = comparison(one).ok_or_else(|| {
                let names: Vec<&str> = COMPARISONS.iter().map(|comparison| comparison.name).collect();
                format!("compare needs two scenarios, or one named comparison ({})", names.join(", "))
            })?;
            vec![(found.name.to_string(), (found.a)()), (found.name.to_string(), (found.b)())]
        }
        [] => return Err(format!("compare needs at least two scenarios\n{USAGE}")),
        many => many
            .iter()
            .map(|source| load(source).map(|scenario| (source.clone(), scenario)))
            .collect::<Result<_, _>>()?,
    };
    let mut summaries = Vec::new();
    for (source, scenario) in scenarios {
        let mut simulation = Simulation::new(scenario).map_err(|error| format!("{source}: {error}"))?;
        simulation.run_to_end();
        match until_ms {
            Some(ms) => simulation.seek_time(ms),
            None => simulation.seek_step(simulation.total_steps()),
        }
        summaries.push(RunSummary::of(&simulation));
    }
    print!("{}", summary::table(&summaries.iter().collect::<Vec<_>>()));
    Ok(ExitCode::SUCCESS)
}

fn load_preset(name: &str) -> Result<Scenario, String> {
    preset(name).map(|preset| (preset.build)()).ok_or_else(|| {
        let names: Vec<&str> = PRESETS.iter().map(|preset| preset.name).collect();
        format!("no preset named `{name}` (presets: {})", names.join(", "))
    })
}

/// A preset name, a scenario file, or a share link: the whole URL
/// (`https://.../#s=1....`), the fragment (`#s=1....`) or the part after `#s=`.
fn load(source: &str) -> Result<Scenario, String> {
    if let Some(fragment) = share_fragment(source) {
        if fragment.starts_with(link::COMPARE_KEY) {
            return Err("that is a comparison link (#c=...): open it with `commitlab compare '<link>'`".to_string());
        }
        let shared = link::decode(fragment).map_err(|error| format!("the link cannot be opened: {error}"))?;
        return Ok(shared.scenario);
    }
    if preset(source).is_some() {
        return load_preset(source);
    }
    let looks_like_file = source.ends_with(".json") || source.contains('/') || std::path::Path::new(source).exists();
    if !looks_like_file {
        return load_preset(source);
    }
    let text = std::fs::read_to_string(source).map_err(|error| format!("cannot read {source}: {error}"))?;
    Scenario::from_json(&text).map_err(|error| format!("{source}: {error}"))
}

/// The fragment of a share link (`s=...` or `c=...`), if `source` is one.
fn share_fragment(source: &str) -> Option<&str> {
    let source = source.trim();
    let fragment = match source.split_once('#') {
        Some((_, fragment)) => fragment,
        None if source.starts_with(link::LINK_KEY) && source.contains('.') => source,
        None => return None,
    };
    (fragment.starts_with(link::LINK_KEY) || fragment.starts_with(link::COMPARE_KEY)).then_some(fragment)
}

fn run_scenario(args: RunArgs) -> Result<ExitCode, String> {
    let scenario = load(&args.source)?;
    let mut simulation = Simulation::new(scenario).map_err(|error| format!("{}: {error}", args.source))?;
    match args.until_ms {
        Some(until_ms) => simulation.seek_time(until_ms),
        None => {
            simulation.run_to_end();
            simulation.seek_step(simulation.total_steps());
        }
    }
    let violated = simulation.invariants().iter().any(|status| status.violation.is_some());
    match args.format {
        Format::Text => print_text(&simulation),
        Format::Json => print_json(&simulation),
        Format::Mermaid => print!("{}", mermaid(&simulation)),
    }
    Ok(if violated { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn stop_text(simulation: &Simulation) -> String {
    if simulation.cursor_step() < simulation.total_steps() || simulation.stop().is_none() {
        return "stopped here as asked by --until; the run goes on".to_string();
    }
    match simulation.stop() {
        Some(commitlab_sim::Stop::Quiescent) => "nothing left to happen".to_string(),
        Some(commitlab_sim::Stop::EndTime) => format!("end time {} ms reached", simulation.scenario().end_ms),
        Some(commitlab_sim::Stop::StepLimit) => format!("step limit {} reached", simulation.scenario().max_steps),
        None => "cursor before the end of the run".to_string(),
    }
}

fn print_text(simulation: &Simulation) {
    let scenario = simulation.scenario();
    // Settings that change what the tables mean are named; the defaults keep the line as it was.
    let writes = match scenario.writes {
        commitlab_protocol::WriteMode::InPlace => "",
        commitlab_protocol::WriteMode::Deferred => ", writes deferred: balances change at COMMIT",
    };
    println!("# scenario {} (seed {}{writes})", scenario.name, scenario.seed);
    println!("## trace");
    print!("{}", trace_text(simulation.trace_to_cursor()));
    println!("## state at {} ms (step {})", simulation.now_ms(), simulation.cursor_step());
    print!("{}", tables_text(simulation));
    println!("## verdict");
    print!("{}", verdict_text(simulation));
    println!(
        "## {} steps, {} ms, {}; trace hash {:016x}",
        simulation.cursor_step(),
        simulation.now_ms(),
        stop_text(simulation),
        commitlab_sim::simulation::trace_hash(simulation.trace_to_cursor())
    );
}

fn print_json(simulation: &Simulation) {
    println!("{}", serde_json::to_string_pretty(&run_json(simulation)).expect("serialisable"));
}
