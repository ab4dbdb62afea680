//! The JSON documents SNS posts to an HTTP subscription endpoint.

use serde::Deserialize;

/// A message SNS posts: a notification or a (un)subscription confirmation.
#[derive(Debug, Clone, Deserialize)]
pub struct SnsMessage {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "MessageId")]
    pub message_id: String,
    #[serde(rename = "TopicArn")]
    pub topic_arn: String,
    #[serde(rename = "Subject", default)]
    pub subject: Option<String>,
    #[serde(rename = "Message")]
    pub message: String,
    #[serde(rename = "Timestamp")]
    pub timestamp: String,
    #[serde(rename = "SignatureVersion", default)]
    pub signature_version: String,
    #[serde(rename = "Signature", default)]
    pub signature: String,
    #[serde(rename = "SigningCertURL", default)]
    pub signing_cert_url: String,
    #[serde(rename = "SubscribeURL", default)]
    pub subscribe_url: Option<String>,
    #[serde(rename = "Token", default)]
    pub token: Option<String>,
}

impl SnsMessage {
    /// The text SNS signs for this message, as AWS documents it: named
    /// fields in byte order of their names, each name and value followed by
    /// a newline; `Subject` only when present. `None` for an unknown type,
    /// or a field that spans lines (see [`SnsMessage::field_spanning_lines`]).
    pub fn string_to_sign(&self) -> Option<String> {
        if self.field_spanning_lines().is_some() {
            return None;
        }
        let fields = self.signed_fields()?;
        Some(fields.iter().map(|(name, value)| format!("{name}\n{value}\n")).collect())
    }

    /// The first signed field but `Message` that holds a newline. The string
    /// to sign is lines, so such a field could take in the line of the next
    /// (a `MessageId` ending `\nSubject\nS` with no `Subject` signs like
    /// the genuine message with one); SNS never sends one.
    pub fn field_spanning_lines(&self) -> Option<&'static str> {
        let fields = self.signed_fields()?;
        fields
            .into_iter()
            .find(|(name, value)| *name != "Message" && value.contains('\n'))
            .map(|(name, _)| name)
    }

    fn signed_fields(&self) -> Option<Vec<(&'static str, &str)>> {
        let mut fields: Vec<(&'static str, &str)> =
            vec![("Message", &self.message), ("MessageId", &self.message_id)];
        match self.kind.as_str() {
            "Notification" => {
                if let Some(subject) = &self.subject {
                    fields.push(("Subject", subject));
                }
            }
            "SubscriptionConfirmation" | "UnsubscribeConfirmation" => {
                fields.push(("SubscribeURL", self.subscribe_url.as_deref()?));
                fields.push(("Token", self.token.as_deref()?));
            }
            _ => return None,
        }
        fields.extend([
            ("Timestamp", self.timestamp.as_str()),
            ("TopicArn", &self.topic_arn),
            ("Type", &self.kind),
        ]);
        fields.sort_by_key(|(name, _)| *name);
        Some(fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_string_to_sign_follows_the_documented_order() {
        let message: SnsMessage = serde_json::from_str(
            r#"{"Type":"Notification","MessageId":"m","TopicArn":"t","Subject":"s","Message":"hi",
                "Timestamp":"ts","SignatureVersion":"1","Signature":"x","SigningCertURL":"u"}"#,
        )
        .expect("parse");
        assert_eq!(
            message.string_to_sign().as_deref(),
            Some("Message\nhi\nMessageId\nm\nSubject\ns\nTimestamp\nts\nTopicArn\nt\nType\nNotification\n")
        );
        let confirmation = SnsMessage {
            kind: "SubscriptionConfirmation".into(),
            subject: None,
            subscribe_url: Some("url".into()),
            token: Some("tok".into()),
            ..message.clone()
        };
        assert_eq!(
            confirmation.string_to_sign().as_deref(),
            Some(
                "Message\nhi\nMessageId\nm\nSubscribeURL\nurl\nTimestamp\nts\nToken\ntok\nTopicArn\nt\nType\nSubscriptionConfirmation\n"
            )
        );
        let unknown = SnsMessage { kind: "Surprise".into(), ..message };
        assert_eq!(unknown.string_to_sign(), None, "an unknown type is never signed-checked as valid");
    }
}
