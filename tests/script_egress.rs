//! The guarded egress client against a real local HTTP server.

use std::time::Duration;

use axum::{http::StatusCode, routing::get, Router};
use reqwest::Method;
use switchboard::egress::{
    EgressDefaults, EgressError, EgressPolicy, EgressRequest, GuardedClient, Oversize,
};

async fn server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = Router::new()
        .route("/ok", get(|| async { "fine" }))
        .route("/big", get(|| async { "y".repeat(50_000) }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .route(
            "/hop",
            get(|| async { (StatusCode::FOUND, [("location", "/ok")]) }),
        )
        .route(
            "/out",
            get(move || async move {
                (
                    StatusCode::TEMPORARY_REDIRECT,
                    [("location", format!("http://localhost:{port}/ok"))],
                )
            }),
        )
        .route(
            "/loop",
            get(|| async { (StatusCode::FOUND, [("location", "/loop")]) }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://127.0.0.1:{port}")
}

fn only_127_0_0_1() -> EgressPolicy {
    EgressPolicy::from_parts(
        false,
        EgressPolicy::parse_cidr_list("127.0.0.1/32").unwrap(),
    )
}

#[tokio::test]
async fn redirects_are_not_followed_by_default_and_rechecked_when_followed() {
    let base = server().await;
    let c = GuardedClient::new(only_127_0_0_1(), EgressDefaults::default()).unwrap();
    let r = c
        .send(EgressRequest::new(Method::GET, format!("{base}/hop")))
        .await
        .unwrap();
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("/ok"));

    let mut req = EgressRequest::new(Method::GET, format!("{base}/hop"));
    req.max_redirects = Some(3);
    let r = c.send(req).await.unwrap();
    assert_eq!((r.status, &r.body[..]), (200, &b"fine"[..]));
    assert_eq!(r.url, format!("{base}/ok"));

    // `localhost` resolves to loopback, which this policy only allows for 127.0.0.1 itself. Depending on
    // the resolver it yields ::1 (refused) as well: either way the hop must be refused or reach 127.0.0.1.
    let mut req = EgressRequest::new(Method::GET, format!("{base}/out"));
    req.max_redirects = Some(3);
    match c.send(req).await {
        Err(EgressError::Blocked { host, .. }) => assert_eq!(host, "localhost"),
        Ok(r) => assert_eq!(r.status, 200),
        Err(e) => panic!("{e:?}"),
    }

    let mut req = EgressRequest::new(Method::GET, format!("{base}/loop"));
    req.max_redirects = Some(2);
    assert_eq!(
        c.send(req).await.unwrap_err(),
        EgressError::TooManyRedirects(2)
    );
}

#[tokio::test]
async fn body_limit_refuses_or_truncates() {
    let base = server().await;
    let defaults = EgressDefaults {
        max_body: 1000,
        ..EgressDefaults::default()
    };
    let c = GuardedClient::new(only_127_0_0_1(), defaults).unwrap();
    let err = c
        .send(EgressRequest::new(Method::GET, format!("{base}/big")))
        .await
        .unwrap_err();
    assert_eq!(err, EgressError::TooLarge { limit: 1000 });
    let mut req = EgressRequest::new(Method::GET, format!("{base}/big"));
    req.oversize = Oversize::Truncate;
    let r = c.send(req).await.unwrap();
    assert!(r.truncated);
    assert_eq!(r.body.len(), 1000);
    let r = c
        .send(EgressRequest::new(Method::GET, format!("{base}/ok")))
        .await
        .unwrap();
    assert!(!r.truncated);
}

#[tokio::test]
async fn timeouts_and_refusals_have_clear_errors() {
    let base = server().await;
    let c = GuardedClient::new(only_127_0_0_1(), EgressDefaults::default()).unwrap();
    let mut req = EgressRequest::new(Method::GET, format!("{base}/slow"));
    req.timeout = Some(Duration::from_millis(200));
    let err = c.send(req).await.unwrap_err();
    assert_eq!(err, EgressError::Timeout(Duration::from_millis(200)));

    let strict = GuardedClient::new(EgressPolicy::default(), EgressDefaults::default()).unwrap();
    let err = strict
        .send(EgressRequest::new(Method::GET, format!("{base}/ok")))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "refused: 127.0.0.1 resolved to 127.0.0.1 (loopback); allow it with SWITCHBOARD_ALLOW_PRIVATE_NETWORKS or an allowed CIDR"
    );
    let port = base.rsplit(':').next().unwrap();
    let err = strict
        .send(EgressRequest::new(
            Method::GET,
            format!("http://localhost:{port}/ok"),
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(err, EgressError::Blocked { ref host, .. } if host == "localhost"),
        "{err:?}"
    );
    let err = strict
        .send(EgressRequest::new(Method::GET, "ftp://example.com/"))
        .await
        .unwrap_err();
    assert!(matches!(err, EgressError::InvalidUrl(_)));
    let err = strict
        .send(EgressRequest::new(
            Method::GET,
            "http://no-such-host.invalid/",
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(err, EgressError::Dns(_) | EgressError::Io(_)),
        "{err:?}"
    );
}
