//! Per-route bounds on request bodies, enforced on the body stream itself so
//! that every reader is bounded: the extractors, and the forwarding to
//! another process, which never holds the body whole.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{LengthLimitError, Limited};

use super::ApiError;

/// The largest CSV `POST /api/v1/import` takes: decades of daily bars are a
/// few MiB, so this leaves room without letting one upload fill memory.
pub const IMPORT_BODY: usize = 16 * 1024 * 1024;
/// The largest JSON body of a control request (fetch, speed, simulation
/// actions): they are a few hundred bytes.
pub const CONTROL_BODY: usize = 64 * 1024;

/// The bound a request's body is under, left in its extensions so that
/// whoever hits it can say which.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

impl BodyLimit {
    pub fn exceeded(self) -> ApiError {
        ApiError::too_large(format!("the request body is over the {} this endpoint accepts", size(self.0)))
    }
}

/// `413 too_large`, naming the bound when the request carries one.
pub fn exceeded(limit: Option<BodyLimit>) -> ApiError {
    limit.map_or_else(
        || ApiError::too_large("the request body is over what this endpoint accepts"),
        BodyLimit::exceeded,
    )
}

/// A body announced larger than `max` is refused at once, before a byte of
/// it is read; any other is cut off at `max` bytes as it streams (chunked
/// bodies announce nothing). Readers of the cut-off body get a
/// [`LengthLimitError`], which [`is_too_large`] recognises.
pub async fn bound(max: usize, mut request: Request, next: Next) -> Response {
    let announced = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if announced.is_some_and(|length| length > max as u64) {
        return BodyLimit(max).exceeded().into_response();
    }
    request.extensions_mut().insert(BodyLimit(max));
    next.run(request.map(|body| Body::new(Limited::new(body, max)))).await
}

/// Whether `err`, or anything it was caused by, is a body over its bound.
pub fn is_too_large(err: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(err), |err| err.source()).any(|err| err.is::<LengthLimitError>())
}

/// `16 MiB`, `64 KiB`, or bytes.
fn size(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * KIB;
    match bytes {
        b if b >= MIB && b % MIB == 0 => format!("{} MiB", b / MIB),
        b if b >= KIB && b % KIB == 0 => format!("{} KiB", b / KIB),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(IMPORT_BODY), "16 MiB");
        assert_eq!(size(CONTROL_BODY), "64 KiB");
        assert_eq!(size(1000), "1000 bytes");
    }

    #[tokio::test]
    async fn a_body_over_its_bound_fails_as_too_large_when_read() {
        let body = Body::new(Limited::new(Body::from(vec![0u8; 11]), 10));
        let Err(err) = axum::body::to_bytes(body, usize::MAX).await else {
            panic!("11 bytes passed a bound of 10")
        };
        assert!(is_too_large(&err), "{err}");
        let fits = Body::new(Limited::new(Body::from(vec![0u8; 10]), 10));
        assert_eq!(axum::body::to_bytes(fits, usize::MAX).await.map(|b| b.len()).ok(), Some(10));
    }
}
