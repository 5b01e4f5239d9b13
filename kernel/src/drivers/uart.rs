//! What the kernel console asks of a serial port, whichever the board has (PL011, a SoC's
//! mini UART): the board instantiates and initialises one and hands it to `console`.

/// A serial port for the kernel console: polled output, interrupt-driven input.
pub trait Uart: Send + Sync {
    /// Sends one byte, waiting for room in the transmitter.
    fn put_byte(&self, byte: u8);
    /// Raises the port's interrupt when bytes arrive.
    fn enable_receive_interrupt(&self);
    /// Hands every byte waiting in the receiver to `sink` and acknowledges the interrupt.
    fn drain_received(&self, sink: &mut dyn FnMut(u8));
}
