//! The Tower plumbing, in the order a request meets it: [`JwtLayer`] (the builder), its
//! shared config and the one responder of refusals, [`JwtService`], [`ResponseFuture`] and
//! [`ResponseBody`]; and what an app's `on_error` handler sees and returns.

mod body;
mod config;
mod future;
mod layer;
mod respond;
mod rules;
mod service;

pub use crate::verify::cache::{CacheStats, TokenCache};
pub use body::ResponseBody;
pub use config::DEFAULT_CSRF_HEADER;
pub use future::ResponseFuture;
pub use layer::JwtLayer;
pub use respond::{ErrorBody, ErrorContext, IntoErrorResponse, NoChallenge};
pub use service::JwtService;

pub(crate) use config::is_grpc;
pub(crate) use respond::{ErrorResponder, responder};
