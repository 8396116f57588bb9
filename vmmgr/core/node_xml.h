/* EC2 Query-protocol XML for a response document and for an error, built with libxml2's tree
 * API (values escaped by the library).  The output is owned by the caller (free()). */
#pragma once

#include <stddef.h>

#include "error.h"
#include "node.h"

/* <ActionResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>…</requestId>… */
int vm_node_to_xml(const vm_node *root, const char *request_id, char **ret_xml, size_t *ret_len, vm_error *err);
/* <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response> */
int vm_error_to_xml(const vm_error *e, const char *request_id, char **ret_xml, size_t *ret_len, vm_error *err);
/* The AWS Query protocol (STS, and next Auto Scaling, CloudWatch, ELBv2):
 * <ActionResponse xmlns><ActionResult>…</ActionResult><ResponseMetadata><RequestId/>…, lists as <member>. */
int vm_node_to_query_xml(const vm_node *root, const char *action, const char *xmlns, const char *request_id,
                         char **ret_xml, size_t *ret_len, vm_error *err);
/* <ErrorResponse xmlns><Error><Type>Sender|Receiver</Type><Code/><Message/></Error><RequestId/></ErrorResponse> */
int vm_error_to_query_xml(const vm_error *e, const char *xmlns, const char *request_id, char **ret_xml,
                          size_t *ret_len, vm_error *err);
