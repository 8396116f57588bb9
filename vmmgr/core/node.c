#include "node.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static vm_node *
node_new(vm_node *parent, vm_node_type type, const char *name, const char *jname)
{
    vm_node *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->type = type;
    if (name) {
        n->name = strdup(name);
        if (jname)
            n->jname = strdup(jname);
        else if ((n->jname = strdup(name)))
            n->jname[0] = (char)toupper((unsigned char)n->jname[0]);
        if (!n->name || !n->jname) {
            vm_node_free(n);
            return NULL;
        }
    }
    if (parent) {
        if (parent->last)
            parent->last->next = n;
        else
            parent->first = n;
        parent->last = n;
    }
    return n;
}

vm_node *
vm_node_new_root(const char *action)
{
    char name[128];
    snprintf(name, sizeof(name), "%sResponse", action);
    return node_new(NULL, VM_NODE_STRUCT, name, name);
}

void
vm_node_free(vm_node *n)
{
    while (n) {
        vm_node *next = n->next;
        vm_node_free(n->first);
        free(n->name);
        free(n->jname);
        free(n->str);
        free(n);
        n = next;
    }
}

vm_node *
vm_node_struct(vm_node *parent, const char *name, const char *jname)
{
    return node_new(parent, VM_NODE_STRUCT, name, jname);
}

vm_node *
vm_node_list(vm_node *parent, const char *name, const char *jname)
{
    return node_new(parent, VM_NODE_LIST, name, jname);
}

vm_node *
vm_node_item(vm_node *list)
{
    return node_new(list, VM_NODE_STRUCT, NULL, NULL);
}

static vm_node *
scalar(vm_node *parent, vm_node_type type, const char *name, const char *jname, const char *str)
{
    vm_node *n = node_new(parent, type, name, jname);
    if (n && !(n->str = strdup(str ? str : "")))
        return NULL;
    return n;
}

vm_node *
vm_node_str(vm_node *parent, const char *name, const char *jname, const char *str)
{
    return scalar(parent, VM_NODE_STR, name, jname, str);
}

vm_node *
vm_node_int(vm_node *parent, const char *name, const char *jname, long long v)
{
    vm_node *n = node_new(parent, VM_NODE_INT, name, jname);
    if (n)
        n->num = v;
    return n;
}

vm_node *
vm_node_double(vm_node *parent, const char *name, const char *jname, double v)
{
    vm_node *n = node_new(parent, VM_NODE_DOUBLE, name, jname);
    if (n)
        n->real = v;
    return n;
}

void
vm_double_format(double v, char *buf, size_t len)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    /* a whole number still reads as a double in every client: 2.0, as botocore prints it */
    if (!strpbrk(buf, ".eEn") && strlen(buf) + 3 <= len)
        strcat(buf, ".0");
}

vm_node *
vm_node_bool(vm_node *parent, const char *name, const char *jname, bool v)
{
    vm_node *n = node_new(parent, VM_NODE_BOOL, name, jname);
    if (n)
        n->num = v;
    return n;
}

vm_node *
vm_node_time(vm_node *parent, const char *name, const char *jname, time_t t)
{
    vm_node *n = node_new(parent, VM_NODE_TIME, name, jname);
    if (n)
        n->num = t;
    return n;
}

vm_node *
vm_node_base64(vm_node *parent, const char *name, const char *jname, const char *text)
{
    return scalar(parent, VM_NODE_BASE64, name, jname, text);
}

vm_node *
vm_node_child(const vm_node *n, const char *name)
{
    for (vm_node *c = n ? n->first : NULL; c; c = c->next)
        if (c->name && strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

/* A timestamp as the Query protocol sends it (ISO 8601, "Z" or an offset) or JSON (epoch seconds). */
int
vm_time_parse(const char *text, time_t *ret)
{
    char *end;
    double epoch = strtod(text, &end);
    if (*text && *end == '\0' && isfinite(epoch)) {
        *ret = (time_t)floor(epoch);
        return 0;
    }
    struct tm tm = { 0 };
    const char *rest = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!rest)
        return -1;
    if (*rest == '.')
        for (rest++; *rest >= '0' && *rest <= '9'; rest++)
            ;
    long offset = 0;
    if (*rest == 'Z' || *rest == 'z')
        rest++;
    else if ((*rest == '+' || *rest == '-') && strlen(rest) == 6 && rest[3] == ':') {
        int h = atoi(rest + 1), m = atoi(rest + 4);
        offset = (*rest == '+' ? 1 : -1) * (h * 3600L + m * 60L);
        rest += 6;
    }
    if (*rest)
        return -1;
    *ret = timegm(&tm) - offset;
    return 0;
}

void
vm_time_format(time_t t, char *buf, size_t len)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}
