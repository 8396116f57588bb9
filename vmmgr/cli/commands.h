/* The CLI's command table: each command names its EC2 action and maps `aws ec2`-style options to
 * Query parameters, like vmctl's {name, handler, usage} table. */
#pragma once

#include <stdbool.h>

#include "../core/params.h"

typedef enum cli_opt_kind {
    CLI_OPT_STR,       /* --image-id X            → ImageId=X */
    CLI_OPT_LIST,      /* --instance-ids A B      → InstanceId.1=A InstanceId.2=B */
    CLI_OPT_BOOL,      /* --dry-run / --no-dry-run → DryRun=true|false */
    CLI_OPT_COUNT,     /* --count N or N:M        → MinCount, MaxCount */
    CLI_OPT_SHORTHAND, /* --filters Name=…,Values=… …  → Filter.N.… (one entry per argument) */
    CLI_OPT_STRUCT,    /* --instance-type Value=t3.small → InstanceType.Value (one shorthand, no index) */
    CLI_OPT_BLOB,      /* --user-data TEXT|file://PATH|fileb://PATH → UserData=base64(content) */
    CLI_OPT_PATH,      /* --kernel PATH → KernelFile=/absolute/PATH */
    CLI_OPT_FILEURL,   /* --file PATH → DiskContainer.1.Url=file:///absolute/PATH */
    CLI_OPT_PORTS,     /* --port 22 or 20-25 → FromPort=20 ToPort=25 (-1: all) */
    CLI_OPT_DIMS,      /* --dimensions Host=a,Role=web → PARAM.1.Name=Host PARAM.1.Value=a … */
} cli_opt_kind;

typedef struct cli_opt {
    const char *name; /* without the leading dashes */
    cli_opt_kind kind;
    const char *param;
    const char *help;
} cli_opt;

typedef struct cli_cmd {
    const char *name;
    const char *action;
    const cli_opt *opts;
    const char *help;
    bool no_output; /* the model's output shape is empty (aws prints nothing) */
    const char *service; /* NULL: EC2's; otherwise the aws CLI's name of its service ("cloudwatch") */
} cli_cmd;

const cli_cmd *cli_cmd_find(const char *name);
/* A command of another service's namespace (`vmmgr cloudwatch list-metrics`), NULL if none. */
const cli_cmd *cli_service_cmd_find(const char *service, const char *name);
/* The commands of a service's namespace (the table holding it: filter on .service). */
const cli_cmd *cli_service_cmds(const char *service, size_t *ret_n);
const cli_cmd *cli_elbv2_cmds(size_t *ret_n);
const cli_cmd *cli_cloudwatch_cmds(size_t *ret_n);
const cli_cmd *cli_acm_cmds(size_t *ret_n);
/* The VPC's commands (commands_vpc.c), part of cli_cmds. */
const cli_cmd *cli_vpc_cmds(size_t *ret_n);
const cli_cmd *cli_cmds(size_t *ret_n);
/* The commands that are no EC2 action (init, wait, serve, access keys, audit): action is NULL, the
 * options are documentation for --help, the manual page and shell completion. */
const cli_cmd *cli_local_cmds(size_t *ret_n);
const cli_cmd *cli_local_find(const char *name);
/* The options every command takes, for the manual page and completion. */
extern const cli_opt cli_global_opts[];

/* Turns the command's own arguments (after its name, global options removed) into params.
 * Bad usage is an InvalidParameterValue error naming the option. */
int cli_args_to_params(const cli_cmd *cmd, int argc, char **argv, vm_params *p, vm_error *err);
/* Whether the command's long copy shows its progress (ctx->progress): a snapshot or an import,
 * watched on a terminal. */
bool cli_cmd_progress(const cli_cmd *cmd);
void cli_cmd_usage(const cli_cmd *cmd);
