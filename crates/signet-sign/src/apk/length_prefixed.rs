//! Length-prefixed values, the encoding of the v2/v3 signing blocks: `u32le length ||
//! bytes`, sequences being length-prefixed concatenations of length-prefixed elements.

/// Appends `u32le len || bytes`.
pub fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// A length-prefixed sequence of elements.
pub fn seq<'a>(items: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for i in items {
        put(&mut out, i);
    }
    out
}

/// A bounds-checked reader; `None` on malformed input.
#[derive(Clone, Copy)]
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Reads from `data`.
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data }
    }

    /// Whether everything was consumed.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Reads a u32.
    pub fn u32(&mut self) -> Option<u32> {
        let b = self.data.get(..4)?;
        self.data = self.data.get(4..)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads a byte.
    pub fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.data.split_first()?;
        self.data = rest;
        Some(b)
    }

    /// Reads one length-prefixed value.
    pub fn lp(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        let v = self.data.get(..n)?;
        self.data = self.data.get(n..)?;
        Some(v)
    }

    /// Reads every remaining length-prefixed value.
    pub fn all(mut self) -> Option<Vec<&'a [u8]>> {
        let mut out = Vec::new();
        while !self.is_empty() {
            out.push(self.lp()?);
        }
        Some(out)
    }
}
