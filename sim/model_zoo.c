/* model_zoo.c — finding a network: a zoo name or a file path, with parameter overrides.
 *
 * A model reference is what a trace's model line and --model hold: "resnet20", a path
 * ("nets/my.model", "topo.csv"), either followed by "NAME=VALUE" overrides of the file's
 * params. The reference, not the file, is what a trace records (model_ref_resolved writes
 * every parameter's value into it), so a trace replays the same shapes after the zoo changes.
 * Reading the text is model.c's (model_private.h).
 */
#include "model_zoo.h"
#include "model_private.h"

#include <ctype.h>
#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"
#include "text.h"

const char *model_zoo_dir(void)
{
    static char dir[PATH_MAX];
    const char *env = getenv("BITSIM_MODELS");
    if (env && *env) {
        snprintf(dir, sizeof dir, "%s", env);
        return dir;
    }
    paths_data_dir("models", dir, sizeof dir);  /* when none exists, dir names the installed
                                                 * one, for the "no model in the zoo" message */
    return dir;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int load_file(model *m, const char *path, const char *overrides, bs_error *e)
{
    if (overrides && *overrides && ends_with(path, ".csv"))
        return err_set(e, BS_EINPUT, "%s: a SCALE-Sim topology has no parameters to set (%s)",
                       path, overrides);
    /* SCALE-Sim writes the backward GEMMs of a network as *_input_grad.csv and
     * *_weight_grad.csv: bitsim derives every backward pass from the forward topology, so
     * reading one of these as a network would count its backward passes twice over */
    if (ends_with(path, "_input_grad.csv") || ends_with(path, "_weight_grad.csv"))
        return err_set(e, BS_EINPUT, "%s: a SCALE-Sim gradient topology (already a backward"
                       " GEMM); give the forward topology: bitsim derives BWD_DATA and"
                       " BWD_WEIGHT from it", path);
    text_reader r;
    int rc = text_open_file(&r, path, e);
    if (rc)
        return rc;
    rc = ends_with(path, ".csv") ? model_parse_scalesim(m, path, r.buf, r.len, e)
                                 : model_parse_buffer_with(m, path, r.buf, r.len, overrides, e);
    text_close(&r);
    if (rc == BS_OK)
        snprintf(m->source, sizeof m->source, "%s", path);
    return rc;
}

size_t model_ref_base_len(const char *ref)
{
    size_t end = strlen(ref);
    for (;;) {
        size_t e = end, b;
        while (e > 0 && isspace((unsigned char)ref[e - 1]))
            e--;
        for (b = e; b > 0 && !isspace((unsigned char)ref[b - 1]);)
            b--;
        if (b == 0 || !memchr(ref + b, '=', e - b))
            return e;
        end = b;
    }
}

bool model_ref_is_path(const char *ref)
{
    char base[PATH_MAX];
    snprintf(base, sizeof base, "%.*s", (int)model_ref_base_len(ref), ref);
    return strchr(base, '/') || ends_with(base, ".model") || ends_with(base, ".csv");
}

bool model_ref_resolved(const model *m, const char *ref, char *out, size_t n)
{
    int w = snprintf(out, n, "%.*s", (int)model_ref_base_len(ref), ref);
    for (uint32_t i = 0; i < m->n_vars && w >= 0 && (size_t)w < n; i++)
        w += snprintf(out + w, n - (size_t)w, " %s=%" PRIu64, m->vars[i].name,
                      m->vars[i].value);
    return w >= 0 && (size_t)w < n;
}

int model_load(model *m, const char *ref, bs_error *e)
{
    memset(m, 0, sizeof *m);
    size_t base_len = model_ref_base_len(ref);
    const char *overrides = ref + base_len;
    overrides += strspn(overrides, " \t");
    char name_or_path[PATH_MAX];
    if (base_len >= sizeof name_or_path)
        return err_set(e, BS_EINPUT, "model reference longer than %d bytes", PATH_MAX - 1);
    memcpy(name_or_path, ref, base_len);
    name_or_path[base_len] = '\0';
    if (model_ref_is_path(name_or_path))
        return load_file(m, name_or_path, overrides, e);
    if (!model_valid_name(name_or_path))
        return err_set(e, BS_EINPUT, "'%s' is not a zoo model name", name_or_path);
    char path[PATH_MAX + 80];
    snprintf(path, sizeof path, "%s/%s.model", model_zoo_dir(), name_or_path);
    FILE *f = fopen(path, "r");
    if (!f) {
        char near[64];
        if (paths_closest_name(model_zoo_dir(), ".model", name_or_path, near, sizeof near))
            return err_set(e, BS_EINPUT, "no model '%s' in the zoo (%s); did you mean '%s'? "
                           "(see bitsim model list)", name_or_path, model_zoo_dir(), near);
        return err_set(e, BS_EINPUT, "no model '%s' in the zoo (%s); see bitsim model list",
                       name_or_path, model_zoo_dir());
    }
    fclose(f);
    return load_file(m, path, overrides, e);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int model_zoo_list(void (*fn)(const char *name, const char *desc, void *ctx), void *ctx,
                   bs_error *e)
{
    const char *dir = model_zoo_dir();
    DIR *d = opendir(dir);
    if (!d) {
        err_set(e, BS_EINPUT, "%s: cannot open the model zoo", dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        if (!ends_with(de->d_name, ".model") || de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **bigger = realloc(names, cap * sizeof *bigger);
            if (!bigger) {
                rc = -1;
                break;
            }
            names = bigger;
        }
        names[n] = strdup(de->d_name);
        if (!names[n]) {
            rc = -1;
            break;
        }
        n++;
    }
    closedir(d);
    if (rc < 0) {
        err_set(e, BS_EINTERNAL, "out of memory listing %s", dir);
    } else {
        qsort(names, n, sizeof *names, compare_names);
        for (size_t i = 0; i < n && rc == 0; i++) {
            char path[PATH_MAX + 300];
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            model m;
            if (load_file(&m, path, NULL, e)) {
                rc = -1;
                break;
            }
            char name[300];
            snprintf(name, sizeof name, "%s", names[i]);
            name[strlen(name) - strlen(".model")] = '\0';
            fn(name, m.description, ctx);
            model_free(&m);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc < 0 ? -1 : (int)n;
}
