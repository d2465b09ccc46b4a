//! Transactions: who signs, against which chain, which module call, and the replay guard.

use cairn_crypto::{Domain, Hash, PublicKey, Suite};

use crate::codec::{DecodeError, Reader, Writer};

/// Format version of the transaction encoding.
pub const TX_VERSION: u8 = 1;
/// Hard ceilings applied while decoding, before genesis limits are checked.
const MAX_NAME: usize = 64;
const MAX_CHAIN_ID: usize = 128;
const MAX_SIG: usize = 128;
const MAX_ARGS: usize = 64 * 1024 * 1024;

/// A call into a module: `module.method(args)`; `args` is the module's canonical encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub module: String,
    pub method: String,
    pub args: Vec<u8>,
}

/// The signed part of a transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxBody {
    pub chain_id: String,
    pub signer: PublicKey,
    /// Chosen by the client (random); with the expiry it makes every transaction unique.
    pub nonce: u64,
    /// Unix time in milliseconds after which the transaction may not be included.
    pub expires_at_ms: u64,
    pub call: Call,
}

impl TxBody {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(TX_VERSION)
            .str(&self.chain_id)
            .u8(self.signer.suite().code())
            .bytes(self.signer.as_bytes())
            .u64(self.nonce)
            .u64(self.expires_at_ms)
            .str(&self.call.module)
            .str(&self.call.method)
            .bytes(&self.call.args);
        w.into_bytes()
    }

    fn decode_from(r: &mut Reader<'_>, resolve: &dyn Fn(Suite, &[u8]) -> Option<PublicKey>) -> Result<Self, DecodeError> {
        let version = r.u8("version")?;
        if version != TX_VERSION {
            return Err(DecodeError::Invalid { field: "version", reason: "unsupported transaction version" });
        }
        let chain_id = r.str("chain_id", MAX_CHAIN_ID)?.to_string();
        let suite = Suite::from_code(r.u8("suite")?).ok_or(DecodeError::Invalid { field: "suite", reason: "unknown suite code" })?;
        let signer_bytes = r.bytes("signer", 128)?;
        let signer = match resolve(suite, signer_bytes) {
            Some(k) => k,
            None => PublicKey::from_bytes(suite, signer_bytes).map_err(|_| DecodeError::Invalid { field: "signer", reason: "not a valid public key" })?,
        };
        let nonce = r.u64("nonce")?;
        let expires_at_ms = r.u64("expires_at_ms")?;
        let module = r.str("module", MAX_NAME)?.to_string();
        let method = r.str("method", MAX_NAME)?.to_string();
        let args = r.bytes("args", MAX_ARGS)?.to_vec();
        Ok(TxBody { chain_id, signer, nonce, expires_at_ms, call: Call { module, method, args } })
    }

    /// Signs the body for the chain named in it.
    pub fn sign(self, key: &cairn_crypto::KeyPair) -> Transaction {
        assert_eq!(key.public_key(), self.signer, "signing key must match the signer field");
        let body_bytes = self.encode();
        let signature = key.sign(Domain::Transaction, &self.chain_id, &body_bytes);
        let id = self.signer.suite().hash(&body_bytes);
        Transaction { body: self, body_bytes, signature, id }
    }
}

/// A signed transaction: `body || bytes(signature)`. Its id is the suite hash of the body bytes,
/// so a replayed body is the same transaction whatever signature accompanies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transaction {
    pub body: TxBody,
    pub body_bytes: Vec<u8>,
    pub signature: Vec<u8>,
    pub id: Hash,
}

impl Transaction {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer { buf: Vec::with_capacity(self.body_bytes.len() + self.signature.len() + 4) };
        w.fixed(&self.body_bytes).bytes(&self.signature);
        w.into_bytes()
    }

    pub fn encoded_len(&self) -> usize {
        self.body_bytes.len() + 4 + self.signature.len()
    }

    /// Strict decode: no trailing bytes, known version and suite, valid signer key.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_with_keys(bytes, &|_, _| None)
    }

    /// Like [`Transaction::decode`], taking already-parsed signer keys from `resolve` (known
    /// members), so the hot path skips decompressing the same points again and again.
    pub fn decode_with_keys(bytes: &[u8], resolve: &dyn Fn(Suite, &[u8]) -> Option<PublicKey>) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let body = TxBody::decode_from(&mut r, resolve)?;
        let body_end = r.position();
        let signature = r.bytes("signature", MAX_SIG)?.to_vec();
        r.finish()?;
        let body_bytes = bytes[..body_end].to_vec();
        let id = body.signer.suite().hash(&body_bytes);
        Ok(Transaction { body, body_bytes, signature, id })
    }

    pub fn suite(&self) -> Suite {
        self.body.signer.suite()
    }

    /// The signature as one item of a [`cairn_crypto::verify_batch`].
    pub fn signed_message(&self) -> cairn_crypto::SignedMessage<'_> {
        cairn_crypto::SignedMessage {
            key: &self.body.signer,
            domain: Domain::Transaction,
            chain_id: &self.body.chain_id,
            message: &self.body_bytes,
            signature: &self.signature,
        }
    }

    pub fn verify_signature(&self) -> Result<(), cairn_crypto::CryptoError> {
        self.body.signer.verify(Domain::Transaction, &self.body.chain_id, &self.body_bytes, &self.signature)
    }
}
