//! Embed mode, for documentation pages: `?embed` with options in the query string
//! (`view=sequence|cluster|tables|all`, `autoplay`, `speed=10`, `controls=none|minimal|full`,
//! `theme=light|dark|auto`) and the scenario in the `#s=` fragment as for any link.
//! Pure data, no Yew: parsing, and writing an `<iframe>` snippet.

use std::fmt;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum EmbedView {
    Sequence,
    Cluster,
    Tables,
    #[default]
    All,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum ControlsLevel {
    None,
    #[default]
    Minimal,
    Full,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum Theme {
    Light,
    Dark,
    #[default]
    Auto,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct EmbedOptions {
    pub view: EmbedView,
    pub autoplay: bool,
    /// Playback speed multiplier (0.1 to 100).
    pub speed: Option<f64>,
    pub controls: ControlsLevel,
    pub theme: Theme,
}

/// What the page's query string asks for.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PageOptions {
    /// `Some` in embed mode.
    pub embed: Option<EmbedOptions>,
    /// Options that could not be understood, each with the reason, to show to the reader.
    pub warnings: Vec<String>,
}

impl fmt::Display for EmbedView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EmbedView::Sequence => "sequence",
            EmbedView::Cluster => "cluster",
            EmbedView::Tables => "tables",
            EmbedView::All => "all",
        })
    }
}

impl fmt::Display for ControlsLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ControlsLevel::None => "none",
            ControlsLevel::Minimal => "minimal",
            ControlsLevel::Full => "full",
        })
    }
}

impl fmt::Display for Theme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
            Theme::Auto => "auto",
        })
    }
}

/// Each option's values, in the order the Embed panel offers them, and the way back from text.
macro_rules! choices {
    ($name:ident: $($variant:ident),+) => {
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn parse(text: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|choice| choice.to_string() == text)
            }
        }
    };
}

choices!(EmbedView: Sequence, Cluster, Tables, All);
choices!(ControlsLevel: None, Minimal, Full);
choices!(Theme: Auto, Light, Dark);

/// Reads `?embed&view=...` (with or without the leading `?`). Unknown values are reported and
/// replaced by the default; unknown keys are ignored, as other tools may add their own.
pub fn parse_query(query: &str) -> PageOptions {
    let query = query.strip_prefix('?').unwrap_or(query);
    let pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(key), decode_component(value))
        })
        .collect();
    let mut page = PageOptions::default();
    if !pairs.iter().any(|(key, _)| key == "embed") {
        return page;
    }
    let mut options = EmbedOptions::default();
    for (key, value) in &pairs {
        let mut warn = |expected: &str| page.warnings.push(format!("{key}={value}: expected {expected}"));
        match key.as_str() {
            "view" => match EmbedView::parse(value) {
                Some(view) => options.view = view,
                None => warn("sequence, cluster, tables or all"),
            },
            "controls" => match ControlsLevel::parse(value) {
                Some(controls) => options.controls = controls,
                None => warn("none, minimal or full"),
            },
            "theme" => match Theme::parse(value) {
                Some(theme) => options.theme = theme,
                None => warn("light, dark or auto"),
            },
            "autoplay" => match value.as_str() {
                "" | "1" | "true" => options.autoplay = true,
                "0" | "false" => options.autoplay = false,
                _ => warn("nothing, true or false"),
            },
            "speed" => match crate::decimal::parse(value.trim_end_matches('x')) {
                Some(speed) if (0.1..=100.0).contains(&speed) => options.speed = Some(speed),
                _ => warn("a multiplier from 0.1 to 100"),
            },
            _ => {}
        }
    }
    page.embed = Some(options);
    page
}

/// The query string that asks for these options, defaults left out: `?embed&view=sequence`.
pub fn to_query(options: &EmbedOptions) -> String {
    let mut query = String::from("?embed");
    if options.view != EmbedView::default() {
        query.push_str(&format!("&view={}", options.view));
    }
    if options.autoplay {
        query.push_str("&autoplay");
    }
    if let Some(speed) = options.speed {
        query.push_str(&format!("&speed={}", crate::decimal::short(speed, 3)));
    }
    if options.controls != ControlsLevel::default() {
        query.push_str(&format!("&controls={}", options.controls));
    }
    if options.theme != Theme::default() {
        query.push_str(&format!("&theme={}", options.theme));
    }
    query
}

/// A ready `<iframe>` for a documentation page.
pub fn iframe_snippet(page_url: &str, options: &EmbedOptions, fragment: &str, title: &str) -> String {
    let height = match options.view {
        EmbedView::Sequence => 640,
        EmbedView::Cluster => 440,
        EmbedView::Tables => 520,
        EmbedView::All => 900,
    };
    format!(
        "<iframe src=\"{page_url}{}#{fragment}\" title=\"Commit Lab: {}\" width=\"100%\" height=\"{height}\" \
         style=\"border: 1px solid #d5d9de; border-radius: 8px\" loading=\"lazy\"></iframe>",
        to_query(options),
        escape_attribute(title),
    )
}

fn escape_attribute(text: &str) -> String {
    text.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Percent-decoding of one query component (`+` is a space).
fn decode_component(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => decoded.push(b' '),
            b'%' if index + 2 < bytes.len() => match (hex_digit(bytes[index + 1]), hex_digit(bytes[index + 2])) {
                (Some(high), Some(low)) => {
                    decoded.push(high << 4 | low);
                    index += 2;
                }
                _ => decoded.push(b'%'),
            },
            byte => decoded.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn hex_digit(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|digit| digit as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_embed_means_the_full_playground() {
        assert_eq!(parse_query(""), PageOptions::default());
        assert_eq!(parse_query("?view=sequence").embed, None);
    }

    #[test]
    fn options_are_read_and_written_back() {
        let page = parse_query("?embed&view=sequence&autoplay&speed=10&controls=none&theme=dark");
        let options = page.embed.expect("embed mode");
        assert_eq!(options.view, EmbedView::Sequence);
        assert!(options.autoplay);
        assert_eq!(options.speed, Some(10.0));
        assert_eq!(options.controls, ControlsLevel::None);
        assert_eq!(options.theme, Theme::Dark);
        assert!(page.warnings.is_empty());
        assert_eq!(to_query(&options), "?embed&view=sequence&autoplay&speed=10&controls=none&theme=dark");
        assert_eq!(parse_query(&to_query(&options)).embed, Some(options));
    }

    #[test]
    fn bad_values_are_named_and_defaulted() {
        let page = parse_query("embed&view=3d&speed=9000&theme=%22x%22");
        assert_eq!(page.embed, Some(EmbedOptions::default()));
        assert_eq!(
            page.warnings,
            [
                "view=3d: expected sequence, cluster, tables or all",
                "speed=9000: expected a multiplier from 0.1 to 100",
                "theme=\"x\": expected light, dark or auto"
            ]
        );
    }

    #[test]
    fn components_are_percent_decoded_without_panicking() {
        assert_eq!(decode_component("a%20b+c"), "a b c");
        assert_eq!(decode_component("%zz%"), "%zz%");
        assert_eq!(decode_component("é%e"), "é%e");
    }

    #[test]
    fn the_snippet_points_at_the_embed_page() {
        let options = EmbedOptions { view: EmbedView::Cluster, autoplay: true, ..EmbedOptions::default() };
        let snippet = iframe_snippet("https://example.org/commitlab/", &options, "s=1.abc", "Lost \"COMMIT\"");
        assert!(
            snippet.starts_with("<iframe src=\"https://example.org/commitlab/?embed&view=cluster&autoplay#s=1.abc\""),
            "{snippet}"
        );
        assert!(snippet.contains("title=\"Commit Lab: Lost &quot;COMMIT&quot;\""));
    }
}
