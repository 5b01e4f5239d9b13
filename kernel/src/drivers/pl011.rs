//! Arm PrimeCell UART (PL011), Technical Reference Manual r1p5 (DDI 0183G), chapter 3.
//! The baud rate is left as firmware programmed it; the kernel sets 8N1 with FIFOs.

use super::mmio::Mmio;
use super::uart::Uart;
use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_bitfields;
use tock_registers::register_structs;
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};

register_bitfields! {u32,
    /// Flag register.
    FR [
        /// Transmit FIFO full.
        TXFF OFFSET(5) NUMBITS(1) [],
        /// Receive FIFO empty.
        RXFE OFFSET(4) NUMBITS(1) [],
        /// UART busy transmitting.
        BUSY OFFSET(3) NUMBITS(1) []
    ],
    /// Line control register.
    LCR_H [
        /// Word length.
        WLEN OFFSET(5) NUMBITS(2) [EightBit = 0b11],
        /// FIFO enable.
        FEN OFFSET(4) NUMBITS(1) []
    ],
    /// Control register.
    CR [
        /// Receive enable.
        RXE OFFSET(9) NUMBITS(1) [],
        /// Transmit enable.
        TXE OFFSET(8) NUMBITS(1) [],
        /// UART enable.
        UARTEN OFFSET(0) NUMBITS(1) []
    ],
    /// Interrupt mask set/clear, raw/masked status and clear registers share this layout.
    INT [
        /// Receive timeout.
        RT OFFSET(6) NUMBITS(1) [],
        /// Transmit.
        TX OFFSET(5) NUMBITS(1) [],
        /// Receive.
        RX OFFSET(4) NUMBITS(1) [],
        /// All interrupt bits.
        ALL OFFSET(0) NUMBITS(11) []
    ]
}

register_structs! {
    /// PL011 register block.
    pub Pl011Regs {
        (0x00 => dr: ReadWrite<u32>),
        (0x04 => _reserved0),
        (0x18 => fr: ReadOnly<u32, FR::Register>),
        (0x1c => _reserved1),
        (0x2c => lcr_h: ReadWrite<u32, LCR_H::Register>),
        (0x30 => cr: ReadWrite<u32, CR::Register>),
        (0x34 => _reserved2),
        (0x38 => imsc: ReadWrite<u32, INT::Register>),
        (0x3c => _reserved3),
        (0x44 => icr: WriteOnly<u32, INT::Register>),
        (0x48 => @END),
    }
}

/// A PL011 UART.
pub struct Pl011 {
    regs: Mmio<Pl011Regs>,
}

impl Pl011 {
    /// A driver for the UART whose registers are at `regs`.
    pub fn new(regs: Mmio<Pl011Regs>) -> Self {
        Self { regs }
    }

    /// Enables the UART for 8N1 with FIFOs, interrupts masked.
    pub fn init(&self) {
        self.flush();
        self.regs.cr.set(0);
        self.regs.imsc.set(0);
        self.regs.icr.write(INT::ALL::SET);
        self.regs
            .lcr_h
            .write(LCR_H::WLEN::EightBit + LCR_H::FEN::SET);
        self.regs
            .cr
            .write(CR::UARTEN::SET + CR::TXE::SET + CR::RXE::SET);
    }

    /// Waits until everything written has left the UART.
    fn flush(&self) {
        while self.regs.fr.is_set(FR::BUSY) {
            core::hint::spin_loop();
        }
    }
}

impl Uart for Pl011 {
    /// Sends one byte, waiting for FIFO space (used with the console lock held).
    fn put_byte(&self, byte: u8) {
        while self.regs.fr.is_set(FR::TXFF) {
            core::hint::spin_loop();
        }
        self.regs.dr.set(u32::from(byte));
    }

    /// Unmasks the receive and receive-timeout interrupts.
    fn enable_receive_interrupt(&self) {
        self.regs.imsc.write(INT::RX::SET + INT::RT::SET);
    }

    /// Takes every byte waiting in the receive FIFO and acknowledges the interrupt.
    fn drain_received(&self, sink: &mut dyn FnMut(u8)) {
        // Acknowledge first: a byte arriving during the drain raises the interrupt again.
        self.regs.icr.write(INT::RX::SET + INT::RT::SET);
        while !self.regs.fr.is_set(FR::RXFE) {
            sink((self.regs.dr.get() & 0xFF) as u8);
        }
    }
}
