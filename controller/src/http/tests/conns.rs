//! Connection budgets: per-peer caps, idle and slow clients, probes on the metrics port.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_over_its_connection_cap_does_not_crowd_out_others() {
    const CAP: usize = 8;
    const OVER: usize = 12;
    let server = start(snapshot(vec![rsa2048()]), |args| {
        args.max_connections_per_peer = CAP;
        args.max_connections = 64;
        // Long deadlines: whatever closes a connection here is the cap.
        args.header_read_timeout = Duration::from_secs(600);
        args.idle_timeout = Duration::from_secs(600);
    })
    .await;
    let mut flood = idle_connections(server.addr, CAP + OVER).await;
    let reply = get_from("127.0.0.2", server.addr, "/healthz")
        .await
        .expect("another peer is answered");
    assert_eq!((reply.status, reply.text().as_str()), (200, "ok\n"));
    // The flooding peer only recycled its own share: its oldest idle connections were closed,
    // its newest one is still served.
    let mut newest = flood.pop().unwrap();
    let oldest: Vec<_> = flood.drain(..OVER).collect();
    let (closed, newest_status) = tokio::task::spawn_blocking(move || {
        let closed = oldest
            .into_iter()
            .filter(|stream| closed_by_server(&mut stream.try_clone().unwrap()))
            .count();
        newest
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        (closed, read_response(&mut newest).status)
    })
    .await
    .unwrap();
    assert_eq!(closed, OVER);
    assert_eq!(newest_status, 200);
    drop(flood);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_slow_header_connections_are_closed() {
    let server = start(snapshot(vec![rsa2048()]), |args| {
        args.header_read_timeout = Duration::from_millis(300);
        args.idle_timeout = Duration::from_millis(300);
    })
    .await;
    let addr = server.addr;
    let (silent, trickling, kept_alive) = tokio::task::spawn_blocking(move || {
        // Connected, nothing sent.
        let mut silent = std::net::TcpStream::connect(addr).unwrap();
        // Half a request line, then nothing.
        let mut trickling = std::net::TcpStream::connect(addr).unwrap();
        trickling.write_all(b"GET /heal").unwrap();
        // One request answered on a keep-alive connection, then nothing.
        let mut kept = std::net::TcpStream::connect(addr).unwrap();
        kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        assert_eq!(read_response(&mut kept).status, 200);
        (
            closed_by_server(&mut silent),
            closed_by_server(&mut trickling),
            closed_by_server(&mut kept),
        )
    })
    .await
    .unwrap();
    assert!(silent, "a connection that never sends stays open");
    assert!(trickling, "unfinished headers keep the connection");
    assert!(kept_alive, "an idle keep-alive connection stays open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_port_serves_probes_while_the_api_port_is_flooded() {
    const TOTAL: usize = 32;
    let server = start(snapshot(vec![rsa2048()]), |args| {
        args.max_connections = TOTAL;
        args.max_connections_per_peer = TOTAL;
        args.header_read_timeout = Duration::from_secs(600);
        args.idle_timeout = Duration::from_secs(600);
        args.read_timeout = Duration::from_secs(600);
        args.rate_limit = 0;
    })
    .await;
    let metrics = start_metrics(&server).await;
    let status = |reply: Option<Reply>| reply.map(|reply| reply.status);

    // Idle connections up to the cap and beyond.
    let idle = idle_connections(server.addr, TOTAL + 8).await;
    assert_eq!(
        status(get_from("127.0.0.2", metrics, "/healthz").await),
        Some(200)
    );
    assert_eq!(
        status(get_from("127.0.0.2", metrics, "/readyz").await),
        Some(503)
    );
    server.ready.send(true).unwrap();
    assert_eq!(
        status(get_from("127.0.0.2", metrics, "/readyz").await),
        Some(200)
    );
    // Idle connections make room for new ones, so the API port answers too.
    assert_eq!(
        status(get_from("127.0.0.2", server.addr, "/healthz").await),
        Some(200)
    );
    drop(idle);

    // Busy connections (a body that never comes, held for --read-timeout) cannot be displaced
    // and can fill the API port; the probes' port is another listener with its own count.
    let addr = server.addr;
    let busy = tokio::task::spawn_blocking(move || {
        (0..TOTAL + 8)
            .map(|_| {
                let mut stream = std::net::TcpStream::connect(addr).unwrap();
                let _ = stream.write_all(
                    b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{",
                );
                stream
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    assert_eq!(
        status(get_from("127.0.0.2", metrics, "/healthz").await),
        Some(200)
    );
    assert_eq!(
        status(get_from("127.0.0.1", metrics, "/readyz").await),
        Some(200)
    );
    drop(busy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_is_rate_limited_with_the_verify_budget() {
    let key = rsa2048();
    let good = json(&sealed_to(&key.cert));
    let snapshot_keys = || snapshot(vec![rsa2048()]);
    let server = start(snapshot(vec![key]), |args| {
        args.rate_limit = 1;
        args.rate_limit_burst = 1;
        args.rotate_max_wait = Duration::ZERO;
    })
    .await;
    let send = |path: &'static str, client: &'static str, addr: SocketAddr| {
        let body = good.clone();
        async move {
            let headers = [("X-Forwarded-For", client)];
            raw(addr, request("POST", path, &headers, &body)).await
        }
    };
    // One budget of 2 for both endpoints.
    let first = send("/v1/verify", "10.0.0.1", server.addr).await;
    assert_eq!(
        (first.status, first.header("x-ratelimit-remaining")),
        (200, Some("1"))
    );
    let second = send("/v1/rotate", "10.0.0.1", server.addr).await;
    assert_eq!(second.status, 200, "{}", second.text());
    assert_eq!(second.header("x-ratelimit-remaining"), Some("0"));
    for path in ["/v1/verify", "/v1/rotate"] {
        let limited = send(path, "10.0.0.1", server.addr).await;
        assert_eq!(
            (limited.status, limited.text().as_str()),
            (429, "limit exceeded\n"),
            "{path}"
        );
        assert_eq!(limited.header("x-ratelimit-limit"), Some("2"), "{path}");
        assert!(limited.header("retry-after").is_some(), "{path}");
    }
    // Per client: another one has its own budget.
    assert_eq!(
        send("/v1/rotate", "10.0.0.2", server.addr).await.status,
        200
    );
    let metrics = server.metrics.encode().unwrap();
    assert!(metrics.contains("sealed_secrets_controller_http_requests_total{path=\"/v1/rotate\",code=\"429\",method=\"post\"} 1"), "{metrics}");

    // With --rotate-max-wait (10 s by default), rotate over the budget waits for its turn
    // instead, and that turn is gone for verify.
    let paced = start(snapshot_keys(), |args| {
        args.rate_limit = 1;
        args.rate_limit_burst = 0;
    })
    .await;
    assert_eq!(send("/v1/rotate", "10.0.0.1", paced.addr).await.status, 200);
    let waited = send("/v1/rotate", "10.0.0.1", paced.addr).await;
    assert_eq!(waited.status, 200, "{}", waited.text());
    assert_eq!(send("/v1/verify", "10.0.0.1", paced.addr).await.status, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_has_at_most_burst_plus_one_opening_requests_in_progress() {
    let key = rsa2048();
    let good = json(&sealed_to(&key.cert));
    // Burst 1: two at once. A high rate, so that only requests in progress count.
    let server = start(snapshot(vec![key]), |args| {
        args.rate_limit = 1000;
        args.rate_limit_burst = 1;
        args.read_timeout = Duration::from_secs(600);
    })
    .await;
    let addr = server.addr;
    // Requests from 10.0.0.9 whose bodies never come (as through the API server's proxy,
    // where every user is the same peer).
    let open_slow = move |path: &'static str| {
        tokio::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream
                .write_all(
                    format!(
                        "POST {path} HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.0.0.9\r\nContent-Length: 100\r\n\r\n{{"
                    )
                    .as_bytes(),
                )
                .unwrap();
            stream
        })
    };
    let mut slow = vec![
        open_slow("/v1/verify").await.unwrap(),
        open_slow("/v1/rotate").await.unwrap(),
    ];
    let verify_as = |client: &'static str| {
        let body = good.clone();
        raw(
            addr,
            request("POST", "/v1/verify", &[("X-Forwarded-For", client)], &body),
        )
    };
    // Once two are in their handlers, a third from the same client is refused. On a loaded
    // machine a probe can reach its handler before a slow request does and take its place
    // (that slow request is then refused): another slow request is opened now and then, until
    // two hold their places.
    let mut refused = None;
    for attempt in 0..200 {
        let reply = verify_as("10.0.0.9").await;
        if reply.status == 429 {
            refused = Some(reply);
            break;
        }
        assert_eq!(reply.status, 200, "{}", reply.text());
        if attempt % 10 == 9 {
            slow.push(open_slow("/v1/verify").await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refused = refused.expect("a third request in progress was accepted");
    assert_eq!(refused.text(), "too many requests in progress\n");
    assert_eq!(refused.header("retry-after"), Some("1"));
    // Other clients are not affected.
    assert_eq!(verify_as("10.0.0.10").await.status, 200);
    // The slow requests gone, the client is served again.
    drop(slow);
    let mut served = false;
    for _ in 0..200 {
        if verify_as("10.0.0.9").await.status == 200 {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(served, "the places of closed requests were not given back");
}

/// Figures for docs/controller.md ("HTTP connections"), with the default flags: `N` idle
/// connections from one peer (`SEALANT_FLOOD_N`, default 1,030), then `/healthz` from another
/// peer, and how long idle connections live. Run with
/// `cargo test -p sealant-controller --lib flood_figures -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "prints figures"]
async fn flood_figures() {
    let n: usize = std::env::var("SEALANT_FLOOD_N")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1030);
    let server = start(snapshot(vec![rsa2048()]), |_| {}).await;
    let metrics = start_metrics(&server).await;
    let opened = std::time::Instant::now();
    let flood = idle_connections(server.addr, n).await;
    eprintln!(
        "{n} idle connections from 127.0.0.1 opened in {:?}",
        opened.elapsed()
    );
    let asked = std::time::Instant::now();
    let api = get_from("127.0.0.2", server.addr, "/healthz").await;
    eprintln!(
        "API /healthz from 127.0.0.2: {:?} after {:?}",
        api.as_ref().map(|reply| reply.status),
        asked.elapsed()
    );
    let probe = get_from("127.0.0.2", metrics, "/healthz").await;
    eprintln!(
        "metrics /healthz from 127.0.0.2: {:?}",
        probe.as_ref().map(|reply| reply.status)
    );
    // Which of the flood's sockets the server still holds once the flood is over (a read that
    // would block: open; EOF: closed), and when the last of them is closed.
    let (held, all_closed) = tokio::task::spawn_blocking(move || {
        let ended = std::time::Instant::now();
        let mut held = 0;
        for stream in &flood {
            stream.set_nonblocking(true).unwrap();
            let would_block = matches!(
                (&*stream).read(&mut [0u8; 1]),
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock
            );
            held += usize::from(would_block);
            stream.set_nonblocking(false).unwrap();
        }
        for mut stream in flood {
            assert!(
                closed_by_server(&mut stream),
                "an idle connection outlived 20 s"
            );
        }
        (held, ended.elapsed())
    })
    .await
    .unwrap();
    eprintln!(
        "held by the server when the flood ended: {held} of {n} (the others displaced); \
         the last closed {all_closed:?} later"
    );
    let addr = server.addr;
    let (silent, kept) = tokio::task::spawn_blocking(move || {
        let connected = std::time::Instant::now();
        let mut silent = std::net::TcpStream::connect(addr).unwrap();
        assert!(closed_by_server(&mut silent));
        let silent = connected.elapsed();
        let mut kept = std::net::TcpStream::connect(addr).unwrap();
        kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        read_response(&mut kept);
        let answered = std::time::Instant::now();
        assert!(closed_by_server(&mut kept));
        (silent, answered.elapsed())
    })
    .await
    .unwrap();
    eprintln!("a silent connection closed {silent:?} after connecting");
    eprintln!("a keep-alive connection closed {kept:?} after its answer");
    assert_eq!(api.map(|reply| reply.status), Some(200));
    assert_eq!(probe.map(|reply| reply.status), Some(200));
}
