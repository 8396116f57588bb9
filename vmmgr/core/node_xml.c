#include "node_xml.h"

#include <libxml/tree.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "xmlw.h"


#define EC2_XMLNS "http://ec2.amazonaws.com/doc/2016-11-15/"

static char *
base64(const char *text)
{
    size_t n = strlen(text);
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (out)
        EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)text, (int)n);
    return out;
}

/* XML 1.0 has no place for most control characters: a copy with each replaced by U+FFFD. */
static char *
xml_safe(const char *text)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        n += (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') ? 3 : 1;
    char *out = malloc(n + 1), *w = out;
    if (!out)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') {
            memcpy(w, "\xef\xbf\xbd", 3);
            w += 3;
        } else {
            *w++ = (char)*p;
        }
    }
    *w = '\0';
    return out;
}

/* item: the element of a list entry, "item" in the EC2 protocol, "member" in AWS Query */
static int
add_children(xmlNodePtr parent, const vm_node *n, const char *item)
{
    for (const vm_node *c = n->first; c; c = c->next) {
        const char *name = c->name ? c->name : item;
        char buf[64];
        _cleanup_free_ char *b64 = NULL;
        const char *text = NULL;
        switch (c->type) {
        case VM_NODE_STRUCT:
        case VM_NODE_LIST: {
            xmlNodePtr x = xmlNewChild(parent, NULL, BAD_CAST name, NULL);
            if (!x || add_children(x, c, item) < 0)
                return -1;
            continue;
        }
        case VM_NODE_STR:
            text = c->str;
            break;
        case VM_NODE_INT:
            snprintf(buf, sizeof(buf), "%lld", c->num);
            text = buf;
            break;
        case VM_NODE_BOOL:
            text = c->num ? "true" : "false";
            break;
        case VM_NODE_DOUBLE:
            vm_double_format(c->real, buf, sizeof(buf));
            text = buf;
            break;
        case VM_NODE_TIME:
            vm_time_format((time_t)c->num, buf, sizeof(buf));
            text = buf;
            break;
        case VM_NODE_BASE64:
            if (!(text = b64 = base64(c->str)))
                return -1;
            break;
        case VM_NODE__LAST:
            return -1;
        }
        /* xmlNewTextChild escapes the value; the element name is ours, never user input */
        _cleanup_free_ char *safe = xml_safe(text);
        if (!safe || !xmlNewTextChild(parent, NULL, BAD_CAST name, BAD_CAST safe))
            return -1;
    }
    return 0;
}

static int
dump(xmlDocPtr doc, char **ret_xml, size_t *ret_len, vm_error *err)
{
    xmlChar *mem = NULL;
    int len = 0;
    xmlDocDumpFormatMemoryEnc(doc, &mem, &len, "UTF-8", 0);
    if (!mem)
        return vm_error_set(err, VM_ERR_INTERNAL, "cannot serialise XML");
    char *out = malloc((size_t)len + 1);
    if (!out) {
        xmlFree(mem);
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    }
    memcpy(out, mem, (size_t)len);
    out[len] = '\0';
    xmlFree(mem);
    *ret_xml = out;
    if (ret_len)
        *ret_len = (size_t)len;
    return 0;
}

int
vm_node_to_xml(const vm_node *root, const char *request_id, char **ret_xml, size_t *ret_len, vm_error *err)
{
    _cleanup_(xmlFreeDocp) xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    if (!doc)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    xmlNodePtr top = xmlNewNode(NULL, BAD_CAST root->name);
    if (!top)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    xmlDocSetRootElement(doc, top);
    xmlNsPtr ns = xmlNewNs(top, BAD_CAST EC2_XMLNS, NULL);
    xmlSetNs(top, ns);
    if (!xmlNewTextChild(top, NULL, BAD_CAST "requestId", BAD_CAST request_id) || add_children(top, root, "item") < 0)
        return vm_error_set(err, VM_ERR_INTERNAL, "cannot build the response XML");
    return dump(doc, ret_xml, ret_len, err);
}

int
vm_error_to_xml(const vm_error *e, const char *request_id, char **ret_xml, size_t *ret_len, vm_error *err)
{
    _cleanup_(xmlFreeDocp) xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    if (!doc)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    xmlNodePtr top = xmlNewNode(NULL, BAD_CAST "Response");
    xmlDocSetRootElement(doc, top);
    xmlNodePtr errors = xmlNewChild(top, NULL, BAD_CAST "Errors", NULL);
    xmlNodePtr one = xmlNewChild(errors, NULL, BAD_CAST "Error", NULL);
    /* a message may echo what the client sent, control characters included */
    _cleanup_free_ char *msg = xml_safe(e->msg);
    if (!one || !msg || !xmlNewTextChild(one, NULL, BAD_CAST "Code", BAD_CAST vm_error_code_name(e->code)) ||
        !xmlNewTextChild(one, NULL, BAD_CAST "Message", BAD_CAST msg) ||
        !xmlNewTextChild(top, NULL, BAD_CAST "RequestID", BAD_CAST request_id))
        return vm_error_set(err, VM_ERR_INTERNAL, "cannot build the error XML");
    return dump(doc, ret_xml, ret_len, err);
}

int
vm_node_to_query_xml(const vm_node *root, const char *action, const char *xmlns, const char *request_id,
                     char **ret_xml, size_t *ret_len, vm_error *err)
{
    char name[160];
    _cleanup_(xmlFreeDocp) xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    if (!doc)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    snprintf(name, sizeof(name), "%sResponse", action);
    xmlNodePtr top = xmlNewNode(NULL, BAD_CAST name);
    if (!top)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    xmlDocSetRootElement(doc, top);
    xmlSetNs(top, xmlNewNs(top, BAD_CAST xmlns, NULL));
    snprintf(name, sizeof(name), "%sResult", action);
    xmlNodePtr result = xmlNewChild(top, NULL, BAD_CAST name, NULL);
    xmlNodePtr meta = result ? xmlNewChild(top, NULL, BAD_CAST "ResponseMetadata", NULL) : NULL;
    if (!meta || add_children(result, root, "member") < 0 ||
        !xmlNewTextChild(meta, NULL, BAD_CAST "RequestId", BAD_CAST request_id))
        return vm_error_set(err, VM_ERR_INTERNAL, "cannot build the response XML");
    return dump(doc, ret_xml, ret_len, err);
}

int
vm_error_to_query_xml(const vm_error *e, const char *xmlns, const char *request_id, char **ret_xml, size_t *ret_len,
                      vm_error *err)
{
    _cleanup_(xmlFreeDocp) xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    if (!doc)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    xmlNodePtr top = xmlNewNode(NULL, BAD_CAST "ErrorResponse");
    if (!top)
        return vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    xmlDocSetRootElement(doc, top);
    xmlSetNs(top, xmlNewNs(top, BAD_CAST xmlns, NULL));
    xmlNodePtr one = xmlNewChild(top, NULL, BAD_CAST "Error", NULL);
    _cleanup_free_ char *msg = xml_safe(e->msg);
    if (!one || !msg ||
        !xmlNewTextChild(one, NULL, BAD_CAST "Type",
                         BAD_CAST(vm_error_http_status(e->code) >= 500 ? "Receiver" : "Sender")) ||
        !xmlNewTextChild(one, NULL, BAD_CAST "Code", BAD_CAST vm_error_code_name(e->code)) ||
        !xmlNewTextChild(one, NULL, BAD_CAST "Message", BAD_CAST msg) ||
        !xmlNewTextChild(top, NULL, BAD_CAST "RequestId", BAD_CAST request_id))
        return vm_error_set(err, VM_ERR_INTERNAL, "cannot build the error XML");
    return dump(doc, ret_xml, ret_len, err);
}
