#include "query.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool
api_utf8_valid(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        size_t extra;
        unsigned int cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            extra = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            extra = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + extra >= n)
            return false;
        for (size_t k = 1; k <= extra; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        /* overlong forms, surrogates and beyond U+10FFFF */
        if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return false;
        i += extra + 1;
    }
    return true;
}

char *
api_url_decode(const char *s, size_t len, bool plus, vm_error *err)
{
    _cleanup_free_ char *out = malloc(len + 1);
    if (!out) {
        vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= len) {
                vm_error_set(err, VM_ERR_MALFORMED_QUERY, "truncated %% escape in the query string");
                return NULL;
            }
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0) {
                vm_error_set(err, VM_ERR_MALFORMED_QUERY, "invalid %% escape in the query string");
                return NULL;
            }
            out[n++] = (char)(h << 4 | l);
            i += 2;
        } else if (c == '+' && plus) {
            out[n++] = ' ';
        } else {
            out[n++] = c;
        }
    }
    out[n] = '\0';
    if (memchr(out, '\0', n)) {
        vm_error_set(err, VM_ERR_MALFORMED_QUERY, "NUL in the query string");
        return NULL;
    }
    if (!api_utf8_valid((const unsigned char *)out, n)) {
        vm_error_set(err, VM_ERR_MALFORMED_QUERY, "the query string is not valid UTF-8");
        return NULL;
    }
    return TAKE_PTR(out);
}

int
api_form_decode(const char *text, size_t len, vm_params *out, vm_error *err)
{
    _cleanup_(vm_params_freep) vm_params *tmp = vm_params_new();
    if (!tmp)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && text[end] != '&')
            end++;
        if (end > i) {
            const char *eq = memchr(text + i, '=', end - i);
            size_t klen = eq ? (size_t)(eq - (text + i)) : end - i;
            _cleanup_free_ char *k = api_url_decode(text + i, klen, true, err);
            if (!k)
                return -1;
            _cleanup_free_ char *v = eq ? api_url_decode(eq + 1, (size_t)(text + end - eq - 1), true, err) : strdup("");
            if (!v)
                return -1;
            if (!*k)
                return vm_error_set(err, VM_ERR_MALFORMED_QUERY, "empty parameter name in the query string");
            if (vm_params_get(tmp, k))
                return vm_error_set(err, VM_ERR_MALFORMED_QUERY, "parameter '%s' is given more than once", k);
            if (tmp->n >= API_MAX_PARAMS)
                return vm_error_set(err, VM_ERR_MALFORMED_QUERY, "more than %d parameters", API_MAX_PARAMS);
            if (vm_params_set(tmp, k, v) < 0)
                return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
        }
        i = end + 1;
    }
    for (size_t k = 0; k < tmp->n; k++)
        if (vm_params_set(out, tmp->v[k].key, tmp->v[k].value) < 0)
            return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    return 0;
}

char *
api_uri_encode(const char *s, bool keep_slash)
{
    size_t n = strlen(s);
    char *out = malloc(3 * n + 1), *w = out;
    if (!out)
        return NULL;
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~' || (keep_slash && c == '/')) {
            *w++ = (char)c;
        } else {
            *w++ = '%';
            *w++ = hex[c >> 4];
            *w++ = hex[c & 15];
        }
    }
    *w = '\0';
    return out;
}
