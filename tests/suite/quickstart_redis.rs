//! Two quickstart instances sharing revocations through one real `redis-server`: logout and
//! refresh-reuse seen across instances (within a second, however loaded the machine), and Redis stopped mid-test (fail closed,
//! then recovery without a restart).
#![cfg(feature = "redis")]

use crate::examples as quickstart;
use crate::redis_server;

use std::time::{Duration, Instant};

use quickstart::{Quickstart, get, post, tokens};
use redis_server::RedisServer;
use reqwest::StatusCode;

const SECRET: &str = "quickstart-redis-test-secret-of-32-bytes!";

fn pair_of_instances(redis: &RedisServer) -> (Quickstart, Quickstart) {
    let url = redis.url();
    let env = [("REDIS_URL", url.as_str())];
    (
        Quickstart::start_with(Some(SECRET), &env),
        Quickstart::start_with(Some(SECRET), &env),
    )
}

/// Polls `path` on `app` with `token` until it answers `want`; the time it took.
async fn time_until(
    app: &Quickstart,
    path: &str,
    token: &str,
    want: StatusCode,
    limit: Duration,
) -> Duration {
    let start = Instant::now();
    loop {
        let (status, _, _) = get(app, path, Some(token)).await;
        if status == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "{path} still answered {status} after {limit:?}, wanted {want}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test]
async fn logout_on_one_instance_is_refused_on_the_other_without_waiting_for_expiry() {
    let redis = RedisServer::start();
    let (a, b) = pair_of_instances(&redis);
    let login = tokens(&a).await;
    let access = login["access_token"].as_str().unwrap();
    assert_eq!(get(&a, "/profile", Some(access)).await.0, StatusCode::OK);
    assert_eq!(get(&b, "/profile", Some(access)).await.0, StatusCode::OK);

    let (status, _, _) = post(&b, "/logout", access).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let took = time_until(
        &a,
        "/profile",
        access,
        StatusCode::UNAUTHORIZED,
        Duration::from_secs(2),
    )
    .await;
    // Pub/sub brings it over in milliseconds (tens on an idle machine); the bound only says
    // "not at the token's expiry", so that a loaded CI machine cannot fail it. The speed is a
    // measurement, not an assertion.
    assert!(
        took < Duration::from_secs(1),
        "instance A refused the token only after {took:?}"
    );
    println!("logout reached the other instance in {took:?}");
    let (status, _, challenge) = get(&a, "/profile", Some(access)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.contains("token revoked"), "{challenge}");
    // Its refresh token is dead on both instances too.
    assert_eq!(
        post(&a, "/refresh", login["refresh_token"].as_str().unwrap())
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn reusing_a_refresh_token_on_another_instance_kills_the_family_on_both() {
    let redis = RedisServer::start();
    let (a, b) = pair_of_instances(&redis);
    let first = tokens(&a).await;
    let old_refresh = first["refresh_token"].as_str().unwrap();
    let (status, second, _) = post(&a, "/refresh", old_refresh).await;
    assert_eq!(status, StatusCode::OK);
    let new_access = second["access_token"].as_str().unwrap();
    assert_eq!(
        get(&b, "/profile", Some(new_access)).await.0,
        StatusCode::OK
    );

    // The spent refresh token, replayed on the other instance.
    let (status, _, _) = post(&b, "/refresh", old_refresh).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for app in [&a, &b] {
        time_until(
            app,
            "/profile",
            new_access,
            StatusCode::UNAUTHORIZED,
            Duration::from_secs(2),
        )
        .await;
        assert_eq!(
            post(app, "/refresh", second["refresh_token"].as_str().unwrap())
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn redis_down_fails_closed_with_503_and_recovers_without_a_restart() {
    let mut redis = RedisServer::start();
    let (a, b) = pair_of_instances(&redis);
    let access = tokens(&a).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(get(&a, "/profile", Some(&access)).await.0, StatusCode::OK);

    redis.stop();
    for app in [&a, &b] {
        time_until(
            app,
            "/profile",
            &access,
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(3),
        )
        .await;
    }
    // Once failed closed, nothing is accepted while Redis is down.
    for _ in 0..50 {
        for app in [&a, &b] {
            let (status, body, _) = get(app, "/profile", Some(&access)).await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(body["error"], "temporarily_unavailable");
        }
    }
    // Logging in still works (it needs no store), but its tokens wait for Redis too.
    let during = tokens(&b).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        get(&a, "/profile", Some(&during)).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );

    redis.start_again();
    for app in [&a, &b] {
        time_until(
            app,
            "/profile",
            &access,
            StatusCode::OK,
            Duration::from_secs(10),
        )
        .await;
        assert_eq!(get(app, "/profile", Some(&during)).await.0, StatusCode::OK);
    }
    // And revocation works again across instances.
    assert_eq!(post(&a, "/logout", &access).await.0, StatusCode::NO_CONTENT);
    time_until(
        &b,
        "/profile",
        &access,
        StatusCode::UNAUTHORIZED,
        Duration::from_secs(2),
    )
    .await;
}
