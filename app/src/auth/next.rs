//! Coming back after signing in: a sign-in or sign-up reached from an
//! invitation link carries `next=/invitations/<token>`, in its URL and in
//! its form, and goes there afterwards.

use leptos::prelude::*;

/// Where signing up or in goes afterwards when the form carried a `next`:
/// only an invitation page of this site (an invitation link brought the
/// person here). Anything else is ignored, so the sign-in form cannot send
/// anyone to another site or page.
pub fn return_to(next: Option<&str>) -> Option<&str> {
    let next = next?;
    let token = next.strip_prefix("/invitations/")?;
    let ok = !token.is_empty()
        && token.len() <= 128
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(next)
}

/// `path` with `?next=` for a valid `next` (see `return_to`).
pub fn with_next(path: &str, next: Option<&str>) -> String {
    match return_to(next) {
        Some(next) => format!("{path}?next={next}"),
        None => path.to_string(),
    }
}

/// The page's `next` (an invitation page to return to), when valid: kept
/// in the forms and in the links between sign-in and sign-up.
pub fn next_of_page() -> Option<String> {
    let query = leptos_router::hooks::use_query_map();
    let next = query.read_untracked().get("next");
    return_to(next.as_deref()).map(str::to_string)
}

/// The hidden `next` field of a sign-in form.
#[component]
pub fn NextField(next: Option<String>) -> impl IntoView {
    next.map(|n| view! { <input type="hidden" name="next" value=n/> })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_invitation_page_is_returned_to() {
        let token = "Zm9vYmFyLWJhel9xdXV4LTEyMzQ1Njc4OTAtYWJjZGVm";
        let page = format!("/invitations/{token}");
        assert_eq!(return_to(Some(&page)), Some(page.as_str()));
        for bad in [
            "https://evil.example/invitations/abc",
            "//evil.example/invitations/abc",
            "/invitations/",
            "/invitations/abc/../../account",
            "/invitations/abc?x=1",
            "/invitations/abc#x",
            "/invitations/a%2Fb",
            "/orgs",
            "/\\evil.example",
            "",
        ] {
            assert_eq!(return_to(Some(bad)), None, "{bad}");
        }
        assert_eq!(return_to(None), None);
        assert_eq!(
            with_next("/sign-in", Some(&page)),
            format!("/sign-in?next={page}")
        );
        assert_eq!(with_next("/sign-in", Some("/orgs")), "/sign-in");
    }
}
