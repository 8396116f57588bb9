#include "xmlw.h"

#include <stdlib.h>
#include <string.h>

xmlNodePtr
vm_xml_elem(xmlNodePtr parent, const char *name)
{
    return xmlNewChild(parent, NULL, BAD_CAST name, NULL);
}

xmlNodePtr
vm_xml_text(xmlNodePtr parent, const char *name, const char *value)
{
    return xmlNewTextChild(parent, NULL, BAD_CAST name, BAD_CAST value);
}

void
vm_xml_prop(xmlNodePtr n, const char *name, const char *value)
{
    xmlNewProp(n, BAD_CAST name, BAD_CAST value);
}

char *
vm_xml_dump(xmlDocPtr doc, xmlNodePtr node, bool format, vm_error *err)
{
    xmlBufferPtr buf = xmlBufferCreate();
    if (!buf || xmlNodeDump(buf, doc, node, 0, format) < 0) {
        xmlBufferFree(buf);
        vm_error_set(err, VM_ERR_INTERNAL, "cannot serialise XML");
        return NULL;
    }
    char *out = strdup((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    if (!out)
        vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
    return out;
}
