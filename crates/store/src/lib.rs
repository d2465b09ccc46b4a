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
//! note · `state_chunks` u64 height | u32 chunk → up to [`NODE_CHUNK`] authenticated-state tree
//! nodes the block created, [`cairn_state::NODE_BYTES`] each, in the order it made them (every
//! version kept; a node is found by its [`NodeAt`], a few sequential writes per block) ·
//! `state_roots` height → state root hash | its location (`u64 height | u32 index`, zeros for
//! the empty tree), for each block that wrote state · `state_values` state key | u64 (MAX − height) → `0x00` (deleted) or
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
use cairn_crypto::Suite;
use cairn_state::{Child, NODE_BYTES, Node, NodeAt, StateError, StateStore};
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
    /// Tree nodes the block created: node `i` is at `NodeAt { height, index: i }`.
    pub state_nodes: Vec<Node>,
    /// The state root after the block, for a block that wrote state (`state_values` not empty).
    pub state_root: Option<Child>,
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
    state_chunks: Keyspace,
    state_roots: Keyspace,
    state_values: Keyspace,
    state_latest: Keyspace,
    block_leaves: Keyspace,
    /// Module name → its index database.
    modules: BTreeMap<String, ModuleDb>,
    /// Index name → its keyspace (in its module's database).
    indexes: BTreeMap<String, Keyspace>,
    nodes: NodeCache,
}

/// Node chunks recently written or read, so the next block's root does not read the upper
/// levels (rewritten by every block) from fjall again. Two generations of at most
/// [`NODE_CACHE_GENERATION`] chunks each: when the newer fills up, the older is dropped.
#[derive(Default)]
struct NodeCache {
    generations: std::sync::Mutex<[std::collections::HashMap<(u64, u32), fjall::Slice>; 2]>,
}

/// Nodes stored under one key: one chunk is about 5.7 KB, a point read of it costs about what
/// a read of one node did, and a block of 20,000 new keys writes about 2,500 chunks instead of
/// 160,000 nodes (measured: `cairn bench-state`).
pub const NODE_CHUNK: usize = 64;

/// Chunks per cache generation: at most about 50 MiB for both.
const NODE_CACHE_GENERATION: usize = 4096;

impl NodeCache {
    fn get(&self, key: (u64, u32)) -> Option<fjall::Slice> {
        let g = self.generations.lock().unwrap();
        g[0].get(&key).or_else(|| g[1].get(&key)).cloned()
    }

    fn insert(&self, chunks: impl IntoIterator<Item = ((u64, u32), fjall::Slice)>) {
        let mut g = self.generations.lock().unwrap();
        for (key, chunk) in chunks {
            if g[0].len() >= NODE_CACHE_GENERATION {
                g[1] = std::mem::take(&mut g[0]);
            }
            g[0].insert(key, chunk);
        }
    }
}

fn chunk_key_of(height: u64, chunk: u32) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..8].copy_from_slice(&height.to_be_bytes());
    k[8..].copy_from_slice(&chunk.to_be_bytes());
    k
}

/// A stored root: the root of block `height` was made by that block or an earlier one.
fn decode_root(v: &[u8], height: u64) -> Result<Child> {
    Child::decode(v, NodeAt { height, index: u32::MAX })
        .map_err(|e| StoreError::Corrupt { what: "state root", detail: format!("height {height}, {} bytes: {e}", v.len()) })
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
        // Random keys: a small skiplist stays in the CPU's caches (as for the indexes).
        let small = |db: &Database, name: &str| db.keyspace(name, || KeyspaceCreateOptions::default().max_memtable_size(INDEX_MEMTABLE_BYTES));
        let blocks = ks("blocks")?;
        let tip = Self::last_height(&blocks)?;
        let (mut modules, mut indexes) = (BTreeMap::new(), BTreeMap::new());
        for name in index_names {
            let module = module_of(name);
            if !modules.contains_key(module) {
                let dir = format!("index/{module}");
                // An index is derived from the blocks: one that does not open (a corrupt
                // journal or segment) is set aside and rebuilt from the blocks at start-up.
                let opened = open(&dir).and_then(|mdb| Ok((mdb.keyspace("meta", KeyspaceCreateOptions::default)?, mdb))).map_err(StoreError::from);
                let (mut meta, mut mdb) = match opened.and_then(|(meta, mdb)| Self::indexed_height_of(&meta).map(|_| (meta, mdb))) {
                    Ok(x) => x,
                    Err(e) => {
                        let aside = path.join(format!("index/{module}.corrupt-{}", std::process::id()));
                        tracing::warn!(index = %dir, error = %e, aside = %aside.display(), "a module index does not open; it is set aside and rebuilt from the blocks");
                        std::fs::rename(path.join(&dir), &aside).map_err(|e| StoreError::Corrupt {
                            what: "corrupt index",
                            detail: format!("moving {dir} aside: {e}; remove it by hand, it is rebuilt from the blocks"),
                        })?;
                        let mdb = open(&dir)?;
                        (mdb.keyspace("meta", KeyspaceCreateOptions::default)?, mdb)
                    }
                };
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
            state_chunks: ks("state_chunks")?,
            state_roots: ks("state_roots")?,
            state_values: small(&db, "state_values")?,
            state_latest: small(&db, "state_latest")?,
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
        assert_eq!(c.state_root.is_some(), !c.state_values.is_empty(), "a block that wrote state names its root");
        assert!(c.state_nodes.is_empty() || c.state_root.is_some(), "new nodes come with their root");
        let chunks = self.put_tree(&mut b, c.height, &c.state_nodes, c.state_root.as_ref());
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
        self.nodes.insert(chunks);
        Ok(())
    }

    /// A block's new tree nodes, in chunks under its height, and its root: into `b`. Answers the
    /// chunks, for the cache once the batch is durable.
    fn put_tree(&self, b: &mut fjall::OwnedWriteBatch, height: u64, nodes: &[Node], root: Option<&Child>) -> Vec<((u64, u32), fjall::Slice)> {
        let chunks: Vec<_> =
            nodes.chunks(NODE_CHUNK).enumerate().map(|(i, n)| ((height, i as u32), fjall::Slice::from(cairn_state::encode_nodes(n)))).collect();
        for ((h, i), value) in &chunks {
            b.insert(&self.state_chunks, chunk_key_of(*h, *i), value.clone());
        }
        if let Some(root) = root {
            b.insert(&self.state_roots, height.to_be_bytes(), root.encode());
        }
        chunks
    }

    /// The latest block at or below `height` that has a block leaf: (height, leaf index).
    pub fn block_leaf_at_or_below(&self, height: u64) -> Result<Option<(u64, u64)>> {
        let Some(kv) = self.block_leaves.range(..=height.to_be_bytes()).next_back() else { return Ok(None) };
        let (k, v) = kv.into_inner()?;
        Ok(Some((be_u64(&k, "block leaf key")?, be_u64(&v, "block leaf index")?)))
    }

    /// The tree node stored at `at`, checked for its shape ([`Node::decode`]).
    pub fn state_node(&self, at: NodeAt) -> Result<Option<Node>> {
        let key = (at.height, at.index / NODE_CHUNK as u32);
        let chunk = match self.nodes.get(key) {
            Some(chunk) => chunk,
            None => match self.state_chunks.get(chunk_key_of(key.0, key.1))? {
                None => return Ok(None),
                Some(chunk) => {
                    self.nodes.insert([(key, chunk.clone())]);
                    chunk
                }
            },
        };
        let from = (at.index as usize % NODE_CHUNK) * NODE_BYTES;
        let Some(bytes) = chunk.get(from..from + NODE_BYTES) else { return Ok(None) };
        let node = Node::decode(bytes, at).map_err(|e| StoreError::Corrupt { what: "state node", detail: format!("{at:?}: {e}") })?;
        Ok(Some(node))
    }

    /// The state root after block `height`: that of the latest block at or below it that wrote
    /// state, or the empty tree.
    pub fn state_root_at(&self, height: u64) -> Result<Child> {
        let Some(kv) = self.state_roots.range(..=height.to_be_bytes()).next_back() else { return Ok(Child::EMPTY) };
        let (k, v) = kv.into_inner()?;
        decode_root(&v, be_u64(&k, "state root height")?)
    }

    /// Whether the store holds tree nodes in the layout of earlier releases (content-addressed,
    /// keyspace `state_nodes`), or values without a tree (a rebuild cut short):
    /// [`Store::rebuild_state_tree`] then rebuilds them.
    pub fn needs_state_rebuild(&self) -> Result<bool> {
        Ok(self.db.keyspace_exists("state_nodes") || (self.state_roots.first_key_value().is_none() && self.state_values.first_key_value().is_some()))
    }

    /// Rebuilds the tree nodes and roots from the stored state values (every version is kept),
    /// one block at a time, durably. Returns the root after each block that wrote state: the
    /// caller checks them against the headers, then calls [`Store::drop_old_state_nodes`].
    /// Holds every (key, height) of the history in memory meanwhile (about 100 bytes each): fine
    /// for the chains of the one release that had the old layout, not for a large one.
    pub fn rebuild_state_tree(&self, suite: Suite) -> Result<Vec<(u64, Hash)>> {
        let mut by_height: BTreeMap<u64, Vec<(Hash, Option<Hash>)>> = BTreeMap::new();
        for kv in self.state_values.iter() {
            let (k, v) = kv.into_inner()?;
            let split = k.len().checked_sub(8).ok_or_else(|| StoreError::Corrupt { what: "state value key", detail: format!("{} bytes", k.len()) })?;
            let height = u64::MAX - be_u64(&k[split..], "state value height")?;
            let value = decode_state_value(&v)?;
            by_height.entry(height).or_default().push((cairn_state::key_hash(suite, &k[..split]), value.map(|v| cairn_state::value_hash(suite, &v))));
        }
        let mut root = Child::EMPTY;
        let mut roots = Vec::with_capacity(by_height.len());
        for (height, mut updates) in by_height {
            updates.sort_unstable_by_key(|u| u.0);
            let update = cairn_state::apply(suite, &cairn_state::StoreNodes(self), height, root, &updates)
                .map_err(|e| StoreError::Corrupt { what: "state while rebuilding", detail: e.to_string() })?;
            let mut b = self.db.batch();
            self.put_tree(&mut b, height, &update.nodes, Some(&update.root));
            b.commit()?;
            root = update.root;
            roots.push((height, root.hash));
        }
        // Durable before the old layout may go (its removal is durable at once).
        self.db.persist(PersistMode::SyncAll)?;
        Ok(roots)
    }

    /// Drops the old layout's keyspace, once the rebuilt roots are checked.
    pub fn drop_old_state_nodes(&self) -> Result<()> {
        if self.db.keyspace_exists("state_nodes") {
            let old = self.db.keyspace("state_nodes", KeyspaceCreateOptions::default)?;
            self.db.delete_keyspace(old)?;
        }
        Ok(())
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

    /// Entries of `index` with keys in `lower..upper` (`upper` `None`: to the end), in key
    /// order or, `reverse`, from the last; at most `limit`.
    pub fn index_range(&self, index: &str, lower: &[u8], upper: Option<&[u8]>, reverse: bool, limit: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        use std::ops::Bound;
        let ks = self.index(index)?;
        let range = (Bound::Included(lower.to_vec()), upper.map_or(Bound::Unbounded, |u| Bound::Excluded(u.to_vec())));
        let mut out = Vec::new();
        let iter: Box<dyn Iterator<Item = fjall::Guard>> = if reverse { Box::new(ks.range(range).rev()) } else { Box::new(ks.range(range)) };
        for kv in iter.take(limit) {
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

impl StateStore for Store {
    fn node(&self, at: NodeAt) -> std::result::Result<Option<Node>, StateError> {
        self.state_node(at).map_err(|e| StateError::Storage(e.to_string()))
    }

    fn root_at(&self, height: u64) -> std::result::Result<Child, StateError> {
        self.state_root_at(height).map_err(|e| StateError::Storage(e.to_string()))
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

    /// Blocks of state writes committed through an overlay, as a node does: (heights, roots).
    fn commit_state_blocks(s: &Store, suite: Suite, blocks: u64) -> Vec<Hash> {
        let mut roots = Vec::new();
        let mut root = cairn_state::EMPTY;
        for height in 1..=blocks {
            let mut state = cairn_state::BlockState::new(suite, s, height - 1, root, None, height - 1).unwrap();
            for i in 0..300u64 {
                let key = cairn_state::state_key("m", &(height * 1000 + i % (100 * height)).to_be_bytes());
                if i % 11 == 0 && height > 1 {
                    state.delete(cairn_state::state_key("m", &((height - 1) * 1000 + i).to_be_bytes()));
                } else {
                    state.put(key, format!("{height}/{i}").into_bytes());
                }
                state.commit_tx();
            }
            let o = state.finish(height).unwrap();
            s.commit_block(&BlockCommit {
                height,
                block_bytes: vec![height as u8],
                state_values: o.values.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                state_nodes: o.nodes.clone(),
                state_root: Some(o.root()),
                ..Default::default()
            })
            .unwrap();
            root = o.root;
            roots.push(root);
        }
        roots
    }

    #[test]
    fn state_nodes_are_read_back_by_location_and_every_root_stays_provable() {
        let dir = tempfile::tempdir().unwrap();
        let suite = Suite::Ed25519Sha256;
        let roots = {
            let s = Store::open(dir.path(), &[]).unwrap();
            commit_state_blocks(&s, suite, 4)
        };
        let s = Store::open(dir.path(), &[]).unwrap();
        for (h, root) in roots.iter().enumerate() {
            let height = h as u64 + 1;
            let at = s.state_root_at(height).unwrap();
            assert_eq!(at.hash, *root, "root after block {height}");
            // As of each height: a key written then is provable from the nodes on disk.
            let key = cairn_state::state_key("m", &(height * 1000 + 1).to_be_bytes());
            let (proof, found) = cairn_state::prove(suite, &cairn_state::StoreNodes(&s), at, &cairn_state::key_hash(suite, &key)).unwrap();
            let value = s.state_value_at(&key, height).unwrap().expect("written");
            assert_eq!(found, Some(cairn_state::value_hash(suite, &value)));
            cairn_state::verify(suite, root, &cairn_state::key_hash(suite, &key), Some(&value), &proof).unwrap();
        }
        assert_eq!(s.state_root_at(99).unwrap().hash, roots[3], "a later height without state writes keeps the last root");
        assert_eq!(s.state_root_at(0).unwrap(), Child::EMPTY);
        assert!(s.state_node(NodeAt { height: 9, index: 0 }).unwrap().is_none());
    }

    #[test]
    fn a_state_tree_of_the_old_layout_is_rebuilt_from_the_values() {
        let dir = tempfile::tempdir().unwrap();
        let suite = Suite::Sm2Sm3;
        let roots = {
            let s = Store::open(dir.path(), &[]).unwrap();
            let roots = commit_state_blocks(&s, suite, 3);
            // Earlier releases: nodes by hash in `state_nodes`, no chunks and no roots.
            let chunks = s.db.keyspace("state_chunks", KeyspaceCreateOptions::default).unwrap();
            let stored_roots = s.db.keyspace("state_roots", KeyspaceCreateOptions::default).unwrap();
            s.db.delete_keyspace(chunks).unwrap();
            s.db.delete_keyspace(stored_roots).unwrap();
            s.db.keyspace("state_nodes", KeyspaceCreateOptions::default).unwrap().insert([1; 32], [0; 65]).unwrap();
            s.db.persist(PersistMode::SyncAll).unwrap();
            roots
        };
        let s = Store::open(dir.path(), &[]).unwrap();
        assert!(s.needs_state_rebuild().unwrap());
        assert_eq!(s.state_root_at(3).unwrap(), Child::EMPTY, "nothing in the new layout yet");
        let rebuilt = s.rebuild_state_tree(suite).unwrap();
        assert_eq!(rebuilt, vec![(1, roots[0]), (2, roots[1]), (3, roots[2])]);
        assert!(s.needs_state_rebuild().unwrap(), "the old layout stays until the caller has checked the roots");
        s.drop_old_state_nodes().unwrap();
        assert!(!s.needs_state_rebuild().unwrap(), "the old keyspace is dropped");
        drop(s);
        let s = Store::open(dir.path(), &[]).unwrap();
        assert!(!s.needs_state_rebuild().unwrap());
        let at = s.state_root_at(3).unwrap();
        assert_eq!(at.hash, roots[2]);
        let key = cairn_state::state_key("m", &3001u64.to_be_bytes());
        let (_, found) = cairn_state::prove(suite, &cairn_state::StoreNodes(&s), at, &cairn_state::key_hash(suite, &key)).unwrap();
        assert!(found.is_some(), "the rebuilt tree proves what was written");
    }

    #[test]
    fn a_rebuild_cut_short_is_done_again() {
        let dir = tempfile::tempdir().unwrap();
        let suite = Suite::Ed25519Sha256;
        let s = Store::open(dir.path(), &[]).unwrap();
        let roots = commit_state_blocks(&s, suite, 2);
        assert!(!s.needs_state_rebuild().unwrap());
        // Values without a tree: the old layout was dropped, the rebuilt tree never landed.
        for name in ["state_chunks", "state_roots"] {
            let ks = s.db.keyspace(name, KeyspaceCreateOptions::default).unwrap();
            s.db.delete_keyspace(ks).unwrap();
        }
        drop(s);
        let s = Store::open(dir.path(), &[]).unwrap();
        assert!(s.needs_state_rebuild().unwrap());
        assert_eq!(s.rebuild_state_tree(suite).unwrap().last().map(|r| r.1), roots.last().copied());
        assert!(!s.needs_state_rebuild().unwrap());
    }
}
