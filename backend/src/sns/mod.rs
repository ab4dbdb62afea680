//! The SNS event bus (cargo feature `sns`): events between processes.
//!
//! - [`SnsBus`] publishes each event to the topic, with its type as the
//!   `event_type` message attribute, and hands the events that reach this
//!   process's endpoint to local subscribers (the driver, the gateway's hub).
//! - [`Endpoint`] is the HTTP subscription endpoint (`POST /sns/events`): it
//!   subscribes at start, handles `SubscriptionConfirmation`, `Notification`
//!   and `UnsubscribeConfirmation`, and unsubscribes at shutdown.
//! - [`verify`] checks every message's signature against the AWS signing
//!   certificate when verification is on (the default); nothing unverified
//!   is acted on. Emulators do not sign like AWS: turn it off for them.

pub mod settings;

#[cfg(feature = "sns")]
pub mod bus;
#[cfg(feature = "sns")]
mod certificates;
#[cfg(feature = "sns")]
mod connect;
#[cfg(feature = "sns")]
mod endpoint;
#[cfg(feature = "sns")]
mod message;
#[cfg(feature = "sns")]
mod route;
#[cfg(feature = "sns")]
mod seen;
#[cfg(feature = "sns")]
pub mod verify;

#[cfg(feature = "sns")]
pub use bus::SnsBus;
#[cfg(feature = "sns")]
pub use connect::{SnsWiring, connect};
#[cfg(feature = "sns")]
pub use endpoint::{Endpoint, Received, Rejected};
#[cfg(feature = "sns")]
pub use message::SnsMessage;

/// The path of the subscription endpoint on every process.
#[cfg(feature = "sns")]
pub const ENDPOINT_PATH: &str = "/sns/events";

#[cfg(all(test, feature = "sns"))]
mod tests;

/// An SDK error in one line: the service's code and message, or what went
/// wrong on the way (the full context, without the raw response).
#[cfg(feature = "sns")]
pub(crate) fn describe<E>(err: aws_sdk_sns::error::SdkError<E>) -> String
where
    E: aws_sdk_sns::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        aws_sdk_sns::error::SdkError::ServiceError(service) => {
            let err = service.err();
            format!("{}: {}", err.code().unwrap_or("error"), err.message().unwrap_or("no message"))
        }
        other => aws_sdk_sns::error::DisplayErrorContext(other).to_string(),
    }
}

/// The HTTP client of every AWS call: rustls with ring on hyper 1, the one
/// TLS stack of the whole binary (the SDK's defaults would bring another).
#[cfg(feature = "sns")]
pub fn https_client() -> aws_sdk_sns::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https()
}
