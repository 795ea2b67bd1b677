/* arch.c — reading and checking accelerator descriptions (arch/FORMAT.md).
 *
 * One table (arch_keys) says every key: its section, type, unit scale, range, which families
 * accept it, which need it, and its default as text. Parsing is then one loop: a default is
 * parsed by the same code as a value read from the file, so defaults obey the same ranges,
 * and the table doubles as the reference of arch/FORMAT.md. After the file is read, keys the
 * family does not use are rejected at their line, missing required keys are named, and the
 * derived values are filled: buffer energies from the SRAM table when not stated (banking as
 * the BitFusion simulator's simulator.py get_energy_cost: the weight buffer in rows x cols
 * banks, the activation buffer in rows banks, the output buffer in cols banks with a
 * read-write port; words of pmax*pmax/pmin bits, outputs psum_bits).
 */
#include "arch.h"
#include "arch_private.h"

#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_interp.h>

#include "paths.h"
#include "text.h"

enum { F_BF = 1u << ARCH_BITFUSION, F_SY = 1u << ARCH_SYSTOLIC, F_GPU = 1u << ARCH_GPU,
       F_ARRAY = F_BF | F_SY, F_ALL = F_BF | F_SY | F_GPU };

typedef enum key_type { K_STR, K_U32, K_U64, K_DBL, K_BOOL, K_ENUM } key_type;

static const char *const family_names[] = {"bitfusion", "systolic", "gpu", NULL};
static const char *const sparsity_names[] = {"none", "x", "both", NULL};
static const char *const compress_names[] = {"none", "bitmap", "rle", NULL};
static const char *const fp_mode_names[] = {"significand", "native", NULL};
static const char *const block_scale_names[] = {"unit", "vector", NULL};
static const char *const nonmac_names[] = {"separate", "fused", "free", NULL};
static const char *const objective_names[] = {"cycles", "energy", "edp", NULL};
static const char *const lane_reduce_names[] = {"ic", "window", NULL};
static const char *const bool_names[] = {"false", "true", "no", "yes", "0", "1", NULL};

typedef struct arch_key {
    const char *section, *key;
    key_type type;
    size_t offset;
    double min, max;            /* numeric range, in file units */
    double scale;               /* stored = value * scale */
    const char *const *names;   /* K_ENUM */
    unsigned allowed, required; /* family masks */
    const char *def;            /* default as text; NULL = none (required or derived) */
    /* arch/FORMAT.md's key tables are printed from these (arch_keys_doc): */
    const char *unit;           /* "" for names and booleans (the values say it) */
    const char *def_doc;        /* the default in words where def does not say it; NULL: def,
                                 * or "required" */
    const char *doc;            /* its meaning; NULL: documented on the line above, with it */
} arch_key;

#define OFF(f) offsetof(arch, f)
#define BIG 1e18

/* Every key of the format. arch/FORMAT.md's key tables are printed from it (arch_keys_doc,
 * `make arch-doc`; tests/test_arch.c fails when the shipped file differs). */
static const arch_key arch_keys[] = {
    {"arch", "name", K_STR, OFF(name), 0, 0, 1, NULL, F_ALL, 0, NULL,
     "", "file stem (which must then be of that set too)", "name in results"},
    {"arch", "family", K_ENUM, OFF(family), 0, 0, 1, family_names, F_ALL, F_ALL, NULL,
     "", NULL, "which model the file describes (above)"},
    {"arch", "freq_mhz", K_DBL, OFF(freq_hz), 1e-3, 1e6, 1e6, NULL, F_ALL, F_ALL, NULL,
     "MHz", NULL, "clock; cycles / clock = latency"},
    {"array", "rows", K_U32, OFF(rows), 1, 65536, 1, NULL, F_ARRAY, F_ARRAY, NULL,
     "count", NULL, "input lanes N: reduction elements side by side (the simulator's `a`)"},
    {"array", "cols", K_U32, OFF(cols), 1, 65536, 1, NULL, F_ARRAY, F_ARRAY, NULL,
     "count", NULL, "output lanes M (its `c`); rows x cols fusion units"},
    {"array", "brick_bits", K_U32, OFF(brick_bits), 1, 64, 1, NULL, F_BF, 0, "2",
     "bits", NULL, "BitBrick width; pmin and pmax must be multiples"},
    {"array", "pmax", K_U32, OFF(pmax), 1, 64, 1, NULL, F_BF, F_BF, NULL,
     "bits", NULL, "widest operand one fusion unit takes in one cycle"},
    {"array", "pmin", K_U32, OFF(pmin), 1, 64, 1, NULL, F_BF, F_BF, NULL,
     "bits", NULL, "narrowest; narrower operands run as pmin"},
    {"array", "native_bits", K_U32, OFF(pmax), 1, 64, 1, NULL, F_SY, F_SY, NULL,
     "bits", NULL, "the one operand width of a systolic array (= pmax = pmin)"},
    {"array", "psum_bits", K_U32, OFF(psum_bits), 1, 64, 1, NULL, F_ARRAY, 0, "32",
     "bits", NULL, "partial-sum width in the output buffer"},
    {"array", "fp_mode", K_ENUM, OFF(fp_mode), 0, 0, 1, fp_mode_names, F_ARRAY, 0, "significand",
     "", NULL, "how a float occupies the multiplier (below)"},
    {"array", "block_scale", K_ENUM, OFF(block_scale), 0, 0, 1, block_scale_names, F_ARRAY, 0, "unit",
     "", NULL,
      "where the per-block scales of block-scaled operands (MX formats, NVFP4, bfp with a "
      "block) are applied: `unit` = scale adders and a partial-sum shifter beside the bricks "
      "(narrow logic, no cycles: an MX-capable array); `vector` = no scale hardware, each block"
      " product's partial sum is rescaled on the vector lanes (1 op per block product, 2 with "
      "NVFP4's E4M3 scales)"},
    {"array", "vector_lanes", K_U32, OFF(vector_lanes), 1, 1u << 24, 1, NULL, F_ARRAY, 0, NULL,
     "ops/cycle", "cols", "elementwise ops per cycle (UPDATE, non-MAC layers, bias adds)"},
    {"buffers", "wbuf_bytes", K_U64, OFF(buf_bytes[ARCH_WBUF]), 1, BIG, 1, NULL, F_ARRAY, F_ARRAY, NULL,
     "bytes", NULL, "weight (y operand) buffer"},
    {"buffers", "abuf_bytes", K_U64, OFF(buf_bytes[ARCH_ABUF]), 1, BIG, 1, NULL, F_ARRAY, F_ARRAY, NULL,
     "bytes", NULL, "activation (x operand) buffer"},
    {"buffers", "obuf_bytes", K_U64, OFF(buf_bytes[ARCH_OBUF]), 1, BIG, 1, NULL, F_ARRAY, F_ARRAY, NULL,
     "bytes", NULL, "output / partial-sum buffer"},
    {"buffers", "double_buffer", K_BOOL, OFF(double_buffer), 0, 0, 1, NULL, F_ARRAY, 0, "true",
     "", NULL, "a tile may use half of each buffer (whole buffer if false)"},
    {"buffers", "wbuf_read_pj_per_bit", K_DBL, OFF(buf_read_pj_per_bit[ARCH_WBUF]), 0, 1e6, 1, NULL, F_ARRAY, 0, NULL,
     "pJ/bit", "SRAM table", "weight buffer access energy"},
    {"buffers", "wbuf_write_pj_per_bit", K_DBL, OFF(buf_write_pj_per_bit[ARCH_WBUF]), 0, 1e6, 1, NULL, F_ARRAY, 0, NULL,
     "pJ/bit", "SRAM table", NULL},
    {"buffers", "abuf_read_pj_per_bit", K_DBL, OFF(buf_read_pj_per_bit[ARCH_ABUF]), 0, 1e6, 1, NULL, F_ARRAY, 0, NULL,
     "pJ/bit", "SRAM table", "activation buffer"},
    {"buffers", "abuf_write_pj_per_bit", K_DBL, OFF(buf_write_pj_per_bit[ARCH_ABUF]), 0, 1e6, 1, NULL, F_ARRAY, 0, NULL,
     "pJ/bit", "SRAM table", NULL},
    {"buffers", "obuf_read_pj_per_bit", K_DBL, OFF(buf_read_pj_per_bit[ARCH_OBUF]), 0, 1e6, 1, NULL, F_ARRAY, 0, NULL,
     "pJ/bit", "SRAM table", "output buffer"},
    {"buffers", "obuf_write_pj_per_bit", K_DBL, OFF(buf_write_pj_per_bit[ARCH_OBUF]), 0, 1e6, 1, NULL, F_ARRAY, 0, NULL,
     "pJ/bit", "SRAM table", NULL},
    {"dram", "bits_per_cycle", K_U32, OFF(dram_bits_per_cycle), 1, 1u << 20, 1, NULL, F_ARRAY, F_ARRAY, NULL,
     "bits/cycle", NULL, "DRAM interface width"},
    {"dram", "bandwidth_gb_s", K_DBL, OFF(mem_bytes_s), 1e-3, 1e6, 1e9, NULL, F_GPU, F_GPU, NULL,
     "GB/s", NULL, "memory bandwidth of a GPU"},
    {"dram", "pj_per_bit", K_DBL, OFF(dram_pj_per_bit), 0, 1e6, 1, NULL, F_ALL, F_ALL, NULL,
     "pJ/bit", NULL, "DRAM energy per bit moved either way (BitFusion's code: 15)"},
    {"dram", "compress", K_ENUM, OFF(dram_compress), 0, 0, 1, compress_names, F_ALL, 0, "none",
     "", NULL,
      "DRAM format of sparse x/y tensors of b-bit elements at density d: bitmap = 1 + d·b bits "
      "per element, rle = max(d, 2^−rle_run_bits)·(b + rle_run_bits) (a run field counts at "
      "most 2^rle_run_bits zeros, so even an all-zero tensor costs run entries); used only "
      "where smaller than dense"},
    {"dram", "rle_run_bits", K_U32, OFF(rle_run_bits), 1, 32, 1, NULL, F_ALL, 0, "4",
     "bits", NULL, "zero-run length field of `rle`"},
    {"energy", "core_pj_per_cycle", K_DBL, OFF(core_pj_per_cycle), 0, 1e12, 1, NULL, F_ARRAY, F_ARRAY, NULL,
     "pJ", NULL,
      "whole array, per busy (non-stalled) cycle, any precision (the BitFusion simulator's "
      "model)"},
#define CORE_MODE(x, y, ix, iy, doc)                                                          \
    {"energy", "core_pj_per_cycle_" #x "x" #y, K_DBL, OFF(core_pj_by_mode[ix][iy]), 0, 1e12, 1, \
     NULL, F_BF, 0, NULL,                                                                      \
     "pJ", "`core_pj_per_cycle`", doc}
#define CORE_MODE_J(x, y, ix, iy) CORE_MODE(x, y, ix, iy, NULL)
    CORE_MODE(2, 2, 0, 0, "whole array, per busy cycle in one fusion mode, "
                          "`core_pj_per_cycle_AxW` (below)"),
    CORE_MODE_J(2, 4, 0, 1), CORE_MODE_J(2, 8, 0, 2), CORE_MODE_J(2, 16, 0, 3),
    CORE_MODE_J(4, 2, 1, 0), CORE_MODE_J(4, 4, 1, 1), CORE_MODE_J(4, 8, 1, 2), CORE_MODE_J(4, 16, 1, 3),
    CORE_MODE_J(8, 2, 2, 0), CORE_MODE_J(8, 4, 2, 1), CORE_MODE_J(8, 8, 2, 2), CORE_MODE_J(8, 16, 2, 3),
    CORE_MODE_J(16, 2, 3, 0), CORE_MODE_J(16, 4, 3, 1), CORE_MODE_J(16, 8, 3, 2), CORE_MODE_J(16, 16, 3, 3),
#undef CORE_MODE_J
#undef CORE_MODE
    {"energy", "vector_pj_per_op", K_DBL, OFF(vector_pj_per_op), 0, 1e9, 1, NULL, F_ARRAY, 0, NULL,
     "pJ", "per-format table",
      "per elementwise op; when not stated, Horowitz (ISSCC 2014, 45 nm): an add 0.03 (int8) / "
      "0.1 (int9-32) / 0.4 (fp16) / 0.9 pJ (fp32), a multiply-add (norm, softmax, update) adds "
      "0.2 / 3.1 / 1.1 / 3.7 pJ"},
    {"energy", "leak_mw", K_DBL, OFF(leak_mw), 0, 1e9, 1, NULL, F_ALL, 0, "0",
     "mW", NULL, "leakage power; energy = leak_mw x latency"},
    {"energy", "pj_per_op_fp32", K_DBL, OFF(gpu_pj_per_op[ARCH_GPU_FP32]), 0, 1e9, 1, NULL, F_GPU, 0, "0",
     "pJ/op", NULL, "GPU energy per op (a MAC is 2 ops) of each format class"},
    {"energy", "pj_per_op_fp16", K_DBL, OFF(gpu_pj_per_op[ARCH_GPU_FP16]), 0, 1e9, 1, NULL, F_GPU, 0, "0",
     "pJ/op", NULL, NULL},
    {"energy", "pj_per_op_bf16", K_DBL, OFF(gpu_pj_per_op[ARCH_GPU_BF16]), 0, 1e9, 1, NULL, F_GPU, 0, "0",
     "pJ/op", NULL, NULL},
    {"energy", "pj_per_op_fp8", K_DBL, OFF(gpu_pj_per_op[ARCH_GPU_FP8]), 0, 1e9, 1, NULL, F_GPU, 0, "0",
     "pJ/op", NULL, NULL},
    {"energy", "pj_per_op_int8", K_DBL, OFF(gpu_pj_per_op[ARCH_GPU_INT8]), 0, 1e9, 1, NULL, F_GPU, 0, "0",
     "pJ/op", NULL, NULL},
    {"energy", "pj_per_op_int4", K_DBL, OFF(gpu_pj_per_op[ARCH_GPU_INT4]), 0, 1e9, 1, NULL, F_GPU, 0, "0",
     "pJ/op", NULL, NULL},
    {"energy", "pj_per_op_tf32", K_DBL, OFF(gpu_pj_per_op[ARCH_GPU_TF32]), 0, 1e9, 1, NULL, F_GPU, 0, "0",
     "pJ/op", NULL, NULL},
    {"energy", "pj_per_op_fp6", K_DBL, OFF(gpu_pj_per_op[ARCH_GPU_FP6]), 0, 1e9, 1, NULL, F_GPU, 0, "0",
     "pJ/op", NULL, NULL},
    {"energy", "pj_per_op_fp4", K_DBL, OFF(gpu_pj_per_op[ARCH_GPU_FP4]), 0, 1e9, 1, NULL, F_GPU, 0, "0",
     "pJ/op", NULL, NULL},
    {"gpu", "peak_tops_fp32", K_DBL, OFF(gpu_peak_ops_s[ARCH_GPU_FP32]), 1e-6, 1e6, 1e12, NULL, F_GPU, F_GPU, NULL,
     "10^12 ops/s", NULL, "peak of the fp32 class"},
    {"gpu", "peak_tops_fp16", K_DBL, OFF(gpu_peak_ops_s[ARCH_GPU_FP16]), 0, 1e6, 1e12, NULL, F_GPU, 0, "0",
     "10^12 ops/s", NULL,
      "dense peaks of the other classes (datasheet figures without 2:4 sparsity); 0 = no fast "
      "path"},
    {"gpu", "peak_tops_bf16", K_DBL, OFF(gpu_peak_ops_s[ARCH_GPU_BF16]), 0, 1e6, 1e12, NULL, F_GPU, 0, "0",
     "10^12 ops/s", NULL, NULL},
    {"gpu", "peak_tops_fp8", K_DBL, OFF(gpu_peak_ops_s[ARCH_GPU_FP8]), 0, 1e6, 1e12, NULL, F_GPU, 0, "0",
     "10^12 ops/s", NULL, NULL},
    {"gpu", "peak_tops_int8", K_DBL, OFF(gpu_peak_ops_s[ARCH_GPU_INT8]), 0, 1e6, 1e12, NULL, F_GPU, 0, "0",
     "10^12 ops/s", NULL, NULL},
    {"gpu", "peak_tops_int4", K_DBL, OFF(gpu_peak_ops_s[ARCH_GPU_INT4]), 0, 1e6, 1e12, NULL, F_GPU, 0, "0",
     "10^12 ops/s", NULL, NULL},
    {"gpu", "peak_tops_tf32", K_DBL, OFF(gpu_peak_ops_s[ARCH_GPU_TF32]), 0, 1e6, 1e12, NULL, F_GPU, 0, "0",
     "10^12 ops/s", NULL, NULL},
    {"gpu", "peak_tops_fp6", K_DBL, OFF(gpu_peak_ops_s[ARCH_GPU_FP6]), 0, 1e6, 1e12, NULL, F_GPU, 0, "0",
     "10^12 ops/s", NULL, NULL},
    {"gpu", "peak_tops_fp4", K_DBL, OFF(gpu_peak_ops_s[ARCH_GPU_FP4]), 0, 1e6, 1e12, NULL, F_GPU, 0, "0",
     "10^12 ops/s", NULL, NULL},
    /* no default text: fused for arrays, separate for gpu (arch_parse_buffer) */
    {"schedule", "nonmac", K_ENUM, OFF(nonmac), 0, 0, 1, nonmac_names, F_ALL, 0, NULL,
     "", "fused (B, S), separate (G)",
      "how non-MAC work (norm, pool, activation, residual add, softmax, bias) runs: one kernel "
      "per op streaming whole tensors (eager GPU frameworks); fused into the neighbouring MAC "
      "passes' input and output stages, only tensors that must exist in DRAM moving (BatchNorm "
      "fission-fusion, Jung et al., MLSys 2019; rules in sim/cost.c NON-MAC WORK); or not "
      "counted (MAC layers only, the public BitFusion simulator's and the papers' accounting)"},
    {"schedule", "tiling_objective", K_ENUM, OFF(objective), 0, 0, 1, objective_names, F_ARRAY, 0, "edp",
     "", NULL,
      "what the tiling search of a training pass minimises (ties: the other measure); `bitsim "
      "cost --conv` and `--out ref` (reference mode) always use cycles, the public simulator's "
      "choice"},
    {"schedule", "lane_reduce", K_ENUM, OFF(lane_reduce), 0, 0, 1, lane_reduce_names, F_BF, 0, "ic",
     "", NULL,
      "which reduction the extra lanes of a narrow fusion mode split in a direct convolution: "
      "input channels only (BitFusion's get_compute_cycles) or kh·kw·ic — a sensitivity switch,"
      " bitsim's own"},
    {"sparsity", "mode", K_ENUM, OFF(sparsity), 0, 0, 1, sparsity_names, F_ALL, 0, "none",
     "", NULL, "zeros skipped: compute scales by density_x (x) or density_x*density_y (both)"},
    {"area", "core_mm2", K_DBL, OFF(area_mm2[0]), 0, 1e6, 1, NULL, F_ALL, 0, NULL,
     "mm^2", "0 (not stated)",
      "array area (a `gpu` file accepts the key, but GPU archs have no area model: area and "
      "power budgets need an array)"},
    {"area", "wbuf_mm2", K_DBL, OFF(area_mm2[1 + ARCH_WBUF]), 0, 1e6, 1, NULL, F_ARRAY, 0, NULL,
     "mm^2", "SRAM table x banks, else 0", "buffer areas"},
    {"area", "abuf_mm2", K_DBL, OFF(area_mm2[1 + ARCH_ABUF]), 0, 1e6, 1, NULL, F_ARRAY, 0, NULL,
     "mm^2", "SRAM table x banks, else 0", NULL},
    {"area", "obuf_mm2", K_DBL, OFF(area_mm2[1 + ARCH_OBUF]), 0, 1e6, 1, NULL, F_ARRAY, 0, NULL,
     "mm^2", "SRAM table x banks, else 0", NULL},
};
#define N_KEYS (sizeof arch_keys / sizeof arch_keys[0])

/* arch/FORMAT.md: letters, digits and ._+- ; at most ARCH_NAME_MAX - 1 characters. */
static bool valid_arch_name(const char *v)
{
    return *v && strlen(v) < ARCH_NAME_MAX &&
           strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-") ==
               strlen(v);
}

static bool parse_value(arch *a, const arch_key *k, const char *v)
{
    char *dst = (char *)a + k->offset;
    uint64_t u;
    double d;
    int i;
    switch (k->type) {
    case K_STR:
        if (!valid_arch_name(v))
            return false;
        snprintf(dst, ARCH_NAME_MAX, "%s", v);
        return true;
    case K_U32:
        if (!text_parse_u64(v, (uint64_t)k->min, (uint64_t)k->max, &u))
            return false;
        *(uint32_t *)(void *)dst = (uint32_t)u;
        return true;
    case K_U64:
        if (!text_parse_u64(v, (uint64_t)k->min, (uint64_t)k->max, &u))
            return false;
        *(uint64_t *)(void *)dst = u;
        return true;
    case K_DBL:
        if (!text_parse_double(v, k->min, k->max, &d))
            return false;
        *(double *)(void *)dst = d * k->scale;
        return true;
    case K_BOOL:
        if ((i = text_lookup(bool_names, v)) < 0)
            return false;
        *(bool *)(void *)dst = i % 2 == 1;
        return true;
    case K_ENUM:
        if ((i = text_lookup(k->names, v)) < 0)
            return false;
        /* every enum field of arch is a plain C enum (int-sized) */
        *(int *)(void *)dst = i;
        return true;
    }
    return false;
}

static const arch_key *find_key(const char *section, const char *key)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (!strcmp(arch_keys[i].section, section) && !strcmp(arch_keys[i].key, key))
            return &arch_keys[i];
    return NULL;
}

static void describe_range(const arch_key *k, char *buf, size_t n)
{
    if (k->type == K_ENUM || k->type == K_BOOL)
        text_join(k->type == K_ENUM ? k->names : bool_names, "|", buf, n);
    else if (k->type == K_STR)
        snprintf(buf, n, "a word of letters, digits and ._+-");
    else
        snprintf(buf, n, "a number in [%g, %g]", k->min, k->max);
}

static const char *path_stem(const char *path, char *buf, size_t n)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(buf, n, "%s", base);
    char *dot = strrchr(buf, '.');
    if (dot && dot != buf)
        *dot = '\0';
    return buf;
}

/* The line of key (section, name) in the file being parsed, 0 if it is not there. */
static long line_of_key(const long *line_of, const char *section, const char *name)
{
    return line_of[find_key(section, name) - arch_keys];
}

/* Buffer energies and areas not stated in the file come from the SRAM table. */
static int derive_buffers(arch *a, const bool *set, const long *line_of, const char *path,
                          bs_error *e)
{
    static const size_t rd_key[ARCH_BUF_COUNT] = {OFF(buf_read_pj_per_bit[ARCH_WBUF]),
        OFF(buf_read_pj_per_bit[ARCH_ABUF]), OFF(buf_read_pj_per_bit[ARCH_OBUF])};
    uint64_t banks[ARCH_BUF_COUNT] = {(uint64_t)a->rows * a->cols, a->rows, a->cols};
    uint32_t word[ARCH_BUF_COUNT] = {a->pmax * a->pmax / a->pmin, a->pmax * a->pmax / a->pmin,
                                     a->psum_bits};
    for (int b = 0; b < ARCH_BUF_COUNT; b++) {
        bool need = false;
        for (size_t i = 0; i < N_KEYS; i++) {
            size_t off = arch_keys[i].offset;
            bool energy = off == rd_key[b] || off == OFF(buf_write_pj_per_bit[b]);
            if (energy && !set[i])
                need = true;
        }
        arch_sram s;
        uint64_t bank_bytes = a->buf_bytes[b] / banks[b];
        bool found = bank_bytes > 0 &&
                     arch_sram_lookup(bank_bytes, word[b], b == ARCH_OBUF, &s, NULL) == BS_OK;
        if (!found && !need)
            continue;   /* energies stated; the area stays "not stated" */
        if (!found) {
            static const char *const bufname[] = {"wbuf", "abuf", "obuf"};
            static const char *const bytes_key[] = {"wbuf_bytes", "abuf_bytes", "obuf_bytes"};
            return err_at(e, path, line_of_key(line_of, "buffers", bytes_key[b]), bytes_key[b],
                          "energy not stated and a bank of %llu bytes is outside the SRAM "
                          "table; state %s_read_pj_per_bit and %s_write_pj_per_bit",
                          (unsigned long long)bank_bytes, bufname[b], bufname[b]);
        }
        for (size_t i = 0; i < N_KEYS; i++) {
            if (set[i])
                continue;
            if (arch_keys[i].offset == rd_key[b])
                a->buf_read_pj_per_bit[b] = s.read_pj_per_bit;
            else if (arch_keys[i].offset == OFF(buf_write_pj_per_bit[b]))
                a->buf_write_pj_per_bit[b] = s.write_pj_per_bit;
            else if (arch_keys[i].offset == OFF(area_mm2[1 + b]))
                a->area_mm2[1 + b] = s.area_mm2 * (double)banks[b];
        }
    }
    return BS_OK;
}

static int check_family(arch *a, const char *path, const long *line_of, bs_error *e)
{
    long pmin_line = line_of_key(line_of, "array", "pmin"),
         pmax_line = line_of_key(line_of, "array", "pmax");
    if (a->family == ARCH_SYSTOLIC) {
        a->pmin = a->pmax;      /* native_bits: one width, no fusion */
        a->brick_bits = a->pmax;
    }
    if (a->family == ARCH_GPU)
        return BS_OK;
    if (a->pmin > a->pmax)
        return err_at(e, path, pmin_line, "pmin", "pmin (%u) exceeds pmax (%u)", a->pmin,
                      a->pmax);
    if (a->family == ARCH_BITFUSION) {
        bool pmax_bad = a->pmax % a->brick_bits != 0;
        if (pmax_bad || a->pmin < a->brick_bits || a->pmin % a->brick_bits)
            return err_at(e, path, pmax_bad ? pmax_line : pmin_line, pmax_bad ? "pmax" : "pmin",
                          "pmin and pmax must be multiples of brick_bits (%u), pmin >= it",
                          a->brick_bits);
    }
    if (a->vector_lanes == 0)
        a->vector_lanes = a->cols;
    return BS_OK;
}

/* Where a section's header is, for keys missing from it. */
typedef struct section_header {
    char name[32];
    long line;
} section_header;

/* The line of section sec's header, else fallback (the file's last line). */
static long section_line(const section_header *h, size_t n, const char *sec, long fallback)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(h[i].name, sec) == 0)
            return h[i].line;
    return fallback;
}

int arch_parse_buffer(arch *a, const char *path, const char *buf, size_t len, bs_error *e)
{
    memset(a, 0, sizeof *a);
    snprintf(a->source, sizeof a->source, "%s", path);
    long line_of[N_KEYS] = {0};
    bool set[N_KEYS] = {false};
    for (size_t i = 0; i < N_KEYS; i++)
        if (arch_keys[i].def && !parse_value(a, &arch_keys[i], arch_keys[i].def))
            return err_set(e, BS_EINTERNAL, "arch: bad default for %s", arch_keys[i].key);

    text_reader r;
    text_open_buffer(&r, path, buf, len);
    char section[32] = "";
    section_header headers[16];
    size_t n_headers = 0;
    char *s;
    int rc;
    while ((rc = text_next_line(&r, &s, e)) == 1) {
        size_t n = strlen(s);
        if (s[0] == '[') {
            if (s[n - 1] != ']' || n < 3 || n - 2 >= sizeof section)
                return err_at(e, path, r.line_no, "section", "bad section header '%s'", s);
            memcpy(section, s + 1, n - 2);
            section[n - 2] = '\0';
            bool known = false;
            for (size_t i = 0; i < N_KEYS; i++)
                known |= !strcmp(arch_keys[i].section, section);
            if (!known)
                return err_at(e, path, r.line_no, "section", "unknown section [%s]", section);
            if (n_headers < sizeof headers / sizeof headers[0]) {
                snprintf(headers[n_headers].name, sizeof headers[0].name, "%s", section);
                headers[n_headers++].line = r.line_no;
            }
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq)
            return err_at(e, path, r.line_no, NULL, "expected 'key = value' or '[section]'");
        char *key = s, *val = eq + 1, *end = eq;
        while (end > key && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        *end = '\0';
        while (*val == ' ' || *val == '\t')
            val++;
        if (!*key)
            return err_at(e, path, r.line_no, NULL, "missing key before '='");
        if (!section[0])
            return err_at(e, path, r.line_no, key, "key outside any [section]");
        const arch_key *k = find_key(section, key);
        if (!k)
            return err_at(e, path, r.line_no, key, "unknown key in [%s]", section);
        size_t idx = (size_t)(k - arch_keys);
        if (set[idx])
            return err_at(e, path, r.line_no, key, "given twice (first on line %ld)",
                          line_of[idx]);
        if (!parse_value(a, k, val)) {
            char want[128];
            describe_range(k, want, sizeof want);
            return err_at(e, path, r.line_no, key, "bad value '%s' (want %s)", val, want);
        }
        set[idx] = true;
        line_of[idx] = r.line_no;
    }
    if (rc != 0)
        return -rc;
    long last_line = r.line_no > 0 ? r.line_no : 1;

    const arch_key *fam = find_key("arch", "family");
    if (!set[fam - arch_keys])
        return err_at(e, path, section_line(headers, n_headers, "arch", last_line), "family", "missing required key in [arch]");
    unsigned bit = 1u << a->family;
    for (size_t i = 0; i < N_KEYS; i++) {
        const arch_key *k = &arch_keys[i];
        if (set[i] && !(k->allowed & bit))
            return err_at(e, path, line_of[i], k->key, "not used by family %s",
                          family_names[a->family]);
        if (!set[i] && (k->required & bit))
            return err_at(e, path, section_line(headers, n_headers, k->section, last_line), k->key,
                          "missing required key in [%s]", k->section);
    }
    if (!set[find_key("arch", "name") - arch_keys]) {
        char stem[ARCH_NAME_MAX];
        snprintf(a->name, sizeof a->name, "%s", path_stem(path, stem, sizeof stem));
    }
    if ((rc = check_family(a, path, line_of, e)) != 0)
        return rc;
    /* Defaults that depend on the family: non-MAC work fused on an accelerator, separate
     * kernels on a GPU; vector energy from cost.c's per-format table unless stated. */
    if (!set[find_key("schedule", "nonmac") - arch_keys])
        a->nonmac = a->family == ARCH_GPU ? ARCH_NONMAC_SEPARATE : ARCH_NONMAC_FUSED;
    if (!set[find_key("energy", "vector_pj_per_op") - arch_keys])
        a->vector_pj_per_op = -1;
    /* Fusion modes whose core energy is not stated cost core_pj_per_cycle (the reference
     * model: any precision, one energy per busy cycle). */
    for (size_t i = 0; i < N_KEYS; i++)
        if (!set[i] && arch_keys[i].offset >= OFF(core_pj_by_mode) &&
            arch_keys[i].offset < OFF(core_pj_by_mode) + sizeof a->core_pj_by_mode)
            *(double *)(void *)((char *)a + arch_keys[i].offset) = a->core_pj_per_cycle;
    if (a->family != ARCH_GPU && (rc = derive_buffers(a, set, line_of, path, e)) != 0)
        return rc;
    return BS_OK;
}

int arch_load(arch *a, const char *name_or_path, bs_error *e)
{
    char path[1024];
    if (!paths_resolve("arch", name_or_path, ".ini", path, sizeof path)) {
        char dir[1024], near[64];
        if (!strchr(name_or_path, '/') && paths_data_dir("arch", dir, sizeof dir) &&
            paths_closest_name(dir, ".ini", name_or_path, near, sizeof near))
            return err_set(e, BS_EINPUT, "arch '%s': no such file or shipped arch "
                           "(arch/NAME.ini); did you mean '%s'?", name_or_path, near);
        return err_set(e, BS_EINPUT, "arch '%s': no such file or shipped arch (arch/NAME.ini)",
                       name_or_path);
    }
    text_reader r;
    int rc = text_open_file(&r, path, e);
    if (rc)
        return rc;
    rc = arch_parse_buffer(a, path, r.buf, r.len, e);
    text_close(&r);
    /* A name= value is checked where it is read; a name that fails the same check came from
     * the file name (issue 13 D10: "my arch.ini", control characters). */
    if (rc == BS_OK && !valid_arch_name(a->name))
        return err_at(e, path, 0, "name", "the file name is not a valid arch name (letters, "
                      "digits, ._+-, at most %d characters): give name = in [arch]",
                      ARCH_NAME_MAX - 1);
    return rc;
}

void arch_free(arch *a)
{
    (void)a;
}

/* The name of each enum value from its names table, NULL past the end (arch.h). */
#define ENUM_NAME_FN(fn, type, names, count) \
    const char *fn(type v) { return (unsigned)v < (count) ? (names)[v] : NULL; }
ENUM_NAME_FN(arch_nonmac_name, arch_nonmac, nonmac_names, ARCH_NONMAC_COUNT)
ENUM_NAME_FN(arch_objective_name, arch_objective, objective_names, ARCH_OBJ_COUNT)
ENUM_NAME_FN(arch_lane_reduce_name, arch_lane_reduce, lane_reduce_names, ARCH_LANES_COUNT)
#undef ENUM_NAME_FN

const char *arch_key_name(size_t i, const char **section)
{
    if (i >= N_KEYS)
        return NULL;
    if (section)
        *section = arch_keys[i].section;
    return arch_keys[i].key;
}

/* The bytes of a key's value in struct arch (strings are hashed up to their end). */
static size_t key_bytes(key_type t)
{
    static const size_t bytes[] = {[K_STR] = 1, [K_U32] = sizeof(uint32_t),
                                   [K_U64] = sizeof(uint64_t), [K_DBL] = sizeof(double),
                                   [K_BOOL] = sizeof(bool), [K_ENUM] = sizeof(int)};
    return bytes[t];
}

size_t arch_key_field(size_t i, size_t *offset)
{
    if (i >= N_KEYS)
        return 0;
    *offset = arch_keys[i].offset;
    return key_bytes(arch_keys[i].type);
}

/* ---- the key reference (arch/FORMAT.md) ---------------------------------------------------- */

/* A bound as people write it: 10^k and 2^k for the large round ones. */
static void bound_text(double v, char *buf, size_t n)
{
    double l10 = log10(v), l2 = log2(v);
    if (v >= 1e5 && l10 == floor(l10))
        snprintf(buf, n, "10^%.0f", l10);
    else if (v >= 1024 && l2 == floor(l2))
        snprintf(buf, n, "2^%.0f", l2);
    else
        snprintf(buf, n, "%g", v);
}

/* The values a key takes: its names, or its range in file units. */
static void key_values(const arch_key *k, char *buf, size_t n)
{
    char lo[32], hi[32];
    switch (k->type) {
    case K_STR:
        snprintf(buf, n, "letters, digits, `._+-`");
        return;
    case K_BOOL:
        snprintf(buf, n, "`true`/`false`, `yes`/`no`, `1`/`0`");
        return;
    case K_ENUM: {
        size_t len = 0;
        buf[0] = '\0';
        for (size_t i = 0; k->names[i] && len < n; i++)
            len += (size_t)snprintf(buf + len, n - len, "%s`%s`", i ? "\\|" : "", k->names[i]);
        return;
    }
    default:
        bound_text(k->min, lo, sizeof lo);
        bound_text(k->max, hi, sizeof hi);
        if (k->max >= BIG)
            snprintf(buf, n, "%s or more", lo);
        else
            snprintf(buf, n, "%s..%s", lo, hi);
    }
}

/* One line of a section's table; the rows documented with the line above add their keys. */
typedef struct doc_line {
    char keys[1024], values[256], fams[4];
    const char *unit, *def, *doc;
} doc_line;

static void doc_line_of(const arch_key *k, doc_line *l)
{
    snprintf(l->keys, sizeof l->keys, "`%s`", k->key);
    key_values(k, l->values, sizeof l->values);
    size_t f = 0;
    for (int i = 0; i < ARCH_FAMILY_COUNT; i++)
        if (k->allowed & (1u << i))
            l->fams[f++] = "BSG"[i];
    l->fams[f] = '\0';
    l->unit = k->unit;
    l->def = k->def_doc ? k->def_doc : k->def ? k->def : k->required ? "required" : "none";
    l->doc = k->doc;
}

int arch_keys_doc(FILE *out, const char *section, bs_error *e)
{
    bool any = false;
    doc_line cur = {0}, row;
    const char *in = NULL;
    for (size_t i = 0; i <= N_KEYS; i++) {
        const arch_key *k = i < N_KEYS ? &arch_keys[i] : NULL;
        if (k && section && strcmp(k->section, section))
            continue;
        if (k) {
            doc_line_of(k, &row);
            if (!k->doc) {      /* documented with the line above: it must read the same */
                if (!any || strcmp(in, k->section) || strcmp(row.values, cur.values) ||
                    strcmp(row.unit, cur.unit) || strcmp(row.fams, cur.fams) ||
                    strcmp(row.def, cur.def))
                    return err_set(e, BS_EINTERNAL, "arch key table: [%s] %s differs from the "
                                   "line it is documented with", k->section, k->key);
                size_t len = strlen(cur.keys);
                snprintf(cur.keys + len, sizeof cur.keys - len, ", %s", row.keys);
                continue;
            }
        }
        if (any)
            fprintf(out, "| %s | %s | %s | %s | %s | %s |\n", cur.keys, cur.values, cur.unit,
                    cur.fams, cur.def, cur.doc);
        if (!k)
            break;
        if (!in || strcmp(in, k->section)) {
            if (!section)
                fprintf(out, "%s[%s]\n", in ? "\n" : "", k->section);
            fprintf(out, "| key | values | unit | families | default | meaning |\n"
                         "|---|---|---|---|---|---|\n");
        }
        in = k->section;
        cur = row;
        any = true;
    }
    if (!any)
        return err_set(e, BS_EINPUT, "arch keys: no section [%s] in the arch format", section);
    return BS_OK;
}

/* ---- the SRAM table ---------------------------------------------------------------------- */

#define SRAM_ROWS_MAX 64

typedef struct sram_row {
    double log2_bytes, word_bits, read_nj, write_nj, leak_mw, area_mm2;
    int rw_port;
} sram_row;

/* Parses the table's lines (bank_bytes,word_bytes,rw_port,read_nj,write_nj,leak_mw,area_mm2)
 * from r into rows; errors name r's path and the line. */
static int sram_table_parse(text_reader *r, sram_row *rows, int *n, bs_error *e)
{
    int rc;
    char *s;
    *n = 0;
    while ((rc = text_next_line(r, &s, e)) == 1) {
        char *f[8];
        int k = 0;
        for (char *p = s; k < 8; k++) {
            f[k] = p;
            p = strchr(p, ',');
            if (!p) {
                k++;
                break;
            }
            *p++ = '\0';
        }
        double v[7];
        bool ok = k == 7 && *n < SRAM_ROWS_MAX;
        for (int i = 0; ok && i < 7; i++)
            ok = text_parse_double(f[i], 0, 1e12, &v[i]);
        if (!ok || v[0] < 1 || v[1] < 1 || (v[2] != 0 && v[2] != 1))
            return err_at(e, r->path, r->line_no, NULL,
                          "want bank_bytes,word_bytes,rw_port(0|1),read_nj,write_nj,leak_mw,area_mm2");
        rows[*n] = (sram_row){log2(v[0]), v[1] * 8, v[3], v[4], v[5], v[6], (int)v[2]};
        (*n)++;
    }
    if (rc < 0)     /* a reader error (NUL byte, over-long line): e says which */
        return e ? e->code : BS_EINPUT;
    return BS_OK;
}

static int sram_table_read(sram_row *rows, int *n, bs_error *e)
{
    char dir[1024], path[1100];
    if (!paths_data_dir("arch", dir, sizeof dir))
        return err_set(e, BS_EINPUT, "SRAM table: no arch/ directory (%s)", dir);
    snprintf(path, sizeof path, "%s/sram_table.csv", dir);
    text_reader r;
    int rc = text_open_file(&r, path, e);
    if (rc)
        return rc;
    rc = sram_table_parse(&r, rows, n, e);
    text_close(&r);
    return rc;
}

static double interp(const double *x, const double *y, int n, double at)
{
    if (n == 1)
        return y[0];
    gsl_interp *it = gsl_interp_alloc(gsl_interp_linear, (size_t)n);
    if (!it)
        return NAN;
    double v = NAN;
    if (gsl_interp_init(it, x, y, (size_t)n) == GSL_SUCCESS)
        v = gsl_interp_eval(it, x, y, at, NULL);
    gsl_interp_free(it);
    return v;
}

/* The table is read once per process, not once per lookup: every arch parse looks up its
 * three buffers, and sweeps and fronts parse an arch per point or stored run (the reads were
 * nearly all of a parse's time). pthread_once because sweep workers parse archs in parallel;
 * a failed read is kept with its message and reported by every lookup. */
static struct {
    sram_row rows[SRAM_ROWS_MAX];
    int n, rc;
    bs_error err;
} sram_cache;
static pthread_once_t sram_once = PTHREAD_ONCE_INIT;

static void sram_cache_read(void)
{
    err_clear(&sram_cache.err);
    sram_cache.rc = sram_table_read(sram_cache.rows, &sram_cache.n, &sram_cache.err);
}

static int sram_lookup_rows(const sram_row *rows, int n, uint64_t bank_bytes, uint32_t word_bits,
                            bool rw_port, arch_sram *out, bs_error *e)
{
    /* rows of this port kind, sorted by size (insertion sort: the table is tiny) */
    double x[SRAM_ROWS_MAX], col[4][SRAM_ROWS_MAX];
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (rows[i].rw_port != (int)rw_port)
            continue;
        int j = m++;
        while (j > 0 && x[j - 1] > rows[i].log2_bytes) {
            x[j] = x[j - 1];
            for (int c = 0; c < 4; c++)
                col[c][j] = col[c][j - 1];
            j--;
        }
        x[j] = rows[i].log2_bytes;
        col[0][j] = rows[i].read_nj / rows[i].word_bits;
        col[1][j] = rows[i].write_nj / rows[i].word_bits;
        col[2][j] = rows[i].leak_mw;
        col[3][j] = rows[i].area_mm2;
    }
    for (int i = 1; i < m; i++)
        if (x[i] == x[i - 1])
            return err_set(e, BS_EINPUT, "SRAM table: bank size listed twice");
    double at = log2((double)bank_bytes);
    if (m == 0 || at < x[0] - 1e-12 || at > x[m - 1] + 1e-12)
        return err_set(e, BS_EINPUT, "SRAM table: bank of %llu bytes outside the table",
                       (unsigned long long)bank_bytes);
    at = fmin(fmax(at, x[0]), x[m - 1]);
    (void)word_bits;    /* per-bit energy taken as independent of the word width */
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    out->read_pj_per_bit = interp(x, col[0], m, at) * 1e3;
    out->write_pj_per_bit = interp(x, col[1], m, at) * 1e3;
    out->leak_mw = interp(x, col[2], m, at);
    out->area_mm2 = interp(x, col[3], m, at);
    gsl_set_error_handler(old);
    if (!isfinite(out->read_pj_per_bit) || !isfinite(out->write_pj_per_bit))
        return err_set(e, BS_EINTERNAL, "SRAM table: interpolation failed");
    return BS_OK;
}

int arch_sram_lookup(uint64_t bank_bytes, uint32_t word_bits, bool rw_port, arch_sram *out,
                     bs_error *e)
{
    pthread_once(&sram_once, sram_cache_read);
    if (sram_cache.rc) {
        if (e)
            *e = sram_cache.err;
        return sram_cache.rc;
    }
    return sram_lookup_rows(sram_cache.rows, sram_cache.n, bank_bytes, word_bits, rw_port, out,
                            e);
}

int arch_sram_lookup_text(const char *name, const char *buf, size_t len, uint64_t bank_bytes,
                          uint32_t word_bits, bool rw_port, arch_sram *out, bs_error *e)
{
    sram_row rows[SRAM_ROWS_MAX];
    int n;
    text_reader r;
    text_open_buffer(&r, name, buf, len);
    int rc = sram_table_parse(&r, rows, &n, e);
    text_close(&r);
    return rc ? rc : sram_lookup_rows(rows, n, bank_bytes, word_bits, rw_port, out, e);
}

uint64_t arch_hash(const arch *a)
{
    /* Key by key over the format's table, not the raw struct: padding bytes and fields no
     * key sets (the source path) are not part of the identity, and a key added to the table
     * is part of it with no second list to keep in step (test_arch.c perturbs every key). */
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < N_KEYS; i++) {
        const arch_key *k = &arch_keys[i];
        const char *v = (const char *)a + k->offset;
        size_t n = k->type == K_STR ? strnlen(v, ARCH_NAME_MAX) + 1 : key_bytes(k->type);
        h = text_hash64(v, n, h);
    }
    return h;
}
