//! How fast the share buttons feel, measured in Chromium: from the pointer reaching a button to
//! its share being ready, and from the click to the channel's window opening. Not a test of
//! anything (run by `scripts/bench-snippet`, which prints the numbers); ignored otherwise.

use crate::helpers::*;
use crate::support::*;
use serde_json::json;

const ROUNDS: usize = 25;

/// Median and 90th percentile, in ms.
fn summary(mut values: Vec<f64>) -> String {
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    format!(
        "median {:.1} ms, p90 {:.1} ms ({} rounds)",
        at(0.5),
        at(0.9),
        values.len()
    )
}

#[tokio::test]
#[ignore = "a benchmark: scripts/bench-snippet runs it"]
async fn snippet_latency_in_chromium() {
    let app = spawn_app(Backend::Sqlite).await;
    let pages = serve_pages(&app).await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    let (mut ready, mut opened, mut reported) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        browser.pointer_to_corner().await;
        browser.open_page(&pages.article()).await;
        // When the click calls window.open, relative to the click.
        browser
            .eval(
                "window.benchClick = null; window.benchOpen = null; const open = window.open;
                 document.addEventListener('click', () => { window.benchClick = performance.now(); }, true);
                 window.open = function () { window.benchOpen = performance.now(); return open.apply(this, arguments); };",
                vec![],
            )
            .await;
        let button = browser.button("whatsapp").await;
        browser.hover_until_minted(&button).await;
        let ms = browser
            .eval(
                "const intent = window.intentAt['st-b st-whatsapp'];
                 const mint = performance.getEntriesByType('resource')
                   .filter(e => new URL(e.name).pathname === arguments[0] && e.startTime >= intent)[0];
                 return mint.responseEnd - intent;",
                vec![json!(MINT_PATH)],
            )
            .await;
        ready.push(ms.as_f64().expect("a time"));
        browser.click_to_popup(&button).await;
        let ms = browser
            .eval("return window.benchOpen - window.benchClick", vec![])
            .await;
        opened.push(ms.as_f64().expect("a time"));
        // The click's report that the share was sent, where the snippet makes one.
        let ms = browser
            .wait_for(
                "the click's report",
                "const sent = performance.getEntriesByType('resource')
                   .filter(e => new URL(e.name).pathname === '/api/v1/public/sent')[0];
                 return sent ? sent.responseEnd - window.benchClick : (window.benchClick ? -1 : null);",
            )
            .await;
        reported.extend(ms.as_f64().filter(|ms| *ms >= 0.0));
    }
    println!("share ready after the pointer reached the button: {}", summary(ready));
    println!("channel's window opened after the click: {}", summary(opened));
    if !reported.is_empty() {
        println!("the click's report stored after the click: {}", summary(reported));
    }
}
