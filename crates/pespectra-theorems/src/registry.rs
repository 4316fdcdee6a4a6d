//! The catalogue as data: one [`Entry`] per THEOREMS.md id, each defined in its own module under
//! `checks/`, and the one list that registers them. The catalogue, the user-matrix dispatch, the
//! id lists in error messages and the CLI's help all read this list.

use crate::checks;
use crate::user::UserInput;
use crate::{CheckError, Outcome, Params, Verdict};

/// One catalogue entry.
#[derive(Clone, Copy)]
pub struct Entry {
    /// Stable id (THEOREMS.md).
    pub id: &'static str,
    /// The statement in one line.
    pub statement: &'static str,
    /// The verdict a correct implementation reaches on the default instance.
    pub expected: Verdict,
    /// The check on the seeded instance for the given parameters.
    pub(crate) seeded: fn(&Params) -> Result<Outcome, CheckError>,
    /// The form of the check on user matrices, for the entries that have one.
    pub(crate) user: Option<UserForm>,
}

impl Entry {
    /// The matrices the entry takes when checked on user matrices ([`crate::run_on`]); `None`
    /// when it only runs on its built-in instances.
    pub fn user_operands(&self) -> Option<Operands> {
        self.user.map(|u| u.operands)
    }
}

/// Which user matrices a check takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operands {
    /// A alone.
    A,
    /// A and a second matrix B of the same size.
    AAndB,
}

/// How a statement's slacks scale with its matrices, which says how a user matrix far from unit
/// scale may be rescaled exactly by a power of two (`user::run`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Homogeneity {
    /// Degree one in A; B (if any) is not rescaled (its diagonal is part of the hypotheses).
    InA,
    /// Degree one in A and in B separately: each gets its own power of two.
    InEach,
    /// Degree one in A and B together: one power of two for both.
    Jointly,
    /// Some slacks are scale-free: the check receives the exponent and scales its own slacks back.
    Mixed,
}

/// The user-matrix form of an entry.
#[derive(Clone, Copy)]
pub(crate) struct UserForm {
    /// A alone, or A and B.
    pub operands: Operands,
    /// How the exact power-of-two rescaling applies.
    pub homogeneity: Homogeneity,
    /// The check on validated (and possibly rescaled) matrices; it verifies every hypothesis.
    pub check: fn(&UserInput) -> Result<Outcome, CheckError>,
}

/// Every entry, in THEOREMS.md order. Adding a theorem is adding its module under `checks/`
/// and its `ENTRY` here.
pub(crate) const REGISTRY: [Entry; 18] = [
    checks::d1::ENTRY,
    checks::d2::ENTRY,
    checks::t1::ENTRY,
    checks::t2::ENTRY,
    checks::t3::ENTRY,
    checks::t4::ENTRY,
    checks::t5::ENTRY,
    checks::t6::ENTRY,
    checks::t7::ENTRY,
    checks::t8::ENTRY,
    checks::t9::ENTRY,
    checks::t10::ENTRY,
    checks::r1::ENTRY,
    checks::r2::ENTRY,
    checks::r3::ENTRY,
    checks::r4::ENTRY,
    checks::r5::ENTRY,
    checks::r6::ENTRY,
];
