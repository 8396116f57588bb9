/* `vmmgr elbv2 …`: Elastic Load Balancing v2's commands, named and optioned as `aws elbv2` names them. */
#include <stddef.h>

#include "commands.h"

#define END { NULL, 0, NULL, NULL }
#define LB_ARN { "load-balancer-arn", CLI_OPT_STR, "LoadBalancerArn", "the load balancer" }
#define TG_ARN { "target-group-arn", CLI_OPT_STR, "TargetGroupArn", "the target group" }
#define LISTENER_ARN { "listener-arn", CLI_OPT_STR, "ListenerArn", "the listener" }
#define RULE_ARN { "rule-arn", CLI_OPT_STR, "RuleArn", "the rule" }
#define TAGS { "tags", CLI_OPT_SHORTHAND, "Tags.member", "Key=K,Value=V …" }
#define PAGE                                                                                                          \
    { "marker", CLI_OPT_STR, "Marker", "where the previous page ended (NextMarker)" },                               \
        { "page-size", CLI_OPT_STR, "PageSize", "at most this many (1-400)" }
#define TARGETS { "targets", CLI_OPT_SHORTHAND, "Targets.member", "Id=i-…|ADDRESS[,Port=N] …" }
#define HEALTH                                                                                                        \
    { "health-check-protocol", CLI_OPT_STR, "HealthCheckProtocol", "HTTP or TCP" },                                  \
        { "health-check-port", CLI_OPT_STR, "HealthCheckPort", "traffic-port (default) or a port" },                 \
        { "health-check-path", CLI_OPT_STR, "HealthCheckPath", "for HTTP checks (default /)" },                      \
        { "health-check-interval-seconds", CLI_OPT_STR, "HealthCheckIntervalSeconds", "5-300 (30)" },                \
        { "health-check-timeout-seconds", CLI_OPT_STR, "HealthCheckTimeoutSeconds", "2-120 (5 HTTP, 10 TCP)" },      \
        { "healthy-threshold-count", CLI_OPT_STR, "HealthyThresholdCount", "checks passed to turn healthy (5)" },    \
        { "unhealthy-threshold-count", CLI_OPT_STR, "UnhealthyThresholdCount", "checks failed to turn unhealthy (2)" }, \
        { "matcher", CLI_OPT_STRUCT, "Matcher", "HttpCode=200 | 200,202 | 200-299" }
#define ATTRS { "attributes", CLI_OPT_SHORTHAND, "Attributes.member", "Key=K,Value=V …" }

static const cli_opt create_lb[] = {
    { "name", CLI_OPT_STR, "Name", "1-32 letters, digits and hyphens" },
    { "subnets", CLI_OPT_LIST, "Subnets.member", "one subnet per zone (two zones at least for application)" },
    { "security-groups", CLI_OPT_LIST, "SecurityGroups.member", "its groups (default: the VPC's default group)" },
    { "scheme", CLI_OPT_STR, "Scheme", "internet-facing (default) or internal" },
    { "type", CLI_OPT_STR, "Type", "application (default) or network" },
    { "ip-address-type", CLI_OPT_STR, "IpAddressType", "ipv4" },
    TAGS,
    END,
};
static const cli_opt describe_lbs[] = {
    { "load-balancer-arns", CLI_OPT_LIST, "LoadBalancerArns.member", "only these" },
    { "names", CLI_OPT_LIST, "Names.member", "only these names" },
    PAGE,
    END,
};
static const cli_opt lb_only[] = { LB_ARN, END };
static const cli_opt modify_lb_attrs[] = { LB_ARN, ATTRS, END };
static const cli_opt create_tg[] = {
    { "name", CLI_OPT_STR, "Name", "1-32 letters, digits and hyphens" },
    { "protocol", CLI_OPT_STR, "Protocol", "HTTP or TCP" },
    { "port", CLI_OPT_STR, "Port", "the targets' port" },
    { "vpc-id", CLI_OPT_STR, "VpcId", "the VPC" },
    { "target-type", CLI_OPT_STR, "TargetType", "instance (default) or ip" },
    HEALTH,
    TAGS,
    END,
};
static const cli_opt modify_tg[] = { TG_ARN, HEALTH, END };
static const cli_opt describe_tgs[] = {
    LB_ARN,
    { "target-group-arns", CLI_OPT_LIST, "TargetGroupArns.member", "only these" },
    { "names", CLI_OPT_LIST, "Names.member", "only these names" },
    PAGE,
    END,
};
static const cli_opt tg_only[] = { TG_ARN, END };
static const cli_opt modify_tg_attrs[] = { TG_ARN, ATTRS, END };
static const cli_opt targets[] = { TG_ARN, TARGETS, END };
#define TLS                                                                                                           \
    { "certificates", CLI_OPT_SHORTHAND, "Certificates.member", "CertificateArn=ARN (an imported certificate)" },     \
        { "ssl-policy", CLI_OPT_STR, "SslPolicy", "ELBSecurityPolicy-… (default ELBSecurityPolicy-2016-08)" }
static const cli_opt create_listener[] = {
    LB_ARN,
    { "protocol", CLI_OPT_STR, "Protocol", "HTTP or HTTPS (application) or TCP (network)" },
    { "port", CLI_OPT_STR, "Port", "1-65535" },
    { "default-actions", CLI_OPT_SHORTHAND, "DefaultActions.member",
      "Type=forward,TargetGroupArn=ARN | Type=fixed-response,FixedResponseConfig={StatusCode=404,MessageBody=…} | "
      "Type=redirect,RedirectConfig={Protocol=HTTPS,Port=443,StatusCode=HTTP_301}" },
    TLS,
    TAGS,
    END,
};
static const cli_opt modify_listener[] = {
    LISTENER_ARN,
    { "port", CLI_OPT_STR, "Port", "1-65535" },
    { "protocol", CLI_OPT_STR, "Protocol", "HTTP, HTTPS or TCP" },
    { "default-actions", CLI_OPT_SHORTHAND, "DefaultActions.member", "as for create-listener" },
    TLS,
    END,
};
static const cli_opt describe_listeners[] = {
    LB_ARN,
    { "listener-arns", CLI_OPT_LIST, "ListenerArns.member", "only these" },
    PAGE,
    END,
};
static const cli_opt listener_only[] = { LISTENER_ARN, END };
static const cli_opt listener_cert[] = {
    LISTENER_ARN,
    { "certificates", CLI_OPT_SHORTHAND, "Certificates.member", "CertificateArn=ARN (one per call)" },
    END,
};
static const cli_opt create_rule[] = {
    LISTENER_ARN,
    { "priority", CLI_OPT_STR, "Priority", "1-50000, lower first" },
    { "conditions", CLI_OPT_SHORTHAND, "Conditions.member", "Field=path-pattern|host-header,Values=V1,V2 …" },
    { "actions", CLI_OPT_SHORTHAND, "Actions.member", "as for create-listener's default actions" },
    TAGS,
    END,
};
static const cli_opt modify_rule[] = {
    RULE_ARN,
    { "conditions", CLI_OPT_SHORTHAND, "Conditions.member", "Field=path-pattern|host-header,Values=V1,V2 …" },
    { "actions", CLI_OPT_SHORTHAND, "Actions.member", "as for create-listener's default actions" },
    END,
};
static const cli_opt describe_rules[] = {
    LISTENER_ARN,
    { "rule-arns", CLI_OPT_LIST, "RuleArns.member", "only these" },
    END,
};
static const cli_opt rule_only[] = { RULE_ARN, END };
static const cli_opt add_tags[] = {
    { "resource-arns", CLI_OPT_LIST, "ResourceArns.member", "load balancers, target groups, listeners, rules" },
    TAGS,
    END,
};
static const cli_opt remove_tags[] = {
    { "resource-arns", CLI_OPT_LIST, "ResourceArns.member", "the resources" },
    { "tag-keys", CLI_OPT_LIST, "TagKeys.member", "the keys" },
    END,
};
static const cli_opt describe_tags[] = {
    { "resource-arns", CLI_OPT_LIST, "ResourceArns.member", "the resources" },
    END,
};

static const cli_opt set_subnets[] = {
    { "load-balancer-arn", CLI_OPT_STR, "LoadBalancerArn", "the load balancer's ARN" },
    { "subnets", CLI_OPT_LIST, "Subnets.member", "its subnets from now on, one per zone (application: two zones at least)" },
    END,
};
static const cli_opt set_groups[] = {
    { "load-balancer-arn", CLI_OPT_STR, "LoadBalancerArn", "the load balancer's ARN" },
    { "security-groups", CLI_OPT_LIST, "SecurityGroups.member", "its groups from now on (they replace the old ones)" },
    END,
};

static const cli_cmd elbv2_cmds[] = {
    { "create-load-balancer", "CreateLoadBalancer", create_lb,
      "Create a load balancer (HAProxy in the VPC, an interface per subnet)", false, "elbv2" },
    { "describe-load-balancers", "DescribeLoadBalancers", describe_lbs, "Show load balancers, their addresses and state",
      false, "elbv2" },
    { "delete-load-balancer", "DeleteLoadBalancer", lb_only, "Delete a load balancer and its listeners", true, "elbv2" },
    { "set-security-groups", "SetSecurityGroups", set_groups, "Replace a load balancer's security groups", false,
      "elbv2" },
    { "set-subnets", "SetSubnets", set_subnets, "Replace a load balancer's subnets (an interface in each)", false,
      "elbv2" },
    { "describe-load-balancer-attributes", "DescribeLoadBalancerAttributes", lb_only, "Show a load balancer's attributes",
      false, "elbv2" },
    { "modify-load-balancer-attributes", "ModifyLoadBalancerAttributes", modify_lb_attrs,
      "Change idle timeout, deletion protection …", false, "elbv2" },
    { "create-target-group", "CreateTargetGroup", create_tg, "Create a target group with its health check", false,
      "elbv2" },
    { "describe-target-groups", "DescribeTargetGroups", describe_tgs, "Show target groups", false, "elbv2" },
    { "modify-target-group", "ModifyTargetGroup", modify_tg, "Change a target group's health check", false, "elbv2" },
    { "delete-target-group", "DeleteTargetGroup", tg_only, "Delete a target group no listener or rule uses", true,
      "elbv2" },
    { "describe-target-group-attributes", "DescribeTargetGroupAttributes", tg_only, "Show a target group's attributes",
      false, "elbv2" },
    { "modify-target-group-attributes", "ModifyTargetGroupAttributes", modify_tg_attrs,
      "Change deregistration delay, stickiness …", false, "elbv2" },
    { "register-targets", "RegisterTargets", targets, "Add instances or addresses to a target group", true, "elbv2" },
    { "deregister-targets", "DeregisterTargets", targets, "Drain targets and remove them after the delay", true,
      "elbv2" },
    { "describe-target-health", "DescribeTargetHealth", targets, "Show targets' health as HAProxy checks it", false,
      "elbv2" },
    { "create-listener", "CreateListener", create_listener, "Listen on a port and forward or answer", false, "elbv2" },
    { "describe-listeners", "DescribeListeners", describe_listeners, "Show a load balancer's listeners", false,
      "elbv2" },
    { "modify-listener", "ModifyListener", modify_listener, "Change a listener's port or default action", false,
      "elbv2" },
    { "delete-listener", "DeleteListener", listener_only, "Delete a listener and its rules", true, "elbv2" },
    { "add-listener-certificates", "AddListenerCertificates", listener_cert,
      "Serve another certificate on an HTTPS listener (chosen by SNI)", false, "elbv2" },
    { "remove-listener-certificates", "RemoveListenerCertificates", listener_cert,
      "Stop serving a certificate (not the default one)", true, "elbv2" },
    { "describe-listener-certificates", "DescribeListenerCertificates", listener_only,
      "Show an HTTPS listener's certificates, the default first", false, "elbv2" },
    { "create-rule", "CreateRule", create_rule, "Route by path or host to another action", false, "elbv2" },
    { "describe-rules", "DescribeRules", describe_rules, "Show a listener's rules, the default last", false, "elbv2" },
    { "modify-rule", "ModifyRule", modify_rule, "Change a rule's conditions or action", false, "elbv2" },
    { "delete-rule", "DeleteRule", rule_only, "Delete a rule", true, "elbv2" },
    { "add-tags", "AddTags", add_tags, "Tag load balancers, target groups, listeners or rules", true, "elbv2" },
    { "remove-tags", "RemoveTags", remove_tags, "Remove tags", true, "elbv2" },
    { "describe-tags", "DescribeTags", describe_tags, "Show tags", false, "elbv2" },
};

const cli_cmd *
cli_elbv2_cmds(size_t *ret_n)
{
    *ret_n = sizeof(elbv2_cmds) / sizeof(elbv2_cmds[0]);
    return elbv2_cmds;
}
