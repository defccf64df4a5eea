//! AdmissionReview v1 in and out, with kube's `kube::core::admission` types, and the verdict
//! the checks return. The request's objects may hold plaintext (a Secret's data): they are
//! never logged nor put in an error, and the parse error keeps no serde text (which can quote
//! the input).

use kube::core::DynamicObject;
use kube::core::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview};

/// One admission request, its objects kept untyped until a check reads them.
pub(crate) type Request = AdmissionRequest<DynamicObject>;

/// Why a body is not a usable AdmissionReview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReviewError {
    /// Not JSON of an AdmissionReview (the serde error is dropped: it may quote the body).
    #[error("the body is not an admission.k8s.io/v1 AdmissionReview")]
    Malformed,
    /// An AdmissionReview without its request.
    #[error("the AdmissionReview has no request")]
    NoRequest,
}

/// Reads an AdmissionReview body.
///
/// # Errors
/// See [`ReviewError`].
pub(crate) fn parse(body: &[u8]) -> Result<Request, ReviewError> {
    let review: AdmissionReview<DynamicObject> =
        serde_json::from_slice(body).map_err(|_| ReviewError::Malformed)?;
    review.try_into().map_err(|_| ReviewError::NoRequest)
}

/// What a check decided. Messages name objects, items, annotations and keys' scopes only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Admitted, with admission warnings for the client (`kubectl` prints them).
    Allow {
        /// Warnings, each one line.
        warnings: Vec<String>,
    },
    /// Refused.
    Deny {
        /// The HTTP code the API server reports (422: invalid object, 403: policy).
        code: u16,
        /// Why, for a person.
        message: String,
    },
}

impl Verdict {
    /// Admitted without a word.
    pub(crate) fn allow() -> Self {
        Verdict::Allow {
            warnings: Vec::new(),
        }
    }

    /// Admitted with one warning.
    pub(crate) fn warn(warning: impl Into<String>) -> Self {
        Verdict::Allow {
            warnings: vec![warning.into()],
        }
    }

    /// Whether the request is admitted.
    #[cfg(test)]
    pub(crate) fn allowed(&self) -> bool {
        matches!(self, Verdict::Allow { .. })
    }

    /// The response to `request`.
    pub(crate) fn respond(self, request: &Request) -> AdmissionResponse {
        let response = AdmissionResponse::from(request);
        match self {
            Verdict::Allow { warnings } => {
                let mut response = response;
                response.warnings = (!warnings.is_empty()).then_some(warnings);
                response
            }
            Verdict::Deny { code, message } => {
                let mut response = response.deny(message);
                response.result.code = code;
                response.result.reason = if code == 403 { "Forbidden" } else { "Invalid" }.into();
                response
            }
        }
    }
}

/// The response body.
pub(crate) fn encode(response: AdmissionResponse) -> Vec<u8> {
    // An AdmissionReview of plain strings and numbers always serializes.
    serde_json::to_vec(&response.into_review()).unwrap_or_default()
}

/// The answer to a body that is no AdmissionReview (no uid to copy).
pub(crate) fn invalid(err: ReviewError) -> AdmissionResponse {
    AdmissionResponse::invalid(err)
}
