//! The certificate duet makes for itself when none is configured: self-signed, for this
//! machine's names and addresses, kept as PEM in the data directory so that a browser which
//! accepted it once keeps accepting it after a restart (its fingerprint stays the same).
//!
//! A kept file that cannot be used (unreadable, not PEM, key and certificate not a pair)
//! is replaced by a new certificate, with a warning that names it: these files are duet's
//! own, and a server that refuses to start over them helps nobody. A certificate that does
//! not name a current address is kept (see [`Origin::Kept`]); deleting the files makes a
//! new one.

use super::tls::{Origin, Tls, TlsError, fingerprint, read_pair, server_config};
use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

/// The kept certificate, in the data directory.
pub const CERT_FILE: &str = "tls-cert.pem";
/// Its private key, readable by the owner only.
pub const KEY_FILE: &str = "tls-key.pem";

/// The names a certificate is made for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Names {
    pub dns: Vec<String>,
    pub ips: Vec<IpAddr>,
}

impl Names {
    /// `localhost`, this machine's host name (and `NAME.local`, its mDNS name), loopback,
    /// and `lan`, its LAN addresses.
    pub fn of_this_machine(lan: &[IpAddr]) -> Self {
        let host = gethostname::gethostname().to_string_lossy().into_owned();
        Self::for_host(&host, lan)
    }

    /// [`Names::of_this_machine`] for the host name `host`.
    pub fn for_host(host: &str, lan: &[IpAddr]) -> Self {
        let mut dns = vec!["localhost".to_owned()];
        let host = host.trim().to_ascii_lowercase();
        if is_dns_name(&host) && host != "localhost" {
            if !host.contains('.') {
                dns.push(format!("{host}.local"));
            }
            dns.insert(1, host);
        }
        let mut ips = vec![
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ];
        for ip in lan {
            if !ips.contains(ip) {
                ips.push(*ip);
            }
        }
        Self { dns, ips }
    }
}

/// Letters, digits and `-` in dot-separated labels: what a certificate may name. Host
/// names outside that (rare) are left out rather than making a certificate browsers refuse.
fn is_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// The certificate kept in `dir`, or a new one for `names` if there is none or it cannot
/// be used.
pub fn load_or_create(dir: &Path, names: &Names) -> Result<Tls, TlsError> {
    let (cert_path, key_path) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
    if cert_path.exists() || key_path.exists() {
        match load_kept(&cert_path, &key_path, names) {
            Ok(tls) => return Ok(tls),
            Err(err) => tracing::warn!("{err}; making a new self-signed certificate"),
        }
    }
    let (cert, key) = create(names)?;
    std::fs::create_dir_all(dir).map_err(|err| TlsError::Write {
        path: dir.to_owned(),
        err,
    })?;
    write_file(&key_path, key.serialize_pem().as_bytes(), true)?;
    write_file(&cert_path, cert.pem().as_bytes(), false)?;
    let chain = vec![cert.der().clone()];
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let fingerprint = fingerprint(&chain[0]);
    let config = server_config(chain, key_der).map_err(|err| TlsError::Unusable {
        cert: cert_path.clone(),
        key: key_path,
        err,
    })?;
    Ok(Tls {
        config,
        cert_path,
        fingerprint,
        origin: Origin::Created,
    })
}

/// The kept pair, if both files are there and belong together.
fn load_kept(cert_path: &Path, key_path: &Path, names: &Names) -> Result<Tls, TlsError> {
    let (chain, key) = read_pair(cert_path, key_path)?;
    let fingerprint = fingerprint(&chain[0]);
    let missing = not_named(&chain[0], &names.ips);
    let config = server_config(chain, key).map_err(|err| TlsError::Unusable {
        cert: cert_path.to_owned(),
        key: key_path.to_owned(),
        err,
    })?;
    Ok(Tls {
        config,
        cert_path: cert_path.to_owned(),
        fingerprint,
        origin: Origin::Kept { missing },
    })
}

/// Those of `ips` that `cert` is not valid for (all of them if it cannot be parsed).
pub fn not_named(cert: &CertificateDer<'_>, ips: &[IpAddr]) -> Vec<IpAddr> {
    let Ok(parsed) = rustls::server::ParsedCertificate::try_from(cert) else {
        return ips.to_vec();
    };
    ips.iter()
        .copied()
        .filter(|&ip| rustls::client::verify_server_name(&parsed, &ServerName::from(ip)).is_err())
        .collect()
}

/// A new key pair (ECDSA P-256) and a certificate for `names` signed by it.
fn create(names: &Names) -> Result<(rcgen::Certificate, KeyPair), rcgen::Error> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::default();
    let mut subject = DistinguishedName::new();
    let host = names.dns.get(1).map_or("localhost", String::as_str);
    subject.push(DnType::CommonName, format!("duet on {host}"));
    params.distinguished_name = subject;
    for name in &names.dns {
        params
            .subject_alt_names
            .push(SanType::DnsName(name.clone().try_into()?));
    }
    for ip in &names.ips {
        params.subject_alt_names.push(SanType::IpAddress(*ip));
    }
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    // Validity stays rcgen's default, 1975 to 4096: the certificate is trusted by its
    // fingerprint, not by a date, and a kept file must not start failing one day. Apple's
    // 825-day limit applies to certificates issued after July 2019, so it does not bite.
    let cert = params.self_signed(&key)?;
    Ok((cert, key))
}

/// Writes `contents` to `path` through a temporary file and a rename, so a crash never
/// leaves half a file; `secret` files are readable by their owner only.
fn write_file(path: &Path, contents: &[u8], secret: bool) -> Result<(), TlsError> {
    use std::io::Write;
    let tmp = path.with_extension("pem.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let written = options
        .open(&tmp)
        .and_then(|mut file| file.write_all(contents).and_then(|()| file.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    written.map_err(|err| TlsError::Write {
        path: path.to_owned(),
        err,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAN: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 5));
    const LAN6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 5));

    fn names() -> Names {
        Names::for_host("laptop", &[LAN, LAN6])
    }

    fn kept_cert(dir: &Path) -> CertificateDer<'static> {
        read_pair(&dir.join(CERT_FILE), &dir.join(KEY_FILE))
            .unwrap()
            .0
            .remove(0)
    }

    #[test]
    fn names_are_localhost_the_host_loopback_and_the_lan() {
        let names = names();
        assert_eq!(names.dns, vec!["localhost", "laptop", "laptop.local"]);
        assert_eq!(
            names.ips,
            vec![
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
                LAN,
                LAN6
            ]
        );
        assert_eq!(
            Names::for_host("box.example.org", &[]).dns,
            vec!["localhost", "box.example.org"]
        );
        for odd in ["", "localhost", "bad_name", "-x", "a..b", "Straße"] {
            assert_eq!(Names::for_host(odd, &[]).dns, vec!["localhost"], "{odd:?}");
        }
    }

    #[test]
    fn a_new_certificate_names_localhost_loopback_and_the_lan() {
        let dir = tempfile::tempdir().unwrap();
        let tls = load_or_create(dir.path(), &names()).unwrap();
        assert_eq!(tls.origin, Origin::Created);
        assert_eq!(tls.cert_path, dir.path().join(CERT_FILE));
        let cert = kept_cert(dir.path());
        assert_eq!(tls.fingerprint, fingerprint(&cert));
        assert_eq!(not_named(&cert, &names().ips), Vec::<IpAddr>::new());
        let parsed = rustls::server::ParsedCertificate::try_from(&cert).unwrap();
        for name in ["localhost", "laptop", "laptop.local"] {
            let name = ServerName::try_from(name).unwrap();
            assert!(
                rustls::client::verify_server_name(&parsed, &name).is_ok(),
                "{name:?}"
            );
        }
        let elsewhere = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9));
        assert_eq!(not_named(&cert, &[elsewhere]), vec![elsewhere]);
        let other = ServerName::try_from("example.com").unwrap();
        assert!(rustls::client::verify_server_name(&parsed, &other).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn the_key_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        load_or_create(dir.path(), &names()).unwrap();
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "key mode {mode:o}");
    }

    #[test]
    fn a_kept_certificate_is_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path(), &names()).unwrap();
        let second = load_or_create(dir.path(), &names()).unwrap();
        assert_eq!(second.origin, Origin::Kept { missing: vec![] });
        assert_eq!(second.fingerprint, first.fingerprint);

        // The machine moved to another network: same certificate, and the new address
        // is reported as not named.
        let moved = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9));
        let third = load_or_create(dir.path(), &Names::for_host("laptop", &[moved])).unwrap();
        assert_eq!(third.fingerprint, first.fingerprint);
        assert_eq!(
            third.origin,
            Origin::Kept {
                missing: vec![moved]
            }
        );
    }

    #[test]
    fn an_unusable_kept_file_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join(CERT_FILE), dir.path().join(KEY_FILE));
        let first = load_or_create(dir.path(), &names()).unwrap();
        let spoil: [(&Path, &[u8]); 4] = [
            (&cert, b"garbage"),
            (
                &key,
                b"-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----\n",
            ),
            (&cert, b""),
            (&key, b""),
        ];
        let mut seen = vec![first.fingerprint];
        for (file, contents) in spoil {
            std::fs::write(file, contents).unwrap();
            let tls = load_or_create(dir.path(), &names()).unwrap();
            assert_eq!(tls.origin, Origin::Created, "{}", file.display());
            assert!(!seen.contains(&tls.fingerprint), "a new certificate");
            assert_eq!(fingerprint(&kept_cert(dir.path())), tls.fingerprint);
            seen.push(tls.fingerprint);
        }

        // A key that belongs to another certificate.
        let other = tempfile::tempdir().unwrap();
        load_or_create(other.path(), &names()).unwrap();
        std::fs::copy(other.path().join(KEY_FILE), &key).unwrap();
        let tls = load_or_create(dir.path(), &names()).unwrap();
        assert_eq!(tls.origin, Origin::Created);

        // One file of the pair gone.
        std::fs::remove_file(&key).unwrap();
        let tls = load_or_create(dir.path(), &names()).unwrap();
        assert_eq!(tls.origin, Origin::Created);
        assert!(key.exists());
        assert_eq!(
            load_or_create(dir.path(), &names()).unwrap().fingerprint,
            tls.fingerprint
        );
    }

    #[test]
    fn a_missing_data_directory_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        let tls = load_or_create(&nested, &names()).unwrap();
        assert_eq!(tls.origin, Origin::Created);
        assert!(nested.join(CERT_FILE).exists());
    }
}
