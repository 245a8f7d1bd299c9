//! HTTPS: which certificate the server presents (the configured files, or the self-signed
//! one of [`super::self_signed`]), the rustls configuration built from it, and its
//! fingerprint as browsers show it.

use super::self_signed;
use crate::server::settings::Settings;
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A certificate or key that cannot be served, named by its file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {}: {err}", path.display())]
    Read { path: PathBuf, err: io::Error },
    #[error("{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)", path.display())]
    NoCertificate { path: PathBuf },
    #[error("{} holds no PEM private key (-----BEGIN PRIVATE KEY-----)", path.display())]
    NoKey { path: PathBuf },
    #[error("{} is not valid PEM: {err}", path.display())]
    Pem { path: PathBuf, err: pem::Error },
    #[error("cannot serve {} with the key in {}: {err}", cert.display(), key.display())]
    Unusable {
        cert: PathBuf,
        key: PathBuf,
        err: rustls::Error,
    },
    #[error("cannot write {}: {err}", path.display())]
    Write { path: PathBuf, err: io::Error },
    #[error("cannot make a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
}

/// Where the certificate served came from, for the start-up message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `tls_cert` / `tls_key`.
    Configured,
    /// Made now (none was kept, or the kept one was unusable: see the log).
    Created,
    /// Made by an earlier start and kept in the data directory. `missing` are addresses
    /// of this machine it does not name, so browsers warn about the name too.
    Kept { missing: Vec<IpAddr> },
    /// Made now in place of the kept one, which ended (or was about to) on `ended`: the
    /// fingerprint changed, so browsers warn once more.
    Renewed { ended: time::Date },
}

/// What the HTTPS server needs, and what it prints at start.
#[derive(Clone, Debug)]
pub struct Tls {
    pub config: Arc<ServerConfig>,
    /// The certificate file served.
    pub cert_path: PathBuf,
    /// SHA-256 of the certificate, as [`fingerprint`] writes it.
    pub fingerprint: String,
    pub origin: Origin,
}

/// The certificate `settings` name, or else the self-signed one in the data directory,
/// made for this machine's names and `lan` addresses if there is none yet.
pub fn load(settings: &Settings, lan: &[IpAddr]) -> Result<Tls, TlsError> {
    match (&settings.tls_cert, &settings.tls_key) {
        (Some(cert), Some(key)) => {
            let (chain, key_der) = read_pair(cert, key)?;
            let fingerprint = fingerprint(&chain[0]);
            let config = server_config(chain, key_der).map_err(|err| TlsError::Unusable {
                cert: cert.clone(),
                key: key.clone(),
                err,
            })?;
            Ok(Tls {
                config,
                cert_path: cert.clone(),
                fingerprint,
                origin: Origin::Configured,
            })
        }
        _ => self_signed::load_or_create(
            &settings.data_dir,
            &self_signed::Names::of_this_machine(lan),
        ),
    }
}

/// The certificate chain in `cert` and the private key in `key`, both PEM.
pub fn read_pair(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|err| TlsError::Read {
            path: path.to_owned(),
            err,
        })
    };
    let pem_error = |path: &Path, err| TlsError::Pem {
        path: path.to_owned(),
        err,
    };
    let chain = CertificateDer::pem_slice_iter(&read(cert)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| pem_error(cert, err))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: cert.to_owned(),
        });
    }
    let key_der = match PrivateKeyDer::from_pem_slice(&read(key)?) {
        Ok(key_der) => key_der,
        Err(pem::Error::NoItemsFound) => {
            return Err(TlsError::NoKey {
                path: key.to_owned(),
            });
        }
        Err(err) => return Err(pem_error(key, err)),
    };
    Ok((chain, key_der))
}

/// The cryptography duet's TLS uses: rustls with ring. Passed explicitly, so nothing
/// depends on a process-wide default provider.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server configuration presenting `chain` with `key`; fails if the key does not belong
/// to the chain's first certificate.
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, rustls::Error> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    // Browsers open the WebSocket over a separate HTTP/1.1 connection, since hyper does not
    // offer WebSockets over HTTP/2 (RFC 8441) here; pages and files use HTTP/2.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The SHA-256 fingerprint of a certificate as browsers show it: upper-case hex bytes
/// separated by colons (`3A:5F:…`, 32 bytes).
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, cert.as_ref());
    digest
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> tempfile::TempDir {
        tempfile::tempdir().expect("a scratch directory")
    }

    fn settings_with(cert: &Path, key: &Path) -> Settings {
        Settings {
            tls: true,
            tls_cert: Some(cert.to_owned()),
            tls_key: Some(key.to_owned()),
            ..Default::default()
        }
    }

    #[test]
    fn the_fingerprint_is_colon_separated_upper_case_sha256() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        let der = CertificateDer::from(b"abc".as_slice());
        assert_eq!(
            fingerprint(&der),
            "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:\
             B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
        );
    }

    #[test]
    fn configured_files_are_served() {
        let dir = scratch();
        let made = rcgen::generate_simple_self_signed(vec!["duet.example".to_owned()]).unwrap();
        let (cert, key) = (
            dir.path().join("fullchain.pem"),
            dir.path().join("privkey.pem"),
        );
        std::fs::write(&cert, made.cert.pem()).unwrap();
        std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();

        let tls = load(&settings_with(&cert, &key), &[]).unwrap();
        assert_eq!(tls.origin, Origin::Configured);
        assert_eq!(tls.cert_path, cert);
        assert_eq!(tls.fingerprint, fingerprint(made.cert.der()));
        assert!(
            !dir.path().join(self_signed::CERT_FILE).exists(),
            "nothing made"
        );
    }

    #[test]
    fn unusable_configured_files_are_named() {
        let dir = scratch();
        let made = rcgen::generate_simple_self_signed(vec!["duet.example".to_owned()]).unwrap();
        let other = rcgen::generate_simple_self_signed(vec!["other.example".to_owned()]).unwrap();
        let path = |name: &str| dir.path().join(name);
        std::fs::write(path("cert.pem"), made.cert.pem()).unwrap();
        std::fs::write(path("key.pem"), made.signing_key.serialize_pem()).unwrap();
        std::fs::write(path("other-key.pem"), other.signing_key.serialize_pem()).unwrap();
        std::fs::write(path("text.pem"), "not a certificate\n").unwrap();
        std::fs::write(
            path("broken.pem"),
            "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
        )
        .unwrap();

        let error = |cert: &str, key: &str| {
            load(&settings_with(&path(cert), &path(key)), &[])
                .unwrap_err()
                .to_string()
        };
        let err = error("missing.pem", "key.pem");
        assert!(
            err.contains("cannot read") && err.contains("missing.pem"),
            "{err}"
        );
        let err = error("cert.pem", "missing.pem");
        assert!(
            err.contains("cannot read") && err.contains("missing.pem"),
            "{err}"
        );
        let err = error("text.pem", "key.pem");
        assert!(
            err.contains("no PEM certificate") && err.contains("text.pem"),
            "{err}"
        );
        let err = error("cert.pem", "text.pem");
        assert!(
            err.contains("no PEM private key") && err.contains("text.pem"),
            "{err}"
        );
        let err = error("broken.pem", "key.pem");
        assert!(err.contains("broken.pem"), "{err}");
        let err = error("cert.pem", "other-key.pem");
        assert!(
            err.contains("cert.pem") && err.contains("other-key.pem"),
            "{err}"
        );
        assert!(load(&settings_with(&path("cert.pem"), &path("key.pem")), &[]).is_ok());
    }
}
