//! Forms that submit in place, an island placed once on every page.
//!
//! Without JavaScript a form posts, the server redirects back, and the page
//! comes back whole. With JavaScript this island sends the same post the
//! browser would (the same fields, `Accept: text/html`, so the server takes
//! exactly the same path and answers with the same redirect) and, when the
//! answer is the page the form is on, puts that page's new content in place
//! of the old: no reload, the scroll position stays, after an error the
//! values typed are kept (passwords excepted) and focus goes to the first
//! field in error, or to the form-wide alert when no field is; the outcome
//! is read out by a live region. An answer on another page (signing in
//! leads to the account page) is opened as usual.
//!
//! What a form may be sent this way ([`in_place`]): a URL-encoded `post` to
//! this site that opens in the same window, by a button that does not send
//! it elsewhere. A page whose new content holds islands of its own is
//! opened whole instead, so that they start.

use leptos::prelude::*;

/// Whether a form with these attributes is sent in place: a `post` (the
/// `method` attribute, in lower case), to `action_origin` equal to
/// `page_origin`, opening in the same window, not marked `data-reload`.
pub fn in_place(
    method: &str,
    target: &str,
    action_origin: &str,
    page_origin: &str,
    reload: bool,
) -> bool {
    method == "post"
        && (target.is_empty() || target == "_self")
        && action_origin == page_origin
        && !reload
}

/// What the live region says after an in-place submit: the page's errors
/// when it failed (at most 300 characters), else its notice, else "Done.".
pub fn outcome(failed: bool, errors: &[String], notice: Option<&str>) -> String {
    let said = if failed {
        let list: Vec<&str> = errors
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
            .collect();
        if list.is_empty() {
            "Not done: see the form.".to_string()
        } else {
            format!("Not done: {}", list.join(" "))
        }
    } else {
        match notice.map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => format!("Done. {n}"),
            None => "Done.".to_string(),
        }
    };
    match said.char_indices().nth(300) {
        Some((at, _)) => format!("{}…", &said[..at]),
        None => said,
    }
}

/// The live region that reads out the outcome of a form sent in place;
/// with JavaScript, the listener that sends them.
#[island]
pub fn FormsInPlace() -> impl IntoView {
    let said = RwSignal::new(String::new());
    #[cfg(feature = "hydrate")]
    {
        let busy = RwSignal::new(false);
        // The page lives until the next navigation: the listener with it.
        let _listener = window_event_listener(leptos::ev::submit, move |ev| {
            browser::on_submit(ev, said, busy)
        });
    }
    // A live region without the status role: a page's own notice keeps
    // being the one status on it.
    view! {
        <p class="visually-hidden" aria-live="polite" aria-atomic="true" id="in-place-status">
            {move || said.get()}
        </p>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::{in_place, outcome};
    use leptos::prelude::*;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{
        DomParser, Element, FocusOptions, FormData, Headers, HtmlElement, HtmlFormElement,
        HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement, RequestCredentials, RequestInit,
        RequestRedirect, Response, SubmitEvent, SupportedType, Url, UrlSearchParams,
    };

    pub fn on_submit(ev: SubmitEvent, said: RwSignal<String>, busy: RwSignal<bool>) {
        if ev.default_prevented() {
            return;
        }
        let Some(form) = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlFormElement>().ok())
        else {
            return;
        };
        let submitter = ev.submitter();
        // A button that sends its form elsewhere is left to the browser.
        if submitter.as_ref().is_some_and(|b| {
            ["formaction", "formmethod", "formtarget", "formenctype"]
                .iter()
                .any(|a| b.has_attribute(a))
        }) {
            return;
        }
        let page_origin = window().location().origin().unwrap_or_default();
        let Some(action) = action_url(&form) else {
            return;
        };
        let target = form.get_attribute("target").unwrap_or_default();
        let method = form
            .get_attribute("method")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let enctype = form
            .get_attribute("enctype")
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !in_place(
            &method,
            &target,
            &action.origin(),
            &page_origin,
            form.has_attribute("data-reload"),
        ) || !(enctype.is_empty() || enctype == "application/x-www-form-urlencoded")
        {
            // Files and other encodings are left to the browser too.
            return;
        }
        ev.prevent_default();
        // A second press while the first is on its way sends nothing more.
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        said.set(String::new());
        // Set before this handler returns: whoever looks next sees it busy.
        let _ = form.set_attribute("aria-busy", "true");
        leptos::task::spawn_local(async move {
            let result = send(&form, &action.href(), submitter).await;
            let _ = form.remove_attribute("aria-busy");
            busy.set(false);
            match result {
                Ok(Some(text)) => said.set(text),
                Ok(None) => {}
                Err(_) => said.set(
                    "The server could not be reached: check the page before trying again."
                        .to_string(),
                ),
            }
        });
    }

    /// Where `form` posts, resolved against the page's address. Read from
    /// the attribute, not the `action` property: a control named `action`
    /// (the case decision's) takes that property's place.
    fn action_url(form: &HtmlFormElement) -> Option<Url> {
        let here = window().location().href().ok()?;
        match form.get_attribute("action").filter(|a| !a.is_empty()) {
            Some(a) => Url::new_with_base(&a, &here).ok(),
            None => Url::new(&here).ok(),
        }
    }

    /// A control's name, type and what was typed or chosen in it.
    struct Typed {
        name: String,
        kind: String,
        value: String,
        checked: bool,
    }

    fn typed(form: &HtmlFormElement) -> Vec<Typed> {
        let elements = form.elements();
        (0..elements.length())
            .filter_map(|i| elements.item(i))
            .filter_map(|el| {
                if let Some(i) = el.dyn_ref::<HtmlInputElement>() {
                    Some(Typed {
                        name: i.name(),
                        kind: i.type_(),
                        value: i.value(),
                        checked: i.checked(),
                    })
                } else if let Some(t) = el.dyn_ref::<HtmlTextAreaElement>() {
                    Some(Typed {
                        name: t.name(),
                        kind: "textarea".into(),
                        value: t.value(),
                        checked: false,
                    })
                } else {
                    el.dyn_ref::<HtmlSelectElement>().map(|s| Typed {
                        name: s.name(),
                        kind: "select".into(),
                        value: s.value(),
                        checked: false,
                    })
                }
            })
            .filter(|t| {
                !t.name.is_empty()
                    && !matches!(
                        t.kind.as_str(),
                        "password" | "hidden" | "submit" | "button" | "file" | "reset" | "image"
                    )
            })
            .collect()
    }

    /// Puts what was typed back into the form the page sent again.
    fn restore(form: &HtmlFormElement, kept: &[Typed]) {
        let elements = form.elements();
        let mut seen: Vec<(&str, usize)> = Vec::new();
        for el in (0..elements.length()).filter_map(|i| elements.item(i)) {
            if let Some(i) = el.dyn_ref::<HtmlInputElement>() {
                let kind = i.type_();
                if kind == "checkbox" || kind == "radio" {
                    let value = i.value();
                    if let Some(k) = kept
                        .iter()
                        .find(|k| k.name == i.name() && k.kind == kind && k.value == value)
                    {
                        i.set_checked(k.checked);
                    }
                } else if let Some(k) = nth(kept, &mut seen, &i.name(), &kind) {
                    i.set_value(&k.value);
                }
            } else if let Some(t) = el.dyn_ref::<HtmlTextAreaElement>() {
                if let Some(k) = nth(kept, &mut seen, &t.name(), "textarea") {
                    t.set_value(&k.value);
                }
            } else if let Some(s) = el.dyn_ref::<HtmlSelectElement>() {
                if let Some(k) = nth(kept, &mut seen, &s.name(), "select") {
                    s.set_value(&k.value);
                }
            }
        }
    }

    /// The next kept value of a control named `name` of this kind (a form
    /// may repeat a name).
    fn nth<'a>(
        kept: &'a [Typed],
        seen: &mut Vec<(&'a str, usize)>,
        name: &str,
        kind: &str,
    ) -> Option<&'a Typed> {
        let same: Vec<&Typed> = kept
            .iter()
            .filter(|k| k.name == name && k.kind == kind)
            .collect();
        let first = same.first()?;
        let at = match seen.iter_mut().find(|(n, _)| *n == first.name.as_str()) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                seen.push((first.name.as_str(), 0));
                0
            }
        };
        same.get(at).copied()
    }

    /// The position of `form` among the forms of `main` with its action.
    fn position(main: &Element, form: &HtmlFormElement) -> Option<(String, u32)> {
        let action = form.get_attribute("action")?;
        let forms = main.query_selector_all("form[action]").ok()?;
        let mut index = 0;
        for node in (0..forms.length()).filter_map(|i| forms.item(i)) {
            let Ok(f) = node.dyn_into::<HtmlFormElement>() else {
                continue;
            };
            if f == *form {
                return Some((action, index));
            }
            if f.get_attribute("action").as_deref() == Some(action.as_str()) {
                index += 1;
            }
        }
        None
    }

    fn same_form(main: &Element, at: &Option<(String, u32)>) -> Option<HtmlFormElement> {
        let (action, index) = at.as_ref()?;
        let forms = main.query_selector_all("form[action]").ok()?;
        (0..forms.length())
            .filter_map(|i| forms.item(i))
            .filter_map(|n| n.dyn_into::<HtmlFormElement>().ok())
            .filter(|f| f.get_attribute("action").as_deref() == Some(action.as_str()))
            .nth(*index as usize)
    }

    fn texts(root: &Element, selector: &str) -> Vec<String> {
        root.query_selector_all(selector)
            .map(|list| {
                (0..list.length())
                    .filter_map(|i| list.item(i))
                    .filter_map(|n| n.text_content())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Moves the parsed answer's nodes into the page. Nodes, not their
    /// markup: serialising parsed HTML and parsing it again can turn text
    /// into markup (the document parsed here had scripting off, the page
    /// has it on), so no HTML string is written into the page.
    fn take_children(from: &Element, into: &Element) -> Result<(), JsValue> {
        into.set_text_content(None);
        let doc = document();
        while let Some(child) = from.first_child() {
            into.append_child(&doc.adopt_node(&child)?)?;
        }
        Ok(())
    }

    /// Moves focus to `el`. A message (a form-wide alert) cannot take focus
    /// by itself: it is made focusable, outside the tab order, first.
    fn focus(el: &Element) {
        if !el
            .matches("a[href], button, input, select, textarea, [tabindex]")
            .unwrap_or(true)
        {
            let _ = el.set_attribute("tabindex", "-1");
        }
        if let Some(h) = el.dyn_ref::<HtmlElement>() {
            let options = FocusOptions::new();
            options.set_prevent_scroll(true);
            let _ = h.focus_with_options(&options);
        }
    }

    /// Sends `form` as the browser would and shows the answer. Returns what
    /// the live region should say (nothing when another page opens).
    async fn send(
        form: &HtmlFormElement,
        action: &str,
        submitter: Option<HtmlElement>,
    ) -> Result<Option<String>, JsValue> {
        let data = FormData::new_with_form(form)?;
        // The button pressed is sent too when it has a name, as a browser does.
        if let Some(name) = submitter
            .as_ref()
            .and_then(|s| s.get_attribute("name"))
            .filter(|n| !n.is_empty())
        {
            let value = submitter
                .as_ref()
                .and_then(|s| s.get_attribute("value"))
                .unwrap_or_default();
            data.append_with_str(&name, &value)?;
        }
        let body = UrlSearchParams::new_with_str_sequence_sequence(&data)?;
        let headers = Headers::new()?;
        headers.set("Accept", "text/html")?;
        headers.set("Content-Type", "application/x-www-form-urlencoded")?;
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_headers(&headers);
        init.set_body(&body);
        init.set_credentials(RequestCredentials::SameOrigin);
        init.set_redirect(RequestRedirect::Follow);
        let res: Response = JsFuture::from(window().fetch_with_str_and_init(action, &init))
            .await?
            .dyn_into()?;
        let location = window().location();
        let answered = Url::new(&res.url())?;
        let html = res
            .headers()
            .get("content-type")?
            .is_some_and(|t| t.starts_with("text/html"));
        let same_page = res.redirected() && answered.pathname() == location.pathname()?;
        if res.redirected() && !same_page {
            location.assign(&res.url())?;
            return Ok(None);
        }
        if !html {
            let status = res.status();
            return Ok(Some(format!(
                "Not done: the server answered {status} {}.",
                res.status_text()
            )));
        }
        let text = JsFuture::from(res.text()?)
            .await?
            .as_string()
            .unwrap_or_default();
        let doc = DomParser::new()?.parse_from_string(&text, SupportedType::TextHtml)?;
        let (Some(new_main), Some(main)) = (
            doc.query_selector("main#main")?,
            document().query_selector("main#main")?,
        ) else {
            // Not a page of this site's: said, and the page left as it is
            // (the post's own address is no page to open).
            return Ok(Some(format!(
                "Not done: the server answered {} {}.",
                res.status(),
                res.status_text()
            )));
        };
        if res.redirected() && new_main.query_selector("leptos-island")?.is_some() {
            // Islands start only when a page loads.
            location.assign(&res.url())?;
            return Ok(None);
        }
        let failed = !res.ok()
            || answered.search_params().has("__err")
            || new_main
                .query_selector("[aria-invalid=\"true\"]")?
                .is_some();
        let at = position(&main, form);
        let kept = if failed { typed(form) } else { Vec::new() };
        take_children(&new_main, &main)?;
        if let (Some(nav), Some(new_nav)) = (
            document().query_selector("header.site-header nav")?,
            doc.query_selector("header.site-header nav")?,
        ) {
            take_children(&new_nav, &nav)?;
        }
        document().set_title(&doc.title());
        if same_page && !failed {
            // The address the page came back at (a reload shows it again).
            window()
                .history()?
                .replace_state_with_url(&JsValue::NULL, "", Some(&res.url()))?;
        }
        let again = same_form(&main, &at);
        if let Some(f) = &again {
            restore(f, &kept);
        }
        let scope: Element = again
            .clone()
            .map(Into::into)
            .unwrap_or_else(|| main.clone());
        if failed {
            let first = scope
                .query_selector("[aria-invalid=\"true\"]")?
                .or(main.query_selector("[aria-invalid=\"true\"]")?)
                .or(main.query_selector(".form-alert")?);
            match first {
                Some(el) => focus(&el),
                None => focus(&main),
            }
            let mut errors = texts(&main, ".form-alert");
            errors.extend(texts(&main, ".field-error"));
            Ok(Some(outcome(true, &errors, None)))
        } else {
            match scope.query_selector("button[type=\"submit\"], button:not([type])")? {
                Some(button) if again.is_some() => focus(&button),
                _ => focus(&main),
            }
            let notice = texts(&main, ".notice").into_iter().next();
            Ok(Some(outcome(false, &[], notice.as_deref())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{in_place, outcome};

    #[test]
    fn only_posts_to_this_site_in_this_window_are_sent_in_place() {
        let here = "https://market.example";
        assert!(in_place("post", "", here, here, false));
        assert!(in_place("post", "_self", here, here, false));
        assert!(
            !in_place("get", "", here, here, false),
            "searches stay links"
        );
        assert!(!in_place("post", "_blank", here, here, false));
        assert!(!in_place(
            "post",
            "",
            "https://elsewhere.example",
            here,
            false
        ));
        assert!(
            !in_place("post", "", here, here, true),
            "data-reload opts out"
        );
    }

    #[test]
    fn the_live_region_says_what_happened() {
        assert_eq!(outcome(false, &[], None), "Done.");
        assert_eq!(
            outcome(false, &[], Some("  Key created: copy it now. ")),
            "Done. Key created: copy it now."
        );
        assert_eq!(
            outcome(
                true,
                &["".into(), " Enter a name. ".into(), "Too short.".into()],
                None
            ),
            "Not done: Enter a name. Too short."
        );
        assert_eq!(outcome(true, &[], None), "Not done: see the form.");
        let long = outcome(true, &["é".repeat(400)], None);
        assert_eq!(long.chars().count(), 301);
        assert!(long.ends_with('…'));
    }
}
