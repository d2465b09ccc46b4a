//! A fault the node must not go on after (a block that could not be made durable, a cosigned
//! checkpoint that could not be stored): the in-memory state may be ahead of the disk, and only
//! a restart, which reopens from disk, is safe. Raised once by the stage that hit it; the
//! stages stop, [`crate::RunningNode::failed`] resolves with the reason, and the binary exits
//! non-zero. A library never exits the process itself.

use tokio::sync::watch;

pub struct Fatal {
    reason: watch::Sender<Option<String>>,
}

impl Default for Fatal {
    fn default() -> Self {
        Fatal { reason: watch::channel(None).0 }
    }
}

impl Fatal {
    /// Records the first fault; later ones are only logged by their callers.
    pub fn raise(&self, why: String) {
        self.reason.send_if_modified(|r| {
            if r.is_some() {
                return false;
            }
            *r = Some(why);
            true
        });
    }

    pub fn reason(&self) -> Option<String> {
        self.reason.borrow().clone()
    }

    /// Resolves with the reason once a fault is raised.
    pub async fn wait(&self) -> String {
        let mut rx = self.reason.subscribe();
        let r = rx.wait_for(Option::is_some).await.expect("the sender lives as long as self");
        r.clone().expect("waited for a reason")
    }
}

/// Runs a stage's loop; a panic in it (a broken invariant) stops the node as a fault does,
/// instead of leaving it up with a dead stage.
pub fn on_panic(ledger: &crate::Ledger, stage: &str, run: impl FnOnce()) {
    if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        let why = panic.downcast_ref::<String>().map(String::as_str).or_else(|| panic.downcast_ref::<&str>().copied()).unwrap_or("a panic");
        ledger.fail(format!("{stage} stopped: {why}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_fault_is_the_reason() {
        let f = std::sync::Arc::new(Fatal::default());
        assert_eq!(f.reason(), None);
        let waiter = tokio::spawn({
            let f = f.clone();
            async move { f.wait().await }
        });
        f.raise("disk full".into());
        f.raise("later".into());
        assert_eq!(waiter.await.unwrap(), "disk full");
        assert_eq!(f.reason().as_deref(), Some("disk full"));
        assert_eq!(f.wait().await, "disk full", "a wait after the fault resolves at once");
    }
}
