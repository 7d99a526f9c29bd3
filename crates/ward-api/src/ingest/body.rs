//! Reading a request body within its size and time limits, and undoing `Content-Encoding`
//! within the decompressed-size limit.

use std::io::Read;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::error::ApiError;

/// Reads the whole body as sent, refusing more than `limit` bytes or more than `timeout`.
///
/// # Errors
/// 413 over the limit, 408 too slow, 400 when the connection fails mid-body.
pub async fn read(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, ApiError> {
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::BodyTooLarge { limit });
    }
    match tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await {
        Err(_) => Err(ApiError::BodyTimeout(timeout)),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(ApiError::BodyTooLarge { limit }),
        Ok(Err(e)) => Err(ApiError::BadRequest(format!("request body could not be read: {e}"))),
    }
}

/// How the body is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// As is.
    Identity,
    /// gzip (`Content-Encoding: gzip` or `x-gzip`).
    Gzip,
}

/// The body's `Content-Encoding`.
///
/// # Errors
/// 400 for encodings other than gzip and identity.
pub fn encoding(headers: &HeaderMap) -> Result<Encoding, ApiError> {
    let Some(value) = headers.get(header::CONTENT_ENCODING) else { return Ok(Encoding::Identity) };
    match value.to_str().map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        Ok("" | "identity") => Ok(Encoding::Identity),
        Ok("gzip" | "x-gzip") => Ok(Encoding::Gzip),
        _ => Err(ApiError::BadRequest("unsupported Content-Encoding; use gzip or none".into())),
    }
}

/// The body with its encoding undone, at most `limit` bytes.
///
/// # Errors
/// 413 when it inflates beyond `limit`, 400 for a damaged gzip stream.
pub fn decode(raw: Bytes, encoding: Encoding, limit: usize) -> Result<Bytes, ApiError> {
    match encoding {
        Encoding::Identity if raw.len() > limit => Err(ApiError::DecompressedTooLarge { limit }),
        Encoding::Identity => Ok(raw),
        Encoding::Gzip => gunzip(&raw, limit).map(Bytes::from),
    }
}

fn gunzip(raw: &[u8], limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::with_capacity((raw.len() * 4).min(limit));
    let mut reader = flate2::read::MultiGzDecoder::new(raw).take(limit as u64 + 1);
    reader.read_to_end(&mut out).map_err(|e| ApiError::BadRequest(format!("invalid gzip body: {e}")))?;
    if out.len() > limit {
        return Err(ApiError::DecompressedTooLarge { limit });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gz(data: &[u8]) -> Bytes {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        Bytes::from(e.finish().unwrap())
    }

    #[test]
    fn gzip_bodies_inflate_within_the_limit_only() {
        let data = vec![b'a'; 10_000];
        assert_eq!(decode(gz(&data), Encoding::Gzip, 10_000).unwrap().len(), 10_000);
        assert!(matches!(
            decode(gz(&data), Encoding::Gzip, 9_999),
            Err(ApiError::DecompressedTooLarge { .. })
        ));
        assert!(matches!(
            decode(Bytes::from_static(b"nope"), Encoding::Gzip, 100),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[tokio::test]
    async fn bodies_over_the_limit_are_refused_even_without_content_length() {
        let headers = HeaderMap::new();
        let small = read(Body::from("12345"), &headers, 5, Duration::from_secs(1)).await.unwrap();
        assert_eq!(&small[..], b"12345");
        let big = read(Body::from("123456"), &headers, 5, Duration::from_secs(1)).await;
        assert!(matches!(big, Err(ApiError::BodyTooLarge { limit: 5 })));
    }
}
