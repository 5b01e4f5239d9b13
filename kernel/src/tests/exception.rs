//! Exceptions: a deliberate bad access is caught, decoded and survived.

use crate::arch::fault::probe_read_u64;
use crate::arch::layout::KSTACK_BASE;
use crate::{kassert, kassert_eq, ktest};
use kcore::esr::{Esr, ExceptionClass, FaultKind};

ktest!(
    fn bad_kernel_access_is_caught_and_decoded() {
        let bad = KSTACK_BASE - 0x1000; // the unmapped gap below the stack area
        let fault = match probe_read_u64(bad) {
            Ok(value) => {
                return Err(crate::ktest::TestFailure {
                    file: file!(),
                    line: line!(),
                    message: alloc::format!("read {value:#x} from an unmapped address"),
                });
            }
            Err(fault) => fault,
        };
        let esr = Esr(fault.esr);
        kassert_eq!(esr.class(), ExceptionClass::DataAbortSame);
        kassert!(
            matches!(esr.fault_kind(), Some(FaultKind::Translation(_))),
            "fault kind {:?}",
            esr.fault_kind()
        );
        kassert!(!esr.is_write());
        kassert_eq!(fault.far, bad);
        Ok(())
    }
);

ktest!(
    fn execution_continues_after_a_caught_fault() {
        for _ in 0..100 {
            kassert!(probe_read_u64(0xFFFF_FFFF_FFFF_0000).is_err());
        }
        static VALUE: u64 = 0x5A5A_5A5A;
        kassert_eq!(probe_read_u64(&VALUE as *const u64 as u64), Ok(0x5A5A_5A5A));
        Ok(())
    }
);
