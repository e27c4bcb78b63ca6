//! The compare view: two runs in split panes on one clock (`#c=<run A>~<run B>~<ms>`).
//!
//! Each side is a whole playground with its own state, so its diagram, tables, editor and fault
//! clicks work as in the normal view; the view adds one scrubber and one play button that drive
//! both sides to the same virtual time, and a table of what each transaction cost on each side.

use crate::app::start_playback;
use crate::browser;
use crate::components::editor::Editor;
use crate::components::faults::Faults;
use crate::components::invariants::Invariants;
use crate::components::sequence::SequenceDiagram;
use crate::components::tables::StateTables;
use crate::decimal::Decimal;
use crate::embed::PageOptions;
use crate::model::{Action, Notice, Playground};
use crate::state::{Handle, State};
use commitlab_protocol::Millis;
use commitlab_sim::link::{self, PairError, SharedPair};
use commitlab_sim::presets::DEFAULT_COMPARISON;
use commitlab_sim::summary::{self, RunSummary};
use commitlab_sim::{comparison, COMPARISONS};
use std::rc::Rc;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// What a comparison link opens: both sides, the shared time, and a message if the link was bad.
pub struct Opened {
    pub a: Playground,
    pub b: Playground,
    pub time_ms: Millis,
    /// The named comparison on screen, or empty once a side was changed.
    pub comparison: String,
    pub notice: Option<Notice>,
}

/// Opens `#c=<run A>~<run B>~<ms>`, or `#c=<comparison name>`; a bad link opens the default
/// comparison with a message naming what is wrong.
pub fn open(fragment: &str) -> Opened {
    let text = fragment.trim_start_matches('#');
    let text = text.strip_prefix(link::COMPARE_KEY).unwrap_or(text);
    if let Some(found) = comparison(text) {
        return named(found);
    }
    let opened = link::decode_pair(text).map_err(|error| error.to_string()).and_then(|pair| {
        let a = Playground::from_shared(pair.a).map_err(|error| format!("run A: {error}"))?;
        let b = Playground::from_shared(pair.b).map_err(|error| format!("run B: {error}"))?;
        Ok((a, b, pair.time_ms))
    });
    match opened {
        Ok((a, b, time_ms)) => {
            let name = COMPARISONS
                .iter()
                .find(|found| (found.a)() == *a.scenario() && (found.b)() == *b.scenario())
                .map_or(String::new(), |found| found.name.to_string());
            let mut opened = Opened { a, b, time_ms, comparison: name, notice: None };
            seek_both(&mut opened, time_ms);
            opened
        }
        Err(error) => {
            let mut opened = named(comparison(DEFAULT_COMPARISON).expect("the default comparison exists"));
            let text = format!("This comparison link cannot be opened: {error}. Showing {DEFAULT_COMPARISON} instead.");
            opened.notice = Some(Notice { text, error: true });
            opened
        }
    }
}

fn named(found: &commitlab_sim::Comparison) -> Opened {
    let side = |scenario| Playground::new(scenario).expect("comparison scenarios are valid");
    Opened { a: side((found.a)()), b: side((found.b)()), time_ms: 0, comparison: found.name.to_string(), notice: None }
}

fn seek_both(opened: &mut Opened, time_ms: Millis) {
    opened.a.apply(Action::SeekTime(time_ms));
    opened.b.apply(Action::SeekTime(time_ms));
    // A link opens on a state, not on a change.
    opened.a.previous_snapshots = opened.a.snapshots.clone();
    opened.b.previous_snapshots = opened.b.snapshots.clone();
}

/// The comparison's link: both runs with their views, and the shared time.
pub fn pair_fragment(a: &Playground, b: &Playground, time_ms: Millis) -> Result<String, PairError> {
    let pair = SharedPair { a: a.shared(), b: b.shared(), time_ms };
    link::encode_pair(&pair).map(|encoded| format!("{}{encoded}", link::COMPARE_KEY))
}

/// The fragment that opens a run alone in the normal view.
fn alone_fragment(playground: &Playground) -> String {
    link::encode(&playground.shared()).map_or(String::new(), |encoded| format!("{}{encoded}", link::LINK_KEY))
}

/// The fragment that compares `playground` with the same scenario under the next engine.
pub fn compare_with_other_engine(playground: &Playground) -> Option<String> {
    use commitlab_sim::Engine;
    let mut other = playground.scenario().clone();
    other.replication.engine = match other.replication.engine {
        Engine::None => Engine::Raft,
        Engine::Raft => Engine::MultiPaxos,
        Engine::MultiPaxos => Engine::Raft,
    };
    other.name = format!("{} ({})", playground.scenario().name, summary::engine_name(other.replication.engine));
    let b = Playground::new(other).ok()?;
    pair_fragment(playground, &b, playground.simulation.now_ms()).ok()
}

/// The shared clock: the later of the two sides' playback positions.
fn shared_time(a: &Playground, b: &Playground) -> f64 {
    a.display_ms.max(b.display_ms)
}

#[derive(Properties, PartialEq)]
pub struct CompareProps {
    pub fragment: AttrValue,
    #[prop_or_default]
    pub page: PageOptions,
}

#[component]
pub fn CompareApp(props: &CompareProps) -> Html {
    let opened = use_mut_ref({
        let fragment = props.fragment.clone();
        move || {
            let opened = open(&fragment);
            (Some(opened.a), Some(opened.b), opened.comparison, opened.notice)
        }
    });
    let a = use_reducer(|| State::new(opened.borrow_mut().0.take().expect("opened once")));
    let b = use_reducer(|| State::new(opened.borrow_mut().1.take().expect("opened once")));
    let (comparison_name, notice) = {
        let opened = opened.borrow();
        (opened.2.clone(), opened.3.clone())
    };
    let playing = use_state(|| false);
    use_effect_with(*playing, {
        let (a, b) = (a.clone(), b.clone());
        move |playing| {
            let tick: Rc<dyn Fn(f64)> = Rc::new(move |real_ms| {
                a.dispatch(Action::Tick(real_ms));
                b.dispatch(Action::Tick(real_ms));
            });
            start_playback(*playing, tick)
        }
    });
    // Both sides stopped at their ends: so does the shared clock.
    let sides_playing = (a.get().playing, b.get().playing);
    use_effect_with((*playing, sides_playing), {
        let playing = playing.clone();
        move |(shared, (a, b))| {
            if *shared && !a && !b {
                playing.set(false);
            }
        }
    });
    use_effect(crate::app::record_render_time);
    let embedded = props.page.embed.is_some();
    {
        let key = (
            a.get().revision,
            a.get().simulation.cursor_step(),
            b.get().revision,
            b.get().simulation.cursor_step(),
            *playing,
        );
        let (a, b) = (a.clone(), b.clone());
        use_effect_with(key, move |(_, _, _, _, playing)| {
            if !embedded && !*playing {
                let (a, b) = (a.get(), b.get());
                if let Ok(fragment) = pair_fragment(&a, &b, shared_time(&a, &b).floor() as Millis) {
                    browser::replace_fragment(&fragment);
                }
            }
        });
    }
    let (time, end) = {
        let (a, b) = (a.get(), b.get());
        (shared_time(&a, &b), a.end_ms.max(b.end_ms))
    };
    let toggle = {
        let (a, b, playing) = (a.clone(), b.clone(), playing.clone());
        Callback::from(move |_: MouseEvent| {
            if *playing {
                a.dispatch(Action::Pause);
                b.dispatch(Action::Pause);
                playing.set(false);
                return;
            }
            // Both sides start from the same time, so equal ticks keep them together.
            let at = shared_time(&a.get(), &b.get());
            let restart = at >= a.get().end_ms.max(b.get().end_ms) as f64;
            let from = if restart { 0 } else { at.floor() as Millis };
            for side in [&a, &b] {
                side.dispatch(Action::SeekTime(from));
                side.dispatch(Action::Play);
            }
            playing.set(true);
        })
    };
    let scrub = {
        let (a, b, playing) = (a.clone(), b.clone(), playing.clone());
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            let Ok(time_ms) = input.value().parse::<Millis>() else { return };
            for side in [&a, &b] {
                side.dispatch(Action::Pause);
                side.dispatch(Action::SeekTime(time_ms));
            }
            playing.set(false);
        })
    };
    let speed = {
        let (a, b) = (a.clone(), b.clone());
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            if let Some(log) = crate::decimal::parse(&select.value()) {
                a.dispatch(Action::SetSpeedLog(log));
                b.dispatch(Action::SetSpeedLog(log));
            }
        })
    };
    let pick = Callback::from(|event: Event| {
        let select: HtmlSelectElement = event.target_unchecked_into();
        browser::open_fragment(&format!("{}{}", link::COMPARE_KEY, select.value()));
    });
    let speed_log = a.get().speed_log;
    let chosen = comparison(&comparison_name);
    // An embed may ask to start playing at once, like a single run's embed.
    let autoplay = props.page.embed.as_ref().is_some_and(|options| options.autoplay);
    use_effect_with((), {
        let toggle = toggle.clone();
        move |_| {
            if autoplay {
                if let Ok(event) = web_sys::MouseEvent::new("click") {
                    toggle.emit(event);
                }
            }
        }
    });
    let open_full = {
        let (a, b) = (a.get(), b.get());
        pair_fragment(&a, &b, time.floor() as Millis)
            .map_or(browser::page_url(), |fragment| format!("{}#{fragment}", browser::page_url()))
    };
    html! {
        <div id="app" class={classes!("app", "compare", embedded.then_some("embed"))} data-playing={playing.to_string()}
            data-time={(time.floor() as Millis).to_string()}>
            if !embedded {
                <header class="page-header">
                    <div class="brand">
                        <h1>{ "Commit Lab" }</h1>
                        <span class="tagline">{ "two runs, one clock" }</span>
                    </div>
                    <label class="picker">
                        <span>{ "Comparison" }</span>
                        <select id="comparison" aria-label="Comparison" onchange={pick}>
                            if chosen.is_none() {
                                <option value="" selected=true>{ "(your own pair)" }</option>
                            }
                            { for COMPARISONS.iter().map(|found| html! {
                                <option value={found.name} selected={found.name == comparison_name}>{ found.title }</option>
                            }) }
                        </select>
                    </label>
                    <p id="comparison-summary" class="summary">
                        { chosen.map_or("Two runs of your own: edit either side below, or break it by clicking its diagram.", |found| found.summary) }
                    </p>
                </header>
            }
            if embedded {
                <div class="embed-bar">
                    <a id="open-full" class="open-full" href={open_full} target="_blank" rel="noopener">{ "Open in Commit Lab ↗" }</a>
                </div>
            }
            <div id="message" role="status" class={classes!("notice", notice.as_ref().map(|notice| if notice.error { "error" } else { "info" }))}>
                if let Some(notice) = &notice {
                    <span>{ &notice.text }</span>
                }
            </div>
            <div class="controls compare-controls" role="toolbar" aria-label="Playback of both runs">
                <button id="compare-play" class="primary" onclick={toggle} aria-label={if *playing { "Pause both" } else { "Play both" }}>
                    { if *playing { "❚❚ Pause" } else { "▶ Play" } }
                </button>
                <input id="compare-scrubber" type="range" min="0" max={end.to_string()} step="1"
                    value={(time.floor() as Millis).to_string()} oninput={scrub} aria-label="Virtual time of both runs" />
                <span class="clock" id="compare-clock">{ format!("{} ms", time.floor() as Millis) }</span>
                <label class="speed">
                    <span>{ "speed" }</span>
                    <select id="compare-speed" aria-label="Speed of both runs" onchange={speed}>
                        { for [(-1.0, "0.1x"), (-0.5, "0.3x"), (0.0, "1x"), (0.5, "3x"), (1.0, "10x")].iter().map(|(log, label)| html! {
                            <option value={log.dec()} selected={(speed_log - log).abs() < 0.01}>{ *label }</option>
                        }) }
                    </select>
                </label>
            </div>
            <div class="compare-panes">
                <Pane side='A' state={a.clone()} embedded={embedded} />
                <Pane side='B' state={b.clone()} embedded={embedded} />
            </div>
            <CostTable a={a.clone()} b={b.clone()} playing={*playing} />
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct PaneProps {
    side: char,
    state: Handle,
    embedded: bool,
}

#[component]
fn Pane(props: &PaneProps) -> Html {
    let playground = props.state.get();
    let scenario = playground.scenario();
    let title =
        commitlab_sim::preset(&playground.preset).map_or(scenario.name.clone(), |preset| preset.title.to_string());
    let alone = format!("{}#{}", browser::page_url(), alone_fragment(&playground));
    let revision = playground.revision;
    let step = playground.simulation.cursor_step();
    let violated = playground.index.violations.iter().filter(|(at, _, _)| *at <= step).count();
    // The tables of a closed panel are not drawn at all: at every frame they would cost as much as
    // the diagram.
    let tables_open = use_state(|| false);
    let on_toggle = {
        let tables_open = tables_open.clone();
        Callback::from(move |event: Event| {
            let details: web_sys::Element = event.target_unchecked_into();
            tables_open.set(details.has_attribute("open"));
        })
    };
    html! {
        <section class="compare-pane" data-side={props.side.to_string()} data-step={playground.simulation.cursor_step().to_string()}
            data-time={playground.simulation.now_ms().to_string()} data-trace-hash={playground.trace_hash.clone()}
            aria-label={format!("Run {}", props.side)}>
            <header class="pane-header">
                <h2>
                    <span class="side-letter">{ props.side.to_string() }</span>
                    <span class="engine">{ summary::engine_name(scenario.replication.engine) }</span>
                    <span class="run-title">{ title }</span>
                </h2>
                if !props.embedded {
                    <a class="open-alone" href={alone} target="_blank" rel="noopener">{ "Open alone ↗" }</a>
                }
            </header>
            <details class="pane-invariants" open={violated > 0}>
                <summary class={classes!((violated > 0).then_some("violated"))}>
                    { if violated > 0 { format!("{violated} invariant violations so far") } else { "Invariants: all hold so far".to_string() } }
                </summary>
                <Invariants state={props.state.clone()} />
            </details>
            <SequenceDiagram state={props.state.clone()} />
            if !props.embedded {
                <details class="pane-tables" ontoggle={on_toggle}>
                    <summary>{ "State tables" }</summary>
                    if *tables_open {
                        <StateTables state={props.state.clone()} />
                    }
                </details>
                <details class="pane-edit">
                    <summary>{ format!("Edit run {} (faults, scenario)", props.side) }</summary>
                    <Faults state={props.state.clone()} revision={revision} />
                    <Editor state={props.state.clone()} revision={revision} />
                </details>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct CostProps {
    a: Handle,
    b: Handle,
    playing: bool,
}

/// What each transaction cost on each side, up to the shared time. Reading it means walking both
/// traces, so while both runs play it keeps the figures of where playback started.
#[component]
fn CostTable(props: &CostProps) -> Html {
    let frozen = use_mut_ref(|| (0, 0, 0, 0));
    let key = {
        let (a, b) = (props.a.get(), props.b.get());
        let now = (a.revision, a.simulation.cursor_step(), b.revision, b.simulation.cursor_step());
        if !props.playing {
            *frozen.borrow_mut() = now;
        }
        *frozen.borrow()
    };
    let rows = use_memo(key, {
        let (a, b) = (props.a.clone(), props.b.clone());
        move |_| {
            let (a, b) = (RunSummary::of(&a.get().simulation), RunSummary::of(&b.get().simulation));
            summary::rows(&[&a, &b])
        }
    });
    let (names, body) = match rows.split_first() {
        Some(((_, names), body)) => (names.clone(), body),
        None => (Vec::new(), &[][..]),
    };
    html! {
        <table class="cost-table" id="cost-table" aria-label="What each transaction cost">
            <thead>
                <tr>
                    <th>{ if props.playing { "per transaction (as when playback started; updates when it stops)" } else { "per transaction, up to the shared time" } }</th>
                    // The first row names the runs: it heads their columns.
                    { for names.iter().zip(['A', 'B']).map(|(name, side)| html! { <th title={name.clone()}>{ side.to_string() }</th> }) }
                </tr>
            </thead>
            <tbody>
                { for body.iter().map(|(label, cells)| {
                    let differs = cells.windows(2).any(|pair| pair[0] != pair[1]);
                    let indent = label.len() - label.trim_start().len();
                    html! {
                        <tr class={classes!(differs.then_some("differs"), format!("indent-{indent}"))} data-row={label.trim().to_string()}>
                            <th scope="row">{ label.trim() }</th>
                            { for cells.iter().map(|cell| html! { <td>{ cell }</td> }) }
                        </tr>
                    }
                }) }
            </tbody>
        </table>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comparison_link_reopens_both_runs_at_the_shared_time() {
        let mut opened = open("#c=seed-002-raft-vs-paxos");
        assert_eq!(opened.comparison, "seed-002-raft-vs-paxos");
        seek_both(&mut opened, 158);
        opened.b.apply(Action::ToggleNode(commitlab_protocol::NodeId(4)));
        let fragment = pair_fragment(&opened.a, &opened.b, 158).expect("short enough");
        let reopened = open(&format!("#{fragment}"));
        assert!(reopened.notice.is_none());
        assert_eq!(reopened.comparison, "", "run B was changed by a click: no longer the named pair");
        assert_eq!(reopened.time_ms, 158);
        assert_eq!(reopened.a.trace_hash, opened.a.trace_hash);
        assert_eq!(reopened.b.trace_hash, opened.b.trace_hash);
        assert_eq!(reopened.b.scenario().faults.len(), 1, "the crash clicked on run B travels with the link");
        assert_eq!(reopened.a.simulation.now_ms(), opened.a.simulation.now_ms());
    }

    #[test]
    fn a_bad_comparison_link_opens_the_default_pair_with_a_message() {
        let opened = open("#c=1.abc");
        assert_eq!(opened.comparison, DEFAULT_COMPARISON);
        let notice = opened.notice.expect("a message");
        assert!(
            notice.error && notice.text.contains("not in the form #c=<run A>~<run B>~<time in ms>"),
            "{}",
            notice.text
        );
    }

    #[test]
    fn any_run_can_be_compared_under_the_next_engine() {
        let playground = Playground::from_preset("happy-path");
        let fragment = compare_with_other_engine(&playground).expect("a link");
        let opened = open(&format!("#{fragment}"));
        assert!(opened.notice.is_none());
        assert_eq!(opened.b.scenario().replication.engine, commitlab_sim::Engine::Raft);
    }
}
