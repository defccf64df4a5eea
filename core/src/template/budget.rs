//! Wiped byte buffers and the per-object budget that meters every template of an object.

use super::*;

// ---------------------------------------------------------------------------------------------
// Byte buffers that are wiped when dropped or regrown.

/// A byte string (a Go `string`): wiped on drop.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Bytes(pub(super) Vec<u8>);

impl Bytes {
    pub(super) fn from_slice(bytes: &[u8]) -> Self {
        Bytes(bytes.to_vec())
    }
}

impl Drop for Bytes {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Borrow<[u8]> for Bytes {
    fn borrow(&self) -> &[u8] {
        &self.0
    }
}

/// A limit was about to be exceeded.
#[derive(Debug, Clone, Copy)]
pub(super) struct Overflow(pub(super) LimitKind);

// Costs in units of work, where a byte read or written costs 1 (docs/templates.md, Safety).
/// Units of work per byte allocated: an object's templates allocate at most
/// `MAX_WORK / ALLOC_WEIGHT` = 16 MiB in total, which bounds their peak memory.
const ALLOC_WEIGHT: u64 = 4;
/// Units of work per byte hashed by `sha256sum` or `sha1sum`, besides reading it. Measured on
/// an AMD EPYC with SHA instructions: SHA-256 0.56 ns a byte, SHA-1 0.55 and Adler-32 0.29,
/// where the costliest other functions (`urlquery`, `js`, `%q`) take up to 2.5 ns a unit. Two
/// units a byte keep CPUs without SHA instructions (about 5 ns a byte) near that; Adler-32
/// costs only its read. [`MAX_WORK`] then takes at most about 0.2 s of CPU.
pub(super) const HASH_WEIGHT: usize = 1;
/// Bytes a string value costs besides its content (its `Rc` and `Vec` headers, allocator slack).
pub(super) const STR_COST: usize = 64;
/// Bytes of syntax tree a template token read by the parser costs besides its text (measured:
/// 115 bytes a token with the token itself for `list 1 1 …`, 210 for `list (1) (1) …`).
pub(super) const TREE_COST: usize = 192;
/// Bytes a list or map costs besides its elements.
pub(super) const LIST_COST: usize = 64;
/// Bytes a list element costs (one `Value`).
pub(super) const ITEM_COST: usize = std::mem::size_of::<Value>();
/// Bytes a map entry costs besides its key's content (B-tree node share, key and value).
pub(super) const ENTRY_COST: usize = 96;

/// The budget of one object's templates: what they have used so far, together
/// (docs/templates.md, Safety). The executor, its output and every buffer a function builds
/// charge it before allocating, so the limits bound peak memory as well as time.
pub(super) struct Budget {
    pub(super) steps: Cell<u64>,
    pub(super) work: Cell<u64>,
    /// Bytes of output kept from the templates that rendered.
    pub(super) output: Cell<usize>,
}

impl Budget {
    pub(super) fn new() -> Self {
        Budget {
            steps: Cell::new(0),
            work: Cell::new(0),
            output: Cell::new(0),
        }
    }

    pub(super) fn step(&self) -> Result<(), Overflow> {
        let steps = self.steps.get().saturating_add(1);
        self.steps.set(steps);
        if steps > MAX_STEPS {
            return Err(Overflow(LimitKind::Steps));
        }
        Ok(())
    }

    pub(super) fn charge(&self, units: u64) -> Result<(), Overflow> {
        let work = self.work.get().saturating_add(units);
        self.work.set(work);
        if work > MAX_WORK {
            return Err(Overflow(LimitKind::Work));
        }
        Ok(())
    }

    /// Charges `bytes` read or written.
    pub(super) fn read(&self, bytes: usize) -> Result<(), Overflow> {
        self.charge(u64::try_from(bytes).unwrap_or(u64::MAX))
    }

    /// Charges `bytes` about to be allocated.
    pub(super) fn alloc(&self, bytes: usize) -> Result<(), Overflow> {
        self.charge(
            u64::try_from(bytes)
                .unwrap_or(u64::MAX)
                .saturating_mul(ALLOC_WEIGHT),
        )
    }

    /// Charges `count` allocations of `each` bytes.
    pub(super) fn alloc_n(&self, count: usize, each: usize) -> Result<(), Overflow> {
        self.alloc(count.saturating_mul(each))
    }

    /// A copy of `bytes`, charged.
    pub(super) fn bytes(&self, bytes: &[u8]) -> Result<Bytes, Overflow> {
        self.alloc(bytes.len().saturating_add(STR_COST))?;
        Ok(Bytes::from_slice(bytes))
    }

    /// A string value holding a copy of `bytes`, charged.
    pub(super) fn str(&self, bytes: &[u8]) -> Result<Value, Overflow> {
        Ok(Value::Str(Rc::new(self.bytes(bytes)?)))
    }

    /// Room for one more element in `vec`: doubles its capacity, charged, when full.
    pub(super) fn grow<T>(&self, vec: &mut Vec<T>, each: usize) -> Result<(), Overflow> {
        if vec.len() < vec.capacity() {
            return Ok(());
        }
        let more = vec.capacity().max(4);
        self.alloc_n(vec.capacity().saturating_add(more), each)?;
        vec.reserve_exact(more);
        Ok(())
    }
}

/// A byte buffer with a size limit whose growth is charged to a budget; it wipes its old copy
/// whenever it grows.
pub(super) struct Sink<'b> {
    pub(super) buf: Vec<u8>,
    /// None only for the parser's messages, which quote a few characters of template text.
    pub(super) budget: Option<&'b Budget>,
    pub(super) limit: usize,
    /// The limit to report when `limit` is reached.
    pub(super) over: LimitKind,
}

impl<'b> Sink<'b> {
    /// A buffer for a value: at most [`MAX_OUTPUT`] bytes.
    pub(super) fn new(budget: &'b Budget) -> Self {
        Sink {
            buf: Vec::new(),
            budget: Some(budget),
            limit: MAX_OUTPUT,
            over: LimitKind::Value,
        }
    }

    /// A template's output: at most what the object's templates have not output yet.
    pub(super) fn output(budget: &'b Budget) -> Self {
        Sink {
            buf: Vec::new(),
            budget: Some(budget),
            limit: MAX_OUTPUT.saturating_sub(budget.output.get()),
            over: LimitKind::Output,
        }
    }

    /// Another value buffer charged to the same budget.
    pub(super) fn scratch(&self) -> Sink<'b> {
        Sink {
            buf: Vec::new(),
            budget: self.budget,
            limit: MAX_OUTPUT,
            over: LimitKind::Value,
        }
    }

    /// Charges a temporary of `bytes` made while writing to this buffer.
    pub(super) fn alloc(&self, bytes: usize) -> Result<(), Overflow> {
        match self.budget {
            Some(budget) => budget.alloc(bytes),
            None => Ok(()),
        }
    }

    pub(super) fn put(&mut self, data: &[u8]) -> Result<(), Overflow> {
        let need = self
            .buf
            .len()
            .checked_add(data.len())
            .ok_or(Overflow(self.over))?;
        if need > self.limit {
            return Err(Overflow(self.over));
        }
        if need > self.buf.capacity() {
            let capacity = self
                .buf
                .capacity()
                .saturating_mul(2)
                .max(need.max(64))
                .min(self.limit);
            self.alloc(capacity)?;
            let mut grown = Vec::with_capacity(capacity);
            grown.extend_from_slice(&self.buf);
            self.buf.zeroize();
            self.buf = grown;
        }
        self.buf.extend_from_slice(data);
        Ok(())
    }

    pub(super) fn byte(&mut self, byte: u8) -> Result<(), Overflow> {
        self.put(&[byte])
    }

    pub(super) fn text(&mut self, text: &str) -> Result<(), Overflow> {
        self.put(text.as_bytes())
    }

    pub(super) fn char(&mut self, c: char) -> Result<(), Overflow> {
        let mut utf8 = [0; 4];
        self.put(c.encode_utf8(&mut utf8).as_bytes())
    }

    pub(super) fn repeat(&mut self, byte: u8, count: usize) -> Result<(), Overflow> {
        if self.buf.len().saturating_add(count) > self.limit {
            return Err(Overflow(self.over));
        }
        let chunk = [byte; 64];
        let mut left = count;
        while left > 0 {
            let n = left.min(chunk.len());
            self.put(&chunk[..n])?;
            left -= n;
        }
        Ok(())
    }

    pub(super) fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    pub(super) fn into_value(mut self) -> Result<Value, Overflow> {
        self.alloc(STR_COST)?;
        Ok(Value::Str(Rc::new(Bytes(self.take()))))
    }
}

impl Drop for Sink<'_> {
    fn drop(&mut self) {
        self.buf.zeroize();
    }
}
