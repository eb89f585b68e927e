//! Text that Leptos 0.8 writes into the server's HTML without escaping it.
//!
//! Two places do: `leptos_meta`'s `<Title>` pushes its string into the
//! document head as it is, and tachys renders the children of a
//! `<textarea>` unescaped. A listing named `</title><meta http-equiv=
//! "refresh" …>` would redirect every visitor of its page; a description
//! starting `</textarea><form …>` would put a live form in the editor. On
//! the server these helpers escape such text; in the browser the same text
//! goes through DOM APIs (`document.title`, a text node), which take it as
//! text, so there it must stay as typed.

/// Escapes `&`, `<` and `>`: enough for text content (quotes only matter
/// in attributes, which the renderer escapes itself).
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Text for a place the renderer writes raw (a page title, a textarea's
/// content): escaped when rendered on the server, unchanged in the browser.
pub fn unescaped_slot(s: String) -> String {
    #[cfg(feature = "ssr")]
    {
        escape_text(&s)
    }
    #[cfg(not(feature = "ssr"))]
    {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_becomes_text() {
        assert_eq!(
            escape_text(r#"</title><meta http-equiv="refresh"> & more"#),
            r#"&lt;/title&gt;&lt;meta http-equiv="refresh"&gt; &amp; more"#
        );
        assert_eq!(escape_text("Plain · text ✓"), "Plain · text ✓");
    }
}
