//! Reading device tree nodes the way every platform needs: `reg` ranges, `compatible`
//! matches, and `/aliases` names built without allocating (the heap does not exist yet).

use fdt::Fdt;
use fdt::node::FdtNode;
use kcore::PhysRange;

/// The non-empty `reg` entries of `node`.
pub fn node_ranges<'b, 'a>(node: FdtNode<'b, 'a>) -> impl Iterator<Item = PhysRange> + 'a {
    node.reg().into_iter().flatten().filter_map(|r| {
        let size = r.size? as u64;
        (size > 0).then_some(PhysRange::new(r.starting_address as u64, size))
    })
}

/// Entry `index` of `node`'s `reg`.
pub fn nth_range(node: FdtNode<'_, '_>, index: usize) -> Option<PhysRange> {
    node_ranges(node).nth(index)
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
    let alias = core::str::from_utf8(&name[..len]).ok()?;
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
