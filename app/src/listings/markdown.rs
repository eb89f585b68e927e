//! Listing descriptions: Markdown rendered by pulldown-cmark, then cleaned
//! by ammonia's allow-list. Raw HTML in the source is escaped (shown as
//! text) before sanitising, so it can neither run nor break out of the
//! description; links keep only http, https and mailto and open with
//! `rel="noopener noreferrer nofollow"`.

use pulldown_cmark::{html, Event, Options, Parser};

/// Safe HTML for a Markdown description.
pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        // Raw HTML becomes visible text, never markup.
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    let mut unsafe_html = String::new();
    html::push_html(&mut unsafe_html, events);
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&unsafe_html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_renders() {
        let html = render("# Title\n\nSome **bold** and a [link](https://example.org).");
        assert!(html.contains("<h1>Title</h1>"), "{html}");
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(
            html.contains(
                r#"<a href="https://example.org" rel="noopener noreferrer nofollow">link</a>"#
            ),
            "{html}"
        );
    }

    #[test]
    fn scripts_handlers_and_dangerous_links_are_inert() {
        let html = render(
            "<script>alert(1)</script>\n\n\
             text <img src=x onerror=\"alert(2)\"> more\n\n\
             [click](javascript:alert(3)) and [data](data:text/html;base64,PHNjcmlwdD4=)\n\n\
             <a href=\"javascript:alert(4)\" onclick=\"alert(5)\">raw</a>\n\n\
             <iframe src=\"https://evil.example\"></iframe><style>body{display:none}</style>",
        );
        // Text has its `<` escaped, so every literal `<` opens real markup:
        // check each tag the browser would see.
        let lower = html.to_lowercase();
        for tag in lower
            .split('<')
            .skip(1)
            .map(|t| t.split('>').next().unwrap_or(""))
        {
            let name = tag
                .trim_start_matches('/')
                .split_whitespace()
                .next()
                .unwrap_or("");
            assert!(
                !["script", "img", "iframe", "style", "object", "embed"].contains(&name),
                "<{tag}> survived in {html}"
            );
            for bad in ["javascript:", "data:", " on", "style="] {
                assert!(!tag.contains(bad), "{bad} in <{tag}> of {html}");
            }
        }
        // The raw HTML is still there, as text a reader can see.
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(html.contains("click"), "{html}");
    }
}
