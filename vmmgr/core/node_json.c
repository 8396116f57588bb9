#include "node_json.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

const vm_json_style vm_json_cli = { .indent = 4 };
const vm_json_style vm_json_wire = { .epoch_times = true, .base64 = true };

/* The length of the valid UTF-8 sequence at p (1 to 4), 0 when it is not one. */
static size_t
utf8_len(const unsigned char *p)
{
    size_t n = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : 0;
    if (n == 0 || (n == 3 && p[0] > 0xef))
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    /* no overlong forms, no surrogates, nothing past U+10FFFF */
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) || (p[0] == 0xf0 && p[1] < 0x90) ||
        (p[0] == 0xf4 && p[1] > 0x8f))
        return 0;
    return n;
}

/* Text that is not UTF-8 (a byte of another encoding in a parameter) becomes U+FFFD: JSON is UTF-8. */
void
vm_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                fprintf(f, "\\u%04x", *p);
            } else if (*p < 0x80) {
                fputc(*p, f);
            } else {
                size_t n = utf8_len(p);
                if (n == 0) {
                    fputs("\\ufffd", f);
                } else {
                    fwrite(p, 1, n, f);
                    p += n - 1;
                }
            }
        }
    }
    fputc('"', f);
}

static void
json_time(FILE *f, long long t, const vm_json_style *st)
{
    if (st->epoch_times) {
        fprintf(f, "%lld", t);
        return;
    }
    char buf[64];
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S+00:00", &tm);
    fprintf(f, "\"%s\"", buf);
}

static void
json_base64(FILE *f, const char *text)
{
    size_t n = strlen(text);
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (!out) {
        fputs("\"\"", f);
        return;
    }
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)text, (int)n);
    fprintf(f, "\"%s\"", out);
    free(out);
}

static void
newline(FILE *f, const vm_json_style *st, int depth)
{
    if (!st->indent)
        return;
    fputc('\n', f);
    fprintf(f, "%*s", st->indent * depth, "");
}

static void
children(FILE *f, const vm_node *n, const vm_json_style *st, int depth, bool keys)
{
    fputc(keys ? '{' : '[', f);
    for (const vm_node *c = n->first; c; c = c->next) {
        newline(f, st, depth + 1);
        if (keys) {
            vm_json_string(f, c->jname ? c->jname : "");
            fputs(st->indent ? ": " : ":", f);
        }
        vm_json_value(f, c, st, depth + 1);
        if (c->next)
            fputc(',', f);
    }
    if (n->first)
        newline(f, st, depth);
    fputc(keys ? '}' : ']', f);
}

void
vm_json_value(FILE *f, const vm_node *n, const vm_json_style *st, int depth)
{
    switch (n->type) {
    case VM_NODE_STRUCT: children(f, n, st, depth, true); break;
    case VM_NODE_LIST: children(f, n, st, depth, false); break;
    case VM_NODE_STR: vm_json_string(f, n->str); break;
    case VM_NODE_BASE64:
        if (st->base64)
            json_base64(f, n->str ? n->str : "");
        else
            vm_json_string(f, n->str);
        break;
    case VM_NODE_INT: fprintf(f, "%lld", n->num); break;
    case VM_NODE_BOOL: fputs(n->num ? "true" : "false", f); break;
    case VM_NODE_DOUBLE: {
        char buf[40];
        vm_double_format(n->real, buf, sizeof(buf));
        fputs(buf, f);
        break;
    }
    case VM_NODE_TIME: json_time(f, n->num, st); break;
    case VM_NODE__LAST: fputs("null", f); break;
    }
}

void
vm_json_members(FILE *f, const vm_node *n, const vm_json_style *st, int depth)
{
    children(f, n, st, depth, true);
}

char *
vm_json_members_string(const vm_node *n, const vm_json_style *st, size_t *ret_len)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    vm_json_members(f, n, st, 0);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    if (ret_len)
        *ret_len = len;
    return buf;
}
