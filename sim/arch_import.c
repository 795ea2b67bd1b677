/* arch_import.c — BitFusion conf.ini and SCALE-Sim .cfg into bitsim arch files (see the .h).
 *
 * Both are INI files (SCALE-Sim also writes "key: value"). The keys map one to one where the
 * tools model the same thing:
 *   BitFusion simulator          bitsim                     SCALE-Sim
 *   a, c (lanes)                 array.rows, array.cols     ArrayHeight, ArrayWidth
 *   high_prec, low_prec          array.pmax, array.pmin     (none: 8-bit, native_bits = 8)
 *   Wgt/Act/Out_SRAM (bytes)     buffers.w/a/obuf_bytes     Filter/Ifmap/OfmapSramSzkB x 1024
 *   if_width (bits per cycle)    dram.bits_per_cycle        Bandwidth (words/cycle) x 8
 *   frequency (Hz)               arch.freq_mhz              (none: 1000 MHz assumed, said)
 * What neither states, bitsim fills from stated rules, each written as a comment beside it:
 * DRAM 15 pJ/bit (the BitFusion simulator's own constant, arch/FORMAT.md), buffer energies
 * from the shipped SRAM table (by omission: arch.c looks them up), and the core energy per
 * busy cycle as rows x cols x 0.459 pJ — arch/bitfusion.ini's 235.104 pJ for 512 fusion
 * units, i.e. the simulator's 4x4 synthesis row, per fusion unit — or, for a systolic array,
 * 0.3 pJ per PE (8-bit multiply + 32-bit add at 45 nm, Horowitz ISSCC 2014, as
 * arch/systolic-int8.ini). Keys bitsim does not model (mem_size, max_area, gate_count, b,
 * offsets, bank layouts, sparsity) are ignored, and listed in a comment.
 */
#include "arch_import.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "text.h"

enum { MAX_KEYS = 64 };

typedef struct ini_key {
    char section[48], key[48], value[96];
    int line;
} ini_key;

typedef struct ini {
    ini_key keys[MAX_KEYS];
    int n;
} ini;

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *end = s + strlen(s);
    while (end > s && strchr(" \t\r\n", end[-1]))
        *--end = '\0';
    return s;
}

static int ini_read(const char *path, const char *text, ini *out, bs_error *e)
{
    char section[48] = "";
    out->n = 0;
    int lineno = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char buf[256];
        lineno++;
        if (len >= sizeof buf)
            return err_set(e, BS_EINPUT, "%s:%d: line longer than %zu characters", path, lineno,
                           sizeof buf - 1);
        memcpy(buf, p, len);
        buf[len] = '\0';
        p += len + (nl != NULL);
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(buf);
        if (!*s || *s == ';')
            continue;
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (!close || close - s - 1 >= (long)sizeof section)
                return err_set(e, BS_EINPUT, "%s:%d: bad section header", path, lineno);
            *close = '\0';
            snprintf(section, sizeof section, "%s", trim(s + 1));
            continue;
        }
        char *sep = strpbrk(s, "=:");
        if (!sep)
            return err_set(e, BS_EINPUT, "%s:%d: expected 'key = value' or 'key: value'", path,
                           lineno);
        *sep = '\0';
        if (out->n == MAX_KEYS)
            return err_set(e, BS_EINPUT, "%s:%d: more than %d keys", path, lineno, MAX_KEYS);
        ini_key *k = &out->keys[out->n++];
        snprintf(k->section, sizeof k->section, "%s", section);
        snprintf(k->key, sizeof k->key, "%s", trim(s));
        snprintf(k->value, sizeof k->value, "%s", trim(sep + 1));
        k->line = lineno;
    }
    return BS_OK;
}

static const ini_key *ini_find(const ini *c, const char *section, const char *key)
{
    for (int i = 0; i < c->n; i++)
        if (strcasecmp(c->keys[i].section, section) == 0 && strcasecmp(c->keys[i].key, key) == 0)
            return &c->keys[i];
    return NULL;
}

static bool has_section(const ini *c, const char *section)
{
    for (int i = 0; i < c->n; i++)
        if (strcasecmp(c->keys[i].section, section) == 0)
            return true;
    return false;
}

/* A positive number at [section] key, or an error naming the file, line and key. */
static int need_num(const char *path, const ini *c, const char *section, const char *key,
                    double *v, bs_error *e)
{
    const ini_key *k = ini_find(c, section, key);
    if (!k)
        return err_set(e, BS_EINPUT, "%s: [%s] %s: missing (required to import)", path, section,
                       key);
    char *end;
    *v = strtod(k->value, &end);
    if (end == k->value || *trim(end) || !isfinite(*v) || *v <= 0)
        return err_set(e, BS_EINPUT, "%s:%d: [%s] %s: '%s' is not a positive number", path,
                       k->line, section, key, k->value);
    return BS_OK;
}

/* One table row per key to import: where it is, a scale, where it goes. */
typedef struct key_map {
    const char *section, *key;
    double scale;
    const char *out_section, *out_key;
} key_map;

static const key_map bitfusion_keys[] = {
    {"accelerator", "frequency", 1e-6, "arch", "freq_mhz"},
    {"accelerator", "a", 1, "array", "rows"},
    {"accelerator", "c", 1, "array", "cols"},
    {"accelerator", "high_prec", 1, "array", "pmax"},
    {"accelerator", "low_prec", 1, "array", "pmin"},
    {"accelerator", "Wgt_SRAM", 1, "buffers", "wbuf_bytes"},
    {"accelerator", "Act_SRAM", 1, "buffers", "abuf_bytes"},
    {"accelerator", "Out_SRAM", 1, "buffers", "obuf_bytes"},
    {"system", "if_width", 1, "dram", "bits_per_cycle"},
    {NULL, NULL, 0, NULL, NULL},
};

static const key_map scalesim_keys[] = {
    {"architecture_presets", "ArrayHeight", 1, "array", "rows"},
    {"architecture_presets", "ArrayWidth", 1, "array", "cols"},
    {"architecture_presets", "FilterSramSzkB", 1024, "buffers", "wbuf_bytes"},
    {"architecture_presets", "IfmapSramSzkB", 1024, "buffers", "abuf_bytes"},
    {"architecture_presets", "OfmapSramSzkB", 1024, "buffers", "obuf_bytes"},
    {"architecture_presets", "Bandwidth", 8, "dram", "bits_per_cycle"},
    {NULL, NULL, 0, NULL, NULL},
};

int arch_import_text(const char *path, const char *text, char *out, size_t n, bs_error *e)
{
    ini *c = malloc(sizeof *c);
    if (!c)
        return err_set(e, BS_EINTERNAL, "out of memory");
    int rc = ini_read(path, text, c, e);
    bool bitfusion = has_section(c, "accelerator"), scalesim = has_section(c, "architecture_presets");
    if (rc == BS_OK && !bitfusion && !scalesim)
        rc = err_set(e, BS_EINPUT, "%s: neither a BitFusion simulator conf.ini ([accelerator])"
                     " nor a SCALE-Sim .cfg ([architecture_presets])", path);
    const key_map *map = bitfusion ? bitfusion_keys : scalesim_keys;
    double v[16] = {0};
    for (int i = 0; rc == BS_OK && map[i].key; i++) {
        rc = need_num(path, c, map[i].section, map[i].key, &v[i], e);
        v[i] *= map[i].scale;
    }
    if (rc) {
        free(c);
        return rc;
    }
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    double rows = v[bitfusion ? 1 : 0], cols = v[bitfusion ? 2 : 1];
    /* what each output section holds besides the mapped keys, by kind ([0] BitFusion, [1]
     * SCALE-Sim), each filled-in figure with its rule */
    static const char *const sections[] = {"arch", "array", "buffers", "dram", "energy"};
    static const char *const extra[2][5] = {
        {"family = bitfusion\n", "brick_bits = 2\npsum_bits = 32\n",
         "# buffer energies: the shipped SRAM table (arch/sram_table.csv)\n",
         "# DRAM energy: the BitFusion simulator's 15 pJ/bit\npj_per_bit = 15\n",
         "# core: 0.459195 pJ per fusion unit per busy cycle (arch/bitfusion.ini: 235.104 pJ /"
         " 512 units)\n"},
        {"family = systolic\n# SCALE-Sim states no clock: 1000 MHz assumed (edit it)\n"
         "freq_mhz = 1000\n",
         "# SCALE-Sim counts words: an 8-bit array (Bandwidth words x 8 bits)\nnative_bits = 8\n",
         "# buffer energies: the BitFusion simulator's 45 nm CACTI figures (arch/bitfusion.ini);"
         " a SCALE-Sim array's\n# per-PE banks are mostly below the SRAM table's smallest\n"
         "wbuf_read_pj_per_bit = 0.02136565625\nwbuf_write_pj_per_bit = 0.02891615625\n"
         "abuf_read_pj_per_bit = 0.059474375\nabuf_write_pj_per_bit = 0.1137040625\n"
         "obuf_read_pj_per_bit = 0.0331553125\nobuf_write_pj_per_bit = 0.0730840625\n",
         "# DRAM energy: the BitFusion simulator's 15 pJ/bit\npj_per_bit = 15\n",
         "# core: 0.3 pJ per PE per cycle (8-bit multiply + 32-bit add, 45 nm, Horowitz ISSCC"
         " 2014)\n"},
    };
    const ini_key *df = ini_find(c, "architecture_presets", "Dataflow");
    size_t len = 0;
    bool ok = text_appendf(out, n, &len, "# Imported by `bitsim arch import` from %s (%s).\n", base,
                  bitfusion ? "the public BitFusion simulator's configuration"
                            : "a SCALE-Sim configuration");
    if (!bitfusion)
        ok = ok && text_appendf(out, n, &len, "# Its dataflow (%s) is not modelled: bitsim tiles as"
                       " BitFusion does.\n", df ? df->value : "not stated");
    for (int sec = 0; sec < 5 && ok; sec++) {
        ok = text_appendf(out, n, &len, "%s[%s]\n%s", sec ? "\n" : "", sections[sec], extra[!bitfusion][sec]);
        for (int i = 0; map[i].key && ok; i++)
            if (strcmp(map[i].out_section, sections[sec]) == 0)
                ok = text_appendf(out, n, &len, "%s = %.17g\n", map[i].out_key, v[i]);
    }
    ok = ok && text_appendf(out, n, &len, "core_pj_per_cycle = %.9g\nleak_mw = 0\n",
                   rows * cols * (bitfusion ? 235.104 / 512 : 0.3));
    free(c);
    if (!ok)
        return err_set(e, BS_EINTERNAL, "%s: imported arch longer than %zu bytes", path, n);
    return BS_OK;
}
