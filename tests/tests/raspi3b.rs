//! The Raspberry Pi card (`cargo xtask image --board rpi`) on QEMU's raspi3b, booted once:
//! U-Boot (rpi_arm64) finds extlinux.conf on the SD card and boots the kernel, which must find
//! the BCM2837 from the device tree (mini UART console on `stdout-path`, BCM2836 local +
//! BCM2835 armctrl interrupts, the timer through the local controller, RAM from the memory
//! node), reach the shell with every samgr service DYNAMIC, answer `ps`, pass the user suite
//! and power off through the PM watchdog. Then the card is rebuilt and must be byte-identical.
//! A second boot checks that `reboot` restarts the machine through the watchdog.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use systest::milestones::{FIRST_TIMER_DEADLINE_MS, parse_first_timer_interrupt, parse_ram};
use systest::{Qemu, SDCARD_BOOTARGS, target_dir, write_card};

/// Bound on each wait up to the shell (U-Boot scans USB and counts down 2 s first).
const BOOT_TIMEOUT: Duration = Duration::from_secs(180);
/// Bound on the user suite and on each shell command.
const SUITE_TIMEOUT: Duration = Duration::from_secs(240);
/// The user suite has at least this many tests.
const MIN_USER_TESTS: u32 = 52;
/// QEMU's raspi3b has 1 GiB, of which the VideoCore keeps the top 64 MiB.
const ARM_RAM_MIB: u64 = 960;
/// The processes that register with samgr and report their boot status.
const SAMGR_PROCESSES: [&str; 3] = ["foundation", "wms_server", "sensor_service"];

fn work_dir() -> PathBuf {
    target_dir().join("systest")
}

/// Runs `cargo xtask image --board rpi --out <out>`.
fn build_card(out: &Path) {
    write_card(&["--board", "rpi"], out).unwrap_or_else(|e| panic!("{e}"));
}

/// The card both tests boot, built once per test process.
fn card() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = work_dir();
        std::fs::create_dir_all(&dir).expect("work dir");
        let card = dir.join("sdcard-rpi.img");
        build_card(&card);
        card
    })
}

/// Boots the card with `extra` QEMU arguments (guest writes go to a temporary overlay, so the
/// card stays as built) and waits for U-Boot to hand over to the kernel.
fn boot(extra: &[&str]) -> Qemu {
    let mut extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    extra.push("-snapshot".into());
    let mut qemu = Qemu::start_raspi3b(card(), &extra).unwrap_or_else(|e| panic!("{e}"));
    // U-Boot's banner goes to the PL011 under QEMU (the firmware that would mux GPIO 14/15 to
    // the mini UART first does not run); from its driver model on it prints on the mini UART.
    for milestone in [
        "Scanning mmc 0:1",
        "/extlinux/extlinux.conf",
        "Starting kernel",
    ] {
        expect(&mut qemu, milestone, BOOT_TIMEOUT);
    }
    qemu
}

/// Waits until `pattern` has appeared anywhere on the console (lines may come in any order).
fn wait_anywhere(qemu: &Qemu, pattern: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while !qemu.console().contains(pattern) {
        assert!(
            Instant::now() < deadline,
            "{}",
            qemu.failure(&format!("no {pattern:?} within {timeout:?}"))
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn expect(qemu: &mut Qemu, pattern: &str, timeout: Duration) -> String {
    qemu.wait_for(pattern, timeout)
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn rpi_card_boots_raspi3b_through_uboot_to_a_working_shell() {
    let mut qemu = boot(&["-no-reboot"]);
    let booting = expect(&mut qemu, "kernel: booting on ", BOOT_TIMEOUT);
    assert!(
        booting.contains("booting on cortex-a53 at EL1 (entered at EL2)"),
        "{booting:?}"
    );
    let bootargs = expect(&mut qemu, "bootargs \"", BOOT_TIMEOUT);
    assert!(
        bootargs.contains(&format!("bootargs \"{SDCARD_BOOTARGS}\"")),
        "{bootargs:?}"
    );
    expect(
        &mut qemu,
        "kernel: platform: BCM2837 (Raspberry Pi 3)",
        BOOT_TIMEOUT,
    );
    let ram = expect(&mut qemu, "mm: RAM ", BOOT_TIMEOUT);
    let range = parse_ram(&ram).unwrap_or_else(|| panic!("cannot parse {ram:?}"));
    assert_eq!(
        (range.start, range.mib),
        (0, ARM_RAM_MIB),
        "RAM from the memory node: {ram:?}"
    );
    // The controllers at their ARM addresses, translated from the 0x7e... bus addresses.
    expect(
        &mut qemu,
        "BCM2836 local controller at 0x40000000, BCM2835 armctrl at 0x3f00b200",
        BOOT_TIMEOUT,
    );
    // CNTV is local source 3, and its first interrupt comes through the local controller.
    expect(
        &mut qemu,
        "timer: virtual timer on interrupt 3,",
        BOOT_TIMEOUT,
    );
    let first = expect(&mut qemu, "timer: first interrupt after", BOOT_TIMEOUT);
    assert!(
        parse_first_timer_interrupt(&first).is_some_and(|ms| ms >= FIRST_TIMER_DEADLINE_MS),
        "{first:?}"
    );
    expect(&mut qemu, "kernel: boot complete", BOOT_TIMEOUT);
    expect(&mut qemu, "init: jobs done", BOOT_TIMEOUT);
    for process in SAMGR_PROCESSES {
        wait_anywhere(
            &qemu,
            &format!("{process}: BootStatus DYNAMIC"),
            BOOT_TIMEOUT,
        );
    }
    wait_anywhere(&qemu, "OHOS # ", BOOT_TIMEOUT);

    // Typed input reaches the shell through the mini UART's receive interrupt (armctrl
    // bank 1 line 29), and it answers.
    let table = qemu.shell("ps", SUITE_TIMEOUT);
    assert!(
        table.iter().any(|l| l.trim_start().starts_with("PID")),
        "{}",
        qemu.failure(&format!("ps printed no header: {table:#?}"))
    );
    for name in ["init", "shell", "pagemanagerd", "seed"]
        .iter()
        .chain(&SAMGR_PROCESSES)
    {
        assert!(
            table
                .iter()
                .any(|l| l.split_whitespace().last() == Some(name)),
            "{}",
            qemu.failure(&format!("ps lists no {name}: {table:#?}"))
        );
    }

    qemu.send_line("start utest")
        .unwrap_or_else(|e| panic!("{e}"));
    qemu.expect_suite("utest", SUITE_TIMEOUT, MIN_USER_TESTS);
    expect(
        &mut qemu,
        "init: service utest exited with status 0 (once: not restarted)",
        SUITE_TIMEOUT,
    );

    // No PSCI on a Pi: power-off is the PM watchdog's "halt" reset, which ends QEMU.
    qemu.send_line("poweroff").unwrap_or_else(|e| panic!("{e}"));
    expect(&mut qemu, "power off requested by pid 1", SUITE_TIMEOUT);
    qemu.expect_clean_exit(Duration::from_secs(30));

    let again = work_dir().join("sdcard-rpi-again.img");
    build_card(&again);
    let (first, second) = (
        std::fs::read(card()).expect("card readable"),
        std::fs::read(&again).expect("second card readable"),
    );
    let _ = std::fs::remove_file(&again);
    assert!(first == second, "two builds of the Pi card differ");
}

#[test]
fn reboot_restarts_the_pi_through_the_pm_watchdog() {
    // Without -no-reboot a watchdog reset restarts the machine: U-Boot runs again.
    let mut qemu = boot(&[]);
    expect(&mut qemu, "init: jobs done", BOOT_TIMEOUT);
    wait_anywhere(&qemu, "OHOS # ", BOOT_TIMEOUT);
    qemu.send_line("reboot").unwrap_or_else(|e| panic!("{e}"));
    expect(&mut qemu, "restart requested by pid 1", BOOT_TIMEOUT);
    expect(&mut qemu, "Scanning mmc 0:1", BOOT_TIMEOUT);
    expect(&mut qemu, "kernel: booting on ", BOOT_TIMEOUT);
    qemu.assert_no_panic();
}
