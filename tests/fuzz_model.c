/* fuzz_model.c — libFuzzer target for the two model parsers (bitsim model text and SCALE-Sim
 * CSV). The first byte picks the parser: 'C' the CSV one, anything else the text one, whose
 * first line is then a model reference's parameter overrides ("seq=4 d=2",
 * model_parse_buffer_with) when the byte's bit 1 is set ('M' = 0x4d: no; the decoder seed
 * starts with 0x02). The choice used to be `data[0] & 1`, and 'M' and 'C' are both odd, so the
 * text parser was never fuzzed (issue 13, D2); the reach line at exit (fuzz.h) shows each
 * parser's share of the inputs and of the accepted ones. Invariants checked on every accepted
 * input: the counts the parser promised to keep in range really are (network totals fit 64
 * bits, every layer's GEMM view multiplies out to its MAdds, per-pass counts at batch 1 never
 * overflow, parameter values in range, the resolved reference fits), and a rejected input
 * leaves a one-line message and no layers behind. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checked.h"
#include "fuzz.h"
#include "model_private.h"
#include "model_zoo.h"

enum { R_TEXT, R_TEXT_OK, R_OVERRIDES_OK, R_CSV, R_CSV_OK, R_COUNT };
static fuzz_stage reach[R_COUNT] = {
    [R_TEXT] = {"model text: tried", 0.10, 0},
    [R_TEXT_OK] = {"model text: parsed", 0.001, 0},
    [R_OVERRIDES_OK] = {"model text with overrides: parsed", 0.00005, 0},
    [R_CSV] = {"SCALE-Sim CSV: tried", 0.05, 0},
    [R_CSV_OK] = {"SCALE-Sim CSV: parsed", 0.001, 0},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_reach_input("fuzz_model", reach, R_COUNT);
    if (size < 1)
        return 0;
    bool csv = data[0] == 'C';
    fuzz_reach(csv ? R_CSV : R_TEXT);
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    char overrides[256] = "";
    if (!csv && (data[0] & 2)) {
        const char *nl = memchr(text, '\n', len);
        size_t k = nl ? (size_t)(nl - text) : len;
        if (k >= sizeof overrides || memchr(text, '\0', k))
            return 0;
        memcpy(overrides, text, k);
        overrides[k] = '\0';
        text += nl ? k + 1 : k;
        len -= nl ? k + 1 : k;
    }
    model m;
    bs_error e;
    err_clear(&e);
    int rc = csv ? model_parse_scalesim(&m, "fuzz.csv", text, len, &e)
                 : model_parse_buffer_with(&m, "fuzz.model", text, len, overrides, &e);
    if (rc != BS_OK) {
        check(rc == BS_EINPUT || rc == BS_EINTERNAL);
        check(m.layers == NULL && m.n_layers == 0);
        check(strchr(e.msg, '\n') == NULL && e.msg[0] != '\0');
        return 0;
    }
    fuzz_reach(csv ? R_CSV_OK : R_TEXT_OK);
    if (overrides[0])
        fuzz_reach(R_OVERRIDES_OK);
    uint64_t madds = 0, params = 0;
    for (uint32_t i = 0; i < m.n_layers; i++) {
        const model_layer *l = &m.layers[i];
        check(checked_add(madds, l->fwd_madds, &madds));
        check(checked_add(params, l->params, &params));
        if (model_layer_is_mac(l)) {
            uint64_t p = l->gemm.count;
            check(checked_mul(p, l->gemm.m, &p) && checked_mul(p, l->gemm.k, &p) &&
                  checked_mul(p, l->gemm.n, &p) && p == l->fwd_madds);
        }
        for (int pass = 0; pass < PASS_COUNT; pass++) {
            uint64_t v;
            check(model_pass_madds(l, (train_pass)pass, 1, &v));
            check(model_pass_elem_ops(l, (train_pass)pass, 1, &v));
        }
        check(l->out.c && l->out.h && l->out.w);
        check(l->src < (int32_t)i && l->src2 < (int32_t)i);
    }
    check(madds == model_fwd_madds(&m) && params == model_params(&m));
    for (uint32_t i = 0; i < m.n_vars; i++)
        check(m.vars[i].value >= 1 && m.vars[i].value <= UINT32_MAX && m.vars[i].name[0]);
    char ref[1024];
    check(model_ref_resolved(&m, "fuzz.model", ref, sizeof ref));
    model_free(&m);
    return 0;
}
