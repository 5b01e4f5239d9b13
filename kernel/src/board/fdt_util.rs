//! Reading device tree nodes the way every platform needs, by the rules of the format
//! (Devicetree Specification v0.4, sections 2.3.6 to 2.4) that the `fdt` crate leaves to its
//! user: `reg` entries translated through every bus's `ranges` into CPU physical addresses,
//! interrupt specifiers cut by their controller's `#interrupt-cells` (the controller found
//! through the inherited `interrupt-parent`), `compatible` matches, `/aliases` names and the
//! console port the command line or `/chosen/stdout-path` names.
//!
//! Every platform reads `reg` only through [`nth_range`] and [`node_ranges`], so a SoC whose
//! peripherals sit behind a bus with an offset (the Raspberry Pi's VideoCore addresses) needs no
//! code of its own. Nothing here allocates (the heap does not exist yet), and nothing panics on
//! a malformed tree: a cell count that is not one 32-bit cell, a property too short for its
//! cells, or an address that no bus maps is "no such entry".

use fdt::Fdt;
use fdt::node::FdtNode;
use kcore::PhysRange;
use kcore::bootargs::BootArgs;

/// Deepest node (counting the root) whose ancestors are followed.
const MAX_DEPTH: usize = 8;
/// Most cells of one interrupt specifier kept.
const MAX_INTERRUPT_CELLS: usize = 4;
/// `#address-cells` when a bus does not say (the specification's default).
const DEFAULT_ADDRESS_CELLS: u32 = 2;
/// `#size-cells` when a bus does not say.
const DEFAULT_SIZE_CELLS: u32 = 1;

/// A node and the chain of nodes above it, root first.
#[derive(Clone, Copy)]
struct NodePath<'b, 'a> {
    nodes: [Option<FdtNode<'b, 'a>>; MAX_DEPTH],
    len: usize,
}

impl<'b, 'a> NodePath<'b, 'a> {
    /// The path from the root to `target` (nodes compared by identity: where their name
    /// lies in the blob).
    fn find(fdt: &'b Fdt<'a>, target: &FdtNode<'b, 'a>) -> Option<Self> {
        let mut path = NodePath {
            nodes: [None; MAX_DEPTH],
            len: 0,
        };
        path.descend(fdt.find_node("/")?, target).then_some(path)
    }

    fn descend(&mut self, node: FdtNode<'b, 'a>, target: &FdtNode<'b, 'a>) -> bool {
        let Some(slot) = self.nodes.get_mut(self.len) else {
            return false;
        };
        *slot = Some(node);
        self.len += 1;
        if core::ptr::eq(node.name.as_ptr(), target.name.as_ptr())
            || node.children().any(|child| self.descend(child, target))
        {
            return true;
        }
        self.len -= 1;
        false
    }

    /// The node itself, then its ancestors up to the root.
    fn upwards(&self) -> impl Iterator<Item = FdtNode<'b, 'a>> + '_ {
        self.nodes[..self.len].iter().rev().flatten().copied()
    }

    /// The bus the node's `reg` is expressed in (its parent); `None` for the root.
    fn parent(&self) -> Option<FdtNode<'b, 'a>> {
        self.upwards().nth(1)
    }
}

/// A one-cell property: `None` if absent or not exactly one cell.
fn u32_property(node: &FdtNode<'_, '_>, name: &str) -> Option<u32> {
    let bytes: [u8; 4] = node.property(name)?.value.try_into().ok()?;
    Some(u32::from_be_bytes(bytes))
}

/// A bus's cell count `name`: `default` when absent, `None` when malformed.
fn cell_count(bus: &FdtNode<'_, '_>, name: &str, default: u32) -> Option<u32> {
    match bus.property(name) {
        None => Some(default),
        Some(_) => u32_property(bus, name),
    }
}

/// The (`#address-cells`, `#size-cells`) a bus gives its children's addresses.
fn bus_cells(bus: &FdtNode<'_, '_>) -> Option<(u32, u32)> {
    Some((
        cell_count(bus, "#address-cells", DEFAULT_ADDRESS_CELLS)?,
        cell_count(bus, "#size-cells", DEFAULT_SIZE_CELLS)?,
    ))
}

/// Takes `cells` big-endian cells (at most two: a 64-bit number) off the front of `bytes`.
fn take_number(bytes: &mut &[u8], cells: u32) -> Option<u64> {
    if cells > 2 {
        return None;
    }
    let (head, rest) = bytes.split_at_checked(cells as usize * 4)?;
    *bytes = rest;
    Some(head.chunks_exact(4).fold(0u64, |number, cell| {
        let cell: [u8; 4] = cell.try_into().unwrap_or_default();
        (number << 32) | u64::from(u32::from_be_bytes(cell))
    }))
}

/// Translates `range`, expressed on the bus `path.node()` sits on, into CPU physical addresses:
/// up through each bus's `ranges`, which must map the whole range. A bus without `ranges`
/// does not map its children into its parent's space (`None`); an empty `ranges` is identity.
fn translate(path: &NodePath<'_, '_>, mut range: PhysRange) -> Option<PhysRange> {
    let mut buses = path.upwards().skip(1).peekable();
    while let Some(bus) = buses.next() {
        let Some(above) = buses.peek() else {
            break; // the root: CPU physical addresses
        };
        let mut windows = bus.property("ranges")?.value;
        if windows.is_empty() {
            continue;
        }
        let (child_cells, size_cells) = bus_cells(&bus)?;
        let (parent_cells, _) = bus_cells(above)?;
        if child_cells == 0 || parent_cells == 0 {
            return None; // windows of no address would never use up the property
        }
        let mut mapped = None;
        while !windows.is_empty() && mapped.is_none() {
            let child = take_number(&mut windows, child_cells)?;
            let parent = take_number(&mut windows, parent_cells)?;
            let len = take_number(&mut windows, size_cells)?;
            let inside = range
                .base
                .checked_sub(child)
                .filter(|offset| offset.checked_add(range.size).is_some_and(|end| end <= len));
            mapped = inside.and_then(|offset| parent.checked_add(offset));
        }
        range.base = mapped?;
    }
    Some(range)
}

/// The node's `reg` entries, read with its bus's cell counts, each translated (`None` for an
/// entry no bus maps or one of size zero).
fn reg_entries<'b, 'a>(
    fdt: &'b Fdt<'a>,
    node: FdtNode<'b, 'a>,
) -> impl Iterator<Item = Option<PhysRange>> + 'b {
    let found = NodePath::find(fdt, &node).and_then(|path| {
        let (address_cells, size_cells) = bus_cells(&path.parent()?)?;
        if address_cells == 0 {
            return None; // entries of no address would never use up the property
        }
        let bytes = node.property("reg")?.value;
        Some((path, bytes, address_cells, size_cells))
    });
    let mut state = found;
    core::iter::from_fn(move || {
        let (path, bytes, address_cells, size_cells) = state.as_mut()?;
        if bytes.is_empty() {
            return None;
        }
        let (Some(base), Some(size)) = (
            take_number(bytes, *address_cells),
            take_number(bytes, *size_cells),
        ) else {
            state = None; // a truncated entry ends the list
            return None;
        };
        Some(
            (size > 0)
                .then(|| translate(path, PhysRange::new(base, size)))
                .flatten(),
        )
    })
}

/// The non-empty `reg` entries of `node` that translate, as CPU physical ranges.
pub fn node_ranges<'b, 'a>(
    fdt: &'b Fdt<'a>,
    node: FdtNode<'b, 'a>,
) -> impl Iterator<Item = PhysRange> + 'b {
    reg_entries(fdt, node).flatten()
}

/// Entry `index` of `node`'s `reg` as a CPU physical range (the entry must be non-empty and
/// translate).
pub fn nth_range(fdt: &Fdt<'_>, node: FdtNode<'_, '_>, index: usize) -> Option<PhysRange> {
    reg_entries(fdt, node).nth(index).flatten()
}

/// One interrupt of a device: the controller it goes to and the specifier, whose meaning that
/// controller's binding defines.
#[derive(Clone, Copy)]
pub struct Interrupt<'b, 'a> {
    /// The interrupt controller node.
    pub controller: FdtNode<'b, 'a>,
    cells: [u32; MAX_INTERRUPT_CELLS],
    len: usize,
}

impl Interrupt<'_, '_> {
    /// The specifier's cells.
    pub fn cells(&self) -> &[u32] {
        &self.cells[..self.len]
    }
}

/// Entry `index` of `node`'s `interrupts`, with its controller: the node's own
/// `interrupt-parent`, else the nearest ancestor's.
pub fn interrupt<'b, 'a>(
    fdt: &'b Fdt<'a>,
    node: FdtNode<'b, 'a>,
    index: usize,
) -> Option<Interrupt<'b, 'a>> {
    let path = NodePath::find(fdt, &node)?;
    let phandle = path
        .upwards()
        .find_map(|n| u32_property(&n, "interrupt-parent"))?;
    let controller = fdt.find_phandle(phandle)?;
    let count = usize::try_from(u32_property(&controller, "#interrupt-cells")?).ok()?;
    if count == 0 || count > MAX_INTERRUPT_CELLS {
        return None;
    }
    let entry = node
        .property("interrupts")?
        .value
        .chunks_exact(count * 4)
        .nth(index)?;
    let mut cells = [0; MAX_INTERRUPT_CELLS];
    for (cell, bytes) in cells.iter_mut().zip(entry.chunks_exact(4)) {
        *cell = u32::from_be_bytes(bytes.try_into().ok()?);
    }
    Some(Interrupt {
        controller,
        cells,
        len: count,
    })
}

/// Whether `node` is compatible with any of `names`.
pub fn is_compatible(node: &FdtNode<'_, '_>, names: &[&str]) -> bool {
    node.compatible()
        .is_some_and(|c| c.all().any(|s| names.contains(&s)))
}

/// The node `/aliases` names `<prefix><n>` (e.g. `serial1`), for `n` written as 1..=3 digits.
pub fn numbered_alias<'b, 'a>(fdt: &'b Fdt<'a>, prefix: &str, n: &str) -> Option<FdtNode<'b, 'a>> {
    const MAX: usize = 16;
    let digits = n.as_bytes();
    if digits.is_empty() || digits.len() > 3 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut name = [0u8; MAX];
    let len = prefix.len() + digits.len();
    name.get_mut(..prefix.len())?
        .copy_from_slice(prefix.as_bytes());
    name.get_mut(prefix.len()..len)?.copy_from_slice(digits);
    let alias = core::str::from_utf8(name.get(..len)?).ok()?;
    fdt.aliases()?.resolve_node(alias)
}

/// The node `/chosen/stdout-path` names (a path or an alias, options after `:` dropped).
pub fn stdout_node<'b, 'a>(fdt: &'b Fdt<'a>) -> Option<FdtNode<'b, 'a>> {
    let path = fdt
        .find_node("/chosen")?
        .property("stdout-path")?
        .as_str()?;
    let path = path.split(':').next().unwrap_or(path);
    fdt.find_node(path)
        .or_else(|| fdt.aliases()?.resolve_node(path))
}

/// A kind of serial port a platform can drive as its console.
pub struct PortKind {
    /// The Linux device name `console=` gives such a port, without its number: `ttyAMA` for
    /// a PL011, `ttyS` for an 8250-style port such as the BCM2835 mini UART. Port `<n>` is the
    /// one `/aliases` calls `serial<n>`, as Linux numbers them.
    pub tty: &'static str,
    /// The `compatible` strings of such ports.
    pub compatible: &'static [&'static str],
}

/// The console port, as the index into `kinds` of its kind and its node: the last
/// `console=<tty><n>[,options]` on the command line that names a port of one of `kinds`;
/// else `/chosen/stdout-path`, if it is one; else the first port of the first kind the tree
/// has.
pub fn console_port<'b, 'a>(
    fdt: &'b Fdt<'a>,
    bootargs: &str,
    kinds: &[PortKind],
) -> Option<(usize, FdtNode<'b, 'a>)> {
    let kind_of = |node: &FdtNode<'_, '_>| {
        kinds
            .iter()
            .position(|kind| is_compatible(node, kind.compatible))
    };
    let requested = BootArgs::new(bootargs)
        .iter()
        .filter(|&(key, _)| key == "console")
        .filter_map(|(_, value)| {
            let device = value?.split(',').next()?;
            let (index, number) = kinds
                .iter()
                .enumerate()
                .find_map(|(i, kind)| Some((i, device.strip_prefix(kind.tty)?)))?;
            let node = numbered_alias(fdt, "serial", number)?;
            (kind_of(&node) == Some(index)).then_some((index, node))
        })
        .last();
    let stdout = || {
        let node = stdout_node(fdt)?;
        Some((kind_of(&node)?, node))
    };
    let first = || {
        kinds
            .iter()
            .enumerate()
            .find_map(|(i, kind)| Some((i, fdt.find_compatible(kind.compatible)?)))
    };
    requested.or_else(stdout).or_else(first)
}
