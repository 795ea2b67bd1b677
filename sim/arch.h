/* arch.h — an accelerator description: what bitsim replays a training run onto.
 *
 * An arch file (arch/NAME.ini, format in arch/FORMAT.md) is `key = value` lines in
 * [sections], like the BitFusion simulator's conf.ini. Three families share one struct:
 *   bitfusion  a grid of rows x cols fusion units built from brick_bits-wide BitBricks; spatial
 *              fusion between pmin and pmax bits, temporal iteration above pmax (Sharma et al.,
 *              ISCA 2018); weight/activation/output buffers; a DRAM interface of so many bits
 *              per cycle.
 *   systolic   the same array and buffers with one fixed operand width (native_bits): no gain
 *              below it, temporal iteration above it (a TPU-like int8 or fp32 baseline).
 *   gpu        a roofline: peak operations per second per number format, memory bandwidth.
 * Energies are per bit (buffers, DRAM), per busy cycle (core), leakage as power. A buffer's
 * per-bit energy may be given, or derived from its size through the shipped SRAM table
 * (arch/sram_table.csv, interpolated with GSL). Unknown keys, missing required keys and bad
 * values are errors naming file, line and key.
 */
#ifndef BITSIM_ARCH_H
#define BITSIM_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

#define ARCH_NAME_MAX 64

typedef enum arch_family {
    ARCH_BITFUSION,
    ARCH_SYSTOLIC,
    ARCH_GPU,
    ARCH_FAMILY_COUNT
} arch_family;

/* On-chip buffers, in the order of the energy columns (store.h: core, wbuf, abuf, obuf, ...). */
typedef enum arch_buf {
    ARCH_WBUF,  /* weights: the y operand of a pass */
    ARCH_ABUF,  /* activations: the x operand of a pass */
    ARCH_OBUF,  /* outputs / partial sums */
    ARCH_BUF_COUNT
} arch_buf;

/* Which zeros the datapath skips (compute scales by the density of those operands). */
typedef enum arch_sparsity {
    ARCH_SPARSE_NONE,   /* dense: density changes nothing but DRAM traffic when compressed */
    ARCH_SPARSE_X,      /* skip zero x operands (activations in FWD) */
    ARCH_SPARSE_BOTH,   /* skip when either operand is zero */
    ARCH_SPARSE_COUNT
} arch_sparsity;

/* How sparse x/y tensors travel to and from DRAM. */
typedef enum arch_compress {
    ARCH_COMPRESS_NONE,     /* dense: b bits per element */
    ARCH_COMPRESS_BITMAP,   /* 1 presence bit per element + b bits per non-zero */
    ARCH_COMPRESS_RLE,      /* (b + rle_run_bits) bits per non-zero (zero-run length) */
    ARCH_COMPRESS_COUNT
} arch_compress;

/* How a floating-point operand occupies the multiplier. */
typedef enum arch_fp_mode {
    ARCH_FP_SIGNIFICAND,    /* the significand (mantissa + hidden bit) runs on the bricks as an
                             * integer of that width; exponents add in separate narrow logic */
    ARCH_FP_NATIVE,         /* a float datapath: any format up to native width is one MAC */
    ARCH_FP_MODE_COUNT
} arch_fp_mode;

/* Where an array applies the per-block scales of block-scaled operands (bfp with a block, the
 * MX formats, NVFP4): cost.c "BLOCK SCALES". */
typedef enum arch_block_scale {
    ARCH_SCALE_UNIT,    /* per-column scale adders and a partial-sum shifter: narrow logic
                         * beside the bricks, no cycles (an MX-capable array) */
    ARCH_SCALE_VECTOR,  /* no scale hardware: each block product's partial sum is rescaled
                         * and accumulated on the vector lanes */
    ARCH_SCALE_COUNT
} arch_block_scale;

/* GPU roofline peaks, one per format class. A format runs at the peak of the narrowest class
 * that holds it (int5 -> int8, fp8 -> fp16 when fp8 is 0 = unsupported). The classes after
 * INT4 were added for current parts (TF32, and Blackwell's FP6 and FP4). */
typedef enum arch_gpu_class {
    ARCH_GPU_FP32, ARCH_GPU_FP16, ARCH_GPU_BF16, ARCH_GPU_FP8, ARCH_GPU_INT8, ARCH_GPU_INT4,
    ARCH_GPU_TF32, ARCH_GPU_FP6, ARCH_GPU_FP4,
    ARCH_GPU_CLASS_COUNT
} arch_gpu_class;

/* How non-MAC work (norm, pool, activation, residual add, softmax, bias) runs (cost.c
 * "NON-MAC WORK" states the rules). */
typedef enum arch_nonmac {
    ARCH_NONMAC_SEPARATE,   /* one kernel per op, whole tensors through DRAM (eager GPUs) */
    ARCH_NONMAC_FUSED,      /* fused into the neighbouring MAC passes' input/output stages
                             * (BatchNorm fission-fusion, Jung et al., MLSys 2019) */
    ARCH_NONMAC_FREE,       /* not counted: MAC layers only (the public BitFusion simulator's
                             * and the papers' accounting) */
    ARCH_NONMAC_COUNT
} arch_nonmac;

/* What the tiling search of a training pass minimises (ties broken by the other measure). */
typedef enum arch_objective {
    ARCH_OBJ_CYCLES,        /* least cycles, then least energy (the public simulator's) */
    ARCH_OBJ_ENERGY,        /* least energy, then least cycles */
    ARCH_OBJ_EDP,           /* least energy x cycles, then least cycles */
    ARCH_OBJ_COUNT
} arch_objective;

/* Which reduction the extra fusion lanes of a narrow pass split (cost.c THROUGHPUT FACTOR). */
typedef enum arch_lane_reduce {
    ARCH_LANES_IC,          /* input channels only, as BitFusion's get_compute_cycles */
    ARCH_LANES_WINDOW,      /* kh*kw*ic, the whole reduction of a direct convolution */
    ARCH_LANES_COUNT
} arch_lane_reduce;

typedef struct arch {
    char name[ARCH_NAME_MAX];   /* file stem, or `name = ` in [arch] */
    char source[256];           /* path it was read from */
    arch_family family;
    double freq_hz;

    /* bitfusion / systolic array */
    uint32_t rows;              /* N: input lanes (reduction), the public simulator's `a` */
    uint32_t cols;              /* M: output lanes, its `c` */
    uint32_t brick_bits;        /* BitBrick width (2) */
    uint32_t pmax, pmin;        /* spatial fusion range; systolic: both = native_bits */
    uint32_t psum_bits;         /* output/partial-sum width in the output buffer (32) */
    arch_fp_mode fp_mode;
    arch_block_scale block_scale;
    uint64_t buf_bytes[ARCH_BUF_COUNT];
    bool double_buffer;         /* a tile may use half of each buffer */
    uint32_t dram_bits_per_cycle;
    double buf_read_pj_per_bit[ARCH_BUF_COUNT];
    double buf_write_pj_per_bit[ARCH_BUF_COUNT];
    double core_pj_per_cycle;   /* whole array, per non-stalled compute cycle */
    /* per busy cycle in each fusion mode, [x][y] for widths 2, 4, 8, 16 (index log2(width)
     * - 1): core_pj_per_cycle_AxW, default core_pj_per_cycle (cost.c picks the mode) */
#define ARCH_CORE_MODES 4
    double core_pj_by_mode[ARCH_CORE_MODES][ARCH_CORE_MODES];
    uint32_t vector_lanes;      /* elementwise ops per cycle (UPDATE, non-MAC layers) */
    double vector_pj_per_op;    /* < 0: not stated, the per-format table of cost.c */
    arch_objective objective;   /* [schedule] tiling_objective (training passes) */
    arch_lane_reduce lane_reduce;

    /* gpu roofline */
    double gpu_peak_ops_s[ARCH_GPU_CLASS_COUNT];  /* 0 = class unsupported */
    double mem_bytes_s;
    double gpu_pj_per_op[ARCH_GPU_CLASS_COUNT];

    /* every family */
    double dram_pj_per_bit;
    double leak_mw;             /* total leakage power; energy = leak_mw * latency */
    arch_sparsity sparsity;
    arch_nonmac nonmac;         /* [schedule] nonmac; default fused (arrays), separate (gpu) */
    arch_compress dram_compress;
    uint32_t rle_run_bits;
    double area_mm2[1 + ARCH_BUF_COUNT];  /* core, wbuf, abuf, obuf (0 = not stated) */
} arch;

/* Loads NAME (arch/NAME.ini, found via paths_resolve) or an existing file path. */
int arch_load(arch *a, const char *name_or_path, bs_error *e);
/* Parses arch text; path names it in messages and gives the default name (its stem). */
int arch_parse_buffer(arch *a, const char *path, const char *buf, size_t len, bs_error *e);
/* Releases what arch_load allocated (nothing today; call it anyway). */
void arch_free(arch *a);

/* The names of the enum values (replay's options line, messages); NULL out of range. */
const char *arch_nonmac_name(arch_nonmac m);
const char *arch_objective_name(arch_objective o);
const char *arch_lane_reduce_name(arch_lane_reduce l);

/* The key reference of section (NULL: every section, each under its "[name]" line) as
 * Markdown tables, printed from the parser's own key table: arch/FORMAT.md embeds them
 * (`make arch-doc`), `bitsim arch keys` prints them. BS_EINPUT for a section with no keys. */
int arch_keys_doc(FILE *out, const char *section, bs_error *e);

/* Hash of the parsed arch over every key of the format's key table (so a new key is part of
 * the identity by being in the table), for grouping sweep points. Not stored: the store
 * identifies an arch by its text. */
uint64_t arch_hash(const arch *a);

#endif
