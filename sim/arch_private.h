/* arch_private.h — the arch module's private part: what arch.c exposes to its tests only.
 *
 * The SRAM table lookup is arch.c's inner step (a buffer's energy when the file states none)
 * and the key table is arch.c's own; no other module reads them, the tests and
 * tests/fuzz_sram.c do (tests/check_deps.sh refuses this header outside the arch* modules).
 */
#ifndef BITSIM_ARCH_PRIVATE_H
#define BITSIM_ARCH_PRIVATE_H

#include "arch.h"

/* One SRAM bank from the shipped table (arch/sram_table.csv: CACTI figures at 45 nm), its
 * figures interpolated linearly in log2(bank size) with GSL between the table's rows of the
 * same port kind. Per-bit energies divide the per-access energy by the word width. */
typedef struct arch_sram {
    double read_pj_per_bit, write_pj_per_bit, leak_mw, area_mm2;
} arch_sram;
/* bank_bytes outside the table's range, or no table: an error naming the table. */
int arch_sram_lookup(uint64_t bank_bytes, uint32_t word_bits, bool rw_port, arch_sram *out,
                     bs_error *e);
/* The same lookup in a table given as text (the sram_table.csv format; name for messages):
 * what tests/fuzz_sram.c fuzzes. */
int arch_sram_lookup_text(const char *name, const char *buf, size_t len, uint64_t bank_bytes,
                          uint32_t word_bits, bool rw_port, arch_sram *out, bs_error *e);

/* The i-th key of the arch format (the check that arch/FORMAT.md lists every key); NULL past
 * the end. */
const char *arch_key_name(size_t i, const char **section);
/* Where the i-th key's value lives in struct arch: its offset, and the bytes arch_hash reads
 * there (a string: its first byte stands for it here). 0 past the end. For the test that
 * perturbs every key. */
size_t arch_key_field(size_t i, size_t *offset);

#endif
