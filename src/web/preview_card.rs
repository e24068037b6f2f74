//! The page a preview bot gets for a share with a card: Open Graph and Twitter-card tags, and
//! a way on to the destination for a person who lands there all the same.

use crate::domain::preview::PreviewCard;
use askama::Template;

#[derive(Template)]
#[template(path = "preview_card.html")]
pub struct PreviewCardPage<'a> {
    pub card: &'a PreviewCard,
    /// `og:url`: the short link itself, so an app that follows `og:url` to the canonical page
    /// gets this card again rather than the destination's own.
    pub short_url: &'a str,
    /// Where the short link redirects, with its tags.
    pub destination: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(card: &PreviewCard) -> String {
        PreviewCardPage {
            card,
            short_url: "https://go.example.com/Ab3dEf9x",
            destination: "https://example.com/launch?utm_source=whatsapp&st=Ab3dEf9x",
        }
        .render()
        .unwrap()
    }

    #[test]
    fn every_value_is_escaped_in_attributes_and_text() {
        let card = PreviewCard::parse(
            r#"Tom & Jerry's "<b>big</b>" day"#,
            Some(r#""><script>alert(1)</script>"#),
            Some(r#"https://cdn.example.com/a.png?x="y"&z=<1>"#),
        )
        .unwrap();
        let html = render(&card);
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(
            html.contains(
                r#"<meta property="og:title" content="Tom &#38; Jerry&#39;s &#34;&#60;b&#62;big&#60;/b&#62;&#34; day">"#
            ),
            "{html}"
        );
        assert!(html.contains(r#"<title>Tom &#38; Jerry&#39;s &#34;&#60;b&#62;big&#60;/b&#62;&#34; day</title>"#));
        assert!(
            html.contains(
                r#"<meta property="og:description" content="&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;">"#
            ),
            "{html}"
        );
        // The URL parser has already percent-encoded what a query may not hold.
        assert!(
            html.contains(
                r#"<meta property="og:image" content="https://cdn.example.com/a.png?x=%22y%22&#38;z=%3C1%3E">"#
            ),
            "{html}"
        );
    }

    #[test]
    fn the_page_carries_open_graph_and_twitter_tags_and_leads_on_to_the_destination() {
        let card = PreviewCard::parse(
            "Spring launch",
            Some("Ten new things"),
            Some("https://cdn.example.com/s.png"),
        )
        .unwrap();
        let html = render(&card);
        for tag in [
            r#"<meta name="robots" content="noindex">"#,
            r#"<meta property="og:type" content="website">"#,
            r#"<meta property="og:url" content="https://go.example.com/Ab3dEf9x">"#,
            r#"<meta property="og:title" content="Spring launch">"#,
            r#"<meta property="og:description" content="Ten new things">"#,
            r#"<meta property="og:image" content="https://cdn.example.com/s.png">"#,
            r#"<meta name="twitter:card" content="summary_large_image">"#,
            r#"<meta name="twitter:title" content="Spring launch">"#,
            r#"<meta name="twitter:description" content="Ten new things">"#,
            r#"<meta name="twitter:image" content="https://cdn.example.com/s.png">"#,
            r#"<meta http-equiv="refresh" content="0; url=https://example.com/launch?utm_source=whatsapp&#38;st=Ab3dEf9x">"#,
            r#"<a href="https://example.com/launch?utm_source=whatsapp&#38;st=Ab3dEf9x">Spring launch</a>"#,
        ] {
            assert!(html.contains(tag), "{tag} missing from {html}");
        }
    }

    #[test]
    fn a_card_without_an_image_is_a_summary_with_no_image_or_description_tags() {
        let html = render(&PreviewCard::parse("Just a title", None, None).unwrap());
        assert!(
            html.contains(r#"<meta name="twitter:card" content="summary">"#),
            "{html}"
        );
        for absent in ["og:image", "twitter:image", "og:description", "twitter:description"] {
            assert!(!html.contains(absent), "{absent} in {html}");
        }
    }
}
