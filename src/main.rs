//! The server binary: read the settings, serve pages and signaling, stop on Ctrl-C/SIGTERM.

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    use duet::server::turn::{TurnConfig, TurnServer};
    use duet::server::{Settings, router, settings::SETTINGS_FILE};
    use std::process::ExitCode;

    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let mut settings = match Settings::load(std::path::Path::new(SETTINGS_FILE)) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("duet: {err}");
            return ExitCode::from(2);
        }
    };
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
    leptos_options.site_addr = settings.site_addr;
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
    let database = settings.database();
    let app = match router(settings, leptos_options) {
        Ok(app) => app,
        Err(err) => {
            eprintln!(
                "duet: opening the chat database {}: {err}",
                database.display()
            );
            return ExitCode::from(1);
        }
    };
    println!("duet is listening on http://{addr}/");
    if addr.ip().is_unspecified() {
        println!("  on this machine: http://127.0.0.1:{}/", addr.port());
    }
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await;
    if let Some(turn) = turn {
        turn.stop().await;
    }
    if let Err(err) = served {
        eprintln!("duet: server error: {err}");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
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
