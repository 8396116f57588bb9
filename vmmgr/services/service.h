/* The AWS services of the one endpoint, as descriptors: the SigV4 signing name a request's
 * credential scope must name, the API version, the XML namespace, the wire protocol and the
 * action table.  A request is routed on its credential scope's service before anything else, so a
 * request signed for one service never reaches another's actions.  EC2 keeps its own protocol and
 * its dispatcher (dispatch.c); the services of the AWS Query protocol (STS first; Auto Scaling,
 * CloudWatch and ELBv2 next) answer through their action tables here. */
#pragma once

#include <stdbool.h>

#include "../core/ctx.h"
#include "../core/node.h"
#include "../core/params.h"

typedef enum svc_protocol {
    SVC_PROTO_EC2,   /* EC2's: <ActionResponse><requestId>, <item> lists, <Response><Errors> */
    SVC_PROTO_QUERY, /* AWS Query: <ActionResult>, <member> lists, <ErrorResponse> */
    SVC_PROTO__LAST
} svc_protocol;

/* An action: fills result (the <ActionResult> element) from p; principal is the access key. */
typedef int (*svc_handler)(vm_ctx *ctx, const char *principal, const vm_params *p, vm_node *result, vm_error *err);

typedef struct svc_action {
    const char *name;
    svc_handler fn;
    /* a data event, as CloudTrail calls CloudWatch's metric reads and writes: not kept in the audit
     * log (CloudTrail logs them only when asked; here each would cost the audit log's synced commit) */
    bool data_event;
} svc_action;

typedef struct svc_desc {
    const char *signing_name;
    const char *version;
    const char *xmlns;
    svc_protocol protocol;
    /* AWS JSON 1.0 besides: the X-Amz-Target prefix ("GraniteServiceVersion20100801") and the
     * namespace of its error types ("com.amazonaws.cloudwatch"); NULL for a form protocol only */
    const char *json_target, *json_namespace;
    const svc_action *actions; /* NULL-terminated; NULL for EC2 (its dispatcher has the table) */
    /* the code this service gives any bad or missing parameter (ValidationError for Auto Scaling and
     * ELBv2), for the shared parsers' InvalidParameterValue and MissingParameter; 0: those as they are */
    vm_err_code param_error;
} svc_desc;

/* Adds a service to the endpoint's (a test's toy service; the real ones are in service.c's table).
 * 0, or -1 when the table is full. */
int svc_register(const svc_desc *svc);
/* The service a credential scope names, NULL when this endpoint offers none by that name. */
const svc_desc *svc_find(const char *signing_name);
/* Runs action (of the API version the request named, "" for none) of svc for principal and records
 * it in the audit log: *ret_resp is the answer's root (owned by the caller), or err is set.  EC2 goes
 * through its dispatcher (dispatch.h), the others through their action tables. */
int svc_call(const svc_desc *svc, vm_ctx *ctx, const char *principal, const char *action, const char *version,
             const vm_params *args, vm_node **ret_resp, vm_error *err);
/* The action of a Query-protocol service: InvalidAction for an unknown one or another Version. */
const svc_action *svc_action_find(const svc_desc *svc, const char *action, const char *version, vm_error *err);

extern const svc_desc svc_ec2;
extern const svc_desc svc_sts;
extern const svc_desc svc_cloudwatch;
extern const svc_desc svc_autoscaling;
extern const svc_desc svc_elbv2;
extern const svc_desc svc_acm;

/* Called after a request that changed what the daemon's controller acts on (an Auto Scaling or
 * ELBv2 change); `vmmgr serve` sets it to wake its loop (NULL: nothing to wake). */
extern void (*svc_kick)(void);
