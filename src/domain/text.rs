//! The one rule for text people type into jobrank, and the cleaning of text that
//! arrives from Recruiterflow. PostgreSQL refuses NUL in text (and in JSON), so a NUL
//! that SQLite accepted would turn its row into a dead letter on the way to Supabase;
//! other control characters are invisible, break exports and confuse terminals.

use std::borrow::Cow;

use super::DomainError;

/// Whether `c` may appear in stored text: anything but a control character, except
/// the line feed and the tab (a carriage return is allowed only as part of a CRLF
/// line break, as browsers send a textarea's lines).
fn allowed(c: char, next: Option<char>) -> bool {
    !c.is_control() || c == '\n' || c == '\t' || (c == '\r' && next == Some('\n'))
}

/// Refuses text typed by a person (a comment, a name, an email, a label) that holds
/// a NUL or another control character other than a line break or a tab. The error
/// names `field` and the first offending character.
pub fn check_text(field: &'static str, value: &str) -> Result<(), DomainError> {
    let mut chars = value.chars().enumerate().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|(_, n)| *n);
        if !allowed(c, next) {
            return Err(DomainError::Invalid {
                field,
                reason: format!(
                    "must not contain control characters (found U+{:04X} at character {}); only line breaks and tabs are allowed",
                    u32::from(c),
                    i + 1
                ),
            });
        }
    }
    Ok(())
}

/// Text from Recruiterflow (job titles, client names, descriptions, hiring teams, stage
/// and user names) with its control characters removed, line breaks and tabs kept (a
/// CRLF becomes a LF). It cannot be refused the way a form can, so it is cleaned as it
/// arrives and nothing stored can be refused by PostgreSQL later.
pub fn clean_external(value: &str) -> Cow<'_, str> {
    if !value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Cow::Borrowed(value);
    }
    Cow::Owned(
        value
            .chars()
            .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_and_tabs_pass_and_every_other_control_character_is_refused() {
        for ok in [
            "",
            "plain",
            "two\nlines",
            "crlf\r\nlines",
            "a\ttab",
            "accents é ü, emoji 🎯, RTL עברית",
        ] {
            assert_eq!(check_text("comment", ok), Ok(()), "{ok:?}");
        }
        for bad in [
            "nul\0byte",
            "\0",
            "bell\u{7}",
            "escape\u{1b}[31m",
            "lone\rreturn",
            "ends with return\r",
            "delete\u{7f}",
            "c1 control\u{85}",
            "backspace\u{8}",
        ] {
            let e = check_text("comment", bad).unwrap_err();
            let msg = e.to_string();
            assert!(msg.starts_with("comment: "), "{msg}");
            assert!(msg.contains("control characters"), "{msg}");
        }
        assert!(
            check_text("name", "ab\0")
                .unwrap_err()
                .to_string()
                .contains("U+0000 at character 3")
        );
    }

    #[test]
    fn text_from_recruiterflow_loses_its_control_characters_only() {
        assert!(matches!(clean_external("Head of Data"), Cow::Borrowed(_)));
        assert!(matches!(clean_external("a\nb\tc"), Cow::Borrowed(_)));
        assert_eq!(clean_external("Head\0 of\u{7} Data\u{1b}"), "Head of Data");
        assert_eq!(clean_external("line\r\nnext"), "line\nnext");
        assert_eq!(clean_external("\0\u{1}\u{85}"), "");
        for s in ["x\0y", "\r\n", "a\u{9f}b", "é\u{0}"] {
            assert_eq!(
                check_text("f", &clean_external(s)),
                Ok(()),
                "cleaned {s:?} passes the rule"
            );
        }
    }
}
