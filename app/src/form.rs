//! Checking a submitted form field by field: every problem is collected
//! under its field's name, so the page can show each one next to its field,
//! and nothing is written while any remains.

use crate::error::{AppError, FieldErrors};

#[derive(Debug, Default)]
pub struct Form {
    fields: FieldErrors,
}

impl Form {
    pub fn new() -> Form {
        Form::default()
    }

    /// Records a problem with `field`.
    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.fields
            .entry(field.to_string())
            .or_default()
            .push(message.into());
    }

    /// The problems recorded so far, by field.
    pub fn errors(&self) -> &FieldErrors {
        &self.fields
    }

    /// Trimmed text of `min..=max` characters without control characters
    /// (newlines and tabs allowed when `multiline`).
    pub fn text(
        &mut self,
        field: &str,
        value: &str,
        min: usize,
        max: usize,
        multiline: bool,
    ) -> String {
        let v = value.trim();
        let n = v.chars().count();
        if n < min {
            self.fail(
                field,
                if min <= 1 {
                    "This field is required.".to_string()
                } else {
                    format!("Use at least {min} characters.")
                },
            );
        } else if n > max {
            self.fail(field, format!("Use at most {max} characters."));
        } else if v
            .chars()
            .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')))
        {
            self.fail(field, "Use letters, digits, spaces and punctuation only.");
        }
        v.to_string()
    }

    /// Comma-separated labels: trimmed, de-duplicated case-insensitively
    /// (and lower-cased when `lower`).
    pub fn list(
        &mut self,
        field: &str,
        value: &str,
        max_items: usize,
        max_len: usize,
        lower: bool,
    ) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let item = if lower {
                item.to_lowercase()
            } else {
                item.to_string()
            };
            if item.chars().count() > max_len || item.chars().any(char::is_control) {
                self.fail(
                    field,
                    format!("Each entry may have at most {max_len} characters."),
                );
                return out;
            }
            if !out.iter().any(|o| o.eq_ignore_ascii_case(&item)) {
                out.push(item);
            }
        }
        if out.len() > max_items {
            self.fail(field, format!("Give at most {max_items}."));
        }
        out
    }

    /// A positive id chosen in a select box (0 after a failure).
    pub fn id(&mut self, field: &str, value: &str, message: &str) -> i64 {
        match value.trim().parse::<i64>() {
            Ok(n) if n > 0 => n,
            _ => {
                self.fail(field, message);
                0
            }
        }
    }

    /// Keeps `value` when it is Ok, else records its message (None).
    pub fn take<T>(&mut self, field: &str, value: Result<T, String>) -> Option<T> {
        match value {
            Ok(v) => Some(v),
            Err(message) => {
                self.fail(field, message);
                None
            }
        }
    }

    /// Ok when nothing failed, else a validation error with every message.
    pub fn done(self) -> Result<(), AppError> {
        if self.fields.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation {
                fields: self.fields,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Form;

    #[test]
    fn every_problem_is_kept_under_its_field() {
        let mut f = Form::new();
        assert_eq!(f.text("name", "  ab ", 3, 10, false), "ab");
        assert_eq!(f.text("bio", "one\ntwo", 0, 10, true), "one\ntwo");
        f.text("title", "one\ntwo", 0, 10, false);
        assert_eq!(f.list("tags", "A, b,a ,,", 5, 10, true), vec!["a", "b"]);
        f.list("certs", "a,b,c", 2, 10, false);
        assert_eq!(f.id("base", "x", "Choose one."), 0);
        let errors = f.errors().clone();
        assert_eq!(
            errors.keys().map(String::as_str).collect::<Vec<_>>(),
            ["base", "certs", "name", "title"]
        );
        assert_eq!(errors["name"], ["Use at least 3 characters."]);
        assert!(f.done().is_err());
        assert!(Form::new().done().is_ok());
    }
}
