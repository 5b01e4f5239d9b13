//! A flattened device tree writer for the board tests: nodes and properties in order,
//! /memreserve/ entries, version 17 layout.

use alloc::vec::Vec;

/// Writes a flattened device tree (version 17): nodes and properties in order.
#[derive(Default)]
pub struct FdtWriter {
    /// `/memreserve/` entries (base, size).
    reservations: Vec<(u64, u64)>,
    structs: Vec<u8>,
    strings: Vec<u8>,
}

const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_END: u32 = 9;

impl FdtWriter {
    /// A writer whose tree reserves `reservations` (base, size) with `/memreserve/`.
    pub fn with_reservations(reservations: &[(u64, u64)]) -> Self {
        FdtWriter {
            reservations: Vec::from(reservations),
            ..FdtWriter::default()
        }
    }

    fn word(&mut self, value: u32) {
        self.structs.extend_from_slice(&value.to_be_bytes());
    }

    fn padded(&mut self, bytes: &[u8]) {
        self.structs.extend_from_slice(bytes);
        while !self.structs.len().is_multiple_of(4) {
            self.structs.push(0);
        }
    }

    /// Opens node `name` ("" for the root).
    pub fn begin(&mut self, name: &str) -> &mut Self {
        self.word(FDT_BEGIN_NODE);
        let mut bytes = Vec::from(name.as_bytes());
        bytes.push(0);
        self.padded(&bytes);
        self
    }

    /// Closes the innermost open node.
    pub fn end(&mut self) -> &mut Self {
        self.word(FDT_END_NODE);
        self
    }

    /// A property with raw bytes.
    pub fn prop(&mut self, name: &str, value: &[u8]) -> &mut Self {
        let offset = self.strings.len() as u32;
        self.strings.extend_from_slice(name.as_bytes());
        self.strings.push(0);
        self.word(FDT_PROP);
        self.word(value.len() as u32);
        self.word(offset);
        self.padded(value);
        self
    }

    /// A property of 32-bit cells.
    pub fn cells(&mut self, name: &str, cells: &[u32]) -> &mut Self {
        let bytes: Vec<u8> = cells.iter().flat_map(|c| c.to_be_bytes()).collect();
        self.prop(name, &bytes)
    }

    /// A string list property (one or more NUL-terminated strings).
    pub fn strs(&mut self, name: &str, values: &[&str]) -> &mut Self {
        let mut bytes = Vec::new();
        for value in values {
            bytes.extend_from_slice(value.as_bytes());
            bytes.push(0);
        }
        self.prop(name, &bytes)
    }

    /// The blob: header, reservations, structure and strings blocks.
    pub fn finish(&mut self) -> Vec<u8> {
        self.word(FDT_END);
        const HEADER: usize = 40;
        let rsvmap = HEADER;
        let structs = rsvmap + (self.reservations.len() + 1) * 16;
        let strings = structs + self.structs.len();
        let total = strings + self.strings.len();
        let mut blob = Vec::new();
        for field in [
            0xd00d_feed,
            total as u32,
            structs as u32,
            strings as u32,
            rsvmap as u32,
            17,
            16,
            0,
            self.strings.len() as u32,
            self.structs.len() as u32,
        ] {
            blob.extend_from_slice(&u32::to_be_bytes(field));
        }
        for (base, size) in self.reservations.iter().chain(&[(0, 0)]) {
            blob.extend_from_slice(&base.to_be_bytes());
            blob.extend_from_slice(&size.to_be_bytes());
        }
        blob.extend_from_slice(&self.structs);
        blob.extend_from_slice(&self.strings);
        blob
    }
}
