//! Durable storage for a Cairn node, on fjall (an embedded, pure-Rust LSM tree).
//!
//! fjall databases written for each block ([`BlockCommit`]) before `commit_block` returns:
//! * `ledger/`: the block, its transactions' locations, the log leaves and the signed
//!   checkpoint, in one atomic batch. After a crash it holds a prefix of the blocks it
//!   acknowledged, never a part of one. This is the source of truth.
//! * `index/<module>/`: one database per module, a keyspace `index:<name>` per index it
//!   declares, derived from the blocks, with the height it covers ([`Store::indexed_height`] is
//!   the lowest). Written beside the ledger batch, fsync'd only when the block wrote entries to
//!   it. A crash can leave an index behind the ledger (the node re-executes the missing blocks
//!   at start) or ahead by the block that never became durable (dropped at open and rebuilt):
//!   an index never serves an entry of a block that is not durable.
//!
//! Keyspaces (keys big-endian so that byte order is numeric order):
//! `meta` (genesis, node identity) · `blocks` height → block · `block_hashes` hash → height ·
//! `txs` id → [`TxLocation`] · `leaves` first index of a chunk → up to [`LEAF_CHUNK`] leaves of
//! one block (`u32 n | u32 end offsets[n] | bytes`; one entry per chunk, not per leaf, keeps the
//! commit path short) · `checkpoints` tree size → signed
//! note · `state_nodes` node hash → authenticated-state tree node (content-addressed, every
//! version kept) · `state_values` state key | u64 (MAX − height) → `0x00` (deleted) or
//! `0x01 | value`, so the first entry at or after `key | MAX − h` is the value as of height `h` ·
//! `state_latest` state key → u64 height | the same tag and value: the newest version, read with
//! one point lookup when executing blocks (a range read per key cost more than the rest of a
//! deposit's execution) ·
//! `block_leaves` height → index of the block's block leaf (blocks with transactions) ·
//! and in each module's database `index:<name>`, one keyspace per index (short keys, no shared
//! prefixes).
//!
//! State is in the ledger batch, never in the index databases: a header's state root must not
//! lead or lag the block that commits to it, so after any crash the stored state is the state
//! after the tip block.

use std::collections::BTreeMap;
use std::path::Path;

use cairn_crypto::Hash;
use cairn_state::{Node, StateError, StateStore};
use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage engine: {0}")]
    Engine(#[from] fjall::Error),
    #[error("index {0:?} was not opened")]
    UnknownIndex(String),
    #[error("corrupt {what} in the store: {detail}")]
    Corrupt { what: &'static str, detail: String },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Where a committed transaction landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxLocation {
    pub height: u64,
    pub index_in_block: u32,
    pub first_leaf: u64,
    pub leaf_count: u32,
}

impl TxLocation {
    fn encode(&self) -> [u8; 24] {
        let mut b = [0u8; 24];
        b[..8].copy_from_slice(&self.height.to_be_bytes());
        b[8..12].copy_from_slice(&self.index_in_block.to_be_bytes());
        b[12..20].copy_from_slice(&self.first_leaf.to_be_bytes());
        b[20..].copy_from_slice(&self.leaf_count.to_be_bytes());
        b
    }
    fn decode(b: &[u8]) -> Result<Self> {
        if b.len() != 24 {
            return Err(StoreError::Corrupt { what: "tx location", detail: format!("{} bytes", b.len()) });
        }
        Ok(TxLocation {
            height: u64::from_be_bytes(b[..8].try_into().unwrap()),
            index_in_block: u32::from_be_bytes(b[8..12].try_into().unwrap()),
            first_leaf: u64::from_be_bytes(b[12..20].try_into().unwrap()),
            leaf_count: u32::from_be_bytes(b[20..].try_into().unwrap()),
        })
    }
}

/// Everything one block writes.
#[derive(Clone, Debug, Default)]
pub struct BlockCommit {
    pub height: u64,
    pub block_hash: Hash,
    pub block_bytes: Vec<u8>,
    pub txs: Vec<(Hash, TxLocation)>,
    /// Index of `leaves[0]` in the log.
    pub first_leaf: u64,
    pub leaves: Vec<Vec<u8>>,
    /// Module index entries: (index name, key, value).
    pub index: Vec<(&'static str, Vec<u8>, Vec<u8>)>,
    /// The signed checkpoint for the log after this block: (tree size, note text).
    pub checkpoint: Option<(u64, String)>,
    /// Consensus facts about the block (digest, parent digest, finalization certificate), in
    /// the consensus layer's own encoding; `None` on a single node.
    pub consensus: Option<Vec<u8>>,
    /// State writes (state key → value, `None`: deleted), in key order.
    pub state_values: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// Tree nodes the block created.
    pub state_nodes: Vec<(Hash, Node)>,
    /// Index of the block leaf, for blocks that have one.
    pub block_leaf: Option<u64>,
}

/// One module's indexes in their own database (its own journal, so a block touching several
/// modules commits their indexes side by side), each index a keyspace.
struct ModuleDb {
    db: Database,
    meta: Keyspace,
}

/// One index entry on its way to its keyspace: (keyspace, key, value).
type IndexWrite<'a> = (&'a Keyspace, &'a [u8], &'a [u8]);

/// The module an index belongs to: `<module>.<index>` (checked when the module registers).
fn module_of(index: &str) -> &str {
    index.split_once('.').map_or(index, |(m, _)| m)
}

pub struct Store {
    db: Database,
    meta: Keyspace,
    blocks: Keyspace,
    block_hashes: Keyspace,
    txs: Keyspace,
    leaves: Keyspace,
    checkpoints: Keyspace,
    consensus: Keyspace,
    faults: Keyspace,
    state_nodes: Keyspace,
    state_values: Keyspace,
    state_latest: Keyspace,
    block_leaves: Keyspace,
    /// Module name → its index database.
    modules: BTreeMap<String, ModuleDb>,
    /// Index name → its keyspace (in its module's database).
    indexes: BTreeMap<String, Keyspace>,
    nodes: NodeCache,
}

/// Tree nodes recently written or read, so the next block's root does not read the upper
/// levels (rewritten by every block) from fjall again. Two generations of at most
/// [`NODE_CACHE_GENERATION`] nodes each: when the newer fills up, the older is dropped.
#[derive(Default)]
struct NodeCache {
    generations: std::sync::Mutex<[std::collections::HashMap<Hash, Node>; 2]>,
}

/// Nodes per cache generation: about 100 bytes each, so at most about 50 MiB for both.
const NODE_CACHE_GENERATION: usize = 1 << 18;

impl NodeCache {
    fn get(&self, hash: &Hash) -> Option<Node> {
        let g = self.generations.lock().unwrap();
        g[0].get(hash).or_else(|| g[1].get(hash)).copied()
    }

    fn insert(&self, nodes: impl IntoIterator<Item = (Hash, Node)>) {
        let mut g = self.generations.lock().unwrap();
        for (h, n) in nodes {
            if g[0].len() >= NODE_CACHE_GENERATION {
                g[1] = std::mem::take(&mut g[0]);
            }
            g[0].insert(h, n);
        }
    }
}

const META_GENESIS: &[u8] = b"genesis";
const META_INDEXED_HEIGHT: &[u8] = b"indexed_height";
const INDEX_MEMTABLE_BYTES: u64 = 8 << 20;
/// A module's index database is fsync'd when a block wrote entries to it, and otherwise only
/// every this many blocks (its indexed height then; losing a few of those costs re-executing
/// as many blocks at start-up, nothing else).
const INDEX_HEIGHT_SYNC_BLOCKS: u64 = 64;

/// Most leaves stored under one key.
pub const LEAF_CHUNK: usize = 256;

fn encode_chunk(leaves: &[Vec<u8>]) -> Vec<u8> {
    let total: usize = leaves.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(4 + 4 * leaves.len() + total);
    out.extend_from_slice(&(leaves.len() as u32).to_be_bytes());
    let mut end = 0u32;
    for l in leaves {
        end += l.len() as u32;
        out.extend_from_slice(&end.to_be_bytes());
    }
    for l in leaves {
        out.extend_from_slice(l);
    }
    out
}

/// Leaves of a chunk as slices; `None` if the chunk is malformed.
fn decode_chunk(chunk: &[u8]) -> Option<Vec<&[u8]>> {
    let n = u32::from_be_bytes(chunk.get(..4)?.try_into().ok()?) as usize;
    let data_start = 4 + 4 * n;
    let data = chunk.get(data_start..)?;
    let mut out = Vec::with_capacity(n);
    let mut start = 0usize;
    for i in 0..n {
        let end = u32::from_be_bytes(chunk[4 + 4 * i..8 + 4 * i].try_into().ok()?) as usize;
        out.push(data.get(start..end)?);
        start = end;
    }
    (start == data.len()).then_some(out)
}

impl Store {
    /// Opens the store with the given module indexes.
    pub fn open(path: &Path, index_names: &[&str]) -> Result<Self> {
        // Durability is explicit: each block batch is fsync'd on commit.
        // Journal compression off: lz4 of large block values cost more CPU than the disk it saves.
        let open = |dir: &str| Database::builder(path.join(dir)).manual_journal_persist(true).journal_compression(fjall::CompressionType::None).open();
        let db = open("ledger")?;
        let ks = |name: &str| db.keyspace(name, KeyspaceCreateOptions::default);
        let blocks = ks("blocks")?;
        let tip = Self::last_height(&blocks)?;
        let (mut modules, mut indexes) = (BTreeMap::new(), BTreeMap::new());
        for name in index_names {
            let module = module_of(name);
            if !modules.contains_key(module) {
                let dir = format!("index/{module}");
                let mut mdb = open(&dir)?;
                let mut meta = mdb.keyspace("meta", KeyspaceCreateOptions::default)?;
                if Self::indexed_height_of(&meta)? > tip {
                    // Entries of a block that never became durable (a crash between the two
                    // writes): rebuilt from the blocks at start-up instead.
                    drop((meta, mdb));
                    std::fs::remove_dir_all(path.join(&dir))
                        .map_err(|e| StoreError::Corrupt { what: "index ahead of the ledger", detail: format!("removing {dir}: {e}") })?;
                    mdb = open(&dir)?;
                    meta = mdb.keyspace("meta", KeyspaceCreateOptions::default)?;
                }
                modules.insert(module.to_string(), ModuleDb { db: mdb, meta });
            }
            // Small memtables: index inserts are random keys, and a smaller skiplist keeps them
            // cache-friendly (measured with `cairn bench`, batch deposits).
            let entries = modules[module].db.keyspace(&format!("index:{name}"), || KeyspaceCreateOptions::default().max_memtable_size(INDEX_MEMTABLE_BYTES))?;
            indexes.insert(name.to_string(), entries);
            // Databases of earlier releases held one index each (`index/<module>.<index>`):
            // the new one starts at height 0 and is rebuilt from the blocks at start-up.
            let old = path.join("index").join(name);
            if old.is_dir() && *name != module {
                std::fs::remove_dir_all(&old).map_err(|e| StoreError::Corrupt { what: "old index folder", detail: format!("{}: {e}", old.display()) })?;
            }
        }
        Ok(Store {
            modules,
            indexes,
            meta: ks("meta")?,
            blocks,
            block_hashes: ks("block_hashes")?,
            txs: ks("txs")?,
            leaves: ks("leaves")?,
            checkpoints: ks("checkpoints")?,
            consensus: ks("consensus")?,
            faults: ks("faults")?,
            state_nodes: ks("state_nodes")?,
            state_values: ks("state_values")?,
            state_latest: ks("state_latest")?,
            block_leaves: ks("block_leaves")?,
            nodes: NodeCache::default(),
            db,
        })
    }

    pub fn genesis(&self) -> Result<Option<Vec<u8>>> {
        Ok(self.meta.get(META_GENESIS)?.map(|v| v.to_vec()))
    }

    pub fn put_genesis(&self, json: &[u8]) -> Result<()> {
        let mut b = self.db.batch().durability(Some(PersistMode::SyncAll));
        b.insert(&self.meta, META_GENESIS, json);
        b.commit()?;
        Ok(())
    }

    /// Writes a block and everything it changed, durably: the ledger batch atomically, and
    /// beside it the module indexes the block touched. After a crash an index may lag the
    /// ledger (the node re-executes the missing blocks at start-up) or lead it by the block
    /// that never became durable: [`Store::open`] then drops that module's index, so an index
    /// never serves an entry of a block that is not durable.
    pub fn commit_block(&self, c: &BlockCommit) -> Result<()> {
        // Side by side (measured: writing them one after the other cost a fifth of the batch
        // deposit rate); an index ahead of the ledger after a crash is dropped at open.
        std::thread::scope(|scope| {
            let index = scope.spawn(|| self.write_index(c.height, &c.index));
            let ledger = self.write_ledger(c);
            let index = index.join().expect("index writer panicked");
            ledger.and(index)
        })
    }

    /// Writes index entries for the block at `height` and records that height as indexed in
    /// every module's database: fsync'd where the block wrote entries (those modules side by
    /// side), not where it wrote none (see [`INDEX_HEIGHT_SYNC_BLOCKS`]).
    pub fn write_index(&self, height: u64, entries: &[(&'static str, Vec<u8>, Vec<u8>)]) -> Result<()> {
        // Each entry to its module's keyspace, grouped once (every module gets a batch).
        let mut by_module: BTreeMap<&str, Vec<IndexWrite<'_>>> = self.modules.keys().map(|m| (m.as_str(), Vec::new())).collect();
        for (name, k, v) in entries {
            let keyspace = self.index(name)?;
            by_module.get_mut(module_of(name)).expect("an opened index's module is open").push((keyspace, k, v));
        }
        let write = |module: &str, writes: &[IndexWrite<'_>], sync: bool| -> Result<()> {
            let mdb = &self.modules[module];
            let mut b = mdb.db.batch();
            if sync {
                b = b.durability(Some(PersistMode::SyncAll));
            }
            for (keyspace, k, v) in writes {
                b.insert(keyspace, *k, *v);
            }
            b.insert(&mdb.meta, META_INDEXED_HEIGHT, height.to_be_bytes());
            Ok(b.commit()?)
        };
        let (touched, untouched): (Vec<_>, Vec<_>) = by_module.into_iter().partition(|(_, writes)| !writes.is_empty());
        let periodic = height.is_multiple_of(INDEX_HEIGHT_SYNC_BLOCKS);
        for (module, writes) in &untouched {
            write(module, writes, periodic)?;
        }
        match touched.as_slice() {
            [] => Ok(()),
            [(module, writes)] => write(module, writes, true),
            many => std::thread::scope(|scope| {
                let writers: Vec<_> = many.iter().map(|(module, writes)| scope.spawn(move || write(module, writes, true))).collect();
                writers.into_iter().try_for_each(|w| w.join().expect("index writer panicked"))
            }),
        }
    }

    /// Height up to which every module index is durable (0: none).
    pub fn indexed_height(&self) -> Result<u64> {
        let mut lowest = u64::MAX;
        for m in self.modules.values() {
            lowest = lowest.min(Self::indexed_height_of(&m.meta)?);
        }
        Ok(if lowest == u64::MAX { self.tip_height()? } else { lowest })
    }

    fn write_ledger(&self, c: &BlockCommit) -> Result<()> {
        let mut b = self.db.batch().durability(Some(PersistMode::SyncAll));
        b.insert(&self.blocks, c.height.to_be_bytes(), c.block_bytes.as_slice());
        b.insert(&self.block_hashes, c.block_hash, c.height.to_be_bytes());
        for (id, loc) in &c.txs {
            b.insert(&self.txs, *id, loc.encode());
        }
        for (i, chunk) in c.leaves.chunks(LEAF_CHUNK).enumerate() {
            let first = c.first_leaf + (i * LEAF_CHUNK) as u64;
            b.insert(&self.leaves, first.to_be_bytes(), encode_chunk(chunk));
        }
        if let Some((size, note)) = &c.checkpoint {
            b.insert(&self.checkpoints, size.to_be_bytes(), note.as_bytes());
        }
        if let Some(record) = &c.consensus {
            b.insert(&self.consensus, c.height.to_be_bytes(), record.as_slice());
        }
        for (hash, node) in &c.state_nodes {
            b.insert(&self.state_nodes, hash, node.encode());
        }
        for (key, value) in &c.state_values {
            let mut latest = Vec::with_capacity(9 + value.as_ref().map_or(0, Vec::len));
            latest.extend_from_slice(&c.height.to_be_bytes());
            match value {
                None => latest.push(0),
                Some(v) => {
                    latest.push(1);
                    latest.extend_from_slice(v);
                }
            }
            b.insert(&self.state_values, versioned_key(key, c.height), &latest[8..]);
            b.insert(&self.state_latest, key.as_slice(), latest);
        }
        if let Some(leaf) = c.block_leaf {
            b.insert(&self.block_leaves, c.height.to_be_bytes(), leaf.to_be_bytes());
        }
        b.commit()?;
        // Cached only once durable: what the cache holds is always on disk too.
        self.nodes.insert(c.state_nodes.iter().copied());
        Ok(())
    }

    /// The latest block at or below `height` that has a block leaf: (height, leaf index).
    pub fn block_leaf_at_or_below(&self, height: u64) -> Result<Option<(u64, u64)>> {
        let Some(kv) = self.block_leaves.range(..=height.to_be_bytes()).next_back() else { return Ok(None) };
        let (k, v) = kv.into_inner()?;
        Ok(Some((be_u64(&k, "block leaf key")?, be_u64(&v, "block leaf index")?)))
    }

    pub fn state_node(&self, hash: &Hash) -> Result<Option<Node>> {
        if let Some(n) = self.nodes.get(hash) {
            return Ok(Some(n));
        }
        match self.state_nodes.get(hash)? {
            None => Ok(None),
            Some(v) => {
                let n = Node::decode(&v).ok_or_else(|| StoreError::Corrupt { what: "state node", detail: hex_of(hash) })?;
                self.nodes.insert([(*hash, n)]);
                Ok(Some(n))
            }
        }
    }

    /// The value of a state key after block `height`: one point read when the newest version
    /// is at or below `height` (the usual case), a range read otherwise.
    pub fn state_value_at(&self, state_key: &[u8], height: u64) -> Result<Option<Vec<u8>>> {
        match self.state_latest.get(state_key)? {
            None => return Ok(None),
            Some(v) if v.len() >= 9 && be_u64(&v[..8], "state version")? <= height => return decode_state_value(&v[8..]),
            Some(_) => {}
        }
        let from = versioned_key(state_key, height);
        let to = versioned_key(state_key, 0);
        let Some(kv) = self.state_values.range(from..=to).next() else { return Ok(None) };
        decode_state_value(&kv.value()?)
    }

    /// Stores a checkpoint signed after its block (a quorum's cosigned note), durably.
    pub fn put_checkpoint(&self, size: u64, note: &str) -> Result<()> {
        let mut b = self.db.batch().durability(Some(PersistMode::SyncAll));
        b.insert(&self.checkpoints, size.to_be_bytes(), note.as_bytes());
        b.commit()?;
        Ok(())
    }

    /// Replaces a block's consensus record (a certificate found later), durably.
    pub fn put_consensus_record(&self, height: u64, record: &[u8]) -> Result<()> {
        let mut b = self.db.batch().durability(Some(PersistMode::SyncAll));
        b.insert(&self.consensus, height.to_be_bytes(), record);
        b.commit()?;
        Ok(())
    }

    pub fn consensus_record(&self, height: u64) -> Result<Option<Vec<u8>>> {
        Ok(self.consensus.get(height.to_be_bytes())?.map(|v| v.to_vec()))
    }

    /// Consensus records from `height` upwards, in height order, at most `limit`.
    pub fn consensus_records_from(&self, height: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>> {
        let mut out = Vec::new();
        for kv in self.consensus.range(height.to_be_bytes()..).take(limit) {
            let (k, v) = kv.into_inner()?;
            out.push((chunk_key(&k)?, v.to_vec()));
        }
        Ok(out)
    }

    /// Appends misbehaviour evidence, durably; returns its sequence number.
    pub fn put_fault(&self, evidence: &str) -> Result<u64> {
        let next = match self.faults.last_key_value() {
            None => 0,
            Some(kv) => chunk_key(&kv.key()?)? + 1,
        };
        let mut b = self.db.batch().durability(Some(PersistMode::SyncAll));
        b.insert(&self.faults, next.to_be_bytes(), evidence.as_bytes());
        b.commit()?;
        Ok(next)
    }

    /// The latest `limit` faults, newest first, with their sequence numbers.
    pub fn faults(&self, limit: usize) -> Result<Vec<(u64, String)>> {
        let mut out = Vec::new();
        for kv in self.faults.iter().rev().take(limit) {
            let (k, v) = kv.into_inner()?;
            out.push((chunk_key(&k)?, String::from_utf8_lossy(&v).into_owned()));
        }
        Ok(out)
    }

    pub fn fault_count(&self) -> Result<u64> {
        Ok(match self.faults.last_key_value() {
            None => 0,
            Some(kv) => chunk_key(&kv.key()?)? + 1,
        })
    }

    /// Height of the last committed block (0: none yet).
    pub fn tip_height(&self) -> Result<u64> {
        Self::last_height(&self.blocks)
    }

    fn indexed_height_of(meta: &Keyspace) -> Result<u64> {
        Ok(meta.get(META_INDEXED_HEIGHT)?.map_or(0, |v| u64::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 8]))))
    }

    fn last_height(blocks: &Keyspace) -> Result<u64> {
        match blocks.last_key_value() {
            None => Ok(0),
            Some(kv) => {
                let k = kv.key()?;
                Ok(u64::from_be_bytes(k.as_ref().try_into().map_err(|_| StoreError::Corrupt { what: "block key", detail: format!("{} bytes", k.len()) })?))
            }
        }
    }

    pub fn block(&self, height: u64) -> Result<Option<Vec<u8>>> {
        Ok(self.blocks.get(height.to_be_bytes())?.map(|v| v.to_vec()))
    }

    pub fn block_height_by_hash(&self, hash: &Hash) -> Result<Option<u64>> {
        Ok(self.block_hashes.get(hash)?.map(|v| u64::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 8]))))
    }

    pub fn tx(&self, id: &Hash) -> Result<Option<TxLocation>> {
        self.txs.get(id)?.map(|v| TxLocation::decode(&v)).transpose()
    }

    pub fn contains_tx(&self, id: &Hash) -> Result<bool> {
        Ok(self.txs.contains_key(id)?)
    }

    pub fn leaf(&self, index: u64) -> Result<Option<Vec<u8>>> {
        // The chunk holding `index` is the last one starting at or before it.
        let Some(kv) = self.leaves.range(..=index.to_be_bytes()).next_back() else { return Ok(None) };
        let (k, v) = kv.into_inner()?;
        let first = chunk_key(&k)?;
        let leaves = decode_chunk(&v).ok_or_else(|| StoreError::Corrupt { what: "leaf chunk", detail: format!("at {first}") })?;
        Ok(leaves.get((index - first) as usize).map(|l| l.to_vec()))
    }

    /// Calls `f` with every leaf in index order (used to rebuild the Merkle tree at start-up).
    pub fn for_each_leaf(&self, mut f: impl FnMut(u64, &[u8])) -> Result<u64> {
        let mut expected = 0u64;
        for kv in self.leaves.iter() {
            let (k, v) = kv.into_inner()?;
            let first = chunk_key(&k)?;
            if first != expected {
                return Err(StoreError::Corrupt { what: "log", detail: format!("leaf {expected} missing, next chunk starts at {first}") });
            }
            let leaves = decode_chunk(&v).ok_or_else(|| StoreError::Corrupt { what: "leaf chunk", detail: format!("at {first}") })?;
            for leaf in leaves {
                f(expected, leaf);
                expected += 1;
            }
        }
        Ok(expected)
    }

    fn index(&self, name: &str) -> Result<&Keyspace> {
        self.indexes.get(name).ok_or_else(|| StoreError::UnknownIndex(name.to_string()))
    }

    pub fn index_get(&self, index: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.index(index)?.get(key)?.map(|v| v.to_vec()))
    }

    /// Entries of `index` under `prefix`, in key order, at most `limit`.
    pub fn index_prefix(&self, index: &str, prefix: &[u8], limit: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut out = Vec::new();
        for kv in self.index(index)?.prefix(prefix).take(limit) {
            let (k, v) = kv.into_inner()?;
            out.push((k.to_vec(), v.to_vec()));
        }
        Ok(out)
    }

    pub fn checkpoint(&self, size: u64) -> Result<Option<String>> {
        self.checkpoints
            .get(size.to_be_bytes())?
            .map(|v| String::from_utf8(v.to_vec()).map_err(|_| StoreError::Corrupt { what: "checkpoint", detail: "not UTF-8".into() }))
            .transpose()
    }

    pub fn latest_checkpoint(&self) -> Result<Option<(u64, String)>> {
        match self.checkpoints.last_key_value() {
            None => Ok(None),
            Some(kv) => {
                let (k, v) = kv.into_inner()?;
                let size = u64::from_be_bytes(k.as_ref().try_into().unwrap_or([0; 8]));
                let note = String::from_utf8(v.to_vec()).map_err(|_| StoreError::Corrupt { what: "checkpoint", detail: "not UTF-8".into() })?;
                Ok(Some((size, note)))
            }
        }
    }

    pub fn disk_space(&self) -> u64 {
        self.db.disk_space().unwrap_or(0) + self.modules.values().map(|m| m.db.disk_space().unwrap_or(0)).sum::<u64>()
    }
}

fn decode_state_value(v: &[u8]) -> Result<Option<Vec<u8>>> {
    match v.first() {
        Some(0) if v.len() == 1 => Ok(None),
        Some(1) => Ok(Some(v[1..].to_vec())),
        _ => Err(StoreError::Corrupt { what: "state value", detail: format!("{} bytes, tag {:?}", v.len(), v.first()) }),
    }
}

/// `state key | u64 (MAX − height)`: newer versions of a key sort first.
fn versioned_key(state_key: &[u8], height: u64) -> Vec<u8> {
    [state_key, &(u64::MAX - height).to_be_bytes()].concat()
}

fn be_u64(b: &[u8], what: &'static str) -> Result<u64> {
    Ok(u64::from_be_bytes(b.try_into().map_err(|_| StoreError::Corrupt { what, detail: format!("{} bytes", b.len()) })?))
}

fn hex_of(h: &Hash) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

impl StateStore for Store {
    fn node(&self, hash: &Hash) -> std::result::Result<Option<Node>, StateError> {
        self.state_node(hash).map_err(|e| StateError::Storage(e.to_string()))
    }

    fn value_at(&self, state_key: &[u8], height: u64) -> std::result::Result<Option<Vec<u8>>, StateError> {
        self.state_value_at(state_key, height).map_err(|e| StateError::Storage(e.to_string()))
    }
}

fn chunk_key(k: &[u8]) -> Result<u64> {
    Ok(u64::from_be_bytes(k.try_into().map_err(|_| StoreError::Corrupt { what: "leaf key", detail: format!("{} bytes", k.len()) })?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_span_chunks_and_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path(), &[]).unwrap();
        let leaves = |from: usize, n: usize| (from..from + n).map(|i| format!("leaf {i}").into_bytes()).collect::<Vec<_>>();
        // A block of 600 leaves (three chunks), then one of 5.
        s.commit_block(&BlockCommit { height: 1, first_leaf: 0, leaves: leaves(0, 600), ..Default::default() }).unwrap();
        s.commit_block(&BlockCommit { height: 2, first_leaf: 600, leaves: leaves(600, 5), ..Default::default() }).unwrap();
        for i in [0u64, 255, 256, 511, 512, 599, 600, 604] {
            assert_eq!(s.leaf(i).unwrap(), Some(format!("leaf {i}").into_bytes()), "leaf {i}");
        }
        assert_eq!(s.leaf(605).unwrap(), None);
        let mut n = 0;
        assert_eq!(
            s.for_each_leaf(|i, l| {
                assert_eq!(l, format!("leaf {i}").as_bytes());
                n += 1;
            })
            .unwrap(),
            605
        );
        assert_eq!(n, 605);
    }

    #[test]
    fn block_commit_is_visible_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Store::open(dir.path(), &["evidence.id"]).unwrap();
            assert_eq!(s.tip_height().unwrap(), 0);
            s.put_genesis(b"{}").unwrap();
            let loc = TxLocation { height: 1, index_in_block: 0, first_leaf: 0, leaf_count: 2 };
            s.commit_block(&BlockCommit {
                height: 1,
                block_hash: [1; 32],
                block_bytes: vec![9, 9],
                txs: vec![([7; 32], loc)],
                first_leaf: 0,
                leaves: vec![b"a".to_vec(), b"b".to_vec()],
                index: vec![("evidence.id", b"x".to_vec(), b"1".to_vec())],
                checkpoint: Some((2, "note".into())),
                ..Default::default()
            })
            .unwrap();
        }
        let s = Store::open(dir.path(), &["evidence.id"]).unwrap();
        assert_eq!(s.genesis().unwrap().unwrap(), b"{}");
        assert_eq!(s.tip_height().unwrap(), 1);
        assert_eq!(s.block(1).unwrap().unwrap(), vec![9, 9]);
        assert_eq!(s.block_height_by_hash(&[1; 32]).unwrap(), Some(1));
        assert_eq!(s.tx(&[7; 32]).unwrap().unwrap().leaf_count, 2);
        let mut seen = vec![];
        assert_eq!(s.for_each_leaf(|i, l| seen.push((i, l.to_vec()))).unwrap(), 2);
        assert_eq!(seen[1], (1, b"b".to_vec()));
        assert_eq!(s.leaf(1).unwrap(), Some(b"b".to_vec()));
        assert_eq!(s.leaf(2).unwrap(), None);
        assert_eq!(s.index_prefix("evidence.id", b"x", 10).unwrap().len(), 1);
        assert!(s.index_get("nope", b"x").is_err());
        assert_eq!(s.latest_checkpoint().unwrap(), Some((2, "note".into())));
    }

    #[test]
    fn one_database_per_module_and_untouched_modules_keep_their_height() {
        let dir = tempfile::tempdir().unwrap();
        let names = ["alpha.one", "alpha.two", "beta.only"];
        {
            let s = Store::open(dir.path(), &names).unwrap();
            // Block 1 writes alpha's indexes only; beta records the height without entries.
            s.commit_block(&BlockCommit {
                height: 1,
                index: vec![("alpha.one", b"k1".to_vec(), vec![]), ("alpha.two", b"k2".to_vec(), vec![])],
                ..Default::default()
            })
            .unwrap();
            s.commit_block(&BlockCommit { height: 2, index: vec![("beta.only", b"k3".to_vec(), vec![])], ..Default::default() }).unwrap();
            assert_eq!(s.indexed_height().unwrap(), 2);
        }
        let mut dirs: Vec<String> = std::fs::read_dir(dir.path().join("index")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        dirs.sort();
        assert_eq!(dirs, ["alpha", "beta"], "one database per module");
        let s = Store::open(dir.path(), &names).unwrap();
        assert_eq!(s.indexed_height().unwrap(), 2, "a clean close keeps every module's height");
        assert_eq!(s.index_prefix("alpha.two", b"k", 10).unwrap().len(), 1);
        assert_eq!(s.index_prefix("beta.only", b"k", 10).unwrap().len(), 1);
    }

    #[test]
    fn an_index_of_the_old_layout_is_dropped_and_rebuilt_from_height_zero() {
        let dir = tempfile::tempdir().unwrap();
        // Earlier releases: a database per index, `index/<module>.<index>`.
        let old = dir.path().join("index/evidence.digest");
        {
            let db = Database::builder(&old).open().unwrap();
            let meta = db.keyspace("meta", KeyspaceCreateOptions::default).unwrap();
            meta.insert(META_INDEXED_HEIGHT, 9u64.to_be_bytes()).unwrap();
        }
        let s = Store::open(dir.path(), &["evidence.digest"]).unwrap();
        assert!(!old.exists(), "the old folder is removed");
        assert_eq!(s.indexed_height().unwrap(), 0, "so the node re-executes every block into the new one");
    }

    #[test]
    fn an_index_ahead_of_the_ledger_is_dropped_at_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Store::open(dir.path(), &["alpha.one"]).unwrap();
            s.commit_block(&BlockCommit { height: 1, index: vec![("alpha.one", b"durable".to_vec(), vec![])], ..Default::default() }).unwrap();
            // A crash between the writes of block 2: its index entries landed, its block did not.
            s.write_index(2, &[("alpha.one", b"never durable".to_vec(), vec![])]).unwrap();
        }
        let s = Store::open(dir.path(), &["alpha.one"]).unwrap();
        assert_eq!(s.tip_height().unwrap(), 1);
        assert!(s.index_prefix("alpha.one", b"never", 10).unwrap().is_empty(), "no entry of a block that is not durable");
        assert_eq!(s.indexed_height().unwrap(), 0, "the node rebuilds the index from the blocks");
    }
}
