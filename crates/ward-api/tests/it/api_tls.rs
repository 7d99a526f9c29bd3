//! HTTPS with a `ward certs dev`-style local CA: a client trusting only that CA reaches the
//! server by name, and the session cookie is `Secure` when TLS is configured.

use std::time::Duration;

use ward_api::tls::{TlsServer, install_crypto_provider, write_dev_certs};

use crate::api_support::ApiHarness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trusting_the_dev_ca_talks_https() {
    install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let files = write_dev_certs(dir.path(), &[], 30).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&files.key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the server key is private");
    }
    let h = ApiHarness::new().await;
    let server = TlsServer::bind("127.0.0.1:0".parse().unwrap(), &files.cert, &files.key).await.unwrap();
    let port = server.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(h.app.clone(), async { drop(stopped.await) }, Duration::from_secs(1)));

    let ca = reqwest::Certificate::from_pem(&std::fs::read(&files.ca_cert).unwrap()).unwrap();
    let client = reqwest::Client::builder().tls_certs_only([ca]).build().unwrap();
    let response = client.get(format!("https://localhost:{port}/health")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), r#"{"status":"ok"}"#);

    let untrusting = reqwest::Client::builder().tls_certs_only([]).build().unwrap();
    assert!(untrusting.get(format!("https://localhost:{port}/health")).send().await.is_err());

    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}
