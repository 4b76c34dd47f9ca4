//! A cap on what a tar reader may consume between two entries.
//!
//! The `tar` crate reads GNU long names and PAX records into memory whole, so a hostile
//! archive could claim a gigabyte-long name. Reading through a [`BudgetReader`] bounds
//! that: the caller lifts the cap while it reads an entry's data ([`Budget::unlimited`])
//! and restores it before asking for the next entry ([`Budget::headers`]).

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// How many bytes of headers, GNU long names and PAX records one entry may take.
pub const HEADER_BUDGET: u64 = 4 << 20;

/// The switch of a [`BudgetReader`], kept by the code that walks the entries.
#[derive(Clone)]
pub struct Budget(Rc<Cell<u64>>);

impl Budget {
    /// Reading headers: at most [`HEADER_BUDGET`] bytes until the next call.
    pub fn headers(&self) {
        self.0.set(HEADER_BUDGET);
    }

    /// Reading an entry's data (or the end of the stream): no cap.
    pub fn unlimited(&self) {
        self.0.set(u64::MAX);
    }
}

/// A reader that fails once the current budget is spent.
pub struct BudgetReader<R> {
    inner: R,
    budget: Budget,
}

impl<R: Read> BudgetReader<R> {
    /// Starts in the header state.
    pub fn new(inner: R) -> (BudgetReader<R>, Budget) {
        let budget = Budget(Rc::new(Cell::new(HEADER_BUDGET)));
        (
            BudgetReader {
                inner,
                budget: budget.clone(),
            },
            budget,
        )
    }
}

impl<R: Read> Read for BudgetReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let left = self.budget.0.get();
        if left != u64::MAX {
            if n as u64 > left {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "tar header, long name or PAX record larger than 4 MiB",
                ));
            }
            self.budget.0.set(left - n as u64);
        }
        Ok(n)
    }
}
