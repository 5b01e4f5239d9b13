#!/usr/bin/env bash
# Cargo runner for the kernel's on-target tests (ktest).
#
# `cargo test -p kernel --target aarch64-unknown-none-softfloat` calls this script with the path of
# the test kernel ELF. It turns the ELF into an arm64 Linux `Image` (QEMU passes a device tree only
# to an Image), boots it under QEMU virt with semihosting, and exits with QEMU's status: the test
# kernel leaves through semihosting SYS_EXIT with 0 (all passed) or 1.
#
# Environment:
#   KTEST_MACHINE  virt (default) or raspi3b (a Raspberry Pi 3 B: 4 x Cortex-A53, 1 GiB; the
#                  console is its mini UART, QEMU's second serial port)
#   KTEST_DTB      raspi3b only, required: the device tree (bcm2837-rpi-3-b.dtb); QEMU passes
#                  it in x0 as the Pi firmware would, with the memory node filled in
#   KTEST_GIC      virt only: GIC version, 2 or 3 (default 3)
#   KTEST_CPU      virt only: QEMU cpu model (default cortex-a72)
#   KTEST_MEM      virt only: RAM size (default 64M)
#   KTEST_TIMEOUT  seconds before QEMU is killed (default 300); a timeout exits with status 124
set -euo pipefail

if [[ $# -lt 1 ]]; then
    echo "usage: $0 <kernel-test-elf> [args ignored]" >&2
    exit 2
fi
elf=$1
image="$elf.Image"

host=$(rustc -vV | sed -n 's/^host: //p')
objcopy="$(rustc --print sysroot)/lib/rustlib/$host/bin/rust-objcopy"
if [[ ! -x $objcopy ]]; then
    echo "ktest-runner: $objcopy not found; run: rustup component add llvm-tools" >&2
    exit 2
fi
"$objcopy" -O binary "$elf" "$image"

timeout_s=${KTEST_TIMEOUT:-300}
case ${KTEST_MACHINE:-virt} in
    virt)
        gic=${KTEST_GIC:-3}
        cpu=${KTEST_CPU:-cortex-a72}
        mem=${KTEST_MEM:-64M}
        machine=(-machine "virt,gic-version=$gic" -cpu "$cpu" -m "$mem" -nic none -serial stdio)
        echo "ktest-runner: qemu virt gic-version=$gic cpu=$cpu mem=$mem timeout=${timeout_s}s: $image" >&2
        ;;
    raspi3b)
        dtb=${KTEST_DTB:-}
        if [[ ! -f $dtb ]]; then
            echo "ktest-runner: raspi3b needs KTEST_DTB, the Pi 3 B device tree (cargo xtask image --board rpi fetches it)" >&2
            exit 2
        fi
        # One TCG thread: the cores not started wait in a WFE loop that TCG runs busily
        # (see systest::RASPI3B_ACCEL).
        machine=(-machine raspi3b -accel tcg,thread=single -dtb "$dtb" -serial null -serial stdio)
        echo "ktest-runner: qemu raspi3b dtb=$dtb timeout=${timeout_s}s: $image" >&2
        ;;
    *)
        echo "ktest-runner: KTEST_MACHINE must be virt or raspi3b, not ${KTEST_MACHINE}" >&2
        exit 2
        ;;
esac

# The console goes to the terminal and to a log: a run only passes with the kernel's own
# all-passed summary (QEMU also exits 0 when something outside kills it).
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
timeout --kill-after=5 "$timeout_s" \
    qemu-system-aarch64 "${machine[@]}" \
    -semihosting -display none -monitor none -kernel "$image" </dev/null |
    tee "$log" || true
status=${PIPESTATUS[0]}

case $status in
    124 | 137)
        echo "ktest-runner: TIMEOUT: QEMU killed after ${timeout_s}s (set KTEST_TIMEOUT to change)" >&2
        exit 124
        ;;
esac
if [[ $status -eq 0 ]] && ! grep -Eq '^ktest: [0-9]+ passed, 0 failed' "$log"; then
    echo "ktest-runner: QEMU ended without the kernel's all-passed summary" >&2
    exit 1
fi
exit "$status"
