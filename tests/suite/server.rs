//! The app over a real socket: bound on port 0, answering HTTP/1.1, stopping when told.

use std::time::Duration;

use podmeta::{AppState, Catalog, Table};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Sends one raw request and reads the whole response (the request asks to close).
async fn raw_request(addr: std::net::SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response))
        .await
        .expect("the server answers within 5 s")
        .unwrap();
    String::from_utf8(response).unwrap()
}

#[tokio::test]
async fn serves_over_a_real_socket_and_stops_on_its_shutdown_signal() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState::new(Catalog::new(Table::builtin().unwrap()));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(podmeta::serve(
        listener,
        state,
        podmeta::ServerSettings::default(),
        async {
            let _ = stopped.await;
        },
    ));

    let response = raw_request(
        addr,
        "GET /pods/EU1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(
        response.contains("content-type: application/json\r\n"),
        "{response}"
    );
    assert!(response.contains("\"id\": \"eu1\""), "{response}");

    let response = raw_request(
        addr,
        "POST /pods/eu1/bucket-policy HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 10\r\nConnection: close\r\n\r\n{\"bucket\":",
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 400 "), "{response}");
    assert!(response.contains("application/problem+json"), "{response}");

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops within 5 s")
        .unwrap();
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "still accepting after shutdown"
    );
}
