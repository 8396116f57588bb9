#include "render.h"

#include <stdlib.h>
#include <string.h>

#include "../core/node_json.h"

int
cli_output_from_string(const char *name)
{
    static const char *const names[CLI_OUTPUT__LAST] = { "table", "json", "text" };
    for (int i = 0; i < CLI_OUTPUT__LAST; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

static void
indent(FILE *f, int depth)
{
    for (int i = 0; i < depth; i++)
        fputs("    ", f);
}

static void
scalar_text(const vm_node *n, char *buf, size_t len, const char **ret)
{
    switch (n->type) {
    case VM_NODE_INT: snprintf(buf, len, "%lld", n->num); *ret = buf; break;
    case VM_NODE_DOUBLE: vm_double_format(n->real, buf, len); *ret = buf; break;
    case VM_NODE_BOOL: *ret = n->num ? "True" : "False"; break;
    case VM_NODE_TIME: {
        time_t t = (time_t)n->num;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(buf, len, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
        *ret = buf;
        break;
    }
    default: *ret = n->str ? n->str : ""; break;
    }
}

static bool
is_scalar(const vm_node *n)
{
    return n->type != VM_NODE_STRUCT && n->type != VM_NODE_LIST;
}

/* table: one block per struct, keys aligned, nested structs and lists indented under their name */
static void
table_struct(FILE *f, const vm_node *n, int depth)
{
    size_t w = 0;
    for (const vm_node *c = n->first; c; c = c->next)
        if (is_scalar(c) && c->jname && strlen(c->jname) > w)
            w = strlen(c->jname);
    for (const vm_node *c = n->first; c; c = c->next) {
        if (!is_scalar(c))
            continue;
        char buf[64];
        const char *v;
        scalar_text(c, buf, sizeof(buf), &v);
        indent(f, depth);
        if (c->type == VM_NODE_BASE64) {
            fprintf(f, "%s:\n%s%s", c->jname, v, v[0] && v[strlen(v) - 1] != '\n' ? "\n" : "");
            continue;
        }
        fprintf(f, "%-*s  %s\n", (int)w, c->jname, v);
    }
    for (const vm_node *c = n->first; c; c = c->next) {
        if (is_scalar(c))
            continue;
        if (c->type == VM_NODE_LIST && !c->first)
            continue;
        indent(f, depth);
        fprintf(f, "%s\n", c->jname);
        if (c->type == VM_NODE_STRUCT) {
            table_struct(f, c, depth + 1);
            continue;
        }
        for (const vm_node *it = c->first; it; it = it->next) {
            if (is_scalar(it)) {
                char buf[64];
                const char *v;
                scalar_text(it, buf, sizeof(buf), &v);
                indent(f, depth + 1);
                fprintf(f, "- %s\n", v);
                continue;
            }
            if (it != c->first) {
                indent(f, depth + 1);
                fputs("--\n", f);
            }
            table_struct(f, it, depth + 1);
        }
    }
}

/* text: like `aws --output text`, a line per struct: its name in capitals, then its scalar values */
static void
text_struct(FILE *f, const char *name, const vm_node *n)
{
    bool any = false;
    for (const vm_node *c = n->first; c; c = c->next)
        any |= is_scalar(c);
    if (any && name) {
        for (const char *p = name; *p; p++)
            fputc(*p >= 'a' && *p <= 'z' ? *p - 32 : *p, f);
        for (const vm_node *c = n->first; c; c = c->next) {
            if (!is_scalar(c))
                continue;
            char buf[64];
            const char *v;
            scalar_text(c, buf, sizeof(buf), &v);
            fprintf(f, "\t%s", v);
        }
        fputc('\n', f);
    } else if (any) {
        /* top level: scalars alone on the line */
        bool first = true;
        for (const vm_node *c = n->first; c; c = c->next) {
            if (!is_scalar(c))
                continue;
            char buf[64];
            const char *v;
            scalar_text(c, buf, sizeof(buf), &v);
            fprintf(f, first ? "%s" : "\t%s", v);
            first = false;
        }
        fputc('\n', f);
    }
    for (const vm_node *c = n->first; c; c = c->next) {
        if (c->type == VM_NODE_STRUCT)
            text_struct(f, c->jname, c);
        else if (c->type == VM_NODE_LIST)
            for (const vm_node *it = c->first; it; it = it->next) {
                if (it->type == VM_NODE_STRUCT)
                    text_struct(f, c->jname, it);
                else {
                    char buf[64];
                    const char *v;
                    scalar_text(it, buf, sizeof(buf), &v);
                    fprintf(f, "%s\t%s\n", c->jname, v);
                }
            }
    }
}

void
cli_render(FILE *f, const vm_node *root, cli_output fmt)
{
    switch (fmt) {
    case CLI_OUTPUT_JSON:
        vm_json_members(f, root, &vm_json_cli, 0);
        fputc('\n', f);
        break;
    case CLI_OUTPUT_TEXT:
        text_struct(f, NULL, root);
        break;
    case CLI_OUTPUT_TABLE:
    case CLI_OUTPUT__LAST:
        table_struct(f, root, 0);
        break;
    }
}

void
cli_render_value(FILE *f, const vm_node *n, cli_output fmt)
{
    if (fmt == CLI_OUTPUT_JSON) {
        vm_json_value(f, n, &vm_json_cli, 0);
        fputc('\n', f);
        return;
    }
    if (is_scalar(n)) {
        char buf[64];
        const char *v;
        scalar_text(n, buf, sizeof(buf), &v);
        fprintf(f, "%s\n", v);
        return;
    }
    if (n->type == VM_NODE_LIST) {
        size_t k = 0;
        for (const vm_node *c = n->first; c; c = c->next)
            k++;
        const vm_node **items = calloc(k + 1, sizeof(*items));
        k = 0;
        for (const vm_node *c = n->first; items && c; c = c->next)
            items[k++] = c;
        if (items)
            cli_render_values(f, items, k, fmt);
        free(items);
        return;
    }
    if (fmt == CLI_OUTPUT_TEXT)
        text_struct(f, NULL, n);
    else
        table_struct(f, n, 0);
}

void
cli_render_values(FILE *f, const vm_node *const *v, size_t n, cli_output fmt)
{
    if (fmt == CLI_OUTPUT_JSON) {
        fputs(n ? "[\n" : "[]\n", f);
        for (size_t i = 0; i < n; i++) {
            indent(f, 1);
            vm_json_value(f, v[i], &vm_json_cli, 1);
            fputs(i + 1 < n ? ",\n" : "\n", f);
        }
        if (n)
            fputs("]\n", f);
        return;
    }
    bool scalars = true;
    for (size_t i = 0; i < n; i++)
        scalars &= is_scalar(v[i]);
    if (scalars) {
        /* like the aws CLI: a list of scalars is one tab-separated line */
        for (size_t i = 0; i < n; i++) {
            char buf[64];
            const char *s;
            scalar_text(v[i], buf, sizeof(buf), &s);
            fprintf(f, i ? "\t%s" : "%s", s);
        }
        if (n)
            fputc('\n', f);
        return;
    }
    for (size_t i = 0; i < n; i++)
        cli_render_value(f, v[i], fmt);
}
