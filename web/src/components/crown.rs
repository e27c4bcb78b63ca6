//! The leader's crown, drawn as an SVG shape (seed 002 crowns each group's leader): no emoji or
//! font glyph, so it looks the same in every browser, headless Chromium included.

use crate::decimal::Decimal;
use yew::prelude::*;

/// The crown's outline, centred on (`x`, `y`), `size` pixels wide.
fn crown_path(x: f64, y: f64, size: f64) -> String {
    let (half, unit) = (size / 2.0, size / 12.0);
    let top = y - 4.0 * unit;
    let bottom = y + 4.0 * unit;
    format!(
        "M {l} {bottom} L {l} {top} L {a} {mid} L {x} {peak} L {b} {mid} L {r} {top} L {r} {bottom} Z",
        l = (x - half).dec(),
        r = (x + half).dec(),
        a = (x - 3.0 * unit).dec(),
        b = (x + 3.0 * unit).dec(),
        x = x.dec(),
        mid = (y - unit).dec(),
        peak = (y - 6.0 * unit).dec(),
        top = top.dec(),
        bottom = bottom.dec(),
    )
}

/// A crown inside an SVG drawing.
pub fn crown(x: f64, y: f64, size: f64) -> Html {
    html! { <path class="crown" d={crown_path(x, y, size)}><title>{ "leader" }</title></path> }
}

/// A crown inline in HTML text (the state tables).
pub fn crown_icon() -> Html {
    html! {
        <svg class="crown-icon" viewBox="0 0 16 12" width="16" height="12" role="img" aria-label="leader">
            <path class="crown" d={crown_path(8.0, 6.5, 14.0)} />
        </svg>
    }
}
