//! Rendering of short links into other media.
pub mod qr;

use qr::{QrOptions, render_png, render_svg};
use quick_cache::sync::Cache;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// How long a picture waits for a free core before the request is told to come back.
const WAIT: Duration = Duration::from_secs(2);
/// Rendered pictures kept, by their bytes: print sheets ask for the same codes again and again.
const CACHE_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QrFormat {
    Svg,
    Png,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("every core is drawing QR codes")]
    Busy,
    #[error("could not draw the QR code")]
    Failed(#[source] anyhow::Error),
}

#[derive(Clone)]
struct ByBytes;

impl quick_cache::Weighter<(String, QrFormat, QrOptions), Arc<[u8]>> for ByBytes {
    fn weight(&self, _: &(String, QrFormat, QrOptions), picture: &Arc<[u8]>) -> u64 {
        picture.len() as u64
    }
}

/// Draws QR codes a core at a time and remembers the recent ones. A PNG of 2,048 pixels costs
/// tens of milliseconds: anyone can ask for them, so they must not take every core at once.
pub struct QrRenderer {
    permits: Semaphore,
    drawn: Cache<(String, QrFormat, QrOptions), Arc<[u8]>, ByBytes>,
}

impl Default for QrRenderer {
    fn default() -> Self {
        QrRenderer {
            permits: Semaphore::new(std::thread::available_parallelism().map_or(1, usize::from)),
            drawn: Cache::with_weighter(1_024, CACHE_BYTES, ByBytes),
        }
    }
}

impl QrRenderer {
    pub async fn render(&self, url: &str, format: QrFormat, options: QrOptions) -> Result<Arc<[u8]>, RenderError> {
        let key = (url.to_owned(), format, options);
        if let Some(picture) = self.drawn.get(&key) {
            return Ok(picture);
        }
        let _permit = tokio::time::timeout(WAIT, self.permits.acquire())
            .await
            .map_err(|_| RenderError::Busy)?
            .map_err(|_| RenderError::Busy)?;
        let text = url.to_owned();
        let drawn = tokio::task::spawn_blocking(move || match format {
            QrFormat::Svg => render_svg(&text, &options).map(String::into_bytes),
            QrFormat::Png => render_png(&text, &options),
        })
        .await
        .map_err(|e| RenderError::Failed(e.into()))?
        .map_err(|e| RenderError::Failed(e.into()))?;
        let picture: Arc<[u8]> = drawn.into();
        self.drawn.insert(key, picture.clone());
        Ok(picture)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_picture_is_drawn_once_and_a_flood_waits_then_is_turned_away() {
        let renderer = QrRenderer {
            permits: Semaphore::new(1),
            drawn: Cache::with_weighter(16, CACHE_BYTES, ByBytes),
        };
        let url = "https://go.example/Ab3dEf9x";
        let first = renderer.render(url, QrFormat::Png, QrOptions::default()).await.unwrap();
        let held = renderer.permits.acquire().await.unwrap();
        let again = renderer.render(url, QrFormat::Png, QrOptions::default()).await.unwrap();
        assert!(Arc::ptr_eq(&first, &again), "the drawn picture, without a core");
        let other = renderer.render(url, QrFormat::Svg, QrOptions::default()).await;
        assert!(matches!(other, Err(RenderError::Busy)), "no core within the wait");
        drop(held);
        assert!(renderer.render(url, QrFormat::Svg, QrOptions::default()).await.is_ok());
    }
}
