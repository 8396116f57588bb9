/* Writing the XML that libvirt reads (domains, networks, filters): built as a libxml2 tree,
 * never pasted together, so every name and path is escaped. */
#pragma once

#include <libxml/tree.h>
#include <stdbool.h>

#include "cleanup.h"
#include "error.h"

/* _cleanup_(xmlFreeDocp) xmlDocPtr doc = …: the document goes with its scope. */
VM_DEFINE_CLEANUP(xmlDocPtr, xmlFreeDoc)

xmlNodePtr vm_xml_elem(xmlNodePtr parent, const char *name);
/* A child element holding text. */
xmlNodePtr vm_xml_text(xmlNodePtr parent, const char *name, const char *value);
void vm_xml_prop(xmlNodePtr n, const char *name, const char *value);
/* node as text (indented when format); owned by the caller. */
char *vm_xml_dump(xmlDocPtr doc, xmlNodePtr node, bool format, vm_error *err);
