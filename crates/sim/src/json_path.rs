//! Where in a JSON text a reading error happened, as a path: `workload.requests[0].amount`.
//!
//! serde's derived code reports what is wrong (`invalid value: integer -5, expected u64`) and
//! serde_json where (line and column), but neither names the field. Wrapping the deserializer to
//! track the path (serde_path_to_error) instantiates the wrapper once per type read, which cost
//! the page's wasm 64 KB; scanning the text up to the error's position costs one small function.
//!
//! The path follows serde_path_to_error's form: keys joined by `.`, array indexes as `[i]`, `.`
//! for the document itself. A key joins the path as soon as it is read, so an unknown field is
//! named with its own key, as serde_path_to_error does; a missing field is reported when its
//! object closes, at the object.

/// The path of the value being read at byte `offset` of `text` (an offset past the end reads as
/// the end; one inside a key or string stops there).
pub fn path_at(text: &str, offset: usize) -> String {
    let bytes = text.as_bytes();
    let end = offset.min(bytes.len());
    let mut frames: Vec<Frame> = Vec::new();
    let mut at = 0;
    while at < end {
        match bytes[at] {
            b'{' => frames.push(Frame::Object { key: None }),
            b'[' => frames.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                frames.pop();
            }
            b',' => match frames.last_mut() {
                Some(Frame::Object { key }) => *key = None,
                Some(Frame::Array { index }) => *index += 1,
                None => {}
            },
            b'"' => {
                let (string, after) = read_string(bytes, at + 1, end);
                // The first string after `{` or `,` is a key (once whole); any other is a value.
                if let (Some(Frame::Object { key: key @ None }), Some(string)) = (frames.last_mut(), string) {
                    *key = Some(string);
                }
                at = after;
                continue;
            }
            _ => {}
        }
        at += 1;
    }
    render(&frames)
}

/// The byte offset of serde_json's 1-based `line` and 0-based byte `column` in `text`.
pub fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start = match line {
        0 | 1 => 0,
        line => text.match_indices('\n').nth(line - 2).map_or(text.len(), |(newline, _)| newline + 1),
    };
    line_start + column
}

enum Frame {
    /// `key`: the key of the member being read, if its key has been read.
    Object {
        key: Option<String>,
    },
    Array {
        index: usize,
    },
}

/// The string starting at `start` (just after its opening quote), unescaped as far as a path
/// needs, and the offset just after its closing quote; `None` and `end` if it does not close
/// before `end`.
fn read_string(bytes: &[u8], start: usize, end: usize) -> (Option<String>, usize) {
    let mut text = Vec::new();
    let mut at = start;
    while at < end {
        match bytes[at] {
            b'"' => return (Some(String::from_utf8_lossy(&text).into_owned()), at + 1),
            b'\\' if at + 1 < end => {
                let escaped = bytes[at + 1];
                text.push(match escaped {
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'r' => b'\r',
                    // \uXXXX stays as written: a path only has to be recognisable.
                    b'u' => {
                        text.extend_from_slice(b"\\u");
                        at += 2;
                        continue;
                    }
                    other => other,
                });
                at += 2;
            }
            byte => {
                text.push(byte);
                at += 1;
            }
        }
    }
    (None, end)
}

fn render(frames: &[Frame]) -> String {
    let mut path = String::new();
    for frame in frames {
        match frame {
            Frame::Object { key: Some(key) } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Frame::Array { index } => {
                path.push('[');
                path.push_str(&index.to_string());
                path.push(']');
            }
            Frame::Object { .. } => {}
        }
    }
    if path.is_empty() {
        path.push('.');
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_after(text: &str, marker: &str) -> String {
        let offset = text.find(marker).expect("marker in text") + marker.len();
        path_at(text, offset)
    }

    #[test]
    fn names_keys_and_indexes_down_to_the_value_read() {
        let text = r#"{"workload":{"requests":[{"transfers":[{"from":1},{"amount":-5}]}]}}"#;
        assert_eq!(path_after(text, "-5"), "workload.requests[0].transfers[1].amount");
        assert_eq!(path_after(text, r#""from":1"#), "workload.requests[0].transfers[0].from");
        assert_eq!(path_after(text, "{"), ".");
        assert_eq!(path_at(text, text.len()), ".");
    }

    #[test]
    fn a_key_is_named_once_read_and_a_closed_object_names_its_holder() {
        let text = r#"{"network":{"loss":"1/2","lost":3}, "x": 1}"#;
        assert_eq!(path_after(text, r#""lost""#), "network.lost");
        assert_eq!(path_after(text, r#""lost":3}"#), "network");
        assert_eq!(path_after(text, r#""loss":"1/2""#), "network.loss");
        assert_eq!(path_after(text, r#""loss":"1/2","#), "network");
        assert_eq!(path_after(text, r#""x""#), "x");
    }

    #[test]
    fn strings_with_brackets_and_escapes_do_not_confuse_it() {
        let text = r#"{"name":"a {[\"quoted\"]} b","shards":[{"a\"b":[1,2,true]}]}"#;
        assert_eq!(path_after(text, "true"), r#"shards[0].a"b[2]"#);
        assert_eq!(path_after(text, "quoted"), "name");
        assert_eq!(path_after(text, r#"[{"a"#), "shards[0]");
    }

    #[test]
    fn positions_follow_serde_json_lines_and_columns() {
        let text = "{\n  \"a\": 1,\n  \"b\": x\n}";
        assert_eq!(offset_of(text, 1, 0), 0);
        assert_eq!(offset_of(text, 3, 7), text.find('x').expect("x"));
        assert_eq!(offset_of(text, 9, 0), text.len());
    }
}
