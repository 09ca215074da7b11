//! Minting and the login lifecycle, apart from verification: [`TokenIssuer`] signs tokens,
//! [`JwtSessions`] issues access/refresh pairs (bearer or DPoP-bound), rotates refresh tokens
//! (detecting reuse) and logs out, and [`AuthCookies`] carries a pair to a browser as HTTP-only cookies with a CSRF value.

mod bound;
mod cookies;
mod errors;
mod issuer;
mod refresh;
mod sessions;

pub use cookies::AuthCookies;
pub use errors::{IssueError, SessionError};
#[cfg(feature = "test-util")]
pub(crate) use issuer::claims_object;
pub use issuer::{IssuedToken, TokenIssuer};
pub use sessions::{JwtSessions, TokenPair};
