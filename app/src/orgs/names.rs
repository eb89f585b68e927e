//! Organisation names people cannot be fooled by: no invisible or
//! direction-changing characters, nothing that reads as the platform's
//! name, and nothing that reads as another organisation's name.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// The platform's own name, as every organisation name is compared with it.
pub const PLATFORM_NAME: &str = "Fairground";

/// Control characters and Unicode format characters (bidirectional
/// overrides and isolates, zero-width spaces and joiners, the byte-order
/// mark, soft hyphen...): they hide or reorder what a name shows.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}')
}

/// Letters and digits that look like a Latin letter, mapped to it: Cyrillic
/// and Greek look-alikes, digits read as letters, and the i/l/1 family
/// (folded together, as a reader cannot tell them apart in many fonts).
fn fold(c: char) -> char {
    match c {
        'а' | 'α' | '@' => 'a',
        'в' | 'β' | 'ь' => 'b',
        'с' | 'ϲ' | 'ç' => 'c',
        'ԁ' => 'd',
        'е' | 'ё' | 'ε' | '3' => 'e',
        'ɡ' | '9' => 'g',
        'һ' | 'н' => 'h',
        'i' | 'l' | '1' | '|' | '!' | 'ı' | 'і' | 'ї' | 'ӏ' | 'ι' | 'ǀ' => 'i',
        'ј' => 'j',
        'к' | 'κ' => 'k',
        'м' => 'm',
        'η' | 'п' => 'n',
        'о' | 'ο' | 'σ' | '0' => 'o',
        'р' | 'ρ' => 'p',
        'ԛ' => 'q',
        'ѕ' | '5' | '$' => 's',
        'т' | 'τ' | '7' => 't',
        'υ' | 'μ' => 'u',
        'ν' => 'v',
        'ԝ' | 'ω' => 'w',
        'х' | 'χ' => 'x',
        'у' | 'γ' => 'y',
        'ᴢ' | '2' => 'z',
        c => c,
    }
}

/// What a name looks like, roughly: compatibility-decomposed (full-width
/// and mathematical letters become plain ones), accents dropped,
/// lower-cased, look-alike letters folded, "rn" read as "m" and "vv" as
/// "w", and everything but letters and digits left out. Two names with
/// the same skeleton are too easily taken for each other.
pub fn skeleton(name: &str) -> String {
    let plain: String = name
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(fold)
        .filter(|c| c.is_alphanumeric())
        .collect();
    plain.replace("rn", "m").replace("vv", "w")
}

/// Why a proposed organisation name is refused, given the names of the
/// organisations that exist (the platform's included); None when it may be
/// used.
pub fn refusal<'a>(name: &str, existing: impl IntoIterator<Item = &'a str>) -> Option<String> {
    if name.chars().any(is_hidden) {
        return Some(
            "Use letters, digits, spaces and punctuation only: no invisible or direction-changing characters."
                .into(),
        );
    }
    let own = skeleton(name);
    if own.is_empty() {
        return Some("Use at least one letter or digit.".into());
    }
    if own.contains(&skeleton(PLATFORM_NAME)) {
        return Some(format!(
            "Only the platform itself may use a name that reads as \"{PLATFORM_NAME}\"."
        ));
    }
    for other in existing {
        let theirs = skeleton(other);
        if theirs.is_empty() {
            continue;
        }
        if own == theirs {
            return Some(
                "An organisation with this name, or one that looks the same, already exists: choose another name."
                    .into(),
            );
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_platform_name_cannot_be_borrowed_in_any_disguise() {
        for name in [
            "Fairground",
            "fairground",
            "FAIRGROUND Health",
            "Fa1rground",
            "FaIrground",
            "Fairgr0und Labs",
            "Fаirground",           // Cyrillic a
            "Ｆａｉｒｇｒｏｕｎｄ", // full-width
            "Fair-ground",
            "F a i r g r o u n d",
            "Fairgróund",
            "𝐅𝐚𝐢𝐫𝐠𝐫𝐨𝐮𝐧𝐝",
        ] {
            assert!(
                refusal(name, []).is_some_and(|r| r.contains("platform")),
                "{name}"
            );
        }
        assert_eq!(refusal("Fairway Analytics", []), None);
        assert_eq!(refusal("Grounded Fair Trade", []), None);
    }

    #[test]
    fn another_organisations_name_cannot_be_imitated() {
        let existing = ["St Brigid Hospital", "Acme Legal"];
        for name in [
            "St Brigid Hospital",
            "st. brigid hospital",
            "St Br1gid Hosp1tal",
            "Αcme Legal", // Greek capital alpha
            "ACME-LEGAL",
            "Acme Lega1",
        ] {
            assert!(
                refusal(name, existing).is_some_and(|r| r.contains("already exists")),
                "{name}"
            );
        }
        assert_eq!(refusal("St Brigid Clinic", existing), None);
        assert_eq!(refusal("Acme Legal Research", existing), None);
    }

    #[test]
    fn invisible_and_direction_changing_characters_are_refused() {
        for name in [
            "Acme\u{202E}latigid",
            "Acme\u{2066}x\u{2069}",
            "Ac\u{200B}me",
            "Acme\u{FEFF}",
            "Acme\u{0000}",
            "Acme\u{00AD}Corp",
            "Acme\u{E0041}",
        ] {
            assert!(
                refusal(name, []).is_some_and(|r| r.contains("invisible")),
                "{name:?}"
            );
        }
        assert!(refusal("—", []).is_some_and(|r| r.contains("letter")));
        assert_eq!(refusal("Zürich Rück AG", []), None);
        assert_eq!(refusal("東京病院", []), None);
    }
}
