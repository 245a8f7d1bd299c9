//! The certificate duet makes for itself when none is configured: self-signed, for this
//! machine's names and addresses, kept as PEM in the data directory so that a browser which
//! accepted it once keeps accepting it after a restart (its fingerprint stays the same).
//!
//! A kept file that cannot be used (unreadable, not PEM, key and certificate not a pair)
//! is replaced by a new certificate, with a warning that names it: these files are duet's
//! own, and a server that refuses to start over them helps nobody. A certificate that does
//! not name a current address is kept (see [`Origin::Kept`]); deleting the files makes a
//! new one. A certificate is made for [`VALIDITY_DAYS`] and replaced at a start less than
//! [`RENEW_DAYS`] before it ends (see [`Origin::Renewed`]).

use super::tls::{Origin, Tls, TlsError, fingerprint, provider, read_pair, server_config};
use crate::server::data_dir;
use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{CertificateError, RootCertStore};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use time::OffsetDateTime;

/// The kept certificate, in the data directory.
pub const CERT_FILE: &str = "tls-cert.pem";
/// Its private key, readable by the owner only.
pub const KEY_FILE: &str = "tls-key.pem";

/// How long a made certificate is valid: inside the CA/Browser Forum's 398 days, which
/// some clients hold every certificate to, not only those of public authorities.
pub const VALIDITY_DAYS: u32 = 397;

/// A kept certificate with fewer days than this left is replaced at start, so that it does
/// not run out while duet runs.
pub const RENEW_DAYS: u32 = 30;

const DAY: Duration = Duration::from_secs(24 * 3600);

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

/// The certificate kept in `dir`, or a new one for `names` if there is none, it cannot be
/// used, or it is due for renewal.
pub fn load_or_create(dir: &Path, names: &Names) -> Result<Tls, TlsError> {
    load_or_create_at(dir, names, SystemTime::now())
}

/// [`load_or_create`] as if the time were `now`.
pub fn load_or_create_at(dir: &Path, names: &Names, now: SystemTime) -> Result<Tls, TlsError> {
    let (cert_path, key_path) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
    let mut origin = Origin::Created;
    if cert_path.exists() || key_path.exists() {
        match load_kept(&cert_path, &key_path, names) {
            Ok((tls, ends)) => match ends.filter(|&ends| due(ends, now)) {
                None => return Ok(tls),
                Some(ends) => origin = Origin::Renewed { ended: date(ends) },
            },
            Err(err) => tracing::warn!("{err}; making a new self-signed certificate"),
        }
    }
    let (cert, key) = create(names, now)?;
    data_dir::create(dir).map_err(|err| TlsError::Write {
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
        origin,
    })
}

/// The kept pair, if both files are there and belong together, and when it ends (`None`
/// if that cannot be read: it is kept then).
fn load_kept(
    cert_path: &Path,
    key_path: &Path,
    names: &Names,
) -> Result<(Tls, Option<SystemTime>), TlsError> {
    let (chain, key) = read_pair(cert_path, key_path)?;
    keep_private(key_path);
    let fingerprint = fingerprint(&chain[0]);
    let missing = not_named(&chain[0], &names.ips);
    let ends = not_after(&chain[0]);
    let config = server_config(chain, key).map_err(|err| TlsError::Unusable {
        cert: cert_path.to_owned(),
        key: key_path.to_owned(),
        err,
    })?;
    let tls = Tls {
        config,
        cert_path: cert_path.to_owned(),
        fingerprint,
        origin: Origin::Kept { missing },
    };
    Ok((tls, ends))
}

/// Whether a certificate that ends at `ends` is replaced at a start at `now`: it has ended
/// or ends within [`RENEW_DAYS`], or it runs far longer than duet makes them (an earlier
/// duet made them valid until the year 4096).
fn due(ends: SystemTime, now: SystemTime) -> bool {
    match ends.duration_since(now) {
        Err(_) => true,
        Ok(left) => left < DAY * RENEW_DAYS || left > DAY * (VALIDITY_DAYS + 1),
    }
}

/// The last moment `cert` is valid, as rustls reads it; `None` if it cannot. Asked to check
/// a certificate at a time past any certificate's end, rustls's verifier says when it ended:
/// the validity dates are the first thing it checks.
fn not_after(cert: &CertificateDer<'static>) -> Option<SystemTime> {
    let mut roots = RootCertStore::empty();
    roots.add(cert.clone()).ok()?;
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .ok()?;
    // 10000-01-01: X.509 dates stop at 9999.
    let past_every_end = UnixTime::since_unix_epoch(Duration::from_secs(253_402_300_800));
    let name = ServerName::IpAddress(Ipv4Addr::LOCALHOST.into());
    match verifier.verify_server_cert(cert, &[], &name, &[], past_every_end) {
        Err(rustls::Error::InvalidCertificate(CertificateError::ExpiredContext {
            not_after,
            ..
        })) => Some(SystemTime::UNIX_EPOCH + Duration::from_secs(not_after.as_secs())),
        _ => None,
    }
}

/// `at` as a calendar date (UTC), for the start-up message.
fn date(at: SystemTime) -> time::Date {
    let secs = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(i64::MAX))
        .map_or(time::Date::MAX, OffsetDateTime::date)
}

/// Makes the kept key readable by its owner only again, if an earlier write left it open
/// to others (a temporary file left behind used to pass on its mode).
fn keep_private(key_path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(meta) = std::fs::metadata(key_path) else {
            return;
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(
                "{} could be read by other users (mode {mode:o}); making it 600",
                key_path.display()
            );
            let private = std::fs::Permissions::from_mode(0o600);
            if let Err(err) = std::fs::set_permissions(key_path, private) {
                tracing::warn!("cannot chmod 600 {}: {err}", key_path.display());
            }
        }
    }
    #[cfg(not(unix))]
    let _ = key_path;
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

/// A new key pair (ECDSA P-256) and a certificate for `names` signed by it, valid from a
/// day before `now` (a phone whose clock is a little behind still takes it) for
/// [`VALIDITY_DAYS`].
fn create(names: &Names, now: SystemTime) -> Result<(rcgen::Certificate, KeyPair), rcgen::Error> {
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
    let now = OffsetDateTime::from(now);
    params.not_before = now - DAY;
    params.not_after = params.not_before + DAY * VALIDITY_DAYS;
    let cert = params.self_signed(&key)?;
    Ok((cert, key))
}

/// Writes `contents` to `path` through a temporary file and a rename, so a crash never
/// leaves half a file; `secret` files are readable by their owner only.
fn write_file(path: &Path, contents: &[u8], secret: bool) -> Result<(), TlsError> {
    use std::io::Write;
    let tmp = path.with_extension("pem.tmp");
    // A temporary file left by a crash would keep its own mode if opened again, and pass
    // it on to the key: start from a new file (create_new also refuses a planted link).
    match std::fs::remove_file(&tmp) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            return Err(TlsError::Write { path: tmp, err });
        }
        _ => {}
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
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
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&nested).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700, "data directory mode {mode:o}");
        }
    }

    fn days(n: u32) -> Duration {
        DAY * n
    }

    #[test]
    fn a_new_certificate_is_valid_for_about_a_year_from_now() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        load_or_create_at(dir.path(), &names(), now).unwrap();
        let ends = not_after(&kept_cert(dir.path())).expect("its end date");
        let left = ends.duration_since(now).unwrap();
        assert!(
            left > days(VALIDITY_DAYS - 2) && left <= days(VALIDITY_DAYS),
            "valid for {} more days",
            left.as_secs() / 86400
        );
        // What a browser checks: valid now, for the loopback address.
        let cert = kept_cert(dir.path());
        let mut roots = RootCertStore::empty();
        roots.add(cert.clone()).unwrap();
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .unwrap();
        let name = ServerName::IpAddress(Ipv4Addr::LOCALHOST.into());
        verifier
            .verify_server_cert(&cert, &[], &name, &[], UnixTime::now())
            .expect("valid now");
    }

    #[test]
    fn a_certificate_is_renewed_at_a_start_near_or_past_its_end() {
        let now = SystemTime::now();
        for made_days_ago in [VALIDITY_DAYS - RENEW_DAYS + 2, VALIDITY_DAYS + 10] {
            let dir = tempfile::tempdir().unwrap();
            let then = now - days(made_days_ago);
            let old = load_or_create_at(dir.path(), &names(), then).unwrap();
            let ended = date(not_after(&kept_cert(dir.path())).unwrap());

            let renewed = load_or_create_at(dir.path(), &names(), now).unwrap();
            assert_eq!(renewed.origin, Origin::Renewed { ended }, "{made_days_ago}");
            assert_ne!(renewed.fingerprint, old.fingerprint, "a new certificate");
            assert_eq!(fingerprint(&kept_cert(dir.path())), renewed.fingerprint);

            // And kept from then on.
            let kept = load_or_create_at(dir.path(), &names(), now).unwrap();
            assert_eq!(kept.origin, Origin::Kept { missing: vec![] });
            assert_eq!(kept.fingerprint, renewed.fingerprint);
        }
    }

    #[test]
    fn a_certificate_with_time_left_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let made = load_or_create_at(dir.path(), &names(), now - days(300)).unwrap();
        let kept = load_or_create_at(dir.path(), &names(), now).unwrap();
        assert_eq!(kept.origin, Origin::Kept { missing: vec![] });
        assert_eq!(kept.fingerprint, made.fingerprint);
    }

    #[test]
    fn a_certificate_made_to_last_until_4096_is_renewed() {
        let dir = tempfile::tempdir().unwrap();
        // What an earlier duet made: rcgen's default validity, 1975 to 4096.
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        std::fs::write(dir.path().join(CERT_FILE), cert.pem()).unwrap();
        std::fs::write(dir.path().join(KEY_FILE), key.serialize_pem()).unwrap();
        let tls = load_or_create(dir.path(), &names()).unwrap();
        let ended = time::Date::from_calendar_date(4096, time::Month::January, 1).unwrap();
        assert_eq!(tls.origin, Origin::Renewed { ended });
        assert_ne!(tls.fingerprint, fingerprint(cert.der()));
    }

    #[cfg(unix)]
    #[test]
    fn a_leftover_temporary_file_does_not_open_the_key() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join(KEY_FILE).with_extension("pem.tmp");
        std::fs::write(&tmp, b"left by a crash").unwrap();
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644)).unwrap();
        load_or_create(dir.path(), &names()).unwrap();
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "key mode {mode:o}");
        assert!(!tmp.exists(), "the temporary file became the key");
    }

    #[cfg(unix)]
    #[test]
    fn a_kept_key_readable_by_others_is_made_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path(), &names()).unwrap();
        let key = dir.path().join(KEY_FILE);
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let kept = load_or_create(dir.path(), &names()).unwrap();
        assert_eq!(kept.fingerprint, first.fingerprint);
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "key mode {mode:o}");
    }
}
