//! Who may read what: in `members` mode every route but the public ones needs a member's
//! request signature (RFC 9421) or an access token (see `cairn-access`). The core declares its
//! routes' policies here; each module declares its own (`Module::read_policy`).
//!
//! The guard runs inside the router, so after the rate limit and body bounds of `serve.rs`:
//! checking a signature is work an unauthenticated client can ask for, and is bounded by them.

use std::sync::{Arc, RwLock};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use cairn_access::{AuthError, Caller, Members, Policy, httpsig};

use crate::api::problem;
use crate::config::{AccessConfig, AccessMode};
use crate::error::{Error, Result};

/// The core's routes anyone may read, whatever the mode: what an offline verifier, a monitor
/// or a browser loading the console needs, and nothing about records.
const PUBLIC_PATHS: [&str; 9] = ["/", "/healthz", "/v1/trust", "/v1/checkpoint", "/v1/consistency", "/v1/openapi.json", "/v1/access", "/v1/modules", "/v1/qr"];

/// The access guard's members, and the membership snapshot they were built from.
struct Built {
    from: Option<Arc<cairn_exec::Members>>,
    members: Arc<Members>,
}

/// The access guard: the mode, the members credentials are checked against, and the modules'
/// route policies.
pub struct Guard {
    mode: AccessMode,
    /// The node's deny list, kept to rebuild `members` when membership changes.
    deny_keys: Vec<String>,
    members: RwLock<Built>,
    /// For the modules' route policies (`None` in unit tests: every module route is `Members`).
    ledger: Option<Arc<crate::ledger::Ledger>>,
}

impl Guard {
    pub fn new(config: &AccessConfig, genesis: &cairn_types::genesis::Genesis, ledger: Option<Arc<crate::ledger::Ledger>>) -> Result<Self> {
        let members = Arc::new(Members::from_genesis(genesis, &config.deny_keys).map_err(Error::Config)?);
        Ok(Guard { mode: config.mode, deny_keys: config.deny_keys.clone(), members: RwLock::new(Built { from: None, members }), ledger })
    }

    /// The members credentials are checked against: rebuilt when admission's membership
    /// changed (a block applied a governance decision), so a removed or frozen key loses read
    /// access, and every token it issued, with the block that removed it.
    fn members(&self) -> Arc<Members> {
        let Some(ledger) = &self.ledger else { return self.members.read().unwrap().members.clone() };
        let snapshot = ledger.executor().members();
        {
            let built = self.members.read().unwrap();
            if built.from.as_ref().is_some_and(|f| Arc::ptr_eq(f, &snapshot)) {
                return built.members.clone();
            }
        }
        let entries = snapshot.values().filter(|m| m.status == cairn_exec::MemberStatus::Active).map(|m| cairn_access::MemberEntry {
            key: m.key.clone(),
            organisation: m.organisation.clone(),
            roles: m.roles.clone(),
        });
        // The deny list parsed once already, when the guard was made.
        let members = Arc::new(Members::from_entries(ledger.genesis(), entries, &self.deny_keys).expect("deny list checked at start"));
        *self.members.write().unwrap() = Built { from: Some(snapshot), members: members.clone() };
        members
    }

    pub fn mode(&self) -> AccessMode {
        self.mode
    }

    /// The read policy of a request.
    fn policy(&self, method: &Method, path: &str) -> Policy {
        if PUBLIC_PATHS.contains(&path) || path.starts_with("/console/") {
            return Policy::Public;
        }
        // A submission carries its own authority: a member's signature on each transaction,
        // checked at admission.
        if path == "/v1/transactions" && method == Method::POST {
            return Policy::Public;
        }
        // `/v1/<module>[/rest]`: the module's own policy for `/rest` (or `/`).
        let Some(rest) = path.strip_prefix("/v1/") else { return Policy::Members };
        let (name, sub) = rest.find('/').map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
        match self.ledger.iter().flat_map(|l| l.executor().modules()).find(|m| m.name() == name) {
            Some(m) => m.read_policy(method.as_str(), sub),
            None => Policy::Members,
        }
    }

    /// The caller of a request, from its signature or bearer token.
    fn authenticate(&self, req: &Request) -> std::result::Result<Caller, AuthError> {
        let headers = req.headers();
        if let Some(auth) = headers.get(header::AUTHORIZATION) {
            let value = auth.to_str().map_err(|_| AuthError::Malformed("Authorization is not text".into()))?;
            let token = value.strip_prefix("Bearer ").ok_or_else(|| AuthError::Malformed("Authorization takes a Bearer token".into()))?;
            return self.members().check_token(token.trim(), crate::ledger::now_ms());
        }
        let field = |name: &str| {
            let values: Vec<&str> = headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect();
            (!values.is_empty()).then(|| values.join(", "))
        };
        let uri = req.uri();
        let authority = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let request = httpsig::Request { method: req.method().as_str(), authority, path: uri.path(), query: uri.query(), header: &field };
        // The HTTP layer's clock (credential lifetimes), never consensus's.
        self.members().check_signature(&request, crate::ledger::now_ms() / 1000)
    }
}

/// The middleware: public routes and `open` mode pass; otherwise the credential must check, and
/// the caller rides along in the request's extensions.
pub async fn guard(State(guard): State<Arc<Guard>>, mut req: Request, next: Next) -> Response {
    if guard.mode == AccessMode::Open || guard.policy(req.method(), req.uri().path()) == Policy::Public {
        return next.run(req).await;
    }
    match guard.authenticate(&req) {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            next.run(req).await
        }
        Err(e) => refusal(&e, guard.members().suite()),
    }
}

/// `401` with the problem code of the refusal and how to authenticate (RFC 9421 §5.1
/// `Accept-Signature`, RFC 6750 `WWW-Authenticate`).
fn refusal(e: &AuthError, suite: cairn_crypto::Suite) -> Response {
    tracing::debug!(code = e.code(), "refused a read: {e}");
    let mut r = problem(StatusCode::UNAUTHORIZED, e.code(), e.to_string());
    r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"cairn\""));
    let accept = format!("{}=(\"@method\" \"@path\" \"@query\");keyid;alg=\"{}\"", httpsig::LABEL, httpsig::alg_name(suite));
    r.headers_mut().insert("accept-signature", HeaderValue::from_str(&accept).expect("ASCII"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members_guard() -> Guard {
        let dir = tempfile::tempdir().unwrap();
        let (paths, _) = crate::dev::init_dev(dir.path(), "127.0.0.1:0".parse().unwrap(), cairn_crypto::Suite::Ed25519Sha256).unwrap();
        let genesis = cairn_types::genesis::Genesis::from_json(&std::fs::read(&paths.genesis).unwrap()).unwrap();
        Guard::new(&AccessConfig { mode: AccessMode::Members, deny_keys: vec![] }, &genesis, None).unwrap()
    }

    /// The OpenAPI document marks public exactly the operations the guard lets through.
    #[test]
    fn the_openapi_document_states_the_policies_the_guard_enforces() {
        let guard = members_guard();
        let doc: serde_json::Value = serde_json::from_str(crate::api::OPENAPI).unwrap();
        for (path, item) in doc["paths"].as_object().unwrap() {
            let concrete = path.replace("{id}", "ab").replace("{index}", "1");
            for (method, op) in item.as_object().unwrap() {
                let method: Method = method.to_uppercase().parse().unwrap();
                let documented_public = op["security"] == serde_json::json!([{}]);
                let public = guard.policy(&method, &concrete) == Policy::Public;
                assert_eq!(documented_public, public, "{method} {path}: the document and the guard disagree");
            }
        }
    }

    #[test]
    fn public_routes_are_exactly_the_listed_ones() {
        let guard = members_guard();
        for p in ["/", "/healthz", "/v1/trust", "/v1/checkpoint", "/v1/consistency", "/console/app.js", "/console/modules/evidence/page.js"] {
            assert_eq!(guard.policy(&Method::GET, p), Policy::Public, "{p}");
        }
        assert_eq!(guard.policy(&Method::POST, "/v1/transactions"), Policy::Public);
        for p in [
            "/v1/status",
            "/v1/genesis",
            "/v1/blocks",
            "/v1/transactions/ab",
            "/v1/events",
            "/metrics",
            "/v1/evidence",
            "/v1/healthz",
            "/v1/trustx",
            "/nowhere",
        ] {
            assert_eq!(guard.policy(&Method::GET, p), Policy::Members, "{p}");
        }
    }
}
