#include "shorthand.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"

typedef struct parser {
    const char *s;
    size_t pos;
    const char *text;
    vm_error *err;
} parser;

static int
fail(parser *ps, const char *what)
{
    return vm_error_set(ps->err, VM_ERR_INVALID_PARAMETER_VALUE, "invalid shorthand '%s' at character %zu: %s",
                        ps->text, ps->pos + 1, what);
}

static const char *
wire_name(const char *member)
{
    static const char *const lists[][2] = { { "Values", "Value" }, { "Tags", "Tag" }, { "UserIdGroupPairs", "Groups" } };
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
        if (strcmp(lists[i][0], member) == 0)
            return lists[i][1];
    return NULL;
}

/* A scalar: quoted, or bare up to , ] } (end).  Owned result in *ret. */
static int
scalar(parser *ps, char **ret)
{
    size_t cap = strlen(ps->s + ps->pos) + 1, n = 0;
    _cleanup_free_ char *out = malloc(cap);
    if (!out)
        return vm_error_set(ps->err, VM_ERR_INTERNAL, "out of memory");
    char q = ps->s[ps->pos];
    if (q == '"' || q == '\'') {
        ps->pos++;
        while (ps->s[ps->pos] && ps->s[ps->pos] != q) {
            if (q == '"' && ps->s[ps->pos] == '\\' && ps->s[ps->pos + 1])
                ps->pos++;
            out[n++] = ps->s[ps->pos++];
        }
        if (ps->s[ps->pos] != q)
            return fail(ps, "unterminated quote");
        ps->pos++;
    } else {
        while (ps->s[ps->pos] && !strchr(",]}", ps->s[ps->pos]))
            out[n++] = ps->s[ps->pos++];
    }
    out[n] = '\0';
    *ret = TAKE_PTR(out);
    return 0;
}

/* Whether the text at pos starts "Name=" (a new member) rather than another list value. */
static bool
at_member(parser *ps)
{
    size_t i = ps->pos;
    while ((ps->s[i] >= 'A' && ps->s[i] <= 'Z') || (ps->s[i] >= 'a' && ps->s[i] <= 'z') ||
           (ps->s[i] >= '0' && ps->s[i] <= '9'))
        i++;
    return i > ps->pos && ps->s[i] == '=';
}

static int members(parser *ps, const char *prefix, vm_params *out, char end);

static int
set(parser *ps, vm_params *out, const char *value, const char *fmt, const char *base, int idx)
{
    char key[400];
    snprintf(key, sizeof(key), fmt, base, idx);
    if (vm_params_set(out, key, value) < 0)
        return vm_error_set(ps->err, VM_ERR_INTERNAL, "out of memory");
    return 0;
}

static int
member(parser *ps, const char *prefix, vm_params *out)
{
    char name[64];
    size_t n = 0;
    while (ps->s[ps->pos] && ps->s[ps->pos] != '=' && n < sizeof(name) - 1)
        name[n++] = ps->s[ps->pos++];
    name[n] = '\0';
    if (ps->s[ps->pos] != '=' || n == 0)
        return fail(ps, "expected Name=value");
    ps->pos++;
    const char *list = wire_name(name);
    const char *sep = *prefix ? "." : "";
    char full[320], qlist[80];
    /* the AWS Query protocol's lists (Auto Scaling, CloudWatch, ELB): NAME.member.N */
    bool query = strstr(prefix, ".member") != NULL;
    if (query && (list || ps->s[ps->pos] == '[')) {
        snprintf(qlist, sizeof(qlist), "%s.member", name);
        list = qlist;
    }

    if (ps->s[ps->pos] == '{') {
        /* a nested structure: Ebs={VolumeSize=20,VolumeType=gp3} → PREFIX.Ebs.VolumeSize … */
        ps->pos++;
        snprintf(full, sizeof(full), "%s%s%s", prefix, sep, name);
        if (members(ps, full, out, '}') < 0)
            return -1;
        ps->pos++;
        return 0;
    }
    if (ps->s[ps->pos] == '[') {
        ps->pos++;
        for (int i = 1; ps->s[ps->pos] != ']'; i++) {
            if (ps->s[ps->pos] == '{') {
                ps->pos++;
                snprintf(full, sizeof(full), "%s%s%s.%d", prefix, sep, list ? list : name, i);
                if (members(ps, full, out, '}') < 0)
                    return -1;
                if (ps->s[ps->pos] != '}')
                    return fail(ps, "expected }");
                ps->pos++;
            } else {
                _cleanup_free_ char *v = NULL;
                if (scalar(ps, &v) < 0)
                    return -1;
                snprintf(full, sizeof(full), "%s%s%s.%d", prefix, sep, list ? list : name, i);
                if (vm_params_set(out, full, v) < 0)
                    return vm_error_set(ps->err, VM_ERR_INTERNAL, "out of memory");
            }
            if (ps->s[ps->pos] == ',')
                ps->pos++;
            else if (ps->s[ps->pos] != ']')
                return fail(ps, "expected , or ]");
        }
        ps->pos++;
        return 0;
    }
    _cleanup_free_ char *v = NULL;
    if (scalar(ps, &v) < 0)
        return -1;
    snprintf(full, sizeof(full), "%s%s%s", prefix, sep, list ? list : name);
    if (!list)
        return set(ps, out, v, "%s", full, 0);
    /* a list member without brackets: its values run on until the next Name= */
    if (set(ps, out, v, "%s.%d", full, 1) < 0)
        return -1;
    for (int i = 2; ps->s[ps->pos] == ','; i++) {
        size_t comma = ps->pos++;
        if (at_member(ps)) {
            ps->pos = comma;
            break;
        }
        _cleanup_free_ char *more = NULL;
        if (scalar(ps, &more) < 0 || set(ps, out, more, "%s.%d", full, i) < 0)
            return -1;
    }
    return 0;
}

static int
members(parser *ps, const char *prefix, vm_params *out, char end)
{
    for (;;) {
        if (member(ps, prefix, out) < 0)
            return -1;
        char c = ps->s[ps->pos];
        if (c == ',') {
            ps->pos++;
            continue;
        }
        if (c == end)
            return 0;
        return fail(ps, end ? "unexpected character" : "expected , between members");
    }
}

int
cli_shorthand_parse(const char *text, const char *prefix, vm_params *out, vm_error *err)
{
    parser ps = { .s = text, .pos = 0, .text = text, .err = err };
    _cleanup_(vm_params_freep) vm_params *tmp = vm_params_new();
    if (!tmp)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    if (members(&ps, prefix, tmp, '\0') < 0)
        return -1;
    for (size_t i = 0; i < tmp->n; i++)
        if (vm_params_set(out, tmp->v[i].key, tmp->v[i].value) < 0)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    return 0;
}
