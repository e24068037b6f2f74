//! QR codes of short links, as SVG or PNG, with options parsed from query parameters.

use std::fmt::Write as _;

use qrcode::QrCode;

pub const MIN_SIZE: u32 = 64;
pub const MAX_SIZE: u32 = 2048;
pub const MAX_MARGIN: u32 = 16;
/// WCAG 2.1 non-text contrast (SC 1.4.11): below 3:1 phone scanners start to miss modules.
pub const MIN_CONTRAST: f64 = 3.0;

/// Error-correction level: how much of the symbol may be damaged (≈7/15/25/30 %) and still scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EcLevel {
    L,
    M,
    // Q survives a logo or a smudge on a printed code, yet stays small for a short URL.
    #[default]
    Q,
    H,
}

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// `#rgb` or `#rrggbb`, `#` optional, any case.
    pub fn parse(s: &str) -> Option<Rgb> {
        let hex = s.strip_prefix('#').unwrap_or(s);
        // Checked first so the byte slicing below always falls on char boundaries.
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let byte = |i: usize, len: usize| u8::from_str_radix(&hex[i..i + len], 16).ok();
        match hex.len() {
            3 => Some(Rgb(byte(0, 1)? * 17, byte(1, 1)? * 17, byte(2, 1)? * 17)),
            6 => Some(Rgb(byte(0, 2)?, byte(2, 2)?, byte(4, 2)?)),
            _ => None,
        }
    }

    /// Lowercase `#rrggbb`.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// WCAG relative luminance, so contrast is judged the way the eye and a camera see it.
    fn luminance(self) -> f64 {
        let linear = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * linear(self.0) + 0.7152 * linear(self.1) + 0.0722 * linear(self.2)
    }
}

/// `bg` over `fg`, so a value below 1 means a light-on-dark (inverted) code.
pub fn contrast_ratio(fg: Rgb, bg: Rgb) -> f64 {
    (bg.luminance() + 0.05) / (fg.luminance() + 0.05)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QrOptions {
    /// Requested image width in px; the output is the nearest whole multiple of the module count.
    pub size: u32,
    /// Quiet zone, in modules.
    pub margin: u32,
    pub level: EcLevel,
    pub dark: Rgb,
    pub light: Rgb,
}

impl Default for QrOptions {
    fn default() -> Self {
        let (dark, light) = (Rgb(0, 0, 0), Rgb(255, 255, 255));
        QrOptions {
            size: 512,
            margin: 4,
            level: EcLevel::Q,
            dark,
            light,
        }
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct QrParams {
    pub size: Option<String>,
    pub margin: Option<String>,
    pub level: Option<String>,
    pub fg: Option<String>,
    pub bg: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {message}")]
pub struct QrParamError {
    field: &'static str,
    message: String,
}

impl QrParamError {
    pub fn field(&self) -> &'static str {
        self.field
    }
    pub fn message(&self) -> &str {
        &self.message
    }
}

fn bad(field: &'static str, message: String) -> QrParamError {
    QrParamError { field, message }
}

#[derive(Debug, thiserror::Error)]
pub enum QrError {
    #[error("text is too long for a QR code at error-correction level {0:?}")]
    TooLong(EcLevel),
    #[error("QR encoding failed: {0}")]
    Encode(qrcode::types::QrError),
    #[error("PNG encoding failed: {0}")]
    Png(#[from] png::EncodingError),
}

fn number(field: &'static str, raw: &str, min: u32, max: u32) -> Result<u32, QrParamError> {
    let valid = raw.parse().ok().filter(|v| (min..=max).contains(v));
    valid.ok_or_else(|| bad(field, format!("expected a whole number {min}..={max}, got {raw:?}")))
}

fn colour(field: &'static str, raw: &str) -> Result<Rgb, QrParamError> {
    Rgb::parse(raw).ok_or_else(|| bad(field, format!("expected #rgb or #rrggbb, got {raw:?}")))
}

impl QrOptions {
    /// Transparent backgrounds are refused on purpose: whether such a code scans depends on a
    /// backdrop we never see, so the contrast guard below could not vouch for it.
    pub fn from_params(p: &QrParams) -> Result<QrOptions, QrParamError> {
        let mut opts = QrOptions::default();
        if let Some(raw) = &p.size {
            opts.size = number("size", raw, MIN_SIZE, MAX_SIZE)?;
        }
        if let Some(raw) = &p.margin {
            opts.margin = number("margin", raw, 0, MAX_MARGIN)?;
        }
        if let Some(raw) = &p.level {
            opts.level = match raw.to_ascii_lowercase().as_str() {
                "l" => EcLevel::L,
                "m" => EcLevel::M,
                "q" => EcLevel::Q,
                "h" => EcLevel::H,
                _ => return Err(bad("level", format!("expected l, m, q or h, got {raw:?}"))),
            };
        }
        if let Some(raw) = &p.fg {
            opts.dark = colour("fg", raw)?;
        }
        if let Some(raw) = &p.bg {
            opts.light = colour("bg", raw)?;
        }
        let ratio = contrast_ratio(opts.dark, opts.light);
        if ratio < MIN_CONTRAST {
            // Blame the colour the caller chose; with both chosen, fg is the usual culprit.
            let field = if p.fg.is_none() { "bg" } else { "fg" };
            let (fg, bg) = (opts.dark.hex(), opts.light.hex());
            let why = format!("{fg} on {bg} is {ratio:.2}:1; scanners need a darker fg, at least {MIN_CONTRAST}:1");
            return Err(bad(field, why));
        }
        Ok(opts)
    }
}

/// The symbol with its quiet zone, and how many pixels each module takes.
struct Layout {
    side: usize,
    scale: usize,
    dark: Vec<bool>,
}

fn layout(text: &str, opts: &QrOptions) -> Result<Layout, QrError> {
    use qrcode::{EcLevel as Ec, types::QrError as E};
    let level = [Ec::L, Ec::M, Ec::Q, Ec::H][opts.level as usize];
    let code = QrCode::with_error_correction_level(text, level).map_err(|e| match e {
        E::DataTooLong => QrError::TooLong(opts.level),
        other => QrError::Encode(other),
    })?;
    // Options are public fields, so clamp again: the 2048 px ceiling must hold whatever is passed.
    let margin = opts.margin.min(MAX_MARGIN) as usize;
    let (inner, colours) = (code.width(), code.to_colors());
    let side = inner + 2 * margin;
    let mut dark = vec![false; side * side];
    for (i, c) in colours.iter().enumerate() {
        dark[(i / inner + margin) * side + i % inner + margin] = *c == qrcode::Color::Dark;
    }
    // Whole pixels per module keep edges crisp; nearest, not floor, stays closest to the request.
    let requested = opts.size.clamp(MIN_SIZE, MAX_SIZE) as usize;
    let scale = ((requested + side / 2) / side).clamp(1, (MAX_SIZE as usize / side).max(1));
    Ok(Layout { side, scale, dark })
}

/// Viewbox in modules, width and height in px; one path of horizontal runs keeps the file small.
pub fn render_svg(text: &str, opts: &QrOptions) -> Result<String, QrError> {
    let l = layout(text, opts)?;
    let (side, px, bg, fg) = (l.side, l.side * l.scale, opts.light.hex(), opts.dark.hex());
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{px}" height="{px}" viewBox="0 0 {side} {side}" shape-rendering="crispEdges"><rect width="{side}" height="{side}" fill="{bg}"/><path fill="{fg}" d=""#
    );
    for (y, row) in l.dark.chunks(side).enumerate() {
        let mut x = 0;
        while x < side {
            let run = row[x..].iter().take_while(|&&d| d).count();
            if run > 0 {
                write!(svg, "M{x} {y}h{run}v1h-{run}z").expect("a String accepts any write");
            }
            x += run.max(1);
        }
    }
    svg.push_str(r#""/></svg>"#);
    Ok(svg)
}

/// A 1-bit indexed PNG: two palette entries are all a QR code needs, so files stay tiny.
pub fn render_png(text: &str, opts: &QrOptions) -> Result<Vec<u8>, QrError> {
    let l = layout(text, opts)?;
    let px = l.side * l.scale;
    let row_bytes = px.div_ceil(8);
    let mut data = vec![0u8; row_bytes * px];
    for y in 0..px {
        for x in (0..px).filter(|x| l.dark[y / l.scale * l.side + x / l.scale]) {
            data[y * row_bytes + x / 8] |= 0x80 >> (x % 8);
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, px as u32, px as u32);
    encoder.set_color(png::ColorType::Indexed);
    encoder.set_depth(png::BitDepth::One);
    let (Rgb(br, bg, bb), Rgb(fr, fg, fb)) = (opts.light, opts.dark);
    encoder.set_palette(vec![br, bg, bb, fr, fg, fb]);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&data)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK: &str = "http://127.0.0.1:8080/AbCd2345";

    fn detect(w: usize, luma: impl FnMut(usize, usize) -> u8) -> String {
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, w, luma);
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1, "expected exactly one QR code");
        grids[0].decode().expect("a decodable QR code").1
    }

    /// (width, decoded text) of a square PNG.
    fn decode_png(bytes: &[u8]) -> (usize, String) {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        // Palette → RGB, so the luma below needs no palette lookup.
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().expect("a valid PNG header");
        let mut buf = vec![0; reader.output_buffer_size().expect("a sane size")];
        let info = reader.next_frame(&mut buf).expect("valid PNG data");
        let (w, channels) = (info.width as usize, info.color_type.samples());
        let luma = |x: usize, y: usize| {
            let [r, g, b] = [0, 1, 2].map(|c| u32::from(buf[(y * w + x) * channels + c]));
            ((299 * r + 587 * g + 114 * b) / 1000) as u8
        };
        (w, detect(w, luma))
    }

    /// Params from `"size=300 fg=#123"`, as a query string would carry them once decoded.
    fn params(query: &str) -> QrParams {
        let pairs: Vec<_> = query.split_whitespace().filter_map(|kv| kv.split_once('=')).collect();
        let get = |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
        let (size, margin, level) = (get("size"), get("margin"), get("level"));
        QrParams {
            size,
            margin,
            level,
            fg: get("fg"),
            bg: get("bg"),
        }
    }

    fn options(query: &str) -> QrOptions {
        QrOptions::from_params(&params(query)).expect("valid params")
    }

    #[test]
    fn png_decodes_back_to_the_short_link_at_every_error_correction_level() {
        for level in ["l", "m", "q", "h"] {
            let png = render_png(LINK, &options(&format!("level={level}"))).unwrap();
            assert_eq!(decode_png(&png).1, LINK, "level {level}");
        }
    }

    #[test]
    fn png_decodes_back_with_custom_sizes_margins_and_colours() {
        for query in [
            "size=64 margin=1 level=l",
            "size=300 margin=2 level=H fg=#1a237e bg=#fff8e1",
            "size=1024 margin=16 fg=063 bg=eee",
        ] {
            let png = render_png(LINK, &options(query)).unwrap();
            assert_eq!(decode_png(&png).1, LINK, "{query}");
        }
    }

    #[test]
    fn png_width_is_the_nearest_whole_multiple_of_the_module_count_but_never_above_2048() {
        // Level Q fits 30 bytes in version 3: 29 modules + 2×4 quiet zone = 37; 512/37 ≈ 13.8 → 14.
        let png = render_png(LINK, &QrOptions::default()).unwrap();
        assert_eq!(decode_png(&png).0, 37 * 14);
        // 2900 bytes need version 40 (v39-L holds 2812): 177 modules + 2×16 = 209 and
        // 2048/209 ≈ 9.8 would round to 10, too wide.
        let png = render_png(&"a".repeat(2900), &options("size=2048 margin=16 level=l")).unwrap();
        let reader = png::Decoder::new(std::io::Cursor::new(&png[..])).read_info();
        assert_eq!(reader.unwrap().info().width, 209 * 9);
    }

    #[test]
    fn svg_names_the_chosen_colours_and_is_well_formed() {
        let svg = render_svg(LINK, &options("fg=#1A237E bg=fff8e1")).unwrap();
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
        assert!(svg.contains(r##"fill="#1a237e""##) && svg.contains(r##"fill="#fff8e1""##));
        // Opening svg, rect, path and the closing tag, with nothing stray in between.
        assert_eq!((svg.matches('<').count(), svg.matches('>').count()), (4, 4));
        assert!(svg.contains(r#"width="518" height="518" viewBox="0 0 37 37""#));
    }

    #[test]
    fn svg_path_draws_a_code_that_decodes_back_to_the_short_link() {
        let svg = render_svg(LINK, &QrOptions::default()).unwrap();
        let d = svg.split(" d=\"").nth(1).and_then(|rest| rest.split('"').next());
        let (side, scale) = (37, 6);
        let mut dark = vec![false; side * side];
        for run in d.unwrap().split('M').skip(1) {
            let (xy, rest) = run.split_once('h').unwrap();
            let (x, y) = xy.split_once(' ').unwrap();
            let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
            let len: usize = rest.split_once('v').unwrap().0.parse().unwrap();
            dark[y * side + x..][..len].fill(true);
        }
        let text = detect(side * scale, |x, y| 255 * u8::from(!dark[y / scale * side + x / scale]));
        assert_eq!(text, LINK);
    }

    #[test]
    fn defaults_are_level_q_512_px_margin_4_black_on_white() {
        let opts = QrOptions::default();
        assert_eq!((opts.level, opts.size, opts.margin), (EcLevel::Q, 512, 4));
        assert_eq!(
            (opts.dark.hex(), opts.light.hex().as_str()),
            ("#000000".into(), "#ffffff")
        );
        assert_eq!(options(""), opts);
    }

    #[test]
    fn params_accept_any_case_short_hex_and_a_missing_hash() {
        let opts = options("size=2048 margin=0 level=H fg=#A0B bg=FfEeDd");
        assert_eq!((opts.size, opts.margin, opts.level), (2048, 0, EcLevel::H));
        assert_eq!((opts.dark, opts.light), (Rgb(0xaa, 0, 0xbb), Rgb(0xff, 0xee, 0xdd)));
    }

    #[test]
    fn each_bad_param_is_reported_against_its_own_field() {
        let bad = "size=63 size=2049 size=big margin=17 margin=-1 level=x level=qq fg=#12345 fg=#ggg \
                   bg=transparent bg=#ééé";
        for query in bad.split(' ') {
            let err = QrOptions::from_params(&params(query)).unwrap_err();
            let (field, value) = query.split_once('=').unwrap();
            assert_eq!(err.field(), field, "{query}: {err}");
            assert!(err.message().contains(&format!("{value:?}")), "{err}");
        }
    }

    #[test]
    fn low_contrast_and_inverted_colours_are_rejected() {
        let field = |query| QrOptions::from_params(&params(query)).unwrap_err().field();
        assert_eq!(field("fg=#777 bg=#888"), "fg");
        assert_eq!(field("bg=#333"), "bg");
        assert_eq!(field("fg=fff bg=000"), "fg");
    }

    #[test]
    fn text_too_long_for_any_qr_version_is_an_error() {
        let err = render_svg(&"x".repeat(5000), &QrOptions::default()).unwrap_err();
        assert!(matches!(err, QrError::TooLong(EcLevel::Q)), "{err}");
    }
}
