use std::fmt;

/// Every failure: `code` is the registered code the TypeScript verifier uses for the same failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: String,
    pub message: String,
}

impl Error {
    pub fn new(code: &str, message: impl Into<String>) -> Error {
        Error { code: code.to_string(), message: message.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

macro_rules! err {
    ($code:expr, $($arg:tt)*) => { $crate::error::Error::new($code, format!($($arg)*)) };
}
pub(crate) use err;
