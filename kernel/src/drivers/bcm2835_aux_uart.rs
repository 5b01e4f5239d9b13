//! BCM2835 auxiliary "mini UART" (BCM2835 ARM Peripherals section 2.2 with its errata;
//! Linux `8250_bcm2835aux.c`; `brcm,bcm2835-aux-uart`): a cut-down 16550 with 8-byte FIFOs.
//! It is what a Raspberry Pi 3 or 4 carries on GPIO 14/15 by default (the PL011 is wired to
//! Bluetooth). Its baud rate divides the VideoCore's core clock, so the firmware must hold
//! that clock still (`enable_uart=1`); the rate is left as the firmware or U-Boot set it,
//! like the AUX enable bit in the separate `brcm,bcm2835-aux` block.

use super::mmio::Mmio;
use super::uart::Uart;
use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_bitfields;
use tock_registers::register_structs;
use tock_registers::registers::{ReadOnly, ReadWrite};

register_bitfields! {u32,
    /// Interrupt enable. The datasheet swaps bits 0 and 1 (errata); bit 2 is also needed
    /// before receive interrupts arrive (errata), as for a 16550's line-status enable.
    IER [
        RX OFFSET(0) NUMBITS(1) [],
        TX OFFSET(1) NUMBITS(1) [],
        LINE_STATUS OFFSET(2) NUMBITS(1) []
    ],
    /// Interrupt identify (read) / FIFO clear (write).
    IIR [
        CLEAR_RX_FIFO OFFSET(1) NUMBITS(1) [],
        CLEAR_TX_FIFO OFFSET(2) NUMBITS(1) []
    ],
    /// Line control: data size is bits 1:0 (0b11 = 8 bits; the datasheet says bit 0 only).
    LCR [
        DATA_SIZE OFFSET(0) NUMBITS(2) [EightBit = 0b11]
    ],
    /// Line status.
    LSR [
        DATA_READY OFFSET(0) NUMBITS(1) [],
        TX_EMPTY OFFSET(5) NUMBITS(1) [],
        TX_IDLE OFFSET(6) NUMBITS(1) []
    ],
    /// Extra control: receiver and transmitter enables.
    CNTL [
        RX_ENABLE OFFSET(0) NUMBITS(1) [],
        TX_ENABLE OFFSET(1) NUMBITS(1) []
    ]
}

register_structs! {
    /// Mini UART registers (AUX block offset 0x40, the device tree's `reg`).
    pub AuxUartRegs {
        (0x00 => io: ReadWrite<u32>),
        (0x04 => ier: ReadWrite<u32, IER::Register>),
        (0x08 => iir: ReadWrite<u32, IIR::Register>),
        (0x0c => lcr: ReadWrite<u32, LCR::Register>),
        (0x10 => _modem_control),
        (0x14 => lsr: ReadOnly<u32, LSR::Register>),
        (0x18 => _modem_status_scratch),
        (0x20 => cntl: ReadWrite<u32, CNTL::Register>),
        (0x24 => _status_baud),
        (0x2c => @END),
    }
}

/// The mini UART.
pub struct AuxUart {
    regs: Mmio<AuxUartRegs>,
}

impl AuxUart {
    /// A driver for the mini UART whose registers are at `regs`.
    pub fn new(regs: Mmio<AuxUartRegs>) -> Self {
        Self { regs }
    }

    /// Sets 8N1, both directions on, interrupts masked, receive FIFO emptied.
    pub fn init(&self) {
        self.flush();
        self.regs.ier.set(0);
        self.regs.lcr.write(LCR::DATA_SIZE::EightBit);
        self.regs.iir.write(IIR::CLEAR_RX_FIFO::SET);
        self.regs
            .cntl
            .write(CNTL::RX_ENABLE::SET + CNTL::TX_ENABLE::SET);
    }

    /// Waits until everything written has left the transmitter.
    fn flush(&self) {
        while !self.regs.lsr.is_set(LSR::TX_IDLE) {
            core::hint::spin_loop();
        }
    }
}

impl Uart for AuxUart {
    fn put_byte(&self, byte: u8) {
        while !self.regs.lsr.is_set(LSR::TX_EMPTY) {
            core::hint::spin_loop();
        }
        self.regs.io.set(u32::from(byte));
    }

    fn enable_receive_interrupt(&self) {
        self.regs.ier.write(IER::RX::SET + IER::LINE_STATUS::SET);
    }

    /// The receive interrupt stays raised while the FIFO holds data, so emptying it is the
    /// acknowledgement.
    fn drain_received(&self, sink: &mut dyn FnMut(u8)) {
        while self.regs.lsr.is_set(LSR::DATA_READY) {
            sink((self.regs.io.get() & 0xFF) as u8);
        }
    }
}
