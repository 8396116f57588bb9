#include "query.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"

typedef struct sel {
    const vm_node **v;
    size_t n, cap;
} sel;

static int
sel_add(sel *s, const vm_node *n)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        const vm_node **nv = realloc(s->v, cap * sizeof(*nv));
        if (!nv)
            return -1;
        s->v = nv;
        s->cap = cap;
    }
    s->v[s->n++] = n;
    return 0;
}

static const vm_node *
field(const vm_node *n, const char *name, size_t len)
{
    if (!n || n->type != VM_NODE_STRUCT)
        return NULL;
    for (const vm_node *c = n->first; c; c = c->next)
        if (c->jname && strlen(c->jname) == len && strncmp(c->jname, name, len) == 0)
            return c;
    return NULL;
}

int
cli_query_render(FILE *f, const vm_node *root, const char *expr, cli_output fmt, vm_error *err)
{
    sel cur = { 0 }, next = { 0 };
    bool projected = false;
    if (sel_add(&cur, root) < 0)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    const char *p = expr;
    int rc = 0;
    while (*p && rc == 0) {
        if (*p == '.') {
            p++;
            continue;
        }
        next.n = 0;
        if (isalpha((unsigned char)*p)) {
            size_t len = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
            for (size_t i = 0; i < cur.n; i++) {
                const vm_node *c = field(cur.v[i], p, len);
                if (c && sel_add(&next, c) < 0)
                    rc = vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
            }
            p += len;
        } else if (p[0] == '[' && p[1] == ']') {
            /* projection: every element of every list, flattened */
            for (size_t i = 0; i < cur.n; i++)
                if (cur.v[i]->type == VM_NODE_LIST)
                    for (const vm_node *c = cur.v[i]->first; c; c = c->next)
                        if (sel_add(&next, c) < 0)
                            rc = vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
            projected = true;
            p += 2;
        } else if (p[0] == '[' && isdigit((unsigned char)p[1])) {
            char *end;
            long idx = strtol(p + 1, &end, 10);
            if (*end != ']') {
                rc = vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE, "--query: expected ] in '%s'", expr);
                break;
            }
            for (size_t i = 0; i < cur.n; i++) {
                long k = 0;
                if (cur.v[i]->type != VM_NODE_LIST)
                    continue;
                for (const vm_node *c = cur.v[i]->first; c; c = c->next, k++)
                    if (k == idx && sel_add(&next, c) < 0)
                        rc = vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
            }
            p = end + 1;
        } else {
            rc = vm_error_set(err, VM_ERR_INVALID_PARAMETER_VALUE,
                              "--query supports names, [N] and [] only: cannot read '%s'", p);
            break;
        }
        sel tmp = cur;
        cur = next;
        next = tmp;
    }
    if (rc == 0) {
        if (projected)
            cli_render_values(f, cur.v, cur.n, fmt);
        else if (cur.n == 1)
            cli_render_value(f, cur.v[0], fmt);
        else
            fputs(fmt == CLI_OUTPUT_JSON ? "null\n" : "None\n", f);
    }
    free(cur.v);
    free(next.v);
    return rc;
}
