/* The response document: one typed tree per action, rendered as EC2 XML by the HTTP API and as
 * JSON, table or text by the CLI, so both adapters answer from the same data.
 *
 * Every node has the wire (XML) name and the name that botocore's model gives the member, which
 * is what `aws … --output json` prints.  By default the JSON name is the XML name with its first
 * letter upper-cased; where the model differs (`instancesSet` → `Instances`, `instanceState` →
 * `State`) the handler names it.  Lists hold struct or scalar items (`<item>` on the wire).
 * A node owns its children and copies of every string given to it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

typedef enum vm_node_type {
    VM_NODE_STRUCT,
    VM_NODE_LIST,
    VM_NODE_STR,
    VM_NODE_INT,
    VM_NODE_BOOL,
    VM_NODE_TIME,   /* epoch seconds; XML 2024-01-02T03:04:05.000Z, JSON …+00:00 */
    VM_NODE_BASE64, /* text that the wire carries base64-encoded (console output) */
    VM_NODE_DOUBLE, /* a finite number: the shortest text that reads back as the same double */
    VM_NODE__LAST
} vm_node_type;

typedef struct vm_node vm_node;
struct vm_node {
    vm_node_type type;
    char *name;  /* XML name; NULL for list items */
    char *jname; /* JSON name */
    char *str;
    long long num;
    double real;
    vm_node *first, *last, *next;
};

/* The root of a response to action (rendered as <ActionResponse>). */
vm_node *vm_node_new_root(const char *action);
void vm_node_free(vm_node *n);
#include "cleanup.h"
VM_DEFINE_CLEANUP(vm_node *, vm_node_free)

/* Children.  jname may be NULL to derive it.  All return the new node (NULL when out of memory;
 * the tree stays valid).  str may be NULL for an empty string. */
vm_node *vm_node_struct(vm_node *parent, const char *name, const char *jname);
vm_node *vm_node_list(vm_node *parent, const char *name, const char *jname);
vm_node *vm_node_item(vm_node *list); /* a struct item of a list */
vm_node *vm_node_str(vm_node *parent, const char *name, const char *jname, const char *str);
vm_node *vm_node_int(vm_node *parent, const char *name, const char *jname, long long v);
vm_node *vm_node_bool(vm_node *parent, const char *name, const char *jname, bool v);
vm_node *vm_node_time(vm_node *parent, const char *name, const char *jname, time_t t);
vm_node *vm_node_base64(vm_node *parent, const char *name, const char *jname, const char *text);
vm_node *vm_node_double(vm_node *parent, const char *name, const char *jname, double v);

/* First child called name (XML name), or NULL. */
vm_node *vm_node_child(const vm_node *n, const char *name);

/* v as the shortest text that reads back as v ("1.5", "0.1", "1e+300"); buf >= 32 bytes. */
void vm_double_format(double v, char *buf, size_t len);
/* Formats t as EC2 does on the wire ("2024-01-02T03:04:05.000Z") into buf (>= 32 bytes). */
void vm_time_format(time_t t, char *buf, size_t len);
/* A timestamp as the Query protocol sends it (ISO 8601, "Z" or an offset) or JSON (epoch seconds):
 * 0, or -1 when text is none of these. */
int vm_time_parse(const char *text, time_t *ret);
