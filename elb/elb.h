/* Elastic Load Balancing v2: load balancers, target groups, targets, listeners and rules as the
 * store keeps them (store.c), the HAProxy that serves each load balancer (haproxy.c), and the
 * controller of `vmmgr serve` that makes the data plane what the store says (controller.c).
 * Requests change the store only; the controller plugs interfaces, starts and reloads HAProxy,
 * adds and removes servers through its runtime API and reads the targets' health back from it. */
#pragma once

#include <stdbool.h>
#include <time.h>

#include "../vmmgr/core/ctx.h"
#include "../vmmgr/core/error.h"
#include "../vmmgr/core/ids.h"

#define ELB_ID_LEN 16       /* the hex digits ending an ARN */
#define ELB_NAME_MAX 32
#define ELB_ARN_MAX 256
#define ELB_MAX_SUBNETS 8
#define ELB_MAX_GROUPS 5

typedef struct elb_lb {
    char id[ELB_ID_LEN + 1];
    char name[ELB_NAME_MAX + 1];
    char type[16];   /* application | network */
    char scheme[20]; /* internet-facing | internal */
    char vpc_id[VM_ID_MAX];
    char dns_name[128];
    char state[16]; /* provisioning | active | failed */
    bool deleting;
    long created_at;
} elb_lb;

typedef struct elb_tg {
    char id[ELB_ID_LEN + 1];
    char name[ELB_NAME_MAX + 1];
    char protocol[8]; /* HTTP | HTTPS | TCP | TLS */
    long port;
    char vpc_id[VM_ID_MAX];
    char target_type[12]; /* instance | ip */
    char hc_protocol[8];
    char hc_port[16]; /* traffic-port or a number */
    char hc_path[1025];
    long hc_interval, hc_timeout, healthy, unhealthy;
    char matcher[128]; /* HttpCode: "200", "200,202", "200-299" */
    long created_at;
} elb_tg;

#define ELB_FORWARD_MAX 5 /* target groups of one forward action */

/* The cookie a sticky forward action keeps the client's target group in (AWS names it so too) */
#define ELB_STICK_COOKIE "AWSALBTG"

typedef struct elb_action {
    char type[20]; /* forward | fixed-response | redirect */
    char tg_id[ELB_ID_LEN + 1]; /* forward: the first of fwd */
    struct elb_forward {
        char tg_id[ELB_ID_LEN + 1];
        long weight; /* 0-999 */
    } fwd[ELB_FORWARD_MAX];
    size_t nfwd;
    long stick_seconds; /* forward: TargetGroupStickinessConfig's duration, 0 when off */
    char status[4];
    char content_type[64];
    char body[1025];
    /* redirect: each part a value or a #{protocol}, #{host}, #{port}, #{path}, #{query} form */
    struct elb_redirect {
        char protocol[16], port[16], host[129], path[129], query[129];
        char code[9]; /* HTTP_301 | HTTP_302 */
    } redirect;
} elb_action;

typedef struct elb_listener {
    char id[ELB_ID_LEN + 1];
    char lb_id[ELB_ID_LEN + 1];
    char protocol[8];
    long port;
    elb_action action;
    long created_at;
    char certificate_id[40]; /* HTTPS: the imported certificate served (acm/) */
    char ssl_policy[64];     /* HTTPS: ELBSecurityPolicy-… */
} elb_listener;

/* The certificates of an HTTPS listener besides its default one (AddListenerCertificates), in the
 * order they were added (ids, owned). */
int elb_listener_certs(vm_ctx *ctx, const char *listener_id, char (**ret)[40], size_t *n, vm_error *err);
#define ELB_LISTENER_CERTS_MAX 25

/* The TLS version an SSL policy of ELB requires at least ("TLSv1.2"), NULL for a name ELB does not have. */
const char *elb_ssl_policy_min(const char *policy);
#define ELB_SSL_POLICY_DEFAULT "ELBSecurityPolicy-2016-08"

typedef struct elb_rule {
    char id[ELB_ID_LEN + 1];
    char listener_id[ELB_ID_LEN + 1];
    long priority;
    char paths[1024]; /* path-pattern values, newline-separated */
    char hosts[1024]; /* host-header values, newline-separated */
    elb_action action;
} elb_rule;

typedef struct elb_target {
    char tg_id[ELB_ID_LEN + 1];
    char target[VM_ID_MAX]; /* instance id, or an address for TargetType ip */
    long port;
    char ip[48];
    long drain_until; /* 0: registered; else draining until then */
    char health[16]; /* what the controller last saw: "healthy" once HAProxy had it UP */
    char reason[48];
    long created_at;
} elb_target;

/* --- ids, names and ARNs (store.c) --- */
void elb_id_new(char id[ELB_ID_LEN + 1]);
void elb_lb_arn(const vm_ctx *ctx, const elb_lb *lb, char arn[ELB_ARN_MAX]);
void elb_tg_arn(const vm_ctx *ctx, const elb_tg *tg, char arn[ELB_ARN_MAX]);
void elb_listener_arn(const vm_ctx *ctx, const elb_lb *lb, const char *listener_id, char arn[ELB_ARN_MAX]);
void elb_rule_arn(const vm_ctx *ctx, const elb_lb *lb, const char *listener_id, const char *rule_id,
                  char arn[ELB_ARN_MAX]);
/* The id that ends an ARN of kind ("loadbalancer", "targetgroup", "listener", "listener-rule");
 * -1 with err (code) when arn is not one. */
int elb_arn_id(const char *arn, const char *kind, char id[ELB_ID_LEN + 1], vm_err_code code, vm_error *err);

/* --- records (store.c): get → LoadBalancerNotFound etc. --- */
int elb_lb_get(vm_ctx *ctx, const char *id, elb_lb *ret, vm_error *err);
/* The ARNs of the load balancers whose listeners serve certificate id (ACM's), newline-separated
 * (owned; "" for none). */
char *elb_cert_users(vm_ctx *ctx, const char *id);
int elb_lb_by_name(vm_ctx *ctx, const char *name, elb_lb *ret, vm_error *err);
int elb_tg_get(vm_ctx *ctx, const char *id, elb_tg *ret, vm_error *err);
int elb_listener_get(vm_ctx *ctx, const char *id, elb_listener *ret, vm_error *err);
int elb_rule_get(vm_ctx *ctx, const char *id, elb_rule *ret, vm_error *err);
/* All of a kind, in creation order (owned arrays). */
int elb_lbs(vm_ctx *ctx, bool with_deleting, elb_lb **ret, size_t *n, vm_error *err);
int elb_tgs(vm_ctx *ctx, elb_tg **ret, size_t *n, vm_error *err);
int elb_listeners_of(vm_ctx *ctx, const char *lb_id, elb_listener **ret, size_t *n, vm_error *err);
int elb_rules_of(vm_ctx *ctx, const char *listener_id, elb_rule **ret, size_t *n, vm_error *err);
int elb_targets_of(vm_ctx *ctx, const char *tg_id, elb_target **ret, size_t *n, vm_error *err);
/* Records a forward action's target groups and weights for the listener or rule id (none for another
 * action); the redirect of an action as the store keeps it (owned). */
int elb_forwards_put(vm_ctx *ctx, bool rule, const char *id, const elb_action *a, vm_error *err);
char *elb_redirect_encode(const struct elb_redirect *r);
/* The load balancers whose listeners or rules forward to tg (ids, owned). */
int elb_lbs_of_tg(vm_ctx *ctx, const char *tg_id, char (**ret)[ELB_ID_LEN + 1], size_t *n, vm_error *err);
/* A load balancer's subnets and their interfaces, in order. */
typedef struct elb_lb_subnet {
    char subnet_id[VM_ID_MAX];
    char eni_id[VM_ID_MAX];
    char az[40];
} elb_lb_subnet;
int elb_lb_subnets(vm_ctx *ctx, const char *lb_id, elb_lb_subnet **ret, size_t *n, vm_error *err);
int elb_lb_groups(vm_ctx *ctx, const char *lb_id, char (**ret)[VM_ID_MAX], size_t *n, vm_error *err);
/* SetSecurityGroups: the load balancer's groups, and its interfaces', replaced in one transaction
 * (checked by the caller); the firewall follows at once. */
int elb_lb_set_groups(vm_ctx *ctx, const char *lb_id, const char (*groups)[VM_ID_MAX], size_t n, vm_error *err);
/* SetSubnets: an interface for each new subnet (with the load balancer's groups, and a public address
 * when internet-facing), the interfaces of the subnets left released; checked by the caller.  Then
 * elb_lb_plug joins the namespace to the new set. */
int elb_lb_set_subnets(vm_ctx *ctx, const elb_lb *lb, const char (*subnets)[VM_ID_MAX], size_t n, vm_error *err);
/* The load balancer's namespace plugged into each of its subnets (idempotent; controller.c). */
int elb_lb_plug(vm_ctx *ctx, const elb_lb *lb, vm_error *err);
/* An attribute of owner (a load balancer's or target group's id): its value (owned), NULL when
 * unset; or def. */
char *elb_attr_get(vm_ctx *ctx, const char *owner, const char *key);
long elb_attr_long(vm_ctx *ctx, const char *owner, const char *key, long def);
bool elb_attr_bool(vm_ctx *ctx, const char *owner, const char *key, bool def);

/* Records a load balancer with an interface in each subnet (one transaction). */
int elb_lb_create(vm_ctx *ctx, const elb_lb *lb, const char (*subnets)[VM_ID_MAX], size_t nsub,
                  const char (*groups)[VM_ID_MAX], size_t ngroups, vm_error *err);
/* Marks it deleting (its listeners and rules go now; the controller tears the data plane down). */
int elb_lb_mark_deleting(vm_ctx *ctx, const char *id, vm_error *err);
/* The controller: the load balancer's record goes, with its interfaces. */
int elb_lb_forget(vm_ctx *ctx, const char *id, vm_error *err);
/* Releases the load balancers' interfaces that no load balancer holds any more (a SetSubnets whose
 * process died between forgetting a subnet and releasing its interface). */
int elb_orphans_release(vm_ctx *ctx, vm_error *err);

/* --- the data plane (haproxy.c) --- */
/* The directory of a load balancer's HAProxy (config, sockets, pid file) and its namespace. */
void elb_lb_dir(const vm_ctx *ctx, const char *lb_id, char *buf, size_t len);
void elb_lb_netns(const char *lb_id, char buf[32]);
/* The configuration the store says (owned text). */
char *elb_haproxy_config(vm_ctx *ctx, const elb_lb *lb, vm_error *err);
/* One command to the admin socket; the answer (owned), NULL with err when it does not answer. */
char *elb_haproxy_cmd(vm_ctx *ctx, const char *lb_id, const char *cmd, vm_error *err);
/* The master's pid when HAProxy runs for lb_id, 0 when not. */
long elb_haproxy_pid(vm_ctx *ctx, const char *lb_id);
int elb_haproxy_start(vm_ctx *ctx, const elb_lb *lb, vm_error *err);
int elb_haproxy_reload(vm_ctx *ctx, const char *lb_id, vm_error *err);
void elb_haproxy_stop(vm_ctx *ctx, const char *lb_id);
/* Saves the servers' state (each controller round): a HAProxy killed and restarted, or reloaded,
 * starts from its targets' last health. */
void elb_haproxy_save_state(vm_ctx *ctx, const char *lb_id);
/* The server name of a target in its backend ("i-0abc_80"). */
void elb_server_name(const char *target, long port, char buf[80]);
/* A target group's protocol spoken over HTTP (HTTP, HTTPS), or over TLS to the targets (HTTPS, TLS) */
bool elb_proto_http(const char *protocol);
bool elb_proto_tls(const char *protocol);
/* What a server line of the target group says after its address, for the configuration and the
 * runtime API alike: its health check (interval, thresholds, port, over TLS for an HTTPS one) and
 * TLS to the target (not verified, as AWS does not verify targets' certificates) */
void elb_server_opts(const elb_tg *tg, char *buf, size_t len);

/* --- the controller (controller.c): one round over every load balancer; 1 when something is
 * still in progress (a load balancer provisioning, a target draining), 0 when all is settled. */
int elb_controller_round(vm_ctx *ctx, vm_error *err);
/* What DescribeTargetHealth says of t in tg (state and reason from HAProxy, read now). */
void elb_target_health(vm_ctx *ctx, const elb_tg *tg, const elb_target *t, char state[16], char reason[48],
                       char desc[160]);

/* --- CloudWatch metrics (metrics.c): the counters' last values between the sampler's rounds --- */
typedef struct elb_sampler elb_sampler;
elb_sampler *elb_sampler_new(void);
void elb_sampler_free(elb_sampler *s);
int elb_metrics_round(vm_ctx *ctx, elb_sampler *s, time_t now, vm_error *err);
