//! Listing descriptions: Markdown rendered by pulldown-cmark, then cleaned
//! by ammonia's allow-list. Raw HTML in the source is escaped (shown as
//! text) before sanitising, so it can neither run nor break out of the
//! description; links keep only http, https and mailto and open with
//! `rel="noopener noreferrer nofollow"`.
//!
//! The description sits under the page's "Description" heading (an h2), so
//! its own headings start at h3 and never skip a level on the way down,
//! whatever levels the author typed: the page keeps one h1 and its order.

use pulldown_cmark::{html, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// The level of the heading above a description's first heading.
const DESCRIPTION_LEVEL: usize = 2;

fn level_of(level: HeadingLevel) -> usize {
    level as usize
}

fn heading(level: usize) -> HeadingLevel {
    match level {
        0..=1 => HeadingLevel::H1,
        2 => HeadingLevel::H2,
        3 => HeadingLevel::H3,
        4 => HeadingLevel::H4,
        5 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

/// Safe HTML for a Markdown description.
pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    // The author's level shifted down by two, but at most one below the
    // heading before it (h3 at most for the first).
    let mut previous = DESCRIPTION_LEVEL;
    let mut open = HeadingLevel::H3;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        // Raw HTML becomes visible text, never markup.
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => {
            let shifted = (level_of(level) + DESCRIPTION_LEVEL)
                .min(previous + 1)
                .clamp(DESCRIPTION_LEVEL + 1, 6);
            previous = shifted;
            open = heading(shifted);
            Event::Start(Tag::Heading {
                level: open,
                id,
                classes,
                attrs,
            })
        }
        Event::End(TagEnd::Heading(_)) => Event::End(TagEnd::Heading(open)),
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
        assert!(html.contains("<h3>Title</h3>"), "{html}");
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

    #[test]
    fn headings_sit_under_the_description_heading_without_skipping() {
        let levels = |md: &str| -> Vec<String> {
            let html = render(md);
            html.match_indices("<h")
                .filter_map(|(i, _)| html[i + 2..].chars().next().filter(char::is_ascii_digit))
                .map(String::from)
                .collect()
        };
        assert_eq!(levels("# A\n\n## B\n\n### C\n\n# D"), ["3", "4", "5", "3"]);
        // Skipped or odd levels are closed up: never below the one before + 1.
        assert_eq!(levels("#### A\n\n###### B\n\n## C"), ["3", "4", "4"]);
        assert_eq!(
            levels("# 1\n\n## 2\n\n### 3\n\n#### 4\n\n##### 5"),
            ["3", "4", "5", "6", "6"]
        );
        assert!(render("###### Deep\n").contains("<h3>Deep</h3>"));
        assert!(!render("# Title\n").contains("<h1>"));
    }
}
