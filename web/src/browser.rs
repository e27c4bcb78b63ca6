//! The few things the playground asks of the browser: the address, downloads, the clipboard, the
//! colour theme and the diagram's SVG. Each fails quietly (returning false or None) where a page
//! cannot do it, so the caller can say so instead of breaking.

use crate::embed::Theme;
use wasm_bindgen::JsCast;

fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

fn document() -> Option<web_sys::Document> {
    window()?.document()
}

/// The fragment (`#s=...`) and query (`?embed...`) the page was opened with.
pub fn location_parts() -> (String, String) {
    let Some(location) = window().map(|window| window.location()) else { return (String::new(), String::new()) };
    (location.hash().unwrap_or_default(), location.search().unwrap_or_default())
}

/// The page's address without query or fragment: where links to the playground point.
pub fn page_url() -> String {
    let Some(location) = window().map(|window| window.location()) else { return String::new() };
    format!("{}{}", location.origin().unwrap_or_default(), location.pathname().unwrap_or_default())
}

/// Puts the share fragment in the address bar without adding a history entry.
pub fn replace_fragment(fragment: &str) {
    let Some(window) = window() else { return };
    let current = window.location().hash().unwrap_or_default();
    if current.trim_start_matches('#') == fragment {
        return;
    }
    let search = window.location().search().unwrap_or_default();
    let url = format!("{}{search}#{fragment}", page_url());
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

/// Opens another fragment of this page (`#c=...`, `#s=...`) as a fresh page, keeping the query.
pub fn open_fragment(fragment: &str) {
    let Some(window) = window() else { return };
    let search = window.location().search().unwrap_or_default();
    let _ = window.location().set_href(&format!("{}{search}#{fragment}", page_url()));
    let _ = window.location().reload();
}

/// Sets `data-theme` on the root element; `auto` follows the reader's colour scheme.
pub fn set_theme(theme: Theme) {
    if let Some(root) = document().and_then(|document| document.document_element()) {
        let _ = root.set_attribute("data-theme", &theme.to_string());
    }
}

/// Copies text to the clipboard; false where the page may not (no secure context).
pub fn copy_to_clipboard(text: &str) -> bool {
    let Some(window) = window() else { return false };
    let clipboard = window.navigator().clipboard();
    // The promise settles later; failures leave the text selectable in its field.
    let _ = clipboard.write_text(text);
    true
}

/// Offers `content` as a file download.
pub fn download(filename: &str, mime: &str, content: &str) -> bool {
    let Some(document) = document() else { return false };
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(content));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else { return false };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else { return false };
    let anchor =
        document.create_element("a").ok().and_then(|element| element.dyn_into::<web_sys::HtmlAnchorElement>().ok());
    let Some(anchor) = anchor else { return false };
    anchor.set_href(&url);
    anchor.set_download(filename);
    anchor.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    true
}

/// The sequence diagram as a standalone SVG file, with its styles resolved for the current theme.
pub fn sequence_svg() -> Option<String> {
    let document = document()?;
    let svg = document.get_element_by_id("sequence")?;
    let copy = svg.clone_node_with_deep(true).ok()?.dyn_into::<web_sys::Element>().ok()?;
    copy.set_attribute("xmlns", "http://www.w3.org/2000/svg").ok()?;
    copy.set_attribute("width", "860").ok()?;
    copy.set_attribute("height", "560").ok()?;
    let style = document.create_element_ns(Some("http://www.w3.org/2000/svg"), "style").ok()?;
    style.set_text_content(Some(&export_stylesheet(&palette()?)));
    copy.prepend_with_node_1(&style).ok()?;
    web_sys::XmlSerializer::new().ok()?.serialize_to_string(&copy).ok()
}

/// The theme's colours, read from the page's CSS variables.
fn palette() -> Option<Vec<(&'static str, String)>> {
    let window = window()?;
    let root = window.document()?.document_element()?;
    let computed = window.get_computed_style(&root).ok()??;
    let names = [
        "bg", "panel", "text", "muted", "line", "lane", "warn", "bad", "ok", "prepare", "vote", "commit", "abort",
        "ack", "query", "request",
    ];
    Some(
        names
            .iter()
            .map(|name| {
                (*name, computed.get_property_value(&format!("--{name}")).unwrap_or_default().trim().to_string())
            })
            .collect(),
    )
}

/// The diagram's rules with every colour written out, so the file looks the same anywhere.
fn export_stylesheet(palette: &[(&'static str, String)]) -> String {
    let color = |name: &str| {
        palette.iter().find(|(key, _)| *key == name).map_or("#000", |(_, value)| value.as_str()).to_string()
    };
    let mut css = format!(
        "svg {{ background: {panel}; font-family: ui-monospace, Menlo, Consolas, monospace; }}\n\
         .lane-line, .time-axis line {{ stroke: {lane}; }}\n\
         .time-axis text, .band text, .lane-header .subtitle {{ fill: {muted}; font-size: 9px; }}\n\
         .header-backdrop {{ fill: {panel}; }}\n\
         .lane-header rect {{ fill: {bg}; stroke: {line}; }}\n\
         .lane-header .name {{ fill: {text}; font-size: 12px; font-weight: 700; }}\n\
         .down-segment {{ stroke: {bad}; stroke-width: 5; stroke-opacity: 0.35; }}\n\
         .arrow .hit {{ stroke: transparent; }}\n\
         .arrow .shaft, line.arrow {{ stroke: {text}; stroke-width: 1.4; fill: none; }}\n\
         .arrow.in-flight .shaft, line.arrow.in-flight {{ stroke-dasharray: 5 3; }}\n\
         .arrow.dropped .shaft {{ stroke-dasharray: 2 3; }}\n\
         .arrow .label {{ font-size: 10px; fill: {text}; }}\n\
         .arrow .cross, .crash-mark {{ fill: {bad}; font-weight: 700; }}\n\
         .arrowhead {{ fill: {text}; }}\n\
         .wal-mark {{ fill: {text}; }}\n\
         .lock-mark path {{ fill: none; stroke: {warn}; }}\n\
         .lock-mark rect {{ fill: {warn}; }}\n\
         .restart-mark {{ fill: {ok}; font-weight: 700; }}\n\
         .violation-mark {{ fill: {bad}; }}\n\
         .timer-mark circle, .timer-mark path {{ fill: none; stroke: {muted}; }}\n\
         .band rect {{ fill-opacity: 0.07; }}\n\
         .band.prepare rect {{ fill: {prepare}; }} .band.commit rect {{ fill: {commit}; }} .band.abort rect {{ fill: {abort}; }}\n\
         .band.saga rect {{ fill: {commit}; }} .band.compensate rect {{ fill: {abort}; }}\n\
         .cursor line {{ stroke: {warn}; stroke-dasharray: 4 4; }} .cursor text {{ fill: {warn}; font-size: 11px; }}\n",
        panel = color("panel"),
        lane = color("lane"),
        muted = color("muted"),
        bg = color("bg"),
        line = color("line"),
        text = color("text"),
        bad = color("bad"),
        warn = color("warn"),
        ok = color("ok"),
        prepare = color("prepare"),
        commit = color("commit"),
        abort = color("abort"),
    );
    let kinds = [
        ("Request", "request"),
        ("Reply", "request"),
        ("Prepare", "prepare"),
        ("VoteYes", "vote"),
        ("VoteNo", "vote"),
        ("Commit", "commit"),
        ("Abort", "abort"),
        ("Ack", "ack"),
        ("Query", "query"),
        ("Step", "commit"),
        ("StepOk", "vote"),
        ("StepFailed", "abort"),
        ("Compensate", "abort"),
        ("Compensated", "ack"),
    ];
    for (kind, name) in kinds {
        let value = color(name);
        css.push_str(&format!(
            ".kind-{kind} .shaft, line.kind-{kind} {{ stroke: {value}; }} .kind-{kind} .label {{ fill: {value}; }}\n"
        ));
    }
    css
}
