//! The server binary: read the settings, serve pages and signaling over HTTP or HTTPS,
//! stop on Ctrl-C/SIGTERM. `duet user ...` and `duet invite ...` are the operator's account
//! commands instead (`server/auth/cli.rs`), on the same settings and data directory.

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    use duet::server::auth::cli;
    use duet::server::http::limits::Limits;
    use duet::server::http::serve::serve;
    use duet::server::reach::lan::{self, Lan};
    use duet::server::reach::tls;
    use duet::server::reach::turn::{TurnConfig, TurnServer};
    use duet::server::{Settings, app, settings::SETTINGS_FILE};
    use std::process::ExitCode;

    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = cli::is_command(&args);
    if command {
        // A command's output is its answer: only warnings are logged, to standard error.
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "warn".into()),
            )
            .init();
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "info".into()),
            )
            .init();
    }
    if command {
        let settings = match Settings::load(std::path::Path::new(SETTINGS_FILE)) {
            Ok(settings) => settings,
            Err(err) => {
                eprintln!("duet: {err}");
                return ExitCode::from(2);
            }
        };
        return match cli::run(&args, &settings, std::io::stdin().lock()).await {
            Ok(out) => {
                println!("{out}");
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("duet: {err}");
                ExitCode::from(err.exit_code())
            }
        };
    }

    // Every socket is a file descriptor: the usual soft limit of 1 024 would turn people
    // away long before memory or CPU run out. Up to the hard limit needs no privilege.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open-file limit"),
        Err(err) => tracing::warn!("cannot raise the open-file limit: {err}"),
    }

    // One flag, so no argument parser: everything else is a setting.
    let mut tls_flag = false;
    for arg in args {
        if arg == "--tls" {
            tls_flag = true;
        } else {
            eprintln!("duet: unknown argument {arg:?}");
            eprintln!("{}", cli::USAGE);
            return ExitCode::from(2);
        }
    }
    let mut settings = match Settings::load(std::path::Path::new(SETTINGS_FILE)) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("duet: {err}");
            return ExitCode::from(2);
        }
    };
    settings.tls |= tls_flag;
    if !settings.tls && settings.tls_cert.is_some() {
        tracing::warn!("tls_cert and tls_key are set but TLS is off: serving plain HTTP");
    }
    let turn = match TurnConfig::from_settings(&settings) {
        Ok(None) => None,
        Ok(Some(config)) => match TurnServer::start(config).await {
            Ok(turn) => Some(turn),
            Err(err) => {
                eprintln!("duet: {err}");
                return ExitCode::from(1);
            }
        },
        Err(err) => {
            eprintln!("duet: {err}");
            return ExitCode::from(2);
        }
    };
    if let Some(turn) = &turn {
        println!("built-in TURN server on udp {}", turn.local_addr());
        // Pages get credentials for it unless they are pointed at another TURN server.
        if settings.turn_urls.is_empty() {
            settings.turn_urls = vec![turn.url()];
        }
    }
    let mut leptos_options = match leptos::config::get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(err) => {
            eprintln!("duet: reading the Leptos site settings: {err}");
            return ExitCode::from(2);
        }
    };
    let addr = settings.site_addr;
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("duet: cannot listen on {addr}: {err}");
            return ExitCode::from(1);
        }
    };
    // The real port, in case the settings asked for port 0.
    let addr = listener.local_addr().unwrap_or(addr);
    settings.site_addr = addr;
    leptos_options.site_addr = addr;
    let addresses = lan::addresses();
    let tls = if settings.tls {
        match tls::load(&settings, &addresses) {
            Ok(tls) => Some(tls),
            Err(err) => {
                eprintln!("duet: {err}");
                return ExitCode::from(1);
            }
        }
    } else {
        None
    };
    let fingerprint = tls.as_ref().map(|tls| tls.fingerprint.clone());
    let lan = Lan::new(settings.scheme(), addr, &addresses, fingerprint);
    let urls = lan.urls().to_vec();
    let scheme = settings.scheme();
    let database = settings.database();
    let limits = Limits::of(&settings);
    let relays = turn.as_ref().map(TurnServer::allocations);
    let first_admin = if settings.open_names {
        None
    } else {
        first_admin_link(&settings).await
    };
    let app = match app(settings, leptos_options, lan, relays) {
        Ok(app) => app,
        Err(err) => {
            eprintln!(
                "duet: opening the chat database {}: {err}",
                database.display()
            );
            return ExitCode::from(1);
        }
    };
    announce(scheme, addr, &urls, tls.as_ref());
    if let Some(link) = first_admin {
        println!("  no account yet: create the first (an administrator) at {link}");
        println!("  (the link works once, for a day; a restart prints a new one)");
    }
    let config = tls.map(|tls| tls.config);
    let served = serve(listener, app, config, limits, shutdown_signal()).await;
    if let Some(turn) = turn {
        turn.stop().await;
    }
    if let Err(err) = served {
        eprintln!("duet: server error: {err}");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// With `open_names` off and no account yet nobody could use the server: a one-use invite
/// link for the first account, an administrator.
#[cfg(feature = "ssr")]
async fn first_admin_link(settings: &duet::server::Settings) -> Option<String> {
    use duet::server::auth::accounts::Accounts;

    let made = match Accounts::open(settings) {
        Ok(accounts) => accounts.first_admin_invite().await,
        Err(err) => Err(err.into()),
    };
    match made {
        Ok(token) => {
            let mut addr = settings.site_addr;
            if addr.ip().is_unspecified() {
                addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            token.map(|token| format!("{}://{addr}/i/{token}", settings.scheme()))
        }
        Err(err) => {
            tracing::error!("making the first account's invite link: {err}");
            None
        }
    }
}

/// Tells the person who started duet where to open it, and which certificate to expect.
#[cfg(feature = "ssr")]
fn announce(
    scheme: &str,
    addr: std::net::SocketAddr,
    lan_urls: &[String],
    tls: Option<&duet::server::reach::tls::Tls>,
) {
    use duet::server::reach::tls::Origin;

    println!("duet is listening on {scheme}://{addr}/");
    if addr.ip().is_unspecified() {
        println!("  on this machine: {scheme}://127.0.0.1:{}/", addr.port());
    }
    for (i, url) in lan_urls.iter().enumerate() {
        let label = if i == 0 { "on the LAN:" } else { "" };
        println!("  {label:<16} {url}");
    }
    let Some(tls) = tls else {
        if !lan_urls.is_empty() {
            println!("  (phones open their camera only on HTTPS: start with --tls or DUET_TLS=1)");
        }
        return;
    };
    let cert = tls.cert_path.display();
    match &tls.origin {
        Origin::Configured => println!("  certificate: {cert}"),
        Origin::Created => println!("  certificate: {cert} (self-signed, made now)"),
        Origin::Renewed { ended } => println!(
            "  certificate: {cert} (self-signed, made now in place of the one valid until \
             {ended}: the fingerprint changed)"
        ),
        Origin::Kept { missing } => {
            println!("  certificate: {cert} (self-signed)");
            if !missing.is_empty() {
                let missing: Vec<String> = missing.iter().map(ToString::to_string).collect();
                tracing::warn!(
                    "the certificate does not name {}, so browsers also warn about the name; \
                     delete {cert} and its key to make a new one",
                    missing.join(", ")
                );
            }
        }
    }
    println!("  SHA-256 fingerprint: {}", tls.fingerprint);
    if tls.origin != Origin::Configured {
        println!(
            "  a browser warns once about this certificate: go on if it shows this fingerprint"
        );
    }
}

#[cfg(feature = "ssr")]
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down");
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The browser build is a library; `cargo leptos` builds the server with `--features ssr`.
}
