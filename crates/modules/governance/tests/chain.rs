//! Governance through the executor, block by block, on state in memory: the cases
//! (a fifth organisation by three of four votes, two not enough, expiry, rejection, removal,
//! rotation, freezing, a non-admin proposing, late and foreign votes, two conflicting
//! decisions in one block) and the same roots on a second run.

use cairn_crypto::{KeyPair, Suite};
use cairn_exec::{Executor, TxError};
use cairn_module::MemberStatus;
use cairn_module_evidence::wire::{DepositArgs, DigestAlg, RecordInput};
use cairn_module_governance::action::{Action, Member};
use cairn_module_governance::policy::Vote;
use cairn_module_governance::state::{MemberRecord, Proposal, member_key, proposal_key};
use cairn_module_governance::{encode_freeze, encode_propose, encode_vote};
use cairn_state::{BlockState, EMPTY, MemStore, StateStore, state_key};
use cairn_types::genesis::{Genesis, Organisation, Params, ValidatorInfo};
use cairn_types::tx::{Call, Transaction, TxBody};

const T0: u64 = 1_700_000_000_000;
const ORGS: [&str; 4] = ["bank-a", "court-b", "notary-c", "registry-d"];

struct Chain {
    exec: Executor,
    store: MemStore,
    height: u64,
    root: cairn_crypto::Hash,
    keys: Vec<KeyPair>,
    nonce: u64,
    roots: Vec<cairn_crypto::Hash>,
}

fn key(seed: u8) -> KeyPair {
    KeyPair::from_secret_bytes(Suite::Ed25519Sha256, &[seed; 32]).unwrap()
}

impl Chain {
    /// Four organisations, one key each; `roles` for org i's key if given (else every right).
    fn new(roles: &[(usize, Vec<&str>)]) -> Self {
        let keys: Vec<KeyPair> = (1..=4).map(key).collect();
        let organisations = ORGS
            .iter()
            .zip(&keys)
            .enumerate()
            .map(|(i, (id, k))| Organisation {
                id: id.to_string(),
                name: id.to_uppercase(),
                members: vec![k.public_key().to_hex()],
                roles: roles.iter().filter(|(o, _)| *o == i).map(|(_, r)| (k.public_key().to_hex(), r.iter().map(|s| s.to_string()).collect())).collect(),
            })
            .collect();
        let validator = key(99);
        let genesis = Genesis {
            chain_id: "gov-test".into(),
            suite: Suite::Ed25519Sha256,
            genesis_time_ms: T0,
            organisations,
            validators: vec![ValidatorInfo {
                name: "v1".into(),
                organisation: "bank-a".into(),
                public_key: validator.public_key().to_hex(),
                address: None,
                consensus_key: None,
                vote_key: None,
                p2p_address: None,
            }],
            params: Params::with_modules(
                [
                    ("evidence".to_string(), cairn_module_evidence::EvidenceParams::default().to_json()),
                    ("governance".to_string(), cairn_module_governance::GovernanceParams::default().to_json()),
                ]
                .into(),
            ),
        };
        genesis.validate().unwrap();
        let exec = Executor::new(genesis, &[cairn_module_evidence::module, cairn_module_governance::module]);
        Chain { exec, store: MemStore::default(), height: 0, root: EMPTY, keys, nonce: 0, roots: Vec::new() }
    }

    fn now(&self) -> u64 {
        T0 + (self.height + 1) * 1000
    }

    fn tx(&mut self, signer: &KeyPair, module: &str, method: &str, args: Vec<u8>) -> Transaction {
        self.nonce += 1;
        TxBody {
            chain_id: "gov-test".into(),
            signer: signer.public_key(),
            nonce: self.nonce,
            expires_at_ms: self.now() + 60_000,
            call: Call { module: module.into(), method: method.into(), args },
        }
        .sign(signer)
    }

    fn propose(&mut self, signer: &KeyPair, action: Action, expires_in: u64) -> Transaction {
        let expires = self.height + 1 + expires_in;
        self.tx(signer, "governance", "propose", encode_propose(&action, expires))
    }

    fn vote(&mut self, signer: &KeyPair, id: u64, v: Vote) -> Transaction {
        self.tx(signer, "governance", "vote", encode_vote(id, v))
    }

    fn deposit(&mut self, signer: &KeyPair, i: u8) -> Transaction {
        self.deposit_many(signer, i, 1)
    }

    fn deposit_many(&mut self, signer: &KeyPair, i: u8, n: u8) -> Transaction {
        let records = (0..n)
            .map(|j| RecordInput {
                digest_alg: DigestAlg::Sha256,
                digest: [i.wrapping_add(j); 32],
                size: 1,
                media_type: "text/plain".into(),
                title: format!("doc {i}.{j}"),
                reference: None,
                metadata: Default::default(),
            })
            .collect();
        self.tx(signer, "evidence", "deposit", DepositArgs { records }.encode())
    }

    /// Admission as a node does it for a new submission.
    fn admit(&self, tx: &Transaction) -> Result<(), TxError> {
        self.exec.admit(&tx.encode(), self.now()).map(|_| ())
    }

    /// Executes one block of `txs` (admitted as in a block: no clock), makes it durable, and
    /// refreshes admission's membership. One verdict per transaction.
    fn block(&mut self, txs: Vec<Transaction>) -> Vec<Result<(), TxError>> {
        let height = self.height + 1;
        let time = self.now();
        let mut state = BlockState::new(Suite::Ed25519Sha256, &self.store, self.height, self.root, None, self.height).unwrap();
        self.exec.begin_block(height, time, 0, &mut state).unwrap();
        let mut out = Vec::new();
        for tx in &txs {
            let checked = self.exec.admit_many(&[tx.encode()], None).pop().unwrap().map(|_| ());
            out.push(checked.and_then(|()| self.exec.execute(tx, height, time, 0, &mut state).unwrap().map(|_| ())));
        }
        self.exec.end_block(height, time, 0, &mut state).unwrap();
        let overlay = state.finish(height).unwrap();
        self.store.persist(&overlay);
        self.root = overlay.root;
        self.roots.push(overlay.root);
        self.height = height;
        self.exec.refresh_members(&self.store, height).unwrap();
        out
    }

    fn value(&self, key: &[u8], height: u64) -> Option<Vec<u8>> {
        self.store.value_at(&state_key("governance", key), height).unwrap()
    }

    fn proposal(&self, id: u64) -> Proposal {
        Proposal::decode(&self.value(&proposal_key(id), self.height).expect("the proposal exists"), Suite::Ed25519Sha256).unwrap()
    }

    fn member(&self, k: &KeyPair, height: u64) -> Option<MemberRecord> {
        self.value(&member_key(k.public_key().as_bytes()), height).map(|b| MemberRecord::decode(&b).unwrap())
    }
}

fn code(r: &Result<(), TxError>) -> &str {
    match r {
        Ok(()) => "ok",
        Err(e) => e.code(),
    }
}

fn add_org(id: &str, admin: &KeyPair, depositor: &KeyPair) -> Action {
    Action::AddOrganisation {
        id: id.into(),
        name: "Fifth Court 第五法院".into(),
        members: vec![
            Member { key: admin.public_key(), roles: vec!["org.admin".into()] },
            Member { key: depositor.public_key(), roles: vec!["evidence.depositor".into()] },
        ],
    }
}

#[test]
fn a_fifth_organisation_joins_by_three_votes_of_four_and_its_member_deposits() {
    let mut c = Chain::new(&[]);
    let (admin_e, clerk_e) = (key(50), key(51));
    // Genesis membership is state from block 1 on.
    assert_eq!(c.block(vec![]), vec![]);
    assert_eq!(c.member(&c.keys[0].clone(), 1).unwrap().organisation, "bank-a");

    let clerk_deposit = c.deposit(&clerk_e, 1);
    assert_eq!(code(&c.admit(&clerk_deposit)), "unknown-signer", "not a member yet");

    let k = c.keys.clone();
    let p = c.propose(&k[0], add_org("court-e", &admin_e, &clerk_e), 10);
    assert_eq!(c.block(vec![p]).iter().map(code).collect::<Vec<_>>(), ["ok"]);
    assert_eq!(c.proposal(1).tally.approvals(), 1, "proposing is approving");
    let v = c.vote(&k[1], 1, Vote::Approve);
    assert_eq!(c.block(vec![v]).iter().map(code).collect::<Vec<_>>(), ["ok"]);
    // Two of four: 2/4 < 2/3, still open, nothing applied.
    assert_eq!(c.proposal(1).outcome, cairn_module_governance::state::Outcome::Pending);
    assert_eq!(code(&c.admit(&clerk_deposit)), "unknown-signer", "two votes are not enough");

    // The third vote passes it; a deposit by the new clerk in the same block is still refused
    // (it applies at the end of the block), the next block takes it.
    let v = c.vote(&k[2], 1, Vote::Approve);
    let early = c.deposit(&clerk_e, 2);
    assert_eq!(c.block(vec![v, early]).iter().map(code).collect::<Vec<_>>(), ["ok", "unknown-signer"]);
    let p = c.proposal(1);
    assert_eq!(p.outcome, cairn_module_governance::state::Outcome::Applied { at: 4 });
    assert_eq!(c.admit(&clerk_deposit), Ok(()), "admission follows the applied membership");
    let late = c.vote(&k[3], 1, Vote::Approve);
    assert_eq!(c.block(vec![clerk_deposit, late]).iter().map(code).collect::<Vec<_>>(), ["ok", "governance.closed"]);

    // Its admin is an admin, its clerk only deposits.
    let by_clerk = c.propose(&clerk_e, Action::RemoveOrganisation { id: "bank-a".into() }, 10);
    assert_eq!(code(&c.admit(&by_clerk)), "ok", "propose checks its role at execution");
    assert_eq!(c.block(vec![by_clerk]).iter().map(code).collect::<Vec<_>>(), ["forbidden"]);
    let vote_by_clerk = c.vote(&clerk_e, 1, Vote::Approve);
    assert_eq!(code(&c.admit(&vote_by_clerk)), "forbidden");
    let by_admin = c.deposit(&admin_e, 3);
    assert_eq!(code(&c.admit(&by_admin)), "forbidden", "the admin has no depositor role");
    // The membership proof's value: the clerk as of the block that admitted it, absent before.
    assert!(c.member(&clerk_e, 3).is_none());
    let m = c.member(&clerk_e, 4).unwrap();
    assert_eq!(
        (m.organisation.as_str(), m.roles.clone(), m.status, m.since),
        ("court-e", Some(vec!["evidence.depositor".to_string()]), MemberStatus::Active, 4)
    );
}

#[test]
fn a_proposal_expires_and_a_rejected_one_never_applies() {
    let mut c = Chain::new(&[]);
    let k = c.keys.clone();
    c.block(vec![]);
    // Expires at height 4: votes in blocks 2..=4 count; two approvals are not enough.
    let p = c.propose(&k[0], add_org("court-e", &key(50), &key(51)), 2);
    let v = c.vote(&k[1], 1, Vote::Approve);
    assert_eq!(c.block(vec![p, v]).iter().map(code).collect::<Vec<_>>(), ["ok", "ok"]);
    c.block(vec![]);
    c.block(vec![]);
    let p1 = c.proposal(1);
    assert_eq!(p1.tally.status(), cairn_module_governance::policy::Status::Expired { at: 4 });
    let late = c.vote(&k[2], 1, Vote::Approve);
    assert_eq!(c.block(vec![late]).iter().map(code).collect::<Vec<_>>(), ["governance.closed"]);
    assert!(c.member(&key(51), c.height).is_none());

    // Rejected: once two of four reject, 2/3 can no longer be met.
    let p = c.propose(&k[0], add_org("court-f", &key(60), &key(61)), 10);
    let r1 = c.vote(&k[1], 2, Vote::Reject);
    let r2 = c.vote(&k[2], 2, Vote::Reject);
    let after = c.vote(&k[3], 2, Vote::Approve);
    assert_eq!(c.block(vec![p, r1, r2, after]).iter().map(code).collect::<Vec<_>>(), ["ok", "ok", "ok", "governance.closed"]);
    assert_eq!(c.proposal(2).tally.status(), cairn_module_governance::policy::Status::Rejected { at: 6 });
    c.block(vec![]);
    assert!(c.member(&key(61), c.height).is_none(), "a rejected proposal never applies");
    assert_eq!(c.value(b"open", c.height), Some(cairn_module_governance::state::encode_u64s(&[])), "nothing left open");
}

#[test]
fn a_removed_organisation_is_refused_and_cannot_vote() {
    let mut c = Chain::new(&[]);
    let k = c.keys.clone();
    let d_deposit = c.deposit(&k[3], 1);
    assert_eq!(c.block(vec![d_deposit]).iter().map(code).collect::<Vec<_>>(), ["ok"]);
    // Removing registry-d: the other three vote, 2/3 of three is two.
    let p = c.propose(&k[0], Action::RemoveOrganisation { id: "registry-d".into() }, 10);
    let own = c.vote(&k[3], 1, Vote::Reject);
    let v = c.vote(&k[1], 1, Vote::Approve);
    assert_eq!(c.block(vec![p, own, v]).iter().map(code).collect::<Vec<_>>(), ["ok", "governance.not-eligible", "ok"]);
    assert!(matches!(c.proposal(1).outcome, cairn_module_governance::state::Outcome::Applied { .. }));
    let after = c.deposit(&k[3], 2);
    assert_eq!(code(&c.admit(&after)), "unknown-signer");
    let vote_again = c.propose(&k[3], Action::RemoveOrganisation { id: "bank-a".into() }, 10);
    assert_eq!(c.block(vec![after, vote_again]).iter().map(code).collect::<Vec<_>>(), ["unknown-signer", "unknown-signer"]);
    // Its key's record stays, removed, and as of block 1 it was active.
    assert_eq!(c.member(&k[3], c.height).unwrap().status, MemberStatus::Removed);
    assert_eq!(c.member(&k[3], 1).unwrap().status, MemberStatus::Active);
    // The id is never reused.
    let again = c.propose(&k[0], add_org("registry-d", &key(70), &key(71)), 10);
    assert_eq!(c.block(vec![again]).iter().map(code).collect::<Vec<_>>(), ["governance.organisation-exists"]);
}

#[test]
fn a_rotated_key_is_refused_and_its_successor_signs() {
    let mut c = Chain::new(&[]);
    let k = c.keys.clone();
    let new = key(40);
    c.block(vec![]);
    // Within one organisation its admins decide alone: the old key proposes, which passes it.
    let by_other = c.propose(&k[1], Action::RotateKey { organisation: "bank-a".into(), old: k[0].public_key(), new: new.public_key() }, 10);
    let p = c.propose(&k[0], Action::RotateKey { organisation: "bank-a".into(), old: k[0].public_key(), new: new.public_key() }, 10);
    let same_block = c.deposit(&k[0], 1);
    assert_eq!(c.block(vec![by_other, p, same_block]).iter().map(code).collect::<Vec<_>>(), ["governance.rotate-by-old-key", "ok", "ok"]);
    let old = c.deposit(&k[0], 2);
    assert_eq!(code(&c.admit(&old)), "unknown-signer");
    let by_new = c.deposit(&new, 3);
    assert_eq!(c.block(vec![old, by_new]).iter().map(code).collect::<Vec<_>>(), ["unknown-signer", "ok"]);
    assert_eq!(c.member(&k[0], 1).unwrap().status, MemberStatus::Active, "as of the old height the old key was a member");
    assert_eq!(c.member(&new, c.height).unwrap().roles, None, "the successor keeps its roles (every right, as genesis gave)");
}

#[test]
fn freezing_applies_at_once_and_conflicting_decisions_in_one_block_apply_in_proposal_order() {
    let mut c = Chain::new(&[]);
    let k = c.keys.clone();
    let (a2, a3) = (key(20), key(21));
    c.block(vec![]);
    let add2 =
        c.propose(&k[0], Action::AddMember { organisation: "bank-a".into(), member: Member { key: a2.public_key(), roles: vec!["org.admin".into()] } }, 5);
    let add3 = c.propose(
        &k[0],
        Action::AddMember { organisation: "bank-a".into(), member: Member { key: a3.public_key(), roles: vec!["evidence.depositor".into()] } },
        5,
    );
    assert_eq!(c.block(vec![add2, add3]).iter().map(code).collect::<Vec<_>>(), ["ok", "ok"]);

    // Freeze: the frozen key's next transaction in the same block is refused.
    let freeze = c.tx(&a2, "governance", "freeze", encode_freeze(&a3.public_key()));
    let frozen = c.deposit(&a3, 1);
    assert_eq!(c.block(vec![freeze, frozen]).iter().map(code).collect::<Vec<_>>(), ["ok", "frozen-signer"]);
    let again = c.deposit(&a3, 2);
    assert_eq!(code(&c.admit(&again)), "frozen-signer");

    // Two removals of bank-a's admins, each fine alone, both pass in one block: the older
    // applies, the other fails (it would leave no admin), recorded in its outcome.
    let r1 = c.propose(&k[0], Action::RemoveMember { organisation: "bank-a".into(), key: a2.public_key() }, 5);
    let r2 = c.propose(&a2, Action::RemoveMember { organisation: "bank-a".into(), key: k[0].public_key() }, 5);
    assert_eq!(c.block(vec![r1, r2]).iter().map(code).collect::<Vec<_>>(), ["ok", "ok"]);
    assert!(matches!(c.proposal(3).outcome, cairn_module_governance::state::Outcome::Applied { .. }));
    match c.proposal(4).outcome {
        cairn_module_governance::state::Outcome::Failed { reason, .. } => assert!(reason.starts_with("governance.last-admin"), "{reason}"),
        o => panic!("the second removal applied too: {o:?}"),
    }
    assert_eq!(c.member(&k[0], c.height).unwrap().status, MemberStatus::Active);
    // The last admin can be neither removed nor frozen.
    let last = c.propose(&k[0], Action::RemoveMember { organisation: "bank-a".into(), key: k[0].public_key() }, 5);
    let freeze_last = c.tx(&k[0], "governance", "freeze", encode_freeze(&k[0].public_key()));
    assert_eq!(c.block(vec![last, freeze_last]).iter().map(code).collect::<Vec<_>>(), ["governance.last-admin", "governance.last-admin"]);
}

#[test]
fn refusals_are_precise() {
    // registry-d's key may only deposit.
    let mut c = Chain::new(&[(3, vec!["evidence.depositor"])]);
    let k = c.keys.clone();
    c.block(vec![]);
    let non_admin = c.propose(&k[3], Action::RemoveOrganisation { id: "bank-a".into() }, 10);
    let validators = c.propose(&k[0], Action::ValidatorSet, 10);
    let param = c.propose(&k[0], Action::SetParameter { name: "max_block_txs".into(), value: 1 << 20 }, 10);
    let no_such = c.vote(&k[0], 9, Vote::Approve);
    let too_far = c.propose(&k[0], Action::RemoveOrganisation { id: "court-b".into() }, cairn_module_governance::MAX_VOTING_BLOCKS + 1);
    let unknown_org = c.propose(&k[0], Action::RemoveOrganisation { id: "nobody".into() }, 10);
    let taken = c.propose(&k[0], Action::AddMember { organisation: "bank-a".into(), member: Member { key: k[1].public_key(), roles: vec![] } }, 10);
    let verdicts: Vec<String> = c.block(vec![non_admin, validators, param, no_such, too_far, unknown_org, taken]).iter().map(|r| code(r).to_string()).collect();
    assert_eq!(
        verdicts,
        [
            "forbidden",
            "governance.unsupported",
            "governance.unknown-parameter",
            "governance.unknown-proposal",
            "governance.bad-expiry",
            "governance.unknown-organisation",
            "governance.key-in-use"
        ]
    );
    // A vote replaced: an organisation's later vote replaces its earlier one while open.
    let p = c.propose(&k[0], add_org("court-e", &key(50), &key(51)), 10);
    let yes = c.vote(&k[1], 1, Vote::Approve);
    let no = c.vote(&k[1], 1, Vote::Reject);
    c.block(vec![p, yes, no]);
    assert_eq!(c.proposal(1).tally.votes().get("court-b"), Some(&Vote::Reject));
    assert_eq!(c.proposal(1).tally.approvals(), 1);
}

#[test]
fn the_same_blocks_give_the_same_roots() {
    let run = || {
        let mut c = Chain::new(&[]);
        let k = c.keys.clone();
        c.block(vec![]);
        let p = c.propose(&k[0], add_org("court-e", &key(50), &key(51)), 10);
        let v = c.vote(&k[1], 1, Vote::Approve);
        c.block(vec![p, v]);
        let v = c.vote(&k[2], 1, Vote::Approve);
        c.block(vec![v]);
        c.roots.clone()
    };
    assert_eq!(run(), run());
}

#[test]
fn a_chain_without_governance_keeps_genesis_membership() {
    let (member, validator) = (key(1), key(2));
    let genesis = Genesis {
        chain_id: "old".into(),
        suite: Suite::Ed25519Sha256,
        genesis_time_ms: T0,
        organisations: vec![Organisation { id: "court".into(), name: "Court".into(), members: vec![member.public_key().to_hex()], roles: Default::default() }],
        validators: vec![ValidatorInfo {
            name: "v1".into(),
            organisation: "court".into(),
            public_key: validator.public_key().to_hex(),
            address: None,
            consensus_key: None,
            vote_key: None,
            p2p_address: None,
        }],
        params: Params::default(),
    };
    let exec = Executor::new(genesis, &[cairn_module_evidence::module, cairn_module_governance::module]);
    assert_eq!(exec.membership_keeper(), None);
    let store = MemStore::default();
    let mut state = BlockState::new(Suite::Ed25519Sha256, &store, 0, EMPTY, None, 0).unwrap();
    exec.begin_block(1, T0 + 1000, 0, &mut state).unwrap();
    let tx = TxBody {
        chain_id: "old".into(),
        signer: member.public_key(),
        nonce: 1,
        expires_at_ms: T0 + 60_000,
        call: Call { module: "governance".into(), method: "vote".into(), args: encode_vote(1, Vote::Approve) },
    }
    .sign(&member);
    assert_eq!(exec.admit(&tx.encode(), T0 + 1000).map(|_| ()).unwrap_err().code(), "governance.not-enabled");
    exec.end_block(1, T0 + 1000, 0, &mut state).unwrap();
    assert_eq!(state.finish(1).unwrap().root, EMPTY, "no governance state on a chain that does not enable it");
}

#[test]
fn a_voted_parameter_lowers_a_limit_from_the_next_block() {
    let mut c = Chain::new(&[]);
    let k = c.keys.clone();
    c.block(vec![]);
    let too_low = c.propose(&k[0], Action::SetParameter { name: "max_tx_bytes".into(), value: 100 }, 10);
    let p = c.propose(&k[0], Action::SetParameter { name: "evidence.max_records_per_tx".into(), value: 2 }, 10);
    let v = c.vote(&k[1], 1, Vote::Approve);
    assert_eq!(c.block(vec![too_low, p, v]).iter().map(code).collect::<Vec<_>>(), ["governance.parameter-range", "ok", "ok"]);
    // Three of four pass it; a deposit of three records in the same block is still taken.
    let v = c.vote(&k[2], 1, Vote::Approve);
    let three = c.deposit_many(&k[3], 10, 3);
    assert_eq!(c.block(vec![v, three]).iter().map(code).collect::<Vec<_>>(), ["ok", "ok"]);
    assert!(matches!(c.proposal(1).outcome, cairn_module_governance::state::Outcome::Applied { .. }));
    let three = c.deposit_many(&k[3], 20, 3);
    let two = c.deposit_many(&k[3], 30, 2);
    assert_eq!(c.block(vec![three, two]).iter().map(code).collect::<Vec<_>>(), ["evidence.too-many-records", "ok"]);
    // The core's transaction size likewise.
    let p = c.propose(&k[0], Action::SetParameter { name: "max_tx_bytes".into(), value: 4096 }, 10);
    let (v1, v2) = (c.vote(&k[1], 2, Vote::Approve), c.vote(&k[2], 2, Vote::Approve));
    c.block(vec![p, v1, v2]);
    let big = c.deposit_many(&k[3], 40, 2);
    // Two records with long titles: about 5 KB, under genesis's limit, over the voted one.
    let records = (0..2u8)
        .map(|j| RecordInput {
            digest_alg: DigestAlg::Sha256,
            digest: [50 + j; 32],
            size: 1,
            media_type: "text/plain".into(),
            title: "x".repeat(500),
            reference: None,
            metadata: (0..4).map(|m| (format!("k{m}"), "v".repeat(600))).collect(),
        })
        .collect();
    let long = c.tx(&k[3], "evidence", "deposit", DepositArgs { records }.encode());
    assert!(long.encode().len() > 4096, "{}", long.encode().len());
    assert_eq!(c.block(vec![big, long]).iter().map(code).collect::<Vec<_>>(), ["ok", "oversized"]);
}
