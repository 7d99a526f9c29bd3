//! HTTPS: serving the router with rustls (`[server.tls] cert`/`key`), and the local CA plus
//! server certificate that `ward certs dev` writes for trying it out.
//!
//! The process-wide rustls crypto provider is aws-lc-rs; [`install_crypto_provider`] makes
//! that choice explicit (two providers are compiled into the binary, and rustls refuses to
//! guess).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::Router;
use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// Why TLS could not be set up or served.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate or key file cannot be read or parsed.
    #[error("loading TLS certificate {cert} and key {key}: {source}")]
    Load {
        /// Certificate path.
        cert: String,
        /// Key path.
        key: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Binding or serving failed.
    #[error("serving HTTPS on {addr}: {source}")]
    Serve {
        /// Listen address.
        addr: SocketAddr,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Generating a certificate failed.
    #[error("generating a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// Writing generated files failed.
    #[error("writing {path}: {source}")]
    Write {
        /// File.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

/// Installs aws-lc-rs as the process's rustls provider (a no-op when one is installed).
pub fn install_crypto_provider() {
    // An error means a provider is already installed, which is what we want.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// A TLS server about to run: [`TlsServer::local_addr`] tells where it listens (useful with
/// port 0), [`TlsServer::run`] serves until `shutdown` resolves.
pub struct TlsServer {
    listener: std::net::TcpListener,
    config: RustlsConfig,
}

impl TlsServer {
    /// Binds `addr` and loads the PEM certificate chain and key.
    ///
    /// # Errors
    /// [`TlsError`] when the files cannot be loaded or the address cannot be bound.
    pub async fn bind(addr: SocketAddr, cert: &Path, key: &Path) -> Result<Self, TlsError> {
        install_crypto_provider();
        let config = RustlsConfig::from_pem_file(cert, key).await.map_err(|source| TlsError::Load {
            cert: cert.display().to_string(),
            key: key.display().to_string(),
            source,
        })?;
        let listener =
            std::net::TcpListener::bind(addr).map_err(|source| TlsError::Serve { addr, source })?;
        Ok(Self { listener, config })
    }

    /// The bound address.
    ///
    /// # Errors
    /// When the socket cannot report it.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves `router` over HTTPS (with each client's address available to handlers, for
    /// login rate limiting) until `shutdown` resolves, then lets requests in flight finish for
    /// up to `grace`.
    ///
    /// # Errors
    /// [`TlsError::Serve`] when serving fails.
    pub async fn run(
        self,
        router: Router,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
        grace: Duration,
    ) -> Result<(), TlsError> {
        let addr =
            self.local_addr().map_err(|source| TlsError::Serve { addr: ([0, 0, 0, 0], 0).into(), source })?;
        let handle: Handle<SocketAddr> = Handle::new();
        let stopper = handle.clone();
        tokio::spawn(async move {
            shutdown.await;
            stopper.graceful_shutdown(Some(grace));
        });
        axum_server::from_tcp_rustls(self.listener, self.config)
            .map_err(|source| TlsError::Serve { addr, source })?
            .handle(handle)
            .serve(router.into_make_service_with_connect_info::<SocketAddr>())
            .await
            .map_err(|source| TlsError::Serve { addr, source })
    }
}

/// Serves `router` over HTTPS on `addr` with the PEM `cert` and `key` until `shutdown`
/// resolves (requests in flight get 10 s to finish).
///
/// # Errors
/// [`TlsError`] when the files cannot be loaded, the address bound, or serving fails.
pub async fn serve_tls(
    router: Router,
    addr: SocketAddr,
    cert: &Path,
    key: &Path,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), TlsError> {
    TlsServer::bind(addr, cert, key).await?.run(router, shutdown, Duration::from_secs(10)).await
}

/// Files written by [`write_dev_certs`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevCerts {
    /// The local CA certificate (trust this in clients).
    pub ca_cert: PathBuf,
    /// The CA's private key (keep it; it can sign more certificates).
    pub ca_key: PathBuf,
    /// The server certificate chain: server certificate then CA (`[server.tls] cert`).
    pub cert: PathBuf,
    /// The server private key (`[server.tls] key`).
    pub key: PathBuf,
}

/// Creates a local CA and a server certificate for `localhost`, `127.0.0.1`, `::1` and
/// `extra_names`, valid for `days`, and writes them as PEM into `dir` (keys with mode 0600).
///
/// # Errors
/// [`TlsError`] when generation or writing fails.
pub fn write_dev_certs(dir: &Path, extra_names: &[String], days: u32) -> Result<DevCerts, TlsError> {
    let now = time_now();
    let until = now + std::time::Duration::from_secs(u64::from(days) * 86_400);

    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::default();
    ca.distinguished_name.push(DnType::CommonName, "Ward development CA");
    ca.distinguished_name.push(DnType::OrganizationName, "Ward (local development only)");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    ca.not_before = now.into();
    ca.not_after = until.into();
    let ca_cert = ca.self_signed(&ca_key)?;

    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    names.extend(extra_names.iter().cloned());
    let server_key = KeyPair::generate()?;
    let mut server = CertificateParams::new(names)?;
    server.distinguished_name.push(DnType::CommonName, "localhost");
    server.is_ca = IsCa::ExplicitNoCa;
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.not_before = now.into();
    server.not_after = until.into();
    let issuer = Issuer::new(ca, &ca_key);
    let server_cert = server.signed_by(&server_key, &issuer)?;

    std::fs::create_dir_all(dir).map_err(|source| write_err(dir, source))?;
    let files = DevCerts {
        ca_cert: dir.join("ca.pem"),
        ca_key: dir.join("ca-key.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server-key.pem"),
    };
    write(&files.ca_cert, &ca_cert.pem(), false)?;
    write(&files.ca_key, &ca_key.serialize_pem(), true)?;
    write(&files.cert, &format!("{}{}", server_cert.pem(), ca_cert.pem()), false)?;
    write(&files.key, &server_key.serialize_pem(), true)?;
    Ok(files)
}

fn time_now() -> std::time::SystemTime {
    // Backdate a little so a client with a slightly slow clock accepts the certificate.
    std::time::SystemTime::now() - Duration::from_secs(3600)
}

fn write_err(path: &Path, source: std::io::Error) -> TlsError {
    TlsError::Write { path: path.display().to_string(), source }
}

fn write(path: &Path, text: &str, secret: bool) -> Result<(), TlsError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(path).map_err(|e| write_err(path, e))?;
    file.write_all(text.as_bytes()).and_then(|()| file.sync_all()).map_err(|e| write_err(path, e))
}
