//! GICv3 CPU interface system registers (ICC_*_EL1), which aarch64-cpu does not provide.

use core::arch::asm;

macro_rules! icc_read {
    ($name:ident, $encoding:literal, $doc:literal) => {
        #[doc = concat!("Reads ", $doc, ".")]
        pub fn $name() -> u64 {
            let value: u64;
            // SAFETY: reading a GIC CPU interface register only affects interrupt state.
            unsafe { asm!(concat!("mrs {}, ", $encoding), out(reg) value, options(nomem, nostack)) };
            value
        }
    };
}

macro_rules! icc_write {
    ($name:ident, $encoding:literal, $doc:literal) => {
        #[doc = concat!("Writes ", $doc, ".")]
        pub fn $name(value: u64) {
            // SAFETY: GIC CPU interface registers only affect interrupt delivery.
            unsafe { asm!(concat!("msr ", $encoding, ", {}"), "isb", in(reg) value, options(nostack)) };
        }
    };
}

icc_read!(read_sre, "S3_0_C12_C12_5", "ICC_SRE_EL1");
icc_write!(write_sre, "S3_0_C12_C12_5", "ICC_SRE_EL1");
icc_write!(write_pmr, "S3_0_C4_C6_0", "ICC_PMR_EL1 (priority mask)");
icc_write!(write_bpr1, "S3_0_C12_C12_3", "ICC_BPR1_EL1 (binary point)");
icc_write!(
    write_igrpen1,
    "S3_0_C12_C12_7",
    "ICC_IGRPEN1_EL1 (Group 1 enable)"
);
icc_read!(read_iar1, "S3_0_C12_C12_0", "ICC_IAR1_EL1 (acknowledge)");
icc_write!(
    write_eoir1,
    "S3_0_C12_C12_1",
    "ICC_EOIR1_EL1 (end of interrupt)"
);
