//! Decoding of the AArch64 Exception Syndrome Register (ESR_ELx), ARM ARM D17.2.37,
//! so fault reports name the cause instead of printing a number.

use core::fmt;

/// An exception syndrome value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Esr(pub u64);

/// The exception class (ESR.EC), for the classes the kernel handles or reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExceptionClass {
    /// EC 0x00: unknown reason, e.g. an undefined instruction.
    Unknown,
    /// EC 0x01: WFI/WFE trapped.
    WfiWfe,
    /// EC 0x07: FP/SIMD access trapped.
    FpAccess,
    /// EC 0x0E: illegal execution state.
    IllegalState,
    /// EC 0x15: SVC from AArch64.
    Svc64,
    /// EC 0x18: MSR/MRS/system instruction trapped.
    SysReg,
    /// EC 0x20: instruction abort from a lower EL.
    InstrAbortLower,
    /// EC 0x21: instruction abort at the same EL.
    InstrAbortSame,
    /// EC 0x22: PC alignment fault.
    PcAlignment,
    /// EC 0x24: data abort from a lower EL.
    DataAbortLower,
    /// EC 0x25: data abort at the same EL.
    DataAbortSame,
    /// EC 0x26: SP alignment fault.
    SpAlignment,
    /// EC 0x2C: trapped floating-point exception.
    FpException,
    /// EC 0x2F: SError interrupt.
    SError,
    /// EC 0x3C: BRK instruction.
    Brk,
    /// Any other class, with its raw value.
    Other(u8),
}

/// The fault status code of an abort (ISS.DFSC/IFSC), grouped by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// No valid translation at the given level.
    Translation(u8),
    /// The access flag was clear at the given level.
    AccessFlag(u8),
    /// The access broke the page permissions at the given level.
    Permission(u8),
    /// An unaligned access to memory that requires alignment.
    Alignment,
    /// Address size fault at the given level.
    AddressSize(u8),
    /// External abort or anything else, with the raw status code.
    Other(u8),
}

impl Esr {
    /// The exception class.
    pub fn class(self) -> ExceptionClass {
        use ExceptionClass::*;
        match ((self.0 >> 26) & 0x3F) as u8 {
            0x00 => Unknown,
            0x01 => WfiWfe,
            0x07 => FpAccess,
            0x0E => IllegalState,
            0x15 => Svc64,
            0x18 => SysReg,
            0x20 => InstrAbortLower,
            0x21 => InstrAbortSame,
            0x22 => PcAlignment,
            0x24 => DataAbortLower,
            0x25 => DataAbortSame,
            0x26 => SpAlignment,
            0x2C => FpException,
            0x2F => SError,
            0x3C => Brk,
            other => Other(other),
        }
    }

    /// The instruction-specific syndrome (ISS), bits [24:0].
    pub fn iss(self) -> u32 {
        (self.0 & 0x1FF_FFFF) as u32
    }

    /// Whether this is an instruction or data abort.
    pub fn is_abort(self) -> bool {
        matches!(
            self.class(),
            ExceptionClass::InstrAbortLower
                | ExceptionClass::InstrAbortSame
                | ExceptionClass::DataAbortLower
                | ExceptionClass::DataAbortSame
        )
    }

    /// For aborts, what kind of fault it was.
    pub fn fault_kind(self) -> Option<FaultKind> {
        if !self.is_abort() {
            return None;
        }
        let status = (self.iss() & 0x3F) as u8;
        let level = status & 0x3;
        Some(match status & 0x3C {
            0x00 => FaultKind::AddressSize(level),
            0x04 => FaultKind::Translation(level),
            0x08 => FaultKind::AccessFlag(level),
            0x0C => FaultKind::Permission(level),
            _ if status == 0x21 => FaultKind::Alignment,
            _ => FaultKind::Other(status),
        })
    }

    /// For data aborts, whether the access was a write (ISS.WnR).
    pub fn is_write(self) -> bool {
        matches!(
            self.class(),
            ExceptionClass::DataAbortLower | ExceptionClass::DataAbortSame
        ) && self.iss() & (1 << 6) != 0
    }

    /// For SVC, the immediate.
    pub fn svc_immediate(self) -> u16 {
        (self.iss() & 0xFFFF) as u16
    }
}

impl fmt::Display for ExceptionClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ExceptionClass::*;
        let name = match self {
            Unknown => "undefined instruction",
            WfiWfe => "trapped WFI/WFE",
            FpAccess => "trapped FP/SIMD access",
            IllegalState => "illegal execution state",
            Svc64 => "SVC",
            SysReg => "trapped system register access",
            InstrAbortLower => "instruction abort from EL0",
            InstrAbortSame => "instruction abort from EL1",
            PcAlignment => "PC alignment fault",
            DataAbortLower => "data abort from EL0",
            DataAbortSame => "data abort from EL1",
            SpAlignment => "SP alignment fault",
            FpException => "floating-point exception",
            SError => "SError",
            Brk => "BRK",
            Other(ec) => return write!(f, "exception class {ec:#04x}"),
        };
        f.write_str(name)
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultKind::Translation(l) => write!(f, "translation fault, level {l}"),
            FaultKind::AccessFlag(l) => write!(f, "access flag fault, level {l}"),
            FaultKind::Permission(l) => write!(f, "permission fault, level {l}"),
            FaultKind::Alignment => f.write_str("alignment fault"),
            FaultKind::AddressSize(l) => write!(f, "address size fault, level {l}"),
            FaultKind::Other(s) => write!(f, "fault status {s:#04x}"),
        }
    }
}

impl fmt::Display for Esr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (ESR {:#x}", self.class(), self.0)?;
        if let Some(kind) = self.fault_kind() {
            write!(f, ", {kind}")?;
            if matches!(
                self.class(),
                ExceptionClass::DataAbortLower | ExceptionClass::DataAbortSame
            ) {
                f.write_str(if self.is_write() { ", write" } else { ", read" })?;
            }
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_data_abort_translation_fault_write() {
        // EC 0x25, IL, WnR, DFSC 0x07 (translation fault level 3).
        let esr = Esr((0x25 << 26) | (1 << 25) | (1 << 6) | 0x07);
        assert_eq!(esr.class(), ExceptionClass::DataAbortSame);
        assert_eq!(esr.fault_kind(), Some(FaultKind::Translation(3)));
        assert!(esr.is_write());
        assert_eq!(
            esr.to_string(),
            "data abort from EL1 (ESR 0x96000047, translation fault, level 3, write)"
        );
    }

    #[test]
    fn decodes_user_permission_fault_and_alignment() {
        let perm = Esr((0x24 << 26) | 0x0F);
        assert_eq!(perm.class(), ExceptionClass::DataAbortLower);
        assert_eq!(perm.fault_kind(), Some(FaultKind::Permission(3)));
        assert!(!perm.is_write());
        let align = Esr((0x24 << 26) | 0x21);
        assert_eq!(align.fault_kind(), Some(FaultKind::Alignment));
    }

    #[test]
    fn non_aborts_have_no_fault_kind() {
        let svc = Esr((0x15 << 26) | 0x1234);
        assert_eq!(svc.class(), ExceptionClass::Svc64);
        assert_eq!(svc.svc_immediate(), 0x1234);
        assert_eq!(svc.fault_kind(), None);
        assert!(!svc.is_write());
        assert_eq!(Esr(0).class(), ExceptionClass::Unknown);
        assert_eq!(Esr(0x3D << 26).class(), ExceptionClass::Other(0x3D));
    }
}
