//! `governance`: organisations, members, roles and chain parameters, changed by the members'
//! votes (issue 10; the design is `docs/governance.md`). So far: the decision core
//! ([`policy`]), which block execution will drive.

pub mod policy;
