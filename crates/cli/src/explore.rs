//! `commitlab explore`: every interleaving of a small scenario, or of Lamport's TwoPhase / TCommit.

use super::USAGE;
use commitlab_explore::implementation::{Bounds, Implementation};
use commitlab_explore::spec::{TCommit, TwoPhase};
use commitlab_explore::{explore, grouped, Model, Options, Progress, Report, Search, Verdict};
use commitlab_sim::{link, Choice, Shared, View};
use std::process::ExitCode;
use std::time::Instant;

/// The largest `--threads`, `--max-states` and `--max-depth` accepted.
const MAX_STATES: u64 = 1_000_000_000;
const MAX_DEPTH: u32 = 10_000;

struct ExploreArgs {
    source: Option<String>,
    spec: Option<String>,
    rms: Option<usize>,
    symmetry: bool,
    bounds: Bounds,
    options: Options,
}

fn number<T: std::str::FromStr + PartialOrd + std::fmt::Display>(
    flag: &str,
    value: Option<&String>,
    max: T,
) -> Result<T, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a number"))?;
    let parsed: T = value.parse().map_err(|_| format!("{flag}: `{value}` is not a whole number (0 or more)"))?;
    if parsed > max {
        return Err(format!("{flag}: {value} is more than the limit of {max}"));
    }
    Ok(parsed)
}

fn parse(args: &[String]) -> Result<ExploreArgs, String> {
    let mut parsed = ExploreArgs {
        source: None,
        spec: None,
        rms: None,
        symmetry: false,
        bounds: Bounds::default(),
        options: Options { progress_every: 20_000, ..Options::default() },
    };
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut threads = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let max = Bounds::MAX;
        match arg.as_str() {
            "--bfs" => parsed.options.search = Search::BreadthFirst,
            "--dfs" => parsed.options.search = Search::DepthFirst,
            "--threads" => threads = Some(number("--threads", rest.next(), commitlab_explore::MAX_THREADS)?),
            "--lose" => parsed.bounds.losses = number("--lose", rest.next(), max)?,
            "--duplicate" => parsed.bounds.duplicates = number("--duplicate", rest.next(), max)?,
            "--crash" => parsed.bounds.crashes = number("--crash", rest.next(), max)?,
            "--restart" => parsed.bounds.restarts = number("--restart", rest.next(), max)?,
            "--timers" => parsed.bounds.timers = number("--timers", rest.next(), max)?,
            "--max-states" => match number("--max-states", rest.next(), MAX_STATES)? {
                0 => return Err("--max-states: must be at least 1 (leave it out for no limit)".to_string()),
                max => parsed.options.max_states = Some(max),
            },
            "--max-depth" => parsed.options.max_depth = Some(number("--max-depth", rest.next(), MAX_DEPTH)?),
            "--spec" => parsed.spec = Some(rest.next().ok_or("--spec needs two-phase or tcommit")?.clone()),
            "--rms" => parsed.rms = Some(number("--rms", rest.next(), commitlab_explore::spec::MAX_RMS)?),
            "--symmetry" => parsed.symmetry = true,
            "--first" => parsed.options.stop_at_first = true,
            flag if flag.starts_with("--") => return Err(format!("unknown option `{flag}`\n{USAGE}")),
            _ if parsed.source.is_some() => return Err(format!("unexpected argument `{arg}`\n{USAGE}")),
            _ => parsed.source = Some(arg.clone()),
        }
    }
    // A spec's breadth-first search takes every core unless told otherwise. A scenario's takes
    // one: its states are whole worlds, and every copy of one touches reference counts that all
    // states share, so threads contend for them (measured: 2 threads do twice the work of one on
    // a 2-core machine). Depth-first search is sequential.
    parsed.options.threads = match (threads, parsed.options.search) {
        (Some(0), _) => return Err("--threads: must be at least 1".to_string()),
        (Some(threads), _) => threads,
        (None, Search::BreadthFirst) if parsed.spec.is_some() => cores,
        (None, _) => 1,
    };
    Ok(parsed)
}

pub fn run(
    args: &[String],
    load: impl Fn(&str) -> Result<commitlab_sim::Scenario, String>,
) -> Result<ExitCode, String> {
    let args = parse(args)?;
    match (&args.spec, &args.source) {
        (Some(_), Some(source)) => {
            Err(format!("explore either a scenario or a spec, not both (`{source}` and --spec)"))
        }
        (Some(spec), None) => {
            let rms = args.rms.ok_or("--spec needs --rms <n>, the number of resource managers")?;
            match spec.as_str() {
                "two-phase" | "TwoPhase" => {
                    let model = TwoPhase::new(rms).map_err(|error| error.to_string())?;
                    let title = format!("TwoPhase with {rms} RMs{}", symmetric(args.symmetry));
                    let code = run_model(&model.with_symmetry(args.symmetry), args.options.clone(), &title, |_| None)?;
                    if args.symmetry {
                        print_unreduced(&model, args.options)?;
                    }
                    Ok(code)
                }
                "tcommit" | "TCommit" => {
                    let model = TCommit::new(rms).map_err(|error| error.to_string())?;
                    let title = format!("TCommit with {rms} RMs{}", symmetric(args.symmetry));
                    let code = run_model(&model.with_symmetry(args.symmetry), args.options.clone(), &title, |_| None)?;
                    if args.symmetry {
                        print_unreduced(&model, args.options)?;
                    }
                    Ok(code)
                }
                other => Err(format!("--spec: `{other}` is not one of two-phase, tcommit")),
            }
        }
        (None, Some(source)) => {
            if args.rms.is_some() || args.symmetry {
                return Err("--rms and --symmetry go with --spec".to_string());
            }
            let scenario = load(source)?;
            let model = Implementation::new(&scenario, args.bounds)?;
            let title = format!("{source} ({})", args.bounds);
            run_model(&model, args.options, &title, |path: &[Choice]| {
                // The link opens on the path's last step: the one that breaks the property.
                let view = View { step: Some(path.len() as u64), ..View::default() };
                let shared = Shared { scenario: model.scheduled(path), view };
                Some(link::encode(&shared).map(|link| format!("#s={link}")).map_err(|error| error.to_string()))
            })
        }
        (None, None) => Err(format!("explore what? name a preset, a scenario file or link, or --spec\n{USAGE}")),
    }
}

/// With `--symmetry`, the count without the reduction too, for comparison.
fn print_unreduced<M: Model>(model: &M, options: Options) -> Result<(), String> {
    let report = explore(model, options, |_| {}).map_err(|error| error.to_string())?;
    println!("without symmetry reduction: states {}  edges {}", grouped(report.states), grouped(report.edges));
    Ok(())
}

fn symmetric(symmetry: bool) -> &'static str {
    if symmetry {
        ", symmetry reduced"
    } else {
        ""
    }
}

/// Runs the search with progress on stderr, prints the report; exit 1 if a property is violated.
fn run_model<M: Model<Action: std::fmt::Display>>(
    model: &M,
    options: Options,
    title: &str,
    link_of: impl Fn(&[M::Action]) -> Option<Result<String, String>>,
) -> Result<ExitCode, String> {
    let search = match options.search {
        Search::BreadthFirst => "breadth-first",
        Search::DepthFirst => "depth-first",
    };
    eprintln!("# exploring {title}: {search}, {} thread(s)", options.threads);
    let started = Instant::now();
    let mut last = started;
    let report = explore(model, options, |progress: Progress| {
        let now = Instant::now();
        if now.duration_since(last).as_secs_f64() >= 1.0 && !progress.done {
            last = now;
            let rate = progress.states as f64 / now.duration_since(started).as_secs_f64();
            eprintln!(
                "  {} states ({:.0}/s), depth {}, queue {}",
                grouped(progress.states),
                rate,
                progress.depth,
                grouped(progress.queue)
            );
        }
    })
    .map_err(|error| error.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    print_report(&report, seconds, link_of);
    Ok(if report.all_hold() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn print_report<A: std::fmt::Display>(
    report: &Report<A>,
    seconds: f64,
    link_of: impl Fn(&[A]) -> Option<Result<String, String>>,
) {
    println!(
        "states {}  edges {}  depth {}  {:.2} s  {:.0} states/s  ~{:.0} bytes/state",
        grouped(report.states),
        grouped(report.edges),
        report.max_depth,
        seconds,
        report.states as f64 / seconds.max(1e-9),
        report.memory.bytes_per_state
    );
    let complete = match (report.complete, report.stop_reason) {
        (true, _) => "complete: every reachable state was checked".to_string(),
        (false, Some(reason)) => format!("incomplete: stopped ({reason:?})"),
        (false, None) => "incomplete".to_string(),
    };
    println!("{complete}{}", if report.depth_limited { " (depth limited)" } else { "" });
    for property in report.properties.iter().chain(std::iter::once(&report.liveness)) {
        if property.name == report.liveness.name && property.verdict != Verdict::Violated {
            continue;
        }
        let verdict = match property.verdict {
            Verdict::Holds => "holds",
            Verdict::Violated => "VIOLATED",
            Verdict::Unknown => "not violated (search incomplete)",
        };
        println!("  {:<26} {verdict}", property.name);
        let Some(counterexample) = &property.counterexample else { continue };
        println!("    {}", counterexample.detail);
        if let Some(error) = &counterexample.replay_error {
            println!("    (the path could not be replayed: {error})");
            continue;
        }
        let steps: Vec<String> = counterexample
            .actions
            .iter()
            .enumerate()
            .map(|(index, action)| format!("{}. {action}", index + 1))
            .collect();
        println!("    {} steps: {}", counterexample.depth, steps.join(", "));
        match link_of(&counterexample.actions) {
            Some(Ok(link)) => println!("    link: {link}"),
            Some(Err(error)) => println!("    (no link: {error})"),
            None => {}
        }
    }
}
