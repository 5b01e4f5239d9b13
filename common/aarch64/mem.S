// memcpy and memset for AArch64 with naturally aligned accesses only, so they are safe on
// Device memory, with the MMU off, and on strict-alignment targets. One source for the
// kernel (kernel/src/arch/aarch64/mem.rs) and for user programs (userland/ulib/src/sys/mem.rs),
// which both include this file and thereby replace compiler-builtins' portable versions.
.text
// x0 = dst, x1 = src, x2 = len (no overlap); returns dst.
.global memcpy
.type memcpy, %function
memcpy:
    mov     x3, x0
    cmp     x2, #16
    b.lo    .Lmemcpy_small
    eor     x4, x0, x1
    tst     x4, #7
    b.ne    .Lmemcpy_not8
// Equally aligned modulo 8 (and at least 16 bytes): bytes to a 4-byte boundary, a word
// to an 8-byte boundary, then 32 bytes per iteration.
.Lmemcpy_head8:
    tst     x3, #3
    b.eq    .Lmemcpy_head8_word
    ldrb    w5, [x1], #1
    strb    w5, [x3], #1
    sub     x2, x2, #1
    b       .Lmemcpy_head8
.Lmemcpy_head8_word:
    tbz     x3, #2, .Lmemcpy_body32
    ldr     w5, [x1], #4
    str     w5, [x3], #4
    sub     x2, x2, #4
.Lmemcpy_body32:
    subs    x2, x2, #32
    b.lo    .Lmemcpy_tail32
.Lmemcpy_loop32:
    ldp     x5, x6, [x1], #16
    ldp     x7, x8, [x1], #16
    stp     x5, x6, [x3], #16
    stp     x7, x8, [x3], #16
    subs    x2, x2, #32
    b.hs    .Lmemcpy_loop32
.Lmemcpy_tail32:
    add     x2, x2, #32
    tbz     x2, #4, .Lmemcpy_tail8
    ldp     x5, x6, [x1], #16
    stp     x5, x6, [x3], #16
.Lmemcpy_tail8:
    tbz     x2, #3, .Lmemcpy_tail4
    ldr     x5, [x1], #8
    str     x5, [x3], #8
    b       .Lmemcpy_tail4
.Lmemcpy_not8:
    tst     x4, #3
    b.ne    .Lmemcpy_bytes
.Lmemcpy_head4:
    tst     x3, #3
    b.eq    .Lmemcpy_words
    ldrb    w5, [x1], #1
    strb    w5, [x3], #1
    sub     x2, x2, #1
    b       .Lmemcpy_head4
// Fewer than 16 bytes: words if both are 4-aligned, else bytes.
.Lmemcpy_small:
    orr     x4, x3, x1
    tst     x4, #3
    b.ne    .Lmemcpy_bytes
// Both 4-aligned: 16 bytes per iteration in word pairs, then 8, 4 and the last bytes.
.Lmemcpy_words:
    subs    x2, x2, #16
    b.lo    .Lmemcpy_tail16w
.Lmemcpy_loop16w:
    ldp     w5, w6, [x1], #8
    ldp     w7, w8, [x1], #8
    stp     w5, w6, [x3], #8
    stp     w7, w8, [x3], #8
    subs    x2, x2, #16
    b.hs    .Lmemcpy_loop16w
.Lmemcpy_tail16w:
    add     x2, x2, #16
    tbz     x2, #3, .Lmemcpy_tail4
    ldp     w5, w6, [x1], #8
    stp     w5, w6, [x3], #8
.Lmemcpy_tail4:
    tbz     x2, #2, .Lmemcpy_tail_bytes
    ldr     w5, [x1], #4
    str     w5, [x3], #4
.Lmemcpy_tail_bytes:
    and     x2, x2, #3
.Lmemcpy_bytes:
    cbz     x2, .Lmemcpy_done
.Lmemcpy_byte:
    ldrb    w5, [x1], #1
    strb    w5, [x3], #1
    subs    x2, x2, #1
    b.ne    .Lmemcpy_byte
.Lmemcpy_done:
    ret
.size memcpy, . - memcpy

// x0 = dst, w1 = byte, x2 = len; returns dst.
.global memset
.type memset, %function
memset:
    mov     x3, x0
    and     w1, w1, #0xff
    cmp     x2, #16
    b.lo    .Lmemset_bytes
.Lmemset_head:
    tst     x3, #7
    b.eq    .Lmemset_wide
    strb    w1, [x3], #1
    sub     x2, x2, #1
    b       .Lmemset_head
.Lmemset_wide:
    orr     w1, w1, w1, lsl #8
    orr     w1, w1, w1, lsl #16
    orr     x1, x1, x1, lsl #32
.Lmemset_body16:
    cmp     x2, #16
    b.lo    .Lmemset_tail8
    stp     x1, x1, [x3], #16
    sub     x2, x2, #16
    b       .Lmemset_body16
.Lmemset_tail8:
    tbz     x2, #3, .Lmemset_bytes
    str     x1, [x3], #8
    sub     x2, x2, #8
.Lmemset_bytes:
    cbz     x2, .Lmemset_done
.Lmemset_byte:
    strb    w1, [x3], #1
    subs    x2, x2, #1
    b.ne    .Lmemset_byte
.Lmemset_done:
    ret
.size memset, . - memset
