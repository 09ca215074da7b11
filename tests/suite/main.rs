//! The integration tests, in one binary: one link instead of one per file, and a fraction of
//! the disk (each test binary carries the whole dependency tree). The tests that install a
//! process-wide tracing subscriber, metrics recorder or crypto provider, or set environment
//! variables, stay in binaries of their own beside this directory.

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/quickstart.rs"]
mod examples;
#[path = "../../examples/grpc_proto/greeter.rs"]
mod greeter;
#[cfg(feature = "redis")]
#[path = "../common/redis.rs"]
mod redis_server;

mod authorization;
mod browser;
mod browser_login;
mod cookies;
mod dpop_example;
mod dpop_layer;
mod dpop_nonces;
mod dpop_proofs;
mod dpop_sessions;
mod extractor;
mod grpc;
mod grpc_status;
mod hmac_signatures;
mod interop;
mod jwk_algorithms;
mod jwks_layer;
mod key_sets;
mod microservice;
mod multi_issuer;
mod openapi;
mod presets;
mod properties;
mod quickstart;
mod quickstart_redis;
mod redis_store;
mod registered_claims;
mod rejection_policy;
mod remote_jwks;
mod resource_metadata;
mod sessions;
mod test_util;
mod token_cache;
mod token_issuer;
mod validation;
mod verify;
