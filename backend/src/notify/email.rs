//! Alerts by email over SMTP, with STARTTLS required (lettre, on rustls).
//! A private relay's CA can be trusted beside the public roots; plain SMTP
//! is only for a relay on this machine.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::retry::{Failure, Retry};
use crate::config::Secret;

/// How a sink reaches its SMTP server.
#[derive(Debug, Clone, PartialEq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// STARTTLS required; `false` only for a relay on this machine.
    pub starttls: bool,
    /// A PEM file of extra roots to trust (a private relay's CA).
    pub ca_pem: Option<Vec<u8>>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
    pub timeout: Duration,
}

/// A ready SMTP client.
#[derive(Clone)]
pub struct Email {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Email").field("from", &self.from).field("to", &self.to).finish_non_exhaustive()
    }
}

impl Email {
    pub fn new(settings: SmtpSettings) -> Result<Self, String> {
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host).port(settings.port);
        if settings.starttls {
            let mut tls = TlsParameters::builder(settings.host.clone());
            if let Some(pem) = &settings.ca_pem {
                let ca = Certificate::from_pem(pem).map_err(|e| format!("the CA file is not PEM: {e}"))?;
                tls = tls.add_root_certificate(ca);
            }
            builder = builder.tls(Tls::Required(tls.build().map_err(|e| format!("TLS settings: {e}"))?));
        }
        if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        let transport = builder.timeout(Some(settings.timeout)).build();
        Ok(Self { transport, from: settings.from, to: settings.to })
    }

    pub async fn send(&self, subject: String, body: String) -> Result<(), Failure> {
        let mut message =
            Message::builder().from(self.from.clone()).subject(subject).header(ContentType::TEXT_PLAIN);
        for to in &self.to {
            message = message.to(to.clone());
        }
        let message = message
            .body(body)
            .map_err(|e| Failure::new(format!("cannot build the mail: {e}"), Retry::Never))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            // A 5xx answer (a refused login or address) stays refused.
            Err(err) if err.is_permanent() => Err(Failure::new(format!("SMTP: {err}"), Retry::Never)),
            Err(err) => Err(Failure::new(format!("SMTP: {err}"), Retry::Backoff)),
        }
    }
}
