/* test_model.c — the model module against independent numbers: the published MACs and
 * parameter counts in ../shared/reference/model_macs.csv (read at test time), LeNet-5 derived
 * by hand layer by layer, per-pass rules of DESIGN.md, SCALE-Sim rows derived by hand, and
 * every malformed-file case with its file:line:field message. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_capture.h"
#include "cmd.h"
#include "err.h"
#include "model_private.h"
#include "model_zoo.h"

typedef int (*model_parser)(model *m, const char *path, const char *buf, size_t len,
                            bs_error *e);

static model parse_ok_with(model_parser parse, const char *path, const char *text)
{
    model m;
    bs_error e;
    err_clear(&e);
    int rc = parse(&m, path, text, strlen(text), &e);
    cr_assert_eq(rc, BS_OK, "parse failed: %s", e.msg);
    return m;
}

/* Parses text that must fail; returns the message. */
static const char *parse_fails_with(model_parser parse, const char *path, const char *text)
{
    static bs_error e;
    model m;
    err_clear(&e);
    int rc = parse(&m, path, text, strlen(text), &e);
    cr_assert_eq(rc, BS_EINPUT, "expected a bad-input error for:\n%s\ngot rc %d (%s)", text,
                 rc, e.msg);
    cr_assert_null(strchr(e.msg, '\n'), "message must be one line: %s", e.msg);
    cr_assert_null(m.layers);
    return e.msg;
}

static model parse_ok(const char *text)
{
    return parse_ok_with(model_parse_buffer, "t.model", text);
}

static const char *parse_fails(const char *text)
{
    return parse_fails_with(model_parse_buffer, "bad.model", text);
}

#define expect_msg(msg, part) \
    cr_expect(strstr((msg), (part)) != NULL, "message '%s' lacks '%s'", (msg), (part))

/* ---- the published figures --------------------------------------------------------------- */

/* CSV network name -> zoo name. Every CSV row must be listed here. */
static const struct {
    const char *csv, *zoo;
} zoo_of[] = {
    {"lenet5_mnist", "lenet5"},
    {"resnet20_cifar10_shortcutA", "resnet20"},
    {"resnet20_cifar10_shortcutB", "resnet20_b"},
    {"resnet38_cifar10_shortcutA", "resnet38"},
    {"resnet38_cifar10_shortcutB", "resnet38_b"},
    {"resnet74_cifar10_shortcutA", "resnet74"},
    {"resnet74_cifar10_shortcutB", "resnet74_b"},
    {"resnet110_cifar10_shortcutA", "resnet110"},
    {"resnet110_cifar10_shortcutB", "resnet110_b"},
    {"resnet74_cifar100_shortcutA", "resnet74_cifar100"},
    {"alexnet_cifar10", "alexnet_cifar"},
    {"alexnet_imagenet", "alexnet"},
    {"resnet18_imagenet", "resnet18"},
    {"resnet50_imagenet", "resnet50"},
    {"vgg16_imagenet", "vgg16"},
    {"mobilenet_v2_imagenet", "mobilenet_v2"},
    {"bert_base_encoder_layer_seq128", "bert_base_layer"},
};

static FILE *open_reference(const char *file)
{
    const char *dir = getenv("BITSIM_REFERENCE");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "../shared/reference", file);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open the reference %s (set BITSIM_REFERENCE)", path);
    return f;
}

Test(model, zoo_matches_published_macs_and_params_exactly)
{
    FILE *f = open_reference("model_macs.csv");
    char line[1024];
    int rows = 0;
    bool header = true;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (header) {
            cr_assert(strncmp(line, "network,input,fwd_macs_conv_linear,params", 41) == 0,
                      "unexpected header: %s", line);
            header = false;
            continue;
        }
        char net[128], input[64];
        uint64_t macs, params;
        cr_assert_eq(sscanf(line, "%127[^,],%63[^,],%" SCNu64 ",%" SCNu64, net, input, &macs,
                            &params), 4, "bad reference row: %s", line);
        const char *zoo = NULL;
        for (size_t i = 0; i < sizeof zoo_of / sizeof zoo_of[0]; i++)
            if (strcmp(zoo_of[i].csv, net) == 0)
                zoo = zoo_of[i].zoo;
        cr_assert_not_null(zoo, "reference network %s has no zoo model", net);
        model m;
        bs_error e;
        err_clear(&e);
        cr_assert_eq(model_load(&m, zoo, &e), BS_OK, "%s: %s", zoo, e.msg);
        cr_expect_eq(model_fwd_madds(&m), macs, "%s: fwd MACs %" PRIu64 ", published %" PRIu64,
                     zoo, model_fwd_madds(&m), macs);
        cr_expect_eq(model_params(&m), params, "%s: params %" PRIu64 ", published %" PRIu64,
                     zoo, model_params(&m), params);
        /* input "CxHxW", or "TOKENSxHIDDEN" for a sequence (C = 1) */
        unsigned a, b, c;
        int k = sscanf(input, "%ux%ux%u", &a, &b, &c);
        cr_assert(k == 3 || k == 2, "bad input column %s", input);
        if (k == 2) {
            c = b;
            b = a;
            a = 1;
        }
        cr_expect(m.input.c == a && m.input.h == b && m.input.w == c, "%s: input %ux%ux%u",
                  zoo, m.input.c, m.input.h, m.input.w);
        model_free(&m);
        rows++;
    }
    fclose(f);
    cr_expect_eq(rows, (int)(sizeof zoo_of / sizeof zoo_of[0]), "rows checked: %d", rows);
}

static void count_zoo(const char *name, const char *desc, void *ctx)
{
    cr_expect(desc[0] != '\0', "zoo model %s has no description line", name);
    ++*(int *)ctx;
}

Test(model, zoo_lists_every_network_with_a_description)
{
    int seen = 0;
    bs_error e;
    err_clear(&e);
    int n = model_zoo_list(count_zoo, &seen, &e);
    cr_assert_geq(n, (int)(sizeof zoo_of / sizeof zoo_of[0]), "listed %d (%s)", n, e.msg);
    cr_expect_eq(seen, n);
}

/* Reads a whole small file into a NUL-terminated buffer (caller frees). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    char *buf = malloc(1 << 20);
    cr_assert_not_null(buf);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void has_source(const char *name, const char *desc, void *ctx)
{
    (void)desc;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.model", (const char *)ctx, name);
    char *text = slurp(path);
    cr_expect(strncmp(text, "# Source:", 9) == 0 || strstr(text, "\n# Source:"),
              "%s cites no source in a '# Source:' comment", path);
    free(text);
}

Test(model, zoo_files_cite_their_source)
{
    bs_error e;
    err_clear(&e);
    cr_assert_geq(model_zoo_list(has_source, (void *)model_zoo_dir(), &e), 1, "%s", e.msg);
}

/* The long zoo files are generated; the committed ones must be exactly what the scripts
 * write, so nobody edits a generated file by hand and lets it drift from its generator. */
Test(model, generated_zoo_files_are_current)
{
    static const char *const scripts[] = {"gen-resnet-cifar.sh", "gen-imagenet.sh",
                                          "gen-decoders.sh"};
    const char *zoo = model_zoo_dir();
    char dir[] = "/tmp/bitsim-zoo-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
        char cmd[2048];
        snprintf(cmd, sizeof cmd, "sh '%s/%s' '%s'", zoo, scripts[i], dir);
        cr_assert_eq(system(cmd), 0, "%s failed", cmd);
    }
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int compared = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char fresh[1024], committed[1024];
        snprintf(fresh, sizeof fresh, "%s/%s", dir, de->d_name);
        snprintf(committed, sizeof committed, "%s/%s", zoo, de->d_name);
        char *a = slurp(fresh), *b = slurp(committed);
        cr_expect_str_eq(a, b, "%s differs from what its generator writes", committed);
        free(a);
        free(b);
        unlink(fresh);
        compared++;
    }
    closedir(d);
    rmdir(dir);
    cr_expect_geq(compared, 19, "generated %d files", compared);
}

/* ---- LeNet-5 by hand ----------------------------------------------------------------------- */

/* LeNet-5 on a 1x32x32 input (LeCun et al. 1998), derived by hand:
 *   c1  conv 5x5, 1->6:    out 6x28x28 (32-5+1 = 28); MACs 28*28*6 * 1*25 = 117600;
 *                          params 6*25 + 6 = 156
 *   s2  avg pool 2:        6x14x14
 *   c3  conv 5x5, 6->16:   out 16x10x10; MACs 10*10*16 * 6*25 = 240000; params 16*150 + 16 = 2416
 *   s4  avg pool 2:        16x5x5
 *   c5  conv 5x5, 16->120: out 120x1x1; MACs 120 * 16*25 = 48000; params 48000 + 120 = 48120
 *   f6  linear 120->84:    MACs 10080; params 10080 + 84 = 10164
 *   output linear 84->10:  MACs 840;   params 840 + 10 = 850
 * total MACs 416520, params 61706. */
Test(model, lenet5_layer_by_layer)
{
    static const struct {
        const char *name;
        uint32_t c, h, w;
        uint64_t madds, params;
    } want[] = {
        {"c1", 6, 28, 28, 117600, 156},   {"s2", 6, 14, 14, 0, 0},
        {"c3", 16, 10, 10, 240000, 2416}, {"s4", 16, 5, 5, 0, 0},
        {"c5", 120, 1, 1, 48000, 48120},  {"f6", 1, 1, 84, 10080, 10164},
        {"output", 1, 1, 10, 840, 850},
    };
    model m;
    bs_error e;
    err_clear(&e);
    cr_assert_eq(model_load(&m, "lenet5", &e), BS_OK, "%s", e.msg);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int k = model_find_layer(&m, want[i].name);
        cr_assert_geq(k, 0, "no layer %s", want[i].name);
        const model_layer *l = &m.layers[k];
        cr_expect(l->out.c == want[i].c && l->out.h == want[i].h && l->out.w == want[i].w,
                  "%s: out %ux%ux%u", l->name, l->out.c, l->out.h, l->out.w);
        cr_expect_eq(l->fwd_madds, want[i].madds, "%s: madds %" PRIu64, l->name, l->fwd_madds);
        cr_expect_eq(l->params, want[i].params, "%s: params %" PRIu64, l->name, l->params);
    }
    const model_layer *c1 = &m.layers[model_find_layer(&m, "c1")];
    cr_expect(c1->first_mac);
    cr_expect_eq(c1->gemm.m, 28 * 28);
    cr_expect_eq(c1->gemm.k, 25);
    cr_expect_eq(c1->gemm.n, 6);
    cr_expect_eq(c1->weight_elems, 150);
    cr_expect_eq(c1->in_elems, 1024);
    cr_expect_eq(c1->out_elems, 4704);
    /* the passes at batch 4: c1 has no BWD_DATA, c3 has all three; UPDATE = params */
    uint64_t v;
    cr_assert(model_pass_madds(c1, PASS_FWD, 4, &v));
    cr_expect_eq(v, 4 * 117600);
    cr_assert(model_pass_madds(c1, PASS_BWD_DATA, 4, &v));
    cr_expect_eq(v, 0);
    cr_assert(model_pass_madds(c1, PASS_BWD_WEIGHT, 4, &v));
    cr_expect_eq(v, 4 * 117600);
    cr_assert(model_pass_madds(c1, PASS_UPDATE, 4, &v));
    cr_expect_eq(v, 0);
    cr_assert(model_pass_elem_ops(c1, PASS_UPDATE, 4, &v));
    cr_expect_eq(v, 156);
    const model_layer *c3 = &m.layers[model_find_layer(&m, "c3")];
    cr_expect_not(c3->first_mac);
    cr_assert(model_pass_madds(c3, PASS_BWD_DATA, 4, &v));
    cr_expect_eq(v, 4 * 240000);
    /* elementwise: the 2x2 average pool s2 adds 4 inputs per output, 6*14*14 outputs;
     * the tanh after c1 is one op per element, 6*28*28 */
    const model_layer *s2 = &m.layers[model_find_layer(&m, "s2")];
    cr_assert(model_pass_elem_ops(s2, PASS_FWD, 1, &v));
    cr_expect_eq(v, 4 * 6 * 14 * 14);
    cr_assert(model_pass_elem_ops(s2, PASS_BWD_WEIGHT, 1, &v));
    cr_expect_eq(v, 0);
    const model_layer *t1 = &m.layers[model_find_layer(&m, "c1.tanh")];
    cr_assert(model_pass_elem_ops(t1, PASS_BWD_DATA, 2, &v));
    cr_expect_eq(v, 2 * 6 * 28 * 28);
    cr_expect_eq(model_fwd_madds(&m), 416520);
    model_free(&m);
}

/* ResNet-20's conv1 is 3x3, 3->16 on 32x32 with pad 1: 32*32*16*27 = 442368 MACs. Every
 * other MAC layer has BWD_DATA, so at batch B: BWD_DATA = B*(total - 442368). */
Test(model, resnet20_passes_at_batch)
{
    model m;
    bs_error e;
    err_clear(&e);
    cr_assert_eq(model_load(&m, "resnet20", &e), BS_OK, "%s", e.msg);
    uint64_t sum[PASS_COUNT] = {0}, upd = 0;
    int firsts = 0;
    for (uint32_t i = 0; i < m.n_layers; i++) {
        for (int p = 0; p < PASS_COUNT; p++) {
            uint64_t v;
            cr_assert(model_pass_madds(&m.layers[i], (train_pass)p, 128, &v));
            sum[p] += v;
        }
        uint64_t u;
        cr_assert(model_pass_elem_ops(&m.layers[i], PASS_UPDATE, 128, &u));
        upd += u;
        firsts += m.layers[i].first_mac;
    }
    uint64_t total = model_fwd_madds(&m);
    cr_expect_eq(firsts, 1);
    cr_expect(m.layers[0].first_mac && strcmp(m.layers[0].name, "conv1") == 0);
    cr_expect_eq(m.layers[0].fwd_madds, 442368);
    cr_expect_eq(sum[PASS_FWD], 128 * total);
    cr_expect_eq(sum[PASS_BWD_DATA], 128 * (total - 442368));
    cr_expect_eq(sum[PASS_BWD_WEIGHT], 128 * total);
    cr_expect_eq(sum[PASS_UPDATE], 0);
    cr_expect_eq(upd, model_params(&m));
    /* shortcut A: parameter-free add where the shape changes */
    int a = model_find_layer(&m, "layer2.0.add");
    cr_assert_geq(a, 0);
    cr_expect_eq(m.layers[a].params, 0);
    cr_expect_str_eq(m.layers[a].op, "A");
    cr_expect_eq(m.layers[a].src2, model_find_layer(&m, "layer1.2.relu2"));
    model_free(&m);
}

Test(model, batch_overflow_is_reported_not_wrapped)
{
    model m = parse_ok("input 3 32 32\nconv c out=16 k=3\n");
    uint64_t v = 7;
    cr_expect_not(model_pass_madds(&m.layers[0], PASS_FWD, UINT64_MAX / 2, &v));
    cr_expect_not(model_pass_elem_ops(&m.layers[0], PASS_FWD, UINT64_MAX / 2, &v));
    model_free(&m);
}

/* ---- format features ----------------------------------------------------------------------- */

Test(model, grouped_depthwise_dilated_conv)
{
    /* depthwise 3x3 on 32x56x56, stride 2 pad 1: out 32x28x28, MACs 28*28*32*9 = 225792,
     * params 32*9 = 288; dilation 2, k 3, pad 2 keeps 28x28: span 5 */
    model m = parse_ok("input 32 56 56\n"
                       "conv dw out=32 k=3 stride=2 pad=1 groups=32 bias=0\n"
                       "conv dil out=8 k=3 pad=2 dilation=2 groups=4 bias=0\n");
    cr_expect_eq(m.layers[0].out.h, 28);
    cr_expect_eq(m.layers[0].fwd_madds, 225792);
    cr_expect_eq(m.layers[0].params, 288);
    cr_expect_eq(m.layers[0].gemm.count, 32);
    cr_expect_eq(m.layers[0].gemm.k, 9);
    cr_expect_eq(m.layers[0].gemm.n, 1);
    cr_expect_eq(m.layers[1].out.h, 28);
    /* groups 4 on the 32 channels of dw: 8 in per group, 8 out: 28*28*8*8*9 = 451584 */
    cr_expect_eq(m.layers[1].fwd_madds, 451584);
    model_free(&m);
}

Test(model, rectangular_kernels_strides_and_pads)
{
    /* 1x7 kernel, pad 0x3: out 8x17x10 with stride_h 1, stride_w 2 on 17x20:
     * Wo = (20 + 6 - 7) / 2 + 1 = 10 */
    model m = parse_ok("input 4 17 20\n"
                       "conv c out=8 kh=1 kw=7 pad_h=0 pad_w=3 stride_h=1 stride_w=2 bias=0\n");
    cr_expect_eq(m.layers[0].out.h, 17);
    cr_expect_eq(m.layers[0].out.w, 10);
    cr_expect_eq(m.layers[0].fwd_madds, 17ull * 10 * 8 * 4 * 7);
    model_free(&m);
}

Test(model, matmul_of_two_inputs_has_no_backward)
{
    /* neither operand needs a gradient, so neither backward pass is counted */
    model m = parse_ok("input 1 4 6\n"
                       "act a op=identity\n"
                       "matmul mm m=4 k=6 n=4 from=input\n");
    uint64_t v;
    cr_expect_eq(m.layers[1].fwd_madds, 96);
    cr_assert(model_pass_madds(&m.layers[1], PASS_BWD_DATA, 1, &v));
    cr_expect_eq(v, 0);
    cr_assert(model_pass_madds(&m.layers[1], PASS_BWD_WEIGHT, 1, &v));
    cr_expect_eq(v, 0);
    model_free(&m);
}

Test(model, input_grad_gives_first_layers_bwd_data)
{
    model m = parse_ok("input 1 8 16 grad=1\nlinear q in=16 out=16 rows=8\n");
    uint64_t v;
    cr_expect_not(m.layers[0].first_mac);
    cr_assert(model_pass_madds(&m.layers[0], PASS_BWD_DATA, 1, &v));
    cr_expect_eq(v, 8 * 16 * 16);
    model_free(&m);
}

Test(model, explicit_input_and_from)
{
    model m = parse_ok("model two\ninput 3 8 8\n"
                       "conv a out=4 k=1\n"
                       "conv b out=4 k=1 input=5x4x4\n"
                       "conv c out=2 k=1 from=a\n");
    cr_expect_str_eq(m.name, "two");
    cr_expect_eq(m.layers[1].in.c, 5);
    cr_expect_eq(m.layers[1].in.h, 4);
    cr_expect_eq(m.layers[2].in.c, 4);
    cr_expect_eq(m.layers[2].in.h, 8);
    cr_expect_eq(m.layers[2].src, 0);
    cr_expect(m.layers[1].first_mac, "a fresh input needs no gradient");
    model_free(&m);
}

Test(model, names_and_passes)
{
    cr_expect_str_eq(model_kind_name(LAYER_MATMUL), "matmul");
    cr_expect_null(model_kind_name(LAYER_KIND_COUNT));
    cr_expect_str_eq(model_pass_name(PASS_BWD_WEIGHT), "BWD_WEIGHT");
    cr_expect_eq(model_pass_parse("bwd_data"), PASS_BWD_DATA);
    cr_expect_eq(model_pass_parse("nope"), -1);
}

/* ---- malformed files: one line, file:line:field, each case ---------------------------------- */

typedef struct bad_case {
    const char *text, *message_part;
} bad_case;

static void expect_all_fail(const bad_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        expect_msg(parse_fails(cases[i].text), cases[i].message_part);
}

#define EXPECT_ALL_FAIL(cases) expect_all_fail((cases), sizeof(cases) / sizeof(cases)[0])

Test(model, unknown_kind)
{
    static const bad_case cases[] = {
        {"input 3 8 8\nconv a out=4 k=1\nconvv b out=4 k=1\n",
         "bad.model:3: kind: unknown layer kind 'convv'"},
        {"input 3 8 8\nlstm a\n", "bad.model:2: kind: unknown layer kind 'lstm'"},
    };
    EXPECT_ALL_FAIL(cases);
}

Test(model, zero_and_negative_dimensions)
{
    static const bad_case cases[] = {
        {"input 3 8 8\nconv a out=0 k=1\n", "bad.model:2: out: '0'"},
        {"input 3 8 8\nconv a out=-4 k=1\n", "bad.model:2: out: '-4'"},
        {"input 3 0 8\nconv a out=4 k=1\n", "bad.model:1: input: H '0'"},
        {"input 3 8 8\nconv a out=4 k=1 stride=0\n", "bad.model:2: stride: '0'"},
        {"input 3 8 8\nconv a out=4 k=1 pad=-1\n", "bad.model:2: pad: '-1'"},
        {"input 3 8 8\nconv a out=4 k=1 input=3x0x8\n", "bad.model:2: input: '3x0x8'"},
    };
    EXPECT_ALL_FAIL(cases);
}

Test(model, missing_fields)
{
    static const bad_case cases[] = {
        {"input 3 8 8\nconv a k=1\n", "bad.model:2: out: missing"},
        {"input 3 8 8\nconv a out=4\n", "bad.model:2: k: missing"},
        {"input 3 8 8\nlinear f out=4\n", "bad.model:2: in: missing"},
        {"input 3 8 8\nconv a out=4 k=1\nadd r\n", "bad.model:3: from: missing"},
        {"input 3 8 8\npool p k=2\n", "bad.model:2: op: missing"},
        {"input 3 8 8\npool p op=max\n", "bad.model:2: k: missing"},
        {"input 3 8 8\nconv\n", "bad.model:2: name: missing"},
        {"conv a out=4 k=1\n", "bad.model:1: input: no input shape"},
        {"input 3 8 8\nconv a out=4 k=1 bias\n", "bad.model:2: bias: expected key=value"},
        {"# nothing\n", "bad.model:1: layer: no layers"},
    };
    EXPECT_ALL_FAIL(cases);
}

Test(model, shapes_that_do_not_chain)
{
    static const bad_case cases[] = {
        {"input 3 8 8\nconv a out=4 k=1\nconv b in=3 out=4 k=1\n",
         "bad.model:3: in: 3 input channels given but input 'a' has 4"},
        {"input 3 8 8\nconv a out=4 k=1\nlinear f in=100 out=10\n",
         "bad.model:3: in: rows 1 x in 100 = 100 elements but input 'a' has 256"},
        {"input 3 8 8\nconv a out=4 k=9\n", "bad.model:2: k: window 9"},
        {"input 3 8 8\nconv a out=4 k=1 stride=2\nadd r from=input\n",
         "bad.model:3: from: shape 3x8x8 of 'input' differs from 4x4x4 of 'a'"},
        {"input 3 8 8\nconv a out=2 k=1 stride=2\nadd r from=input shortcut=A\n",
         "bad.model:3: from: shortcut A cannot map"},
        {"input 3 8 8\nconv a out=4 k=1 groups=3\n", "bad.model:2: groups: 3 groups"},
        {"input 1 4 6\nmatmul mm m=4 k=6 n=5 from=input\n", "bad.model:2: from: right operand"},
        {"input 1 4 6\nmatmul mm m=5 k=6 n=4 from=input\n", "bad.model:2: m: left operand"},
        {"input 3 8 8\nconv a out=4 k=1 from=zz\n",
         "bad.model:2: from: no earlier layer called 'zz'"},
        {"input 3 8 8\nconv a out=4 k=1 from=a\n", "bad.model:2: from: no earlier layer"},
    };
    EXPECT_ALL_FAIL(cases);
}

Test(model, overflowing_numbers)
{
    static const bad_case cases[] = {
        {"input 3 8 8\nconv a out=99999999999999999999999 k=1\n",
         "bad.model:2: out: '99999999999999999999999' is not a whole number"},
        {"input 3 8 8\nconv a out=4294967296 k=1\n", "bad.model:2: out: '4294967296'"},
        {"input 4294967295 4294967295 4294967295\nact a\n",
         "bad.model:1: input: element count overflows 64 bits"},
        /* each number fits 32 bits, the MAdd product does not fit 64 */
        {"input 65536 65536 65536\nlinear f in=2147483648 out=4294967295 rows=131072\n",
         "bad.model:2: out: MAdd count overflows 64 bits"},
        {"input 4294967295 1 1\nconv a out=4294967295 k=1 bias=0\n"
         "conv b out=4294967295 k=1 bias=0\n",
         "bad.model:3: out: network total overflows 64 bits"},
    };
    EXPECT_ALL_FAIL(cases);
}

Test(model, unknown_and_repeated_keys)
{
    static const bad_case cases[] = {
        {"input 3 8 8\nconv a out=4 k=1 kernel=3\n", "bad.model:2: kernel: unknown key for conv"},
        {"input 3 8 8\nact a rows=3\n", "bad.model:2: rows: unknown key for act"},
        {"input 3 8 8\nconv a out=4 k=1 k=3\n", "bad.model:2: k: given twice"},
        {"input 3 8 8\nconv a out=4 k=1 kh=3\n", "bad.model:2: k: give k= or kh=/kw=, not both"},
        {"input 3 8 8\nact a op=swish\n", "bad.model:2: op: 'swish' is not one"},
        {"input 3 8 8\nconv a out=4 k=1\nadd r from=a shortcut=C\n", "bad.model:3: shortcut:"},
    };
    EXPECT_ALL_FAIL(cases);
}

Test(model, duplicate_layer_name)
{
    static const bad_case cases[] = {
        {"input 3 8 8\nconv a out=4 k=1\nact b\nact a\n",
         "bad.model:4: name: duplicate layer name 'a' (first on line 2)"},
        {"input 3 8 8\nact input\n", "bad.model:2: name:"},
    };
    EXPECT_ALL_FAIL(cases);
}

Test(model, directives_misused)
{
    static const bad_case cases[] = {
        {"input 3 8 8\ninput 3 8 8\nact a\n", "bad.model:2: input: given twice"},
        {"input 3 8\nact a\n", "bad.model:1: input: expected"},
        {"input 3 8 8 grad=2\nact a\n", "bad.model:1: grad:"},
        {"model a b\n", "bad.model:1: model:"},
        {"act a input=3x8x8\ninput 1 1 1\n", "bad.model:2: input: must come before"},
    };
    EXPECT_ALL_FAIL(cases);
}

/* The command: a bad file exits 1, a good one 0, usage errors 2. */
static int run_model_cmd(const char *a1, const char *a2, const char *a3, const char *a4)
{
    char *argv[] = {"model", (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL};
    int argc = 1;
    while (argv[argc])
        argc++;
    return cmd_model(argc, argv);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

Test(model, command_exit_codes, .init = cr_redirect_stdout)
{
    cr_redirect_stderr();
    char dir[] = "/tmp/bitsim-model-XXXXXX", bad[128], good[128];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(bad, sizeof bad, "%s/bad.model", dir);
    snprintf(good, sizeof good, "%s/good.model", dir);
    write_file(bad, "input 3 8 8\nconv a out=0 k=1\n");
    write_file(good, "input 3 8 8\nconv a out=4 k=1\n");
    cr_expect_eq(run_model_cmd("show", bad, NULL, NULL), 1);
    cr_expect_eq(run_model_cmd("show", good, "--format", "json"), 0);
    cr_expect_eq(run_model_cmd("show", good, "--batch", "0"), 2);
    cr_expect_eq(run_model_cmd("show", good, "--format", "xml"), 2);
    cr_expect_eq(run_model_cmd("show", "no_such_zoo_model", NULL, NULL), 1);
    cr_expect_eq(run_model_cmd("list", NULL, NULL, NULL), 0);
    cr_expect_eq(run_model_cmd("show", "resnet20", "--batch", "128"), 0);
    cr_expect_eq(run_model_cmd("frobnicate", NULL, NULL, NULL), 2);
    cr_expect_eq(run_model_cmd("--help", NULL, NULL, NULL), 0);
    unlink(bad);
    unlink(good);
    rmdir(dir);
}

/* ---- SCALE-Sim ------------------------------------------------------------------------------ */

static model scalesim_ok(const char *text)
{
    return parse_ok_with(model_parse_scalesim, "t.csv", text);
}

/* Hand-derived with SCALE-Sim's rule out = ceil((ifmap - filter) / stride) + 1:
 *   Conv1 224x224, 11x11, 3->96, stride 4: out ceil(213/4)+1 = 55; MACs 55*55*121*3*96
 *         = 105415200
 *   Conv2 27x27, 5x5, 96->256, stride 1: out 23; MACs 23*23*25*96*256 = 325017600
 *   DP_1 (depthwise) 16x16, 3x3, 32 channels, 1 filter each: out 14; MACs 14*14*9*32 = 56448
 *   Rect 10x12, 3x2, 4->8, stride 2 (height), 3 (width): out ceil(7/2)+1 = 5 by
 *        ceil(10/3)+1 = 5; MACs 5*5*6*4*8 = 4800 */
Test(model, scalesim_conv_topology)
{
    model m = scalesim_ok("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
                          "Channels, Num Filter, Strides,\n"
                          "Conv1     ,224  ,224 ,11 ,11 ,3  ,96 ,4 ,\n"
                          "Conv2, 27, 27, 5, 5, 96, 256, 1,\n"
                          "DP 1, 16, 16, 3, 3, 32, 1, 1,\n"
                          "Rect, 10, 12, 3, 2, 4, 8, 2, 3,\n");
    cr_assert_eq(m.n_layers, 4);
    cr_expect_str_eq(m.layers[0].name, "Conv1");
    cr_expect_str_eq(m.layers[2].name, "DP_1");
    cr_expect_eq(m.layers[0].out.h, 55);
    cr_expect_eq(m.layers[0].fwd_madds, 105415200);
    cr_expect_eq(m.layers[1].fwd_madds, 325017600);
    cr_expect_eq(m.layers[2].fwd_madds, 56448);
    cr_expect_eq(m.layers[2].conv.groups, 32);
    cr_expect_eq(m.layers[3].out.h, 5);
    cr_expect_eq(m.layers[3].out.w, 5);
    cr_expect_eq(m.layers[3].fwd_madds, 4800);
    cr_expect(m.layers[0].first_mac);
    cr_expect_not(m.layers[1].first_mac, "later rows are inner layers");
    cr_expect_eq(m.input.c, 3);
    model_free(&m);
}

Test(model, scalesim_gemm_topology)
{
    /* M=256, N=128, K=256: 256*128*256 = 8388608 MACs, weights K x N = 32768 */
    model m = scalesim_ok("Layer Name, M, N, K,\nTest 1, 256, 128, 256,\nfc2,4,10,3\n");
    cr_assert_eq(m.n_layers, 2);
    cr_expect_str_eq(m.layers[0].name, "Test_1");
    cr_expect_eq(m.layers[0].kind, LAYER_LINEAR);
    cr_expect_eq(m.layers[0].fwd_madds, 8388608);
    cr_expect_eq(m.layers[0].params, 32768);
    cr_expect_eq(m.layers[1].fwd_madds, 120);
    model_free(&m);
}

static const char *scalesim_fails(const char *text)
{
    return parse_fails_with(model_parse_scalesim, "bad.csv", text);
}

Test(model, scalesim_errors)
{
    static const char hdr[] = "Layer name, IFMAP Height, IFMAP Width, Filter Height, "
                              "Filter Width, Channels, Num Filter, Strides,\n";
    char buf[512];
    expect_msg(scalesim_fails("name,a,b\nx,1,2\n"), "bad.csv:1: header:");
    snprintf(buf, sizeof buf, "%sC1, 8, 8, 9, 3, 3, 4, 1,\n", hdr);
    expect_msg(scalesim_fails(buf), "bad.csv:2: Filter Height: filter 9x3 larger");
    snprintf(buf, sizeof buf, "%sC1, 8, 8, 3, 3, x, 4, 1,\n", hdr);
    expect_msg(scalesim_fails(buf), "bad.csv:2: Channels: 'x'");
    snprintf(buf, sizeof buf, "%sC1, 8, 8, 3, 3, 3, 4,\n", hdr);
    expect_msg(scalesim_fails(buf), "bad.csv:2: expected 8 or 9 fields");
    snprintf(buf, sizeof buf, "%sC1, 8, 8, 3, 3, 3, 4, 0,\n", hdr);
    expect_msg(scalesim_fails(buf), "bad.csv:2: Strides: '0'");
    snprintf(buf, sizeof buf, "%sC1, 8, 8, 3, 3, 3, 4, 1,\nC1, 8, 8, 3, 3, 3, 4, 1,\n", hdr);
    expect_msg(scalesim_fails(buf), "bad.csv:3: name: duplicate layer name 'C1'");
    expect_msg(scalesim_fails("Layer Name, M, N, K,\nG, 0, 1, 1,\n"), "bad.csv:2: M: '0'");
    expect_msg(scalesim_fails(hdr), "bad.csv:1: layer: no layers");
}

/* Found by fuzz_model: a NUL byte made the shared reader return 1 (= BS_EINPUT) without a
 * line, which the CSV importer took for a line. Both parsers must stop at it. */
Test(model, nul_byte_in_file)
{
    static const char text[] = "input 3 8 8\nact a\0b\n",
                      csv[] = "Layer Name, M, N, K,\nG, 1\0, 1, 1,\n";
    static const struct {
        model_parser parse;
        const char *path, *text;
        size_t len;
    } cases[] = {
        {model_parse_buffer, "bad.model", text, sizeof text - 1},
        {model_parse_scalesim, "bad.csv", csv, sizeof csv - 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        model m;
        bs_error e;
        err_clear(&e);
        cr_assert_eq(cases[i].parse(&m, cases[i].path, cases[i].text, cases[i].len, &e),
                     BS_EINPUT);
        char where[32];
        snprintf(where, sizeof where, "%s:2", cases[i].path);
        expect_msg(e.msg, where);
        cr_expect_null(m.layers);
    }
}

Test(model, each_action_has_its_own_help)
{
    static const char *const actions[] = {"list", "show"};
    char out[4096], want[64];
    for (size_t i = 0; i < 2; i++) {
        char *argv[] = {"model", (char *)actions[i], "--help", NULL};
        cr_expect_eq(run_cmd(cmd_model, argv, out, sizeof out), 0, "model %s --help", actions[i]);
        snprintf(want, sizeof want, "usage: bitsim model %s ", actions[i]);
        cr_expect(strncmp(out, want, strlen(want)) == 0, "printed:\n%s", out);
        snprintf(want, sizeof want, "bitsim model %s ", actions[1 - i]);
        cr_expect(!strstr(out, want), "model %s --help shows the other action:\n%s", actions[i],
                  out);
    }
}

/* Issue 13 D1: the 33rd layer grows the layer array (32 slots first), and its error names an
 * input layer (a0 is 1x4x4, a1 makes it 2x4x4); the name must be read after the array moved,
 * not from the freed one (ASan reported a heap-use-after-free in fail; a plain build printed
 * the allocator's bytes from the command line). */
Test(model, error_naming_an_input_after_the_layer_array_grows)
{
    static const struct {
        const char *last, *want;
    } cases[] = {
        {"conv c1 out=1 k=9 from=a0", "bad.model:34: k: window 9 is larger than the padded "
                                      "input 4 (input 'a0')"},
        {"conv c1 out=1 k=9", "(input 'a31')"},
        {"conv c1 in=3 out=1 k=1 from=a0", "input 'a0' has 1"},
        {"linear f in=3 out=2 from=a0", "input 'a0' has 16"},
        {"matmul mm m=2 k=2 n=2 from=a0", "input 'a31' has 32"},
        {"matmul mm m=4 k=8 n=4 from=a0", "but 'a0' has 16"},
        {"add r from=a0", "shape 1x4x4 of 'a0' differs from 2x4x4 of 'a31'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[2048];
        int n = snprintf(text, sizeof text, "input 1 4 4\n");
        for (int k = 0; k < 32; k++)
            n += snprintf(text + n, sizeof text - (size_t)n,
                          k == 1 ? "conv a%d out=2 k=1\n" : "act a%d\n", k);
        snprintf(text + n, sizeof text - (size_t)n, "%s\n", cases[i].last);
        expect_msg(parse_fails(text), cases[i].want);
    }
}

/* ---- decoder-only transformers ------------------------------------------------------------ */

static model zoo(const char *ref)
{
    model m;
    bs_error e;
    err_clear(&e);
    cr_assert_eq(model_load(&m, ref, &e), BS_OK, "%s: %s", ref, e.msg);
    return m;
}

static const model_layer *layer_named(const model *m, const char *name)
{
    int i = model_find_layer(m, name);
    cr_assert_geq(i, 0, "%s has no layer %s", m->name, name);
    return &m->layers[i];
}

/* Published parameter counts, embeddings included:
 *   GPT-2 small  124,439,808  tied wte/lm_head (Hugging Face openai-community/gpt2,
 *                             GPT2LMHeadModel.num_parameters(); the figure)
 *   GPT-2 medium 354,823,168  (openai-community/gpt2-medium, the same count)
 *   Llama-2-7B   6,738,415,616 untied lm_head (meta-llama/Llama-2-7b-hf, the "7B" of
 *                             Touvron et al. 2023, Table 1)
 *   Llama-3-8B   8,030,261,248 (meta-llama/Meta-Llama-3-8B model card's "8B")
 * By hand as a cross-check of the published ones: GPT-2 = V*d + 1024*d (wte, wpe)
 * + L*(12 d^2 + 13 d) (qkv, proj, fc, proj with biases, two LayerNorms) + 2d (ln_f);
 * small 38,597,376 + 786,432 + 12*7,087,872 + 1,536. Llama = 2*V*d (embed, lm_head)
 * + L*(2 d^2 + 2 d*d_kv + 3 d f + 2 d) + d; 7B: 2*131,072,000 + 32*202,383,360 + 4,096. */
Test(model, decoders_match_published_parameter_counts)
{
    static const struct {
        const char *zoo;
        uint64_t published;
        uint64_t d, L, V, f, kv_dim;    /* for the by-hand count */
        bool gpt2;
    } nets[] = {
        {"gpt2_small", 124439808ull, 768, 12, 50257, 0, 0, true},
        {"gpt2_medium", 354823168ull, 1024, 24, 50257, 0, 0, true},
        {"llama2_7b", 6738415616ull, 4096, 32, 32000, 11008, 4096, false},
        {"llama3_8b", 8030261248ull, 4096, 32, 128256, 14336, 1024, false},
    };
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++) {
        model m = zoo(nets[i].zoo);
        uint64_t d = nets[i].d, L = nets[i].L, V = nets[i].V, f = nets[i].f;
        uint64_t hand = nets[i].gpt2
                            ? V * d + 1024 * d + L * (12 * d * d + 13 * d) + 2 * d
                            : 2 * V * d + L * (2 * d * d + 2 * d * nets[i].kv_dim + 3 * d * f +
                                               2 * d) + d;
        cr_expect_eq(hand, nets[i].published, "%s: the by-hand count %" PRIu64, nets[i].zoo,
                     hand);
        cr_expect_eq(model_params(&m), nets[i].published, "%s: %" PRIu64 " parameters",
                     nets[i].zoo, model_params(&m));
        model_free(&m);
    }
}

/* Forward MACs per sample (one sequence of s tokens), derived by hand. GPT-2, d model width,
 * h heads of d/h, L blocks, vocabulary V = 50257, per block:
 *   k, v, q, c_proj   4 * s*d*d
 *   mlp.c_fc, c_proj  2 * s*d*4d          -> 12 d^2 s of weights per block
 *   Q.K^T             h * s*(d/h)*s = s^2 d
 *   scores.V          h * s*s*(d/h) = s^2 d   (FULL attention: the causal mask is not
 *                                             subtracted, the FLOP counters' convention)
 * plus the LM head s*d*V; the embedding lookups have no MACs. Total
 *   L*(12 d^2 s + 2 s^2 d) + s d V.
 * Llama, FFN width f, KV width d_kv = d*kv_heads/heads, per block:
 *   q_proj, o_proj   2 * s*d*d;   k_proj, v_proj  2 * s*d*d_kv
 *   gate, up, down   3 * s*d*f;   attention       2 s^2 d (GQA shares K/V, not MACs)
 * Total L*(2 d^2 s + 2 d d_kv s + 3 d f s + 2 s^2 d) + s d V.
 * GPT-2 small at s = 1024: 12*(12*768^2*1024 + 2*1024^2*768) + 1024*768*50257
 * = 106,300,440,576 + 39,523,713,024 = 145,824,153,600. */
static uint64_t gpt2_macs(uint64_t d, uint64_t L, uint64_t s)
{
    return L * (12 * d * d * s + 2 * s * s * d) + s * d * 50257;
}

static uint64_t llama_macs(uint64_t d, uint64_t L, uint64_t kv_dim, uint64_t f, uint64_t V,
                           uint64_t s)
{
    return L * (2 * d * d * s + 2 * d * kv_dim * s + 3 * d * f * s + 2 * s * s * d) + s * d * V;
}

Test(model, decoders_forward_macs_by_hand_at_several_sequence_lengths)
{
    cr_expect_eq(gpt2_macs(768, 12, 1024), 145824153600ull, "the derivation's example");
    static const uint64_t seqs[] = {1, 128, 1024};
    for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
        uint64_t s = seqs[i];
        char ref[64];
        static const struct {
            const char *zoo;
            uint64_t d, L, kv_dim, f, V;
            bool gpt2;
        } nets[] = {
            {"gpt2_small", 768, 12, 0, 0, 0, true},
            {"gpt2_medium", 1024, 24, 0, 0, 0, true},
            {"llama2_7b", 4096, 32, 4096, 11008, 32000, false},
            {"llama3_8b", 4096, 32, 1024, 14336, 128256, false},
        };
        for (size_t k = 0; k < sizeof nets / sizeof nets[0]; k++) {
            snprintf(ref, sizeof ref, "%s seq=%" PRIu64, nets[k].zoo, s);
            model m = zoo(ref);
            uint64_t want = nets[k].gpt2 ? gpt2_macs(nets[k].d, nets[k].L, s)
                                         : llama_macs(nets[k].d, nets[k].L, nets[k].kv_dim,
                                                      nets[k].f, nets[k].V, s);
            cr_expect_eq(model_fwd_madds(&m), want, "%s: %" PRIu64 " MACs, by hand %" PRIu64,
                         ref, model_fwd_madds(&m), want);
            cr_expect_eq(m.input.h, s, "%s: input tokens", ref);
            model_free(&m);
        }
    }
}

/* The defaults: GPT-2's n_ctx 1024, Llama 2's 4096 and Llama 3's 8192 pretraining lengths. */
Test(model, decoder_default_sequence_lengths)
{
    static const struct {
        const char *zoo;
        uint64_t seq;
    } nets[] = {{"gpt2_small", 1024}, {"gpt2_medium", 1024}, {"llama2_7b", 4096},
                {"llama3_8b", 8192}};
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++) {
        model m = zoo(nets[i].zoo);
        cr_assert_eq(m.n_vars, 1);
        cr_expect_str_eq(m.vars[0].name, "seq");
        cr_expect_eq(m.vars[0].value, nets[i].seq, "%s", nets[i].zoo);
        cr_expect_eq(m.input.h, nets[i].seq, "%s", nets[i].zoo);
        model_free(&m);
    }
}

/* The new layers of GPT-2 small at s = 64, batch 2, by hand (FORMAT.md's tables):
 *   wte       embedding 50257 x 768: out 1x64x768 (E = 49,152); no MACs; FWD E (the gather),
 *             BWD_DATA 0 (token ids), BWD_WEIGHT E (scatter-add), UPDATE 50257*768
 *   wpe       positions: 1024 x 768 = 786,432 parameters
 *   lm_head   tied: weights 768 x 50257 read by the passes, 0 parameters of its own, MACs
 *             64*768*50257 = 2,470,232,064 per sample, all three passes
 *   scores    12 heads x [64 x 64] . [64 x 64]: 3,145,728 MACs; softmax over 12x64x64 =
 *             49,152 elements: FWD 4E, BWD_DATA 3E */
Test(model, gpt2_layers_by_hand)
{
    model m = zoo("gpt2_small seq=64");
    const model_layer *wte = layer_named(&m, "transformer.wte");
    uint64_t v;
    cr_expect_eq(wte->kind, LAYER_EMBEDDING);
    cr_expect_eq(wte->params, 50257ull * 768);
    cr_expect_eq(wte->fwd_madds, 0);
    cr_expect(wte->out.c == 1 && wte->out.h == 64 && wte->out.w == 768);
    static const uint64_t wte_ops[PASS_COUNT] = {2 * 49152, 0, 2 * 49152, 50257ull * 768};
    for (int p = 0; p < PASS_COUNT; p++) {
        cr_assert(model_pass_elem_ops(wte, (train_pass)p, 2, &v));
        cr_expect_eq(v, wte_ops[p], "wte %s: %" PRIu64, model_pass_name((train_pass)p), v);
    }
    cr_expect_eq(layer_named(&m, "transformer.wpe")->params, 786432);
    const model_layer *head = layer_named(&m, "lm_head");
    cr_expect(head->tied);
    cr_expect_eq(head->params, 0);
    cr_expect_eq(head->weight_elems, 768ull * 50257);
    for (int p = PASS_FWD; p <= PASS_BWD_WEIGHT; p++) {
        cr_assert(model_pass_madds(head, (train_pass)p, 1, &v));
        cr_expect_eq(v, 2470232064ull, "lm_head %s", model_pass_name((train_pass)p));
    }
    const model_layer *sc = layer_named(&m, "transformer.h.0.attn.scores");
    cr_expect_eq(sc->fwd_madds, 3145728);
    const model_layer *sm = layer_named(&m, "transformer.h.0.attn.softmax");
    cr_assert(model_pass_elem_ops(sm, PASS_FWD, 1, &v));
    cr_expect_eq(v, 4 * 49152);
    cr_assert(model_pass_elem_ops(sm, PASS_BWD_DATA, 1, &v));
    cr_expect_eq(v, 3 * 49152);
    /* the first block's projections read the embeddings, which have parameters: BWD_DATA */
    cr_expect_not(layer_named(&m, "transformer.h.0.attn.c_attn.k")->skip_bwd_data);
    model_free(&m);
}

/* Llama-3-8B at s = 16, by hand:
 *   input_layernorm  RMSNorm, 4096 gains (no bias); E = 16*4096 = 65,536: FWD 3E, BWD_DATA 3E,
 *                    BWD_WEIGHT E (dgamma)
 *   k_proj           4096 -> 1024 (8 KV heads of 128), no bias: 4,194,304 parameters
 *   rotary_k         1x16x1024: FWD 3*16,384 (two multiplies, one add), BWD_DATA the same
 *   scores           32 heads x [16 x 128] . [128 x 16], K shared by groups of 4:
 *                    32*16*128*16 = 1,048,576 MACs; kv_heads 8
 *   mlp.mul          silu(gate) * up over 16 x 14336 = 229,376: FWD E, BWD_DATA 2E
 *   lm_head          untied: 4096*128256 = 525,336,576 parameters */
Test(model, llama_layers_by_hand)
{
    model m = zoo("llama3_8b seq=16");
    uint64_t v;
    const model_layer *ln = layer_named(&m, "model.layers.0.input_layernorm");
    cr_expect_str_eq(ln->op, "rms");
    cr_expect_eq(ln->params, 4096);
    static const uint64_t ln_ops[3] = {3 * 65536, 3 * 65536, 65536};
    for (int p = PASS_FWD; p <= PASS_BWD_WEIGHT; p++) {
        cr_assert(model_pass_elem_ops(ln, (train_pass)p, 1, &v));
        cr_expect_eq(v, ln_ops[p], "rmsnorm %s: %" PRIu64, model_pass_name((train_pass)p), v);
    }
    cr_expect_eq(layer_named(&m, "model.layers.0.self_attn.k_proj")->params, 4194304);
    const model_layer *rk = layer_named(&m, "model.layers.0.self_attn.rotary_k");
    cr_expect_eq(rk->kind, LAYER_ROTARY);
    cr_assert(model_pass_elem_ops(rk, PASS_FWD, 1, &v));
    cr_expect_eq(v, 3 * 16384);
    cr_assert(model_pass_elem_ops(rk, PASS_BWD_DATA, 1, &v));
    cr_expect_eq(v, 3 * 16384);
    const model_layer *sc = layer_named(&m, "model.layers.0.self_attn.scores");
    cr_expect_eq(sc->fwd_madds, 1048576);
    cr_expect_eq(sc->kv_heads, 8);
    cr_expect_eq(sc->gemm.count, 32);
    const model_layer *mul = layer_named(&m, "model.layers.0.mlp.mul");
    cr_expect_eq(mul->kind, LAYER_MUL);
    cr_assert(model_pass_elem_ops(mul, PASS_FWD, 1, &v));
    cr_expect_eq(v, 229376);
    cr_assert(model_pass_elem_ops(mul, PASS_BWD_DATA, 1, &v));
    cr_expect_eq(v, 2 * 229376);
    const model_layer *head = layer_named(&m, "lm_head");
    cr_expect_not(head->tied);
    cr_expect_eq(head->params, 4096ull * 128256);
    model_free(&m);
}

/* GPT-2's 1024 learned positions bound the sequence: seq 1025 is refused at the wpe line. */
Test(model, gpt2_sequence_beyond_its_positions_is_refused)
{
    model m;
    bs_error e;
    err_clear(&e);
    cr_expect_eq(model_load(&m, "gpt2_small seq=1025", &e), BS_EINPUT);
    expect_msg(e.msg, "gpt2_small.model:");
    expect_msg(e.msg, "positions: 1025 positions");
    cr_expect_null(m.layers);
    m = zoo("gpt2_small seq=1024");
    model_free(&m);
}

/* ---- model parameters ------------------------------------------------------------------- */

static const char *const param_net =
    "param seq 8\nparam hidden 4\ninput 1 $seq $hidden\n"
    "linear fc in=$hidden out=2 rows=$seq\n";

Test(model, parameters_default_and_override)
{
    model m = parse_ok(param_net);
    cr_expect_eq(m.input.h, 8);
    cr_expect_eq(m.layers[0].fwd_madds, 8 * 4 * 2);
    cr_assert_eq(m.n_vars, 2);
    cr_expect_str_eq(m.vars[1].name, "hidden");
    cr_expect_eq(m.vars[1].dflt, 4);
    model_free(&m);
    bs_error e;
    err_clear(&e);
    cr_assert_eq(model_parse_buffer_with(&m, "t.model", param_net, strlen(param_net),
                                         " seq=3  hidden=5 ", &e), BS_OK, "%s", e.msg);
    cr_expect_eq(m.layers[0].fwd_madds, 3 * 5 * 2);
    cr_expect_eq(m.vars[0].value, 3);
    cr_expect_eq(m.vars[0].dflt, 8);
    char ref[128];
    cr_assert(model_ref_resolved(&m, "dir/t.model seq=3", ref, sizeof ref));
    cr_expect_str_eq(ref, "dir/t.model seq=3 hidden=5");
    cr_expect_not(model_ref_resolved(&m, "dir/t.model", ref, 12));
    model_free(&m);
}

static const char *override_fails(const char *overrides)
{
    static bs_error e;
    model m;
    err_clear(&e);
    cr_assert_eq(model_parse_buffer_with(&m, "t.model", param_net, strlen(param_net),
                                         overrides, &e), BS_EINPUT, "overrides '%s'", overrides);
    cr_assert_null(m.layers);
    return e.msg;
}

Test(model, bad_overrides)
{
    expect_msg(override_fails("seq=0"), "t.model:1: seq: override 'seq=0'");
    expect_msg(override_fails("seq=x1"), "not a whole number");
    expect_msg(override_fails("seq=1 seq=2"), "overridden twice");
    expect_msg(override_fails("tokens=4"), "no parameter 'tokens' to override (it has: seq, "
               "hidden)");
    expect_msg(override_fails("seq=99999999999"), "seq: override");
}

Test(model, bad_parameter_lines)
{
    static const bad_case cases[] = {
        {"param seq\ninput 1 1 1\nact a\n", "bad.model:1: param: expected 'param NAME"},
        {"param 1x 4\ninput 1 1 1\nact a\n", "bad.model:1: param: '1x' is not a parameter"},
        {"param seq 0\ninput 1 1 1\nact a\n", "bad.model:1: seq: default '0'"},
        {"param seq 2\nparam seq 3\ninput 1 1 1\nact a\n", "bad.model:2: param: parameter "
                                                          "'seq' declared twice"},
        {"input 1 $seq 1\nparam seq 2\nact a\n", "bad.model:1: input: '$seq': no parameter"},
        {"param seq 2\ninput 1 2 2\nlinear fc in=$sq out=1 rows=2\n", "bad.model:3: in: '$sq'"},
        {"param big 4294967295\ninput 1 1 1\nact a\nnorm n affine=$big\n",
         "bad.model:4: affine: $big = 4294967295 is not in 0..1"},
        {"param a 1\nparam b 1\nparam c 1\nparam d 1\nparam e 1\nparam f 1\nparam g 1\n"
         "param h 1\nparam i 1\ninput 1 1 1\nact a\n", "bad.model:9: param: more than 8"},
    };
    expect_all_fail(cases, sizeof cases / sizeof cases[0]);
}

Test(model, reference_overrides_are_split_from_the_name_or_path)
{
    cr_expect_eq(model_ref_base_len("gpt2_small seq=4 x=5"), strlen("gpt2_small"));
    cr_expect_eq(model_ref_base_len("gpt2_small  "), strlen("gpt2_small"));
    cr_expect_eq(model_ref_base_len("a=b"), 3);
    cr_expect_eq(model_ref_base_len("my dir/x.model seq=2"), strlen("my dir/x.model"));
    cr_expect(model_ref_is_path("x.model seq=2"));
    cr_expect(model_ref_is_path("my dir/x.model"));
    cr_expect_not(model_ref_is_path("gpt2_small seq=2"));
    model m;
    bs_error e;
    err_clear(&e);
    cr_expect_eq(model_load(&m, "resnet20 seq=4", &e), BS_EINPUT);
    expect_msg(e.msg, "no parameter 'seq' to override (it has none)");
    err_clear(&e);
    cr_expect_eq(model_load(&m, "models/gpt2_small_gemm.csv seq=4", &e), BS_EINPUT);
    expect_msg(e.msg, "a SCALE-Sim topology has no parameters");
}

/* ---- the new layer kinds: their rules and errors ------------------------------------------ */

Test(model, embedding_rotary_mul_gqa_and_tied_rules)
{
    /* a 2-head, 1-KV-head toy: tokens 3, d 4, head 2 */
    model m = parse_ok("input 1 3 1\n"
                       "embedding tok vocab=10 dim=4\n"
                       "linear k in=4 out=2 rows=3 bias=0\n"
                       "rotary rk\n"
                       "linear q in=4 out=4 rows=3 bias=0 from=tok\n"
                       "matmul s m=3 k=2 n=3 heads=2 kv_heads=1 from=rk\n"
                       "act g op=silu from=q\n"
                       "mul gate from=q\n"
                       "linear head in=4 out=10 rows=3 tied=tok\n");
    cr_expect_eq(m.layers[0].params, 40);
    cr_expect(m.layers[0].skip_bwd_data);
    cr_expect_eq(m.layers[4].fwd_madds, 2 * 3 * 2 * 3);
    cr_expect_eq(m.layers[4].kv_heads, 1);
    cr_expect_eq(m.layers[7].params, 10, "tied: only the bias");
    cr_expect_eq(m.layers[7].weight_elems, 40);
    model_free(&m);
    static const bad_case cases[] = {
        {"input 1 3 1\nembedding e dim=4\n", "bad.model:2: vocab: missing"},
        {"input 1 3 1\nembedding e vocab=2 dim=4 positions=1\n",
         "bad.model:2: positions: 3 positions from input 'input' but the table has 2"},
        {"input 1 4 4\nlinear a in=4 out=4 rows=4\nlinear b in=4 out=4 rows=4 tied=a\n",
         "bad.model:3: tied: 'a' is a linear layer, not an embedding"},
        {"input 1 4 1\nembedding e vocab=5 dim=4\nlinear b in=4 out=6 rows=4 tied=e\n",
         "bad.model:3: tied: weight in 4 x out 6 differs from the table of 'e' (5 entries x "
         "dim 4)"},
        {"input 1 4 1\nembedding e vocab=5 dim=4\nlinear b in=4 out=5 rows=4 tied=x\n",
         "bad.model:3: tied: no earlier layer called 'x'"},
        {"input 1 3 4\nact a\nmatmul s m=3 k=2 n=3 heads=2 kv_heads=3 from=a\n",
         "bad.model:3: kv_heads: 3 kv_heads do not divide 2 heads"},
        {"input 1 3 4\nact a\nmatmul s m=3 k=2 n=3 heads=2 kv_heads=1 from=input\n",
         "bad.model:3: from: right operand kv_heads x k x n = 6 elements but 'input' has 12"},
        {"input 1 3 4\nact a\nlinear b in=4 out=2 rows=3\nmul c from=a\n",
         "bad.model:4: from: shape 1x3x4 of 'a' differs from 1x3x2 of 'b'"},
        {"input 1 3 4\nnorm n op=rmss\n", "bad.model:2: op: 'rmss' is not one of "
                                          "batch|layer|rms"},
        {"input 1 3 4\nrotary r heads=2\n", "bad.model:2: heads: unknown key for rotary"},
    };
    expect_all_fail(cases, sizeof cases / sizeof cases[0]);
    m = parse_ok("input 1 3 4\nnorm n op=rms affine=0\n");
    cr_expect_eq(m.layers[0].params, 0);
    uint64_t v;
    cr_assert(model_pass_elem_ops(&m.layers[0], PASS_BWD_WEIGHT, 1, &v));
    cr_expect_eq(v, 0);
    model_free(&m);
}

/* The SCALE-Sim GEMM topology of GPT-2 small (models/gpt2_small_gemm.csv, written by
 * gen-decoders.sh in scale-sim-v2's `Layer,M,N,K` form, one row per head for attention)
 * imports with the MACs derived by hand above at s = 1024 — the same as the zoo model's. */
Test(model, scalesim_gpt2_gemm_topology_imports)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/gpt2_small_gemm.csv", model_zoo_dir());
    model m = zoo(path);
    cr_expect_eq(m.n_layers, 12 * (1 + 12 + 12 + 3) + 1);
    cr_expect_eq(model_fwd_madds(&m), gpt2_macs(768, 12, 1024));
    const model_layer *qkt = layer_named(&m, "h0.head0.QKT");
    cr_expect(qkt->gemm.m == 1024 && qkt->gemm.k == 64 && qkt->gemm.n == 1024);
    model z = zoo("gpt2_small");
    cr_expect_eq(model_fwd_madds(&m), model_fwd_madds(&z));
    model_free(&z);
    model_free(&m);
}

Test(model, show_takes_seq_and_model_param, .init = cr_redirect_stdout)
{
    cr_redirect_stderr();
    cr_expect_eq(run_model_cmd("show", "gpt2_small", "--seq", "16"), 0);
    cr_expect_eq(run_model_cmd("show", "gpt2_small", "--model-param", "seq=16"), 0);
    cr_expect_eq(run_model_cmd("show", "gpt2_small", "--seq", "2000"), 1);
    cr_expect_eq(run_model_cmd("show", "gpt2_small", "--model-param", "sq=16"), 1);
    cr_expect_eq(run_model_cmd("show", "gpt2_small", "--seq", "-3"), 2);
    cr_expect_eq(run_model_cmd("show", "gpt2_small", "--model-param", "seq"), 2);
}
