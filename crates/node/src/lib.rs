//! A Cairn node: the ledger (admission, block production, durable commit, checkpoints) and
//! its HTTP API. The CLI (`cairn`) is a thin shell over this crate.

pub mod api;
pub mod config;
pub mod console;
pub mod dev;
pub mod keys;
pub mod ledger;
pub mod mempool;
pub mod metrics;

use std::sync::Arc;

use anyhow::Context;

pub use config::NodeConfig;
pub use ledger::Ledger;

/// A running node: its ledger, block producer and HTTP server.
pub struct RunningNode {
    pub ledger: Arc<Ledger>,
    pub addr: std::net::SocketAddr,
    producer: Option<std::thread::JoinHandle<()>>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl RunningNode {
    /// Opens the ledger, starts the producer and binds the API (inside a tokio runtime).
    pub async fn start(config: NodeConfig) -> anyhow::Result<Self> {
        let listen = config.listen;
        let ledger = tokio::task::spawn_blocking(move || Ledger::open(config)).await??;
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding the API to {listen}"))?;
        let addr = listener.local_addr()?;
        let producer = ledger.spawn_producer();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = api::router(Arc::clone(&ledger));
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(RunningNode { ledger, addr, producer: Some(producer), server, stop: Some(stop) })
    }

    /// Stops serving, lets the producer finish its block, and closes the store.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = (&mut self.server).await;
        self.ledger.stop();
        if let Some(p) = self.producer.take() {
            let _ = tokio::task::spawn_blocking(move || p.join()).await;
        }
        Ok(())
    }
}
