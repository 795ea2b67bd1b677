/* test_trace.c — the trace format: segments from records, canonical round trip, strictness.
 *
 * Expected segment counts below are worked out by hand from the records in each test.
 * ResNet-20 (models/resnet20.model) has 68 layers: 19 conv, 1 linear (fc), the rest non-MAC.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_capture.h"
#include "cmd.h"
#include "trace_build.h"
#include "trace_fixture.h"

/* 391 iterations x 160 epochs = 62,560 iterations (0..62559). */
#define HEADER "bitsim-trace 1\nmodel resnet20\nbatch 128\niters_per_epoch 391\nepochs 160\n" \
               "scheme test\n"

static int layer_index(const char *name)
{
    int i = model_find_layer(fixture_resnet20(), name);
    cr_assert(i >= 0, "no layer %s", name);
    return i;
}

Test(trace, records_become_maximal_segments)
{
    const char *text = HEADER
        "from 0 * W=fx8.4 A=fx8.4\n"          /* every layer: one segment [0, end) */
        "overhead 10:20 ops=5 bits=32 label=kl\n"
        "from 100 conv1 W=int4\n"             /* conv1: [0,100) fx8.4, [100,...) int4 */
        "from 100 conv1 W=fx8.4\n"            /* ... and back: merges into one segment */
        "from 200 @conv dW=0.5\n"             /* conv layers: [0,200) [200,end) */
        "from 300 fc,layer1.* G=int8\n"       /* fc and layer1.*: a change at 300 */
        "from 400 *,!@conv A=fx8.4\n"         /* no change at all: A is already fx8.4 */
        "end\n";
    trace t;
    bs_error e;
    cr_assert_eq(fixture_read(&t, text, &e), 0, "%s", e.msg);
    size_t n;
    const trace_segment *s = trace_layer_segments(&t, (uint32_t)layer_index("conv1"), &n);
    cr_assert_eq(n, 2, "conv1: the int4 excursion at 100 merged away; dW split at 200");
    cr_expect_eq(s[0].first, 0);
    cr_expect_eq(s[0].end, 200);
    cr_expect_eq(s[1].first, 200);
    cr_expect_eq(s[1].end, 62560);
    cr_expect_eq(s[1].d->fmt[TENSOR_W].kind, NUM_FX);
    cr_expect_eq(s[1].d->fmt[TENSOR_W].bits, 8);
    cr_expect_float_eq(s[1].d->density[TENSOR_W], 0.5, 0);
    cr_expect_float_eq(s[0].d->density[TENSOR_A], 1.0, 0);
    /* layer1.0.conv1 is a conv and matches layer1.*: [0,200) [200,300) [300,end) */
    trace_layer_segments(&t, (uint32_t)layer_index("layer1.0.conv1"), &n);
    cr_expect_eq(n, 3);
    /* fc: linear, not in @conv; changes only at 300 */
    s = trace_layer_segments(&t, (uint32_t)layer_index("fc"), &n);
    cr_expect_eq(n, 2);
    cr_expect_eq(s[1].first, 300);
    cr_expect_eq(s[1].d->fmt[TENSOR_G].bits, 8);
    /* bn1: not conv, not layer1.*: a single segment */
    trace_layer_segments(&t, (uint32_t)layer_index("bn1"), &n);
    cr_expect_eq(n, 1);
    const trace_segment *at = trace_segment_at(&t, (uint32_t)layer_index("fc"), 299);
    cr_assert(at);
    cr_expect_eq(at->first, 0);
    cr_expect_null(trace_segment_at(&t, 0, 62560));
    cr_expect_eq(t.n_overheads, 1);
    cr_expect_eq(t.overheads[0].first, 10);
    cr_expect_eq(t.overheads[0].end, 20);
    cr_expect_eq(t.total_iters, 62560);
    trace_free(&t);
}

static char *write_text(const trace *t)
{
    char *buf;
    size_t len;
    bs_error e;
    err_clear(&e);
    cr_assert_eq(trace_write_buffer(t, &buf, &len, &e), 0, "%s", e.msg);
    cr_assert_eq(strlen(buf), len);
    return buf;
}

/* Reads text, writes it (returned, malloc'd), reads that back into *t (left open for the
 * caller) and expects the second write to give the same bytes. */
static char *write_read_write(trace *t, const char *text)
{
    bs_error e;
    cr_assert_eq(fixture_read(t, text, &e), 0, "%s", e.msg);
    char *first = write_text(t);
    trace_free(t);
    cr_assert_eq(fixture_read(t, first, &e), 0, "%s\n%s", e.msg, first);
    char *second = write_text(t);
    cr_expect_str_eq(second, first);
    free(second);
    return first;
}

Test(trace, write_read_write_is_identical)
{
    const char *text = HEADER "params a=1   b=2\nprovenance hand written\n"
        "from 0 layer2.* W=bfp8/e8/b16 G=fp8e5m2 sA=6/8@0.682689+64\n"
        "from 5 conv1 U=bf16 dG=0.25\n"
        "from 5 fc W=fx12.6\n"
        "overhead 7 ops=100 bits=16 label=gd\n"
        "from 9 * WG=int16\n"
        "end\n";
    trace t;
    char *first = write_read_write(&t, text);
    cr_expect(strstr(first, "params a=1 b=2\n"), "params are canonicalised:\n%s", first);
    cr_expect(strstr(first, "from 9 * WG=int16\n"), "an all-layer change is written '*':\n%s",
              first);
    trace_free(&t);
    free(first);
}

Test(trace, reads_sample_files_and_rewrites_them_identically)
{
    const char *names[] = {"fp32", "static", "cpt", "fractrain-pfq", "muppet", "adapt", "smaq"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, "traces/samples/resnet20_%s.trace", names[i]);
        trace t;
        bs_error e;
        err_clear(&e);
        cr_assert_eq(trace_read_file(&t, path, &e), 0, "%s", e.msg);
        char *text = write_text(&t);
        FILE *f = fopen(path, "rb");
        cr_assert(f);
        static char file[1 << 20];
        size_t len = fread(file, 1, sizeof file - 1, f);
        fclose(f);
        file[len] = '\0';
        cr_expect_str_eq(text, file, "%s is not canonical", path);
        free(text);
        trace_free(&t);
    }
}

/* ---- malformed input: one case each, asserting on the message ------------------------- */

typedef struct bad_case {
    const char *body;       /* appended after HEADER (or the whole text when whole) */
    bool whole;
    const char *expect;     /* substring of the message */
} bad_case;

static void expect_bad(const bad_case *c)
{
    char text[4096];
    snprintf(text, sizeof text, "%s%s", c->whole ? "" : HEADER, c->body);
    trace t;
    bs_error e;
    int rc = fixture_read(&t, text, &e);
    cr_expect_eq(rc, BS_EINPUT, "accepted: %s", text);
    cr_expect(strstr(e.msg, c->expect), "message '%s' lacks '%s'", e.msg, c->expect);
}

static void expect_all_bad(const bad_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        expect_bad(&cases[i]);
}

/* ---- GW: the gradient as the weight-gradient pass reads it (SBM's bifurcation) --------- */

static const num_format *fmt_at(const trace *t, const char *layer, tensor_class c, uint64_t it)
{
    const trace_segment *s = trace_segment_at(t, (uint32_t)layer_index(layer), it);
    cr_assert(s, "%s has no segment at %llu", layer, (unsigned long long)it);
    return &s->d->fmt[c];
}

Test(trace, gw_defaults_to_g_and_follows_a_record_that_sets_g)
{
    const char *text = HEADER
        "from 0 * G=int8\n"                   /* no GW: GW = G = int8 */
        "from 10 conv1 G=int8 GW=int16\n"     /* conv1 bifurcates */
        "from 20 conv1 WG=int16\n"            /* G untouched: GW stays int16 */
        "from 30 conv1 G=int4\n"              /* G without GW sets GW too: int4 */
        "from 40 fc GW=fp16\n"                /* GW alone: G of fc stays int8 */
        "end\n";
    trace t;
    bs_error e;
    cr_assert_eq(fixture_read(&t, text, &e), 0, "%s", e.msg);
    cr_expect_eq(fmt_at(&t, "conv1", TENSOR_GW, 5)->kind, NUM_INT);
    cr_expect_eq(fmt_at(&t, "conv1", TENSOR_GW, 5)->bits, 8, "default GW = G");
    cr_expect_eq(fmt_at(&t, "bn1", TENSOR_GW, 62559)->bits, 8, "never bifurcated: GW = G");
    cr_expect_eq(fmt_at(&t, "conv1", TENSOR_G, 15)->bits, 8);
    cr_expect_eq(fmt_at(&t, "conv1", TENSOR_GW, 15)->bits, 16);
    cr_expect_eq(fmt_at(&t, "conv1", TENSOR_GW, 25)->bits, 16, "a WG change keeps GW");
    cr_expect_eq(fmt_at(&t, "conv1", TENSOR_GW, 35)->bits, 4, "a G change without GW sets GW");
    cr_expect_eq(fmt_at(&t, "fc", TENSOR_G, 45)->bits, 8);
    cr_expect_eq(fmt_at(&t, "fc", TENSOR_GW, 45)->kind, NUM_FP);
    cr_expect_eq(fmt_at(&t, "fc", TENSOR_GW, 45)->bits, 16);
    /* conv1: [0,10) [10,20) [20,30) [30,end); fc: [0,40) [40,end) */
    size_t n;
    trace_layer_segments(&t, (uint32_t)layer_index("conv1"), &n);
    cr_expect_eq(n, 4);
    trace_layer_segments(&t, (uint32_t)layer_index("fc"), &n);
    cr_expect_eq(n, 2);
    /* GW is part of the decision: equal but for GW is not equal */
    trace_decision a = trace_default_decision(), b = a;
    b.fmt[TENSOR_GW].bits = 16;
    cr_expect(!trace_decision_equal(&a, &b));
    cr_expect(numfmt_equal(&a.fmt[TENSOR_GW], &a.fmt[TENSOR_G]), "default GW = G (fp32)");
    trace_free(&t);
}

Test(trace, gw_round_trip_writes_gw_only_where_it_is_needed)
{
    const char *text = HEADER
        "from 0 * G=int8 GW=int8\n"           /* GW equal to G: not written */
        "from 10 @conv G=int8 GW=int16\n"
        "from 20 @conv G=int4\n"              /* GW follows G */
        "from 30 conv1 G=int8 GW=int4\n"      /* G changes, GW stays at int4: must be stated */
        "from 40 fc GW=fp16\n"
        "from 50 fc GW=int8\n"                /* back to G's value: a GW-only change */
        "end\n";
    const char *want = HEADER
        "from 0 * G=int8\n"
        "from 10 @conv GW=int16\n"
        "from 20 @conv G=int4\n"
        "from 30 conv1 G=int8 GW=int4\n"
        "from 40 fc GW=fp16\n"
        "from 50 fc GW=int8\n"
        "end\n";
    trace t;
    char *first = write_read_write(&t, text);
    cr_expect_str_eq(first, want);
    cr_expect_eq(fmt_at(&t, "conv1", TENSOR_G, 35)->bits, 8);
    cr_expect_eq(fmt_at(&t, "conv1", TENSOR_GW, 35)->bits, 4);
    cr_expect_eq(fmt_at(&t, "layer1.0.conv1", TENSOR_GW, 35)->bits, 4);
    trace_free(&t);
    free(first);
}

Test(trace, gw_builder_follows_g_and_rejects_split_storage)
{
    trace t;
    bs_error e;
    err_clear(&e);
    cr_assert_eq(trace_begin(&t, "resnet20", fixture_resnet20(), 128, 391, 160, "test", NULL, NULL,
                             &e), 0, "%s", e.msg);
    trace_change c;
    memset(&c, 0, sizeof c);
    c.mask = TRACE_CH_FMT(TENSOR_G);
    c.d.fmt[TENSOR_G] = (num_format){.kind = NUM_INT, .bits = 8};
    cr_assert_eq(trace_set(&t, 0, 0, &c, &e), 0, "%s", e.msg);
    cr_expect_eq(trace_segment_at(&t, 0, 0)->d->fmt[TENSOR_GW].bits, 8, "builder: GW = G");
    memset(&c, 0, sizeof c);
    c.mask = TRACE_CH_STORE(TENSOR_GW);
    c.d.store[TENSOR_GW] = (trace_storage){.inlier_bits = 6, .outlier_bits = 8,
                                           .inlier_frac = 0.5};
    cr_expect_neq(trace_set(&t, 1, 0, &c, &e), 0);
    cr_expect(strstr(e.msg, "sGW"), "%s", e.msg);
    trace_free(&t);
}

Test(trace, gw_bad_values_name_file_line_and_field)
{
    static const bad_case cases[] = {
        {"from 0 * GW=int33\nend\n", false,
            "t.trace:7: GW: bad format 'int33': bit-width out of range 1..32"},
        {"from 0 * G=int8\nfrom 5 conv1 GW=fx0.1\nend\n", false, "t.trace:8: GW: bad format"},
        {"from 0 * GW=int8 GW=int16\nend\n", false, "t.trace:7: GW: field given twice"},
        {"from 0 * GW=bf32\nend\n", false, "t.trace:7: GW: bad format 'bf32'"},
        {"from 0 * sGW=6/8@0.5+64\nend\n", false, "t.trace:7: sGW: unknown field"},
    };
    expect_all_bad(cases, sizeof cases / sizeof cases[0]);
}

/* HEADER has 6 lines, so a first record is line 7. */
Test(trace, unknown_layer)
{
    static const bad_case cases[] = {
        {"from 0 conv99 W=int8\nend\n", false, "t.trace:7: layer: unknown layer 'conv99'"},
        {"from 0 layer9.* W=int8\nend\n", false, "unknown layer 'layer9.*'"},
        {"from 0 @lstm W=int8\nend\n", false, "unknown layer class '@lstm'"},
        {"from 0 conv1,!conv1 W=int8\nend\n", false, "selects no layers"},
    };
    expect_all_bad(cases, sizeof cases / sizeof cases[0]);
}

Test(trace, bit_width_zero_and_33)
{
    static const bad_case cases[] = {
        {"from 0 * W=int0\nend\n", false, "t.trace:7: W: bad format 'int0'"},
        {"from 0 * A=fx33.4\nend\n", false, "A: bad format 'fx33.4': "
            "bit-width out of range 1..32"},
        {"overhead 0 ops=1 bits=33 label=x\nend\n", false,
            "bits: bit-width '33' out of range 1..32"},
        {"from 0 * sW=6/33@0.5+64\nend\n", false, "sW: bad split storage"},
        /* longer than the parser's copy: refused whole, not cut to a valid "...+000" */
        {"from 0 * sW=6/8@0.5+00000000000000000000000000000000000000000000000000000000000x\n"
            "end\n", false, "sW: bad split storage"},
    };
    expect_all_bad(cases, sizeof cases / sizeof cases[0]);
}

Test(trace, density_nan_negative_above_one)
{
    static const bad_case cases[] = {
        {"from 0 * dW=nan\nend\n", false, "t.trace:7: dW: density 'nan' is not a number in [0,1]"},
        {"from 0 * dA=1.5\nend\n", false, "dA: density '1.5'"},
        {"from 0 * dG=-0.1\nend\n", false, "dG: density '-0.1'"},
        {"from 0 * dG=0.5x\nend\n", false, "dG: density '0.5x'"},
    };
    expect_all_bad(cases, sizeof cases / sizeof cases[0]);
}

Test(trace, iterations_out_of_order_or_beyond_the_run)
{
    static const bad_case cases[] = {
        {"from 10 * W=int8\nfrom 5 * W=int4\nend\n", false,
            "t.trace:8: iteration: 5 is out of order"},
        {"from 62560 * W=int8\nend\n", false, "t.trace:7: iteration: 62560 is beyond the run"},
        {"overhead 10:70000 ops=1 bits=8 label=x\nend\n", false, "range 10:70000 must satisfy"},
        {"from 10 * W=int8\noverhead 3 ops=1 bits=8 label=x\nend\n", false,
            "t.trace:8: iteration: 3 is out of order"},
        {"from -1 * W=int8\nend\n", false, "'-1' is not a non-negative"},
    };
    expect_all_bad(cases, sizeof cases / sizeof cases[0]);
}

Test(trace, truncated_file)
{
    static const bad_case cases[] = {
        {"from 0 * W=int8\n", false, "t.trace:7: end: missing end marker: the trace is truncated"},
        {"from 0 * W=int8\nfrom 100 * W=in", false, "bad format 'in'"},
        {"", false, "missing end marker"},
        {"from 0 * W=int8\nend\nfrom 5 * W=int4\n", false,
            "t.trace:9: end: text after the end marker"},
    };
    expect_all_bad(cases, sizeof cases / sizeof cases[0]);
}

/* A capture killed mid-run ends its file with 'partial N' (traces/FORMAT.md): the run is the
 * N iterations completed, not the header's plan of 391 x 160 = 62,560. */
Test(trace, partial_marker_cuts_the_run_at_n)
{
    const char *text = HEADER
        "from 0 * W=int8\n"
        "overhead 10:70 ops=7 bits=32 label=kl\n"     /* begun before the cut: ends at it */
        "from 40 conv1 W=int4\n"
        "partial 50\n";
    trace t;
    bs_error e;
    cr_assert_eq(fixture_read(&t, text, &e), 0, "%s", e.msg);
    cr_expect(t.partial);
    cr_expect_eq(t.total_iters, 50, "the run is the 50 completed iterations");
    cr_expect_eq(t.epochs, 160, "the header keeps the plan");
    size_t n;
    const trace_segment *s = trace_layer_segments(&t, (uint32_t)layer_index("conv1"), &n);
    cr_assert_eq(n, 2);
    cr_expect_eq(s[0].end, 40);
    cr_expect_eq(s[1].first, 40);
    cr_expect_eq(s[1].end, 50, "the open segment closes at the cut, not at 62,560");
    s = trace_layer_segments(&t, (uint32_t)layer_index("fc"), &n);
    cr_expect_eq(n, 1);
    cr_expect_eq(s[0].end, 50);
    cr_assert_eq(t.n_overheads, 1);
    cr_expect_eq(t.overheads[0].end, 50, "the overhead ran until the cut");
    trace_free(&t);
    char *first = write_read_write(&t, text);
    cr_expect(strstr(first, "\npartial 50\n"), "written back as 'partial 50':\n%s", first);
    cr_expect_null(strstr(first, "\nend\n"), "a partial trace is not written complete");
    trace_free(&t);
    free(first);
}

Test(trace, partial_marker_rejects_records_at_or_past_the_cut)
{
    static const bad_case cases[] = {
        {"from 0 * W=int8\nfrom 50 conv1 W=int4\npartial 50\n", false,
            "t.trace:9: partial: a record at iteration 50 is not before the cut at 50"},
        {"overhead 50:60 ops=1 bits=8 label=kl\npartial 50\n", false,
            "t.trace:8: partial: a record at iteration 50 is not before the cut at 50"},
        {"from 0 * W=int8\npartial 0\n", false, "t.trace:8: partial: expected 'partial N'"},
        {"from 0 * W=int8\npartial 62561\n", false, "1..62560"},
        {"from 0 * W=int8\npartial\n", false, "t.trace:8: partial: expected 'partial N'"},
        {"from 0 * W=int8\npartial 5\nend\n", false,
            "t.trace:9: end: text after the partial marker"},
    };
    expect_all_bad(cases, sizeof cases / sizeof cases[0]);
}

Test(trace, wrong_version_and_not_a_trace)
{
    static const bad_case cases[] = {
        {"bitsim-trace 2\nmodel resnet20\nend\n", true,
            "t.trace:1: version: unsupported trace version 2 (this bitsim reads "
            "version 1)"},
        {"model resnet20\nend\n", true, "t.trace:1: version: not a bitsim"},
        {"", true, "empty file"},
    };
    expect_all_bad(cases, sizeof cases / sizeof cases[0]);
}

Test(trace, missing_duplicate_and_unknown_header_fields)
{
    static const bad_case cases[] = {
        {"bitsim-trace 1\nmodel resnet20\niters_per_epoch 391\nepochs 160\n"
            "scheme x\nfrom 0 * W=int8\nend\n", true,
            "t.trace:6: batch: missing header field 'batch'"},
        {"batch 64\nend\n", false, "t.trace:7: batch: duplicate header field (first on line 3)"},
        {"colour blue\nend\n", false, "t.trace:7: colour: unknown header"},
        {"from 0 * W=int8\nbatch 64\nend\n", false, "t.trace:8: batch: unknown record 'batch'"},
        {"bitsim-trace 1\nmodel resnet20\nbatch 0\n", true,
            "t.trace:3: batch: '0' is not a positive integer"},
    };
    expect_all_bad(cases, sizeof cases / sizeof cases[0]);
}

Test(trace, bad_fields_and_overheads)
{
    static const bad_case cases[] = {
        {"from 0 * X=3\nend\n", false, "t.trace:7: X: unknown field"},
        {"from 0 * W=int8 W=int4\nend\n", false, "W: field given twice"},
        {"from 0 *\nend\n", false, "expected 'from ITERATION LAYERS"},
        {"from 0 * W\nend\n", false, "expected FIELD=VALUE"},
        {"overhead 0 ops=1 bits=8\nend\n", false, "label: missing overhead field 'label'"},
        {"overhead 0 ops=0 bits=8 label=x\nend\n", false, "ops: '0' is not a positive integer"},
        {"end now\n", false, "the end marker takes no arguments"},
    };
    expect_all_bad(cases, sizeof cases / sizeof cases[0]);
}

Test(trace, unknown_model_names_the_model_line)
{
    const char *text = "bitsim-trace 1\nmodel no_such_net\nbatch 1\niters_per_epoch 1\n"
                       "epochs 1\nscheme x\nend\n";
    trace t;
    bs_error e;
    err_clear(&e);
    cr_assert_eq(trace_read_buffer(&t, "m.trace", text, strlen(text), &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "m.trace:2: model: cannot load 'no_such_net'"), "%s", e.msg);
}


/* A model given as a relative file path is looked up next to the trace file first. */
/* Writes text as dir/run.trace (path: its name) beside a copy of the zoo's ZOO.model as
 * dir/net.model; a later call with the same dir only rewrites the trace. */
static void trace_beside_model(const char *dir, const char *zoo, const char *text,
                               char *path, size_t n)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cp models/%s.model %s/net.model", zoo, dir);
    cr_assert_eq(system(cmd), 0);
    snprintf(path, n, "%s/run.trace", dir);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
}

Test(trace, relative_model_path_is_next_to_the_trace)
{
    char dir[] = "/tmp/bitsim_traceXXXXXX";
    cr_assert(mkdtemp(dir));
    char cmd[512], path[256];
    trace_beside_model(dir, "resnet20", "bitsim-trace 1\nmodel net.model\nbatch 8\n"
                       "iters_per_epoch 10\nepochs 2\nscheme hand\nfrom 19 fc dW=-0\nend\n",
                       path, sizeof path);
    trace t;
    bs_error e;
    err_clear(&e);
    cr_assert_eq(trace_read_file(&t, path, &e), 0, "%s", e.msg);
    cr_expect_eq(t.model.n_layers, fixture_resnet20()->n_layers);
    char *text = write_text(&t);
    cr_expect(strstr(text, "model net.model\n"), "%s", text);
    cr_expect(strstr(text, "from 19 fc dW=0\n"), "-0 is written 0; 'fc' is shorter than "
              "'@linear':\n%s", text);
    free(text);
    trace_free(&t);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

/* ... also when the trace's directory is longer than 512 bytes (it was cut there, and the
 * model then looked for in the current directory). */
Test(trace, relative_model_path_next_to_a_trace_in_a_long_directory)
{
    char dir[1024] = "/tmp/bitsim_traceXXXXXX";
    cr_assert(mkdtemp(dir));
    char top[sizeof dir];
    snprintf(top, sizeof top, "%s", dir);
    for (int i = 0; i < 3; i++) {   /* three 200-byte components */
        size_t n = strlen(dir);
        dir[n] = '/';
        memset(dir + n + 1, 'd', 200);
        dir[n + 201] = '\0';
        cr_assert_eq(mkdir(dir, 0700), 0, "%s", dir);
    }
    char cmd[2048], path[1100];
    snprintf(cmd, sizeof cmd, "cp models/resnet20.model %s/net.model", dir);
    cr_assert_eq(system(cmd), 0);
    snprintf(path, sizeof path, "%s/run.trace", dir);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs("bitsim-trace 1\nmodel net.model\nbatch 8\niters_per_epoch 10\nepochs 2\n"
          "scheme hand\nend\n", f);
    fclose(f);
    trace t;
    bs_error e;
    err_clear(&e);
    int rc = trace_read_file(&t, path, &e);
    cr_expect_eq(rc, 0, "%s", e.msg);
    if (rc == 0) {
        cr_expect_eq(t.model.n_layers, fixture_resnet20()->n_layers);
        trace_free(&t);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", top);
    cr_expect_eq(system(cmd), 0);
}

/* NUL bytes must be errors, never a line (the first line too: nothing to fall back on). */
Test(trace, nul_bytes_are_errors)
{
    static const char first[] = "bitsim\0-trace 1\n";
    static const char later[] = HEADER "from 0 * W=in\0t8\nend\n";
    trace t;
    bs_error e;
    err_clear(&e);
    cr_expect_eq(trace_read_buffer_model(&t, "n.trace", first, sizeof first - 1,
                                         fixture_resnet20(), &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "n.trace:1: NUL byte"), "%s", e.msg);
    err_clear(&e);
    cr_expect_eq(trace_read_buffer_model(&t, "n.trace", later, sizeof later - 1,
                                         fixture_resnet20(), &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "n.trace:7: NUL byte"), "%s", e.msg);
}

/* ---- fuzz-style: thousands of deterministic mutations never crash --------------------- */

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static const char *const splice_tokens[] = {
    "from", "overhead", "end", "*", "@conv", "@mac", "!fc", ",", "W=int0", "W=fx33.1", "dA=nan",
    "dW=2", "62559", "62560", "18446744073709551615", "bitsim-trace 2", "\n", "#", "=", ":",
    "sU=6/8@0.5+64", "layer3.*", "[", "model", "batch 0", "\t", "-1", "1e999", "GW=int16",
};

Test(trace, mutated_traces_never_crash)
{
    const char *seed = HEADER
        "from 0 @conv W=int3 A=int3 G=int8\n"
        "from 401 @conv W=int4 A=int4\n"
        "from 722 layer1.0.conv1,fc W=fx8.4 dW=0.75 sA=6/8@0.682689+64\n"
        "overhead 800:900 ops=12 bits=32 label=gd\n"
        "from 978 * U=bf16\n"
        "end\n";
    size_t seed_len = strlen(seed);
    uint64_t rng = 0x9E3779B97F4A7C15ULL;
    char *buf = malloc(seed_len * 4 + 256);
    cr_assert(buf);
    int accepted = 0;
    for (int round = 0; round < 3000; round++) {
        size_t len = seed_len;
        memcpy(buf, seed, len);
        int edits = 1 + (int)(next_rand(&rng) % 4);
        for (int k = 0; k < edits; k++) {
            size_t pos = len ? next_rand(&rng) % len : 0;
            switch (next_rand(&rng) % 5) {
            case 0: /* flip a byte */
                if (len)
                    buf[pos] = (char)(next_rand(&rng) & 0xff);
                break;
            case 1: /* delete a span */
                if (len) {
                    size_t n = 1 + next_rand(&rng) % 16;
                    if (pos + n > len)
                        n = len - pos;
                    memmove(buf + pos, buf + pos + n, len - pos - n);
                    len -= n;
                }
                break;
            case 2: { /* splice a token */
                const char *tok = splice_tokens[next_rand(&rng) %
                                                (sizeof splice_tokens / sizeof *splice_tokens)];
                size_t n = strlen(tok);
                if (len + n < seed_len * 4) {
                    memmove(buf + pos + n, buf + pos, len - pos);
                    memcpy(buf + pos, tok, n);
                    len += n;
                }
                break;
            }
            case 3: /* truncate */
                len = pos;
                break;
            default: /* duplicate a span */
                if (len && len * 2 < seed_len * 4) {
                    size_t n = 1 + next_rand(&rng) % 40;
                    if (pos + n > len)
                        n = len - pos;
                    memmove(buf + pos + n, buf + pos, len - pos);
                    len += n;
                }
                break;
            }
        }
        trace t;
        bs_error e;
        err_clear(&e);
        int rc = trace_read_buffer_model(&t, "fuzz", buf, len, fixture_resnet20(), &e);
        if (rc) {
            cr_assert(rc == BS_EINPUT, "unexpected code %d: %s", rc, e.msg);
            cr_assert(strncmp(e.msg, "fuzz:", 5) == 0, "message does not name the input: %s",
                      e.msg);
            continue;
        }
        accepted++;
        char *a = write_text(&t);
        trace_free(&t);
        cr_assert_eq(fixture_read(&t, a, &e), 0, "canonical text rejected: %s\n%s", e.msg, a);
        char *b = write_text(&t);
        cr_assert_str_eq(a, b);
        trace_free(&t);
        free(a);
        free(b);
    }
    free(buf);
    cr_expect(accepted > 0, "some mutations should stay valid (comments, blank edits)");
}

/* ---- the command: every subcommand has its own usage text --------------------------------- */

Test(trace_cmd, each_subcommand_has_its_own_help)
{
    static const char *const subs[] = {"gen", "check", "cat", "schemes"};
    char out[4096], want[64];
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        char *argv[] = {"trace", (char *)subs[i], "--help", NULL};
        cr_expect_eq(run_cmd(cmd_trace, argv, out, sizeof out), 0, "trace %s --help", subs[i]);
        snprintf(want, sizeof want, "usage: bitsim trace %s ", subs[i]);
        cr_expect(strncmp(out, want, strlen(want)) == 0, "trace %s --help printed:\n%s",
                  subs[i], out);
        for (size_t k = 0; k < sizeof subs / sizeof subs[0]; k++) {
            snprintf(want, sizeof want, "bitsim trace %s ", subs[k]);
            cr_expect(k == i || !strstr(out, want), "trace %s --help shows %s's usage",
                      subs[i], subs[k]);
        }
    }
    char *umbrella[] = {"trace", "--help", NULL};
    cr_expect_eq(run_cmd(cmd_trace, umbrella, out, sizeof out), 0);
    for (size_t k = 0; k < sizeof subs / sizeof subs[0]; k++) {
        snprintf(want, sizeof want, "bitsim trace %s ", subs[k]);
        cr_expect(strstr(out, want), "trace --help lacks %s", subs[k]);
    }
}

/* A generated trace names every model parameter at the value it used (models/FORMAT.md,
 * "Parameters"), so replaying it gives the same shapes even when the zoo default differs;
 * a hand-written model line with overrides reads back as written, and a relative model path
 * with overrides is still looked for next to the trace. */
Test(trace, model_parameters_are_recorded_and_replayed)
{
    model m;
    bs_error e;
    err_clear(&e);
    cr_assert_eq(model_load(&m, "gpt2_small seq=32", &e), 0, "%s", e.msg);
    trace t;
    cr_assert_eq(trace_begin(&t, "gpt2_small", &m, 4, 10, 1, "hand", NULL, NULL, &e), 0, "%s",
                 e.msg);
    model_free(&m);
    cr_assert_eq(trace_finish(&t, &e), 0, "%s", e.msg);
    char *text = write_text(&t);
    trace_free(&t);
    cr_expect(strstr(text, "\nmodel gpt2_small seq=32\n"), "%s", text);
    cr_assert_eq(trace_read_buffer(&t, "t.trace", text, strlen(text), &e), 0, "%s", e.msg);
    cr_expect_eq(t.model.input.h, 32, "replayed at the recorded seq");
    trace_free(&t);
    free(text);

    char dir[] = "/tmp/bitsim_traceXXXXXX";
    cr_assert(mkdtemp(dir));
    char cmd[512], path[256];
    trace_beside_model(dir, "gpt2_small", "bitsim-trace 1\nmodel net.model seq=8\nbatch 8\n"
                       "iters_per_epoch 10\nepochs 2\nscheme hand\nend\n", path, sizeof path);
    cr_assert_eq(trace_read_file(&t, path, &e), 0, "%s", e.msg);
    cr_expect_eq(t.model.input.h, 8);
    text = write_text(&t);
    cr_expect(strstr(text, "\nmodel net.model seq=8\n"), "%s", text);
    free(text);
    trace_free(&t);
    trace_beside_model(dir, "gpt2_small", "bitsim-trace 1\nmodel net.model seq=9999\n"
                       "batch 8\niters_per_epoch 10\nepochs 2\nscheme hand\nend\n", path,
                       sizeof path);
    err_clear(&e);
    cr_expect_eq(trace_read_file(&t, path, &e), BS_EINPUT);
    cr_expect(strstr(e.msg, "run.trace:2: model: cannot load 'net.model seq=9999'") &&
              strstr(e.msg, "positions: 9999 positions"), "%s", e.msg);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

/* Decisions are interned (trace.h): equal decisions reached by different records, layers and
 * builder calls are one pointer, -0 and +0 densities included; different ones are not. */
Test(trace, equal_decisions_are_one_pointer)
{
    trace t;
    bs_error e;
    cr_assert_eq(fixture_read(&t, "bitsim-trace 1\nmodel resnet20\nbatch 8\niters_per_epoch 10\n"
                                  "epochs 2\nscheme hand\n"
                                  "from 0 conv1 W=int8 dA=0\n"
                                  "from 3 fc dA=-0 W=int8\n"
                                  "from 5 conv1 W=int4\n"
                                  "from 7 conv1 W=int8\n"
                                  "end\n", &e), 0, "%s", e.msg);
    const trace_segment *c1 = trace_segment_at(&t, (uint32_t)layer_index("conv1"), 0);
    const trace_segment *fc = trace_segment_at(&t, (uint32_t)layer_index("fc"), 3);
    const trace_segment *back = trace_segment_at(&t, (uint32_t)layer_index("conv1"), 7);
    const trace_segment *mid = trace_segment_at(&t, (uint32_t)layer_index("conv1"), 5);
    cr_expect_eq(c1->d, fc->d, "same decision on two layers");
    cr_expect_eq(c1->d, back->d, "the same decision again later");
    cr_expect_neq(c1->d, mid->d);
    cr_expect_eq(trace_segment_at(&t, (uint32_t)layer_index("fc"), 0)->d,
                 trace_segment_at(&t, (uint32_t)layer_index("layer1.0.conv1"), 0)->d,
                 "the default decision is shared");
    trace_free(&t);
}

/* `trace gen --seq` / `--model-param`: the written model line carries the value; a parameter
 * the model lacks, or one that is not KEY=VALUE, is refused. */
Test(trace_cmd, gen_records_the_sequence_length)
{
    char out[4096];
    char *seq[] = {"trace", "gen", "--scheme", "static", "--model", "gpt2_small", "--seq", "64",
                   "--epochs", "1", "--iters-per-epoch", "2", "-o", "-", NULL};
    cr_assert_eq(run_cmd(cmd_trace, seq, out, sizeof out), 0);
    cr_expect(strstr(out, "\nmodel gpt2_small seq=64\n"), "%s", out);
    char *dflt[] = {"trace", "gen", "--scheme", "static", "--model", "gpt2_small", "--epochs",
                    "1", "--iters-per-epoch", "2", "-o", "-", NULL};
    cr_assert_eq(run_cmd(cmd_trace, dflt, out, sizeof out), 0);
    cr_expect(strstr(out, "\nmodel gpt2_small seq=1024\n"), "the default is recorded: %s", out);
    char *mp[] = {"trace", "gen", "--scheme", "static", "--model", "llama3_8b",
                  "--model-param", "seq=32", "--epochs", "1", "--iters-per-epoch", "2", "-o", "-",
                  NULL};
    cr_assert_eq(run_cmd(cmd_trace, mp, out, sizeof out), 0);
    cr_expect(strstr(out, "\nmodel llama3_8b seq=32\n"), "%s", out);
    char *bad[] = {"trace", "gen", "--scheme", "static", "--model", "resnet20", "--seq", "64",
                   "-o", "-", NULL};
    cr_expect_eq(run_cmd(cmd_trace, bad, out, sizeof out), 1, "resnet20 has no seq");
    char *notkv[] = {"trace", "gen", "--scheme", "static", "--model", "gpt2_small",
                     "--model-param", "seq", "-o", "-", NULL};
    cr_expect_eq(run_cmd(cmd_trace, notkv, out, sizeof out), 2);
}

/* The header's `accuracy`: a percentage in [0, 100], kept through write -> read -> write as
 * the shortest decimal of the same double; anything else names the line and the field. */
Test(trace, accuracy_header_is_a_percentage_kept_exactly)
{
    const char *text = HEADER "accuracy 91.6\nend\n";
    trace t;
    char *first = write_read_write(&t, text);
    cr_expect(t.has_accuracy);
    cr_expect_eq(t.accuracy_pct, 91.6);
    cr_expect(strstr(first, "\naccuracy 91.6\n"), "%s", first);
    trace_free(&t);
    free(first);
    static const char *const bad[] = {"accuracy 101\n", "accuracy -1\n", "accuracy high\n",
                                      "accuracy 90\naccuracy 91\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[512];
        snprintf(buf, sizeof buf, HEADER "%send\n", bad[i]);
        bs_error e;
        cr_expect_eq(trace_read_buffer(&t, "a.trace", buf, strlen(buf), &e), BS_EINPUT, "%s",
                     bad[i]);
        cr_expect(strstr(e.msg, "a.trace:") && strstr(e.msg, "accuracy"), "%s", e.msg);
    }
    const char *none = HEADER "end\n";
    bs_error e;
    cr_assert_eq(trace_read_buffer(&t, "n.trace", none, strlen(none), &e), BS_OK, "%s", e.msg);
    cr_expect_not(t.has_accuracy, "not stated: no accuracy (not 0 %%)");
    trace_free(&t);
}
