//! A job's description as Recruiterflow sends it: HTML its users wrote, shown as
//! formatted text through ammonia's allow-list sanitizer. Kept: text formatting,
//! paragraphs, lists, headings, tables and links (`http`, `https`, `mailto` and `tel`
//! only, each with `rel="noopener noreferrer"`). Dropped: scripts and styles with
//! their content, event handlers, `style` attributes, forms, frames, relative links
//! (they would point into jobrank) and every image, so no description fetches
//! anything from elsewhere and the Content-Security-Policy stays as strict as it is.
//! A description without any markup is plain text: its blank lines become paragraphs
//! and its line breaks stay.

use std::collections::HashSet;
use std::fmt;
use std::sync::LazyLock;

use ammonia::{Builder, UrlRelative};

/// HTML that went through [`sanitize`]: the only markup from outside jobrank that a
/// template prints unescaped (`|safe`), and it can only be made here.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SanitizedHtml(String);

impl SanitizedHtml {
    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl fmt::Display for SanitizedHtml {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

static CLEANER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut b = Builder::default();
    b.rm_tags(["img"])
        .url_schemes(HashSet::from(["http", "https", "mailto", "tel"]))
        .url_relative(UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer"));
    b
});

/// A description made safe to show as HTML.
pub fn sanitize(description: &str) -> SanitizedHtml {
    let html = if description.contains('<') {
        std::borrow::Cow::Borrowed(description)
    } else {
        std::borrow::Cow::Owned(plain_text_as_html(description))
    };
    SanitizedHtml(CLEANER.clean(&html).to_string())
}

/// Plain text as HTML: escaped, a paragraph per block of lines, line breaks kept.
fn plain_text_as_html(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace("\r\n", "\n");
    escaped
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>", p.replace('\n', "<br>")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_and_links_stay_and_scripts_go() {
        let out = sanitize(
            "<p>Join <strong>us</strong></p><script>alert(1)</script>\
             <ul><li onclick=\"steal()\">Hybrid</li></ul>\
             <a href=\"https://example.com/careers\" target=\"_top\" rel=\"opener\">Careers</a>",
        );
        assert_eq!(
            out.0,
            "<p>Join <strong>us</strong></p><ul><li>Hybrid</li></ul>\
             <a href=\"https://example.com/careers\" rel=\"noopener noreferrer\">Careers</a>"
        );
    }

    #[test]
    fn hostile_markup_is_dropped() {
        for hostile in [
            "<img src=x onerror=alert(1)>",
            "<img src=\"https://tracker.example/pixel.gif\">",
            "<svg onload=alert(1)><script>alert(1)</script></svg>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<style>body{display:none}</style>",
            "<form action=\"https://evil.example\"><input name=password></form>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<a href=\"data:text/html,<script>alert(1)</script>\">x</a>",
            "<a href=\"/admin/users\">x</a>",
            "<p style=\"position:fixed\">x</p>",
            "<object data=\"x.swf\"></object><embed src=\"x.swf\">",
            "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">",
            "<base href=\"https://evil.example/\">",
            "<<script>script>alert(1)<</script>/script>",
        ] {
            let out = sanitize(hostile).0.to_lowercase();
            for banned in [
                "<script",
                "<img",
                "<svg",
                "<iframe",
                "<style",
                "<form",
                "<input",
                "javascript:",
                "data:",
                "href=\"/admin",
                "style=",
                "<object",
                "<embed",
                "<meta",
                "<base",
                "onerror",
                "onload",
            ] {
                assert!(!out.contains(banned), "{hostile} -> {out}");
            }
        }
    }

    #[test]
    fn plain_text_keeps_its_paragraphs_and_line_breaks() {
        let out = sanitize("Senior role & hybrid\nLondon\n\nSalary > £70k");
        assert_eq!(
            out.0,
            "<p>Senior role &amp; hybrid<br>London</p><p>Salary &gt; £70k</p>"
        );
        assert!(sanitize("  ").is_empty());
    }
}
