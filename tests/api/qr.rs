//! `/qr/{code}.png` and `/qr/{code}.svg`: the short link as a QR code a phone can scan.

use crate::helpers::*;
use crate::on_both_backends;
use serde_json::json;
use std::collections::BTreeSet;

/// rqrr reports the error-correction level as the two format bits: 0 = M, 1 = L, 2 = H, 3 = Q.
const ECC_LEVEL_H: u16 = 2;

/// A decoded PNG: its width in pixels, every distinct colour in it, and the QR code it carries.
struct ScannedPng {
    width: usize,
    colours: BTreeSet<String>,
    ecc_level: u16,
    text: String,
}

/// Decodes a PNG (palette expanded to RGB) and reads the one QR code it must contain.
fn scan_png(bytes: &[u8]) -> ScannedPng {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().expect("a valid PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("a sane image size")];
    let info = reader.next_frame(&mut buf).expect("valid PNG data");
    let (width, height, channels) = (info.width as usize, info.height as usize, info.color_type.samples());
    assert!(channels >= 3, "expected RGB after expansion, got {:?}", info.color_type);
    let rgb = |x: usize, y: usize| {
        let at = (y * width + x) * channels;
        [buf[at], buf[at + 1], buf[at + 2]]
    };
    let colours = (0..height)
        .flat_map(|y| (0..width).map(move |x| (x, y)))
        .map(|(x, y)| {
            let [r, g, b] = rgb(x, y);
            format!("#{r:02x}{g:02x}{b:02x}")
        })
        .collect();
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
        let [r, g, b] = rgb(x, y).map(u32::from);
        ((299 * r + 587 * g + 114 * b) / 1000) as u8
    });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "expected exactly one QR code in the PNG");
    let (meta, text) = grids[0].decode().expect("a decodable QR code");
    ScannedPng {
        width,
        colours,
        ecc_level: meta.ecc_level,
        text,
    }
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client.get(app.url(path)).send().await.expect("request")
}

/// A link with one `qr` share; returns the share's code and short URL.
async fn qr_share(app: &TestApp) -> (String, String) {
    let link = app.create_link("https://example.com/event", None).await;
    let share = app.create_share(link, "qr", None).await;
    let code = share["code"].as_str().expect("code").to_owned();
    let short_url = share["short_url"].as_str().expect("short_url").to_owned();
    (code, short_url)
}

async fn disable_link(app: &TestApp, link: i64) {
    let response = app
        .client
        .patch(app.url(&format!("/api/v1/links/{link}")))
        .bearer_auth(&app.api_key)
        .json(&json!({"disabled": true}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200, "disabling the link");
}

fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

on_both_backends! {
    async fn the_png_qr_code_scans_to_exactly_the_short_url_of_the_share(app) {
        let (code, short_url) = qr_share(&app).await;

        let response = get(&app, &format!("/qr/{code}.png")).await;

        assert_eq!(response.status(), 200);
        assert_eq!(content_type(&response), "image/png");
        let scanned = scan_png(&response.bytes().await.expect("body"));
        assert_eq!(scanned.text, short_url);
    }

    async fn the_svg_qr_code_is_served_as_an_svg_image(app) {
        let (code, _) = qr_share(&app).await;

        let response = get(&app, &format!("/qr/{code}.svg")).await;

        assert_eq!(response.status(), 200);
        assert_eq!(content_type(&response), "image/svg+xml");
        let body = response.text().await.expect("body");
        assert!(body.contains("<svg"), "{body}");
    }

    async fn the_png_follows_the_size_level_and_colour_parameters(app) {
        let (code, short_url) = qr_share(&app).await;

        let response = get(&app, &format!("/qr/{code}.png?size=256&level=h&fg=112233&bg=ffffff")).await;

        assert_eq!(response.status(), 200);
        let scanned = scan_png(&response.bytes().await.expect("body"));
        assert_eq!(scanned.text, short_url);
        assert_eq!(scanned.ecc_level, ECC_LEVEL_H, "error-correction level");
        let expected: BTreeSet<String> = ["#112233", "#ffffff"].map(String::from).into();
        assert_eq!(scanned.colours, expected);
        // Whole pixels per module: the width is the multiple of the module count nearest 256
        // (the default would be about 512).
        assert!(scanned.width.abs_diff(256) <= 32, "width {} for size=256", scanned.width);
    }

    async fn the_svg_follows_the_colour_parameters(app) {
        let (code, _) = qr_share(&app).await;

        let response = get(&app, &format!("/qr/{code}.svg?size=256&level=h&fg=112233&bg=ffffff")).await;

        assert_eq!(response.status(), 200);
        let body = response.text().await.expect("body");
        assert!(body.contains(r##"fill="#112233""##), "{body}");
        assert!(body.contains(r##"fill="#ffffff""##), "{body}");
    }

    async fn each_bad_parameter_is_refused_with_422_naming_its_field(app) {
        let (code, _) = qr_share(&app).await;
        let cases = [
            ("size=5", "size"),
            ("level=z", "level"),
            ("fg=nothex", "fg"),
            ("bg=nothex", "bg"),
            ("fg=777777&bg=888888", "fg"),
            ("bg=333333", "bg"),
        ];

        for extension in ["png", "svg"] {
            for (query, field) in cases {
                let response = get(&app, &format!("/qr/{code}.{extension}?{query}")).await;

                assert_error(response, 422, "invalid_value", Some(field)).await;
            }
        }
    }

    async fn a_repeated_parameter_is_refused_with_a_json_400(app) {
        let (code, _) = qr_share(&app).await;

        let response = get(&app, &format!("/qr/{code}.png?size=256&size=300")).await;

        assert_error(response, 400, "malformed_request", None).await;
    }

    async fn an_unknown_code_has_no_qr_code(app) {
        let png = get(&app, "/qr/Zz99Zz99.png").await;
        let svg = get(&app, "/qr/Zz99Zz99.svg").await;

        assert_eq!(png.status(), 404);
        assert_eq!(svg.status(), 404);
    }

    async fn a_qr_code_with_an_unsupported_extension_is_not_found(app) {
        let (code, _) = qr_share(&app).await;

        let gif = get(&app, &format!("/qr/{code}.gif")).await;
        let bare = get(&app, &format!("/qr/{code}")).await;

        assert_eq!(gif.status(), 404);
        assert_eq!(bare.status(), 404);
    }

    async fn a_disabled_link_has_no_qr_code(app) {
        let link = app.create_link("https://example.com/event", None).await;
        let code = app.create_share(link, "qr", None).await["code"].as_str().expect("code").to_owned();
        assert_eq!(get(&app, &format!("/qr/{code}.png")).await.status(), 200);

        disable_link(&app, link).await;

        assert_eq!(get(&app, &format!("/qr/{code}.png")).await.status(), 404);
        assert_eq!(get(&app, &format!("/qr/{code}.svg")).await.status(), 404);
    }
}
