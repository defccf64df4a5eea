//! AWS KMS error answers, classified by their error code (the JSON `__type`, or the
//! `x-amzn-ErrorType` header's first part), never by the message text.

use http::StatusCode;
use serde::Deserialize;

use super::PROVIDER;
use crate::{ErrorKind, KmsError};

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(rename = "__type")]
    type_: Option<String>,
    #[serde(alias = "Message")]
    message: Option<String>,
}

/// The error for a non-200 answer: the code, the HTTP status and a short, printable message.
pub(super) fn from_response(target: &str, status: StatusCode, body: &[u8]) -> KmsError {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let code = parsed
        .as_ref()
        .and_then(|b| b.type_.as_deref())
        // `com.amazonaws.kms#NotFoundException` or `NotFoundException`.
        .map(|t| t.rsplit('#').next().unwrap_or(t).to_owned())
        .unwrap_or_default();
    let message: String = parsed
        .and_then(|b| b.message)
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let kind = kind(&code, status);
    let code = if code.is_empty() {
        "no error code"
    } else {
        &code
    };
    KmsError::new(
        kind,
        PROVIDER,
        format!("{target}: {code} (HTTP {}): {message}", status.as_u16()),
    )
}

fn kind(code: &str, status: StatusCode) -> ErrorKind {
    match code {
        "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "IncompleteSignature"
        | "MissingAuthenticationToken"
        | "InvalidClientTokenId"
        | "ExpiredTokenException"
        | "SignatureDoesNotMatch"
        | "AccessDeniedException" => ErrorKind::Auth,
        "NotFoundException" | "DisabledException" | "KMSInvalidStateException" => {
            ErrorKind::KekMissing
        }
        "InvalidCiphertextException" | "IncorrectKeyException" | "InvalidKeyUsageException" => {
            ErrorKind::Refused
        }
        "ThrottlingException"
        | "LimitExceededException"
        | "DependencyTimeoutException"
        | "KMSInternalException"
        | "KeyUnavailableException"
        | "RequestTimeout" => ErrorKind::Unreachable,
        _ if status.is_server_error() => ErrorKind::Unreachable,
        _ if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN => {
            ErrorKind::Auth
        }
        _ => ErrorKind::Config,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_decide_the_kind_and_messages_are_cleaned() {
        let err = from_response(
            "Decrypt",
            StatusCode::BAD_REQUEST,
            br#"{"__type":"com.amazonaws.kms#KMSInvalidStateException","message":"pending\ndeletion"}"#,
        );
        assert_eq!(err.kind(), ErrorKind::KekMissing);
        assert!(
            err.to_string()
                .contains("KMSInvalidStateException (HTTP 400): pendingdeletion")
        );
        let cases = [
            ("NotFoundException", 400, ErrorKind::KekMissing),
            ("UnrecognizedClientException", 400, ErrorKind::Auth),
            ("InvalidCiphertextException", 400, ErrorKind::Refused),
            ("ThrottlingException", 400, ErrorKind::Unreachable),
            ("ValidationException", 400, ErrorKind::Config),
            ("", 503, ErrorKind::Unreachable),
            ("", 403, ErrorKind::Auth),
        ];
        for (code, status, want) in cases {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            assert_eq!(kind(code, status), want, "{code} {status}");
        }
        // A body that is not JSON still gives an error, by status.
        let err = from_response("Encrypt", StatusCode::BAD_GATEWAY, b"<html>");
        assert_eq!(err.kind(), ErrorKind::Unreachable);
    }
}
