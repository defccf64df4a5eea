//! What a `kube::Error` means to sealant: the API server's status code and message kept, and
//! whether trying again can help — decided by type and code, never by the message text.

/// A failed call to the API server, with its status code when the server answered.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct KubeError {
    code: Option<u16>,
    reason: String,
    message: String,
    #[source]
    source: kube::Error,
}

impl KubeError {
    /// The HTTP status code of the API server's answer (`None`: no answer, e.g. a connection
    /// error).
    pub fn code(&self) -> Option<u16> {
        self.code
    }

    /// The API server's reason (`NotFound`, `Forbidden`, `Invalid`, …), or empty.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The object does not exist (404).
    pub fn is_not_found(&self) -> bool {
        self.code == Some(404)
    }

    /// RBAC refused the call (403).
    pub fn is_forbidden(&self) -> bool {
        self.code == Some(403)
    }

    /// A concurrent change won (409 Conflict, or AlreadyExists).
    pub fn is_conflict(&self) -> bool {
        self.code == Some(409)
    }

    /// The API server refused the object itself (422 Invalid, 400 BadRequest, 413): the same
    /// call fails the same way until the object changes.
    pub fn is_invalid(&self) -> bool {
        matches!(self.code, Some(400 | 413 | 422))
    }

    /// Trying again later can help: no answer at all, throttling (429), a server-side error
    /// (5xx), or a conflict with a concurrent writer.
    pub fn is_transient(&self) -> bool {
        match self.code {
            None => true,
            Some(code) => code == 429 || code == 409 || code >= 500,
        }
    }

    /// The underlying kube error.
    pub fn kube(&self) -> &kube::Error {
        &self.source
    }
}

impl From<kube::Error> for KubeError {
    fn from(source: kube::Error) -> Self {
        let (code, reason) = match &source {
            kube::Error::Api(status) => (Some(status.code), status.reason.clone()),
            _ => (None, String::new()),
        };
        Self {
            code,
            reason,
            message: message(&source),
            source,
        }
    }
}

/// A one-line description for people: the API server's message and code (`"… is forbidden: …
/// (403)"`), or the client error.
pub fn message(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) => format!("{} ({})", status.message, status.code),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16, reason: &str) -> KubeError {
        KubeError::from(kube::Error::Api(
            kube::core::Status::failure("refused", reason)
                .with_code(code)
                .boxed(),
        ))
    }

    #[test]
    fn codes_decide_not_messages() {
        let forbidden = api(403, "Forbidden");
        assert!(forbidden.is_forbidden() && !forbidden.is_transient());
        assert_eq!(forbidden.to_string(), "refused (403)");
        assert_eq!(forbidden.reason(), "Forbidden");
        assert!(api(404, "NotFound").is_not_found());
        assert!(api(422, "Invalid").is_invalid());
        assert!(!api(422, "Invalid").is_transient());
        for code in [409, 429, 500, 503] {
            assert!(api(code, "").is_transient(), "{code}");
        }
        let no_answer = KubeError::from(kube::Error::LinesCodecMaxLineLengthExceeded);
        assert_eq!(no_answer.code(), None);
        assert!(no_answer.is_transient());
    }
}
