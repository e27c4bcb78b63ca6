//! Where the sequence diagram's texts go, so that no text covers another. Free of Yew.
//!
//! Every text of the diagram is one line of the monospace font, so its box follows from its
//! length, its size and its anchor. The diagram reserves what cannot move first (the cursor's
//! time, crosses, crash and restart marks), then offers each movable text a few places in order
//! of preference: a replication round's label a line lower, an arrow's label further along its
//! arrow, a loop's label on the other side of its lane, a phase band's label lower in its band.
//! A text with no free place is left out (arrows and rounds keep it in their tooltip); time ticks
//! go last, so a tick's label gives way to everything else.

/// One character's advance in the diagram's monospace font, in ems (DejaVu Sans Mono, Menlo and
/// Consolas are all close to 0.6), rounded up.
const CHAR_WIDTH_EM: f64 = 0.61;
/// Above and below the baseline, in ems, rounded up from the font's ascent and descent.
const ASCENT_EM: f64 = 0.95;
const DESCENT_EM: f64 = 0.28;
/// Space kept around every text box, in diagram units.
const PAD: f64 = 0.5;

/// Font sizes of the diagram's texts, in diagram units: as in `style.css`, which enlarges them in
/// narrow frames (at most 760 pixels wide).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TextSizes {
    pub arrow: f64,
    pub band: f64,
    pub tick: f64,
    pub round: f64,
    pub cursor: f64,
    pub cross: f64,
    pub mark: f64,
}

impl TextSizes {
    pub const WIDE: TextSizes =
        TextSizes { arrow: 10.0, band: 10.0, tick: 9.0, round: 9.0, cursor: 11.0, cross: 13.0, mark: 18.0 };
    pub const NARROW: TextSizes =
        TextSizes { arrow: 14.0, band: 12.0, tick: 12.0, round: 12.0, cursor: 14.0, cross: 13.0, mark: 18.0 };
}

/// How a text is placed on its `x`, as SVG's `text-anchor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

/// A text's box in diagram coordinates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TextBox {
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
}

impl TextBox {
    /// The box of `text` drawn at `x` on the baseline `y` at `font_px`.
    pub fn of(text: &str, x: f64, y: f64, font_px: f64, anchor: Anchor) -> TextBox {
        let width = text.chars().count() as f64 * CHAR_WIDTH_EM * font_px;
        let left = match anchor {
            Anchor::Start => x,
            Anchor::Middle => x - width / 2.0,
            Anchor::End => x - width,
        };
        TextBox {
            left: left - PAD,
            top: y - ASCENT_EM * font_px - PAD,
            right: left + width + PAD,
            bottom: y + DESCENT_EM * font_px + PAD,
        }
    }

    /// The box of a one-character symbol (a cross, a restart arrow) from a fallback font, centred
    /// on `x`: a whole em wide, for glyphs wider than the monospace font's.
    pub fn symbol(x: f64, y: f64, font_px: f64) -> TextBox {
        TextBox {
            left: x - font_px / 2.0 - PAD,
            top: y - ASCENT_EM * font_px - PAD,
            right: x + font_px / 2.0 + PAD,
            bottom: y + DESCENT_EM * font_px + PAD,
        }
    }

    pub fn width(&self) -> f64 {
        self.right - self.left
    }

    pub fn intersects(&self, other: &TextBox) -> bool {
        self.left < other.right && other.left < self.right && self.top < other.bottom && other.top < self.bottom
    }
}

/// The boxes taken so far.
#[derive(Debug, Default)]
pub struct Placer {
    taken: Vec<TextBox>,
}

impl Placer {
    /// Takes a box whatever it covers: for what cannot move.
    pub fn reserve(&mut self, text_box: TextBox) {
        self.taken.push(text_box);
    }

    pub fn is_free(&self, text_box: &TextBox) -> bool {
        !self.taken.iter().any(|taken| taken.intersects(text_box))
    }

    /// Takes the first free box among `candidates` and answers what came with it; `None` (and
    /// nothing taken) when every candidate covers a text already placed.
    pub fn place<T>(&mut self, candidates: impl IntoIterator<Item = (TextBox, T)>) -> Option<T> {
        let (text_box, chosen) = candidates.into_iter().find(|(text_box, _)| self.is_free(text_box))?;
        self.taken.push(text_box);
        Some(chosen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_follow_the_anchor_and_the_length() {
        let start = TextBox::of("abcd", 100.0, 50.0, 10.0, Anchor::Start);
        let middle = TextBox::of("abcd", 100.0, 50.0, 10.0, Anchor::Middle);
        let end = TextBox::of("abcd", 100.0, 50.0, 10.0, Anchor::End);
        assert!((start.width() - (4.0 * 6.1 + 1.0)).abs() < 1e-9);
        assert!((start.left - 99.5).abs() < 1e-9);
        assert!((middle.left + middle.right - 200.0).abs() < 1e-9);
        assert!((end.right - 100.5).abs() < 1e-9);
        assert!(start.top < 50.0 - 9.0 && start.bottom > 52.0);
    }

    #[test]
    fn a_text_takes_its_first_free_place_or_none() {
        let mut placer = Placer::default();
        placer.reserve(TextBox::of("Prepare t1", 100.0, 50.0, 10.0, Anchor::Start));
        let same = TextBox::of("Vote t1 YES", 100.0, 55.0, 10.0, Anchor::Start);
        let lower = TextBox::of("Vote t1 YES", 100.0, 65.0, 10.0, Anchor::Start);
        assert_eq!(placer.place([(same, "same"), (lower, "lower")]), Some("lower"));
        // The lower place is taken now, so the same candidates find nothing.
        assert_eq!(placer.place([(same, "same"), (lower, "lower")]), None);
        let beside = TextBox::of("Ack t1", 200.0, 50.0, 10.0, Anchor::Start);
        assert_eq!(placer.place([(beside, ())]), Some(()));
    }
}
