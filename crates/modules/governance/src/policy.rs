//! The decision core of governance: who votes on an action, how many must approve, and a
//! proposal's tally. Pure and deterministic (ordered maps, integer arithmetic, heights instead
//! of clocks): block execution drives it, and every validator reaches the same outcome.

use std::collections::{BTreeMap, BTreeSet};

use cairn_types::codec::{DecodeError, Reader, Writer};

/// Organisations eligible to vote on a proposal at most (a bound on a tally's size).
pub const MAX_ELECTORATE: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("a threshold is n/d with 0 < n <= d <= 1000, not {0:?}")]
    BadThreshold(String),
    #[error("no organisation may vote on this action")]
    EmptyElectorate,
    #[error("more than {MAX_ELECTORATE} organisations would vote")]
    ElectorateTooLarge,
    #[error("organisation {0} is not a current organisation")]
    UnknownOrganisation(String),
    #[error("validator-set changes are not supported yet (they will use consensus epochs)")]
    Unsupported,
    #[error("organisation {0} may not vote on this proposal")]
    NotEligible(String),
    #[error("the proposal is closed ({0})")]
    Closed(&'static str),
    #[error("the proposal expired at height {0}")]
    Expired(u64),
}

/// A share of an electorate: met when `approvals / eligible >= num / den`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    pub num: u32,
    pub den: u32,
}

impl Threshold {
    pub const TWO_THIRDS: Threshold = Threshold { num: 2, den: 3 };
    pub const ONE: Threshold = Threshold { num: 1, den: 1 };

    /// `num/den`, refused unless 0 < num <= den <= 1000.
    pub fn new(num: u32, den: u32) -> Option<Self> {
        (num > 0 && num <= den && den <= 1000).then_some(Threshold { num, den })
    }

    /// `"n/d"` as genesis writes it.
    pub fn parse(s: &str) -> Result<Self, PolicyError> {
        let bad = || PolicyError::BadThreshold(s.to_string());
        let (n, d) = s.split_once('/').ok_or_else(bad)?;
        Threshold::new(n.trim().parse().map_err(|_| bad())?, d.trim().parse().map_err(|_| bad())?).ok_or_else(bad)
    }

    /// Whether `approvals` of `eligible` meet it (exact: no rounding).
    pub fn met(self, approvals: usize, eligible: usize) -> bool {
        approvals as u64 * u64::from(self.den) >= u64::from(self.num) * eligible as u64
    }
}

/// The kinds of action a proposal may take; each has its electorate and threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionKind {
    AddOrganisation,
    /// Removing this organisation: it does not vote on its own removal.
    RemoveOrganisation(String),
    Parameters,
    /// Keys and roles within one organisation: decided by its own admins.
    WithinOrganisation(String),
    ValidatorSet,
}

/// The thresholds genesis sets (defaults: 2/3 for consortium-wide actions, one approval of the
/// organisation's admins for its own keys and roles).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub add_organisation: Threshold,
    pub remove_organisation: Threshold,
    pub parameters: Threshold,
    pub within_organisation: Threshold,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            add_organisation: Threshold::TWO_THIRDS,
            remove_organisation: Threshold::TWO_THIRDS,
            parameters: Threshold::TWO_THIRDS,
            within_organisation: Threshold::ONE,
        }
    }
}

impl Policy {
    /// Who votes on `kind` among the current `organisations`, and the share that must approve.
    pub fn electorate(&self, kind: &ActionKind, organisations: &BTreeSet<String>) -> Result<(BTreeSet<String>, Threshold), PolicyError> {
        let known = |o: &String| if organisations.contains(o) { Ok(()) } else { Err(PolicyError::UnknownOrganisation(o.clone())) };
        let (voters, threshold) = match kind {
            ActionKind::AddOrganisation => (organisations.clone(), self.add_organisation),
            ActionKind::Parameters => (organisations.clone(), self.parameters),
            ActionKind::RemoveOrganisation(o) => {
                known(o)?;
                (organisations.iter().filter(|x| *x != o).cloned().collect(), self.remove_organisation)
            }
            ActionKind::WithinOrganisation(o) => {
                known(o)?;
                (BTreeSet::from([o.clone()]), self.within_organisation)
            }
            ActionKind::ValidatorSet => return Err(PolicyError::Unsupported),
        };
        if voters.is_empty() {
            return Err(PolicyError::EmptyElectorate);
        }
        if voters.len() > MAX_ELECTORATE {
            return Err(PolicyError::ElectorateTooLarge);
        }
        Ok((voters, threshold))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vote {
    Approve,
    Reject,
}

/// Where a proposal stands; the height is the block that decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Open,
    Passed { at: u64 },
    Rejected { at: u64 },
    Expired { at: u64 },
}

impl Status {
    fn closed_reason(self) -> Option<&'static str> {
        match self {
            Status::Open => None,
            Status::Passed { .. } => Some("passed"),
            Status::Rejected { .. } => Some("rejected"),
            Status::Expired { .. } => Some("expired"),
        }
    }
}

/// A proposal's votes: one per eligible organisation, fixed electorate and threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    electorate: BTreeSet<String>,
    threshold: Threshold,
    expires_height: u64,
    votes: BTreeMap<String, Vote>,
    status: Status,
}

impl Tally {
    /// A new open tally; `expires_height` is the last height at which votes count.
    pub fn new(electorate: BTreeSet<String>, threshold: Threshold, expires_height: u64) -> Result<Self, PolicyError> {
        if electorate.is_empty() {
            return Err(PolicyError::EmptyElectorate);
        }
        if electorate.len() > MAX_ELECTORATE {
            return Err(PolicyError::ElectorateTooLarge);
        }
        Ok(Tally { electorate, threshold, expires_height, votes: BTreeMap::new(), status: Status::Open })
    }

    pub fn status(&self) -> Status {
        self.status
    }

    pub fn electorate(&self) -> &BTreeSet<String> {
        &self.electorate
    }

    pub fn threshold(&self) -> Threshold {
        self.threshold
    }

    pub fn expires_height(&self) -> u64 {
        self.expires_height
    }

    pub fn votes(&self) -> &BTreeMap<String, Vote> {
        &self.votes
    }

    pub fn approvals(&self) -> usize {
        self.votes.values().filter(|v| **v == Vote::Approve).count()
    }

    /// Records `organisation`'s vote at `height` (replacing its earlier one) and decides the
    /// proposal if the vote settles it: passed once the approvals meet the threshold, rejected
    /// once they can no longer meet it.
    pub fn vote(&mut self, organisation: &str, vote: Vote, height: u64) -> Result<Status, PolicyError> {
        if let Some(why) = self.status.closed_reason() {
            return Err(PolicyError::Closed(why));
        }
        if height > self.expires_height {
            return Err(PolicyError::Expired(self.expires_height));
        }
        if !self.electorate.contains(organisation) {
            return Err(PolicyError::NotEligible(organisation.to_string()));
        }
        self.votes.insert(organisation.to_string(), vote);
        let eligible = self.electorate.len();
        let approvals = self.approvals();
        let undecided = eligible - self.votes.len();
        if self.threshold.met(approvals, eligible) {
            self.status = Status::Passed { at: height };
        } else if !self.threshold.met(approvals + undecided, eligible) {
            self.status = Status::Rejected { at: height };
        }
        Ok(self.status)
    }

    /// Closes an open tally at the end of block `height` if that is its expiry height or later;
    /// answers whether it expired now.
    pub fn expire(&mut self, height: u64) -> bool {
        if self.status == Status::Open && height >= self.expires_height {
            self.status = Status::Expired { at: height };
            return true;
        }
        false
    }
}

impl Tally {
    /// The tally's canonical bytes (a proposal's state value carries it):
    /// `list<str org> electorate | u32 num | u32 den | u64 expires_height |
    /// list<(str org, u8 vote: 1 approve, 2 reject)> votes | u8 status (0 open, 1 passed, 2
    /// rejected, 3 expired) | u64 height (absent when open)`. Lists are sorted, as the ordered
    /// maps hold them.
    pub fn encode(&self, w: &mut Writer) {
        w.u32(self.electorate.len() as u32);
        for o in &self.electorate {
            w.str(o);
        }
        w.u32(self.threshold.num).u32(self.threshold.den).u64(self.expires_height);
        w.u32(self.votes.len() as u32);
        for (o, v) in &self.votes {
            w.str(o).u8(match v {
                Vote::Approve => 1,
                Vote::Reject => 2,
            });
        }
        match self.status {
            Status::Open => w.u8(0),
            Status::Passed { at } => w.u8(1).u64(at),
            Status::Rejected { at } => w.u8(2).u64(at),
            Status::Expired { at } => w.u8(3).u64(at),
        };
    }

    /// Reads a tally strictly: sorted unique organisations, votes only by the electorate, a
    /// valid threshold, and a status its votes agree with (a passed tally meets its threshold,
    /// an open one is undecided).
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let bad = |field, reason| DecodeError::Invalid { field, reason };
        let n = r.count("electorate", MAX_ELECTORATE)?;
        let mut electorate = BTreeSet::new();
        for _ in 0..n {
            let o = r.str("organisation", 64)?.to_string();
            if electorate.last().is_some_and(|l| *l >= o) {
                return Err(bad("electorate", "must be sorted and unique"));
            }
            electorate.insert(o);
        }
        let threshold = Threshold::new(r.u32("threshold")?, r.u32("threshold")?).ok_or(bad("threshold", "must be n/d with 0 < n <= d <= 1000"))?;
        let expires_height = r.u64("expires height")?;
        let m = r.count("votes", MAX_ELECTORATE)?;
        let mut votes = BTreeMap::new();
        for _ in 0..m {
            let o = r.str("organisation", 64)?.to_string();
            if votes.last_key_value().is_some_and(|(l, _): (&String, _)| *l >= o) {
                return Err(bad("votes", "must be sorted and unique"));
            }
            if !electorate.contains(&o) {
                return Err(bad("votes", "a vote by an organisation outside the electorate"));
            }
            let v = match r.u8("vote")? {
                1 => Vote::Approve,
                2 => Vote::Reject,
                _ => return Err(bad("vote", "must be 1 (approve) or 2 (reject)")),
            };
            votes.insert(o, v);
        }
        let status = match r.u8("status")? {
            0 => Status::Open,
            1 => Status::Passed { at: r.u64("status height")? },
            2 => Status::Rejected { at: r.u64("status height")? },
            3 => Status::Expired { at: r.u64("status height")? },
            _ => return Err(bad("status", "unknown status")),
        };
        if electorate.is_empty() {
            return Err(bad("electorate", "empty"));
        }
        let tally = Tally { electorate, threshold, expires_height, votes, status };
        let approvals = tally.approvals();
        let eligible = tally.electorate.len();
        let undecided = eligible - tally.votes.len();
        let agrees = match status {
            Status::Open => !threshold.met(approvals, eligible) && threshold.met(approvals + undecided, eligible),
            Status::Passed { .. } => threshold.met(approvals, eligible),
            Status::Rejected { .. } => !threshold.met(approvals + undecided, eligible),
            Status::Expired { .. } => !threshold.met(approvals, eligible),
        };
        if !agrees {
            return Err(bad("status", "does not agree with the votes"));
        }
        Ok(tally)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn orgs(n: usize) -> BTreeSet<String> {
        (1..=n).map(|i| format!("org-{i}")).collect()
    }

    #[test]
    fn thresholds_are_exact_fractions() {
        let t = Threshold::parse("2/3").unwrap();
        assert!(t.met(3, 4) && !t.met(2, 4));
        assert!(t.met(2, 3) && !t.met(1, 3));
        assert!(t.met(4, 6) && !t.met(3, 6));
        assert!(Threshold::ONE.met(1, 1));
        for bad in ["0/3", "4/3", "2", "a/b", "1/1001", "", "/3"] {
            assert!(Threshold::parse(bad).is_err(), "{bad}");
        }
    }

    /// Issue 10's first case: of four organisations, three admit a fifth; two are not enough.
    #[test]
    fn three_of_four_admit_and_two_do_not() {
        let (voters, t) = Policy::default().electorate(&ActionKind::AddOrganisation, &orgs(4)).unwrap();
        let mut tally = Tally::new(voters, t, 100).unwrap();
        assert_eq!(tally.vote("org-1", Vote::Approve, 10).unwrap(), Status::Open);
        assert_eq!(tally.vote("org-2", Vote::Approve, 11).unwrap(), Status::Open);
        assert_eq!(tally.vote("org-3", Vote::Approve, 12).unwrap(), Status::Passed { at: 12 });
        assert_eq!(tally.vote("org-4", Vote::Reject, 13), Err(PolicyError::Closed("passed")));
    }

    #[test]
    fn a_proposal_is_rejected_once_it_can_no_longer_pass_and_never_reopens() {
        let (voters, t) = Policy::default().electorate(&ActionKind::Parameters, &orgs(4)).unwrap();
        let mut tally = Tally::new(voters, t, 100).unwrap();
        assert_eq!(tally.vote("org-1", Vote::Reject, 5).unwrap(), Status::Open);
        // Two rejections of four: at most 2 approvals, below 2/3.
        assert_eq!(tally.vote("org-2", Vote::Reject, 6).unwrap(), Status::Rejected { at: 6 });
        assert_eq!(tally.vote("org-2", Vote::Approve, 7), Err(PolicyError::Closed("rejected")));
        assert!(!tally.expire(100));
    }

    #[test]
    fn a_later_vote_replaces_the_earlier_one_while_open() {
        let (voters, t) = Policy::default().electorate(&ActionKind::AddOrganisation, &orgs(4)).unwrap();
        let mut tally = Tally::new(voters, t, 100).unwrap();
        tally.vote("org-1", Vote::Reject, 1).unwrap();
        tally.vote("org-1", Vote::Approve, 2).unwrap();
        tally.vote("org-1", Vote::Approve, 3).unwrap(); // the same vote again counts once
        assert_eq!(tally.approvals(), 1);
        assert_eq!(tally.votes().len(), 1);
        tally.vote("org-2", Vote::Approve, 4).unwrap();
        assert_eq!(tally.vote("org-3", Vote::Approve, 5).unwrap(), Status::Passed { at: 5 });
    }

    #[test]
    fn the_organisation_removed_does_not_vote_and_others_decide() {
        let kind = ActionKind::RemoveOrganisation("org-4".into());
        let (voters, t) = Policy::default().electorate(&kind, &orgs(4)).unwrap();
        assert!(!voters.contains("org-4"));
        let mut tally = Tally::new(voters, t, 100).unwrap();
        assert_eq!(tally.vote("org-4", Vote::Reject, 1), Err(PolicyError::NotEligible("org-4".into())));
        tally.vote("org-1", Vote::Approve, 2).unwrap();
        // 2 of the 3 eligible meet 2/3.
        assert_eq!(tally.vote("org-2", Vote::Approve, 3).unwrap(), Status::Passed { at: 3 });
        let unknown = ActionKind::RemoveOrganisation("org-9".into());
        assert_eq!(Policy::default().electorate(&unknown, &orgs(4)).err(), Some(PolicyError::UnknownOrganisation("org-9".into())));
    }

    #[test]
    fn an_organisations_own_keys_and_roles_are_its_admins_alone() {
        let kind = ActionKind::WithinOrganisation("org-2".into());
        let (voters, t) = Policy::default().electorate(&kind, &orgs(4)).unwrap();
        assert_eq!(voters, BTreeSet::from(["org-2".to_string()]));
        let mut tally = Tally::new(voters, t, 100).unwrap();
        assert_eq!(tally.vote("org-1", Vote::Approve, 1), Err(PolicyError::NotEligible("org-1".into())));
        assert_eq!(tally.vote("org-2", Vote::Approve, 1).unwrap(), Status::Passed { at: 1 });
    }

    #[test]
    fn proposals_expire_at_their_height_and_refuse_later_votes() {
        let (voters, t) = Policy::default().electorate(&ActionKind::AddOrganisation, &orgs(4)).unwrap();
        let mut tally = Tally::new(voters, t, 20).unwrap();
        tally.vote("org-1", Vote::Approve, 20).unwrap(); // the expiry height itself still counts
        assert!(!tally.expire(19));
        assert!(tally.expire(20));
        assert_eq!(tally.status(), Status::Expired { at: 20 });
        assert!(!tally.expire(21));
        assert_eq!(tally.vote("org-2", Vote::Approve, 20), Err(PolicyError::Closed("expired")));
        let (voters, t) = Policy::default().electorate(&ActionKind::AddOrganisation, &orgs(4)).unwrap();
        let mut late = Tally::new(voters, t, 20).unwrap();
        assert_eq!(late.vote("org-1", Vote::Approve, 21), Err(PolicyError::Expired(20)));
    }

    fn bytes_of(t: &Tally) -> Vec<u8> {
        let mut w = Writer::new();
        t.encode(&mut w);
        w.into_bytes()
    }

    fn decode(bytes: &[u8]) -> Result<Tally, DecodeError> {
        let mut r = Reader::new(bytes);
        let t = Tally::decode(&mut r)?;
        r.finish()?;
        Ok(t)
    }

    #[test]
    fn tallies_round_trip_in_every_status_and_refuse_inconsistent_bytes() {
        let (voters, t) = Policy::default().electorate(&ActionKind::AddOrganisation, &orgs(4)).unwrap();
        let mut tally = Tally::new(voters, t, 50).unwrap();
        let mut seen = vec![bytes_of(&tally)];
        tally.vote("org-2", Vote::Reject, 3).unwrap();
        seen.push(bytes_of(&tally));
        tally.vote("org-1", Vote::Approve, 4).unwrap();
        tally.vote("org-3", Vote::Approve, 5).unwrap();
        seen.push(bytes_of(&tally));
        tally.vote("org-4", Vote::Approve, 6).unwrap();
        assert!(matches!(tally.status(), Status::Passed { at: 6 }));
        seen.push(bytes_of(&tally));
        let (voters, t) = Policy::default().electorate(&ActionKind::Parameters, &orgs(3)).unwrap();
        let mut gone = Tally::new(voters, t, 9).unwrap();
        gone.expire(9);
        seen.push(bytes_of(&gone));
        for b in &seen {
            let back = decode(b).unwrap();
            assert_eq!(bytes_of(&back), *b);
            for n in 0..b.len() {
                assert!(decode(&b[..n]).is_err(), "cut at {n}");
            }
        }
        // A passed status that its votes do not bear out.
        let mut forged = seen[2].clone();
        let at = forged.len() - 1;
        forged[at] = 1;
        forged.extend_from_slice(&7u64.to_be_bytes());
        assert!(matches!(decode(&forged), Err(DecodeError::Invalid { field: "status", .. })));
        // A vote by an organisation outside the electorate.
        let (voters, t) = Policy::default().electorate(&ActionKind::RemoveOrganisation("org-4".into()), &orgs(4)).unwrap();
        let mut w = Writer::new();
        w.u32(voters.len() as u32);
        for o in &voters {
            w.str(o);
        }
        w.u32(t.num).u32(t.den).u64(10).u32(1).str("org-4").u8(1).u8(0);
        assert!(matches!(decode(&w.into_bytes()), Err(DecodeError::Invalid { field: "votes", .. })));
    }

    #[test]
    fn validator_set_changes_are_refused_until_epochs_land() {
        assert_eq!(Policy::default().electorate(&ActionKind::ValidatorSet, &orgs(4)).err(), Some(PolicyError::Unsupported));
    }

    /// The same votes in any order decide the same way: every order of three approvals and one
    /// rejection among four passes, at the vote that reaches the threshold.
    #[test]
    fn every_order_of_the_same_votes_reaches_the_same_outcome() {
        let votes = [("org-1", Vote::Approve), ("org-2", Vote::Approve), ("org-3", Vote::Reject), ("org-4", Vote::Approve)];
        // All 24 orders of the four votes.
        let mut orders = Vec::new();
        for a in 0..4 {
            for b in 0..4 {
                for c in 0..4 {
                    for d in 0..4 {
                        let o = [a, b, c, d];
                        if BTreeSet::from_iter(o.iter()).len() == 4 {
                            orders.push(o);
                        }
                    }
                }
            }
        }
        assert_eq!(orders.len(), 24);
        for order in orders {
            let (voters, t) = Policy::default().electorate(&ActionKind::AddOrganisation, &orgs(4)).unwrap();
            let mut tally = Tally::new(voters, t, 100).unwrap();
            let mut outcome = Status::Open;
            for (h, i) in order.iter().enumerate() {
                match tally.vote(votes[*i].0, votes[*i].1, h as u64) {
                    Ok(s) => outcome = s,
                    Err(PolicyError::Closed(_)) => {}
                    Err(e) => panic!("{e}"),
                }
            }
            assert!(matches!(outcome, Status::Passed { .. }), "{order:?}: {outcome:?}");
        }
    }
}
