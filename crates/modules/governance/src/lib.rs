//! `governance`: organisations, members, roles and chain parameters, changed by the members'
//! votes (issue 10; the design is `docs/governance.md`). So far: the decision core
//! ([`policy`]) and what a proposal may do with its canonical bytes ([`action`]), which the
//! module's methods and block execution will use.

pub mod action;
pub mod policy;
