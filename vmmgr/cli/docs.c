#include "docs.h"

#include <string.h>

#include "../core/params.h"
#include "../services/ec2/dispatch.h"
#include "commands.h"
#include "query.h"
#include "render.h"
#include "wait.h"

/* Options whose values are ids of the store: which describe lists them, and where in its answer. */
static const struct id_source {
    const char *option;
    const char *action;
    const char *query;
} id_sources[] = {
    { "instance-ids", "DescribeInstances", "Reservations[].Instances[].InstanceId" },
    { "instance-id", "DescribeInstances", "Reservations[].Instances[].InstanceId" },
    { "image-id", "DescribeImages", "Images[].ImageId" },
    { "image-ids", "DescribeImages", "Images[].ImageId" },
    { "volume-id", "DescribeVolumes", "Volumes[].VolumeId" },
    { "volume-ids", "DescribeVolumes", "Volumes[].VolumeId" },
    { "snapshot-id", "DescribeSnapshots", "Snapshots[].SnapshotId" },
    { "snapshot-ids", "DescribeSnapshots", "Snapshots[].SnapshotId" },
    { "source-snapshot-id", "DescribeSnapshots", "Snapshots[].SnapshotId" },
    { "vpc-id", "DescribeVpcs", "Vpcs[].VpcId" },
    { "vpc-ids", "DescribeVpcs", "Vpcs[].VpcId" },
    { "subnet-id", "DescribeSubnets", "Subnets[].SubnetId" },
    { "subnet-ids", "DescribeSubnets", "Subnets[].SubnetId" },
    { "group-id", "DescribeSecurityGroups", "SecurityGroups[].GroupId" },
    { "group-ids", "DescribeSecurityGroups", "SecurityGroups[].GroupId" },
    { "security-group-ids", "DescribeSecurityGroups", "SecurityGroups[].GroupId" },
    { "groups", "DescribeSecurityGroups", "SecurityGroups[].GroupId" },
    { "key-name", "DescribeKeyPairs", "KeyPairs[].KeyName" },
    { "key-names", "DescribeKeyPairs", "KeyPairs[].KeyName" },
    { "resources", "DescribeTags", "Tags[].ResourceId" },
};

static const struct id_source *
id_source_find(const char *option)
{
    for (size_t i = 0; i < sizeof(id_sources) / sizeof(id_sources[0]); i++)
        if (strcmp(id_sources[i].option, option) == 0)
            return &id_sources[i];
    return NULL;
}

int
cli_docs_ids(vm_ctx *ctx, const char *option, FILE *f)
{
    const struct id_source *src = id_source_find(option);
    if (!src)
        return -1;
    vm_params *p = vm_params_new();
    vm_node *resp = NULL;
    vm_error err = { 0 };
    if (p && vm_dispatch(ctx, "cli", src->action, p, &resp, &err) == 0)
        cli_query_render(f, resp, src->query, CLI_OUTPUT_TEXT, &err);
    vm_node_free(resp);
    vm_params_free(p);
    return 0;
}

/* troff text: a leading dot or quote would be a request, a backslash an escape, '-' a hyphen */
static void
roff(FILE *f, const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", f);
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", f);
        else if (*s == '-')
            fputs("\\-", f);
        else
            fputc(*s, f);
    }
}

static void
man_opts(FILE *f, const cli_opt *opts)
{
    for (const cli_opt *o = opts; o->name; o++) {
        fputs(".TP\n.B \\-\\-", f);
        roff(f, o->name);
        fputc('\n', f);
        roff(f, o->help);
        fputc('\n', f);
    }
}

static void
man_cmds(FILE *f, const cli_cmd *cmds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fputs(".SS ", f);
        roff(f, cmds[i].name);
        fputc('\n', f);
        roff(f, cmds[i].help);
        if (cmds[i].action) {
            fputs(" (EC2 ", f);
            roff(f, cmds[i].action);
            fputc(')', f);
        }
        fputs(".\n", f);
        if (cmds[i].opts && cmds[i].opts->name) {
            fputs(".RS\n", f);
            man_opts(f, cmds[i].opts);
            fputs(".RE\n", f);
        }
    }
}

void
cli_docs_man(FILE *f)
{
    size_t nlocal, n;
    const cli_cmd *local = cli_local_cmds(&nlocal), *cmds = cli_cmds(&n);
    fputs(".TH VMMGR 1 \"\" \"vmmgr " PACKAGE_VERSION "\" \"User Commands\"\n"
          ".SH NAME\nvmmgr \\- a private cloud that speaks EC2, over libvirt\n"
          ".SH SYNOPSIS\n.B vmmgr\n[\\fIglobal options\\fR] \\fICOMMAND\\fR [\\fIoptions\\fR]\n"
          ".SH DESCRIPTION\n"
          "\\fBvmmgr\\fR turns EC2 calls into real things on this host: libvirt domains run by QEMU/KVM, "
          "qcow2 volumes, bridged networks with DHCP and DNS, security groups.  Its commands mirror "
          "\\fBaws ec2\\fR: the same names, options and JSON keys.  It works without a daemon (it opens the "
          "state store and libvirt itself, like \\fBvirsh\\fR); \\fBvmmgr serve\\fR answers the same actions "
          "over HTTP for the aws CLI, boto3 and Terraform.\n"
          ".SH GLOBAL OPTIONS\nThey may stand anywhere on the line.\n",
          f);
    man_opts(f, cli_global_opts);
    fputs(".SH COMMANDS\n", f);
    man_cmds(f, local, nlocal);
    man_cmds(f, cmds, n);
    fputs(".SH WAITERS\n\\fBvmmgr wait\\fR \\fIWAITER\\fR polls until the resources reach the state:\n", f);
    for (size_t i = 0; cli_waiter_name(i); i++) {
        fputs(i ? ", " : "", f);
        roff(f, cli_waiter_name(i));
    }
    fputs(".\n"
          ".SH EXIT STATUS\n0 on success; 252 for bad usage; 254 when the service refused or failed (the EC2 "
          "error code is printed); 255 when a waiter failed or timed out.\n"
          ".SH ENVIRONMENT\n"
          ".TP\n.B VMMGR_STATE_DIR\nthe state directory (\\-\\-state\\-dir)\n"
          ".TP\n.B VMMGR_LIBVIRT_URI\nthe libvirt URI (\\-\\-connect)\n"
          ".TP\n.B VMMGR_DEFAULT_VPC_CIDR\nthe default VPC's block at init\n"
          ".TP\n.B VMMGR_STOP_TIMEOUT\nseconds a guest gets to shut down before it is forced off (60)\n"
          ".TP\n.B VMMGR_WAIT_DELAY\\fR, \\fBVMMGR_WAIT_TIMEOUT\nthe waiters' poll interval (2) and limit (600)\n"
          ".SH FILES\n"
          ".TP\n.I /var/lib/vmmgr/state.db\nthe store (SQLite; mode 0600: it holds the API's secret keys)\n"
          ".TP\n.I /var/lib/vmmgr/images\\fR, \\fI/var/lib/vmmgr/instances\\fR, \\fI/var/lib/vmmgr/volumes\n"
          "base images, per-instance files (config drive, console log), EBS volumes\n"
          ".TP\n.I vmmgr.service\nthe systemd unit for \\fBvmmgr serve\\fR; its settings are in "
          "\\fIdefault/vmmgr\\fR under the configuration directory\n"
          ".SH SEE ALSO\n\\fBaws\\fR(1), \\fBvirsh\\fR(1), \\fBlibvirtd\\fR(8)\n",
          f);
}

static void
bash_words(FILE *f, const cli_opt *opts)
{
    for (const cli_opt *o = opts; o->name; o++)
        fprintf(f, " --%s", o->name);
}

static void
bash_cases(FILE *f, const cli_cmd *cmds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "\t%s) opts=\"", cmds[i].name);
        bash_words(f, cmds[i].opts);
        fputs("\" ;;\n", f);
    }
}

void
cli_docs_bash(FILE *f)
{
    size_t nlocal, n;
    const cli_cmd *local = cli_local_cmds(&nlocal), *cmds = cli_cmds(&n);
    fputs("# bash completion for vmmgr " PACKAGE_VERSION "; generated from its command table (vmmgr _bash-completion)\n"
          "_vmmgr() {\n"
          "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd='' opt='' opts i\n"
          "\tlocal -a state=()\n"
          "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
          "\t\tcase ${COMP_WORDS[i]} in\n"
          "\t\t--state-dir | --connect | -c) state+=(\"${COMP_WORDS[i]}\" \"${COMP_WORDS[i+1]}\"); ((i++)) ;;\n"
          "\t\t--output | --query) ((i++)) ;;\n"
          "\t\t-*) ;;\n"
          "\t\t*) [ -z \"$cmd\" ] && cmd=${COMP_WORDS[i]} ;;\n"
          "\t\tesac\n"
          "\tdone\n"
          "\tcase $prev in\n"
          "\t--output) COMPREPLY=($(compgen -W 'table json text' -- \"$cur\")); return ;;\n"
          "\t--state-dir) COMPREPLY=($(compgen -d -- \"$cur\")); return ;;\n"
          "\t--connect | -c | --query) return ;;\n"
          "\tesac\n"
          "\tlocal globals='",
          f);
    bash_words(f, cli_global_opts);
    fputs("'\n\tif [ -z \"$cmd\" ]; then\n\t\tCOMPREPLY=($(compgen -W \"$globals", f);
    for (size_t i = 0; i < nlocal; i++)
        fprintf(f, " %s", local[i].name);
    for (size_t i = 0; i < n; i++)
        fprintf(f, " %s", cmds[i].name);
    fputs("\" -- \"$cur\"))\n\t\treturn\n\tfi\n"
          "\tif [ \"$cmd\" = wait ] && [ \"$prev\" = wait ] && [[ $cur != -* ]]; then\n\t\tCOMPREPLY=($(compgen -W \"",
          f);
    for (size_t i = 0; cli_waiter_name(i); i++)
        fprintf(f, "%s%s", i ? " " : "", cli_waiter_name(i));
    fputs("\" -- \"$cur\"))\n\t\treturn\n\tfi\n"
          "\t# the values of an id option: ids from the store\n"
          "\tif [[ $cur != -* ]]; then\n"
          "\t\tfor ((i = COMP_CWORD - 1; i > 0; i--)); do\n"
          "\t\t\t[[ ${COMP_WORDS[i]} == --* ]] && { opt=${COMP_WORDS[i]#--}; break; }\n"
          "\t\tdone\n"
          "\t\tcase $opt in\n\t\t",
          f);
    for (size_t i = 0; i < sizeof(id_sources) / sizeof(id_sources[0]); i++)
        fprintf(f, "%s%s", i ? " | " : "", id_sources[i].option);
    fputs(")\n"
          "\t\t\tCOMPREPLY=($(compgen -W \"$(\"${COMP_WORDS[0]}\" \"${state[@]}\" _ids \"$opt\" 2>/dev/null)\" -- \"$cur\"))\n"
          "\t\t\treturn ;;\n"
          "\t\tesac\n"
          "\tfi\n"
          "\tcase $cmd in\n",
          f);
    bash_cases(f, local, nlocal);
    bash_cases(f, cmds, n);
    fputs("\t*) opts='' ;;\n"
          "\tesac\n"
          "\tCOMPREPLY=($(compgen -W \"$opts --help\" -- \"$cur\"))\n"
          "}\n"
          "complete -F _vmmgr vmmgr\n",
          f);
}
